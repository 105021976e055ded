"""`coi-risk import` on the Commons' Register of Members' Financial Interests (CSV, tests/fixtures/commons)."""

from __future__ import annotations

from schemas import parse_event
from tests.unit.schemas.test_commons import FAMILY_LOBBYING, GIFTS, SHAREHOLDINGS, SHAREHOLDINGS_FEBRUARY
from tests.unit.schemas.test_mica import CASPS
from tests.unit.streams.test_import_ocds import run


def test_a_category_file_is_detected_by_its_header_and_imported_the_same_twice(capsys):
    lines, err, code = run(capsys, str(SHAREHOLDINGS))
    assert code == 0 and "import (commons): converted 202" in err and "skipped 0" in err, err
    assert {parse_event(line.encode()).relation_type.value for line in lines} == {"ownership"}
    again, _, _ = run(capsys, str(SHAREHOLDINGS), "--format", "commons")
    assert again == lines
    gifts, err, code = run(capsys, str(GIFTS))
    assert code == 0 and len(gifts) == 650, err


def test_a_category_not_read_says_why_and_fails(capsys):
    lines, err, code = run(capsys, str(FAMILY_LOBBYING))
    assert lines == [] and code == 1
    assert "skipped 21 (not_converted_yet: 21)" in err and "lobbying are not read yet" in err


def test_other_files_and_flags_are_refused_in_one_line(capsys):
    for argv, why in (((str(CASPS), "--format", "commons"), "is not a category file of the Commons' Register"),
                      ((str(SHAREHOLDINGS), "--previous", str(SHAREHOLDINGS_FEBRUARY)), "not commons")):
        lines, err, code = run(capsys, *argv)
        assert lines == [] and code == 2 and why in err and "Traceback" not in err, (argv, err)
