"""Poison messages on the real broker (issue 11): each becomes a dead letter with its reason, the worker keeps going
and survives restarts over them (live from the committed offset, and in recovery); `coi-risk produce` reports the
lines that did not reach the topic and sends the others."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import time

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic

from streams.testing import REPO_ROOT
from tests.integration.conftest import SEED_FILE, read_topic

pytestmark = pytest.mark.kafka

SEED = SEED_FILE.read_bytes().splitlines()
MAX_MESSAGE_BYTES = 1_000_000  # the default setting, under the broker's default message.max.bytes


def seed_event(index: int, **changes) -> tuple[bytes, bytes]:
    event = dict(json.loads(SEED[index]), **changes)
    return event["relation_id"].encode(), json.dumps(event).encode()


def poison_pills() -> list[tuple[str, bytes | None, bytes | None]]:
    """(expected reason, key, value); each sent after the seed, so the conflicting id has an original."""
    key, value = seed_event(3)
    deep = value.replace(b'"properties": {', b'"properties": {"summary": ' + b"[" * 970 + b"]" * 970 + b", ", 1)
    huge_key, huge = seed_event(4, event_id="huge-1")
    huge = huge[:-1] + b', "padding": "' + b"x" * 900_000 + b'"}'
    duplicated = value.replace(b'"op": "upsert"', b'"op": "upsert", "op": "retract"', 1)
    future_key, future = seed_event(6, event_id="from-2205", observed_at="2205-01-01T00:00:00Z")
    conflicting = seed_event(3, op="retract")  # reuses the applied event's id with other content
    return [
        ("null_value", key, None),
        ("nesting_too_deep", key, deep),
        ("payload_too_large", huge_key, huge),
        ("duplicate_key", key, duplicated),
        ("observed_at_in_future", future_key, future),
        ("conflicting_event_id", *conflicting),
    ]


def send(settings, messages) -> None:
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap_servers, max_request_size=2 * MAX_MESSAGE_BYTES)
    try:
        for key, value in messages:
            producer.send(settings.events_topic, key=key, value=value).get(timeout=30)
    finally:
        producer.close()


def letters_by_offset(settings, count: int) -> dict[int, dict]:
    """Dead letters by input offset (a restart may republish an uncommitted tail's letters, identical)."""
    found: dict[int, dict] = {}

    def enough(items) -> bool:
        for _, letter in items:
            found.setdefault(letter["offset"], letter)
        return len(found) >= count

    read_topic(settings, settings.dead_letter_topic, enough)
    return found


def assert_alive(worker) -> None:
    assert worker.process.poll() is None, worker.log_tail()


def test_poison_pills_are_dead_letters_and_the_worker_survives_restarts(pipeline):
    settings, start_worker = pipeline
    worker = start_worker()
    seed = [(json.loads(line)["relation_id"].encode(), line) for line in SEED]
    send(settings, seed)
    read_topic(settings, settings.alerts_topic, lambda items: len(items) > 0)
    worker.stop()  # the pills arrive while the worker is down: a restart meets them live, uncommitted
    pills = poison_pills()
    send(settings, [(key, value) for _, key, value in pills])
    worker.start()

    letters = letters_by_offset(settings, len(pills))
    first_pill = len(seed)
    assert [letters[first_pill + i]["reason"] for i in range(len(pills))] == [reason for reason, _, _ in pills]
    for i, (_, key, value) in enumerate(pills):
        raw = json.dumps(letters[first_pill + i]).encode()
        assert len(raw) < MAX_MESSAGE_BYTES
        letter = letters[first_pill + i]
        assert letter["message"] and "Traceback" not in letter["message"]
        assert (letter["topic"], letter["partition"]) == (settings.events_topic, 0)
        if value is None:
            assert letter["original_value"] is None
        else:
            assert letter["original_value_sha256"] == hashlib.sha256(value).hexdigest()
            assert letter["original_value_length"] == len(value)
            assert value.startswith(base64.b64decode(letter["original_value"]))
    huge = letters[first_pill + 2]
    assert huge["original_value_truncated"] and huge["original_value_length"] > 900_000
    assert "2205-01-01" in letters[first_pill + 4]["message"]
    assert_alive(worker)
    for reason, _, _ in pills:
        assert worker.metric("coi_events_rejected_total", reason=reason) == 1, reason

    # a restart now replays the pills in recovery (they are committed) and must come up, not exit 70
    worker.stop()
    worker.start()
    assert_alive(worker)
    # and a kill -9 then restart, too
    worker.stop(hard=True)
    worker.start()
    # the worker keeps going: a new valid event after all of that is scored
    new_key, new_value = seed_event(0, event_id="after-the-pills", observed_at="2025-06-01T00:00:00Z",
                                    properties={"percentage": 49.0})
    send(settings, [(new_key, new_value)])
    read_topic(settings, settings.scores_topic,
               lambda items: any(score["trigger_event_id"] == "after-the-pills" for _, score in items))
    assert_alive(worker)
    assert worker.metric("coi_worker_ready") == 1
    assert "exited with 70" not in worker.log_tail(400)


def run_produce(settings, path, topic: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "streams.cli", "produce", str(path), "--quiet",
         "--bootstrap-servers", settings.bootstrap_servers, "--topic", topic],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, env={**os.environ, "COI_RISK_CONFIG": ""})


def topic_values(settings, topic: str, expected: int) -> list[bytes]:
    consumer = KafkaConsumer(topic, group_id=None, auto_offset_reset="earliest", enable_auto_commit=False,
                             bootstrap_servers=settings.bootstrap_servers, consumer_timeout_ms=2000,
                             fetch_max_bytes=8 * MAX_MESSAGE_BYTES)
    values: list[bytes] = []
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline and len(values) < expected:
            values.extend(message.value for message in consumer)
        values.extend(message.value for message in consumer)  # and nothing more arrives
    finally:
        consumer.close()
    return values


def test_produce_refuses_an_oversize_line_reports_it_and_sends_the_rest(pipeline, tmp_path):
    settings, _ = pipeline
    lines = list(SEED)
    huge = b'{"event_id": "huge", "padding": "' + b"x" * 2_000_000 + b'"}'
    lines.insert(6, huge)  # line 7
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")

    result = run_produce(settings, path, settings.events_topic)
    assert result.returncode == 1, result.stderr
    assert f"line 7: refused: {len(huge):,} bytes is over max_message_bytes (1,000,000)" in result.stderr
    assert f"sent {len(SEED)} events" in result.stderr
    assert sorted(topic_values(settings, settings.events_topic, len(SEED))) == sorted(SEED)


def test_produce_reports_lines_the_broker_refuses_by_number(pipeline, tmp_path):
    settings, _ = pipeline
    topic = settings.events_topic + ".small"
    admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    try:
        admin.create_topics([NewTopic(topic, 1, 1, topic_configs={"max.message.bytes": "20000"})])
    finally:
        admin.close()
    _, big = seed_event(1, provenance=dict(json.loads(SEED[1])["provenance"], quote="q" * 4000))
    big = big[:-1] + b', "padding": "' + b"x" * 30_000 + b'"}'  # under the client's limit, over the topic's
    lines = list(SEED[:10])
    lines[3] = big  # line 4
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")

    result = run_produce(settings, path, topic)
    assert result.returncode == 1, result.stderr
    assert "line 4: not stored by the broker: MessageSizeTooLargeError" in result.stderr
    assert "1 line(s) did NOT reach" in result.stderr and "sent 9 events" in result.stderr
    expected = [line for i, line in enumerate(lines) if i != 3]
    assert sorted(topic_values(settings, topic, len(expected))) == sorted(expected)
