"""The size of a contract award weighs the power it gives (`sized` in the vocabulary, `authority._sized`). Before
it, an award of $200 and one of $500M to the minister's son's company both scored 0.810 (an analyst's finding)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from scoring import Engine
from scoring.combine import union_strength
from scoring.config import ScoringConfig
from scoring.paths import Path
from scoring.semantics import Layer

from .conftest import full_state, incremental_state

MINISTER = ("minister", "Person", "The Minister", ("role.pep",))
OFFICE = ("works-minister", "Position", "Minister of Works", ("gov.national",))
MINISTRY = ("ministry", "PublicBody", "Ministry of Works", ("gov.national",))
SON = ("son", "Person", "The Son", ())
BUILDER = ("builder", "Company", "Son's Builders Ltd", ())


def case(make, *awards: dict) -> list:
    """The minister steers the ministry, which awards contracts to the company his son owns."""
    events = [make("occupancy", MINISTER, OFFICE, start="2020-01-01"), make("control", OFFICE, MINISTRY),
              make("family", SON, MINISTER, relationship="son"), make("ownership", SON, BUILDER, percentage=100)]
    for number, award in enumerate(awards):
        events.append(make("awards_contract", MINISTRY, BUILDER, relation_id=f"award-{number}",
                           start=award.pop("start", "2024-01-01"), **award))
    return events


def score(events, **config):
    engine = Engine(ScoringConfig.load(overrides=config) if config else None, as_of=dt.date(2025, 1, 1))
    engine.apply_many(events)
    return engine.score("minister", "builder")


def test_a_small_award_gives_less_power_than_a_large_one(make):
    small = score(case(make, {"amount": 200, "currency": "USD"}))
    large = score(case(make, {"amount": 500_000_000, "currency": "USD"}))
    unstated = score(case(make, {}))
    assert large.score == unstated.score == pytest.approx(0.81)  # $100M and more: the award in full, as before
    assert small.score < 0.1 < large.score
    assert small.rules == large.rules == ("COI-AUTH-OWNERSHIP",)
    (path,) = small.authority_paths
    assert "(a contract worth 200 USD: the award weighs 0.10 by its size)" in path.text


def test_the_awards_of_one_body_to_one_party_weigh_what_they_add_up_to(make):
    """Twenty contracts of $10,000 weigh as $200,000 does, once: weighed one by one, at $10,000 each, they added up
    by noisy-OR to the power of contracts of any size. (Twenty awards are surer than one, as twenty awards of no
    stated sum are: that part is the certainty's, not the size's.)"""
    def awards(count, **amount):
        return case(make, *({**amount, "start": f"2024-01-{day:02d}"} for day in range(1, count + 1)))
    many = score(awards(20, amount=10_000, currency="USD"))
    size = score(awards(1, amount=200_000, currency="USD")).score / score(awards(1)).score
    assert size == pytest.approx(0.514, abs=1e-3)  # $200,000 on the default scale
    assert many.score == pytest.approx(score(awards(20)).score * size, abs=1e-5)
    assert any("20 contracts worth 200k USD in all: the award weighs 0.51 by its size" in path.text
               for path in many.authority_paths)


def test_contracts_awarded_on_different_days_are_different_contracts(make):
    """An award is made on its date (`graph.fact_key`): twenty contracts of one sum, each running on, were one
    contract stated twenty times; statements of one award on its day are still one fact."""
    engine = Engine(as_of=dt.date(2025, 1, 1))
    engine.apply_many(case(make, *({"amount": 10_000, "currency": "USD", "start": f"2024-01-{day:02d}"}
                                   for day in range(1, 4)), {"amount": 10_000, "currency": "USD"}))
    awards = engine.graph.between("ministry", "builder", Layer.AUTHORITY)
    assert {str(rec.start): len(rec.statements or ()) for rec in awards} == \
        {"2024-01-01": 2, "2024-01-02": 0, "2024-01-03": 0}


def test_an_award_without_a_sum_weighs_the_awards_in_full(make):
    """A sum not stated may be any: beside it, a small award does not make the body's power small."""
    mixed = score(case(make, {"amount": 200, "currency": "USD"}, {"start": "2024-02-01"}))
    assert mixed.score == score(case(make, {}, {"start": "2024-02-01"})).score
    assert all("by its size" not in path.text for path in mixed.authority_paths)
    # a currency without a configured rate is a sum the engine cannot weigh
    assert score(case(make, {"amount": 200, "currency": "XAF"})).score == score(case(make, {})).score


def test_sums_in_different_currencies_add_up_at_the_configured_rates(make):
    euros = score(case(make, {"amount": 100_000, "currency": "EUR"}, {"amount": 100_000, "currency": "USD"}))
    path = next(path for path in euros.authority_paths if "by its size" in path.text)
    assert "2 contracts worth " in path.text and " USD at the configured rates in all" in path.text
    assert score(case(make, {"amount": 200_000, "currency": "USD"})).score < euros.score < \
        score(case(make, {"amount": 100_000_000, "currency": "USD"})).score


def test_the_size_is_read_from_the_amounts_scale(make):
    events = case(make, {"amount": 200, "currency": "USD"})
    assert score(events, amounts={"floor_strength": 0.5}).score > score(events).score


def test_a_decided_award_weighs_by_its_size_too(make):
    """A contract that ran out, awarded while he was in office: a decided matter, as large as the contract."""
    def decided(amount):
        return score(case(make, {"amount": amount, "currency": "USD", "end": "2024-06-30"}))
    small, large = decided(200), decided(500_000_000)
    assert small.rules == large.rules == ("COI-DECIDED-MATTER",)
    assert small.score < large.score / 5
    (path,) = small.authority_paths
    assert "a matter decided in his time" in path.text and "the award weighs 0.10 by its size" in path.text


def test_a_shared_size_is_counted_once_beside_a_relation_the_paths_do_not_share():
    """`union_strength` takes the shared factor as one relation of every path that carries it. Put on the office's
    hop instead (as a left office's exposure is), the office would weigh differently in the awards' paths and in
    a regulator's beside them, and count as two offices."""

    class Rec:
        def __init__(self, relation_id):
            self.relation_id, self.event_id = relation_id, "e"

    class Step:  # what the union reads of a hop
        def __init__(self, rec, weight):
            self.rec, self.weight, self.forward, self.decays = rec, weight, True, False

    office, key = Rec("office"), ("\x00awards", "", True, 0.5)
    awards = [Path("authority", "a", (Step(office, 0.8), Step(Rec(f"award-{n}"), 0.9)), 0.8 * 0.9 * 0.5, None,
                   (key, 0.5)) for n in range(3)]
    regulates = Path("authority", "a", (Step(office, 0.8), Step(Rec("licence"), 0.6)), 0.8 * 0.6)
    # P = 0.8 (the office) x P(the size and one of the awards, or the licence)
    exact = 0.8 * (1 - (1 - 0.5 * (1 - 0.1 ** 3)) * (1 - 0.6))
    assert union_strength([*awards, regulates], 0.9) == pytest.approx(exact)
    on_the_office = [dataclasses.replace(path, shared_factor=None) for path in awards]
    assert union_strength([*on_the_office, regulates], 0.9) > exact + 0.01


def test_incremental_scores_match_a_full_recomputation_as_awards_come_and_go(make):
    engine = Engine(as_of=dt.date(2025, 1, 1))
    events = case(make, {"amount": 5_000, "currency": "USD"}, {"amount": 2_000_000, "currency": "EUR"},
                  {"amount": 40_000, "currency": "USD", "end": "2024-03-01"})
    events.append(make("awards_contract", MINISTRY, BUILDER, relation_id="award-0", amount=50_000, currency="USD",
                       start="2024-01-01"))
    events.append(make("awards_contract", MINISTRY, BUILDER, relation_id="award-1", op="retract"))
    for event in events:
        engine.apply(event)
        assert incremental_state(engine) == full_state(engine)
