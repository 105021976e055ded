"""BODS in (schemas/bods.py): the 0.3 shape, versions and what cannot be read. The 0.4 examples of Open Ownership
are imported end to end in tests/unit/streams/test_import_real_data.py."""

from __future__ import annotations

import datetime as dt

from schemas.bods import events_from_bods
from schemas.ftm import ImportDefaults, ImportReport

PUBLICATION = {"publicationDate": "2020-01-10", "bodsVersion": "0.3",
               "publisher": {"name": "Register (fictional)", "url": "https://register.example.org/"}}


def statement(**fields) -> dict:
    return {"publicationDetails": PUBLICATION, **fields}


PERSON = statement(statementID="p-1-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", statementType="personStatement",
                   statementDate="2020-01-01", names=[{"fullName": "Jana Horvat"}],
                   nationalities=[{"code": "SI"}])
COMPANY = statement(statementID="e-1-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", statementType="entityStatement",
                    statementDate="2020-01-01", entityType="registeredEntity", name="Gradnja d.o.o.")


def ownership(statement_id: str, date: str, interests: list[dict], replaces: list[str] | None = None) -> dict:
    return statement(statementID=statement_id, statementType="ownershipOrControlStatement", statementDate=date,
                     subject={"describedByEntityStatement": COMPANY["statementID"]},
                     interestedParty={"describedByPersonStatement": PERSON["statementID"]},
                     interests=interests, **({"replacesStatements": replaces} if replaces else {}))


def test_bods_03_versions_follow_replaces_statements():
    first = ownership("o-1-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "2020-01-01", [
        {"type": "shareholding", "interestLevel": "direct", "share": {"exact": 30}, "startDate": "2019"},
        {"type": "votingRights", "interestLevel": "direct", "share": {"minimum": 25, "maximum": 50}}])
    second = ownership("o-2-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "2021-03-01", [
        {"type": "shareholding", "interestLevel": "direct", "share": {"exact": 55}, "startDate": "2019"}],
        replaces=[first["statementID"]])
    report = ImportReport()
    events = list(events_from_bods([PERSON, COMPANY, first, second], report=report))
    by_op = [(e.op.value, e.relation_id, e.properties.percentage) for e in events]
    record = first["statementID"]
    assert by_op == [("upsert", f"{record}/shareholding", 30.0), ("upsert", f"{record}/votingRights", None),
                     ("retract", f"{record}/votingRights", None), ("upsert", f"{record}/shareholding", 55.0)]
    assert events[0].source.name == "Jana Horvat" and events[0].source.country == "si"
    assert events[0].start_date == dt.date(2019, 1, 1)
    assert events[1].properties.role == "voting rights, 25-50%"
    assert events[3].observed_at > events[0].observed_at
    assert (report.converted, report.retracted) == (3, 1)


def test_missing_parties_and_provenance_are_reported():
    orphan = ownership("o-9-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "2020-01-01", [{"type": "shareholding"}])
    report = ImportReport()
    assert list(events_from_bods([orphan], report=report)) == []
    [skipped] = report.skipped
    assert skipped.reason == "missing_endpoint" and "not a person or entity statement" in skipped.message
    anonymous = {key: value for key, value in PERSON.items() if key != "publicationDetails"}
    report = ImportReport()
    list(events_from_bods([anonymous, COMPANY, {**ownership("o-8-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "2020-01-01",
                                                             [{"type": "shareholding"}]),
                                                "publicationDetails": {}}], ImportDefaults(), report))
    assert report.skip_reasons() == {"missing_provenance": 1}
    assert "--source-url" in report.skipped[0].message


def test_bods_03_parties_named_by_a_later_statement_are_the_same_party():
    renamed = statement(statementID="e-2-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", statementType="entityStatement",
                        statementDate="2021-01-01", entityType="registeredEntity", name="Gradnja Group d.o.o.",
                        replacesStatements=[COMPANY["statementID"]])
    later = ownership("o-3-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "2021-02-01", [{"type": "shareholding",
                                                                             "share": {"exact": 10}}])
    later["subject"] = {"describedByEntityStatement": renamed["statementID"]}
    [event] = events_from_bods([PERSON, COMPANY, renamed, later])
    assert (event.target.id, event.target.name) == (COMPANY["statementID"], "Gradnja Group d.o.o.")


def test_bods_identifiers_map_through_the_scheme_table():
    person = dict(PERSON, identifiers=[{"scheme": "SVN-TAXID", "id": "12 345 678"},
                                       {"scheme": "SVN-PASSPORT", "id": "PB1234567"},
                                       {"schemeName": "Wikidata", "uri": "https://www.wikidata.org/wiki/Q4115189"}])
    company = dict(COMPANY, identifiers=[{"scheme": "GB-COH", "id": "07444723"}, {"scheme": "XI-LEI", "id": "bad"}])
    report = ImportReport()
    [plain] = events_from_bods([PERSON, COMPANY, ownership("o-1-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "2020-01-01", [
        {"type": "shareholding", "interestLevel": "direct", "share": {"exact": 30}}])])
    [event] = events_from_bods([person, company, ownership("o-1-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "2020-01-01", [
        {"type": "shareholding", "interestLevel": "direct", "share": {"exact": 30}}])], report=report)
    assert (plain.schema_version, event.schema_version) == ("1.0", "1.1")
    assert [str(i) for i in event.source.identifiers] == ["other:SVN-PASSPORT:PB1234567", "tax:si:12345678",
                                                          "wikidata:Q4115189"]
    assert [str(i) for i in event.target.identifiers] == ["register:gb:07444723"]
    assert any("XI-LEI 'bad' skipped" in note for note in report.notes), report.notes
