"""Payments: one sum paid on two dates is two payments, and the payments one party made another add up to one tie
(`scoring.payments`; a review: 24 payments of about 10,000 scored critical where one of 240,000 scored high, and 24
of exactly 10,000 were one payment of 10,000)."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from scoring import Engine, ScoringConfig
from scoring.graph import TemporalGraph
from scoring.paths import SummedHop
from scoring.semantics import Layer

DAY = dt.date(2025, 6, 1)


def _regulated(make) -> list:
    return [make("control", "minister", "regulator"), make("regulates", "regulator", "bank")]


def _paid(make, payments: list[tuple[float, str]], currency: str = "USD", **extra) -> list:
    return [make("payment", "bank", "minister", relation_id=f"paid-{number:03d}", amount=amount, currency=currency,
                 start=day, **extra) for number, (amount, day) in enumerate(payments)]


def _score(make, events) -> object:
    engine = Engine(ScoringConfig.load(), as_of=DAY)
    engine.apply_many(events)
    return engine.score("minister", "bank")


def _days(count: int, first: dt.date = dt.date(2025, 1, 1), step: int = 1) -> list[str]:
    return [(first + dt.timedelta(days=number * step)).isoformat() for number in range(count)]


def test_one_sum_paid_on_two_dates_is_two_payments(make):
    graph = TemporalGraph()
    for event in _paid(make, [(10_000.0, day) for day in _days(24)]):
        graph.apply(event)
    facts = graph.between("bank", "minister", Layer.TRADE)
    assert len(facts) == 24 and all(fact.statements is None for fact in facts)
    # the same payment reported twice (one date, one sum) stays one fact with two sources
    graph.apply(make("payment", "bank", "minister", relation_id="reported-again", amount=10_000.0, currency="USD",
                     start="2025-01-01", publisher="Other Times"))
    facts = graph.between("bank", "minister", Layer.TRADE)
    assert len(facts) == 24
    (twice,) = [fact for fact in facts if fact.statements is not None]
    assert sorted(s.relation_id for s in twice.statements) == ["paid-000", "reported-again"]


def test_payments_add_up_to_what_one_payment_of_their_total_weighs(make):
    """24 payments of 10,000 weigh what one of 240,000 weighs, and so do 24 of 10,000 to 10,023 (about 240,276):
    neither the tie of one 10,000 (identical sums were one fact) nor near 1 (noisy-OR of 24 ties)."""
    one = _score(make, [*_regulated(make), *_paid(make, [(240_000.0, "2025-01-15")])])
    alike = _score(make, [*_regulated(make), *_paid(make, [(10_000.0, day) for day in _days(24, step=0)])])
    same = _score(make, [*_regulated(make), *_paid(make, [(10_000.0, day) for day in _days(24)])])
    near = _score(make, [*_regulated(make), *_paid(make, [(10_000.0 + n, day) for n, day in enumerate(_days(24))])])
    small = _score(make, [*_regulated(make), *_paid(make, [(10_000.0, "2025-01-15")])])
    assert alike.score == small.score  # one date, one sum: one payment, however often reported
    assert same.score == pytest.approx(one.score, abs=2e-6)
    assert near.score == pytest.approx(one.score, abs=5e-4)
    assert small.score < same.score < 0.5 and same.band == one.band
    (tie,) = [path for path in same.commercial_paths]
    (edge,) = tie.edges
    assert "240k USD in 24 payments, 2025-01-01 to 2025-01-24" in tie.text
    assert len(edge.evidence) + edge.evidence_omitted == 24


def test_a_payment_never_lowers_the_tie_and_order_changes_nothing(make):
    """An old payment beside a new one adds its sum at its own, lower, factor: the tie is at least the new one's.
    The payments' order of arrival changes nothing."""
    new = _score(make, [*_regulated(make), *_paid(make, [(1_000_000.0, "2025-05-01")])])
    both = [(1_000_000.0, "2019-05-01"), (1_000_000.0, "2025-05-01"), (3_000.0, "2024-02-01"),
            (50_000.0, "2023-07-01")]
    scores = set()
    rng = random.Random(4)
    for _ in range(5):
        rng.shuffle(both)
        scores.add(_score(make, [*_regulated(make), *_paid(make, both)]).score)
    (score,) = scores
    assert score >= new.score


def test_the_sum_is_weighed_by_what_one_can_be_sure_of(make):
    """Of a sure payment and an alleged one, the tie is the most of (the sure one's factor x its own sum) and (the
    weaker factor x both sums): an alleged payment adds its sum only at its own certainty."""
    config = ScoringConfig.load()
    sure = _paid(make, [(100_000.0, "2025-03-01")])
    alleged = [make("payment", "bank", "minister", relation_id="alleged", amount=900_000.0, currency="USD",
                    start="2025-03-02", status="alleged", confidence=0.5)]
    engine = Engine(config, as_of=DAY)
    engine.apply_many([*_regulated(make), *sure, *alleged])
    ties = [hop for neighbour, hop, _ in _node_ties(engine, "minister")
            if neighbour == "bank"]
    (hop,) = ties
    assert type(hop) is SummedHop and len(hop.parts) == 2 and hop.total == 1_000_000.0
    from scoring.strength import Strength
    strength = Strength(config, DAY)
    each = {rec.relation_id: strength.tie(rec) for rec in hop.parts}
    factor = {rec.relation_id: each[rec.relation_id] / config.amount_strength(rec.amount, rec.currency)
              for rec in hop.parts}
    expected = max(factor["paid-000"] * config.usd_strength(100_000.0),
                   factor["alleged"] * config.usd_strength(1_000_000.0))
    assert hop.weight == pytest.approx(expected)
    assert hop.weight >= max(each.values())


def _node_ties(engine: Engine, node: str) -> tuple:
    from scoring.dependencies import NullReads
    from scoring.search import node_ties
    return node_ties(node, engine._context(NullReads(), DAY)).ties


def test_payments_each_way_and_without_a_sum_stay_apart(make):
    """Payments add up by direction: what the minister paid the bank is not what the bank paid him. A payment
    without a sum is a tie of its own, at the weight of a sum not given."""
    events = [*_regulated(make), *_paid(make, [(50_000.0, "2025-02-01"), (50_000.0, "2025-03-01")]),
              make("payment", "minister", "bank", relation_id="fees", amount=50_000.0, currency="USD",
                   start="2025-02-15"),
              make("payment", "bank", "minister", relation_id="unsaid", start="2025-04-01")]
    engine = Engine(ScoringConfig.load(), as_of=DAY)
    engine.apply_many(events)
    hops = [hop for neighbour, hop, _ in _node_ties(engine, "minister")
            if neighbour == "bank"]
    summed = [hop for hop in hops if type(hop) is SummedHop]
    assert len(hops) == 3 and len(summed) == 1
    assert sorted(rec.relation_id for rec in summed[0].parts) == ["paid-000", "paid-001"]
    assert summed[0].forward is False  # walked from the minister against the payments' direction
    assert {hop.rec.relation_id for hop in hops if type(hop) is not SummedHop} == {"fees", "unsaid"}


def test_incremental_payments_score_as_a_fresh_load(make):
    """Payments arriving one by one, restated, retracted and moved to another date: the engine's scores equal a
    full recomputation after every event."""
    rng = random.Random(11)
    engine = Engine(ScoringConfig.load(), as_of=DAY)
    engine.apply_many(_regulated(make))
    for number in range(120):
        rid = f"p{rng.randrange(30)}"
        if rng.random() < 0.1:
            event = make("payment", "bank", "minister", relation_id=rid, op="retract")
        else:
            source = rng.choice(["bank", "bank", "bank", "minister"])
            event = make("payment", source, "bank" if source == "minister" else "minister", relation_id=rid,
                         amount=rng.choice([None, 5_000.0, 10_000.0, 250_000.0]),
                         currency=rng.choice(["USD", "USD", "EUR", "XXX"]),
                         start=rng.choice([None, "2024-01-01", "2025-01-01", "2025-03-01"]),
                         status=rng.choice(["confirmed", "reported", "alleged"]),
                         publisher=rng.choice(["A", "B"]))
        try:
            engine.apply(event)
        except Exception as error:  # a retraction of a relation never stated is refused, and changes nothing
            assert "retract" in str(error).lower() or "unknown" in str(error).lower(), error
            continue
        fresh = engine.recompute_all(DAY)
        held = {(s.actor_id, s.counterparty_id): s.score for s in engine.scores()}
        assert held == {key: s.score for key, s in fresh.items()}, number


def test_thousands_of_payments_add_up_as_they_come_and_go(make):
    """An edge of more payments than the searches carry one by one (`scoring.crowded`): what they add up to is kept
    from one event to the next, a payment at a time, and equals a full recomputation after every event, payments
    taken back and restated at another sum or date among them."""
    config = ScoringConfig.load()
    engine = Engine(config, as_of=DAY)
    engine.apply_many([make("control", "minister", "regulator"), make("regulates", "regulator", "bank"),
                       make("family", "spouse", "minister")])
    rng = random.Random(5)
    live: dict[str, float] = {}
    for number in range(160):
        rid = f"p{rng.randrange(70)}"
        if rid in live and rng.random() < 0.15:
            engine.apply(make("payment", "bank", "spouse", relation_id=rid, op="retract"))
            del live[rid]
        else:
            amount = float(rng.randrange(1, 400) * 1000)
            engine.apply(make("payment", "bank", "spouse", relation_id=rid, amount=amount, currency="USD",
                              start=rng.choice(["2024-06-01", "2025-01-01", "2025-05-01"]),
                              status=rng.choice(["confirmed", "reported"])))
            live[rid] = amount
        held = engine.score("minister", "bank")
        fresh = engine.recompute_all(DAY).get(("minister", "bank"))
        assert (held and held.score) == (fresh and fresh.score), number
    summed = [hop for neighbour, hop, _ in _node_ties(engine, "spouse") if type(hop) is SummedHop]
    assert len(summed) == 1 and len(summed[0].parts) == len(live) > 24
    assert summed[0].total == sum(live.values())


def test_an_amount_reads_in_the_largest_unit_it_reaches_once_rounded():
    from scoring.explain import format_amount
    assert format_amount(999_999, "USD") == "1M USD"  # (a review: "1000k USD")
    assert format_amount(999.99, None) == "1k"
    assert format_amount(240_276, "USD") == "240.3k USD"
    assert format_amount(999, "GBP") == "999 GBP"
    assert format_amount(1e13, "USD") == "10000bn USD"  # (not "1e+04bn")


def test_a_sum_is_timed_by_its_first_payment_for_the_revolving_door(make):
    """A minister who left office in mid-2020 is paid $1M in January 2022 (within the two-year cooling-off) by a
    bank his office awarded contracts: a small payment in December 2025 beside it never makes the sum late (a review:
    the late payment named the sum once it was the strongest, and the score fell from 0.063 to 0.036)."""
    office = ("finance-office", "Position", "Minister of Finance", ("gov.national",))

    def score(*payments):
        engine = Engine(ScoringConfig.load())
        engine.apply_many([make("occupancy", "minister", office, start="2012-01-01", end="2020-06-30"),
                           make("awards_contract", office, "bank"),
                           *[make("payment", "bank", "minister", relation_id=f"pay-{number}", amount=amount,
                                  currency="USD", start=day, end=day, observed_at="2026-01-01T00:00:00Z")
                             for number, (amount, day) in enumerate(payments)]])
        return engine.score("minister", "bank")

    on_time = score((1_000_000.0, "2022-01-01"))
    for late in (2_000.0, 3_000.0, 20_000.0):
        both = score((1_000_000.0, "2022-01-01"), (late, "2025-12-01"))
        assert both.score >= on_time.score, late
        assert "began" not in both.commercial_paths[0].text  # on time: no cooling-off note
    alone_late = score((20_000.0, "2025-12-01"))
    assert "began 2025-12-01" in alone_late.commercial_paths[0].text


def test_the_sum_takes_no_place_of_the_ties_carried_beside_it(make):
    """On an edge of more records than the searches carry (`max_paths_per_pair`, 24), the payments are one hop: a
    debt beside 24 payments is still carried (a review: it fell out once the 24 payments were summed)."""
    def score(payments: int, debt: bool):
        engine = Engine(ScoringConfig.load(), as_of=DAY)
        engine.apply_many([*_regulated(make),
                           *[make("payment", "bank", "minister", relation_id=f"pay-{number}", amount=100_000.0,
                                  currency="USD", start=day) for number, day in enumerate(_days(payments))],
                           *([make("debt", "bank", "minister", relation_id="loan", amount=5e6, currency="USD",
                                   status="alleged", confidence=0.3)] if debt else [])])
        return engine.score("minister", "bank")

    for payments in (23, 24, 30):
        with_debt, without = score(payments, True), score(payments, False)
        assert with_debt.score > without.score, payments
        assert any("debt[" in path.text for path in with_debt.commercial_paths), payments


def test_a_payment_in_a_dollar_stablecoin_weighs_as_dollars_and_one_in_bitcoin_by_its_magnitude(make):
    dollars = _score(make, [*_regulated(make), *_paid(make, [(1_000_000.0, "2025-01-15")])])
    tether = _score(make, [*_regulated(make), *_paid(make, [(1_000_000.0, "2025-01-15")], currency="USDT")])
    unknown = _score(make, [*_regulated(make), *_paid(make, [(1_000_000.0, "2025-01-15")], currency="XTS")])
    bitcoin = _score(make, [*_regulated(make), *_paid(make, [(11.0, "2025-01-15")], currency="BTC")])
    assert tether.score == dollars.score != unknown.score
    assert abs(bitcoin.score - dollars.score) < 0.01  # 11 BTC: about a million dollars
    assert "payment[1M USDT, 2025-01-15]" in tether.commercial_paths[0].text


def test_a_payment_reads_the_day_it_was_paid_never_that_it_ended(make):
    """A one-day payment (start and end the same day) read "ended 2025-01-15"; a payment a register states over a
    period (an ongoing salary) reads its span."""
    one_day = _score(make, [*_regulated(make), *_paid(make, [(50_000.0, "2025-01-15")], end="2025-01-15")])
    salary = _score(make, [*_regulated(make), *_paid(make, [(50_000.0, "2025-01-01")], end="2025-03-31")])
    assert "payment[50k USD, 2025-01-15]" in one_day.commercial_paths[0].text
    assert "payment[50k USD, 2025-01-01 to 2025-03-31]" in salary.commercial_paths[0].text
    assert "ended" not in one_day.commercial_paths[0].text + salary.commercial_paths[0].text
