"""The worker's assignment against the consumer's metadata refreshes.

A partition added to the input topic under a running worker (issue #11 fault replay): before, the worker read it
only at aiokafka's 5-minute metadata refresh, with /ready 200 and no lag reported for it all that time.

A fresh group's first worker (issue 13, round eleven): Faust's leader-election topic, which the worker never uses,
did not exist when the group first formed, and the broker created it on the consumer's request; the first refresh
saw its partition appear and the group rebalanced, revoking the input 30 s after every first start."""

from __future__ import annotations

import json
import time

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewPartitions

from schemas import RejectReason
from streams.testing import WorkerProcess, http_get, pipeline_settings
from streams.topics import ensure_topics
from tests.integration.conftest import SEED_FILE

pytestmark = pytest.mark.kafka

SEED = SEED_FILE.read_bytes().splitlines()


def send(producer: KafkaProducer, topic: str, lines: list[bytes], partition: int) -> None:
    for line in lines:
        producer.send(topic, key=json.loads(line)["relation_id"].encode(), value=line,
                      partition=partition).get(timeout=30)


def lag_sample(worker: WorkerProcess, topic: str, partition: str) -> float | None:
    """coi_consumer_lag of a partition as /metrics reports it, None if absent."""
    from prometheus_client.parser import text_string_to_metric_families

    _, body = http_get(worker.base_url + "/metrics")
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            if sample.name == "coi_consumer_lag" and sample.labels == {"topic": topic, "partition": partition}:
                return sample.value
    return None


def test_a_partition_added_under_a_running_worker_is_consumed(kafka_bootstrap, tmp_path):
    settings = pipeline_settings(kafka_bootstrap, tmp_path).model_copy(update={"metadata_max_age_seconds": 2.0})
    ensure_topics(settings)
    worker = WorkerProcess(settings, tmp_path / "worker.log")
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    try:
        worker.start()
        send(producer, settings.events_topic, SEED[:5], partition=0)
        admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
        try:
            admin.create_partitions({settings.events_topic: NewPartitions(total_count=2)})
        finally:
            admin.close()
        producer.close()
        producer = KafkaProducer(bootstrap_servers=kafka_bootstrap)  # metadata that knows partition 1
        deadline = time.monotonic() + 30
        while producer.partitions_for(settings.events_topic) != {0, 1}:
            assert time.monotonic() < deadline, "the producer never saw partition 1"
            time.sleep(0.5)
        send(producer, settings.events_topic, SEED[5:8], partition=1)

        # wlf and eric-trump are named only by the events sent to partition 1
        deadline = time.monotonic() + 60
        while http_get(f"{worker.base_url}/entities/eric-trump")[0] != 200:
            assert worker.process.poll() is None, worker.log_tail()
            assert time.monotonic() < deadline, ("partition 1 not consumed", worker.log_tail())
            time.sleep(1)
        assert http_get(f"{worker.base_url}/entities/wlf")[0] == 200
        # a sample, taken every second: the one before the events were processed counted them (the broker's log
        # end offset, streams.log_ends); and reported, not absent (metric() reads an absent series as 0)
        deadline = time.monotonic() + 10
        while (lag := lag_sample(worker, settings.events_topic, "1")) != 0:
            assert time.monotonic() < deadline, f"coi_consumer_lag of partition 1: {lag}"
            time.sleep(0.5)
        assert sum(worker.metric("coi_events_rejected_total", reason=r.value) for r in RejectReason) == 0
    finally:
        producer.close()
        worker.stop()


def test_a_fresh_groups_first_worker_keeps_its_partitions_across_metadata_refreshes(kafka_bootstrap, tmp_path):
    settings = pipeline_settings(kafka_bootstrap, tmp_path).model_copy(update={"metadata_max_age_seconds": 1.0})
    ensure_topics(settings)
    worker = WorkerProcess(settings, tmp_path / "worker.log")
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    try:
        worker.start()
        time.sleep(6)  # several refreshes of the consumer's metadata
        send(producer, settings.events_topic, SEED, partition=0)
        deadline = time.monotonic() + 60
        while worker.metric("coi_events_consumed_total") < len(SEED):
            assert worker.process.poll() is None, worker.log_tail()
            assert time.monotonic() < deadline, ("the seed was not processed", worker.log_tail())
            time.sleep(0.5)
        log = (tmp_path / "worker.log").read_text()
        assert log.count("assigned input partitions") == 1, worker.log_tail()
        assert "revoked" not in log, worker.log_tail()
        listing = KafkaConsumer(bootstrap_servers=kafka_bootstrap)
        try:
            topics = listing.topics()
        finally:
            listing.close()
        assert not [topic for topic in topics if topic.startswith(settings.app_id)], topics  # no leader topic
    finally:
        producer.close()
        worker.stop()
