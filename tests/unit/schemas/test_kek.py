"""The KEK media database (tests/fixtures/kek: real records of its API, see tests/fixtures/README.md): holdings,
general partners, operated media and the state media authorities' supervision of radio and TV operators, each
relation read once from the record KEK checked last; public bodies among its "pseudo companies", and holders
counted together (free float) left out."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

from schemas.bods import is_bods
from schemas.ftm import ImportDefaults, ImportReport
from schemas.kek import EXTRACTOR_NAME, KEK_IMPORT_VERSION, events_from_kek, is_kek
from schemas.wikidata import is_wikidata

FIXTURES = Path(__file__).parents[2] / "fixtures"
KEK = FIXTURES / "kek"

RADIO_GALAXY = "5be1a6b1-3330-4da7-a949-79bc5d29d59f"  # a radio programme in Kempten, supervised by the BLM
RSA_KG = "5be1a6b6-7545-4838-8317-b3d9812ff6f1"  # its operator, a GmbH & Co. KG
RSA_PARTNER = "5f96caef-7c46-4b27-b62c-532b76bfd906"  # the KG's general partner (0% of its capital)
ULRICH = "5be1a6b6-cac1-420a-b40c-87452e0ab6f4"  # Sankt Ulrich Verlag, 30% of the KG
DIOCESE = "5be1a6b6-701f-4467-841c-82815a588fc5"  # owns Sankt Ulrich Verlag outright
RTA = "5be1a6b6-835d-4817-ab25-5f64286c4824"  # rta.media, 70% of the KG
WUPPERTAL = "5be1a6b6-abf7-4971-8258-33a595c6a83c"  # the town, 25% of its local radio's operator
LOKALFUNK = "5be1a6b6-e8b9-4d02-bff8-329f2ad909cb"
FREENET = "5be1a6b6-a84d-4be4-a38a-701020554b5d"
BLM = "5b0830c1-8ded-40dd-9d37-2a1a21efaff5"
LFM_NRW = "5b0830f6-6588-43fb-93a8-d824a4663969"


def records() -> list[dict]:
    return [json.loads(path.read_text()) for path in sorted(KEK.glob("*.json"))]


def imported(documents=None, **defaults):
    report = ImportReport()
    options = ImportDefaults(extractor_name=EXTRACTOR_NAME, extractor_version=KEK_IMPORT_VERSION, **defaults)
    events = list(events_from_kek(records() if documents is None else documents, options, report))
    return events, report


def between(events, source: str, target: str):
    return [e for e in events if (e.source.id, e.target.id) == (f"kek-{source}", f"kek-{target}")]


def test_kek_records_are_recognised_and_other_formats_are_not():
    assert all(is_kek(record) for record in records())
    assert not is_kek({"id": "x", "schema": "Company", "properties": {}})
    assert not is_kek({"squuid": "not-a-uuid", "owns": []})
    for path in (FIXTURES / "bods" / "tecido.json", FIXTURES / "yente" / "zala-ownership.ftm.json"):
        first = json.loads(path.read_text().splitlines()[0]) if path.suffix == ".json" and \
            path.read_text().lstrip().startswith("{") else json.loads(path.read_text())[0]
        assert not is_kek(first)
    assert not any(is_bods(record) or is_wikidata(record) for record in records())


def test_holdings_are_ownerships_with_their_capital_share_read_once():
    events, report = imported()
    assert report.skipped == [] and report.converted == len(events)
    assert len({e.relation_id for e in events}) == len(events)
    (rta,) = between(events, RTA, RSA_KG)
    assert (rta.relation_type.value, rta.properties.percentage, rta.status.value) == ("ownership", 70.0, "confirmed")
    assert rta.source.schema_.value == rta.target.schema_.value == "Company"
    assert rta.provenance.publisher.startswith("KEK") and rta.provenance.extractor.name == "kek-import"
    # listed by both ends: read from the record KEK checked last (the publisher's, 2026-06-09, not the KG's)
    (ulrich,) = between(events, ULRICH, RSA_KG)
    assert ulrich.properties.percentage == 30.0
    assert ulrich.observed_at == dt.datetime(2026, 6, 9, 9, 36, 36, 123000, tzinfo=dt.UTC)
    assert ulrich.provenance.source_url == f"https://medienvielfaltsmonitor.de/api/v1/shareholders/{ULRICH}"
    (diocese,) = between(events, DIOCESE, ULRICH)
    assert diocese.properties.percentage == 100.0


def test_a_general_partner_controls_the_kg_and_holds_no_stake_of_zero():
    events, _ = imported()
    (partner,) = between(events, RSA_PARTNER, RSA_KG)
    assert partner.relation_type.value == "control" and partner.properties.role == "general partner (Komplementär)"
    # with a capital share of its own, the share is an ownership beside the control
    documents = records()
    kg = next(d for d in documents if d["squuid"] == RSA_KG)
    entry = next(e for e in kg["ownedBy"] if e.get("complementaryPartner"))
    entry["capitalShares"] = 5.0
    for other in documents:
        for listed in other.get("owns") or []:
            if listed["squuid"] == entry["squuid"]:
                listed["capitalShares"] = 5.0
    events, _ = imported(documents)
    found = {(e.relation_id.endswith(":capital"), e.relation_type.value, e.properties.percentage)
             for e in between(events, RSA_PARTNER, RSA_KG)}
    assert found == {(False, "control", None), (True, "ownership", 5.0)}


def test_operators_control_their_media_and_state_authorities_regulate_radio_and_tv_operators():
    events, _ = imported()
    (operates,) = between(events, RSA_KG, RADIO_GALAXY)
    assert operates.relation_type.value == "control" and operates.target.schema_.value == "Organization"
    assert operates.properties.role == "operates the radio medium"
    regulated = {(e.source.id, e.target.id): e for e in events if e.relation_type.value == "regulates"}
    assert set(regulated) == {(f"kek-{BLM}", f"kek-{RSA_KG}"), (f"kek-{LFM_NRW}", f"kek-{LOKALFUNK}")}
    blm = regulated[(f"kek-{BLM}", f"kek-{RSA_KG}")]
    assert blm.source.schema_.value == "PublicBody" and blm.source.name == "Bayerische Landeszentrale für neue Medien"
    assert blm.source.aliases == ("BLM",) and "Radio Galaxy Kempten" in blm.properties.role
    # the programme's record has no controlDate: observed when KEK checked its operator's record
    assert blm.observed_at == dt.datetime(2025, 6, 20, 9, 27, 54, 813000, tzinfo=dt.UTC)


def test_a_town_is_a_public_body_and_free_float_is_no_entity():
    events, report = imported()
    (town,) = between(events, WUPPERTAL, LOKALFUNK)
    assert town.source.schema_.value == "PublicBody" and town.properties.percentage == 25.0
    # freenet AG is held 94.61% in free float ("Streubesitz an der Freenet AG") and 5.39% by BlackRock
    holders = {e.source.name: e.properties.percentage for e in events if e.target.id == f"kek-{FREENET}"}
    assert holders == {"BlackRock, Inc.": 5.39}
    assert report.outcomes["kek holdings of shareholders counted together skipped"] == 1
    assert any("Streubesitz an der Freenet AG" in note and "not an entity" in note for note in report.notes)
    # BlackRock has no record in the extract: a LegalEntity, said once
    (blackrock,) = [e for e in events if e.source.name == "BlackRock, Inc."]
    assert blackrock.source.schema_.value == "LegalEntity"
    assert sum("5be1a6b6-9cab-4e9a-b708-71ca2d2098fd" in note for note in report.notes) == 1


def test_the_same_records_in_any_order_give_the_same_events():
    forward, _ = imported()
    backward, _ = imported(list(reversed(records())))
    assert [e.model_dump() for e in forward] == [e.model_dump() for e in backward]


def test_the_record_checked_last_decides_a_relation_both_ends_list():
    documents = records()
    newer = copy.deepcopy(next(d for d in documents if d["squuid"] == RSA_KG))
    newer["controlDate"] = "2026-12-01T00:00:00.000Z"
    next(e for e in newer["ownedBy"] if e["holder"]["squuid"] == ULRICH)["capitalShares"] = 35.0
    events, _ = imported([*documents, newer])
    (ulrich,) = between(events, ULRICH, RSA_KG)
    assert ulrich.properties.percentage == 35.0 and ulrich.observed_at.date() == dt.date(2026, 12, 1)
    events, _ = imported([newer, *documents])  # the file order does not matter
    assert between(events, ULRICH, RSA_KG)[0].properties.percentage == 35.0


def test_an_archived_relation_ends_and_a_record_without_a_time_needs_one():
    documents = [copy.deepcopy(d) for d in records() if d["squuid"] in (DIOCESE, ULRICH)]
    for document in documents:
        for entry in (document.get("owns") or []) + (document.get("ownedBy") or []):
            if DIOCESE in (entry.get("held", {}).get("squuid"), entry.get("holder", {}).get("squuid")):
                entry["state"] = "archived"
    events, report = imported(documents)
    (diocese,) = between(events, DIOCESE, ULRICH)
    assert diocese.end_date == dt.date(2026, 6, 8)  # the day before KEK checked the newer record
    assert any("'archived'" in note for note in report.notes)
    undated = [{k: v for k, v in d.items() if k != "controlDate"} for d in documents]
    events, report = imported(undated)
    assert events == [] and {s.reason for s in report.skipped} == {"missing_provenance"}
    events, report = imported(undated, retrieved_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    assert events and all(e.observed_at == dt.datetime(2026, 1, 1, tzinfo=dt.UTC) for e in events)


def test_something_else_in_a_kek_file_is_reported():
    events, report = imported([*records(), {"id": "x", "schema": "Company"}, [1, 2]])
    assert len(report.skipped) == 2 and {s.reason for s in report.skipped} == {"invalid_entity"}
    assert len(events) == len(imported()[0])


def test_a_natural_person_with_shareholders_of_its_own_is_a_legal_entity():
    """KEK marks some associations and communities of heirs `naturalPerson` ("Anbietergemeinschaft Hamburger
    Lokalradio e.V.", held 50% by another association): a Person cannot be owned, and the contract refuses it as
    what a holding holds, so such an entity is a LegalEntity, in every event naming it."""
    documents = records()
    next(d for d in documents if d["squuid"] == ULRICH)["naturalPerson"] = True
    events, report = imported(documents)
    assert report.skipped == []
    named = {e.source.schema_.value for e in events if e.source.id == f"kek-{ULRICH}"} | \
        {e.target.schema_.value for e in events if e.target.id == f"kek-{ULRICH}"}
    assert named == {"LegalEntity"}
    assert any("marked naturalPerson but has shareholders" in note for note in report.notes)
    # a shareholder listed with no flags and no relations (only the authorities it is filed with) is still KEK's
    assert is_kek({"squuid": RTA, "name": "rta.media GmbH", "state": "archived", "organizations": []})
