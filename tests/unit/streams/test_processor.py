"""EventProcessor without a broker: dead letters keep the original bytes, metrics count on the passed registry."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from prometheus_client import CollectorRegistry

from schemas import DeadLetter
from scoring import AlertTracker, Engine, ScoringConfig
from streams.metrics import PipelineMetrics
from streams.processor import EventProcessor, InputRecord

SEED = Path(__file__).resolve().parents[3] / "examples" / "binance-wlfi.jsonl"


def make_processor():
    registry = CollectorRegistry()
    metrics = PipelineMetrics(registry)
    config = ScoringConfig.load()
    return EventProcessor(Engine(config), AlertTracker(config), metrics), registry


# An append time after every seed event's observed_at (2025-05-27): the events are not from the future.
APPENDED_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def record(value: bytes | None, offset: int, key: bytes | None = None, timestamp_ms: int | None = APPENDED_MS,
           topic: str = "in") -> InputRecord:
    return InputRecord(value=value, key=key, topic=topic, partition=0, offset=offset, timestamp_ms=timestamp_ms)


def test_seed_scenario_publishes_scores_and_alerts_and_counts_them():
    processor, registry = make_processor()
    outputs = []
    for offset, line in enumerate(SEED.read_bytes().splitlines()):
        key = json.loads(line)["relation_id"].encode()
        outputs += processor.process(record(line, offset, key)).outbound
    alerts = [json.loads(out.value) for out in outputs if out.role == "alerts"]
    assert {(a["actor_id"], a["counterparty_id"]) for a in alerts} >= {("trump", "sun"), ("trump", "binance")}
    lines = len(SEED.read_bytes().splitlines())
    assert registry.get_sample_value("coi_events_consumed_total") == lines
    assert registry.get_sample_value("coi_events_valid_total") == lines
    assert registry.get_sample_value("coi_scoring_latency_seconds_count") == lines
    raised = sum(registry.get_sample_value("coi_alerts_total", {"band": band, "state": "raised"}) or 0
                 for band in ("low", "medium", "high", "critical"))
    assert raised == sum(a["state"] == "raised" for a in alerts)
    assert processor.next_offsets == {"0": lines}


def test_bad_bytes_become_a_dead_letter_with_the_original_bytes():
    processor, registry = make_processor()
    raw = b'\xff{"broken'
    outcome = processor.process(record(raw, 7, key=b"k"))
    assert outcome.rejected is not None and outcome.event is None
    (out,) = outcome.outbound
    letter = DeadLetter.model_validate_json(out.value)
    assert out.role == "dead_letters" and out.key == b"in:0:7"
    assert base64.b64decode(letter.original_value) == raw and base64.b64decode(letter.original_key) == b"k"
    assert (letter.topic, letter.partition, letter.offset) == ("in", 0, 7)
    assert registry.get_sample_value("coi_events_rejected_total", {"reason": letter.reason.value}) == 1


def test_a_key_that_is_not_the_relation_id_is_rejected():
    processor, _ = make_processor()
    line = SEED.read_bytes().splitlines()[0]
    outcome = processor.process(record(line, 0, key=b"wrong"))
    assert outcome.rejected.value == "key_mismatch"


def test_an_engine_failure_is_dead_lettered_and_processing_goes_on(monkeypatch):
    processor, registry = make_processor()
    lines = SEED.read_bytes().splitlines()

    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(processor.engine, "apply", explode)
    outcome = processor.process(record(lines[0], 0))
    assert outcome.rejected.value == "processing_error"
    assert "RuntimeError: boom" in DeadLetter.model_validate_json(outcome.outbound[0].value).message
    monkeypatch.undo()
    assert processor.process(record(lines[1], 1)).rejected is None


def test_known_series_exist_at_zero_before_the_first_event():
    registry = CollectorRegistry()
    PipelineMetrics(registry).declare_series(["scores-topic"])
    assert registry.get_sample_value("coi_events_rejected_total", {"reason": "malformed_json"}) == 0
    assert registry.get_sample_value("coi_published_total", {"topic": "scores-topic"}) == 0
    assert registry.get_sample_value("coi_end_to_end_latency_seconds_count", {"clock": "append_time"}) == 0


def test_a_failure_while_rendering_the_outputs_is_dead_lettered_too(monkeypatch):
    """Rendering a score (the old one is rendered lazily) happens after the engine returned; a failure there must
    not escape the processor, which the worker relies on to never raise."""
    from scoring.engine import ScoreChange

    lines = SEED.read_bytes().splitlines()
    probe, _ = make_processor()
    first_scoring = next(offset for offset, line in enumerate(lines)
                         if any(out.role == "scores" for out in probe.process(record(line, offset)).outbound))

    processor, registry = make_processor()
    for offset, line in enumerate(lines[:first_scoring]):
        processor.process(record(line, offset))

    def explode(self):
        raise ValueError("cannot render")

    monkeypatch.setattr(ScoreChange, "published", explode)
    outcome = processor.process(record(lines[first_scoring], first_scoring))
    assert outcome.rejected.value == "processing_error"
    assert "ValueError: cannot render" in DeadLetter.model_validate_json(outcome.outbound[0].value).message
    assert registry.get_sample_value("coi_events_rejected_total", {"reason": "processing_error"}) == 1
