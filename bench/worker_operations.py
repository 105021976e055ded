"""Operating figures of one worker on the real broker: readiness after kill -9, and the probes under data load.

    .venv/bin/python bench/worker_operations.py --relations 20000

1. Restart after kill -9: for each consumer setting (Faust's 60 s session timeout, the 10 s default, static
   membership), a worker on a fresh group is made ready, killed with SIGKILL 3 s later and restarted; the figure is
   the time from the restart to /ready = 200 (recovery of an empty topic included, so it is mostly the group).
2. HTTP under load: a worker that has scored `--relations` synthetic relations (bench/synthetic.py) gets
   `--parallel` concurrent `GET /scores/top?limit=500` while /healthz is requested in a loop; reports the
   /healthz latencies and how the data requests were answered (200, or 429 when every render slot is busy).

Starts its own broker on --port (default 19396) unless --bootstrap or KAFKA_BOOTSTRAP_SERVERS is given.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.pipeline_throughput import produce  # noqa: E402
from bench.synthetic import generate_events  # noqa: E402
from streams.config import load_settings  # noqa: E402
from streams.testing import WorkerProcess, http_get, pipeline_settings  # noqa: E402
from streams.topics import ensure_topics  # noqa: E402

RESTART_CASES = (("session_timeout_seconds=60 (Faust's default)", {"session_timeout_seconds": 60}),
                 ("session_timeout_seconds=10 (default)", {}),
                 ("group_instance_id=worker-0 (static membership)", {"group_instance_id": "worker-0"}))


def _settings(bootstrap: str, workdir: Path, **overrides):
    return load_settings(environ={}, **{**pipeline_settings(bootstrap, workdir).model_dump(), **overrides})


def restart_after_kill(bootstrap: str, workdir: Path) -> dict[str, float]:
    figures = {}
    for label, overrides in RESTART_CASES:
        case_dir = Path(tempfile.mkdtemp(dir=workdir))
        settings = _settings(bootstrap, case_dir, **overrides)
        ensure_topics(settings)
        worker = WorkerProcess(settings, case_dir / "worker.log").start()
        try:
            time.sleep(3)
            worker.stop(hard=True)
            started = time.monotonic()
            worker.start()
            figures[label] = time.monotonic() - started
        finally:
            worker.stop()
        print(f"restart after kill -9, {label}: ready in {figures[label]:.1f} s", flush=True)
    return figures


def probes_under_load(bootstrap: str, workdir: Path, relations: int, parallel: int, renders: int) -> dict:
    settings = _settings(bootstrap, workdir, web_max_concurrent_renders=renders)
    ensure_topics(settings)
    worker = WorkerProcess(settings, workdir / "load-worker.log").start()
    try:
        events = list(generate_events(relations))
        produce(settings, events)
        deadline = time.monotonic() + 900
        while worker.metric("coi_events_consumed_total") < len(events):
            assert time.monotonic() < deadline, "the worker did not consume the events"
            time.sleep(1)
        scores = len(worker.json("/scores/top?limit=500")["scores"])
        done = threading.Event()
        health: list[float] = []

        def poll_health():
            while not done.is_set():
                started = time.perf_counter()
                status, _ = http_get(worker.base_url + "/healthz", timeout=60)
                health.append(time.perf_counter() - started)
                assert status == 200

        def fetch_top(_):
            started = time.perf_counter()
            status, _ = http_get(worker.base_url + "/scores/top?limit=500", timeout=120)
            return status, time.perf_counter() - started

        poller = threading.Thread(target=poll_health)
        poller.start()
        with ThreadPoolExecutor(parallel) as pool:
            answers = list(pool.map(fetch_top, range(parallel)))
        done.set()
        poller.join()
    finally:
        worker.stop()
    result = {"relations": relations, "scores_on_top_page": scores, "parallel": parallel, "render_slots": renders,
              "healthz_requests": len(health), "healthz_median_ms": round(statistics.median(health) * 1000, 1),
              "healthz_max_ms": round(max(health) * 1000, 1),
              "top_statuses": dict(Counter(status for status, _ in answers)),
              "top_max_s": round(max(seconds for _, seconds in answers), 2)}
    print(json.dumps(result), flush=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS"))
    parser.add_argument("--port", type=int, default=19396)
    parser.add_argument("--relations", type=int, default=20000)
    parser.add_argument("--parallel", type=int, default=50)
    parser.add_argument("--renders", type=int, nargs="+", default=[1], help="web_max_concurrent_renders to try")
    parser.add_argument("--skip-restart", action="store_true")
    args = parser.parse_args()
    from streams.broker import LocalBroker

    workdir = Path(tempfile.mkdtemp(prefix="coi-ops-bench-"))
    broker = None
    if not args.bootstrap:
        broker = LocalBroker(port=args.port, state_dir=workdir / "kafka")
        broker.start()
        args.bootstrap = broker.bootstrap
    try:
        if not args.skip_restart:
            restart_after_kill(args.bootstrap, workdir)
        for renders in args.renders:
            probes_under_load(args.bootstrap, workdir, args.relations, args.parallel, renders)
    finally:
        if broker is not None:
            broker.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
