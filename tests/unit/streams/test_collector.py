"""The collector: paused during a bulk pass (young cycles still freed, the setting restored); in the live worker,
re-frozen with full collections left to the re-freeze; its pauses timed into a metric."""

from __future__ import annotations

import gc
import time
import weakref

import pytest
from prometheus_client import CollectorRegistry

import streams.collector
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


# -- the live worker: re-freezing, what the collector does by itself in between, pauses timed


@pytest.fixture
def collector_settings():
    """The collector's switch, thresholds and frozen objects are process-wide: put them back after each test."""
    thresholds, enabled = gc.get_threshold(), gc.isenabled()
    yield
    gc.set_threshold(*thresholds)
    streams.collector._switched_off_here[0] = False
    if enabled:
        gc.enable()
    else:
        gc.disable()


def test_refreeze_frees_garbage_cycles_and_freezes_the_survivors(collector_settings):
    cycle = Node()
    alive = weakref.ref(cycle)
    del cycle
    kept = [Node() for _ in range(10)]
    frozen_before = gc.get_freeze_count()
    refreeze_heap()
    assert alive() is None
    assert gc.get_freeze_count() >= frozen_before + len(kept)


def test_a_scrape_reads_the_frozen_objects_as_the_freezes_counted_them(collector_settings, monkeypatch):
    """Counting the frozen generation walks all of it (0.2 s with the event loop held for a worker of 1M
    relations): the freezes count, the scrape only reads."""
    monkeypatch.setattr(streams.collector, "RECOUNT_FROZEN_EVERY_SECONDS", 0.0)
    refreeze_heap()  # counted exactly
    assert streams.collector.frozen_objects() == gc.get_freeze_count()
    monkeypatch.setattr(streams.collector, "RECOUNT_FROZEN_EVERY_SECONDS", 3600.0)
    kept = [Node() for _ in range(1000)]
    counted, exact = streams.collector.frozen_objects(), gc.get_freeze_count()
    refreeze_heap()  # adds what it moved
    assert streams.collector.frozen_objects() - counted >= len(kept)
    assert streams.collector.frozen_objects() - counted == gc.get_freeze_count() - exact
    registry = CollectorRegistry()
    PipelineMetrics(registry)

    def walked(*_):
        raise AssertionError("the scrape counted the frozen generation")

    monkeypatch.setattr(gc, "get_freeze_count", walked)
    assert registry.get_sample_value("coi_gc_frozen_objects") == streams.collector.frozen_objects()


def test_a_refreeze_counts_exactly_again_once_the_interval_passed(collector_settings, monkeypatch):
    monkeypatch.setattr(streams.collector, "RECOUNT_FROZEN_EVERY_SECONDS", 0.0)
    refreeze_heap()
    dying = [[Node()] for _ in range(500)]
    monkeypatch.setattr(streams.collector, "RECOUNT_FROZEN_EVERY_SECONDS", 3600.0)
    refreeze_heap()
    del dying  # frozen, then freed by reference counting (their lists): they leave the frozen generation
    assert streams.collector.frozen_objects() > gc.get_freeze_count()
    monkeypatch.setattr(streams.collector, "RECOUNT_FROZEN_EVERY_SECONDS", 0.0)
    refreeze_heap()
    assert streams.collector.frozen_objects() == gc.get_freeze_count()


def _automatic_collections_while_the_heap_grows() -> dict[int, int]:
    """Allocate objects that live on, as live events do with what they cache, and count the collections the
    collector starts by itself meanwhile, by generation."""
    started = {0: 0, 1: 0, 2: 0}

    def count(phase, info):
        if phase == "start":
            started[info["generation"]] += 1

    # Python starts a full collection once the objects promoted since the last one exceed a quarter of those it
    # found then (all of the process's before the freeze): allocate well past that, whatever ran before
    rounds = max(300, len(gc.get_objects()) // 1000)
    kept = []
    gc.callbacks.append(count)
    try:
        for _ in range(rounds):
            kept.append([[] for _ in range(1000)])
    finally:
        gc.callbacks.remove(count)
    return started


def _a_cycle() -> weakref.ref:
    cycle = Node()
    alive = weakref.ref(cycle)
    del cycle
    return alive


def test_all_keeps_pythons_own_schedule(collector_settings):
    before = gc.get_threshold()
    refreeze_heap("all")
    assert gc.isenabled() and gc.get_threshold() == before
    collections = _automatic_collections_while_the_heap_grows()
    assert collections[0] > 0 and collections[2] > 0  # full collections, on the collector's own schedule


def test_young_leaves_full_collections_to_the_refreeze(collector_settings):
    young, middle, _ = gc.get_threshold()
    refreeze_heap("young")
    assert gc.isenabled() and gc.get_threshold()[:2] == (young, middle)
    collections = _automatic_collections_while_the_heap_grows()
    assert collections[0] > 0 and collections[2] == 0
    alive = _a_cycle()
    churn = [[] for _ in range(young * 3)]  # allocations enough for a young collection: it frees the cycle
    del churn
    assert alive() is None


def test_none_leaves_every_collection_to_the_refreeze(collector_settings):
    refreeze_heap("none")
    assert not gc.isenabled()
    assert _automatic_collections_while_the_heap_grows() == {0: 0, 1: 0, 2: 0}
    alive = _a_cycle()
    churn = [[] for _ in range(gc.get_threshold()[0] * 3)]
    del churn
    assert alive() is not None  # nothing collects by itself now
    refreeze_heap("none")  # the next re-freeze does
    assert alive() is None
    assert not gc.isenabled()


@pytest.mark.parametrize("automatic", ["young", "all"])
def test_a_refreeze_leaves_a_bulk_pass_in_another_thread_paused(collector_settings, automatic):
    refreeze_heap(automatic)
    with PausedCollection():  # a catch-up's replay, while the idle timer re-freezes
        refreeze_heap(automatic)
        assert not gc.isenabled()
    assert gc.isenabled()


def test_an_unknown_mode_is_refused_before_anything_changes(collector_settings):
    alive = _a_cycle()
    frozen = gc.get_freeze_count()
    with pytest.raises(ValueError, match="none"):
        refreeze_heap("sometimes")
    # nothing frozen or unfrozen: a freeze moves every young object into the permanent generation, an unfreeze empties
    # it; a frozen object that dies meanwhile (reference counting frees it there too) lowers the count by one
    assert gc.isenabled() and frozen - 100 <= gc.get_freeze_count() <= frozen
    assert alive() is not None  # nothing collected either


@pytest.mark.parametrize("before", ["young", "none"])
def test_all_restores_pythons_schedule_after_another_mode(collector_settings, before):
    thresholds = gc.get_threshold()
    refreeze_heap(before)
    refreeze_heap("all")
    assert gc.isenabled() and gc.get_threshold() == thresholds


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


def _pipeline(tmp_path, **overrides):
    from streams.app import Pipeline
    from streams.config import load_settings

    return Pipeline(load_settings(environ={}, data_dir=str(tmp_path / "data"), **overrides))


@pytest.mark.parametrize("overrides, enabled_after, full_threshold_after", [
    ({}, True, "never"),  # the default: young collections, full ones only at the re-freezes
    ({"gc_automatic_collection": "none"}, False, None),
    ({"gc_automatic_collection": "all"}, True, "unchanged"),
    ({"gc_refreeze_every_events": 0}, True, "unchanged"),  # never re-frozen: the collector's own schedule stays
])
def test_the_worker_collects_as_configured_after_it_freezes(tmp_path, collector_settings, overrides, enabled_after,
                                                            full_threshold_after):
    pipeline = _pipeline(tmp_path, **overrides)
    before = gc.get_threshold()
    pipeline._refreeze()  # what the catch-up does once it has recovered the graph
    assert gc.isenabled() is enabled_after
    if full_threshold_after == "never":
        assert gc.get_threshold()[:2] == before[:2] and gc.get_threshold()[2] > 10**9
    elif full_threshold_after == "unchanged":
        assert gc.get_threshold() == before


def test_the_worker_refreezes_every_n_events(tmp_path, collector_settings):
    pipeline = _pipeline(tmp_path, gc_refreeze_every_events=100, gc_automatic_collection="none")
    pipeline._refreeze()  # as after the catch-up: nothing collects by itself from now on
    pipeline._gc_frozen = True
    alive = _a_cycle()
    pipeline._refreeze_if_due(60)
    assert alive() is not None
    pipeline._refreeze_if_due(40)
    assert alive() is None


def _frozen_on_a_set_clock(tmp_path):
    """A worker past its catch-up's freeze, re-freezing after 30 idle seconds of a clock the test sets, with
    nothing collected automatically: (the pipeline, its clock)."""
    pipeline = _pipeline(tmp_path, gc_refreeze_every_seconds=30, gc_automatic_collection="none")
    now = [1000.0]
    pipeline._clock = lambda: now[0]
    pipeline._refreeze()
    pipeline._gc_frozen = True
    return pipeline, now


def test_an_idle_worker_refreezes_after_the_configured_time(tmp_path, collector_settings):
    pipeline, now = _frozen_on_a_set_clock(tmp_path)
    alive = _a_cycle()
    now[0] += 29
    pipeline.refreeze_if_stale()
    assert alive() is not None
    now[0] += 1
    pipeline.refreeze_if_stale()
    assert alive() is None
    now[0] += 20
    pipeline._refreeze_if_due(10_000)  # a re-freeze by events, 20 s later, restarts the clock
    alive = _a_cycle()
    now[0] += 29
    pipeline.refreeze_if_stale()
    assert alive() is not None  # 49 s after the timed one, 29 after the one by events
    now[0] += 1
    pipeline.refreeze_if_stale()
    assert alive() is None


def test_no_idle_refreeze_while_the_engine_is_busy(tmp_path, collector_settings):
    import asyncio

    pipeline, now = _frozen_on_a_set_clock(tmp_path)
    alive = _a_cycle()
    now[0] += 60

    async def busy():
        async with pipeline._engine_lock:  # a batch or a catch-up under way
            pipeline.refreeze_if_stale()
            assert alive() is not None
        pipeline.refreeze_if_stale()
        assert alive() is None

    asyncio.run(busy())


def test_no_refreeze_before_the_recovered_graph_is_frozen(tmp_path, collector_settings):
    pipeline = _pipeline(tmp_path, gc_refreeze_every_seconds=1, gc_automatic_collection="none")
    pipeline._clock = lambda: 10**9
    pipeline.refreeze_if_stale()
    pipeline._refreeze_if_due(10**6)
    assert gc.isenabled()  # untouched until the catch-up's first freeze


@pytest.mark.parametrize("automatic", ["young", "none"])
def test_the_catch_up_freezes_the_recovered_graph_as_configured(tmp_path, collector_settings, monkeypatch,
                                                                automatic):
    import asyncio

    import streams.app
    from streams.log_reader import Bounds

    pipeline = _pipeline(tmp_path, gc_automatic_collection=automatic, snapshots_enabled=False)
    monkeypatch.setattr(streams.app, "committed_offsets", lambda settings: {0: 0})
    monkeypatch.setattr(streams.app, "last_bulk_load", lambda settings: None)  # no `coi-risk load` of this app id
    monkeypatch.setattr(streams.app, "catch_up_bounds", lambda *args: Bounds(start={0: 0}, end={0: 0}))

    async def replayed(bounds):
        return 0

    monkeypatch.setattr(pipeline, "_replay", replayed)
    frozen = gc.get_freeze_count()
    asyncio.run(pipeline._catch_up(pipeline._generation))
    assert pipeline._gc_frozen and gc.get_freeze_count() > frozen
    assert gc.isenabled() is (automatic == "young")
    assert (gc.get_threshold()[2] > 10**9) is (automatic == "young")
