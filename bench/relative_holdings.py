"""What one event costs the worker as a politically exposed person's relative gathers holdings his office
regulates (a ruling family's conglomerate, a minister's son with hundreds of companies): each step adds one company
the son owns outright and a regulation of it by the minister's office, so every holding is a conflict of its own.

    .venv/bin/python bench/relative_holdings.py --holdings 400
    COI_RISK_REPO=/path/to/other/checkout .venv/bin/python bench/relative_holdings.py --holdings 400
    .venv/bin/python bench/relative_holdings.py --holdings 400 --co-owned   # each holding also owns 30% of one firm

Events go through `EventProcessor.process` (parsing, the resolution layer, the engine) one by one, as the worker
applies them. Printed: the mean wall time (ms) of the two events of each of the last ten steps before each tenth
of the way, the pairs the last step's events recomputed, the total, and how many pairs score at the end. One
process, nothing else; the cyclic collector as Python sets it.
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

_MINISTER = {"id": "minister", "schema": "Person", "name": "A Minister", "topics": ["role.pep", "gov.national"]}
_OFFICE = {"id": "office", "schema": "Position", "name": "Minister of Industry", "topics": ["gov.national"]}
_SON = {"id": "son", "schema": "Person", "name": "The Minister's Son", "topics": ["role.rca"]}
_FIRM = {"id": "firm", "schema": "Company", "name": "Regulated Firm"}


def _company(number: int) -> dict:
    return {"id": f"h{number:06d}", "schema": "Company", "name": f"Holding {number}"}


def event(number: int, relation_type: str, source: dict, target: dict, properties: dict | None = None) -> dict:
    return {"schema_version": "1.1", "event_id": f"e{number:07d}", "op": "upsert", "relation_id": f"r{number:07d}",
            "relation_type": relation_type, "properties": properties or {}, "source": source, "target": target,
            "start_date": "2020-01-01", "status": "confirmed", "observed_at": "2025-01-01T00:00:00Z",
            "provenance": {"source_url": "https://example.org/register", "publisher": "bench",
                           "retrieved_at": "2025-01-01T00:00:00Z",
                           "extractor": {"name": "bench-relative-holdings", "version": "1"}, "confidence": 0.9}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--holdings", type=int, default=400)
    parser.add_argument("--co-owned", action="store_true",
                        help="each holding owns 30%% of one regulated firm instead of being regulated itself")
    args = parser.parse_args()

    from scoring import AlertTracker
    from scoring.resolution import ResolvingEngine
    from streams.processor import EventProcessor, InputRecord

    layer = ResolvingEngine()
    processor = EventProcessor(layer, AlertTracker(layer.engine.config))
    numbers = iter(range(10_000_000))

    def apply(document: dict) -> float:
        number = next(numbers)
        record = InputRecord(json.dumps(document).encode(), document["relation_id"].encode(), "events", 0, number,
                             1_800_000_000_000)
        started = time.perf_counter()
        outcome = processor.process(record)
        elapsed = time.perf_counter() - started
        assert outcome.rejected is None, outcome.rejected
        return elapsed

    for document in (event(next(numbers), "occupancy", _MINISTER, _OFFICE),
                     event(next(numbers), "family", _SON, _MINISTER, {"relationship": "father"}),
                     event(next(numbers), "regulates", _OFFICE, _FIRM)):
        apply(document)
    checkpoints, recent, total = {}, [], 0.0
    step = max(1, args.holdings // 10)
    for holding in range(args.holdings):
        owned = apply(event(next(numbers) + 1000, "ownership", _SON, _company(holding), {"percentage": 100}))
        recomputed = layer.engine._last["recomputed"]
        if args.co_owned:
            second = apply(event(next(numbers) + 1000, "ownership", _company(holding), _FIRM, {"percentage": 30}))
        else:
            second = apply(event(next(numbers) + 1000, "regulates", _OFFICE, _company(holding)))
        recomputed += layer.engine._last["recomputed"]
        total += owned + second
        recent = (recent + [(owned + second) / 2])[-10:]
        if (holding + 1) % step == 0:
            checkpoints[holding + 1] = {"ms": round(sum(recent) / len(recent) * 1000, 2), "recomputed": recomputed}
    print(json.dumps({"repo": str(REPO), "holdings": args.holdings, "co_owned": args.co_owned,
                      "per_event_at": checkpoints, "total_s": round(total, 2), "scores": len(layer.score_all())}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
