"""Where a bulk load's time goes, per event, in one process and without Kafka: parsing and the worker's checks
(`EventProcessor._admit`), then `ResolvingEngine.load` split into packing the event (`scoring.packed`), the graph's
apply, the final rebuild of every score, and the layer's own bookkeeping (the rest).

    .venv/bin/python bench/load_phases.py --size 100000
    COI_RISK_REPO=/path/to/other/checkout .venv/bin/python bench/load_phases.py

The cyclic collector is off throughout, as `coi-risk load` pauses it (streams/collector.py). Wall time per event,
in microseconds; the phases are timed by wrapping their functions, which adds a little to each.
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
    parser.add_argument("--size", type=int, default=100_000)
    args = parser.parse_args()

    import scoring.resolution as resolution
    from bench.synthetic import generate_events
    from scoring import AlertTracker
    from scoring.engine import Engine
    from streams.processor import EventProcessor, InputRecord

    spent = {"pack": 0.0, "graph": 0.0, "rebuild": 0.0}

    def timed(phase, function):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[phase] += time.perf_counter() - started
        return wrapper

    records = [InputRecord(json.dumps(event).encode(), None, "events", 0, offset)
               for offset, event in enumerate(generate_events(args.size, seed=7))]
    layer = resolution.ResolvingEngine()
    processor = EventProcessor(layer, AlertTracker(layer.engine.config))
    if hasattr(resolution, "PackedEvents"):  # events deflated in blocks (a block's deflate is in its 64th add)
        resolution.PackedEvents.add = timed("pack", resolution.PackedEvents.add)
    else:  # checkouts before 2026-12-04: one event at a time
        resolution.pack = timed("pack", resolution.pack)
    layer.engine.graph.apply = timed("graph", layer.engine.graph.apply)
    Engine.rebuild = timed("rebuild", Engine.rebuild)
    gc.disable()
    started = time.perf_counter()
    admitted = [processor._admit(record) for record in records]
    parsed = time.perf_counter()
    layer.load((event, f"0:{number}", records[number].value, digest)
               for number, (event, digest) in enumerate(admitted))
    loaded = time.perf_counter()

    def per_event(seconds: float) -> float:
        return round(seconds / args.size * 1e6, 1)

    layer_own = loaded - parsed - sum(spent.values())
    print(json.dumps({"repo": str(REPO), "relations": layer.stats()["relations"],
                      "us_per_event": {"parse_and_checks": per_event(parsed - started), "layer": per_event(layer_own),
                                       "pack": per_event(spent["pack"]), "graph": per_event(spent["graph"]),
                                       "rebuild": per_event(spent["rebuild"]), "total": per_event(loaded - started)}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
