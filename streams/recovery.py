"""Bringing the worker's engine to the committed offset of the partitions it is assigned, from the retained input
topic (after a start, a kill -9, or a rebalance that hands it a partition another worker was processing).

The group's committed offset marks what was fully processed and published, by this worker or another one with the
same app id. The engine knows the next offset it has not applied (from a snapshot, or from what it processed
itself); the range between the two is re-applied silently, and everything from the committed offset on is
processed live, so nothing is lost and nothing is published twice except an uncommitted tail, which is republished
with identical content. Events the engine has already applied (its position is past the committed offset: it
published them before the commit) are skipped when they are delivered again.
"""

from __future__ import annotations

import threading
from kafka import KafkaAdminClient

from streams.collector import PausedCollection
from streams.config import Settings
from streams.log_reader import Bounds, open_consumer, partitions_of, read
from streams.processor import EventProcessor
from streams.topics import when_coordinator_ready


def committed_offsets(settings: Settings) -> dict[int, int]:
    admin = KafkaAdminClient(client_id=f"{settings.app_id}-recovery", **settings.kafka_python_options())
    try:
        offsets = when_coordinator_ready(lambda: admin.list_group_offsets(settings.app_id),
                                         settings.startup_timeout_seconds).get(settings.app_id, {})
    finally:
        admin.close()
    return {tp.partition: meta.offset for tp, meta in offsets.items()
            if tp.topic == settings.events_topic and meta.offset >= 0}


def group_members(settings: Settings) -> list[str]:
    """The members of the app's consumer group (its running workers: a worker that stopped a moment ago may stay a
    member until its session times out), each as client id and host; [] for a group without members or none."""
    admin = KafkaAdminClient(client_id=f"{settings.app_id}-recovery", **settings.kafka_python_options())
    try:
        described = when_coordinator_ready(lambda: admin.describe_groups([settings.app_id]),
                                           settings.startup_timeout_seconds).get(settings.app_id) or {}
    finally:
        admin.close()
    return [f"{member.get('client_id') or member.get('member_id') or '?'}@{member.get('client_host') or '?'}"
            for member in described.get("members") or ()]


def commit_offsets(settings: Settings, offsets: dict[int, int]) -> None:
    """Commit input offsets for the app's consumer group while none of its workers runs (after a bulk load: the
    worker then starts reading where the loaded snapshot ends instead of fetching the loaded log again only to skip
    it)."""
    from kafka import KafkaConsumer, TopicPartition
    from kafka.structs import OffsetAndMetadata

    consumer = KafkaConsumer(group_id=settings.app_id, enable_auto_commit=False,
                             client_id=f"{settings.app_id}-load", **settings.kafka_python_options())
    try:
        partitions = {TopicPartition(settings.events_topic, p): offset for p, offset in offsets.items()}
        consumer.assign(list(partitions))
        when_coordinator_ready(lambda: consumer.commit(
            {tp: OffsetAndMetadata(offset, "", -1) for tp, offset in partitions.items()}),
            settings.startup_timeout_seconds)
    finally:
        consumer.close()


def log_start_offsets(settings: Settings) -> dict[int, int]:
    """The first offset each partition of the input topic still holds."""
    return _log_offsets(settings, "beginning_offsets")


def log_end_offsets(settings: Settings) -> dict[int, int]:
    """The next offset each partition of the input topic will get (its high watermark)."""
    return _log_offsets(settings, "end_offsets")


def _log_offsets(settings: Settings, which: str) -> dict[int, int]:
    consumer = open_consumer(settings)
    try:
        partitions = partitions_of(consumer, settings.events_topic)
        return {tp.partition: offset for tp, offset in getattr(consumer, which)(partitions).items()}
    finally:
        consumer.close()


def positions_past_the_log(positions: dict[str, int], ends: dict[int, int]) -> dict[int, tuple[int, int | None]]:
    """The partitions where the engine's next offset lies past the end of the log (or that the topic does not
    have): partition -> (position, end). The engine has applied offsets this log never held: its state comes from
    another log (the topic was deleted and created again, or this is another cluster), and every event of this
    log below that position would be taken for one already applied."""
    return {int(p): (position, ends.get(int(p))) for p, position in sorted(positions.items())
            if int(p) not in ends or position > ends[int(p)]}


def records_of_another_log(settings: Settings, last_records: dict[int, tuple[int, int]]) -> dict[int, tuple]:
    """The partitions whose record at the offset given was appended at another time than given (or is not there):
    partition -> ((offset, append time) given, append time found or None). The offsets and append times of
    records applied from a log; a topic deleted and created again has the same offsets, not the same append times.
    A record retention has deleted since cannot be compared, and does not count."""
    if not last_records:
        return {}
    found: dict[int, int] = {}
    bounds = Bounds(start={p: offset for p, (offset, _) in last_records.items()},
                    end={p: offset + 1 for p, (offset, _) in last_records.items()})
    for record in read(settings, settings.events_topic, bounds):
        if record.offset == last_records[record.partition][0]:
            found[record.partition] = record.timestamp_ms
    differing = {p: (given, found.get(p)) for p, given in sorted(last_records.items()) if found.get(p) != given[1]}
    if any(p not in found for p in differing):
        starts = log_start_offsets(settings)
        differing = {p: pair for p, pair in differing.items() if p in found or starts.get(p, 0) <= pair[0][0]}
    return differing


def catch_up_bounds(settings: Settings, processor: EventProcessor, partitions: set[int],
                    committed: dict[int, int]) -> Bounds:
    """For each partition: from the engine's next offset (the log start if it never saw the partition) to the
    committed offset; empty where the engine is already there or past it."""
    unknown = [p for p in partitions if str(p) not in processor.next_offsets]
    earliest = log_start_offsets(settings) if unknown else {}
    start, end = {}, {}
    for partition in partitions:
        position = processor.next_offsets.get(str(partition))
        start[partition] = earliest.get(partition, 0) if position is None else position
        end[partition] = max(start[partition], committed.get(partition, start[partition]))
    return Bounds(start=start, end=end)


def replay_into(settings: Settings, processor: EventProcessor, bounds: Bounds,
                stop: threading.Event | None = None) -> int:
    """Apply [start, end) of every partition without rendering outputs; the engine's position becomes `end` (also
    across offsets the log no longer has: compaction, transaction markers). Returns the records applied.

    `stop` set (a clean stop of the worker) ends the replay before its next record: the position is then that of
    the last record applied (a consistent cut, which a snapshot may keep), not `end`."""
    applied = 0
    if bounds.total:
        with PausedCollection() as collection:  # a replay allocates the graph: see streams.collector
            for record in read(settings, settings.events_topic, bounds):
                if stop is not None and stop.is_set():
                    return applied
                processor.process(record, publish=False)
                applied += 1
                collection.step()
    for partition, stop_at in bounds.end.items():
        key = str(partition)
        processor.next_offsets[key] = max(processor.next_offsets.get(key, 0), stop_at)
    return applied
