"""The time model: validity, stepped decays, office horizons, and a calendar that never skips a change."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.config import ScoringConfig
from scoring.graph import TemporalGraph
from scoring.timing import TimeModel

from .conftest import EventFactory

CONFIG = ScoringConfig.load()
TIME = TimeModel(CONFIG)
D = dt.date.fromisoformat


def relation(event):
    graph = TemporalGraph()
    graph.apply(event)
    return next(graph.relations())


def test_a_relation_counts_fully_while_it_holds_and_not_before_it_began(make):
    rec = relation(make("partners_with", "vendor", "builder", start="2020-01-01", end="2024-12-31"))
    assert TIME.recency(rec, D("2019-12-31")) is None
    assert TIME.recency(rec, D("2020-01-01")) == 1.0
    assert TIME.recency(rec, D("2024-12-31")) == 1.0
    assert TIME.current(rec, D("2024-12-31")) and not TIME.current(rec, D("2025-01-01"))


def test_an_ended_relation_halves_every_half_life_in_steps_then_drops(make):
    rec = relation(make("partners_with", "vendor", "builder", end="2020-01-01"))
    step, half_life = CONFIG.time.step_days, CONFIG.time.ended_half_life_days
    assert TIME.recency(rec, D("2020-01-02")) == 1.0  # within the first step
    after_two_years = D("2020-01-01") + dt.timedelta(days=(half_life // step) * step)
    assert 0.5 < TIME.recency(rec, after_two_years) < 0.52
    assert TIME.recency(rec, D("2020-01-01") + dt.timedelta(days=CONFIG.time.ended_lookback_days + 1)) is None


def test_a_payment_ages_from_its_date(make):
    rec = relation(make("payment", "vendor", "builder", start="2020-01-01", amount=1000000, currency="USD"))
    assert TIME.recency(rec, D("2020-01-01")) == 1.0
    assert TIME.recency(rec, D("2023-01-01")) < 0.5


def test_former_office_decays_over_the_horizon(make):
    rec = relation(make("occupancy", "mayor", "mayor-office", start="2010-01-01", end="2020-01-01"))
    short, long = CONFIG.exposure.horizon_days, CONFIG.exposure.long_horizon_days
    assert TIME.office_weight(rec, D("2015-01-01"), short) == (1.0, False)
    weight, former = TIME.office_weight(rec, D("2022-07-01"), short)
    assert former and 0.4 < weight < 0.6
    assert TIME.office_weight(rec, D("2025-06-01"), short) is None  # 5 years are over
    assert TIME.office_weight(rec, D("2025-06-01"), long)[0] > 0.7  # 20 years for national office
    assert TIME.office_weight(rec, D("2009-12-31"), short) is None  # nothing before the office began


dates = st.dates(min_value=D("2015-01-01"), max_value=D("2035-01-01"))


@settings(max_examples=60, deadline=None)
@given(start=st.none() | dates, length=st.none() | st.integers(0, 4000),
       kind=st.sampled_from(["payment", "occupancy", "prosecutes"]), day=dates, span=st.integers(1, 3000))
def test_nothing_changes_between_two_calendar_dates(start, length, kind, day, span):
    """Between `day` and the next change date the calendar names, every time-dependent answer is constant: an
    office's and a decided matter's decays (`decision_weight`) too."""
    end = None if length is None or start is None else (start + dt.timedelta(days=length)).isoformat()
    source, target = {"payment": ("vendor", "builder"), "occupancy": ("mayor", "mayor-office"),
                      "prosecutes": ("regulator", "builder")}[kind]
    rec = relation(EventFactory().make(kind, source, target, start=start and start.isoformat(), end=end))
    horizons = (CONFIG.exposure.horizon_days, CONFIG.exposure.long_horizon_days)

    def answers(on):
        offices = tuple(TIME.office_weight(rec, on, h) for h in horizons) if kind == "occupancy" else ()
        decided = tuple(TIME.decision_weight(rec, on, long) for long in (False, True)) if kind == "prosecutes" \
            else ()
        return TIME.recency(rec, on), TIME.current(rec, on), *offices, *decided

    change = TIME.next_change(rec, day)
    last = min(change - dt.timedelta(days=1), day + dt.timedelta(days=span)) if change else \
        day + dt.timedelta(days=span)
    baseline = answers(day)
    probe = day
    while probe <= last:
        assert answers(probe) == baseline, (probe, change)
        probe += dt.timedelta(days=max(1, (last - day).days // 40))
    assert answers(last) == baseline
