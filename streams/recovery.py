"""Rebuilding the worker's graph after a restart (clean or kill -9) from the retained input topic.

The group's committed offset marks what the previous run fully processed and published. Everything before it is
re-applied silently; everything from it on is processed live, so nothing is lost and nothing is published twice
except the uncommitted tail of the previous run, which is republished with identical content.
"""

from __future__ import annotations

from kafka import KafkaAdminClient

from streams.config import Settings
from streams.log_reader import Bounds, open_consumer, partitions_of, read
from streams.processor import EventProcessor


def committed_offsets(settings: Settings) -> dict[int, int]:
    admin = KafkaAdminClient(client_id=f"{settings.app_id}-recovery", **settings.kafka_python_options())
    try:
        offsets = admin.list_group_offsets(settings.app_id).get(settings.app_id, {})
    finally:
        admin.close()
    return {tp.partition: meta.offset for tp, meta in offsets.items()
            if tp.topic == settings.events_topic and meta.offset >= 0}


def replay_into(settings: Settings, processor: EventProcessor, committed: dict[int, int]) -> int:
    """Apply [log start, committed) of every partition; returns how many records were applied."""
    if not committed:
        return 0
    consumer = open_consumer(settings)
    try:
        partitions = partitions_of(consumer, settings.events_topic)
        earliest = consumer.beginning_offsets(partitions)
        bounds = Bounds(start={tp.partition: earliest[tp] for tp in partitions},
                        end={tp.partition: committed.get(tp.partition, earliest[tp]) for tp in partitions})
    finally:
        consumer.close()
    applied = 0
    for record in read(settings, settings.events_topic, bounds):
        processor.process(record)
        applied += 1
    return applied
