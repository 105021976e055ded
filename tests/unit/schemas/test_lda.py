"""US lobbying disclosures (tests/fixtures/lda: real responses of the Senate's LDA API, see tests/fixtures/README.md):
a client lobbies the federal bodies its registrant's reports name, the registrant and its lobbyists act for it, the
report posted last of a period stands."""

from __future__ import annotations

import copy
import datetime as dt
import json
import random
from pathlib import Path

from schemas.bods import is_bods
from schemas.ftm import ImportDefaults, ImportReport
from schemas.kek import is_kek
from schemas.lda import EXTRACTOR_NAME, LDA_IMPORT_VERSION, PUBLISHER, events_from_lda, is_lda
from schemas.ocds import is_ocds
from schemas.wikidata import is_wikidata

FIXTURES = Path(__file__).parents[2] / "fixtures"
LDA = FIXTURES / "lda"
PAGE = LDA / "senate_filings_registrant_401104726_page1.json"  # 25 filings of one registrant, 2017-2019
REGISTRATION = LDA / "senate_filing_00b70943.json"  # its registration for Microsoft
REGISTRANT = "lda-registrant-401104726"  # 10-SQUARE SOLUTIONS
MEDTRONIC = "lda-client-be872134e0e170b58db6"  # MEDTRONIC, INC
MICROSOFT = "lda-client-f43b260c65382b8b81f5"
# the registrant's client records (LDA's ids): what its reports and engagement of each client are of
OF_MEDTRONIC, OF_MICROSOFT = f"lda:{REGISTRANT}:client-202510", f"lda:{REGISTRANT}:client-202513"
VA = "lda-government-entity-42"  # Veterans Affairs, Dept of (VA)
COPHER, BUYER = "lda-lobbyist-67387", "lda-lobbyist-68012"


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def imported(documents, **defaults):
    report = ImportReport()
    options = ImportDefaults(extractor_name=EXTRACTOR_NAME, extractor_version=LDA_IMPORT_VERSION, **defaults)
    return list(events_from_lda(documents, options, report)), report


def filing(**changes) -> dict:
    """The registrant's real report of the first quarter of 2018 for Medtronic, with `changes`."""
    chosen = next(f for f in load(PAGE)["results"] if f["filing_type"] == "Q1"
                  and f["client"]["name"] == "MEDTRONIC, INC")
    return {**copy.deepcopy(chosen), **changes}


def test_filings_and_pages_are_recognised_and_other_formats_are_not():
    page = load(PAGE)
    assert is_lda(page) and is_lda(page["results"][0]) and is_lda(load(REGISTRATION))
    for other in (page, page["results"][0]):
        assert not (is_bods(other) or is_wikidata(other) or is_kek(other) or is_ocds(other))
    assert not is_lda({"count": 0, "next": None, "previous": None, "results": []})
    assert not is_lda({"results": [{"id": "x"}]})
    assert not is_lda(load(LDA / "senate_constants_government_entities.json"))
    assert not is_lda(json.loads((FIXTURES / "ocds" / "record-package-1-2.json").read_text()))


def test_a_client_lobbies_each_government_entity_its_report_names_over_the_quarter():
    events, report = imported([load(PAGE)])
    assert report.skipped == []
    by_id = {e.relation_id: e for e in events}
    lobbying = by_id[f"{OF_MEDTRONIC}:2018:first_quarter:lobbies:{VA}"]
    assert lobbying.op.value == "upsert" and lobbying.relation_type.value == "lobbies"
    assert (lobbying.source.id, lobbying.source.schema_.value, lobbying.source.name) == (
        MEDTRONIC, "Organization", "MEDTRONIC, INC")
    assert (lobbying.target.id, lobbying.target.schema_.value, lobbying.target.name) == (
        VA, "PublicBody", "Veterans Affairs, Dept of (VA)")
    assert lobbying.target.topics == ("gov.national",) and lobbying.target.country == "us"
    assert (lobbying.start_date, lobbying.end_date) == (dt.date(2018, 1, 1), dt.date(2018, 3, 31))
    assert lobbying.status.value == "confirmed"
    assert lobbying.properties.role == "through 10-SQUARE SOLUTIONS"
    assert lobbying.properties.summary.startswith("Veterans: ")
    posted = next(f["dt_posted"] for f in load(PAGE)["results"] if f["filing_type"] == "Q1" and f["filing_year"] == 2018
                  and f["client"]["name"] == "MEDTRONIC, INC")
    assert lobbying.observed_at == dt.datetime.fromisoformat(posted) == dt.datetime(
        2018, 4, 17, 12, 9, 11, 843000, tzinfo=dt.timezone(dt.timedelta(hours=-4)))
    assert lobbying.provenance.publisher == PUBLISHER
    assert lobbying.provenance.source_url.startswith("https://lda.senate.gov/filings/public/filing/")
    assert lobbying.event_id.startswith("lda-")
    # the House and the Senate too, each a body of its own
    assert {e.target.name for e in events if e.relation_id.startswith(f"{OF_MEDTRONIC}:2018:first_q")
            and e.relation_type.value == "lobbies"} == {"HOUSE OF REPRESENTATIVES", "SENATE",
                                                       "Veterans Affairs, Dept of (VA)"}


def test_the_client_pays_the_registrant_its_income_and_the_registrant_acts_for_it():
    events, _ = imported([load(PAGE)])
    by_id = {e.relation_id: e for e in events}
    income = by_id[f"{OF_MEDTRONIC}:2018:first_quarter:income"]
    assert income.relation_type.value == "payment"
    assert (income.source.id, income.target.id) == (MEDTRONIC, REGISTRANT)
    assert (income.properties.amount, income.properties.currency) == (15000.0, "USD")
    assert (income.start_date, income.end_date) == (dt.date(2018, 1, 1), dt.date(2018, 3, 31))
    engagement = by_id[f"{OF_MEDTRONIC}:engagement"]
    assert engagement.relation_type.value == "representation"
    assert (engagement.source.id, engagement.target.id) == (REGISTRANT, MEDTRONIC)
    assert engagement.start_date == dt.date(2017, 12, 6) and engagement.end_date is None
    # one engagement per client, however many filings name it
    assert sum(1 for e in events if e.relation_id.endswith(":engagement")) == 7


def test_a_lobbyist_acts_for_the_client_with_the_covered_positions_held():
    events, _ = imported([load(PAGE)])
    by_id = {e.relation_id: e for e in events}
    lobbyist = by_id[f"{OF_MEDTRONIC}:2018:first_quarter:lobbyist:{COPHER}"]
    assert lobbyist.relation_type.value == "representation"
    assert (lobbyist.source.id, lobbyist.source.schema_.value, lobbyist.source.name) == (
        COPHER, "Person", "MIKE COPHER")
    assert lobbyist.target.id == MEDTRONIC
    assert lobbyist.properties.role == "lobbyist, through 10-SQUARE SOLUTIONS"
    assert lobbyist.properties.summary.startswith("covered positions: ")
    assert "Staff Director House Veterans Affairs Committee" in lobbyist.properties.summary


def test_a_registration_names_expected_lobbyists_as_proposed_from_the_effective_date():
    events, report = imported([load(REGISTRATION)])
    assert report.skipped == [] and report.converted == 3
    by_id = {e.relation_id: e for e in events}
    buyer = by_id[f"{OF_MICROSOFT}:registration:lobbyist:{BUYER}"]
    assert buyer.status.value == "proposed" and buyer.start_date == dt.date(2018, 3, 19) and buyer.end_date is None
    assert buyer.source.name == "STEVE BUYER" and buyer.properties.summary == "covered positions: Retired Member of " \
                                                                              "Congress"
    engagement = by_id[f"{OF_MICROSOFT}:engagement"]
    assert engagement.status.value == "confirmed" and engagement.start_date == dt.date(2018, 3, 19)
    # the registration gives no body lobbied and no income
    assert {e.relation_type.value for e in events} == {"representation"}


def test_an_amendment_posted_later_replaces_the_report_of_its_period():
    """Medtronic's fourth quarter of 2017: a Q4 report (2018-01-19) and its amendment (4A, 2018-01-23). Only the
    amendment's relations are written, under the same ids, so they replace the report's in any later import."""
    events, report = imported([load(PAGE)])
    reports = [f for f in load(PAGE)["results"] if f["client"]["name"] == "MEDTRONIC, INC"
               and f["filing_year"] == 2017 and f["filing_type"] in ("Q4", "4A")]
    amendment = next(f for f in reports if f["filing_type"] == "4A")
    of_the_quarter = [e for e in events if e.relation_id.startswith(f"{OF_MEDTRONIC}:2017:fourth_q")]
    assert of_the_quarter and all(e.op.value == "upsert" for e in of_the_quarter)
    assert {e.provenance.source_url for e in of_the_quarter} == {amendment["filing_document_url"]}
    assert len({e.relation_id for e in of_the_quarter}) == len(of_the_quarter)
    assert report.outcomes["lda reports replaced by one posted later"] == 2


def test_a_no_activity_amendment_retracts_what_the_report_of_its_period_stated():
    """Medtronic's fourth quarter of 2018 was reported with lobbying and $15,000 (2019-01-11), then amended to "no
    activity" (4AY, 2019-01-25): every relation of the report is retracted as of the amendment."""
    events, report = imported([load(PAGE)])
    of_the_quarter = [e for e in events if e.relation_id.startswith(f"{OF_MEDTRONIC}:2018:fourth_q")]
    assert {e.op.value for e in of_the_quarter} == {"retract"}
    assert {e.relation_id.rsplit(":", 1)[-1] for e in of_the_quarter} == {
        "lda-government-entity-1", "lda-government-entity-2", VA, "income", COPHER}
    assert {e.observed_at.date() for e in of_the_quarter} == {dt.date(2019, 1, 25)}
    assert report.retracted == 5 and report.outcomes["lda reports of no activity"] == 1


def test_the_same_filings_in_any_order_or_listed_twice_give_the_same_events():
    page = load(PAGE)
    expected = sorted(e.model_dump_json() for e in imported([page])[0])
    for seed in (1, 2, 3):
        shuffled = copy.deepcopy(page)
        random.Random(seed).shuffle(shuffled["results"])
        assert sorted(e.model_dump_json() for e in imported([shuffled])[0]) == expected
    # overlapping pages (a filing on two) and single filings beside the page
    assert sorted(e.model_dump_json() for e in imported([page, page["results"][3], page])[0]) == expected
    assert sorted(e.model_dump_json() for e in imported(page["results"])[0]) == expected


def test_an_organisation_lobbying_for_itself_is_its_own_client():
    own = filing(client={**filing()["client"], "name": "10-SQUARE SOLUTIONS", "client_self_select": True},
                 expenses="50000.00", income=None)
    events, report = imported([own])
    assert report.skipped == []
    client = events[0].source.id
    assert client.startswith("lda-client-")
    lobbying = [e for e in events if e.relation_type.value == "lobbies"]
    assert lobbying and {e.source.id for e in lobbying} == {client}
    assert {e.properties.role for e in lobbying} == {"in-house"}
    # no engagement of itself and no payment to itself; its lobbyists act for it
    assert {e.relation_type.value for e in events} == {"lobbies", "representation"}
    assert all(e.target.id == client for e in events if e.relation_type.value == "representation")
    assert not any(e.relation_id.endswith(":engagement") for e in events)


def test_a_termination_ends_the_engagement():
    terminated = filing(filing_uuid="00000000-0000-0000-0000-000000000001", filing_type="2T",
                        filing_period="second_quarter", dt_posted="2018-07-20T10:00:00-04:00",
                        termination_date="2018-05-31")
    events, _ = imported([filing(), terminated])
    engagement = next(e for e in events if e.relation_id.endswith(":engagement"))
    assert (engagement.start_date, engagement.end_date) == (dt.date(2017, 12, 6), dt.date(2018, 5, 31))
    # reports of a later period: engaged again, no end
    later = filing(filing_uuid="00000000-0000-0000-0000-000000000002", filing_type="Q4", filing_year=2019,
                   filing_period="fourth_quarter", dt_posted="2020-01-20T10:00:00-05:00")
    events, _ = imported([filing(), terminated, later])
    assert next(e for e in events if e.relation_id.endswith(":engagement")).end_date is None
    # a report that is no termination states no engagement, whatever termination date it carries: the registration
    # and the terminations do (a file of the later quarters' reports cannot undo a termination imported before)
    events, _ = imported([filing(termination_date="2018-02-01")])
    assert not any(e.relation_id.endswith(":engagement") for e in events)


def test_a_client_is_one_entity_whatever_its_registrant_punctuation_accents_or_state():
    """LDA numbers a client anew for each registrant, and each registrant writes its name and state its way: Boston
    Scientific's ten real client records (one of them its own, as a self-filer) are one entity."""
    from schemas.lda import _client

    records = load(LDA / "senate_clients_boston_scientific.json")["results"]
    assert len(records) == 10 and {r["state"] for r in records} == {"DC", "MA", None}
    assert len({_client(record).entity_id for record in records}) == 1
    first = filing()
    variants = [("MEDTRONIC,INC.", "MN"), ("Medtronic Inc", None), ("Médtronic, Inc.", "DC")]
    spelled = [filing(filing_uuid=f"00000000-0000-0000-0000-00000000000{n}",
                      registrant={**first["registrant"], "id": 12340 + n, "name": f"FIRM {n}"},
                      client={**first["client"], "id": 900 + n, "name": name, "state": state})
               for n, (name, state) in enumerate(variants)]
    events, _ = imported([first, *spelled])
    payers = {e.target.id: e.source.id for e in events if e.relation_type.value == "payment"}
    assert len(payers) == 4 and set(payers.values()) == {MEDTRONIC}
    # "AT&T" and "AT & T" are one name; a government's name is one entity per state
    assert _client({"name": "AT&T SERVICES, INC."}).entity_id == _client({"name": "AT & T SERVICES INC"}).entity_id
    springfield = [_client({"name": "CITY OF SPRINGFIELD", "state": state, "country": "US",
                            "client_government_entity": True}) for state in ("IL", "MA")]
    assert springfield[0].entity_id != springfield[1].entity_id
    assert {c.schema for c in springfield} == {"PublicBody"}
    # a name of punctuation or invisible characters alone is no name
    assert _client({"name": "..."}) is None and _client({"name": "\u200b\x00"}) is None


def test_unreadable_filings_are_skipped_with_their_reason_and_the_rest_read():
    events, report = imported([
        filing(filing_uuid="u-type", filing_type="ZZ"),
        filing(filing_uuid="u-period", filing_period="fifth_quarter"),
        filing(filing_uuid="u-posted", dt_posted="yesterday"),
        filing(filing_uuid="u-client", client={"id": 1}),
        filing(),
    ])
    assert {(s.entity_id, s.reason) for s in report.skipped} == {
        ("u-type", "unreadable_value"), ("u-period", "unreadable_value"), ("u-posted", "unreadable_value"),
        ("u-client", "missing_endpoint")}
    assert any(e.relation_type.value == "lobbies" for e in events)
    # a file that repeats a filing surveys its filings again: each skip is reported once
    _, again = imported([filing(filing_uuid="u-type", filing_type="ZZ"), filing(), filing()])
    assert [(s.entity_id, s.reason) for s in again.skipped] == [("u-type", "unreadable_value")]
    # with --retrieved-at, a filing without its posting time is read as of then
    events, report = imported([filing(dt_posted=None)], retrieved_at=dt.datetime(2024, 9, 7, tzinfo=dt.timezone.utc))
    assert report.skipped == [] and {e.observed_at for e in events} == {
        dt.datetime(2024, 9, 7, tzinfo=dt.timezone.utc)}


def test_odd_values_give_no_traceback():
    for income in ("abc", "-5", "1e400", "NaN", True, 10 ** 400, 10 ** 5000):  # (the last only from memory)
        events, report = imported([filing(income=income)])
        assert report.skipped == [] and not any(e.relation_type.value == "payment" for e in events), income
        assert any("no positive sum" in note for note in report.notes), income
    lone = filing(client={**filing()["client"], "name": "MED\ud800TRONIC"})
    events, report = imported([lone])
    assert report.skipped == [] and events
    weird = filing(lobbying_activities=[{"government_entities": [{"id": None, "name": "X"}, "SENATE"],
                                         "lobbyists": [{"lobbyist": {"id": 5}}, "nobody"]}, "not an activity"])
    events, report = imported([weird])
    assert report.skipped == [] and {e.relation_type.value for e in events} == {"payment"}
    assert sorted(note.split(": ", 1)[1][:30] for note in report.notes) == sorted([
        "1 of lobbying_activities are n", "1 of government_entities are n", "1 of lobbyists are no objects:",
        "a government entity without an", "a lobbyist without an id or a "])
    # lists given as something else: left out, noted
    for activities in (5, True, "text", [{"government_entities": 3}], [{"lobbyists": 7.5}], {"a": 1}):
        events, report = imported([filing(lobbying_activities=activities)])
        assert report.skipped == [] and any("is no list" in note for note in report.notes), activities
        assert not any(e.relation_type.value == "lobbies" for e in events) or activities == [{"lobbyists": 7.5}]


def test_dates_the_contract_cannot_hold_skip_the_filing_or_leave_the_date_out():
    events, report = imported([filing(filing_uuid="u-year", filing_year=3000),
                               filing(filing_uuid="u-early", dt_posted="0001-01-01T00:00:00+05:00"),
                               filing(filing_uuid="u-late", dt_posted="3000-01-01T00:00:00Z")])
    assert {(s.entity_id, s.reason) for s in report.skipped} == {
        ("u-year", "unreadable_value"), ("u-early", "unreadable_value"), ("u-late", "unreadable_value")}
    registration = next(f for f in load(PAGE)["results"] if f["filing_type"] == "RA")
    for effective in ("0999-12-31", "3000-01-01", "2018-02-30"):
        events, report = imported([{**registration, "client": {**registration["client"], "effective_date": effective}}])
        assert report.skipped == [] and any("effective_date" in note for note in report.notes)
        engagement = next(e for e in events if e.relation_id.endswith(":engagement"))
        assert engagement.start_date is None
    events, report = imported([filing(filing_type="1T", termination_date="3000-01-01")])
    engagement = next(e for e in events if e.relation_id.endswith(":engagement"))
    assert engagement.end_date == dt.date(2018, 3, 31)  # a termination without a date: by its period's end
    assert any("termination without a readable termination_date" in note for note in report.notes)
    # a year written as text is read
    assert imported([filing(filing_year="2018")])[1].skipped == []


def engagement_of(*filings) -> tuple[dt.date | None, dt.date | None]:
    events, _ = imported(list(filings))
    engagement = next(e for e in events if e.relation_id.endswith(":engagement"))
    return engagement.start_date, engagement.end_date


def report_of(kind: str, period: str, posted: str, number: int, year: int = 2018, **changes) -> dict:
    return filing(filing_uuid=f"00000000-0000-0000-0000-{number:012d}", filing_type=kind, filing_period=period,
                  filing_year=year, dt_posted=posted, **changes)


def test_an_amended_termination_or_a_withdrawn_one_stands_as_any_report_does():
    terminated = report_of("2T", "second_quarter", "2018-07-20T10:00:00-04:00", 1, termination_date="2018-06-30")
    amended = report_of("2@", "second_quarter", "2018-07-25T10:00:00-04:00", 2, termination_date="2018-05-15")
    withdrawn = report_of("2A", "second_quarter", "2018-07-25T10:00:00-04:00", 3, termination_date=None)
    start = dt.date(2017, 12, 6)
    assert engagement_of(filing(), terminated) == (start, dt.date(2018, 6, 30))
    assert engagement_of(filing(), terminated, amended) == (start, dt.date(2018, 5, 15))
    assert engagement_of(amended, filing(), terminated) == (start, dt.date(2018, 5, 15))
    assert engagement_of(filing(), terminated, withdrawn) == (start, None)
    assert engagement_of(withdrawn, terminated, filing()) == (start, None)


def test_a_termination_ends_its_reports_relations_and_a_later_period_engages_again():
    early = report_of("1T", "first_quarter", "2018-04-20T10:00:00-04:00", 4, termination_date="2018-01-15")
    events, _ = imported([early])
    assert {(e.start_date, e.end_date) for e in events if e.relation_type.value == "lobbies"} == {
        (dt.date(2018, 1, 1), dt.date(2018, 1, 15))}
    assert engagement_of(early) == (dt.date(2017, 12, 6), dt.date(2018, 1, 15))
    second_quarter = report_of("Q2", "second_quarter", "2018-07-20T10:00:00-04:00", 5)
    assert engagement_of(early, second_quarter) == (dt.date(2017, 12, 6), None)
    # terminated again in the second quarter: the latest termination ends it
    again = report_of("2T", "second_quarter", "2018-07-20T10:00:00-04:00", 10, termination_date="2018-05-31")
    assert engagement_of(early, again) == (dt.date(2017, 12, 6), dt.date(2018, 5, 31))
    # a termination dated before the client's effective date ends the engagement when it began
    assert engagement_of(report_of("1T", "first_quarter", "2018-04-20T10:00:00-04:00", 6,
                                   termination_date="2017-01-01")) == (dt.date(2017, 12, 6), dt.date(2017, 12, 6))


def test_a_registrations_expected_relations_end_with_the_engagement():
    registration = next(f for f in load(PAGE)["results"] if f["filing_type"] == "RA"
                        and f["client"]["name"] == "MEDTRONIC, INC")
    terminated = report_of("2T", "second_quarter", "2018-07-20T10:00:00-04:00", 7, termination_date="2018-05-31")
    events, _ = imported([registration, terminated])
    expected = [e for e in events if ":registration:" in e.relation_id]
    assert expected and {(e.status.value, e.start_date, e.end_date) for e in expected} == {
        ("proposed", dt.date(2017, 12, 6), dt.date(2018, 5, 31))}


def test_of_two_filings_posted_at_once_the_amendment_stands():
    posted = "2018-04-17T12:09:11-04:00"
    original = report_of("Q1", "first_quarter", posted, 9)  # its uuid sorts after the amendment's
    amendment = report_of("1A", "first_quarter", posted, 8, lobbying_activities=[])
    for order in ([original, amendment], [amendment, original]):
        events, report = imported(order)
        assert not any(e.relation_type.value == "lobbies" and e.op.value == "upsert" for e in events)
        assert report.retracted == 4  # the original's three bodies and its lobbyist


def test_a_filing_repeated_with_other_content_is_read_the_same_whatever_the_order():
    """Pages downloaded at different times carry one filing with its client's record of the day."""
    older, newer = filing(), filing(client={**filing()["client"], "name": "MEDTRONIC USA, INC"})
    emptied = filing(lobbying_activities=[])
    for pair in ((older, newer), (older, emptied)):
        one = sorted(e.model_dump_json() for e in imported(list(pair))[0])
        other = sorted(e.model_dump_json() for e in imported(list(reversed(pair)))[0])
        assert one == other and one


def test_a_page_whose_first_item_is_broken_is_read_but_that_item():
    page = load(PAGE)
    page["results"] = [5, *page["results"]]
    assert is_lda(page)
    events, report = imported([page])
    assert [s.reason for s in report.skipped] == ["invalid_entity"] and len(events) == 95


def test_lobbyists_positions_told_as_none_are_left_out_and_summaries_are_bounded():
    lobbyist = {"id": 67387, "first_name": "MIKE", "last_name": "COPHER"}
    activities = [{"general_issue_code_display": "Veterans", "description": f"issue {n}",
                   "government_entities": [{"id": 42, "name": "Veterans Affairs, Dept of (VA)"}],
                   "lobbyists": [{"lobbyist": lobbyist, "covered_position": position}]}
                  for n, position in enumerate(["N/A", "n/a.", "None", *(f"post {n}" for n in range(3000))])]
    events, _ = imported([filing(lobbying_activities=activities)])
    person = next(e for e in events if e.relation_id.endswith(f":lobbyist:{COPHER}"))
    assert person.properties.summary.startswith("covered positions: post 0 | post 1 | ")
    assert "N/A" not in person.properties.summary and len(person.properties.summary) <= 5000
    body = next(e for e in events if e.relation_type.value == "lobbies")
    assert body.properties.summary.startswith("Veterans: issue 0; Veterans: issue 1; ")
    assert len(body.properties.summary) <= 5000
    only_none = filing(lobbying_activities=[{"lobbyists": [{"lobbyist": lobbyist, "covered_position": "N/A"}]}])
    person = next(e for e in imported([only_none])[0] if e.relation_id.endswith(f":lobbyist:{COPHER}"))
    assert person.properties.summary is None


def test_a_self_filer_named_as_its_client_without_the_flag_is_its_own_client():
    own = filing(client={**filing()["client"], "name": "10-Square Solutions", "client_self_select": None})
    events, _ = imported([own])
    assert not any(e.relation_id.endswith(":engagement") or e.relation_type.value == "payment" for e in events)
    assert {e.properties.role for e in events if e.relation_type.value == "lobbies"} == {"in-house"}


def test_a_report_of_no_activity_still_gives_its_income():
    quiet = filing(filing_type="Q1Y", income="5000.00")  # its activities, listed anyway, are not read
    events, report = imported([quiet])
    assert {e.relation_type.value for e in events} == {"payment"}
    assert report.outcomes["lda reports of no activity"] == 1


def test_every_filing_type_lda_defines_is_read_as_what_its_name_says():
    from schemas.lda import _AMENDMENT, _NO_ACTIVITY, _REGISTRATION, _REPORT, _TERMINATION

    types = load(LDA / "senate_constants_filing_types.json")
    assert len(types) == 50
    for kind in types:
        code, name = kind["value"], kind["name"]
        assert bool(_REGISTRATION.match(code)) == name.startswith("Registration"), code
        assert bool(_REPORT.match(code)) != bool(_REGISTRATION.match(code)), code
        assert bool(_AMENDMENT.match(code)) == ("Amendment" in name), code
        assert bool(_TERMINATION.match(code)) == ("Termination" in name), code
        assert bool(_NO_ACTIVITY.match(code) and not _REGISTRATION.match(code)) == ("No Activity" in name), code


def test_what_a_report_dropped_is_retracted_once_by_the_last_filing_it_replaced_whatever_the_order():
    import itertools

    original = report_of("Q1", "first_quarter", "2018-04-17T12:00:00-04:00", 11)
    amended = report_of("1A", "first_quarter", "2018-04-20T12:00:00-04:00", 12,
                        lobbying_activities=[{**filing()["lobbying_activities"][0], "description": "amended"}])
    quiet = report_of("1AY", "first_quarter", "2018-04-25T12:00:00-04:00", 13, lobbying_activities=[], income=None)
    outputs = set()
    for order in itertools.permutations([original, amended, quiet]):
        events, report = imported(list(order))
        retracts = [e for e in events if e.op.value == "retract"]
        assert len(retracts) == len({e.relation_id for e in retracts}) == report.retracted == 5
        assert {e.observed_at for e in retracts} == {dt.datetime.fromisoformat("2018-04-25T12:00:00-04:00")}
        assert {e.properties.summary for e in retracts if e.relation_type.value == "lobbies"} == {"Veterans: amended"}
        outputs.add(tuple(sorted(e.model_dump_json() for e in events)))
    assert len(outputs) == 1


def test_a_report_is_of_ldas_client_record_not_of_the_name_it_gives():
    """Two client records of one firm whose names fold alike are two reports (each its income); one record renamed
    between two filings of a period is one report (the later replaces the other)."""
    first = filing()
    other = filing(filing_uuid="00000000-0000-0000-0000-000000000020",
                   client={**first["client"], "id": 999999, "client_id": 99, "name": "Medtronic Inc.", "state": "CA"})
    events, report = imported([first, other])
    incomes = [e for e in events if e.relation_type.value == "payment"]
    assert len(incomes) == 2 and {e.source.id for e in incomes} == {MEDTRONIC} and report.retracted == 0
    assert report.outcomes["lda reports read"] == 2
    renamed = report_of("1AY", "first_quarter", "2018-05-01T10:00:00-04:00", 21, income=None,
                        client={**first["client"], "name": "MEDTRONIC USA, INC"})
    events, report = imported([first, renamed])
    assert not any(e.op.value == "upsert" and e.relation_type.value in ("lobbies", "payment") for e in events)
    assert report.retracted == 5


def test_a_later_file_of_reports_alone_does_not_undo_a_termination_imported_before():
    """Imported period by period: the fourth quarter's termination, then a file with an amendment of the third
    quarter posted after it. The engagement is written from registrations and terminations only."""
    from scoring import Engine

    fourth = report_of("4T", "fourth_quarter", "2019-01-15T10:00:00-05:00", 22, termination_date="2018-11-30")
    third = report_of("3A", "third_quarter", "2019-02-01T10:00:00-05:00", 23)
    first_file, second_file = imported([fourth])[0], imported([third])[0]
    assert not any(e.relation_id.endswith(":engagement") for e in second_file)
    engine = Engine()
    engine.apply_many([*first_file, *second_file])
    engagement = next(rec for rec in engine.graph.relations() if rec.relation_id.endswith(":engagement"))
    assert engagement.end == dt.date(2018, 11, 30)


def test_a_new_registration_under_a_new_client_record_is_an_engagement_of_its_own():
    registration = next(f for f in load(PAGE)["results"] if f["filing_type"] == "RR"
                        and f["client"]["name"] == "MEDTRONIC, INC")
    terminated = report_of("4T", "fourth_quarter", "2019-01-15T10:00:00-05:00", 24, termination_date="2018-11-30")
    again = {**copy.deepcopy(registration), "filing_uuid": "00000000-0000-0000-0000-000000000025",
             "dt_posted": "2021-02-20T10:00:00-05:00", "filing_year": 2021,
             "client": {**registration["client"], "id": 303030, "effective_date": "2021-02-15"}}
    events, report = imported([registration, terminated, again])
    engagements = {e.relation_id: (e.start_date, e.end_date) for e in events if e.relation_id.endswith(":engagement")}
    assert engagements == {f"{OF_MEDTRONIC}:engagement": (dt.date(2017, 12, 6), dt.date(2018, 11, 30)),
                           f"lda:{REGISTRANT}:client-303030:engagement": (dt.date(2021, 2, 15), None)}
    expected = [e for e in events if e.relation_id.startswith(f"{OF_MEDTRONIC}:registration:lobbyist:")]
    assert expected and {(e.op.value, e.end_date) for e in expected} == {("upsert", dt.date(2018, 11, 30))}
    assert report.retracted == 0


def test_invisible_characters_are_no_part_of_a_name():
    from schemas.lda import _client

    for name in ("MEDTRO\u00adNIC, INC", "MED\u200bTRONIC, INC", "MEDTRONIC\ufe0f, INC", "MEDTRONIC,\u2060 INC"):
        assert _client({"name": name}).entity_id == MEDTRONIC and _client({"name": name}).name == "MEDTRONIC, INC"
    for name in ("\ufe0f", "\u3164", "\u00ad\u200b"):
        assert _client({"name": name}) is None
    assert _client({"name": "ACME\u00ae"}).entity_id == _client({"name": "ACME"}).entity_id  # a symbol: a space


def test_a_uuid_is_compared_as_read_and_a_page_with_many_broken_items_is_still_read():
    spaced = filing(filing_uuid=filing()["filing_uuid"] + " ", income="99999.00")
    events, _ = imported([filing(), spaced])
    assert len([e for e in events if e.relation_type.value == "payment"]) == 1
    page = load(PAGE)
    page["results"] = [*({"id": n} for n in range(30)), *page["results"]]
    events, report = imported([page])
    assert len(events) == len(imported([load(PAGE)])[0]) and len(report.skipped) == 30


def test_of_two_copies_of_a_filing_a_readable_one_is_read():
    broken = filing(dt_posted="not a time")
    for order in ([filing(), broken], [broken, filing()]):
        events, report = imported(order)
        assert report.skipped == [] and any(e.relation_type.value == "lobbies" for e in events)


def test_the_engagement_starts_at_the_earliest_effective_date_and_is_written_by_the_latest_filing_stating_it():
    registration = next(f for f in load(PAGE)["results"] if f["filing_type"] == "RA"
                        and f["client"]["name"] == "MEDTRONIC, INC")
    later = report_of("1T", "first_quarter", "2018-04-20T10:00:00-04:00", 26, termination_date="2018-03-01",
                      client={**registration["client"], "effective_date": "2018-01-01"})
    events, _ = imported([later, registration])
    engagement = next(e for e in events if e.relation_id.endswith(":engagement"))
    assert (engagement.start_date, engagement.end_date) == (dt.date(2017, 12, 6), dt.date(2018, 3, 1))
    assert engagement.observed_at == dt.datetime.fromisoformat("2018-04-20T10:00:00-04:00")
    assert engagement.provenance.source_url == later["filing_document_url"]
    # a registration effective after the termination engages the pair again
    again = {**copy.deepcopy(registration), "filing_uuid": "00000000-0000-0000-0000-000000000027",
             "dt_posted": "2018-06-01T10:00:00-04:00", "client": {**registration["client"],
                                                                 "effective_date": "2018-05-01"}}
    events, _ = imported([later, registration, again])
    assert next(e for e in events if e.relation_id.endswith(":engagement")).end_date is None


def test_a_termination_on_its_periods_first_day_ends_its_report_that_day():
    events, _ = imported([report_of("2T", "second_quarter", "2018-07-20T10:00:00-04:00", 28,
                                    termination_date="2018-04-01")])
    assert {(e.start_date, e.end_date) for e in events if e.relation_type.value == "lobbies"} == {
        (dt.date(2018, 4, 1), dt.date(2018, 4, 1))}


def test_the_flag_alone_makes_a_self_filer_and_names_and_countries_are_read_in_full():
    from schemas.lda import _client

    own = filing(client={**filing()["client"], "name": "MEDTRONIC, INC", "client_self_select": True})
    events, _ = imported([own])
    assert {e.properties.role for e in events if e.relation_type.value == "lobbies"} == {"in-house"}
    assert not any(e.relation_type.value == "payment" for e in events)
    government = [_client({"name": "CITY OF SPRINGFIELD", "state": state, "client_government_entity": True})
                  for state in ("IL", "il")]
    assert government[0].entity_id == government[1].entity_id
    assert _client({"name": "X CORP", "country": None, "ppb_country": "US"}).country == "us"
    junior = {"id": 67387, "first_name": "MIKE", "last_name": "COPHER", "suffix_display": "JR."}
    with_suffix = filing(lobbying_activities=[{"lobbyists": [{"lobbyist": junior, "covered_position": None}]}])
    person = next(e for e in imported([with_suffix])[0] if ":lobbyist:" in e.relation_id)
    assert person.source.name == "MIKE COPHER JR."
    mismatched = filing(filing_type="MM")
    assert any("is not of its period" in note for note in imported([mismatched])[1].notes)


def test_an_event_the_contract_refuses_is_skipped_with_its_reason_not_a_stop(monkeypatch):
    """No known filing makes one (the reader checks what the contract does): the net under a gap between the two."""
    import schemas.lda as lda
    from schemas.ftm import ImportSkip, SkipReason, converted_event

    def refusing(document, importer, report):
        if document["relation_type"] == "payment":
            raise ImportSkip(SkipReason.INVALID_ENTITY, "refused by the contract")
        return converted_event(document, importer, report)

    monkeypatch.setattr(lda, "converted_event", refusing)
    events, report = imported([filing()])
    assert [(s.reason, s.message) for s in report.skipped] == [("invalid_entity", "refused by the contract")]
    assert {e.relation_type.value for e in events} == {"lobbies", "representation"}


def test_a_self_filers_amendment_replaces_its_report_whatever_name_its_record_gives_that_day():
    own = {**filing()["client"], "id": 777, "name": "ACME CORP", "client_self_select": True}
    original = report_of("Q4", "fourth_quarter", "2019-01-15T10:00:00-05:00", 30, client=own,
                         registrant={**filing()["registrant"], "name": "ACME CORP"})
    renamed = report_of("4AY", "fourth_quarter", "2019-02-15T10:00:00-05:00", 31, income=None,
                        client={**own, "name": "ACME CORPORATION"},
                        registrant={**filing()["registrant"], "name": "ACME CORPORATION"})
    events, report = imported([original, renamed])
    assert not any(e.op.value == "upsert" for e in events) and report.retracted == 4
    # the flag absent, and the names of the two filings each matching its registrant's: one report all the same
    inferred = [{**f, "client": {**f["client"], "client_self_select": None}} for f in (original, renamed)]
    events, report = imported(inferred)
    assert not any(e.op.value == "upsert" for e in events) and report.retracted == 4


FOREIGN_OWNED = LDA / "senate_filing_9f2d5a7c.json"  # a registration for MBDA INCORPORATED, 2025, two foreign owners


def test_a_clients_foreign_owners_own_their_share_of_it_as_a_fact_from_the_effective_date():
    events, report = imported([load(FOREIGN_OWNED)])
    assert report.skipped == [] and report.notes == []
    owned = {e.source.name: e for e in events if e.relation_type.value == "ownership"}
    assert set(owned) == {"AIRBUS SE", "BAE SYSTEMS PLC"}
    airbus = owned["AIRBUS SE"]
    assert airbus.target.name == "MBDA INCORPORATED" and airbus.properties.percentage == 37.5
    assert airbus.source.country == "nl" and owned["BAE SYSTEMS PLC"].source.country == "gb"
    assert airbus.source.id.startswith("lda-foreign-entity-") and airbus.source.schema_.value == "Organization"
    # a registration's lobbyists are expected (proposed); a stake it reports is a fact
    assert airbus.status.value == "confirmed" and airbus.start_date == dt.date(2025, 1, 1) and airbus.end_date is None
    assert {e.status.value for e in events if e.relation_type.value == "representation"} == {"proposed", "confirmed"}
    assert airbus.provenance.source_url == load(FOREIGN_OWNED)["filing_document_url"]
    assert airbus.properties.summary is None  # a contribution of 0.00 is none


def test_a_foreign_entity_without_a_share_or_beside_affiliated_organisations_is_left_out_and_noted():
    filing = load(FOREIGN_OWNED)
    airbus, bae = filing["foreign_entities"]
    cases = {
        "no share": ({**airbus, "ownership_percentage": "0.00", "contribution": "25000.00"}, "no share of ownership"),
        "unreadable share": ({**airbus, "ownership_percentage": "about a third"}, "no share of ownership"),
        "above 100": ({**airbus, "ownership_percentage": "137.50"}, "no share of ownership"),
        "no name": ({**airbus, "name": "  "}, "a foreign entity without a name"),
    }
    for name, (changed, why) in cases.items():
        events, report = imported([{**filing, "foreign_entities": [changed, bae]}])
        owners = {e.source.name for e in events if e.relation_type.value == "ownership"}
        assert owners == {"BAE SYSTEMS PLC"}, name
        assert len(report.notes) == 1 and why in report.notes[0], name
    # LDA's share may be of an affiliated organisation the filing names: no stake of the client is read
    affiliated = {"name": "AN AFFILIATE", "country": "US", "ppb_country": "US"}
    events, report = imported([{**filing, "affiliated_organizations": [affiliated]}])
    assert not [e for e in events if e.relation_type.value == "ownership"]
    assert len(report.notes) == 2 and all("LDA does not say which" in note for note in report.notes)


def test_a_reports_foreign_owner_holds_from_its_quarter_on_and_an_amendment_dropping_it_retracts_it_once():
    """A quarterly report (LD-2) lists the foreign entities added since the registration: the stake holds from the
    report's period while the engagement lasts, not for that quarter alone (a review found a stake added in the
    second quarter gone in the third)."""
    airbus = load(FOREIGN_OWNED)["foreign_entities"][0]
    report = filing(foreign_entities=[{**airbus, "contribution": "5000.00"}])
    events, _ = imported([report])
    (owned,) = [e for e in events if e.relation_type.value == "ownership"]
    assert (owned.start_date, owned.end_date) == (dt.date(2018, 1, 1), None)
    assert owned.target.id == MEDTRONIC and owned.status.value == "confirmed"
    assert owned.properties.summary == "contributes $5,000.00 to the lobbying"
    # listed twice (once spelled otherwise): one stake, the largest share, noted
    twice = {**report, "foreign_entities": [{**airbus, "ownership_percentage": "20"}, airbus,
                                            {**airbus, "name": "Airbus SE."}]}
    events, notes = imported([twice])
    assert [e.properties.percentage for e in events if e.relation_type.value == "ownership"] == [37.5]
    assert sum("listed twice" in note for note in notes.notes) == 2
    amended = {**report, "filing_uuid": "amended-" + report["filing_uuid"], "filing_type": "1A",
               "dt_posted": "2018-06-01T10:00:00-04:00", "foreign_entities": []}
    for original in (report, twice):
        events, counts = imported([amended, original])
        retracted = [e for e in events if e.relation_id == owned.relation_id and e.op.value == "retract"]
        assert len(retracted) == 1 and counts.retracted == 1


def test_a_foreign_owner_beside_an_affiliate_any_filing_of_the_engagement_names_is_left_out():
    """The registration names an affiliated organisation and a later report adds a foreign owner without naming it
    again: the share may be the affiliate's (a review found it read as the client's)."""
    affiliate = {"name": "AN AFFILIATE", "country": "US", "ppb_country": "US"}
    registration = {**load(REGISTRATION), "affiliated_organizations": [affiliate]}
    airbus = load(FOREIGN_OWNED)["foreign_entities"][0]
    # a report of the same engagement (the registrant's client record of the registration)
    quarter = filing(foreign_entities=[airbus], client={**filing()["client"], "id": registration["client"]["id"]})
    events, report = imported([registration, quarter])
    assert not [e for e in events if e.relation_type.value == "ownership"]
    assert any("a filing of the engagement names" in note for note in report.notes)
    # without the affiliate, the same report's owner is read
    events, _ = imported([load(REGISTRATION), quarter])
    assert [e.source.name for e in events if e.relation_type.value == "ownership"] == ["AIRBUS SE"]
    # affiliated organisations given as something unreadable may name one: no stake read, noted
    for unreadable in ({"name": "AN AFFILIATE"}, ["AN AFFILIATE"], "AN AFFILIATE"):
        events, report = imported([{**load(FOREIGN_OWNED), "affiliated_organizations": unreadable}])
        assert not [e for e in events if e.relation_type.value == "ownership"], unreadable
        assert any("affiliated_organizations" in note for note in report.notes), unreadable


def test_one_owner_reported_each_quarter_is_one_stake_stated_again():
    """Each report restating the owner overlaps the ones before: one fact, not a stake per quarter (a review found
    two touching quarters scored as two ownership paths)."""
    from scoring import Engine

    airbus = load(FOREIGN_OWNED)["foreign_entities"][0]
    reports = [f for f in load(PAGE)["results"] if f["client"]["name"] == "MEDTRONIC, INC"
               and (f["filing_type"], f["filing_year"]) in (("Q1", 2018), ("Q2", 2018))]
    events, _ = imported([{**f, "foreign_entities": [airbus]} for f in reports])
    owned = [e for e in events if e.relation_type.value == "ownership"]
    assert len(owned) == 2
    engine = Engine(as_of=dt.date(2018, 5, 15))
    engine.apply_many(events)
    (fact,) = [f for f in engine.graph.facts() if f.source == owned[0].source.id]
    assert sorted(st.relation_id for st in fact.evidence()) == sorted(e.relation_id for e in owned)


def test_odd_foreign_entities_give_no_traceback_and_are_noted():
    airbus = load(FOREIGN_OWNED)["foreign_entities"][0]
    for value in (5, "text", {"name": "X"}, [None, "AIRBUS"], [{**airbus, "name": 12345678}],
                  [{**airbus, "ownership_percentage": share} for share in ("NaN", "inf", True, 10 ** 400, -5, [], 10 ** 5000)],
                  [{**airbus, "country": ["NL"], "ppb_country": 7, "contribution": "lots"}]):
        events, report = imported([filing(foreign_entities=value)])
        assert report.skipped == [] and any(e.relation_type.value == "lobbies" for e in events), value
        owners = [e for e in events if e.relation_type.value == "ownership"]
        if isinstance(value, list) and value and isinstance(value[0], dict) and value[0].get("contribution") == "lots":
            # a name and a share: the stake is read, without a country or a contribution
            (owner,) = owners
            assert owner.source.country is None and owner.properties.summary is None
        else:
            assert owners == [] and report.notes, value
