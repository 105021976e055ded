"""`export-bods` states each indirect stake as it stands on the date its statements are as of."""

from __future__ import annotations

import json

from streams.cli import main
from tests.unit.scoring.conftest import EventFactory


def _company(name: str) -> tuple:
    return name, "Company", name.upper(), ()


def _export(tmp_path, capsys, as_of: str, *events) -> list[dict]:
    path = tmp_path / "events.jsonl"
    path.write_text("".join(event.model_dump_json(by_alias=True, exclude_none=True) + "\n" for event in events))
    assert main(["export-bods", str(path), "--as-of", as_of]) == 0
    return [s for s in json.loads(capsys.readouterr().out) if s.get("recordType") == "relationship"]


def test_a_stake_cut_is_stated_at_its_size_on_the_date_along_the_chains_that_hold_then(tmp_path, capsys):
    """Alice holds H, which held 60% of B until mid-2021 and 10% since; she also held C, which holds 20% of B,
    until 2020. As of 2025 the share is 10% along a -> h -> b alone (a review: the chain sold in 2020 was listed,
    and the earlier state as a second a -> h -> b)."""
    make = EventFactory().make
    alice = ("a", "Person", "Alice", ())
    events = (make("ownership", alice, _company("h"), percentage=100, relation_id="a-h"),
              make("ownership", _company("h"), _company("b"), percentage=60, start="2015-01-01", end="2021-06-30",
                   relation_id="h-b1"),
              make("ownership", _company("h"), _company("b"), percentage=10, start="2021-07-01", relation_id="h-b2"),
              make("ownership", alice, _company("c"), percentage=100, start="2015-01-01", end="2020-12-31",
                   relation_id="a-c"),
              make("ownership", _company("c"), _company("b"), percentage=20, start="2015-01-01", relation_id="c-b"))
    (statement,) = _export(tmp_path, capsys, "2025-06-01", *events)
    (interest,) = statement["recordDetails"]["interests"]
    assert interest["share"]["exact"] == 10.0
    assert interest["details"].endswith("along: a -> h -> b")
    (statement,) = _export(tmp_path, capsys, "2021-03-01", *events)
    (interest,) = statement["recordDetails"]["interests"]
    assert interest["share"]["exact"] == 60.0 and interest["details"].endswith("along: a -> h -> b")


def test_a_holding_moved_to_a_holding_company_is_not_stated_twice_on_the_day(tmp_path, capsys):
    """30% direct until 2021-06-30, then through H from that day: 30% on the day, not 60% (a review)."""
    make = EventFactory().make
    alice = ("a", "Person", "Alice", ())
    events = (make("ownership", alice, _company("b"), percentage=30, start="2015-01-01", end="2021-06-30"),
              make("ownership", alice, _company("h"), percentage=100, start="2021-06-30"),
              make("ownership", _company("h"), _company("b"), percentage=30, start="2021-06-30"))
    (statement,) = _export(tmp_path, capsys, "2021-06-30", *events)
    (interest,) = statement["recordDetails"]["interests"]
    assert interest["share"]["exact"] == 30.0
