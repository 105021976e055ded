"""Restart cost of the worker: rebuilding the engine from the input log against loading a snapshot.

    .venv/bin/python bench/restart.py --sizes 100000 300000

For each size, in a fresh subprocess (so memory readings do not mix), on `size` synthetic events
(bench/synthetic.py, seed 7) held as the bytes the input topic would hold:
1. from log: every event through `EventProcessor.process(record, publish=False)`, exactly the worker's silent
   catch-up (`streams.recovery.replay_into`) minus the Kafka fetch;
2. the snapshot of the resulting state (`streams.snapshots.SnapshotStore`) as the worker takes it: the pause of
   the live path (the fork), the forked child's time to pickle, write and fsync, the file size; and, for
   comparison, the pause pickling in the event loop would cost (`pickle.dumps` of the state in this process);
3. from snapshot: `load_newest` (read, header, sha256 and HMAC checks, unpickle) of that file; the restored
   engine's sizes are checked against the original;
4. bulk (`--bulk`): `Engine.load` of the same events with parsing (what `coi-risk load` does per event read).
The worker's restart from a snapshot also replays the tail after the snapshot's offset, at the per-event rate of (1).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import pickle
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(os.environ.get("COI_RISK_REPO", Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(REPO))

from bench.process import measure_in_child, peak_rss_bytes  # noqa: E402


def measure(size: int, bulk: bool) -> dict:
    from bench.synthetic import generate_events
    from schemas import parse_event
    from scoring import AlertTracker, Engine
    from scoring.resolution import ResolvingEngine
    from streams.processor import EventProcessor, InputRecord
    from streams.snapshots import Identity, SnapshotState, SnapshotStore, config_hash

    lines = [json.dumps(event).encode() for event in generate_events(size, seed=7)]
    records = [InputRecord(value=line, key=json.loads(line)["relation_id"].encode(), topic="events", partition=0,
                           offset=number) for number, line in enumerate(lines)]
    engine, tracker = Engine(), AlertTracker()
    processor = EventProcessor(engine, tracker)
    started = time.perf_counter()
    for record in records:
        processor.process(record, publish=False)
    from_log = time.perf_counter() - started
    gc.collect()
    gc.freeze()  # as the worker does after its first catch-up
    stats = engine.stats()

    with tempfile.TemporaryDirectory(prefix="coi-bench-snapshots-") as directory:
        store = SnapshotStore(directory, Identity("bench", "events", config_hash(engine.config)))
        state = SnapshotState(engine, tracker, {0: len(records)})
        started = time.perf_counter()
        pid = store.save_in_child(state)
        pause = time.perf_counter() - started
        assert store.wait_for_child(pid) == 0
        write = time.perf_counter() - started
        path = store.paths()[0]
        size_bytes = path.stat().st_size
        started = time.perf_counter()
        pickle.dumps((state.engine, state.tracker), protocol=pickle.HIGHEST_PROTOCOL)
        pickle_in_loop = time.perf_counter() - started
        started = time.perf_counter()
        loaded, _ = store.load_newest()
        from_snapshot = time.perf_counter() - started
        restored = loaded.engine.stats()
        assert all(restored[k] == stats[k] for k in ("relations", "nodes", "scored_pairs", "events")), restored
        del loaded
    result = {
        "relations": stats["relations"], "scored_pairs": stats["scored_pairs"],
        "from_log_seconds": round(from_log, 1), "from_log_events_per_second": round(size / from_log),
        "snapshot_pause_seconds": round(pause, 3), "snapshot_child_seconds": round(write, 2),
        "pickle_in_loop_seconds": round(pickle_in_loop, 2),
        "snapshot_mb": round(size_bytes / 2**20, 1), "snapshot_bytes_per_relation": round(size_bytes / size),
        "from_snapshot_seconds": round(from_snapshot, 1),
    }
    if bulk:
        del engine, tracker, processor
        gc.unfreeze()
        gc.collect()
        # the bare engine's bulk load, and the resolution layer's (what `coi-risk load` and `snapshot import` run)
        for label, make in (("bulk_load", Engine), ("layer_bulk_load", ResolvingEngine)):
            bulk_engine = make()
            started = time.perf_counter()
            bulk_engine.load((parse_event(line), f"0:{n}") for n, line in enumerate(lines))
            elapsed = time.perf_counter() - started
            result[f"{label}_seconds"] = round(elapsed, 1)
            result[f"{label}_events_per_second"] = round(size / elapsed)
            del bulk_engine
            gc.collect()
    result["peak_rss_mb"] = round(peak_rss_bytes() / 2**20)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--bulk", action="store_true", help="also time Engine.load with parsing")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: measure one size in this process
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.bulk)))
        return 0
    rows = []
    for size in args.sizes:
        command = [sys.executable, __file__, "--one", str(size)] + (["--bulk"] if args.bulk else [])
        rows.append({"size": size, **measure_in_child(command)})
        print(json.dumps(rows[-1]), flush=True)
    print("\n| events | from log s (ev/s) | snapshot pause (fork) s | child pickle+write s | in-loop pickle s "
          "| size MB (B/relation) | from snapshot s | bulk load ev/s | peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['size']:,} | {row['from_log_seconds']} ({row['from_log_events_per_second']:,}) | "
              f"{row['snapshot_pause_seconds']} | {row['snapshot_child_seconds']} | {row['pickle_in_loop_seconds']} | "
              f"{row['snapshot_mb']} "
              f"({row['snapshot_bytes_per_relation']}) | {row['from_snapshot_seconds']} | "
              f"{row.get('bulk_load_events_per_second', '-')} | {row['peak_rss_mb']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
