"""Time to ready of the real worker after a restart: from its snapshot against from the input log.

    .venv/bin/python bench/worker_restart.py --events 20000

1. Publishes N synthetic events (bench/synthetic.py) to fresh topics; a worker (snapshot every N events)
   processes them all, writes its snapshot at the end, and is stopped (SIGTERM: it leaves the group).
2. From snapshot: the worker is started again; time from process start to /ready 200 (Python and Faust start-up,
   joining the group, loading and checking the snapshot, replaying the tail after it).
3. From log: started again with snapshots disabled; time to /ready (the whole log replayed without publishing).
Starts its own broker on port 19392 unless --bootstrap or KAFKA_BOOTSTRAP_SERVERS is given.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.pipeline_throughput import produce  # noqa: E402
from bench.synthetic import generate_events  # noqa: E402
from streams.testing import WorkerProcess, pipeline_settings  # noqa: E402


def timed_start(worker: WorkerProcess) -> float:
    started = time.monotonic()
    worker.start(wait_ready=False)
    worker.wait_ready(timeout=4 * 3600)  # a long log takes minutes to replay
    return time.monotonic() - started


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise TimeoutError(what)


def run(bootstrap: str, events: int, workdir: Path) -> dict:
    from streams.recovery import committed_offsets
    from streams.topics import ensure_topics

    workdir.mkdir(parents=True, exist_ok=True)
    settings = pipeline_settings(bootstrap, workdir)
    settings = settings.model_copy(update={"snapshot_every_events": events, "snapshot_every_seconds": 3600.0})
    ensure_topics(settings)
    produce(settings, list(generate_events(events, seed=7)))
    env = {"COI_SNAPSHOT_EVERY_EVENTS": str(events), "COI_SNAPSHOT_EVERY_SECONDS": "3600"}
    worker = WorkerProcess(settings, workdir / "worker.log", extra_env=env)
    worker.start()
    snapshots = settings.snapshot_path
    wait_for(lambda: committed_offsets(settings).get(0, 0) >= events and any(snapshots.glob("snapshot-*")),
             timeout=7200, what="first run processed everything and wrote its snapshot")
    worker.stop()
    snapshot = max(snapshots.glob("snapshot-*"))
    result = {"events": events, "snapshot_mb": round(snapshot.stat().st_size / 2**20, 1)}

    result["ready_from_snapshot_s"] = round(timed_start(worker), 1)
    result["replayed_from_snapshot"] = int(worker.metric("coi_recovered_events_total"))
    result["snapshot_pause_max_s"] = None
    worker.stop()
    print(json.dumps(result), flush=True)
    for line in (workdir / "worker.log").read_text(errors="replace").splitlines():
        if "paused the stream" in line:
            pause = float(line.split("paused the stream ")[1].split("s,")[0])
            result["snapshot_pause_max_s"] = max(pause, result["snapshot_pause_max_s"] or 0.0)

    from_log = WorkerProcess(settings, workdir / "worker-from-log.log",
                             extra_env={**env, "COI_SNAPSHOTS_ENABLED": "false"})
    result["ready_from_log_s"] = round(timed_start(from_log), 1)
    result["replayed_from_log"] = int(from_log.metric("coi_recovered_events_total"))
    from_log.stop()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, nargs="+", default=[20_000])
    parser.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="coi-bench-restart-") as directory:
        workdir = Path(directory)
        broker = None
        if not args.bootstrap:
            from streams.broker import LocalBroker

            broker = LocalBroker(port=19392, state_dir=workdir / "kafka")
            broker.start(timeout=120)
        try:
            rows = []
            for count in args.events:
                rows.append(run(args.bootstrap or broker.bootstrap, count, workdir / f"run-{count}"))
                print(json.dumps(rows[-1]), flush=True)
        finally:
            if broker is not None:
                broker.stop()
    print("\n| events | ready from snapshot s (events replayed) | ready from log s (events replayed) "
          "| snapshot MB | max snapshot pause s |")
    print("|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['events']:,} | {row['ready_from_snapshot_s']} ({row['replayed_from_snapshot']}) | "
              f"{row['ready_from_log_s']} ({row['replayed_from_log']}) | {row['snapshot_mb']} | "
              f"{row['snapshot_pause_max_s']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
