"""The temporal graph: idempotent, order-independent versions, tombstones, entity attributes, as-of queries."""

from __future__ import annotations

import datetime as dt
import itertools
import pickle
import random
import sys

from scoring.graph import LabelledRelation, OneNeighbour, Relation, TemporalGraph, compact_offset, offset_text, records
from scoring.semantics import OUT, Layer

T0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def snapshot(graph: TemporalGraph) -> dict:
    return {
        "relations": {r.relation_id: (r.source, r.target, r.type, r.status, r.event_id)
                      for r in sorted(graph.relations(), key=lambda r: r.relation_id)},
        "versions": {rid: graph.version_of(rid) for rid in ("r1", "r2")},
        "entities": {e: (graph.name(e), graph.schema(e), graph.topics(e)) for e in ("pm", "holdco", "shell")},
        "events": graph.event_count,
    }


def test_applying_the_same_event_twice_changes_nothing(make):
    graph = TemporalGraph()
    event = make("ownership", "pm", "holdco", percentage=60)
    assert graph.apply(event) is not None
    before = snapshot(graph)
    assert graph.apply(event) is None
    assert snapshot(graph) == before
    assert graph.event_count == 1


def test_an_older_version_never_overwrites_a_newer_one(make):
    old = make("ownership", "pm", "holdco", relation_id="r1", percentage=10, observed_at=at(1))
    new = make("ownership", "pm", "holdco", relation_id="r1", percentage=60, observed_at=at(2))
    for order in ((old, new), (new, old)):
        graph = TemporalGraph()
        for event in order:
            graph.apply(event)
        assert graph.relation("r1").stake == 0.6
        assert graph.event_count == 2


def test_same_observed_at_is_ordered_by_event_id(make):
    a = make("ownership", "pm", "holdco", relation_id="r1", percentage=10, observed_at=at(1), event_id="a")
    b = make("ownership", "pm", "holdco", relation_id="r1", percentage=30, observed_at=at(1), event_id="b")
    for order in ((a, b), (b, a)):
        graph = TemporalGraph()
        for event in order:
            graph.apply(event)
        assert graph.relation("r1").event_id == "b"


def test_a_late_older_upsert_cannot_resurrect_a_retracted_relation(make):
    upsert = make("ownership", "pm", "holdco", relation_id="r1", observed_at=at(1))
    retract = make("ownership", "pm", "holdco", relation_id="r1", op="retract", observed_at=at(2))
    for order in itertools.permutations((upsert, retract)):
        graph = TemporalGraph()
        for event in order:
            graph.apply(event)
        assert graph.relation("r1") is None
        assert graph.version_of("r1") == (at(2), retract.event_id)
        assert graph.adjacency("pm", Layer.HOLDING, OUT) == {}
    # ...but a newer upsert does bring it back
    graph.apply(make("ownership", "pm", "holdco", relation_id="r1", observed_at=at(3)))
    assert graph.relation("r1") is not None


def test_every_order_of_versions_gives_the_same_graph(make):
    events = [
        make("ownership", "pm", "holdco", relation_id="r1", percentage=10, observed_at=at(1)),
        make("ownership", "pm", "holdco", relation_id="r1", op="retract", observed_at=at(3)),
        make("ownership", "pm", "shell", relation_id="r1", percentage=40, observed_at=at(2)),
        make("control", "holdco", "shell", relation_id="r2", observed_at=at(2)),
        make("control", "holdco", "shell", relation_id="r2", status="denied", observed_at=at(5)),
        make("ownership", ("pm", "Person", "P.M. (renamed)", ("role.pep",)), "holdco", relation_id="r3",
             observed_at=at(4)),
    ]
    snapshots = set()
    for order in itertools.permutations(events):
        graph = TemporalGraph()
        for event in order:
            graph.apply(event)
        snapshots.add(repr(snapshot(graph)))
    assert len(snapshots) == 1
    only = snapshot(graph)
    assert "r1" not in only["relations"]
    assert only["relations"]["r2"][3].value == "denied"
    assert only["entities"]["pm"] == ("P.M. (renamed)", "Person", frozenset({"role.pep"}))


def test_a_new_version_may_move_the_relation(make):
    graph = TemporalGraph()
    graph.apply(make("ownership", "pm", "holdco", relation_id="r1", observed_at=at(1)))
    graph.apply(make("ownership", "pm", "shell", relation_id="r1", observed_at=at(2)))
    assert list(graph.adjacency("pm", Layer.HOLDING, OUT)) == ["shell"]
    assert graph.node_count == 2  # holdco has no relation left


def test_entity_attributes_follow_the_newest_event_mentioning_them(make):
    graph = TemporalGraph()
    newer = make("family", ("son", "Person", "Son (new name)", ("role.rca",)), "pm", observed_at=at(5))
    older = make("associate", ("son", "Person", "Son (old name)", ()), "friend", observed_at=at(1))
    for event in (newer, older):
        change = graph.apply(event)
    assert graph.name("son") == "Son (new name)"
    assert graph.topics("son") == frozenset({"role.rca"})
    assert "son" not in change.entities  # the older event changed nothing about the son


def test_validity_is_filtered_at_query_time(make):
    graph = TemporalGraph()
    graph.apply(make("occupancy", "pm", "pm-office", start="2020-01-01", end="2022-12-31"))
    graph.apply(make("control", "pm", "ministry", start="2023-06-01"))
    graph.apply(make("ownership", "pm", "holdco"))
    def valid(day):
        return [r.relation_id for r in graph.relations_at(dt.date.fromisoformat(day))]
    assert valid("2019-06-01") == ["pm-ownership-holdco"]
    assert valid("2021-06-01") == ["pm-occupancy-pm-office", "pm-ownership-holdco"]
    assert valid("2024-01-01") == ["pm-control-ministry", "pm-ownership-holdco"]


def test_clock_is_the_latest_observed_at(make):
    graph = TemporalGraph()
    graph.apply(make("ownership", "pm", "holdco", observed_at=at(10)))
    graph.apply(make("ownership", "pm", "shell", observed_at=at(3)))
    assert graph.clock == at(10)


def test_evidence_strings_are_shared_between_relations(make):
    graph = TemporalGraph()
    graph.apply(make("ownership", "pm", "holdco"))
    graph.apply(make("ownership", "pm", "shell"))
    first, second = graph.relations()
    assert first.citation is second.citation


def test_adjacency_is_read_in_neighbour_order_whatever_the_insertion_order(make):
    graph = TemporalGraph()
    targets = ["shell", "bank", "vendor", "holdco", "builder", "exchange"]
    for minutes, target in enumerate(targets):
        graph.apply(make("ownership", "pm", target, observed_at=at(minutes)))
    assert list(graph.sorted_adjacency("pm", Layer.HOLDING, OUT)) == sorted(targets)
    graph.apply(make("ownership", "pm", "bank", op="retract", observed_at=at(20)))
    graph.apply(make("ownership", "pm", "bank-sub", observed_at=at(21)))
    # a second fact on the same edge (another type: a second ownership statement would be the same fact)
    graph.apply(make("control", "pm", "vendor", relation_id="second-vendor-stake", observed_at=at(22)))
    expected = sorted([*targets, "bank-sub"])
    expected.remove("bank")
    assert list(graph.sorted_adjacency("pm", Layer.HOLDING, OUT)) == expected
    assert [r.relation_id for r in graph.between("pm", "vendor", Layer.HOLDING)] == sorted(
        ["pm-ownership-vendor", "second-vendor-stake"])
    for minutes, target in enumerate(targets):
        graph.apply(make("ownership", "pm", target, op="retract", observed_at=at(30 + minutes)))
    assert list(graph.sorted_adjacency("pm", Layer.HOLDING, OUT)) == ["bank-sub", "vendor"]
    assert sorted(graph.layer_graph(Layer.HOLDING).edges) == [("pm", "bank-sub"), ("pm", "vendor")]


def adjacency_of(graph: TemporalGraph) -> dict:
    return {(layer, direction): {node: {neighbour: [(rec.relation_id, rec.event_id) for rec in records(entry)]
                                        for neighbour, entry in graph.sorted_adjacency(node, layer, direction).items()}
                                 for node in sorted(graph.layer_graph(layer)._node)}
            for layer in Layer for direction in (0, 1)}


def test_a_direction_without_relations_shares_one_empty_adjacency_until_it_gets_one(make):
    graph = TemporalGraph()
    graph.apply(make("ownership", "pm", "holdco", observed_at=at(1)))
    assert graph.adjacency("pm", Layer.HOLDING, 1) is graph.adjacency("holdco", Layer.HOLDING, 0)
    graph.apply(make("ownership", "holdco", "shell", observed_at=at(2)))  # holdco now also holds
    assert list(graph.adjacency("holdco", Layer.HOLDING, 0)) == ["shell"]
    assert graph.adjacency("pm", Layer.HOLDING, 1) == {} and graph.adjacency("shell", Layer.HOLDING, 0) == {}
    graph.apply(make("ownership", "holdco", "shell", op="retract", observed_at=at(3)))
    assert graph.adjacency("holdco", Layer.HOLDING, 0) is graph.adjacency("pm", Layer.HOLDING, 1)
    assert graph.adjacency("holdco", Layer.HOLDING, 0) == {}


def test_an_adjacency_of_one_neighbour_reads_as_a_dict_of_one_and_changes_form_with_its_neighbours(make):
    """Random upserts and retractions among a few entities: every adjacency reads as the dict the live relations
    make (in neighbour order), held as a `OneNeighbour` exactly when it has one neighbour, also in a pickled copy."""
    rng = random.Random(5)
    ends = [("pm", "holdco"), ("pm", "shell"), ("pm", "bank"), ("son", "holdco"), ("holdco", "shell"),
            ("shell", "holdco"), ("bank", "holdco"), ("pm", "vendor")]
    graph = TemporalGraph()
    forms: set[type] = set()
    for minutes in range(300):
        source, target = rng.choice(ends)
        kind = rng.choice(["ownership", "control"])
        graph.apply(make(kind, source, target, op=rng.choice(["upsert", "upsert", "retract"]), observed_at=at(minutes)))
        if minutes % 30 == 29:
            graph = pickle.loads(pickle.dumps(graph))
        expected: dict = {}
        for rec in graph.relations():
            expected.setdefault((rec.source, 0), {}).setdefault(rec.target, []).append(rec.relation_id)
            expected.setdefault((rec.target, 1), {}).setdefault(rec.source, []).append(rec.relation_id)
        for node in ("pm", "son", "holdco", "shell", "bank", "vendor"):
            for direction in (0, 1):
                held = graph.sorted_adjacency(node, Layer.HOLDING, direction)
                want = {neighbour: sorted(ids) for neighbour, ids in sorted(expected.get((node, direction), {}).items())}
                assert {n: [r.relation_id for r in records(e)] for n, e in held.items()} == want
                assert list(held) == list(want) and len(held) == len(want) and bool(held) == bool(want)
                assert (type(held) is OneNeighbour) == (len(want) == 1)
                forms.add(type(held))
                for neighbour in want:
                    assert neighbour in held and held[neighbour] is held.get(neighbour) is not None
                    assert held.keys() >= {neighbour} and not held.keys().isdisjoint({neighbour})
                assert held.get("nobody") is None and "nobody" not in held
    assert forms == {OneNeighbour, dict}  # both forms, and the way between them, were exercised


def test_a_copied_graph_goes_on_like_the_original(make):
    # a snapshot pickles the graph: the shared empty adjacency must stay shared, and never be written, in the copy
    graph = TemporalGraph()
    first = [make("ownership", "pm", "holdco", observed_at=at(1)), make("family", "pm", "son", observed_at=at(2)),
             make("ownership", "son", "shell", percentage=30, observed_at=at(3))]
    later = [make("ownership", "holdco", "shell", observed_at=at(4)),
             make("ownership", "shell", "holdco", observed_at=at(5)), make("family", "son", "pm", observed_at=at(6)),
             make("ownership", "pm", "holdco", op="retract", observed_at=at(7))]
    for event in first:
        graph.apply(event)
    copy = pickle.loads(pickle.dumps(graph))
    for event in later:
        graph.apply(event)
        copy.apply(event)
    assert adjacency_of(copy) == adjacency_of(graph)
    assert snapshot(copy) == snapshot(graph)
    assert copy._no_neighbours == {} and graph._no_neighbours == {}


def test_repeated_values_are_held_once(make):
    graph = TemporalGraph()
    graph.apply(make("ownership", "pm", "holdco", percentage=25.5, confidence=0.9, observed_at="2025-03-01T12:00:00Z"))
    graph.apply(make("ownership", "pm", "shell", percentage=25.5, confidence=0.9,
                     observed_at="2025-03-01T13:00:00+01:00"))
    first, second = graph.relations()
    assert first.confidence is second.confidence and first.stake is second.stake
    assert first.observed_at is second.observed_at is graph.entity("pm").observed_at


def test_a_relation_keeps_its_amount_quote_and_role_and_pickles_with_them(make):
    graph = TemporalGraph()
    events = [make("ownership", "pm", "holdco", percentage=60),
              make("payment", "ministry", "holdco", amount=2.5e6, currency="EUR", quote="paid in full"),
              make("membership", "pm", "regulator", role="chair"),
              make("directorship", "pm", "bank", role="chief executive"),
              make("family", "pm", "son", relationship="son"),
              make("associate", "pm", "friend", relationship=" \t")]  # blank: says nothing
    for event in events:
        graph.apply(event)
    plain, payment, seat, director, relative, friend = (graph.relation(event.relation_id) for event in events)
    assert (payment.amount, payment.currency, payment.quote) == (2.5e6, "EUR", "paid in full")
    assert seat.role == "chair" and seat.amount is None
    assert (plain.amount, plain.currency, plain.quote, plain.role, plain.statements) == (None,) * 5
    assert (director.role, relative.role, friend.role) == ("chief executive", "son", None)
    # a relation that only says what it is holds one slot more than a plain one, not a detailed record's six
    assert type(seat) is type(director) is type(relative) is LabelledRelation and type(friend) is Relation
    assert sys.getsizeof(director) == sys.getsizeof(plain) + 8
    copied = pickle.loads(pickle.dumps(graph, protocol=pickle.HIGHEST_PROTOCOL))
    assert [(r.relation_id, r.amount, r.currency, r.quote, r.role, r.stake) for r in sorted(
        copied.relations(), key=lambda r: r.relation_id)] == [
        (r.relation_id, r.amount, r.currency, r.quote, r.role, r.stake) for r in sorted(
            graph.relations(), key=lambda r: r.relation_id)]


def test_an_input_position_is_kept_as_one_int_and_cited_as_given(make):
    graph = TemporalGraph()
    positions = {"r1": "0:41", "r2": "3:9000000000", "r3": "07:1", "r4": "4096:1", "r5": "shard-a:12", "r6": None}
    for relation_id, position in positions.items():
        graph.apply(make("ownership", "pm", (f"company-{relation_id}", "Company", "Company", ()),
                         relation_id=relation_id), position)
    held = {relation_id: graph.relation(relation_id).offset for relation_id in positions}
    assert type(held["r1"]) is int and type(held["r2"]) is int
    # not the text an int would give back (a leading zero, a partition past the code's range, not two numbers)
    assert held["r3"] == "07:1" and held["r4"] == "4096:1" and held["r5"] == "shard-a:12" and held["r6"] is None
    assert {relation_id: offset_text(offset) for relation_id, offset in held.items()} == positions
    assert compact_offset(held["r1"]) == held["r1"]  # the layer passes on what it holds
