"""The worker end to end on the real broker: seed scenario, dead letters, metrics, restart, retraction."""

from __future__ import annotations

import json
import time
from collections import Counter

import pytest

from tests.integration.conftest import SEED_FILE, produce_with_cli, read_topic

pytestmark = pytest.mark.kafka

TOP_BANDS = {"high", "critical"}


def seed_lines() -> list[str]:
    return SEED_FILE.read_text().splitlines()


def raised_pairs(alerts) -> dict[tuple[str, str], dict]:
    latest = {}
    for _, alert in alerts:
        latest[(alert["actor_id"], alert["counterparty_id"])] = alert
    return {pair: alert for pair, alert in latest.items() if alert["state"] != "resolved"}


def seed_alerts_arrived(items) -> bool:
    pairs = raised_pairs(items)
    return ("trump", "sun") in pairs and bool({("trump", "binance"), ("trump", "cz")} & set(pairs))


def test_seed_scenario_end_to_end(pipeline, tmp_path):
    settings, start_worker = pipeline
    worker = start_worker()
    summary = produce_with_cli(settings, SEED_FILE)
    assert f"sent {len(seed_lines())} events" in summary

    alerts = read_topic(settings, settings.alerts_topic, seed_alerts_arrived)
    pairs = raised_pairs(alerts)
    assert pairs[("trump", "sun")]["band"] in TOP_BANDS
    binance_side = [pairs[p] for p in (("trump", "binance"), ("trump", "cz")) if p in pairs]
    assert any(alert["band"] in TOP_BANDS for alert in binance_side)
    for alert in pairs.values():
        assert alert["rules"], alert
        assert alert["authority_paths"] and alert["commercial_paths"], alert
        for path in alert["authority_paths"] + alert["commercial_paths"]:
            for edge in path["edges"]:
                assert edge["evidence"] and all(ev["source_url"] and ev["event_id"] for ev in edge["evidence"])
    # negative controls
    involved = {entity for pair in pairs for entity in pair}
    assert "tether" not in involved and "teng" not in involved

    sun_text = " ".join(p["text"] for p in pairs[("trump", "sun")]["authority_paths"])
    assert "US Securities and Exchange Commission" in sun_text

    top = worker.json("/scores/top")["scores"]
    assert top and top[0]["band"] in TOP_BANDS
    by_entity = worker.json("/scores?entity=sun")["scores"]
    assert {(s["actor_id"], s["counterparty_id"]) for s in by_entity} >= {("trump", "sun")}


BAD_INPUTS = {
    "malformed_json": b'{"schema_version": "1.0", "event_id": ',
    "encoding_error": b'\xff\xfe not utf-8',
    "not_an_object": b'[1, 2, 3]',
    "unknown_schema_version": None,
    "unknown_relation_type": None,
    "invalid_endpoint": None,
    "invalid_property": None,
    "invalid_dates": None,
    "invalid_confidence": None,
    "payload_too_large": None,
    "key_mismatch": None,
}


def bad_events() -> list[tuple[bytes | None, bytes, str]]:
    """(key, value, expected reason) for every class of bad input, derived from a valid seed event."""
    base = json.loads(seed_lines()[0])

    def variant(**changes) -> bytes:
        event = json.loads(json.dumps(base))
        for path, value in changes.items():
            target = event
            *parents, leaf = path.split("__")
            for parent in parents:
                target = target[parent]
            target[leaf] = value
        return json.dumps(event).encode()

    key = base["relation_id"].encode()
    occupancy = json.loads(seed_lines()[4])
    occupancy["target"]["schema"] = "Company"
    return [
        (None, BAD_INPUTS["malformed_json"], "malformed_json"),
        (None, BAD_INPUTS["encoding_error"], "encoding_error"),
        (None, BAD_INPUTS["not_an_object"], "not_an_object"),
        (key, variant(schema_version="9.9"), "unknown_schema_version"),
        (key, variant(relation_type="bribes"), "unknown_relation_type"),
        (occupancy["relation_id"].encode(), json.dumps(occupancy).encode(), "invalid_endpoint"),
        (key, variant(properties={"percentage": 140}), "invalid_property"),
        (key, variant(start_date="2025-01-02", end_date="2024-01-01"), "invalid_dates"),
        (key, variant(provenance__confidence=1.5), "invalid_confidence"),
        (key, variant(properties={"summary": "x" * 5000}, provenance__quote="y" * 5000) + b" " * 70_000,
         "payload_too_large"),
        (b"some-other-relation", variant(), "key_mismatch"),
    ]


def test_bad_input_goes_to_dead_letters_and_the_worker_keeps_going(pipeline):
    from kafka import KafkaProducer

    settings, start_worker = pipeline
    worker = start_worker()
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap_servers, max_request_size=1_000_000)
    cases = bad_events()
    for key, value, _ in cases:
        producer.send(settings.events_topic, key=key, value=value)
    valid = seed_lines()
    for line in valid:
        producer.send(settings.events_topic, key=json.loads(line)["relation_id"].encode(), value=line.encode())
    producer.flush()
    producer.close()

    letters = read_topic(settings, settings.dead_letter_topic, lambda items: len(items) >= len(cases))
    assert [letter["reason"] for _, letter in letters] == [reason for _, _, reason in cases]
    import base64
    import hashlib
    for (_, letter), (key, value, _) in zip(letters, cases):
        kept = base64.b64decode(letter["original_value"])
        # byte for byte up to dead_letter_max_original_bytes (64 KiB), a prefix beyond; the hash is of the whole
        assert kept == value if len(value) <= 64 * 1024 else (value.startswith(kept) and len(kept) == 64 * 1024)
        assert letter["original_value_truncated"] == (len(value) > 64 * 1024)
        assert letter["original_value_sha256"] == hashlib.sha256(value).hexdigest()
        assert letter["message"] and "Traceback" not in letter["message"]
    # the valid events after the poison ones were processed
    read_topic(settings, settings.alerts_topic, seed_alerts_arrived)

    deadline = time.monotonic() + 30
    while worker.metric("coi_events_consumed_total") < len(cases) + len(valid) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert worker.metric("coi_events_consumed_total") == len(cases) + len(valid)
    assert worker.metric("coi_events_valid_total") == len(valid)
    expected = Counter(reason for _, _, reason in cases)
    for reason, count in expected.items():
        assert worker.metric("coi_events_rejected_total", reason=reason) == count, reason
    assert worker.metric("coi_worker_ready") == 1
    assert worker.metric("coi_graph_relations") > 0
    assert worker.metric("coi_scoring_latency_seconds_count") == len(valid)
    assert worker.metric("coi_published_total", topic=settings.dead_letter_topic) == len(cases)


def latest_by_key(items) -> dict[bytes, dict]:
    latest = {}
    for key, value in items:
        latest[key] = value
    return latest


def assert_no_conflicting_alerts(alerts) -> None:
    seen: dict[tuple[str, int], dict] = {}
    for _, alert in alerts:
        key = (alert["alert_id"], alert["sequence"])
        assert seen.setdefault(key, alert) == alert, f"alert {key} published with conflicting content"


def test_restart_after_kill_gives_the_same_scores_as_an_uninterrupted_run(pipeline, kafka_bootstrap, tmp_path):
    from streams.testing import WorkerProcess, pipeline_settings
    from streams.topics import ensure_topics

    settings, start_worker = pipeline
    lines = seed_lines()
    first_half, second_half = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    first_half.write_text("\n".join(lines[:15]) + "\n")
    second_half.write_text("\n".join(lines[15:]) + "\n")

    worker = start_worker()
    produce_with_cli(settings, first_half)
    read_topic(settings, settings.scores_topic, lambda items: len(items) > 0)
    time.sleep(1.0)
    worker.stop(hard=True)  # kill -9 in the middle of the stream
    produce_with_cli(settings, second_half)
    worker.start()
    interrupted = read_topic(settings, settings.alerts_topic, seed_alerts_arrived)

    reference_settings = pipeline_settings(kafka_bootstrap, tmp_path / "reference")
    ensure_topics(reference_settings)
    reference = WorkerProcess(reference_settings, tmp_path / "reference.log")
    try:
        reference.start()
        produce_with_cli(reference_settings, SEED_FILE)
        uninterrupted = read_topic(reference_settings, reference_settings.alerts_topic, seed_alerts_arrived)
        time.sleep(2.0)  # let both settle: no further score changes should be in flight
        scores_a = latest_by_key(read_topic(settings, settings.scores_topic, lambda items: True))
        scores_b = latest_by_key(read_topic(reference_settings, reference_settings.scores_topic,
                                            lambda items: True))
    finally:
        reference.stop()
    assert scores_a == scores_b
    assert_no_conflicting_alerts(interrupted)
    assert {(a["alert_id"], a["sequence"]) for _, a in interrupted} == \
        {(a["alert_id"], a["sequence"]) for _, a in uninterrupted}


def test_retraction_resolves_an_alert(pipeline, tmp_path):
    settings, start_worker = pipeline
    start_worker()
    produce_with_cli(settings, SEED_FILE)
    read_topic(settings, settings.alerts_topic, seed_alerts_arrived)

    retractions = []
    for number, line in enumerate(seed_lines()):
        event = json.loads(line)
        if event["relation_id"] in ("sec-prosecutes-sun", "trump-controls-sec"):
            event.update(op="retract", event_id=f"retract-{number}", observed_at="2025-06-01T00:00:00Z")
            retractions.append(json.dumps(event))
    path = tmp_path / "retract.jsonl"
    path.write_text("\n".join(retractions) + "\n")
    produce_with_cli(settings, path)

    def sun_resolved(items) -> bool:
        return any(a["counterparty_id"] == "sun" and a["state"] == "resolved" for _, a in items)

    alerts = read_topic(settings, settings.alerts_topic, sun_resolved)
    sun = [a for _, a in alerts if (a["actor_id"], a["counterparty_id"]) == ("trump", "sun")]
    assert sun[0]["state"] == "raised" and sun[-1]["state"] == "resolved"
    assert len({a["alert_id"] for a in sun}) == 1
    assert [a["sequence"] for a in sun] == list(range(len(sun)))


def set_topic_config(settings, topic: str, name: str, value: str) -> None:
    from kafka import KafkaAdminClient
    from kafka.admin import ConfigResource, ConfigResourceType

    admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    try:
        admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, configs={name: value})])
    finally:
        admin.close()


def committed_offset(settings) -> int | None:
    from streams.recovery import committed_offsets

    return committed_offsets(settings).get(0)


def test_an_output_the_broker_refuses_stops_the_worker_without_committing(pipeline, tmp_path):
    """At-least-once: when a score cannot be stored, the input offset must not be committed, so that a restart
    processes the event again and the score is published then."""
    settings, start_worker = pipeline
    set_topic_config(settings, settings.scores_topic, "max.message.bytes", "64")  # every score is larger
    worker = start_worker()
    produce_with_cli(settings, SEED_FILE)
    deadline = time.monotonic() + 60
    while worker.process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert worker.process.returncode == 70, worker.log_tail()
    assert "could not publish outputs" in worker.log_tail()
    # the batch that held the first scoring event was not committed (earlier batches without scores may be)
    assert (committed_offset(settings) or 0) < len(seed_lines())

    set_topic_config(settings, settings.scores_topic, "max.message.bytes", "1048588")
    worker.start()
    alerts = read_topic(settings, settings.alerts_topic, seed_alerts_arrived)
    assert_no_conflicting_alerts(alerts)
    time.sleep(1.0)
    published = latest_by_key(read_topic(settings, settings.scores_topic, lambda items: len(items) > 0))
    assert {key for key, score in published.items() if score["score"] > 0} == expected_score_keys()


def expected_score_keys() -> set[bytes]:
    """Pairs that score on the seed, computed in-process by the same engine."""
    from schemas import parse_event
    from scoring import Engine
    from streams.processor import score_key

    engine = Engine()
    for line in seed_lines():
        engine.apply(parse_event(line.encode()))
    return {score_key(s.actor_id, s.counterparty_id) for s in engine.scores() if s.score > 0}
