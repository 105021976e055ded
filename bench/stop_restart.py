"""A clean stop and restart of the real worker (a rolling restart), with and without the snapshot at stop.

    .venv/bin/python bench/stop_restart.py --events 100000 --every 60000

For each way (`snapshot_at_stop` false, the behaviour before it existed, then true), on fresh topics: publishes N
synthetic events (bench/synthetic.py, seed 7); a worker with a snapshot every `--every` events processes them all
(so its last periodic snapshot lies `N - every` events before the end); SIGTERM, timed to the process's exit; the
worker is started again and timed to /ready 200, with the events its catch-up replayed. Both ways run in one
process, one after the other, on the same broker. Starts its own broker on port 19393 unless --bootstrap or
KAFKA_BOOTSTRAP_SERVERS is given.

With --load (a national register): `coi-risk load` bulk-loads N events into a snapshot once; then, on the same
topics, each way in turn: the worker starts (from the newest snapshot), `--tail` more events are published and
processed live, SIGTERM (timed), and the worker is started again (timed to ready, with the events it replayed).
The first way's restart replays its tail from the load's snapshot; the second's stop writes one.
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

from bench.broker import bootstrap_or_local_broker  # noqa: E402
from bench.pipeline_throughput import produce  # noqa: E402
from bench.synthetic import generate_events  # noqa: E402
from bench.worker_restart import timed_start, wait_for  # noqa: E402
from streams.testing import WorkerProcess, pipeline_settings  # noqa: E402


def run(bootstrap: str, events: int, every: int, at_stop: bool, workdir: Path) -> dict:
    from streams.recovery import committed_offsets
    from streams.topics import ensure_topics

    workdir.mkdir(parents=True, exist_ok=True)
    settings = pipeline_settings(bootstrap, workdir)
    settings = settings.model_copy(update={"snapshot_every_events": every, "snapshot_every_seconds": 36000.0})
    ensure_topics(settings)
    produce(settings, list(generate_events(events, seed=7)))
    env = {"COI_SNAPSHOT_EVERY_EVENTS": str(every), "COI_SNAPSHOT_EVERY_SECONDS": "36000",
           "COI_SNAPSHOT_AT_STOP": "true" if at_stop else "false", "COI_SNAPSHOT_AT_STOP_SECONDS": "120"}
    worker = WorkerProcess(settings, workdir / "worker.log", extra_env=env)
    worker.start()
    wait_for(lambda: worker.metric("coi_events_consumed_total") >= events, timeout=7200, what="all processed")
    wait_for(lambda: committed_offsets(settings).get(0, 0) >= events, timeout=60, what="all committed")
    time.sleep(2.0)  # a periodic snapshot's writer has finished
    started = time.monotonic()
    worker.stop(timeout=600)
    result = {"snapshot_at_stop": at_stop, "events": events, "every": every,
              "stop_s": round(time.monotonic() - started, 2), "exit_code": worker.process.returncode,
              "committed_after_stop": committed_offsets(settings).get(0, 0)}
    result.update(restarted(worker, settings))
    return result


def restarted(worker: WorkerProcess, settings) -> dict:
    """The snapshots a stopped worker left, then its start again: time to ready, events replayed, messages
    published (none expected); the worker is stopped again."""
    snapshots = sorted(settings.snapshot_path.glob("snapshot-*"))
    result = {"snapshots": len(snapshots),
              "newest_snapshot_mb": round(snapshots[-1].stat().st_size / 2**20, 1) if snapshots else None,
              "ready_after_restart_s": round(timed_start(worker), 1),
              "replayed_after_restart": int(worker.metric("coi_recovered_events_total")),
              "published_after_restart": int(sum(
                  worker.metric("coi_published_total", topic=topic)
                  for topic in (settings.scores_topic, settings.alerts_topic, settings.dead_letter_topic)))}
    worker.stop()
    return result


def run_loaded(bootstrap: str, events: int, tail: int, workdir: Path) -> list[dict]:
    import subprocess

    workdir.mkdir(parents=True, exist_ok=True)
    settings = pipeline_settings(bootstrap, workdir)
    register = workdir / "register.jsonl"
    generated = generate_events(events + 2 * tail, seed=7)
    with register.open("w") as out:
        for _ in range(events):
            out.write(json.dumps(next(generated), separators=(",", ":")) + "\n")
    tails = [[next(generated) for _ in range(tail)] for _ in range(2)]
    env = {"COI_SNAPSHOT_EVERY_EVENTS": str(10 * events), "COI_SNAPSHOT_EVERY_SECONDS": "36000",
           "COI_GROUP_INSTANCE_ID": "bench-worker-0", "COI_SNAPSHOT_AT_STOP_SECONDS": "300"}
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "streams.cli", "load", str(register), "--quiet"], cwd=REPO, check=True,
                   env={**settings.child_environment(os.environ), **env})
    print(json.dumps({"events": events, "load_s": round(time.monotonic() - started, 1)}), flush=True)
    rows, consumed = [], events
    for at_stop, more in zip((False, True), tails):
        worker = WorkerProcess(settings, workdir / f"worker-{at_stop}.log",
                               extra_env={**env, "COI_SNAPSHOT_AT_STOP": "true" if at_stop else "false"})
        worker.start()
        produce(settings, more)
        consumed += len(more)
        wait_for(lambda: worker.metric("coi_events_consumed_total") >= len(more), timeout=7200, what="tail processed")
        time.sleep(2.0)
        started = time.monotonic()
        worker.stop(timeout=900)
        row = {"snapshot_at_stop": at_stop, "events": consumed, "stop_s": round(time.monotonic() - started, 2),
               "exit_code": worker.process.returncode, **restarted(worker, settings)}
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--every", type=int, default=60_000, help="snapshot_every_events of the worker")
    parser.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS"))
    parser.add_argument("--port", type=int, default=19393, help="port of the broker this benchmark starts")
    parser.add_argument("--load", action="store_true", help="bulk-load --events with `coi-risk load` first")
    parser.add_argument("--tail", type=int, default=10_000, help="with --load: events processed live in each way")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="coi-bench-stop-") as directory:
        workdir = Path(directory)
        with bootstrap_or_local_broker(args.bootstrap, args.port, workdir / "kafka") as bootstrap:
            if args.load:
                rows = run_loaded(bootstrap, args.events, args.tail, workdir / "loaded")
            else:
                for at_stop in (False, True):
                    rows.append(run(bootstrap, args.events, args.every, at_stop, workdir / f"at-stop-{at_stop}"))
                    print(json.dumps(rows[-1]), flush=True)
    print("\n| snapshot_at_stop | SIGTERM to exit s (exit code) | snapshots after the stop (newest MB) | ready after "
          "the restart s | events replayed | published by the restart |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {str(row['snapshot_at_stop']).lower()} | {row['stop_s']} ({row['exit_code']}) | {row['snapshots']} "
              f"({row['newest_snapshot_mb']}) | {row['ready_after_restart_s']} | {row['replayed_after_restart']:,} | "
              f"{row['published_after_restart']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
