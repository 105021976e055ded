"""Time to ready of the real worker after a restart: from its snapshot against from the input log.

    .venv/bin/python bench/worker_restart.py --events 20000

1. Publishes N synthetic events (bench/synthetic.py) to fresh topics; a worker (snapshot every N events)
   processes them all, writes its snapshot at the end, and is stopped (SIGTERM: it leaves the group).
2. From snapshot: the worker is started again; time from process start to /ready 200 (Python and Faust start-up,
   joining the group, loading and checking the snapshot, replaying the tail after it).
3. From log: started again with snapshots disabled; time to /ready (the whole log replayed without publishing).

With --load (how a national register is brought in): the events are written to a JSON-lines file and
`coi-risk load FILE` publishes them and bulk-loads the log into a snapshot (its time and peak RSS are reported);
the worker starts from that snapshot (time to ready), is killed with SIGKILL, and is started again (time to
ready after kill -9; the worker has a static group_instance_id). `--skip-log` leaves out the from-log start (at 1M events it replays for a long time).
Starts its own broker on port 19392 unless --bootstrap or KAFKA_BOOTSTRAP_SERVERS is given.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.broker import bootstrap_or_local_broker  # noqa: E402
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

    result.update(start_from_log(settings, workdir, env))
    return result


def start_from_log(settings, workdir: Path, env: dict[str, str]) -> dict:
    """Time to ready with snapshots disabled: the whole log replayed without publishing."""
    from_log = WorkerProcess(settings, workdir / "worker-from-log.log",
                             extra_env={**env, "COI_SNAPSHOTS_ENABLED": "false"})
    try:
        return {"ready_from_log_s": round(timed_start(from_log), 1),
                "replayed_from_log": int(from_log.metric("coi_recovered_events_total"))}
    finally:
        from_log.stop()


def run_loaded(bootstrap: str, events: int, workdir: Path, skip_log: bool) -> dict:
    """The operator's path for a large register: `coi-risk load FILE`, then the worker from its snapshot."""
    import resource
    import subprocess

    from streams.recovery import committed_offsets

    workdir.mkdir(parents=True, exist_ok=True)
    settings = pipeline_settings(bootstrap, workdir)
    register = workdir / "register.jsonl"
    with register.open("w") as out:
        for event in generate_events(events, seed=7):
            out.write(json.dumps(event, separators=(",", ":")) + "\n")
    # static membership, as docs/streaming.md advises: the restarted worker takes its partition back at once instead
    # of waiting out the killed member's session
    env = {"COI_SNAPSHOT_EVERY_EVENTS": str(10 * events), "COI_SNAPSHOT_EVERY_SECONDS": "36000",
           "COI_GROUP_INSTANCE_ID": "bench-worker-0"}
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "streams.cli", "load", str(register), "--quiet"], cwd=REPO, check=True,
                   env={**settings.child_environment(os.environ), **env})
    result = {"events": events, "load_s": round(time.monotonic() - started, 1),
              "load_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)}
    snapshot = max(settings.snapshot_path.glob("snapshot-*"))
    result["snapshot_mb"] = round(snapshot.stat().st_size / 2**20, 1)
    worker = WorkerProcess(settings, workdir / "worker.log", extra_env=env)
    result["ready_from_load_snapshot_s"] = round(timed_start(worker), 1)
    result["snapshot_load_s"] = snapshot_load_seconds(workdir / "worker.log")
    result["replayed_from_snapshot"] = int(worker.metric("coi_recovered_events_total"))
    result["worker_rss_mb"] = round(rss_bytes(worker.process.pid) / 2**20)
    result["worker_peak_rss_mb"] = round(rss_bytes(worker.process.pid, "VmHWM:") / 2**20)  # loading the snapshot
    committed = committed_offsets(settings).get(0, 0)
    worker.stop(hard=True)
    result["ready_after_kill9_s"] = round(timed_start(worker), 1)
    result["snapshot_load_after_kill9_s"] = snapshot_load_seconds(workdir / "worker.log")
    result["replayed_after_kill9"] = int(worker.metric("coi_recovered_events_total"))
    result["peak_rss_after_kill9_mb"] = round(rss_bytes(worker.process.pid, "VmHWM:") / 2**20)
    result["committed_before_kill"] = committed
    worker.stop()
    if not skip_log:
        result.update(start_from_log(settings, workdir, env))
    return result


def snapshot_load_seconds(log: Path) -> float | None:
    """The newest "loaded snapshot ... in N s" of a worker log (reading, checking and unpickling; since
    2026-12-03 followed by how much of it came after the first assignment, which the load now overlaps)."""
    found = None
    for line in log.read_text(errors="replace").splitlines():
        match = re.search(r"loaded snapshot .* in ([0-9.]+)s", line)
        if match:
            found = float(match.group(1))
    return found


def rss_bytes(pid: int, field: str = "VmRSS:") -> int:
    """The process's resident set now, or with field="VmHWM:" the highest it has been."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1]) * 1024
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, nargs="+", default=[20_000])
    parser.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS"))
    parser.add_argument("--load", action="store_true", help="bulk-load with `coi-risk load`, then kill -9 and restart")
    parser.add_argument("--skip-log", action="store_true", help="with --load: no start from the log")
    parser.add_argument("--port", type=int, default=19392, help="port of the broker this benchmark starts")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="coi-bench-restart-") as directory:
        workdir = Path(directory)
        with bootstrap_or_local_broker(args.bootstrap, args.port, workdir / "kafka") as bootstrap:
            rows = []
            for count in args.events:
                if args.load:
                    rows.append(run_loaded(bootstrap, count, workdir / f"run-{count}", args.skip_log))
                else:
                    rows.append(run(bootstrap, count, workdir / f"run-{count}"))
                print(json.dumps(rows[-1]), flush=True)
    if args.load:
        print("\n| events | coi-risk load s (peak RSS MB) | snapshot MB | ready from its snapshot s (of it loading "
              "the snapshot) | worker RSS MB (peak) | ready after kill -9 s (loading; events replayed) | ready from log s |")
        print("|---|---|---|---|---|---|---|")
        for row in rows:
            print(f"| {row['events']:,} | {row['load_s']} ({row['load_peak_rss_mb']}) | {row['snapshot_mb']} | "
                  f"{row['ready_from_load_snapshot_s']} ({row['snapshot_load_s']}) | {row['worker_rss_mb']} ({row.get('worker_peak_rss_mb', '-')}) | "
                  f"{row['ready_after_kill9_s']} ({row['snapshot_load_after_kill9_s']}; {row['replayed_after_kill9']})"
                  f" | {row.get('ready_from_log_s', 'not run')} |")
        return 0
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
