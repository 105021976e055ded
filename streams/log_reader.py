"""Bounded, read-only reads of a topic: from a start to an end position per partition, never joining a group.

Recovery and audit replay use it; it commits nothing, so the live consumer group's offsets stay untouched.
Partitions are merged by append time, then partition, then offset: one deterministic order for a given log.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from kafka import KafkaConsumer, TopicPartition

from streams.config import Settings
from streams.processor import InputRecord


@dataclass(frozen=True)
class Bounds:
    """Per partition: first offset to read (inclusive) and the offset to stop at (exclusive)."""

    start: dict[int, int]
    end: dict[int, int]

    @property
    def total(self) -> int:
        return sum(max(0, self.end[p] - self.start.get(p, 0)) for p in self.end)


def open_consumer(settings: Settings) -> KafkaConsumer:
    return KafkaConsumer(group_id=None, enable_auto_commit=False, auto_offset_reset="earliest",
                         client_id=f"{settings.app_id}-reader", max_partition_fetch_bytes=4 * 1024 * 1024,
                         fetch_max_bytes=16 * 1024 * 1024, **settings.kafka_python_options())


def partitions_of(consumer: KafkaConsumer, topic: str) -> list[TopicPartition]:
    partitions = consumer.partitions_for_topic(topic)
    if not partitions:
        raise LookupError(f"topic {topic!r} does not exist on the broker")
    return [TopicPartition(topic, p) for p in sorted(partitions)]


def resolve_bounds(consumer: KafkaConsumer, topic: str, start: dict[int, int] | int | str | None = None,
                   end: dict[int, int] | int | str | None = None) -> Bounds:
    """start/end: None (log start / current end), a dict of offsets, or a timestamp in ms (int)."""
    partitions = partitions_of(consumer, topic)
    earliest = consumer.beginning_offsets(partitions)
    latest = consumer.end_offsets(partitions)

    def resolve(position, default) -> dict[int, int]:
        if position is None:
            return {tp.partition: default[tp] for tp in partitions}
        if isinstance(position, dict):
            return {tp.partition: min(max(int(position.get(tp.partition, default[tp])), earliest[tp]), latest[tp])
                    for tp in partitions}
        found = consumer.offsets_for_times({tp: int(position) for tp in partitions})
        return {tp.partition: (found[tp].offset if found.get(tp) else latest[tp]) for tp in partitions}

    return Bounds(start=resolve(start, earliest), end=resolve(end, latest))


def read(settings: Settings, topic: str, bounds: Bounds) -> Iterator[InputRecord]:
    """Records in [start, end) of every partition; one consumer per partition so each drains independently."""
    start = {p: bounds.start.get(p, 0) for p, stop in bounds.end.items() if bounds.start.get(p, 0) < stop}
    return _merged(settings, topic, start, lambda: bounds.end)


def read_while_written(settings: Settings, topic: str, start: dict[int, int],
                       final_end: Callable[[], dict[int, int] | None]) -> Iterator[InputRecord]:
    """`read` of a log that is still being written: every partition from `start` until `final_end()`, which gives
    None while the writer is at work and then the end offsets to stop at (what a bulk load reads as a file is
    published: the two overlap, each on a core of its own). The same order as `read`."""
    return _merged(settings, topic, start, final_end)


def _merged(settings: Settings, topic: str, start: dict[int, int],
            final_end: Callable[[], dict[int, int] | None]) -> Iterator[InputRecord]:
    wanted = sorted(start)
    consumers = [open_consumer(settings) for _ in wanted]
    try:
        iterators = [_partition_records(c, TopicPartition(topic, p), start[p], final_end) for c, p in
                     zip(consumers, wanted)]
        if len(iterators) == 1:
            yield from iterators[0]
        else:
            yield from heapq.merge(*iterators, key=lambda r: (r.timestamp_ms or 0, r.partition, r.offset))
    finally:
        for consumer in consumers:
            consumer.close()


def _partition_records(consumer: KafkaConsumer, tp: TopicPartition, start: int,
                       ends_when_known: Callable[[], dict[int, int] | None]) -> Iterator[InputRecord]:
    """Records of one partition from `start` until the end `ends_when_known()` gives (None: not known yet)."""
    consumer.assign([tp])
    consumer.seek(tp, start)
    while True:
        ends = ends_when_known()
        end = None if ends is None else ends.get(tp.partition, start)
        if end is not None and consumer.position(tp) >= end:
            return
        for record in consumer.poll(timeout_ms=200 if end is None else 1000, max_records=5000).get(tp, []):
            if end is not None and record.offset >= end:
                return
            yield InputRecord(value=record.value, key=record.key, topic=record.topic,
                              partition=record.partition, offset=record.offset, timestamp_ms=record.timestamp)
