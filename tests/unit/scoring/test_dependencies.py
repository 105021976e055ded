"""The dependency index: re-registering a computation by difference leaves the index exactly as a fresh one."""

from __future__ import annotations

import random

from scoring.caches import Kind
from scoring.dependencies import _SMALL, DependencyIndex, Reads
from scoring.semantics import IN, OUT, Layer


def random_reads(rng: random.Random, nodes: list[str]) -> Reads:
    reads = Reads()
    for _ in range(rng.choice((1, 1, rng.randrange(0, 12)))):
        node, layer, direction = rng.choice(nodes), rng.choice(list(Layer)), rng.choice((OUT, IN))
        kind = rng.randrange(4)
        if kind == 0:
            reads.adj(node, layer, direction)
        elif kind == 1:
            reads.present(node, layer, direction)
        elif kind == 2:
            reads.node(node)
        else:
            reads.probe(node)
    return reads


def normalized(index: DependencyIndex) -> list[dict]:
    def as_set(held):
        if type(held) is set:
            return frozenset(held)
        return frozenset({held}) if type(held[0]) is not tuple else frozenset(held)
    return [{node: as_set(held) for node, held in table.items()} for table in index._tables]


def test_reregistering_by_difference_equals_registering_afresh():
    rng = random.Random(3)
    nodes = [f"n{i}" for i in range(6)]
    # per-node results (whose one read of their own node is held as its table alone) and pair scores
    keys = [(Kind.OWNED, node) for node in nodes] + [(Kind.PAIR, f"a{i}", f"n{i % 6}") for i in range(6)]
    incremental = DependencyIndex()
    compact = 0
    current: dict = {}
    for _ in range(400):
        key = rng.choice(keys)
        if rng.random() < 0.15:
            incremental.unregister(key)
            current.pop(key, None)
        else:
            reads = random_reads(rng, nodes)
            incremental.register(key, reads)
            current[key] = reads
        fresh = DependencyIndex()
        for held_key, reads in current.items():
            fresh.register(held_key, reads)
        assert normalized(incremental) == normalized(fresh)
        compact += sum(type(footprint) is int for footprint in incremental._footprints.values())
        assert len(incremental) == len(fresh) == sum(1 for r in current.values() if r.entries)
        for node in nodes:
            for layer in Layer:
                rec = type("Rec", (), {"layer": layer, "source": node, "target": rng.choice(nodes)})()
                assert incremental.readers_of_relation(rec) == fresh.readers_of_relation(rec)
        assert incremental.entries() == fresh.entries()
    assert compact > 0  # the compact footprint was exercised


def test_a_node_read_by_many_computations_moves_between_tuple_and_set_and_back():
    rng = random.Random(5)
    keys = [(Kind.PAIR, f"a{i}", "c") for i in range(3 * _SMALL)]
    index, readers = DependencyIndex(), set()
    shapes = set()
    for _ in range(600):
        key = rng.choice(keys)
        if key in readers and rng.random() < 0.5:
            index.unregister(key)
            readers.discard(key)
        else:
            reads = Reads()
            reads.node("hub")
            index.register(key, reads)
            readers.add(key)
        held = index._tables[index._NODES].get("hub")
        shapes.add(type(held) if type(held) is not tuple or type(held[0]) is tuple else "key")
        assert index.readers_of_entities(["hub"]) == readers
    assert shapes >= {set, tuple, "key"}


def test_a_node_read_with_its_adjacency_is_found_through_the_adjacency():
    index = DependencyIndex()
    expands, looks = (Kind.HOLDINGS, "walker"), (Kind.PAIR, "a", "c")
    reads = Reads()
    reads.adj("shell", Layer.HOLDING, OUT)
    reads.node("shell")  # covered by the adjacency read: not indexed as a node read
    reads.node("owner")  # not expanded: indexed
    index.register(expands, reads)
    only_looks = Reads()
    only_looks.node("shell")
    index.register(looks, only_looks)
    assert index._tables[index._NODES]["shell"] == looks
    assert index._tables[index._NODES]["owner"] == expands
    assert index.readers_of_entities(["shell"]) == {expands, looks}
    assert index.readers_of_entities(["owner"]) == {expands}
    index.unregister(looks)
    assert index.readers_of_entities(["shell"]) == {expands}
    index.unregister(expands)
    assert index.readers_of_entities(["shell", "owner"]) == set()
    assert all(not table for table in index._tables)


def test_footprints_reading_the_same_tables_share_one_sequence_of_them():
    index = DependencyIndex()
    first, second = Reads(), Reads()
    # the same tables (two out-adjacency reads of ownership, one in-adjacency read, a probe), other nodes, read in
    # another order
    first.adj("a", Layer.HOLDING, OUT)
    first.adj("b", Layer.HOLDING, OUT)
    first.adj("c", Layer.HOLDING, IN)
    first.probe("d")
    second.probe("w")
    second.adj("x", Layer.HOLDING, IN)
    second.adj("y", Layer.HOLDING, OUT)
    second.adj("z", Layer.HOLDING, OUT)
    index.register((Kind.SPHERE, "a"), first)
    index.register((Kind.SPHERE, "w"), second)
    one, other = index._footprints[(Kind.SPHERE, "a")], index._footprints[(Kind.SPHERE, "w")]
    assert one[0] is other[0]
    # and each still says what it read
    assert index.readers_of_relation(_relation("b", "q", Layer.HOLDING)) == {(Kind.SPHERE, "a")}
    assert index.readers_of_relation(_relation("q", "x", Layer.HOLDING)) == {(Kind.SPHERE, "w")}
    index.unregister((Kind.SPHERE, "a"))
    assert index.readers_of_relation(_relation("b", "q", Layer.HOLDING)) == set()
    assert index.readers_of_relation(_relation("q", "x", Layer.HOLDING)) == {(Kind.SPHERE, "w")}


def _relation(source: str, target: str, layer: Layer):
    return type("Rec", (), {"layer": layer, "source": source, "target": target})()


def test_the_shared_table_sequences_are_bounded(monkeypatch):
    import scoring.dependencies as dependencies

    monkeypatch.setattr(dependencies, "_TABLE_CODES_HELD", 8)
    index = DependencyIndex()
    for length in range(2, 40):  # as many distinct sequences of tables
        reads = Reads()
        for number in range(length):
            reads.adj(f"n{number}", Layer.HOLDING, OUT)
        index.register((Kind.SPHERE, f"k{length}"), reads)
        assert len(index._table_codes) <= 8
    for length in range(2, 40):  # each footprint still says what it read
        assert index.readers_of_relation(_relation(f"n{length - 1}", "q", Layer.HOLDING)) >= {(Kind.SPHERE,
                                                                                                f"k{length}")}


def test_deferred_tables_are_the_ones_registering_one_by_one_builds():
    """A rebuild defers the tables (`DependencyIndex.defer`): whatever is registered, re-registered, unregistered
    or looked up meanwhile, the index is the one registering one by one builds, in every table's order and shape
    (a key, a tuple, a set past `_SMALL`), and it releases the same shared results in the same order."""
    def exact(index: DependencyIndex) -> list:
        return [[(node, type(held), list(held) if type(held) is set else held) for node, held in table.items()]
                for table in index._tables]

    rng = random.Random(11)
    nodes = [f"n{i}" for i in range(3)]
    keys = [(Kind.OWNED, f"n{i}") for i in range(3)] + [(Kind.PAIR, f"a{i}", f"c{i}") for i in range(200)]
    for _ in range(10):
        one_by_one, deferred = DependencyIndex(), DependencyIndex()
        deferred.defer()
        for step in range(1000):
            # (first, as a rebuild: each key registered once, nothing looked up)
            key, action = (keys[step], 1.0) if step < len(keys) else (rng.choice(keys), rng.random())
            if action < 0.1:
                one_by_one.unregister(key)
                deferred.unregister(key)
            elif action < 0.15:
                node, table = rng.choice(nodes), rng.choice((4 * len(Layer) + 2, 4 * len(Layer) + 3))
                assert deferred.users_of(table, node) == one_by_one.users_of(table, node)
            elif action < 0.17:
                deferred.settle()
                deferred.defer()
            else:
                reads = random_reads(rng, nodes)
                if rng.random() < 0.3:
                    reads.uses(4 * len(Layer) + 2 + rng.randrange(2), rng.choice(nodes))
                one_by_one.register(key, reads)
                deferred.register(key, reads)
            if step % 50 == 0:
                assert deferred.reads_of(key) == one_by_one.reads_of(key)
        deferred.settle()
        assert exact(deferred) == exact(one_by_one)
        assert list(deferred._footprints.items()) == list(one_by_one._footprints.items())
        assert deferred.released == one_by_one.released
        assert "_pending" not in vars(deferred)
    assert any(type(held) is set for table in one_by_one._tables for held in table.values())  # past _SMALL
