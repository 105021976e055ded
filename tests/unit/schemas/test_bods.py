"""BODS in (schemas/bods.py): the 0.3 shape, versions and what cannot be read. The 0.4 examples of Open Ownership
are imported end to end in tests/unit/streams/test_import_real_data.py."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from schemas.bods import events_from_bods
from schemas.ftm import ImportDefaults, ImportReport
from scoring import Engine

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


def _final_state(events) -> dict[str, tuple]:
    """The version of each relation the engine keeps: the latest observed_at."""
    state: dict[str, tuple] = {}
    for event in sorted(events, key=lambda e: e.observed_at):
        state[event.relation_id] = (event.op.value, event.properties.percentage, event.start_date, event.end_date)
    return state


FIXTURES = Path(__file__).parents[2] / "fixtures" / "bods"
DEFAULTS = ImportDefaults(source_url="https://example.org/register", extractor_name="bods-import")


def test_versions_listed_out_of_date_order_apply_in_date_order():
    # Open Ownership's tecido.json: Maria Esteves' stake goes 100% -> 40% -> 30% -> closed, Shear Trust's
    # 60% -> 70% -> 80%. BODS does not make a file list versions by date; read backwards, the oldest version
    # was the last one applied and won (100%, open).
    statements = json.loads((FIXTURES / "tecido.json").read_text())
    in_order = _final_state(events_from_bods(statements, DEFAULTS))
    report = ImportReport()
    backwards = _final_state(events_from_bods(statements[::-1], DEFAULTS, report))
    assert backwards == in_order
    assert in_order["022EBEB66B/shareholding"] == ("upsert", 30.0, dt.date(2022, 9, 21), dt.date(2023, 3, 2))
    assert in_order["02089A4E68/shareholding"] == ("upsert", 80.0, dt.date(2023, 3, 1), None)
    assert any("out of date order" in note for note in report.notes)


def test_statement_time_of_day_is_kept():
    first_version = json.loads((FIXTURES / "tecido.json").read_text())[:3]  # person, company, relationship
    for s in first_version:
        s["statementDate"] = "2019-01-20T11:17:23Z"
    [*events] = events_from_bods(first_version, DEFAULTS)
    assert {e.observed_at for e in events} == {dt.datetime(2019, 1, 20, 11, 17, 23, tzinfo=dt.UTC)}


def test_a_relationship_without_interests_is_a_stake_of_unknown_size():
    # Open Ownership's bods-package-annotations.json: the relationship states subject and party, no interests.
    report = ImportReport()
    [event] = events_from_bods(json.loads((FIXTURES / "bods-package-annotations.json").read_text()), DEFAULTS,
                               report)
    assert (event.relation_type.value, event.properties.percentage) == ("ownership", None)
    assert (event.source.name, event.target.name) == ("DRILLGREAT LIMITED", "MONSOON HOLDINGS (NO.1) LIMITED")
    assert any("states no interests" in note for note in report.notes)


def test_an_undisclosed_party_is_skipped_with_the_reason_the_register_gives():
    # Open Ownership's listed-company-exempt-from-disclosure.json: the interestedParty is a reason, not a record.
    report = ImportReport()
    assert list(events_from_bods(json.loads((FIXTURES / "listed-company-exempt-from-disclosure.json").read_text()),
                                 DEFAULTS, report)) == []
    [skipped] = report.skipped
    assert skipped.reason == "missing_endpoint"
    assert "interestedParty is not disclosed (subjectExemptFromDisclosure: Exempt from disclosure" in skipped.message


def test_a_bods_03_pep_declaration_gives_the_topic_and_the_office():
    # Open Ownership's 0.3 example 4b-full-pep-declaration.json: politicalExposure has the 0.4 shape in 0.3; it was
    # dropped, so the declared PEP imported as a plain person.
    events = list(events_from_bods(json.loads((FIXTURES / "0.3-full-pep-declaration.json").read_text()), DEFAULTS))
    [office] = [e for e in events if e.relation_type.value == "occupancy"]
    assert office.source.name == "Michael Hubbard" and office.source.topics == ("role.pep",)
    assert office.properties.role == "Member of Parliament" and office.start_date == dt.date(2017, 10, 15)
    assert all(e.source.topics == ("role.pep",) for e in events)


def test_a_bods_03_declared_indirect_stake_is_left_to_the_engine_when_its_chain_is_there():
    # Open Ownership's 0.3 example indirect-ownership/os-03-dr-04.json: HoldCo holds 60% of the company, the person
    # an unknown share of HoldCo, and the primary statement declares the person's indirect 30% with
    # componentStatementIDs. 0.3's directOrIndirect was overwritten with "unknown", so the 30% came in as a direct
    # stake beside the chain and counted twice.
    report = ImportReport()
    events = list(events_from_bods(
        json.loads((FIXTURES / "0.3-indirect-ownership-os-03-dr-04.json").read_text()), DEFAULTS, report))
    assert len(events) == 2 and report.outcomes[
        "bods indirect interest left to the engine (its chain is in the file)"] == 1
    assert all(e.properties.percentage != 30.0 for e in events)


def test_statements_that_break_the_schema_never_stop_the_import():
    # The shapes of lib-cove-bods' tests/fixtures/0.4/invalid-schema (entity_type_not_object,
    # entity_jurisdiction_not_object, person_names_fullName_string, person_politicalExposure_no_object) each raised
    # an AttributeError or TypeError out of the import.
    statements = json.loads((FIXTURES / "full-pep-declaration.json").read_text())
    entity, person, relationship = (next(s for s in statements if s["recordType"] == kind)
                                    for kind in ("entity", "person", "relationship"))
    entity["recordDetails"]["entityType"] = "registeredEntity"
    entity["recordDetails"]["jurisdiction"] = "GB"
    person["recordDetails"]["names"] = [{"fullName": 1}]
    person["recordDetails"]["politicalExposure"] = "isPep"
    relationship["recordDetails"]["interests"] = [{"type": ["shareholding"]}, {"type": "shareholding",
                                                                               "share": "50%"}]
    report = ImportReport()
    events = list(events_from_bods(statements, DEFAULTS, report))
    assert [e.relation_type.value for e in events] == ["ownership"], "the readable interest still imports"
    assert events[0].target.schema_.value == "LegalEntity" and events[0].source.name.startswith("unnamed person")
    assert any("has no meaning in our vocabulary" in note for note in report.notes)


# --- review18: adversarial review of the importers ---------------------------------------------------------------

_R18_PUB = {"publicationDate": "2024-05-02", "bodsVersion": "0.4",
            "publisher": {"name": "Reg", "url": "https://r.example.org/"}}


def _r18_party(record_id: str, kind: str) -> dict:
    details = ({"entityType": {"type": "registeredEntity"}, "name": "Firm"} if kind == "entity"
               else {"personType": "knownPerson", "names": [{"type": "legal", "fullName": "Anna"}]})
    return {"statementId": f"s-{record_id}", "statementDate": "2024-05-01", "publicationDetails": _R18_PUB,
            "recordId": record_id, "recordStatus": "new", "recordType": kind,
            "recordDetails": {"isComponent": False, **details}}


def _r1_relationship(date: str, interests: list[dict], status: str = "new") -> dict:
    return {"statementId": f"s-r1-{date}", "statementDate": date, "publicationDetails": _R18_PUB, "recordId": "r1",
            "recordStatus": status, "recordType": "relationship",
            "recordDetails": {"isComponent": False, "subject": "co", "interestedParty": "pe", "interests": interests}}


_PARTIES_OF_R1 = [_r18_party("co", "entity"), _r18_party("pe", "person")]


def _current_of(events) -> dict[str, object]:
    current = {}
    for event in events:
        if event.op == "retract":
            current.pop(event.relation_id, None)
        else:
            current[event.relation_id] = event
    return current


def test_a_later_version_retracts_what_an_earlier_partly_skipped_version_stated():
    """Version 1 states a board seat and an unreadable share (150%): the board seat is emitted, the share skipped.
    Version 2 states only a shareholding: the board seat it no longer states must be retracted, as it is when
    version 1 was wholly valid."""
    statements = _PARTIES_OF_R1 + [
        _r1_relationship("2024-05-01", [{"type": "boardMember"},
                                         {"type": "shareholding", "share": {"exact": 150}}]),
        _r1_relationship("2024-06-01", [{"type": "shareholding", "share": {"exact": 30}}])]
    report = ImportReport()
    current = _current_of(events_from_bods(statements, None, report))
    assert sorted(current) == ["r1/shareholding"], sorted(current)


def test_a_share_written_as_text_is_read_or_noted():
    """A share written as text ("30", "25-50") is not a JSON number; it must be read, or at least noted, never
    dropped without a word."""
    statements = _PARTIES_OF_R1 + [_r1_relationship("2024-05-01", [{"type": "shareholding",
                                                                   "share": {"exact": "30"}}])]
    report = ImportReport()
    [event] = list(events_from_bods(statements, None, report))
    assert event.properties.percentage == 30.0 or any("30" in note for note in report.notes), report.notes


def test_a_boolean_is_not_a_share():
    statements = _PARTIES_OF_R1 + [_r1_relationship("2024-05-01", [{"type": "shareholding",
                                                                   "share": {"exact": True}}])]
    [event] = list(events_from_bods(statements, None, ImportReport()))
    assert event.properties.percentage is None


def test_a_share_range_ending_below_its_start_is_not_read():
    statements = _PARTIES_OF_R1 + [_r1_relationship("2024-05-01", [{"type": "shareholding",
                                                                    "share": {"minimum": 50, "maximum": 25}}])]
    report = ImportReport()
    [event] = list(events_from_bods(statements, None, report))
    assert event.properties.percentage is None
    assert any("ends below its start" in note for note in report.notes), report.notes


def test_closing_a_record_without_interests_ends_what_it_stated():
    """A closing statement that does not repeat the interests closes the record: the 30% held since 2019 ended the
    day before; it is not withdrawn as if it had never been stated."""
    statements = _PARTIES_OF_R1 + [
        _r1_relationship("2024-05-01", [{"type": "shareholding", "share": {"exact": 30}, "startDate": "2019-01-01"}]),
        _r1_relationship("2024-06-01", [], status="closed")]
    current = _current_of(events_from_bods(statements, None, ImportReport()))
    stake = current.get("r1/shareholding")
    assert stake is not None, sorted(current)
    assert (stake.properties.percentage, stake.start_date, stake.end_date) == \
        (30.0, dt.date(2019, 1, 1), dt.date(2024, 5, 31))


@pytest.mark.parametrize("share", [{"minimum": 0, "maximum": 25}, {"exclusiveMinimum": 0, "maximum": 25},
                                   {"minimum": 0, "exclusiveMaximum": 25}, {"minimum": "0", "maximum": 25}])
def test_a_share_from_zero_is_a_stake_of_unknown_size_not_zero(share):
    """Read as its lower bound, "0 to 25%" was a declared interest counted as no stake at all: below the engine's
    1% chain floor, it passed nothing on. A lower bound of 0 guarantees nothing, so the share reads as one with
    only an upper bound: no percentage, and the engine assumes its unknown_stake and marks it as assumed; the
    declared range stays in the role."""
    statements = _PARTIES_OF_R1 + [_r1_relationship("2024-05-01", [{"type": "shareholding", "share": share}])]
    report = ImportReport()
    [event] = list(events_from_bods(statements, None, report))
    assert event.properties.percentage is None
    assert event.properties.role.startswith("shareholding, 0-") and event.properties.role.endswith("25%")
    assert any("guarantees no stake" in note for note in report.notes), report.notes
    engine = Engine()
    engine.apply(event)
    holding = engine.stakes("pe")["co"]
    assert holding.assumed and holding.stake == pytest.approx(0.25)


@pytest.mark.parametrize(("share", "percentage", "most", "assumed"), [
    ({"minimum": 0, "maximum": 10}, None, 10.0, 0.10), ({"exclusiveMinimum": 0, "exclusiveMaximum": 5}, None, 5.0, 0.05),
    ({"maximum": "10%"}, None, 10.0, 0.10), ({"minimum": 0, "maximum": 50}, None, 50.0, 0.25),
    ({"minimum": 25, "maximum": 50}, 25.0, 50.0, None), ({"exact": 30}, 30.0, None, None)])
def test_a_share_keeps_its_upper_bound_and_the_assumed_stake_stays_below_it(share, percentage, most, assumed):
    """A share of "0 to 10%" has no percentage, and the engine assumed its unknown_stake of 25%: more than the
    register declared, and enough for the 25% control threshold. Its upper bound is now `percentage_max`, which
    caps the assumption."""
    statements = _PARTIES_OF_R1 + [_r1_relationship("2024-05-01", [{"type": "shareholding", "share": share}])]
    [event] = list(events_from_bods(statements, None, ImportReport()))
    assert (event.properties.percentage, event.properties.percentage_max) == (percentage, most)
    engine = Engine()
    engine.apply(event)
    holding = engine.stakes("pe")["co"]
    if assumed is None:
        assert not holding.assumed and holding.stake == pytest.approx(percentage / 100)
    else:
        assert holding.assumed and holding.stake == pytest.approx(assumed)


@pytest.mark.parametrize("share", [{"minimum": 0, "maximum": 0}, {"exact": 0}, {"minimum": "0", "maximum": "0%"}])
def test_a_share_from_zero_to_zero_is_a_declared_zero(share):
    """A range from 0 to 0 says the stake is 0%, as `exact: 0` and FtM's "0-0" (`values.read_share`: a lower bound
    of 0 guarantees nothing only below an upper bound above it) do; it was imported without a percentage, at most
    0%, and scored as an assumed stake (`≤0%?`, and "assumed" on every chain through it)."""
    statements = _PARTIES_OF_R1 + [_r1_relationship("2024-05-01", [{"type": "shareholding", "share": share}])]
    [event] = list(events_from_bods(statements, None, ImportReport()))
    assert (event.properties.percentage, event.properties.percentage_max) == (0.0, None)
    engine = Engine()
    engine.apply(event)
    holding = engine.stakes("pe")["co"]
    assert (holding.stake, holding.assumed) == (0.0, False)


def test_a_bods_03_bound_flag_is_not_a_bound():
    """BODS 0.2 and 0.3 write exclusiveMinimum and exclusiveMaximum as flags (true, false) beside the bounds; a
    flag read as a bound put "True" in the role text."""
    statements = _PARTIES_OF_R1 + [_r1_relationship("2024-05-01", [
        {"type": "votingRights", "share": {"minimum": 25, "exclusiveMinimum": True, "exclusiveMaximum": True}}])]
    [event] = list(events_from_bods(statements, None, ImportReport()))
    assert event.properties.role == "voting rights, 25-?%"


# The interestType codelist of BODS 0.4 (openownership/data-standard d97e79829b3b, schema/codelists/interestType.csv;
# 0.3.0 has the same codes but nominee and nominator).
BODS_04_INTEREST_TYPES = (
    "shareholding", "votingRights", "appointmentOfBoard", "otherInfluenceOrControl", "seniorManagingOfficial",
    "settlor", "trustee", "protector", "beneficiaryOfLegalArrangement", "rightsToSurplusAssetsOnDissolution",
    "rightsToProfitOrIncome", "rightsGrantedByContract", "conditionalRightsGrantedByContract",
    "controlViaCompanyRulesOrArticles", "controlByLegalFramework", "boardMember", "boardChair", "unknownInterest",
    "unpublishedInterest", "enjoymentAndUseOfAssets", "rightToProfitOrIncomeFromAssets", "nominee", "nominator")


@pytest.mark.parametrize("kind", BODS_04_INTEREST_TYPES)
def test_every_interest_type_of_the_standard_is_imported(kind):
    """An interest type missing from INTERESTS is noted and dropped: rightToProfitOrIncomeFromAssets (an economic
    interest, in the 0.3 and 0.4 codelists) was."""
    statements = _PARTIES_OF_R1 + [_r1_relationship("2024-05-01", [{"type": kind, "share": {"exact": 30}}])]
    report = ImportReport()
    [event] = list(events_from_bods(statements, None, report))
    assert event.relation_id == f"r1/{kind}" and not any("no meaning" in note for note in report.notes)


def test_an_economic_right_to_income_from_assets_is_an_ownership_with_its_share():
    statements = _PARTIES_OF_R1 + [_r1_relationship("2024-05-01", [
        {"type": "rightToProfitOrIncomeFromAssets", "share": {"exact": 40}}])]
    [event] = list(events_from_bods(statements, None, ImportReport()))
    assert (event.relation_type.value, event.properties.percentage, event.properties.role) == \
        ("ownership", 40.0, "right to profit or income from assets")


# The interestType codelist of BODS 0.2 (openownership/data-standard tag 0.2.0, schema/codelists/interestType.csv).
BODS_02_INTEREST_TYPES = (
    "shareholding", "voting-rights", "appointment-of-board", "other-influence-or-control", "senior-managing-official",
    "settlor-of-trust", "trustee-of-trust", "protector-of-trust", "beneficiary-of-trust",
    "other-influence-or-control-of-trust", "rights-to-surplus-assets-on-dissolution", "rights-to-profit-or-income",
    "rights-granted-by-contract", "conditional-rights-granted-by-contract")


@pytest.mark.parametrize("kind", BODS_02_INTEREST_TYPES)
def test_every_bods_02_interest_type_is_imported(kind):
    report = ImportReport()
    [event] = events_from_bods([PERSON, COMPANY, ownership("o-1-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "2020-01-01", [
        {"type": kind, "interestLevel": "direct", "share": {"exact": 30}}])], None, report)
    assert not any("no meaning" in note for note in report.notes), report.notes
    ownership_kinds = ("shareholding", "beneficiary-of-trust", "rights-to-surplus-assets-on-dissolution",
                       "rights-to-profit-or-income")
    assert event.relation_type.value == ("ownership" if kind in ownership_kinds else
                                         "directorship" if kind == "senior-managing-official" else "control")


@pytest.mark.parametrize(("fields", "pep"), [
    ({"hasPepStatus": True, "pepStatusDetails": [{"reason": "Mayor", "jurisdiction": {"code": "SI"}}]}, True),
    ({"pepStatusDetails": [{"reason": "Mayor"}]}, True),
    ({"hasPepStatus": False, "pepStatusDetails": [{"reason": "Mayor"}]}, False),
    ({"pepStatusDetails": [{"missingInfoReason": "not asked"}]}, False),
])
def test_a_bods_02_pep_declaration_gives_the_topic_and_the_office(fields, pep):
    person = dict(PERSON, **fields)
    events = list(events_from_bods([person, COMPANY, ownership("o-1-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "2020-01-01",
                                                               [{"type": "shareholding"}])], None, ImportReport()))
    offices = [e for e in events if e.relation_type.value == "occupancy"]
    assert (len(offices), events[-1].source.topics) == ((1, ("role.pep",)) if pep else (0, ()))


@pytest.mark.parametrize("exact", [float("nan"), float("inf"), 150, -5])
def test_a_share_that_is_no_percentage_leaves_the_interest_without_one(exact):
    """Python's JSON reader takes NaN and Infinity, and a register can write 150: as the percentage, the contract
    refused the event and the declared interest was lost whole. It is imported without a percentage, noted."""
    statements = _PARTIES_OF_R1 + [_r1_relationship("2024-05-01", [{"type": "shareholding", "share": {"exact": exact}}])]
    report = ImportReport()
    [event] = list(events_from_bods(statements, None, report))
    assert event.properties.percentage is None and event.relation_id == "r1/shareholding"
    assert any("not a percentage from 0 to 100" in note for note in report.notes), report.notes


# --- a person's later versions and his offices (the forty-ninth round) --------------------------------------------

def _pep_versions(*later: tuple[str, dict]) -> list[dict]:
    """Open Ownership's full-pep-declaration.json (Michael Hubbard, Member of Parliament since 2017-10-15, declared
    on 2019-03-18), then later statements of the same person record, each (statementDate, politicalExposure)."""
    statements = json.loads((FIXTURES / "full-pep-declaration.json").read_text())
    person = next(s for s in statements if s["recordType"] == "person")
    for number, (date, exposure) in enumerate(later, start=2):
        version = json.loads(json.dumps(person))
        version.update(statementId=f"{person['statementId']}-v{number}", statementDate=date, recordStatus="updated")
        if exposure is None:
            version["recordDetails"].pop("politicalExposure")
        else:
            version["recordDetails"]["politicalExposure"] = exposure
        statements.append(version)
    return statements


MP = {"jurisdiction": {"code": "gb", "name": "United Kingdom of Great Britain and Northern Ireland (the)"},
      "reason": "Member of Parliament", "startDate": "2017-10-15"}
MINISTER = {"jurisdiction": {"code": "gb", "name": "United Kingdom of Great Britain and Northern Ireland (the)"},
            "reason": "Minister of State", "startDate": "2019-01-10"}


def _offices(events) -> dict[str, tuple]:
    """relation id -> (role, start, end) of each occupancy as the engine keeps it (its latest version)."""
    state = {}
    for event in sorted(events, key=lambda e: e.observed_at):
        if event.relation_type.value == "occupancy":
            state[event.relation_id] = (event.properties.role, event.start_date, event.end_date, event.target.id)
    return state


def test_a_later_statement_that_the_person_is_no_pep_ends_his_office():
    # Base: a `notPep` version emitted nothing, so the Member of Parliament stayed in office for good.
    report = ImportReport()
    events = list(events_from_bods(_pep_versions(("2022-06-01", {"status": "notPep"})), DEFAULTS, report))
    assert _offices(events) == {"9bcdcc85e803/pep/1": ("Member of Parliament", dt.date(2017, 10, 15),
                                                      dt.date(2022, 5, 31), "9bcdcc85e803-office-1")}
    assert any("'Member of Parliament' no longer declared: read as ended on 2022-05-31" in n for n in report.notes)
    engine = Engine(as_of=dt.date(2023, 1, 1))
    engine.load(events)
    [record] = [r for r in engine.graph.relations() if r.type.value == "occupancy"]
    assert record.end == dt.date(2022, 5, 31), "a former Member of Parliament, not a sitting one"


def test_an_office_a_later_statement_drops_ends_and_the_others_keep_their_relation():
    # Base: offices were numbered by their place in the list, so dropping the first gave the second the first's
    # relation id (the Member of Parliament's occupancy became a Minister's) and left the second's standing too.
    events = list(events_from_bods(_pep_versions(
        ("2020-02-01", {"status": "isPep", "details": [MP, MINISTER]}),
        ("2021-09-15", {"status": "isPep", "details": [MINISTER]})), DEFAULTS))
    assert _offices(events) == {
        "9bcdcc85e803/pep/1": ("Member of Parliament", dt.date(2017, 10, 15), dt.date(2021, 9, 14),
                               "9bcdcc85e803-office-1"),
        "9bcdcc85e803/pep/2": ("Minister of State", dt.date(2019, 1, 10), None, "9bcdcc85e803-office-2")}
    assert all(e.source.topics == ("role.pep",) for e in events if e.relation_type.value == "occupancy")


def test_an_office_given_an_end_date_later_keeps_its_relation_and_a_second_term_is_another():
    ended = dict(MP, endDate="2019-11-06")
    second_term = dict(MP, startDate="2024-07-04")
    events = list(events_from_bods(_pep_versions(
        ("2020-01-15", {"status": "isPep", "details": [ended]}),
        ("2024-08-01", {"status": "isPep", "details": [ended, second_term]})), DEFAULTS))
    assert _offices(events) == {
        "9bcdcc85e803/pep/1": ("Member of Parliament", dt.date(2017, 10, 15), dt.date(2019, 11, 6),
                               "9bcdcc85e803-office-1"),
        "9bcdcc85e803/pep/2": ("Member of Parliament", dt.date(2024, 7, 4), None, "9bcdcc85e803-office-2")}


def test_a_statement_silent_or_unsure_about_exposure_ends_no_office():
    for exposure in (None, {"status": "unknown"}, {"status": "isPep"}):
        events = list(events_from_bods(_pep_versions(("2022-06-01", exposure)), DEFAULTS))
        assert _offices(events) == {"9bcdcc85e803/pep/1": ("Member of Parliament", dt.date(2017, 10, 15), None,
                                                          "9bcdcc85e803-office-1")}, exposure


def test_person_versions_listed_out_of_date_order_apply_in_date_order():
    # Base: person statements were applied in file order, so the older declaration, read last, put the Member of
    # Parliament back in office after the newer statement that he is no PEP.
    statements = _pep_versions(("2022-06-01", {"status": "notPep"}))
    person, newer = statements[1], statements[3]
    backwards = [statements[0], newer, person, statements[2]]
    report = ImportReport()
    assert _offices(events_from_bods(backwards, DEFAULTS, report)) == _offices(events_from_bods(statements, DEFAULTS))
    assert _offices(events_from_bods(backwards, DEFAULTS))["9bcdcc85e803/pep/1"][2] == dt.date(2022, 5, 31)
    assert any("out of date order" in note for note in report.notes)


def test_a_bods_02_declaration_of_no_pep_status_ends_the_office_declared_before():
    def person(statement_id: str, date: str, **fields) -> dict:
        return statement(statementID=statement_id, statementType="personStatement", statementDate=date,
                         names=[{"fullName": "Jana Horvat"}], **fields)

    first = person("p-7-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "2020-01-01", hasPepStatus=True,
                   pepStatusDetails=[{"reason": "Mayor", "jurisdiction": {"code": "SI"}}])
    second = person("p-8-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "2023-03-01", hasPepStatus=False,
                    replacesStatements=[first["statementID"]])
    assert _offices(events_from_bods([first, second], DEFAULTS)) == {
        f"{first['statementID']}/pep/1": ("Mayor", None, dt.date(2023, 2, 28), f"{first['statementID']}-office-1")}


def _through_a_file(state):
    """The state as `coi-risk import --state` writes and reads it back."""
    from schemas.bods import BodsState

    return BodsState.from_lines(json.loads(json.dumps(line)) for line in state.lines())


def test_a_bods_03_chain_continues_in_the_next_file_with_the_state():
    # 0.3 names a record by the first statement of its `replacesStatements` chain. Read alone, a later file's
    # statement replacing one of an earlier file began a record of its own, and had no parties: skipped.
    from schemas.bods import BodsState, import_bods

    first = ownership("o-1-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "2020-01-01", [
        {"type": "shareholding", "interestLevel": "direct", "share": {"exact": 30}},
        {"type": "votingRights", "interestLevel": "direct", "share": {"exact": 30}}])
    person = statement(**dict(PERSON, statementID="p-2-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", statementDate="2021-03-01",
                              replacesStatements=[PERSON["statementID"]],
                              politicalExposure={"status": "isPep", "details": [{"reason": "Mayor"}]}))
    second = ownership("o-2-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "2021-03-01", [
        {"type": "shareholding", "interestLevel": "direct", "share": {"exact": 55}}],
        replaces=[first["statementID"]])
    state = BodsState()
    events = list(import_bods(lambda: [PERSON, COMPANY, first], DEFAULTS, None, state))
    state = _through_a_file(state)
    report = ImportReport()
    events += list(import_bods(lambda: [person, second], DEFAULTS, report, state))
    record = first["statementID"]
    assert _final_state(events) == {f"{record}/shareholding": ("upsert", 55.0, None, None),
                                    f"{record}/votingRights": ("retract", None, None, None),
                                    f"{PERSON['statementID']}/pep/1": ("upsert", None, None, None)}
    assert not report.skipped
    assert events[-1].source.topics == ("role.pep",), "the party as its newest statement, in the later file, says"
    alone = ImportReport()
    assert [e.relation_type.value for e in events_from_bods([person, second], DEFAULTS, alone)] == ["occupancy"]
    assert [s.reason for s in alone.skipped] == ["missing_endpoint"]


def test_a_bods_state_round_trip_keeps_offices_stamps_and_versions():
    from schemas.bods import BodsState, import_bods

    state = BodsState()
    events = list(import_bods(lambda: _pep_versions(("2020-02-01", {"status": "isPep", "details": [MP, MINISTER]})),
                              DEFAULTS, None, state))
    again = _through_a_file(state)
    assert again == state and again.files == 1
    later = [s for s in _pep_versions(("2021-09-15", {"status": "isPep", "details": [MINISTER]}))
             if s["recordType"] == "person"][-1:]
    events += list(import_bods(lambda: later, DEFAULTS, None, again))
    offices = _offices(events)
    assert offices["9bcdcc85e803/pep/1"][2] == dt.date(2021, 9, 14) and offices["9bcdcc85e803/pep/2"][2] is None
    assert events[-1].observed_at > events[0].observed_at


# --- the review of the first version (review49): restatements that are the same office, and odd dates ----------

@pytest.mark.parametrize("restated", [
    dict(MP, startDate="2017-10"),  # a start given less precisely (or, below, more)
    dict(MP, reason="  member of  PARLIAMENT "),
    dict(MP, jurisdiction={"code": "GB", "name": "United Kingdom"}),  # the name spelled otherwise, the same code
    dict(MP, jurisdiction={"name": "united kingdom of great britain and northern ireland (the)"}),  # no code
    {"reason": "Member of Parliament", "jurisdiction": MP["jurisdiction"]},  # the start left out: the old one holds
])
def test_an_office_restated_in_other_words_is_the_same_office_and_does_not_end(restated):
    # The first version ended the office and opened a second one beside it, with a note that he had left.
    report = ImportReport()
    events = list(events_from_bods(_pep_versions(("2022-06-01", {"status": "isPep", "details": [restated]})),
                                   DEFAULTS, report))
    [(relation, (role, start, end, _))] = _offices(events).items()
    assert (relation, start, end) == ("9bcdcc85e803/pep/1", dt.date(2017, 10, 15), None), "the start held before"
    assert not any("no longer declared" in note for note in report.notes)


def test_a_detail_that_names_no_office_ends_none():
    events = list(events_from_bods(_pep_versions(
        ("2022-06-01", {"status": "isPep", "details": [{"missingInfoReason": "not asked this year"}]})), DEFAULTS))
    assert _offices(events)["9bcdcc85e803/pep/1"][2] is None


def test_an_office_ended_here_and_declared_again_is_a_new_term_and_the_gap_stays():
    # The first version took the old relation up again (and dropped its start): the gap between terms was lost.
    events = list(events_from_bods(_pep_versions(("2021-01-01", {"status": "notPep"}),
                                                 ("2024-01-01", {"status": "isPep", "details": [MP]})), DEFAULTS))
    offices = _offices(events)
    assert offices["9bcdcc85e803/pep/1"][1:3] == (dt.date(2017, 10, 15), dt.date(2020, 12, 31))
    assert offices["9bcdcc85e803/pep/2"][1:3] == (dt.date(2017, 10, 15), None)


def test_an_ending_never_comes_before_the_day_a_statement_declared_the_office_and_says_what_it_rests_on():
    statements = _pep_versions(("2019-03-18T18:00:00Z", {"status": "notPep"}))
    ended = [e for e in events_from_bods(statements, DEFAULTS) if e.end_date is not None]
    assert [e.end_date for e in ended] == [dt.date(2019, 3, 18)]  # the first version: 2019-03-17, before it said so
    assert ended[0].provenance.quote == ("Member of Parliament: declared on 2019-03-18, no longer declared on "
                                         "2019-03-18: read as ended on 2019-03-18")


def test_one_office_listed_twice_is_one_occupancy_and_an_unreadable_one_leaves_the_others():
    report = ImportReport()
    events = list(events_from_bods(_pep_versions(
        ("2020-02-01", {"status": "isPep", "details": [MP, MP, MINISTER]}),
        ("2021-09-15", {"status": "isPep", "details": [dict(MP, startDate="20xx"), MINISTER]})), DEFAULTS, report))
    offices = _offices(events)
    assert set(offices) == {"9bcdcc85e803/pep/1", "9bcdcc85e803/pep/2"}
    assert offices["9bcdcc85e803/pep/1"][2] == dt.date(2021, 9, 14) and offices["9bcdcc85e803/pep/2"][2] is None
    assert any("an office of 'Member of Parliament' not read" in note for note in report.notes)


def test_a_date_at_the_calendars_edge_never_stops_the_import():
    # a `notPep` dated 0001-01-01 after an undated declaration raised OverflowError out of the import (the day
    # before it); the ending is never before the day the office was declared (here its publication date)
    statements = _pep_versions(("0001-01-01", {"status": "notPep"}))
    statements[1].pop("statementDate")
    report = ImportReport()
    events = list(events_from_bods(statements, DEFAULTS, report))
    assert not report.skipped and _offices(events)["9bcdcc85e803/pep/1"][2] == dt.date(2019, 6, 7)


def test_the_state_carries_a_persons_offices_to_the_next_file():
    from schemas.bods import BodsState, import_bods

    statements = _pep_versions(("2022-06-01", {"status": "notPep"}))
    state = BodsState()
    events = list(import_bods(lambda: statements[:3], DEFAULTS, None, state))
    events += list(import_bods(lambda: statements[3:], DEFAULTS, None, _through_a_file(state)))
    assert _offices(events)["9bcdcc85e803/pep/1"][2] == dt.date(2022, 5, 31)


# --- the review of the state and the second version (review49b) ----------------------------------------------------

def test_an_office_restated_with_dates_that_cannot_be_read_is_still_declared():
    # Skipped as unreadable, then ended as "no longer declared": a sitting PEP read as a former one.
    events = list(events_from_bods(_pep_versions(
        ("2020-02-01", {"status": "isPep", "details": [MP, MINISTER]}),
        ("2021-09-15", {"status": "isPep", "details": [dict(MP, endDate="2021-02-30"), MINISTER]})), DEFAULTS,
        ImportReport()))
    assert {relation: end for relation, (_, _, end, _) in _offices(events).items()} == {
        "9bcdcc85e803/pep/1": None, "9bcdcc85e803/pep/2": None}


def test_a_closed_person_record_ends_no_office():
    statements = _pep_versions(("2022-06-01", {"status": "notPep"}))
    statements[-1]["recordStatus"] = "closed"
    assert _offices(events_from_bods(statements, DEFAULTS))["9bcdcc85e803/pep/1"][2] is None


def test_a_start_left_out_or_given_less_precisely_keeps_the_one_declared_and_a_later_term_is_new():
    # A startless restatement put None into the office's key, and the next version's 2024 term was taken as the
    # same relation, its 2017 start overwritten; "2017" turned 2017-10-15 into 2017-01-01.
    startless = {"reason": MP["reason"], "jurisdiction": MP["jurisdiction"]}
    second_term = dict(MP, startDate="2024-07-05")
    events = list(events_from_bods(_pep_versions(
        ("2021-01-01", {"status": "isPep", "details": [startless]}),
        ("2022-01-01", {"status": "isPep", "details": [dict(MP, startDate="2017")]}),
        ("2024-09-01", {"status": "isPep", "details": [second_term]})), DEFAULTS))
    assert {relation: (start, end) for relation, (_, start, end, _) in _offices(events).items()} == {
        "9bcdcc85e803/pep/1": (dt.date(2017, 10, 15), dt.date(2024, 8, 31)),
        "9bcdcc85e803/pep/2": (dt.date(2024, 7, 5), None)}


@pytest.mark.parametrize("spoil", [
    lambda line: line.get("party") and line["ref"].update(id="someone-else"),
    lambda line: line.get("party") and line.__setitem__("ref", {}),
    lambda line: line.get("party") and line.__setitem__("version", ["2019-01-01", 1, 0]),
    lambda line: line.get("stamp") and line.__setitem__("at", "2019-03-18T00:00:00"),
    lambda line: line.get("produced") and line.__setitem__("documents", {"x": {}}),
    lambda line: line.get("offices") and line["known"][0].__setitem__(1, {"$tuple": []}),
    lambda line: line.get("offices") and line["known"][0].__setitem__(4, "2019-03-18"),
])
def test_a_state_with_a_wrong_entry_is_refused_when_read(spoil):
    # Each went through: a traceback in the next import, or worse, events sent to another party or an office never
    # ended, with the state committed.
    from schemas.bods import BodsState, import_bods

    state = BodsState()
    list(import_bods(lambda: _pep_versions(), DEFAULTS, None, state))
    lines = [json.loads(json.dumps(line)) for line in state.lines()]
    for line in lines:
        spoil(line)
    with pytest.raises(ValueError):
        BodsState.from_lines(lines)


def test_a_later_file_with_an_older_version_does_not_undo_a_newer_one():
    # An old installment published again (or files read out of order): its versions, stamped after the newer ones
    # an earlier file gave, replaced them (tecido's 2022 stakes over the 2023 closing and 80%).
    from schemas.bods import BodsState, import_bods

    statements = json.loads((FIXTURES / "tecido.json").read_text())
    state, report = BodsState(), ImportReport()
    events = list(import_bods(lambda: statements, DEFAULTS, None, state))
    whole = _final_state(events)
    events += list(import_bods(lambda: statements[6:8], DEFAULTS, report, _through_a_file(state)))
    assert _final_state(events) == whole
    assert whole["02089A4E68/shareholding"] == ("upsert", 80.0, dt.date(2023, 3, 1), None)
    assert sum("older than the one of 2023-03-03 an earlier file gave: not applied" in n for n in report.notes) == 2


def test_a_bods_03_statement_listed_before_the_one_it_replaces_is_still_its_newer_version():
    # The chain was read in file order: the replacing statement, read first, began a record of its own, and the
    # older one, read later, stood beside it (30% and 55% both held; the Mayor back in office).
    first = ownership("o-1-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "2020-01-01", [
        {"type": "shareholding", "interestLevel": "direct", "share": {"exact": 30}}])
    second = ownership("o-2-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "2021-03-01", [
        {"type": "shareholding", "interestLevel": "direct", "share": {"exact": 55}}], replaces=[first["statementID"]])
    mayor = statement(**dict(PERSON, politicalExposure={"status": "isPep", "details": [{"reason": "Mayor"}]}))
    former = statement(**dict(PERSON, statementID="p-2-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", statementDate="2023-03-01",
                              replacesStatements=[PERSON["statementID"]], politicalExposure={"status": "notPep"}))
    report = ImportReport()
    events = list(events_from_bods([former, mayor, COMPANY, second, first], DEFAULTS, report))
    assert _final_state(events) == {f"{first['statementID']}/shareholding": ("upsert", 55.0, None, None),
                                    f"{PERSON['statementID']}/pep/1": ("upsert", None, None, dt.date(2023, 2, 28))}
    assert any("out of date order" in note for note in report.notes)
    assert _final_state(events_from_bods([mayor, former, COMPANY, first, second], DEFAULTS)) == _final_state(events)


# --- the third review (review49c) ----------------------------------------------------------------------------------

def test_a_person_version_silent_on_exposure_does_not_hide_an_older_one_a_later_file_brings():
    # It marked his record as applied: the older version declaring his office, read from a later file, was dropped.
    from schemas.bods import BodsState, import_bods

    statements = _pep_versions(("2022-06-01", None))
    newer, older = statements[3], statements[1]
    state = BodsState()
    events = list(import_bods(lambda: [statements[0], newer, statements[2]], DEFAULTS, None, state))
    events += list(import_bods(lambda: [older], DEFAULTS, None, _through_a_file(state)))
    assert _offices(events)["9bcdcc85e803/pep/1"][1:3] == (dt.date(2017, 10, 15), None)


@pytest.mark.parametrize("spoil", [
    lambda document: document.pop("start_date"),
    lambda document: document["properties"].pop("role"),
    lambda document: document.pop("relation_type"),
])
def test_a_state_document_without_a_field_the_import_reads_is_refused(spoil):
    from schemas.bods import BodsState, import_bods

    state = BodsState()
    list(import_bods(lambda: _pep_versions(), DEFAULTS, None, state))
    lines = [json.loads(json.dumps(line)) for line in state.lines()]
    for line in lines:
        for document in ([entry[2] for entry in line["known"]] if "offices" in line
                         else line["documents"].values() if "produced" in line else ()):
            spoil(document)
    with pytest.raises(ValueError):
        BodsState.from_lines(lines)
