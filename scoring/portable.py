"""The portable, versioned form of an engine and alert tracker: JSON lines that survive an upgrade.

The fast snapshot (`streams.snapshots`) pickles this code's classes and is useless to another version. This form
holds only what the scoring reads, in the public contract's terms, so that any later version can load it with
`Engine.load` and rescore everything under its own rules:

    {"record": "header", "format": "coi-risk-portable-state", "format_version": 1, "clock": ..., ...}
    {"record": "relation", "event": <RelationshipEvent of the current version>, "offset": "0:17"}
    {"record": "tombstone", "relation_id": ..., "observed_at": ..., "event_id": ...}   # retracted relations
    {"record": "entity", "id": ..., "name": ..., "schema": ..., "topics": [...], "observed_at": ..., "event_id": ...}
    {"record": "events_seen", "event_ids": [...]}        # ids already applied (an event is applied once), chunked
    {"record": "alert_open", "actor_id": ..., "counterparty_id": ..., "alert_id": ..., "sequence": ..., ...}
    {"record": "alert_episodes", "actor_id": ..., "counterparty_id": ..., "episodes": ...}

A relation's event carries the fields the graph keeps (type, endpoints, dates, status, confidence, stake, amount,
currency, citation, quote); fields the scoring never reads (aliases, country, retrieved_at, free-text properties)
are not kept by the graph and so are not in the export (`retrieved_at` is written as `observed_at`). Importing
rebuilds every score from the graph: the scores are the same, their bookkeeping (`trigger_event_id`,
`input_offsets`) is that of the import. Pure: no Kafka, no files; `streams.commands.snapshot` does the I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any

from schemas.events import RelationshipEvent
from schemas.outputs import Band
from schemas.vocabulary import EntitySchema
from scoring.alerts import AlertTracker, _OpenAlert
from scoring.config import ScoringConfig
from scoring.engine import Engine
from scoring.graph import Entity, Relation, utc

FORMAT = "coi-risk-portable-state"
FORMAT_VERSION = 1
_EVENT_IDS_PER_LINE = 10_000


class PortableFormatError(ValueError):
    pass


def export_state(engine: Engine, tracker: AlertTracker, extra_header: dict[str, Any] | None = None
                 ) -> Iterator[dict[str, Any]]:
    """The records of the portable form, header first (serialize each as one JSON line)."""
    graph = engine.graph
    yield {"record": "header", "format": FORMAT, "format_version": FORMAT_VERSION,
           "clock": graph.clock.isoformat() if graph.clock else None, "relations": graph.relation_count,
           "events_seen": graph.event_count, **(extra_header or {})}
    for rec in sorted(graph.relations(), key=lambda r: r.relation_id):
        yield {"record": "relation", "event": _event_of(rec, graph).model_dump(mode="json", by_alias=True,
                                                                               exclude_none=True),
               "offset": rec.offset}
    for relation_id, (observed_at, event_id) in sorted(graph._tombstones.items()):
        yield {"record": "tombstone", "relation_id": relation_id, "observed_at": observed_at.isoformat(),
               "event_id": event_id}
    for entity_id in sorted(graph._entities):
        entity: Entity = graph._entities[entity_id]
        yield {"record": "entity", "id": entity.id, "name": entity.name, "schema": entity.schema.value,
               "topics": sorted(entity.topics), "observed_at": entity.version[0].isoformat(),
               "event_id": entity.version[1]}
    seen = sorted(graph._events)
    for start in range(0, len(seen), _EVENT_IDS_PER_LINE):
        yield {"record": "events_seen", "event_ids": seen[start:start + _EVENT_IDS_PER_LINE]}
    for (actor, counterparty), alert in sorted(tracker._open.items()):
        yield {"record": "alert_open", "actor_id": actor, "counterparty_id": counterparty, "alert_id": alert.alert_id,
               "sequence": alert.sequence, "band": alert.band.value, "score": alert.score}
    for (actor, counterparty), episodes in sorted(tracker._episodes.items()):
        yield {"record": "alert_episodes", "actor_id": actor, "counterparty_id": counterparty, "episodes": episodes}


def import_state(records: Iterable[dict[str, Any]], config: ScoringConfig | None = None,
                 input_offsets: dict[str, int] | None = None) -> tuple[Engine, AlertTracker, dict[str, Any]]:
    """(engine, tracker, header) from the records of `export_state`: the relations are bulk-loaded (as
    `Engine.load` does: the graph first, then one rebuild), after the graph's bookkeeping is restored."""
    records = iter(records)
    header = next(records, None)
    if not header or header.get("record") != "header" or header.get("format") != FORMAT:
        raise PortableFormatError("not a coi-risk portable state file (no header line)")
    if header.get("format_version") != FORMAT_VERSION:
        raise PortableFormatError(f"portable format version {header.get('format_version')} is not supported by "
                                  f"this version (reads {FORMAT_VERSION})")
    engine = Engine(config)
    tracker = AlertTracker(engine.config)
    graph = engine.graph
    entities, tombstones, seen = [], {}, []
    for number, record in enumerate(records, start=2):
        kind = record.get("record")
        if kind == "relation":
            graph.apply(RelationshipEvent.model_validate(record["event"]), record.get("offset"))
        elif kind == "tombstone":
            tombstones[record["relation_id"]] = (_time(record["observed_at"]), record["event_id"])
        elif kind == "entity":
            entities.append(record)
        elif kind == "events_seen":
            seen.extend(record["event_ids"])
        elif kind == "alert_open":
            tracker._open[(record["actor_id"], record["counterparty_id"])] = _OpenAlert(
                record["alert_id"], int(record["sequence"]), Band(record["band"]), float(record["score"]))
        elif kind == "alert_episodes":
            tracker._episodes[(record["actor_id"], record["counterparty_id"])] = int(record["episodes"])
        else:
            raise PortableFormatError(f"line {number}: unknown record {kind!r}")
    # what applying the relations alone cannot restore: retractions, every id already applied, entity attributes
    # from events that are no longer current, and the clock (the latest observed_at of any event)
    graph._tombstones.update(tombstones)
    graph._events.update(seen)
    for record in entities:
        entity = graph._entities.get(record["id"])
        if entity is None:
            continue  # an entity only retracted relations mentioned: nothing reads it
        entity.name, entity.schema = record["name"], EntitySchema(record["schema"])
        entity.topics = graph._interned_topics(record["topics"])
        entity.version = (_time(record["observed_at"]), record["event_id"])
    if header.get("clock"):
        graph._clock = _time(header["clock"])
    engine.rebuild(input_offsets or {})
    return engine, tracker, header


def _time(text: str) -> dt.datetime:
    return utc(dt.datetime.fromisoformat(text))


def _percentage(stake: float) -> float:
    """The percentage whose /100 gives back exactly the stake the graph holds."""
    for candidate in (round(stake * 100.0, 10), round(stake * 100.0, 12), stake * 100.0):
        if candidate / 100.0 == stake:
            return candidate
    return stake * 100.0


def _event_of(rec: Relation, graph) -> RelationshipEvent:
    source, target = graph._entities[rec.source], graph._entities[rec.target]
    extractor_name, _, extractor_version = rec.citation.extractor.rpartition("/")
    properties = {}
    if rec.stake is not None:
        properties["percentage"] = _percentage(rec.stake)
    if rec.amount is not None:
        properties["amount"] = rec.amount
    if rec.currency is not None:
        properties["currency"] = rec.currency
    return RelationshipEvent.model_validate({
        "schema_version": "1.0", "event_id": rec.event_id, "relation_id": rec.relation_id,
        "relation_type": rec.type.value,
        "source": {"id": source.id, "schema": source.schema.value, "name": source.name,
                   "topics": sorted(source.topics)},
        "target": {"id": target.id, "schema": target.schema.value, "name": target.name,
                   "topics": sorted(target.topics)},
        "properties": properties, "start_date": rec.start, "end_date": rec.end, "status": rec.status.value,
        "observed_at": rec.observed_at,
        "provenance": {"source_url": rec.citation.source_url, "publisher": rec.citation.publisher,
                       "retrieved_at": rec.observed_at,
                       "extractor": {"name": extractor_name, "version": extractor_version},
                       "confidence": rec.confidence, "quote": rec.quote}})
