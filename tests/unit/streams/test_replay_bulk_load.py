"""An audit replay of an app id that `coi-risk load` bootstrapped yields what its worker published: it reproduces
the recorded load first, as the worker started from it (streams.bulk), then replays the rest event by event."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import streams.log_reader as log_reader
import streams.recovery as recovery
import streams.replay as replay_module
from scoring import ScoringConfig
from streams.bulk import BulkLoad, bulk_apply
from streams.config import load_settings
from streams.log_reader import Bounds
from streams.processor import EventProcessor, InputRecord, ProcessingLimits
from streams.replay import Position, ReplaySummary, new_processor, replay
from streams.snapshots import config_hash

SEED = [json.loads(line) for line in
        (Path(__file__).resolve().parents[3] / "examples" / "binance-wlfi.jsonl").read_text().splitlines()]
APPENDED_MS = 1_750_838_400_000  # 2025-06-25, after every event's observed_at


def a_log() -> list[InputRecord]:
    """The seed, then a relation retracted and stated again: the load covers all but the last, which arrives live.
    Applied event by event, the loaded range raises, resolves and raises the pair's alert again; loaded at once it
    holds one alert, so the live event continues under other alert ids and sequences."""
    lists = next(event for event in SEED if event["relation_id"] == "binance-lists-usd1")
    events = [*SEED, dict(lists, event_id="later-retract", op="retract", observed_at="2025-06-01T00:00:00Z"),
              dict(lists, event_id="later-again", observed_at="2025-06-02T00:00:00Z")]
    return [InputRecord(json.dumps(event).encode(), event["relation_id"].encode(), "events", 0, offset,
                        APPENDED_MS + offset) for offset, event in enumerate(events)]


@pytest.fixture
def settings():
    return load_settings(environ={}, app_id="app", events_topic="events")


def recorded_load(settings, log: list[InputRecord], cut: int) -> BulkLoad:
    limits = ProcessingLimits.from_settings(settings)
    return BulkLoad("app", "events", {0: 0}, {0: cut}, {0: (cut - 1, log[cut - 1].timestamp_ms)},
                    limits.max_event_bytes, limits.max_future_skew.total_seconds(),
                    config_hash(ScoringConfig.load()), 1_750_000_000.0)


def served(monkeypatch, log: list[InputRecord], loaded: BulkLoad | None) -> None:
    """The input log and the bulk-loads record as the replay and `streams.bulk` read them (no broker)."""
    def read(settings, topic, bounds):
        assert topic == "events"
        return iter([r for r in log if bounds.start.get(0, 0) <= r.offset < bounds.end.get(0, 0)])

    def resolve_bounds(consumer, topic, start=None, end=None):
        resolved = lambda position, default: default if position is None else min(position[0], len(log))  # noqa
        return Bounds(start={0: resolved(start, 0)}, end={0: resolved(end, len(log))})

    class Consumer:
        def close(self):
            pass

    for module in (replay_module, log_reader, recovery):
        monkeypatch.setattr(module, "read", read)
    monkeypatch.setattr(replay_module, "open_consumer", lambda settings: Consumer())
    monkeypatch.setattr(replay_module, "resolve_bounds", resolve_bounds)
    monkeypatch.setattr(replay_module, "last_bulk_load", lambda settings: loaded)
    monkeypatch.setattr(recovery, "log_start_offsets", lambda settings: {0: 0})
    monkeypatch.setattr(recovery, "log_end_offsets", lambda settings: {0: len(log)})


def published_after_the_load(settings, log: list[InputRecord], cut: int) -> list[tuple]:
    """What the worker that started from the load's snapshot published for the records after it."""
    engine, tracker, _ = bulk_apply(settings, ScoringConfig.load(), log[:cut], {"0": cut})
    worker = EventProcessor(engine, tracker, None, limits=ProcessingLimits.from_settings(settings))
    worker.next_offsets = {"0": cut}
    return [(r.offset, out.role, out.key, out.value) for r in log[cut:] for out in worker.process(r).outbound]


def replayed(settings, start: Position = Position(), end: Position = Position()) -> tuple[list[tuple], ReplaySummary]:
    summary = ReplaySummary()
    items = [(item.record.offset, out.role, out.key, out.value)
             for item in replay(settings, start, end, new_processor(settings), summary) if item.in_window
             for out in item.outcome.outbound]
    return items, summary


def test_a_replay_reproduces_the_recorded_bulk_load_and_yields_what_the_worker_published(settings, monkeypatch):
    log = a_log()
    cut = len(log) - 1
    published = published_after_the_load(settings, log, cut)
    assert any(role == "alerts" for _, role, _, _ in published)

    served(monkeypatch, log, None)  # the scenario tells the two histories apart
    event_by_event, _ = replayed(settings)
    assert [item for item in event_by_event if item[0] >= cut] != published

    served(monkeypatch, log, recorded_load(settings, log, cut))
    items, summary = replayed(settings)
    assert items == published  # nothing for the loaded range: the worker published nothing for it
    assert summary.bulk_loaded == cut and summary.bulk_load is not None and summary.replayed == 1


def test_a_window_that_ends_inside_the_loaded_range_yields_nothing_as_the_worker_published_nothing(
        settings, monkeypatch):
    log = a_log()
    cut = len(log) - 1
    served(monkeypatch, log, recorded_load(settings, log, cut))
    items, summary = replayed(settings, end=Position(offsets={0: cut - 5}))
    assert items == [] and summary.bulk_load is None and summary.bulk_load_ends_after is not None
    assert summary.replayed == 0 and summary.bulk_load_not_reproduced is None


def test_a_recorded_load_of_another_log_is_not_reproduced(settings, monkeypatch):
    log = a_log()
    cut = len(log) - 1
    loaded = recorded_load(settings, log, cut)
    loaded.last_records[0] = (cut - 1, log[cut - 1].timestamp_ms + 1)  # appended at another time
    served(monkeypatch, log, loaded)
    _, summary = replayed(settings)
    assert summary.bulk_load is None and "another log" in summary.bulk_load_not_reproduced


def test_a_replay_yields_the_dead_letters_the_load_published_for_its_range(settings, monkeypatch):
    log = a_log()
    log.insert(3, InputRecord(b"{not json", None, "events", 0, 0, APPENDED_MS))
    log.insert(7, InputRecord(b'{"relation_id": "x"}', b"x", "events", 0, 0, APPENDED_MS))
    log = [InputRecord(r.value, r.key, r.topic, 0, offset, APPENDED_MS + offset) for offset, r in enumerate(log)]
    cut = len(log) - 1
    letters = []  # what `coi-risk load` published for the loaded range (`streams.commands.load`)
    bulk_apply(settings, ScoringConfig.load(), log[:cut], {"0": cut},
               on_rejected=lambda record, rejection, letter: letters.extend(
                   (record.offset, out.role, out.key, out.value) for out in letter.outbound))
    assert [offset for offset, *_ in letters] == [3, 7]

    served(monkeypatch, log, recorded_load(settings, log, cut))
    items, summary = replayed(settings)
    assert items == letters + published_after_the_load(settings, log, cut)
    assert sum(summary.rejected.values()) == 2 and summary.rejected["malformed_json"] == 1
    # a window after them yields none of them
    items, _ = replayed(settings, start=Position(offsets={0: 5}))
    assert [offset for offset, role, *_ in items if role == "dead_letters"] == [7]
