"""The collector: paused during a bulk pass (young cycles still freed, the setting restored); in the live worker,
re-frozen with full collections left to the re-freeze; its pauses timed into a metric."""

from __future__ import annotations

import gc
import weakref

import pytest
from prometheus_client import CollectorRegistry

from streams.collector import CollectionTimer, PausedCollection, refreeze_heap
from streams.metrics import PipelineMetrics


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


# -- the live worker: re-freezing, full collections only at the re-freeze, pauses timed


@pytest.fixture
def collector_settings():
    """The collector's thresholds and frozen objects are process-wide: put them back after each test."""
    thresholds = gc.get_threshold()
    yield
    gc.set_threshold(*thresholds)
    gc.unfreeze()


def test_refreeze_frees_garbage_cycles_and_freezes_the_survivors(collector_settings):
    cycle = Node()
    alive = weakref.ref(cycle)
    del cycle
    kept = [Node() for _ in range(10)]
    frozen_before = gc.get_freeze_count()
    refreeze_heap()
    assert alive() is None
    assert gc.get_freeze_count() >= frozen_before + len(kept)


def _automatic_full_collections_while_the_heap_grows() -> int:
    """Allocate objects that live on, as live events do with what they cache, and count the full collections the
    collector starts by itself meanwhile."""
    full = []

    def count(phase, info):
        if phase == "stop" and info["generation"] == 2:
            full.append(info)

    kept = []
    gc.callbacks.append(count)
    try:
        for _ in range(300):
            kept.append([[] for _ in range(1000)])
    finally:
        gc.callbacks.remove(count)
    return len(full)


def test_full_collections_are_left_to_the_refreeze_when_asked(collector_settings):
    refreeze_heap()
    assert _automatic_full_collections_while_the_heap_grows() > 0  # the collector's own schedule

    young, middle, _ = gc.get_threshold()
    refreeze_heap(full_collections_only_here=True)
    assert gc.get_threshold()[:2] == (young, middle)  # the young generations are collected as before
    assert _automatic_full_collections_while_the_heap_grows() == 0
    cycle = Node()
    alive = weakref.ref(cycle)
    del cycle
    refreeze_heap(full_collections_only_here=True)  # the re-freeze still frees it
    assert alive() is None


def test_without_it_the_oldest_generation_keeps_its_threshold(collector_settings):
    before = gc.get_threshold()
    refreeze_heap()
    assert gc.get_threshold() == before


def test_collection_timer_observes_each_collection_by_generation():
    registry = CollectorRegistry()
    metrics = PipelineMetrics(registry)
    metrics.declare_series([])
    timer = CollectionTimer(metrics.gc_pause).install()
    try:
        gc.collect()
        gc.collect(0)
        gc.collect(0)
    finally:
        timer.uninstall()
    assert registry.get_sample_value("coi_gc_pause_seconds_count", {"generation": "2"}) >= 1
    assert registry.get_sample_value("coi_gc_pause_seconds_count", {"generation": "0"}) >= 2
    assert registry.get_sample_value("coi_gc_pause_seconds_sum", {"generation": "2"}) > 0
    counted = registry.get_sample_value("coi_gc_pause_seconds_count", {"generation": "2"})
    gc.collect()  # uninstalled: no longer observed
    assert registry.get_sample_value("coi_gc_pause_seconds_count", {"generation": "2"}) == counted
    assert timer._observe not in gc.callbacks


def test_installing_twice_times_each_collection_once():
    registry = CollectorRegistry()
    metrics = PipelineMetrics(registry)
    timer = CollectionTimer(metrics.gc_pause).install()
    timer.install()
    try:
        gc.collect()
    finally:
        timer.uninstall()
    assert registry.get_sample_value("coi_gc_pause_seconds_count", {"generation": "2"}) == 1


def test_young_cycles_are_still_freed_automatically_when_full_collections_wait(collector_settings):
    refreeze_heap(full_collections_only_here=True)
    cycle = Node()
    alive = weakref.ref(cycle)
    del cycle
    churn = [[] for _ in range(gc.get_threshold()[0] * 3)]  # allocations enough for a young collection
    del churn
    assert alive() is None


@pytest.mark.parametrize("overrides, only_at_refreeze", [
    ({}, True),  # the default: a periodic re-freeze, which alone collects the oldest generation
    ({"gc_automatic_full_collections": True}, False),
    ({"gc_refreeze_every_events": 0}, False),  # never re-frozen: the collector's own full collections stay
])
def test_the_worker_leaves_full_collections_to_its_refreeze_by_default(tmp_path, collector_settings, overrides,
                                                                       only_at_refreeze):
    from streams.app import Pipeline
    from streams.config import load_settings

    pipeline = Pipeline(load_settings(environ={}, data_dir=str(tmp_path / "data"), **overrides))
    before = gc.get_threshold()
    refreeze_heap(pipeline._full_collections_only_at_refreeze)  # the catch-up's first freeze
    pipeline._gc_frozen = True
    pipeline._refreeze_if_due(10_000)  # and the periodic one, when there is one
    if only_at_refreeze:
        assert gc.get_threshold()[:2] == before[:2] and gc.get_threshold()[2] > 10**9
    else:
        assert gc.get_threshold() == before
