"""The temporal relationship graph: one record per relation, the latest version wins, queries by validity date.

Applying an event is idempotent (an event id is applied once) and order-independent: versions of one relation are
ordered by (observed_at, event_id), and an older version never overwrites a newer one, also across a retraction
(the version of a retracted relation is kept as a tombstone, so a late older upsert cannot resurrect it). Entity
attributes (name, schema, topics) follow the newest event that mentions the entity, whatever the relation.

Storage: one networkx DiGraph per `Layer`. The data of edge u -> v is the `Relation` record itself (a `__slots__`
object), or a tuple of records (sorted by relation id) when several relations join u to v in one layer, rather
than attribute dicts (a dict per edge costs ~180 bytes, and a MultiDiGraph's key dict as much again). Evidence
strings shared by many relations (article URL, publisher, extractor) are interned once. Validity dates are kept
on the record and filtered at query time, so "as of D" needs no rebuild.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field

import networkx as nx

from schemas.events import EntityRef, Op, RelationshipEvent
from schemas.vocabulary import EntitySchema, RelationType, Status
from scoring.semantics import LAYER_OF, Layer

Version = tuple[dt.datetime, str]


class Citation:
    """Where a statement comes from; shared by every relation citing the same article through the same extractor."""

    __slots__ = ("source_url", "publisher", "extractor")

    def __init__(self, source_url: str, publisher: str, extractor: str):
        self.source_url = source_url
        self.publisher = publisher
        self.extractor = extractor


class Relation:
    """The current version of one relation."""

    __slots__ = ("relation_id", "type", "source", "target", "start", "end", "status", "confidence", "stake",
                 "amount", "currency", "observed_at", "event_id", "citation", "quote", "offset")

    def __init__(self, event: RelationshipEvent, citation: Citation, offset: str | None):
        props = event.properties
        self.relation_id = event.relation_id
        self.type: RelationType = event.relation_type
        self.source: str = event.source.id
        self.target: str = event.target.id
        self.start: dt.date | None = event.start_date
        self.end: dt.date | None = event.end_date
        self.status: Status = event.status
        self.confidence: float = event.provenance.confidence
        self.stake: float | None = None if props.percentage is None else props.percentage / 100.0
        self.amount: float | None = props.amount
        self.currency: str | None = props.currency
        self.observed_at: dt.datetime = utc(event.observed_at)
        self.event_id: str = event.event_id
        self.citation = citation
        self.quote: str | None = event.provenance.quote
        self.offset = offset

    @property
    def version(self) -> Version:
        return self.observed_at, self.event_id

    @property
    def layer(self) -> Layer:
        return LAYER_OF[self.type]

    def other(self, node: str) -> str:
        return self.target if node == self.source else self.source

    def __repr__(self) -> str:
        return f"Relation({self.relation_id}: {self.source} -{self.type.value}-> {self.target}, {self.event_id})"


class Entity:
    __slots__ = ("id", "name", "schema", "topics", "version", "degree")

    def __init__(self, ref: EntityRef, version: Version, topics: frozenset[str]):
        self.id = ref.id
        self.name: str = ref.name
        self.schema: EntitySchema = ref.schema_
        self.topics = topics
        self.version = version
        self.degree = 0  # live relations touching it

    def same_attributes(self, ref: EntityRef) -> bool:
        return self.name == ref.name and self.schema == ref.schema_ and self.topics == frozenset(ref.topics)


class _Layer(nx.DiGraph):
    """A DiGraph whose nodes share one (never written) attribute dict: the scorer keeps entity attributes on
    `Entity`, and a dict per node and layer would cost ~64 bytes each for nothing. Edge data: see the module
    docstring; read it through `records`."""

    _NO_ATTRIBUTES: dict = {}
    node_attr_dict_factory = staticmethod(lambda: _Layer._NO_ATTRIBUTES)


@dataclass(slots=True)
class GraphChange:
    """What applying one event changed."""

    event_id: str
    relations: list[tuple[Relation | None, Relation | None]] = field(default_factory=list)  # (before, after)
    entities: list[str] = field(default_factory=list)  # ids whose name, schema or topics changed
    stale: bool = False  # an older version than the one held: counted, but changes no relation
    # (node, layer, direction) whose adjacency went from empty to non-empty or back
    presence: list[tuple[str, Layer, int]] = field(default_factory=list)


def records(entry) -> tuple[Relation, ...]:
    """The relations stored on one edge of a layer (a record, or a tuple of them)."""
    return entry if type(entry) is tuple else (entry,)


def utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is dt.UTC:
        return moment  # the common case; no copy
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


_EMPTY: dict = {}


class TemporalGraph:
    def __init__(self):
        self._layers = tuple(_Layer() for _ in Layer)
        self._relations: dict[str, Relation] = {}
        self._tombstones: dict[str, Version] = {}
        self._entities: dict[str, Entity] = {}
        self._events: set[str] = set()
        self._citations: dict[tuple[str, str, str], Citation] = {}
        self._topic_sets: dict[frozenset[str], frozenset[str]] = {}  # one object per distinct set of topics
        self._node_count = 0
        self._clock: dt.datetime | None = None

    # -- applying events ------------------------------------------------------------------------------------------

    def apply(self, event: RelationshipEvent, offset: str | None = None) -> GraphChange | None:
        """Apply one event; None if this event id was applied before (then nothing changes)."""
        if event.event_id in self._events:
            return None
        self._events.add(event.event_id)
        observed = utc(event.observed_at)
        if self._clock is None or observed > self._clock:
            self._clock = observed
        version: Version = (observed, event.event_id)
        change = GraphChange(event.event_id)
        for ref in (event.source, event.target):
            if self._update_entity(ref, version):
                change.entities.append(ref.id)
        held = self.version_of(event.relation_id)
        if held is not None and version < held:
            change.stale = True
            return change
        before = self._relations.get(event.relation_id)
        after = Relation(event, self._citation(event), offset) if event.op is Op.UPSERT else None
        presence = {(rec.source, rec.layer, 0): None for rec in (before, after) if rec is not None}
        presence.update({(rec.target, rec.layer, 1): None for rec in (before, after) if rec is not None})
        for key in presence:
            presence[key] = bool(self.adjacency(*key))
        if before is not None:
            self._unlink(before)
        if after is not None:
            self._link(after)
            self._tombstones.pop(event.relation_id, None)
        else:
            self._tombstones[event.relation_id] = version
        change.relations.append((before, after))
        change.presence = [key for key, had in presence.items() if had != bool(self.adjacency(*key))]
        return change

    def _update_entity(self, ref: EntityRef, version: Version) -> bool:
        entity = self._entities.get(ref.id)
        if entity is None:
            self._entities[ref.id] = Entity(ref, version, self._interned_topics(ref.topics))
            return True
        if version < entity.version:
            return False
        changed = not entity.same_attributes(ref)
        if changed:
            entity.name, entity.schema = ref.name, ref.schema_
            entity.topics = self._interned_topics(ref.topics)
        entity.version = version
        return changed

    def _interned_topics(self, topics) -> frozenset[str]:
        key = frozenset(topics)
        return self._topic_sets.setdefault(key, key)

    def _citation(self, event: RelationshipEvent) -> Citation:
        prov = event.provenance
        key = (prov.source_url, prov.publisher, f"{prov.extractor.name}/{prov.extractor.version}")
        citation = self._citations.get(key)
        if citation is None:
            citation = self._citations[key] = Citation(*key)
        return citation

    def _link(self, rec: Relation) -> None:
        layer = self._layers[rec.layer]
        u, v = rec.source, rec.target
        for node in (u, v):
            if node not in layer._succ:
                layer.add_node(node)
        held = layer._succ[u].get(v)
        if held is None:
            entry = rec
        else:
            entry = tuple(sorted((*records(held), rec), key=lambda r: r.relation_id))
        layer._succ[u][v] = layer._pred[v][u] = entry
        self._relations[rec.relation_id] = rec
        for node in (u, v):
            entity = self._entities[node]
            if entity.degree == 0:
                self._node_count += 1
            entity.degree += 1

    def _unlink(self, rec: Relation) -> None:
        layer = self._layers[rec.layer]
        u, v = rec.source, rec.target
        rest = tuple(r for r in records(layer._succ[u][v]) if r is not rec)
        if rest:
            layer._succ[u][v] = layer._pred[v][u] = rest if len(rest) > 1 else rest[0]
        else:
            del layer._succ[u][v]
            del layer._pred[v][u]
        for node in (u, v):
            if node in layer._succ and not layer._succ[node] and not layer._pred[node]:
                layer.remove_node(node)
            entity = self._entities[node]
            entity.degree -= 1
            if entity.degree == 0:
                self._node_count -= 1
        del self._relations[rec.relation_id]

    # -- reading --------------------------------------------------------------------------------------------------

    @property
    def clock(self) -> dt.datetime | None:
        """The latest observed_at of any applied event: the engine's notion of "now"."""
        return self._clock

    @property
    def event_count(self) -> int:
        return len(self._events)

    @property
    def relation_count(self) -> int:
        return len(self._relations)

    @property
    def node_count(self) -> int:
        """Entities with at least one live relation."""
        return self._node_count

    @property
    def entity_count(self) -> int:
        return len(self._entities)

    @property
    def retracted_count(self) -> int:
        return len(self._tombstones)

    def version_of(self, relation_id: str) -> Version | None:
        """The latest version seen of a relation, live or retracted."""
        rec = self._relations.get(relation_id)
        return rec.version if rec is not None else self._tombstones.get(relation_id)

    def relation(self, relation_id: str) -> Relation | None:
        return self._relations.get(relation_id)

    def relations(self) -> Iterator[Relation]:
        return iter(self._relations.values())

    def entity(self, entity_id: str) -> Entity | None:
        return self._entities.get(entity_id)

    def name(self, entity_id: str) -> str:
        entity = self._entities.get(entity_id)
        return entity.name if entity is not None else entity_id

    def schema(self, entity_id: str) -> EntitySchema | None:
        entity = self._entities.get(entity_id)
        return entity.schema if entity is not None else None

    def topics(self, entity_id: str) -> frozenset[str]:
        entity = self._entities.get(entity_id)
        return entity.topics if entity is not None else frozenset()

    def adjacency(self, node: str, layer: Layer, direction: int) -> dict[str, Relation | tuple[Relation, ...]]:
        """neighbour -> record(s) (see `records`) in one layer; direction 0 = out-edges, 1 = in-edges. Read only."""
        graph = self._layers[layer]
        adj = graph._succ if direction == 0 else graph._pred
        return adj.get(node, _EMPTY)

    def fanout(self, node: str, layer: Layer, direction: int) -> int:
        return len(self.adjacency(node, layer, direction))

    def between(self, u: str, v: str, layer: Layer) -> tuple[Relation, ...]:
        """Relations u -> v in one layer, by relation id."""
        held = self._layers[layer]._succ.get(u, _EMPTY).get(v)
        return () if held is None else records(held)

    def nodes_with_in_edges(self, layer: Layer) -> list[str]:
        graph = self._layers[layer]
        return sorted(node for node, preds in graph._pred.items() if preds)

    def nodes_with_out_edges(self, layer: Layer) -> list[str]:
        graph = self._layers[layer]
        return sorted(node for node, succs in graph._succ.items() if succs)

    def layer_graph(self, layer: Layer) -> nx.DiGraph:
        """The networkx graph of one layer, for ad-hoc analysis; edge data: see `records`."""
        return self._layers[layer]

    def relations_at(self, day: dt.date) -> Iterator[Relation]:
        """Relations valid on `day` (started, not ended), in relation-id order."""
        for rid in sorted(self._relations):
            rec = self._relations[rid]
            if (rec.start is None or rec.start <= day) and (rec.end is None or rec.end >= day):
                yield rec
