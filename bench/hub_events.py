"""What an event at a hub costs the searches that met it: a widely held company and a nominee with thousands of
stakes, the shapes national registers are full of (a listed holding's small shareholders, a nominee service's
holdings), each past the fan-out guard (`limits.max_fanout`, 500) and read as a hub by the searches around it.

    .venv/bin/python bench/hub_events.py
    COI_RISK_REPO=/path/to/other/checkout .venv/bin/python bench/hub_events.py

The graph (`Engine.load`): a minister controls a regulator that regulates `--firms` firms; his son owns 30% of
each, a holding company 60%; the holding company has `--holders` small shareholders (an in-hub); the son owns a
trust that owns a nominee holding 1% of `--stakes` companies (an out-hub). Then `--probe` single events (`apply`),
in turns: a new small shareholder of the holding company, a new stake of the nominee, and the retraction of one
of each made before, none of which takes either hub below the guard. Reports the wall time of each apply (the
collector paused, as the worker's young-only collection leaves the loaded state alone), the engine's visits (edges
and adjacency lists examined) and the scores: the same on any checkout.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(os.environ.get("COI_RISK_REPO", Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(REPO))


def entity(entity_id: str, schema: str, name: str) -> dict:
    return {"id": entity_id, "schema": schema, "name": name}


MINISTER = entity("minister", "Person", "Minister")
SON = entity("son", "Person", "Son")
REGULATOR = entity("regulator", "PublicBody", "Regulator")
HOLDCO = entity("holdco", "Company", "Widely Held Holding")
TRUST = entity("trust", "Company", "Family Trust")
NOMINEE = entity("nominee", "Company", "Nominee Services")


def event(number: int, kind: str, source: dict, target: dict, properties: dict | None = None,
          op: str = "upsert", relation_id: str | None = None) -> dict:
    return {"schema_version": "1.0", "event_id": f"e{number}", "op": op,
            "relation_id": relation_id or f"r{number}", "relation_type": kind, "source": source,
            "target": target, "properties": properties or {}, "status": "confirmed",
            "observed_at": f"2025-01-01T00:00:{number % 60:02d}Z",
            "provenance": {"source_url": "https://example.org/hubs", "publisher": "bench", "confidence": 1.0,
                           "retrieved_at": "2025-01-01T00:00:00Z", "extractor": {"name": "bench", "version": "1"}}}


def graph_events(firms: int, holders: int, stakes: int) -> list[dict]:
    events = [(("control", MINISTER, REGULATOR, {})), ("family", MINISTER, SON, {"relationship": "son"}),
              ("ownership", SON, TRUST, {"percentage": 100}), ("ownership", TRUST, NOMINEE, {"percentage": 100})]
    for i in range(firms):
        firm = entity(f"firm{i}", "Company", f"Firm {i}")
        events += [("regulates", REGULATOR, firm, {}), ("ownership", SON, firm, {"percentage": 30}),
                   ("ownership", HOLDCO, firm, {"percentage": 60})]
    events += [("ownership", entity(f"holder{i}", "Person", f"Holder {i}"), HOLDCO, {"percentage": 0.01})
               for i in range(holders)]
    events += [("ownership", NOMINEE, entity(f"held{i}", "Company", f"Held {i}"), {"percentage": 1})
               for i in range(stakes)]
    return [event(number, *spec) for number, spec in enumerate(events)]


def probe_events(start: int, probe: int) -> list[dict]:
    found = []
    for turn in range(probe):
        number, i = start + turn, turn // 4
        step = turn % 4
        if step == 0:
            found.append(event(number, "ownership", entity(f"new-holder{i}", "Person", f"New holder {i}"), HOLDCO,
                               {"percentage": 0.01}))
        elif step == 1:
            found.append(event(number, "ownership", NOMINEE, entity(f"new-held{i}", "Company", f"New held {i}"),
                               {"percentage": 1}))
        elif step == 2:  # one of the holders loaded at the start leaves
            found.append(event(number, "ownership", entity(f"holder{i}", "Person", f"Holder {i}"), HOLDCO,
                               op="retract", relation_id=f"r-holder{i}"))
        else:
            found.append(event(number, "ownership", NOMINEE, entity(f"held{i}", "Company", f"Held {i}"),
                               op="retract", relation_id=f"r-held{i}"))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--firms", type=int, default=400)
    parser.add_argument("--holders", type=int, default=2_000)
    parser.add_argument("--stakes", type=int, default=2_000)
    parser.add_argument("--probe", type=int, default=400)
    args = parser.parse_args()

    from schemas.events import RelationshipEvent
    from scoring import Engine

    loaded = graph_events(args.firms, args.holders, args.stakes)
    # the retractions name the relations they end: give the loaded holders' and stakes' relations those ids
    for document in loaded:
        source, target = document["source"]["id"], document["target"]["id"]
        if target == "holdco" and source.startswith("holder"):
            document["relation_id"] = f"r-{source}"
        elif source == "nominee" and target.startswith("held"):
            document["relation_id"] = f"r-{target}"
    engine = Engine()
    engine.load([RelationshipEvent.model_validate(document) for document in loaded])
    hubs = engine.hubs()
    probes = [RelationshipEvent.model_validate(document) for document in probe_events(len(loaded), args.probe)]
    gc.collect()
    gc.freeze()
    gc.disable()
    times, visits, changes = [], [], 0
    for probe in probes:
        started = time.perf_counter()
        changes += len(engine.apply(probe))
        times.append((time.perf_counter() - started) * 1e3)
        visits.append(engine.stats()["last_visits"])
        assert engine.hub_changes == [], engine.hub_changes
    gc.enable()
    scores = sorted((s.actor_id, s.counterparty_id, s.score) for s in engine.scores())
    times.sort()
    print(json.dumps({
        "repo": str(REPO), "relations": engine.stats()["relations"], "hubs": hubs, "probe": len(probes),
        "apply_ms": {"p50": round(statistics.median(times), 3), "p99": round(times[int(len(times) * 0.99) - 1], 3),
                     "max": round(times[-1], 3), "mean": round(statistics.fmean(times), 3)},
        "visits_mean": round(statistics.fmean(visits), 1), "visits_max": max(visits), "score_changes": changes,
        "scores": len(scores), "scores_digest": hashlib.sha256(repr(scores).encode()).hexdigest()[:16]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
