"""The worker loads its snapshot from start-up on, overlapping the wait for its first assignment
(`Pipeline.prefetch_snapshot`); the first assignment takes what was loaded."""

from __future__ import annotations

import asyncio
import threading

import pytest

from schemas import parse_event
from scoring import AlertTracker
from scoring.resolution import ResolvingEngine
from streams.config import load_settings
from streams.snapshots import SnapshotState, SnapshotStore

from tests.unit.streams.test_snapshots import SEED


def _pipeline(tmp_path):
    from streams.app import Pipeline

    return Pipeline(load_settings(environ={}, data_dir=str(tmp_path / "data")))


def _saved(pipeline, lines: int) -> None:
    engine = ResolvingEngine()
    tracker = AlertTracker(engine.engine.config)
    for line in SEED.read_text().splitlines()[:lines]:
        tracker.observe(engine.apply(parse_event(line.encode())))
    pipeline.snapshots.save(SnapshotState(engine, tracker, {0: lines}))


def test_the_snapshot_loads_before_the_first_assignment_and_is_loaded_once(tmp_path, monkeypatch):
    pipeline = _pipeline(tmp_path)
    _saved(pipeline, 12)
    calls = []
    load_newest = SnapshotStore.load_newest

    def counted(store, *args, **kwargs):
        calls.append(threading.current_thread().name)
        return load_newest(store, *args, **kwargs)

    monkeypatch.setattr(SnapshotStore, "load_newest", counted)
    pipeline.prefetch_snapshot()
    found, seconds = pipeline._prefetched.result(timeout=60)  # loaded with no assignment yet
    assert found is not None and seconds >= 0
    assert calls == ["snapshot-prefetch"]
    before = pipeline.engine
    asyncio.run(pipeline._load_snapshot_once())  # the first assignment
    assert calls == ["snapshot-prefetch"]  # not loaded again
    assert pipeline.engine is not before and pipeline.engine.stats()["relations"] > 0
    assert pipeline.processor.next_offsets == {"0": 12}
    assert pipeline._prefetched is None


def test_without_a_prefetch_the_first_assignment_loads_it(tmp_path):
    pipeline = _pipeline(tmp_path)
    _saved(pipeline, 7)
    asyncio.run(pipeline._load_snapshot_once())
    assert pipeline.processor.next_offsets == {"0": 7}


def test_a_failed_prefetch_fails_the_first_assignment(tmp_path, monkeypatch):
    """An error outside the per-snapshot checks (which fall back) is not swallowed in the thread: the catch-up
    that awaits it fails with it, as it would have loading there."""
    pipeline = _pipeline(tmp_path)

    def broken(*args, **kwargs):
        raise MemoryError("no room for the state")

    monkeypatch.setattr(SnapshotStore, "load_newest", broken)
    pipeline.prefetch_snapshot()
    with pytest.raises(MemoryError, match="no room"):
        asyncio.run(pipeline._load_snapshot_once())


def test_a_snapshot_load_that_fails_once_is_tried_again_by_the_same_catch_up(tmp_path, monkeypatch):
    # It was marked loaded before it failed: every catch-up after it replayed the log from offset 0 into an empty
    # engine, never looking at the snapshot again nor at the app id's recorded bulk load.
    import errno

    import streams.app as app_module
    from streams.log_reader import Bounds

    pipeline = _pipeline(tmp_path)
    _saved(pipeline, 12)
    load_newest, failures = SnapshotStore.load_newest, [OSError(errno.EIO, "Input/output error")]

    def fails_once(store, *args, **kwargs):
        if failures:
            raise failures.pop()
        return load_newest(store, *args, **kwargs)

    monkeypatch.setattr(SnapshotStore, "load_newest", fails_once)
    monkeypatch.setattr(app_module, "_CATCH_UP_RETRY_SECONDS", (0.0,))
    monkeypatch.setattr(app_module, "last_bulk_load", lambda settings: None)
    monkeypatch.setattr(app_module, "committed_offsets", lambda settings: {0: 40})
    monkeypatch.setattr(app_module, "catch_up_bounds", lambda settings, processor, partitions, committed: Bounds(
        start={0: int(processor.next_offsets.get("0", 0))}, end={0: committed[0]}))

    async def checked_on_the_log():
        pipeline._position_unchecked = False

    replayed = []

    async def replay(bounds):
        replayed.append(bounds)
        pipeline.processor.next_offsets["0"] = bounds.end[0]
        return bounds.total

    monkeypatch.setattr(pipeline, "_check_position_on_the_log", checked_on_the_log)
    monkeypatch.setattr(pipeline, "_replay", replay)

    async def main():
        pipeline.partitions_assigned({0})
        await pipeline._catch_up_task

    asyncio.run(main())
    assert not failures  # it did fail once
    assert replayed == [Bounds(start={0: 12}, end={0: 40})]  # from the snapshot, not from the log's start
    assert pipeline.engine.stats()["relations"] > 0 and pipeline.ready.is_set()
