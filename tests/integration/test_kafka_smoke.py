"""Smoke tests against a real broker: the Python clients and Faust must work with the Kafka we ship."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType

from streams.broker import BrokerError, LocalBroker

pytestmark = pytest.mark.kafka

RECEIVE_TIMEOUT_S = 45.0
WORKER_STOP_TIMEOUT_S = 30.0
# Set on the topics the Faust app declares; a topic auto-created by the broker would not carry it.
FAUST_TOPIC_RETENTION_MS = 6 * 3600 * 1000

FAUST_APP_SOURCE = textwrap.dedent(
    """
    import os
    from datetime import timedelta

    import faust

    bootstrap = os.environ["SMOKE_BOOTSTRAP"]
    app = faust.App(
        os.environ["SMOKE_APP_ID"],
        broker=";".join(f"kafka://{server}" for server in bootstrap.split(",")),
        store="memory://",
        datadir=os.environ["SMOKE_DATADIR"],
        web_enabled=False,
        topic_partitions=1,
        topic_replication_factor=1,
    )
    retention = timedelta(milliseconds=int(os.environ["SMOKE_RETENTION_MS"]))
    source = app.topic(os.environ["SMOKE_INPUT_TOPIC"], value_type=bytes, value_serializer="raw",
                       internal=True, retention=retention)
    sink = app.topic(os.environ["SMOKE_OUTPUT_TOPIC"], value_type=bytes, value_serializer="raw",
                     internal=True, retention=retention)


    @app.task
    async def declare_sink():
        # Faust declares the topics it consumes; the one it only writes to is declared here.
        await sink.maybe_declare()


    @app.agent(source)
    async def uppercase(values):
        async for value in values:
            await sink.send(value=value.upper())
    """
)


def _receive_one(consumer: KafkaConsumer, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for records in consumer.poll(timeout_ms=500).values():
            if records:
                return records[0]
    pytest.fail(f"no record arrived within {timeout:.0f} s")


def _wait_for_topics(admin: KafkaAdminClient, topics: set[str], worker: subprocess.Popen, worker_log: Path) -> None:
    deadline = time.monotonic() + RECEIVE_TIMEOUT_S
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            pytest.fail(f"Faust worker exited ({worker.returncode}) before creating its topics:\n{_tail(worker_log)}")
        if topics <= set(admin.list_topics()):
            return
        time.sleep(0.5)
    pytest.fail(f"Faust did not create {sorted(topics)} within {RECEIVE_TIMEOUT_S:.0f} s:\n{_tail(worker_log)}")


def _tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _stop_worker(worker: subprocess.Popen) -> int:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
    try:
        return worker.wait(timeout=WORKER_STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
        raise


def test_kafka_python_produce_consume_commit(kafka_bootstrap: str, unique_topic: str) -> None:
    group = f"{unique_topic}-group"
    with KafkaAdminClient(bootstrap_servers=kafka_bootstrap) as admin:
        admin.create_topics({unique_topic: {"num_partitions": 1, "replication_factor": 1}}, wait_for_metadata=True)

        producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
        try:
            sent = producer.send(unique_topic, key=b"case-1", value=b"hello").get(timeout=30)
        finally:
            producer.close()

        consumer = KafkaConsumer(
            unique_topic,
            bootstrap_servers=kafka_bootstrap,
            group_id=group,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        try:
            record = _receive_one(consumer, RECEIVE_TIMEOUT_S)
            consumer.commit()
        finally:
            consumer.close()

        assert (record.key, record.value, record.offset) == (b"case-1", b"hello", sent.offset)
        committed = admin.list_group_offsets({group: None})[group]
        assert committed[TopicPartition(unique_topic, 0)].offset == sent.offset + 1


def test_faust_agent_round_trip(kafka_bootstrap: str, unique_topic: str, tmp_path: Path) -> None:
    input_topic, output_topic = f"{unique_topic}-in", f"{unique_topic}-out"
    (tmp_path / "uppercase_app.py").write_text(FAUST_APP_SOURCE)
    worker_log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "PYTHONPATH": str(tmp_path),
        "SMOKE_BOOTSTRAP": kafka_bootstrap,
        "SMOKE_APP_ID": f"coi-smoke-{uuid.uuid4().hex[:8]}",
        "SMOKE_DATADIR": str(tmp_path / "faust-data"),
        "SMOKE_INPUT_TOPIC": input_topic,
        "SMOKE_OUTPUT_TOPIC": output_topic,
        "SMOKE_RETENTION_MS": str(FAUST_TOPIC_RETENTION_MS),
    }
    with open(worker_log, "wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "faust", "-A", "uppercase_app", "worker", "--without-web", "--loglevel", "info"],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        with KafkaAdminClient(bootstrap_servers=kafka_bootstrap) as admin:
            _wait_for_topics(admin, {input_topic, output_topic}, worker, worker_log)
            described = admin.describe_configs(
                [ConfigResource(ConfigResourceType.TOPIC, name) for name in (input_topic, output_topic)]
            )
        for name in (input_topic, output_topic):
            assert described["topic"][name]["retention.ms"]["value"] == str(FAUST_TOPIC_RETENTION_MS)

        producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
        try:
            producer.send(input_topic, value=b"conflict of interest").get(timeout=30)
        finally:
            producer.close()

        reader = KafkaConsumer(output_topic, bootstrap_servers=kafka_bootstrap, auto_offset_reset="earliest")
        try:
            record = _receive_one(reader, RECEIVE_TIMEOUT_S)
        finally:
            reader.close()
        assert record.value == b"CONFLICT OF INTEREST"
    finally:
        exit_code = _stop_worker(worker)
    assert exit_code == 0, f"Faust worker did not stop cleanly:\n{_tail(worker_log)}"


def test_local_broker_status_and_repeated_start(
    local_broker: LocalBroker, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = local_broker.status()
    assert status.running and status.ready
    assert status.bootstrap == local_broker.bootstrap

    # A second handle on the same state dir stands for a second `broker start` from another shell.
    again = LocalBroker(port=local_broker.port, state_dir=local_broker.state_dir).start(timeout=5)
    assert again == status
    assert f"broker already running on {local_broker.bootstrap} (pid {status.pid})" in capsys.readouterr().out

    intruder = LocalBroker(port=local_broker.port, state_dir=tmp_path / "other-state")
    with pytest.raises(BrokerError, match=f"port {local_broker.bootstrap} is already in use by another process"):
        intruder.start(timeout=5)
