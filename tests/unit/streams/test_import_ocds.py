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
    try:
        code = main(["import", *argv, "--quiet"])
    except SystemExit as stop:  # a refusal of the whole input
        code = stop.code
    captured = capsys.readouterr()
    return [line for line in captured.out.splitlines() if line.strip()], captured.err, code


def test_ocds_packages_are_detected_and_imported_the_same_twice(capsys):
    path = OCDS / "record-package-1-2.json"
    for package in (OCDS / name for name in ("record-package-1-2.json", "release-package-1-2.json",
                                             "release-package_1.1-1.json", "release-package_1.1-2.json")):
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


def test_a_file_not_in_utf8_is_refused_in_one_line_and_a_line_nested_too_deep_is_skipped(capsys, tmp_path):
    """ocdskit keeps a real Mexico City package in ISO-8859-1, on one line: JSON is UTF-8, so as a line it is skipped
    and counted, as an indented file it is refused with where and how to convert it; never a traceback. A first line
    nested beyond the parser's reach is one skipped line."""
    iso = OCDS / "release-package_encoding-iso-8859-1.json"
    lines, err, code = run(capsys, str(iso))
    assert code == 2 and lines == [] and "is not UTF-8" in err and "iconv" in err and "Traceback" not in err
    indented = tmp_path / "indented-latin1.json"
    text = iso.read_bytes().decode("latin-1")
    import json
    indented.write_bytes(json.dumps(json.loads(text), indent=2, ensure_ascii=False).encode("latin-1"))
    lines, err, code = run(capsys, str(indented))
    assert code == 2 and lines == [] and "not UTF-8" in err and "iconv" in err and "Traceback" not in err
    deep = tmp_path / "deep.jsonl"
    package = (OCDS / "record-package-1-2.json").read_text()
    deep.write_text('{"a":' * 995 + "1" + "}" * 995 + "\n" + " ".join(package.split()) + "\n")
    lines, err, code = run(capsys, str(deep), "--format", "ocds")
    assert code == 1 and len(lines) == 3 and "nests too deeply" in err  # (the unread line's exit)


def test_an_indented_object_larger_than_the_sniffed_head_is_read_as_one_value(capsys, tmp_path, monkeypatch):
    """A package of thousands of releases written with indentation: the reader sniffs the file's head (4 MiB) to tell
    an indented object from JSON lines; an object larger than that is still one value, not lines each skipped."""
    import json

    from streams.commands import importer

    package = json.loads((OCDS / "record-package-1-2.json").read_text())
    path = tmp_path / "indented.json"
    path.write_text(json.dumps(package, indent=2))
    monkeypatch.setattr(importer._object_spans_lines, "__defaults__", (512,))  # a head smaller than the object
    lines, err, code = run(capsys, str(path))
    assert code == 0 and len(lines) == 3 and "malformed_json" not in err, err


def test_a_package_on_one_line_in_another_encoding_says_to_convert_it(capsys):
    # "import (ftm): converted 0; ... skipped 1 (malformed_json: 1)": the wrong format named, no hint
    lines, err, code = run(capsys, str(OCDS / "release-package_encoding-iso-8859-1.json"))
    assert lines == [] and code == 2
    assert "release-package_encoding-iso-8859-1.json is not UTF-8 (1 record(s) read, none in UTF-8); JSON is UTF-8: " \
        "convert it first, e.g. iconv -f ISO-8859-1 -t UTF-8" in err
