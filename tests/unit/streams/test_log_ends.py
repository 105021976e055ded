"""coi_consumer_lag from the broker's log end offsets (streams.log_ends), not only from the high-water marks the
consumer fetched, which stop with its fetching while the agent is stalled (tests/integration/
test_lag_while_stalled.py runs it on the real broker)."""

from __future__ import annotations

import logging
from types import SimpleNamespace

from faust.types import TP

from streams.config import load_settings
from streams.log_ends import MIN_MAX_AGE_SECONDS, LogEndOffsets, max_age_for


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _pipeline(tmp_path, highwater, ends):
    """A pipeline whose consumer holds input partition 0 at `highwater`, the broker's end being `ends[0]`."""
    from streams.app import Pipeline

    pipeline = Pipeline(load_settings(environ={}, data_dir=str(tmp_path / "data"), snapshots_enabled=False))
    topic = pipeline.settings.events_topic
    pipeline.app._consumer = SimpleNamespace(assignment=lambda: {TP(topic, 0), TP("other", 0)},
                                             highwater=lambda tp: highwater[0])
    clock, asked = Clock(), []

    def read(partitions):
        asked.append(set(partitions))
        if isinstance(ends[0], Exception):
            raise ends[0]
        return {0: ends[0]}

    pipeline.log_ends = LogEndOffsets(pipeline.settings, topic, max_age=30.0, read=read, clock=clock)
    pipeline.processor.next_offsets["0"] = 20
    return pipeline, clock, asked


def _lag(pipeline) -> float | None:
    return pipeline.registry.get_sample_value("coi_consumer_lag", {"topic": pipeline.settings.events_topic,
                                                                   "partition": "0"})


def test_the_lag_reads_the_brokers_end_past_a_frozen_high_water_mark(tmp_path):
    highwater, ends = [3_360], [8_025]
    pipeline, clock, asked = _pipeline(tmp_path, highwater, ends)
    pipeline.sample_gauges()
    assert _lag(pipeline) == 3_340  # no reading from the broker yet: the consumer's mark
    pipeline.log_ends.refresh()  # what the reader's thread does after a sample asked for it
    assert asked == [{0}]  # the input partitions assigned, not the other topic's
    pipeline.sample_gauges()
    assert _lag(pipeline) == 8_005

    ends[0] = 9_025
    pipeline.log_ends.refresh()
    pipeline.sample_gauges()
    assert _lag(pipeline) == 9_005  # still growing while the consumer's mark stands still


def test_a_newer_high_water_mark_wins_over_an_older_reading(tmp_path):
    highwater, ends = [100], [90]
    pipeline, _, _ = _pipeline(tmp_path, highwater, ends)
    pipeline.sample_gauges()
    pipeline.log_ends.refresh()
    pipeline.sample_gauges()
    assert _lag(pipeline) == 80


def test_a_reading_older_than_its_max_age_no_longer_counts(tmp_path, caplog):
    highwater, ends = [3_360], [8_025]
    pipeline, clock, _ = _pipeline(tmp_path, highwater, ends)
    pipeline.sample_gauges()
    pipeline.log_ends.refresh()
    ends[0] = TimeoutError("broker away")
    with caplog.at_level(logging.WARNING, logger="streams.log_ends"):
        for _ in range(3):
            clock.now += 10
            pipeline.log_ends.refresh()
    assert len([r for r in caplog.records if "cannot read the log end offsets" in r.message]) == 1  # once
    pipeline.sample_gauges()
    assert _lag(pipeline) == 8_005  # 30 s old: still counts
    clock.now += 1
    pipeline.sample_gauges()
    assert _lag(pipeline) == 3_340  # older: the consumer's mark again


def test_without_a_consumer_or_before_the_app_runs_nothing_is_read(tmp_path):
    from streams.app import Pipeline

    pipeline = Pipeline(load_settings(environ={}, data_dir=str(tmp_path / "data"), snapshots_enabled=False))
    pipeline.sample_gauges()
    assert pipeline.log_ends._thread is None and not pipeline.log_ends._wanted


def test_the_max_age_spans_three_samples_at_least_30_s():
    assert max_age_for(5.0) == MIN_MAX_AGE_SECONDS == 30.0
    assert max_age_for(20.0) == 60.0
