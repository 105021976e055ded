"""A snapshot whose positions lie past the end of the input log was written from another log (the topic deleted and
created again, another cluster): the worker drops its state and replays this log from its start, instead of
taking every event below those positions for one applied already."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

import streams.app as app_module
from streams.recovery import positions_past_the_log

from tests.unit.streams.test_snapshot_prefetch import _pipeline, _saved


def _loaded(tmp_path, monkeypatch, ends: dict[int, int]):
    pipeline = _pipeline(tmp_path)
    _saved(pipeline, 12)  # positions {"0": 12}
    asyncio.run(pipeline._load_snapshot_once())
    assert pipeline.processor.next_offsets == {"0": 12} and pipeline.engine.stats()["relations"] > 0
    asked = []
    monkeypatch.setattr(app_module, "log_end_offsets", lambda settings: asked.append(1) or ends)
    return pipeline, asked


def fallbacks(pipeline, reason: str) -> float:
    return pipeline.registry.get_sample_value("coi_snapshot_fallbacks_total", {"reason": reason}) or 0.0


def test_a_snapshot_past_the_end_of_the_log_is_dropped_and_the_log_replayed_from_its_start(tmp_path, monkeypatch):
    pipeline, asked = _loaded(tmp_path, monkeypatch, {0: 5})  # the topic again, with five events so far
    loaded = pipeline.engine
    asyncio.run(pipeline._check_position_on_the_log())
    assert pipeline.engine is not loaded and pipeline.processor.engine is pipeline.engine
    assert pipeline.engine.stats()["relations"] == 0 and pipeline.processor.tracker.open_alerts() == {}
    assert pipeline.processor.next_offsets == {}  # the catch-up starts at the log's start
    assert fallbacks(pipeline, "past_the_log") == 1
    assert pipeline.registry.get_sample_value("coi_snapshot_loaded_offset", {"partition": "0"}) == -1
    asyncio.run(pipeline._check_position_on_the_log())  # once per loaded snapshot
    assert asked == [1]


def test_a_snapshot_within_the_log_is_kept_and_checked_once(tmp_path, monkeypatch):
    pipeline, asked = _loaded(tmp_path, monkeypatch, {0: 12})
    loaded = pipeline.engine
    asyncio.run(pipeline._check_position_on_the_log())
    asyncio.run(pipeline._check_position_on_the_log())
    assert pipeline.engine is loaded and pipeline.processor.next_offsets == {"0": 12}
    assert fallbacks(pipeline, "past_the_log") == 0 and asked == [1]


def test_a_batch_before_any_catch_up_checks_first(tmp_path, monkeypatch):
    """The first batch can take the engine before the catch-up does: it checks too, before skipping anything."""
    pipeline, asked = _loaded(tmp_path, monkeypatch, {0: 5})
    published = []

    async def publish(fresh):
        published.extend(fresh)

    async def replay(bounds):
        return 0

    monkeypatch.setattr(pipeline, "_process_and_publish", publish)
    monkeypatch.setattr(pipeline, "_replay", replay)
    monkeypatch.setattr(pipeline, "_snapshot_if_due", lambda events: asyncio.sleep(0))
    monkeypatch.setattr(app_module, "catch_up_bounds", lambda *args: None)
    monkeypatch.setattr(app_module, "last_bulk_load", lambda settings: None)
    batch = [SimpleNamespace(message=SimpleNamespace(partition=0, offset=offset)) for offset in range(5)]
    asyncio.run(pipeline.handle_batch(batch))
    assert [event.message.offset for event in published] == [0, 1, 2, 3, 4]  # none taken for applied already
    assert asked == [1]


@pytest.mark.parametrize("positions, ends, past", [
    ({"0": 12, "1": 3}, {0: 12, 1: 3}, {}),
    ({"0": 13}, {0: 12}, {0: (13, 12)}),
    ({"0": 1, "2": 4}, {0: 5, 1: 5}, {2: (4, None)}),  # a partition the topic does not have
])
def test_positions_past_the_log(positions, ends, past):
    assert positions_past_the_log(positions, ends) == past
