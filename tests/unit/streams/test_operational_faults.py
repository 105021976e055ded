"""Operational faults of the worker: producer limits, crash-guard order, web views, metrics cardinality, settings."""

from __future__ import annotations

import asyncio
import errno
import json
import threading
from types import SimpleNamespace

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from pydantic import ValidationError

from schemas import AlertState, Band
from streams import recovery
from streams.config import load_settings
from streams.crash_guard import CrashGuard
from streams.log_reader import Bounds
from streams.metrics import PipelineMetrics
from streams.recovery import catch_up_bounds, replay_into
from tests.unit.streams.test_poison import LINES, keyed
from tests.unit.streams.test_processor import make_processor


def _pipeline(tmp_path, **settings):
    from streams.app import Pipeline

    return Pipeline(load_settings(environ={}, data_dir=str(tmp_path / "data"), **settings))


# -- 1. an output the processor lets through must fit the producer's request limit ----------------------------

@pytest.mark.parametrize("max_message_bytes", [None, 2_000_000])
def test_the_largest_output_the_processor_lets_through_is_one_the_producer_accepts(tmp_path, max_message_bytes):
    """`_withhold_oversized` lets key + value up to max_message_bytes through; Faust's producer refuses anything
    over its max_request_size (Faust's default 1,000,000, record overhead included). A refused send makes
    `_process_and_publish` exit 70 with the crash guard idle: the restart meets the same output, for ever, and
    no dead letter is ever written."""
    from aiokafka import AIOKafkaProducer

    overrides = {} if max_message_bytes is None else {"max_message_bytes": max_message_bytes}
    pipeline = _pipeline(tmp_path, snapshots_enabled=False, **overrides)
    limit = pipeline.processor.limits.max_message_bytes
    key = b"actor-1|counterparty-1"
    value = b"v" * (limit - len(key))  # the largest output `_withhold_oversized` publishes

    async def serialize():
        producer = AIOKafkaProducer(bootstrap_servers="127.0.0.1:1",
                                    max_request_size=pipeline.app.conf.producer_max_request_size)
        try:
            return producer._serialize(key, value, [])  # what `send` checks before anything reaches the broker
        finally:
            await producer.stop()

    assert asyncio.run(serialize()) == (key, value)


@pytest.mark.parametrize("max_message_bytes", [100_000, 1_000_000, 2_000_000])
def test_every_output_topic_takes_the_largest_output_the_worker_writes(max_message_bytes):
    """The broker checks a topic's max.message.bytes against the whole record batch: an output topic created at
    the broker's default refuses a 2 MB score the worker lets through under max_message_bytes=2000000."""
    from streams.topics import topic_specs

    settings = load_settings(environ={}, max_message_bytes=max_message_bytes, suggest_merges=True)
    limits = {spec.role: int(spec.config.get("max.message.bytes", 0)) for spec in topic_specs(settings)}
    for role in ("scores", "alerts", "dead_letters", "suggestions"):
        assert limits[role] >= max_message_bytes + 100, role
    assert "max.message.bytes" not in next(s.config for s in topic_specs(settings) if s.role == "events")


@pytest.mark.parametrize("max_message_bytes", [100_000, 1_000_000, 2_000_000])
def test_the_producer_batches_many_outputs_and_a_full_batch_fits_every_output_topic(tmp_path, max_message_bytes):
    """aiokafka sends one request at a time to a broker, with one batch a partition: at its default of 16 KB an
    event that publishes thousands of scores waits for a round trip every ten or so of them. The worker's batches
    hold hundreds, and a batch filled to the limit, as aiokafka's own builder fills it, is still one every output
    topic accepts (the broker checks max.message.bytes against the whole batch)."""
    from aiokafka.record.default_records import DefaultRecordBatchBuilder

    from streams.topics import topic_specs

    pipeline = _pipeline(tmp_path, snapshots_enabled=False, max_message_bytes=max_message_bytes)
    batch_size = pipeline.app.conf.producer_max_batch_size
    builder = DefaultRecordBatchBuilder(magic=2, compression_type=0, is_transactional=False, producer_id=-1,
                                        producer_epoch=-1, base_sequence=-1, batch_size=batch_size)
    score = (b"actor-1|counterparty-1", b"s" * 1_500)  # a typical score message
    appended = 0
    while builder.append(appended, timestamp=None, key=score[0], value=score[1], headers=[]) is not None:
        appended += 1
    assert appended >= 60  # at least 100 KB of outputs a round trip (16 KB held ten)
    batch = bytes(builder.build())
    written = set(pipeline._output_names)  # the topics the worker's producer writes
    limits = {spec.role: int(spec.config["max.message.bytes"]) for spec in topic_specs(pipeline.settings)
              if spec.role in written}
    assert limits.keys() == written
    assert all(len(batch) <= limit for limit in limits.values()), (len(batch), limits)


def test_a_message_limit_no_broker_request_could_carry_is_refused():
    with pytest.raises(ValidationError, match="max_message_bytes"):
        load_settings(environ={}, max_message_bytes=10**12)


# -- 2. a catch-up interrupted inside `process` must not skip the record --------------------------------------

def test_a_catch_up_retried_after_the_crash_guard_failed_does_not_skip_the_record(tmp_path, monkeypatch):
    """`process` records the offset as applied before the crash guard writes its marker; when that write fails
    (EIO, ENOSPC on a copy-on-write file system), `_catch_up` logs "retrying" and the retry starts after the
    record, which is never applied and never dead-lettered."""
    processor, _ = make_processor()
    processor.metrics = None  # as in a replay
    guard = processor.crash_guard = CrashGuard(tmp_path / "data", max_attempts=3)
    records = [keyed(line, offset) for offset, line in enumerate(LINES[:6])]
    monkeypatch.setattr(recovery, "read", lambda settings, topic, bounds: (
        r for r in records if bounds.start[0] <= r.offset < bounds.end[0]))
    mark, failed = guard._mark, []

    def failing_once(position: str) -> None:
        if position.endswith(":2") and not failed:
            failed.append(position)
            raise OSError(errno.EIO, "Input/output error")
        mark(position)

    monkeypatch.setattr(guard, "_mark", failing_once)
    settings = load_settings(environ={}, data_dir=str(tmp_path / "data"))
    with pytest.raises(OSError):
        replay_into(settings, processor, Bounds(start={0: 0}, end={0: 6}))
    # what `Pipeline._catch_up` does next: the bounds again, from the engine's position
    bounds = catch_up_bounds(settings, processor, {0}, {0: 6})
    replay_into(settings, processor, bounds)
    skipped_id = json.loads(LINES[2])["event_id"]
    assert bounds.start[0] == 2 and processor.engine.content_digest(skipped_id) is not None


# -- 3. /entities/ID renders on the event loop, in time proportional to every open suggestion ------------------

def test_the_entity_view_does_not_render_on_the_event_loop(tmp_path):
    from aiohttp.test_utils import TestClient, TestServer

    pipeline = _pipeline(tmp_path, snapshots_enabled=False)
    pipeline.ready.set()
    rendered_on = []
    pipeline.engine.cluster = lambda entity_id: rendered_on.append(threading.current_thread()) or {"id": entity_id}

    async def scenario():
        client = TestClient(TestServer(pipeline.app.web.web_app))
        await client.start_server()
        try:
            response = await client.get("/entities/someone")
            return response.status, await response.json()
        finally:
            await client.close()

    assert asyncio.run(scenario()) == (200, {"id": "someone"})
    assert rendered_on and rendered_on[0] is not threading.main_thread()


# -- 4. coi_pair_alerts: one series per alerting pair, for ever -------------------------------------------------

def test_pair_alert_series_are_bounded_whatever_the_input():
    processor, registry = make_processor()
    alerts = [SimpleNamespace(band=Band.HIGH, state=AlertState.RAISED, actor_id=f"official-{i}",
                              counterparty_id=f"company-{i}") for i in range(5_000)]
    processor._count_outputs([], alerts)
    series = [s for family in registry.collect() if family.name == "coi_pair_alerts"
              for s in family.samples if s.name == "coi_pair_alerts_total"]
    assert sum(s.value for s in series) == 5_000  # every transition still counted
    assert len(series) <= 1_001


# -- 5. settings accepted that crash the worker at start ---------------------------------------------------------

@pytest.mark.parametrize("name, value", [("max_future_skew_seconds", "1e14"), ("max_future_skew_seconds", "inf"),
                                         ("metadata_max_age_seconds", "inf")])
def test_a_setting_accepted_is_one_the_worker_starts_with(tmp_path, name, value):
    from streams.app import Pipeline

    try:
        settings = load_settings(environ={"COI_" + name.upper(): value, "COI_DATA_DIR": str(tmp_path / "data"),
                                          "COI_SNAPSHOTS_ENABLED": "false"})
    except ValidationError as exc:  # refused up front, naming the setting: fine
        assert name in str(exc)
        return
    Pipeline(settings)


# -- 6. consumer lag of a revoked partition stays exported, frozen ------------------------------------------------

def test_lag_of_a_partition_no_longer_assigned_is_not_exported(tmp_path):
    from faust.types import TP

    pipeline = _pipeline(tmp_path, snapshots_enabled=False)
    topic = pipeline.settings.events_topic
    assignment = {TP(topic, 0), TP(topic, 1)}
    pipeline.app._consumer = SimpleNamespace(assignment=lambda: set(assignment), highwater=lambda tp: 5_000)
    pipeline.sample_gauges()
    assignment.discard(TP(topic, 1))  # a rebalance gave partition 1 to another worker, which reports its lag now
    pipeline.sample_gauges()
    lag = {s.labels["partition"]: s.value for family in pipeline.registry.collect()
           if family.name == "coi_consumer_lag" for s in family.samples}
    assert lag == {"0": 5_000}


# -- 7. a scrape-time reading that fails must not fail the whole /metrics ---------------------------------------

def test_metrics_are_served_when_the_memory_left_cannot_be_read(tmp_path):
    metrics = PipelineMetrics(CollectorRegistry())

    def unreadable():
        raise PermissionError(errno.EACCES, "Permission denied", "/sys/fs/cgroup/memory")

    metrics.watch_fork_room(unreadable)  # `Pipeline._read_fork_room` expects this to raise, the scrape does not
    body = generate_latest(metrics.registry)
    assert b"coi_snapshot_fork_room_bytes NaN" in body


# -- 8. a read-only snapshot directory keeps the worker from ever becoming ready --------------------------------

def test_a_snapshot_directory_gone_read_only_does_not_stop_the_load(tmp_path, monkeypatch):
    """`load_newest` first removes stale temporaries (a writer killed mid-write); on a directory that went
    read-only (ext4's errors=remount-ro, a read-only volume) the unlink raises EROFS, `load_newest` raises, and
    `Pipeline._catch_up` retries it for ever: never ready, no event processed, though replaying the log would do."""
    import os
    import time
    from pathlib import Path

    from streams.snapshots import Identity, SnapshotStore

    directory = tmp_path / "snapshots"
    directory.mkdir()
    stale = directory / ".tmp-4242-0123456789abcdef-snapshot"
    stale.write_bytes(b"half a snapshot")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))

    def read_only(self, missing_ok=False):
        raise OSError(errno.EROFS, "Read-only file system", str(self))

    monkeypatch.setattr(Path, "unlink", read_only)
    store = SnapshotStore(directory, Identity("coi-risk", "coi-relationship-events", "config"), keep=3)
    assert store.load_newest() is None  # no usable snapshot: replay the log


@pytest.mark.parametrize("timestamp", [0.0, 1_767_225_600.0, None])
def test_the_worker_reads_a_records_timestamp_as_every_replay_does(timestamp):
    """A record appended at 0 ms (a producer's CreateTime on a topic the worker did not create) was read live as
    one without a timestamp, so the future-skew check let it through, and every replay, reading it from the log
    as 0 ms, dead-lettered it (a review). The worker's record and the log reader's are the same now, and so are
    their outcomes."""
    from streams.app import input_record

    line = LINES[0]
    message = SimpleNamespace(topic="in", partition=0, offset=7, timestamp=timestamp)
    live = input_record(SimpleNamespace(value=line, key=keyed(line, 7).key, message=message))
    logged = keyed(line, 7, timestamp_ms=None if timestamp is None else round(timestamp * 1000))
    assert live == logged
    outcomes = []
    for record in (live, logged):
        processor, _ = make_processor()
        outcomes.append([out.role for out in processor.process(record).outbound])
    assert outcomes[0] == outcomes[1]
    # the seed's events were observed in 2025: appended in 1970 they are from the future
    assert ("dead_letters" in outcomes[0]) == (timestamp == 0.0)
