"""Indirect ownership under the EU and OFAC rules: chains, sums, cycles, unknown stakes."""

from __future__ import annotations

import datetime as dt

import pytest

from scoring.config import ScoringConfig
from scoring.dependencies import Reads
from scoring.graph import TemporalGraph
from scoring.ownership import effective_stakes, holdings, owners, stake_on, stakes
from scoring.search import SearchContext

DAY = dt.date(2025, 6, 1)


def company(name):
    return (name, "Company", name.upper(), ())


def build(make, *stakes, rule="eu"):
    graph = TemporalGraph()
    for source, target, percentage in stakes:
        graph.apply(make("ownership", company(source), company(target), percentage=percentage))
    config = ScoringConfig.load(overrides={"ownership": {"rule": rule}})
    return SearchContext(graph, config, DAY, Reads())


def stakes_of(ctx, start, forward=True):
    return {node: round(h.stake, 6) for node, h in effective_stakes(start, ctx, forward).items()}


def test_eu_rule_multiplies_along_a_chain_and_sums_across_chains(make):
    ctx = build(make, ("a", "b", 60), ("b", "c", 50), ("a", "d", 100), ("d", "c", 10))
    assert stakes_of(ctx, "a") == {"b": 0.6, "d": 1.0, "c": 0.4}
    assert stakes_of(ctx, "c", forward=False) == {"b": 0.5, "a": 0.4, "d": 0.1}
    assert set(holdings("a", ctx)) == {"b", "d", "c"}  # 40% >= 25%
    assert set(owners("c", ctx)) == {"b", "a"}


def test_ofac_rule_passes_a_majority_stake_on_whole(make):
    stakes = (("a", "b", 60), ("b", "c", 50), ("a", "e", 40), ("e", "f", 100))
    ctx = build(make, *stakes, rule="ofac")
    assert stakes_of(ctx, "a") == {"b": 0.6, "c": 0.5, "e": 0.4}  # f: the 40% in e passes nothing on
    assert stakes_of(ctx, "c", forward=False) == {"b": 0.5, "a": 0.5}
    assert stakes_of(ctx, "f", forward=False) == {"e": 1.0}
    eu = build(make, *stakes, rule="eu")
    assert stakes_of(eu, "a")["c"] == 0.3 and stakes_of(eu, "a")["f"] == 0.4


def test_cycles_neither_hang_nor_count_twice(make):
    ctx = build(make, ("a", "b", 50), ("b", "c", 50), ("c", "a", 50), ("c", "b", 50))
    stakes = stakes_of(ctx, "a")
    assert stakes == {"b": 0.5, "c": 0.25}  # a->b->c->b is not a chain: b is visited once
    assert "a" not in stakes


def test_unknown_percentage_is_assumed_and_flagged(make):
    ctx = build(make, ("a", "b", None))
    holding = effective_stakes("a", ctx)["b"]
    assert holding.stake == ctx.config.ownership.unknown_stake and holding.assumed


def test_chains_stop_at_the_hop_limit(make):
    chain = [(f"n{i}", f"n{i + 1}", 100) for i in range(8)]
    graph = TemporalGraph()
    for source, target, percentage in chain:
        graph.apply(make("ownership", company(source), company(target), percentage=percentage))
    ctx = SearchContext(graph, ScoringConfig.load(overrides={"ownership": {"max_hops": 5}}), DAY, Reads())
    assert len(stakes_of(ctx, "n0")) == 5


@pytest.mark.parametrize("rule", ["eu", "ofac"])
def test_a_dense_web_is_bounded(make, rule):
    web = [(f"n{i}", f"n{j}", 50) for i in range(12) for j in range(12) if i != j]
    ctx = build(make, *web, rule=rule)
    stakes = effective_stakes("n0", ctx)
    assert all(0 < h.stake <= 1.0 for h in stakes.values())
    assert ctx.reads.visits < 50_000


def dated(make, *stakes, rule="eu"):
    """`build` with validity dates: (source, target, percentage, start, end, relation type)."""
    graph = TemporalGraph()
    for number, (source, target, percentage, start, end, *kind) in enumerate(stakes):
        relation_type = kind[0] if kind else "ownership"
        graph.apply(make(relation_type, company(source), company(target), percentage=percentage, start=start,
                         end=end, relation_id=f"{source}-{target}-{number}"))
    config = ScoringConfig.load(overrides={"ownership": {"rule": rule}})
    return SearchContext(graph, config, DAY, Reads())


@pytest.mark.parametrize("rule", ["eu", "ofac"])
def test_a_holding_stated_for_two_periods_counts_once(make, rule):
    """A register closes a statement and opens the next one for the same 15% holding (BODS does): two facts, one
    holding. 15% + 15% is not a beneficial owner's 30%, and an ended stake is not added to the one that followed."""
    ctx = dated(make, ("a", "b", 15, "2015-01-01", "2022-06-30"), ("a", "b", 15, "2022-07-01", None), rule=rule)
    assert stakes_of(ctx, "a") == {"b": 0.15}
    assert "b" not in holdings("a", ctx) and "a" not in owners("b", ctx)
    # sold down from 60% to 10%: not 70%; the most held at one moment is 60% (a former holding: its paths decay
    # from the cut), what is held on the date 10%
    ctx = dated(make, ("a", "b", 60, "2015-01-01", "2025-01-31"), ("a", "b", 10, "2025-02-01", None), rule=rule)
    assert stakes_of(ctx, "a") == {"b": 0.6}
    assert stake_on(stakes("a", ctx)["b"], DAY) == 0.1
    # both ended: the last state of the holding counts (decaying as an ended tie does), not their sum
    ctx = dated(make, ("a", "b", 20, "2015-01-01", "2022-12-31"), ("a", "b", 20, "2023-02-01", "2024-12-31"),
                rule=rule)
    assert stakes_of(ctx, "a") == {"b": 0.2}


def test_a_stake_and_control_of_one_company_are_not_added_along_a_chain(make):
    """Owning 30% of A and directing A are two facts about one holding: A's 40% in B passes on once (control counts
    as 100% of A: 40%), not as 0.3 x 40% + 1 x 40% = 52%."""
    ctx = dated(make, ("x", "a", 30, None, None), ("x", "a", None, None, None, "directorship"),
                ("a", "b", 40, None, None))
    assert stakes_of(ctx, "x") == {"a": 1.0, "b": 0.4}


@pytest.mark.parametrize("rule", ["eu", "ofac"])
def test_a_chain_exists_only_while_its_stakes_coexist(make, rule):
    """X sold HoldCo at the end of 2023; HoldCo bought 60% of the bank in mid-2024. X never held the bank, through
    HoldCo or otherwise: an indirect stake needs every stake of its chain held at the same time."""
    ctx = dated(make, ("x", "holdco", 100, "2015-01-01", "2023-12-31"), ("holdco", "bank", 60, "2024-06-01", None),
                rule=rule)
    assert stakes_of(ctx, "x") == {"holdco": 1.0}
    assert stakes_of(ctx, "bank", forward=False) == {"holdco": 0.6}
    # held together for a while (2022-2023): the chain existed, and decays as its ended hop does
    ctx = dated(make, ("x", "holdco", 100, "2015-01-01", "2023-12-31"), ("holdco", "bank", 60, "2022-01-01", None),
                rule=rule)
    assert stakes_of(ctx, "x") == {"holdco": 1.0, "bank": 0.6}


@pytest.mark.parametrize("rule", ["eu", "ofac"])
def test_a_newer_stake_in_the_holding_does_not_hide_the_chain_the_older_one_made(make, rule):
    """X held 60% of HoldCo in 2018-2020 and again since 2022; HoldCo held 60% of the bank in 2019-2020. Through the
    first stake X held the bank (ended, decaying); the walk from X took the stake in force on the date, which never
    coexisted with HoldCo's, and lost the chain the walk from the bank found: X was the bank's indirect owner one
    way and not the other, and buying HoldCo back removed X's past conflicts over the bank."""
    ctx = dated(make, ("x", "holdco", 60, "2018-01-01", "2020-12-31"),
                ("holdco", "bank", 60, "2019-01-01", "2020-06-30"), ("x", "holdco", 60, "2022-01-01", None), rule=rule)
    assert set(stakes_of(ctx, "x")) == {"holdco", "bank"}
    assert "x" in stakes_of(ctx, "bank", forward=False)
    assert stakes_of(ctx, "x")["bank"] == stakes_of(ctx, "bank", forward=False)["x"]


def test_an_assumed_stake_never_exceeds_the_most_the_source_declared(make):
    """"0-10%" guarantees no stake, so no percentage is given and the engine assumes its unknown_stake (25%); but
    the source said the stake is at most 10%, and an assumed 25% crossed the 25% control threshold a 10% stake
    never does. The assumption is capped by `percentage_max`; a cap above the assumption leaves it as it is."""
    graph = TemporalGraph()
    graph.apply(make("ownership", company("a"), company("b"), percentage_max=10.0))
    graph.apply(make("ownership", company("a"), company("c"), percentage_max=60.0))
    graph.apply(make("ownership", company("a"), company("d"), percentage=30.0, percentage_max=60.0))
    ctx = SearchContext(graph, ScoringConfig.load(), DAY, Reads())
    stakes = effective_stakes("a", ctx)
    assert (stakes["b"].stake, stakes["b"].assumed) == (pytest.approx(0.10), True)
    assert (stakes["c"].stake, stakes["c"].assumed) == (ctx.config.ownership.unknown_stake, True)
    assert (stakes["d"].stake, stakes["d"].assumed) == (pytest.approx(0.30), False)
    assert set(holdings("a", ctx)) == {"c", "d"}  # b's at most 10% is below the 25% threshold


def test_a_range_from_zero_given_as_percentage_zero_is_scored_as_the_range_not_as_no_stake(make):
    """"0-10%" may reach the contract as `percentage` 0 with `percentage_max` 10 (what the source guarantees and the
    most it can be, as docs/events.md defines them), which is also what the FtM export writes as "0-10" and a
    re-import reads as no percentage. Read as a declared 0%, that stake passed nothing along a chain (and the same
    holding scored 10% after an FtM round trip): a range from 0 guarantees no stake, so it is assumed up to its top.
    A declared 0% (alone, or with a top of 0) stays a 0% stake."""
    graph = TemporalGraph()
    graph.apply(make("ownership", company("a"), company("b"), percentage=0.0, percentage_max=10.0))
    graph.apply(make("ownership", company("a"), company("c"), percentage_max=10.0))
    graph.apply(make("ownership", company("a"), company("d"), percentage=0.0))
    graph.apply(make("ownership", company("a"), company("e"), percentage=0.0, percentage_max=0.0))
    graph.apply(make("ownership", company("b"), company("f"), percentage=100.0))
    ctx = SearchContext(graph, ScoringConfig.load(), DAY, Reads())
    stakes = effective_stakes("a", ctx)
    assert (stakes["b"].stake, stakes["b"].assumed) == (stakes["c"].stake, stakes["c"].assumed) \
        == (pytest.approx(0.10), True)
    assert (stakes["f"].stake, stakes["f"].assumed) == (pytest.approx(0.10), True)
    assert (stakes["d"].stake, stakes["d"].assumed) == (stakes["e"].stake, stakes["e"].assumed) == (0.0, False)


def test_a_stake_of_at_most_zero_is_a_declared_zero(make):
    """"up to 0%" (BODS `maximum: 0`) gives no percentage and a `percentage_max` of 0: it was scored as an assumed
    stake (`≤0%?`, and "assumed" on every chain through it), while the FtM export writes it "0-0", which re-imports
    as the declared 0% that `percentage` 0 is. The stake it allows is 0%: declared, not assumed."""
    graph = TemporalGraph()
    graph.apply(make("ownership", company("a"), company("b"), percentage_max=0.0))
    graph.apply(make("ownership", company("a"), company("c"), percentage=0.0))
    ctx = SearchContext(graph, ScoringConfig.load(), DAY, Reads())
    stakes = effective_stakes("a", ctx)
    assert (stakes["b"].stake, stakes["b"].assumed) == (stakes["c"].stake, stakes["c"].assumed) == (0.0, False)


def test_a_share_capped_at_the_threshold_does_not_meet_it(make):
    """"under 25%" (or a band ending at 25%, or BODS exclusiveMaximum 25) gives percentage_max 25: assumed at the
    cap, the stake met the 25% threshold the source excludes, and the owner counted as a beneficial owner. The
    assumption stays just below the cap; a cap above the default leaves the default."""
    graph = TemporalGraph()
    graph.apply(make("ownership", company("a"), company("b"), percentage_max=25.0))
    graph.apply(make("ownership", company("a"), company("c")))
    ctx = SearchContext(graph, ScoringConfig.load(), DAY, Reads())
    stakes = effective_stakes("a", ctx)
    assert stakes["b"].assumed and stakes["b"].stake < 0.25 and stakes["b"].stake == pytest.approx(0.25)
    assert set(holdings("a", ctx)) == {"c"}
