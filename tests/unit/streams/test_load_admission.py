"""`coi-risk load` admits exactly what the worker admits, under the same settings."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from schemas import EventRejected
from schemas.outputs import RejectReason
from scoring import AlertTracker
from scoring.resolution import ResolvingEngine
from streams.bulk import admission
from streams.config import load_settings
from streams.processor import EventProcessor, InputRecord, ProcessingLimits

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "binance-wlfi.jsonl"
APPENDED = dt.datetime(2025, 5, 26, 8, 0, tzinfo=dt.UTC)


def record_ahead(by: dt.timedelta) -> InputRecord:
    """An event observed `by` after the broker appended it."""
    event = json.loads(EXAMPLE.read_text().splitlines()[0])
    event["observed_at"] = (APPENDED + by).isoformat().replace("+00:00", "Z")
    return InputRecord(value=json.dumps(event).encode(), key=event["relation_id"].encode(), topic="events",
                       partition=0, offset=0, timestamp_ms=int(APPENDED.timestamp() * 1000))


def worker_admits(settings, record: InputRecord) -> bool:
    worker = EventProcessor(ResolvingEngine(), AlertTracker(), None, limits=ProcessingLimits.from_settings(settings))
    return worker.process(record, publish=False).rejected is None


def load_admits(settings, record: InputRecord) -> bool:
    engine = ResolvingEngine()
    try:
        admission(settings, engine, AlertTracker(engine.engine.config))._admit(record)
    except EventRejected as rejected:
        assert rejected.reason == RejectReason.OBSERVED_AT_IN_FUTURE
        return False
    return True


@pytest.mark.parametrize("skew_seconds, ahead, admitted", [
    (3600, dt.timedelta(hours=5), False),  # stricter than the default day: the worker dead-letters it
    (3 * 86400, dt.timedelta(days=2), True),  # looser: the worker applies it, and so must the load
])
def test_the_load_admits_what_the_worker_admits_under_the_configured_future_skew(skew_seconds, ahead, admitted):
    settings = load_settings(environ={}, max_future_skew_seconds=skew_seconds)
    record = record_ahead(ahead)
    assert worker_admits(settings, record) is admitted
    assert load_admits(settings, record) is admitted


def recorded(**changes):
    from streams.bulk import BulkLoad

    fields = dict(app_id="app", events_topic="events", start={0: 0, 1: 5}, end={0: 31, 1: 40},
                  last_records={0: (30, 1_700_000_000_000), 1: (39, 1_700_000_000_500)}, max_event_bytes=65536,
                  max_future_skew_seconds=3600.0, config_hash="abc", loaded_at=1_796_000_000.5)
    return BulkLoad(**{**fields, **changes})


def test_a_bulk_loads_record_reads_back_as_written():
    from streams.bulk import BulkLoad

    # also with what a load may really write: Kafka's -1 for a record without a timestamp, a skew of a century
    for loaded in (recorded(), recorded(max_future_skew_seconds=None), recorded(last_records={0: (30, -1)}),
                   recorded(max_future_skew_seconds=3e9)):
        assert BulkLoad.from_json(loaded.to_json()) == loaded
    assert recorded().limits.max_future_skew == dt.timedelta(hours=1)


def served_as_the_bulk_loads_topic(monkeypatch, log: list[InputRecord]) -> None:
    """`log` (its records as they stand when read) is what `last_bulk_load` reads from the bulk-loads topic."""
    import streams.log_reader as log_reader

    class Consumer:
        def beginning_offsets(self, partitions):
            return {tp: 0 for tp in partitions}

        def end_offsets(self, partitions):
            return {tp: len(log) for tp in partitions}

        def close(self):
            pass

    monkeypatch.setattr(log_reader, "open_consumer", lambda settings: Consumer())
    monkeypatch.setattr(log_reader, "partitions_of", lambda consumer, topic: [log_reader.TopicPartition(topic, 0)])
    monkeypatch.setattr(log_reader, "read", lambda settings, topic, bounds: iter(log))


def test_the_latest_record_of_the_app_id_wins_and_a_tombstone_forgets_it(monkeypatch):
    from streams.bulk import last_bulk_load

    settings = load_settings(environ={}, app_id="app", events_topic="events")
    key = b"app\x1fevents"
    first, second = recorded(loaded_at=1.0), recorded(loaded_at=2.0)
    log: list[InputRecord] = []

    served_as_the_bulk_loads_topic(monkeypatch, log)

    def append(key: bytes, value: bytes | None) -> None:
        log.append(InputRecord(value, key, settings.bulk_loads_topic, 0, len(log)))

    assert last_bulk_load(settings) is None
    append(key, first.to_json())
    append(b"other\x1fevents", recorded(app_id="other").to_json())
    append(key, second.to_json())
    assert last_bulk_load(settings) == second
    append(key, None)
    assert last_bulk_load(settings) is None


@pytest.mark.parametrize("change", [
    {"max_event_bytes": "NUMBER"},  # 1e400: infinity in json.loads, and int(inf) raised OverflowError
    {"end": {"0": "NUMBER"}},
    {"max_future_skew_seconds": "NaN"},
    {"last_records": "DEEP"},  # nested 100,000 deep: RecursionError in json.loads
    {"loaded_at": 1e300},  # finite, but no date: OverflowError in time.gmtime at every cold start
    {"max_future_skew_seconds": 1e300},  # finite, but no timedelta
    {"end": {"0": -1}},
    {"max_event_bytes": 0},
])
def test_an_unreadable_record_is_ignored_and_the_one_before_it_stands(monkeypatch, change):
    # it escaped before: every cold start of the worker failed on it until someone wrote a tombstone
    from streams.bulk import last_bulk_load

    settings = load_settings(environ={}, app_id="app", events_topic="events")
    document = json.loads(recorded().to_json())
    document.update(change)
    value = (json.dumps(document).replace('"NUMBER"', "1e400").replace('"NaN"', "NaN")
             .replace('"DEEP"', "[" * 100_000 + "]" * 100_000))
    good = recorded(loaded_at=1.0)
    log = [InputRecord(good.to_json(), b"app\x1fevents", settings.bulk_loads_topic, 0, 0),
           InputRecord(value.encode(), b"app\x1fevents", settings.bulk_loads_topic, 0, 1)]

    served_as_the_bulk_loads_topic(monkeypatch, log)
    assert last_bulk_load(settings) == good
