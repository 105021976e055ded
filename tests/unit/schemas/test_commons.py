"""The UK House of Commons' Register of Members' Financial Interests (tests/fixtures/commons: the Parliament's own
CSV exports, one file per category) -> ownership, employment, directorship and payment relations."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from pathlib import Path

from schemas.commons import (COMMONS_IMPORT_VERSION, EXTRACTOR_NAME, HEADER, company_numbers,
                             import_commons_interests, is_register, normalised)
from schemas.ftm import ImportDefaults, ImportReport

COMMONS = Path(__file__).resolve().parents[2] / "fixtures" / "commons"
EXPORT = COMMONS / "2025-07-14"  # the register's export of that day (some categories; donations and 1.1 in part)
SHAREHOLDINGS = EXPORT / "PublishedInterest-Category_7.csv"
SHAREHOLDINGS_FEBRUARY = COMMONS / "2025-02-03" / "PublishedInterest-Category_7.csv"
SHAREHOLDINGS_2024 = COMMONS / "2024-08-04" / "PublishedInterest-Category_7.csv"  # the register's first layout
EMPLOYMENT = EXPORT / "PublishedInterest-Category_1.csv"
AD_HOC_PAYMENTS = EXPORT / "PublishedInterest-Category_1.1.csv"
ONGOING_PAYMENTS = EXPORT / "PublishedInterest-Category_1.2.csv"
DONATIONS = EXPORT / "PublishedInterest-Category_2.csv"
GIFTS = EXPORT / "PublishedInterest-Category_3.csv"
VISITS = EXPORT / "PublishedInterest-Category_4.csv"
GIFTS_ABROAD = EXPORT / "PublishedInterest-Category_5.csv"
LAND = EXPORT / "PublishedInterest-Category_6.csv"
FAMILY_EMPLOYED = EXPORT / "PublishedInterest-Category_9.csv"
FAMILY_LOBBYING = EXPORT / "PublishedInterest-Category_10.csv"
DEFAULTS = ImportDefaults(extractor_name=EXTRACTOR_NAME, extractor_version=COMMONS_IMPORT_VERSION)


def rows_of(path: Path) -> tuple[list[str], list[dict]]:
    reader = csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline=""))
    return list(reader.fieldnames or []), list(reader)


def imported(path: Path, rows: list[dict] | None = None, defaults: ImportDefaults = DEFAULTS,
             employments: dict | None = None):
    _, read = rows_of(path)
    report = ImportReport()
    events = list(import_commons_interests(lambda: rows if rows is not None else read, defaults, report,
                                           employments))
    return events, report


def by_relation(events) -> dict:
    return {event.relation_id: event for event in events}


def test_every_category_file_is_told_by_its_header():
    for path in COMMONS.glob("*/*.csv"):
        assert is_register(rows_of(path)[0]), path
    mica = Path(__file__).resolve().parents[2] / "fixtures" / "mica" / "esma_casps_2026-08-17.csv"
    assert not is_register(rows_of(mica)[0])
    assert not is_register(["ID", "Summary", "Category", "Member"])


def test_a_members_shareholdings_are_his_stakes_in_the_companies():
    events, report = imported(SHAREHOLDINGS)
    assert len(events) == 202 and report.skipped == []
    assert len(report.notes) == 1 and "give --retrieved-at, the day the export was downloaded" in report.notes[0]
    assert {event.relation_type.value for event in events} == {"ownership"}
    assert all(event.source.id.startswith("commons-member-") and event.source.schema_.value == "Person"
               and event.source.topics == ("role.pep",) for event in events)
    endava = by_relation(events)["commons:1330:ownership"]
    assert (endava.source.id, endava.source.name, endava.target.name) == \
        ("commons-member-4051", "John Glen", "Endava Ltd")
    # the Parliament's member id: Wikidata's P10428, so the item of the member (with his offices) is the same node
    assert [(i.scheme, i.value) for i in endava.source.identifiers] == [("ukparliament", "4051")]
    # "valued at more than £70,000": the stake is not over 15% (it would be registered as such)
    assert (endava.properties.percentage, endava.properties.percentage_max) == (None, 15.0)
    assert endava.properties.role == "(ii) Other shareholdings, valued at more than £70,000"
    assert endava.properties.summary == "IT services and consultancy"
    assert endava.start_date == dt.date(2015, 5, 8) and endava.end_date is None
    assert str(endava.provenance.source_url) == "https://interests-api.parliament.uk/api/v1/Interests/1330"
    assert endava.provenance.publisher == "UK House of Commons, Register of Members' Financial Interests"
    grant = by_relation(events)["commons:11877:ownership"]
    # "over 15% of issued share capital": a stake of unknown size that may be control (the engine's unknown stake)
    assert (grant.properties.percentage, grant.properties.percentage_max) == (None, None)
    assert grant.properties.role == \
        "(i) Shareholdings: over 15% of issued share capital; held: Jointly with my husband."
    # each interest is observed when the register last published or updated it
    assert grant.observed_at == dt.datetime(2025, 2, 27, tzinfo=dt.UTC)
    ended = by_relation(events)["commons:12441:ownership"]  # Number 41 Ltd (dormant), sold
    assert ended.end_date == dt.date(2025, 5, 18)


def test_a_later_export_restates_an_interest_with_its_end():
    february = by_relation(imported(SHAREHOLDINGS_FEBRUARY)[0])
    july = by_relation(imported(SHAREHOLDINGS)[0])
    before, after = february["commons:8063:ownership"], july["commons:8063:ownership"]
    assert before.end_date is None and after.end_date == dt.date(2025, 2, 3)
    assert after.observed_at == dt.datetime(2025, 2, 7, tzinfo=dt.UTC) > before.observed_at  # its Updated_1
    sold = july["commons:7374:ownership"]
    assert sold.end_date == dt.date(2025, 5, 30) and "Now owned solely by my spouse" in sold.properties.role
    # a change the register does not date (a knighthood) is ordered by the day each export was downloaded
    downloaded = ImportDefaults(extractor_name=EXTRACTOR_NAME, extractor_version=COMMONS_IMPORT_VERSION,
                                retrieved_at=dt.datetime(2025, 7, 14, tzinfo=dt.UTC))
    hunt = by_relation(imported(SHAREHOLDINGS, defaults=downloaded)[0])["commons:10649:ownership"]
    assert hunt.source.name == "Sir Jeremy Hunt" and hunt.observed_at == dt.datetime(2025, 7, 14, tzinfo=dt.UTC)
    assert february["commons:10649:ownership"].source.name == "Jeremy Hunt"


def test_donations_are_payments_from_the_donor_to_the_member():
    events, report = imported(DONATIONS)
    assert len(events) == 200 and report.skipped == []
    assert {event.relation_type.value for event in events} == {"payment"}
    assert all(event.target.id.startswith("commons-member-") for event in events)
    first = by_relation(events)["commons:12876:payment"]
    assert (first.source.name, first.source.schema_.value, first.target.name) == \
        ("Mrs Barbara Hilton", "Person", "Jack Rankin")
    assert first.source.id.startswith("commons-person-5340-")  # a person among the member's counterparties
    assert (first.properties.amount, first.properties.currency) == (2000.0, "GBP")
    assert first.properties.purpose == "monetary; To support my political efforts through Windsor Conservative " \
                                       "Association"
    assert "(a) Support linked to an MP but received by a local party organisation" in first.properties.summary
    companies = [event for event in events if event.source.identifiers]
    assert companies and all(
        event.source.schema_.value == "Company"
        and event.source.id == f"commons-company-gb-{event.source.identifiers[0].value.lower()}"
        and (event.source.identifiers[0].scheme, event.source.identifiers[0].jurisdiction) == ("register", "gb")
        for event in companies)
    unions = [event for event in events if event.source.schema_.value == "Organization"]
    assert unions and all(event.source.id.startswith("commons-party-") for event in unions)


def test_gifts_and_hospitality_are_payments_in_kind_over_their_days():
    events, report = imported(GIFTS)
    assert len(events) == 650 and report.skipped == []
    festival = by_relation(events)["commons:12879:payment"]
    assert (festival.source.name, festival.target.name) == ("Glastonbury Festival Events Limited", "Ellie Chowns")
    assert festival.source.id == "commons-company-gb-04348175"
    assert festival.properties.amount == 393.5 and festival.properties.purpose.startswith(
        "in kind; Ticket and hospitality for the festival")
    assert (festival.start_date, festival.end_date) == (dt.date(2025, 6, 26), dt.date(2025, 6, 29))
    # a Companies House number as the register's members wrote it: leading zeros dropped, words around it
    numbers = {event.relation_id: event.source.identifiers[0].value for event in events if event.source.identifiers}
    assert numbers["commons:12116:payment"] == "02529667"  # "Registered in England No. 2529667."
    assert numbers["commons:5982:payment"] == "00002065"  # "2065"
    # a society's number (the FCA's mutuals register) is no Companies House number: noted, the donor named
    assert "commons:10779:payment" not in numbers
    assert any("interest 10779" in note and "'IP28451R' is none" in note for note in report.notes)
    abroad, report = imported(GIFTS_ABROAD)
    assert len(abroad) == 11 and report.skipped == [] and {event.relation_type.value for event in abroad} == \
        {"payment"}


def test_employment_is_the_members_job_and_his_dealings_with_the_payer():
    events, report = imported(EMPLOYMENT)
    withdrawn = [event for event in events if event.op.value == "retract"]  # what 1.0 stated beside each job
    events = [event for event in events if event.op.value == "upsert"]
    _, rows = rows_of(EMPLOYMENT)
    directors = {row["ID"] for row in rows
                 if row["IsPaidAsDirectorOfPayer"] == "True" and row["PayerIsPrivateIndividual"] == "False"}
    # a director paid as one: a directorship; any other job: an employment (each a commercial tie)
    assert len(directors) == 32 and len(events) == 511 and report.skipped == []
    assert len(withdrawn) == report.retracted == 479
    assert all(event.relation_id.endswith(":partners_with") for event in withdrawn)
    relations = by_relation(events)
    assert {relation_id.split(":")[1] for relation_id in relations if relation_id.endswith(":directorship")} == \
        directors
    job = relations["commons:12767:employment"]
    assert (job.source.name, job.target.name, job.properties.role) == \
        ("Sir Oliver Dowden", "Francisco Partners Management LP", "Strategy Adviser")
    assert job.start_date == dt.date(2025, 6, 16) and job.target.schema_.value == "Organization"
    assert job.properties.summary == "Francisco Partners Management LP: Global technology investment firm"
    # the job is the tie (an employment is commercial): no second relation saying the same (it counted twice)
    assert not any(relation_id.endswith(":partners_with") for relation_id in relations)
    people = [event for event in events if event.relation_type.value == "employment"
              and event.target.schema_.value == "Person"]
    assert len(people) == 18 and all(event.target.id.startswith("commons-person-") for event in people)


def test_categories_not_read_are_skipped_row_by_row():
    events, report = imported(LAND)
    assert events == [] and len(report.skipped) == 215
    assert {skip.reason for skip in report.skipped} == {"not_converted_yet"}
    assert "land and property name no counterparty" in report.skipped[0].message


def test_the_same_rows_in_any_order_give_the_same_events():
    _, rows = rows_of(GIFTS)
    shuffled = rows[:]
    random.Random(3).shuffle(shuffled)
    assert imported(GIFTS, shuffled)[0] == imported(GIFTS)[0]


def test_rows_that_cannot_be_read_are_skipped_with_their_reason():
    header, rows = rows_of(SHAREHOLDINGS)
    first = rows[0]
    shifted = {**first, "ID": "1", None: ["a cell too many"]}
    no_member = {**first, "ID": "2", "MNIS ID": ""}
    no_company = {**first, "ID": "3", "OrganisationName": " "}
    undated = {**first, "ID": "4", "Published": "", "Updated_1": "", "Updated_2": "", "Registered": ""}
    blank = {name: "" for name in header}
    events, report = imported(SHAREHOLDINGS, [blank, shifted, no_member, no_company, undated])
    assert events == []
    assert [(skip.reason, skip.message.split(":")[0]) for skip in report.skipped] == [
        ("invalid_entity", "row 3"), ("missing_endpoint", "row 4"), ("missing_endpoint", "row 5"),
        ("missing_provenance", "row 6")]
    downloaded = ImportDefaults(extractor_name=EXTRACTOR_NAME, extractor_version=COMMONS_IMPORT_VERSION,
                                retrieved_at=dt.datetime(2025, 7, 14, tzinfo=dt.UTC))
    assert len(imported(SHAREHOLDINGS, [undated], downloaded)[0]) == 1


def test_dates_and_sums_that_are_none_are_noted_and_left_out():
    _, rows = rows_of(GIFTS)
    row = next(row for row in rows if row["Summary"].startswith("Glastonbury"))
    (event,), report = imported(GIFTS, [{**row, "ReceivedDate": "0204-05-28", "AcceptedDate": "",
                                         "Value": "about £400"}])
    assert event.start_date is None and event.properties.amount is None and event.properties.currency is None
    assert any("is not a date" in note for note in report.notes)
    assert any("'about £400' is not a sum" in note for note in report.notes)
    (event,), report = imported(GIFTS, [{**row, "ReceivedEndDate": "2025-06-01"}])  # before it was received
    assert event.start_date == event.end_date == dt.date(2025, 6, 26)
    assert any("before it begins" in note for note in report.notes)


def test_a_visits_donors_each_paid_the_member():
    events, report = imported(VISITS)
    # 316 visits: 298 with one donor, 10 with two, 3 with three, 1 with four, 4 with five
    assert len(events) == 351 and report.skipped == []
    first = by_relation(events)["commons:5829:payment:1"]
    assert (first.source.name, first.source.schema_.value, first.target.name) == \
        ("Coalition for Global Prosperity (CGP)", "Organization", "Mr Tanmanjeet Singh Dhesi")
    assert (first.properties.amount, first.properties.purpose) == (3198.67, "in kind; visit to United States")
    assert first.properties.summary.startswith("Fact-finding political delegation")
    assert (first.start_date, first.end_date) == (dt.date(2024, 5, 6), dt.date(2024, 5, 10))
    _, rows = rows_of(VISITS)
    five = next(row for row in rows if row.get("Donors_Name_5", "").strip())
    interest = five["ID"]
    paid = sorted(event.relation_id for event in events if event.relation_id.startswith(f"commons:{interest}:"))
    assert paid == [f"commons:{interest}:payment:{number}" for number in range(1, 6)]


def test_people_of_one_name_are_one_only_among_a_members_counterparties():
    _, rows = rows_of(DONATIONS)
    row = next(row for row in rows if row["DonorStatus"] == "Individual")
    other_member = {**row, "ID": "99999", "MNIS ID": "1", "Member": "Another Member"}
    first, second = imported(DONATIONS, [row, other_member])[0]
    assert first.source.name == second.source.name and first.source.id != second.source.id
    union = next(row for row in rows if row["DonorStatus"] == "Trade Union")
    first, second = imported(DONATIONS, [union, {**union, "ID": "99999", "MNIS ID": "1"}])[0]
    assert first.source.id == second.source.id  # a union giving to two members is one union


def test_the_sums_paid_under_an_employment_come_from_its_payer():
    employments = {row["ID"]: row for row in rows_of(EMPLOYMENT)[1]}
    events, report = imported(AD_HOC_PAYMENTS, employments=employments)
    assert len(events) == 200 and report.skipped == []
    hayes = by_relation(events)["commons:12851:payment"]
    parent = employments["11839"]
    assert (hayes.source.name, hayes.target.name) == (parent["PayerName"].strip(), "Sir John Hayes")
    assert (hayes.properties.amount, hayes.properties.currency) == (2392.5, "GBP")
    assert hayes.properties.purpose == f"earnings as {parent['JobTitle'].strip()}"
    assert hayes.start_date == dt.date(2025, 6, 25)
    # the payer is the employment's own: one node for the employment and its payments
    job = by_relation(imported(EMPLOYMENT)[0])["commons:11839:employment"]
    assert hayes.source.id == job.target.id
    ongoing, report = imported(ONGOING_PAYMENTS, employments=employments)
    assert len(ongoing) == 184 and report.skipped == []
    mitchell = by_relation(ongoing)["commons:12690:payment"]
    assert mitchell.properties.amount == 22000.0 and (mitchell.start_date, mitchell.end_date) == \
        (dt.date(2025, 6, 27), dt.date(2026, 6, 26))
    assert mitchell.properties.summary.startswith("paid quarterly; 30.00 hours quarterly; (amount has been converted")
    # a payment whose member named another ultimate payer comes from that payer
    _, rows = rows_of(ONGOING_PAYMENTS)
    other = next(row for row in rows if row["IsUltimatePayerDifferent"] == "True")
    event = by_relation(ongoing)[f"commons:{other['ID']}:payment"]
    assert event.source.name == " ".join(other["UltimatePayerName"].split())


def test_payments_without_their_employments_are_skipped_with_the_way_to_read_them():
    events, report = imported(AD_HOC_PAYMENTS)
    assert events == [] and len(report.skipped) == 200
    assert "import the export's directory" in report.skipped[0].message
    events, report = imported(AD_HOC_PAYMENTS, employments={})
    assert events == [] and {skip.reason for skip in report.skipped} == {"missing_endpoint"}


def test_the_registers_first_layout_is_read_as_its_later_one():
    # 2024-08 to 2024-10: "Registration Date", "Published Date", "Updated Date", dates as dd/mm/yyyy, no links
    events, report = imported(SHAREHOLDINGS_2024)
    assert len(events) == 185 and report.skipped == []
    tice = next(event for event in events if event.target.name == "JMT Holdco Ltd")
    assert (tice.source.id, tice.relation_id) == ("commons-member-5161", "commons:9795:ownership")
    assert tice.observed_at == dt.datetime(2024, 8, 4, tzinfo=dt.UTC)  # its "Published Date", 04/08/2024
    assert str(tice.provenance.source_url) == "https://interests-api.parliament.uk/api/v1/Interests/9795"
    # the same interest, unchanged, in the export of a year later (the later layout): the very same event
    assert by_relation(imported(SHAREHOLDINGS)[0])["commons:9795:ownership"] == tice
    assert is_register(["ID", "Parent Interest ID", "Summary", "Registration Date", "Published Date",
                        "Updated Date", "Category", "Member", "MNIS ID"])
    assert normalised({"Donors_1_Name": "x", "VisitLocations_2_Country": "y", "Link_1": "z"}) == \
        {"Donors_Name_1": "x", "VisitLocations_Country_2": "y", "Link": "z"}


def test_an_interest_listed_twice_is_read_once_in_its_latest_version():
    _, rows = rows_of(SHAREHOLDINGS)
    row = next(row for row in rows if row["ID"] == "1330")
    later = {**row, "Updated_1": "2025-07-01", "EndDate": "2025-06-30"}
    for order in ([row, later], [later, row]):
        (event,), report = imported(SHAREHOLDINGS, order)
        assert event.end_date == dt.date(2025, 6, 30)
        assert any("interest 1330 is listed 2 times" in note for note in report.notes)


def test_companies_house_numbers_as_members_write_them():
    from schemas.commons import _company_number

    assert _company_number("Company Registration No. 03395681 Registered Charity No. 1068839") == "03395681"
    assert _company_number("123") is None  # a placeholder, not a company registered in the 1850s
    assert _company_number("2065") == "00002065" and _company_number("SC 437127") == "SC437127"
    assert _company_number("04348175") == "04348175" and _company_number("IP28451R") is None
    assert _company_number("12956185 or 87654321") is None  # two numbers: which one cannot be told


def test_a_company_the_register_numbers_in_one_row_is_that_company_in_the_others():
    _, rows = rows_of(GIFTS)
    festival = next(row for row in rows if row["Summary"].startswith("Glastonbury Festival"))
    unnumbered = {**festival, "ID": "99999", "DonorCompanyIdentifier": "", "DonorCompanyIdentifierSource": ""}
    events, _ = imported(GIFTS, [festival, unnumbered])
    assert {event.source.id for event in events} == {"commons-company-gb-04348175"}
    # the visit of a firm named as the register numbers it elsewhere (an export's directory shares the numbers)
    _, visits = rows_of(VISITS)
    visit = {**visits[0], "Donors_Name_1": "Glastonbury Festival Events Limited"}
    report = ImportReport()
    (event,) = import_commons_interests(lambda: [visit], DEFAULTS, report, numbers=company_numbers([festival]))
    assert event.source.id == "commons-company-gb-04348175" and event.source.schema_.value == "Company"


def test_a_download_day_before_the_rows_own_dates_is_noted():
    downloaded = ImportDefaults(extractor_name=EXTRACTOR_NAME, extractor_version=COMMONS_IMPORT_VERSION,
                                retrieved_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    events, report = imported(SHAREHOLDINGS, defaults=downloaded)
    assert len(events) == 202
    assert any("after --retrieved-at 2020-01-01: is that the day the export was downloaded?" in note
               for note in report.notes)


# --- cells as members write them (each of these a mutation the tests above let through) ----------------------------

def gift(**cells) -> dict:
    _, rows = rows_of(GIFTS)
    return {**next(row for row in rows if row["Summary"].startswith("Glastonbury Festival")), **cells}


def test_who_a_donor_is_by_its_status_and_its_number():
    cases = [
        (gift(), ("Company", "commons-company-gb-04348175")),
        (gift(DonorStatus="Trust", DonorName="Example Trust"), ("LegalEntity", "commons-party-")),
        (gift(DonorStatus="Limited Liability Partnership", DonorCompanyIdentifier="OC123456"),
         ("Company", "commons-company-gb-oc123456")),
        (gift(DonorCompanyIdentifierSource="Charity Commission", DonorCompanyIdentifier="1068839"),
         ("Company", "commons-party-")),  # a number of another register is no Companies House number
        (gift(DonorStatus="Individual", DonorName="Jane Example", DonorCompanyName=""),
         ("Person", "commons-person-5249-")),  # (an individual's cells carry no company number)
        (gift(DonorCompanyIdentifier="SC437127"), ("Company", "commons-company-gb-sc437127")),
        (gift(DonorCompanyIdentifier="Registered in Scotland, number 437127"),
         ("Company", "commons-company-gb-00437127")),
    ]
    for row, (schema, prefix) in cases:
        (event,), _ = imported(GIFTS, [row])
        assert (event.source.schema_.value, event.source.id.startswith(prefix)) == (schema, True), (row, event.source)
    (event,), _ = imported(GIFTS, [gift(DonorName="Worthy Farm (trading name)")])
    assert event.source.name == "Glastonbury Festival Events Limited"  # a company by its company name


def test_sums_and_dates_as_members_write_them():
    for value, amount in (("£393.50", 393.5), ("12,500.00", 12500.0), ("393.5", 393.5)):
        (event,), _ = imported(GIFTS, [gift(Value=value)])
        assert event.properties.amount == amount, value
    (event,), _ = imported(GIFTS, [gift(IsSoleBeneficiary="False")])
    assert event.properties.purpose.startswith("in kind; not to the member alone; Ticket and hospitality")
    (event,), _ = imported(GIFTS, [gift(ReceivedDate="", AcceptedDate="2025-06-27")])
    assert event.start_date == dt.date(2025, 6, 27)  # accepted, where the day it was received is not given
    (event,), _ = imported(GIFTS, [gift(ReceivedDate="2025-06-26T00:00:00")])
    assert event.start_date == dt.date(2025, 6, 26)
    (event,), _ = imported(GIFTS, [gift(Published="", Updated_1="", Updated_2="", Registered="2025-07-13")])
    assert event.observed_at == dt.datetime(2025, 7, 13, tzinfo=dt.UTC)  # registered, where never published
    events, report = imported(GIFTS, [gift(ID="12879a"), gift(ID="2", Value=None)])
    assert events == [] and [skip.reason for skip in report.skipped] == ["invalid_entity", "invalid_entity"]
    assert is_register(["\ufeffID", *sorted(HEADER - {"ID"})])


def test_a_visits_donors_each_with_their_own_cells():
    _, rows = rows_of(VISITS)
    row = next(row for row in rows if row.get("Donors_Name_2", "").strip())
    events = imported(VISITS, [{**row, "Donors_IsPrivateIndividual_2": "True"}])[0]
    first, second = sorted(events, key=lambda event: event.relation_id)
    assert str(first.properties.amount) == str(float(row["Donors_Value_1"]))
    assert str(second.properties.amount) == str(float(row["Donors_Value_2"]))
    assert (first.source.schema_.value, second.source.schema_.value) == ("Organization", "Person")


def test_family_members_are_the_members_relatives_with_their_jobs():
    events, report = imported(FAMILY_LOBBYING)
    # 21 relatives engaged in lobbying: 21 family ties, 16 jobs (five work alone: "Self Employed" is no firm)
    assert report.skipped == [] and len(events) == 21 + 16
    relations = by_relation(events)
    brother = relations["commons:11663:family"]
    assert (brother.source.name, brother.target.name, brother.properties.relationship) == \
        ("Rosie Wrighting", "Joseph Wrighting", "brother")
    assert brother.target.topics == ("role.rca",) and brother.target.id.startswith("commons-relative-5331-")
    job = relations["commons:11663:employment"]
    assert (job.source.id, job.target.name, job.properties.role) == (brother.target.id, "Connect PA", "Consultant")
    assert not any(event.target.name == "Self Employed" for event in events)
    _, rows = rows_of(FAMILY_LOBBYING)
    in_law = next(row for row in rows if row["FamilyMemberRelationshipLevel"] == "Related to spouse"
                  and row["FamilyRelationType"] == "Brother")
    assert relations[f"commons:{in_law['ID']}:family"].properties.relationship == "spouse's brother"
    employed, report = imported(FAMILY_EMPLOYED)
    assert report.skipped == [] and len(employed) == 2 * 34
    staff = by_relation(employed)["commons:2704:employment"]
    assert (staff.source.name, staff.target.id, staff.properties.role) == \
        ("Caroline Smith", "commons-member-146", "Executive Officer")
    # two members' relatives of one name are two people
    assert by_relation(employed)["commons:2704:family"].target.id.startswith("commons-relative-146-")


def test_a_relative_working_alone_joins_no_one_and_the_lobbying_is_said():
    _, rows = rows_of(FAMILY_LOBBYING)
    row = next(row for row in rows if row["ID"] == "11663")
    placeholders = ["Self Employed", "-", "Various", "Not applicable", "Self-employed consultant",
                    "Freelance consultant", "Self employed (sole trader)", ""]
    events, report = imported(FAMILY_LOBBYING, [{**row, "ID": str(100 + n), "MNIS ID": str(1 + n), "Employer": e}
                                                for n, e in enumerate(placeholders)])
    assert report.skipped == [] and {event.relation_type.value for event in events} == {"family"}
    assert events[0].properties.summary == "engaged in third-party lobbying; Consultant; Self Employed"
    (family, job), _ = imported(FAMILY_LOBBYING, [{**row, "MNIS ID": "05331"}])  # (a member id written with a zero)
    assert family.source.id == "commons-member-5331" and job.target.name == "Connect PA"
