"""A reference that states no topics says nothing of them (`graph.topics_ranking`): an entity's topics are those of
the newest reference stating any. Before, they were the newest reference's, whatever it said: a contract notice or
a second register naming a mayor's office without its `gov.muni` took the tier's discount away (0.6 -> 1.0), and
one naming a minister without `role.pep.natl` shortened how long his former office counts, in whichever order the
events arrived (an analyst's finding: an office's tier came from whichever event named it last)."""

from __future__ import annotations

import datetime as dt
import itertools
import json

import pytest

from scoring import AlertTracker, Engine
from scoring.portable import PortableFormatError, export_state, import_state
from scoring.resolution import ResolvingEngine

from .conftest import content, full_state, incremental_state

MAYOR = ("mayor", "Person", "The Mayor", ("role.pep",))
OFFICE = ("mayor-office", "Position", "Mayor of Smalltown", ("gov.muni",))
OFFICE_UNCLASSIFIED = ("mayor-office", "Position", "Mayor of Smalltown", ())
TOWN = ("town", "PublicBody", "Smalltown Council", ("gov.muni",))
SON = ("son", "Person", "The Son", ())
BUILDER = ("builder", "Company", "Son's Builders Ltd", ())
DEPUTY = ("deputy", "Person", "The Deputy Mayor", ())
AS_OF = dt.date(2025, 1, 1)


def case(make, steering=OFFICE) -> list:
    """The mayor steers the council, which awards a contract to the company his son owns."""
    return [make("occupancy", MAYOR, OFFICE, start="2020-01-01"), make("control", steering, TOWN),
            make("family", SON, MAYOR, relationship="son"), make("ownership", SON, BUILDER, percentage=100),
            make("awards_contract", TOWN, BUILDER, start="2024-01-01")]


def unclassified(make, office=OFFICE_UNCLASSIFIED):
    """A register of officeholders naming the office without classifying it (its own deputy's seat)."""
    return make("occupancy", DEPUTY, office, start="2021-01-01", relation_id="deputy-seat")


def engine_of(kind: str, events) -> Engine | ResolvingEngine:
    engine = ResolvingEngine(as_of=AS_OF) if kind == "layer" else Engine(as_of=AS_OF)
    engine.apply_many(events)
    return engine


def graph_of(engine):
    return engine.engine.graph if isinstance(engine, ResolvingEngine) else engine.graph


@pytest.mark.parametrize("kind", ["engine", "layer"])
def test_a_reference_without_topics_leaves_an_offices_tier(make, kind):
    events = case(make)
    tiered = engine_of(kind, events).score("mayor", "builder").score
    assert tiered == pytest.approx(0.81 * 0.6, abs=0.01)  # a municipal office: gov.muni's 0.6
    later = engine_of(kind, [*events, unclassified(make)])
    assert graph_of(later).topics("mayor-office") == {"gov.muni"}
    assert later.score("mayor", "builder").score == tiered
    assert incremental_state(later.engine if kind == "layer" else later) == full_state(
        later.engine if kind == "layer" else later)


@pytest.mark.parametrize("kind", ["engine", "layer"])
def test_the_topics_do_not_depend_on_the_order_the_references_arrive_in(factory, kind):
    """The unclassified reference is the newest: applied first, the older register's topics still show."""
    events = case(factory.make)
    events.append(unclassified(factory.make))
    outcomes = set()
    for order in itertools.islice(itertools.permutations(events), 0, None, 97):
        engine = engine_of(kind, order)
        outcomes.add((tuple(sorted(graph_of(engine).topics("mayor-office"))),
                      engine.score("mayor", "builder").score))
    ((topics, value),) = outcomes  # one outcome in every order
    assert topics == ("gov.muni",) and value == pytest.approx(0.81 * 0.6, abs=0.01)


@pytest.mark.parametrize("kind", ["engine", "layer"])
def test_a_newer_reference_stating_topics_replaces_them(make, kind):
    """Topics are not pooled: the office reclassified by a newer register is what it says, older or not applied
    first."""
    events = case(make)
    national = ("mayor-office", "Position", "Mayor of Smalltown", ("gov.national",))
    reclassified = unclassified(make, national)
    for order in ([*events, reclassified], [reclassified, *events]):
        engine = engine_of(kind, order)
        assert graph_of(engine).topics("mayor-office") == {"gov.national"}
        assert engine.score("mayor", "builder").score == pytest.approx(0.81)


@pytest.mark.parametrize("kind", ["engine", "layer"])
def test_the_newest_reference_still_names_the_entity(make, kind):
    renamed = ("mayor-office", "Position", "Mayor of Smalltown-on-Sea", ())
    engine = engine_of(kind, [*case(make), unclassified(make, renamed)])
    graph = graph_of(engine)
    assert graph.name("mayor-office") == "Mayor of Smalltown-on-Sea"
    assert graph.topics("mayor-office") == {"gov.muni"}
    (path,) = engine.score("mayor", "builder").authority_paths
    assert "Mayor of Smalltown-on-Sea" in path.text


def test_a_ministers_horizon_keeps_his_national_topics(make):
    """A payment register naming a former minister without his `role.pep.natl`: his office, left in 2019, still
    counts over the national horizon (20 years), not the default one."""
    minister = ("minister", "Person", "The Minister", ("role.pep", "role.pep.natl"))
    office = ("works-minister", "Position", "Minister of Works", ())
    ministry = ("ministry", "PublicBody", "Ministry of Works", ())
    events = [make("occupancy", minister, office, start="2015-01-01", end="2019-01-01"),
              make("control", office, ministry), make("family", SON, minister, relationship="son"),
              make("ownership", SON, BUILDER, percentage=100),
              make("awards_contract", ministry, BUILDER, start="2018-06-01")]
    before = Engine(as_of=dt.date(2026, 1, 1))
    before.apply_many(events)
    bare = ("minister", "Person", "The Minister", ())
    after = Engine(as_of=dt.date(2026, 1, 1))
    after.apply_many([*events, make("payment", BUILDER, bare, start="2024-03-01", amount=50_000, currency="USD")])
    assert after.graph.topics("minister") == {"role.pep", "role.pep.natl"}
    held = before.score("minister", "builder")
    assert held.rules == ("COI-REVOLVING-DOOR",)
    # (before, the payment's reference took his topics away, the default horizon's five years had run out since
    # 2019, and the pair was not scored at all)
    assert after.score("minister", "builder").score == held.score


def _alerting(events) -> ResolvingEngine:
    """A layer fed `events` one by one, with the alerts they raised (`_exported` writes them)."""
    layer, tracker = ResolvingEngine(), AlertTracker()  # (as an import does: scored as of its clock)
    for event in events:
        tracker.observe(layer.apply(event))
    layer.tracker = tracker
    return layer


def _exported(engine: ResolvingEngine) -> list[dict]:
    return [json.loads(json.dumps(record)) for record in export_state(engine, engine.tracker)]


def _superseded_case(make) -> tuple[ResolvingEngine, list]:
    """Only a superseded version classified the office: the current events alone name it without topics."""
    events = case(make, steering=OFFICE_UNCLASSIFIED)
    events.append(unclassified(make))
    # the office's own seat restated by a newer version that no longer classifies it
    events.append(make("occupancy", MAYOR, OFFICE_UNCLASSIFIED, start="2020-01-01",
                       relation_id=events[0].relation_id))
    return _alerting(events), events


def test_an_export_carries_topics_only_a_superseded_version_stated(make):
    live, _ = _superseded_case(make)
    assert live.engine.graph.topics("mayor-office") == {"gov.muni"}
    records = _exported(live)
    (record,) = [r for r in records if r["record"] == "entity" and r["entity_id"] == "mayor-office"]
    assert record["ref"]["topics"] == ["gov.muni"] and record["topics_event_id"] == "ev-00001"
    imported, _, _ = import_state(records)
    assert imported.engine.graph.topics("mayor-office") == {"gov.muni"}
    assert [content(s) for s in imported.scores()] == [content(s) for s in live.scores()] != []
    # and both go on alike: a reference between the two versions, stating other topics, is older than the
    # topics held and changes nothing; a newer one does
    for later, topics in (("2025-01-01T00:00:30Z", {"gov.muni"}), ("2025-02-01T00:00:00Z", {"gov.state"})):
        state = ("mayor-office", "Position", "Mayor of Smalltown", ("gov.state",))
        event = make("occupancy", ("clerk", "Person", "Clerk", ()), state, observed_at=later,
                     relation_id=f"clerk-{later}")
        for engine in (live, imported):
            engine.apply(event)
            assert engine.engine.graph.topics("mayor-office") == topics


def _held_case(make) -> tuple[ResolvingEngine, list]:
    """The file holds both: the newest reference (the deputy's seat, no topics) and the newest stating topics (the
    council's control by the office)."""
    events = case(make)
    events.append(unclassified(make))
    return _alerting(events), events


def test_a_record_is_written_where_the_topics_come_from_another_event_of_the_file(make):
    live, events = _held_case(make)
    records = _exported(live)
    (record,) = [r for r in records if r["record"] == "entity" and r["entity_id"] == "mayor-office"]
    assert (record["event_id"], record["topics_event_id"]) == (events[-1].event_id, events[1].event_id)
    imported, _, _ = import_state(records)
    assert imported.engine.graph.topics("mayor-office") == {"gov.muni"}
    assert [content(s) for s in imported.scores()] == [content(s) for s in live.scores()] != []


@pytest.mark.parametrize("kind", ["engine", "layer"])
def test_a_newer_reference_naming_the_entity_by_its_id_gives_only_its_topics(make, kind):
    """Wikidata's importer names an item it has no label for by its QID: the name stays the register's, the newer
    topics show, and an export re-imports both."""
    by_id = ("mayor-office", "Position", "mayor-office", ("gov.state",))
    events = [*case(make), unclassified(make, by_id)]
    engine = engine_of(kind, events)
    assert graph_of(engine).name("mayor-office") == "Mayor of Smalltown"
    assert graph_of(engine).topics("mayor-office") == {"gov.state"}
    if kind == "layer":
        live = _alerting(events)
        records = _exported(live)
        (record,) = [r for r in records if r["record"] == "entity" and r["entity_id"] == "mayor-office"]
        # dated by the council's control, which states gov.muni: older than the topics shown
        assert (record["event_id"], record["topics_event_id"]) == (events[1].event_id, events[-1].event_id)
        imported, _, _ = import_state(records)
        assert imported.engine.graph.topics("mayor-office") == {"gov.state"}
        assert imported.engine.graph.name("mayor-office") == "Mayor of Smalltown"


def test_a_version_6_file_has_no_topics_version(make):
    live, _ = _superseded_case(make)
    records = _exported(live)
    with pytest.raises(PortableFormatError, match="never wrote before version 7"):
        import_state([dict(records[0], format_version=6), *records[1:]])


def _edited(records: list[dict], edit) -> list[dict]:
    edited = json.loads(json.dumps(records))
    edit(next(r for r in edited if r["record"] == "entity" and r["entity_id"] == "mayor-office"), edited)
    return edited


def _restated_with_topics(record, records):
    """The event the record is dated by now states topics of the id."""
    for line in records:
        if line["record"] == "event" and line["event"]["event_id"] == record["event_id"]:
            line["event"]["target"]["topics"] = ["gov.state"]


# hand edits of a record's topics version, each a state live never reaches: the message each must give
TOPICS_EDITS = {
    "one field alone": (lambda r, _: r.pop("topics_observed_at"), "topics_event_id alone"),
    "on a reference without topics": (lambda r, _: r["ref"].update(topics=[]), "a reference without topics"),
    "on a stand-in": (lambda r, _: r.update(stand_in=True), "a topics version on a stand-in"),
    "dated by its own version": (lambda r, _: r.update(topics_observed_at=r["observed_at"],
                                                       topics_event_id=r["event_id"]), "dated by its own version"),
    "topics the event they are dated by does not state": (lambda r, _: r["ref"].update(topics=["gov.state"]),
                                                          "differ from what the event"),
    "not the version its event has": (lambda r, _: r.update(topics_observed_at="2024-01-01T00:00:00+00:00"),
                                      "another version"),
    "dated by an event stating topics": (_restated_with_topics, "another version"),
}


@pytest.mark.parametrize("edit", TOPICS_EDITS, ids=list(TOPICS_EDITS))
def test_a_hand_edited_topics_version_is_refused(make, edit):
    live, _ = _held_case(make)
    records = _exported(live)
    import_state(records)  # as written: accepted
    change, message = TOPICS_EDITS[edit]
    with pytest.raises(PortableFormatError, match=message):
        import_state(_edited(records, change))
