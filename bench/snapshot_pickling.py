"""CPU time of pickling a snapshot's state with Python's cyclic collector running against paused, alternating in
one process on one state (what `SnapshotStore.save` does since it pauses the collector, and what it did before).

    .venv/bin/python bench/snapshot_pickling.py --size 200000 --rounds 3

The state is what `coi-risk load` holds when it writes its snapshot: synthetic events (bench/synthetic.py, seed 7)
through `EventProcessor._admit` into `ResolvingEngine.load`, not frozen. The pickle goes to a sink that discards
it (the file's write is not measured). Reports `time.process_time` and the collections of each generation during
each pickling: the pickler's memo keeps every state tuple that `__getstate__` returns alive until it ends, so
the collector's young generations fill up and its full collections walk the whole state.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import pickle
import sys
import time
from pathlib import Path

REPO = Path(os.environ.get("COI_RISK_REPO", Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(REPO))


class _Discard:
    def write(self, data) -> int:
        return memoryview(data).nbytes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from bench.synthetic import generate_events
    from bench.worker_memory import admitted
    from scoring import AlertTracker
    from scoring.resolution import ResolvingEngine
    from streams.processor import EventProcessor, InputRecord

    layer = ResolvingEngine()
    tracker = AlertTracker(layer.engine.config)
    processor = EventProcessor(layer, tracker)
    records = (InputRecord(json.dumps(event).encode(), None, "events", 0, offset)
               for offset, event in enumerate(generate_events(args.size, seed=7)))
    gc.disable()
    tracker.observe(layer.load(admitted(processor, records)))
    rows = []
    for _ in range(args.rounds):
        for collecting in (True, False):
            gc.enable() if collecting else gc.disable()
            before = [generation["collections"] for generation in gc.get_stats()]
            started = time.process_time()
            pickle.dump((layer, tracker), _Discard(), protocol=pickle.HIGHEST_PROTOCOL)
            seconds = time.process_time() - started
            after = [generation["collections"] for generation in gc.get_stats()]
            rows.append({"collector": "running" if collecting else "paused", "cpu_s": round(seconds, 2),
                         "collections": [b - a for a, b in zip(before, after)]})
            print(json.dumps(rows[-1]), flush=True)
    gc.enable()
    return 0


if __name__ == "__main__":
    sys.exit(main())
