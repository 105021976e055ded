"""A snapshot whose positions lie past the end of the input log was written from another log (the topic deleted and
created again, another cluster): the worker drops its state and replays this log from its start, instead of
taking every event below those positions for one applied already."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

import streams.app as app_module
import streams.recovery as recovery
from scoring import AlertTracker
from scoring.resolution import ResolvingEngine
from streams.recovery import positions_past_the_log
from streams.snapshots import SnapshotState

from tests.unit.streams.test_snapshot_prefetch import _pipeline, _saved


def _loaded(tmp_path, monkeypatch, ends: dict[int, int]):
    pipeline = _pipeline(tmp_path)
    _saved(pipeline, 12)  # positions {"0": 12}
    asyncio.run(pipeline._load_snapshot_once())
    assert pipeline.processor.next_offsets == {"0": 12} and pipeline.engine.stats()["relations"] > 0
    asked = []
    monkeypatch.setattr(app_module, "log_end_offsets", lambda settings: asked.append(1) or ends)
    return pipeline, asked


def fallbacks(pipeline, reason: str) -> float:
    return pipeline.registry.get_sample_value("coi_snapshot_fallbacks_total", {"reason": reason}) or 0.0


def test_a_snapshot_past_the_end_of_the_log_is_dropped_and_the_log_replayed_from_its_start(tmp_path, monkeypatch):
    pipeline, asked = _loaded(tmp_path, monkeypatch, {0: 5})  # the topic again, with five events so far
    loaded = pipeline.engine
    asyncio.run(pipeline._check_position_on_the_log())
    assert pipeline.engine is not loaded and pipeline.processor.engine is pipeline.engine
    assert pipeline.engine.stats()["relations"] == 0 and pipeline.processor.tracker.open_alerts() == {}
    assert pipeline.processor.next_offsets == {}  # the catch-up starts at the log's start
    assert fallbacks(pipeline, "past_the_log") == 1
    assert pipeline.registry.get_sample_value("coi_snapshot_loaded_offset", {"partition": "0"}) == -1
    asyncio.run(pipeline._check_position_on_the_log())  # once per loaded snapshot
    assert asked == [1]


def test_a_snapshot_within_the_log_is_kept_and_checked_once(tmp_path, monkeypatch):
    pipeline, asked = _loaded(tmp_path, monkeypatch, {0: 12})
    loaded = pipeline.engine
    asyncio.run(pipeline._check_position_on_the_log())
    asyncio.run(pipeline._check_position_on_the_log())
    assert pipeline.engine is loaded and pipeline.processor.next_offsets == {"0": 12}
    assert fallbacks(pipeline, "past_the_log") == 0 and asked == [1]


def test_a_batch_before_any_catch_up_checks_first(tmp_path, monkeypatch):
    """The first batch can take the engine before the catch-up does: it checks too, before skipping anything."""
    pipeline, asked = _loaded(tmp_path, monkeypatch, {0: 5})
    published = []

    async def publish(fresh):
        published.extend(fresh)

    async def replay(bounds):
        return 0

    monkeypatch.setattr(pipeline, "_process_and_publish", publish)
    monkeypatch.setattr(pipeline, "_replay", replay)
    monkeypatch.setattr(pipeline, "_snapshot_if_due", lambda events: asyncio.sleep(0))
    monkeypatch.setattr(app_module, "catch_up_bounds", lambda *args: None)
    monkeypatch.setattr(app_module, "last_bulk_load", lambda settings: None)
    batch = [SimpleNamespace(message=SimpleNamespace(partition=0, offset=offset)) for offset in range(5)]
    asyncio.run(pipeline.handle_batch(batch))
    assert [event.message.offset for event in published] == [0, 1, 2, 3, 4]  # none taken for applied already
    assert asked == [1]


@pytest.mark.parametrize("positions, ends, past", [
    ({"0": 12, "1": 3}, {0: 12, 1: 3}, {}),
    ({"0": 13}, {0: 12}, {0: (13, 12)}),
    ({"0": 1, "2": 4}, {0: 5, 1: 5}, {2: (4, None)}),  # a partition the topic does not have
])
def test_positions_past_the_log(positions, ends, past):
    assert positions_past_the_log(positions, ends) == past


def test_the_dropped_state_is_unfrozen_so_that_it_can_be_freed(tmp_path, monkeypatch):
    import gc

    pipeline, _ = _loaded(tmp_path, monkeypatch, {0: 5})
    assert gc.get_freeze_count() > 0  # the worker's load froze it (SnapshotStore.load(freeze=True))
    asyncio.run(pipeline._check_position_on_the_log())
    assert gc.get_freeze_count() == 0


def _from_the_log_start(tmp_path, monkeypatch, appended: int | None):
    """A pipeline without a snapshot, whose app id has a recorded bulk load of [0, 31), and a log whose record at
    offset 30 was appended at `appended`."""
    from tests.unit.streams.test_load_admission import recorded

    pipeline = _pipeline(tmp_path)
    asyncio.run(pipeline._load_snapshot_once())
    assert pipeline._from_log_start
    loaded = recorded(start={0: 0}, end={0: 31}, last_records={0: (30, 1_700_000_000_000)})
    monkeypatch.setattr(app_module, "last_bulk_load", lambda settings: loaded)
    monkeypatch.setattr(app_module, "log_end_offsets", lambda settings: {0: 40})
    monkeypatch.setattr(recovery, "log_end_offsets", lambda settings: {0: 40})
    log = {30: appended} if appended is not None else {}
    _a_log(monkeypatch, log)
    reproduced = []

    def bulk_applied(loaded):
        from scoring import AlertTracker
        from scoring.resolution import ResolvingEngine
        from streams.bulk import Applied

        reproduced.append(loaded)
        return ResolvingEngine(), AlertTracker(), Applied(read=31)

    monkeypatch.setattr(pipeline, "_bulk_applied", bulk_applied)
    return pipeline, reproduced


def test_the_recorded_bulk_load_of_this_log_is_reproduced_first(tmp_path, monkeypatch):
    pipeline, reproduced = _from_the_log_start(tmp_path, monkeypatch, 1_700_000_000_000)
    before = pipeline.engine
    asyncio.run(pipeline._reproduce_bulk_load())
    assert len(reproduced) == 1 and pipeline.engine is not before and pipeline.processor.engine is pipeline.engine
    assert pipeline.processor.next_offsets == {"0": 31} and not pipeline._from_log_start
    assert pipeline.registry.get_sample_value("coi_recovered_events_total") == 31


@pytest.mark.parametrize("appended", [1_700_000_999_999, None])
def test_a_recorded_bulk_load_of_another_log_under_the_same_name_is_not_reproduced(tmp_path, monkeypatch,
                                                                                   appended):
    """The topic deleted and created again, and filled past the loaded range: same offsets, other append times."""
    pipeline, reproduced = _from_the_log_start(tmp_path, monkeypatch, appended)
    before = pipeline.engine
    asyncio.run(pipeline._reproduce_bulk_load())
    assert reproduced == [] and pipeline.engine is before and pipeline.processor.next_offsets == {}
    assert not pipeline._from_log_start


def _a_log(monkeypatch, appended: dict[int, int], start: int = 0) -> None:
    """Partition 0 of the input log, as `records_of_another_log` reads it: offset -> append time (ms)."""
    import streams.recovery as recovery
    from streams.processor import InputRecord

    def read(settings, topic, bounds):
        return iter([InputRecord(b"{}", None, topic, 0, offset, appended[offset])
                     for offset in range(bounds.start[0], bounds.end[0]) if offset in appended])

    monkeypatch.setattr(recovery, "read", read)
    monkeypatch.setattr(recovery, "log_start_offsets", lambda settings: {0: start})
    monkeypatch.setattr(app_module, "records_of_another_log", recovery.records_of_another_log)


def test_a_snapshot_of_a_recreated_topic_grown_past_its_positions_is_dropped(tmp_path, monkeypatch):
    """The offsets fit (the new topic has more records than the snapshot applied); the append times do not."""
    pipeline = _pipeline(tmp_path)
    engine, tracker = ResolvingEngine(), AlertTracker()
    pipeline.snapshots.save(SnapshotState(engine, tracker, {0: 12}, {0: (11, 1_700_000_000_000)}))
    asyncio.run(pipeline._load_snapshot_once())
    assert pipeline.processor.last_records == {"0": (11, 1_700_000_000_000)}
    monkeypatch.setattr(app_module, "log_end_offsets", lambda settings: {0: 40})
    _a_log(monkeypatch, {11: 1_800_000_000_000})
    loaded = pipeline.engine
    asyncio.run(pipeline._check_position_on_the_log())
    assert pipeline.engine is not loaded and pipeline.processor.next_offsets == {} == pipeline.processor.last_records
    assert fallbacks(pipeline, "past_the_log") == 1


@pytest.mark.parametrize("log, start, kept", [
    ({11: 1_700_000_000_000}, 0, True),  # the same record: the same log
    ({}, 20, True),  # retention deleted it since: nothing to compare
    ({}, 0, False),  # not there, though the log starts before it
])
def test_a_snapshot_whose_last_record_is_there_or_cannot_be_compared_is_kept(tmp_path, monkeypatch, log, start, kept):
    pipeline = _pipeline(tmp_path)
    pipeline.snapshots.save(SnapshotState(ResolvingEngine(), AlertTracker(), {0: 12}, {0: (11, 1_700_000_000_000)}))
    asyncio.run(pipeline._load_snapshot_once())
    monkeypatch.setattr(app_module, "log_end_offsets", lambda settings: {0: 40})
    _a_log(monkeypatch, log, start)
    loaded = pipeline.engine
    asyncio.run(pipeline._check_position_on_the_log())
    assert (pipeline.engine is loaded) is kept
