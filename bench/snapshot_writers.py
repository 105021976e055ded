"""The two ways the worker writes a snapshot, one after the other on the same state: a forked child (the normal
way) and, where a child would not fit in memory (streams/memory.py), a thread of the worker while the stream waits.

    .venv/bin/python bench/snapshot_writers.py --relations 1000000 --state-dir /tmp/bench-state

For each: how long the write took, how long the event loop was held (the longest gap between the 10 ms ticks of
a timer running beside it, as heartbeats and /ready do), and the memory it cost: the largest fall of the machine's
MemAvailable during the write (both processes' copied pages, the pickler's tables, dirty file cache not yet
reclaimable), and for the child its own private pages at the end (sampled). Beside them, what the worker estimates
a child may copy (`RssAnon`, streams.memory), so the estimate can be read against what a child took.

The state is a bulk load of synthetic events (bench/synthetic.py, seed 7) kept as a snapshot in `--state-dir`
(built by a child process on the first run, then loaded, as a restarted worker loads it). Run on an otherwise
idle machine: MemAvailable is the whole machine's.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

_MB = 1 << 20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--relations", type=int, default=200_000)
    parser.add_argument("--state-dir", type=Path, required=True, help="where the state's snapshot is kept")
    args = parser.parse_args()

    from streams.memory import fork_room
    from streams.snapshots import SnapshotStore

    identity = state_identity(args.relations)
    source = ensure_state(args.state_dir, args.relations)
    started = time.perf_counter()
    state = source.load(source.paths()[0], freeze=True)
    loaded = time.perf_counter() - started
    gc.collect()
    gc.freeze()
    room = fork_room()
    result = {"relations": state.engine.stats()["relations"], "load_seconds": round(loaded, 2),
              "estimate_rss_anon_mb": round(room.may_copy / _MB), "available_mb": round(room.available / _MB)}
    out = SnapshotStore(args.state_dir / "written", identity)
    result["child"] = _child_write(out, state)
    result["thread"] = asyncio.run(_thread_write(out, state))
    print(json.dumps(result))
    return 0


def state_identity(relations: int):
    from streams.snapshots import Identity

    return Identity("bench-snapshot-writers", f"synthetic-{relations}", "bench")


def ensure_state(state_dir: Path, relations: int):
    """The store in `state_dir` holding a snapshot of `relations` synthetic relations, built first if missing."""
    from streams.snapshots import SnapshotStore

    store = SnapshotStore(state_dir, state_identity(relations))
    if not store.paths():  # built in a child, so that this process holds the loaded state alone
        pid = os.fork()
        if pid == 0:
            _build(store, relations)
            os._exit(0)
        if os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) != 0:
            raise SystemExit("building the state failed")
    return store


def _build(store, relations: int) -> None:
    from bench.synthetic import generate_events
    from bench.worker_memory import admitted
    from scoring import AlertTracker
    from scoring.resolution import ResolvingEngine
    from streams.processor import EventProcessor, InputRecord
    from streams.snapshots import SnapshotState

    lines = [json.dumps(event).encode() for event in generate_events(relations, seed=7)]
    records = [InputRecord(line, None, "events", 0, offset) for offset, line in enumerate(lines)]
    layer = ResolvingEngine()
    tracker = AlertTracker(layer.engine.config)
    tracker.observe(layer.load(admitted(EventProcessor(layer, tracker), records), input_offsets={"0": relations}))
    store.save(SnapshotState(layer, tracker, {0: relations}))


def _child_write(store, state) -> dict:
    base = _available()
    lowest, child_private = base, 0
    started = time.perf_counter()
    pid = store.save_in_child(state)
    pause = time.perf_counter() - started
    while not os.waitpid(pid, os.WNOHANG)[0]:
        lowest = min(lowest, _available())
        child_private = max(child_private, _private_dirty(pid))
        time.sleep(0.2)
    return {"seconds": round(time.perf_counter() - started, 1), "loop_held_seconds": round(pause, 3),
            "available_fell_mb": round((base - lowest) / _MB), "child_private_mb": round(child_private / _MB)}


async def _thread_write(store, state) -> dict:
    base = _available()
    lowest, longest_gap = base, 0.0
    started = time.perf_counter()
    writing = asyncio.get_running_loop().run_in_executor(None, store.save, state)
    last = time.perf_counter()
    while not writing.done():
        await asyncio.sleep(0.01)
        now = time.perf_counter()
        longest_gap, last = max(longest_gap, now - last), now
        lowest = min(lowest, _available())
    await writing
    return {"seconds": round(time.perf_counter() - started, 1), "loop_held_seconds": round(longest_gap, 3),
            "available_fell_mb": round((base - lowest) / _MB)}


def _available() -> int:
    with open("/proc/meminfo") as handle:
        for line in handle:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no MemAvailable in /proc/meminfo")


def _private_dirty(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Private_Dirty:"):
                    return int(line.split()[1]) * 1024
    except OSError:  # the child has just exited
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
