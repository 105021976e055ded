"""`coi-risk import` on LDA filings (tests/fixtures/lda): detection of a page and of a filing, the counts in the
summary, the same bytes on re-import, JSON lines of filings, and `--publisher` where a user names another."""

from __future__ import annotations

import json
from pathlib import Path

from schemas import parse_event
from schemas.ftm import ImportReport
from streams.commands.importer import JsonValues, detect_format
from tests.unit.streams.test_import_ocds import run  # `coi-risk import ... --quiet`: (lines, stderr, exit code)

LDA = Path(__file__).parents[2] / "fixtures" / "lda"
PAGE = LDA / "senate_filings_registrant_401104726_page1.json"


def test_a_page_and_a_filing_are_detected_and_imported_the_same_twice(capsys):
    for path in (PAGE, LDA / "senate_filing_00b70943.json"):
        assert detect_format(JsonValues(path, ImportReport(), progress=False)) == "lda", path
    first, err, code = run(capsys, str(PAGE))
    assert code == 0 and "import (lda): converted 90; retracted 5; skipped 0" in err, err
    assert "lda reports replaced by one posted later: 2" in err
    events = [parse_event(line.encode()) for line in first]
    assert {e.relation_type.value for e in events} == {"lobbies", "payment", "representation"}
    assert sum(e.op.value == "retract" for e in events) == 5
    again, _, _ = run(capsys, str(PAGE), "--format", "lda")
    assert again == first


def test_filings_as_json_lines_give_the_page_s_events(capsys, tmp_path):
    lines = tmp_path / "filings.jsonl"
    lines.write_text("".join(json.dumps(f) + "\n" for f in json.loads(PAGE.read_text())["results"]))
    from_lines, err, code = run(capsys, str(lines))
    from_page, _, _ = run(capsys, str(PAGE))
    assert code == 0 and sorted(from_lines) == sorted(from_page), err


def test_a_publisher_given_is_the_events_publisher(capsys):
    lines, _, code = run(capsys, str(PAGE), "--publisher", "Senate LDA mirror")
    assert code == 0 and {parse_event(line.encode()).provenance.publisher for line in lines} == {"Senate LDA mirror"}


def test_a_line_nested_near_the_parsers_limit_is_skipped_in_every_pass_and_reported_once(capsys, tmp_path):
    """The parser's reach depends on how deep its caller is: from the command line a filing nested 987 levels parsed
    in the first pass and failed the pass that writes, which reports nothing, so it was lost without a word (how deep
    that is depends on the caller's stack, so a test cannot hit it reliably). Lines nested beyond 500 levels, which
    every pass can parse, are now skipped in every pass, and reported once."""
    filings = json.loads(PAGE.read_text())["results"]
    deep = dict(filings[2], lobbying_activities={"a": ""})
    line = json.dumps(deep).replace('{"a": ""}', '{"a": ' + "[" * 600 + "]" * 600 + "}")
    path = tmp_path / "deep.jsonl"
    path.write_text(line + "\n" + "".join(json.dumps(f) + "\n" for f in filings[3:6]))
    lines, err, code = run(capsys, str(path))
    assert code == 1 and "skipped 1 (malformed_json: 1)" in err and "line 1: nests too deeply" in err, err
    assert lines and all(filings[2]["filing_uuid"] not in line for line in lines)
