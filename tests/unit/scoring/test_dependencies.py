"""The dependency index: re-registering a computation by difference leaves the index exactly as a fresh one."""

from __future__ import annotations

import random

from scoring.dependencies import DependencyIndex, Reads
from scoring.semantics import IN, OUT, Layer


def random_reads(rng: random.Random, nodes: list[str]) -> Reads:
    reads = Reads()
    for _ in range(rng.randrange(0, 12)):
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
    keys = [("E", f"a{i}") for i in range(12)]
    incremental = DependencyIndex()
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
        assert len(incremental) == len(fresh) == sum(1 for r in current.values() if r.entries)
        for node in nodes:
            for layer in Layer:
                rec = type("Rec", (), {"layer": layer, "source": node, "target": rng.choice(nodes)})()
                assert incremental.readers_of_relation(rec) == fresh.readers_of_relation(rec)
