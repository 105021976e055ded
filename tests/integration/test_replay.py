"""Audit replay on the real broker: same scores and alert ids as the live worker, untouched group offsets,
knowledge-time and validity-time as-of questions, bad events reported, and the audit report."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from kafka import KafkaAdminClient, KafkaProducer

from tests.integration.conftest import REPO_ROOT, SEED_FILE, produce_with_cli, read_topic
from tests.integration.test_worker import seed_alerts_arrived

pytestmark = pytest.mark.kafka


def run_cli(settings, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "streams.cli", *args,
                             "--bootstrap-servers", settings.bootstrap_servers],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=180,
                            env=_env(settings))
    assert result.returncode == 0, result.stderr
    return result


def _env(settings) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("COI_") and k != "KAFKA_BOOTSTRAP_SERVERS"}
    env.update(COI_APP_ID=settings.app_id, COI_EVENTS_TOPIC=settings.events_topic)
    return env


def group_offsets(settings) -> dict:
    admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    try:
        offsets = admin.list_group_offsets(settings.app_id).get(settings.app_id, {})
        return {(tp.topic, tp.partition): meta.offset for tp, meta in offsets.items()}
    finally:
        admin.close()


def by_key(messages) -> dict[str, list[dict]]:
    """Replay lines ({'key', 'value'}) or topic messages (key bytes, value) grouped by key, in order."""
    grouped: dict[str, list[dict]] = {}
    for message in messages:
        key, value = (message["key"], message["value"]) if isinstance(message, dict) else \
            (message[0].decode(), message[1])
        grouped.setdefault(key, []).append(value)
    return grouped


def replay_lines(settings, *args: str) -> tuple[list[dict], str]:
    result = run_cli(settings, "replay", "--quiet", *args)
    return [json.loads(line) for line in result.stdout.splitlines()], result.stderr


@pytest.fixture
def live_run(pipeline):
    """The seed scenario plus a bad event, processed by a live worker; returns settings and what it published."""
    settings, start_worker = pipeline
    start_worker()
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap_servers)
    producer.send(settings.events_topic, value=b'{"not": "an event"')
    producer.flush()
    producer.close()
    produce_with_cli(settings, SEED_FILE)
    alerts = read_topic(settings, settings.alerts_topic, seed_alerts_arrived)
    scores = read_topic(settings, settings.scores_topic, lambda items: True)
    time.sleep(4)  # past Faust's commit interval, so the group has committed offsets to leave untouched
    return settings, alerts, scores


def test_replay_reproduces_what_the_live_worker_published(live_run):
    settings, live_alerts, _ = live_run
    live_scores = read_topic(settings, settings.scores_topic, lambda items: True)
    offsets_before = group_offsets(settings)
    assert offsets_before, "the live worker should have committed offsets"

    lines, summary = replay_lines(settings)

    # Output topics have several partitions: order holds per key, so compare each key's sequence of messages.
    assert by_key(line for line in lines if line["role"] == "alerts") == by_key(live_alerts)
    assert by_key(line for line in lines if line["role"] == "scores") == by_key(live_scores)
    assert [line["value"]["reason"] for line in lines if line["role"] == "dead_letters"] == ["malformed_json"]
    assert "rejected: malformed_json=1" in summary
    assert group_offsets(settings) == offsets_before  # the replay committed nothing


def test_knowledge_time_and_validity_time_as_of(live_run):
    settings, _, _ = live_run
    # What the pipeline knew after the first 10 events (offset 0 is the bad event): the SEC path to Justin Sun was
    # not yet in the log, so no Trump x Sun score was published before that point.
    early, _ = replay_lines(settings, "--to", "0:11")
    assert not [line for line in early if line["role"] == "scores" and line["value"]["counterparty_id"] == "sun"]

    # Knowing everything, what was true on 1 January 2025? Trump took office (and control of the SEC) on
    # 20 January 2025, so on 1 January he held no authority and no pair scores; on 1 March Trump x Sun does.
    before_office, _ = replay_lines(settings, "--as-of", "2025-01-01")
    in_office, _ = replay_lines(settings, "--as-of", "2025-03-01")
    as_of_pairs = lambda lines: {(l["value"]["actor_id"], l["value"]["counterparty_id"])  # noqa: E731
                                 for l in lines if l["role"] == "as_of_score" and l["value"]["band"] != "none"}
    assert ("trump", "sun") not in as_of_pairs(before_office)
    assert ("trump", "sun") in as_of_pairs(in_office)


def test_audit_report_for_a_pair(live_run, tmp_path):
    settings, live_alerts, _ = live_run
    out = tmp_path / "audit"
    run_cli(settings, "audit", "--pair", "trump", "sun", "--out", str(out))
    report = json.loads((out / "report.json").read_text())
    live_sun = [a for _, a in live_alerts if a["counterparty_id"] == "sun"]
    assert [t["alert_id"] for t in report["alert_transitions"]] == [a["alert_id"] for a in live_sun]
    assert report["final"][0]["band"] == live_sun[-1]["band"]
    evidence = [ev for t in report["alert_transitions"] for path in t["paths"] for edge in path["edges"]
                for ev in edge["evidence"]]
    assert evidence and all(ev["offset"] and ev["source_url"] and ev["publisher"] and ev["extractor"]
                            for ev in evidence)
    markdown = (out / "report.md").read_text()
    assert "Donald Trump x Justin Sun" in markdown and "US Securities and Exchange Commission" in markdown
    html = (out / "report.html").read_text()
    assert html.startswith("<!doctype html>") and "Justin Sun" in html


def run_cli_refused(settings, *args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "streams.cli", *args,
                             "--bootstrap-servers", settings.bootstrap_servers],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=180, env=_env(settings))
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1, result.stderr
    return result.stderr.strip()


def test_a_window_no_log_can_have_and_an_id_no_event_names_are_refused(live_run, tmp_path):
    settings, _, _ = live_run
    topic = settings.events_topic
    # "replayed 0 events", exit 0; and an audit read the whole log under the header "beginning .. 5:3"
    assert run_cli_refused(settings, "replay", "--from", "0:10", "--to", "0:5", "--quiet") == \
        "coi-risk replay: --from 0:10 is after --to 0:5"
    assert run_cli_refused(settings, "audit", "--pair", "trump", "sun", "--to", "5:3", "--out", str(tmp_path / "a")) \
        == f"coi-risk audit: --to names partition 5, which {topic} does not have (its partitions: 0)"
    # a clean report of nothing found, for ids that are names (the ids are trump and binance)
    out = tmp_path / "typo"
    assert run_cli_refused(settings, "audit", "--pair", "Trump", "binance", "--out", str(out)).startswith(
        "coi-risk audit: no event in the log names the entity 'Trump': check the id")
    assert not (out / "report.md").exists()
