"""Garbage-collector pauses of the worker's live path, with and without re-freezing the heap periodically.

    .venv/bin/python bench/gc_pauses.py --recovered 100000 --live 100000 --refreeze-every 0 20000

In a fresh subprocess per setting: `--recovered` synthetic events (bench/synthetic.py, seed 7) go through
`EventProcessor.process(record, publish=False)` (the worker's catch-up), then `gc.collect(); gc.freeze()` as
the worker does once caught up; then `--live` more events through `process(record)` (rendering outputs, as the
live path does), timing every collection with `gc.callbacks`. `--refreeze-every N` calls
`streams.app.refreeze_heap()` every N live events (0: never, the behaviour before issue 13).
Prints one JSON line per setting: the collections per generation, the longest and total pause, and the live rate.
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


def run(recovered: int, live: int, refreeze_every: int) -> dict:
    from bench.synthetic import generate_events
    from scoring import AlertTracker, Engine, ScoringConfig
    from streams.app import refreeze_heap
    from streams.processor import EventProcessor, InputRecord

    config = ScoringConfig.load()
    processor = EventProcessor(Engine(config), AlertTracker(config))
    records = [InputRecord(value=json.dumps(event, separators=(",", ":")).encode(),
                           key=event["relation_id"].encode(), topic="events", partition=0, offset=offset)
               for offset, event in enumerate(generate_events(recovered + live))]
    for record in records[:recovered]:
        processor.process(record, publish=False)
    gc.collect()
    gc.freeze()

    pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}
    started_at: list[float] = []

    def timer(phase, info):
        if phase == "start":
            started_at.append(time.perf_counter())
        else:
            pauses[info["generation"]].append(time.perf_counter() - started_at.pop())

    refreezes: list[float] = []
    gc.callbacks.append(timer)
    started = time.perf_counter()
    for index, record in enumerate(records[recovered:], 1):
        processor.process(record)
        if refreeze_every and index % refreeze_every == 0:
            begun = time.perf_counter()
            refreeze_heap()
            refreezes.append(time.perf_counter() - begun)
    elapsed = time.perf_counter() - started
    gc.callbacks.remove(timer)
    return {"recovered": recovered, "live": live, "refreeze_every": refreeze_every,
            "live_rate": round(live / elapsed),
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
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # the subprocess: one setting
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(run(args.recovered, args.live, args.one)), flush=True)
        return
    for every in args.refreeze_every:
        subprocess.run([sys.executable, __file__, "--recovered", str(args.recovered), "--live", str(args.live),
                        "--one", str(every)], check=True)


if __name__ == "__main__":
    main()
