"""ESMA's MiCA register (tests/fixtures/mica: ESMA's own CSV files) -> regulates relations (licences) and
prosecutes relations (the non-compliant entities an authority acted against)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from pathlib import Path

import pytest

from schemas.ftm import ImportDefaults, ImportReport
from schemas.mica import EXTRACTOR_NAME, MICA_IMPORT_VERSION, REGISTERS, _lei, import_mica, register_of

MICA = Path(__file__).resolve().parents[2] / "fixtures" / "mica"
CASPS = MICA / "esma_casps_2026-08-17.csv"
CASPS_FEBRUARY = MICA / "esma_casps_2026-02-09.csv"
EMTWP = MICA / "esma_emtwp_2026-08-21.csv"
NCASP = MICA / "esma_ncasp_2026-08-16.csv"
NCASP_FEBRUARY = MICA / "esma_ncasp_2026-02-09.csv"
OTHER = MICA / "esma_other_2026-02-09_first25.csv"
ARTZZ = MICA / "esma_artzz_2026-08-21.csv"
BYBIT = "mica-lei-5299005V5GBSN2A4C303"
CIRCLE = "mica-lei-969500OYUDADGZKCR583"
DEFAULTS = ImportDefaults(extractor_name=EXTRACTOR_NAME, extractor_version=MICA_IMPORT_VERSION)


def rows_of(path: Path) -> tuple[list[str], list[dict]]:
    reader = csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline=""))
    return list(reader.fieldnames or []), list(reader)


def imported(path: Path, rows: list[dict] | None = None, defaults: ImportDefaults = DEFAULTS):
    header, read = rows_of(path)
    register = register_of(header)
    assert register is not None, path
    report = ImportReport()
    events = list(import_mica(lambda: rows if rows is not None else read, register, defaults, report))
    return events, report


def by_relation(events) -> dict:
    return {event.relation_id: event for event in events}


def test_each_file_is_told_apart_by_its_header():
    paths = (CASPS, CASPS_FEBRUARY, EMTWP, NCASP, NCASP_FEBRUARY, ARTZZ, OTHER)
    assert {path.name: register_of(rows_of(path)[0]).name for path in paths} \
        == {CASPS.name: "casp", CASPS_FEBRUARY.name: "casp", EMTWP.name: "emt", NCASP.name: "ncasp",
            NCASP_FEBRUARY.name: "ncasp", ARTZZ.name: "art", OTHER.name: "other"}
    assert register_of(["id", "schema", "name"]) is None
    assert register_of(["ae_competentAuthority", "ae_lei"]) is None  # a register's first column, but none's marks
    assert [register.name for register in REGISTERS] == ["casp", "emt", "art", "ncasp", "other"]


def test_the_crypto_asset_service_providers_are_regulated_by_their_authority():
    events, report = imported(CASPS)
    # 329 rows; five firms have two rows under one authority (blocks of services): 324 relations, none skipped
    assert len(events) == 324 and report.skipped == []
    assert {event.relation_type.value for event in events} == {"regulates"}
    assert {event.source.schema_.value for event in events} == {"PublicBody"}
    assert {event.target.schema_.value for event in events} == {"Company"}
    assert all(set(event.source.topics) == {"gov.financial", "gov.national"} for event in events)
    bybit = by_relation(events)[f"mica:casp:mica-authority-at-fma:{BYBIT}"]
    assert (bybit.source.id, bybit.source.name, bybit.source.aliases) == \
        ("mica-authority-at-fma", "Austrian Financial Market Authority (FMA)", ("FMA",))
    assert (bybit.target.name, bybit.target.aliases, bybit.target.country) == ("Bybit EU GmbH", ("Bybit",), "at")
    assert [(i.scheme, i.value) for i in bybit.target.identifiers] == [("lei", "5299005V5GBSN2A4C303")]
    assert bybit.start_date == dt.date(2025, 5, 28) and bybit.end_date is None
    # every relation of the file is observed when ESMA last updated the register, the latest of its rows' dates
    latest = max(dt.datetime.strptime(row["ac_lastupdate"], "%d/%m/%Y") for row in rows_of(CASPS)[1]
                 if row["ac_lastupdate"].strip())
    assert {event.observed_at for event in events} == {latest.replace(tzinfo=dt.UTC)} == \
        {dt.datetime(2026, 8, 10, tzinfo=dt.UTC)}
    assert bybit.provenance.retrieved_at == bybit.observed_at
    assert bybit.properties.role == "crypto-asset service provider (MiCA authorisation)"
    summary = bybit.properties.summary
    assert summary.startswith("services: a. providing custody and administration of crypto-assets on behalf of "
                              "clients, c. exchange of crypto-assets for funds")
    # ESMA writes Greece EL: the summary names ISO codes
    assert "offered in: AT, BE, BG" in summary and ", GR," in summary and "EL" not in summary.split("offered in")[1]
    assert str(bybit.provenance.source_url) == "https://www.esma.europa.eu/sites/default/files/2024-12/CASPS.csv"
    assert bybit.provenance.publisher.startswith("ESMA")


def test_one_authority_written_in_several_ways_is_one_body_and_two_of_one_acronym_are_two():
    casps, _ = imported(CASPS)
    emts, _ = imported(EMTWP)
    names: dict[str, set[str]] = {}
    for event in (*casps, *emts):
        names.setdefault(event.source.id, set()).add(event.source.name)
    # Austria's and Liechtenstein's FMA are two authorities
    assert names["mica-authority-at-fma"] == {"Austrian Financial Market Authority (FMA)"}
    assert names["mica-authority-li-fma"] == {"Finanzmarktaufsicht (FMA)"}
    # with and without the acronym, and ESMA's misspelling of the DNB
    assert names["mica-authority-mt-mfsa"] == {"Malta Financial Services Authority (MFSA)",
                                               "Malta Financial Services Authority"}
    assert names["mica-authority-lt-lsc"] == {"Bank of Lithuania (LSC)", "Bank of Lithuania"}
    assert names["mica-authority-nl-dnb"] == {"De Nederlandsche Bank (DNB)", "De Nederlansche Bank (DNB)"}
    # Denmark's and Norway's Finanstilsynet are two as well
    assert {"mica-authority-dk-finanstilsynet", "mica-authority-no-finanstilsynet"} <= set(names)
    assert all(name == name.strip() for found in names.values() for name in found)  # ESMA's stray spaces


def test_a_withdrawn_authorisation_ends():
    events = {event.target.name: event for event in imported(CASPS)[0]}
    assert (events["Stratos Europe Ltd"].start_date, events["Stratos Europe Ltd"].end_date) == \
        (dt.date(2025, 10, 14), dt.date(2026, 4, 24))
    assert events["Decubate B.V."].end_date == dt.date(2026, 3, 26)
    assert sum(event.end_date is not None for event in events.values()) == 2


def test_a_firms_rows_under_one_authority_are_one_relation_with_all_their_services():
    header, rows = rows_of(CASPS)
    lei = "529900032TYR45XIEW79"
    own = [row for row in rows if row["ae_lei"].strip() == lei]
    assert len(own) == 2
    event = by_relation(imported(CASPS)[0])[f"mica:casp:mica-authority-de-bafin:mica-lei-{lei}"]
    services = {" ".join(part.split()).rstrip(".;") for row in own for part in row["ac_serviceCode"].split("|")
                if part.strip()}
    assert all(service in event.properties.summary for service in services)
    starts = [dt.datetime.strptime(row["ac_authorisationNotificationDate"], "%d/%m/%Y").date() for row in own]
    assert event.start_date == min(starts)


def test_a_valid_lei_is_the_firms_id_and_one_that_is_not_is_noted():
    events, report = imported(CASPS)
    targets = {event.target.name: event.target for event in events}
    # spaces, a no-break space and a full stop around an LEI are ESMA's, not the LEI's
    assert targets["Unlimit Crypto Ltd"].id == "mica-lei-894500FFZOA2AVGYOA88"
    assert targets["Ramp Swaps (Ireland) Limited"].id == "mica-lei-89450036UW3ID72T1M84"
    assert targets["K33 MARKETS as"].id == "mica-lei-6367008S3JL8VVP6T689"
    # a character too many or too few, or check digits that do not add up: the firm is named by its name
    for name in ("EU Internet Ventures B.V.", "WEB3 Technology B.V.", "OSL EU GmbH", "B2C2 Europe Sarl"):
        assert targets[name].id.startswith(f"mica-{targets[name].country}-") and not targets[name].identifiers, name
    invalid = [note for note in report.notes if "is not a valid LEI" in note]
    assert len(invalid) == 9 and any("B2C2 Europe Sarl" in note for note in invalid)
    assert all(_lei(target.id.removeprefix("mica-lei-")) for target in targets.values()
               if target.id.startswith("mica-lei-"))


@pytest.mark.parametrize("value, expected", [
    ("5299005V5GBSN2A4C303", "5299005V5GBSN2A4C303"),
    ("969500oyudadgzkcr583", "969500OYUDADGZKCR583"),
    ("5299005V5GBSN2A4C304", None),  # one check digit off
    ("5299005V5GBSN2A4C3", None),
    ("", None),
])
def test_lei_check_digits(value, expected):
    assert _lei(value) == expected


def test_the_same_file_in_any_row_order_gives_the_same_events():
    _, rows = rows_of(CASPS)
    first = imported(CASPS, rows)[0]
    shuffled = rows[:]
    random.Random(5).shuffle(shuffled)
    again = imported(CASPS, shuffled)[0]
    assert [event.model_dump_json() for event in again] == [event.model_dump_json() for event in first]


def test_e_money_token_issuers_with_their_tokens():
    events, report = imported(EMTWP)
    events = [event for event in events if event.relation_type.value == "regulates"]
    assert len(events) == 22 and report.skipped == []
    circle = by_relation(events)[f"mica:emt:mica-authority-fr-acpr:{CIRCLE}"]
    assert circle.target.name == "Circle Internet Financial Europe SAS"
    assert circle.properties.role == "e-money token issuer (MiCA)"
    assert circle.start_date == dt.date(2024, 7, 1)
    assert circle.properties.summary.startswith("authorised as: Electronic money institution; tokens (DTI): ")
    assert "FJM594L0V" in circle.properties.summary
    bridge = next(event for event in events if event.target.name == "Bridge Building S.A.")
    # one DTI a line (tabs and line breaks in one cell), each with its chain; ESMA's "N/A" for the kind of
    # institution left out
    assert bridge.properties.summary == (
        "tokens (DTI): 8KV3CMVM5 (Optimism), 9J1RXQWBK (Polygon), GR77N4VQN (Solana), H81G32M97 (Injective), "
        "KHWWMMF9T (TON), LP00X1Q54 (Arbitrum), R79DN2VHD (Avalanche), TD3BGWM5Z (Ethereum); "
        "white papers: https://bridge.xyz/transparency/EURR")
    # ESMA's "no white paper" is not a white paper
    assert all("EMT_NO_WP" not in event.properties.summary for event in events)
    # one kind of institution whatever its case ("Electronic money Institution" twice over)
    quantoz = next(event for event in events if event.target.name == "Quantoz Payments B.V")
    assert quantoz.properties.summary.count("Electronic money") == 1


def test_a_register_without_update_dates_is_observed_at_its_latest_date_or_when_retrieved():
    _, rows = rows_of(EMTWP)
    undated = [{**row, "wp_lastupdate": ""} for row in rows]
    events, report = imported(EMTWP, undated)
    latest = max(dt.datetime.strptime(row[column], "%d/%m/%Y") for row in rows
                 for column in ("ac_authorisationNotificationDate", "wp_authorisationNotificationDate")
                 if row[column].strip())
    assert {event.observed_at for event in events} == {latest.replace(tzinfo=dt.UTC)}
    assert sum("dates no update of its rows" in note for note in report.notes) == 1
    retrieved = dt.datetime(2026, 8, 21, 9, 0, tzinfo=dt.UTC)
    given = ImportDefaults(extractor_name=EXTRACTOR_NAME, extractor_version=MICA_IMPORT_VERSION,
                           retrieved_at=retrieved, source_url="https://mirror.example.org/EMTWP.csv",
                           publisher="A mirror")
    for event in (*imported(EMTWP, undated, defaults=given)[0], *imported(EMTWP, defaults=given)[0]):
        assert event.observed_at == event.provenance.retrieved_at == retrieved  # what the user says, over ESMA's
        assert (str(event.provenance.source_url), event.provenance.publisher) == \
            ("https://mirror.example.org/EMTWP.csv", "A mirror")
    nothing = [{column: "" if "date" in column.lower() or "update" in column.lower() else value
                for column, value in row.items()} for row in rows]
    events, report = imported(EMTWP, nothing)
    assert events == [] and {skip.reason for skip in report.skipped} == {"missing_provenance"}
    assert len(report.skipped) == 38 and "--retrieved-at" in report.skipped[0].message  # 22 issuers, 16 tokens


def test_the_white_papers_of_other_crypto_assets_are_offers_their_authority_supervises():
    downloaded = ImportDefaults(extractor_name=EXTRACTOR_NAME, extractor_version=MICA_IMPORT_VERSION,
                                retrieved_at=dt.datetime(2026, 2, 9, tzinfo=dt.UTC))
    events, report = imported(OTHER, defaults=downloaded)
    assert "wp_comments" in {column for _, column, _ in REGISTERS[-1].summary}
    # 25 white papers of 17 offerors (eight of Crypto Risk Metrics GmbH, two of Falu Brick Commerce), none skipped
    assert len(events) == 17 and report.skipped == []
    assert {event.relation_type.value for event in events} == {"regulates"}
    skygate = next(event for event in events if event.target.name == "Skygate Network GmbH")
    assert (skygate.source.id, skygate.target.id) == ("mica-authority-at-fma", "mica-lei-984500BBFE52FE449926")
    assert skygate.properties.role.startswith("offeror or applicant for admission to trading of a crypto-asset")
    assert skygate.properties.summary.startswith("white papers: https://www.skygatetoken.at/")
    assert skygate.start_date is None  # ESMA dates no notification
    # its updates written month first in places, the register's latest one stands 75 days after any other: without
    # the day the file was downloaded nothing is dated
    events, report = imported(OTHER)
    assert events == [] and {skip.reason for skip in report.skipped} == {"missing_provenance"}
    events, report = imported(ARTZZ)  # ESMA's register of asset-referenced tokens is empty so far
    assert events == [] and report.skipped == [] and report.notes == []


DOWNLOADED = ImportDefaults(extractor_name=EXTRACTOR_NAME, extractor_version=MICA_IMPORT_VERSION,
                            retrieved_at=dt.datetime(2026, 2, 9, tzinfo=dt.UTC))


def test_a_white_paper_without_an_offeror_is_the_trading_platforms_application():
    _, rows = rows_of(OTHER)
    row = {**rows[0], "ae_lei_name": "", "ae_lei": "", "ae_lei_name_casp": "Payward Global Solutions LTD",
           "ae_lei_casp": "9845003D98SCC2851458"}
    for offeror in ("", "Not Available", " n/a "):  # (ESMA's placeholder: 37 rows of its file, one firm otherwise)
        (event,), _ = imported(OTHER, [{**row, "ae_lei_name": offeror}], DOWNLOADED)
        assert (event.target.name, event.target.id) == \
            ("Payward Global Solutions LTD", "mica-lei-9845003D98SCC2851458"), offeror
        assert "trading platform: Payward Global Solutions LTD" in event.properties.summary
    events, report = imported(OTHER, [{**row, "ae_lei_name_casp": "", "ae_lei_casp": ""}], DOWNLOADED)
    assert events == [] and [skip.reason for skip in report.skipped] == ["missing_endpoint"]


def test_an_lei_given_to_offerors_of_other_names_names_none_of_them():
    _, rows = rows_of(OTHER)
    platform = {**rows[0], "ae_lei_name": "", "ae_lei": "", "ae_lei_name_casp": "Payward Global Solutions LTD",
                "ae_lei_casp": "9845003D98SCC2851458"}
    offeror = {**rows[1], "ae_lei_name": "Eterna Ltd.", "ae_lei": "9845003D98SCC2851458"}  # as ESMA's row 320
    events, report = imported(OTHER, [platform, {**platform, "wp_url": "https://example.org/2"}, offeror], DOWNLOADED)
    targets = {event.target.name: event.target.id for event in events}
    assert targets["Payward Global Solutions LTD"] == "mica-lei-9845003D98SCC2851458"
    assert targets["Eterna Ltd."].startswith("mica-at-")
    assert any("Eterna Ltd.: its LEI 9845003D98SCC2851458 is given to firms of other names" in note
               for note in report.notes)
    # in a register of licences two names of one LEI are one firm renamed (APLO SAS, now FLOWDESK EUROPE SAS)
    flowdesk = {event.target.name: event.target.id for event in imported(CASPS)[0]
                if event.target.id == "mica-lei-984500AB011S3AEF6706"}
    assert len(flowdesk) == 1


def test_a_later_register_replaces_an_earlier_ones_rows_also_those_esma_changed_without_dating_them():
    february = by_relation(imported(CASPS_FEBRUARY)[0])
    august = by_relation(imported(CASPS)[0])
    both = set(february) & set(august)
    assert len(february) == 149 and len(both) == 148
    assert all(august[r].observed_at > february[r].observed_at for r in both)
    # rows ESMA changed but dated as before (Bybit's services now offered in Austria too)
    _, february_rows = rows_of(CASPS_FEBRUARY)
    _, august_rows = rows_of(CASPS)
    undated = {row["ae_lei"].strip() for row in august_rows} & {
        row["ae_lei"].strip() for row in february_rows
        if any(row["ae_lei"] == later["ae_lei"] and row["ac_lastupdate"] == later["ac_lastupdate"]
               and row["ac_serviceCode_cou"] != later["ac_serviceCode_cou"] for later in august_rows)}
    assert "5299005V5GBSN2A4C303" in undated
    bybit = f"mica:casp:mica-authority-at-fma:{BYBIT}"
    assert "AT, " not in february[bybit].properties.summary and "offered in: AT, " in august[bybit].properties.summary
    from scoring import Engine

    for order in ((february, august), (august, february)):  # whatever order they are imported in
        engine = Engine()
        for events in order:
            engine.apply_many(events[relation_id] for relation_id in sorted(events))
        for relation_id in both:
            assert engine.graph.relation(relation_id).event_id == august[relation_id].event_id, relation_id


def test_a_row_without_its_home_member_state_places_the_authority_in_the_leis_country():
    events, report = imported(CASPS_FEBRUARY)
    cryptonow = next(event for event in events if event.target.name == "Cryptonow GmbH")
    assert cryptonow.source.id == "mica-authority-at-fma"  # its relation is the one the later register states
    assert cryptonow.relation_id in by_relation(imported(CASPS)[0])
    assert report.skipped == [] and any("Cryptonow GmbH: no home member state" in note for note in report.notes)


def test_an_unreadable_date_is_noted_and_left_out():
    header, rows = rows_of(CASPS)
    row = dict(next(row for row in rows if row["ae_lei_name"] == "Bybit EU GmbH"))
    row["ac_authorisationNotificationDate"] = "31/02/2025"
    events, report = imported(CASPS, [row])
    assert len(events) == 1 and events[0].start_date is None
    assert any("ac_authorisationNotificationDate: '31/02/2025' is not a date" in note for note in report.notes)


def test_a_relation_ends_only_when_every_row_of_it_ended_and_then_at_the_latest_end():
    _, rows = rows_of(CASPS)
    lei = "529900032TYR45XIEW79"
    own = [dict(row) for row in rows if row["ae_lei"].strip() == lei]
    relation_id = f"mica:casp:mica-authority-de-bafin:mica-lei-{lei}"
    own[0]["ac_authorisationEndDate"] = "01/06/2026"
    assert by_relation(imported(CASPS, own)[0])[relation_id].end_date is None  # one block of services goes on
    own[1]["ac_authorisationEndDate"] = "02/07/2026"
    assert by_relation(imported(CASPS, own)[0])[relation_id].end_date == dt.date(2026, 7, 2)
    own[0]["ac_authorisationEndDate"] = own[1]["ac_authorisationEndDate"] = "01/01/2020"  # before it began
    events, report = imported(CASPS, own)
    assert events[0].end_date == events[0].start_date
    assert any("ends (2020-01-01) before it begins" in note for note in report.notes)


def test_the_states_a_service_is_offered_in_are_iso_codes():
    events = imported(CASPS)[0]
    _, rows = rows_of(CASPS)
    greek = next(row for row in rows if "EL" in row["ac_serviceCode_cou"].replace(" ", "").split("|")
                 and "GR" not in row["ac_serviceCode_cou"])
    slovenian = next(row for row in rows if "SL" in row["ac_serviceCode_cou"].replace(" ", "").split("|"))
    for row in (greek, slovenian):
        event = next(event for event in events if event.target.name == " ".join(row["ae_lei_name"].split()))
        offered = event.properties.summary.split("offered in: ")[1].split(", ")
        assert "EL" not in offered and "SL" not in offered
    assert "GR" in next(event for event in events if event.target.name == greek["ae_lei_name"].strip()
                        ).properties.summary.split("offered in: ")[1].split(", ")


def test_a_value_is_listed_once_whatever_its_case():
    _, rows = rows_of(EMTWP)
    quantoz = [dict(row) for row in rows if row["ae_lei_name"] == "Quantoz Payments B.V"]
    quantoz[0]["ae_authorisation_other_emt"] = "ELECTRONIC MONEY INSTITUTION"
    summary = imported(EMTWP, quantoz)[0][0].properties.summary
    assert summary.lower().count("electronic money institution") == 1
    assert summary == imported(EMTWP, quantoz[::-1])[0][0].properties.summary  # the same spelling in any order


def test_a_row_whose_cells_do_not_line_up_is_skipped_not_read_shifted():
    header, rows = rows_of(CASPS)
    shifted = dict(rows[0])
    shifted[None] = ["an extra cell"]  # what csv.DictReader gives a row with a comma out of place
    short = {key: (None if key == header[-1] else value) for key, value in rows[1].items()}
    events, report = imported(CASPS, [shifted, short, rows[2]])
    assert len(events) == 1 and events[0].target.name == " ".join(rows[2]["ae_lei_name"].split())
    assert [skip.message.split(":")[0] for skip in report.skipped] == ["row 2", "row 3"]
    assert all("do not line up with the header" in skip.message for skip in report.skipped)


def test_names_in_other_scripts_and_invisible_characters():
    _, rows = rows_of(CASPS)
    row = dict(rows[0])
    row["ae_competentAuthority"] = "Επιτροπή Κεφαλαιαγοράς (ΕΚ)"
    row["ae_homeMemberState"] = "EL"
    row["ae_lei_name"] = "Bybit\u0000EU\u200b GmbH"
    event = imported(CASPS, [row])[0][0]  # (the id pattern is ASCII: the acronym is written as a digest)
    assert event.source.id.startswith("mica-authority-gr-") and event.source.country == "gr"
    assert event.source.aliases == ("ΕΚ",) and event.target.name == "Bybit EU GmbH"


def test_a_skipped_rows_name_is_bounded():
    _, rows = rows_of(OTHER)
    huge = [{**row, "ae_lei_name": "x" * 1_000_000, "ae_competentAuthority": ""} for row in rows[:3]]
    _, report = imported(OTHER, huge)
    assert len(report.skipped) == 3 and all(len(skip.entity_id) <= 200 for skip in report.skipped)


def test_a_summary_stops_at_the_contracts_length_and_the_firms_country_is_its_leis():
    _, rows = rows_of(EMTWP)
    row = dict(next(row for row in rows if row["ae_lei_name"] == "Paxos Issuance Europe Oy"))
    row["ae_DTI"] = "|".join(f"{number:09d}" for number in range(2_000))
    row["ae_lei_cou_code"] = "DE"  # a firm registered elsewhere than where it is authorised
    event = imported(EMTWP, [row])[0][0]
    assert len(event.properties.summary) == 5000 and event.properties.summary.endswith("…")
    assert (event.target.country, event.source.country) == ("de", "fi")


@pytest.mark.parametrize("value", ["01/01/0999", "1/13/2025", "2025-05-28", "28.05.2025"])
def test_a_date_esma_did_not_write_as_a_day_is_noted(value):
    _, rows = rows_of(CASPS)
    row = dict(next(row for row in rows if row["ae_lei_name"] == "Bybit EU GmbH"))
    row["ac_authorisationNotificationDate"] = value
    events, report = imported(CASPS, [row])
    assert events[0].start_date is None and any(f"{value!r} is not a date" in note for note in report.notes)


# --- the register of non-compliant entities (MiCA article 110) ---------------------------------------------------

MEXC = "mica-ncasp-d4c5124a60744674af1f"  # MEXC Global: the digest of its folded name


def test_the_non_compliant_entities_are_those_their_authority_acted_against():
    events, report = imported(NCASP)
    # 167 rows; five firms are listed twice by CONSOB (more websites blocked later): 162 relations, none skipped
    assert len(events) == 162 and report.skipped == []
    assert report.notes == ["observed at 2026-07-31, the register's latest update (row 164, ae_lastupdate); give "
                            "--retrieved-at for the day it was downloaded"]
    assert {event.relation_type.value for event in events} == {"prosecutes"}
    assert {(event.source.id, event.source.schema_.value) for event in events} == {
        ("mica-authority-it-consob", "PublicBody"), ("mica-authority-nl-afm", "PublicBody"),
        ("mica-authority-sk-nbs", "PublicBody")}
    # no LEI: an unlicensed firm is named apart from the licensed ones, and ESMA's "LEI country" (the reporting
    # authority's) is not taken for its own
    assert all(event.target.id.startswith("mica-ncasp-") and event.target.schema_.value == "LegalEntity"
               and event.target.country is None and not event.target.identifiers for event in events)
    # the register's own date: its latest update (ae_lastupdate)
    assert {event.observed_at for event in events} == {dt.datetime(2026, 7, 31, tzinfo=dt.UTC)}
    mexc = by_relation(events)[f"mica:ncasp:mica-authority-nl-afm:{MEXC}"]
    assert (mexc.target.name, mexc.target.aliases) == ("MEXC Global", ("MEXC",))
    assert mexc.start_date == dt.date(2025, 9, 16) and mexc.end_date is None  # the AFM's decision
    assert mexc.properties.role.startswith("enforcement: provides crypto-asset services without MiCA authorisation")
    assert mexc.properties.summary == (
        "decision: MEXC Global provides crypto-asset services in the Netherlands without the required MiCAR "
        "license. MEXC is in breach of section 59 MiCAR; websites: https://www.mexc.com/; comments: The AFM issued "
        "a public warning against MEXC: https://www.afm.nl/en/sector/actueel/2025/sep/pb-mexc")
    assert str(mexc.provenance.source_url) == "https://www.esma.europa.eu/sites/default/files/2024-12/NCASP.csv"
    dobibo = next(event for event in events if event.target.name == "Dobibo")
    assert dobibo.start_date == dt.date(2025, 2, 12)  # the first of CONSOB's two decisions
    assert dobibo.properties.summary == \
        "websites: https://dbbddrb.com, https://dobibo.com, https://dobibo1.com, https://dobibo2.com"


def test_a_later_list_of_non_compliant_entities_restates_the_earlier_ones():
    february, _ = imported(NCASP_FEBRUARY)
    august, _ = imported(NCASP)
    assert len(february) == 97 and set(by_relation(february)) < set(by_relation(august))
    assert max(event.observed_at for event in february) < min(event.observed_at for event in august)


def test_an_unlicensed_firm_is_not_the_licensed_firm_whose_name_it_uses():
    casps, _ = imported(CASPS)
    licensed = next(event for event in casps if event.target.name == "OSL EU GmbH")  # named by its name: no LEI
    _, rows = rows_of(NCASP)
    clone = {**rows[0], "ae_lei_name": "OSL EU GmbH", "ae_commercial_name": "OSL",
             "ae_homeMemberState": licensed.source.country.upper()}
    warned = imported(NCASP, [clone])[0][0]
    assert warned.target.id != licensed.target.id and warned.target.name == licensed.target.name
    # with a valid LEI it is that firm, wherever it is listed: a licensed firm warned for what its licence lacks
    with_lei = {**rows[0], "ae_lei_name": "Bybit EU GmbH", "ae_lei": "5299005V5GBSN2A4C303", "ae_lei_cou_code": "AT"}
    warned = imported(NCASP, [with_lei])[0][0]
    assert (warned.target.id, warned.target.country) == (BYBIT, "at")
    assert [identifier.value for identifier in warned.target.identifiers] == ["5299005V5GBSN2A4C303"]


def test_an_unlicensed_firm_known_only_by_its_website_is_named_by_it():
    _, rows = rows_of(NCASP)
    row = {**rows[0], "ae_lei_name": " ", "ae_commercial_name": "",
           "ae_website": "https://a.example | https://b.example"}
    event = imported(NCASP, [row])[0][0]
    assert event.target.name == "https://a.example"
    assert len(imported(NCASP, [{**row, "ae_lei_name": "x" * 900}])[0][0].target.name) == 500
    (event,), report = imported(NCASP, [{**rows[0], "ae_decision_date": "31/02/2025"}])
    assert event.start_date is None and any("ae_decision_date: '31/02/2025' is not a date" in note
                                            for note in report.notes)
    nameless = {**row, "ae_website": ""}
    events, report = imported(NCASP, [nameless])
    assert events == [] and [skip.reason for skip in report.skipped] == ["missing_endpoint"]


# --- an earlier snapshot: what the register no longer states -----------------------------------------------------

OPEN_BANK_BY_NAME = "mica:casp:mica-authority-es-cnmv:mica-es-ed83b9cb50f95099ee17"  # February: its LEI "9.60E+19"
OPEN_BANK_BY_LEI = "mica:casp:mica-authority-es-cnmv:mica-lei-5493000LM0MZ4JPMGM90"


def imported_after(path: Path, earlier: Path, rows: list[dict] | None = None, defaults: ImportDefaults = DEFAULTS):
    header, read = rows_of(path)
    report = ImportReport()
    events = list(import_mica(lambda: rows if rows is not None else read, register_of(header), defaults, report,
                              previous=lambda: rows_of(earlier)[1]))
    return events, report


def test_what_an_earlier_snapshot_stated_and_a_later_one_no_longer_does_is_retracted():
    february, _ = imported(CASPS_FEBRUARY)
    assert OPEN_BANK_BY_NAME in by_relation(february)  # a spreadsheet rounded OPEN BANK's LEI: named by its name
    events, report = imported_after(CASPS, CASPS_FEBRUARY)
    upserts = [event for event in events if event.op.value == "upsert"]
    retractions = [event for event in events if event.op.value == "retract"]
    assert upserts == imported(CASPS)[0]  # the later register's own events, unchanged
    assert [event.relation_id for event in retractions] == [OPEN_BANK_BY_NAME] and report.retracted == 1
    assert OPEN_BANK_BY_LEI in by_relation(upserts)
    retraction = retractions[0]
    stale = by_relation(february)[OPEN_BANK_BY_NAME]
    # the relation February stated, withdrawn when August's register was observed, on August's provenance
    assert (retraction.relation_type, retraction.source.id, retraction.target.id) == \
        (stale.relation_type, stale.source.id, stale.target.id)
    assert retraction.observed_at == upserts[0].observed_at > stale.observed_at
    assert retraction.event_id != stale.event_id
    assert any(OPEN_BANK_BY_NAME in note and "retracted" in note for note in report.notes)
    # the two imports give the same retraction whatever the row order of either file
    _, rows = rows_of(CASPS)
    shuffled = rows[:]
    random.Random(7).shuffle(shuffled)
    assert imported_after(CASPS, CASPS_FEBRUARY, shuffled)[0] == events


def test_nothing_is_retracted_when_rows_of_the_later_snapshot_were_skipped():
    _, rows = rows_of(CASPS)
    unreadable = [dict(rows[0], ae_competentAuthority=" "), *rows[1:]]  # any skipped row may state what is gone
    events, report = imported_after(CASPS, CASPS_FEBRUARY, unreadable)
    assert [event for event in events if event.op.value == "retract"] == [] and report.retracted == 0
    assert len(report.skipped) == 1
    assert any("are not retracted" in note and "1 rows of this one were skipped" in note for note in report.notes)


def test_an_earlier_snapshot_must_be_earlier():
    from schemas.mica import PreviousRegisterError

    with pytest.raises(PreviousRegisterError, match=r"previous register \(observed 2026-08-10\) is not older"):
        imported_after(CASPS_FEBRUARY, CASPS)
    with pytest.raises(PreviousRegisterError):
        imported_after(CASPS, CASPS)
    # the day this file was downloaded, when ESMA's dates would order the two the wrong way
    downloaded = ImportDefaults(extractor_name=EXTRACTOR_NAME, extractor_version=MICA_IMPORT_VERSION,
                                retrieved_at=dt.datetime(2026, 9, 1, tzinfo=dt.UTC))
    events, _ = imported_after(CASPS_FEBRUARY, CASPS, defaults=downloaded)
    assert {event.observed_at for event in events} == {dt.datetime(2026, 9, 1, tzinfo=dt.UTC)}
    assert len([event for event in events if event.op.value == "retract"]) == 324 - 148



# --- when a register was observed -----------------------------------------------------------------------------------

def test_one_mistyped_update_does_not_date_the_whole_register():
    _, rows = rows_of(CASPS_FEBRUARY)
    # a day and month swapped in one row (ESMA's own files have such dates): 2026-09-02 for 2026-02-09
    typo = [dict(row) for row in rows]
    typo[2]["ac_lastupdate"] = "02/09/2026"
    events, report = imported(CASPS_FEBRUARY, typo)
    assert events == [] and {skip.reason for skip in report.skipped} == {"missing_provenance"}
    assert "row 4's ac_lastupdate (2026-09-02) is 212 days after any other row's update (2026-02-02)" in \
        report.skipped[0].message and "--retrieved-at" in report.skipped[0].message
    downloaded = ImportDefaults(extractor_name=EXTRACTOR_NAME, extractor_version=MICA_IMPORT_VERSION,
                                retrieved_at=dt.datetime(2026, 2, 9, tzinfo=dt.UTC))
    events, report = imported(CASPS_FEBRUARY, typo, downloaded)
    assert len(events) == 149 and report.skipped == []
    # a register of a few rows may rightly go months without an update
    few = [row for row in rows if row["ae_homeMemberState"] == "AT"][:5]
    few[0] = dict(few[0], ac_lastupdate="02/09/2026")
    events, report = imported(CASPS_FEBRUARY, few)
    assert {event.observed_at for event in events} == {dt.datetime(2026, 9, 2, tzinfo=dt.UTC)}
    assert any("observed at 2026-09-02, the register's latest update" in note for note in report.notes)


def test_the_authorisation_of_a_white_paper_dates_a_register_without_updates():
    _, rows = rows_of(EMTWP)
    undated = [{**row, "wp_lastupdate": "", "ac_authorisationNotificationDate": ""} for row in rows]
    events, report = imported(EMTWP, undated)
    latest = max(dt.datetime.strptime(row["wp_authorisationNotificationDate"].strip(), "%d/%m/%Y")
                 for row in rows if row["wp_authorisationNotificationDate"].strip())
    assert {event.observed_at for event in events} == {latest.replace(tzinfo=dt.UTC)}


# --- reading the cells as ESMA writes them (each of these changed the output of the real files when broken) ------

def test_services_listed_by_line_breaks_bars_or_capital_is_and_without_trailing_stops():
    summaries = {event.target.name: event.properties.summary for event in imported(CASPS)[0]}
    assert summaries["Coinmotion Oy"] == (  # a line break between services
        "services: a. providing custody and administration of crypto-assets on behalf of clients, c. exchange of "
        "crypto-assets for funds, e. execution of orders for crypto-assets on behalf of clients, j. providing "
        "transfer services for crypto-assets on behalf of clients; offered in: FI, SE")
    assert summaries["DLT Securities GmbH"] == (  # "|" and " I "
        "services: c. exchange of crypto-assets for funds, d. exchange of crypto-assets for other crypto-assets, e. "
        "execution of orders for crypto-assets on behalf of clients, f. placing of crypto-assets, g. reception and "
        "transmission of orders for crypto-assets on behalf of clients, h. providing advice on crypto-assets, i. "
        "providing portfolio management on crypto-assets; offered in: DE")
    naga = summaries["NAGA X"].split("; offered in")[0]  # ESMA's full stop after a service dropped
    assert "Providing transfer services for crypto-assets on behalf of clients," in naga and "." not in naga
    assert "offered in: AT, BE, CY, CZ, DE, ES, GR, HU, IE, IT, LU, NL, PT, RO" in \
        summaries["Validvent Technology GmbH"]


def test_ids_of_firms_without_an_lei_are_the_digests_of_their_folded_names():
    targets = {event.target.name: event.target.id for event in imported(CASPS)[0]}
    # the ids are the contract between imports of the register's snapshots: they never change with a release
    assert targets["OSL EU GmbH"] == "mica-at-184f6b24ceb705d703ca"
    assert targets["B2C2 Europe Sarl"] == "mica-lu-99fabd7b5a8cab04c654"
    _, rows = rows_of(CASPS)
    row = next(row for row in rows if row["ae_lei_name"].strip() == "OSL EU GmbH")
    shouted = imported(CASPS, [dict(row, ae_lei_name="  osl  EU gmbh ")])[0][0]
    assert shouted.target.id == "mica-at-184f6b24ceb705d703ca"


def test_aliases_are_other_names_not_other_spellings():
    targets = {event.target.name: event.target for event in imported(CASPS)[0]}
    assert targets["BANCA SELLA"].aliases == ()  # its commercial name "Banca Sella"
    assert targets["Bybit EU GmbH"].aliases == ("Bybit",)
    _, rows = rows_of(CASPS)
    row = next(row for row in rows if row["ae_lei_name"].strip() == "Bybit EU GmbH")
    unnamed = imported(CASPS, [dict(row, ae_lei_name="")])[0][0]  # the commercial name when the legal one is missing
    assert unnamed.target.name == "Bybit" and unnamed.target.aliases == ()
    same = imported(CASPS, [dict(row, ae_competentAuthority="Finanstilsynet (FINANSTILSYNET)",
                                 ae_homeMemberState="DK")])[0][0]
    assert same.source.aliases == ()  # an acronym that is the name itself is no alias
    assert len(imported(CASPS, [dict(row, ae_lei_name="x" * 900)])[0][0].target.name) == 500


def test_a_header_is_told_by_all_its_marks_and_despite_a_byte_order_mark():
    header, _ = rows_of(CASPS)
    assert register_of(["\ufeff" + header[0], *header[1:]]).name == "casp"
    assert register_of([name for name in header if name != "ac_serviceCode_cou"]) is None


@pytest.mark.parametrize("value, noted", [("28/05/20251", True), ("28/05/2025x", True), ("-", False),
                                          ("n/a", False)])
def test_cells_that_are_no_date(value, noted):
    _, rows = rows_of(CASPS)
    row = next(row for row in rows if row["ae_lei_name"].strip() == "Bybit EU GmbH")
    (event,), report = imported(CASPS, [dict(row, ac_authorisationNotificationDate=value)])
    assert event.start_date is None
    assert any("is not a date" in note for note in report.notes) is noted  # ESMA's "no value" is no fault


def test_an_end_on_the_day_of_the_start_is_no_fault():
    _, rows = rows_of(CASPS)
    row = next(row for row in rows if row["ae_lei_name"].strip() == "Bybit EU GmbH")
    (event,), report = imported(CASPS, [dict(row, ac_authorisationEndDate=row["ac_authorisationNotificationDate"])])
    assert event.start_date == event.end_date == dt.date(2025, 5, 28)
    assert not any("before it begins" in note for note in report.notes)


def test_an_lei_ends_in_two_digits():
    base = "5299005V5GBSN2A4C3"
    lettered = next(base + a + b for a in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" for b in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                    if int("".join(str(int(c, 36)) for c in base + a + b)) % 97 == 1)
    assert _lei(lettered) is None and _lei(base + "03") == base + "03"


def test_of_rows_updated_the_same_day_the_content_decides_the_wording_not_the_order():
    _, rows = rows_of(CASPS)
    row = next(row for row in rows if row["ae_lei_name"].strip() == "Bybit EU GmbH")
    two = [dict(row), dict(row, ae_lei_name="Bybit EU GmbH (Vienna)", ac_serviceCode="j. transfer services")]
    assert imported(CASPS, two)[0] == imported(CASPS, two[::-1])[0]


def test_an_authority_slug_is_bounded_and_values_sort_whatever_their_case():
    _, rows = rows_of(CASPS)
    row = next(row for row in rows if row["ae_lei_name"].strip() == "Bybit EU GmbH")
    event, = imported(CASPS, [dict(row, ae_competentAuthority="Authority " * 40)])[0]
    assert len(event.source.id) <= len("mica-authority-at-") + 120
    event, = imported(CASPS, [dict(row, ac_serviceCode="B. beta|a. alpha|c. gamma",
                                   ac_serviceCode_cou="DE|All EU|at")])[0]
    assert event.properties.summary == "services: a. alpha, B. beta, c. gamma; offered in: AT, DE"


def test_a_blank_row_keeps_the_numbers_of_the_rows_after_it():
    header, rows = rows_of(CASPS)
    blank = {name: "" for name in header}
    events, report = imported(CASPS, [blank, *rows])
    assert any(note.startswith("row 13: OSL EU GmbH") for note in report.notes)
    assert len(events) == 324 and report.skipped == []  # nothing to say of a blank row


USDC = "mica-dti-tjwk5qtrk"  # Circle's USD Coin: its functionally fungible group's DTI (ae_DTI_FFG)


def test_each_token_an_issuer_states_is_a_security_it_issues_with_its_dtis():
    """mica-import 1.3: ESMA's EMT register gives each token's DTIs (ISO 24165); each token is a Security the firm
    `issues`, named by its group's DTI (or its lowest), with every DTI as an identifier, which joins it to the same
    token stated elsewhere (an exchange's listing)."""
    events, report = imported(EMTWP)
    issued = {event.relation_id: event for event in events if event.relation_type.value == "issues"}
    assert len(issued) == 16 and report.skipped == []
    usdc = issued[f"mica:emt:issues:{CIRCLE}:{USDC}"]
    assert (usdc.source.id, usdc.target.id, usdc.target.schema_.value) == (CIRCLE, USDC, "Security")
    assert usdc.target.name == "e-money token TJWK5QTRK (DTI)"
    dtis = [identifier.value for identifier in usdc.target.identifiers]
    assert {identifier.scheme for identifier in usdc.target.identifiers} == {"dti"} and all(i.strong for i in
                                                                                            usdc.target.identifiers)
    assert "TJWK5QTRK" in dtis and "M8G59S1ZR" in dtis and len(dtis) == len(set(dtis)) == 37
    assert usdc.properties.role == "issuer of the e-money token (MiCA white paper)"
    assert usdc.properties.summary.startswith("white papers: https://www.circle.com/fr/legal/mica-usdc-whitepaper")
    assert usdc.start_date == dt.date(2024, 7, 1)
    # Circle's other token (EURC) is another Security; every DTI of the file names one token only
    circle = sorted(event.target.id for event in issued.values() if event.source.id == CIRCLE)
    assert circle == ["mica-dti-13xtmpzt3", USDC]
    owners: dict[str, str] = {}
    for event in issued.values():
        for identifier in event.target.identifiers:
            assert owners.setdefault(identifier.value, event.target.id) == event.target.id


def test_white_papers_sharing_a_dti_are_one_token_without_a_group_dti():
    """AllUnity's rows give no group DTI: a white paper and its update (VP84J2JSS, D1PFLVZDZ, then four ledgers
    more) are one token, named by its lowest DTI; its first white paper's date starts it."""
    events, _ = imported(EMTWP)
    allunity = sorted((event.target.id, len(event.target.identifiers), event.start_date) for event in events
                      if event.relation_type.value == "issues" and event.source.name == "AllUnity GmbH")
    assert [token for token, _, _ in allunity] == ["mica-dti-35ptc5z63", "mica-dti-4t8q7pxdr", "mica-dti-6tr5f3kkf"]
    joined = next(event for event in events if event.relation_type.value == "issues"
                  and event.target.id == "mica-dti-35ptc5z63")
    assert {"VP84J2JSS", "D1PFLVZDZ", "35PTC5Z63"} <= {i.value for i in joined.target.identifiers}
    assert joined.start_date == dt.date(2026, 1, 19)  # its first white paper's (the update's: 2026-06-09)


def test_tokens_are_the_same_in_any_row_order_and_a_token_gone_is_retracted():
    _, rows = rows_of(EMTWP)
    first = imported(EMTWP, rows)[0]
    shuffled = rows[:]
    random.Random(3).shuffle(shuffled)
    assert [event.model_dump_json() for event in imported(EMTWP, shuffled)[0]] == \
        [event.model_dump_json() for event in first]
    # a later snapshot (a day on) without Paxos's token row: its issuance and its licence are retracted
    later = [{**row, "wp_lastupdate": "21/08/2026"} for row in rows if "Paxos" not in row["ae_lei_name"]]
    header, _ = rows_of(EMTWP)
    report = ImportReport()
    events = list(import_mica(lambda: later, register_of(header), DEFAULTS, report, previous=lambda: rows))
    retracted = sorted(event.relation_id.split(":")[2] for event in events if event.op.value == "retract")
    assert retracted == ["issues", "mica-authority-fi-fin-fsa"]


def test_what_is_not_a_dti_is_noted_and_left_out():
    _, rows = rows_of(EMTWP)
    paxos = next(index for index, row in enumerate(rows) if "Paxos" in row["ae_lei_name"])
    edited = [dict(row) for row in rows]
    edited[paxos]["ae_DTI"] = "2VT5W3GH7 | AEIOU1234 | 0BCDFGHJK"  # vowels; a leading 0
    events, report = imported(EMTWP, edited)
    token = next(event for event in events if event.relation_type.value == "issues" and "Paxos" in event.source.name)
    assert [i.value for i in token.target.identifiers] == ["2VT5W3GH7", "R9MZCNWS4"]
    assert sum("is not a DTI" in note for note in report.notes) == 2


def test_a_token_of_one_dti_and_a_dti_two_issuers_give_keep_each_issuers_token():
    """A row whose only DTI is its group's (its ledgers' cell "n/a", or nothing but what is no DTI) is a token of its
    own (a review: a `KeyError` stopped the whole register); a DTI one issuer gives that another's token has
    (mistyped, or a token both describe) never renames the other's token: each firm's rows are grouped apart, and the
    shared DTI joins the two tokens in the resolution layer."""
    _, rows = rows_of(EMTWP)
    for cell in ("n/a", "AEIOU1234", ""):
        edited = [{**row, "ae_DTI": cell} if "Paxos" in row["ae_lei_name"] else row for row in rows]
        events, report = imported(EMTWP, edited)
        (token,) = [event.target for event in events if event.relation_type.value == "issues"
                    and "Paxos" in event.source.name]
        assert (token.id, [i.value for i in token.identifiers]) == ("mica-dti-r9mzcnws4", ["R9MZCNWS4"]), cell
    edited = [{**row, "ae_DTI": "2VT5W3GH7 | FJM594L0V"} if "Paxos" in row["ae_lei_name"] else row
              for row in rows]  # FJM594L0V: one of Circle's EURC ledgers
    issued = [event for event in imported(EMTWP, edited)[0] if event.relation_type.value == "issues"]
    by_issuer = {(event.source.name.split()[0], event.target.id) for event in issued
                 if event.source.name.split()[0] in ("Paxos", "Circle")}
    assert by_issuer == {("Paxos", "mica-dti-r9mzcnws4"), ("Circle", "mica-dti-13xtmpzt3"), ("Circle", USDC)}
