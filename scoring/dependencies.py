"""What each cached computation read, so that an event recomputes only what it can change.

Every computation (authority over a counterparty, an actor's exposure set, a counterparty's group, a pair's score)
runs with a `Reads` recorder. It records three kinds of reads:

- adjacency: "the edges of node N in layer L and direction D" (also when N turned out to be a hub and was not
  expanded: whether it is a hub depends on those edges);
- node: "the name, schema or topics of N";
- probe: "the edges between N and other probed nodes" (tie look-ups between two known sets of nodes, which read a
  single adjacency entry, not a whole neighbourhood).

A change to relation u -> v in layer L concerns the readers of (u, L, out), (v, L, in) and the computations that
probed both u and v; a change to an entity's attributes concerns the readers of that node. This is exact: a
computation that read none of these cannot see the change.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable

from scoring.graph import Relation
from scoring.semantics import IN, OUT, Layer

Key = Hashable


def _code(layer: int, direction: int) -> int:
    return layer * 2 + direction


class Reads:
    """Recorder for one computation; `visits` counts edges and nodes looked at (the cost metric of an apply)."""

    __slots__ = ("adjacency", "nodes", "probes", "visits")

    def __init__(self):
        self.adjacency: set[tuple[int, str]] = set()
        self.nodes: set[str] = set()
        self.probes: set[str] = set()
        self.visits = 0

    def adj(self, node: str, layer: Layer, direction: int) -> None:
        self.adjacency.add((_code(layer, direction), node))
        self.visits += 1

    def node(self, node: str) -> None:
        self.nodes.add(node)

    def probe(self, node: str) -> None:
        self.probes.add(node)


class NullReads(Reads):
    """For one-off computations (full recompute, as-of queries) whose reads nobody needs."""

    __slots__ = ()

    def adj(self, node, layer, direction):
        self.visits += 1

    def node(self, node):
        pass

    def probe(self, node):
        pass


class DependencyIndex:
    def __init__(self):
        self._adjacency: list[dict[str, set[Key]]] = [{} for _ in range(len(Layer) * 2)]
        self._nodes: dict[str, set[Key]] = {}
        self._probes: dict[str, set[Key]] = {}
        self._footprints: dict[Key, tuple[tuple[tuple[int, str], ...], tuple[str, ...], tuple[str, ...]]] = {}

    def register(self, key: Key, reads: Reads) -> None:
        self.unregister(key)
        footprint = (tuple(reads.adjacency), tuple(reads.nodes), tuple(reads.probes))
        self._footprints[key] = footprint
        for code, node in footprint[0]:
            self._adjacency[code].setdefault(node, set()).add(key)
        for node in footprint[1]:
            self._nodes.setdefault(node, set()).add(key)
        for node in footprint[2]:
            self._probes.setdefault(node, set()).add(key)

    def unregister(self, key: Key) -> None:
        footprint = self._footprints.pop(key, None)
        if footprint is None:
            return
        for code, node in footprint[0]:
            _discard(self._adjacency[code], node, key)
        for node in footprint[1]:
            _discard(self._nodes, node, key)
        for node in footprint[2]:
            _discard(self._probes, node, key)

    def readers_of_relation(self, rec: Relation) -> set[Key]:
        layer = rec.layer
        found = set(self._adjacency[_code(layer, OUT)].get(rec.source, ()))
        found.update(self._adjacency[_code(layer, IN)].get(rec.target, ()))
        probing_source = self._probes.get(rec.source)
        probing_target = self._probes.get(rec.target)
        if probing_source and probing_target:
            found.update(probing_source & probing_target)
        return found

    def readers_of_entities(self, entity_ids: Iterable[str]) -> set[Key]:
        found: set[Key] = set()
        for entity_id in entity_ids:
            found.update(self._nodes.get(entity_id, ()))
        return found

    def __len__(self) -> int:
        return len(self._footprints)

    def entries(self) -> int:
        """Index entries held (a memory metric)."""
        return sum(len(f[0]) + len(f[1]) + len(f[2]) for f in self._footprints.values())


def _discard(index: dict[str, set[Key]], node: str, key: Key) -> None:
    readers = index.get(node)
    if readers is not None:
        readers.discard(key)
        if not readers:
            del index[node]
