"""A bulk load or rebuild pauses Python's cyclic collector while it runs and leaves it as the caller had it
(`engine.collector_paused`), also when the load fails half-way."""

from __future__ import annotations

import gc

import pytest

from scoring import Engine
from scoring.resolution import ResolvingEngine

from .test_engine import conflict_events


@pytest.fixture
def collector_enabled():
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def watched(events, seen: list[bool]):
    for event in events:
        seen.append(gc.isenabled())
        yield event


@pytest.mark.parametrize("loader", [Engine, ResolvingEngine], ids=["engine", "resolution layer"])
def test_load_runs_without_the_collector_and_restores_it(collector_enabled, make, loader):
    engine, seen = loader(), []
    changes = engine.load(watched(conflict_events(make), seen))
    assert seen and not any(seen)
    assert gc.isenabled()
    assert [change.key for change in changes] == [("minister", "bank")]


def test_rebuild_leaves_a_disabled_collector_disabled(collector_enabled, make):
    engine = Engine()
    engine.apply_many(conflict_events(make))
    gc.disable()
    engine.rebuild()
    assert not gc.isenabled()
    gc.enable()
    engine.rebuild()
    assert gc.isenabled()


def test_a_failing_load_restores_the_collector(collector_enabled, make):
    def broken():
        yield from conflict_events(make)[:2]
        raise ValueError("input broke")

    with pytest.raises(ValueError, match="input broke"):
        Engine().load(broken())
    assert gc.isenabled()
