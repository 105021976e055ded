"""What a deeply layered ownership chain costs the engine (issue #14, item 2).

    .venv/bin/python bench/deep_chain.py --tiers 12 20 30

For each depth: a minister controls a regulator that regulates a bank; his son reaches the bank through `tiers`
wholly owned companies. Reports the bulk load time, then the apply+rescore latency and the engine's visit count
(edges and adjacency lists examined) of events at the bottom, the middle and the top of the chain, each median of
`--repeat` re-versions of the same relation (the live path: a new version of one stake).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(os.environ.get("COI_RISK_REPO", Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(REPO))


def event(number: int, relation_type: str, source: tuple, target: tuple, relation_id: str, **properties) -> dict:
    def entity(ref):
        return {"id": ref[0], "schema": ref[1], "name": ref[2], "topics": []}

    return {
        "schema_version": "1.0", "event_id": f"e{number}", "op": "upsert", "relation_id": relation_id,
        "relation_type": relation_type, "source": entity(source), "target": entity(target),
        "properties": properties, "status": "confirmed",
        "observed_at": (dt.datetime(2025, 1, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=number)).isoformat(),
        "provenance": {"source_url": "https://example.org/a", "publisher": "Bench", "retrieved_at":
                       "2025-01-01T00:00:00Z", "extractor": {"name": "bench", "version": "1"}, "confidence": 1.0},
    }


def measure(tiers: int, repeat: int) -> dict:
    from schemas import validate_event
    from scoring import Engine

    minister, son = ("minister", "Person", "Minister"), ("son", "Person", "Son")
    regulator, bank = ("regulator", "PublicBody", "Regulator"), ("bank", "Company", "Bank")
    layers = [(f"t{i:02d}", "Company", f"Layer {i}") for i in range(tiers)]
    chain = [son, *layers, bank]
    docs = [event(0, "control", minister, regulator, "control"), event(1, "regulates", regulator, bank, "regulates"),
            event(2, "family", son, minister, "family")]
    docs += [event(3 + i, "ownership", upper, lower, f"own-{i}", percentage=100)
             for i, (upper, lower) in enumerate(zip(chain, chain[1:]))]
    engine = Engine()
    started = time.perf_counter()
    engine.load([validate_event(doc) for doc in docs])
    load_ms = (time.perf_counter() - started) * 1000
    assert engine.score("minister", "bank") is not None, "the layered conflict must score"
    number = 1000
    result = {"tiers": tiers, "load_ms": round(load_ms, 2), "score": engine.score("minister", "bank").score}
    for name, index in (("bottom", tiers), ("middle", tiers // 2), ("top", 0)):
        upper, lower = chain[index], chain[index + 1]
        latencies, visits = [], []
        for _ in range(repeat):
            number += 1
            # a new version of the same stake: 100% and 99.9% alternate, so every apply changes the graph
            doc = event(number, "ownership", upper, lower, f"own-{index}", percentage=100 - (number % 2) * 0.1)
            parsed = validate_event(doc)
            started = time.perf_counter()
            engine.apply(parsed)
            latencies.append((time.perf_counter() - started) * 1000)
            visits.append(engine.stats()["last_visits"])
        result[f"{name}_ms"] = round(statistics.median(latencies), 3)
        result[f"{name}_visits"] = int(statistics.median(visits))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tiers", type=int, nargs="+", default=[12, 20, 30])
    parser.add_argument("--repeat", type=int, default=21)
    args = parser.parse_args()
    for tiers in args.tiers:
        print(json.dumps(measure(tiers, args.repeat)))


if __name__ == "__main__":
    main()
