"""The pipeline's topics: names, partitions and configs in one table, created with the right configs up front.

The input topic keeps events forever (retention -1): the worker rebuilds its graph from it after a restart and
auditors replay it. Scores are compacted, keyed by pair, so the topic is the current score of every pair.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
from kafka.errors import TopicAlreadyExistsError

from streams.config import Settings


@dataclass(frozen=True)
class TopicSpec:
    role: str
    name: str
    partitions: int
    replication: int
    config: dict[str, str] = field(default_factory=dict)


# what a record batch adds to one output's key and value; the producer's request limit has the same margin
# (`streams.app`)
RECORD_OVERHEAD_BYTES = 1024


def topic_specs(settings: Settings) -> list[TopicSpec]:
    out, rf = settings.output_partitions, settings.replication_factor
    # an output topic takes every output the worker lets through (`max_message_bytes`), whatever the broker's
    # default: a broker refusing one would stop the worker on it at every restart
    fits = {"max.message.bytes": str(settings.max_message_bytes + RECORD_OVERHEAD_BYTES)}
    return [
        # LogAppendTime: the broker stamps each event, so a producer cannot forge the time that bounds observed_at
        # (max_future_skew_seconds); it also gives replays one merge order that no producer clock can skew.
        TopicSpec("events", settings.events_topic, settings.events_partitions, rf,
                  {"retention.ms": "-1", "cleanup.policy": "delete", "message.timestamp.type": "LogAppendTime"}),
        TopicSpec("scores", settings.scores_topic, out, rf,
                  {"cleanup.policy": "compact", "min.compaction.lag.ms": "60000", **fits}),
        TopicSpec("alerts", settings.alerts_topic, out, rf, {"retention.ms": "-1", **fits}),
        TopicSpec("dead_letters", settings.dead_letter_topic, 1, rf,
                  {"retention.ms": str(30 * 24 * 3600 * 1000), **fits}),
        # one record per app id and input topic, the latest kept for good (streams.bulk)
        TopicSpec("bulk_loads", settings.bulk_loads_topic, 1, rf, {"cleanup.policy": "compact"}),
    ] + ([  # proposed same_as judgements keyed by relation id: compacted, the latest proposal per pair
        TopicSpec("suggestions", settings.suggestions_topic, out, rf, {"cleanup.policy": "compact", **fits}),
    ] if settings.suggest_merges else [])


def admin_client(settings: Settings) -> KafkaAdminClient:
    return KafkaAdminClient(client_id=f"{settings.app_id}-admin", request_timeout_ms=15000,
                            **settings.kafka_python_options())


def ensure_topics(settings: Settings, roles: Collection[str] | None = None) -> dict[str, str]:
    """Create the missing topics (of these roles; all by default); returns topic name -> 'created' | 'exists'.
    Existing topics are not altered."""
    admin = admin_client(settings)
    try:
        existing = set(admin.list_topics())
        outcome = {}
        for spec in topic_specs(settings):
            if roles is not None and spec.role not in roles:
                continue
            if spec.name in existing:
                outcome[spec.name] = "exists"
                continue
            try:
                admin.create_topics([NewTopic(spec.name, spec.partitions, spec.replication,
                                              topic_configs=spec.config)])
                outcome[spec.name] = "created"
            except TopicAlreadyExistsError:
                outcome[spec.name] = "exists"
        return outcome
    finally:
        admin.close()


def describe_topics(settings: Settings) -> list[dict]:
    admin = admin_client(settings)
    try:
        names = [spec.name for spec in topic_specs(settings)]
        present = set(admin.list_topics())
        # kafka-python 3.x names a described topic `name` (2.x: `topic`)
        described = {t.get("name", t.get("topic")): t
                     for t in admin.describe_topics([n for n in names if n in present])}
        configs: dict[str, dict[str, str]] = {}
        resources = [ConfigResource(ConfigResourceType.TOPIC, n) for n in names if n in present]
        if resources:
            by_type = admin.describe_configs(resources)
            for topic, entries in next(iter(by_type.values()), {}).items():
                configs[topic] = {key: str(data.get("value") if isinstance(data, dict) else data)
                                  for key, data in entries.items()}
        return [{"name": n, "exists": n in present,
                 "partitions": len(described.get(n, {}).get("partitions", [])) if n in present else 0,
                 "config": configs.get(n, {})} for n in names]
    finally:
        admin.close()


def when_coordinator_ready(call, timeout: float):
    """`call()` (a group request), retried while the group has no coordinator ready: a broker just started has no
    offsets topic (asking creates it), a coordinator may still be loading the group, or may have moved."""
    import time

    from kafka.errors import CoordinatorLoadInProgressError, CoordinatorNotAvailableError, NotCoordinatorError

    deadline = time.monotonic() + timeout
    while True:
        try:
            return call()
        except (CoordinatorNotAvailableError, CoordinatorLoadInProgressError, NotCoordinatorError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def recreate_topics(settings: Settings, timeout: float = 30.0) -> None:
    """Delete the pipeline's topics (if present) and create them anew; for demos and tests, never production."""
    import time

    from kafka.errors import UnknownTopicOrPartitionError

    admin = admin_client(settings)
    try:
        names = [spec.name for spec in topic_specs(settings)]
        present = [name for name in names if name in set(admin.list_topics())]
        if present:
            try:
                admin.delete_topics(present)
            except UnknownTopicOrPartitionError:
                pass
            deadline = time.monotonic() + timeout
            while set(present) & set(admin.list_topics()):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"topics {present} were not deleted within {timeout}s")
                time.sleep(0.2)
        # the group's committed offsets point into the deleted topics; a missing group is reported, not raised
        when_coordinator_ready(lambda: admin.delete_groups([settings.app_id]), timeout)
    finally:
        admin.close()
    deadline = time.monotonic() + timeout
    while True:
        try:
            ensure_topics(settings)
            return
        except Exception:
            # the broker may still be finishing the deletion it just acknowledged
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
