"""Restarts of the real worker from one snapshot, alternating between checkouts: how two versions of the snapshot
reader compare on a machine whose speed drifts between runs.

    .venv/bin/python bench/restart_pairs.py --events 1000000 --rounds 3 /tmp/base /work/main

One broker (started here, port 19741) and one bulk load: the events (bench/synthetic.py, seed 7) are written to a
JSON-lines file and `coi-risk load FILE` of the first checkout publishes them and writes the snapshot. Then, for
each round, a worker of each checkout in turn (its own code, `python -m streams.cli worker` in its directory) is
started against that snapshot and broker, timed to /ready 200, and killed with SIGKILL (a static group instance
id: the next worker takes the partition at once). Reported per start: time to ready, the worker's own "loaded
snapshot ... in N s" (reading, checking and unpickling it), its resident set when ready and its peak (VmHWM).
The checkouts must share the snapshot's format and code fingerprint (`scoring/`, `schemas/`) to use it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.synthetic import generate_events  # noqa: E402
from bench.worker_restart import rss_bytes, snapshot_load_seconds  # noqa: E402
from streams.testing import WorkerProcess, pipeline_settings  # noqa: E402


class CheckoutWorker(WorkerProcess):
    """The worker of another checkout: the same settings, its own code."""

    checkout: Path = REPO

    def start(self, wait_ready: bool = True) -> CheckoutWorker:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(self.command(), cwd=self.checkout, env=self.environment(), stdout=log,
                                        stderr=subprocess.STDOUT)
        if wait_ready:
            self.wait_ready()
        return self


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkouts", nargs="+", type=Path, help="directories of the checkouts, in the order run")
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--port", type=int, default=19741)
    args = parser.parse_args()
    from streams.broker import LocalBroker

    with tempfile.TemporaryDirectory(prefix="coi-bench-restart-pairs-") as directory:
        workdir = Path(directory)
        broker = LocalBroker(port=args.port, state_dir=workdir / "kafka")
        broker.start(timeout=120)
        try:
            settings = pipeline_settings(broker.bootstrap, workdir)
            register = workdir / "register.jsonl"
            with register.open("w") as out:
                for event in generate_events(args.events, seed=7):
                    out.write(json.dumps(event, separators=(",", ":")) + "\n")
            env = {"COI_SNAPSHOT_EVERY_EVENTS": str(10 * args.events), "COI_SNAPSHOT_EVERY_SECONDS": "36000",
                   "COI_GROUP_INSTANCE_ID": "bench-worker-0"}
            started = time.monotonic()
            subprocess.run([sys.executable, "-m", "streams.cli", "load", str(register), "--quiet"],
                           cwd=args.checkouts[0], check=True, env={**settings.child_environment(os.environ), **env})
            print(json.dumps({"load_s": round(time.monotonic() - started, 1), "by": str(args.checkouts[0])}),
                  flush=True)
            rows = []
            for round_number in range(args.rounds):
                for checkout in args.checkouts:
                    worker = CheckoutWorker(settings, workdir / f"worker-{round_number}-{checkout.name}.log",
                                            extra_env=env)
                    worker.checkout = checkout
                    started = time.monotonic()
                    worker.start(wait_ready=False)
                    worker.wait_ready(timeout=3600)
                    pid = worker.process.pid
                    rows.append({"round": round_number, "checkout": str(checkout),
                                 "ready_s": round(time.monotonic() - started, 1),
                                 "loading_s": snapshot_load_seconds(worker.log_path),
                                 "rss_mb": rss_bytes(pid) >> 20, "peak_rss_mb": rss_bytes(pid, "VmHWM:") >> 20})
                    print(json.dumps(rows[-1]), flush=True)
                    worker.stop(hard=True)
        finally:
            broker.stop()
    print("\n| round | checkout | ready s | of it loading the snapshot s | RSS MB | peak RSS MB |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['round'] + 1} | {row['checkout']} | {row['ready_s']} | {row['loading_s']} | {row['rss_mb']} | "
              f"{row['peak_rss_mb']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
