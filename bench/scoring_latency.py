"""Per-event apply+rescore latency and memory per relation of the scoring engine, beside a naive full recompute.

    .venv/bin/python bench/scoring_latency.py --sizes 10000 100000 1000000

For each size, in a fresh subprocess (so memory readings do not mix):
1. builds the graph with `Engine.load` (bulk: every event into the graph, then one rebuild of the caches) from
   `size` synthetic events (bench/synthetic.py), validated lazily so the events are never all held at once, and
   reports the load rate (events per second of `Engine.load`, schema validation excluded) and the rebuild time;
2. memory per relation = growth of the process's resident set during the load (graph and caches) / relations;
3. freezes the loaded objects out of the garbage collector (`gc.freeze()`, as the live worker does after
   recovery; `--automatic-collection none|young`: and leaves every collection, or the full ones, to the worker's
   periodic re-freeze, as `gc_automatic_collection` does in the worker, so none runs during the probe), applies
   `--probe` more events one by one and reports apply+rescore latency p50/p99/max (the live
   path), and the mean latency over the first and last halves of the probe;
4. times `Engine.recompute_all()` once: what a naive pipeline would pay per event if it rescored everything
   (`--no-naive` skips it).
With `--layer` the same runs through the entity-resolution layer (`ResolvingEngine`), as the worker does: its
bookkeeping is then part of the load rate, the memory and the latency.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(os.environ.get("COI_RISK_REPO", Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(REPO))

from bench.process import measure_in_child, peak_rss_bytes  # noqa: E402


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def freeze_as_the_worker(automatic: str) -> None:
    """Freeze the loaded state out of the collector's generations; with `automatic` other than "all", as the worker
    of this checkout does (`streams.collector.refreeze_heap`), which also stops the collector's own collections."""
    if automatic == "all":
        gc.freeze()
        return
    from streams.collector import refreeze_heap

    refreeze_heap(automatic)


def measure(size: int, probe: int, naive: bool, layer: bool, automatic: str = "all") -> dict:
    from bench.synthetic import generate_events
    from schemas import validate_event
    from scoring import Engine
    from scoring.resolution import ResolvingEngine

    engine = ResolvingEngine() if layer else Engine()
    events = generate_events(size + probe, seed=5)
    validating = [0.0]

    def validated(count: int):
        for _ in range(count):
            tick = time.perf_counter()
            event = validate_event(next(events))
            validating[0] += time.perf_counter() - tick
            yield event

    gc.collect()
    before = rss_bytes()
    started = time.perf_counter()
    engine.load(validated(size))
    load_seconds = time.perf_counter() - started - validating[0]
    gc.collect()
    memory = rss_bytes() - before
    stats = engine.stats()
    # as the live worker does after recovery (streams/app.py): the loaded state is long-lived, and leaving it in
    # the collector's generations makes every full collection walk it (a latency spike of its own)
    freeze_as_the_worker(automatic)

    probes = [validate_event(event) for event in events]
    latencies = []
    for event in probes:
        tick = time.perf_counter()
        engine.apply(event)
        latencies.append(time.perf_counter() - tick)
    half = len(latencies) // 2
    result = {
        "relations": engine.stats()["relations"], "nodes": engine.stats()["nodes"],
        "actors": stats["actors"], "pairs": stats["pairs"], "scored_pairs": stats["scored_pairs"],
        "load_events_per_second": round(size / load_seconds),
        "load_seconds": round(load_seconds, 1),
        "validation_seconds": round(validating[0], 1),
        "bytes_per_relation": round(memory / max(1, stats["relations"])),
        "apply_p50_ms": round(percentile(latencies, 0.50) * 1000, 3),
        "apply_p99_ms": round(percentile(latencies, 0.99) * 1000, 3),
        "apply_max_ms": round(max(latencies) * 1000, 3),
        "apply_mean_ms": round(sum(latencies) / len(latencies) * 1000, 3),
        "apply_mean_first_half_ms": round(sum(latencies[:half]) / max(1, half) * 1000, 3),
        "apply_mean_second_half_ms": round(sum(latencies[half:]) / max(1, len(latencies) - half) * 1000, 3),
        "probe_events": len(latencies),
    }
    if naive:
        tick = time.perf_counter()
        engine.recompute_all()
        result["naive_full_recompute_ms"] = round((time.perf_counter() - tick) * 1000, 1)
    result["peak_rss_mb"] = round(peak_rss_bytes() / 2**20)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--probe", type=int, default=2_000)
    parser.add_argument("--no-naive", action="store_true", help="skip the full recompute (slow at 1M)")
    parser.add_argument("--layer", action="store_true",
                        help="through the entity-resolution layer (scoring.resolution.ResolvingEngine), as the worker")
    parser.add_argument("--automatic-collection", choices=["none", "young", "all"], default="all",
                        help="after the load: what the collector does by itself (the worker's "
                             "gc_automatic_collection; none and young need this checkout or a later one)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: measure one size in this process
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.probe, not args.no_naive, args.layer, args.automatic_collection)))
        return 0
    rows = []
    for size in args.sizes:
        command = [sys.executable, __file__, "--one", str(size), "--probe", str(args.probe)]
        command += ["--no-naive"] * args.no_naive + ["--layer"] * args.layer
        command += ["--automatic-collection", args.automatic_collection]
        rows.append({"size": size, **measure_in_child(command)})
        print(json.dumps(rows[-1]), flush=True)
    print("\n| relations loaded | load ev/s | apply p50 ms | apply p99 ms | max ms | naive recompute ms "
          "| bytes/relation |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['size']:,} | {row['load_events_per_second']:,} | {row['apply_p50_ms']} | "
              f"{row['apply_p99_ms']} | {row['apply_max_ms']} | {row.get('naive_full_recompute_ms', '-')} | "
              f"{row['bytes_per_relation']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
