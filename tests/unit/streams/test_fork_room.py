"""A forked snapshot writer only where it fits (streams.memory), and what the worker does where it does not.

The memory readings run on made-up /proc and cgroup trees laid out as Linux lays them out (v2, v1, a container's
own cgroup namespace); the worker's choice runs on a real snapshot store, with the room it reads set by the test.
"""

from __future__ import annotations

import asyncio
import math
import os
import time
from pathlib import Path

import pytest

from streams.memory import ForkRoom, available_memory, fork_room, private_memory
from streams.snapshots import SnapshotStore

MB = 1 << 20
GB = 1 << 30


def proc_tree(root: Path, rss_anon_kb: int | None = 2_000_000, available_kb: int | None = 8_000_000,
              cgroup: str = "0::/\n") -> Path:
    proc = root / "proc"
    (proc / "self").mkdir(parents=True)
    status = "Name:\tpython\nVmRSS:\t 3000000 kB\n"
    if rss_anon_kb is not None:
        status += f"RssAnon:\t {rss_anon_kb} kB\nRssFile:\t   20000 kB\n"
    (proc / "self" / "status").write_text(status)
    meminfo = "MemTotal:       24000000 kB\nMemFree:         1000000 kB\n"
    if available_kb is not None:
        meminfo += f"MemAvailable:   {available_kb} kB\n"
    (proc / "meminfo").write_text(meminfo)
    (proc / "self" / "cgroup").write_text(cgroup)
    return proc


def v2_cgroup(directory: Path, limit: str, current: int, inactive_file: int = 0) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "memory.max").write_text(limit + "\n")
    (directory / "memory.current").write_text(f"{current}\n")
    (directory / "memory.stat").write_text(f"anon {current}\nfile 0\ninactive_file {inactive_file}\n")


def test_the_private_memory_is_what_a_forked_child_may_copy(tmp_path):
    assert private_memory(proc_tree(tmp_path, rss_anon_kb=2_000_000)) == 2_000_000 * 1024


def test_without_a_cgroup_limit_the_machine_decides(tmp_path):
    proc = proc_tree(tmp_path, available_kb=8_000_000)
    cgroups = tmp_path / "cgroup"
    v2_cgroup(cgroups, "max", 5 * GB)
    assert available_memory(proc, cgroups) == (8_000_000 * 1024, "the machine")


def test_a_container_limit_leaves_its_limit_less_its_working_set(tmp_path):
    # inside a container with its own cgroup namespace: the path is "/", the mount root is the container's cgroup;
    # inactive file cache is reclaimed before anything is killed, so it does not count as used
    proc = proc_tree(tmp_path, available_kb=20_000_000, cgroup="0::/\n")
    cgroups = tmp_path / "cgroup"
    v2_cgroup(cgroups, str(4 * GB), 3 * GB, inactive_file=512 * MB)
    assert available_memory(proc, cgroups) == (GB + 512 * MB, "cgroup /")


def test_the_tightest_of_the_cgroup_and_its_ancestors_counts(tmp_path):
    proc = proc_tree(tmp_path, available_kb=20_000_000, cgroup="0::/kubepods/pod1/worker\n")
    cgroups = tmp_path / "cgroup"
    v2_cgroup(cgroups / "kubepods", str(16 * GB), 10 * GB)  # 6 GB left
    v2_cgroup(cgroups / "kubepods" / "pod1", str(8 * GB), 5 * GB)  # 3 GB left: the least
    v2_cgroup(cgroups / "kubepods" / "pod1" / "worker", "max", 4 * GB)
    assert available_memory(proc, cgroups) == (3 * GB, "cgroup /kubepods/pod1")


def test_a_v1_memory_cgroup_uses_its_hierarchical_limit(tmp_path):
    proc = proc_tree(tmp_path, available_kb=20_000_000, cgroup="4:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n")
    directory = tmp_path / "cgroup" / "memory" / "docker" / "abc"
    directory.mkdir(parents=True)
    (directory / "memory.limit_in_bytes").write_text(f"{9223372036854771712}\n")  # its own: none
    (directory / "memory.usage_in_bytes").write_text(f"{3 * GB}\n")
    (directory / "memory.stat").write_text(f"cache 0\nhierarchical_memory_limit {5 * GB}\n"
                                           f"total_inactive_file {GB}\n")
    assert available_memory(proc, tmp_path / "cgroup") == (3 * GB, "cgroup /docker/abc")


def test_an_unlimited_v1_cgroup_leaves_it_to_the_machine(tmp_path):
    proc = proc_tree(tmp_path, available_kb=7_000_000, cgroup="4:memory:/\n")
    directory = tmp_path / "cgroup" / "memory"
    directory.mkdir(parents=True)
    (directory / "memory.limit_in_bytes").write_text("9223372036854771712\n")
    (directory / "memory.usage_in_bytes").write_text(f"{3 * GB}\n")
    assert available_memory(proc, tmp_path / "cgroup") == (7_000_000 * 1024, "the machine")


def test_the_machine_counts_where_it_has_less_left_than_the_cgroup(tmp_path):
    proc = proc_tree(tmp_path, available_kb=1_000_000, cgroup="0::/\n")
    v2_cgroup(tmp_path / "cgroup", str(8 * GB), 2 * GB)
    assert available_memory(proc, tmp_path / "cgroup") == (1_000_000 * 1024, "the machine")


def test_a_v1_container_without_its_own_namespace_reads_the_limit_at_the_mount_root(tmp_path):
    # /proc/self/cgroup names the host's path, but the container sees its own cgroup at the mount root; the
    # hybrid layout (v1 controllers beside an empty v2 hierarchy) is what Docker on cgroup v1 hosts shows
    proc = proc_tree(tmp_path, available_kb=20_000_000, cgroup="12:memory:/docker/abc\n0::/docker/abc\n")
    root = tmp_path / "cgroup" / "memory"
    root.mkdir(parents=True)
    (root / "memory.limit_in_bytes").write_text(f"{2 * GB}\n")
    (root / "memory.usage_in_bytes").write_text(f"{GB}\n")
    (root / "memory.stat").write_text("total_inactive_file 0\nhierarchical_memory_limit 9223372036854771712\n")
    assert available_memory(proc, tmp_path / "cgroup") == (GB, "cgroup /")


def test_a_v1_parent_limit_counts_with_the_parents_usage(tmp_path):
    # siblings share the parent's limit: its usage, not the worker's own, says what is left under it
    proc = proc_tree(tmp_path, available_kb=20_000_000, cgroup="4:memory:/pods/worker\n")
    parent = tmp_path / "cgroup" / "memory" / "pods"
    worker = parent / "worker"
    worker.mkdir(parents=True)
    (parent / "memory.limit_in_bytes").write_text(f"{6 * GB}\n")
    (parent / "memory.usage_in_bytes").write_text(f"{5 * GB}\n")
    (worker / "memory.limit_in_bytes").write_text("9223372036854771712\n")
    (worker / "memory.usage_in_bytes").write_text(f"{GB}\n")
    assert available_memory(proc, tmp_path / "cgroup") == (GB, "cgroup /pods")


def test_files_that_are_not_text_read_as_unknown(tmp_path):
    proc = proc_tree(tmp_path)
    (proc / "self" / "status").write_bytes(b"RssAnon:\t\xff\xfe kB\n")
    (proc / "meminfo").write_bytes(b"\xff" * 10)
    assert private_memory(proc) is None
    assert available_memory(proc, tmp_path / "cgroup") == (None, "unknown")


def test_where_nothing_can_be_read_the_room_is_unknown_and_the_worker_forks(tmp_path):
    empty = tmp_path / "nothing"
    room = fork_room(256 * MB, proc=empty, cgroup_root=empty)
    assert (room.may_copy, room.available, room.room) == (None, None, None)
    assert room.fits


@pytest.mark.parametrize("available_kb, fits", [(2_000_000 + 262_144, True), (2_000_000 + 262_143, False)])
def test_a_fork_fits_when_its_copy_and_the_reserve_are_left(tmp_path, available_kb, fits):
    proc = proc_tree(tmp_path, rss_anon_kb=2_000_000, available_kb=available_kb)
    room = fork_room(256 * MB, proc=proc, cgroup_root=tmp_path / "no-cgroups")
    assert room.fits is fits
    assert "a forked writer may copy 1,953 MB" in room.describe()


def test_a_thread_write_fits_in_about_a_third_of_a_fork(tmp_path):
    # what its pickler keeps: THREAD_WRITE_SHARE of what a child may copy
    room = ForkRoom(may_copy=2 * GB, available=GB, limited_by="the machine", reserve=256 * MB)
    assert not room.fits and room.fits_thread
    assert not ForkRoom(may_copy=2 * GB, available=768 * MB, limited_by="the machine", reserve=256 * MB).fits_thread


def test_this_machine_reads_as_linux_lays_it_out():
    room = fork_room(0)
    assert room.may_copy is not None and room.may_copy > 0
    assert room.available is not None and room.available > 0


# -- the worker's choice --------------------------------------------------------------------------------------

def _pipeline(tmp_path, **overrides):
    from streams.app import Pipeline
    from streams.config import load_settings

    settings = load_settings(environ={}, data_dir=str(tmp_path / "data"), snapshot_every_events=1, **overrides)
    return Pipeline(settings)


def _room(fits: bool) -> ForkRoom:
    return ForkRoom(may_copy=2 * GB, available=(3 if fits else 2) * GB, limited_by="cgroup /test", reserve=512 * MB)


def test_the_reserve_and_the_cap_are_in_megabytes(tmp_path):
    room = _pipeline(tmp_path, snapshot_fork_reserve_mb=300, snapshot_fork_max_private_mb=4096)._fork_room()
    assert (room.reserve, room.fork_cap) == (300 * MB, 4 * GB)
    assert _pipeline(tmp_path / "uncapped")._fork_room().fork_cap is None


def test_above_the_cap_no_fork_whatever_is_left_and_a_thread_writes(tmp_path):
    capped = ForkRoom(may_copy=2 * GB, available=64 * GB, limited_by="the machine", reserve=0, fork_cap=GB)
    assert not capped.fits and capped.fits_thread
    assert "forks capped at 1,024 MB" in capped.describe()
    assert ForkRoom(may_copy=GB, available=None, limited_by="unknown", reserve=0, fork_cap=GB).fits


def _counter(pipeline, name: str, **labels) -> float:
    value = pipeline.registry.get_sample_value(name, labels)
    return 0.0 if value is None else value


async def _due_snapshot(pipeline) -> None:
    async with pipeline._engine_lock:
        await pipeline._snapshot_if_due(1)
    if pipeline._snapshot_write is not None:
        await pipeline._snapshot_write


def test_with_room_the_snapshot_is_written_by_a_forked_child(tmp_path, monkeypatch):
    pipeline = _pipeline(tmp_path)
    monkeypatch.setattr(pipeline, "_fork_room", lambda: _room(fits=True))
    worker, real_save, written_by = os.getpid(), SnapshotStore.save, []

    def save(store, state):
        if os.getpid() == worker:
            written_by.append("the worker")
        return real_save(store, state)

    monkeypatch.setattr(SnapshotStore, "save", save)
    asyncio.run(_due_snapshot(pipeline))
    assert written_by == []  # only the child wrote
    assert len(pipeline.snapshots.paths()) == 1
    assert _counter(pipeline, "coi_snapshots_written_total", writer="child") == 1
    assert _counter(pipeline, "coi_snapshots_written_total", writer="thread") == 0


def test_without_room_the_snapshot_is_written_in_a_thread_and_no_child_is_forked(tmp_path, monkeypatch, caplog):
    pipeline = _pipeline(tmp_path)
    monkeypatch.setattr(pipeline, "_fork_room", lambda: _room(fits=False))
    monkeypatch.setattr(SnapshotStore, "save_in_child", lambda *args: pytest.fail("forked"))
    asyncio.run(_due_snapshot(pipeline))
    (path,) = pipeline.snapshots.paths()
    assert pipeline.snapshots.load(path) is not None  # a whole, authenticated snapshot
    assert _counter(pipeline, "coi_snapshots_written_total", writer="thread") == 1
    assert _counter(pipeline, "coi_snapshot_pause_seconds_count", writer="thread") == 1
    assert _counter(pipeline, "coi_snapshots_skipped_total") == 0
    assert "no room to fork its writer (a forked writer may copy 2,048 MB, 2,048 MB are left (cgroup /test), " \
           "reserve 512 MB): writing it in a thread" in caplog.text


def test_without_room_and_skip_nothing_is_written_and_the_skip_is_counted(tmp_path, monkeypatch):
    pipeline = _pipeline(tmp_path, snapshot_without_fork_room="skip")
    monkeypatch.setattr(pipeline, "_fork_room", lambda: _room(fits=False))
    monkeypatch.setattr(SnapshotStore, "save_in_child", lambda *args: pytest.fail("forked"))
    asyncio.run(_due_snapshot(pipeline))
    assert pipeline.snapshots.paths() == []
    assert _counter(pipeline, "coi_snapshots_skipped_total") == 1
    assert _counter(pipeline, "coi_snapshots_written_total", writer="thread") == 0


def test_without_room_for_a_thread_either_the_snapshot_is_skipped(tmp_path, monkeypatch, caplog):
    pipeline = _pipeline(tmp_path)
    monkeypatch.setattr(pipeline, "_fork_room", lambda: ForkRoom(2 * GB, 768 * MB, "cgroup /test", 512 * MB))
    monkeypatch.setattr(SnapshotStore, "save_in_child", lambda *args: pytest.fail("forked"))
    monkeypatch.setattr(SnapshotStore, "save", lambda *args: pytest.fail("written in a thread"))
    asyncio.run(_due_snapshot(pipeline))
    assert _counter(pipeline, "coi_snapshots_skipped_total") == 1
    assert "nor for writing it in a thread" in caplog.text


def test_a_failed_thread_write_is_logged_and_the_worker_goes_on(tmp_path, monkeypatch, caplog):
    pipeline = _pipeline(tmp_path)
    monkeypatch.setattr(pipeline, "_fork_room", lambda: _room(fits=False))

    def full_disk(store, state):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(SnapshotStore, "save", full_disk)
    asyncio.run(_due_snapshot(pipeline))  # returns: nothing escapes into the batch
    assert "snapshot write failed: OSError" in caplog.text
    assert _counter(pipeline, "coi_snapshots_written_total", writer="thread") == 0
    assert _counter(pipeline, "coi_snapshot_failures_total", writer="thread") == 1  # CoiSnapshotsFailing
    assert math.isnan(pipeline.registry.get_sample_value("coi_snapshot_last_written_timestamp_seconds"))
    assert pipeline.snapshots.paths() == []
    assert not pipeline._engine_lock.locked()


def test_a_room_that_cannot_be_read_lets_the_worker_fork_as_before(tmp_path, monkeypatch, caplog):
    pipeline = _pipeline(tmp_path)

    def unreadable():
        raise RuntimeError("a /proc that is not Linux's")

    monkeypatch.setattr(pipeline, "_fork_room", unreadable)
    asyncio.run(_due_snapshot(pipeline))
    assert _counter(pipeline, "coi_snapshots_written_total", writer="child") == 1
    assert "cannot tell the memory left" in caplog.text


def test_a_cancelled_batch_holds_the_engine_until_the_thread_is_done_with_the_state(tmp_path, monkeypatch):
    pipeline = _pipeline(tmp_path)
    monkeypatch.setattr(pipeline, "_fork_room", lambda: _room(fits=False))
    finished = []

    def slow_save(store, state):
        time.sleep(0.5)
        finished.append(time.monotonic())
        return Path(store.directory / "written")

    monkeypatch.setattr(SnapshotStore, "save", slow_save)

    async def scenario():
        batch = asyncio.ensure_future(_due_snapshot(pipeline))
        await asyncio.sleep(0.1)  # the thread is pickling
        batch.cancel()
        async with pipeline._engine_lock:  # what the next batch or a catch-up would wait for
            got_lock = time.monotonic()
        with pytest.raises(asyncio.CancelledError):
            await batch
        return got_lock

    got_lock = asyncio.run(scenario())
    assert finished and got_lock >= finished[0]


def test_the_room_is_exported_at_scrape_time(tmp_path, monkeypatch):
    pipeline = _pipeline(tmp_path)
    now = {"room": _room(fits=True)}
    monkeypatch.setattr(pipeline, "_fork_room", lambda: now["room"])
    assert _counter(pipeline, "coi_snapshot_fork_may_copy_bytes") == 2 * GB
    assert _counter(pipeline, "coi_snapshot_fork_room_bytes") == 3 * GB - 512 * MB
    now["room"] = _room(fits=False)
    assert _counter(pipeline, "coi_snapshot_fork_room_bytes") == 2 * GB - 512 * MB


def test_an_unknown_room_is_exported_as_nan(tmp_path, monkeypatch):
    pipeline = _pipeline(tmp_path)
    monkeypatch.setattr(pipeline, "_fork_room", lambda: ForkRoom(None, None, "unknown", 0))
    assert math.isnan(pipeline.registry.get_sample_value("coi_snapshot_fork_room_bytes"))


def test_a_worker_gone_idle_writes_the_snapshot_due_by_time(tmp_path, monkeypatch):
    """Events applied under `snapshot_every_events` and then none: the due snapshot waited for a batch that never
    came, and a restart replayed all of them (an operator's review). The idle timer writes it."""
    import time

    pipeline = _pipeline(tmp_path)
    monkeypatch.setattr(pipeline, "_fork_room", lambda: _room(fits=True))

    async def idle_check() -> None:
        await pipeline.snapshot_if_stale()
        if pipeline._snapshot_write is not None:
            await pipeline._snapshot_write

    pipeline._set_ready(True, "caught up")
    asyncio.run(idle_check())  # nothing applied since the start: nothing to write
    assert pipeline.snapshots.paths() == []
    pipeline._events_since_snapshot = 7
    asyncio.run(idle_check())  # applied, but snapshot_every_seconds not passed yet
    assert pipeline.snapshots.paths() == []
    pipeline._snapshot_at = time.monotonic() - pipeline.settings.snapshot_every_seconds - 1
    asyncio.run(idle_check())
    assert len(pipeline.snapshots.paths()) == 1 and pipeline._events_since_snapshot == 0
    asyncio.run(idle_check())  # and not again until more events
    assert len(pipeline.snapshots.paths()) == 1


def test_a_forked_writer_that_fails_is_counted_and_a_written_one_dated(tmp_path, monkeypatch, caplog):
    # a full or read-only disk failed every snapshot with a log line only (an operator's review): the restart
    # replayed the whole log and no metric or alert had said so
    pipeline = _pipeline(tmp_path)
    monkeypatch.setattr(pipeline, "_fork_room", lambda: _room(fits=True))
    assert _counter(pipeline, "coi_snapshot_failures_total", writer="child") == 0  # declared at 0: increase() sees 1
    real_save = SnapshotStore.save

    def read_only(store, state):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(SnapshotStore, "save", read_only)  # in the forked child too

    async def failing():
        with pytest.raises(RuntimeError, match="exited with"):
            await _due_snapshot(pipeline)
        await asyncio.sleep(0)  # the write's done-callback

    asyncio.run(failing())
    assert pipeline.snapshots.paths() == []
    assert _counter(pipeline, "coi_snapshot_failures_total", writer="child") == 1
    assert "snapshot write failed: RuntimeError" in caplog.text

    monkeypatch.setattr(SnapshotStore, "save", real_save)
    before = time.time()
    asyncio.run(_due_snapshot(pipeline))
    assert len(pipeline.snapshots.paths()) == 1
    assert before <= _counter(pipeline, "coi_snapshot_last_written_timestamp_seconds") <= time.time()
    assert _counter(pipeline, "coi_snapshot_failures_total", writer="child") == 1


def test_a_writer_that_cannot_be_forked_is_counted_as_failed(tmp_path, monkeypatch):
    pipeline = _pipeline(tmp_path)
    monkeypatch.setattr(pipeline, "_fork_room", lambda: _room(fits=True))

    def no_fork(store, state):
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(SnapshotStore, "save_in_child", no_fork)
    asyncio.run(_due_snapshot(pipeline))
    assert _counter(pipeline, "coi_snapshot_failures_total", writer="child") == 1


def test_the_worker_exports_its_process_metrics(tmp_path):
    # the runbooks size the worker and its snapshot writer's room by its resident memory, which the worker's own
    # registry (without prometheus_client's default collectors) did not export
    pipeline = _pipeline(tmp_path)
    assert _counter(pipeline, "process_resident_memory_bytes") > 10 * MB
    assert _counter(pipeline, "process_cpu_seconds_total") > 0
