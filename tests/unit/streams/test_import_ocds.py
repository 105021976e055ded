"""`coi-risk import` on OCDS packages (tests/fixtures/ocds): detection, the counts in the summary, the same bytes on
re-import, and the package's publisher asked for where the data names none."""

from __future__ import annotations

from pathlib import Path

from schemas import parse_event
from schemas.ftm import ImportReport
from streams.cli import main
from streams.commands.importer import JsonValues, detect_format

OCDS = Path(__file__).parents[2] / "fixtures" / "ocds"


def run(capsys, *argv: str) -> tuple[list[str], str, int]:
    code = main(["import", *argv, "--quiet"])
    captured = capsys.readouterr()
    return [line for line in captured.out.splitlines() if line.strip()], captured.err, code


def test_ocds_packages_are_detected_and_imported_the_same_twice(capsys):
    path = OCDS / "record-package-1-2.json"
    for package in OCDS.glob("*.json"):
        assert detect_format(JsonValues(package, ImportReport(), progress=False)) == "ocds", package
    first, err, code = run(capsys, str(path))
    assert code == 0 and "import (ocds): converted 3" in err and "skipped 0" in err, err
    assert "ocds processes read from a compiled release: 2" in err
    assert {parse_event(line.encode()).relation_type.value for line in first} == {"awards_contract"}
    again, _, _ = run(capsys, str(path), "--format", "ocds")
    assert again == first


def test_a_package_without_its_publisher_needs_one_given(capsys):
    path = OCDS / "release-package_1.1-1.json"
    lines, err, code = run(capsys, str(path))
    assert lines == [] and code == 1 and "missing_provenance" in err and "--publisher" in err
    lines, err, code = run(capsys, str(path), "--publisher", "DNCP - Paraguay", "--source-url",
                           "https://www.contrataciones.gov.py/datos/record-package/193399.json")
    assert code == 0 and len(lines) == 1
