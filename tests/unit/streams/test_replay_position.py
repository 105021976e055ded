"""Parsing of replay/audit positions: beginning/end, partition:offset lists, timestamps."""

from __future__ import annotations

import datetime as dt

from streams.replay import Position


def test_beginning_and_end_are_open_bounds():
    assert Position.parse("beginning").as_bound() is None
    assert Position.parse("end").as_bound() is None
    assert Position.parse(None).as_bound() is None


def test_offsets_per_partition():
    assert Position.parse("0:120,1:80").as_bound() == {0: 120, 1: 80}
    assert Position.parse("42").as_bound() == {0: 42}


def test_timestamps_are_append_times_in_ms():
    expected = int(dt.datetime(2025, 3, 1, tzinfo=dt.UTC).timestamp() * 1000)
    assert Position.parse("2025-03-01T00:00:00Z").as_bound() == expected
    assert Position.parse("2025-03-01").as_bound() == expected
