"""The garbage collector during bulk work: a replay of the input log, or a bulk load.

Such a pass allocates millions of objects that live on (the graph and the engine's caches), and Python's
automatic collection walks all of them again each time the oldest generation has grown by a quarter: timed with
`gc.callbacks`, 25-45% of a replay's or a load's CPU time went there (20,000 synthetic events). These passes make
almost no reference cycles (8 unreachable objects after a 20,000-event load), so automatic collection is paused
for the pass and only the young generations are collected every `young_every` steps, which frees any cycles among
recent objects at a cost proportional to what was allocated since. Older cycles wait for the next full collection
(the worker collects and freezes its heap after catching up: `streams.app.refreeze_heap`).
"""

from __future__ import annotations

import gc

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
