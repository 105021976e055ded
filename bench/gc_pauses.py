"""Garbage-collector pauses of the worker's live path, with and without re-freezing the heap periodically, and
with what the collector may do by itself between re-freezes.

    .venv/bin/python bench/gc_pauses.py --recovered 100000 --live 100000 --refreeze-every 0 20000
    .venv/bin/python bench/gc_pauses.py --recovered 50000 --live 20000 --refreeze-every 10000 \
        --automatic-collection all young none --rounds 2

In a fresh subprocess per setting: `--recovered` synthetic events (bench/synthetic.py, seed 7) go through
`EventProcessor.process(record, publish=False)` (the worker's catch-up), then `gc.collect(); gc.freeze()` as
the worker does once caught up; then `--live` more events through `process(record)` (rendering outputs, as the
live path does), timing every collection with `gc.callbacks`. `--refreeze-every N` calls
`streams.collector.refreeze_heap()` every N live events (0: never, the behaviour before issue 13).
`--automatic-collection` is the worker's `gc_automatic_collection` (`streams.collector.refreeze_heap`): `young`
(its default since the ninth round of issue 13: automatic young collections, the oldest generation at the
re-freeze only), `none` (only the re-freezes collect), `all` (Python's own schedule, as before).
`--rounds` repeats the settings in turn (the machine's speed drifts).
Prints one JSON line per setting: the collections per generation, the longest and total pause, the live rate, and
the slowest live events (with the collector's share of each).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(os.environ.get("COI_RISK_REPO", Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(REPO))


def run(recovered: int, live: int, refreeze_every: int, automatic: str) -> dict:
    from bench.synthetic import generate_events
    from scoring import AlertTracker, Engine, ScoringConfig
    from streams.collector import refreeze_heap
    from streams.processor import EventProcessor, InputRecord

    config = ScoringConfig.load()
    processor = EventProcessor(Engine(config), AlertTracker(config))
    records = [InputRecord(value=json.dumps(event, separators=(",", ":")).encode(),
                           key=event["relation_id"].encode(), topic="events", partition=0, offset=offset)
               for offset, event in enumerate(generate_events(recovered + live))]
    if not refreeze_every:
        automatic = "all"  # as the worker: nothing else would collect
    for record in records[:recovered]:
        processor.process(record, publish=False)
    refreeze_heap(automatic)  # as the worker does once caught up

    pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}
    started_at: list[float] = []

    in_events = [0.0]  # seconds of collections inside the current event

    def timer(phase, info):
        if phase == "start":
            started_at.append(time.perf_counter())
        else:
            pause = time.perf_counter() - started_at.pop()
            pauses[info["generation"]].append(pause)
            in_events[0] += pause

    refreezes: list[float] = []
    events: list[tuple[float, float]] = []  # (seconds, of them in the collector) per live event
    gc.callbacks.append(timer)
    started = time.perf_counter()
    for index, record in enumerate(records[recovered:], 1):
        in_events[0] = 0.0
        begun = time.perf_counter()
        processor.process(record)
        events.append((time.perf_counter() - begun, in_events[0]))
        if refreeze_every and index % refreeze_every == 0:
            begun = time.perf_counter()
            refreeze_heap(automatic)
            refreezes.append(time.perf_counter() - begun)
    elapsed = time.perf_counter() - started
    gc.callbacks.remove(timer)
    times = sorted(seconds for seconds, _ in events)
    slowest = sorted(events, reverse=True)[:5]
    return {"recovered": recovered, "live": live, "refreeze_every": refreeze_every,
            "automatic_collection": automatic,
            "live_rate": round(live / elapsed),
            "event_ms": {"p50": round(times[len(times) // 2] * 1000, 3),
                         "p99": round(times[int(0.99 * len(times))] * 1000, 2),
                         "max": round(times[-1] * 1000, 1), "mean": round(sum(times) / len(times) * 1000, 3)},
            "slowest_ms_of_them_collector": [[round(a * 1000, 1), round(b * 1000, 1)] for a, b in slowest],
            "collections": {str(g): len(p) for g, p in pauses.items()},
            "max_pause_ms": {str(g): round(max(p, default=0) * 1000, 2) for g, p in pauses.items()},
            "total_pause_ms": {str(g): round(sum(p) * 1000, 1) for g, p in pauses.items()},
            "refreeze_max_ms": round(max(refreezes, default=0) * 1000, 2),
            "frozen_objects": gc.get_freeze_count()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recovered", type=int, default=100_000)
    parser.add_argument("--live", type=int, default=100_000)
    parser.add_argument("--refreeze-every", type=int, nargs="+", default=[0, 20_000])
    parser.add_argument("--automatic-collection", nargs="+", choices=["none", "young", "all"], default=["all"])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # the subprocess: one setting
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(run(args.recovered, args.live, args.one, args.automatic_collection[0])), flush=True)
        return
    for _ in range(args.rounds):
        for every in args.refreeze_every:
            for automatic in args.automatic_collection:
                subprocess.run([sys.executable, __file__, "--recovered", str(args.recovered), "--live",
                                str(args.live), "--automatic-collection", automatic, "--one", str(every)],
                               check=True)


if __name__ == "__main__":
    main()
