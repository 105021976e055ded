"""coi_consumer_lag while the worker's agent is stalled, on the real broker.

The lag was the consumer's own high-water mark less the engine's position. The consumer learns that mark from its
fetch responses only, and it stops fetching a partition once the records fetched wait for the agent (its buffers
full): with the agent stuck in one batch, the lag froze at about what the buffers hold (3,340 here) while producers
kept appending (8,025 on the broker), a steady backlog to CoiConsumerLagGrowing, which stayed quiet for the very
worker it is there for; /ready said 200 and coi_worker_ready 1 all along (the consumer heartbeats, the group keeps
the partition). The lag now reads the broker's log end offsets (streams.log_ends)."""

from __future__ import annotations

import sys
import time

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from streams.testing import WorkerProcess, pipeline_settings
from streams.topics import ensure_topics
from tests.integration.conftest import SEED_FILE
from tests.integration.stalled_worker import GATE_ENV

pytestmark = pytest.mark.kafka

SEED = SEED_FILE.read_bytes().splitlines()
PROCESSED = 20  # events the worker processes before its agent stalls


class StalledWorker(WorkerProcess):
    def command(self) -> list[str]:
        return [sys.executable, "-m", "tests.integration.stalled_worker"]


def produce(producer: KafkaProducer, topic: str, count: int) -> None:
    for i in range(count):
        producer.send(topic, key=b"k%d" % i, value=SEED[i % len(SEED)], partition=0)
    producer.flush(timeout=60)


def wait_for(read, accept, what: str, worker: WorkerProcess, timeout: float = 30.0):
    """The first value of `read()` that `accept` takes, polled until `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if accept(value):
            return value
        assert worker.process.poll() is None, worker.log_tail()
        assert time.monotonic() < deadline, f"{what}: still {value} after {timeout}s\n{worker.log_tail(20)}"
        time.sleep(0.5)


def test_lag_follows_the_log_end_while_the_agent_is_stalled(kafka_bootstrap, tmp_path):
    settings = pipeline_settings(kafka_bootstrap, tmp_path)  # lag sampled every second
    ensure_topics(settings)
    topic = settings.events_topic
    gate = tmp_path / "stall"
    worker = StalledWorker(settings, tmp_path / "worker.log", extra_env={GATE_ENV: str(gate)})
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, linger_ms=20)
    broker = KafkaConsumer(bootstrap_servers=kafka_bootstrap)
    partition = TopicPartition(topic, 0)

    def log_end() -> int:
        return broker.end_offsets([partition])[partition]

    def lag() -> float:
        return worker.metric("coi_consumer_lag", topic=topic, partition="0")

    def seen_by_consumer() -> float:  # the high-water mark the consumer last fetched
        return worker.metric("coi_faust_end_offset", topic=topic, partition="0")

    def fetched_over_3s() -> tuple[float, float]:
        before = seen_by_consumer()
        time.sleep(3)
        return before, seen_by_consumer()

    try:
        worker.start()
        produce(producer, topic, PROCESSED)
        wait_for(lambda: (worker.metric("coi_events_consumed_total"), lag()), lambda v: v == (PROCESSED, 0),
                 "the first events processed (consumed, lag)", worker)

        gate.touch()  # the next batch waits, holding the engine
        produce(producer, topic, 6000)  # more than Faust and aiokafka buffer: the consumer stops fetching
        _, frozen = wait_for(fetched_over_3s, lambda v: v[0] == v[1] > PROCESSED,
                             "the consumer's fetching to stop (its high-water mark 3 s apart)", worker, timeout=60)
        produce(producer, topic, 2000)
        end = log_end()
        assert seen_by_consumer() == frozen < end  # the fault's condition: the consumer no longer sees the end

        # the lag counts what the broker holds, not what the consumer last fetched
        first = wait_for(lag, lambda v: v == end - PROCESSED, f"coi_consumer_lag up to the log end {end}", worker)
        produce(producer, topic, 1000)
        second = wait_for(lag, lambda v: v == end + 1000 - PROCESSED,
                          f"coi_consumer_lag following the log end {end + 1000}", worker)
        assert second > first > frozen - PROCESSED
        assert worker.metric("coi_events_consumed_total") == PROCESSED  # still stalled

        gate.unlink()  # the agent goes on: the lag drains to 0
        wait_for(lambda: (worker.metric("coi_events_consumed_total"), lag()), lambda v: v == (end + 1000, 0),
                 "the backlog drained (consumed, lag)", worker, timeout=120)
    finally:
        worker.stop()
        producer.close()
        broker.close()
