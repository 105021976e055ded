"""A clean stop writes the snapshot of what was applied since the last one, within `snapshot_at_stop_seconds`.

Before, a SIGTERM left the state to the last periodic snapshot, and the restart replayed up to
`snapshot_every_events` events (or the whole log of a worker that never wrote one): a user's review. The broker's
side (the restart replays nothing and publishes nothing) is `tests/integration/test_recovery.py`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import pytest

from streams.memory import ForkRoom
from streams.processor import InputRecord
from streams.snapshots import SnapshotStore

GB = 1 << 30
SEED = Path(__file__).resolve().parents[3] / "examples" / "binance-wlfi.jsonl"


@pytest.fixture(autouse=True)
def _info(caplog):
    caplog.set_level(logging.INFO, logger="streams.app")


def _pipeline(tmp_path, fits: bool = True, **overrides):
    from streams.app import Pipeline
    from streams.config import load_settings

    settings = load_settings(environ={}, data_dir=str(tmp_path / "data"), **overrides)
    pipeline = Pipeline(settings)
    room = ForkRoom(may_copy=2 * GB, available=(3 if fits else 2) * GB, limited_by="cgroup /test", reserve=GB // 2)
    pipeline._fork_room = lambda: room
    pipeline._assigned = frozenset({0})  # holds the input partition, as after its assignment
    return pipeline


def _apply_seed(pipeline, count: int) -> None:
    """Apply `count` events as live batches do, without publishing: the state a stop finds."""
    lines = [line for line in SEED.read_bytes().splitlines() if line.strip()][:count]
    for offset, line in enumerate(lines):
        pipeline.processor.process(InputRecord(line, None, "events", 0, offset), publish=False)
    pipeline._events_since_snapshot += len(lines)


def _offsets(store: SnapshotStore, path: Path) -> dict:
    return store.read_header(path)["offsets"]


def test_a_stop_writes_what_was_applied_since_the_last_snapshot(tmp_path, caplog):
    pipeline = _pipeline(tmp_path)
    _apply_seed(pipeline, 9)
    asyncio.run(pipeline.snapshot_at_stop())
    (path,) = pipeline.snapshots.paths()
    assert _offsets(pipeline.snapshots, path) == {"0": 9}
    restored = pipeline.snapshots.load(path)
    assert restored.engine.stats()["relations"] == pipeline.engine.stats()["relations"] > 0
    assert pipeline._unsaved() == 0 and not pipeline._engine_lock.locked()
    assert pipeline._stopping.is_set()  # a catch-up is told to end by the stop's own hook, whatever runs first
    assert "snapshot at stop" in caplog.text and "a restart replays nothing before them" in caplog.text
    assert pipeline.registry.get_sample_value("coi_snapshots_written_total", {"writer": "child"}) == 1


def test_without_room_to_fork_the_stop_writes_it_in_a_thread(tmp_path, monkeypatch):
    pipeline = _pipeline(tmp_path, fits=False)
    monkeypatch.setattr(SnapshotStore, "save_in_child", lambda *args: pytest.fail("forked"))
    _apply_seed(pipeline, 5)
    asyncio.run(pipeline.snapshot_at_stop())
    (path,) = pipeline.snapshots.paths()
    assert _offsets(pipeline.snapshots, path) == {"0": 5}
    assert pipeline.snapshots.load(path) is not None  # whole and authenticated
    assert pipeline.registry.get_sample_value("coi_snapshots_written_total", {"writer": "thread"}) == 1


def test_nothing_applied_since_the_last_snapshot_writes_none(tmp_path, caplog):
    pipeline = _pipeline(tmp_path)
    asyncio.run(pipeline.snapshot_at_stop())
    assert pipeline.snapshots.paths() == []
    assert "every event applied is in the last snapshot written or loaded" in caplog.text


def test_switched_off_a_stop_writes_none(tmp_path):
    pipeline = _pipeline(tmp_path, snapshot_at_stop=False)
    _apply_seed(pipeline, 5)
    asyncio.run(pipeline.snapshot_at_stop())
    assert pipeline.snapshots.paths() == []


def test_a_write_the_last_one_says_is_too_long_is_not_started(tmp_path, monkeypatch, caplog):
    pipeline = _pipeline(tmp_path, snapshot_at_stop_seconds=5)
    monkeypatch.setattr(SnapshotStore, "save_in_child", lambda *args: pytest.fail("started"))
    _apply_seed(pipeline, 5)
    pipeline._last_write_seconds = 42.0
    asyncio.run(pipeline.snapshot_at_stop())
    assert pipeline.snapshots.paths() == []
    assert "the last one took 42.0s to write" in caplog.text
    assert "the restart replays the 5 input offsets applied since" in caplog.text


def _slow_writes(monkeypatch, seconds: float) -> None:
    """Every write into the snapshot's file waits first: the temporary file exists while the writer is slow."""
    from streams import snapshots

    real = snapshots._DigestingWriter.write

    def write(writer, data):
        time.sleep(seconds)
        return real(writer, data)

    monkeypatch.setattr(snapshots._DigestingWriter, "write", write)


def test_a_forked_writer_still_going_at_the_deadline_is_killed_and_leaves_nothing(tmp_path, monkeypatch, caplog):
    pipeline = _pipeline(tmp_path, snapshot_at_stop_seconds=0.5)
    _slow_writes(monkeypatch, 30)  # (the child inherits it)
    _apply_seed(pipeline, 5)
    started = time.monotonic()
    asyncio.run(pipeline.snapshot_at_stop())
    assert time.monotonic() - started < 10
    assert pipeline.snapshots.paths() == []
    assert not list(pipeline.snapshots.directory.glob(".tmp-*"))  # the killed writer's file removed
    assert "not written within snapshot_at_stop_seconds" in caplog.text
    assert pipeline._unsaved() == 5 and not pipeline._engine_lock.locked()


def test_a_thread_writer_still_going_at_the_deadline_does_not_hold_the_stop(tmp_path, monkeypatch, caplog):
    pipeline = _pipeline(tmp_path, fits=False, snapshot_at_stop_seconds=0.5)
    _slow_writes(monkeypatch, 30)
    _apply_seed(pipeline, 5)
    started = time.monotonic()
    asyncio.run(pipeline.snapshot_at_stop())
    assert time.monotonic() - started < 5
    assert pipeline.snapshots.paths() == []
    assert "not written within snapshot_at_stop_seconds" in caplog.text
    assert not list(pipeline.snapshots.directory.glob(".tmp-*"))


def test_a_busy_engine_at_the_deadline_means_no_snapshot_and_no_wait_beyond_it(tmp_path, caplog):
    pipeline = _pipeline(tmp_path, snapshot_at_stop_seconds=0.3)
    _apply_seed(pipeline, 5)

    async def stop_during_a_catch_up() -> None:
        async with pipeline._engine_lock:  # a catch-up's replay holds it
            await pipeline.snapshot_at_stop()

    started = time.monotonic()
    asyncio.run(stop_during_a_catch_up())
    assert time.monotonic() - started < 3
    assert pipeline.snapshots.paths() == []
    assert "the engine was busy" in caplog.text
    assert "a catch-up" not in caplog.text  # (it may be a thread's periodic write as well: a review)


def test_a_periodic_write_under_way_is_awaited_and_the_events_after_it_written_too(tmp_path):
    pipeline = _pipeline(tmp_path, snapshot_every_events=1)
    _apply_seed(pipeline, 4)

    async def scenario() -> None:
        async with pipeline._engine_lock:
            await pipeline._snapshot_if_due(0)  # a forked periodic write at offset 4, still running
        assert pipeline._snapshot_write is not None
        _apply_seed(pipeline, 7)  # offsets 0-6 again: the processor's position moves to 7
        await pipeline.snapshot_at_stop()

    asyncio.run(scenario())
    newest, older = pipeline.snapshots.paths()
    assert _offsets(pipeline.snapshots, older) == {"0": 4}
    assert _offsets(pipeline.snapshots, newest) == {"0": 7}


def test_a_worker_holding_no_partition_writes_none(tmp_path, caplog):
    """A standby, or a worker whose partitions were taken over while it was stalled: its state is older than the
    holder's, and written at its stop it was the newest snapshot, which the next start loaded (a review)."""
    pipeline = _pipeline(tmp_path)
    _apply_seed(pipeline, 5)
    pipeline.partitions_revoked({0})
    asyncio.run(pipeline.snapshot_at_stop())
    assert pipeline.snapshots.paths() == []
    assert "this worker holds no input partition" in caplog.text


def test_events_a_failed_periodic_write_held_are_written_at_the_stop(tmp_path, monkeypatch, caplog):
    """The count of events since the last snapshot restarts when a write starts: a write that then failed left a
    stop saying nothing was applied since (a review)."""
    pipeline = _pipeline(tmp_path, fits=False, snapshot_every_events=1)
    _apply_seed(pipeline, 6)
    real = SnapshotStore.save

    def full_disk(store, state):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(SnapshotStore, "save", full_disk)

    async def scenario() -> None:
        async with pipeline._engine_lock:
            await pipeline._snapshot_if_due(0)  # fails (logged)
        monkeypatch.setattr(SnapshotStore, "save", real)
        await pipeline.snapshot_at_stop()

    asyncio.run(scenario())
    assert "snapshot write failed: OSError" in caplog.text
    (path,) = pipeline.snapshots.paths()
    assert _offsets(pipeline.snapshots, path) == {"0": 6}


def test_a_periodic_writer_still_going_at_the_deadline_is_killed_and_the_stop_ends(tmp_path, monkeypatch, caplog):
    """It waited up to snapshot_write_timeout_seconds (1800 s) before the process could exit (a review: 19 s with a
    limit of 3)."""
    pipeline = _pipeline(tmp_path, snapshot_every_events=1, snapshot_at_stop_seconds=0.5)
    _slow_writes(monkeypatch, 30)
    _apply_seed(pipeline, 4)

    async def scenario() -> None:
        async with pipeline._engine_lock:
            await pipeline._snapshot_if_due(0)
        child = pipeline._snapshot_child
        assert child is not None
        await pipeline.snapshot_at_stop()
        return child

    started = time.monotonic()
    child = asyncio.run(scenario())
    assert time.monotonic() - started < 10
    assert "its writer (pid" in caplog.text and "killed" in caplog.text
    assert not Path(f"/proc/{child}").exists()  # reaped
    assert pipeline.snapshots.paths() == []
    assert not list(pipeline.snapshots.directory.glob(".tmp-*"))


def test_the_first_stop_after_a_restart_knows_what_a_write_takes_from_the_loaded_snapshot(tmp_path):
    """The time a write takes was known only to the process that wrote: the first stop after a restart started a
    write it could not finish (a review). A snapshot's header now says how long it took to write."""
    first = _pipeline(tmp_path)
    _apply_seed(first, 5)
    asyncio.run(first.snapshot_at_stop())
    (path,) = first.snapshots.paths()
    loaded = first.snapshots.load(path)
    assert loaded.write_seconds is not None and 0 <= loaded.write_seconds < 30
    assert first.snapshots.read_header(path)["write_seconds"] == loaded.write_seconds
    second = _pipeline(tmp_path)  # the restart, on the same data directory
    asyncio.run(second._load_snapshot_once())
    assert second._last_write_seconds == loaded.write_seconds
    _apply_seed(second, 3)
    second._last_write_seconds = 99.0  # as for a large state: more than the 20 s a stop may take
    asyncio.run(second.snapshot_at_stop())
    assert second.snapshots.paths() == [path]  # not started


def test_events_applied_without_being_counted_are_written_too(tmp_path):
    """A catch-up whose replay failed half-way moved the engine's position without counting what it applied, and a
    stop said nothing was applied since the last snapshot (a review). What is unsaved is read from the positions."""
    pipeline = _pipeline(tmp_path)
    lines = [line for line in SEED.read_bytes().splitlines() if line.strip()][:4]
    for offset, line in enumerate(lines):  # applied, and counted by nobody
        pipeline.processor.process(InputRecord(line, None, "events", 0, offset), publish=False)
    asyncio.run(pipeline.snapshot_at_stop())
    (path,) = pipeline.snapshots.paths()
    assert _offsets(pipeline.snapshots, path) == {"0": 4}


def test_a_periodic_writer_that_times_out_by_itself_leaves_the_stop_its_time(tmp_path, monkeypatch, caplog):
    """On Python 3.11 the writer's own TimeoutError (snapshot_write_timeout_seconds) is asyncio's: it was taken for
    the stop's deadline, and the stop wrote nothing, saying it had waited 30 s (a review)."""
    from streams import snapshots

    slow = tmp_path / "slow"  # while it exists, writes hang (the children fork with this function)
    slow.touch()
    real = snapshots._DigestingWriter.write

    def write(writer, data):
        while slow.exists():
            time.sleep(0.05)
        return real(writer, data)

    monkeypatch.setattr(snapshots._DigestingWriter, "write", write)
    pipeline = _pipeline(tmp_path, snapshot_every_events=1, snapshot_write_timeout_seconds=0.5,
                         snapshot_at_stop_seconds=30)
    _apply_seed(pipeline, 4)

    async def scenario() -> None:
        async with pipeline._engine_lock:
            await pipeline._snapshot_if_due(0)  # hangs, killed after 0.5 s
        await asyncio.sleep(1.0)
        slow.unlink()
        await pipeline.snapshot_at_stop()

    asyncio.run(scenario())
    assert "still going after" not in caplog.text
    (path,) = pipeline.snapshots.paths()
    assert _offsets(pipeline.snapshots, path) == {"0": 4}
