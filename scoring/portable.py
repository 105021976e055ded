"""The portable, versioned form of the scoring state: JSON lines that survive an upgrade.

The fast snapshot (`streams.snapshots`) pickles this code's classes and is useless to another version. This form
holds the state in the public contract's terms: the current version of every relation and every `same_as`
judgement as the original `RelationshipEvent` the resolution layer keeps (retractions included, so a retracted
relation stays retracted), so that any later version re-applies them through its own resolution layer and engine
and rescores everything under its own rules:

    {"record": "header", "format": "coi-risk-portable-state", "format_version": 7, "clock": ..., "offsets": ...,
     "graph_version": ..., "last_records": {"0": [offset, append time in ms]}, ...}
                                                         # (streams.commands.snapshot: offsets from the snapshot)
    {"record": "event", "event": <RelationshipEvent>, "offset": "0:17"}   # in version order (observed_at, event_id)
    {"record": "events_seen", "event_ids": [...]}        # ids already applied (an event is applied once), chunked
    {"record": "entity", "entity_id": ..., "observed_at": ..., "event_id": ..., "ref": <EntityRef>}
                                                         # an id's newest reference, where no current event states it
    {"record": "entity", ..., "stand_in": true}          # what the newest judgement naming an id no relation names
                                                         # said of it (observed_at, event_id: that judgement's)
    {"record": "identifiers", "entity_id": ..., "identifiers": [...]}   # an id's identifiers, with the statement cited
    {"record": "alert_pair", "actor_id": ..., "counterparty_id": ..., "case_id": ..., "score": <RiskScore>}
    {"record": "alert_open", "actor_id": ..., "case_id": ..., "alert_id": ..., "sequence": ..., "lead": <RiskScore>}
    {"record": "alert_episodes", "actor_id": ..., "case_id": ..., "episodes": ...}
    {"record": "end", "records": {"event": ..., "events_seen": ..., ...}}   # how many of each kind came before

The identifiers records (format version 4) list each id's identifiers, with the kind each merges within and the
statement its merges cite. Since the thirty-seventh round an id holds only what the current events state, so the
import derives them from the events and checks the records without restoring them; files written before listed
every identifier an id was ever stated with, and what only a superseded or retracted version stated is no longer
merged on (a file whose alerts rest on such a merge imports with `rescore`). The entity records (version 4 too) carry the newest reference of an id (name, schema, topics...) where only a
version no longer current stated it. Since version 5 they also carry each judgement's stand-in: an id only judgements
name shows what the newest judgement ever naming it said (a name, a kind), which may be a version since superseded;
re-applied, the current judgements alone could give another kind, and merge otherwise. Version 4 files lose them.
Since version 7 an entity record's topics are what the id showed, which the import takes again from the current
events it re-applies (an id's topics are what its sources' current statements say:
`ResolvingEngine._restate_topics`) and checks the record against; a stand-in's aside. The records of earlier
versions carry the newest reference's topics: the import takes the events' instead.

The header's graph_version (format version 6) is the number of events the exporting engine had applied, which the
scores it published carry: the import goes on counting from it, so that what a worker publishes after an import
(an uncommitted tail published again, an alert's next transition) carries the graph_version the exporting worker's
would, and one (alert_id, sequence) keeps one content. Files of version 5 and before lack it: scores published
after their import count from the events re-applied. Each event re-applied keeps its content's digest, as on the
worker that applied it first: a redelivery of it is a no-op and another content under its id a dead letter
(`streams.processor`); the ids `events_seen` lists, of versions no longer current, come without one, so the first
content to arrive under such an id is taken.

The end record (format version 3) makes a file cut short detectable: a file is read lines at a time, and an export
interrupted, or a copy cut off, at a line boundary parses as well as a whole one, but would import fewer relations
and alerts under the whole file's offsets, so that a worker starting there never replays what is missing. A file
without its end record, or whose counts differ, is refused. Version 2 files (without it) and version 3 files
(without identifiers records) are still read.

Reading (`import_lines`, `import_state`) takes nothing on trust: a file from another team, an older version or a
hand edit becomes a snapshot a worker starts from, so whatever `export_state` never writes is refused, naming the line
(below, "reading"), and so is an alert state that this version's scores of the file's relations do not make
(`ScoredDifferently`: another scoring config or rules; `rescore=True` brings it in line instead).

What it does not carry: the scores' bookkeeping
(`trigger_event_id`, `input_offsets`), which is that of the import. Pure: no Kafka, no files;
`streams.commands.snapshot` does the I/O.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from typing import Any

from schemas.events import IDENTIFIER_MAX_LENGTH, IDENTIFIER_PATTERN, EntityIdentifier, EntityRef, RelationshipEvent
from schemas.outputs import Band, RiskScore
from schemas.validation import (EARLIEST_DATE, LATEST_DATE, EventRejected, _DuplicateKey, finite_json,
                                validate_event)
from schemas.vocabulary import IDENTIFIER_SCHEMES
from scoring.alerts import AlertTracker, OpenAlertView, alert_id, alerting_pair_problem, strongest
from scoring.config import ScoringConfig
from scoring.engine import Engine, ScoreChange
from scoring.graph import utc
from scoring.resolution import IDENTIFIER_KINDS, ResolvingEngine, content_digest_of
from scoring.semantics import SYMMETRIC_TYPES

FORMAT = "coi-risk-portable-state"
FORMAT_VERSION = 7
# 2: without the end record; 3: without the identifiers records; 4: without the judgements' stand-ins; 5: without
# the graph version
READABLE_VERSIONS = (2, 3, 4, 5, 6, 7)
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
           "graph_version": layer.graph_version, **(extra_header or {})}
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
    alerts = tracker.view()
    for (actor, counterparty), (case, score) in alerts.alerting.items():
        yield {"record": "alert_pair", "actor_id": actor, "counterparty_id": counterparty, "case_id": case,
               "score": score.model_dump(mode="json")}
    for (actor, case), alert in alerts.open_alerts.items():
        yield {"record": "alert_open", "actor_id": actor, "case_id": case, "alert_id": alert.alert_id,
               "sequence": alert.sequence, "band": alert.band.value, "score": alert.score,
               "lead": alert.lead.model_dump(mode="json")}
    for (actor, case), episodes in alerts.episodes.items():
        yield {"record": "alert_episodes", "actor_id": actor, "case_id": case, "episodes": episodes}


# -- reading ---------------------------------------------------------------------------------------------------------
#
# A portable file is input from elsewhere (another team, an older version, a hand edit): everything in it is checked
# before it becomes a snapshot a worker starts from, and anything `export_state` never writes is refused with
# `PortableFormatError`, naming the line. Nothing is written before the whole file has been read and checked (the
# caller writes the snapshot at the end), so a refused file leaves nothing behind.

# The longest line `import_lines` reads (and `streams.commands.snapshot` lets `export` write): far above any record of a
# real state (an event is bounded by the contract's field limits, an events_seen line holds 10,000 ids of at most 200
# characters, a score quotes the evidence of its few shown paths), and a bound on what one line of a hostile file
# costs to read (a file without a newline would otherwise be read whole).
MAX_LINE_BYTES = 64 << 20
_BOOKKEEPING = ("trigger_event_id", "input_offsets", "graph_version")
_MAX_GRAPH_VERSION = 1 << 52
_HEADER_FIELDS = {"record", "format", "format_version", "clock", "relations", "app_id", "events_topic", "offsets",
                  "last_records", "package_version", "config_hash", "created_at", "graph_version"}
# record kind -> (required fields, optional fields), "record" aside
_FIELDS: dict[str, tuple[frozenset, frozenset]] = {kind: (frozenset(required), frozenset(optional)) for kind, (
    required, optional) in {
    "event": ({"event"}, {"offset"}),
    "entity": ({"entity_id", "observed_at", "event_id", "ref"}, {"stand_in"}),
    "events_seen": ({"event_ids"}, ()),
    "identifiers": ({"entity_id", "identifiers"}, ()),
    "alert_pair": ({"actor_id", "counterparty_id", "case_id", "score"}, ()),
    "alert_open": ({"actor_id", "case_id", "alert_id", "sequence", "band", "score", "lead"}, ()),
    "alert_episodes": ({"actor_id", "case_id", "episodes"}, ()),
    "end": ({"records"}, ()),
}.items()}
# record kind -> the format version export first wrote it in: an older file holding one is a hand edit
_SINCE = {"end": 3, "identifiers": 4, "entity": 4}
_STATEMENT_FIELDS = frozenset({"scheme", "value", "jurisdiction"})
_FIRST_SEEN_FIELDS = frozenset({"kind", "event_id", "publisher"})
# an event id, an entity id: what the contract admits (`schemas.events.Identifier`), checked without a model
_ID = re.compile(IDENTIFIER_PATTERN)


def _is_identifier(value: object) -> bool:
    return isinstance(value, str) and len(value) <= IDENTIFIER_MAX_LENGTH and _ID.fullmatch(value) is not None
_PARTITION = re.compile(r"0|[1-9][0-9]{0,9}")
_POSITION = re.compile(r"(0|[1-9][0-9]{0,9}):(0|[1-9][0-9]{0,18})")  # an event's input position, "partition:offset"
_MAX_PARTITION = 2 ** 31 - 1  # Kafka's partitions and offsets are int32 and int64
_MAX_OFFSET = 2 ** 63 - 1


class ScoredDifferently(PortableFormatError):
    """This version scores the file's relations otherwise than the version that exported them: the alert state the
    file carries does not match the scores here. `pairs`: how many alerting pairs differ; `transitions`: the alert
    transitions bringing the alert state in line would make (`import_state(..., rescore=True)` makes them)."""

    def __init__(self, pairs: int, transitions: list, header: dict[str, Any]):
        self.pairs, self.transitions, self.header = pairs, transitions, header
        super().__init__(f"this version scores {pairs} alerting pair(s) of the file otherwise than the alert state "
                         f"it carries ({describe_transitions(transitions)} would follow)")


def describe_transitions(alerts: list) -> str:
    """'2 raised, 1 resolved' for a list of `schemas.Alert`, or 'no alert transition'."""
    counts: dict[str, int] = {}
    for alert in alerts:
        counts[alert.state.value] = counts.get(alert.state.value, 0) + 1
    return ", ".join(f"{n} {state}" for state, n in sorted(counts.items())) or "no alert transition"


def parse_line(text: str | bytes) -> Any:
    """One line of a portable file as JSON. PortableFormatError for what `export_state` never writes: text that is
    not UTF-8, NaN, Infinity, a number beyond a float, a key twice in one object (Python's json would keep the last;
    another reader may keep the first), nesting deeper than the parser goes."""
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        return finite_json(text)
    except RecursionError:
        raise PortableFormatError("it nests too deeply to be a record") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, a repeated key, NaN, a huge integer
        why = _first_line(exc) if isinstance(exc, _DuplicateKey) else f"{type(exc).__name__}: {_first_line(exc)}"
        raise PortableFormatError(f"not a JSON record ({why})") from None


def import_lines(lines: Iterable[str | bytes], config: ScoringConfig | None = None,
                 input_offsets: dict[str, int] | None = None, *, rescore: bool = False,
                 transitions: list | None = None, rescored_pairs: list | None = None
                 ) -> tuple[ResolvingEngine, AlertTracker, dict[str, Any]]:
    """`import_state` from the lines of a portable file (blank ones skipped), each read with `parse_line`. The
    events are held as their lines until they are re-applied, not as parsed events: a parsed event costs about ten
    times its text (690 MB against 69 for 100,000 relations, more than the state they build)."""

    def numbered():
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = parse_line(line)
            except PortableFormatError as exc:
                raise PortableFormatError(f"line {number}: {exc}") from None
            yield number, record, line if isinstance(record, dict) and record.get("record") == "event" else None

    return _import(numbered(), config, input_offsets, rescore, transitions, rescored_pairs)


def import_state(records: Iterable[dict[str, Any]], config: ScoringConfig | None = None,
                 input_offsets: dict[str, int] | None = None, *, rescore: bool = False,
                 transitions: list | None = None, rescored_pairs: list | None = None
                 ) -> tuple[ResolvingEngine, AlertTracker, dict[str, Any]]:
    """(engine, tracker, header) from the records of `export_state`: the events are re-applied through a fresh
    resolution layer and engine (this version's rules), then the applied ids, the clock and the alert state are
    restored. PortableFormatError, naming the record, for anything `export_state` never writes.

    The alert state must be the one this version's scores of the file's relations make: `ScoredDifferently` when
    bringing it in line would move an alert (the file was exported under another scoring config or rules, or its
    alert records were changed). `rescore=True` imports it nevertheless, with the alert state brought in line with
    the scores here, and appends the alert transitions that took to `transitions`; nothing publishes them. Alerting
    pairs whose explanations this version words otherwise, and nothing else (an upgrade that shows more of what a
    relation is), are imported either way, their held scores brought in line, and listed in `rescored_pairs`: the
    alert state is one this version's scores make, and a replay of the log would hold the same."""
    return _import(((number, record, None) for number, record in enumerate(records, start=1)), config,
                   input_offsets, rescore, transitions, rescored_pairs)


def header_offsets(header: dict[str, Any]) -> dict[int, int]:
    """The header's offsets (partition -> next input offset not applied), checked; {} when it names none."""
    offsets = header.get("offsets")
    if offsets is None:
        return {}
    if not isinstance(offsets, dict):
        raise PortableFormatError(f"line 1: offsets is {_shown(offsets)}, not an object of partitions")
    return {_partition(p, "offsets"): _whole(o, f"the offset of partition {p}", 1, 0, _MAX_OFFSET)
            for p, o in offsets.items()}


def header_last_records(header: dict[str, Any]) -> dict[int, tuple[int, int]]:
    """The header's last records applied (partition -> (offset, broker append time in ms)), checked against its
    offsets; {} when it names none (a file of an older version, or exported from a snapshot without them)."""
    found = header.get("last_records")
    if found is None:
        return {}
    if not isinstance(found, dict):
        raise PortableFormatError(f"line 1: last_records is {_shown(found)}, not an object of partitions")
    offsets = header_offsets(header)
    records = {}
    for key, value in found.items():
        partition = _partition(key, "last_records")
        if not isinstance(value, list) or len(value) != 2:
            raise PortableFormatError(f"line 1: last_records of partition {key} is {_shown(value)}, not "
                                      "[offset, append time in ms]")
        offset = _whole(value[0], f"the last record's offset in partition {key}", 1, 0, _MAX_OFFSET)
        appended = _whole(value[1], f"the last record's append time in partition {key}", 1, -1, _MAX_OFFSET)
        if partition not in offsets or offset >= offsets[partition]:
            raise PortableFormatError(f"line 1: the last record applied in partition {key} is at offset {offset}, "
                                      f"not before the offsets the state is at ({offsets})")
        records[partition] = (offset, appended)
    return records


def _import(numbered: Iterator[tuple[int, Any, str | bytes | None]], config: ScoringConfig | None,
            input_offsets: dict[str, int] | None, rescore: bool, transitions: list | None,
            rescored_pairs: list | None = None) -> tuple[ResolvingEngine, AlertTracker, dict[str, Any]]:
    first = next(numbered, None)
    header = first[1] if first is not None else None
    if not isinstance(header, dict) or header.get("record") != "header" or header.get("format") != FORMAT:
        raise PortableFormatError("not a coi-risk portable state file (no header line)")
    version = header.get("format_version")
    if type(version) is not int or version not in READABLE_VERSIONS:
        raise PortableFormatError(f"portable format version {_shown(version)} is not supported by this version "
                                  f"(reads {', '.join(map(str, READABLE_VERSIONS))})")
    _check_header(header)
    layer = ResolvingEngine(config)
    tracker = AlertTracker(layer.config)
    events: list[tuple[int, Any, str | None]] = []  # (line number, the event's line or document, offset)
    seen: list[str] = []
    # id -> (line number, record) of its identifiers record, of its entity record: export writes one of each per id
    identifiers: dict[str, tuple[int, dict[str, Any]]] = {}
    references: dict[str, tuple[int, dict[str, Any]]] = {}
    pairs: dict[tuple[str, str], tuple[int, str, RiskScore]] = {}
    opened: dict[tuple[str, str], tuple[int, dict[str, Any], RiskScore]] = {}
    episodes: dict[tuple[str, str], int] = {}
    counts: dict[str, int] = {}
    end = None
    for number, record, line in numbered:
        if not isinstance(record, dict):
            raise PortableFormatError(f"line {number}: not a JSON object")
        kind = record.get("record")
        if end is not None:
            raise PortableFormatError(f"line {number}: a {_shown(kind)} record after the end record")
        if not isinstance(kind, str) or kind not in _FIELDS:
            raise PortableFormatError(f"line {number}: unknown record {_shown(kind)}")
        required, optional = _FIELDS[kind]
        if missing := required - record.keys():
            raise PortableFormatError(f"line {number}: {_an(kind)} record without {', '.join(sorted(missing))}")
        if extra := record.keys() - required - optional - {"record"}:
            raise PortableFormatError(f"line {number}: {_an(kind)} record with fields export never writes: "
                                      f"{', '.join(sorted(_shown(name) for name in extra))}")
        if version < _SINCE.get(kind, version):
            raise PortableFormatError(f"line {number}: {_an(kind)} record in a file of format version {version}, "
                                      f"which export never wrote before version {_SINCE[kind]}")
        if kind == "end":
            end = _end_counts(record["records"], number)
            continue
        counts[kind] = counts.get(kind, 0) + 1
        if kind == "event":
            offset = record.get("offset")
            if offset is not None and (not isinstance(offset, str) or not _POSITION.fullmatch(offset)):
                raise PortableFormatError(f"line {number}: the event's offset is {_shown(offset)}, not "
                                          "\"partition:offset\"")
            if not isinstance(record["event"], dict):
                raise PortableFormatError(f"line {number}: the event is {_shown(record['event'])}, not an object")
            events.append((number, line if line is not None else record["event"], offset))
        elif kind == "events_seen":
            ids = record["event_ids"]
            if not isinstance(ids, list) or not all(map(_is_identifier, ids)):
                raise PortableFormatError(f"line {number}: event_ids is not a list of event ids")
            seen.extend(ids)
        elif kind == "identifiers":
            entity_id = _identifiers(record, number)["entity_id"]
            if entity_id in identifiers:
                raise PortableFormatError(f"line {number}: the identifiers of {entity_id!r} again (line "
                                          f"{identifiers[entity_id][0]}); export writes one record per id")
            identifiers[entity_id] = number, record
        elif kind == "entity":
            reference = _reference(record, number, version)
            if (entity_id := reference["entity_id"]) in references:
                raise PortableFormatError(f"line {number}: the entity record of {entity_id!r} again (line "
                                          f"{references[entity_id][0]}); export writes one per id")
            references[entity_id] = number, reference
        elif kind == "alert_pair":
            pair = (_id(record["actor_id"], "actor_id", number), _id(record["counterparty_id"], "counterparty_id",
                                                                      number))
            case = _id(record["case_id"], "case_id", number)
            score = _score(record["score"], "score", number)
            problem = alerting_pair_problem(pair, case, score)
            if problem is not None:
                raise PortableFormatError(f"line {number}: {problem}")
            if pair in pairs:
                raise PortableFormatError(f"line {number}: the alerting pair {pair} again (line {pairs[pair][0]})")
            pairs[pair] = (number, case, score)
        elif kind == "alert_open":
            key = (_id(record["actor_id"], "actor_id", number), _id(record["case_id"], "case_id", number))
            if key in opened:
                raise PortableFormatError(f"line {number}: the open alert of {key} again (line {opened[key][0]})")
            opened[key] = (number, record, _score(record["lead"], "lead", number))
        elif kind == "alert_episodes":
            key = (_id(record["actor_id"], "actor_id", number), _id(record["case_id"], "case_id", number))
            if key in episodes:
                raise PortableFormatError(f"line {number}: the episodes of {key} again")
            episodes[key] = _whole(record["episodes"], "episodes", number, 1, _MAX_OFFSET)
    if version >= 3:
        if end is None:
            raise PortableFormatError("the file ends before its end record: it was cut short (an interrupted export "
                                      "or copy); importing it would lose what is missing")
        if end != counts:
            raise PortableFormatError(f"the file holds {_described(counts)} where its end record counts "
                                      f"{_described(end)}: records are missing")
    _restore_alerts(tracker, pairs, opened, episodes)
    # first: each event then meets what was known of its ends already. The identifiers records are not restored:
    # an id's identifiers are those its current events state, which the events re-applied give (files written
    # before the thirty-seventh round also list identifiers only superseded or retracted versions stated, which
    # this version no longer merges on)
    layer.restore_references(record for _, record in references.values())
    layer.load(_events(events), input_offsets or {})
    if header.get("graph_version") is not None:
        layer.engine.graph.continue_count(header["graph_version"])
    layer.restore_seen(seen, _moment(header["clock"], "clock", 1) if header.get("clock") is not None else None)
    _check_restored(layer, references, identifiers, version)
    differing, substantive, made = _rescore(layer, tracker)
    if (made or substantive) and not rescore:
        raise ScoredDifferently(len(differing), made, header)
    if transitions is not None:
        transitions.extend(made)
    if rescored_pairs is not None:
        rescored_pairs.extend(differing)
    return layer, tracker, header


def _check_restored(layer: ResolvingEngine, references: dict[str, tuple[int, dict]],
                    identifiers: dict[str, tuple[int, dict]], version: int) -> None:
    """What the entity and identifiers records say, against the layer the file's events made: each must be what
    export would have written of that layer (checked once it holds them all; the ids applied are its own, not a
    second set of them)."""
    for entity_id, problem in layer.restored_reference_problems(record for _, record in references.values()):
        number, record = references[entity_id]
        raise PortableFormatError(f"line {number}: the {'stand-in' if record.get('stand_in') else 'reference'} of "
                                  f"{entity_id!r}: {problem}")
    for entity_id, (number, record) in references.items():
        if version >= 7 and not record.get("stand_in"):
            # (what earlier versions wrote is the newest reference's topics, which the import takes no more)
            shown = layer.entity_ref(entity_id).topics
            if set(record["ref"].topics) != set(shown):
                raise PortableFormatError(
                    f"line {number}: the reference of {entity_id!r} gives the topics {sorted(record['ref'].topics)}, "
                    f"where its sources' current statements in the file say {sorted(shown)}; export writes theirs")
        if not layer.has_applied(record["event_id"]):
            raise PortableFormatError(f"line {number}: the reference of {entity_id!r} comes from the event "
                                      f"{record['event_id']!r}, which neither an event record nor events_seen names")
    for entity_id, (number, record) in identifiers.items():
        if layer.entity_ref(entity_id) is None:
            raise PortableFormatError(f"line {number}: identifiers of {entity_id!r}, an id no event or entity record "
                                      "of the file names")
        if layer.only_judged(entity_id):
            raise PortableFormatError(f"line {number}: identifiers of {entity_id!r}, an id only judgements name; the "
                                      "layer keeps no identifiers of a judgement's ends")
        for statement in record["identifiers"]:
            if "event_id" in statement and not layer.has_applied(statement["event_id"]):
                raise PortableFormatError(f"line {number}: an identifier of {entity_id!r} first seen in the event "
                                          f"{statement['event_id']!r}, which neither an event record nor events_seen "
                                          "names")


def _check_header(header: dict[str, Any]) -> None:
    if extra := header.keys() - _HEADER_FIELDS:
        raise PortableFormatError(f"line 1: a header with fields export never writes: "
                                  f"{', '.join(sorted(_shown(name) for name in extra))}")
    for name in ("app_id", "events_topic", "package_version", "config_hash"):
        if header.get(name) is not None and not isinstance(header[name], str):
            raise PortableFormatError(f"line 1: {name} is {_shown(header[name])}, not text")
    if header.get("clock") is not None:
        _moment(header["clock"], "clock", 1)
    if header.get("relations") is not None:
        _whole(header["relations"], "relations", 1, 0, _MAX_OFFSET)
    if header.get("graph_version") is not None:
        # (a count no engine reaches: the versions published after it stay exact in JSON's doubles)
        _whole(header["graph_version"], "graph_version", 1, 0, _MAX_GRAPH_VERSION)
    created = header.get("created_at")
    if created is not None and (type(created) not in (int, float) or created < 0):
        raise PortableFormatError(f"line 1: created_at is {_shown(created)}, not a time")
    header_offsets(header)
    header_last_records(header)


def _end_counts(counts: Any, number: int) -> dict[str, int]:
    if not isinstance(counts, dict):
        raise PortableFormatError(f"line {number}: an end record without its counts")
    return {kind: _whole(n, f"the end record's count of {kind}", number, 0, _MAX_OFFSET)
            for kind, n in counts.items() if n != 0}


def _events(held: list[tuple[int, Any, str | None]]) -> Iterator[tuple[RelationshipEvent, str | None, None, int]]:
    """The held events, parsed and checked as the worker admits an event (`schemas.validation.validate_event`:
    its contract, its nesting, its dates within 1000..2999), one at a time as they are re-applied, each with its
    content's digest (`ResolvingEngine.apply`)."""
    for number, source, offset in held:
        document = parse_line(source)["event"] if isinstance(source, str | bytes) else source
        try:
            event = validate_event(document)
        except EventRejected as rejected:
            raise PortableFormatError(f"line {number}: an event this version does not accept "
                                      f"({rejected.reason.value}: {_first_line(rejected.message)})") from None
        yield event, offset, None, content_digest_of(event)


def _reference(record: dict[str, Any], number: int, version: int) -> dict[str, Any]:
    entity_id = _id(record["entity_id"], "entity_id", number)
    _moment(record["observed_at"], "observed_at", number)
    _id(record["event_id"], "event_id", number)
    try:
        ref = EntityRef.model_validate(record["ref"], by_name=False)
    except ValueError as exc:
        raise PortableFormatError(f"line {number}: ref is not an entity reference ({_first_line(exc)})") from None
    if ref.id != entity_id:
        raise PortableFormatError(f"line {number}: the reference of {entity_id!r} is of {ref.id!r}")
    if record.get("stand_in", True) is not True:
        raise PortableFormatError(f"line {number}: stand_in is {_shown(record['stand_in'])}; export writes true or "
                                  "nothing")
    if "stand_in" in record and version < 5:
        raise PortableFormatError(f"line {number}: a stand-in in a file of format version {version}, which export "
                                  "never wrote before version 5")
    if "stand_in" in record and ref.identifiers:
        raise PortableFormatError(f"line {number}: a stand-in with identifiers; a judgement's stand-in carries none "
                                  "(what a judgement says of its ends does not outlive it)")
    return {**record, "ref": ref}


def _identifiers(record: dict[str, Any], number: int) -> dict[str, Any]:
    _id(record["entity_id"], "entity_id", number)
    statements = record["identifiers"]
    if not isinstance(statements, list):
        raise PortableFormatError(f"line {number}: identifiers is {_shown(statements)}, not a list")
    kinds_written: set[tuple] = set()
    kinds_cited: dict[tuple, tuple] = {}
    for statement in statements:
        if not isinstance(statement, dict) or statement.keys() - _STATEMENT_FIELDS - _FIRST_SEEN_FIELDS:
            raise PortableFormatError(f"line {number}: an identifier {_shown(statement)} with fields export never "
                                      "writes")
        first_seen = statement.keys() & _FIRST_SEEN_FIELDS
        if first_seen and (first_seen != _FIRST_SEEN_FIELDS
                           or not all(isinstance(statement[name], str) and statement[name] for name in first_seen)):
            raise PortableFormatError(f"line {number}: an identifier whose first statement is not kind, event_id and "
                                      f"publisher: {_shown(statement)}")
        try:
            identifier = EntityIdentifier.model_validate({name: statement[name] for name in _STATEMENT_FIELDS
                                                          if name in statement})
        except ValueError as exc:
            raise PortableFormatError(f"line {number}: not an identifier ({_first_line(exc)})") from None
        # export writes where a strong identifier was first seen, and within which kind it merges, always, and a
        # weak scheme's never: a strong one without them would merge nothing. A value of a strong scheme this version
        # does not merge on (a placeholder, a German court's register number: `EntityIdentifier.strong`) may come
        # with them from a version that did: kept, merged on by none.
        weak_scheme = not IDENTIFIER_SCHEMES[identifier.scheme].strong
        if identifier.strong != bool(first_seen) and (identifier.strong or weak_scheme):
            raise PortableFormatError(f"line {number}: a {'strong' if identifier.strong else 'weak'} identifier "
                                      f"{'without' if identifier.strong else 'with'} kind, event_id and publisher: "
                                      f"{_shown(statement)}")
        if first_seen and statement["kind"] not in IDENTIFIER_KINDS:
            raise PortableFormatError(f"line {number}: an identifier of kind {_shown(statement['kind'])}, none the "
                                      f"layer merges within ({', '.join(sorted(IDENTIFIER_KINDS))})")
        # export writes an identifier once, or once for each kind the id was stated with it under, always citing the
        # one statement its merges cite (`ResolvingEngine.identifier_statements`)
        written = (identifier.key, statement.get("kind"))
        cited = (statement.get("event_id"), statement.get("publisher"), identifier.jurisdiction)
        if written in kinds_written or kinds_cited.setdefault(identifier.key, cited) != cited:
            raise PortableFormatError(f"line {number}: the identifier {identifier} again"
                                      + (f" under the kind {statement['kind']!r}" if written in kinds_written else
                                         ", citing another statement or written otherwise"))
        kinds_written.add(written)
    return record


def _restore_alerts(tracker: AlertTracker, pairs: dict, opened: dict, episodes: dict) -> None:
    """The alert tracker's state from the file's alert records, which must be one the tracker can be in: every case
    with alerting pairs has one open alert and every open alert has alerting pairs, whose strongest is its lead (its
    band and score), and its id is the one of its case and episode (`scoring.alerts.alert_id`). Checked here to name
    the line; `AlertTracker.restore` then builds the state (and would refuse it too, without the line)."""
    members: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for pair, (_, case, _) in pairs.items():
        members.setdefault((pair[0], case), []).append(pair)
    for case in sorted(members.keys() - opened.keys()):
        raise PortableFormatError(f"the case {case} has alerting pairs ({sorted(members[case])}) but no open alert")
    open_alerts: dict[tuple[str, str], OpenAlertView] = {}
    for case, (number, record, lead) in sorted(opened.items()):
        if case not in members:
            raise PortableFormatError(f"line {number}: an open alert of {case} without an alerting pair")
        lead_pair = strongest(pairs[pair][2] for pair in members[case])
        expected = alert_id(*case, episodes.get(case, 0))
        if record["alert_id"] != expected:
            raise PortableFormatError(f"line {number}: the open alert of {case} is {_shown(record['alert_id'])}, not "
                                      f"{expected}, the id of its episode {episodes.get(case, 0)}")
        sequence = _whole(record["sequence"], "sequence", number, 0, _MAX_OFFSET)
        try:
            band = Band(record["band"])
        except ValueError:
            raise PortableFormatError(f"line {number}: band {_shown(record['band'])} is not a band") from None
        if lead != lead_pair or band != lead_pair.band or record["score"] != lead_pair.score \
                or type(record["score"]) not in (int, float):
            raise PortableFormatError(f"line {number}: the open alert of {case} is not led by its strongest alerting "
                                      f"pair ({lead_pair.actor_id}, {lead_pair.counterparty_id}), its band and score")
        open_alerts[case] = OpenAlertView(expected, sequence, band, lead_pair.score, lead_pair)
    tracker.restore({pair: (case, score) for pair, (_, case, score) in pairs.items()}, open_alerts, episodes)


def _rescore(layer: ResolvingEngine, tracker: AlertTracker) -> tuple[list[tuple[str, str]], bool, list]:
    """Bring the alert state in line with this version's scores of the state: (the alerting pairs that differed,
    whether any differed in more than its explanations' wording, the alert transitions that made). Nothing differs
    when the file was exported under the same scoring (a pair alerting in the tracker holds the score the engine
    gives it, bookkeeping aside, and every pair the engine puts in an alerting band is alerting: what the live
    worker keeps), so then nothing changes."""
    here = {(score.actor_id, score.counterparty_id): score for score in layer.scores(min_band=tracker.min_band)}
    alerting = tracker.view().alerting
    changes = []
    substantive = False
    for key in sorted(here.keys() | alerting.keys()):
        held = alerting.get(key)
        now = here.get(key)
        if now is None and (now := layer.score(*key)) is not None and (now.actor_id, now.counterparty_id) != key:
            now = None  # the score of the pair its ids are merged into here: this pair itself scores nothing
        if held is not None and now is not None and (content := _content(held[1])) == _content(now):
            continue
        substantive = substantive or held is None or now is None or _unworded(content) != _unworded(_content(now))
        changes.append(ScoreChange(key[0], key[1], held[1] if held else None, now, layer.graph_version))
    return [(change.actor_id, change.counterparty_id) for change in changes], substantive, \
        tracker.observe(changes) if changes else []


def _unworded(content: dict[str, Any]) -> dict[str, Any]:
    """A score's content without how its explanations word it (each path's text, each edge's roles and, for a tie
    that runs both ways, the end it is shown from, each merge's text and its evidence's, which cite statements by
    event id, how its evidence writes the identifier shared, and the statements it names as fields, which cite
    them too and which versions before the field did not write): what an upgrade that only words explanations anew
    leaves as it was."""
    unworded = dict(content)
    for kind in ("authority_paths", "commercial_paths"):
        unworded[kind] = [{**path, "text": None, "edges": [_unturned({**edge, "role": None, "roles": None})
                                                           for edge in path["edges"]]}
                          for path in content[kind]]
    unworded["merges"] = [{**note, "text": None, "evidence": [{**evidence, "text": None, "identifier": None,
                                                                "statements": None}
                                                              for evidence in note["evidence"]]}
                          for note in content["merges"]]
    return unworded


_SYMMETRIC = frozenset(relation_type.value for relation_type in SYMMETRIC_TYPES)


def _unturned(edge: dict[str, Any]) -> dict[str, Any]:
    """An edge of a tie that runs both ways, whichever end it is shown from (`explain.shown_words`)."""
    if edge["relation_type"] not in _SYMMETRIC:
        return edge
    ends = sorted(((edge["source_id"], edge["source_name"]), (edge["target_id"], edge["target_name"])))
    return {**edge, "source_id": ends[0][0], "source_name": ends[0][1], "target_id": ends[1][0],
            "target_name": ends[1][1], "forward": None}


def _content(score: RiskScore) -> dict[str, Any]:
    return {name: value for name, value in score.model_dump(mode="json").items() if name not in _BOOKKEEPING}


def _score(value: Any, what: str, number: int) -> RiskScore:
    try:
        return RiskScore.model_validate(value)
    except ValueError as exc:
        raise PortableFormatError(f"line {number}: {what} is not a score ({_first_line(exc)})") from None


def _id(value: Any, what: str, number: int) -> str:
    if not _is_identifier(value):
        raise PortableFormatError(f"line {number}: {what} is {_shown(value)}, not an id")
    return value


def _whole(value: Any, what: str, number: int, least: int, most: int) -> int:
    if type(value) is not int or not least <= value <= most:
        raise PortableFormatError(f"line {number}: {what} is {_shown(value)}, not a whole number from {least} to "
                                  f"{most}")
    return value


def _partition(key: Any, what: str) -> int:
    if not isinstance(key, str) or not _PARTITION.fullmatch(key) or int(key) > _MAX_PARTITION:
        raise PortableFormatError(f"line 1: {what} names the partition {_shown(key)}, not a partition number")
    return int(key)


def _moment(value: Any, what: str, number: int) -> dt.datetime:
    """A time as export writes it: ISO 8601 with its offset, within the contract's years (1000..2999 in UTC)."""
    try:
        moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise PortableFormatError(f"line {number}: {what} is {_shown(value)}, not a time with its UTC offset")
    try:
        day = moment.astimezone(dt.UTC).date()
    except (OverflowError, ValueError):
        day = None
    if day is None or not EARLIEST_DATE <= day <= LATEST_DATE:
        raise PortableFormatError(f"line {number}: {what} {value} is outside {EARLIEST_DATE}..{LATEST_DATE}")
    return utc(moment)


def _an(word: str) -> str:
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _first_line(exc: BaseException | str) -> str:
    text = str(exc).strip()
    return (text.splitlines() or [type(exc).__name__])[0][:200]


def _described(counts: Any) -> str:
    if not isinstance(counts, dict):
        return repr(counts)
    return ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items())) or "no records"
