"""`coi-risk import` on the Commons' Register of Members' Financial Interests (CSV, tests/fixtures/commons)."""

from __future__ import annotations

import datetime as dt

from schemas import parse_event
from schemas.events import EntityRef, RelationProperties
from schemas.vocabulary import RelationType
from tests.unit.schemas.test_commons import (AD_HOC_PAYMENTS, EMPLOYMENT, EXPORT, GIFTS, GIFTS_ABROAD, LAND, SHAREHOLDINGS,
                                            SHAREHOLDINGS_FEBRUARY)
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
    lines, err, code = run(capsys, str(LAND))
    assert lines == [] and code == 1
    assert "skipped 215 (not_converted_yet: 215)" in err and "land and property name no counterparty" in err


def test_other_files_and_flags_are_refused_in_one_line(capsys):
    for argv, why in (((str(CASPS), "--format", "commons"), "is not a category file of the Commons' Register"),
                      ((str(SHAREHOLDINGS), "--previous", str(SHAREHOLDINGS_FEBRUARY)), "not commons")):
        lines, err, code = run(capsys, *argv)
        assert lines == [] and code == 2 and why in err and "Traceback" not in err, (argv, err)


def test_an_export_is_imported_whole_from_its_directory(capsys, tmp_path):
    lines, err, code = run(capsys, str(EXPORT))
    # 1: 511 employments (479 jobs and 32 directorships), 1.1: 200 payments, 1.2: 184, 2: 200,
    # 3: 650, 4: 351 (316 visits), 5: 11, 7: 202, 9: 68 (34 relatives and their jobs), 10: 37; skipped: 6 (215)
    assert code == 0 and "import (commons): converted 2414" in err, err
    assert "skipped 215 (not_converted_yet: 215)" in err, err
    events = [parse_event(line.encode()) for line in lines]
    payments = {event.relation_id for event in events if event.relation_type.value == "payment"}
    assert "commons:12851:payment" in payments  # an ad hoc payment, read with its employment
    assert "PublishedInterest-Category_6.csv: row 197: land and property name no counterparty" in err
    assert err.count("each interest is observed when the register last published") == 1  # said once an export
    alone, err, code = run(capsys, str(AD_HOC_PAYMENTS))
    assert alone == [] and code == 1 and "import the export's directory" in err
    (tmp_path / "notes.txt").write_text("nothing here")
    lines, err, code = run(capsys, str(tmp_path))
    assert lines == [] and code == 2 and "holds none" in err
    (tmp_path / "PublishedInterest-Category_7.csv").write_text("name,country\nACME,GB\n")
    lines, err, code = run(capsys, str(tmp_path))
    assert lines == [] and code == 2 and "is not a category file" in err


def test_a_spreadsheets_resave_is_refused_for_what_it_is(capsys, tmp_path):
    text = GIFTS_ABROAD.read_bytes().decode("utf-8-sig")
    latin = tmp_path / "latin.csv"
    latin.write_bytes(text.encode("latin-1", errors="replace"))
    semicolons = tmp_path / "semicolons.csv"
    semicolons.write_text(text.replace(",", ";"), encoding="utf-8")
    for path, why in ((latin, "it is not UTF-8 (byte b'\\xa3'"), (semicolons, "its cells are separated by ';'")):
        lines, err, code = run(capsys, str(path))
        assert lines == [] and code == 2 and "looks like a category file of the Commons' register" in err, err
        assert why in err, err


def test_json_that_names_a_registers_column_is_read_as_json(capsys, tmp_path):
    entity = tmp_path / "entity.json"
    entity.write_text('{"id": "x", "schema": "Person", "properties": {"name": ["X"], '
                      '"notes": ["MNIS ID; ae_competentAuthority; one; two; three"]}}\n', encoding="utf-8")
    lines, err, code = run(capsys, str(entity))
    assert code == 0 and "import (ftm)" in err and "looks like" not in err, err


def test_an_export_directory_that_cannot_be_read_whole_is_refused_for_why(capsys, tmp_path):
    import shutil

    lines, err, code = run(capsys, str(EXPORT), "--format", "mica")
    assert lines == [] and code == 2 and "reads one only as an export of the Commons' register" in err
    export = tmp_path / "export"
    shutil.copytree(EXPORT, export)
    (export / "PublishedInterest-Category_7 (1).csv").write_bytes(SHAREHOLDINGS.read_bytes())  # a second download
    lines, err, code = run(capsys, str(export))
    assert lines == [] and code == 2 and "Category_7 (1).csv is not one of the export's category files" in err
    (export / "PublishedInterest-Category_7 (1).csv").unlink()
    (export / "PublishedInterest-Category_5.csv").write_text(
        GIFTS_ABROAD.read_bytes().decode("utf-8-sig").replace(",", ";"), encoding="utf-8")
    lines, err, code = run(capsys, str(export))
    assert lines == [] and code == 2 and "Category_5.csv looks like a category file" in err
    assert "its cells are separated by ';'" in err


def test_every_import_withdraws_the_partnership_the_first_importer_stated_beside_each_job(capsys):
    """commons-interests-import 1.0 stated a `partners_with` beside each job; a job is a tie of its own now, so a
    stream that still holds those counted each job twice (0.518 became 0.705: a review). Every import retracts them
    a microsecond after the job's version, so importing the register again (the same export or a later one; a
    corrected re-import too) mends the stream, which then scores as a fresh import does. Only a member's jobs had
    one: a relative's job (categories 9 and 10) is withdrawn nothing (a review)."""
    from scoring import Engine

    lines, err, code = run(capsys, str(EMPLOYMENT))
    assert code == 0 and "retracted 479;" in err, err
    events = [parse_event(line.encode()) for line in lines]
    jobs = [event for event in events if event.relation_type.value == "employment"]
    withdrawn = [event for event in events if event.op.value == "retract"]
    assert len(jobs) == 479

    def as_version_1_0(job):  # what the first importer stated beside the job
        return job.model_copy(update={
            "event_id": job.event_id + "-1.0", "relation_id": job.relation_id.replace(":employment", ":partners_with"),
            "relation_type": RelationType.PARTNERS_WITH,
            "properties": RelationProperties(role=f"paid as {job.properties.role or 'employee'}")})

    assert {event.relation_id for event in withdrawn} == {as_version_1_0(job).relation_id for job in jobs}
    assert all(event.observed_at == job.observed_at + dt.timedelta(microseconds=1)
               for event, job in zip(withdrawn, jobs))
    _, err, code = run(capsys, str(EXPORT))
    assert code == 0 and "retracted 479;" in err  # the relatives' jobs of the whole export: none
    restated, err, code = run(capsys, str(EMPLOYMENT), "--restated-at", "2026-12-01T00:00:00Z")
    assert code == 0 and "retracted 479;" in err, err

    # a member of the register made a minister whose office awards the payer of his job its contracts
    job = jobs[0]
    office = EntityRef.model_validate({"id": "example-office", "schema": "Position", "name": "Minister (example)",
                                       "topics": ["gov.national"]})
    authority = [job.model_copy(update={"event_id": f"example-{kind}", "relation_id": f"example-{kind}",
                                        "relation_type": RelationType(kind), "source": source, "target": target,
                                        "properties": RelationProperties(), "start_date": None, "end_date": None})
                 for kind, source, target in (("occupancy", job.source, office),
                                              ("awards_contract", office, job.target))]

    def scored(*streams):
        engine = Engine(as_of=dt.date(2026, 12, 1))
        for stream in streams:
            engine.apply_many(stream)
        found = engine.score(job.source.id, job.target.id)
        return found.score if found else None

    stale = [*jobs, *map(as_version_1_0, jobs)]
    fresh = scored(authority, events)
    assert fresh is not None and scored(authority, stale) > fresh  # counted twice
    assert scored(authority, stale, events) == fresh  # the same export imported again
    assert scored(authority, stale, [parse_event(line.encode()) for line in restated]) == fresh
    assert scored(authority, jobs) == fresh  # a stream that never held them
