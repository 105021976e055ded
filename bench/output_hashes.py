"""Digests of what the engine and the worker's path produce, to show that a change left every result as it was:
run it on two checkouts and compare.

    .venv/bin/python bench/output_hashes.py
    COI_RISK_REPO=/path/to/other/checkout .venv/bin/python bench/output_hashes.py

Three digests over synthetic events (bench/synthetic.py, seed 7), each the first 16 hex digits of a SHA-256:

- `load`: every stored score after `Engine.load` of `--load` events (and the band of each change it returns);
- `worker`: every message `EventProcessor.process` would publish for `--events` events after `--warm` silent ones,
  and every stored score after them; also the engine's visits in that window;
- `merges`: every score change and final score of the resolution layer over `--merge-events` events with a
  `same_as` judgement every `--judge-every` (bench/resolution_overhead.py's log), and how many entities merged.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

REPO = Path(os.environ.get("COI_RISK_REPO", Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(REPO))


def load_digest(size: int) -> dict:
    from bench.synthetic import generate_events
    from schemas.validation import parse_event
    from scoring.engine import Engine

    engine = Engine()
    changes = engine.load(parse_event(json.dumps(event).encode()) for event in generate_events(size, seed=7))
    digest = hashlib.sha256()
    for pair in sorted(engine._stored):
        digest.update(engine.score(*pair).model_dump_json().encode())
    for change in changes:
        digest.update(repr((change.key, change.band)).encode())
    return {"scores": len(engine._stored), "digest": digest.hexdigest()[:16]}


def worker_digest(warm: int, events: int) -> dict:
    from bench.synthetic import generate_events
    from scoring import AlertTracker
    from scoring.resolution import ResolvingEngine
    from streams.processor import EventProcessor, InputRecord

    lines = [json.dumps(event).encode() for event in generate_events(warm + events, seed=7)]
    records = [InputRecord(line, None, "events", 0, offset) for offset, line in enumerate(lines)]
    layer = ResolvingEngine()
    processor = EventProcessor(layer, AlertTracker(layer.engine.config))
    digest = hashlib.sha256()
    for record in records[:warm]:
        processor.process(record, publish=False)
    visits = layer.engine.stats()["total_visits"]
    outputs = 0
    for record in records[warm:]:
        for message in processor.process(record).outbound:
            outputs += 1
            digest.update(message.role.encode() + message.key + message.value)
    for pair in sorted(layer.engine._stored):
        digest.update(layer.engine.score(*pair).model_dump_json().encode())
    return {"outputs": outputs, "visits": layer.engine.stats()["total_visits"] - visits,
            "digest": digest.hexdigest()[:16]}


def merges_digest(size: int, judge_every: int) -> dict:
    from bench.resolution_overhead import event_log
    from scoring.resolution import ResolvingEngine

    layer = ResolvingEngine()
    digest = hashlib.sha256()
    changes = 0
    for number, (event, raw) in enumerate(event_log(size, judge_every)):
        for change in layer.apply(event, offset=f"0:{number}", raw=raw):
            changes += 1
            digest.update(repr(change.published()).encode())
    for score in layer.scores():
        digest.update(score.model_dump_json().encode())
    return {"changes": changes, "merged_entities": layer.stats()["merged_entities"],
            "digest": digest.hexdigest()[:16]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--load", type=int, default=100_000, help="events of the bulk-load digest")
    parser.add_argument("--warm", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=5_000)
    parser.add_argument("--merge-events", type=int, default=6_000)
    parser.add_argument("--judge-every", type=int, default=40)
    args = parser.parse_args()
    print(json.dumps({"repo": str(REPO), "load": load_digest(args.load), "worker": worker_digest(args.warm, args.events),
                      "merges": merges_digest(args.merge_events, args.judge_every)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
