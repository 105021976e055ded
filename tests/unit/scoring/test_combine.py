"""Authority paths add up with their shared relations counted once (`scoring.combine`)."""

from __future__ import annotations

import itertools
import random
from types import SimpleNamespace

import pytest

from scoring import Engine
from scoring.combine import noisy_or, union_strength
from scoring.paths import Hop, Path, chain_strength

from .conftest import full_state, incremental_state

DECAY = 0.8


def _path(*hops: tuple[str, float, bool], own: float = 1.0) -> Path:
    chain = tuple(Hop(SimpleNamespace(relation_id=rid, event_id=f"e-{rid}"), True, weight, decays)
                  for rid, weight, decays in hops)
    return Path("authority", "actor", chain, chain_strength(chain, DECAY) * own)


def _brute_force(paths: list[Path], own: list[float]) -> float:
    """Every relation holds or fails with its weight (a decaying hop after a path's first weighs `DECAY` more,
    as a relation of its own where that differs; a path's own factor is its first relation's, as a former
    office's exposure is the office's): P(some path holds)."""
    events: dict[tuple, float] = {}
    terms = []
    for path, factor in zip(paths, own):
        keys, decaying = [], False
        for number, hop in enumerate(path.hops):
            weight = hop.weight * (DECAY if hop.decays and decaying else 1.0) * (factor if number == 0 else 1.0)
            decaying = decaying or hop.decays
            key = (hop.rec.relation_id, weight)
            events[key] = weight
            keys.append(key)
        terms.append(keys)
    names = sorted(events)
    total = 0.0
    for states in itertools.product((True, False), repeat=len(names)):
        held = dict(zip(names, states))
        chance = 1.0
        for name, state in held.items():
            chance *= events[name] if state else 1.0 - events[name]
        if any(all(held[key] for key in term) for term in terms):
            total += chance
    return total


def test_paths_that_share_nothing_add_up_by_noisy_or_to_the_bit():
    paths = [_path(("a", 0.9, True), ("b", 0.6, True)), _path(("c", 0.7, True)), _path(("d", 0.5, False), own=0.4)]
    assert union_strength(paths, DECAY) == noisy_or(p.strength for p in paths)


def test_one_relation_two_paths_share_counts_once():
    """One alleged regulation (0.6) reaching the counterparty through two chains of its stakes: 0.6, not 0.84."""
    paths = [_path(("control", 1.0, True), ("regulates", 0.6, True), ("stake-1", 1.0, False)),
             _path(("control", 1.0, True), ("regulates", 0.6, True), ("stake-2", 1.0, False))]
    assert noisy_or(p.strength for p in paths) == pytest.approx(1 - (1 - 0.48) ** 2)
    assert union_strength(paths, DECAY) == pytest.approx(0.48)


@pytest.mark.parametrize("seed", range(40))
def test_shared_relations_are_counted_as_the_probability_that_some_path_holds(seed):
    """Against every state of every relation, on random paths over a few relations (prefixes shared, as a chain of
    command and an authority relation are)."""
    rng = random.Random(seed)
    relations = [(f"r{n}", round(rng.uniform(0.2, 1.0), 3), rng.random() < 0.6) for n in range(7)]
    own = [rng.choice((1.0, 1.0, 0.5)) for _ in range(rng.randint(2, 6))]
    paths = [_path(*rng.sample(relations, rng.randint(1, 3)), own=factor) for factor in own]
    exact = union_strength(paths, DECAY)
    assert exact == pytest.approx(_brute_force(paths, own), abs=1e-12)
    assert union_strength(list(reversed(paths)), DECAY) == exact  # to the bit, whatever the order
    assert max(p.strength for p in paths) - 1e-12 <= exact <= noisy_or(p.strength for p in paths) + 1e-12


def test_many_shared_relations_fall_back_to_noisy_or_past_the_budget():
    """Past its conditionings the rest adds up as before: never more than noisy-OR, never less than the best."""
    rng = random.Random(3)
    relations = [(f"r{n}", 0.7, True) for n in range(40)]
    paths = [_path(*rng.sample(relations, 6)) for _ in range(24)]
    combined = union_strength(paths, DECAY)
    assert max(p.strength for p in paths) <= combined <= noisy_or(p.strength for p in paths)


def test_a_spouse_holding_the_bank_through_two_chains_is_reached_by_one_allegation_once(make):
    """An analyst's case: one alleged `regulates` reaching the spouse's bank through her direct stake and her
    holding company's scored 0.79 critical-ish (noisy-OR of the two paths) where one chain gives 0.54."""
    def spouse_score(*stakes):
        engine = Engine()
        engine.apply_many([make("control", "minister", "regulator"),
                           make("regulates", "regulator", "bank", status="alleged"),
                           make("family", "spouse", "minister"), *stakes])
        assert incremental_state(engine) == full_state(engine)
        return engine.score("minister", "spouse")
    one = spouse_score(make("ownership", "spouse", "bank", percentage=30))
    two = spouse_score(make("ownership", "spouse", "holdco", percentage=100),
                       make("ownership", "holdco", "bank", percentage=30),
                       make("ownership", "spouse", "bank", percentage=30))
    assert len(two.authority_paths) == 2
    assert two.score == one.score == 0.54


def test_a_former_offices_exposure_is_shared_by_every_path_from_it(make):
    """A mayor who left office in 2023; his former office awarded a contract to a vendor his spouse holds through
    one chain or two. The office's decayed exposure weighed each path as a factor of its own: 0.227 with one chain,
    0.295 with two (a review; 0.368 by noisy-OR). It is the office's, shared."""
    def spouse_score(*stakes):
        engine = Engine()
        engine.apply_many([make("occupancy", "mayor", "mayor-office", start="2015-01-01", end="2023-06-30"),
                           make("awards_contract", "mayor-office", "vendor"), make("family", "spouse", "mayor"),
                           make("ownership", "spouse", "vendor", percentage=30, observed_at="2025-01-01T00:00:00Z"),
                           *stakes])
        assert incremental_state(engine) == full_state(engine)
        return engine.score("mayor", "spouse")
    one = spouse_score()
    two = spouse_score(make("ownership", "spouse", "holdco", percentage=100, observed_at="2025-01-01T00:00:00Z"),
                       make("ownership", "holdco", "vendor", percentage=30, observed_at="2025-01-01T00:00:00Z"))
    assert one.rules == two.rules == ("COI-REVOLVING-DOOR",)
    assert len(two.authority_paths) == 2 and two.score == one.score


def test_groups_that_share_nothing_but_one_office_are_combined_exactly_however_many():
    """One office (0.8) steering 30 ministries (0.7 each), each regulating a firm the counterparty holds through
    three chains: 90 paths. Conditioning on the office leaves 30 groups that share nothing with each other, each
    combined apart; without splitting them, the conditionings doubled with each group and past the budget fell
    back to noisy-OR at eight groups (a review)."""
    paths, groups = [], 30
    for ministry in range(groups):
        for chain in range(3):
            paths.append(_path(("office", 0.8, True), (f"ministry-{ministry}", 0.7, True),
                               (f"stake-{ministry}-{chain}", 0.5, False)))
    chains = 1 - 0.5 ** 3
    exact = 0.8 * (1 - (1 - 0.7 * DECAY * chains) ** groups)
    assert union_strength(paths, DECAY) == pytest.approx(exact, abs=1e-12)


def test_the_power_counts_every_path_found_not_only_those_shown(make):
    """With two paths kept (`authority.max_paths`), two chains to the regulated bank pushed out the ministry's
    path to a vendor the spouse holds: 0.54; retracting one chain let it in, 0.689 (a review: one path fewer raised
    the score). The power is every path's; the paths shown are still the strongest kept."""
    from scoring import ScoringConfig

    def spouse_score(retract: bool):
        engine = Engine(ScoringConfig.load(overrides={"authority": {"max_paths": 2}}))
        engine.apply_many([make("control", "minister", "regulator"),
                           make("regulates", "regulator", "bank", status="alleged"),
                           make("family", "spouse", "minister"),
                           make("ownership", "spouse", "bank", percentage=30),
                           make("ownership", "spouse", "holdco", percentage=100),
                           make("ownership", "holdco", "bank", percentage=30, relation_id="hb"),
                           make("control", "minister", "ministry"),
                           make("regulates", "ministry", "vendor", status="alleged", confidence=0.6),
                           make("ownership", "spouse", "vendor", percentage=30)])
        if retract:
            engine.apply(make("ownership", "holdco", "bank", relation_id="hb", op="retract"))
        assert incremental_state(engine) == full_state(engine)
        return engine.score("minister", "spouse")
    full, fewer = spouse_score(False), spouse_score(True)
    assert len(full.authority_paths) == 2
    assert fewer.score <= full.score
