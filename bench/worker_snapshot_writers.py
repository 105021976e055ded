"""The real worker writing snapshots while events arrive: by a forked child, and without room to fork, by itself in
a thread while the stream waits (streams/memory.py, `snapshot_without_fork_room`).

    .venv/bin/python bench/worker_snapshot_writers.py --events 1000000 --live 3000

`coi-risk load` brings N synthetic events (bench/synthetic.py, seed 7) into a snapshot; a worker starts from it
and `--live` more events are published at `--rate` per second, with a snapshot due halfway (a forked child writes
it). Then the worker is stopped and started again with forks capped at 1 MB of private memory
(`COI_SNAPSHOT_FORK_MAX_PRIVATE_MB`: no room to fork, so a thread writes), and `--live` more events arrive the
same way. For each run: how long the stream paused for
its snapshots (the worker's log lines), how many times the group rebalanced meanwhile (assignments after the
first), whether every event was committed, and the largest end-to-end latency from append to publication
(`coi_end_to_end_latency_seconds{clock="append_time"}`: an upper bucket bound). Starts its own broker on port
19393 unless --bootstrap or KAFKA_BOOTSTRAP_SERVERS is given.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.broker import bootstrap_or_local_broker  # noqa: E402
from bench.pipeline_throughput import produce  # noqa: E402
from bench.synthetic import generate_events  # noqa: E402
from bench.worker_restart import rss_bytes, timed_start, wait_for  # noqa: E402
from streams.testing import WorkerProcess, pipeline_settings  # noqa: E402

NO_FORK = {"COI_SNAPSHOT_FORK_MAX_PRIVATE_MB": "1"}  # no fork whatever is left: a thread writes


def run(bootstrap: str, events: int, live: int, rate: float, workdir: Path) -> dict:
    from streams.recovery import committed_offsets

    workdir.mkdir(parents=True, exist_ok=True)
    settings = pipeline_settings(bootstrap, workdir)
    generated = list(generate_events(events + 2 * live, seed=7))
    register = workdir / "register.jsonl"
    with register.open("w") as out:
        for event in generated[:events]:
            out.write(json.dumps(event, separators=(",", ":")) + "\n")
    env = {"COI_SNAPSHOT_EVERY_EVENTS": str(max(1, live // 2)), "COI_SNAPSHOT_EVERY_SECONDS": "36000",
           "COI_GROUP_INSTANCE_ID": "bench-worker-0"}
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "streams.cli", "load", str(register), "--quiet"], cwd=REPO, check=True,
                   env={**settings.child_environment(os.environ), **env})
    result: dict = {"events": events, "live": live, "rate": rate, "load_s": round(time.monotonic() - started, 1)}
    done = events
    for writer, extra in (("child", {}), ("thread", NO_FORK)):
        log = workdir / f"worker-{writer}.log"
        worker = WorkerProcess(settings, log, extra_env={**env, **extra})
        row = {"ready_s": round(timed_start(worker), 1), "rss_mb": round(rss_bytes(worker.process.pid) / 2**20)}
        batch = generated[done:done + live]
        done += live
        produce(settings, batch, pace_per_second=rate)
        wait_for(lambda: committed_offsets(settings).get(0, 0) >= done, 600, f"{writer}: every event committed")
        # a child may still be writing: its snapshot counts once written
        wait_for(lambda: worker.metric("coi_snapshots_written_total", writer=writer) >= 1, 600,
                 f"{writer}: a snapshot written")
        time.sleep(2.0)
        row["snapshots"] = int(worker.metric("coi_snapshots_written_total", writer=writer))
        row["peak_rss_mb"] = round(rss_bytes(worker.process.pid, "VmHWM:") / 2**20)
        row["max_append_to_publish_s"] = _largest_bucket(worker, "coi_end_to_end_latency_seconds",
                                                         clock="append_time")
        worker.stop()
        text = log.read_text(errors="replace")
        row["pauses_s"] = [float(p) for p in re.findall(r"(?:while the stream waited|paused the stream) ([0-9.]+)s",
                                                        text)]
        row["rebalances"] = max(0, len(re.findall(r"assigned input partitions", text)) - 1)
        # what the worker and its Kafka client said of the group, to tell what caused a rebalance
        row["group_log"] = [line[:240] for line in text.splitlines()
                            if re.search(r"assigned input partitions|revoked|[Hh]eartbeat|[Rr]ebalanc|snapshot", line)
                            ][:20]
        row["committed_all"] = committed_offsets(settings).get(0, 0) >= done
        result[writer] = row
    return result


def _largest_bucket(worker: WorkerProcess, name: str, **labels: str) -> float | None:
    """The smallest upper bound `le` that holds every observation of a histogram (None: none observed)."""
    from prometheus_client.parser import text_string_to_metric_families

    from streams.testing import http_get

    _, body = http_get(worker.base_url + "/metrics")
    buckets = []
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            if sample.name == f"{name}_bucket" and all(sample.labels.get(k) == v for k, v in labels.items()):
                buckets.append((float(sample.labels["le"]), sample.value))
    buckets.sort()
    total = buckets[-1][1] if buckets else 0
    return next((bound for bound, count in buckets if count >= total), None) if total else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--live", type=int, default=3_000)
    parser.add_argument("--rate", type=float, default=200.0, help="live events per second")
    parser.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS"))
    parser.add_argument("--port", type=int, default=19393)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="coi-bench-writers-") as directory:
        workdir = Path(directory)
        with bootstrap_or_local_broker(args.bootstrap, args.port, workdir / "kafka") as bootstrap:
            print(json.dumps(run(bootstrap, args.events, args.live, args.rate, workdir / "run")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
