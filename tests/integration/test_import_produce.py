"""`coi-risk import --produce` into the live worker: a plain-FtM procurement case raises its alert, and the delta
feed's DEL of the family tie resolves it. Real broker, real worker subprocess, real command line."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from streams.testing import REPO_ROOT
from tests.integration.conftest import read_topic

pytestmark = pytest.mark.kafka

OURS = REPO_ROOT / "tests" / "fixtures" / "ours"
PAIR = ("case-minister", "case-firm")  # the actor and the alert's case (its strongest pair may be the brother's)


def import_and_produce(settings, path, *extra: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "streams.cli", "import", str(path), "--produce", "--quiet", *extra,
         "--bootstrap-servers", settings.bootstrap_servers, "--topic", settings.events_topic],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, env={**os.environ, "COI_RISK_CONFIG": ""})
    assert result.returncode == 0, result.stderr
    return result.stderr


def case_of(alert: dict) -> tuple[str, str]:
    return alert["actor_id"], alert.get("case_id") or alert["counterparty_id"]


def latest_state(alerts) -> dict[tuple[str, str], str]:
    latest = {}
    for _, alert in alerts:
        latest[case_of(alert)] = alert["state"]
    return latest


def test_an_imported_feed_raises_and_then_resolves_the_alert(pipeline, tmp_path):
    settings, start_worker = pipeline
    start_worker()
    state = tmp_path / "feed.state.jsonl"
    summary = import_and_produce(settings, OURS / "procurement-feed-1.delta.json", "--state", str(state))
    assert "sent 5 events" in summary and "import (ftm-delta): converted 5" in summary

    alerts = read_topic(settings, settings.alerts_topic, lambda items: latest_state(items).get(PAIR) == "raised")
    raised = [alert for _, alert in alerts if case_of(alert) == PAIR][-1]
    assert "COI-AUTH-OWNERSHIP" in raised["rules"]
    events = read_topic(settings, settings.events_topic, lambda items: len(items) >= 5)
    assert {key.decode() for key, _ in events} >= {"case-award", "case-stake", "case-family", "case-occupancy"}

    summary = import_and_produce(settings, OURS / "procurement-feed-3.delta.json", "--state", str(state))
    assert "sent 1 events" in summary and "retracted 1" in summary
    read_topic(settings, settings.alerts_topic, lambda items: latest_state(items).get(PAIR) == "resolved")


def test_a_feed_state_moves_only_when_its_events_reached_the_topic(kafka_bootstrap, unique_topic, tmp_path):
    """`import --produce --state`: the next delta is read against the state, so a state written for events the
    broker refused would lose them for good. A topic that takes no message of this size refuses every event."""
    from kafka.admin import KafkaAdminClient, NewTopic

    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        admin.create_topics([NewTopic(unique_topic, 1, 1, topic_configs={"max.message.bytes": "300"})])
    finally:
        admin.close()
    state = tmp_path / "feed.state"
    result = subprocess.run(
        [sys.executable, "-m", "streams.cli", "import", str(OURS / "procurement-feed-1.delta.json"), "--produce",
         "--quiet", "--state", str(state), "--bootstrap-servers", kafka_bootstrap, "--topic", unique_topic],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, env={**os.environ, "COI_RISK_CONFIG": ""})
    assert result.returncode == 1, result.stderr
    assert "did NOT reach" in result.stderr and "was NOT updated" in result.stderr
    # nothing written for the state: neither the state nor its temporary file (`streams.files`, any name)
    assert not state.exists() and not list(tmp_path.glob("*feed.state*"))
