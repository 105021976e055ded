"""Where the bytes of a loaded engine go: live memory per relation, by the module that allocated it.

    .venv/bin/python bench/memory_breakdown.py --size 20000
    COI_RISK_REPO=/path/to/other/checkout .venv/bin/python bench/memory_breakdown.py --size 20000

Loads `size` synthetic events (bench/synthetic.py, seed 7), parsed one at a time as the worker reads them, through
the entity-resolution layer (`ResolvingEngine.load`, what the worker and `coi-risk load` hold) with tracemalloc on,
and attributes every block still alive afterwards to the innermost project module on its allocation stack
(`scoring/graph.py`, `scoring/dependencies.py`, ...); blocks allocated by the standard library or a dependency on
behalf of a project module count for that module, and strings kept from decoding the input count for the parser
(`schemas/...`). tracemalloc counts Python's own allocations only, so the total is a little under the resident
set's growth.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tracemalloc
from collections import Counter
from pathlib import Path

REPO = Path(os.environ.get("COI_RISK_REPO", Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(REPO))

_PACKAGES = ("scoring", "schemas", "streams")


def project_module(traceback: tracemalloc.Traceback, lines: bool = False) -> str:
    """The innermost frame in the project under test (tracemalloc lists frames oldest first), with its line number
    when `lines`."""
    for frame in reversed(traceback):
        path = Path(frame.filename)
        try:
            relative = path.resolve().relative_to(REPO.resolve())
        except ValueError:
            continue
        if relative.parts and relative.parts[0] in _PACKAGES:
            return f"{relative}:{frame.lineno}" if lines else str(relative)
    return "other"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=20_000)
    parser.add_argument("--top", type=int, default=12, help="modules listed; the rest are summed")
    parser.add_argument("--lines", action="store_true", help="by allocating line rather than by module")
    args = parser.parse_args()

    from bench.synthetic import generate_events
    from schemas import parse_event
    from scoring.resolution import ResolvingEngine

    lines = [json.dumps(event).encode() for event in generate_events(args.size, seed=7)]
    gc.collect()
    tracemalloc.start(25)
    before = tracemalloc.take_snapshot()
    layer = ResolvingEngine()
    layer.load((parse_event(line), None) for line in lines)
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    relations = layer.stats()["relations"]

    by_module: Counter[str] = Counter()
    for stat in after.compare_to(before, "traceback"):
        if stat.size_diff > 0:
            by_module[project_module(stat.traceback, args.lines)] += stat.size_diff
    total = sum(by_module.values())
    print(f"{relations:,} relations, {total / relations:,.0f} B per relation allocated and alive (tracemalloc)\n")
    print("| module | B per relation | share |")
    print("|---|---|---|")
    ranked = by_module.most_common()
    for module, size in ranked[:args.top]:
        print(f"| {module} | {size / relations:,.0f} | {size / total:.0%} |")
    rest = sum(size for _, size in ranked[args.top:])
    if rest:
        print(f"| (the rest) | {rest / relations:,.0f} | {rest / total:.0%} |")
    del layer
    return 0


if __name__ == "__main__":
    sys.exit(main())
