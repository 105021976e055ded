"""One conflict, one alert (issue #14, item 5): the pairs of one conflict are one alert case.

A minister's regulator licenses a broadcaster. The broadcaster is owned 60% by a holding company, which his
daughter owns outright, and 30% by a co-investor. Four pairs score (the broadcaster, the holding company, the
co-investor, the daughter), as the scores topic shows per pair; they are one conflict, and one alert.
"""

from __future__ import annotations

from schemas.outputs import AlertState
from scoring import AlertTracker, Engine, ScoringConfig
from scoring.alerts import alert_id, case_of

DAUGHTER = ("daughter", "Person", "Daughter", ())
BROADCASTER = ("broadcaster", "Company", "National Broadcaster", ())
HOLDCO = ("media-holding", "Company", "Media Holding", ())
INVESTOR = ("investor", "Person", "Co-Investor", ())


def planted_conflict(make):
    return [make("control", "minister", "regulator"), make("regulates", "regulator", BROADCASTER),
            make("family", DAUGHTER, "minister"), make("ownership", DAUGHTER, HOLDCO, percentage=100),
            make("ownership", HOLDCO, BROADCASTER, percentage=60),
            make("ownership", INVESTOR, BROADCASTER, percentage=30)]


def replay(events):
    engine = Engine()
    tracker = AlertTracker(engine.config)
    alerts = []
    for event in events:
        alerts += tracker.observe(engine.apply(event))
    return engine, tracker, alerts


def test_the_pairs_of_one_conflict_are_one_alert(make):
    engine, tracker, alerts = replay(planted_conflict(make))
    alerting = [s for s in engine.scores() if tracker.alerting(s.band)]
    assert len(alerting) >= 3  # per pair, the conflict shows several times...
    raised = [a for a in alerts if a.state is AlertState.RAISED]
    assert len(raised) == 1  # ...and is one alert: 1 alert per planted conflict
    (case,) = tracker.cases().items()
    assert case[0] == ("minister", "broadcaster")
    assert set(case[1]) == {s.counterparty_id for s in alerting}
    last = alerts[-1]
    assert last.case_id == "broadcaster"
    # every party that joined was announced: the last alert names them all
    assert {last.counterparty_id, *(p.id for p in last.related_parties)} == set(case[1])
    assert last.alert_id == alert_id("minister", "broadcaster", 0)


def test_the_case_id_is_stable_across_replays_and_orders(make):
    events = planted_conflict(make)
    _, _, first = replay(events)
    _, _, again = replay(events)
    assert [a.model_dump() for a in first] == [a.model_dump() for a in again]
    _, tracker, reordered = replay(list(reversed(events)))
    assert {a.alert_id for a in reordered if a.state is AlertState.RAISED} == {first[0].alert_id}
    assert len(tracker.open_alerts()) == 1


def test_direct_authority_over_a_party_is_a_conflict_of_its_own(make):
    """A pardon sought by the co-investor is a decision about him: his own case, beside the broadcaster's."""
    engine, tracker, alerts = replay([*planted_conflict(make), make("pardons", "minister", INVESTOR)])
    assert sorted(case for _, case in tracker.open_alerts()) == ["broadcaster", "investor"]


def test_the_case_resolves_when_its_last_pair_stops_alerting(make):
    engine, tracker, _ = replay(planted_conflict(make))
    alerts = tracker.observe(engine.apply(make("regulates", "regulator", BROADCASTER, op="retract")))
    assert [(a.state, a.case_id) for a in alerts] == [(AlertState.RESOLVED, "broadcaster")]
    assert tracker.open_alerts() == {}


def test_direct_authority_stays_its_own_case_among_more_authority_paths_than_are_shown(make):
    """The co-investor's pardon is a conflict of its own also when more bodies than paths are shown oversee the
    broadcaster he part-owns: the pardon used to drop out of his pair's shown paths, and with it his case, so his
    alert resolved while the pardon still held and his pair still alerted."""
    shown = ScoringConfig.load().paths.max_paths_shown
    bodies = [(f"body-{number}", "PublicBody", f"Body {number}", ("gov.national",)) for number in range(shown)]
    overseen = [event for body in bodies
                for event in (make("control", "minister", body), make("oversees", body, BROADCASTER))]
    engine, tracker, alerts = replay([*planted_conflict(make), make("pardons", "minister", INVESTOR,
                                                                    status="alleged"), *overseen])
    score = engine.score("minister", "investor")
    assert len(score.authority_paths) == shown and tracker.alerting(score.band)
    assert "Finance Minister -pardons[alleged]-> Co-Investor" in [p.text for p in score.authority_paths]
    assert case_of(score) == "investor"
    assert sorted(case for _, case in tracker.open_alerts()) == ["broadcaster", "investor"]
    assert not [a for a in alerts if a.state is AlertState.RESOLVED]


def test_a_co_owner_joining_or_leaving_the_conflict_is_announced(make):
    """The co-investor's 30% makes him a party to the broadcaster's conflict in the band it is already in: the
    alert is updated with him among the related parties, and updated again when his stake is withdrawn (it used to
    say nothing until the case's band changed)."""
    *before, investor_stake = planted_conflict(make)
    engine, tracker, alerts = replay(before)
    assert [(a.state, a.case_id) for a in alerts] == [(AlertState.RAISED, "broadcaster")]
    assert "investor" not in {p.id for p in alerts[0].related_parties}

    (joined,) = tracker.observe(engine.apply(investor_stake))
    assert (joined.state, joined.sequence, joined.case_id, joined.alert_id) == \
        (AlertState.UPDATED, 1, "broadcaster", alerts[0].alert_id)
    assert joined.band == joined.previous_band == alerts[0].band
    assert "investor" in {p.id for p in joined.related_parties}

    (left,) = tracker.observe(engine.apply(make("ownership", INVESTOR, BROADCASTER, percentage=30, op="retract",
                                                relation_id=investor_stake.relation_id)))
    assert (left.state, left.sequence) == (AlertState.UPDATED, 2)
    assert {p.id for p in left.related_parties} == {p.id for p in alerts[0].related_parties}


def test_a_pardon_moves_the_co_owner_to_a_case_of_his_own_and_back(make):
    """Sought and withdrawn, a pardon takes the co-investor's pair out of the broadcaster's case into his own and
    back: each move is announced in the case it leaves and in the case it joins."""
    engine, tracker, _ = replay(planted_conflict(make))
    pardon = make("pardons", "minister", INVESTOR)
    moved = tracker.observe(engine.apply(pardon))
    assert {(a.state, a.case_id) for a in moved} == {(AlertState.UPDATED, "broadcaster"),
                                                     (AlertState.RAISED, "investor")} and len(moved) == 2
    assert "investor" not in {p.id for a in moved if a.case_id == "broadcaster" for p in a.related_parties}
    back = tracker.observe(engine.apply(make("pardons", "minister", INVESTOR, op="retract",
                                             relation_id=pardon.relation_id)))
    assert {(a.state, a.case_id) for a in back} == {(AlertState.UPDATED, "broadcaster"),
                                                    (AlertState.RESOLVED, "investor")} and len(back) == 2
    assert "investor" in {p.id for a in back if a.case_id == "broadcaster" for p in a.related_parties}


def test_of_equal_scores_the_case_s_own_party_leads_the_alert(make):
    """The ministry awards a contract to the son's company; the son, its owner, scores the same through the same
    paths. The alert names the contractor, the party the authority lands on, whatever the son's id is (a review:
    with the son's id first in the alphabet, the alert read "Minister x Son", its tie the family relation)."""
    for son_id in ("ason", "zson"):
        son = (son_id, "Person", "Son", ())
        contractor = ("sonco", "Company", "Son's Company", ())
        engine, tracker, alerts = replay([make("control", "minister", "ministry"),
                                          make("awards_contract", "ministry", contractor, amount=5e8, currency="USD"),
                                          make("family", son, "minister"),
                                          make("ownership", son, contractor, percentage=100)])
        both = {s.counterparty_id: s.score for s in engine.scores() if tracker.alerting(s.band)}
        assert both[son_id] == both["sonco"]  # equal scores: only the tie-break decides
        raised = [a for a in alerts if a.state is AlertState.RAISED]
        assert len(raised) == 1 and alerts[-1].counterparty_id == "sonco", son_id
