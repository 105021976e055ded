"""The alert state machine: raised, escalated, downgraded, resolved; deterministic ids; rebuildable by replay."""

from __future__ import annotations

from schemas.outputs import AlertState, Band, RiskScore
from scoring import AlertTracker, ScoreChange, alert_id


def score(value: float, band: Band) -> RiskScore:
    return RiskScore(actor_id="a", actor_name="Actor", counterparty_id="c", counterparty_name="Counterparty",
                     score=value, band=band, rules=("COI-AUTH-COMMERCIAL",), authority_paths=(),
                     commercial_paths=(), graph_version=1)


def change(old, new, version=1):
    return ScoreChange("a", "c", old, new, graph_version=version, trigger_event_id=f"ev-{version}",
                       input_offsets={"0": version})


def journey():
    low, medium, high, medium2 = score(0.1, Band.LOW), score(0.2, Band.MEDIUM), score(0.4, Band.HIGH), \
        score(0.25, Band.MEDIUM)
    return [
        change(None, low, 1),  # below the alerting band: nothing
        change(low, medium, 2),  # raised
        change(medium, medium2, 3),  # same band: nothing
        change(medium2, high, 4),  # escalated
        change(high, medium, 5),  # downgraded
        change(medium, None, 6),  # resolved (the pair dropped out)
        change(None, high, 7),  # raised again: a new episode, a new id
    ]


def test_transitions_over_a_pairs_life(config):
    tracker = AlertTracker(config)
    alerts = tracker.observe(journey())
    assert [(a.state, a.sequence, a.previous_band, a.band) for a in alerts] == [
        (AlertState.RAISED, 0, Band.NONE, Band.MEDIUM),
        (AlertState.ESCALATED, 1, Band.MEDIUM, Band.HIGH),
        (AlertState.DOWNGRADED, 2, Band.HIGH, Band.MEDIUM),
        (AlertState.RESOLVED, 3, Band.MEDIUM, Band.NONE),
        (AlertState.RAISED, 0, Band.NONE, Band.HIGH),
    ]
    assert len({a.alert_id for a in alerts[:4]}) == 1
    assert alerts[0].alert_id == alert_id("a", "c", 0) and alerts[4].alert_id == alert_id("a", "c", 1)
    assert alerts[1].previous_score == 0.25  # the last score seen, even without a transition
    assert alerts[3].score == 0.0 and alerts[3].rules == ()
    assert (alerts[1].graph_version, alerts[1].trigger_event_id, alerts[1].input_offsets) == (4, "ev-4", {"0": 4})
    assert tracker.open_alerts() == {("a", "c"): alert_id("a", "c", 1)}


def test_nothing_changes_nothing(config):
    assert AlertTracker(config).observe([]) == []


def test_a_replay_rebuilds_the_same_alerts(config):
    first, second = AlertTracker(config), AlertTracker(config)
    assert first.observe(journey()) == second.observe(journey())


def test_the_alerting_band_is_configurable(config):
    alerts = AlertTracker(config, min_band="high").observe(journey())
    assert [a.state for a in alerts] == [AlertState.RAISED, AlertState.RESOLVED, AlertState.RAISED]


def test_alert_ids_are_stable_strings():
    assert alert_id("trump", "binance", 0) == alert_id("trump", "binance", 0)
    assert alert_id("trump", "binance", 0) != alert_id("trump", "binance", 1) != alert_id("binance", "trump", 1)
    assert alert_id("a", "b", 0).startswith("coi-") and len(alert_id("a", "b", 0)) == 36
