"""`coi-risk import` on ESMA's MiCA register files (CSV, tests/fixtures/mica)."""

from __future__ import annotations

import csv
import io

from schemas import parse_event
from tests.unit.schemas.test_mica import (ARTZZ, CASPS, CASPS_FEBRUARY, EMTWP, NCASP, NCASP_FEBRUARY, OPEN_BANK_BY_NAME,
                                         OTHER, rows_of)
from tests.unit.streams.test_import_lda import PAGE as LDA_PAGE
from tests.unit.streams.test_import_ocds import run


def test_a_register_is_detected_by_its_header_and_imported_the_same_twice(capsys):
    lines, err, code = run(capsys, str(CASPS))
    assert code == 0 and "import (mica): converted 324" in err and "skipped 0" in err, err
    assert {parse_event(line.encode()).relation_type.value for line in lines} == {"regulates"}
    again, _, _ = run(capsys, str(CASPS), "--format", "mica")
    assert again == lines
    emts, err, code = run(capsys, str(EMTWP))
    assert code == 0 and len(emts) == 38, err  # 22 issuers licensed, 16 tokens they issue
    warned, err, code = run(capsys, str(NCASP))
    assert code == 0 and "import (mica): converted 162" in err and "skipped 0" in err, err
    assert {parse_event(line.encode()).relation_type.value for line in warned} == {"prosecutes"}


def test_a_register_that_cannot_be_dated_says_why_and_fails(capsys):
    lines, err, code = run(capsys, str(OTHER))
    assert lines == [] and code == 1
    assert "skipped 17 (missing_provenance: 17)" in err and "give the day it was downloaded with --retrieved-at" in err
    lines, err, code = run(capsys, str(OTHER), "--retrieved-at", "2026-02-09T00:00:00Z")
    assert len(lines) == 17 and code == 0, err
    lines, err, code = run(capsys, str(ARTZZ))  # a header alone: nothing to say, nothing wrong
    assert lines == [] and code == 0 and "converted 0" in err


def test_provenance_flags_fill_only_what_the_register_lacks(capsys):
    lines, _, _ = run(capsys, str(EMTWP), "--retrieved-at", "2026-08-21T09:00:00Z", "--confidence", "0.95")
    events = [parse_event(line.encode()) for line in lines]
    assert {event.provenance.confidence for event in events} == {0.95}
    # the day the file was downloaded is when the register said what it holds
    assert {event.observed_at.isoformat() for event in events} == {"2026-08-21T09:00:00+00:00"}
    assert {str(event.provenance.source_url) for event in events} == \
        {"https://www.esma.europa.eu/sites/default/files/2024-12/EMTWP.csv"}


def test_a_file_that_is_no_register_is_refused_in_one_line(capsys, tmp_path):
    json_file = tmp_path / "entities.json"
    json_file.write_text('{"id": "x", "schema": "Person", "properties": {"name": ["X"]}}\n')
    lines, err, code = run(capsys, str(json_file), "--format", "mica")
    assert lines == [] and code and "is not one of ESMA's MiCA registers" in str(code) + err
    latin = tmp_path / "casps-latin1.csv"
    latin.write_bytes(CASPS.read_bytes().decode("utf-8-sig").encode("latin-1", errors="replace"))
    lines, err, code = run(capsys, str(latin))
    assert lines == [] and "is not UTF-8" in str(code) + err and "Traceback" not in err
    other_csv = tmp_path / "other.csv"
    other_csv.write_text("name,country\nACME,DE\n")
    lines, err, code = run(capsys, str(other_csv))
    assert lines == [] and "not JSON lines" in str(code) + err


def test_a_broken_csv_is_refused_with_where(capsys, tmp_path):
    broken = tmp_path / "casps.csv"
    header = CASPS.read_bytes().split(b"\n", 1)[0]
    broken.write_bytes(header + b"\n" + b"BaFin,DE,Firm," + b"x" * 5_000 + b",\n")
    limit = csv.field_size_limit(1_000)  # (followthemoney, once imported, raises the module's limit for everyone)
    try:
        lines, err, code = run(capsys, str(broken))
    finally:
        csv.field_size_limit(limit)
    assert lines == [] and "cannot be read past line 1:" in str(code) + err and "Traceback" not in err


def test_a_huge_cell_is_read_but_not_repeated_whole(capsys, tmp_path):
    huge = tmp_path / "casps.csv"
    header, rows = rows_of(CASPS)
    rows[0]["ae_lei"] = "9" * 100_000
    out = io.StringIO()
    writer = csv.DictWriter(out, header)
    writer.writeheader()
    writer.writerow(rows[0])
    huge.write_text(out.getvalue(), encoding="utf-8")
    lines, err, code = run(capsys, str(huge))
    assert len(lines) == 1 and code == 0 and "is not a valid LEI" in err and len(err) < 2_000


def test_a_stray_quote_stops_the_reading_at_its_line(capsys, tmp_path):
    text = CASPS.read_bytes().decode("utf-8-sig").split("\r\n")
    text[5] = '"' + text[5]  # a quote that opens a cell and never closes it where it should
    broken = tmp_path / "casps.csv"
    broken.write_text("\r\n".join(text), encoding="utf-8")
    lines, err, code = run(capsys, str(broken))
    assert lines == [] and "cannot be read past line" in str(code) + err and "Traceback" not in err


def test_a_header_is_read_as_it_is_detected(capsys, tmp_path):
    header, rows = rows_of(CASPS)
    spaced = tmp_path / "spaced.csv"
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([f" {name}" if name else name for name in header])  # "ae_competentAuthority, ae_homeMember..."
    writer.writerows([row[name] for name in header] for row in rows)
    spaced.write_text(out.getvalue(), encoding="utf-8")
    lines, err, code = run(capsys, str(spaced))
    assert code == 0 and len(lines) == 324, err
    twice = tmp_path / "twice.csv"
    twice.write_text(",".join([*header, "ae_lei"]) + "\n", encoding="utf-8")
    lines, err, code = run(capsys, str(twice))
    assert lines == [] and "names ae_lei more than once" in str(code) + err


def test_an_earlier_snapshot_given_retracts_what_the_register_no_longer_states(capsys, tmp_path):
    lines, err, code = run(capsys, str(CASPS), "--previous", str(CASPS_FEBRUARY))
    assert code == 0 and "converted 324; retracted 1" in err, err
    retractions = [parse_event(line.encode()) for line in lines if '"op":"retract"' in line]
    assert [event.relation_id for event in retractions] == [OPEN_BANK_BY_NAME]
    # refused before any event is written: the snapshots the wrong way round, another register, no file, not MiCA
    for argv, why in (((str(CASPS_FEBRUARY), "--previous", str(CASPS)), "is not older than this one"),
                      ((str(CASPS), "--previous", str(NCASP_FEBRUARY)), "is not a snapshot of the register"),
                      ((str(NCASP), "--previous", str(tmp_path / "absent.csv")), "no such file"),
                      ((str(LDA_PAGE), "--previous", str(CASPS)), "not lda")):
        lines, err, code = run(capsys, *argv)
        assert lines == [] and code == 2 and why in err and "Traceback" not in err, (argv, err)
    broken = tmp_path / "february.csv"
    broken.write_bytes(CASPS_FEBRUARY.read_bytes().replace(b"\r\n", b'\r\n"', 3))
    lines, err, code = run(capsys, str(CASPS), "--previous", str(broken))
    assert lines == [] and f"--previous {broken}: the CSV cannot be read past line" in err, err


def test_a_spreadsheets_resave_is_read_or_refused_for_what_it_is(capsys, tmp_path):
    original, _, _ = run(capsys, str(CASPS))
    data = CASPS.read_bytes()
    twice = tmp_path / "two-marks.csv"  # a byte-order mark, saved again with one
    twice.write_bytes(b"\xef\xbb\xbf" + data)
    mac = tmp_path / "mac.csv"  # lines ending in a carriage return alone (the cells' own line breaks kept)
    mac.write_bytes(data.replace(b"\r\n", b"\r"))
    for path in (twice, mac):
        lines, err, code = run(capsys, str(path))
        assert lines == original and code == 0, err
    text = data.decode("utf-8-sig")
    semicolons = tmp_path / "semicolons.csv"
    semicolons.write_text(text.replace(",", ";"), encoding="utf-8")
    utf16 = tmp_path / "utf16.csv"
    utf16.write_text(text, encoding="utf-16")
    for path, why in ((semicolons, "its cells are separated by ';'"), (utf16, "it is UTF-16")):
        for argv in ((str(path),), (str(path), "--format", "mica")):
            lines, err, code = run(capsys, *argv)
            assert lines == [] and code == 2 and "looks like one of ESMA's MiCA registers" in err and why in err, err


def test_the_earlier_snapshot_may_come_through_a_pipe_never_from_standard_input(capsys, tmp_path):
    import gzip
    import os
    import threading

    fifo = tmp_path / "february.fifo"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_bytes(CASPS_FEBRUARY.read_bytes()))
    writer.start()
    lines, err, code = run(capsys, str(CASPS), "--previous", str(fifo))
    writer.join(timeout=10)
    assert code == 0 and "converted 324; retracted 1" in err, err
    packed = tmp_path / "february.csv.gz"
    packed.write_bytes(gzip.compress(CASPS_FEBRUARY.read_bytes()))
    for previous, why in ((str(packed), "is a gzip file"), ("-", "standard input is FILE's"),
                          (str(tmp_path), "is a directory")):
        lines, err, code = run(capsys, str(CASPS), "--previous", previous)
        assert lines == [] and code == 2 and why in err and "Traceback" not in err, (previous, err)


def _without(source, tmp_path, *columns: str):
    """The register's file as a spreadsheet leaves it with `columns` deleted."""
    rows = list(csv.reader(io.StringIO(source.read_bytes().decode("utf-8-sig"))))
    keep = [i for i, name in enumerate(rows[0]) if name.strip() not in columns]
    path = tmp_path / f"{source.stem}-cut.csv"
    out = io.StringIO()
    csv.writer(out).writerows([[row[i] for i in keep if i < len(row)] for row in rows])
    path.write_text(out.getvalue())
    return path


def test_a_register_without_a_column_it_is_read_by_is_refused_by_name(capsys, tmp_path):
    # Without ae_lei, 19 firms were named by their names (no LEI identifier, other ids), exit 0 and no note; without
    # the notification date no licence had a start.
    for source, column in ((CASPS, "ae_lei"), (CASPS, "ac_authorisationNotificationDate"), (EMTWP, "ac_authorisationEndDate"),
                           (OTHER, "ae_lei_name_casp"), (NCASP, "ae_decision_date")):
        lines, err, code = run(capsys, str(_without(source, tmp_path, column)), "--retrieved-at",
                               "2026-08-21T00:00:00Z")
        assert lines == [] and code == 2, (column, err)
        assert f"-cut.csv lacks the column {column} of ESMA's " in err and "Traceback" not in err, err
    lines, err, code = run(capsys, str(_without(CASPS, tmp_path, "ae_lei", "ae_homeMemberState")))
    assert "lacks the columns ae_homeMemberState, ae_lei of ESMA's casp register" in err and code == 2
    # a column no reading depends on may go (the address)
    lines, err, code = run(capsys, str(_without(CASPS, tmp_path, "ae_address")))
    assert code == 0 and len(lines) == 324, err


def test_every_register_esma_published_has_the_columns_it_is_read_by():
    from schemas.mica import missing_columns, register_of

    for source in (CASPS, CASPS_FEBRUARY, EMTWP, ARTZZ, NCASP, NCASP_FEBRUARY, OTHER):
        header = next(csv.reader(io.StringIO(source.read_bytes().decode("utf-8-sig"))))
        assert missing_columns(header, register_of(header)) == [], source.name


def test_an_earlier_snapshot_without_a_column_it_is_read_by_is_refused_too(capsys, tmp_path):
    earlier = _without(CASPS_FEBRUARY, tmp_path, "ae_lei")
    lines, err, code = run(capsys, str(CASPS), "--previous", str(earlier))
    assert lines == [] and code == 2
    assert f"--previous {earlier} lacks the column ae_lei of ESMA's casp register" in err
