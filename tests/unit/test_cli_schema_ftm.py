"""`coi-risk schema`, `import-ftm` and `export-ftm` through the real command line."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from schemas import parse_event
from schemas.export import CONTRACTS, json_schema, render, write_all
from streams.cli import main

ROOT = Path(__file__).parents[2]
SEED = ROOT / "examples" / "binance-wlfi.jsonl"
OPENSANCTIONS = ROOT / "tests" / "unit" / "schemas" / "data" / "opensanctions-style.ftm.jsonl"
DEFAULTS = ["--publisher", "OpenSanctions", "--source-url", "https://www.opensanctions.org/datasets/default/",
            "--retrieved-at", "2025-05-20T06:10:44Z"]


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


# --- schema ---------------------------------------------------------------------------------------------------

def test_schema_prints_one_contract(capsys):
    assert main(["schema", "relationship-event"]) == 0
    assert json.loads(capsys.readouterr().out) == json_schema("relationship-event")


@pytest.mark.parametrize("argv", [["schema", "--list"], ["schema"]])
def test_schema_lists_the_contracts(capsys, argv):
    assert main(argv) == 0
    assert lines(capsys.readouterr().out) == list(CONTRACTS)


def test_schema_refuses_an_unknown_contract(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["schema", "relationship-events"])
    assert exited.value.code == 2
    assert "no contract 'relationship-events': one of relationship-event, risk-score" in capsys.readouterr().err


@pytest.mark.parametrize(("topic", "contract"), [("alerts", "alert"), ("scores", "risk-score"),
                                                 ("dead-letters", "dead-letter"), ("events", "relationship-event")])
def test_schema_takes_the_names_tail_gives_the_topics(capsys, topic, contract):
    # `tail alerts` but `schema alert`: a user's review hit "invalid choice"
    assert main(["schema", topic]) == 0
    assert json.loads(capsys.readouterr().out) == json_schema(contract)


def test_schema_write_regenerates_every_file(capsys, monkeypatch, tmp_path):
    monkeypatch.setattr("streams.commands.schema.write_all", lambda: write_all(tmp_path))
    assert main(["schema", "--write"]) == 0
    assert capsys.readouterr().out == ""
    for name in CONTRACTS:
        assert (tmp_path / f"{name}.json").read_text() == render(name)


# --- import-ftm -----------------------------------------------------------------------------------------------

def test_import_ftm_writes_events_and_a_summary(capsys):
    assert main(["import-ftm", str(OPENSANCTIONS), *DEFAULTS, "--confidence", "0.7"]) == 0
    captured = capsys.readouterr()
    events = [parse_event(line.encode()) for line in lines(captured.out)]
    assert len(events) == 6
    assert {event.provenance.confidence for event in events} == {0.7}
    assert "import-ftm (ftm): converted 6; retracted 0; skipped 1 (unknown_role: 1); notes 2" in captured.err
    assert "skipped UnknownLink pl-ul-partner-9f8e: unknown_role" in captured.err
    assert "note: Ownership pl-own-7d21c4e8aa90: startDate 2019 read as 2019-01-01" in captured.err
    assert "not converted (neither a relation nor an endpoint): Address 1, Sanction 1" in captured.err


def test_import_ftm_without_defaults_takes_provenance_from_the_data(capsys):
    assert main(["import-ftm", str(OPENSANCTIONS)]) == 0
    captured = capsys.readouterr()
    assert len(lines(captured.out)) == 6, "datasets and first_seen/last_change stand in for the flags"


def test_import_ftm_without_defaults_skips_relations_without_any_provenance(capsys, tmp_path):
    bare = tmp_path / "bare.ftm.jsonl"
    bare.write_text("".join(json.dumps({key: value for key, value in entity.items()
                                        if key not in ("datasets", "first_seen", "last_change")}) + "\n"
                            for entity in map(json.loads, OPENSANCTIONS.read_text().splitlines())))
    assert main(["import-ftm", str(bare)]) == 0
    captured = capsys.readouterr()
    assert len(lines(captured.out)) == 1, "only the relation that names publisher, source and time converts"
    assert "missing_provenance: 5" in captured.err and "--publisher" in captured.err


def test_import_ftm_reports_lines_that_are_not_json(capsys, tmp_path):
    path = tmp_path / "broken.ftm.jsonl"
    path.write_text('{"id": "p1", "schema": "Person", "properties": {"name": ["Pat"]}}\n{"id": \n')
    assert main(["import-ftm", str(path)]) == 1, "nothing converted and something skipped"
    assert "malformed_json: line 2" in capsys.readouterr().err


def test_import_ftm_skips_a_line_nested_too_deeply_and_converts_the_rest(capsys, tmp_path):
    # json.loads raised RecursionError on it, which stopped the whole import with a traceback
    entities = OPENSANCTIONS.read_text().splitlines()
    path = tmp_path / "deep.ftm.jsonl"
    path.write_text("\n".join([entities[0], "[" * 100_000 + "]" * 100_000, *entities[1:]]) + "\n")
    assert main(["import-ftm", str(path), *DEFAULTS]) == 1  # the unread line's exit; the rest converted
    captured = capsys.readouterr()
    assert len(lines(captured.out)) == 6, "every relation converted"
    assert "malformed_json: line 2: nests too deeply to parse" in captured.err


def test_import_ftm_reads_stdin(capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(OPENSANCTIONS.read_text()))
    assert main(["import-ftm", "-", *DEFAULTS]) == 0
    assert len(lines(capsys.readouterr().out)) == 6


@pytest.mark.parametrize(("argv", "says"), [
    (["import-ftm", "missing.ftm.jsonl"], "cannot read missing.ftm.jsonl"),
    (["import-ftm", str(OPENSANCTIONS), "--confidence", "1.5"], "confidence is a number from 0 to 1"),
    (["import-ftm", str(OPENSANCTIONS), "--retrieved-at", "last week"], "not an ISO 8601 time"),
])
def test_import_ftm_refuses_bad_arguments(capsys, argv, says):
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert says in str(exited.value.code) + capsys.readouterr().err


# --- export-ftm -----------------------------------------------------------------------------------------------

def test_export_ftm_writes_entities_and_relations(capsys):
    assert main(["export-ftm", str(SEED)]) == 0
    captured = capsys.readouterr()
    entities = [json.loads(line) for line in lines(captured.out)]
    relation_ids = {json.loads(line)["relation_id"] for line in SEED.read_text().splitlines()}
    assert relation_ids <= {entity["id"] for entity in entities}
    assert "export-ftm: 29 events -> 46 FtM entities; 0 lines rejected" in captured.err


def test_export_ftm_reports_invalid_events_and_fails(capsys, tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text(SEED.read_text().splitlines()[0] + "\n" + '{"schema_version": "9.9"}\n')
    assert main(["export-ftm", str(path)]) == 1
    captured = capsys.readouterr()
    assert len(lines(captured.out)) == 3
    assert "line 2: unknown_schema_version" in captured.err


def test_export_then_import_gives_the_relations_back(capsys, tmp_path):
    main(["export-ftm", str(SEED)])
    exported = tmp_path / "seed.ftm.jsonl"
    exported.write_text(capsys.readouterr().out)
    assert main(["import-ftm", str(exported)]) == 0
    events = [parse_event(line.encode()) for line in lines(capsys.readouterr().out)]
    original = {json.loads(line)["relation_id"]: json.loads(line) for line in SEED.read_text().splitlines()}
    assert {event.relation_id for event in events} == set(original)
    for event in events:
        assert event.relation_type.value == original[event.relation_id]["relation_type"]
