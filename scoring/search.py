"""One computation's view of the graph on one date: neighbour iteration that is sorted (results never depend on
insertion or hash order), capped at hubs, and recorded for the dependency index."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Protocol

from schemas.vocabulary import EntitySchema
from scoring.config import ScoringConfig
from scoring.crowded import CrowdedTies, Kept, select
from scoring.dependencies import Reads
from scoring.graph import Relation, TemporalGraph
from scoring.paths import Hop
from scoring.payments import edge_sums, tie_hops
from scoring.records import pickled_as_values
from scoring.semantics import (
    CONTROL_TYPES,
    IN,
    OUT,
    PEOPLE,
    PUBLIC_APPARATUS,
    PURE_ASSETS,
    TIE_ENDS,
    TIE_LAYERS,
    TIE_TYPES,
    Layer,
)
from scoring.strength import Strength
from scoring.timing import TimeModel

if TYPE_CHECKING:
    from scoring.ownership import Holding


class SharedResults(Protocol):
    """Per-node results shared by every computation on one date (the engine's `caches.CacheStore`). Each answers
    exactly what the computation would (`node_ties`, `ownership.holdings`, `ownership.stakes`, `ownership.owners`)
    and records in `reads` that the result was used, so that the reader is recomputed when that node's result
    changes."""

    def ties(self, node: str, reads: Reads) -> NodeTies: ...

    def holdings(self, node: str, reads: Reads) -> dict[str, Holding]: ...

    def stakes(self, node: str, reads: Reads) -> dict[str, Holding]: ...

    def owners(self, node: str, reads: Reads) -> dict[str, Holding]: ...

    def held_holdings(self, node: str, reads: Reads) -> dict[str, Holding] | None:
        """`holdings` if some computation keeps them already (then recorded as used), else None."""

    def held_owners(self, node: str, reads: Reads) -> dict[str, Holding] | None:
        """`owners` if some computation keeps them already (then recorded as used), else None."""

    def holdings_through_stakes_alone(self, node: str, reads: Reads) -> dict[str, Holding] | None:
        """`holdings` if kept already and found by a walk that met no control (`ownership.StakesAlone`), with
        the reads of that walk added to `reads` (as if this computation had walked it), else None."""

    def owned_through_stakes_alone(self, node: str, reads: Reads) -> dict[str, tuple] | None:
        """`ownership.beneficially_owned` if kept already and found by a walk that met no control, with the reads
        of that walk added to `reads`, else None."""


_NO_ENTRIES: dict = {}  # never written


class SearchContext:
    """`memo`: the shared per-node results on this context's date, or None to compute them (one-off
    computations); `strength`: the weights on `day` to use, when several computations share one (and what it
    remembers), else a new one; `crowded`: the engine's memory of the ties carried between two parties with
    thousands of them (`scoring.crowded`) on `day`, or None to select them anew."""

    __slots__ = ("graph", "config", "day", "strength", "reads", "max_fanout", "hop_decay", "memo", "crowded")

    def __init__(self, graph: TemporalGraph, config: ScoringConfig, day: dt.date, reads: Reads,
                 time: TimeModel | None = None, memo: SharedResults | None = None,
                 strength: Strength | None = None, crowded: CrowdedTies | None = None):
        assert strength is None or strength.day == day
        assert crowded is None or crowded.day == day
        self.graph = graph
        self.config = config
        self.day = day
        self.strength = strength or Strength(config, day, time)
        self.reads = reads
        self.max_fanout = config.limits.max_fanout
        self.hop_decay = config.paths.hop_decay
        self.memo = memo
        self.crowded = crowded

    def ties_of(self, node: str) -> NodeTies:
        """The node's usable commercial relations (see `node_ties`)."""
        if self.memo is None:
            return node_ties(node, self)
        return self.memo.ties(node, self.reads)

    def edges(self, node: str, layer: Layer, direction: int,
              types: Collection) -> list[tuple[str, Relation]]:
        """(neighbour, relation) of the given types, sorted; nothing if the node is a hub in this layer and
        direction (more than `limits.max_fanout` neighbours): hubs are path endpoints, never relays, except where
        `expanded_anyway` says so."""
        return self.edges_unless_hub(node, layer, direction, types)[0]

    def edges_unless_hub(self, node: str, layer: Layer, direction: int,
                         types: Collection) -> tuple[list[tuple[str, Relation]], bool]:
        """(`edges`, `is_hub`) at the cost of one of them: the innermost call of every search."""
        adjacency, hub = self.entries_unless_hub(node, layer, direction)
        if not adjacency:
            return [], hub
        found = []
        visits = len(adjacency)  # and one more for each record beyond the first between two nodes, below
        for neighbour, entry in adjacency.items():
            if type(entry) is tuple:
                visits += len(entry) - 1
                for rec in entry:
                    if rec.type in types:
                        found.append((neighbour, rec))
            elif entry.type in types:
                found.append((neighbour, entry))
        self.reads.visits += visits
        return found, False

    def entries_unless_hub(self, node: str, layer: Layer, direction: int) \
            -> tuple[dict[str, Relation | tuple[Relation, ...]], bool]:
        """The adjacency itself in neighbour order (read only: a record, or a tuple of the records between the two),
        and whether the node is a hub, for a caller that looks at the records of each neighbour together (a hub is
        recorded as one, `Reads.hub`, and not as a read of its edges). Recorded as `edges_unless_hub` records it,
        but for the visits: the caller adds one a neighbour and one for each record beyond the first between two
        nodes."""
        graph = self.graph
        adjacency = graph.adjacency(node, layer, direction)
        if len(adjacency) > self.max_fanout and not self.expanded_anyway(node, layer, direction):
            self.reads.hub(node, layer, direction)  # what it saw holds while the node stays a hub
            return _NO_ENTRIES, True
        self.reads.adj(node, layer, direction)
        if not adjacency:
            return _NO_ENTRIES, False
        return graph.sorted_adjacency(node, layer, direction), False

    def has_edges(self, node: str, layer: Layer, direction: int) -> bool:
        """Whether the node has any relation in this layer and direction (recorded as a presence read)."""
        self.reads.present(node, layer, direction)
        return bool(self.graph.adjacency(node, layer, direction))

    def expanded_anyway(self, node: str, layer: Layer, direction: int) -> bool:
        """A person's own holdings, offices and controls, and his family and associates, are facts about him, not
        a web to enumerate: they are expanded whatever their number. Otherwise one stake or one associate too
        many would drop a person out of every exposure set (and an actor out of his own apparatus), resolving
        every alert around him. The cost is linear in that person's own relations.

        The same holds for the state's apparatus (positions and public bodies) outwards in the holding layer:
        authority runs down it, so a ministry given one body too many to control would otherwise cut every
        official above it off from the regulators below it, resolving their alerts at once."""
        schema = self.schema(node)
        if layer == Layer.HOLDING and direction == OUT:
            return schema in PEOPLE or schema in PUBLIC_APPARATUS
        return layer == Layer.CLOSENESS and schema in PEOPLE

    def both_ways(self, node: str, layer: Layer, types: Collection) -> list[tuple[str, Relation, bool]]:
        """(neighbour, relation, forward) over out- and in-edges."""
        return ([(n, rec, True) for n, rec in self.edges(node, layer, OUT, types)]
                + [(n, rec, False) for n, rec in self.edges(node, layer, IN, types)])

    def between(self, u: str, v: str, layers: Collection[Layer], types: Collection) -> list[tuple[Relation, bool]]:
        """Relations of the given types between u and v, either way: (relation, forward from u)."""
        self.reads.probe(u)
        self.reads.probe(v)
        return self.between_probed(u, v, layers, types)

    def between_probed(self, u: str, v: str, layers: Collection[Layer],
                       types: Collection) -> list[tuple[Relation, bool]]:
        """`between` for nodes the caller has already recorded as probed."""
        found = []
        graph = self.graph
        for layer in layers:
            for source, target, forward in ((u, v, True), (v, u, False)):
                for rec in graph.between(source, target, layer):
                    self.reads.visits += 1
                    if rec.type in types:
                        found.append((rec, forward))
        return found

    def schema(self, node: str) -> EntitySchema | None:
        self.reads.node(node)
        return self.graph.schema(node)

    def topics(self, node: str) -> frozenset[str]:
        self.reads.node(node)
        return self.graph.topics(node)


@pickled_as_values
@dataclass(frozen=True, slots=True)
class Ties:
    """The usable commercial relations of a set of members: to tokens and securities (the first half of a tie
    through an asset, e.g. World Liberty Financial -issues-> USD1 <-lists- Binance) and, if asked for, to anyone."""

    by_asset: dict[str, tuple[tuple[str, Hop], ...]]  # asset -> ((member, hop member -> asset), ...)
    # member -> ((neighbour, hop member -> neighbour, whether the neighbour is an asset), ...): the member's own
    # `NodeTies.ties`, shared with the cached result rather than copied (one tuple per tie, 89 bytes a relation)
    by_member: dict[str, tuple[tuple[str, Hop, bool], ...]]
    capped: tuple[str, ...]  # members too connected (hubs) in a tie layer to enumerate: probed instead


@pickled_as_values
@dataclass(frozen=True, slots=True)
class NodeTies:
    """One node's usable commercial relations on a date, in search order: (neighbour, hop from the node, whether
    the neighbour is a token or security); `hub`: too connected in some tie layer and direction to enumerate."""

    hub: bool
    ties: tuple[tuple[str, Hop, bool], ...]
    # the ties to tokens and securities, in order, as (neighbour, hop): every group the node is in reads them, and a
    # relative with hundreds of holdings is in hundreds of groups, each scanning all his ties for them otherwise
    assets: tuple[tuple[str, Hop], ...] = ()

    def asset_view(self) -> tuple:
        """All that `commercial_ties` reads of these ties when not asked for everyone's (an exposure set's assets):
        whether the node is a hub, and its ties to tokens and securities in order."""
        return self.hub, self.assets

    def neighbours(self) -> frozenset[str]:
        """All that `candidates.partners` reads of these ties: whom they join the node to."""
        return frozenset(neighbour for neighbour, _, _ in self.ties)

    @staticmethod
    def renewed(before: NodeTies, after: NodeTies) -> NodeTies:
        """`after`, with the ties equal to one of `before` as that one (`caches.Spec.renewed`): equal ties hold the
        same relation record, direction and weight, so either serves."""
        held = {tie: tie for tie in before.ties}
        return _node_ties(after.hub, [held.get(tie, tie) for tie in after.ties])


def node_ties(node: str, ctx: SearchContext) -> NodeTies:
    tie, schema = ctx.strength.tie, ctx.schema
    cap = ctx.config.paths.max_paths_per_pair
    hub = False
    found = []
    visits = 0
    assets: dict[str, bool] = {}  # neighbour -> whether a token or security (asked once a neighbour)
    own = schema(node)
    held: list[dict] = [_NO_ENTRIES, _NO_ENTRIES]  # its holding-layer lists by direction, as read below
    for layer in TIE_LAYERS:
        for direction in (OUT, IN):
            if own is not None and own not in TIE_ENDS[(layer, direction)] \
                    and not ctx.graph.adjacency(node, layer, direction):
                continue  # a list its schema is never in, and empty: nothing to read (a recast first reads it)
            adjacency, capped = ctx.entries_unless_hub(node, layer, direction)
            hub = hub or capped
            forward = direction == OUT
            visits += len(adjacency)
            if layer == Layer.HOLDING:
                held[direction] = adjacency
            elif layer == Layer.WORK and adjacency:
                adjacency = _private_jobs(own, direction, adjacency, held[direction], ctx)
            for neighbour, entry in adjacency.items():
                if type(entry) is not tuple:
                    if entry.type in TIE_TYPES:
                        weight = tie(entry)
                        if weight is not None:
                            asset = assets.get(neighbour)
                            if asset is None:
                                asset = assets[neighbour] = schema(neighbour) in PURE_ASSETS
                            found.append((neighbour, Hop(entry, forward, weight, True), asset))
                    continue
                visits += len(entry) - 1
                if len(entry) <= cap:
                    weighed, summed = [(rec, tie(rec), forward) for rec in entry if rec.type in TIE_TYPES], None
                else:  # ties by the thousand between two parties: those that can count (`scoring.crowded`)
                    weighed, summed = _crowded_ties(entry, ctx, cap, forward)
                for hop in tie_hops(weighed, ctx.strength, summed):  # (payments add up: `scoring.payments`)
                    asset = assets.get(neighbour)
                    if asset is None:
                        asset = assets[neighbour] = schema(neighbour) in PURE_ASSETS
                    found.append((neighbour, hop, asset))
    ctx.reads.visits += visits
    return _node_ties(hub, found)


def _private_jobs(own: EntitySchema | None, direction: int, jobs: dict, holding: dict, ctx: SearchContext) -> dict:
    """The jobs of a list that are commercial ties: not a job with the state (a public salary is no private
    interest: an official employed by his ministry, a spouse teaching at a state school; an analyst's review), nor
    a job beside a seat on the same firm's board or control of it, which is the seat's tie already (the chief
    executive is its employee too, one relationship stated twice: Wikidata's P169 and P108)."""
    if direction == IN:
        if own in PUBLIC_APPARATUS:
            return _NO_ENTRIES
    else:
        jobs = {employer: entry for employer, entry in jobs.items() if ctx.schema(employer) not in PUBLIC_APPARATUS}
    seated = _seats(holding, jobs, ctx) if holding and jobs else ()
    return {neighbour: entry for neighbour, entry in jobs.items() if neighbour not in seated} if seated else jobs


def _seats(holding: dict, jobs: dict, ctx: SearchContext) -> set[str]:
    """Of the neighbours a list of jobs joins, those a holding-layer list joins by a seat or control that holds on
    the day."""
    current, day = ctx.strength.time.current, ctx.day
    return {neighbour for neighbour in jobs if (entry := holding.get(neighbour)) is not None
            and any(rec.type in CONTROL_TYPES and current(rec, day)
                    for rec in (entry if type(entry) is tuple else (entry,)))}


def _node_ties(hub: bool, found: list[tuple[str, Hop, bool]]) -> NodeTies:
    return NodeTies(hub, tuple(found), tuple([(neighbour, hop) for neighbour, hop, asset in found if asset]))


def _crowded_ties(entry: tuple[Relation, ...], ctx: SearchContext, cap: int,
                  forward: bool) -> tuple[list[tuple[Relation, float | None, bool]], dict]:
    """The ties of an edge of more than `cap` records that the searches weigh, and the payments whose sums add up,
    as what they add up to by (type, `forward`) (`scoring.payments`: a payment left out would understate it). The
    ties carried are those `_carried` keeps of the edge's other records: the sum is one hop, and does not take the
    places of the ties it leaves (a review: a debt beside 24 payments fell out)."""
    strength, crowded = ctx.strength, ctx.crowded
    if crowded is not None:
        sums, others = crowded.payment_sums(entry, strength)
    else:
        sums, others = edge_sums(entry, strength)
    if not sums:
        return [(rec, weight, forward) for _, rec, weight in _carried(entry, ctx, cap)], {}
    if len(others) <= cap:
        weigh = strength.tie if crowded is None else partial(crowded.weight, strength=strength)
        weighed = [(rec, weigh(rec), forward) for rec in others if rec.type in TIE_TYPES]
    else:  # (the edge's selection is then always of its other records, updated a record at a time as the edge's)
        weighed = [(rec, weight, forward) for _, rec, weight in _carried(others, ctx, cap)]
    return weighed, {(relation_type, forward): held for relation_type, held in sums.items()}


def _carried(entry: tuple[Relation, ...], ctx: SearchContext, cap: int) -> Kept:
    """The usable ties of one edge of more than `cap` records that the searches carry, remembered from one event to
    the next where the context has the engine's memory of them."""
    if ctx.crowded is None:
        return select(entry, ctx.strength.tie, cap)[0]
    return ctx.crowded.kept(entry, ctx.strength, cap)


def commercial_ties(members: Iterable[str], ctx: SearchContext, everyone: bool = False) -> Ties:
    by_asset: dict[str, list[tuple[str, Hop]]] = {}
    by_member: dict[str, tuple[tuple[str, Hop, bool], ...]] = {}
    capped = []
    ties_of = ctx.ties_of
    for member in sorted(members):
        mine = ties_of(member)
        if everyone and mine.ties:
            by_member[member] = mine.ties
        for neighbour, hop in mine.assets:
            by_asset.setdefault(neighbour, []).append((member, hop))
        if mine.hub:
            capped.append(member)
    return Ties({asset: tuple(ties) for asset, ties in sorted(by_asset.items())}, by_member, tuple(capped))
