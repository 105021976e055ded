"""`coi-risk import` on KEK records as its API gives them (tests/fixtures/kek, pretty-printed objects one after
another, as `cat shareholders/*.json media/*.json` makes them): detection, the same bytes on re-import."""

from __future__ import annotations

from pathlib import Path

from schemas import parse_event
from schemas.ftm import ImportReport
from streams.cli import main
from streams.commands.importer import JsonValues, detect_format

FIXTURES = Path(__file__).parents[2] / "fixtures"
KEK = FIXTURES / "kek"


def concatenated(tmp_path: Path) -> Path:
    path = tmp_path / "kek.json"
    path.write_text("".join(p.read_text() for p in sorted(KEK.glob("*.json"))))
    return path


def run(capsys, *argv: str) -> tuple[list[str], str, int]:
    code = main(["import", *argv, "--quiet"])
    captured = capsys.readouterr()
    return [line for line in captured.out.splitlines() if line.strip()], captured.err, code


def test_kek_records_are_detected_and_imported_the_same_twice(capsys, tmp_path):
    path = concatenated(tmp_path)
    assert detect_format(JsonValues(path, ImportReport(), progress=False)) == "kek"
    assert detect_format(JsonValues(FIXTURES / "bods" / "tecido.json", ImportReport(), progress=False)) == "bods"
    first, err, code = run(capsys, str(path))
    assert code == 0 and "import (kek): converted 34" in err and "skipped 0" in err, err
    assert "kek holdings of shareholders counted together skipped: 1" in err
    events = [parse_event(line.encode()) for line in first]
    assert {e.relation_type.value for e in events} == {"ownership", "control", "regulates"}
    again, _, _ = run(capsys, str(path), "--format", "kek")
    assert again == first


def test_a_format_given_that_the_file_is_not_is_refused(capsys):
    from tests.unit.streams.test_import_ocds import run  # (it takes a refusal of the whole input)

    # --format wikidata on a KEK file: "converted 0 ... not converted: Wikidata radio 1", exit 0
    path = sorted((Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "kek").glob("media-*.json"))[0]
    lines, err, code = run(capsys, str(path), "--format", "wikidata")
    assert lines == [] and code == 2
    assert f"{path.name} reads as kek, not wikidata: leave --format out" in err
