"""The garbage collector: paused during bulk work, frozen and re-frozen in the live worker, its pauses timed.

During bulk work (a replay of the input log, or a bulk load):

Such a pass allocates millions of objects that live on (the graph and the engine's caches), and Python's
automatic collection walks all of them again each time the oldest generation has grown by a quarter: timed with
`gc.callbacks`, 25-45% of a replay's or a load's CPU time went there (20,000 synthetic events). These passes make
almost no reference cycles (8 unreachable objects after a 20,000-event load), so automatic collection is paused
for the pass and only the young generations are collected every `young_every` steps, which frees any cycles among
recent objects at a cost proportional to what was allocated since. Older cycles wait for the next full collection
(the worker collects and freezes its heap after catching up: `refreeze_heap` below).
"""

from __future__ import annotations

import gc
import math
import time

from prometheus_client import Histogram

YOUNG_COLLECTION_EVERY = 10_000  # steps (events) between collections of the young generations


class PausedCollection:
    """`with PausedCollection() as collection: ... collection.step()` once per event. Process-wide while it lasts
    (the collector has no per-thread switch); restores automatic collection only if it was on."""

    def __init__(self, young_every: int = YOUNG_COLLECTION_EVERY):
        self.young_every = young_every
        self._steps = 0
        self._was_enabled = False

    def __enter__(self) -> PausedCollection:
        self._was_enabled = gc.isenabled()
        gc.disable()
        return self

    def step(self) -> None:
        self._steps += 1
        if self._steps % self.young_every == 0:
            gc.collect(1)

    def __exit__(self, *exc_info) -> None:
        if self._was_enabled:
            gc.enable()


# A threshold the collector's count of young collections never reaches (a C int): no automatic full collection.
_NO_AUTOMATIC_FULL_COLLECTION = 2**31 - 1
_PYTHONS_FULL_COLLECTION_THRESHOLD = 10  # CPython's default third threshold

# What the collector may do by itself between two re-freezes of the live worker (`gc_automatic_collection`), as
# the worker's log says it
AUTOMATIC_COLLECTION_MEANING = {"young": "its young generations only", "none": "nothing",
                                "all": "on Python's own schedule"}
AUTOMATIC_COLLECTION = tuple(AUTOMATIC_COLLECTION_MEANING)
_switched_off_here = [False]  # "none" switched automatic collection off (and only then does another mode undo it)

# `gc.get_freeze_count()` walks the whole frozen generation with the interpreter held: about 10 ns an object, 0.2 s
# for the 20 million of a worker with 1M relations, which a /metrics scrape on the event loop paid every time. The
# worker's freezes go through here instead and keep the count: exact when taken, then what each re-freeze moves
# added, and taken exactly again at a re-freeze once `RECOUNT_FROZEN_EVERY_SECONDS` have passed (frozen objects
# that die by reference counting leave the generation, and the count must not drift from them for long).
RECOUNT_FROZEN_EVERY_SECONDS = 600.0
_frozen = {"objects": 0, "counted_at": -math.inf}


def frozen_objects() -> int:
    """The objects the freezes moved out of the collector's generations, as counted (see above): cheap to read."""
    return _frozen["objects"]


def freeze_heap() -> None:
    """`gc.freeze()`, counting exactly what is frozen after it (once, where a whole state was just loaded)."""
    gc.freeze()
    _count_frozen_exactly()


def unfreeze_heap() -> None:
    gc.unfreeze()
    _count_frozen_exactly()


def _count_frozen_exactly() -> None:
    _frozen["objects"] = gc.get_freeze_count()
    _frozen["counted_at"] = time.monotonic()


def refreeze_heap(automatic: str = "all") -> None:
    """Collect what is garbage now, then move every survivor out of the collector's generations (`gc.freeze`),
    and leave the collector to collect by itself only what `automatic` says until the next call.

    The graph lives as long as the worker: left in the oldest generation, every full collection walks all of it
    (a pause that grows with the graph: 0.35-0.6 s seen under load). Frozen objects are never walked again, so
    the collection here walks only what was allocated since the last freeze. The price: a frozen object that later
    becomes garbage in a reference cycle is never freed (reference counting still frees the others).

    `automatic` (for a worker that re-freezes periodically, by events and by time):
    - "young" (the worker's default): the young generations are collected automatically, the oldest one only
      here. Between two re-freezes the automatic full collections walked everything the live events had kept
      since the last one, inside whichever event triggered them (up to half a second in an event whose own work
      took a few milliseconds, several times per re-freeze period), and each did again the walk the next
      re-freeze does anyway. The worker's event path makes no reference cycles among the objects it allocates
      (`EventProcessor`, the synthetic mix: a collection after 5,000 and after 10,000 live events finds none);
      the young collections free short-lived cycles of whatever else runs, older ones wait for the next
      re-freeze. Python 3.14's incremental collector ignores the third threshold this relies on (the image
      runs 3.11).
    - "none": no automatic collection until the next re-freeze, which alone collects: no collector pause inside
      an event at all, a longer re-freeze. Not faster on the development machine (docs/benchmarks.md).
    - "all": Python's own schedule (restored if another mode set it before).
    Figures: docs/benchmarks.md, ninth round of issue 13."""
    if automatic not in AUTOMATIC_COLLECTION:
        raise ValueError(f"automatic collection must be one of {AUTOMATIC_COLLECTION}, not {automatic!r}")
    gc.collect()
    if time.monotonic() - _frozen["counted_at"] >= RECOUNT_FROZEN_EVERY_SECONDS:
        freeze_heap()
    else:
        # after the collection every survivor is in the oldest generation: what the freeze moves, counted by
        # listing it (linear in what was allocated since the last freeze, as the collection just was)
        moving = len(gc.get_objects(0)) + len(gc.get_objects(1)) + len(gc.get_objects(2))
        gc.freeze()
        _frozen["objects"] += moving
    young, middle, oldest = gc.get_threshold()
    if automatic == "none":
        if gc.isenabled():
            gc.disable()
            _switched_off_here[0] = True
        return
    # Switch the collector back on only if "none" switched it off: a bulk pass running in another thread (a
    # catch-up's replay: `PausedCollection`) may have it off, and restores it itself.
    if _switched_off_here[0]:
        gc.enable()
        _switched_off_here[0] = False
    if automatic == "young":
        gc.set_threshold(young, middle, _NO_AUTOMATIC_FULL_COLLECTION)
    elif oldest == _NO_AUTOMATIC_FULL_COLLECTION:  # "all" after "young": Python's own schedule again
        gc.set_threshold(young, middle, _PYTHONS_FULL_COLLECTION_THRESHOLD)


class CollectionTimer:
    """Times every collection of the cyclic collector into a histogram labelled by generation (`gc.callbacks`).

    Process-wide, like the collector: the worker installs one for its process. A collection runs in whichever
    thread allocated, and never two at once, so one start time suffices."""

    def __init__(self, histogram: Histogram):
        self._histogram = histogram
        self._started = 0.0

    def install(self) -> CollectionTimer:
        if self._observe not in gc.callbacks:
            gc.callbacks.append(self._observe)
        return self

    def uninstall(self) -> None:
        if self._observe in gc.callbacks:
            gc.callbacks.remove(self._observe)

    def _observe(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self._histogram.labels(generation=str(info["generation"])).observe(time.perf_counter() - self._started)
