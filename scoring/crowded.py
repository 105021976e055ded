"""Ties by the thousand between two parties: which of them the searches carry, kept from one event to the next.

A ministry paying one vendor for each of thousands of contracts leaves one edge between them with thousands of
records. A pair's score combines at most `paths.max_paths_per_pair` paths of a kind (`rules.assess`), so of the
ties that are hops of commercial paths alone (`ONLY_COMMERCIAL`: payments, investments, debts, listings,
partnerships, representation) only the `cap` of the greatest weight, and any within rounding of the last of them,
can count: every path through a tie left out has `cap` stronger commercial paths through the same two nodes (a
path's strength is its hops' product, and commercial ties all decay alike). A stake, a seat, control, closeness,
authority or influence can also be a hop of an ownership or lobbying path with the same relations, which
`rules.tie_paths` keeps under the more urgent kind: the commercial paths through such ties are not all commercial
paths, so none of them is left out.

Every event on such a pair recomputes both parties' ties (`search.node_ties`), and weighing every record of the
edge again made each event cost more than the one before. `CrowdedTies` keeps, for the engine's evaluation date,
each crowded edge's selection with the records it was made from. One record inserted (one more payment) updates
the selection from that record alone, as does one record taken out or replaced that was not carried; any other
change selects again, from weights it remembers (a record never
changes once in the graph, so neither does its weight on a date). It is a cache: a snapshot keeps none of it.
"""

from __future__ import annotations

import datetime as dt
import heapq
from bisect import insort
from collections.abc import Callable
from operator import itemgetter

from scoring.graph import Relation
from scoring.payments import edge_sums, others_of, sum_into, take_out
from scoring.semantics import (
    AUTHORITY_TYPES,
    CLOSENESS_TYPES,
    HOLDING_TYPES,
    INFLUENCE_TYPES,
    RELAY_TYPES,
    TIE_TYPES,
)
from scoring.strength import Strength

ONLY_COMMERCIAL = TIE_TYPES - (HOLDING_TYPES | RELAY_TYPES | CLOSENESS_TYPES | AUTHORITY_TYPES | INFLUENCE_TYPES)

# Below this fraction of the weight of an edge's `cap`-th strongest tie, a tie's paths are weaker than that many
# others, however a path's product of weights rounds (a relative error of about 1e-16 a multiplication).
ROUNDING_MARGIN = 1e-9

# The usable ties of one edge that the searches carry: (position among the edge's records, record, weight), in the
# edge's order
Kept = tuple[tuple[int, Relation, float], ...]

_position = itemgetter(0)


def select(entry: tuple[Relation, ...], weigh: Callable[[Relation], float | None], cap: int) -> tuple[Kept, int]:
    """Of one edge's records, the usable ties the searches carry, and how many of them are of `ONLY_COMMERCIAL`
    types (all of them counted, carried or not)."""
    kept = []
    commercial = []
    for position, rec in enumerate(entry):
        if rec.type in TIE_TYPES:
            weight = weigh(rec)
            if weight is not None:
                kept.append((position, rec, weight))
                if rec.type in ONLY_COMMERCIAL:
                    commercial.append(weight)
    if len(commercial) > cap:
        kept = _above(kept, heapq.nlargest(cap, commercial)[-1])
    return tuple(kept), len(commercial)


def _above(kept: list, cap_th: float) -> list:
    floor = cap_th * (1.0 - ROUNDING_MARGIN)
    return [item for item in kept if item[1].type not in ONLY_COMMERCIAL or item[2] >= floor]


def with_inserted(kept: Kept, count: int, at: int, rec: Relation, weight: float | None, cap: int) -> tuple[Kept, int]:
    """`select` of an edge after one record was inserted at position `at` (its weight `weight`, None if it is no
    usable tie), from the selection before it. Exact: the `cap` strongest commercial ties after the insertion are
    among those carried before and the new one, and a tie left out before stays below the new floor, which can
    only rise."""
    moved = [(position + 1 if position >= at else position, other, held) for position, other, held in kept]
    if weight is None:
        return tuple(moved), count
    insort(moved, (at, rec, weight), key=_position)
    if rec.type not in ONLY_COMMERCIAL:
        return tuple(moved), count
    count += 1
    if count > cap:
        moved = _above(moved, heapq.nlargest(cap, [held for _, other, held in moved
                                                   if other.type in ONLY_COMMERCIAL])[-1])
    return tuple(moved), count


def with_removed(kept: Kept, count: int, at: int, rec: Relation, weight: float | None) -> tuple[Kept, int] | None:
    """`select` of an edge after the record at position `at` (its weight `weight`, None if it is no usable tie) was
    taken out, from the selection before it; None where it was carried (what it leaves may bring back ties left
    out: `select` must decide). Exact: a tie left out was below the `cap`-th strongest, which stays."""
    moved = []
    for position, other, held in kept:
        if other is rec:
            return None
        moved.append((position - 1 if position > at else position, other, held))
    if weight is not None and rec.type in ONLY_COMMERCIAL:
        count -= 1
    return tuple(moved), count


def one_change(before: tuple[Relation, ...], after: tuple[Relation, ...]) -> tuple[int, int] | None:
    """(position, +1) where `after` is `before` with one record inserted there, (position, -1) with one taken out,
    (position, 0) with one replaced; else None. Records compare by identity (a new version of a relation is a new
    record), in C: no loop here runs over the records one by one."""
    grown = len(after) - len(before)
    if grown not in (-1, 0, 1):
        return None
    low, high = 0, min(len(before), len(after))
    while low < high:  # the first position where they differ (the shorter one's length if none)
        middle = (low + high + 1) // 2
        if after[low:middle] == before[low:middle]:
            low = middle
        else:
            high = middle - 1
    if low == len(after) == len(before):
        return None  # the same records
    if after[low + (grown >= 0):] == before[low + (grown <= 0):]:
        return low, grown
    return None


class CrowdedTies:
    """The selections of the edges with more records than `cap` on one evaluation date (see the module), and the
    weights of their records. At most `edges` selections and `records` weights are kept (a bound on the memory an
    adversary can make it hold: about 80 MB); past either, that memory starts again."""

    __slots__ = ("day", "selections", "weights", "sums", "edges", "records")

    def __init__(self, edges: int = 1 << 16, records: int = 1 << 20):
        self.day: dt.date | None = None
        # (source, target, layer, cap) -> (the edge's records, `Kept`, how many commercial ties)
        self.selections: dict[tuple, tuple[tuple[Relation, ...], Kept, int]] = {}
        self.weights: dict[Relation, float | None] = {}  # record (by identity) -> `Strength.tie` on `day`
        # (source, target, layer) -> (the edge's records, type -> what its payments add up to: `scoring.payments`)
        self.sums: dict[tuple, tuple[tuple[Relation, ...], dict]] = {}
        self.edges = edges
        self.records = records

    def __reduce__(self):
        return CrowdedTies, (self.edges, self.records)

    def on(self, day: dt.date) -> CrowdedTies:
        """Itself, holding what holds on `day` only."""
        if day != self.day:
            self.selections.clear()
            self.weights.clear()
            self.sums.clear()
            self.day = day
        return self

    def kept(self, entry: tuple[Relation, ...], strength: Strength, cap: int) -> Kept:
        """`select` of one edge's records (more than `cap` of them), on `strength`'s date, which is this memory's."""
        assert strength.day == self.day
        first = entry[0]
        key = (first.source, first.target, first.layer, cap)
        held = self.selections.get(key)
        if held is not None:
            before, kept, count = held
            if before is entry or before == entry:
                return kept
            changed = self._changed(before, entry, kept, count, strength, cap)
            if changed is not None:
                self.selections[key] = (entry, *changed)
                return changed[0]
            self._forget(set(before).difference(entry))
        kept, count = select(entry, lambda rec: self._weight(rec, strength), cap)
        if len(self.selections) >= self.edges:
            self.selections.clear()
        self.selections[key] = (entry, kept, count)
        return kept

    def _changed(self, before: tuple[Relation, ...], entry: tuple[Relation, ...], kept: Kept, count: int,
                 strength: Strength, cap: int) -> tuple[Kept, int] | None:
        """The selection of `entry` from that of `before`, where one record was inserted, taken out or replaced
        (and a record taken out was not carried); else None."""
        change = one_change(before, entry)
        if change is None:
            return None
        at, grown = change
        if grown <= 0:
            gone = before[at]
            changed = with_removed(kept, count, at, gone, self._tie(gone, strength))
            if changed is None:
                return None
            self._forget((gone,))
            kept, count = changed
        if grown >= 0:
            rec = entry[at]
            kept, count = with_inserted(kept, count, at, rec, self._tie(rec, strength), cap)
        return kept, count

    def _forget(self, gone) -> None:
        """Forget the weights of records that left their edge: a superseded version of a fact stated thousands of
        times holds all its statements, and a day of restatements would keep every version."""
        weights = self.weights
        for rec in gone:
            weights.pop(rec, None)

    def payment_sums(self, entry: tuple[Relation, ...], strength: Strength) -> tuple[dict, tuple[Relation, ...]]:
        """(type -> what the payments of one edge's records (more than `cap` of them) add up to, the edge's other
        records) on `strength`'s date (`scoring.payments`): updated from the one record inserted, taken out or
        replaced since the last call for the edge, else summed again. Shared: the caller reads them and changes
        nothing."""
        assert strength.day == self.day
        first = entry[0]
        key = (first.source, first.target, first.layer)
        held = self.sums.get(key)
        if held is not None:
            before, sums, others = held
            if before is entry or before == entry:
                return sums, others
            change = one_change(before, entry)
            if change is not None:
                at, grown = change
                moved = False  # whether a record other than a summed payment came or went
                if grown <= 0:
                    moved = not take_out(sums, before[at])
                if grown >= 0:
                    moved = not sum_into(sums, entry[at], strength) or moved
                if moved:
                    others = others_of(entry, sums)
                self.sums[key] = (entry, sums, others)
                return sums, others
        sums, others = edge_sums(entry, strength)
        if len(self.sums) >= self.edges:
            self.sums.clear()
        self.sums[key] = (entry, sums, others)
        return sums, others

    def weight(self, rec: Relation, strength: Strength) -> float | None:
        """`Strength.tie` of a record of a crowded edge on this memory's date, remembered."""
        assert strength.day == self.day
        return self._weight(rec, strength)

    def _tie(self, rec: Relation, strength: Strength) -> float | None:
        return self._weight(rec, strength) if rec.type in TIE_TYPES else None

    def _weight(self, rec: Relation, strength: Strength) -> float | None:
        weights = self.weights
        try:
            return weights[rec]
        except KeyError:
            weight = weights[rec] = strength.tie(rec)
            if len(weights) > self.records:
                weights.clear()
            return weight
