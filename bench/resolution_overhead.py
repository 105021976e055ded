"""What entity resolution costs per event: the bare engine against the resolution layer in front of it, without
judgements, with merge suggestions on (the matcher), and with judgements that merge and split entities.

    .venv/bin/python bench/resolution_overhead.py --size 10000

Every mode applies the same synthetic events (bench/synthetic.py) one by one, as the worker does (validation
excluded), and reports events per second and the per-event latency p50/p99/max. In the judgement mode one event in
`--judge-every` is a `same_as` judgement (two of the synthetic people confirmed as one, a tenth of them later
retracted); their own latency is reported apart, since a merge re-issues every relation of the merged ids.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

REPO = Path(os.environ.get("COI_RISK_REPO", Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(REPO))

from bench.synthetic import generate_events  # noqa: E402
from schemas import validate_event  # noqa: E402
from scoring import Engine, ScoringConfig  # noqa: E402
from scoring.matching import Matcher  # noqa: E402
from scoring.resolution import ResolvingEngine  # noqa: E402


def judgement(number: int, a: dict, b: dict, op: str = "upsert") -> dict:
    return {"schema_version": "1.1", "event_id": f"judge-{number}-{op}", "op": op,
            "relation_id": f"same-{a['id']}-{b['id']}", "relation_type": "same_as", "source": a, "target": b,
            "status": "confirmed", "observed_at": "2025-06-01T00:00:00Z",
            "provenance": {"source_url": "urn:bench", "publisher": "bench", "retrieved_at": "2025-06-01T00:00:00Z",
                           "extractor": {"name": "bench", "version": "1"}, "confidence": 1.0}}


def event_log(size: int, judge_every: int | None, seed: int = 7) -> list:
    documents = list(generate_events(size, seed=seed))
    if judge_every:
        rng = random.Random(seed)
        people = sorted({(d[end]["id"], json.dumps(d[end], sort_keys=True)) for d in documents
                         for end in ("source", "target") if d[end]["schema"] == "Person"})
        mixed, made = [], []
        for number, document in enumerate(documents):
            mixed.append(document)
            if number % judge_every == judge_every - 1:
                a, b = (json.loads(p[1]) for p in rng.sample(people, 2))
                a, b = sorted((a, b), key=lambda e: e["id"])
                made.append(judgement(number, a, b))
                mixed.append(made[-1])
                if rng.random() < 0.1:
                    mixed.append(judgement(number, a, b, "retract"))
        documents = mixed
    raws = [json.dumps(d).encode() for d in documents]  # the worker hands the layer each message's bytes
    return [(validate_event(json.loads(raw)), raw) for raw in raws]


def timed(apply, events) -> dict:
    latencies, judged = [], []
    started = time.perf_counter()
    for event, raw in events:
        begin = time.perf_counter()
        apply(event, raw)
        elapsed = time.perf_counter() - begin
        (judged if event.spec.resolution else latencies).append(elapsed)
    total = time.perf_counter() - started

    def summary(values: list[float]) -> dict:
        if not values:
            return {}
        ordered = sorted(values)
        return {"count": len(values), "p50_ms": round(statistics.median(ordered) * 1000, 3),
                "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 3),
                "max_ms": round(ordered[-1] * 1000, 1)}

    return {"events_per_second": round(len(events) / total, 1), "relations": summary(latencies),
            "judgements": summary(judged)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10000)
    parser.add_argument("--judge-every", type=int, default=100)
    args = parser.parse_args()
    config = ScoringConfig.load()
    plain = event_log(args.size, None)
    def engine_apply():
        engine = Engine(config)
        return lambda event, raw: engine.apply(event)

    def layer_apply(**options):
        layer = ResolvingEngine(Engine(config), **options)
        return lambda event, raw: layer.apply(event, raw=raw)

    modes = {
        "engine": lambda: (engine_apply(), plain),
        "resolution layer": lambda: (layer_apply(), plain),
        "resolution layer + suggestions": lambda: (layer_apply(matcher=Matcher()), plain),
        f"resolution layer + a judgement every {args.judge_every} events": lambda: (
            layer_apply(), event_log(args.size, args.judge_every)),
    }
    for name, make in modes.items():
        apply, events = make()
        print(json.dumps({"mode": name, "size": args.size, **timed(apply, events)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
