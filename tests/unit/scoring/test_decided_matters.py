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
    # a head of state's decision fades over the 20-year horizon of his office: one quarter-step since
    assert "(a matter decided in his time: it weighs 0.98, fading from the decision over the exposure horizon)" \
        in path.text


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
                       as_of=dt.date(2045, 3, 2)).score("pres", "x")
    assert gone is None  # twenty years after a head of state's decision


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
    assert ("began 2028-03-01, 3 years after the decided matter (pardon: President of the Republic -pardons-> Mr X, "
            "ended 2025-03-01): past the 2-year cooling-off, it counts 0.83 toward COI-DECIDED-MATTER") in tie.text
    assert "cooling-off" not in on_time.commercial_paths[0].text
    # paid before the decision: the conflict the decision was made in, in full
    before = engine_with(pardon_case(make, pardoned_until="2025-03-01", paid_on="2025-02-15"),
                         as_of=dt.date(2028, 6, 1)).score("pres", "x")
    assert "cooling-off" not in before.commercial_paths[0].text


def test_a_power_that_still_holds_over_the_counterparty_counts_once_as_current(make):
    regulator = ("agency", "PublicBody", "The Agency", ("gov.financial",))
    events = [*pardon_case(make, pardoned_until=None, paid_on="2025-04-01")[:3],
              make("control", PRES, regulator, start="2025-01-20"),
              make("regulates", regulator, FAMCO, start="2020-01-01")]
    prosecutor = ("prosecutor", "PublicBody", "Public Prosecutor", ("gov.national",))
    events.append(make("control", PRES, prosecutor, start="2025-01-20"))

    def case(end: str | None, against_whom=prosecutor):
        return engine_with([*events, make("prosecutes", against_whom, FAMCO, relation_id="case", start="2024-06-01",
                                          end=end)]).score("pres", "famco")

    for body in (prosecutor, regulator):  # another body's case, or the supervisor's own
        pending, closed = case(None, body), case("2025-03-01", body)
        assert "COI-AUTH-OWNERSHIP" in pending.rules
        # the closed case adds to the power that goes on as it did while pending, fading: no second rule on the
        # same tie, which raised the score the day the case closed (a review: 0.625 to 0.774)
        assert closed.rules == pending.rules and "COI-DECIDED-MATTER" not in closed.rules
        assert closed.score <= pending.score and pending.score - closed.score < 0.01
        assert any("a matter decided in his time" in path.text for path in closed.authority_paths)


def test_a_contract_awarded_in_an_office_he_has_left_is_the_revolving_doors_not_his_new_offices_decision(make):
    """The award is the decision (`schemas.vocabulary`: awarded), made while he was deputy: it ran out under his
    next office, which did not award it, so it is no decided matter of his minister's office; it counts once, as
    the deputy office's revolving door."""
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
    assert score is not None and score.rules == ("COI-REVOLVING-DOOR",)
    # awarded under the minister's office, it is that office's decided matter, and no revolving door besides
    events[4] = make("awards_contract", ministry, contractor, start="2023-06-01", end="2025-01-31")
    score = engine_with(events, as_of=dt.date(2025, 6, 1)).score("pres", "contractor")
    assert score is not None and score.rules == ("COI-DECIDED-MATTER",)


def test_the_founding_case_keeps_its_alert_when_the_sec_case_against_justin_sun_is_dismissed(make):
    engine = Engine()
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
    """A head of state's decision fades over twenty years, past the five-year lookback of ended ties: the engine's
    calendar rescores every step of it (a tie that does not age itself: a partnership still running)."""
    observed = "2025-03-02T00:00:00Z"
    events = [*pardon_case(make, pardoned_until="2025-03-01", paid_on="2025-04-01", observed=observed)[:4],
              make("partners_with", PARDONED, FAMCO, start="2025-04-01", observed_at=observed)]
    engine = engine_with(events)
    seen = []
    day = dt.date(2025, 3, 2)
    while day < dt.date(2045, 9, 1):
        day += dt.timedelta(days=61)
        engine.apply(make("partners_with", ("a", "Company", "A", ()), ("b", "Company", "B", ()),
                          observed_at=f"{day.isoformat()}T00:00:00Z"))  # moves the clock
        assert incremental_state(engine) == full_state(engine), day
        score = engine.score("pres", "x")
        seen.append(None if score is None else score.score)
    numbers = [s for s in seen if s is not None]
    assert numbers == sorted(numbers, reverse=True) and len(set(numbers)) > 60
    assert seen[-1] is None and seen[-8] is not None  # gone twenty years after the decision (2045-03-01)


def test_a_predecessors_decision_is_not_his_on_handover_day_nor_one_of_an_office_whose_start_nobody_stated(make):
    """The outgoing president's pardons of his last day (2025-01-20) are not the incoming one's, and an office
    whose start nobody stated does not say a decision was his (a review: both were credited to him; a second one:
    dated by its first report instead, a register that restated the office took the decision away)."""
    same_day = pardon_case(make, pardoned_until="2025-01-20", paid_on="2025-04-01", sought_from="2025-01-20")
    assert engine_with(same_day).score("pres", "x") is None
    undated = [make("occupancy", PRES, POTUS, observed_at="2023-06-01T00:00:00Z"),
               *pardon_case(make, pardoned_until="2024-03-01", paid_on="2025-04-01", sought_from="2024-01-01")[1:]]
    assert engine_with(undated).score("pres", "x") is None
    dated = [make("occupancy", PRES, POTUS, start="2023-01-01"), *undated[1:]]
    assert engine_with(dated).score("pres", "x").rules == ("COI-DECIDED-MATTER",)


def test_a_body_that_came_under_his_office_after_its_decision_did_not_decide_it_for_him(make):
    ministry = ("finmin", "Position", "Finance Minister", ("gov.national",))
    supervisor = ("fsa", "PublicBody", "Financial Supervisor", ("gov.financial",))
    bank = ("bank", "Company", "Bank", ())

    def events(moved_under_him: str) -> list:
        return [make("occupancy", PRES, ministry, start="2020-01-01"),
                make("control", ministry, supervisor, start=moved_under_him),
                make("regulates", supervisor, bank, start="2010-01-01", end="2025-03-01"),
                make("family", SON, PRES, relationship="son"),
                make("employment", SON, bank, start="2025-04-01")]

    day = dt.date(2025, 7, 1)
    reorganised = engine_with(events("2025-06-01"), as_of=day)  # the supervisor moved under him after its decision
    assert reorganised.score("pres", "bank") is None
    assert engine_with(events("2021-01-01"), as_of=day).score("pres", "bank").rules == ("COI-DECIDED-MATTER",)


def test_an_older_decision_beside_a_recent_one_never_lowers_the_score_nor_makes_a_tie_late(make):
    ministry = ("ministry", "PublicBody", "The Ministry", ("gov.national",))
    minister = ("minister", "Position", "Minister", ("gov.national",))
    builder = ("builder", "Company", "Builder", ())
    common = [make("occupancy", PRES, minister, start="2018-01-01"), make("control", minister, ministry),
              make("family", SON, PRES, relationship="son"),
              make("employment", SON, builder, start="2025-05-01")]
    tunnel = make("awards_contract", ministry, builder, relation_id="tunnel", start="2023-01-01", end="2025-03-01")
    bridge = make("awards_contract", ministry, builder, relation_id="bridge", start="2019-01-01", end="2021-06-01")
    one = engine_with([*common, tunnel], as_of=dt.date(2025, 6, 1)).score("pres", "builder")
    both = engine_with([*common, tunnel, bridge], as_of=dt.date(2025, 6, 1)).score("pres", "builder")
    assert one.rules == both.rules == ("COI-DECIDED-MATTER",)
    assert both.score >= one.score
    # hired within two years of the tunnel's end (the bridge's, 2021, would make it late)
    assert "cooling-off" not in both.commercial_paths[0].text


def test_leaving_office_after_deciding_hands_the_matter_to_the_revolving_door(make):
    """While he holds the office, a matter he decided fades from the decision; once he has left it, everything his
    office had power over in his time is the revolving door's, decided or not (docs/scoring.md): the matter is
    not lost on the day he leaves."""
    events = [make("occupancy", PRES, POTUS, start="2025-01-20", end="2029-01-20"),
              *pardon_case(make, pardoned_until="2025-03-01", paid_on="2025-04-01")[1:3],
              make("pardons", POTUS, PARDONED, relation_id="pardon", role="pardon", start="2025-02-01",
                   end="2025-03-01"),
              make("partners_with", PARDONED, FAMCO, start="2025-04-01")]
    before, after = (engine_with(events, as_of=day).score("pres", "x")
                     for day in (dt.date(2029, 1, 19), dt.date(2029, 1, 21)))
    assert before.rules == ("COI-DECIDED-MATTER",) and after.rules == ("COI-REVOLVING-DOOR",)


def test_the_founding_case_keeps_the_lobbying_that_sought_the_monitors_removal_once_it_is_lifted(make):
    """The Treasury's and the DoJ's monitorships of Binance lifted on 2025-06-15, after Binance lobbied the
    Treasury to lift them (the seed's own statements of them, given that end): the lobbying that got what it asked
    for still aggravates (COI-DECIDED-LOBBY)."""
    seed = load_seed_events()
    monitorships = ("treasury-oversees-binance", "doj-oversees-binance")

    def lifted(events) -> Engine:
        engine = Engine(as_of=dt.date(2025, 6, 16))
        engine.apply_many(events)
        engine.apply_many([event.model_copy(update={
            "event_id": f"{event.event_id}-lifted", "end_date": dt.date(2025, 6, 15),
            "observed_at": dt.datetime(2025, 6, 16, tzinfo=dt.UTC)})
            for event in events if event.relation_id in monitorships])
        return engine

    lobbied = lifted(seed).score("trump", "binance")
    unlobbied = lifted([e for e in seed if e.relation_id != "binance-lobbies-treasury"]).score("trump", "binance")
    assert lobbied.rules == ("COI-DECIDED-MATTER", "COI-DECIDED-LOBBY")
    assert unlobbied.rules == ("COI-DECIDED-MATTER",)
    assert (round(lobbied.score, 3), round(unlobbied.score, 3)) == (0.455, 0.385)  # docs/scoring.md
    assert any("lobbies" in path.text for path in lobbied.commercial_paths)


# A code review's cases (each failed on the first version of the rule)
X = PARDONED
AGENCY = ("agency", "PublicBody", "The Agency", ("gov.financial",))
FIRM = ("f", "Company", "Target Firm", ())


def presidency(make, obs, paid_on):
    """In office since 2020, steering the agency; the son's firm paid by Mr X."""
    return [make("occupancy", PRES, POTUS, start="2020-01-20", observed_at=obs),
            make("control", POTUS, AGENCY, start="2020-01-20", observed_at=obs),
            make("family", SON, PRES, relationship="son", observed_at=obs),
            make("ownership", SON, FAMCO, percentage=100, observed_at=obs),
            make("payment", X, FAMCO, relation_id="pay", amount=5_000_000, currency="USD", start=paid_on,
                 observed_at=obs)]


def test_a_firm_bought_after_the_decision_was_not_the_buyers_matter(make):
    obs = "2026-06-01T00:00:00Z"
    events = [*presidency(make, obs, "2026-02-01"),
              make("prosecutes", AGENCY, FIRM, relation_id="case", start="2023-01-01", end="2025-03-01",
                   observed_at=obs),
              make("ownership", X, FIRM, relation_id="buy", percentage=100, start="2026-01-01", observed_at=obs)]
    # the case against the firm was dismissed ten months before Mr X bought it
    assert engine_with(events).score("pres", "x") is None


def test_a_weak_ongoing_relation_of_the_same_body_does_not_wipe_out_a_confirmed_decided_matter(make):
    obs = "2025-06-01T00:00:00Z"
    events = [*presidency(make, obs, "2025-04-01"),
              make("prosecutes", AGENCY, X, relation_id="case", start="2024-01-01", end="2025-03-01",
                   observed_at=obs)]
    decided = engine_with(events).score("pres", "x")
    weak = make("oversees", AGENCY, X, relation_id="ov", start="2024-01-01", status="alleged", confidence=0.3,
                observed_at=obs)
    both = engine_with([*events, weak]).score("pres", "x")
    assert decided.band.value == "high"
    assert both.score >= decided.score, (decided.score, both.score, both.band, both.rules)  # 0.477 -> 0.090 low


def test_deciding_one_of_two_pending_matters_does_not_raise_the_score_on_its_day(make):
    obs = "2025-01-01T00:00:00Z"

    def case(pardoned, regulated_until):
        return [*presidency(make, obs, "2024-12-01"),
                make("ownership", X, FIRM, relation_id="own", percentage=100, start="2020-01-01", observed_at=obs),
                make("regulates", AGENCY, FIRM, relation_id="reg", start="2020-01-01", end=regulated_until,
                     observed_at=obs),
                make("pardons", POTUS, X, relation_id="pardon", start="2024-06-01", end=pardoned, observed_at=obs)]

    day = dt.date(2025, 2, 2)
    pending = engine_with(case(None, None), as_of=day).score("pres", "x")
    both_decided = engine_with(case("2025-02-01", "2025-02-01"), as_of=day).score("pres", "x")
    one_decided = engine_with(case("2025-02-01", None), as_of=day).score("pres", "x")
    assert pending.score == both_decided.score  # 0.608524 high, both
    # 0.780222 critical: the one tie counted once under COI-AUTH-COMMERCIAL and again under COI-DECIDED-MATTER
    assert one_decided.score == pending.score, (one_decided.score, one_decided.band, one_decided.rules)


# A second code review's cases (each failed on the second version): adding power never lowers a score, and one
# lobbying relation counts once
MINISTRY = ("ministry", "PublicBody", "The Ministry", ("gov.national",))
NATIONAL_AGENCY = ("agency", "PublicBody", "The Agency", ("gov.national",))
DEPUTY = ("deputy", "Position", "Deputy Minister", ("gov.national",))
MINISTER = ("minister", "Position", "Minister", ("gov.national",))
CONTRACTOR = ("contractor", "Company", "Contractor", ())


def score_of(events, day=None, pair=("pres", "contractor")):
    return engine_with(events, as_of=day).score(*pair)


def deputy_then_minister(make):
    return [make("occupancy", PRES, DEPUTY, start="2019-01-01", end="2022-12-31"),
            make("occupancy", PRES, MINISTER, start="2023-01-01"),
            make("control", DEPUTY, MINISTRY), make("control", MINISTER, MINISTRY),
            make("awards_contract", MINISTRY, CONTRACTOR, relation_id="c1", start="2021-01-01", end="2022-06-30"),
            make("family", SON, PRES, relationship="son"),
            make("employment", SON, CONTRACTOR, start="2024-01-01")]


def test_a_weak_current_relation_of_the_same_body_does_not_wipe_out_a_confirmed_revolving_door(make):
    day = dt.date(2025, 6, 1)
    alone = score_of(deputy_then_minister(make), day)
    weak = make("oversees", MINISTRY, CONTRACTOR, relation_id="weak", start="2024-01-01", status="alleged",
                confidence=0.3)
    both = score_of([*deputy_then_minister(make), weak], day)
    # observed: 0.3107 medium (REVOLVING-DOOR) -> 0.0945 low (AUTH-COMMERCIAL); the round's base: 0.3758 high
    assert both.score >= alone.score, (alone.score, both.score, both.rules)


def test_a_weak_decided_matter_of_the_same_body_does_not_wipe_out_a_confirmed_revolving_door(make):
    day = dt.date(2025, 6, 1)
    alone = score_of(deputy_then_minister(make), day)
    weak = make("prosecutes", MINISTRY, CONTRACTOR, relation_id="case", start="2023-06-01", end="2024-01-01",
                status="alleged", confidence=0.3)
    both = score_of([*deputy_then_minister(make), weak], day)
    # observed: 0.3107 medium -> 0.0886 low (DECIDED-MATTER); the round's base: 0.3107 medium
    assert both.score >= alone.score, (alone.score, both.score, both.rules)


def test_current_power_of_the_same_body_does_not_take_away_the_lobbying_of_his_old_office(make):
    day = dt.date(2025, 6, 1)
    lobby = make("lobbies", CONTRACTOR, DEPUTY, relation_id="lob", start="2024-03-01")
    alone = score_of([*deputy_then_minister(make), lobby], day)
    cur = make("oversees", MINISTRY, CONTRACTOR, relation_id="ov", start="2024-01-01", status="alleged",
               confidence=0.6)
    both = score_of([*deputy_then_minister(make), lobby, cur], day)
    # observed: 0.4713 high (REVOLVING-DOOR, REVOLVING-LOBBY) -> 0.1890 medium; the round's base: 0.5712 high
    assert both.score >= alone.score, (alone.score, both.score, both.rules)


def test_one_lobbying_relation_is_not_counted_by_both_decided_lobby_and_revolving_lobby(make):

    def case(case_end):
        return [make("occupancy", PRES, DEPUTY, start="2019-01-01", end="2022-12-31"),
                make("occupancy", PRES, MINISTER, start="2023-01-01"),
                make("control", DEPUTY, NATIONAL_AGENCY), make("control", MINISTER, NATIONAL_AGENCY),
                make("control", MINISTER, MINISTRY),
                make("awards_contract", NATIONAL_AGENCY, CONTRACTOR, relation_id="c1", start="2021-01-01",
                     end="2022-06-30"),
                make("prosecutes", MINISTRY, CONTRACTOR, relation_id="case", start="2023-06-01", end=case_end),
                make("family", SON, PRES, relationship="son"),
                make("employment", SON, CONTRACTOR, start="2024-01-01"),
                make("lobbies", CONTRACTOR, NATIONAL_AGENCY, relation_id="lob", start="2024-03-01")]

    day = dt.date(2025, 3, 2)
    pending, decided = score_of(case(None), day), score_of(case("2025-03-01"), day)
    # observed: pending 0.7514 (AUTH-COMMERCIAL, REVOLVING-DOOR, LOBBY); decided the day before 0.8043 with
    # DECIDED-LOBBY and REVOLVING-LOBBY both reading the one lobbying relation "lob"
    assert not {"COI-DECIDED-LOBBY", "COI-REVOLVING-LOBBY"} <= set(decided.rules), decided.rules
    assert decided.score <= pending.score, (pending.score, decided.score)


def test_a_decided_matter_beside_current_power_through_one_doubtful_office_never_raises_the_power(make):
    obs = "2025-01-01T00:00:00Z"
    firm = ("f", "Company", "Target Firm", ())
    agency = ("agency", "PublicBody", "The Agency", ("gov.financial",))

    def case(pardoned):
        return [make("occupancy", PRES, POTUS, start="2020-01-20", observed_at=obs, status="reported",
                     confidence=0.5),
                make("control", POTUS, agency, start="2020-01-20", observed_at=obs),
                make("family", SON, PRES, relationship="son", observed_at=obs),
                make("ownership", SON, FAMCO, percentage=100, observed_at=obs),
                make("payment", X, FAMCO, amount=5_000_000, currency="USD", start="2024-12-01", observed_at=obs),
                make("ownership", X, firm, percentage=100, start="2020-01-01", observed_at=obs),
                make("regulates", agency, firm, relation_id="reg", start="2020-01-01", observed_at=obs),
                make("pardons", POTUS, X, relation_id="pardon", start="2024-06-01", end=pardoned, observed_at=obs)]

    day = dt.date(2025, 6, 1)
    pending = score_of(case(None), day, ("pres", "x"))
    decided = score_of(case("2025-02-01"), day, ("pres", "x"))
    # observed: 0.2176 pending -> 0.3089 once the pardon is granted (it weighs 0.98): the office hop, shared by
    # both paths, is counted twice by union_strength (the decision factor is put on the first hop's key)
    assert decided.score <= pending.score, (pending.score, decided.score)
