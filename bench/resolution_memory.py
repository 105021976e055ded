"""Memory the resolution layer adds: resident-set growth per relation while applying synthetic events one by one
to the bare engine, or to the layer (given each message's bytes, as the worker does).

    .venv/bin/python bench/resolution_memory.py engine 20000
    .venv/bin/python bench/resolution_memory.py layer 20000

Run each mode in its own process: the figures are growths of one process's resident set.
"""

from __future__ import annotations

import gc
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.synthetic import generate_events  # noqa: E402
from schemas import validate_event  # noqa: E402
from scoring import Engine, ScoringConfig  # noqa: E402
from scoring.resolution import ResolvingEngine  # noqa: E402


def resident_bytes() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def main() -> int:
    mode, size = sys.argv[1], int(sys.argv[2])
    engine = Engine(ScoringConfig.load())
    target = engine if mode == "engine" else ResolvingEngine(engine)
    validate_event(next(iter(generate_events(10, seed=1))))  # imports and caches warm before measuring
    gc.collect()
    before = resident_bytes()
    for document in generate_events(size, seed=7):
        raw = json.dumps(document).encode()
        event = validate_event(json.loads(raw))
        if mode == "engine":
            target.apply(event)
        else:
            target.apply(event, raw=raw)
    gc.collect()
    growth = resident_bytes() - before
    relations = target.stats()["relations"]
    print(json.dumps({"mode": mode, "events": size, "relations": relations, "growth_mb": round(growth / 1e6, 1),
                      "bytes_per_relation": round(growth / relations)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
