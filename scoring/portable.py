"""The portable, versioned form of the scoring state: JSON lines that survive an upgrade.

The fast snapshot (`streams.snapshots`) pickles this code's classes and is useless to another version. This form
holds the state in the public contract's terms: the current version of every relation and every `same_as`
judgement as the original `RelationshipEvent` the resolution layer keeps (retractions included, so a retracted
relation stays retracted), so that any later version re-applies them through its own resolution layer and engine
and rescores everything under its own rules:

    {"record": "header", "format": "coi-risk-portable-state", "format_version": 4, "clock": ..., ...}
    {"record": "event", "event": <RelationshipEvent>, "offset": "0:17"}   # in version order (observed_at, event_id)
    {"record": "events_seen", "event_ids": [...]}        # ids already applied (an event is applied once), chunked
    {"record": "entity", "entity_id": ..., "observed_at": ..., "event_id": ..., "ref": <EntityRef>}
                                                         # an id's newest reference, where no current event states it
    {"record": "identifiers", "entity_id": ..., "identifiers": [...]}   # every identifier an id was ever stated with
    {"record": "alert_pair", "actor_id": ..., "counterparty_id": ..., "case_id": ..., "score": <RiskScore>}
    {"record": "alert_open", "actor_id": ..., "case_id": ..., "alert_id": ..., "sequence": ..., "lead": <RiskScore>}
    {"record": "alert_episodes", "actor_id": ..., "case_id": ..., "episodes": ...}
    {"record": "end", "records": {"event": ..., "events_seen": ..., ...}}   # how many of each kind came before

The identifiers records (format version 4) carry the union of identifiers each id was ever stated with: the layer
merges on it, also on identifiers that only a version no longer current stated, which the events alone would lose.
The entity records (version 4 too) carry the newest reference of an id (name, schema, topics...) where only a
version no longer current stated it.

The end record (format version 3) makes a file cut short detectable: a file is read lines at a time, and an export
interrupted, or a copy cut off, at a line boundary parses as well as a whole one, but would import fewer relations
and alerts under the whole file's offsets, so that a worker starting there never replays what is missing. A file
without its end record, or whose counts differ, is refused. Version 2 files (without it) and version 3 files
(without identifiers records) are still read; they lose the merges of identifiers no current version states.

What it does not carry: the scores' bookkeeping
(`trigger_event_id`, `input_offsets`), which is that of the import. Pure: no Kafka, no files;
`streams.commands.snapshot` does the I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any

from schemas.events import RelationshipEvent
from schemas.outputs import Band, RiskScore
from scoring.alerts import AlertTracker, _OpenAlert
from scoring.config import ScoringConfig
from scoring.engine import Engine
from scoring.graph import utc
from scoring.resolution import ResolvingEngine

FORMAT = "coi-risk-portable-state"
FORMAT_VERSION = 4
READABLE_VERSIONS = (2, 3, 4)  # 2: without the end record; 3: without the identifiers records
_EVENT_IDS_PER_LINE = 10_000


class PortableFormatError(ValueError):
    pass


def _resolving(engine: Engine | ResolvingEngine) -> ResolvingEngine:
    if isinstance(engine, ResolvingEngine):
        return engine
    raise PortableFormatError("the portable form is written from the resolution layer (scoring.resolution), which "
                              "keeps every relation's original event; a bare Engine keeps only its resolved form")


def export_state(engine: Engine | ResolvingEngine, tracker: AlertTracker, extra_header: dict[str, Any] | None = None
                 ) -> Iterator[dict[str, Any]]:
    """The records of the portable form, header first, the end record last (serialize each as one JSON line)."""
    counts: dict[str, int] = {}
    for record in _records(engine, tracker, extra_header):
        if record["record"] != "header":
            counts[record["record"]] = counts.get(record["record"], 0) + 1
        yield record
    yield {"record": "end", "records": counts}


def _records(engine: Engine | ResolvingEngine, tracker: AlertTracker, extra_header: dict[str, Any] | None
             ) -> Iterator[dict[str, Any]]:
    layer = _resolving(engine)
    clock = layer.clock
    yield {"record": "header", "format": FORMAT, "format_version": FORMAT_VERSION,
           "clock": clock.isoformat() if clock else None, "relations": layer.stats()["relations"],
           **(extra_header or {})}
    named: set[tuple[str, Any]] = set()
    for version, event, offset in layer.current_events():
        yield {"record": "event", "event": event.model_dump(mode="json", by_alias=True, exclude_none=True),
               "offset": offset}
        named.update(((event.source.id, version), (event.target.id, version)))
    for reference in layer.references_beyond(named):
        yield {"record": "entity", **reference}
    seen = sorted(layer.seen_event_ids())
    for start in range(0, len(seen), _EVENT_IDS_PER_LINE):
        yield {"record": "events_seen", "event_ids": seen[start:start + _EVENT_IDS_PER_LINE]}
    for statements in layer.identifier_statements():
        yield {"record": "identifiers", **statements}
    for (actor, counterparty), (case, score) in sorted(tracker._alerting.items()):
        yield {"record": "alert_pair", "actor_id": actor, "counterparty_id": counterparty, "case_id": case,
               "score": score.model_dump(mode="json")}
    for (actor, case), alert in sorted(tracker._open.items()):
        yield {"record": "alert_open", "actor_id": actor, "case_id": case, "alert_id": alert.alert_id,
               "sequence": alert.sequence, "band": alert.band.value, "score": alert.score,
               "lead": alert.lead.model_dump(mode="json")}
    for (actor, case), episodes in sorted(tracker._episodes.items()):
        yield {"record": "alert_episodes", "actor_id": actor, "case_id": case, "episodes": episodes}


def import_state(records: Iterable[dict[str, Any]], config: ScoringConfig | None = None,
                 input_offsets: dict[str, int] | None = None
                 ) -> tuple[ResolvingEngine, AlertTracker, dict[str, Any]]:
    """(engine, tracker, header) from the records of `export_state`: the events are re-applied through a fresh
    resolution layer and engine (this version's rules), then the applied ids, the clock and the alert state are
    restored."""
    records = iter(records)
    header = next(records, None)
    if not isinstance(header, dict) or header.get("record") != "header" or header.get("format") != FORMAT:
        raise PortableFormatError("not a coi-risk portable state file (no header line)")
    version = header.get("format_version")
    if version not in READABLE_VERSIONS:
        raise PortableFormatError(f"portable format version {version} is not supported by this version (reads "
                                  f"{', '.join(map(str, READABLE_VERSIONS))})")
    layer = ResolvingEngine(config)
    tracker = AlertTracker(layer.config)
    events, seen, identifiers, references = [], [], [], []
    counts: dict[str, int] = {}
    end = None
    for number, record in enumerate(records, start=2):
        if not isinstance(record, dict):
            raise PortableFormatError(f"line {number}: not a JSON object")
        kind = record.get("record")
        if end is not None:
            raise PortableFormatError(f"line {number}: a {kind!r} record after the end record")
        if kind == "end":
            end = record.get("records")
            if not isinstance(end, dict):
                raise PortableFormatError(f"line {number}: an end record without its counts")
            end = {name: count for name, count in end.items() if count != 0}
            continue
        counts[kind] = counts.get(kind, 0) + 1
        if kind == "event":
            events.append((RelationshipEvent.model_validate(record["event"]), record.get("offset")))
        elif kind == "events_seen":
            seen.extend(record["event_ids"])
        elif kind == "identifiers":
            identifiers.append(record)
        elif kind == "entity":
            references.append(record)
        elif kind == "alert_pair":
            pair = (record["actor_id"], record["counterparty_id"])
            tracker._alerting[pair] = (record["case_id"], RiskScore.model_validate(record["score"]))
            tracker._members.setdefault((record["actor_id"], record["case_id"]), set()).add(pair)
        elif kind == "alert_open":
            tracker._open[(record["actor_id"], record["case_id"])] = _OpenAlert(
                record["alert_id"], int(record["sequence"]), Band(record["band"]), float(record["score"]),
                RiskScore.model_validate(record["lead"]))
        elif kind == "alert_episodes":
            tracker._episodes[(record["actor_id"], record["case_id"])] = int(record["episodes"])
        else:
            raise PortableFormatError(f"line {number}: unknown record {kind!r}")
    if version >= 3:
        if end is None:
            raise PortableFormatError("the file ends before its end record: it was cut short (an interrupted export "
                                      "or copy); importing it would lose what is missing")
        if end != counts:
            raise PortableFormatError(f"the file holds {_described(counts)} where its end record counts "
                                      f"{_described(end)}: records are missing")
    layer.restore_references(references)  # first: each event then meets what was known of its ends already
    layer.restore_identifiers(identifiers)
    layer.load(events, input_offsets or {})
    layer.restore_seen(seen, _time(header["clock"]) if header.get("clock") else None)
    return layer, tracker, header


def _described(counts: Any) -> str:
    if not isinstance(counts, dict):
        return repr(counts)
    return ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())) or "no records"


def _time(text: str) -> dt.datetime:
    return utc(dt.datetime.fromisoformat(text))
