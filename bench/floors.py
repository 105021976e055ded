"""The per-unit costs on this machine that bound issue 13's remaining targets from below, whatever the engine does.

    .venv/bin/python bench/floors.py
    .venv/bin/python bench/floors.py --events 50000 --relations 20000 --rounds 3

Each figure is the best of `--rounds` (the machine is shared and noisy; the best is the least disturbed), with the
cyclic collector off, as `coi-risk load` and a snapshot load run:

- **admitting an event** (the worker's and `coi-risk load`'s path before the layer): `json.loads` alone, pydantic's
  `model_validate_json` alone, `schemas.parse_event` (validation with the worker's checks: duplicate keys, depth,
  dates), and `EventProcessor._admit` (that, plus the content digest and the worker's own checks), in microseconds
  an event over synthetic events (bench/synthetic.py, seed 7). A bulk load can go no faster than its admission;
- **unpickling an object**: a slotted record of nine slots that pickles as its values (`scoring.records`, as the
  state's records do) and a pair, in microseconds an object; and the objects a snapshot holds per relation,
  counted in the pickle of a worker's state (the layer and the alert tracker, as `streams.snapshots` writes them)
  after `--relations` synthetic relations (its MEMOIZE opcodes: one per object the unpickler builds and keeps);
- **a page fault**: touching every page of fresh anonymous memory (512 MiB), in microseconds a page. Backing the
  memory a restored state fills costs one fault per 4 KiB page. This is the cost with memory the kernel has at
  hand; on this virtual machine a restart's faults cost more (8-20 us each in `bench/snapshot_load.py`'s system
  time), as memory a killed worker freed is handed back to the host and must be backed again.

The last line multiplies them out for 1M relations: what loading a snapshot costs at least (objects times the
cheapest object, pages times the cheapest fault), and the bulk rate that admission alone allows.
"""

from __future__ import annotations

import argparse
import gc
import json
import mmap
import os
import pickle
import pickletools
import resource
import sys
import time
from pathlib import Path

REPO = Path(os.environ.get("COI_RISK_REPO", Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(REPO))

_PAGE = mmap.PAGESIZE


def best_per_unit(action, units: int, rounds: int) -> float:
    """Microseconds a unit: the best of `rounds` timings of `action()`, which handles `units` units."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - started)
    return best / units * 1e6


def admission(events: int, rounds: int) -> dict[str, float]:
    from bench.synthetic import generate_events
    from schemas import parse_event
    from schemas.events import RelationshipEvent
    from scoring import AlertTracker
    from scoring.resolution import ResolvingEngine
    from streams.processor import EventProcessor, InputRecord

    raws = [json.dumps(event).encode() for event in generate_events(events, seed=7)]
    records = [InputRecord(raw, None, "events", 0, offset) for offset, raw in enumerate(raws)]
    layer = ResolvingEngine()
    processor = EventProcessor(layer, AlertTracker(layer.engine.config))
    def each(function, items):
        def run() -> None:
            for item in items:  # each result dropped at once, as the bulk path drops the parsed event
                function(item)
        return run

    steps = {"json_loads": each(json.loads, raws),
             "model_validate_json": each(RelationshipEvent.model_validate_json, raws),
             "parse_event": each(parse_event, raws),
             "admit": each(processor._admit, records)}
    return {name: round(best_per_unit(step, events, rounds), 2) for name, step in steps.items()}


def unpickling(rounds: int, objects: int = 500_000) -> dict[str, float]:
    """Microseconds to unpickle one object: a record of nine slots and a pair, whose values are all shared (names
    read from the memo, None, True), so that each is the one object built."""
    from scoring.records import pickled_as_values

    @pickled_as_values
    class Record:
        __slots__ = ("a", "b", "c", "d", "e", "f", "g", "h", "i")

        def __init__(self, *values):
            self.a, self.b, self.c, self.d, self.e, self.f, self.g, self.h, self.i = values

    globals()["Record"] = Record  # picklable by name, as the state's records are
    Record.__qualname__ = "Record"
    names = [f"n{i}" for i in range(1000)]
    records = pickle.dumps([Record(names[i % 1000], None, names[i * 7 % 1000], None, True, names[i * 3 % 1000],
                                   names[5], False, None) for i in range(objects)], protocol=pickle.HIGHEST_PROTOCOL)
    pairs = pickle.dumps([(names[i % 1000], names[i * 7 % 1000]) for i in range(objects)],
                         protocol=pickle.HIGHEST_PROTOCOL)
    return {"record": round(best_per_unit(lambda: pickle.loads(records), objects, rounds), 3),
            "pair": round(best_per_unit(lambda: pickle.loads(pairs), objects, rounds), 3)}


def objects_per_relation(relations: int) -> dict[str, float]:
    """Objects a relation in a pickle of the worker's state, in all and by the opcode that makes them (a string,
    a tuple of two or three, NEWOBJ for a slotted record such as a hop, BINFLOAT, ...)."""
    from bench.synthetic import generate_events
    from scoring import AlertTracker
    from scoring.resolution import ResolvingEngine
    from streams.processor import EventProcessor, InputRecord

    layer = ResolvingEngine()
    tracker = AlertTracker(layer.engine.config)
    processor = EventProcessor(layer, tracker)
    records = [InputRecord(json.dumps(event).encode(), None, "events", 0, offset)
               for offset, event in enumerate(generate_events(relations, seed=7))]
    admitted = ((processor._admit(record), record) for record in records)
    layer.load((event, f"0:{record.offset}", record.value, digest) for (event, digest), record in admitted)
    body = pickle.dumps((layer, tracker), protocol=pickle.HIGHEST_PROTOCOL)
    kept: dict[str, int] = {}  # the opcode that made each memoized object -> how many
    made = None
    for opcode, _, _ in pickletools.genops(body):
        if opcode.name == "MEMOIZE":
            kept[made] = kept.get(made, 0) + 1
        elif opcode.name not in ("FRAME", "MARK"):
            made = opcode.name
    count = layer.stats()["relations"]
    return {"all": round(sum(kept.values()) / count, 2),
            **{made: round(n / count, 2) for made, n in sorted(kept.items(), key=lambda item: -item[1])
               if n / count >= 0.1}}


def page_fault(rounds: int, size: int = 512 << 20) -> float:
    def touch() -> None:
        memory = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        for offset in range(0, size, _PAGE):
            memory[offset] = 1
        memory.close()

    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    touch()  # (counts this round's faults: one a page, as the kernel reports them)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    return round(best_per_unit(touch, max(faults, size // _PAGE), rounds), 2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=30_000, help="events timed for admission")
    parser.add_argument("--relations", type=int, default=20_000, help="relations of the state whose objects count")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--state-mb-per-million", type=float, default=2_237.0,
                        help="memory a restored state of 1M relations fills (bench/snapshot_load.py: faulted_mb)")
    args = parser.parse_args()
    gc.disable()  # as a bulk load and a snapshot load pause it: the collector's own time is not a floor
    admit = admission(args.events, args.rounds)
    unpickle = unpickling(args.rounds)
    objects = objects_per_relation(args.relations)
    per_relation = objects["all"]
    fault = page_fault(args.rounds)
    per_object = min(unpickle.values())
    pages = args.state_mb_per_million * (1 << 20) / _PAGE
    print(json.dumps({"repo": str(REPO), "admission_us_per_event": admit, "unpickling_us": unpickle,
                      "objects_per_relation": objects, "page_fault_us": fault}))
    print(f"1M relations: unpickling {per_relation * 1e6 * per_object / 1e6:.1f} s at least "
          f"({per_relation} objects a relation x {per_object:.3f} us), backing the state "
          f"{pages * fault / 1e6:.1f} s ({pages:,.0f} pages x {fault} us); "
          f"a bulk load admits at most {1e6 / admit['admit']:,.0f} events/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
