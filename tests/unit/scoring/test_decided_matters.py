"""A decided matter (scoring.authority, COI-DECIDED-MATTER): an authority relation that ended while the actor held
the power it comes through (a pardon granted, a case dismissed, a monitorship lifted) is power used, not power
gone. Before it, the alert resolved the day the matter was decided, and a payment after the decision, the reward
the rule is there to see, was never scored."""

from __future__ import annotations

import datetime as dt

from scoring import AlertTracker, Engine
from scoring.config import ScoringConfig

from .conftest import full_state, incremental_state, load_seed_events

PRES = ("pres", "Person", "The President", ("role.pep",))
POTUS = ("potus", "Position", "President of the Republic", ("gov.head",))
SON = ("son", "Person", "The Son", ())
FAMCO = ("famco", "Company", "Family Co", ())
PARDONED = ("x", "Person", "Mr X", ())


def pardon_case(make, *, pardoned_until: str | None, paid_on: str, took_office: str = "2025-01-20",
                observed: str = "2025-06-01T00:00:00Z", sought_from: str = "2025-02-01") -> list:
    """The president's son owns a firm the pardoned man pays."""
    return [make("occupancy", PRES, POTUS, start=took_office, observed_at=observed),
            make("family", SON, PRES, relationship="son", observed_at=observed),
            make("ownership", SON, FAMCO, percentage=100, observed_at=observed),
            make("pardons", POTUS, PARDONED, relation_id="pardon", role="pardon", start=sought_from,
                 end=pardoned_until, observed_at=observed),
            make("payment", PARDONED, FAMCO, relation_id="pay", amount=5_000_000, currency="USD", start=paid_on,
                 observed_at=observed)]


def engine_with(events, as_of: dt.date | None = None) -> Engine:
    engine = Engine(as_of=as_of)
    engine.apply_many(events)
    return engine


def test_a_payment_after_the_pardon_is_granted_scores_as_a_decided_matter(make):
    score = engine_with(pardon_case(make, pardoned_until="2025-03-01", paid_on="2025-04-01")).score("pres", "x")
    assert score is not None and score.rules == ("COI-DECIDED-MATTER",) and score.band.value == "high"
    (path,) = score.authority_paths
    assert "pardons[\"pardon\", ended 2025-03-01]" in path.text
    assert "decided 2025-03-01: the power was used; it counts 0.95" in path.text  # one quarter-step since


def test_the_decision_keeps_the_pending_matters_score_on_its_day_then_fades_over_the_horizon(make):
    pending = engine_with(pardon_case(make, pardoned_until=None, paid_on="2025-02-15"),
                          as_of=dt.date(2025, 3, 2)).score("pres", "x")
    assert pending.rules == ("COI-AUTH-COMMERCIAL",)
    decided = [engine_with(pardon_case(make, pardoned_until="2025-03-01", paid_on="2025-02-15"), as_of=day)
               .score("pres", "x") for day in (dt.date(2025, 3, 2), dt.date(2026, 3, 2), dt.date(2028, 3, 2))]
    assert [s.rules for s in decided] == [("COI-DECIDED-MATTER",)] * 3
    assert decided[0].score == pending.score  # the same weight, in full on the day it was decided
    assert decided[0].score > decided[1].score > decided[2].score
    gone = engine_with(pardon_case(make, pardoned_until="2025-03-01", paid_on="2025-02-15"),
                       as_of=dt.date(2030, 3, 2)).score("pres", "x")
    assert gone is None  # five years after the decision


def test_a_matter_decided_before_he_took_office_is_not_his_decision(make):
    events = pardon_case(make, pardoned_until="2025-01-10", paid_on="2025-04-01", sought_from="2024-06-01")
    assert engine_with(events).score("pres", "x") is None


def test_a_tie_begun_past_the_cooling_off_after_the_decision_counts_less_and_says_why(make):
    events = pardon_case(make, pardoned_until="2025-03-01", paid_on="2028-03-01")
    late = engine_with(events, as_of=dt.date(2028, 6, 1)).score("pres", "x")
    longer = ScoringConfig.load(overrides={"exposure": {"cooling_off_years": 4}})
    on_time = Engine(longer, as_of=dt.date(2028, 6, 1))
    on_time.apply_many(events)
    on_time = on_time.score("pres", "x")
    assert on_time.rules == late.rules == ("COI-DECIDED-MATTER",)
    assert late.score < on_time.score
    (tie,) = late.commercial_paths
    assert ("began 2028-03-01, 3 years after the decided matter (President of the Republic -pardons-> Mr X, ended "
            "2025-03-01): past the 2-year cooling-off, it counts 0.83 toward COI-DECIDED-MATTER") in tie.text
    assert "cooling-off" not in on_time.commercial_paths[0].text
    # paid before the decision: the conflict the decision was made in, in full
    before = engine_with(pardon_case(make, pardoned_until="2025-03-01", paid_on="2025-02-15"),
                         as_of=dt.date(2028, 6, 1)).score("pres", "x")
    assert "cooling-off" not in before.commercial_paths[0].text


def test_a_power_that_still_holds_over_the_counterparty_counts_once_as_current(make):
    regulator = ("agency", "PublicBody", "The Agency", ("gov.financial",))
    events = [*pardon_case(make, pardoned_until=None, paid_on="2025-04-01")[:3],
              make("control", PRES, regulator, start="2025-01-20"),
              make("regulates", regulator, FAMCO, start="2020-01-01"),
              make("payment", FAMCO, ("bank", "Company", "Bank", ()), amount=1, currency="USD")]
    supervised = engine_with(events).score("pres", "famco")
    closed = engine_with([*events, make("prosecutes", regulator, FAMCO, start="2024-06-01", end="2025-03-01")])
    also_closed = closed.score("pres", "famco")
    assert supervised is not None and "COI-AUTH-OWNERSHIP" in supervised.rules
    # the closed case is the same power the supervision goes on holding: no second rule for it
    assert "COI-DECIDED-MATTER" not in also_closed.rules
    assert also_closed.score == supervised.score


def test_a_relation_decided_from_his_current_office_is_no_revolving_door_too(make):
    ministry = ("ministry", "PublicBody", "The Ministry", ("gov.national",))
    deputy = ("deputy", "Position", "Deputy Minister", ("gov.national",))
    minister = ("minister", "Position", "Minister", ("gov.national",))
    contractor = ("contractor", "Company", "Contractor", ())
    events = [make("occupancy", PRES, deputy, start="2019-01-01", end="2022-12-31"),
              make("occupancy", PRES, minister, start="2023-01-01"),
              make("control", deputy, ministry), make("control", minister, ministry),
              make("awards_contract", ministry, contractor, start="2021-01-01", end="2025-01-31"),
              make("family", SON, PRES, relationship="son"),
              make("employment", SON, contractor, start="2024-01-01")]
    score = engine_with(events, as_of=dt.date(2025, 6, 1)).score("pres", "contractor")
    assert score is not None and score.rules == ("COI-DECIDED-MATTER",)


def test_the_founding_case_keeps_its_alert_when_the_sec_case_against_justin_sun_is_dismissed(make):
    engine, tracker = Engine(), None
    tracker = AlertTracker(engine.config)
    for event in load_seed_events():
        tracker.observe(engine.apply(event))
    pending = engine.score("trump", "sun")
    assert pending is not None and pending.rules == ("COI-AUTH-COMMERCIAL",)
    dismissed = make("prosecutes", ("sec", "PublicBody", "US Securities and Exchange Commission",
                                    ("gov.national", "gov.financial")),
                     ("sun", "Person", "Justin Sun", ()), relation_id="sec-prosecutes-sun", role="fraud lawsuit",
                     start="2023-03-22", end="2025-05-28", observed_at="2025-05-29T09:00:00Z", confidence=0.9)
    alerts = tracker.observe(engine.apply(dismissed))
    after = engine.score("trump", "sun")
    assert after is not None and after.rules == ("COI-DECIDED-MATTER",) and after.score == pending.score
    assert not [alert for alert in alerts if alert.state.value == "resolved"]
    assert incremental_state(engine) == full_state(engine)


def test_the_decay_is_rescored_on_the_calendar_exactly_as_a_full_recomputation(make):
    engine = engine_with(pardon_case(make, pardoned_until="2025-03-01", paid_on="2025-04-01",
                                     observed="2025-03-02T00:00:00Z"))
    seen = []
    day = dt.date(2025, 3, 2)
    while day < dt.date(2030, 9, 1):
        day += dt.timedelta(days=45)
        engine.apply(make("partners_with", ("a", "Company", "A", ()), ("b", "Company", "B", ()),
                          observed_at=f"{day.isoformat()}T00:00:00Z"))  # moves the clock
        assert incremental_state(engine) == full_state(engine), day
        score = engine.score("pres", "x")
        seen.append(None if score is None else score.score)
    numbers = [s for s in seen if s is not None]
    assert numbers == sorted(numbers, reverse=True) and len(set(numbers)) > 10
    assert seen[-1] is None
