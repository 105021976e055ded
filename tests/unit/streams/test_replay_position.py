"""Parsing of replay/audit positions: beginning/end, partition:offset lists, timestamps."""

from __future__ import annotations

import datetime as dt

import pytest

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


@pytest.mark.parametrize("argv", [
    ["replay", "--from", "garbage"], ["replay", "--to", "0:x"], ["replay", "--to", "0:1:2"],
    ["audit", "--pair", "a", "b", "--from", "yesterday"], ["audit", "--entity", "x", "--to", "2025-13-01"],
])
def test_a_position_that_is_none_is_a_usage_error_before_connecting(capsys, argv):
    from streams.cli import main

    with pytest.raises(SystemExit) as exited:  # a ValueError traceback (exit 1) once the settings were loaded
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "is not a position in the log: beginning, end, partition:offset" in err and "Traceback" not in err


def test_the_audit_report_keeps_the_positions_as_given():
    from streams.cli import build_parser

    args = build_parser().parse_args(["audit", "--entity", "x", "--from", "0:5", "--to", "2025-03-01T00:00:00Z"])
    assert (args.start, args.end) == ("0:5", "2025-03-01T00:00:00Z")
    assert (build_parser().parse_args(["replay"]).start, build_parser().parse_args(["replay"]).end) == \
        ("beginning", "end")
