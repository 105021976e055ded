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
components that contain the changed edges' ends. A change that only joins clusters no denial or refused edge
concerns, of one kind, is made without re-clustering them (`_joined`): an id minted by the thousand for one
entity (each article's mention carrying the entity's QID) costs what a second one does, not what re-clustering
all of them would.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import chain
from operator import attrgetter

JUDGEMENT, IDENTIFIER = "judgement", "identifier"
_PRIORITY = {JUDGEMENT: 0, IDENTIFIER: 1}
_ORDER = attrgetter("order")
_KEY, _KIND = attrgetter("key"), attrgetter("kind")


@dataclass(frozen=True, slots=True, eq=False)
class Edge:
    """One reason to merge (or, `merging=False`, to keep apart) two ids. `key` is unique per edge and starts with
    `kind`: then the judgement's relation_id, or the shared identifier and the two ids (`_in_order` relies on the
    kind coming first)."""

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
        # canonical id -> the kind of its cluster (None: none known), for clusters of two or more; kept only where
        # the clusters were formed with the ids' kinds (`kind_of`)
        self._kinds: dict[str, str | None] = {}
        self._guarded: set[str] = set()  # canonical ids of clusters a member of which has a denial

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
        id whose canonical id changed. `retyped`: ids whose kind changed since the last change (their clusters are
        re-clustered too; every one must be named: a cluster's kind is kept, not read anew from its members);
        `kind_of`: every id's kind (None: unknown), to refuse an edge joining two kinds."""
        retyped = tuple(retyped)  # (read twice: a generator would be spent)
        touched: set[str] = {node for node in retyped if node in self._positive}
        dropped: list[Edge] = []
        for key in removed:
            self._drop(key, touched, dropped)
        fresh = list({e.key: e for e in added}.values())
        for edge in fresh:
            self._drop(edge.key, touched, dropped)  # re-stated (an identifier seen twice in one event): replaced
            self._edges[edge.key] = edge
            touched.update((edge.a, edge.b))
            table = self._positive if edge.merging else self._denied
            for node in (edge.a, edge.b):
                table.setdefault(node, {})[edge.key] = edge
        if not touched:
            return {}
        if kind_of is not None and self._first_seen(retyped, fresh):
            moved = self._joined(dropped, fresh, kind_of)
            if moved is not None:
                return moved
        return self._recluster(touched, kind_of)

    def _drop(self, key: tuple, touched: set[str], dropped: list[Edge]) -> None:
        edge = self._edges.pop(key, None)
        if edge is None:
            return
        dropped.append(edge)
        self._clashes.discard(key)
        touched.update((edge.a, edge.b))
        table = self._positive if edge.merging else self._denied
        for node in (edge.a, edge.b):
            held = table.get(node)
            if held is not None:
                held.pop(key, None)
                if not held:
                    del table[node]

    def _first_seen(self, retyped: Iterable[str], fresh: list[Edge]) -> bool:
        """Whether each id whose kind changed is one no cluster holds and no edge but these fresh ones names (an id
        seen for the first time): its kind is read anew when it joins (`_joined`), and nothing else depended on it."""
        if not retyped:
            return True
        keys = {edge.key for edge in fresh}
        return all(node not in self._canonical and node not in self._refused and node not in self._denied
                   and all(key in keys for key in self._positive.get(node, ())) for node in retyped)

    def _joined(self, dropped: list[Edge], fresh: list[Edge],
                kind_of: Callable[[str], str | None]) -> dict[str, tuple[str, str]] | None:
        """What `_recluster` makes of a change that only joins clusters, made from the clusters as they are; None
        where it must re-cluster. That is so when every edge is a merging one; no cluster concerned holds an id
        with a denial or a refused edge (nothing can be refused); the clusters each added edge joins are of one kind
        (or of no known kind); and the two ends of every edge taken out are joined by the edges added (a chain of
        the holders of an identifier, re-linked around a new one), so that no cluster splits. Then a cluster is a
        connected component, whatever the order of its edges."""
        if not all(edge.merging and edge.a != edge.b for edge in (*dropped, *fresh)):
            return None
        canonical = self.canonical
        fresh_keys = {edge.key for edge in fresh}
        roots: dict[str, str] = {}  # canonical id -> the canonical id of what it joins (a union-find)
        kinds: dict[str, str | None] = {}  # root -> the kind of what it joins
        for edge in (*dropped, *fresh):
            for node in (edge.a, edge.b):
                cid = canonical(node)
                if cid in roots:
                    continue
                if cid in self._guarded or cid in self._refused or (cid not in self._members and cid in self._denied):
                    return None
                if cid in self._members:
                    if cid not in self._kinds:
                        return None  # formed without the ids' kinds
                    kinds[cid] = self._kinds[cid]
                else:
                    if any(key not in fresh_keys for key in self._positive.get(cid, ())):
                        return None  # an id alone with an edge of its own (to itself): evidence once it joins
                    kinds[cid] = kind_of(cid)
                roots[cid] = cid

        for edge in fresh:
            ra, rb = _root(roots, canonical(edge.a)), _root(roots, canonical(edge.b))
            if ra == rb:
                continue
            kind_a, kind_b = kinds[ra], kinds[rb]
            if kind_a is not None and kind_b is not None and kind_a != kind_b:
                return None
            roots[rb] = ra
            kinds[ra] = kind_a if kind_a is not None else kind_b
        if dropped:
            # the fresh edges' own components, found once: asking, for each edge taken out, whether they link its
            # two ends by a walk over them cost as many walks as edges taken out (cubic in the holders of an
            # identifier arriving in decreasing id order, each the new smallest re-linking all of them)
            links: dict[str, str] = {}
            for edge in fresh:
                links.setdefault(edge.a, edge.a)
                links.setdefault(edge.b, edge.b)
                ra, rb = _root(links, edge.a), _root(links, edge.b)
                if ra != rb:
                    links[rb] = ra
            for edge in dropped:
                if canonical(edge.a) != canonical(edge.b) or edge.a not in links or edge.b not in links \
                        or _root(links, edge.a) != _root(links, edge.b):
                    return None
        # (from here on the change is certain: nothing returns None)
        groups: dict[str, list[str]] = {}
        for cid in roots:
            groups.setdefault(_root(roots, cid), []).append(cid)
        gone = {edge.key for edge in dropped}
        added: dict[str, list[Edge]] = {}  # root -> the fresh edges within what it joins
        for edge in fresh:
            added.setdefault(_root(roots, canonical(edge.a)), []).append(edge)
        moved: dict[str, tuple[str, str]] = {}
        for root, cids in groups.items():
            parts = {cid: self._members.pop(cid, (cid,)) for cid in cids}
            members = list(chain.from_iterable(parts.values()))
            members.sort()
            runs = [self._joined_by.pop(cid, ()) for cid in cids]
            edges = list(chain.from_iterable(runs))
            if gone:
                edges = [edge for edge in edges if edge.key not in gone]
            new = added.get(root, ())
            if len(new) > 4 or sum(1 for run in runs if run) > 1:
                edges.extend(new)
                edges = _in_order(edges)
            else:
                for edge in new:
                    insort(edges, edge, key=_ORDER)
            cid = members[0]
            for old, part in parts.items():
                self._kinds.pop(old, None)
                if old != cid:
                    for node in part:
                        self._canonical[node] = cid
                        moved[node] = (old, cid)
            self._canonical[cid] = cid
            self._members[cid] = tuple(members)
            self._joined_by[cid] = tuple(edges)
            self._kinds[cid] = kinds[root]
        return moved

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
            self._kinds.pop(cid, None)
            self._guarded.discard(cid)
        for node in nodes:
            self._canonical.pop(node, None)
        edges = _in_order({key: edge for node in nodes for key, edge in self._positive.get(node, {}).items()}.values())
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

        for edge in edges:
            ra, rb = _root(parent, edge.a), _root(parent, edge.b)
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
            self._joined_by[cid] = tuple(_in_order(joined[root]))
            for node in ordered:
                self._canonical[node] = cid
            if kind_of is not None:
                self._kinds[cid] = kinds[root]
            if any(node in self._denied for node in ordered):
                self._guarded.add(cid)
        for edge in refused:  # shown on the cluster of either end
            for end in (edge.a, edge.b):
                cid = self.canonical(end)
                held = {e.key: e for e in (*self._refused.get(cid, ()), edge)}
                self._refused[cid] = tuple(_in_order(held.values()))
        return {node: (before, self.canonical(node)) for node, before in old.items()
                if before != self.canonical(node)}


def _root(parent: dict[str, str], node: str) -> str:
    """The root of a node's set in a union-find (`parent`: node -> its parent, a root its own), halving the path."""
    while parent[node] != node:
        parent[node] = parent[parent[node]]
        node = parent[node]
    return node


def _in_order(edges: Iterable[Edge]) -> list[Edge]:
    """Edges in their `order` (judgements first, then by key), sorted by key alone: every key starts with its edge's
    kind, and "identifier" sorts before "judgement", so the judgements are the run at the end, moved to the front.
    (Sorting by `order` called a property and built a tuple for each edge: thousands of holders' edges re-sorted at
    each change of them.)"""
    ordered = sorted(edges, key=_KEY)
    first = bisect_left(ordered, JUDGEMENT, key=_KIND)
    return ordered[first:] + ordered[:first] if first < len(ordered) else ordered
