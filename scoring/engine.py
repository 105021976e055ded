"""The engine: applies relationship events to the temporal graph and rescores only the pairs an event can affect.

Cached computations and what invalidates them (`scoring.dependencies` records what each one read, under a key whose
first item is its `caches.Kind`):

- an actor's reach (REACH, person): what he steers (`authority.reach`); kept for every person who holds authority;
- his exposure set (EXPOSURE, person), and his partners (PARTNERS, person): the parties his exposure set is tied to;
- a pair's score (PAIR, actor, cp): kept for every scoring pair; a candidate pair is scored again when its reads
  change, and a candidate pair without authority (most of them) keeps no reads at all: an authority relation that
  appears finds it through what its counterparty beneficially owns and the actors using that (`_pairs_steering`).

These belong to one actor each and are kept here. The results several users share are kept in one
`caches.CacheStore`, which computes them, counts their users, releases them and registers their reads:

- a node's ties (TIES), what it holds at or above the threshold (HOLDINGS), its stakes below it too (STAKES) and who
  holds it (OWNERS), computed once for every exposure set, partner scan, sphere and group containing the node; the
  search reads them through `search.SharedResults`, their users are the computations that read them, and those are
  recomputed only when the result changes (or the part of it they read: `caches.Spec.views`);
- a partner's sphere (SPHERE): the groups it belongs to; partners and spheres give the actor's candidate
  counterparties (`scoring.candidates`);
- what a candidate counterparty beneficially owns (OWNED), over which authority reaches it;
- a counterparty's group (GROUP): kept while some actor has authority over it.

Pairs are found from the tie side, never by enumerating everything an actor has power over: a minister whose
regulator oversees 100 000 firms has pairs only with the few firms his family does business with. An actor's
candidates are kept by difference (how many of his partners have each in their sphere).

An event dirties the readers of the relation it changes (old and new version), of adjacency lists it empties or
fills, and of entities whose attributes it changes; people upstream of a changed office or control relation (or of
a body that gained its first authority relation) are scanned as possible new actors. Dirty shared results, scans
and groups are recomputed first; only when a result differs are the pairs that can see the difference rescored
(an exposure set's changed nodes against the groups that read them, a group's against the exposure sets that hold
them, a changed source of authority or holding of the counterparty only where an authority relation joins them).
A pair whose score content differs yields a `ScoreChange`.

Time: the evaluation date is the explicit `as_of` given to the engine, or else the engine clock, the date of the
latest `observed_at` applied (never the wall clock, so a replay gives the same scores). When the clock passes a
date on which some relation's contribution changes (it starts, ends, steps down a decay, leaves a horizon), the
calendar dirties that relation's readers as if it had changed.
"""

from __future__ import annotations

import datetime as dt
import gc
import heapq
from contextlib import contextmanager
from functools import partial
from operator import itemgetter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from schemas.events import RelationshipEvent
from schemas.outputs import Band, RiskScore
from schemas.vocabulary import EntitySchema
from scoring.authority import Reach, authority_paths, reach, steering_persons
from scoring.caches import CacheStore, Kind
from scoring.candidates import counterparties, partners
from scoring.config import BAND_ORDER, ScoringConfig
from scoring.dependencies import DependencyIndex, NullReads, Reads
from scoring.explain import FrozenNames, RenderedHops, names_on, render, rendering_signature
from scoring.exposure import Exposure, ExposureSet, exposure_set, political_exposure
from scoring.graph import Relation, TemporalGraph
from scoring.group import Group, group
from scoring.ownership import Holding, beneficially_owned, effective_stakes, sphere
from scoring.records import pickled_as_values
from scoring.rules import Assessment, assess
from scoring.search import SearchContext
from scoring.crowded import CrowdedTies
from scoring.strength import Strength
from scoring.semantics import IN, OUT, RELAY_TYPES, STAKE_TYPES, Layer
from scoring.timing import TimeModel

PairKey = tuple[str, str]


@pickled_as_values
@dataclass(frozen=True, slots=True)
class _Stored:
    """A scored pair as kept between events: enough to render its RiskScore exactly as it was published."""

    assessment: Assessment
    names: FrozenNames  # as published: a later rename re-scores the pair, it does not rewrite the past
    day: dt.date
    graph_version: int
    trigger_event_id: str | None
    input_offsets: dict[str, int]


@dataclass(frozen=True, slots=True, eq=False)
class ScoreChange:
    """A pair's score before and after one event. `new` is None when the pair stopped scoring.

    Both scores are rendered on first access: publishing needs the old one only when the pair stopped scoring (for
    its names), a silent catch-up or a bulk load publishes neither, and rendering a score with its paths and
    evidence is the costliest step of a small change. `band` (the new score's band) is known without rendering,
    for the alert tracker and the metrics. Rendering later gives the same result because the stored assessment is
    immutable and an engine's config, time model and `as_of` never change after construction."""

    actor_id: str
    counterparty_id: str
    previous: RiskScore | Callable[[], RiskScore] | None  # the old score, or how to render it
    current: RiskScore | Callable[[], RiskScore] | None  # the new score, or how to render it
    graph_version: int
    trigger_event_id: str | None = None
    input_offsets: Mapping[str, int] = field(default_factory=dict)
    current_band: Band | None = None  # the new score's band, given with a `current` not rendered yet

    @property
    def old(self) -> RiskScore | None:
        if callable(self.previous):
            object.__setattr__(self, "previous", self.previous())
        return self.previous

    @property
    def new(self) -> RiskScore | None:
        if callable(self.current):
            object.__setattr__(self, "current", self.current())
        return self.current

    @property
    def band(self) -> Band | None:
        """The new score's band (None: the pair stopped scoring), without rendering it."""
        if self.current is None:
            return None
        return self.current_band if callable(self.current) else self.current.band

    @property
    def key(self) -> PairKey:
        return self.actor_id, self.counterparty_id

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ScoreChange):
            return NotImplemented
        return (self.key, self.old, self.new, self.graph_version, self.trigger_event_id, dict(self.input_offsets)) \
            == (other.key, other.old, other.new, other.graph_version, other.trigger_event_id,
                dict(other.input_offsets))

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


@dataclass(frozen=True, slots=True)
class HubChange:
    """A node crossing the fan-out guard (`limits.max_fanout`) in one layer and direction: `entered` True when it
    became a hub there, False when it stopped being one. Beyond the guard the node is not expanded in that layer
    and direction (except a person's own holdings and family: `SearchContext.expanded_anyway`), so conflicts
    through it may be missed: operators must hear of it (streams/ counts and logs these)."""

    node: str
    layer: str
    direction: str  # "out" or "in"
    fanout: int
    entered: bool


def _shown(stored: _Stored | None) -> tuple | None:
    """What a stored score shows (`explain.rendering_signature` with the names and date it was computed with): a
    pair is republished only when this differs. Computed again when needed rather than kept beside every score."""
    if stored is None:
        return None
    return rendering_signature(stored.assessment, stored.names, stored.day)


@contextmanager
def collector_paused():
    """Pause Python's cyclic garbage collector during a bulk load or rebuild. Both create millions of objects that
    live on, and next to no cyclic garbage (the recursive searches unbind their closures): the collections they
    trigger walk the whole graph and its caches for nothing (about a fifth of a rebuild's CPU time at 100 000
    relations, and 8 unreachable objects found after a whole load without them). The caller that keeps the
    state collects once afterwards anyway (the worker: `streams.app.refreeze_heap`). A collector the caller had
    disabled stays disabled.

    What was allocated meanwhile is handed to the oldest generation (`_past_the_young_generations`), not left in
    the youngest: re-enabled with millions of objects there, the collector's next allocation walked them all in a
    young collection (0.65 s, 6 % of `Engine.load` at 200 000 relations, finding the 8 objects above), and a
    middle one walked them again later, before the full collection the caller runs anyway walks everything."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            _past_the_young_generations()
            gc.enable()


def _past_the_young_generations() -> None:
    """Move every object the collector tracks into its oldest generation without walking them, where many were
    allocated since the last collection (`gc.freeze()` moves every generation into the permanent one and clears
    the young count, `gc.unfreeze()` moves that into the oldest): they are walked at the next full collection,
    as they would be after the young ones. Only where nothing was frozen before: unfreezing would take the
    caller's frozen heap back into the collections (a worker's, `streams.collector.refreeze_heap`). Counting the
    frozen objects walks them (about 10 ns each), so it is asked only where the young walk saved is larger
    (`_YOUNG_WALK_SKIPPED`; about 40 ns an object)."""
    if gc.get_count()[0] >= _YOUNG_WALK_SKIPPED and gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()


_YOUNG_WALK_SKIPPED = 100_000  # objects allocated while paused from which the young walk is skipped


def _in_order(pairs: set[PairKey]) -> list[PairKey]:
    """`sorted(pairs)`. Many pairs (a rebuild's hundreds of thousands, of a few hundred actors) are sorted actor by
    actor: each actor's pairs by counterparty, comparing strings where sorting the pairs compares tuples (half the
    time)."""
    if len(pairs) < _SORTED_APART:
        return sorted(pairs)
    by_actor: dict[str, list[PairKey]] = {}
    for pair in pairs:
        held = by_actor.get(pair[0])
        if held is None:
            by_actor[pair[0]] = [pair]
        else:
            held.append(pair)
    counterparty = itemgetter(1)
    return [pair for actor in sorted(by_actor) for pair in sorted(by_actor[actor], key=counterparty)]


_SORTED_APART = 4096


def rank_key(score: RiskScore) -> tuple:
    return -score.score, -BAND_ORDER[score.band], score.actor_id, score.counterparty_id


class Engine:
    def __init__(self, config: ScoringConfig | None = None, *, as_of: dt.date | None = None):
        self.config = config or ScoringConfig.load()
        self.as_of = as_of
        self.graph = TemporalGraph()
        self._time = TimeModel(self.config)
        self._rendered_hops = RenderedHops()  # shared by the scores this engine renders (explain.RenderedHops)
        self._deps = DependencyIndex()
        self._caches = CacheStore(self._deps, self._context)  # spheres, owned, groups, shared per-node results
        self._reach: dict[str, Reach] = {}  # actors only
        self._exposure: dict[str, ExposureSet] = {}
        self._partners: dict[str, frozenset[str]] = {}
        # actor -> candidate counterparty -> how many of his partners have it in their sphere (or are it): kept by
        # difference as partners and spheres change; the candidates are its keys
        self._candidate_counts: dict[str, dict[str, int]] = {}
        self._candidate_total = 0  # candidate pairs, scoring or not
        # Scored pairs, kept as their assessment and bookkeeping: a rendered RiskScore (pydantic models for every
        # path, hop and evidence) costs ten times more memory, so it is rendered when asked for. Candidate pairs
        # that do not score are not kept: most never do.
        self._stored: dict[PairKey, _Stored] = {}
        self._calendar: list[tuple[int, str, str]] = []
        self._day: dt.date | None = None
        self._last = {"visits": 0, "recomputed": 0, "changes": 0}
        self._total_visits = 0
        self._hubs: dict[tuple[str, Layer, int], int] = {}  # (node, layer, direction) past the guard -> fan-out
        self._hub_nodes: dict[str, int] = {}  # node -> in how many (layer, direction) it is a hub
        self._hubs_entered = 0
        self.hub_changes: list[HubChange] = []  # what the last apply (or load) changed
        # The weights on the evaluation date shared by every computation of one refresh (the graph and the date
        # do not move during it, and it remembers each relation's hop values: `Strength.holding_hop`); None between
        # refreshes, so nothing of it outlives one or is kept in a snapshot.
        self._strength: Strength | None = None
        # Which of the ties between two parties with thousands of them the searches carry, kept from one event to the
        # next on the evaluation date (`scoring.crowded`; a snapshot keeps none of it)
        self._crowded = CrowdedTies()

    # -- applying ------------------------------------------------------------------------------------------------

    def apply(self, event: RelationshipEvent, offset: str | None = None,
              input_offsets: Mapping[str, int] | None = None) -> list[ScoreChange]:
        """Apply one event and return the score changes it causes, sorted by pair.

        `offset` ("partition:offset") is cited in the evidence of the relation; `input_offsets` (partition -> next
        offset) is stamped on the scores this event changes. Re-applying an event id returns [].
        """
        change = self.graph.apply(event, offset)
        self.hub_changes = []
        if change is None:
            self._last = {"visits": 0, "recomputed": 0, "changes": 0}
            return []
        for before, after in change.relations:
            self._track_hubs(rec for rec in (before, after) if rec is not None)
        touched: list[Relation] = [rec for pair in change.relations for rec in pair if rec is not None]
        day = self._evaluation_day()
        due = self._due(day) if self.as_of is None and self._day is not None and day > self._day else []
        touched.extend(due)
        previous, self._day = self._day, day
        for _, after in change.relations:
            if after is not None:
                self._schedule(after)
        dirty: set = set()
        for rec in touched:
            dirty |= self._deps.readers_of_relation(rec)
            if rec.layer == Layer.AUTHORITY:
                dirty.update(self._pairs_steering(rec))
        dirty |= self._readers_of_former_hubs(change.relations)
        for node, layer, direction in change.presence:
            dirty |= self._deps.readers_of_presence(node, layer, direction)
        dirty |= self._deps.readers_of_entities(change.entities)
        for rec in due:
            # A path shows a relation that ended as ended from the next day on, although what it contributes may
            # not change before the first decay step: the pairs whose paths pass its ends are compared again (the
            # comparison of what a score shows includes that label; a pair it does not concern stays unchanged).
            dirty.update(key for key in self._deps.readers_of_entities((rec.source, rec.target))
                         if key[0] == Kind.PAIR)
            if rec.layer == Layer.HOLDING and rec.end is not None and previous <= rec.end < day:
                # and from the day after it ended, a stake carries authority over the firm to its former owner no
                # more (`authority._interests`): the pairs of the counterparties whose beneficial ownership was
                # walked through it are scored again (once: its later decay steps change what OWNED holds)
                for key in self._deps.readers_of_relation(rec):
                    if key[0] == Kind.OWNED:
                        dirty.update((Kind.PAIR, actor, key[1]) for actor in self._caches.users(Kind.OWNED, key[1]))
        discovered = self._possible_actors(touched, change.presence, change.entities, change.recast)
        dirty.update((Kind.REACH, person) for person in discovered)
        return self._refresh(dirty, event.event_id, dict(input_offsets or {}))

    def _readers_of_former_hubs(self, changed: Iterable[tuple[Relation | None, Relation | None]]) -> set:
        """The computations that found an end of a changed relation a hub where it is no longer one. One that is
        still a hub shows its readers what they saw: nothing of its edges (`dependencies`: hub reads)."""
        found: set = set()
        max_fanout, fanout = self.config.limits.max_fanout, self.graph.fanout
        for pair in changed:
            for rec in pair:
                if rec is None:
                    continue
                for node, direction in ((rec.source, OUT), (rec.target, IN)):
                    if fanout(node, rec.layer, direction) <= max_fanout:
                        found |= self._deps.readers_of_hub(node, rec.layer, direction)
        return found

    def _track_hubs(self, recs: Iterable[Relation]) -> None:
        """Keep the hub register in step with the adjacency lists these relations changed."""
        for rec in recs:
            for node, direction in ((rec.source, OUT), (rec.target, IN)):
                self._set_hub(node, rec.layer, direction, self.graph.fanout(node, rec.layer, direction))

    def _set_hub(self, node: str, layer: Layer, direction: int, fanout: int) -> None:
        key = (node, layer, direction)
        was, now = key in self._hubs, fanout > self.config.limits.max_fanout
        if now:
            self._hubs[key] = fanout
        if was == now:
            return
        if now:
            self._hub_nodes[node] = self._hub_nodes.get(node, 0) + 1
            self._hubs_entered += 1
        else:
            del self._hubs[key]
            left = self._hub_nodes.pop(node) - 1
            if left:
                self._hub_nodes[node] = left
        self.hub_changes.append(HubChange(node, layer.name.lower(), "out" if direction == OUT else "in", fanout, now))

    def _rescan_hubs(self) -> None:
        """The hub register from the whole graph (after a bulk load); new hubs are reported as entered."""
        self.hub_changes = []
        found = {}
        max_fanout = self.config.limits.max_fanout
        for layer in Layer:
            for direction in (OUT, IN):
                # every node's adjacency looked at once, in no order (they are sorted below; sorting every node
                # of the graph by layer and direction first cost a rebuild more than finding the few hubs)
                for node, adjacency in self.graph.adjacencies(layer, direction).items():
                    if len(adjacency) > max_fanout:
                        found[(node, layer, direction)] = len(adjacency)
        for key in sorted(self._hubs.keys() - found.keys()):
            self._set_hub(key[0], key[1], key[2], 0)
        for key in sorted(found):
            self._set_hub(*key, found[key])

    def pairs_reading(self, entity_ids: Iterable[str]) -> list[PairKey]:
        """The scored pairs whose computation read any of these entities (actor, counterparty, path nodes), sorted."""
        return sorted((key[1], key[2]) for key in self._deps.readers_of_entities(entity_ids)
                      if key[0] == Kind.PAIR and (key[1], key[2]) in self._stored)

    def hubs(self) -> list[tuple[str, str, str, int]]:
        """Nodes past the fan-out guard: (node, layer, "out" or "in", fan-out), sorted."""
        return sorted((node, layer.name.lower(), "out" if direction == OUT else "in", fanout)
                      for (node, layer, direction), fanout in self._hubs.items())

    def _pairs_steering(self, rec: Relation) -> list[tuple]:
        """The candidate pairs that look up this authority relation (`authority.authority_paths`): those whose
        counterparty is the relation's target or beneficially owns it, where the actor steers the relation's source.
        A candidate pair's counterparty has its holdings in the cache store with the actor among their users, so
        these are found from there and a pair without authority keeps no reads of its own."""
        caches, source = self._caches, rec.source
        found = []
        for counterparty in {rec.target, *caches.mentioning(Kind.OWNED, rec.target)}:
            for actor in caches.users(Kind.OWNED, counterparty):
                steers = self._reach.get(actor)
                if steers is not None and source in steers.sources:
                    found.append((Kind.PAIR, actor, counterparty))
        return found

    def _possible_actors(self, touched: list[Relation], presence, entities: list[str],
                         recast: list[str]) -> set[str]:
        """People not scanned yet who may have become actors: upstream of a changed office or control relation,
        of a node whose authority relations appeared, of a node that crossed the guard in the holding layer
        outwards either way (whatever relation took it there: leaving, it is expanded again; entering, it leaves
        the reach's budget to other ways), and of a node whose schema or topics changed (they decide whether it is
        expanded past the guard and whether a seat in it is public power, and an office's tier); people whose
        attributes changed."""
        limit = max(0, self.config.authority.max_hops - 1)
        graph = self.graph
        upstream_of: set[str] = {rec.source for rec in touched if rec.type in RELAY_TYPES}
        upstream_of.update(node for node, layer, direction in presence
                           if layer == Layer.AUTHORITY and direction == OUT)
        upstream_of.update(hub.node for hub in self.hub_changes if hub.layer == "holding" and hub.direction == "out")
        upstream_of.update(recast)
        found: set[str] = {node for node in entities if graph.schema(node) == EntitySchema.PERSON}
        for node in sorted(upstream_of):
            found |= steering_persons(node, graph, limit)
        return {person for person in found if person not in self._reach}

    def apply_many(self, events: Iterable[RelationshipEvent]) -> list[ScoreChange]:
        changes: list[ScoreChange] = []
        for event in events:
            changes.extend(self.apply(event))
        return changes

    def load(self, events: Iterable[RelationshipEvent | tuple],
             input_offsets: Mapping[str, int] | None = None) -> list[ScoreChange]:
        """Apply many events at once (recovery, bulk import, benchmark set-up): the graph first, then one rebuild
        of every cached computation. The state afterwards equals applying the events one by one; the changes
        returned compare each pair's score before and after the whole batch. Items are events, (event, offset) or
        (event, offset, raw) as `ResolvingEngine.load` takes them (the engine keeps no raw message)."""
        with collector_paused():
            for item in events:
                if isinstance(item, tuple):
                    self.graph.apply(item[0], item[1], track=False)
                else:
                    self.graph.apply(item, None, track=False)
            return self.rebuild(input_offsets)

    def rebuild(self, input_offsets: Mapping[str, int] | None = None) -> list[ScoreChange]:
        """Drop every cache and recompute all pairs from the graph."""
        with collector_paused():
            return self._rebuilt(input_offsets)

    def _rebuilt(self, input_offsets: Mapping[str, int] | None) -> list[ScoreChange]:
        self._rescan_hubs()
        old_stored = self._stored
        self._deps = DependencyIndex()
        self._caches = CacheStore(self._deps, self._context)
        self._reach, self._exposure, self._partners, self._candidate_counts = {}, {}, {}, {}
        self._stored = {}
        self._candidate_total = 0
        self._calendar = []
        self._day = self._evaluation_day_or_none()
        if self._day is None:
            return []
        if self.as_of is None:
            for rec in self.graph.facts():
                when = self._time.next_change(rec, self._day)
                if when is not None:
                    self._calendar.append((when.toordinal(), rec.relation_id, rec.event_id))
            heapq.heapify(self._calendar)
        new_stored = self._stored
        # every computation is registered once, into the empty index: its tables are built at the end, in one pass
        self._deps.defer()
        try:
            self._refresh({(Kind.REACH, person) for person in self._persons_who_steer()}, None, {}, rebuilding=True)
        finally:
            self._deps.settle()
        offsets = dict(input_offsets or {})
        changes = []
        for pair in sorted(old_stored.keys() | new_stored.keys()):
            previous, held = old_stored.get(pair), new_stored.get(pair)
            # (a stored score shows something: what two show is compared only where the pair scored before and
            # after, and a bulk load into an empty engine compares none)
            if previous is not None and held is not None and _shown(previous) == _shown(held):
                new_stored[pair] = previous  # unchanged: keep what was published
                continue
            old = partial(self._materialize, previous) if previous is not None else None
            new = band = None
            if held is not None:
                new_stored[pair] = _Stored(held.assessment, held.names, self._day, self.graph.event_count, None,
                                           offsets)
                new, band = partial(self._materialize, new_stored[pair]), held.assessment.band
            changes.append(ScoreChange(pair[0], pair[1], old, new, self.graph.event_count, None, offsets, band))
        return changes

    def _persons_who_steer(self) -> list[str]:
        """Everyone who could be an actor: people with an office, control or authority relation."""
        graph = self.graph
        nodes = {node for layer in (Layer.HOLDING, Layer.AUTHORITY)
                 for node, succs in graph.adjacencies(layer, OUT).items() if succs}  # (sorted once, below)
        return sorted(n for n in nodes if graph.schema(n) == EntitySchema.PERSON)

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
            rec = self.graph.fact(relation_id)
            if rec is not None and rec.event_id == event_id:  # else: superseded or retracted since
                due[relation_id] = rec
        for rec in due.values():
            when = self._time.next_change(rec, day)
            if when is not None:
                heapq.heappush(self._calendar, (when.toordinal(), rec.relation_id, rec.event_id))
        return [due[rid] for rid in sorted(due)]

    def _context(self, reads: Reads, day: dt.date | None = None) -> SearchContext:
        """Without `day`: a cached computation on the engine's evaluation date, which uses the shared per-node
        results; with it (as-of queries, the full recomputation): a one-off that computes everything itself."""
        if day is not None:
            return SearchContext(self.graph, self.config, day, reads, self._time)
        return SearchContext(self.graph, self.config, self._day, reads, self._time, self._caches, self._strength,
                             self._crowded.on(self._day))

    # -- incremental rescoring -----------------------------------------------------------------------------------

    def _refresh(self, dirty: set, trigger: str | None, offsets: dict[str, int],
                 rebuilding: bool = False) -> list[ScoreChange]:
        """Recompute the dirty computations in dependency order (reach, exposure, what counterparties beneficially
        own, spheres, partners, candidates, groups), then every pair whose inputs changed. `rebuilding`: every
        computation anew, into an empty engine (`rebuild`)."""
        assert self._day is not None  # set by every caller
        self._strength = Strength(self.config, self._day, self._time)
        try:
            return self._refreshed(dirty, trigger, offsets, rebuilding)
        finally:
            self._strength = None

    def _refreshed(self, dirty: set, trigger: str | None, offsets: dict[str, int],
                   rebuilding: bool = False) -> list[ScoreChange]:
        visits = 0
        stale_pairs: set[PairKey] = set()
        caches = self._caches
        visits += caches.refresh_read(dirty)
        by_kind: dict[Kind, list] = {}  # the dirty keys without their kind, by kind (`dirty` moves no more now)
        for key in dirty:
            by_kind.setdefault(key[0], []).append(key[1] if len(key) == 2 else key[1:])

        def keys(kind: Kind) -> list[str]:
            return sorted(by_kind.get(kind, ()))

        def all_pairs(actor: str) -> None:
            stale_pairs.update((actor, c) for c in self._candidate_counts.get(actor, ()))

        def pairs_with_authority(actor: str) -> None:  # the exposure set matters only where there is authority
            stale_pairs.update((actor, c) for c in caches.held_by(Kind.GROUP, actor))

        exposure_dirty, partners_dirty = set(keys(Kind.EXPOSURE)), set(keys(Kind.PARTNERS))
        # partner scans dirty only for ties that gained neighbours: what they gained (`CacheStore.grown`; taken, so
        # that nothing of it outlives this refresh)
        told, caches.grown = caches.grown, {}
        gains = {key[1]: gained for key, gained in told.items() if gained is not None} \
            if self.config.lobby_requires_primary else {}
        causes = {}  # stage -> pairs it made stale (diagnostics: Engine._last)
        for person in keys(Kind.REACH):
            reads = Reads()
            steers = reach(person, self._context(reads))
            visits += reads.visits
            before = self._reach.get(person)
            if steers.is_actor:
                self._reach[person] = steers
                self._deps.register((Kind.REACH, person), reads)
                if before is None:
                    exposure_dirty.add(person)
                elif before != steers:
                    self._pairs_reached(person, before, steers, stale_pairs)
            elif before is not None:  # no longer an actor: discovery (see apply) finds him again if that changes
                all_pairs(person)
                self._drop_actor(person)
        causes["reach"] = len(stale_pairs)
        for person in sorted(exposure_dirty):
            if person in self._reach:
                before = self._exposure.get(person)
                reads = Reads()
                self._exposure[person] = exposure_set(person, self._context(reads))
                self._deps.register((Kind.EXPOSURE, person), reads)
                visits += reads.visits
                if self._exposure[person] != before:
                    changed = None if before is None else self._exposure[person].changed_nodes(before)
                    if changed is None:
                        pairs_with_authority(person)
                    else:
                        self._pairs_reading(person, changed, stale_pairs)
                    partners_dirty.add(person)
                    gains.pop(person, None)
        causes["exposure"] = len(stale_pairs) - sum(causes.values())
        # what counterparties beneficially own, before the spheres: a sphere reads it where its walk met no control
        # (`ownership.StakesAlone`), so it must be this refresh's
        owned_differing, cost = self._recomputed(Kind.OWNED, keys(Kind.OWNED))
        visits += cost
        flipped: dict[str, dict[str, bool]] = {}  # actor -> candidates whose count moved -> were they candidates
        differing, cost = self._recomputed(Kind.SPHERE, keys(Kind.SPHERE))
        visits += cost
        for node, before, after in differing:
            gained, lost = set(after).difference(before), set(before).difference(after)
            for person in caches.users(Kind.SPHERE, node):
                self._count_candidates(person, gained, 1, flipped)
                self._count_candidates(person, lost, -1, flipped)
        for person in sorted(partners_dirty):
            if person in self._reach:
                before = self._partners.get(person) or frozenset()
                gained = gains.get(person)
                if gained is not None and person in self._partners:
                    # his exposure set is as it was, and the ties of its members only gained neighbours: the scan
                    # (a union of the members and their neighbours) gains just those, and reads what it read
                    self._partners[person] = after = before | gained
                else:
                    reads = Reads()
                    self._partners[person] = after = partners(person, self._exposure[person], self._context(reads))
                    self._deps.register((Kind.PARTNERS, person), reads)
                    visits += reads.visits
                if after != before:
                    self._candidate_counts.setdefault(person, {})
                    for node in sorted(before - after):
                        self._count_candidates(person, (node, *caches.get(Kind.SPHERE, node)), -1, flipped)
                        caches.release(Kind.SPHERE, node, person)
                    for node in sorted(after - before):
                        if rebuilding and node != person:
                            # A new partner is a candidate of his (`_count_candidates`), whose pair is scored below
                            # and takes what it beneficially owns then, with him as a user. Taken before its
                            # sphere, it serves the sphere's walk of what it holds where that walk met no control
                            # (`ownership.StakesAlone`: most registers state few control relations), which is
                            # otherwise walked again (a rebuild walked 34,000 of 46,000 spheres' holdings twice
                            # at 200,000 relations). The same results and users either way; not live, where
                            # when it is computed would move the visits counted
                            _, cost = caches.get_or_compute(Kind.OWNED, node, person)
                            visits += cost
                        # (a new sphere's cost is left out of `visits`, as it always was: the figure stays comparable)
                        grown, _ = caches.get_or_compute(Kind.SPHERE, node, person)
                        self._count_candidates(person, (node, *grown), 1, flipped)
        for person, moved in flipped.items():
            counts = self._candidate_counts.get(person, {})
            stale_pairs.update((person, c) for c, was in moved.items() if (c in counts) != was)
        causes["candidates"] = len(stale_pairs) - sum(causes.values())
        for counterparty, before, after in owned_differing:
            self._pairs_owning(counterparty, before, after, stale_pairs)
        causes["owned"] = len(stale_pairs) - sum(causes.values())
        differing, cost = self._recomputed(Kind.GROUP, keys(Kind.GROUP))
        visits += cost
        compared: dict = {}  # (ids of two tuples of a member's ties) -> neighbours differing (`Group.changed_nodes`)
        for counterparty, before, after in differing:
            nodes = after.changed_nodes(before, compared)
            for actor in caches.users(Kind.GROUP, counterparty):
                exposure, steers = self._exposure.get(actor), self._reach.get(actor)
                if nodes is None or exposure is None or steers is None or exposure.sees(*nodes) \
                        or not steers.sources.keys().isdisjoint(nodes[0]):
                    # (the last: a lobbying target the actor steers, or steered from an office he has left, which
                    # COI-REVOLVING-LOBBY reads and his exposure set does not hold)
                    stale_pairs.add((actor, counterparty))
        causes["group"] = len(stale_pairs) - sum(causes.values())
        stale_pairs.update(by_kind.get(Kind.PAIR, ()))
        causes["pair"] = len(stale_pairs) - sum(causes.values())

        changes = []
        for pair in _in_order(stale_pairs):
            signature, assessment, cost = self._score_pair(pair)
            visits += cost
            if signature == _shown(self._stored.get(pair)):
                continue
            held = self._stored.pop(pair, None)
            old = partial(self._materialize, held) if held is not None else None
            new = band = None
            if assessment is not None:
                self._stored[pair] = _Stored(assessment, names_on(assessment, self.graph), self._day,
                                             self.graph.event_count, trigger, offsets)
                new, band = partial(self._materialize, self._stored[pair]), assessment.band
            if old is not None or new is not None:
                changes.append(ScoreChange(pair[0], pair[1], old, new, self.graph.event_count, trigger, offsets,
                                           band))
        caches.collect(Kind.GROUP, {c for _, c in stale_pairs})
        caches.release_unread()
        self._last = {"visits": visits, "recomputed": len(stale_pairs), "changes": len(changes), "causes": causes}
        self._total_visits += visits
        return changes

    def _pairs_reached(self, person: str, before: Reach, after: Reach, stale_pairs: set[PairKey]) -> None:
        """The actor's candidate pairs whose authority paths can differ between the two reaches: those with an
        authority relation from a source whose ways differ to the counterparty or what it beneficially owns (the
        paths are looked up between exactly those nodes; see `authority.authority_paths`)."""
        changed = [node for node in before.sources.keys() | after.sources.keys()
                   if before.sources.get(node) != after.sources.get(node)]
        # what those sources have authority over, looked up once (not per candidate and holding: an office's
        # thousands of candidates each own a few firms)
        steered = {target for source in changed for target in self.graph.adjacency(source, Layer.AUTHORITY, OUT)
                   if target != source}
        owned_of = self._caches.get
        for counterparty in self._candidate_counts.get(person, ()):
            owned = owned_of(Kind.OWNED, counterparty)
            if owned is None or (steered and (counterparty in steered or not steered.isdisjoint(owned))):
                stale_pairs.add((person, counterparty))

    def _pairs_owning(self, counterparty: str, before: dict, after: dict, stale_pairs: set[PairKey]) -> None:
        """The pairs whose authority paths can differ now that what the counterparty beneficially owns changed:
        those whose actor has a source with an authority relation into a changed holding. The others keep their
        score (the authority relations they look up are found from the new holdings: `_pairs_steering`)."""
        changed = [node for node in before.keys() | after.keys() if before.get(node) != after.get(node)]
        holders = [self.graph.adjacency(node, Layer.AUTHORITY, IN).keys() for node in changed]
        for actor in self._caches.users(Kind.OWNED, counterparty):
            steers = self._reach.get(actor)
            if steers is None or any(not held.isdisjoint(steers.sources.keys()) for held in holders):
                stale_pairs.add((actor, counterparty))

    def _pairs_reading(self, person: str, nodes: set[str], stale_pairs: set[PairKey]) -> None:
        """The actor's pairs with authority whose group can read any of these exposure-set nodes."""
        caches = self._caches
        held = caches.held_by(Kind.GROUP, person)
        if not held:
            return
        affected = held & caches.mentioning_all(Kind.GROUP)
        for node in nodes:
            affected.update(c for c in caches.mentioning(Kind.GROUP, node) if c in held)
        stale_pairs.update((person, c) for c in affected)

    def _recomputed(self, kind: Kind, keys: Iterable) -> tuple[list[tuple], int]:
        """Recompute these held results of a shared kind in order: (key, before, after) for those whose result
        changed, and the visits it cost."""
        changed, cost = [], 0
        for key in keys:
            recomputed = self._caches.recompute(kind, key)
            if recomputed is not None:
                before, after, spent = recomputed
                cost += spent
                if after != before:
                    changed.append((key, before, after))
        return changed, cost

    def _count_candidates(self, person: str, nodes, step: int, flipped: dict[str, dict[str, bool]]) -> None:
        """Add `step` to the candidate counts of these nodes (never the actor himself: `candidates.counterparties`),
        remembering whether each was a candidate before this refresh touched it."""
        counts = self._candidate_counts.setdefault(person, {})
        moved = flipped.setdefault(person, {})
        for node in nodes:
            if node == person:
                continue
            held = counts.get(node, 0)
            if node not in moved:
                moved[node] = held > 0
            if held + step > 0:
                counts[node] = held + step
                if not held:
                    self._candidate_total += 1
            else:
                del counts[node]
                self._candidate_total -= 1

    def _drop_actor(self, person: str) -> None:
        for kind in (Kind.REACH, Kind.EXPOSURE, Kind.PARTNERS):
            self._deps.unregister((kind, person))
        self._reach.pop(person, None)
        self._exposure.pop(person, None)
        for node in self._partners.pop(person, frozenset()):
            self._caches.release(Kind.SPHERE, node, person)
        self._candidate_total -= len(self._candidate_counts.pop(person, ()))

    def _score_pair(self, pair: PairKey) -> tuple[tuple | None, Assessment | None, int]:
        """(what the score shows, the assessment, visits); (None, None, visits) when the pair does not score."""
        actor, counterparty = pair
        caches = self._caches
        if counterparty not in self._candidate_counts.get(actor, ()):
            self._deps.unregister((Kind.PAIR, actor, counterparty))
            caches.release(Kind.GROUP, counterparty, actor)
            caches.release(Kind.OWNED, counterparty, actor)
            return None, None, 0
        owned, visits = caches.get_or_compute(Kind.OWNED, counterparty, actor)
        if not self._steers_any(self._reach[actor].sources.keys(), counterparty, owned):
            # No authority relation from what the actor steers into the counterparty or its holdings (most
            # candidate pairs): the pair keeps no reads; an authority relation that appears finds it from the
            # counterparty's holdings (`_pairs_steering`).
            if counterparty in caches.held_by(Kind.GROUP, actor):  # (most such pairs never took it)
                caches.release(Kind.GROUP, counterparty, actor)
            self._deps.unregister((Kind.PAIR, actor, counterparty))
            return None, None, visits
        reads = Reads()
        ctx = self._context(reads)
        assessment, cost, used_group = self._assess_pair(
            actor, counterparty, self._reach[actor], self._exposure[actor], owned, ctx,
            partial(caches.get_or_compute, Kind.GROUP))
        visits += cost
        if not used_group:
            caches.release(Kind.GROUP, counterparty, actor)
        self._deps.register((Kind.PAIR, actor, counterparty), reads)
        if assessment is None:
            return None, None, visits + reads.visits
        return rendering_signature(assessment, self.graph, ctx.day), assessment, visits + reads.visits

    def _steers_any(self, sources, counterparty: str, owned: dict) -> bool:
        """Whether an authority relation runs from one of these sources into the counterparty or what it
        beneficially owns (a look-up per target; most have no authority relation at all)."""
        adjacency = self.graph.adjacency
        for target in (counterparty, *owned):
            steering = adjacency(target, Layer.AUTHORITY, IN)
            if steering and not sources.isdisjoint(steering.keys()):
                return True
        return False

    def _materialize(self, stored: _Stored) -> RiskScore:
        strength = Strength(self.config, stored.day, self._time)
        return render(stored.assessment, stored.names, strength, self._rendered_hops).risk_score(
            as_of=self.as_of, graph_version=stored.graph_version, trigger_event_id=stored.trigger_event_id,
            input_offsets=stored.input_offsets)

    def _assess_pair(self, actor: str, counterparty: str, steers: Reach, exposure: ExposureSet, owned: dict,
                     ctx: SearchContext, group_of) -> tuple[Assessment | None, int, bool]:
        """(assessment, visits, whether the group was read): authority is looked up first (most candidate pairs
        have none), then the rules."""
        authority = authority_paths(steers, counterparty, owned, ctx)
        if not authority.any:
            return None, 0, False
        grp, visits = group_of(counterparty, actor)
        assessment = assess(actor, counterparty, authority, exposure, grp, ctx)
        if assessment is None:
            return None, visits, True
        for path in (*assessment.authority_paths, *assessment.commercial_paths):
            for hop in path.hops:
                ctx.reads.node(hop.rec.source)
                ctx.reads.node(hop.rec.target)
        ctx.reads.node(actor)
        ctx.reads.node(counterparty)
        return assessment, visits, True

    # -- full recomputation and queries --------------------------------------------------------------------------

    def recompute_all(self, as_of: dt.date | None = None) -> dict[PairKey, RiskScore]:
        """Every pair's score computed from scratch (no caches, no dependency tracking), on `as_of` or on the
        engine's evaluation date. The naive reference the incremental path must equal; also the "as of D" query,
        which needs no rebuild because validity is filtered at query time."""
        day = as_of or self._evaluation_day_or_none()
        if day is None:
            return {}
        ctx = self._context(NullReads(), day)
        groups: dict[str, Group] = {}
        owned: dict[str, dict] = {}

        def group_of(counterparty: str, _actor: str) -> tuple[Group, int]:
            if counterparty not in groups:
                groups[counterparty] = group(counterparty, ctx)
            return groups[counterparty], 0

        results: dict[PairKey, RiskScore] = {}
        stamp_as_of = as_of if as_of is not None else self.as_of
        spheres: dict[str, tuple[str, ...]] = {}

        def sphere_of(node: str) -> tuple[str, ...]:
            if node not in spheres:
                spheres[node] = sphere(node, ctx)
            return spheres[node]

        for person in self._persons_who_steer():
            steers = reach(person, ctx)
            if not steers.is_actor:
                continue
            exposure = exposure_set(person, ctx)
            for counterparty in sorted(counterparties(person, partners(person, exposure, ctx), sphere_of)):
                if counterparty not in owned:
                    owned[counterparty] = beneficially_owned(counterparty, ctx)
                assessment, _, _ = self._assess_pair(person, counterparty, steers, exposure, owned[counterparty],
                                                     ctx, group_of)
                if assessment is not None:
                    results[(person, counterparty)] = render(assessment, self.graph, ctx.strength).risk_score(
                        as_of=stamp_as_of, graph_version=self.graph.event_count, trigger_event_id=None,
                        input_offsets={})
        return results

    def _evaluation_day_or_none(self) -> dt.date | None:
        if self.as_of is not None:
            return self.as_of
        return self.graph.clock.date() if self.graph.clock else None

    def score(self, actor_id: str, counterparty_id: str) -> RiskScore | None:
        stored = self._stored.get((actor_id, counterparty_id))
        return self._materialize(stored) if stored is not None else None

    def scores(self, min_band: Band | str | None = None, limit: int | None = None,
               entity_id: str | None = None) -> list[RiskScore]:
        """Current scores, highest first (ties: band, then ids), optionally from a band upwards, involving one
        entity, and only the first `limit`."""
        floor = BAND_ORDER[Band(min_band)] if min_band is not None else 0
        ranked = sorted(
            ((pair, stored) for pair, stored in self._stored.items()
             if BAND_ORDER[stored.assessment.band] >= floor and (entity_id is None or entity_id in pair)),
            key=lambda item: (-item[1].assessment.score, -BAND_ORDER[item[1].assessment.band], item[0]))
        return [self._materialize(stored) for _, stored in ranked[:limit]]

    def top_scores(self, limit: int = 10, entity_id: str | None = None) -> list[RiskScore]:
        return self.scores(limit=limit, entity_id=entity_id)

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

    def stakes(self, owner_id: str, as_of: dt.date | None = None) -> dict[str, Holding]:
        """What `owner_id` holds through ownership stakes alone, directly and along chains, under the configured
        rule (scoring.ownership), also below the beneficial-ownership threshold: for exporting computed stakes."""
        day = as_of or self._evaluation_day_or_none()
        if day is None:
            return {}
        return effective_stakes(owner_id, self._context(NullReads(), day), types=STAKE_TYPES)

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
            "actors": len(self._reach),
            "cached_spheres": self._caches.count(Kind.SPHERE),
            "pairs": self._candidate_total,
            "scored_pairs": len(self._stored),
            "cached_groups": self._caches.count(Kind.GROUP),
            "cached_owned": self._caches.count(Kind.OWNED),
            "cached_node_ties": self._caches.count(Kind.TIES),
            "cached_node_holdings": self._caches.count(Kind.HOLDINGS),
            "tracked_computations": len(self._deps),
            "calendar": len(self._calendar),
            "last_visits": self._last["visits"],
            "last_recomputed": self._last["recomputed"],
            "last_changes": self._last["changes"],
            "total_visits": self._total_visits,
            "hub_nodes": len(self._hub_nodes),
            "hubs_entered": self._hubs_entered,
        }

