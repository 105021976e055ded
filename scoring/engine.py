"""The engine: applies relationship events to the temporal graph and rescores only the pairs an event can affect.

Cached computations and what invalidates them (`scoring.dependencies` records the reads):

- authority over a counterparty ("A", cp): kept for every entity with an authority relation pointing at it;
- an actor's exposure set ("E", actor) and a counterparty's group ("G", cp): kept while a pair needs them;
- a pair's score ("P", actor, cp): kept for every pair with authority, scoring or not, so that a later commercial
  tie finds it.

An event dirties the readers of the relation it changes (old and new version) and of the entities whose attributes
it changes. Dirty authority, exposure and group results are recomputed first; only when a result differs are its
pairs rescored. A pair whose score content differs yields a `ScoreChange`.

Time: the evaluation date is the explicit `as_of` given to the engine, or else the engine clock, the date of the
latest `observed_at` applied (never the wall clock, so a replay gives the same scores). When the clock passes a
date on which some relation's contribution changes (it starts, ends, steps down a decay, leaves a horizon), the
calendar dirties that relation's readers as if it had changed.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from schemas.events import RelationshipEvent
from schemas.outputs import Band, RiskScore
from scoring.authority import ActorAuthority, authority_over, counterparty_candidates
from scoring.config import BAND_ORDER, ScoringConfig
from scoring.dependencies import DependencyIndex, NullReads, Reads
from scoring.explain import ScoreContent, render
from scoring.exposure import Exposure, ExposureSet, exposure_set, political_exposure
from scoring.graph import Relation, TemporalGraph
from scoring.group import Group, group
from scoring.rules import assess
from scoring.search import SearchContext
from scoring.semantics import AUTHORITY_TYPES, STAKE_TYPES, Layer
from scoring.timing import TimeModel

PairKey = tuple[str, str]


@dataclass(frozen=True, slots=True)
class ScoreChange:
    """A pair's score before and after one event. `new` is None when the pair stopped scoring."""

    actor_id: str
    counterparty_id: str
    old: RiskScore | None
    new: RiskScore | None
    graph_version: int
    trigger_event_id: str | None = None
    input_offsets: Mapping[str, int] = field(default_factory=dict)

    @property
    def key(self) -> PairKey:
        return self.actor_id, self.counterparty_id

    def removed(self) -> RiskScore:
        """The tombstone-equivalent to publish when the pair stopped scoring: score 0, band none, no paths."""
        previous = self.old if self.old is not None else self.new
        return RiskScore(
            actor_id=self.actor_id, actor_name=previous.actor_name if previous else self.actor_id,
            counterparty_id=self.counterparty_id,
            counterparty_name=previous.counterparty_name if previous else self.counterparty_id,
            score=0.0, band=Band.NONE, rules=(), authority_paths=(), commercial_paths=(),
            as_of=previous.as_of if previous else None, graph_version=self.graph_version,
            trigger_event_id=self.trigger_event_id, input_offsets=dict(self.input_offsets))

    def published(self) -> RiskScore:
        return self.new if self.new is not None else self.removed()


def rank_key(score: RiskScore) -> tuple:
    return -score.score, -BAND_ORDER[score.band], score.actor_id, score.counterparty_id


class Engine:
    def __init__(self, config: ScoringConfig | None = None, *, as_of: dt.date | None = None):
        self.config = config or ScoringConfig.load()
        self.as_of = as_of
        self.graph = TemporalGraph()
        self._time = TimeModel(self.config)
        self._deps = DependencyIndex()
        self._authority: dict[str, dict[str, ActorAuthority]] = {}
        self._exposure: dict[str, ExposureSet] = {}
        self._groups: dict[str, Group] = {}
        self._pairs: dict[PairKey, ScoreContent | None] = {}
        self._scores: dict[PairKey, RiskScore] = {}
        self._counterparties_of: dict[str, set[str]] = {}
        self._calendar: list[tuple[int, str, str]] = []
        self._day: dt.date | None = None
        self._last = {"visits": 0, "recomputed": 0, "changes": 0}
        self._total_visits = 0

    # -- applying ------------------------------------------------------------------------------------------------

    def apply(self, event: RelationshipEvent, offset: str | None = None,
              input_offsets: Mapping[str, int] | None = None) -> list[ScoreChange]:
        """Apply one event and return the score changes it causes, sorted by pair.

        `offset` ("partition:offset") is cited in the evidence of the relation; `input_offsets` (partition -> next
        offset) is stamped on the scores this event changes. Re-applying an event id returns [].
        """
        change = self.graph.apply(event, offset)
        if change is None:
            self._last = {"visits": 0, "recomputed": 0, "changes": 0}
            return []
        touched: list[Relation] = [rec for pair in change.relations for rec in pair if rec is not None]
        day = self._evaluation_day()
        if self.as_of is None and self._day is not None and day > self._day:
            touched.extend(self._due(day))
        self._day = day
        for _, after in change.relations:
            if after is not None:
                self._schedule(after)
        dirty: set = set()
        for rec in touched:
            dirty |= self._deps.readers_of_relation(rec)
        dirty |= self._deps.readers_of_entities(change.entities)
        dirty.update(("A", cp) for cp in self._new_counterparties(touched))
        return self._refresh(dirty, event.event_id, dict(input_offsets or {}))

    def _new_counterparties(self, touched: list[Relation]) -> set[str]:
        """Entities that may have come under authority and have no authority scan yet to be dirtied: the target of
        an authority relation and its beneficial owners; the owners of an entity whose scan is watched."""
        found: set[str] = set()
        ctx = None
        for rec in touched:
            if rec.type in AUTHORITY_TYPES:
                start = rec.target
            elif rec.type in STAKE_TYPES and rec.target in self._authority:
                start = rec.source
            else:
                continue
            ctx = ctx or self._context(NullReads())
            found.update(cp for cp in counterparty_candidates(start, ctx) if cp not in self._authority)
        return found

    def apply_many(self, events: Iterable[RelationshipEvent]) -> list[ScoreChange]:
        changes: list[ScoreChange] = []
        for event in events:
            changes.extend(self.apply(event))
        return changes

    def load(self, events: Iterable[RelationshipEvent | tuple[RelationshipEvent, str | None]],
             input_offsets: Mapping[str, int] | None = None) -> list[ScoreChange]:
        """Apply many events at once (recovery, bulk import, benchmark set-up): the graph first, then one rebuild
        of every cached computation. The state afterwards equals applying the events one by one; the changes
        returned compare each pair's score before and after the whole batch. Items are events or
        (event, offset) pairs."""
        for item in events:
            event, offset = item if isinstance(item, tuple) else (item, None)
            self.graph.apply(event, offset)
        return self.rebuild(input_offsets)

    def rebuild(self, input_offsets: Mapping[str, int] | None = None) -> list[ScoreChange]:
        """Drop every cache and recompute all pairs from the graph, keeping the dependency index."""
        old_pairs, old_scores = self._pairs, self._scores
        self._deps = DependencyIndex()
        self._authority, self._exposure, self._groups, self._counterparties_of = {}, {}, {}, {}
        self._pairs, self._scores = {}, {}
        self._calendar = []
        self._day = self._evaluation_day_or_none()
        if self._day is None:
            return []
        if self.as_of is None:
            for rec in self.graph.relations():
                when = self._time.next_change(rec, self._day)
                if when is not None:
                    self._calendar.append((when.toordinal(), rec.relation_id, rec.event_id))
            heapq.heapify(self._calendar)
        ctx = self._context(NullReads())
        candidates = {cp for target in self.graph.nodes_with_in_edges(Layer.AUTHORITY)
                      for cp in counterparty_candidates(target, ctx)}
        self._refresh({("A", cp) for cp in candidates}, None, {})
        offsets = dict(input_offsets or {})
        changes = []
        for pair in sorted(old_pairs.keys() | self._pairs.keys()):
            before, after = old_pairs.get(pair), self._pairs.get(pair)
            if before == after:
                if pair in old_scores:
                    self._scores[pair] = old_scores[pair]  # unchanged: keep what was published
                continue
            new = None
            if after is not None:
                new = after.risk_score(as_of=self.as_of, graph_version=self.graph.event_count,
                                       trigger_event_id=None, input_offsets=offsets)
                self._scores[pair] = new
            if old_scores.get(pair) is not None or new is not None:
                changes.append(ScoreChange(pair[0], pair[1], old_scores.get(pair), new, self.graph.event_count,
                                           None, offsets))
        return changes

    def _evaluation_day(self) -> dt.date:
        if self.as_of is not None:
            return self.as_of
        return self.graph.clock.date()

    def _schedule(self, rec: Relation) -> None:
        if self.as_of is not None:
            return
        when = self._time.next_change(rec, self._day)
        if when is not None:
            heapq.heappush(self._calendar, (when.toordinal(), rec.relation_id, rec.event_id))

    def _due(self, day: dt.date) -> list[Relation]:
        """Relations whose contribution changes between the previous evaluation date and `day`."""
        due: dict[str, Relation] = {}
        limit = day.toordinal()
        while self._calendar and self._calendar[0][0] <= limit:
            _, relation_id, event_id = heapq.heappop(self._calendar)
            rec = self.graph.relation(relation_id)
            if rec is not None and rec.event_id == event_id:  # else: superseded or retracted since
                due[relation_id] = rec
        for rec in due.values():
            when = self._time.next_change(rec, day)
            if when is not None:
                heapq.heappush(self._calendar, (when.toordinal(), rec.relation_id, rec.event_id))
        return [due[rid] for rid in sorted(due)]

    def _context(self, reads: Reads, day: dt.date | None = None) -> SearchContext:
        return SearchContext(self.graph, self.config, day or self._day, reads, self._time)

    # -- incremental rescoring -----------------------------------------------------------------------------------

    def _refresh(self, dirty: set, trigger: str | None, offsets: dict[str, int]) -> list[ScoreChange]:
        visits = 0
        stale_pairs: set[PairKey] = set()
        for key in sorted(k for k in dirty if k[0] == "A"):
            visits += self._refresh_authority(key[1], stale_pairs)
        for key in sorted(k for k in dirty if k[0] == "E"):
            actor = key[1]
            if actor in self._exposure:
                before = self._exposure[actor]
                visits += self._compute_exposure(actor)
                if self._exposure[actor] != before:
                    stale_pairs.update((actor, cp) for cp in self._counterparties_of.get(actor, ()))
        for key in sorted(k for k in dirty if k[0] == "G"):
            counterparty = key[1]
            if counterparty in self._groups:
                before = self._groups[counterparty]
                visits += self._compute_group(counterparty)
                if self._groups[counterparty] != before:
                    stale_pairs.update((actor, counterparty) for actor in self._authority.get(counterparty, ()))
        stale_pairs.update((k[1], k[2]) for k in dirty if k[0] == "P")

        changes = []
        for pair in sorted(stale_pairs):
            content, cost = self._score_pair(pair)
            visits += cost
            before = self._pairs.get(pair)
            if content is None and pair[0] not in self._authority.get(pair[1], {}):
                self._pairs.pop(pair, None)
            else:
                self._pairs[pair] = content
            if content == before:
                continue
            old = self._scores.get(pair)
            new = None
            if content is not None:
                new = content.risk_score(as_of=self.as_of, graph_version=self.graph.event_count,
                                         trigger_event_id=trigger, input_offsets=offsets)
                self._scores[pair] = new
            else:
                self._scores.pop(pair, None)
            if old is not None or new is not None:
                changes.append(ScoreChange(pair[0], pair[1], old, new, self.graph.event_count, trigger, offsets))
        self._collect_unused({a for a, _ in stale_pairs}, {c for _, c in stale_pairs})
        self._last = {"visits": visits, "recomputed": len(stale_pairs), "changes": len(changes)}
        self._total_visits += visits
        return changes

    def _refresh_authority(self, counterparty: str, stale_pairs: set[PairKey]) -> int:
        reads = Reads()
        scan = authority_over(counterparty, self._context(reads))
        before = self._authority.get(counterparty, {})
        result = scan.actors
        if scan.watched:
            self._deps.register(("A", counterparty), reads)
            self._authority[counterparty] = result
        else:  # no authority points at it any more; a new authority relation re-adds it (see apply)
            self._deps.unregister(("A", counterparty))
            self._authority.pop(counterparty, None)
        for actor in before.keys() | result.keys():
            old, new = before.get(actor), result.get(actor)
            if old != new:
                stale_pairs.add((actor, counterparty))
            if new is not None:
                self._counterparties_of.setdefault(actor, set()).add(counterparty)
            else:
                held = self._counterparties_of.get(actor)
                if held is not None:
                    held.discard(counterparty)
                    if not held:
                        del self._counterparties_of[actor]
        return reads.visits

    def _compute_exposure(self, actor: str) -> int:
        reads = Reads()
        self._exposure[actor] = exposure_set(actor, self._context(reads))
        self._deps.register(("E", actor), reads)
        return reads.visits

    def _compute_group(self, counterparty: str) -> int:
        reads = Reads()
        self._groups[counterparty] = group(counterparty, self._context(reads))
        self._deps.register(("G", counterparty), reads)
        return reads.visits

    def _score_pair(self, pair: PairKey) -> tuple[ScoreContent | None, int]:
        actor, counterparty = pair
        authority = self._authority.get(counterparty, {}).get(actor)
        if authority is None:
            self._deps.unregister(("P", actor, counterparty))
            return None, 0
        visits = 0
        if actor not in self._exposure:
            visits += self._compute_exposure(actor)
        if counterparty not in self._groups:
            visits += self._compute_group(counterparty)
        reads = Reads()
        ctx = self._context(reads)
        assessment = assess(actor, counterparty, authority, self._exposure[actor], self._groups[counterparty], ctx)
        content = None
        if assessment is not None:
            content = render(assessment, self.graph, ctx.strength)
            for path in (*assessment.authority_paths, *assessment.commercial_paths):
                reads.node(path.start)
                for hop in path.hops:
                    reads.node(hop.rec.source)
                    reads.node(hop.rec.target)
            reads.node(actor)
            reads.node(counterparty)
        self._deps.register(("P", actor, counterparty), reads)
        return content, visits + reads.visits

    def _collect_unused(self, actors: set[str], counterparties: set[str]) -> None:
        for actor in sorted(actors):
            if actor in self._exposure and not self._counterparties_of.get(actor):
                del self._exposure[actor]
                self._deps.unregister(("E", actor))
        for counterparty in sorted(counterparties):
            if counterparty in self._groups and not self._authority.get(counterparty):
                del self._groups[counterparty]
                self._deps.unregister(("G", counterparty))

    # -- full recomputation and queries --------------------------------------------------------------------------

    def recompute_all(self, as_of: dt.date | None = None) -> dict[PairKey, RiskScore]:
        """Every pair's score computed from scratch (no caches, no dependency tracking), on `as_of` or on the
        engine's evaluation date. The naive reference the incremental path must equal; also the "as of D" query,
        which needs no rebuild because validity is filtered at query time."""
        day = as_of or self._evaluation_day_or_none()
        if day is None:
            return {}
        ctx = self._context(NullReads(), day)
        exposures: dict[str, ExposureSet] = {}
        groups: dict[str, Group] = {}
        results: dict[PairKey, RiskScore] = {}
        stamp_as_of = as_of if as_of is not None else self.as_of
        candidates: set[str] = set()
        for target in self.graph.nodes_with_in_edges(Layer.AUTHORITY):
            candidates.update(counterparty_candidates(target, ctx))
        for counterparty in sorted(candidates):
            for actor, authority in authority_over(counterparty, ctx).actors.items():
                if actor not in exposures:
                    exposures[actor] = exposure_set(actor, ctx)
                if counterparty not in groups:
                    groups[counterparty] = group(counterparty, ctx)
                assessment = assess(actor, counterparty, authority, exposures[actor], groups[counterparty], ctx)
                if assessment is not None:
                    results[(actor, counterparty)] = render(assessment, self.graph, ctx.strength).risk_score(
                        as_of=stamp_as_of, graph_version=self.graph.event_count, trigger_event_id=None,
                        input_offsets={})
        return results

    def _evaluation_day_or_none(self) -> dt.date | None:
        if self.as_of is not None:
            return self.as_of
        return self.graph.clock.date() if self.graph.clock else None

    def score(self, actor_id: str, counterparty_id: str) -> RiskScore | None:
        return self._scores.get((actor_id, counterparty_id))

    def scores(self, min_band: Band | str | None = None) -> list[RiskScore]:
        """Current scores, highest first (ties: band, then ids), optionally from a band upwards."""
        floor = BAND_ORDER[Band(min_band)] if min_band is not None else 0
        return sorted((s for s in self._scores.values() if BAND_ORDER[s.band] >= floor), key=rank_key)

    def top_scores(self, limit: int = 10, entity_id: str | None = None) -> list[RiskScore]:
        ranked = self.scores()
        if entity_id is not None:
            ranked = [s for s in ranked if entity_id in (s.actor_id, s.counterparty_id)]
        return ranked[:limit]

    def score_all(self, as_of: dt.date | None = None) -> list[RiskScore]:
        """All scores, ranked: the current ones, or recomputed as of a validity date."""
        if as_of is None:
            return self.scores()
        return sorted(self.recompute_all(as_of).values(), key=rank_key)

    def exposure(self, entity_id: str, as_of: dt.date | None = None) -> Exposure:
        """Why an entity is politically exposed (or not) on a date."""
        day = as_of or self._evaluation_day_or_none()
        if day is None:  # nothing applied yet: no clock to read the graph at (the wall clock is never used)
            return Exposure(entity_id, 0.0, "none", ())
        return political_exposure(entity_id, self._context(NullReads(), day))

    @property
    def clock(self) -> dt.datetime | None:
        return self.graph.clock

    @property
    def graph_version(self) -> int:
        return self.graph.event_count

    def stats(self) -> dict[str, int]:
        """Sizes and the cost of the last apply (`last_visits`: edges and adjacency lists examined), in O(1)."""
        return {
            "events": self.graph.event_count,
            "entities": self.graph.entity_count,
            "nodes": self.graph.node_count,
            "relations": self.graph.relation_count,
            "retracted": self.graph.retracted_count,
            "pairs": len(self._pairs),
            "scored_pairs": len(self._scores),
            "cached_authority": len(self._authority),
            "cached_exposure_sets": len(self._exposure),
            "cached_groups": len(self._groups),
            "tracked_computations": len(self._deps),
            "calendar": len(self._calendar),
            "last_visits": self._last["visits"],
            "last_recomputed": self._last["recomputed"],
            "last_changes": self._last["changes"],
            "total_visits": self._total_visits,
        }
