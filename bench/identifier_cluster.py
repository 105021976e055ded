"""What one event costs the worker when many entities share one strong identifier (a placeholder LEI, a data error,
or an adversary): each event names a new company carrying the same LEI, so the cluster grows by one every event.

    .venv/bin/python bench/identifier_cluster.py --holders 3000
    COI_RISK_REPO=/path/to/other/checkout .venv/bin/python bench/identifier_cluster.py --holders 3000

Events go through `EventProcessor.process` (parsing, the resolution layer, the engine), one by one as the worker
applies them; the time of the events at each tenth of the way is printed (wall time, ms: the mean of the ten events
before each checkpoint), then the total. One process, nothing else; the cyclic collector as Python sets it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(os.environ.get("COI_RISK_REPO", Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(REPO))

_SHARED_LEI = "5493001KJTIIGC8Y1R12"


def event(number: int) -> dict:
    return {"schema_version": "1.1", "event_id": f"e{number}", "op": "upsert", "relation_id": f"r{number}",
            "relation_type": "ownership", "properties": {"percentage": 10},
            "source": {"id": f"s{number:06d}", "schema": "Company", "name": f"Holding {number}",
                       "identifiers": [{"scheme": "lei", "value": _SHARED_LEI}]},
            "target": {"id": f"t{number:06d}", "schema": "Company", "name": f"Company {number}"},
            "start_date": "2020-01-01", "status": "confirmed", "observed_at": "2025-01-01T00:00:00Z",
            "provenance": {"source_url": "https://example.org/register", "publisher": "bench",
                           "retrieved_at": "2025-01-01T00:00:00Z",
                           "extractor": {"name": "bench-identifier-cluster", "version": "1"}, "confidence": 0.9}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--holders", type=int, default=3000)
    args = parser.parse_args()

    from scoring import AlertTracker
    from scoring.resolution import ResolvingEngine
    from streams.processor import EventProcessor, InputRecord

    layer = ResolvingEngine()
    processor = EventProcessor(layer, AlertTracker(layer.engine.config))
    checkpoints, recent, total = {}, [], 0.0
    step = max(1, args.holders // 10)
    for number in range(args.holders):
        raw = json.dumps(event(number)).encode()
        record = InputRecord(raw, f"r{number}".encode(), "events", 0, number, 1_800_000_000_000)
        started = time.perf_counter()
        outcome = processor.process(record)
        elapsed = time.perf_counter() - started
        assert outcome.rejected is None, outcome.rejected
        total += elapsed
        recent = (recent + [elapsed])[-10:]
        if (number + 1) % step == 0:
            checkpoints[number + 1] = round(sum(recent) / len(recent) * 1000, 2)
    print(json.dumps({"repo": str(REPO), "holders": args.holders, "merged_into": layer.canonical("s000001"),
                      "ms_per_event_at": checkpoints, "total_s": round(total, 2)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
