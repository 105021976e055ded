"""The alert state machine: raised, escalated, downgraded, updated, resolved; deterministic ids; rebuildable by
replay."""

from __future__ import annotations

from schemas.outputs import AlertState, Band, ExplanationPath, PathEdge, PathKind, RiskScore
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


def landing_on(counterparty: str, value: float, band: Band, case: str = "firm") -> RiskScore:
    """A pair of actor "a" whose authority lands on `case` (a regulator's licence of it), as `alerts.case_of` reads
    the score's paths."""
    edge = PathEdge(relation_id=f"r-{case}", relation_type="regulates", source_id="regulator", source_name="Regulator",
                    target_id=case, target_name=case.title(), status="confirmed", weight=1.0, evidence=())
    path = ExplanationPath(kind=PathKind.AUTHORITY, text=f"Regulator -regulates-> {case}", strength=1.0, edges=(edge,))
    return RiskScore(actor_id="a", actor_name="Actor", counterparty_id=counterparty,
                     counterparty_name=counterparty.title(), score=value, band=band, rules=("COI-AUTH-COMMERCIAL",),
                     authority_paths=(path,), commercial_paths=(), graph_version=1)


def pair_change(old: RiskScore | None, new: RiskScore | None, version: int) -> ScoreChange:
    pair = old or new
    return ScoreChange("a", pair.counterparty_id, old, new, graph_version=version, trigger_event_id=f"ev-{version}",
                       input_offsets={"0": version})


def test_a_party_joining_leaving_or_taking_the_lead_in_the_same_band_updates_the_alert(config):
    """The owners of one firm are one case. Within one band, a new owner joining, another pair taking the lead and
    an owner leaving each reach the consumer as `updated`, with the parties as they now are; a change of scores
    alone within the band still emits nothing."""
    tracker = AlertTracker(config)
    firm, holding = landing_on("firm", 0.4, Band.HIGH), landing_on("holding", 0.45, Band.HIGH)
    (raised,) = tracker.observe(pair_change(None, firm, 1))
    assert (raised.state, raised.counterparty_id, raised.related_parties) == (AlertState.RAISED, "firm", ())

    (joined,) = tracker.observe(pair_change(None, holding, 2))
    assert (joined.state, joined.sequence, joined.band, joined.previous_band) == \
        (AlertState.UPDATED, 1, Band.HIGH, Band.HIGH)
    assert joined.alert_id == raised.alert_id and joined.case_id == "firm"
    assert (joined.counterparty_id, [p.id for p in joined.related_parties]) == ("holding", ["firm"])

    stronger = landing_on("firm", 0.5, Band.HIGH)
    (lead,) = tracker.observe(pair_change(firm, stronger, 3))  # the same parties; the firm's pair now leads
    assert (lead.state, lead.sequence, lead.counterparty_id) == (AlertState.UPDATED, 2, "firm")
    assert tracker.observe(pair_change(stronger, landing_on("firm", 0.55, Band.HIGH), 4)) == []  # scores alone

    (left,) = tracker.observe(pair_change(holding, None, 5))
    assert (left.state, left.sequence, left.counterparty_id, left.related_parties) == \
        (AlertState.UPDATED, 3, "firm", ())
    assert tracker.cases() == {("a", "firm"): ("firm",)}


def test_a_pair_moving_to_another_open_case_is_announced_in_both(config):
    """A pair whose authority comes to land on another party leaves one case and joins the other: the case it left
    is updated (or resolved, when it was the last), the case it joins is updated, not left silent until its band
    changes."""
    tracker = AlertTracker(config)
    tracker.observe([pair_change(None, landing_on("firm", 0.4, Band.HIGH), 1),
                     pair_change(None, landing_on("owner", 0.3, Band.HIGH), 1),
                     pair_change(None, landing_on("bank", 0.4, Band.HIGH, case="bank"), 1)])
    assert tracker.cases() == {("a", "bank"): ("bank",), ("a", "firm"): ("firm", "owner")}
    moved = tracker.observe(pair_change(landing_on("owner", 0.3, Band.HIGH),
                                        landing_on("owner", 0.3, Band.HIGH, case="bank"), 2))
    assert [(a.state, a.case_id, a.counterparty_id, [p.id for p in a.related_parties]) for a in moved] == [
        (AlertState.UPDATED, "bank", "bank", ["owner"]),
        (AlertState.UPDATED, "firm", "firm", []),
    ]
    gone = tracker.observe(pair_change(landing_on("firm", 0.4, Band.HIGH),
                                       landing_on("firm", 0.4, Band.HIGH, case="bank"), 3))
    assert [(a.state, a.case_id) for a in gone] == [(AlertState.UPDATED, "bank"), (AlertState.RESOLVED, "firm")]
    assert tracker.cases() == {("a", "bank"): ("bank", "firm", "owner")}
