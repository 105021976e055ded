"""What the worker holds after a bulk load, and where the bytes go: the resolution layer, its engine and the
processor's checks, filled as `coi-risk load` fills them, without Kafka.

    .venv/bin/python bench/worker_memory.py --size 200000
    COI_RISK_REPO=/path/to/other/checkout .venv/bin/python bench/worker_memory.py --size 200000 --where

Synthetic events (bench/synthetic.py, seed 7) go through `EventProcessor._admit` (parse and the worker's checks)
into `ResolvingEngine.load` (the layer, the graph, one rebuild). Reports the resident set's growth per relation
and the load's CPU rate (admission and loading; `time.process_time`). With `--where`, also the bytes of the
state by structure: `sys.getsizeof` of every object reachable from it, each counted once, in the first structure
of the table that reaches it (so a string shared by a record and an index counts for the record). That sum is
below the resident set's growth (the allocator's own overhead and free lists are not objects).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(os.environ.get("COI_RISK_REPO", Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(REPO))


def resident_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def admitted(processor, records):
    """(event, offset, raw[, digest]) as `coi-risk load` passes them. Checkouts before 2026-12-03 return the
    event alone from `_admit` (the processor kept the digests itself), later ones (event, digest)."""
    for record in records:
        admission = processor._admit(record)
        offset = f"{record.partition}:{record.offset}"
        if isinstance(admission, tuple):
            yield admission[0], offset, record.value, admission[1]
        else:
            yield admission, offset, record.value


def reachable_bytes(root, seen: set[int]) -> int:
    skipped = (type, type(len), type(sys))
    total, stack = 0, [root]
    while stack:
        held = stack.pop()
        if id(held) in seen or isinstance(held, skipped) or (
                callable(held) and not isinstance(held, (dict, list, tuple, set, frozenset))):
            continue
        seen.add(id(held))
        total += sys.getsizeof(held)
        stack.extend(gc.get_referents(held))
    return total


def where(layer, processor, tracker) -> list[tuple[str, object]]:
    engine, graph = layer.engine, layer.engine.graph
    parts: list[tuple[str, object]] = [
        ("graph: relation records and their strings", graph._relations), ("graph: entities", graph._entities),
        ("graph: adjacency (the networkx layers)", graph._layers), ("graph: the rest", graph)]
    parts += [(f"layer: {name}", getattr(layer, name))
              for name in ("_current", "_refs", "_seen", "_touching") if hasattr(layer, name)]
    parts.append(("engine: dependency index", engine._deps))
    parts += [(f"engine: cached {kind.name.lower()}", results) for kind, results in engine._caches._results.items()]
    parts += [("engine: cache store's users and mentions", engine._caches), ("engine: stored scores", engine._stored),
              ("engine: the rest", engine.__dict__), ("layer: the rest", layer.__dict__),
              ("processor", processor.__dict__), ("alert tracker", tracker)]
    return parts


def index_by_kind(engine, relations: int) -> None:
    """The dependency index by kind of computation: how many are registered and how many index entries (reads of
    an adjacency list, a node, a shared result) they hold; every entry costs a slot in a table and in a footprint."""
    from scoring.caches import Kind

    computations: dict[str, int] = {}
    entries: dict[str, int] = {}
    for key, footprint in engine._deps._footprints.items():
        kind = Kind(key[0]).name.lower()
        computations[kind] = computations.get(kind, 0) + 1
        entries[kind] = entries.get(kind, 0) + (1 if type(footprint) is int else len(footprint) - 1)
    total = sum(entries.values())
    print(f"\ndependency index: {total:,} entries, {total / relations:.2f} per relation\n")
    print("| computations of kind | registered | index entries | share of entries |\n|---|---|---|---|")
    for kind in sorted(entries, key=lambda name: -entries[name]):
        print(f"| {kind} | {computations[kind]:,} | {entries[kind]:,} | {entries[kind] / total:.0%} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=200_000)
    parser.add_argument("--where", action="store_true", help="also the bytes by structure")
    args = parser.parse_args()

    from bench.synthetic import generate_events
    from scoring import AlertTracker
    from scoring.resolution import ResolvingEngine
    from streams.processor import EventProcessor, InputRecord

    lines = [json.dumps(event).encode() for event in generate_events(args.size, seed=7)]
    records = [InputRecord(line, None, "events", 0, offset) for offset, line in enumerate(lines)]
    gc.collect()
    before = resident_mb()
    layer = ResolvingEngine()
    tracker = AlertTracker(layer.engine.config)
    processor = EventProcessor(layer, tracker)
    started = time.process_time()
    tracker.observe(layer.load(admitted(processor, records), input_offsets={"0": args.size}))
    spent = time.process_time() - started
    gc.collect()
    grown = resident_mb() - before
    relations = layer.stats()["relations"]
    print(json.dumps({"repo": str(REPO), "relations": relations, "rss_growth_mb": round(grown),
                      "bytes_per_relation": round(grown * 2**20 / relations), "load_cpu_seconds": round(spent, 1),
                      "events_per_cpu_second": round(args.size / spent)}))
    if args.where:
        del records, lines
        gc.collect()
        seen: set[int] = set()
        rows = [(name, reachable_bytes(root, seen)) for name, root in where(layer, processor, tracker)]
        print(f"\n{relations:,} relations, {sum(size for _, size in rows) / relations:,.0f} B per relation in objects\n")
        print("| structure | B per relation |\n|---|---|")
        for name, size in rows:
            if size >= relations:
                print(f"| {name} | {size / relations:,.0f} |")
        index_by_kind(layer.engine, relations)
    return 0


if __name__ == "__main__":
    sys.exit(main())
