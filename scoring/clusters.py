"""Which ids are one entity: the clusters of confirmed judgements and shared strong identifiers, split by denials.

A cluster is a connected component of the positive edges (confirmed `same_as` judgements, strong identifiers two
ids share) unless a denied judgement lies inside it. Then the component is split by one documented, deterministic
rule: the positive edges are taken in order (judgements before identifiers, then by edge key) and an edge that
would put two ids a denial keeps apart into one cluster is refused. So a denial holds even against a transitive
chain of confirmations, and the outcome depends only on the set of edges, never on the order they arrived in: a
replay, a restart and a second worker compute the same clusters.

A person is never one entity with an organisation: given `kind_of` (id -> its kind, None where unknown), an edge that
would put ids of two kinds into one cluster is refused by the same rule, whatever the edge claims (a judgement states
the schemata of its ends itself, which the relations naming the ids may contradict).

The canonical id of a cluster is its smallest member id. A change of edges re-clusters only the positive
components that contain the changed edges' ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

JUDGEMENT, IDENTIFIER = "judgement", "identifier"
_PRIORITY = {JUDGEMENT: 0, IDENTIFIER: 1}


@dataclass(frozen=True, slots=True, eq=False)
class Edge:
    """One reason to merge (or, `merging=False`, to keep apart) two ids. `key` is unique per edge: the judgement's
    relation_id, or the shared identifier and the two ids."""

    key: tuple[str, ...]
    kind: str
    a: str
    b: str
    merging: bool
    detail: object = None  # what explanations cite: the judgement event, or the shared identifier

    @property
    def order(self) -> tuple:
        return _PRIORITY[self.kind], self.key


class Clusters:
    def __init__(self):
        self._positive: dict[str, dict[tuple, Edge]] = {}  # id -> edge key -> positive edge touching it
        self._denied: dict[str, dict[tuple, Edge]] = {}  # id -> edge key -> denial touching it
        self._edges: dict[tuple, Edge] = {}
        self._canonical: dict[str, str] = {}  # only ids in clusters of two or more
        self._members: dict[str, tuple[str, ...]] = {}  # canonical id -> sorted members (two or more)
        self._joined_by: dict[str, tuple[Edge, ...]] = {}  # canonical id -> the edges that formed it
        self._refused: dict[str, tuple[Edge, ...]] = {}  # canonical id -> positive edges a denial refused
        self._clashes: set[tuple] = set()  # keys of the refused edges refused for joining two kinds, not a denial

    # -- reading ---------------------------------------------------------------------------------------------------

    def canonical(self, entity_id: str) -> str:
        return self._canonical.get(entity_id, entity_id)

    def members(self, entity_id: str) -> tuple[str, ...]:
        return self._members.get(self.canonical(entity_id), (entity_id,))

    def joined_by(self, entity_id: str) -> tuple[Edge, ...]:
        return self._joined_by.get(self.canonical(entity_id), ())

    def refused(self, entity_id: str) -> tuple[Edge, ...]:
        return self._refused.get(self.canonical(entity_id), ())

    def refused_for_kind(self, edge: Edge) -> bool:
        """Whether a refused edge was refused for joining ids of two kinds (else a denial refused it)."""
        return edge.key in self._clashes

    def denials(self, entity_id: str) -> tuple[Edge, ...]:
        found = {key: edge for member in self.members(entity_id) for key, edge in self._denied.get(member, {}).items()}
        return tuple(found[key] for key in sorted(found))

    def edge(self, key: tuple) -> Edge | None:
        return self._edges.get(key)

    @property
    def merged(self) -> int:
        """How many clusters have more than one id."""
        return len(self._members)

    # -- changing --------------------------------------------------------------------------------------------------

    def change(self, removed: Iterable[tuple], added: Iterable[Edge], retyped: Iterable[str] = (),
               kind_of: Callable[[str], str | None] | None = None) -> dict[str, tuple[str, str]]:
        """Remove edges by key, add edges, re-cluster what they touch; returns id -> (old, new canonical) for every
        id whose canonical id changed. `retyped`: ids whose kind changed (their clusters are re-clustered too);
        `kind_of`: every id's kind (None: unknown), to refuse an edge joining two kinds."""
        touched: set[str] = {node for node in retyped if node in self._positive}
        for key in removed:
            self._drop(key, touched)
        for edge in {e.key: e for e in added}.values():
            self._drop(edge.key, touched)  # re-stated (an identifier seen twice in one event): replaced
            self._edges[edge.key] = edge
            touched.update((edge.a, edge.b))
            table = self._positive if edge.merging else self._denied
            for node in (edge.a, edge.b):
                table.setdefault(node, {})[edge.key] = edge
        return self._recluster(touched, kind_of) if touched else {}

    def _drop(self, key: tuple, touched: set[str]) -> None:
        edge = self._edges.pop(key, None)
        if edge is None:
            return
        self._clashes.discard(key)
        touched.update((edge.a, edge.b))
        table = self._positive if edge.merging else self._denied
        for node in (edge.a, edge.b):
            held = table.get(node)
            if held is not None:
                held.pop(key, None)
                if not held:
                    del table[node]

    def _component(self, start: str, seen: set[str]) -> None:
        stack = [start]
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            for edge in self._positive.get(node, {}).values():
                stack.append(edge.b if edge.a == node else edge.a)

    def _recluster(self, touched: set[str], kind_of: Callable[[str], str | None] | None) -> dict[str, tuple[str, str]]:
        nodes: set[str] = set()
        for node in sorted(touched):
            self._component(node, nodes)
        # every old cluster of these ids lies within `nodes` (a removed edge splits its component into the
        # components of its two ends), so dropping and rebuilding them is complete
        old = {node: self.canonical(node) for node in nodes}
        for cid in set(old.values()):
            self._members.pop(cid, None)
            self._joined_by.pop(cid, None)
            self._refused.pop(cid, None)
        for node in nodes:
            self._canonical.pop(node, None)
        edges = sorted({key: edge for node in nodes for key, edge in self._positive.get(node, {}).items()}.values(),
                       key=lambda e: e.order)
        self._clashes.difference_update(edge.key for edge in edges)
        # id -> the ids a denial keeps it apart from: a union asks only about the ids that have denials, so that it
        # costs what the smaller set holds, not the product of the two (a chain of thousands of ids sharing one
        # identifier made each re-cluster quadratic)
        denied: dict[str, set[str]] = {}
        for node in nodes:
            for e in self._denied.get(node, {}).values():
                denied.setdefault(e.a, set()).add(e.b)
                denied.setdefault(e.b, set()).add(e.a)
        parent = {node: node for node in nodes}
        sets = {node: {node} for node in nodes}
        kinds = {node: kind_of(node) for node in nodes} if kind_of is not None else {}  # root -> its set's kind
        joined: dict[str, list[Edge]] = {node: [] for node in nodes}
        refused: list[Edge] = []

        def find(node: str) -> str:
            while parent[node] != node:
                parent[node] = parent[parent[node]]
                node = parent[node]
            return node

        for edge in edges:
            ra, rb = find(edge.a), find(edge.b)
            if ra == rb:
                joined[ra].append(edge)  # redundant but still evidence of the merge
                continue
            if len(sets[ra]) < len(sets[rb]):
                ra, rb = rb, ra  # the smaller set joins the larger: which root stays does not show in the result
            small, large = sets[rb], sets[ra]
            if denied and any(y in large for x in small for y in denied.get(x, ())):
                refused.append(edge)
                continue
            if kinds:
                kind_a, kind_b = kinds[ra], kinds[rb]
                if kind_a is not None and kind_b is not None and kind_a != kind_b:
                    refused.append(edge)
                    self._clashes.add(edge.key)
                    continue
                kinds[ra] = kind_a if kind_a is not None else kind_b
            parent[rb] = ra
            sets[ra] |= sets.pop(rb)
            joined[ra].extend(joined.pop(rb))
            joined[ra].append(edge)
        for root, members in sets.items():
            if len(members) < 2:
                continue
            ordered = tuple(sorted(members))
            cid = ordered[0]
            self._members[cid] = ordered
            self._joined_by[cid] = tuple(sorted(joined[root], key=lambda e: e.order))
            for node in ordered:
                self._canonical[node] = cid
        for edge in refused:  # shown on the cluster of either end
            for end in (edge.a, edge.b):
                cid = self.canonical(end)
                held = {e.key: e for e in (*self._refused.get(cid, ()), edge)}
                self._refused[cid] = tuple(sorted(held.values(), key=lambda e: e.order))
        return {node: (before, self.canonical(node)) for node, before in old.items()
                if before != self.canonical(node)}
