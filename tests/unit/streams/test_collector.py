"""PausedCollection: automatic collection off during a bulk pass, young cycles still freed, the setting restored."""

from __future__ import annotations

import gc
import weakref

from streams.collector import PausedCollection


class Node:
    def __init__(self):
        self.other = self  # a reference cycle: only the collector frees it


def test_collection_is_paused_during_the_pass_and_restored_after():
    assert gc.isenabled()
    with PausedCollection():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_switched_off_before_stays_off():
    gc.disable()
    try:
        with PausedCollection():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_young_cycles_are_freed_every_few_steps():
    with PausedCollection(young_every=3) as collection:
        cycle = Node()
        alive = weakref.ref(cycle)
        del cycle
        collection.step()
        collection.step()
        assert alive() is not None  # automatic collection is off
        collection.step()
        assert alive() is None


def test_the_setting_is_restored_when_the_pass_fails():
    try:
        with PausedCollection():
            raise RuntimeError("a broker went away")
    except RuntimeError:
        pass
    assert gc.isenabled()
