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


def test_the_awards_to_one_counterparty_weigh_what_they_add_up_to(make):
    """Twenty contracts of about $10,000 weigh as $200,000 does, once: weighed one by one they added up by noisy-OR
    to the power of contracts of any size. (Twenty awards are surer than one, as twenty awards of no stated sum
    are: that part is the certainty's, not the size's.)"""
    def awards(base):
        return case(make, *({"amount": base + day, "currency": "USD", "start": f"2024-01-{day:02d}"}
                            for day in range(1, 21)))
    many = score(awards(10_000))
    size = score(case(make, {"amount": 200_210, "currency": "USD"})).score / score(case(make, {})).score
    assert size == pytest.approx(0.514, abs=1e-3)  # $200,210 on the default scale
    full_size = score(awards(100_000_000)).score  # twenty contracts of $100M and more: each in full
    assert many.score == pytest.approx(full_size * size, abs=1e-5)
    assert any("(20 contracts worth 200.2k USD in all: the awards weigh 0.51 by their size)" in path.text
               for path in many.authority_paths)


def test_a_contract_another_source_dates_otherwise_is_one_contract(make):
    """A register dates the award, an outlet the signature two days later: one contract of $2M stated twice, not
    two adding up to $4M (a review, of a fact key by date that made it two)."""
    events = case(make, {"amount": 2_000_000, "currency": "USD", "start": "2024-03-01"})
    alone = score(events)
    events.append(make("awards_contract", MINISTRY, BUILDER, relation_id="outlet-award", amount=2_000_000,
                       currency="USD", start="2024-03-03", publisher="Example Daily"))
    both = score(events)
    assert alone.score <= both.score <= alone.score + 0.05
    (path,) = both.authority_paths
    assert "2 sources" in path.text and "(a contract worth 2M USD: the award weighs" in path.text


def test_an_award_without_a_sum_weighs_in_full_beside_the_sized_ones(make):
    """A sum not stated may be any: that award's paths weigh in full, and the awards with sums by what they add up
    to (a review: one award without a sum put every other award back to full weight, unexplained)."""
    small = case(make, {"amount": 5_000, "currency": "USD", "start": "2024-01-01"},
                 {"amount": 3_000, "currency": "USD", "start": "2024-02-01"})
    # (from another body of his: a statement without a sum beside the ministry's would corroborate one of its awards)
    agency = ("agency", "PublicBody", "Roads Agency", ("gov.national",))
    unstated = [make("control", OFFICE, agency), make("awards_contract", agency, BUILDER, relation_id="roads")]
    mixed = score(small + unstated)
    texts = [path.text for path in mixed.authority_paths]
    assert sum("(2 contracts worth 8k USD in all: the awards weigh" in text for text in texts) == 2
    assert sum("by their size" not in text for text in texts) == 1
    unsized = score(case(make, {"amount": 1e9, "currency": "USD"}, {"amount": 2e9, "currency": "USD"}) + unstated)
    assert score(small).score < score(small[:4] + unstated).score < mixed.score < unsized.score
    # a currency without a configured rate is a sum the engine cannot weigh
    assert score(case(make, {"amount": 200, "currency": "XAF"})).score == score(case(make, {})).score


def test_sums_in_different_currencies_add_up_at_the_configured_rates(make):
    euros = score(case(make, {"amount": 100_000, "currency": "EUR"}, {"amount": 100_000, "currency": "USD"}))
    path = next(path for path in euros.authority_paths if "by their size" in path.text)
    assert "2 contracts worth " in path.text and " USD in all at the configured rates: the awards weigh" in path.text
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


def test_contracts_running_out_never_raise_the_power(make):
    """Run-out contracts beside running ones are one total (a review: sized apart, then joined, ten of twenty
    contracts running out raised the score from 0.463 to 0.638)."""
    def awards(ended):
        return case(make, *({"amount": 10_000 + day, "currency": "USD", "start": f"2024-01-{day:02d}",
                             "end": "2024-12-30" if day <= ended else None} for day in range(1, 21)))
    running, half = score(awards(0)), score(awards(10))
    assert half.score <= running.score
    assert all("20 contracts worth 200.2k USD in all" in path.text for path in half.authority_paths)


def test_an_award_reached_through_two_offices_is_sized_once(make):
    """A review: the office in the size's key counted one $200 award's size twice (0.155 where once is 0.089)."""
    deputy = ("deputy-pm", "Position", "Deputy Prime Minister", ("gov.national",))
    events = case(make, {"amount": 200, "currency": "USD"})
    unsized = case(make, {})
    second = [make("occupancy", MINISTER, deputy, start="2021-01-01"), make("control", deputy, MINISTRY)]
    ratio_unsized = score(unsized + second).score / score(unsized).score
    assert ratio_unsized > 1.05  # two offices are surer than one: the certainty's part
    assert score(events + second).score / score(events).score == pytest.approx(ratio_unsized, rel=2e-2)


def test_the_revolving_door_weighs_the_awards_it_keeps(make):
    """A review: as Minister of Works he oversaw a $200 award, since run out, and a $100M one still running; as Prime
    Minister he steers the ministry now, so the $100M award is current power, and the revolving door keeps only the
    $200 one, which weighed in full because the dropped $100M had made its group full size."""
    pm = ("pm", "Position", "Prime Minister", ("gov.national", "gov.head"))
    events = [make("occupancy", MINISTER, OFFICE, start="2016-01-01", end="2020-12-31"),
              make("control", OFFICE, MINISTRY), make("occupancy", MINISTER, pm, start="2021-01-01"),
              make("control", pm, MINISTRY), make("family", SON, MINISTER, relationship="son"),
              make("ownership", SON, BUILDER, percentage=100),
              make("awards_contract", MINISTRY, BUILDER, relation_id="small", amount=200, currency="USD",
                   start="2018-01-01", end="2020-06-30"),
              make("awards_contract", MINISTRY, BUILDER, relation_id="large", amount=100_000_000, currency="USD",
                   start="2019-01-01")]
    result = score(events)
    former = [path for path in result.authority_paths if "ended 2020-06-30" in path.text]
    assert former and all("(a contract worth 200 USD: the award weighs 0.10 by its size)" in path.text
                          for path in former)
    without_it = score(events[:-2] + events[-1:]).score
    assert without_it <= result.score <= without_it + 0.05


def test_a_floor_strength_of_zero_leaves_awards_at_the_floor_without_power(make):
    """A review: `amounts.floor_strength: 0` divided by the size in `union_strength`."""
    events = case(make, {"amount": 200, "currency": "USD"}, {"amount": 300, "currency": "USD", "start": "2024-02-01"})
    assert score(events, amounts={"floor_strength": 0.0}) is None
    agency = ("agency", "PublicBody", "Roads Agency", ("gov.national",))
    unstated = [make("control", OFFICE, agency), make("awards_contract", agency, BUILDER, relation_id="roads")]
    assert score(events + unstated, amounts={"floor_strength": 0.0}).score == score(events[:4] + unstated).score


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
