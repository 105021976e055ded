"""Entity resolution as events: a layer in front of the engine that scores the resolved graph.

Extractors name one person or company with many ids. `same_as` judgements (confirmed, denied, retracted) and
strong identifiers that entities share decide which ids are one entity (`scoring.clusters`); the canonical id of a
cluster is its smallest member id. This layer rewrites every relation to canonical endpoints before the engine sees
it, with one merged entity reference per cluster (the canonical member's name and schema, every member's names as
aliases, the union of topics and identifiers). When a judgement or an identifier changes a cluster, the relations
of the ids that moved are re-issued to the engine under their new endpoints, so the engine's own incremental
machinery rescores exactly what the merge or split can affect, and a merge followed by its retraction returns
every score to what it was.

The layer, not the engine, orders the versions of each relation (by `observed_at`, then event id, as the graph
does): the engine receives one event per change of a relation's resolved form. A re-issue needs an event id the
engine has not seen that sorts after the one it holds; it is the held id's original part followed by "~" (outside
the contract's identifier alphabet, so it never collides with a real id) and the count of the layer's re-issues so
far, written with its number of digits first so that a later one sorts after an earlier one (`_reissue_id`): the
id does not grow with every merge and split of the relation's ends. Scores show the original event id again. A
change of a merged entity's attributes the engine would not take from an older event is pushed as a retraction of
a relation that never existed ("~entity~ID"), under an id made the same way, which updates the entity and nothing
else.

Judgements do not move the engine clock: they say which ids are one entity, not when a relation held. A relation
whose two ends are merged into one entity is set aside while they are (an entity has no relation with itself).

`ResolvingEngine` has the Engine's apply/load/scores API, so the worker, recovery and `coi-risk score` drive it in
place of the bare engine.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import heapq
import json
from bisect import insort
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass

from schemas.events import EntityIdentifier, EntityRef, Op, RelationshipEvent
from schemas.validation import validate_event
from schemas.outputs import Band, IdentifierStatement, MergeEvidence, MergeNote, RiskScore
from schemas.vocabulary import (BLOCKING_JUDGEMENT, IDENTIFIER_SCHEMES, MERGING_JUDGEMENT, RESOLVABLE_KINDS,
                                SUGGESTION_JUDGEMENTS, EntitySchema)
from scoring.clusters import IDENTIFIER, JUDGEMENT, Clusters, Edge
from scoring.config import ScoringConfig
from scoring.compact_index import add_one, discard_one, members
from scoring.engine import Engine, PairKey, ScoreChange, collector_paused
from scoring.graph import compact_offset, naming, offset_text, publisher_key, shown_alike, utc
from scoring.matching import Matcher
from scoring.packed import Block, PackedEvents
from scoring.records import pickled_as_values

Version = tuple[dt.datetime, str]
JUDGED_NAME_VERSION: Version = (dt.datetime.min.replace(tzinfo=dt.UTC), "")  # below any event's version
_ATTRIBUTE_RELATION = "~entity~"
# An identifier held by more ids than this is not unique in practice (a placeholder, a data error): each of its ids
# is joined to the `_HUBS` smallest (and those pairwise) rather than to every other, which merges the same ids with
# linear edges, and a denial between two of them sets one apart, as among ids joined pairwise (a chain in id order
# was cut by it, and every id past the cut left too). More than one hub: a hub the clusters refuse (denied, or of
# another kind by its newest reference) leaves the others to join the rest.
_MAX_PAIRWISE = 16
# an id named by more relations than this keeps its statements giving a publisher's word on its topics in order
_SMALL_RANKS = 32
_HUBS = 3


@pickled_as_values
@dataclass(slots=True)
class _Current:
    """The layer's current version of one relation (live upsert, or the retraction that ended it), kept compact:
    where its event's JSON is packed (`scoring.packed`: a block and a slot in it), read back only when the relation
    must be re-issued (a parsed event costs ~6 KB, its JSON about 1 KB, deflated in a block 40-300 bytes), with
    what the bookkeeping reads directly."""

    # the version as its two parts: a tuple per relation costs 56 bytes (and the timestamp is the graph's shared one)
    observed_at: dt.datetime
    event_id: str
    block: Block
    slot: int
    offset: str | int | None  # as the graph's records keep it (`graph.compact_offset`), one object for both
    source: str
    target: str
    upsert: bool
    # what the engine holds for this relation (kept here, not in a map of its own: one record per relation): None
    # until sent; True for what most relations are: this version, as stated (the ends unmerged), under its own
    # event id; else (the version there, the resolved form or None if retracted, the original event id behind it)
    sent: tuple[Version, tuple[str, str] | None, str] | bool | None = None
    # the topics this version states of its ends and its publisher, as (the source's, the target's, the publisher
    # as `graph.publisher_key` tells them apart), shared among relations; None where it states none (and for a
    # retraction): what an id shows (`ResolvingEngine._restate_topics`), read here without unpacking the event
    topics: tuple[tuple[str, ...], tuple[str, ...], str] | None = None

    @property
    def version(self) -> Version:
        return self.observed_at, self.event_id

    @property
    def sent_version(self) -> Version | None:
        """The version of this relation the engine holds (None: nothing sent)."""
        sent = self.sent
        return self.version if sent is True else None if sent is None else sent[0]

    def form_sent(self) -> tuple[str, str] | None:
        """The resolved form the engine holds (None: retracted, or nothing sent)."""
        sent = self.sent
        return (self.source, self.target) if sent is True else None if sent is None else sent[1]

    @property
    def sent_original(self) -> str | None:
        """The original event id behind what the engine holds (None: nothing sent)."""
        sent = self.sent
        return self.event_id if sent is True else None if sent is None else sent[2]

    def note_sent(self, version: Version | None, form: tuple[str, str] | None, original: str | None) -> None:
        if version is None:
            self.sent = None
        elif version == self.version and original == self.event_id and form is not None \
                and form == (self.source, self.target):
            self.sent = True
        else:
            self.sent = (version, form, original)


@dataclass(slots=True)
class _Judged:
    version: Version
    event: RelationshipEvent


@pickled_as_values
class _Known:
    """The newest reference of one original id, kept as plain slots: a parsed EntityRef costs about 600 bytes
    (pydantic's instance dict and its set of fields given), this about 100, and the layer holds one per entity.
    Read like an EntityRef (same attribute names); `ref()` makes one when an EntityRef must leave the layer."""

    # the version as its two parts, as `_Current` keeps it
    __slots__ = ("observed_at", "event_id", "id", "schema_", "name", "aliases", "country", "topics", "identifiers")

    def __init__(self, version: Version, ref: EntityRef, identifiers: tuple | None = None):
        self.observed_at, self.event_id = version
        self.id, self.schema_, self.name, self.aliases = ref.id, ref.schema_, ref.name, ref.aliases
        self.country, self.topics = ref.country, ref.topics
        self.identifiers = ref.identifiers if identifiers is None else identifiers

    @property
    def version(self) -> Version:
        return self.observed_at, self.event_id

    def ref(self, identifiers: tuple | None = None) -> EntityRef:
        return EntityRef.model_construct(id=self.id, schema_=self.schema_, name=self.name, aliases=self.aliases,
                                         country=self.country, topics=self.topics,
                                         identifiers=self.identifiers if identifiers is None else identifiers)


def _topics_of(current: _Current, entity_id: str) -> tuple[str, ...]:
    """The topics a relation's current version states of one of its ends (the contract has no relation of an id
    with itself); empty where it states none."""
    if current.topics is None:
        return ()
    return current.topics[0] if current.source == entity_id else current.topics[1] if current.target == entity_id \
        else ()


def content_digest_of(event: RelationshipEvent) -> int:
    """The digest the layer keeps with an event id (`ResolvingEngine.content_digest`): 60 bits of the blake2b of the
    event's JSON, as an int. An int under 2**60 costs 32 bytes where one of 64 bits costs 48 (the allocator rounds
    its 36 bytes up), and the layer holds one for every event id; two contents under one id pass as one with a
    chance of 2**-60. Defined here, with the state that keeps it: a snapshot is locked to this code."""
    return int.from_bytes(hashlib.blake2b(event.model_dump_json().encode(), digest_size=8).digest()) >> 4


class ResolvingEngine:
    def __init__(self, engine: Engine | ScoringConfig | None = None, *, as_of: dt.date | None = None,
                 matcher: Matcher | None = None):
        self.engine = engine if isinstance(engine, Engine) else Engine(engine, as_of=as_of)
        if not self.engine.graph.event_count:  # an engine fed before may see ids again that this layer never saw
            self.engine.graph.trust_event_ids()
        self.engine.graph.prefer_named = False  # this layer chooses what names an entity (`_remember`, `_shown`)
        self.matcher = matcher  # proposes merges for new and renamed entities (take_suggestions)
        self._proposals: list[RelationshipEvent] = []
        self._bulk = False  # inside load()
        self.hub_changes: list = []  # the engine's hub crossings caused by the last apply (scoring.engine.HubChange)
        self.clusters = Clusters()
        # every event id applied -> the digest of the content first applied under it (None: not given), for the
        # worker's check that an id is never reused for other content (streams.processor); one map for both, as
        # a set of ids and a map of their digests held each id twice
        self._seen: dict[str, int | None] = {}
        self._refs: dict[str, _Known] = {}
        # id -> the relation giving each publisher's word on its topics (`_restate_topics`): its relation id where
        # one publisher gives any (most classified ids), else publisher -> relation id; no entry where none does
        self._topic_words: dict[str, str | dict[str, str]] = {}
        # (id, publisher) -> (version, relation id) of the statements that may give its word, in version order, some
        # withdrawn since: only of ids many relations name, once a word was withdrawn (`_newest_word`)
        self._ranked_words: dict[tuple[str, str], list[tuple[Version, str]]] = {}
        self._stand_ins: dict[str, Version] = {}  # id named only by judgements -> the judgement version naming it
        # An id's identifiers are those the current versions of relations naming it state (`_restate`): a
        # correction or a retraction withdraws what it no longer states, and a merge made on it goes with it.
        self._identifiers: dict[str, dict[tuple, EntityIdentifier]] = {}  # id -> key -> identifier
        # (id, kind, identifier key) -> the relations whose current version states it (`scoring.compact_index`)
        self._stating: dict[tuple[str, str, tuple], str | tuple[str, ...] | set[str]] = {}
        self._holders: dict[tuple, set[str]] = {}  # (kind, *identifier key) -> ids carrying it (strong schemes only)
        # (kind, *identifier key) -> its holders whose newest reference gives another kind (`_hubs_of`); no entry
        # where there is none, as for almost every identifier
        self._misfits: dict[tuple, set[str]] = {}
        # (id, key) -> the statement a merge on it cites and the identifier is shown as: (event id, publisher,
        # relation id), the lowest event id of the current statements (`_cite_statement`)
        self._identifier_seen: dict[tuple[str, tuple], tuple[str, str, str]] = {}
        self._current: dict[str, _Current] = {}
        self._events = PackedEvents()  # the JSON of each current relation's event (_Current.block and .slot)
        self._judgements: dict[str, _Judged] = {}
        # original id -> the live relation ids naming it (`scoring.compact_index`: one id as itself, most entities)
        self._touching: dict[str, str | tuple[str, ...] | set[str]] = {}
        self._original_of: dict[str, str] = {}  # re-issue event id -> the original event id
        self.engine.graph.original_event_ids = self._original_of  # (a fact's primary: `graph.statement_version`)
        self._trigger_of: dict[str, str] = {}  # re-issue event id -> the input event that caused it
        self._reissued = 0  # how many engine event ids the layer made (`_reissue_id`)
        self._merged_refs: dict[str, EntityRef] = {}
        # one tuple per distinct list of topics or aliases: each parsed event brings its own, and most entities of
        # a register share a few (role.pep; gov.national)
        self._shared_tuples: dict[tuple, tuple] = {}
        self._suggestions: dict[str, RelationshipEvent] = {}  # open suggestions by relation id
        # original id -> the relation ids of the open suggestions naming it (`scoring.compact_index`): one cluster's
        # view reads its members' suggestions, not all of them
        self._suggested: dict[str, str | tuple[str, ...] | set[str]] = {}

    # -- the Engine's API ------------------------------------------------------------------------------------------

    @property
    def config(self) -> ScoringConfig:
        return self.engine.config

    @property
    def as_of(self) -> dt.date | None:
        return self.engine.as_of

    @property
    def graph(self):
        return self.engine.graph

    @property
    def clock(self) -> dt.datetime | None:
        return self.engine.clock

    @property
    def graph_version(self) -> int:
        return self.engine.graph_version

    def stats(self) -> dict[str, int]:
        return {**self.engine.stats(), "merged_entities": self.clusters.merged,
                "open_suggestions": len(self._suggestions)}

    def apply(self, event: RelationshipEvent, offset: str | None = None,
              input_offsets: Mapping[str, int] | None = None, raw: bytes | None = None,
              digest: int | None = None) -> list[ScoreChange]:
        """Apply one event (a relation or a judgement) and return the score changes of the resolved graph.

        `raw`: the message the event was parsed from, kept instead of serialising the event again (the worker
        passes it; without it the event is serialised). `digest`: of the event's content, kept with its id
        (`content_digest`)."""
        self.hub_changes = []
        if event.event_id in self._seen:
            if digest is not None and self._seen[event.event_id] is None:  # an id restored without its digest
                self._seen[event.event_id] = digest
            return []
        self._seen[event.event_id] = digest
        version: Version = (self.engine.graph.shared_time(utc(event.observed_at)), event.event_id)
        offsets = dict(input_offsets or {})
        removed: list[tuple] = []
        # the edges this event adds to the clusters, by key: a later identifier of the same event can take one out
        # again (`_hold`), found by key (filtering a list per identifier was quadratic in an event's identifiers)
        added: dict[tuple, Edge] = {}
        attributes_changed: set[str] = set()
        # the merged entities this event may change the explanation of (members, joining edges, member names)
        watched = {event.source.id, event.target.id}
        if event.spec.resolution:
            held_edge = self.clusters.edge((JUDGEMENT, event.relation_id))
            if held_edge is not None:
                watched.update((held_edge.a, held_edge.b))
        shown_before = None if self._bulk else self._merge_views(watched)
        regrouped_pairs: set[PairKey] = set()
        restated: set[str] = set()  # ids named only by judgements whose stand-in reference changed
        retyped: dict[str, str | None] = {}  # ids whose kind (people, organisations...) changed: their clusters are
        # redone; -> the kind before
        recited: set[tuple] = set()  # (id, identifier key) whose merges cite another statement (`_cite_statement`)
        for ref in (event.source, event.target):
            kind_before = self._kind_of(ref.id)
            if event.spec.resolution:
                # A judgement is about ids, not a statement of what they are: what it carries of its ends (often a
                # merged view, with the other members' identifiers and topics) must not outlive it. It names an id
                # no relation names yet, at the lowest version, so that any real statement replaces it. Of several
                # judgements naming such an id, the newest (by version, as for a relation's ends) gives it, so that
                # the order they arrive in does not decide the name a merged entity shows.
                held_ref = self._refs.get(ref.id)
                stand_in = self._stand_ins.get(ref.id)
                if held_ref is None or (stand_in is not None and version > stand_in):
                    self._refs[ref.id] = _Known(JUDGED_NAME_VERSION, ref, identifiers=())
                    self._stand_ins[ref.id] = version
                    # a cluster it already belongs to (identifiers restored from a portable file name ids before
                    # any event does) was shown without it
                    self._merged_refs.pop(self.clusters.canonical(ref.id), None)
                    if held_ref is not None:
                        restated.add(ref.id)
            elif self._remember(ref, version):
                attributes_changed.add(ref.id)
            if self._kind_of(ref.id) != kind_before:
                retyped.setdefault(ref.id, kind_before)
        if retyped:
            self._relink_retyped(retyped, removed, added)
        dirty_relations: set[str] = set()
        if event.spec.resolution:
            self._judge(event, version, removed, added)
        else:
            held = self._current.get(event.relation_id)
            if held is None or version > held.version:
                upsert = event.op == Op.UPSERT
                withdrawn = self._statements(self._event(held)) if held is not None and held.upsert \
                    and (held.source in self._identifiers or held.target in self._identifiers) else {}
                if held is not None and held.upsert:
                    self._untouch(event.relation_id, held.source, held.target)
                # the ends as the ids held already (`_remember`): every event brings its own copies of them
                payload = raw if raw is not None else event.model_dump_json(by_alias=True).encode()
                moved = () if held is None else self._events.release(held.block, held.slot)
                block, slot, more = self._events.add(event.relation_id, payload)
                current = self._current[event.relation_id] = _Current(
                    version[0], version[1], block, slot, compact_offset(offset),
                    self._refs[event.source.id].id, self._refs[event.target.id].id, upsert,
                    topics=self._stated_topics(event) if upsert else None)
                if held is not None:
                    current.note_sent(held.sent_version, held.form_sent(), held.sent_original)
                for relation_id, block, slot in (*moved, *more):  # in the order they moved: the last move counts
                    readdressed = self._current[relation_id]
                    readdressed.block, readdressed.slot = block, slot
                if upsert:
                    self._touch(event.relation_id, event.source.id, event.target.id)
                if current.topics is not None or (held is not None and held.topics is not None):
                    attributes_changed |= self._restate_topics(event.relation_id, held, current)
                dirty_relations.add(event.relation_id)
                stated = self._statements(event) if upsert else {}
                if stated or withdrawn:
                    attributes_changed |= self._restate(event, withdrawn, stated, removed, added, recited)
        if shown_before is not None:
            # The edges an event adds or takes out can join ids of clusters neither of its ends is in (the 17th
            # holder of an identifier among its smallest re-links the others): what those clusters show is watched
            # too
            linked = {end for key in removed if (edge := self.clusters.edge(key)) is not None
                      for end in (edge.a, edge.b)}
            linked.update(end for edge in added.values() for end in (edge.a, edge.b))
            linked -= watched
            if linked:
                for cid, view in self._merge_views(linked).items():
                    shown_before.setdefault(cid, view)
                watched |= linked
        moved = self.clusters.change(removed, list(added.values()), retyped, self._kind_of)
        stale_entities = {self.clusters.canonical(i) for i in (*attributes_changed, *restated)}
        for node, (before, after) in moved.items():
            stale_entities.update((before, after))
            dirty_relations.update(self._naming(node))
        for cid in stale_entities:
            self._merged_refs.pop(cid, None)
        collected: dict[PairKey, list] = {}
        plain = True
        # the input's own relation first: it carries the new attributes of its ends at its own version
        ordered = sorted(dirty_relations, key=lambda rid: (rid != event.relation_id, rid))
        for relation_id in ordered:
            plain &= self._sync(relation_id, event, offsets, collected)
        for cid in sorted(stale_entities):
            plain &= not self._push_attributes(cid, event, offsets, collected)
        if shown_before is not None:
            regrouped = {c for pair in moved.values() for c in pair}
            shown_after = self._merge_views(watched - linked)
            for cid, view in self._merge_views(linked).items():
                shown_after.setdefault(cid, view)
            regrouped.update(self._shown_otherwise(shown_before, shown_after, regrouped))
            regrouped.update(self._citing(recited))
            if regrouped:
                regrouped_pairs = self._republish_regrouped(regrouped, event, offsets, collected)
                plain &= not regrouped_pairs
        if self.matcher is not None:
            if self._bulk:  # load(): indexed as proposing would, not compared (a bulk range publishes nothing)
                for entity_id in sorted(attributes_changed):
                    self.matcher.add(self._matched_ref(entity_id), compare=False)
            else:
                self._propose(sorted(attributes_changed), event)
        return self._finish(collected, event, offsets, plain, regrouped_pairs)

    def _merge_views(self, entity_ids: Iterable[str]) -> dict[str, tuple]:
        """What the `merges` of a score show of the merged clusters of these ids, as the clusters hold it: the
        members and the edges that join them (tuples a change replaces, never alters), and the names of these ids
        among the members (the only names an event can change: those of its ends)."""
        found = {}
        names = {entity_id: self._refs[entity_id].name if entity_id in self._refs else None
                 for entity_id in entity_ids}
        for cid in {self.clusters.canonical(i) for i in entity_ids}:
            members = self.clusters.members(cid)
            if len(members) < 2:
                continue
            found[cid] = (members, self.clusters.joined_by(cid),
                          {entity_id: name for entity_id, name in names.items()
                           if self.clusters.canonical(entity_id) == cid})
        return found

    def _shown_otherwise(self, before: dict[str, tuple], after: dict[str, tuple], known: set[str]) -> set[str]:
        """The merged clusters, of those two `_merge_views` saw, whose `merges` show otherwise than before (members,
        their names, the edges by value), beyond the `known` ones: compared by value only where a view's tuples
        were replaced, and by the names of the event's ends otherwise."""
        changed = set()
        for cid in before.keys() | after.keys():
            if cid in known:
                continue
            was, now = before.get(cid), after.get(cid)
            if was is None or now is None:
                changed.add(cid)
            elif was[0] is now[0] and was[1] is now[1]:
                if was[2] != now[2]:
                    changed.add(cid)
            elif self._signature(was) != self._signature(now):
                changed.add(cid)
        return changed

    def _citing(self, recited: set[tuple[str, tuple]]) -> set[str]:
        """The merged clusters joined by one of these (id, identifier key): their `merges` cite the identifier's
        statement of each end of its edges (`_reason`), and that of this id changed."""
        found = set()
        for entity_id, key in recited:
            if any(edge.kind == IDENTIFIER and entity_id in (edge.a, edge.b) and edge.detail.key == key
                   for edge in self.clusters.joined_by(entity_id)):
                found.add(self.clusters.canonical(entity_id))
        return found

    def _signature(self, view: tuple) -> tuple:
        """A `_merge_views` view by value: its members, their names (those the view holds, else as the layer holds
        them), and its edges."""
        members, edges, held = view
        refs = self._refs
        return (members, tuple(held[m] if m in held else refs[m].name if m in refs else None for m in members),
                tuple((e.key, e.a, e.b, e.detail.event_id if e.kind == JUDGEMENT else str(e.detail)) for e in edges))

    def _republish_regrouped(self, regrouped: set[str], trigger: RelationshipEvent, offsets: dict,
                              collected: dict) -> set[PairKey]:
        """The pairs whose score shows an entity whose members changed (its `*_merged_ids` and `merges` did) where
        the engine's own score did not change: the scores topic keeps only the last message per pair. Returns
        those pairs; they are published even where the engine's changes of this event cancel out."""
        found = set()
        for key in self.engine.pairs_reading(regrouped):
            score = self.engine.score(*key)
            shown = {score.actor_id, score.counterparty_id}
            for path in (*score.authority_paths, *score.commercial_paths):
                for edge in path.edges:
                    shown.update((edge.source_id, edge.target_id))
            if shown.isdisjoint(regrouped):
                continue
            found.add(key)
            if key not in collected:
                # (this event changed what the score shows: it is the trigger an auditor finds)
                score = score.model_copy(update={"graph_version": self.engine.graph_version,
                                                 "input_offsets": offsets, "trigger_event_id": trigger.event_id})
                collected[key] = [ScoreChange(key[0], key[1], score, score, self.engine.graph_version,
                                              trigger.event_id, offsets)]
        return found

    def _engine_apply(self, event: RelationshipEvent, offset: str | None, offsets: dict) -> list[ScoreChange]:
        if self._bulk:  # load(): the graph now, the scores in one rebuild at the end
            self.engine.graph.apply(event, offset, track=False)
            return []
        # one input event can re-issue several relations: the hub crossings of all of them are this event's
        changes = self.engine.apply(event, offset, offsets)
        self.hub_changes.extend(self.engine.hub_changes)
        return changes

    def hubs(self) -> list[tuple[str, str, str, int]]:
        return self.engine.hubs()

    # -- the portable form (scoring.portable) ----------------------------------------------------------------------

    def current_events(self) -> list[tuple[Version, RelationshipEvent, str | None]]:
        """The current version of every relation (retractions included) and every judgement, as the original
        events, in version order: re-applied to a fresh layer they rebuild this state."""
        # read grouped by block, so that each block is inflated once (sorted by version below)
        by_block = sorted(self._current.values(), key=lambda current: id(current.block))
        held = [(current.version, self._event(current), offset_text(current.offset)) for current in by_block]
        held += [(judged.version, judged.event, None) for judged in self._judgements.values()]
        return sorted(held, key=lambda item: item[0])

    def seen_event_ids(self) -> set[str]:
        return set(self._seen)

    def has_applied(self, event_id: str) -> bool:
        return event_id in self._seen

    def references_beyond(self, named: set[tuple[str, Version]]) -> Iterator[dict]:
        """The newest reference of each id that no event in `named` ((id, version) of the events to be re-applied)
        states: one a superseded version stated, which the layer shows (its name, schema, topics) and which
        re-applying the current events alone would lose; and every judgement's stand-in (`stand_in`)."""
        for entity_id in sorted(self._refs):
            known = self._refs[entity_id]
            if known.version == JUDGED_NAME_VERSION:
                # a judgement's stand-in, at the version of the judgement that gave it: that judgement may be
                # superseded, and the current ones would give another (another name, another kind)
                observed_at, event_id = self._stand_ins[entity_id]
                yield {"entity_id": entity_id, "observed_at": observed_at.isoformat(), "event_id": event_id,
                       "ref": known.ref().model_dump(mode="json", by_alias=True, exclude_none=True),
                       "stand_in": True}
                continue
            if (entity_id, known.version) in named:
                continue  # an event re-applied states it again
            yield {"entity_id": entity_id, "observed_at": known.observed_at.isoformat(), "event_id": known.event_id,
                   "ref": known.ref().model_dump(mode="json", by_alias=True, exclude_none=True)}

    def restore_references(self, records: Iterable[dict]) -> None:
        """Before a portable file's events are loaded into this fresh layer: the references `references_beyond`
        gave, at their versions (an older event re-applied then leaves them as they were live)."""
        for record in records:
            version = self._restored_version(record)
            entity_id = str(record["entity_id"])
            if record.get("stand_in"):
                self._refs[entity_id] = _Known(JUDGED_NAME_VERSION, EntityRef.model_validate(record["ref"]),
                                               identifiers=())
                self._stand_ins[entity_id] = version
            else:
                known = self._refs[entity_id] = _Known(version, EntityRef.model_validate(record["ref"]))
                known.topics = ()  # what its current statements say: the events re-applied give them (`_restate_topics`)

    def _restored_version(self, record: dict) -> Version:
        return (self.engine.graph.shared_time(utc(dt.datetime.fromisoformat(record["observed_at"]))),
                str(record["event_id"]))

    def restored_reference_problems(self, records: Iterable[dict]) -> Iterator[tuple[str, str]]:
        """After a portable file's events are re-applied over the entity records `restore_references` took: (id, why)
        for each record `references_beyond` would not have written. Live, a reference a held event gives is that
        event's, so no record is dated by one (a stand-in only by its judgement, at its time); a stand-in is of an
        id no relation ever named, at the version of the newest judgement naming it, and is what that judgement said
        of it. (A record dated by an event the file does not hold, superseded, cannot be checked: its content is
        the file's word.)"""
        records = list(records)
        wanted = {str(record["event_id"]) for record in records}
        held: dict[str, tuple[Version, RelationshipEvent | None]] = {}  # event id -> (version, judgement or None)
        for current in self._current.values():
            if current.event_id in wanted:
                held[current.event_id] = ((current.observed_at, current.event_id), None)
        for judged in self._judgements.values():
            if judged.version[1] in wanted:
                held[judged.version[1]] = (judged.version, judged.event)
        for record in records:
            entity_id, version = str(record["entity_id"]), self._restored_version(record)
            event_version, judgement = held.get(version[1], (None, None))
            if not record.get("stand_in"):
                if event_version is not None:
                    yield entity_id, (f"dated by the event {version[1]!r}, which the file holds: a reference an "
                                      "event of the file gives is that event's, and export writes none")
                continue
            if event_version is not None and judgement is None:
                yield entity_id, f"dated by the event {version[1]!r}, a relation: a stand-in is a judgement's"
                continue
            if event_version is not None and event_version != version:
                yield entity_id, (f"dated {version[0].isoformat()} by the judgement {version[1]!r}, which the file "
                                  f"holds as of {event_version[0].isoformat()}")
                continue
            newest = self._stand_ins.get(entity_id)
            if newest is None:
                yield entity_id, "an event of the file states it; a stand-in is of an id only judgements name"
            elif newest != version:
                yield entity_id, (f"the judgement {newest[1]!r}, newer, names it; a stand-in is what the newest "
                                  "judgement naming the id said of it")
            elif judgement is not None:
                side = judgement.source if judgement.source.id == entity_id else judgement.target
                if side.id != entity_id:
                    yield entity_id, f"the judgement {version[1]!r} it is dated by does not name it"
                elif _Known(JUDGED_NAME_VERSION, side, identifiers=()).ref() != self._refs[entity_id].ref():
                    yield entity_id, f"it differs from what the judgement {version[1]!r} it is dated by says of it"

    def only_judged(self, entity_id: str) -> bool:
        """Whether only judgements name this id (what the layer shows of it is a judgement's stand-in)."""
        return entity_id in self._stand_ins

    def identifier_statements(self) -> Iterator[dict]:
        """Every identifier each id holds, by id: those the current versions of relations naming it state (what
        the layer merges on). A strong one also names each group of schemata it merges within and the statement
        its merges cite (their evidence)."""
        kinds: dict[tuple[str, tuple], list[str]] = {}
        for key, holders in self._holders.items():
            for holder in holders:
                kinds.setdefault((holder, key[1:]), []).append(key[0])
        for entity_id in sorted(self._identifiers):
            statements = []
            for key, identifier in sorted(self._identifiers[entity_id].items()):
                statement = identifier.model_dump(mode="json", exclude_none=True)
                seen = self._identifier_seen.get((entity_id, key))
                if (entity_id, key) in kinds and seen is not None:  # once for each kind it was stated with
                    statements.extend({**statement, "kind": kind, "event_id": seen[0], "publisher": seen[1]}
                                      for kind in sorted(kinds[(entity_id, key)]))
                else:
                    statements.append(statement)
            yield {"entity_id": entity_id, "identifiers": statements}

    def content_digest(self, event_id: str) -> int | None:
        """The digest of the content first applied under this event id (None: not applied, or without one)."""
        return self._seen.get(event_id)

    def restore_seen(self, event_ids: Iterable[str], clock: dt.datetime | None) -> None:
        """After re-applying `current_events`: every id applied before counts as applied (a redelivery stays a
        no-op), and the clock is the latest observed_at of any event, current or not (scores are read at it)."""
        for event_id in event_ids:
            self._seen.setdefault(event_id, None)
        graph = self.engine.graph
        if clock is not None and (graph._clock is None or clock > graph._clock):
            graph._clock = clock
            self.engine.rebuild({})

    def take_suggestions(self) -> list[RelationshipEvent]:
        """The merges the matcher proposed since the last call, as `proposed` same_as judgements (empty without a
        matcher)."""
        taken, self._proposals = self._proposals, []
        return taken

    def _propose(self, entity_ids: list[str], event: RelationshipEvent) -> None:
        """Ask the matcher about new or renamed ids; leave out pairs already merged, denied or judged."""
        for entity_id in entity_ids:
            for suggestion in self.matcher.add(self._matched_ref(entity_id)):
                a, b = suggestion.pair
                if self.clusters.canonical(a) == self.clusters.canonical(b) or self.denied_between(a, b):
                    continue
                proposal = suggestion.event(event.observed_at)
                if proposal.relation_id not in self._judgements:
                    self._proposals.append(proposal)

    def _matched_ref(self, entity_id: str) -> EntityRef:
        """What the matcher compares of one original id: its newest reference with the identifiers the current
        statements give it (`_restate`). The reference's own may hold one no current version states (a retraction
        repeats the ends it retracts) and lack one another relation states: a suggestion cited a retracted LEI."""
        return self._refs[entity_id].ref(identifiers=tuple(self._sorted_identifiers(entity_id)))

    def apply_many(self, events: Iterable[RelationshipEvent]) -> list[ScoreChange]:
        changes: list[ScoreChange] = []
        for event in events:
            changes.extend(self.apply(event))
        return changes

    def load(self, events: Iterable[RelationshipEvent | tuple],
             input_offsets: Mapping[str, int] | None = None) -> list[ScoreChange]:
        """Apply many events at once, as `Engine.load` does: the layer's bookkeeping and the engine's graph event by
        event, then one rebuild of every score. The state afterwards equals applying the events one by one; the
        changes compare each pair's score before and after the whole batch. Items are events, (event, offset) or
        (event, offset, raw, digest) with the message the event was parsed from and its content's
        digest (see `apply`)."""
        self._bulk = True
        try:
            with collector_paused():  # as `Engine.load`: millions of objects that live on, next to no cycles
                for item in events:
                    if isinstance(item, tuple):
                        self.apply(item[0], item[1], input_offsets, *item[2:])
                    else:
                        self.apply(item, None, input_offsets)
        finally:
            self._bulk = False
        return [ScoreChange(c.key[0], c.key[1], _lazy_restore(self, c), _lazy_restore_new(self, c), c.graph_version,
                            c.trigger_event_id, c.input_offsets, c.band)
                for c in self.engine.rebuild(input_offsets)]

    def score(self, actor_id: str, counterparty_id: str) -> RiskScore | None:
        held = self.engine.score(self.clusters.canonical(actor_id), self.clusters.canonical(counterparty_id))
        return self._restore(held) if held is not None else None

    def scores(self, min_band: Band | str | None = None, limit: int | None = None,
               entity_id: str | None = None) -> list[RiskScore]:
        entity = None if entity_id is None else self.clusters.canonical(entity_id)
        return [self._restore(s) for s in self.engine.scores(min_band, limit, entity)]

    def top_scores(self, limit: int = 10, entity_id: str | None = None) -> list[RiskScore]:
        return self.scores(limit=limit, entity_id=entity_id)

    def score_all(self, as_of: dt.date | None = None) -> list[RiskScore]:
        return [self._restore(s) for s in self.engine.score_all(as_of)]

    def recompute_all(self, as_of: dt.date | None = None) -> dict[PairKey, RiskScore]:
        """Every pair of the resolved graph computed from scratch (see Engine.recompute_all), restored."""
        return {key: self._restore(score) for key, score in self.engine.recompute_all(as_of).items()}

    def exposure(self, entity_id: str, as_of: dt.date | None = None):
        return self.engine.exposure(self.clusters.canonical(entity_id), as_of)

    # -- resolution queries ----------------------------------------------------------------------------------------

    def canonical(self, entity_id: str) -> str:
        return self.clusters.canonical(entity_id)

    def cluster(self, entity_id: str) -> dict | None:
        """The cluster an id belongs to, for `GET /entities/ID`: canonical id, members with their names and
        identifiers, the evidence of each merge, denials and refused merges, open suggestions. None: unknown id."""
        if entity_id not in self._refs:
            return None
        cid = self.clusters.canonical(entity_id)
        members = self.clusters.members(cid)
        ref = self._merged_ref(cid)
        return {
            "id": entity_id, "canonical_id": cid, "name": ref.name, "schema": ref.schema_.value,
            "members": [{"id": m, "name": self._refs[m].name, "schema": self._refs[m].schema_.value,
                         "identifiers": [str(i) for i in self._sorted_identifiers(m)]}
                        for m in members if m in self._refs],
            "merged_by": [self._evidence(e).model_dump(mode="json") for e in self.clusters.joined_by(cid)],
            "denied": [self._evidence(e).model_dump(mode="json") for e in self.clusters.denials(cid)],
            "refused": [{**self._evidence(e).model_dump(mode="json"), "refused_by": self._refusal(e)}
                        for e in self.clusters.refused(cid)],
            "suggestions": [s.model_dump(mode="json", by_alias=True) for s in self.suggestions(entity_id)],
        }

    def _refusal(self, edge: Edge) -> str:
        """Why a merge was refused: a denial, or ids of two kinds (a person is never one entity with a company)."""
        if self.clusters.refused_for_kind(edge):
            schemata = " and ".join(f"{self._name(end)} is a {self._refs[end].schema_.value}"
                                    for end in (edge.a, edge.b) if end in self._refs)
            return f"kind: a person and an organisation (or an asset) are never one entity ({schemata})"
        return "denial: a denied judgement keeps the two clusters apart"

    def suggestions(self, entity_id: str | None = None) -> list[RelationshipEvent]:
        """Open `proposed` / `in_discussion` judgements (of one cluster, or all), by relation id; a suggestion
        whose ids are already merged or denied is no longer open."""
        if entity_id is None:
            relation_ids = sorted(self._suggestions)
        else:  # those naming a member of its cluster: a cost that grows with the cluster, not with all suggestions
            relation_ids = sorted({relation_id for member in self.clusters.members(self.clusters.canonical(entity_id))
                                   for relation_id in members(self._suggested.get(member))})
        found = []
        for relation_id in relation_ids:
            event = self._suggestions[relation_id]
            a, b = self.clusters.canonical(event.source.id), self.clusters.canonical(event.target.id)
            if a == b or self._denied_between(a, b):
                continue
            found.append(event)
        return found

    def merged_ref(self, entity_id: str) -> EntityRef:
        """The reference the engine sees for an id's cluster (see `_merged_ref`)."""
        return self._merged_ref(self.clusters.canonical(entity_id))

    def denied_between(self, a: str, b: str) -> bool:
        """Whether a denial keeps the clusters of these two ids apart."""
        return self._denied_between(self.clusters.canonical(a), self.clusters.canonical(b))

    def entity_ref(self, entity_id: str) -> EntityRef | None:
        """The latest reference of an original id."""
        held = self._refs.get(entity_id)
        return held.ref() if held else None

    def relations_of(self, entity_id: str) -> list[RelationshipEvent]:
        """The live relations naming any id of this id's cluster (as their original events)."""
        ids = sorted({rid for m in self.clusters.members(entity_id) for rid in self._naming(m)})
        return [self._event(self._current[rid]) for rid in ids]

    def _event(self, current: _Current) -> RelationshipEvent:
        """A current relation's event, read back from its JSON. The JSON was checked when the event arrived:
        pydantic's own JSON parser reads it at once, without the admission checks' second pass over the document
        (nesting, dates: a split of a large entity reads back every relation of its members). What that parser
        alone would not take (text the admission's parser accepted, such as a lone surrogate) is read as it was
        admitted."""
        payload = self._events.read(current.block, current.slot)
        try:
            return RelationshipEvent.model_validate_json(payload, by_name=False)
        except ValueError:
            return validate_event(json.loads(payload))

    def _kind_of(self, entity_id: str) -> str | None:
        """The kind of an id (people, organisations, or its schema) by its newest reference; None: not named yet."""
        held = self._refs.get(entity_id)
        return None if held is None else _kind(held.schema_)

    def known_ids(self) -> list[str]:
        return sorted(self._refs)

    # -- bookkeeping -----------------------------------------------------------------------------------------------

    def _remember(self, ref: EntityRef, version: Version) -> bool:
        """Keep the newest reference of an original id; True when what the engine would show of it (name, schema,
        topics) changed. Its identifiers are the current statements' (`_restate`)."""
        held = self._refs.get(ref.id)
        changed = False
        # a judgement's stand-in (JUDGED_NAME_VERSION, no event id) gives way to any statement; else the reference
        # that names the entity (`graph.naming`)
        if held is None or not held.event_id or naming(ref, version) > naming(held, held.version):
            if held is not None and not held.event_id:  # a judgement's stand-in ends here
                self._stand_ins.pop(ref.id, None)
            known = self._refs[ref.id] = _Known(version, ref)
            # its topics are not this reference's alone but what its sources' current statements say
            # (`_restate_topics`, once this event's version is current)
            known.topics = held.topics if held is not None and held.event_id else ()
            changed = held is None or not _same_attributes(held, known) \
                or held.aliases != ref.aliases or held.country != ref.country
            if held is not None:
                known.id = held.id  # the one string kept for this id (relations and indexes share it)
                if known.name == held.name:  # the graph keeps the name it has while it is unchanged: share it
                    known.name = held.name
            shared = self._shared_tuples
            known.topics = shared.setdefault(known.topics, known.topics)
            known.aliases = shared.setdefault(known.aliases, known.aliases)
        return changed

    def _stated_topics(self, event: RelationshipEvent) -> tuple[tuple[str, ...], tuple[str, ...], str] | None:
        """What an upsert states of its ends' topics, and its publisher (`graph.publisher_key`), for
        `_Current.topics` (None: no topics)."""
        source, target = event.source.topics, event.target.topics
        if not source and not target:
            return None
        shared = self._shared_tuples
        stated = (shared.setdefault(source, source), shared.setdefault(target, target),
                  publisher_key(event.provenance.publisher))
        return shared.setdefault(stated, stated)

    def _restate_topics(self, relation_id: str, held: _Current | None, current: _Current) -> set[str]:
        """Show, of the ends of a relation's previous and new versions, the topics their sources state now; the ids
        whose topics changed.

        Each publisher's word on an id is its newest current statement that gives the id any topics: a reference
        that states none says nothing of them (a lobbying filing or a contract notice naming a ministry a register
        classifies leaves its tier as the register gave it), and a source's newer statement replaces what its older
        ones said (OpenSanctions' export calling a minister `role.pep.frmr` where last year's, whose directorship
        it no longer lists and never retracted, said `role.pep.natl`; a Wikidata refresh tiering an office anew).
        What a version no longer current stated counts no more: a source correcting or retracting its statement
        withdraws what it classified, as it withdraws identifiers. The publishers' words count together (a
        sanctions list's `sanction` beside a PEP register's `role.pep.natl`). Each id keeps the relation giving
        each publisher's word (`_topic_words`), so that only a word withdrawn is looked for again among the id's
        other statements: restating a register costs no pass over the thousands of relations naming a hub."""
        ids: set[str] = set()
        for version in (held, current):
            if version is not None and version.topics is not None:
                ids.update(end for end, topics in zip((version.source, version.target), version.topics) if topics)
        changed = set()
        for entity_id in ids:
            words = self._words_on(entity_id, relation_id, held)
            self._reword(entity_id, words, relation_id, current)
            if not words:
                self._topic_words.pop(entity_id, None)
            else:  # (one publisher's word, as most ids have, kept as its relation id alone)
                self._topic_words[entity_id] = next(iter(words.values())) if len(words) == 1 else words
            shown: set[str] = set()
            for word in words.values():
                shown.update(_topics_of(self._current[word], entity_id))
            known = self._refs[entity_id]
            if shown != set(known.topics):
                topics = tuple(sorted(shown))
                known.topics = self._shared_tuples.setdefault(topics, topics)
                changed.add(entity_id)
        return changed

    def _words_on(self, entity_id: str, relation_id: str, held: _Current | None) -> dict[str, str]:
        """Publisher -> the relation id giving its word on an id's topics (a copy), while `relation_id`'s version
        `held` is being replaced (a word given by it alone is held as its relation id: its publisher is held's)."""
        words = self._topic_words.get(entity_id)
        if words is None:
            return {}
        if type(words) is dict:
            return dict(words)
        return {(held if words == relation_id else self._current[words]).topics[2]: words}

    def _reword(self, entity_id: str, words: dict[str, str], relation_id: str, current: _Current) -> None:
        """Update the publishers' words on an id for a relation's new version `current`."""
        stated = current.topics is not None and _topics_of(current, entity_id)
        publisher = current.topics[2] if stated else None
        for held_by, word in list(words.items()):
            if word == relation_id and held_by != publisher:
                # the publisher's word was this relation's previous version, which its new one no longer gives:
                # its newest other statement giving any topics, if any
                newest = self._newest_word(entity_id, held_by)
                if newest is None:
                    del words[held_by]
                else:
                    words[held_by] = newest
        if stated:
            word = words.get(publisher)
            if word is None or word == relation_id or current.version > self._current[word].version:
                words[publisher] = relation_id
            ranked = self._ranked_words.get((entity_id, publisher))
            if ranked is not None:
                insort(ranked, (current.version, relation_id))
                if len(ranked) > 2 * len(self._naming(entity_id)) + _SMALL_RANKS:  # (its withdrawn statements)
                    ranked[:] = [entry for entry in ranked if self._gives_word(entity_id, publisher, *entry)]

    def _newest_word(self, entity_id: str, publisher: str) -> str | None:
        """The relation id of a publisher's newest current statement giving an id any topics. Of an id many
        relations name, its statements giving a publisher's word are kept in version order once one was looked
        for (`_ranked_words`): a source withdrawing its statements newest first (each its word when withdrawn)
        went through all the others each time."""
        ranked = self._ranked_words.get((entity_id, publisher))
        if ranked is not None:
            while ranked and not self._gives_word(entity_id, publisher, *ranked[-1]):
                ranked.pop()
            if ranked:
                return ranked[-1][1]
            del self._ranked_words[entity_id, publisher]
            return None
        naming = self._naming(entity_id)
        found = [(current.version, relation_id) for relation_id in naming
                 if self._gives_word(entity_id, publisher, (current := self._current[relation_id]).version,
                                     relation_id, current)]
        if not found:
            return None
        found.sort()
        if len(naming) > _SMALL_RANKS:
            self._ranked_words[entity_id, publisher] = found
        return found[-1][1]

    def _gives_word(self, entity_id: str, publisher: str, version: Version, relation_id: str,
                    current: _Current | None = None) -> bool:
        """Whether `relation_id`'s current version is `version` and gives the id topics from the publisher."""
        if current is None:
            current = self._current.get(relation_id)
        return current is not None and current.version == version and current.topics is not None \
            and current.topics[2] == publisher and bool(_topics_of(current, entity_id))

    @staticmethod
    def _statements(event: RelationshipEvent) -> dict[tuple[str, str, tuple], EntityIdentifier]:
        """What a relation's version states of its ends' identifiers: (id, kind, identifier key) -> identifier. The
        kind is the one this statement gives the id (`_kind`): one identifier merges only entities of one kind."""
        stated: dict[tuple[str, str, tuple], EntityIdentifier] = {}
        for ref in (event.source, event.target):
            for identifier in ref.identifiers:  # one written twice: as it is written first
                stated.setdefault((ref.id, _kind(ref.schema_), identifier.key), identifier)
        return stated

    def _restate(self, event: RelationshipEvent, withdrawn: dict, stated: dict, removed: list,
                 added: dict[tuple, Edge], recited: set[tuple]) -> set[str]:
        """A relation's current version is now `event`: what its previous version stated of identifiers and this
        one does not is withdrawn, what this one states is held (`stated` is empty for a retraction: it withdraws,
        it states nothing). An identifier stays an id's while any current version states it; the merges on one no
        current version states are undone. Returns the ids whose identifiers changed (what the engine shows of
        them changed)."""
        relation_id = event.relation_id
        changed: set[str] = set()
        touched: set[tuple[str, tuple]] = set()
        for statement, identifier in withdrawn.items():
            if statement in stated:
                continue
            entity_id, kind, key = statement
            touched.add((entity_id, key))
            if not discard_one(self._stating, statement, relation_id):
                continue
            if identifier.strong:
                self._leave(entity_id, kind, identifier, removed, added)
            if not any(self._stating_relations(entity_id, key)):
                held = self._identifiers[entity_id]
                del held[key]
                if not held:
                    del self._identifiers[entity_id]
                changed.add(entity_id)
        for statement, identifier in stated.items():
            entity_id, kind, key = statement
            touched.add((entity_id, key))
            fresh = statement not in self._stating
            add_one(self._stating, statement, relation_id)
            known = self._identifiers.setdefault(entity_id, {})
            if key not in known:
                known[key] = identifier
                changed.add(entity_id)
            if fresh and identifier.strong:
                self._hold(entity_id, kind, identifier, removed, added)
        # what each statement read here says, by relation id: its publisher and (id, key) -> the identifier as it
        # writes it (an event can state thousands: each looked up, not searched for)
        forms = {relation_id: (event.provenance.publisher,
                               {(entity_id, key): identifier for (entity_id, _, key), identifier in stated.items()})}
        for entity_id, key in touched:
            if self._cite_statement(entity_id, key, event, recited, forms):
                changed.add(entity_id)
        return changed

    def _hold(self, entity_id: str, kind: str, identifier: EntityIdentifier, removed: list,
              added: dict[tuple, Edge]) -> None:
        """The id holds a strong identifier among the ids of the kind a statement gives it: one identifier merges
        only entities of one kind (a QID on a person and on a company is a data error). An id stated under two kinds
        with one identifier holds it in both, whichever statement came first (a review: stated a company, then a
        person, with one QID, it merged with the QID's other person only when the person's statement came first);
        the clusters refuse what would join two kinds."""
        key = (kind, *identifier.key)
        holders = self._holders.setdefault(key, set())
        if entity_id in holders:
            return
        misfits = self._misfits.setdefault(key, set()) if not _fits(key, self._kind_of(entity_id)) \
            else self._misfits.get(key)
        _changed_edges(removed, added,
                       *_new_holder_links(key, identifier, holders, entity_id, misfits, self._kind_of))

    def _relink_retyped(self, kinds_before: dict[str, str | None], removed: list, added: dict[tuple, Edge]) -> None:
        """Ids whose kind changed may have been, or may now be, among the hubs of an identifier they hold with more
        than 16 holders (`_hubs_of` prefers holders of the identifier's kind): those identifiers' edges are re-made
        with the new kinds, before this event's own changes to the holders."""
        def kind_before(entity_id: str) -> str | None:
            return kinds_before[entity_id] if entity_id in kinds_before else self._kind_of(entity_id)

        # every key first, with its misfits as they were: an event retyping both its ends, holders of one
        # identifier, must not compare one end's change against the other's half-made one (a reviewing helper: a
        # holder kept the edges of a hub it no longer was, and stayed merged once it lost the identifier)
        touched: dict[tuple, tuple[EntityIdentifier, set[str]]] = {}
        for entity_id in kinds_before:
            for held_key, identifier in self._identifiers.get(entity_id, {}).items():
                for kind in IDENTIFIER_KINDS:
                    key = (kind, *held_key)
                    holders = self._holders.get(key)
                    if holders is not None and entity_id in holders and key not in touched:
                        touched[key] = (identifier, set(self._misfits.get(key, ())))
        for key in touched:
            holders = self._holders[key]
            for entity_id in kinds_before:
                if entity_id not in holders:
                    continue
                if _fits(key, self._kind_of(entity_id)):
                    misfits = self._misfits.get(key)
                    if misfits is not None:
                        misfits.discard(entity_id)
                        if not misfits:
                            del self._misfits[key]
                else:
                    self._misfits.setdefault(key, set()).add(entity_id)
        for key, (identifier, misfits_before) in touched.items():
            self._rehub(key, identifier, self._holders[key], misfits_before, kind_before, removed, added)

    def _rehub(self, key: tuple, identifier: EntityIdentifier, holders: set[str], misfits_before: set[str],
               kind_before: KindOf, removed: list, added: dict[tuple, Edge]) -> None:
        """Re-make one identifier's edges past 16 holders where a holder's kind changed its hubs."""
        if len(holders) <= _MAX_PAIRWISE:
            return
        hubs_before = _hubs_of(key, holders, misfits_before, kind_before)
        hubs = _hubs_of(key, holders, self._misfits.get(key), self._kind_of)
        if hubs != hubs_before:
            _changed_edges(removed, added, *_relinked(key, identifier, holders, hubs_before, holders, hubs))

    def _leave(self, entity_id: str, kind: str, identifier: EntityIdentifier, removed: list,
               added: dict[tuple, Edge]) -> None:
        """The id no longer holds a strong identifier within a kind (no current version states it so): its edges go,
        and where it was one of the hubs of more than 16 holders (`_HUBS`), the others are joined to the next."""
        key = (kind, *identifier.key)
        holders = self._holders.get(key)
        if holders is None or entity_id not in holders:
            return
        misfits = self._misfits.get(key)
        _changed_edges(removed, added,
                       *_leaving_holder_links(key, identifier, holders, entity_id, misfits, self._kind_of))
        if misfits is not None and not misfits:
            del self._misfits[key]
        if not holders:
            del self._holders[key]

    def _cite_statement(self, entity_id: str, key: tuple, event: RelationshipEvent, recited: set[tuple],
                        forms: dict[str, tuple[str, dict[tuple, EntityIdentifier]]]) -> bool:
        """Of the current statements of an identifier an id holds, the one with the lowest event id is the one a
        merge cites and the form the identifier is shown in (an LEI with or without the country a source wrote beside
        it), so that neither depends on the order the events arrived in (partitions interleave differently in a
        replay) nor outlives its statement. Looked for among all of them only when the one cited is no longer
        current: an identifier every relation of a large company restates costs one look an event. `forms`: the
        publisher and the identifiers of each relation's current version, by relation id, filled as others are read.
        True when the form shown changed."""
        known = self._identifiers.get(entity_id, {})
        if key not in known:
            self._identifier_seen.pop((entity_id, key), None)
            return False
        seen = self._identifier_seen.get((entity_id, key))
        if seen is not None and self._states(entity_id, key, seen[2]) \
                and self._current[seen[2]].event_id == seen[0]:
            if event.event_id >= seen[0] or not self._states(entity_id, key, event.relation_id):
                return False
            cited = (event.event_id, event.provenance.publisher, event.relation_id)
        else:
            stating = {relation_id for held in self._stating_relations(entity_id, key) for relation_id in held}
            relation_id = min(stating, key=lambda r: self._current[r].event_id)
            if relation_id not in forms:
                other = self._event(self._current[relation_id])
                forms[relation_id] = (other.provenance.publisher,
                                      {(ref.id, identifier.key): identifier for ref in (other.source, other.target)
                                       for identifier in ref.identifiers})
            cited = (self._current[relation_id].event_id, forms[relation_id][0], relation_id)
        if seen is not None and cited[:2] != seen[:2] and known[key].strong:
            recited.add((entity_id, key))
        self._identifier_seen[(entity_id, key)] = cited
        form = forms[cited[2]][1][(entity_id, key)]
        if form == known[key]:
            return False
        known[key] = form
        return True

    def _states(self, entity_id: str, key: tuple, relation_id: str) -> bool:
        """Whether this relation's current version states this identifier of this id (under any kind)."""
        return any(relation_id in held for held in self._stating_relations(entity_id, key))

    def _stating_relations(self, entity_id: str, key: tuple) -> Iterator[Collection[str]]:
        """The relations whose current versions state this identifier of this id: one collection for each kind they
        state the id as (each the index's own, so that asking for one relation costs one look, not a copy)."""
        for kind in IDENTIFIER_KINDS:
            held = self._stating.get((entity_id, kind, key))
            if held is not None:
                yield members(held)

    def _judge(self, event: RelationshipEvent, version: Version, removed: list, added: dict[tuple, Edge]) -> None:
        held = self._judgements.get(event.relation_id)
        if held is not None and version < held.version:
            return  # an older version of this judgement: history
        key = (JUDGEMENT, event.relation_id)
        removed.append(key)
        self._judgements[event.relation_id] = _Judged(version, event)
        open_before = self._suggestions.pop(event.relation_id, None)
        if open_before is not None:
            for end in (open_before.source.id, open_before.target.id):
                discard_one(self._suggested, end, event.relation_id)
        if event.op == Op.RETRACT:
            return
        if event.status == MERGING_JUDGEMENT or event.status == BLOCKING_JUDGEMENT:
            added[key] = Edge(key, JUDGEMENT, event.source.id, event.target.id, event.status == MERGING_JUDGEMENT,
                              event)
        elif event.status in SUGGESTION_JUDGEMENTS:
            self._suggestions[event.relation_id] = event
            for end in (event.source.id, event.target.id):
                add_one(self._suggested, end, event.relation_id)

    def _denied_between(self, a: str, b: str) -> bool:
        members_b = set(self.clusters.members(b))
        return any({e.a, e.b} & members_b for e in self.clusters.denials(a))

    def _touch(self, relation_id: str, source: str, target: str) -> None:
        for end in (source, target):
            add_one(self._touching, end, relation_id)

    def _untouch(self, relation_id: str, source: str, target: str) -> None:
        for end in (source, target):
            discard_one(self._touching, end, relation_id)

    def _naming(self, entity_id: str) -> Collection[str]:
        """The live relation ids naming an original id."""
        return members(self._touching.get(entity_id))

    def _merged_ref(self, cid: str) -> EntityRef:
        """One reference for a cluster: the canonical member's name and schema (the newest reference of it), or
        the first member's that names it where the canonical one is named only by its id (`graph.naming`), every
        other name of every member as an alias (a name that is only its member's id aside), the union of topics
        and identifiers."""
        shown = self._shown(cid)
        return shown.ref() if type(shown) is _Known else shown

    def _shown(self, cid: str) -> EntityRef | _Known:
        """What the engine must show of a cluster: the newest reference of an id standing alone (as held: most ids
        never merge, and an EntityRef kept per id would cost its 600 bytes again), else the merged reference."""
        held = self._merged_refs.get(cid)
        if held is not None:
            return held
        members = [m for m in self.clusters.members(cid) if m in self._refs]
        if len(members) == 1 and members[0] == cid:
            return self._refs[cid]
        known = self._refs
        head = known[cid] if cid in known else known[members[0]]
        if head.name == head.id:  # "Q7747" merged with "Vladimir Putin" is Vladimir Putin
            head = next((known[m] for m in sorted(members) if known[m].name != known[m].id), head)
        names = {n for m in members for n in (known[m].name, *known[m].aliases) if n != m}
        names.discard(head.name)
        countries = [known[m].country for m in members if known[m].country]
        identifiers = {i.key: i for m in members for i in self._identifiers.get(m, {}).values()}
        ref = EntityRef.model_construct(
            id=cid, schema_=head.schema_, name=head.name, aliases=tuple(sorted(names)),
            country=head.country or (countries[0] if countries else None),
            topics=tuple(sorted({t for m in members for t in known[m].topics})),
            identifiers=tuple(identifiers[k] for k in sorted(identifiers)))
        self._merged_refs[cid] = ref
        return ref

    def _sorted_identifiers(self, entity_id: str) -> list[EntityIdentifier]:
        held = self._identifiers.get(entity_id, {})
        return [held[k] for k in sorted(held)]

    # -- feeding the engine ----------------------------------------------------------------------------------------

    def _sync(self, relation_id: str, trigger: RelationshipEvent, offsets: dict, collected: dict) -> bool:
        """Bring the engine's copy of one relation to its resolved form; True when the engine received exactly the
        input event (no re-issue, nothing to restore)."""
        current = self._current.get(relation_id)
        if current is None:
            return True
        source, target = self.clusters.canonical(current.source), self.clusters.canonical(current.target)
        form = (source, target) if current.upsert and source != target else None
        sent = current.sent_version
        if sent is not None and current.form_sent() == form and current.sent_original == current.event_id:
            return True  # attributes alone are pushed by _push_attributes, not by re-issuing relations
        event = trigger if trigger.event_id == current.event_id else self._event(current)
        # every new version goes to the engine, a retraction or a set-aside relation as a retraction: the engine
        # clock is then the latest observed_at of every relation version, whatever the clusters were meanwhile
        version = current.version
        engine_id = event.event_id
        if sent is not None and (version <= sent or current.sent_original == event.event_id):
            engine_id = self._reissue_id(sent[1])
            version = (sent[0], engine_id)
            self._original_of[engine_id] = event.event_id
            self._trigger_of[engine_id] = trigger.event_id
        op = Op.UPSERT if form is not None else Op.RETRACT
        ends = form or (source, target)
        update = {"event_id": engine_id, "op": op, "source": self._engine_ref(event.source, ends[0]),
                  "target": self._engine_ref(event.target, ends[1])}
        engine_event = event if _unchanged(event, update) else event.model_copy(update=update)
        current.note_sent(version, form, event.event_id)
        changes = self._engine_apply(engine_event, current.offset, offsets)
        _collect(collected, changes)
        return engine_event is trigger

    def _reissue_id(self, held_id: str) -> str:
        """An engine event id that sorts after `held_id` (an input event id, or one this made) and was never used:
        the original part of `held_id`, "~", and the number of re-issues so far with its digit count first ("~15"
        < "~212"). It was the held id followed by "~": a relation whose ends were merged and split N times reached
        the engine under an id N characters long, and the map of re-issue ids held every one of them (quadratic)."""
        self._reissued += 1
        digits = str(self._reissued)
        return f"{held_id.partition('~')[0]}~{chr(ord('0') + len(digits))}{digits}"

    def _engine_ref(self, ref: EntityRef, cid: str) -> EntityRef:
        """The reference to send for one end: the event's own when it names the canonical id with the attributes
        the engine must show (the common case: the event reaches the engine unchanged), else the merged one."""
        shown = self._shown(cid)
        if ref.id == cid and (ref is shown or _same_attributes(ref, shown)):
            return ref
        return shown.ref() if type(shown) is _Known else shown

    def _push_attributes(self, cid: str, trigger: RelationshipEvent, offsets: dict, collected: dict) -> bool:
        """Make the engine show a cluster's merged attributes when no event it took carried them at a version it
        accepts (see the module docstring); True when something was pushed."""
        # what the engine holds of the entity is its graph's entity: the newest version sent wins there too
        held = self.engine.graph.entity(cid)
        if held is None or cid != self.clusters.canonical(cid):
            return False
        shown = self._shown(cid)
        if held.same_attributes(shown):
            return False
        ref = shown.ref() if type(shown) is _Known else shown
        # two entities named by one event share the held version: the count makes their pushes differ
        engine_id = self._reissue_id(held.event_id)
        version = (held.observed_at, engine_id)
        self._original_of[engine_id] = trigger.event_id
        self._trigger_of[engine_id] = trigger.event_id
        push = trigger.model_copy(update={
            "event_id": engine_id, "op": Op.RETRACT, "relation_id": f"{_ATTRIBUTE_RELATION}{cid}",
            "source": ref, "target": ref, "observed_at": version[0]})
        _collect(collected, self._engine_apply(push, None, offsets))
        return True

    # -- what the engine returns, as the layer publishes it --------------------------------------------------------

    def _finish(self, collected: dict, trigger: RelationshipEvent, offsets: dict, plain: bool,
                regrouped: Collection[PairKey] = ()) -> list[ScoreChange]:
        if plain and not self.clusters.merged and not self._original_of:
            return [changes[0] for changes in (collected[key] for key in sorted(collected))]  # the engine's own
        results = []
        for key in sorted(collected):
            changes = collected[key]
            new = changes[-1].new
            new_restored = self._restore(new, trigger.event_id) if new is not None else None
            # several engine events, or a re-issue, may leave the pair as it was once event ids are restored; one
            # change from the input event itself is a real change, and its old score is rendered only if asked
            if len(changes) > 1 or changes[0].trigger_event_id in self._original_of:
                old = changes[0].old
                old_restored = self._restore(old) if old is not None else None
                if _content(old_restored) == _content(new_restored) and key not in regrouped:
                    continue  # (the old score is restored with the clusters as they are now)
                previous = old_restored
            else:
                previous = _lazy_restore(self, changes[0])
            results.append(ScoreChange(key[0], key[1], previous, new_restored, self.engine.graph_version,
                                       trigger.event_id, offsets))
        return results

    def _restore(self, score: RiskScore, trigger: str | None = None) -> RiskScore:
        """The score with original event ids in its evidence (not re-issue ids) and the merges it passes through."""
        if not self.clusters.merged and not self._original_of:
            return score
        update: dict = {}
        trigger = trigger or self._trigger_of.get(score.trigger_event_id, score.trigger_event_id)
        if score.trigger_event_id != trigger:
            update["trigger_event_id"] = trigger
        if self._original_of:
            paths = {}
            for field in ("authority_paths", "commercial_paths"):
                held = getattr(score, field)
                restored = tuple(self._restore_path(p) for p in held)
                if any(a is not b for a, b in zip(restored, held)):
                    paths[field] = restored
            update.update(paths)
        if self.clusters.merged:
            nodes = [score.actor_id, score.counterparty_id]
            for path in (*score.authority_paths, *score.commercial_paths):
                for edge in path.edges:
                    nodes.extend((edge.source_id, edge.target_id))
            notes = []
            for node in dict.fromkeys(nodes):
                members = self.clusters.members(node)
                if len(members) > 1:
                    notes.append(self._note(node))
            if notes:
                update["merges"] = tuple(notes)
            listed = self.engine.config.evidence.max_listed_merges
            for end, field in ((score.actor_id, "actor_merged_ids"), (score.counterparty_id,
                                                                       "counterparty_merged_ids")):
                members = self.clusters.members(end)
                if len(members) > 1:
                    update[field] = members[:listed]  # the rest: the note's `member_ids_omitted`
        return score.model_copy(update=update) if update else score

    def _restore_path(self, path):
        edges = []
        changed = False
        for edge in path.edges:
            evidence = tuple(e.model_copy(update={"event_id": self._original_of[e.event_id]})
                             if e.event_id in self._original_of else e for e in edge.evidence)
            if any(a is not b for a, b in zip(evidence, edge.evidence)):
                changed = True
                edge = edge.model_copy(update={"evidence": evidence})
            edges.append(edge)
        return path.model_copy(update={"edges": tuple(edges)}) if changed else path

    def _note(self, cid: str) -> MergeNote:
        """The merged entity as a score shows it: its ids and merges, the first `evidence.max_listed_merges` of
        each (GET /entities/ID lists them all). An entity merged from thousands of ids made every score of it carry,
        and every rescoring render, all of them: 2 MB a score at 4,000 ids."""
        ref = self._merged_ref(cid)
        limit = self.engine.config.evidence.max_listed_merges
        joined, members = self.clusters.joined_by(cid), self.clusters.members(cid)
        evidence = tuple(self._evidence(e) for e in joined[:limit])
        names = " = ".join(f"{self._refs[m].name} ({m})" for m in members[:limit] if m in self._refs)
        if len(members) == 2 and len(joined) <= limit:  # "CZ (cz) = Changpeng Zhao (os-1), by judgement event j-1 ..."
            text = ", ".join([names, *(self._reason(e) for e in joined)])
        elif len(members) <= limit and len(joined) <= limit:
            text = f"{names}: " + "; ".join(e.text for e in evidence)
        else:  # as the worker words a note it cuts to fit max_message_bytes
            more = len(joined) - len(evidence)  # none when only ids are left out (26 ids, 25 merges)
            text = "; ".join([f"{ref.name} ({cid}) stands for {len(members)} ids", *(e.text for e in evidence),
                              *([f"{more} more merges left out (GET /entities/{cid})"] if more else [])])
        return MergeNote(canonical_id=cid, name=ref.name, member_ids=members[:limit], evidence=evidence, text=text,
                         evidence_omitted=len(joined) - len(evidence),
                         member_ids_omitted=max(0, len(members) - limit))

    def _reason(self, edge: Edge) -> str:
        """Why an edge joins (or keeps apart) its two ids, without their names."""
        if edge.kind == JUDGEMENT:
            event: RelationshipEvent = edge.detail
            verb = "by judgement" if edge.merging else "kept apart by judgement"
            return (f"{verb} event {event.event_id} from {event.provenance.publisher}"
                    + (f" ({event.properties.matcher})" if event.properties.matcher else ""))
        identifier: EntityIdentifier = edge.detail
        seen = [self._identifier_seen.get((end, identifier.key)) for end in (edge.a, edge.b)]
        sources = ", ".join(f"event {s[0]} from {s[1]}" for s in seen if s)
        return f"by shared identifier {identifier} ({sources})"

    def _evidence(self, edge: Edge) -> MergeEvidence:
        text = f"{self._name(edge.a)} {'=' if edge.merging else '≠'} {self._name(edge.b)} {self._reason(edge)}"
        if edge.kind == JUDGEMENT:
            event: RelationshipEvent = edge.detail
            prov, props = event.provenance, event.properties
            return MergeEvidence(
                kind=JUDGEMENT, source_id=edge.a, target_id=edge.b, event_id=event.event_id,
                publisher=prov.publisher, source_url=prov.source_url, matcher=props.matcher,
                criteria=props.criteria, observed_at=event.observed_at, text=text)
        identifier: EntityIdentifier = edge.detail
        statements = []
        for end in (edge.a, edge.b):
            seen = self._identifier_seen.get((end, identifier.key))
            if seen is not None:
                statements.append(IdentifierStatement(entity_id=end, event_id=seen[0], publisher=seen[1]))
        return MergeEvidence(kind=IDENTIFIER, source_id=edge.a, target_id=edge.b, identifier=str(identifier),
                             statements=tuple(statements), text=text)

    def _name(self, entity_id: str) -> str:
        held = self._refs.get(entity_id)
        return f"{held.name} ({entity_id})" if held else entity_id


def _unchanged(event: RelationshipEvent, update: dict) -> bool:
    return (event.event_id == update["event_id"] and event.op == update["op"] and event.source is update["source"]
            and event.target is update["target"])


def _kind(schema) -> str:
    """The group of schemata one identifier may merge: people, organisations, or one schema (securities...)."""
    return next((name for name, kind in zip(("people", "organizations"), RESOLVABLE_KINDS) if schema in kind),
                schema.value)


# every group of schemata a strong identifier merges within (`_kind`): what a portable file may name as its kind
IDENTIFIER_KINDS = frozenset(_kind(schema) for schema in EntitySchema)


def _identifier_key(key: tuple, a: str, b: str) -> tuple[str, ...]:
    return (IDENTIFIER, *key, a, b)


def _shared(identifier: EntityIdentifier) -> EntityIdentifier:
    """An identifier as the holders share it (its `key`): an LEI or a QID without the country one source wrote beside
    it, so that what a merge shows of it does not depend on whose statement came first (a review: the same LEI
    with and without "us" read `lei:us:...` or `lei:...` by the order of two events)."""
    if identifier.jurisdiction is None or IDENTIFIER_SCHEMES[identifier.scheme].jurisdiction:
        return identifier
    return identifier.model_copy(update={"jurisdiction": None})


def _changed_edges(removed: list, added: dict[tuple, Edge], fresh: list[Edge], gone: set[tuple]) -> None:
    """Note edges one holder's change adds and takes out, beside what the event changed already (an edge it added
    and now takes out again is dropped from what it adds)."""
    if gone:
        for key_gone in gone:
            added.pop(key_gone, None)
        removed.extend(sorted(gone))
    added.update((edge.key, edge) for edge in fresh)


KindOf = Callable[[str], str | None]


def _new_holder_links(key: tuple, identifier: EntityIdentifier, holders: set[str], holder: str,
                      misfits: set[str] | None = None,
                      kind_of: KindOf | None = None) -> tuple[list[Edge], set[tuple]]:
    """Adds `holder` to an identifier's `holders` (and to its `misfits`, the holders whose newest reference gives
    another kind than the identifier's, where its does); returns the edges that join it to them
    (`_identifier_edges`) and the keys of the edges it takes out: only the edges that differ. Re-stating all of them
    made every new holder of an identifier thousands share cost as many edges, and re-clustering all their ends,
    again. Past 16 holders a new one that is no hub (`_hubs_of`) is joined to the hubs; one that takes a hub's place
    is joined to every holder, and the hub it displaces keeps only its edges to the hubs."""
    misfit = misfits is not None and kind_of is not None and not _fits(key, kind_of(holder))
    if len(holders) > _MAX_PAIRWISE and holder not in holders:
        hubs = _hubs_of(key, holders, misfits, kind_of)
        before = set(holders) if misfit else None
        holders.add(holder)
        if misfit:
            misfits.add(holder)
        if misfits:
            after = _hubs_of(key, holders, misfits, kind_of)
        else:  # the smallest ids, found without looking at every holder again
            after = hubs if holder > hubs[-1] else sorted((*hubs[:-1], holder))
        if after == hubs:
            return _edges(key, identifier, [_pair(hub, holder) for hub in hubs]), set()
        displaced = [hub for hub in hubs if hub not in after]
        if before is not None or len(displaced) != 1:  # a hub of a kind of its own: the edges compared
            return _relinked(key, identifier, before if before is not None else holders - {holder}, hubs,
                             holders, after)
        return (_edges(key, identifier, _pairs_with(holder, holders)),
                {_identifier_key(key, *_pair(displaced[0], other)) for other in holders
                 if other != displaced[0] and other not in after})
    if len(holders) < _MAX_PAIRWISE and holder not in holders:  # every pair before and after: its own pairs
        holders.add(holder)
        if misfit:
            misfits.add(holder)
        return _edges(key, identifier, _pairs_with(holder, holders)), set()
    held = set(_identifier_edge_keys(key, holders, misfits, kind_of))
    holders.add(holder)
    if misfit:
        misfits.add(holder)
    edges = _identifier_edges(key, identifier, holders, misfits, kind_of)
    kept = held.intersection(edge.key for edge in edges)
    return [edge for edge in edges if edge.key not in kept], held - kept


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


def _pairs_with(holder: str, holders: Iterable[str]) -> list[tuple[str, str]]:
    """The pairs of `holder` and each other of `holders` (each in order), in order."""
    return sorted(_pair(holder, other) for other in holders if other != holder)


def _edges(key: tuple, identifier: EntityIdentifier, pairs: Iterable[tuple[str, str]]) -> list[Edge]:
    shared = _shared(identifier)
    return [Edge(_identifier_key(key, a, b), IDENTIFIER, a, b, True, shared) for a, b in pairs]


def _relinked(key: tuple, identifier: EntityIdentifier, holders_before: Iterable[str], hubs_before: list[str],
              holders_after: Iterable[str], hubs_after: list[str]) -> tuple[list[Edge], set[tuple]]:
    """The edges added and the keys taken out when the hubs of more than 16 holders change otherwise than one taking
    another's place (a kind's own hubs coming or going), by comparing the two edge sets."""
    before = {_pair(hub, other) for hub in hubs_before for other in holders_before if other != hub}
    after = {_pair(hub, other) for hub in hubs_after for other in holders_after if other != hub}
    return _edges(key, identifier, sorted(after - before)), {_identifier_key(key, *pair) for pair in before - after}


def _leaving_holder_links(key: tuple, identifier: EntityIdentifier, holders: set[str], holder: str,
                          misfits: set[str] | None = None,
                          kind_of: KindOf | None = None) -> tuple[list[Edge], set[tuple]]:
    """Takes `holder` out of an identifier's `holders` (and `misfits`); returns the edges that join the others
    without it and the keys of its own edges, as `_new_holder_links` does: past 17 holders, one that is no hub takes
    its edges to the hubs with it, and a hub's place goes to the next (`_hubs_of`), joined to every holder but the
    hubs."""
    if len(holders) > _MAX_PAIRWISE + 1:
        hubs = _hubs_of(key, holders, misfits, kind_of)
        holders.discard(holder)
        misfit = misfits is not None and holder in misfits
        if misfit:
            misfits.discard(holder)
        if holder not in hubs:
            return [], {_identifier_key(key, *_pair(hub, holder)) for hub in hubs}
        after = _hubs_of(key, holders, misfits, kind_of)
        promoted = [hub for hub in after if hub not in hubs]
        if misfit or len(promoted) != 1:
            return _relinked(key, identifier, holders | {holder}, hubs, holders, after)
        return (_edges(key, identifier, [_pair(promoted[0], other) for other in sorted(holders)
                                         if other != promoted[0] and other not in hubs]),
                {_identifier_key(key, *pair) for pair in _pairs_with(holder, holders)})
    if len(holders) <= _MAX_PAIRWISE:  # every pair before and after: its own pairs go
        holders.discard(holder)
        if misfits is not None:
            misfits.discard(holder)
        return [], {_identifier_key(key, *pair) for pair in _pairs_with(holder, holders)}
    before = set(_identifier_edge_keys(key, holders, misfits, kind_of))
    holders.discard(holder)
    if misfits is not None:
        misfits.discard(holder)
    edges = _identifier_edges(key, identifier, holders, misfits, kind_of)
    return [edge for edge in edges if edge.key not in before], before.difference(edge.key for edge in edges)


def _identifier_edges(key: tuple, identifier: EntityIdentifier, holders: Collection[str],
                      misfits: Collection[str] | None = None, kind_of: KindOf | None = None) -> list[Edge]:
    """The edges joining the holders of one identifier (in order): every pair of them, or, when there are more than
    `_MAX_PAIRWISE`, every pair with one of the hubs in it (`_hubs_of`)."""
    return _edges(key, identifier, _edge_pairs(key, holders, misfits, kind_of))


def _identifier_edge_keys(key: tuple, holders: Collection[str], misfits: Collection[str] | None = None,
                          kind_of: KindOf | None = None) -> list[tuple]:
    return [_identifier_key(key, a, b) for a, b in _edge_pairs(key, holders, misfits, kind_of)]


def _edge_pairs(key: tuple, holders: Collection[str], misfits: Collection[str] | None,
                kind_of: KindOf | None) -> list[tuple[str, str]]:
    ordered = sorted(holders)
    if len(ordered) <= _MAX_PAIRWISE:
        return [(a, b) for i, a in enumerate(ordered) for b in ordered[i + 1:]]
    hubs = _hubs_of(key, ordered, misfits, kind_of)
    return sorted({_pair(hub, other) for hub in hubs for other in ordered if other != hub})


def _fits(key: tuple, kind: str | None) -> bool:
    return kind is None or kind == key[0]


def _hubs_of(key: tuple, holders: Iterable[str], misfits: Collection[str] | None,
             kind_of: KindOf | None) -> list[str]:
    """The holders of an identifier every other is joined to past `_MAX_PAIRWISE` (in order): the `_HUBS` smallest
    of those whose kind (by their newest reference) is the identifier's (`key[0]`), and the `_HUBS` smallest of each
    other kind among the `misfits` (the holders whose kind is another). The clusters refuse an edge that joins two
    kinds: three smallest holders of another kind (ids stated as companies with the LEI whose newest references call
    them persons) left every holder alone where joining every pair merges the rest; three such ids were enough to
    undo a merge. Hubs of each kind join the holders of each kind as joining every pair does."""
    if not misfits:
        return heapq.nsmallest(_HUBS, holders)
    hubs = heapq.nsmallest(_HUBS, (holder for holder in holders if holder not in misfits))
    by_kind: dict[str | None, list[str]] = {}
    for holder in sorted(misfits):
        by_kind.setdefault(kind_of(holder), []).append(holder)
    hubs.extend(holder for group in by_kind.values() for holder in group[:_HUBS])
    return sorted(hubs)


def _lazy_restore(layer: ResolvingEngine, change: ScoreChange):
    if change.previous is None:
        return None
    return lambda: layer._restore(change.old) if change.old is not None else None


def _lazy_restore_new(layer: ResolvingEngine, change: ScoreChange):
    if change.current is None:
        return None
    return lambda: layer._restore(change.new)


def _same_attributes(a: EntityRef | _Known, b: EntityRef | _Known) -> bool:
    """Whether the engine's graph would show the two alike."""
    return shown_alike(a.name, a.schema_, a.topics, b)


def _collect(collected: dict, changes: list[ScoreChange]) -> None:
    for change in changes:
        collected.setdefault(change.key, []).append(change)


def _content(score: RiskScore | None):
    if score is None:
        return None
    return score.model_dump(exclude={"graph_version", "trigger_event_id", "input_offsets"})
