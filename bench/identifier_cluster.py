"""What one event costs the worker when many entities share one strong identifier (a placeholder LEI, a data error,
or an adversary): each event names a new company carrying the same LEI, so the cluster grows by one every event.

    .venv/bin/python bench/identifier_cluster.py --holders 3000
    .venv/bin/python bench/identifier_cluster.py --holders 40 --identifiers 1650   # each carrying 1,650 of them
    COI_RISK_REPO=/path/to/other/checkout .venv/bin/python bench/identifier_cluster.py --holders 3000
    .venv/bin/python bench/identifier_cluster.py --holders 3000 --correct   # then each statement corrected

Events go through `EventProcessor.process` (parsing, the resolution layer, the engine), one by one as the worker
applies them; the time of the events at each tenth of the way is printed (wall time, ms: the mean of the ten events
before each checkpoint), then the total. One process, nothing else; the cyclic collector as Python sets it.

`--correct`: then every holder's relation is stated again, two days later, without its identifiers (a register
correcting a wrong LEI), in the order they came; the corrections are timed the same way (`correct_ms_at`), and
`left_merged` counts the ids still merged with the first holder at the end. `--restate` (before `--correct` when
both are given): every holder's relation stated again a day later with the same identifiers (a daily re-import),
timed as `restate_ms_at`.
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


def event(number: int, identifiers: int = 1, corrected: bool = False, restated: bool = False,
          descending: int = 0) -> dict:
    # more than one: the LEI and Wikidata ids Q1..Qn-1, all held by every entity (an adversary's, or a bad join's),
    # and the entities arrive in no order of their ids, so that each joins its identifiers' chains in the middle;
    # `descending` (the number of holders): each holder's id sorts before every earlier one's
    holder = f"s{descending - number:06d}" if descending else \
        f"s{number:06d}" if identifiers == 1 else f"s{number * 7919 % 100_003:06d}"
    shared = [{"scheme": "lei", "value": _SHARED_LEI}] + [{"scheme": "wikidata", "value": f"Q{i}"}
                                                           for i in range(1, identifiers)]
    return {"schema_version": "1.1", "event_id": f"e{number}" + ("c" if corrected else "s" if restated else ""),
            "op": "upsert",
            "relation_id": f"r{number}", "relation_type": "ownership", "properties": {"percentage": 10},
            "source": {"id": holder, "schema": "Company", "name": f"Holding {number}",
                       **({} if corrected else {"identifiers": shared})},
            "target": {"id": f"t{number:06d}", "schema": "Company", "name": f"Company {number}"},
            "start_date": "2020-01-01", "status": "confirmed",
            "observed_at": "2025-01-03T00:00:00Z" if corrected else "2025-01-02T00:00:00Z" if restated
            else "2025-01-01T00:00:00Z",
            "provenance": {"source_url": "https://example.org/register", "publisher": "bench",
                           "retrieved_at": "2025-01-01T00:00:00Z",
                           "extractor": {"name": "bench-identifier-cluster", "version": "1"}, "confidence": 0.9}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--holders", type=int, default=3000)
    parser.add_argument("--identifiers", type=int, default=1, help="strong identifiers every entity carries")
    parser.add_argument("--correct", action="store_true", help="then state every holder again without them")
    parser.add_argument("--restate", action="store_true", help="then state every holder again with them")
    parser.add_argument("--descending", action="store_true",
                        help="each holder's id sorts before every earlier holder's (the canonical id moves each time)")
    args = parser.parse_args()

    from scoring import AlertTracker
    from scoring.resolution import ResolvingEngine
    from streams.processor import EventProcessor, InputRecord

    descending = args.holders if args.descending else 0
    layer = ResolvingEngine()
    processor = EventProcessor(layer, AlertTracker(layer.engine.config))

    def timed(corrected: bool, offset: int, restated: bool = False) -> tuple[dict[int, float], float]:
        checkpoints, recent, total = {}, [], 0.0
        step = max(1, args.holders // 10)
        for number in range(args.holders):
            raw = json.dumps(event(number, args.identifiers, corrected, restated, descending),
                             separators=(",", ":")).encode()
            record = InputRecord(raw, f"r{number}".encode(), "events", 0, offset + number, 1_800_000_000_000)
            started = time.perf_counter()
            outcome = processor.process(record)
            elapsed = time.perf_counter() - started
            assert outcome.rejected is None, outcome.rejected
            total += elapsed
            recent = (recent + [elapsed])[-10:]
            if (number + 1) % step == 0:
                checkpoints[number + 1] = round(sum(recent) / len(recent) * 1000, 2)
        return checkpoints, total

    checkpoints, total = timed(False, 0)
    first = event(0, args.identifiers, descending=descending)["source"]["id"]
    result = {"repo": str(REPO), "holders": args.holders, "identifiers": args.identifiers,
              "descending": args.descending,
              "merged_into": layer.canonical(event(1, args.identifiers, descending=descending)["source"]["id"]),
              "ms_per_event_at": checkpoints, "total_s": round(total, 2)}
    if args.restate:
        checkpoints, total = timed(False, args.holders, restated=True)
        result.update(restate_ms_at=checkpoints, restate_total_s=round(total, 2))
    if args.correct:
        checkpoints, total = timed(True, 2 * args.holders)
        result.update(correct_ms_at=checkpoints, correct_total_s=round(total, 2),
                      left_merged=len(layer.clusters.members(first)) - 1)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
