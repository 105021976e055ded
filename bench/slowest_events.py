"""Which live events cost the most, and why: the tail of the apply latency, event by event.

    .venv/bin/python bench/slowest_events.py --size 200000 --probe 2000
    .venv/bin/python bench/slowest_events.py --size 200000 --profile 40   # with where the time goes (cProfile)
    .venv/bin/python bench/slowest_events.py --size 200000 --recomputes   # and how much recomputing moved nothing
    .venv/bin/python bench/slowest_events.py --size 200000 --automatic-collection none   # the worker's collector

Loads `size` synthetic events (bench/synthetic.py, seed 5, as bench/scoring_latency.py) with `Engine.load`, freezes
them out of the collector, applies `probe` more one by one, and lists the slowest with what the engine did for
each: edges and adjacency lists visited, computations recomputed by stage, score changes (and the time the cyclic
collector took inside `apply`).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import sys
import time
from pathlib import Path

REPO = Path(os.environ.get("COI_RISK_REPO", Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(REPO))


def _tally(rows: list[tuple]) -> None:
    """Where the live time goes: by latency bucket, and by relation type."""
    total = sum(row[0] for row in rows) or 1.0
    print("| latency | events | share of the time |\n|---|---|---|")
    for low, high in ((0, 0.5), (0.5, 2), (2, 5), (5, 20), (20, 100), (100, float("inf"))):
        chosen = [row[0] for row in rows if low <= row[0] * 1000 < high]
        print(f"| {low}-{high} ms | {len(chosen)} | {sum(chosen) / total:.1%} |")
    by_type: dict[str, list[float]] = {}
    for row in rows:
        by_type.setdefault(row[1], []).append(row[0])
    print("\n| relation type | events | share of the time | mean ms |\n|---|---|---|---|")
    for kind, times in sorted(by_type.items(), key=lambda item: -sum(item[1])):
        print(f"| {kind} | {len(times)} | {sum(times) / total:.1%} | {sum(times) / len(times) * 1000:.2f} |")
    print()


def _count_recomputes() -> dict[tuple[str, bool], int]:
    """(kind, whether the result changed) -> how many held results the live events recomputed: spheres, what
    counterparties own, groups (`CacheStore.recompute`), and the shared per-node results whose reads moved
    (`CacheStore.refresh_read`). An unchanged result was work that moved nothing."""
    from scoring.caches import CacheStore, KINDS

    outcomes: dict[tuple[str, bool], int] = {}
    recompute, refresh_read = CacheStore.recompute, CacheStore.refresh_read

    def count(kind, changed: bool) -> None:
        outcome = (kind.name.lower(), changed)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1

    def counted_recompute(store, kind, key):
        result = recompute(store, kind, key)
        if result is not None:
            count(kind, result[0] != result[1])
        return result

    def counted_refresh_read(store, dirty):
        read_kinds = {kind for kind, spec in KINDS.items() if spec.read_table is not None}
        before = {key: store.get(*key) for key in dirty if key[0] in read_kinds and store.get(*key) is not None}
        visits = refresh_read(store, dirty)
        for (kind, node), held in before.items():
            after = store.get(kind, node)
            if after is not None:  # (else dropped: no reader left)
                count(kind, after is not held and after != held)
        return visits

    CacheStore.recompute, CacheStore.refresh_read = counted_recompute, counted_refresh_read
    return outcomes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=200_000)
    parser.add_argument("--probe", type=int, default=2_000)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="also profile the live events (cProfile) and print the N costliest functions")
    parser.add_argument("--automatic-collection", choices=["none", "young", "all"], default="all",
                        help="after the load: what the collector does by itself (the worker's "
                             "gc_automatic_collection; it collects nothing during the probe with none)")
    parser.add_argument("--recomputes", action="store_true",
                        help="also count the held results recomputed, changed or not (adds to the times)")
    args = parser.parse_args()

    from bench.synthetic import generate_events
    from schemas import validate_event
    from scoring import Engine

    events = generate_events(args.size + args.probe, seed=5)
    engine = Engine()
    engine.load(validate_event(next(events)) for _ in range(args.size))
    if args.automatic_collection != "all":  # as the worker of this checkout does
        from streams.collector import refreeze_heap

        refreeze_heap(args.automatic_collection)
    else:
        gc.collect()
        gc.freeze()
    rows = []
    profiler = cProfile.Profile() if args.profile else None
    # seconds in the cyclic collector during `apply`, its collections, when the current one started, whether an
    # apply is under way (collections while the next event is parsed are not counted)
    collector = [0.0, 0, 0.0, False]

    def timed(phase: str, _info: dict) -> None:
        if phase == "start":
            collector[2] = time.perf_counter()
        elif collector[3]:
            collector[0] += time.perf_counter() - collector[2]
            collector[1] += 1

    gc.callbacks.append(timed)
    outcomes = _count_recomputes() if args.recomputes else {}
    for event in (validate_event(raw) for raw in events):
        if profiler is not None:
            profiler.enable()
        collector[3] = True
        collected_before = collector[0]
        started = time.perf_counter()
        changes = engine.apply(event)
        elapsed = time.perf_counter() - started
        collector[3] = False
        collected = collector[0] - collected_before
        if profiler is not None:
            profiler.disable()
        last = engine.stats()
        causes = {k: v for k, v in engine._last.get("causes", {}).items() if v}
        rows.append((elapsed, event.relation_type.value, event.source.id, event.target.id, last["last_visits"],
                     last["last_recomputed"], len(changes), causes, collected))
    _tally(rows)
    if outcomes:
        print("| recomputed held results of kind | changed | unchanged |\n|---|---|---|")
        for kind in sorted({kind for kind, _ in outcomes}):
            print(f"| {kind} | {outcomes.get((kind, True), 0)} | {outcomes.get((kind, False), 0)} |")
        print()
    rows.sort(key=lambda row: row[0], reverse=True)
    latencies = sorted(row[0] for row in rows)
    print(f"{len(rows)} events after {args.size:,}: p50 {latencies[len(rows) // 2] * 1000:.2f} ms, "
          f"p99 {latencies[int(0.99 * len(rows))] * 1000:.2f} ms, max {latencies[-1] * 1000:.1f} ms, "
          f"mean {sum(latencies) / len(rows) * 1000:.3f} ms; cyclic collector {collector[0] * 1000:.0f} ms of "
          f"{sum(latencies) * 1000:.0f} ms ({collector[1]} collections)\n")
    print("| ms | of it in the collector ms | relation | source -> target | visits | pairs recomputed (by cause) | "
          "score changes |")
    print("|---|---|---|---|---|---|---|")
    for elapsed, kind, source, target, visits, recomputed, changed, causes, collected in rows[:args.top]:
        print(f"| {elapsed * 1000:.1f} | {collected * 1000:.1f} | {kind} | {source} -> {target} | {visits:,} | "
              f"{recomputed} {causes} | {changed} |")
    if profiler is not None:
        print()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(args.profile)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
