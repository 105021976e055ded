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
from scoring.caches import Kind
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



def comparable(result) -> str:
    """A cached result as text, whichever engine's records it holds (a sphere is a set: in order)."""
    return repr(sorted(result)) if isinstance(result, frozenset) else repr(result)


def holder(i: int) -> tuple:
    return (f"holder-{i:02d}", "Person", f"Small Holder {i}", ())


@pytest.fixture
def firms_under_a_widely_held_company(make):
    """Four regulated firms, each 30% the minister's son's and 60% a holding company's whose owners (six small
    holders) are past the guard of 5: every search up from a firm meets the holding company as a hub."""
    events = [make("control", "minister", "regulator"), make("family", "minister", "son")]
    for i in range(4):
        events += [make("regulates", "regulator", firm(i)), make("ownership", "son", firm(i), percentage=30),
                   make("ownership", "holdco", firm(i), percentage=60)]
    events += [make("ownership", holder(i), "holdco", percentage=1) for i in range(6)]
    engine = Engine(ScoringConfig.load(overrides={"limits": {"max_fanout": 5}}))
    engine.load(events)
    assert ("holdco", "holding", "in", 6) in engine.hubs()
    return engine, events


def test_a_hub_that_stays_one_recomputes_none_of_its_readers(firms_under_a_widely_held_company, make):
    """The searches that met a hub saw nothing of its edges: one more edge of a node that stays a hub changes
    nothing they computed, so none is recomputed for it (before, all were)."""
    engine, _ = firms_under_a_widely_held_company
    before = {(s.actor_id, s.counterparty_id): s.score for s in engine.scores()}
    assert len(before) >= 4

    assert engine.apply(make("ownership", holder(6), "holdco", percentage=1)) == []
    # nine searches met it (each firm's owners and sphere, the holding company's sphere), a visit or more each
    assert engine.stats()["last_visits"] < 9
    assert {(s.actor_id, s.counterparty_id): s.score for s in engine.scores()} == before
    assert incremental_state(engine) == full_state(engine)


def test_readers_of_a_hub_are_recomputed_when_it_stops_being_one(firms_under_a_widely_held_company, make):
    """Below the guard the holding company is expanded again, and what lies above it counts: the firms' groups
    and owners take in the minister's relative who owns it. The scores here are at their ceiling already, so the
    results the searches keep are compared with a fresh engine's."""
    engine, loaded = firms_under_a_widely_held_company
    events = [make("family", "minister", holder(0)), make("ownership", holder(0), "holdco", percentage=100)]
    for event in events:
        engine.apply(event)
    for i in range(1, 6):
        events.append(make("ownership", holder(i), "holdco", op="retract"))
        engine.apply(events[-1])
        if i == 1:
            assert engine.hub_changes == [HubChange("holdco", "holding", "in", 5, False)]
    assert "holder-00" in engine._caches.get(Kind.GROUP, firm(0)[0]).members
    fresh = Engine(engine.config)
    fresh.load([*loaded, *events])
    for kind in (Kind.GROUP, Kind.OWNERS, Kind.SPHERE):
        assert {node: comparable(result) for node, result in engine._caches.items(kind)} == \
            {node: comparable(result) for node, result in fresh._caches.items(kind)}, kind
    assert incremental_state(engine) == full_state(engine)



def agency_past_the_guard(make, already_an_actor: bool) -> tuple[Engine, list]:
    """The minister controls an agency, a company past the guard of 5 in the holding layer outwards (a control of
    the regulator of the bank his son owns, four more controls and a stake), so his authority stops at it."""
    agency = ("agency", "Company", "Agency", ())
    events = [make("control", "minister", agency), make("control", agency, "regulator"),
              make("regulates", "regulator", "bank"), make("family", "minister", "son"),
              make("ownership", "son", "bank", percentage=40),
              make("ownership", agency, ("stake", "Company", "Stake", ()), percentage=5)]
    events += [make("control", agency, (f"body-{i}", "Company", f"Body {i}", ())) for i in range(4)]
    if already_an_actor:  # and an office of his own, which makes him an actor whatever the agency does
        events += [make("control", "minister", ("mint", "PublicBody", "Mint", ())),
                   make("oversees", ("mint", "PublicBody", "Mint", ()), ("printer", "Company", "Printer", ()))]
    engine = Engine(ScoringConfig.load(overrides={"limits": {"max_fanout": 5}}))
    engine.load(events)
    assert ("agency", "holding", "out", 6) in engine.hubs()
    assert engine.score("minister", "bank") is None
    return engine, events


@pytest.mark.parametrize("already_an_actor", [False, True], ids=["discovered", "actor"])
def test_a_hub_restated_as_a_public_body_is_expanded_for_those_who_met_it(make, already_an_actor):
    """Whether a node is expanded past the guard depends on its schema too: a register restating the agency as
    a public body, in a fact that concerns no search of the minister's, lets his authority through. An actor's
    reach that met it as a hub is recomputed although it never read its edges; a person who was no actor is
    found again upstream of it (before, he was found only upstream of a changed office or control)."""
    engine, _ = agency_past_the_guard(make, already_an_actor)
    engine.apply(make("payment", ("supplier", "Company", "Supplier", ()), ("agency", "PublicBody", "Agency", ()),
                      amount=1000))
    assert engine.score("minister", "bank") is not None  # the state's apparatus is expanded whatever its number
    assert incremental_state(engine) == full_state(engine)


def test_a_hub_left_by_a_stake_lets_authority_through(make):
    """The agency goes below the guard when its stake (no control) is retracted: the minister, no actor while it
    was a hub, is found again upstream of it (before, only a changed office or control relation led there)."""
    engine, _ = agency_past_the_guard(make, already_an_actor=False)
    # the agency as the fixture states it (a company: no schema change scans anyone here)
    engine.apply(make("ownership", ("agency", "Company", "Agency", ()), ("stake", "Company", "Stake", ()),
                      op="retract"))
    assert engine.hubs() == []
    assert engine.score("minister", "bank") is not None
    assert incremental_state(engine) == full_state(engine)


def test_a_seat_in_a_body_restated_as_public_makes_an_actor(make):
    """A seat is public power only in a public body: when a register restates the body as one, in a fact that
    concerns no search of the member's, the member is found as an actor (before, he was not)."""
    council = ("council", "Organization", "Council", ())
    engine = Engine()
    engine.load([make("membership", "minister", council), make("regulates", council, "bank"),
                 make("family", "minister", "son"), make("ownership", "son", "bank", percentage=40)])
    assert engine.score("minister", "bank") is None
    engine.apply(make("payment", ("supplier", "Company", "Supplier", ()), ("council", "PublicBody", "Council", ()),
                      amount=1000))
    assert engine.score("minister", "bank") is not None
    assert incremental_state(engine) == full_state(engine)


def test_a_hub_that_enters_the_guard_leaves_the_reach_budget_to_other_ways(make):
    """A reach walks at most `authority.max_paths * 16` relays (16 here). A company past the guard is no longer
    expanded, which leaves that budget to the minister's other ways: one reaches the regulator of the bank he owns.
    He was no actor, and the stakes that made the company a hub are no office or control: he is found upstream of
    the hub that entered (a review's case; before, only a full rebuild found the conflict)."""
    config = ScoringConfig.load(overrides={"limits": {"max_fanout": 3}, "authority": {"max_paths": 1}})
    corp, body = ("a-corp", "Company", "A Corp", ()), ("pb", "PublicBody", "PB", ())
    regulator = ("z-body", "PublicBody", "Z", ())
    events = [make("control", "minister", corp), make("control", corp, body)]
    events += [make("control", body, (f"q{i:02d}", "PublicBody", f"Q{i}", ())) for i in range(16)]  # the budget
    events += [make("control", "minister", regulator), make("regulates", regulator, "bank"),
               make("ownership", "minister", "bank", percentage=40)]
    engine = Engine(config)
    engine.load(events)
    assert engine.score("minister", "bank") is None
    for i in range(3):
        engine.apply(make("ownership", corp, (f"w{i}", "Company", f"W{i}", ()), percentage=10))
    assert ("a-corp", "holding", "out", 4) in engine.hubs()
    assert engine.score("minister", "bank") is not None
    assert incremental_state(engine) == full_state(engine)


def test_a_new_name_scans_no_one_upstream(make):
    """A name decides nothing a reach depends on: renaming a company with 300 directors (none an actor) walks no
    reach of theirs (a first version of the scan above walked all 300)."""
    big = ("bigco", "Company", "Big Co", ())
    events = [make("directorship", (f"d{i:03d}", "Person", f"D{i}", ()), big) for i in range(300)]
    events += [make("control", (f"d{i:03d}", "Person", f"D{i}", ()), (f"own{i:03d}", "Company", f"O{i}", ()))
               for i in range(300)]
    engine = Engine()
    engine.load(events)
    engine.apply(make("payment", ("payer", "Company", "Payer", ()), ("bigco", "Company", "Big Co renamed", ()),
                      amount=1000))
    assert engine.graph.name("bigco") == "Big Co renamed"
    assert engine.stats()["last_visits"] < 300
    # topics are another matter: they set an office's tier
    engine.apply(make("payment", ("payer", "Company", "Payer", ()),
                      ("bigco", "Company", "Big Co renamed", ("gov.national",)), amount=1000))
    assert engine.stats()["last_visits"] >= 300
