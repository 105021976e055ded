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

import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass

from scoring import AlertTracker, ScoringConfig
from scoring.resolution import ResolvingEngine
from streams.collector import PausedCollection
from streams.config import Settings
from streams.processor import EventProcessor, InputRecord, ProcessingLimits

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BulkLoad:
    """The range of the input log a bulk load applied, per partition: [start, end)."""

    app_id: str
    events_topic: str
    start: dict[int, int]
    end: dict[int, int]
    loaded_at: float  # epoch seconds

    def to_json(self) -> bytes:
        return json.dumps({"app_id": self.app_id, "events_topic": self.events_topic,
                           "start": {str(p): o for p, o in sorted(self.start.items())},
                           "end": {str(p): o for p, o in sorted(self.end.items())},
                           "loaded_at": self.loaded_at}, sort_keys=True).encode()

    @classmethod
    def from_json(cls, value: bytes) -> BulkLoad:
        data = json.loads(value)
        return cls(str(data["app_id"]), str(data["events_topic"]),
                   {int(p): int(o) for p, o in data["start"].items()},
                   {int(p): int(o) for p, o in data["end"].items()}, float(data["loaded_at"]))


def admission(settings: Settings, engine: ResolvingEngine, tracker: AlertTracker) -> EventProcessor:
    """The checks an event passes before a bulk load applies it: the worker's own, under the same settings (its
    size limit, and the future skew beyond which the worker dead-letters an event instead of letting it move the
    engine's clock). A load that admitted otherwise would build a state the worker's own replay of the same log
    does not reproduce, and the group committed after it would skip for good what the worker would have applied."""
    return EventProcessor(engine, tracker, None, limits=ProcessingLimits.from_settings(settings))


def bulk_apply(settings: Settings, config: ScoringConfig, records: Iterable[InputRecord],
               offsets: dict[str, int]) -> tuple[ResolvingEngine, AlertTracker, dict[str, int]]:
    """(engine, tracker, counts of events read and invalid) after applying the records at once. `offsets`
    (partition -> next offset, as text) stamps the scores; a dict the caller may fill while the records are read
    (a load that publishes a file learns the end only then). Invalid events are counted and skipped, as the
    worker dead-letters them."""
    from schemas import EventRejected

    engine = ResolvingEngine(config)  # what the worker runs: judgements and shared identifiers merge ids
    tracker = AlertTracker(config)
    validator = admission(settings, engine, tracker)
    counts = {"read": 0, "invalid": 0}

    def valid_events(collection: PausedCollection):
        for record in records:
            counts["read"] += 1
            collection.step()
            try:
                event, digest = validator._admit(record)
                yield event, f"{record.partition}:{record.offset}", record.value, digest
            except EventRejected:
                counts["invalid"] += 1

    with PausedCollection() as collection:  # a load allocates the graph and every cache: see streams.collector
        tracker.observe(engine.load(valid_events(collection), input_offsets=offsets))
    return engine, tracker, counts


def _key(settings: Settings) -> bytes:
    return f"{settings.app_id}\x1f{settings.events_topic}".encode()


def record_bulk_load(settings: Settings, start: dict[int, int], end: dict[int, int]) -> BulkLoad:
    """Write the load's range to the bulk-loads topic (acknowledged by every in-sync replica)."""
    from kafka import KafkaProducer

    from streams.topics import ensure_topics

    ensure_topics(settings)
    loaded = BulkLoad(settings.app_id, settings.events_topic, dict(start), dict(end), time.time())
    producer = KafkaProducer(acks="all", linger_ms=0, client_id=f"{settings.app_id}-load",
                             **settings.kafka_python_options())
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
        if record.key == key and record.value is not None:
            try:
                found = BulkLoad.from_json(record.value)
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                log.warning("bulk-load record at %s:%d of %s unreadable (%s); ignored", record.partition,
                            record.offset, settings.bulk_loads_topic, exc)
    return found
