"""ESMA's MiCA register (tests/fixtures/mica: ESMA's own CSV files) -> regulates relations."""

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
    assert {path.name: register_of(rows_of(path)[0]).name for path in (CASPS, CASPS_FEBRUARY, EMTWP, NCASP, ARTZZ)} \
        == {CASPS.name: "casp", CASPS_FEBRUARY.name: "casp", EMTWP.name: "emt", NCASP.name: "ncasp",
            ARTZZ.name: "art"}
    assert register_of(["id", "schema", "name"]) is None
    assert register_of(["ae_competentAuthority", "ae_lei"]) is None  # a register's first column, but none's marks
    assert [register.name for register in REGISTERS if not register.not_read] == ["casp", "emt", "art"]


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
    assert bybit.observed_at == dt.datetime(2025, 5, 28, tzinfo=dt.UTC)
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
    assert len(events) == 22 and report.skipped == []
    circle = by_relation(events)[f"mica:emt:mica-authority-fr-acpr:{CIRCLE}"]
    assert circle.target.name == "Circle Internet Financial Europe SAS"
    assert circle.properties.role == "e-money token issuer (MiCA)"
    assert circle.start_date == dt.date(2024, 7, 1)
    assert circle.observed_at == dt.datetime(2026, 7, 10, tzinfo=dt.UTC)  # the later of its two white papers
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


def test_a_relation_without_an_update_date_is_observed_at_its_latest_date_or_when_retrieved():
    events, report = imported(EMTWP)
    eurodollar = next(event for event in events if event.target.name == "Eurodollar ApS")
    assert eurodollar.observed_at == dt.datetime(2025, 4, 10, tzinfo=dt.UTC)  # its white paper's notification
    assert any("Eurodollar" not in note and "8945001XWFMRUTCAK575" in note and "no update date" in note
               for note in report.notes)
    retrieved = dt.datetime(2026, 8, 21, 9, 0, tzinfo=dt.UTC)
    given = ImportDefaults(extractor_name=EXTRACTOR_NAME, extractor_version=MICA_IMPORT_VERSION,
                           retrieved_at=retrieved)
    eurodollar = next(event for event in imported(EMTWP, defaults=given)[0] if event.target.name == "Eurodollar ApS")
    assert eurodollar.observed_at == retrieved


def test_registers_that_state_no_authorisation_are_skipped_row_by_row():
    for path, rows in ((NCASP, 167),):
        events, report = imported(path)
        assert events == [] and len(report.skipped) == rows
        assert all(skip.reason == "not_converted_yet" and "no authority's licence" in skip.message
                   for skip in report.skipped)
    events, report = imported(ARTZZ)  # ESMA's register of asset-referenced tokens is empty so far
    assert events == [] and report.skipped == [] and report.notes == []


def test_a_later_register_restates_a_firm_under_the_same_relation_id():
    february = by_relation(imported(CASPS_FEBRUARY)[0])
    august = by_relation(imported(CASPS)[0])
    both = set(february) & set(august)
    assert len(february) > 100 and len(both) >= 0.9 * len(february)
    for relation_id in both:
        assert august[relation_id].observed_at >= february[relation_id].observed_at, relation_id
    # a firm whose row ESMA updated in between is a new version of the same relation
    updated = [relation_id for relation_id in both
               if august[relation_id].observed_at > february[relation_id].observed_at]
    assert updated and all(august[r].event_id != february[r].event_id for r in updated)
    unchanged = [relation_id for relation_id in both
                 if august[relation_id].model_dump_json() == february[relation_id].model_dump_json()]
    assert unchanged  # the same row, the same event (its id is its content's)


def test_an_unreadable_date_is_noted_and_left_out():
    header, rows = rows_of(CASPS)
    row = dict(next(row for row in rows if row["ae_lei_name"] == "Bybit EU GmbH"))
    row["ac_authorisationNotificationDate"] = "31/02/2025"
    events, report = imported(CASPS, [row])
    assert len(events) == 1 and events[0].start_date is None
    assert any("authorisation date: '31/02/2025' is not a date" in note for note in report.notes)
