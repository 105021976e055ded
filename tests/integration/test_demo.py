"""`coi-risk demo` end to end on the real broker: the worker it starts, the file it publishes, what it prints."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from streams.testing import REPO_ROOT, free_port
from tests.integration.conftest import SEED_FILE

pytestmark = pytest.mark.kafka


def _demo(kafka_bootstrap: str, cwd, *arguments: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items()
           if not key.upper().startswith("COI_") and key != "KAFKA_BOOTSTRAP_SERVERS"}
    return subprocess.run([sys.executable, "-m", "streams.cli", "demo", "--bootstrap-servers", kafka_bootstrap,
                           "--web-port", str(free_port()), *arguments],
                          cwd=cwd, capture_output=True, text=True, timeout=300, env=env)


def test_the_demo_shows_the_alerts_of_its_file_and_the_events_the_worker_could_not_use(kafka_bootstrap, tmp_path):
    # A demo of one's own file showed the alerts only: an event the worker refused (a misspelt relation type) went
    # unnoticed unless one knew to tail the demo's dead-letter topic.
    seed = SEED_FILE.read_bytes().splitlines()
    misspelt = json.loads(seed[0])
    misspelt.update(event_id="mine-001", relation_type="owns_lots")
    events = tmp_path / "events.jsonl"
    events.write_bytes(b"\n".join([*seed, json.dumps(misspelt).encode()]) + b"\n")

    result = _demo(kafka_bootstrap, tmp_path, "--file", str(events), "--exit-after-idle", "8")

    assert result.returncode == 0, result.stderr
    raised = [line for line in result.stdout.splitlines() if line.startswith("[RAISED")]
    assert len(raised) == 3 and any("Donald Trump x Justin Sun" in line for line in raised), result.stdout
    letters = [line for line in result.stdout.splitlines() if line.startswith("DEAD LETTER")]
    assert len(letters) == 1 and "owns_lots" in letters[0], result.stdout
    assert f"{len(seed) + 1} events published, 3 alerts shown; 1 of them dead-lettered (`coi-risk tail dead-letters " \
           "--topic demo.coi-dead-letters --from-beginning` lists them)" in result.stderr, result.stderr


def test_a_demo_of_a_pipe_that_is_no_events_publishes_none_of_it(kafka_bootstrap, tmp_path):
    # `--file <(cat register.csv)`: a pipe, which the checks before the broker starts cannot look at without taking
    # its lines; its CSV rows reached the demo's input topic.
    fifo = tmp_path / "register.csv"
    os.mkfifo(fifo)
    rows = b"lei,name,home_member_state\n529900T8BM49AURSDO55,Example CASP,DE\n"
    writer = subprocess.Popen(["sh", "-c", f"cat > {fifo}"], stdin=subprocess.PIPE)
    try:
        writer.stdin.write(rows)
        writer.stdin.close()
        result = _demo(kafka_bootstrap, tmp_path, "--file", str(fifo), "--exit-after-idle", "3")
    finally:
        writer.wait(timeout=30)
    assert result.returncode == 2, result.stderr
    assert "coi-risk demo: " in result.stderr and "coi-risk import" in result.stderr, result.stderr
    assert "published" not in result.stderr and result.stdout == ""
    assert _end_offsets(kafka_bootstrap, "demo.coi-relationship-events") == [0]


def _end_offsets(kafka_bootstrap: str, topic: str) -> list[int]:
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=None)
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        return list(consumer.end_offsets(partitions).values())
    finally:
        consumer.close()
