"""Bulk loads of the input log, and their record: what `coi-risk load` does, and what a worker without a usable
snapshot does again so that it ends where the load's worker did.

A bulk load applies a range of the log at once (`Engine.load`: the graph, then one rebuild of every score) and
feeds the alert tracker the rebuild's changes once. Its alerts therefore start where the range ends (episode 0);
replaying the same range event by event would instead pass through every alert raised and resolved on the way,
and continue under other alert ids and sequences. So a load records the range it applied in the bulk-loads topic
(compacted, keyed by app id and input topic), and a worker that has to start from the log's start (no usable
snapshot: lost, corrupt, of another version) reproduces the latest recorded load of its app id first, with the same
function, then replays the rest event by event. Both then hold the same engine and tracker, and publish the same
alerts under the same ids.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from scoring import AlertTracker, ScoringConfig
from scoring.matching import Matcher
from scoring.resolution import ResolvingEngine
from streams.collector import PausedCollection
from schemas.validation import finite_json
from streams.config import Settings
from schemas import EventRejected
from streams.processor import EventProcessor, InputRecord, Outcome, ProcessingLimits

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BulkLoad:
    """What a bulk load applied, and how: the range of the input log per partition, [start, end); the offset and
    broker append time of the last record it applied in each partition, which tell this log from another one with
    the same name (a topic deleted and created again has the same offsets, not the same append times); the admission
    limits it applied (a reproduction admits exactly the same events, whatever the settings are now); and the hash
    of the scoring config it scored under."""

    app_id: str
    events_topic: str
    start: dict[int, int]
    end: dict[int, int]
    last_records: dict[int, tuple[int, int]]  # partition -> (offset, append time in ms) of its last record applied
    max_event_bytes: int
    max_future_skew_seconds: float | None
    config_hash: str
    loaded_at: float  # epoch seconds

    @property
    def limits(self) -> ProcessingLimits:
        skew = self.max_future_skew_seconds
        return ProcessingLimits(max_event_bytes=self.max_event_bytes,
                                max_future_skew=None if skew is None else dt.timedelta(seconds=skew))

    def to_json(self) -> bytes:
        def text_keys(offsets: dict[int, int]) -> dict[str, int]:
            return {str(p): o for p, o in sorted(offsets.items())}

        return json.dumps({"app_id": self.app_id, "events_topic": self.events_topic, "start": text_keys(self.start),
                           "end": text_keys(self.end),
                           "last_records": {str(p): list(r) for p, r in sorted(self.last_records.items())},
                           "max_event_bytes": self.max_event_bytes,
                           "max_future_skew_seconds": self.max_future_skew_seconds,
                           "config_hash": self.config_hash, "loaded_at": self.loaded_at}, sort_keys=True).encode()

    @classmethod
    def from_json(cls, value: bytes) -> BulkLoad:
        """The record `to_json` wrote; ValueError (or another exception) for anything else."""
        data = finite_json(value)

        def int_keys(offsets: dict) -> dict[int, int]:
            return {int(p): int(o) for p, o in offsets.items()}

        skew = data["max_future_skew_seconds"]
        loaded = cls(str(data["app_id"]), str(data["events_topic"]), int_keys(data["start"]), int_keys(data["end"]),
                     {int(p): (int(r[0]), int(r[1])) for p, r in data["last_records"].items()},
                     int(data["max_event_bytes"]),
                     None if skew is None else float(skew), str(data["config_hash"]), float(data["loaded_at"]))
        loaded._check_ranges()
        return loaded

    def _check_ranges(self) -> None:
        """ValueError for a value `coi-risk load` never writes, before anything computes with it (a date from
        `loaded_at`, a timedelta from the skew: out of range, either would raise at every cold start)."""
        numbers = [*self.start.values(), *self.end.values(), *self.start, *self.end,
                   *(n for p, (offset, _) in self.last_records.items() for n in (p, offset))]
        if any(n < 0 for n in numbers):
            raise ValueError("a negative offset or partition")
        if any(appended < -1 for _, appended in self.last_records.values()):  # -1: Kafka's "no timestamp"
            raise ValueError(f"an append time below -1: {self.last_records}")
        if any(self.start.get(p, 0) > o for p, o in self.end.items()):
            raise ValueError(f"a range that ends before it starts: {self.start} to {self.end}")
        if not 0 < self.max_event_bytes <= _MAX_RECORDED:
            raise ValueError(f"max_event_bytes out of range: {self.max_event_bytes}")
        if self.max_future_skew_seconds is not None:
            if self.max_future_skew_seconds < 0:
                raise ValueError(f"a negative max_future_skew_seconds: {self.max_future_skew_seconds}")
            try:
                dt.timedelta(seconds=self.max_future_skew_seconds)  # what `limits` makes of it
            except OverflowError:
                raise ValueError(f"max_future_skew_seconds out of range: {self.max_future_skew_seconds}") from None
        if not 0 <= self.loaded_at <= _LAST_EPOCH_SECOND:
            raise ValueError(f"loaded_at out of range: {self.loaded_at}")


_MAX_RECORDED = 2**31 - 1  # above any event size a load records
_LAST_EPOCH_SECOND = 253_402_300_799  # 9999-12-31T23:59:59Z, the last second `time.gmtime` and datetime name


def admission(settings: Settings, engine: ResolvingEngine, tracker: AlertTracker,
              limits: ProcessingLimits | None = None) -> EventProcessor:
    """The checks an event passes before a bulk load applies it: the worker's own, under the same settings (its
    size limit, and the future skew beyond which the worker dead-letters an event instead of letting it move the
    engine's clock), or under `limits` (a reproduction: the load's size limit and skew). A load that admitted
    otherwise would build a state the worker's own replay of the same log does not reproduce, and the group committed
    after it would skip for good what the worker would have applied. The dead letters of what it refuses are
    rendered as the worker renders them under the settings."""
    own = ProcessingLimits.from_settings(settings)
    if limits is not None:
        own = dataclasses.replace(own, max_event_bytes=limits.max_event_bytes, max_future_skew=limits.max_future_skew)
    return EventProcessor(engine, tracker, None, limits=own)


@dataclass
class Applied:
    """What `bulk_apply` did besides filling the engine and the tracker."""

    read: int = 0
    rejected: dict[str, int] = field(default_factory=dict)  # reason -> events refused for it
    # partition -> (offset, broker append time in ms) of its last record
    last_records: dict[int, tuple[int, int]] = field(default_factory=dict)

    @property
    def invalid(self) -> int:
        """Events refused, whatever the reason."""
        return sum(self.rejected.values())


def bulk_apply(settings: Settings, config: ScoringConfig, records: Iterable[InputRecord], offsets: dict[str, int],
               limits: ProcessingLimits | None = None,
               on_rejected: Callable[[InputRecord, EventRejected, Outcome], None] | None = None,
               ) -> tuple[ResolvingEngine, AlertTracker, Applied]:
    """(engine, tracker, what was read) after applying the records at once. `offsets` (partition -> next offset, as
    text) stamps the scores; a dict the caller may fill while the records are read (a load that publishes a file
    learns the end only then). Invalid events are counted by reason and skipped, and each is handed to
    `on_rejected` with the dead letter the worker would publish for it (`coi-risk load` publishes it). `limits`:
    the admission's, if not the settings' (`admission`)."""
    # what the worker runs: judgements and shared identifiers merge ids; with suggest_merges, the matcher's index of
    # the loaded entities (a worker that replayed the range event by event compares new entities with them too)
    engine = ResolvingEngine(config, matcher=Matcher() if settings.suggest_merges else None)
    tracker = AlertTracker(config)
    validator = admission(settings, engine, tracker, limits)
    applied = Applied()

    def valid_events(collection: PausedCollection):
        for record in records:
            applied.read += 1
            if record.timestamp_ms is not None:
                applied.last_records[record.partition] = (record.offset, record.timestamp_ms)
            collection.step()
            try:
                event, digest = validator._admit(record)
                yield event, f"{record.partition}:{record.offset}", record.value, digest
            except EventRejected as rejection:
                reason = rejection.reason.value
                applied.rejected[reason] = applied.rejected.get(reason, 0) + 1
                if on_rejected is not None:
                    on_rejected(record, rejection, validator._dead_letter(record, rejection.reason, rejection.message))

    with PausedCollection() as collection:  # a load allocates the graph and every cache: see streams.collector
        tracker.observe(engine.load(valid_events(collection), input_offsets=offsets))
    return engine, tracker, applied


def reproduction_refused(settings: Settings, loaded: BulkLoad) -> str | None:
    """Why the recorded load cannot be reproduced from the input log as it is (None: it can): retention deleted
    part of its range, the log ends inside it, or this is another log under the same name (the last records it
    applied were appended at other times). The worker's cold start and the audit replay decide the same way, so
    both continue the same alerts."""
    from streams import recovery

    starts = recovery.log_start_offsets(settings)
    ends = recovery.log_end_offsets(settings)
    missing = {p: o for p, o in loaded.start.items() if starts.get(p, 0) > o}
    if missing:
        return f"the log no longer holds offsets {missing} (retention)"
    beyond = {p: o for p, o in loaded.end.items() if p not in ends or o > ends[p]}
    if beyond:
        return f"the log ends before {beyond}"
    other = recovery.records_of_another_log(settings, loaded.last_records)
    if other:
        return (f"this is another log under the same name (the last records loaded, offset and append time: "
                f"{loaded.last_records}; here: {({p: found for p, (_, found) in other.items()})})")
    return None


def reproduce(settings: Settings, config: ScoringConfig, loaded: BulkLoad,
              on_rejected: Callable[[InputRecord, EventRejected, Outcome], None] | None = None,
              ) -> tuple[ResolvingEngine, AlertTracker, Applied]:
    """The engine and alert tracker the recorded load left, rebuilt from its range of the log as it built them.
    `on_rejected`: as `bulk_apply`'s (the audit replay yields the dead letters the load published)."""
    from streams.log_reader import Bounds, read

    records = read(settings, settings.events_topic, Bounds(start=loaded.start, end=loaded.end))
    return bulk_apply(settings, config, records, {str(p): o for p, o in loaded.end.items()}, loaded.limits,
                      on_rejected)


class DeadLetters:
    """The dead letters of the events a bulk load refused, published as the worker publishes them (its topic, keyed
    `topic:partition:offset`, the same content): the worker starts after the loaded range, so it never sees these
    events, and a load that only counted them lost them without a word. Sent as they come (the producer's buffer
    bounds the memory), acknowledged by every in-sync replica; `close` says which were not stored. The first
    `shown` refusals are kept to be printed."""

    def __init__(self, settings: Settings, shown: int = 10):
        from streams.producer import Acknowledgements

        self._settings = settings
        self._producer = None
        self._acks = Acknowledgements()  # each letter by its number in order sent, kept with its key
        self.sent = 0
        self.shown = shown
        self.examples: list[tuple[InputRecord, EventRejected]] = []

    def __call__(self, record: InputRecord, rejection: EventRejected, letter: Outcome) -> None:
        if len(self.examples) < self.shown:
            self.examples.append((record, rejection))
        if self._producer is None:
            self._producer = self._open()
        for out in letter.outbound:
            future = self._producer.send(self._settings.dead_letter_topic, key=out.key, value=out.value)
            self._acks.track(self.sent, future, out.key)
            self.sent += 1

    def _open(self):
        from streams.producer import open_producer
        from streams.topics import RECORD_OVERHEAD_BYTES, ensure_topics

        ensure_topics(self._settings, roles=("dead_letters",))
        # the worker's own request limit (streams.app), and what the dead-letter topic is created to hold
        # (streams.topics): a letter the worker would publish, the load publishes too
        return open_producer(self._settings, "load", linger_ms=5,
                             max_request_size=self._settings.max_message_bytes + RECORD_OVERHEAD_BYTES)

    def close(self, timeout: float) -> list[str]:
        """Wait for the broker's answer to every letter; the ones not stored (with why), [] when all were."""
        if self._producer is None:
            return []
        try:
            try:
                self._producer.flush(timeout=timeout)
            except Exception:  # noqa: BLE001 - the answers below decide
                pass
        finally:
            self._producer.close(timeout=timeout)
        with self._acks.lock:
            failures = [f"{key.decode(errors='replace')}: {type(exc).__name__}: {exc}"
                        for _, key, exc in self._acks.failed]
            unanswered = len(self._acks.pending)
        return failures + ([f"{unanswered} without an answer from the broker"] if unanswered > 0 else [])


def _key(settings: Settings) -> bytes:
    return f"{settings.app_id}\x1f{settings.events_topic}".encode()


def record_bulk_load(settings: Settings, start: dict[int, int], end: dict[int, int], applied: Applied,
                     config_hash: str) -> BulkLoad:
    """Write what the load applied to the bulk-loads topic (acknowledged by every in-sync replica)."""
    from streams.producer import open_producer
    from streams.topics import ensure_topics

    ensure_topics(settings)
    limits = ProcessingLimits.from_settings(settings)
    loaded = BulkLoad(settings.app_id, settings.events_topic, dict(start), dict(end), dict(applied.last_records),
                      limits.max_event_bytes,
                      None if limits.max_future_skew is None else limits.max_future_skew.total_seconds(),
                      config_hash, time.time())
    producer = open_producer(settings, "load")  # one small record: kafka-python's own request limit
    try:
        producer.send(settings.bulk_loads_topic, key=_key(settings), value=loaded.to_json()).get(
            timeout=settings.startup_timeout_seconds)
    finally:
        producer.close()
    return loaded


def last_bulk_load(settings: Settings) -> BulkLoad | None:
    """The latest bulk load recorded for this app id and input topic; None if there is none (or no such topic)."""
    from streams.log_reader import Bounds, open_consumer, partitions_of, read

    consumer = open_consumer(settings)
    try:
        try:
            partitions = partitions_of(consumer, settings.bulk_loads_topic)
        except LookupError:
            return None
        bounds = Bounds(start={tp.partition: o for tp, o in consumer.beginning_offsets(partitions).items()},
                        end={tp.partition: o for tp, o in consumer.end_offsets(partitions).items()})
    finally:
        consumer.close()
    found, key = None, _key(settings)
    for record in read(settings, settings.bulk_loads_topic, bounds):
        if record.key != key:
            continue
        if record.value is None:  # a tombstone: the app id's load is forgotten (compaction will drop it too)
            found = None
            continue
        try:
            found = BulkLoad.from_json(record.value)
        except Exception as exc:  # noqa: BLE001 - whatever a record holds, a cold start must not fail on it
            log.warning("bulk-load record at %s:%d of %s unreadable (%s: %s); ignored", record.partition,
                        record.offset, settings.bulk_loads_topic, type(exc).__name__, exc)
    return found
