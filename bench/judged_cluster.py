"""What a judgement costs the worker when it adds one more id to an entity merged from many (an analyst's desk
confirming each new mention of one person, or an adversary's flood of `same_as` judgements).

    .venv/bin/python bench/judged_cluster.py --ids 2000
    COI_RISK_REPO=/path/to/other/checkout .venv/bin/python bench/judged_cluster.py --ids 2000

Each step names a new id of one person in a relation (a stake in a company of its own), then a confirmed
`same_as` judgement joins it to the first id, so the merged entity grows by one id a step. Events go through
`EventProcessor.process` (parsing, the resolution layer, the engine), one by one as the worker applies them; the
time of the judgements at each tenth of the way is printed (wall time, ms: the mean of the ten before each
checkpoint), then the total of all events. One process, nothing else.
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

_PROVENANCE = {"source_url": "https://example.org/register", "publisher": "bench",
               "retrieved_at": "2025-01-01T00:00:00Z",
               "extractor": {"name": "bench-judged-cluster", "version": "1"}, "confidence": 0.9}


def _person(number: int) -> dict:
    return {"id": f"p{number:06d}", "schema": "Person", "name": "Jan Kowalski", "topics": ["role.pep"]}


def stake(number: int) -> dict:
    return {"schema_version": "1.1", "event_id": f"e{number}", "op": "upsert", "relation_id": f"r{number}",
            "relation_type": "ownership", "properties": {"percentage": 10}, "source": _person(number),
            "target": {"id": f"c{number:06d}", "schema": "Company", "name": f"Company {number}"},
            "start_date": "2020-01-01", "status": "confirmed", "observed_at": "2025-01-01T00:00:00Z",
            "provenance": _PROVENANCE}


def judgement(number: int) -> dict:
    return {"schema_version": "1.1", "event_id": f"j{number}", "op": "upsert", "relation_id": f"same-{number}",
            "relation_type": "same_as", "source": _person(number), "target": _person(0), "status": "confirmed",
            "observed_at": "2025-01-01T00:00:00Z", "provenance": {**_PROVENANCE, "confidence": 1.0}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ids", type=int, default=2000)
    args = parser.parse_args()

    from scoring import AlertTracker
    from scoring.resolution import ResolvingEngine
    from streams.processor import EventProcessor, InputRecord

    layer = ResolvingEngine()
    processor = EventProcessor(layer, AlertTracker(layer.engine.config))
    checkpoints, recent, total, offset = {}, [], 0.0, 0
    step = max(1, args.ids // 10)
    for number in range(args.ids):
        for document in (stake(number), *((judgement(number),) if number else ())):
            record = InputRecord(json.dumps(document).encode(), document["relation_id"].encode(), "events", 0,
                                 offset, 1_800_000_000_000)
            offset += 1
            started = time.perf_counter()
            outcome = processor.process(record)
            elapsed = time.perf_counter() - started
            assert outcome.rejected is None, outcome.rejected
            total += elapsed
            if document["relation_type"] == "same_as":
                recent = (recent + [elapsed])[-10:]
        if (number + 1) % step == 0 and recent:
            checkpoints[number + 1] = round(sum(recent) / len(recent) * 1000, 2)
    print(json.dumps({"repo": str(REPO), "ids": args.ids, "merged": len(layer.clusters.members("p000000")),
                      "judgement_ms_at": checkpoints, "total_s": round(total, 2)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
