"""Ownership strength follows the effective stake, not the number of tiers (issue #14, item 2).

Layering companies is how interests are hidden (FATF's first PEP red flag): a chain of wholly owned companies 12 or
20 tiers deep must weigh what a direct stake of the same effective size weighs, under both the EU and the OFAC
rule, and be followed at a bounded cost. Hop decay stays for ties that weaken per hop (associates, money).
"""

from __future__ import annotations

import pytest

from scoring import Engine, ScoringConfig
from scoring.dependencies import Reads
from scoring.ownership import effective_stakes
from scoring.search import SearchContext

from .conftest import full_state, incremental_state


def tier(i: int) -> tuple:
    return (f"tier-{i:02d}", "Company", f"Layer {i} Ltd", ())


def scenario(make, tiers: int, last_stake: float):
    """The minister controls the regulator, which regulates the bank; his son reaches the bank through `tiers`
    wholly owned companies, the last of which holds `last_stake`% of the bank (tiers=0: the son holds it)."""
    events = [make("control", "minister", "regulator"), make("regulates", "regulator", "bank"),
              make("family", "son", "minister")]
    holder = "son"
    for i in range(tiers):
        events.append(make("ownership", holder, tier(i), percentage=100))
        holder = tier(i)
    events.append(make("ownership", holder, "bank", percentage=last_stake))
    return events


def score(make, rule, tiers, last_stake):
    engine = Engine(ScoringConfig.load(overrides={"ownership": {"rule": rule}}))
    engine.apply_many(scenario(make, tiers, last_stake))
    assert incremental_state(engine) == full_state(engine)
    return engine, engine.score("minister", "bank")


@pytest.mark.parametrize("rule", ["eu", "ofac"])
@pytest.mark.parametrize("tiers", [1, 12, 20])
@pytest.mark.parametrize("last_stake", [100, 30, 10])
def test_a_wholly_owned_chain_weighs_what_a_direct_stake_weighs(make, rule, tiers, last_stake):
    _, direct = score(make, rule, 0, last_stake)
    engine, layered = score(make, rule, tiers, last_stake)
    assert direct is not None and layered is not None
    assert layered.score == direct.score
    assert layered.band == direct.band
    path = layered.commercial_paths[0]
    assert len(path.edges) == tiers + 2  # family, every tier, the stake in the bank: nothing cut off
    assert path.edges[-1].target_id == "bank"


@pytest.mark.parametrize("rule", ["eu", "ofac"])
def test_a_partly_owned_chain_weighs_its_effective_stake(make, rule):
    """EU: 60% x 50% = 30% through a holding weighs a direct 30%. OFAC: a 60% (majority) holding passes its 50%
    stake on whole, which weighs a direct 50%."""
    events = [make("control", "minister", "regulator"), make("regulates", "regulator", "bank"),
              make("family", "son", "minister"), make("ownership", "son", "holdco", percentage=60),
              make("ownership", "holdco", "bank", percentage=50)]
    engine = Engine(ScoringConfig.load(overrides={"ownership": {"rule": rule}}))
    engine.apply_many(events)
    _, direct = score(make, rule, 0, 30 if rule == "eu" else 50)
    assert engine.score("minister", "bank").score == direct.score


def test_a_deep_chain_is_followed_at_a_bounded_cost(make):
    """40 tiers, beyond `ownership.max_hops` (32): the walk visits each tier once and stops at the limit."""
    engine = Engine()
    engine.apply_many(scenario(make, 40, 100))
    ctx = SearchContext(engine.graph, engine.config, engine.clock.date(), Reads())
    held = effective_stakes("son", ctx)
    assert len(held) == engine.config.ownership.max_hops
    assert all(h.stake == 1.0 for h in held.values())
    assert ctx.reads.visits < 4 * engine.config.ownership.max_hops
    # One more tier at the bottom of a 20-tier chain: bounded, though quadratic in depth (every company of the
    # chain is in the exposure set, and each one's sphere walks the chain up and down): 3,046 visits when written.
    engine = Engine()
    engine.apply_many(scenario(make, 20, 100))
    engine.apply(make("ownership", tier(19), tier(99), percentage=100))
    assert engine.stats()["last_visits"] < 5_000
