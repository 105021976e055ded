"""Hubs cannot hide conflicts (issue #11, item 6).

The fan-out guard (`limits.max_fanout`) stops the searches expanding a node with too many relations in one layer
and direction. One extra holding reported for a relative used to make him such a hub, so every exposure set lost
his companies and all their alerts resolved: anyone who could get one more stake published could switch off
detection for a whole family. A person's own holdings, offices and family are now expanded whatever their number,
and a node crossing the guard is reported (`Engine.hub_changes`, `Engine.hubs`, `stats()["hub_nodes"]`).
"""

from __future__ import annotations

import pytest

from schemas.outputs import AlertState
from scoring import AlertTracker, Engine, ScoringConfig
from scoring.engine import HubChange

from .conftest import full_state, incremental_state

STAKES = 500  # limits.max_fanout: one more and the relative is past the guard
ALERTS = STAKES  # one per firm; the son's own pair (the firms' owner) is a related party of one of them


def firm(i: int) -> tuple:
    return (f"firm-{i:03d}", "Company", f"Regulated Firm {i}", ())


@pytest.fixture
def family_with_500_stakes():
    """The minister controls the regulator; the regulator regulates 500 firms; the minister's son holds 30% of
    each: 500 self-dealing conflicts, all alerting. (Built for each test: one that changes it must not decide what
    the next one starts from, as when the son was a hub only if the test before had run.)"""
    from .conftest import EventFactory

    make = EventFactory().make
    engine = Engine()
    tracker = AlertTracker(engine.config)
    events = [make("control", "minister", "regulator"), make("family", "minister", "son")]
    for i in range(STAKES):
        events.append(make("regulates", "regulator", firm(i)))
        events.append(make("ownership", "son", firm(i), percentage=30))
    alerts = tracker.observe(engine.load(events))
    return engine, tracker, make, alerts


def test_every_stake_is_a_conflict_before(family_with_500_stakes):
    engine, tracker, _, alerts = family_with_500_stakes
    # each firm; the son himself scores too (the regulator's decisions on his firms are decisions on his fortune),
    # as a related party of the firm case his authority lands on (scoring.alerts.case_of), not a 501st alert
    assert sorted(a.case_id for a in alerts) == [firm(i)[0] for i in range(STAKES)]
    (joint,) = [a for a in alerts if a.related_parties]
    assert sorted([joint.counterparty_id, *(p.id for p in joint.related_parties)]) == [joint.case_id, "son"]
    assert engine.score("minister", "son") is not None
    assert {a.state for a in alerts} == {AlertState.RAISED}
    assert len(tracker.open_alerts()) == ALERTS
    assert engine.hubs() == []


def test_one_more_stake_does_not_resolve_them(family_with_500_stakes):
    engine, tracker, make, _ = family_with_500_stakes
    before = {(s.actor_id, s.counterparty_id): s.score for s in engine.scores()}
    changes = engine.apply(make("ownership", "son", ("corner-shop", "Company", "Corner Shop", ()), percentage=30))
    alerts = tracker.observe(changes)

    assert [a for a in alerts if a.state is AlertState.RESOLVED] == []
    assert len(tracker.open_alerts()) == ALERTS
    assert {(s.actor_id, s.counterparty_id): s.score for s in engine.scores()} == before
    # ...and the son crossing the guard is reported, not silent
    assert engine.hub_changes == [HubChange("son", "holding", "out", STAKES + 1, True)]
    assert engine.hubs() == [("son", "holding", "out", STAKES + 1)]
    assert engine.stats()["hub_nodes"] == 1
    assert incremental_state(engine) == full_state(engine)


def test_a_further_regulated_stake_of_the_hub_still_alerts(family_with_500_stakes):
    engine, tracker, make, _ = family_with_500_stakes
    engine.apply(make("ownership", "son", ("corner-shop", "Company", "Corner Shop", ()), percentage=30))
    assert engine.hubs() == [("son", "holding", "out", STAKES + 1)]
    engine.apply(make("regulates", "regulator", firm(999)))
    alerts = tracker.observe(engine.apply(make("ownership", "son", firm(999), percentage=30)))
    assert [(a.state, a.counterparty_id) for a in alerts] == [(AlertState.RAISED, "firm-999")]
    assert engine.hub_changes == []  # already a hub: nothing new to report
    assert incremental_state(engine) == full_state(engine)


def test_leaving_the_hub_state_is_reported(make):
    config = ScoringConfig.load(overrides={"limits": {"max_fanout": 2}})
    engine = Engine(config)
    engine.apply_many([make("control", "minister", "regulator"), make("family", "minister", "son")])
    for i in range(3):
        engine.apply(make("regulates", "regulator", firm(i)))
        engine.apply(make("ownership", "son", firm(i), percentage=30))
    assert engine.hubs() == [("regulator", "authority", "out", 3), ("son", "holding", "out", 3)]
    assert engine.stats()["hubs_entered"] == 2
    # the son's three stakes are all followed although he is a hub (and he is a counterparty as their owner)
    assert sorted(s.counterparty_id for s in engine.scores()) == [firm(i)[0] for i in range(3)] + ["son"]
    engine.apply(make("ownership", "son", firm(2), op="retract"))
    assert engine.hub_changes == [HubChange("son", "holding", "out", 2, False)]
    assert engine.hubs() == [("regulator", "authority", "out", 3)]
    assert incremental_state(engine) == full_state(engine)


def test_an_actor_with_many_holdings_keeps_his_office(make):
    """The actor's own holding-layer relations (offices and stakes) share one adjacency list: a minister given
    more stakes than the guard must not lose the office through which he holds authority."""
    engine = Engine(ScoringConfig.load(overrides={"limits": {"max_fanout": 3}}))
    engine.apply_many([make("control", "minister", "regulator"), make("regulates", "regulator", "bank"),
                       make("ownership", "minister", "bank", percentage=40)])
    assert engine.score("minister", "bank") is not None
    for i in range(4):
        engine.apply(make("ownership", "minister", firm(i), percentage=1))
    assert ("minister", "holding", "out", 6) in engine.hubs()
    assert engine.score("minister", "bank") is not None
    assert incremental_state(engine) == full_state(engine)


def test_family_beyond_the_guard_is_still_family(make):
    engine = Engine(ScoringConfig.load(overrides={"limits": {"max_fanout": 3}}))
    engine.apply_many([make("control", "minister", "regulator"), make("regulates", "regulator", "bank"),
                       make("family", "minister", "son"), make("ownership", "son", "bank", percentage=40)])
    for i in range(4):
        engine.apply(make("associate", "minister", (f"friend-{i}", "Person", f"Friend {i}", ())))
    assert ("minister", "closeness", "out", 5) in engine.hubs()
    assert engine.score("minister", "bank") is not None
    assert incremental_state(engine) == full_state(engine)


def test_a_ministry_with_one_body_too_many_keeps_its_regulator(make):
    """The apparatus variant of the trick (issue #11 fault replay): authority runs minister -> ministry -> regulator;
    one more body reported under the ministry made it a hub in the holding layer, cutting the minister off from the
    regulator and resolving every alert at once. Public bodies are expanded outwards whatever their number."""
    ministry = ("ministry", "PublicBody", "Ministry", ())
    engine = Engine(ScoringConfig.load(overrides={"limits": {"max_fanout": 3}}))
    tracker = AlertTracker(engine.config)
    events = [make("control", "minister", ministry), make("control", ministry, "regulator"),
              make("family", "minister", "son")]
    for i in range(3):
        events += [make("regulates", "regulator", firm(i)), make("ownership", "son", firm(i), percentage=30)]
    events += [make("control", ministry, (f"body-{i}", "PublicBody", f"Body {i}", ())) for i in range(2)]
    tracker.observe(engine.load(events))
    assert len(tracker.open_alerts()) == 3

    alerts = tracker.observe(engine.apply(make("control", ministry, ("body-x", "PublicBody", "Body X", ()))))

    assert [a for a in alerts if a.state is AlertState.RESOLVED] == []
    assert len(tracker.open_alerts()) == 3
    assert engine.hub_changes == [HubChange("ministry", "holding", "out", 4, True)]  # still reported
    assert incremental_state(engine) == full_state(engine)
