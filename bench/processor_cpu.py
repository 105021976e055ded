"""CPU time of the worker's per-event path without Kafka: `EventProcessor.process` (parse, checks, the resolution
layer, the engine's apply and rescoring, the alert tracker, rendering what would be published).

    .venv/bin/python bench/processor_cpu.py --warm 10000 --events 5000
    COI_RISK_REPO=/path/to/other/checkout .venv/bin/python bench/processor_cpu.py

Synthetic events (bench/synthetic.py, seed 7): the first `--warm` are processed silently (as a catch-up does), then
`--events` more are processed live and their process CPU time (`time.process_time`, which other processes on the
machine disturb less than wall time) gives the rate. Also reports the engine's visits (edges and adjacency lists
examined) over the live window: deterministic, so it compares two checkouts exactly; and the CPU time spent
rendering the scores published (`Engine._materialize`, timed around each call).
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warm", type=int, default=10_000, help="events processed silently first")
    parser.add_argument("--events", type=int, default=5_000, help="events processed live and timed")
    args = parser.parse_args()

    from bench.synthetic import generate_events
    from scoring import AlertTracker
    from scoring.resolution import ResolvingEngine
    from scoring.engine import Engine
    from streams.processor import EventProcessor, InputRecord

    rendering = {"seconds": 0.0, "scores": 0}
    materialize = Engine._materialize

    def timed_materialize(engine, stored):
        started = time.process_time()
        try:
            return materialize(engine, stored)
        finally:
            rendering["seconds"] += time.process_time() - started
            rendering["scores"] += 1

    Engine._materialize = timed_materialize
    lines = [json.dumps(event).encode() for event in generate_events(args.warm + args.events, seed=7)]
    records = [InputRecord(line, None, "events", 0, offset) for offset, line in enumerate(lines)]
    layer = ResolvingEngine()
    processor = EventProcessor(layer, AlertTracker(layer.engine.config))
    for record in records[:args.warm]:
        processor.process(record, publish=False)
    gc.collect()
    rendering.update(seconds=0.0, scores=0)
    visits_before = layer.engine.stats()["total_visits"]
    outputs = 0
    started = time.process_time()
    for record in records[args.warm:]:
        outputs += len(processor.process(record).outbound)
    spent = time.process_time() - started
    print(json.dumps({"repo": str(REPO), "warm": args.warm, "events": args.events, "cpu_seconds": round(spent, 3),
                      "events_per_cpu_second": round(args.events / spent), "outputs": outputs,
                      "visits": layer.engine.stats()["total_visits"] - visits_before,
                      "rendered_scores": rendering["scores"], "rendering_cpu_seconds": round(rendering["seconds"], 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
