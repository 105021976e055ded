"""FollowTheMoney interop: import, export and the round trips between them."""

from __future__ import annotations

import copy
import datetime as dt

import pytest
from followthemoney import model
from followthemoney.types import registry

from schemas import RELATIONS, RelationshipEvent, RelationType, Status, parse_event, validate_event
from schemas.ftm import (
    FtmImportError,
    ImportDefaults,
    ImportReport,
    SkipReason,
    events_from_ftm,
    ftm_from_events,
    ftm_property,
    ftm_schema_for,
)

RETRIEVED = dt.datetime(2025, 5, 20, 6, 10, 44, tzinfo=dt.UTC)
OPENSANCTIONS = ImportDefaults(publisher="OpenSanctions", source_url="https://www.opensanctions.org/datasets/default/",
                               retrieved_at=RETRIEVED)


def after_round_trip(events: list[RelationshipEvent]) -> list[dict]:
    """What events -> FtM -> events keeps, by the losses documented in schemas/ftm.py and docs/events.md."""
    current: dict[str, RelationshipEvent] = {}
    for event in sorted(events, key=lambda e: e.observed_at):
        if event.spec.resolution:  # judgements are not exported
            continue
        if event.op == "retract":
            current.pop(event.relation_id, None)
        else:
            current[event.relation_id] = event
    return [comparable(event, ftm_schema_for(event).name) for event in current.values()]


def comparable(event: RelationshipEvent, exported_as: str) -> dict:
    kept = event.model_dump(mode="json", exclude={"event_id", "op", "schema_version"})
    kept["provenance"] = {key: kept["provenance"][key] for key in ("source_url", "publisher", "retrieved_at")}
    kept["properties"] = {name: value for name, value in kept["properties"].items()
                          if value is not None and ftm_property(exported_as, name)}
    if model.get(exported_as).get("status") is None:
        kept["status"] = ImportDefaults.status.value
    return kept


@pytest.fixture(scope="module")
def nordbank(ftm_lines) -> list[dict]:
    return ftm_lines("nordbank.ftm.jsonl")


@pytest.fixture(scope="module")
def opensanctions(ftm_lines) -> list[dict]:
    return ftm_lines("opensanctions-style.ftm.jsonl")


@pytest.fixture(scope="module")
def opensanctions_import(opensanctions) -> tuple[dict[str, RelationshipEvent], ImportReport]:
    report = ImportReport()
    events = {event.relation_id: event for event in events_from_ftm(opensanctions, OPENSANCTIONS, report)}
    return events, report


# --- round trips ----------------------------------------------------------------------------------------------

def test_ftm_to_events_to_ftm_gives_back_the_same_entities(nordbank):
    exported = {entity["id"]: entity for entity in ftm_from_events(events_from_ftm(nordbank))}
    assert sorted(exported) == sorted(entity["id"] for entity in nordbank)
    for entity in nordbank:
        assert exported[entity["id"]] == entity


def test_the_round_trip_file_covers_every_ftm_schema_we_map(nordbank):
    assert {spec.ftm_schema for spec in RELATIONS.values() if not spec.resolution} <= {
        entity["schema"] for entity in nordbank}


@pytest.mark.parametrize("source", ["seed", "docs"])
def test_events_to_ftm_to_events_keeps_all_but_the_documented_losses(source, seed_lines, doc_examples):
    events = ([parse_event(line) for line in seed_lines] if source == "seed"
              else [validate_event(doc) for doc in doc_examples])
    back = list(events_from_ftm(ftm_from_events(events), ImportDefaults()))
    assert [comparable(event, ftm_schema_for(event).name) for event in back] == after_round_trip(events)


def test_the_import_of_an_export_is_marked_as_ours_and_deterministic(seed_lines):
    events = [parse_event(line) for line in seed_lines]
    entities = list(ftm_from_events(events))
    first, second = list(events_from_ftm(entities)), list(events_from_ftm(copy.deepcopy(entities)))
    assert [event.event_id for event in first] == [event.event_id for event in second]
    assert len({event.event_id for event in first}) == len(first)
    assert all(event.provenance.extractor.name == "ftm-import" and event.provenance.confidence == 0.8
               for event in first)


# --- export ---------------------------------------------------------------------------------------------------

def test_export_is_valid_ftm(seed_lines, handwritten_documents):
    events = [parse_event(line) for line in seed_lines] + [validate_event(doc) for doc in handwritten_documents]
    entities = list(ftm_from_events(events))
    by_id = {entity["id"]: entity for entity in entities}
    assert len(by_id) == len(entities)
    for entity in entities:
        proxy = model.get_proxy(entity, cleaned=False)
        assert proxy.to_dict() == entity, "FtM would change what we wrote"
        for prop, value in proxy.itervalues():
            if prop.type is registry.entity:
                assert value in by_id, f"{entity['id']}.{prop.name} -> {value} is not exported"
                assert model.get(by_id[value]["schema"]).is_a(prop.range), f"{entity['id']}.{prop.name}"


def test_export_writes_the_current_state(handwritten_documents):
    events = [validate_event(doc) for doc in handwritten_documents]
    exported = {entity["id"]: entity for entity in ftm_from_events(events)}
    assert "norrland-pays-olof" not in exported, "retracted relations are left out"
    assert exported["olof-strand"]["properties"] == {"name": ["Olof Strand"]}, \
        "an entity's attributes come from the latest event that names it"
    assert exported["norrland-owns-claim"]["schema"] == "Ownership"
    assert exported["kiruna-claim-7"]["properties"]["alias"] == ["Kiruna nr 7"]


def test_a_later_upsert_replaces_an_earlier_one_whatever_the_input_order(seed_lines):
    events = [parse_event(line) for line in seed_lines]
    exported = {entity["id"]: entity for entity in ftm_from_events(reversed(events))}
    assert exported["doj-oversees-binance"]["properties"]["role"][1] == (
        "AML monitorship; corporate monitorships suspended")


def test_relations_outside_the_ftm_ranges_become_unknown_links(seed_lines):
    exported = {entity["id"]: entity for entity in ftm_from_events(parse_event(line) for line in seed_lines)}
    sun_owns_tron = exported["sun-owns-tron"]
    assert sun_owns_tron["schema"] == "UnknownLink"
    assert sun_owns_tron["properties"]["role"] == ["ownership", "founder"]
    assert exported["cz-owns-binance"]["schema"] == "Ownership"
    assert exported["trump-controls-treasury"]["schema"] == "Control"


# --- import of data not derived from ours ---------------------------------------------------------------------

def test_opensanctions_style_import_converts_each_relation(opensanctions_import):
    events, report = opensanctions_import
    assert {relation_id: event.relation_type for relation_id, event in events.items()} == {
        "pl-occ-0c1e9d2a77b4": RelationType.OCCUPANCY,
        "pl-fam-5e0a3f9c1b2d": RelationType.FAMILY,
        "pl-own-7d21c4e8aa90": RelationType.OWNERSHIP,
        "pl-pay-3b6f0e1d2c4a": RelationType.PAYMENT,
        "pl-ul-regulates-bal": RelationType.REGULATES,
        "pl-own-vessel-1a2b": RelationType.OWNERSHIP,
    }
    assert report.converted == 6


def test_opensanctions_style_import_reads_properties_and_endpoints(opensanctions_import):
    events, _ = opensanctions_import
    ownership = events["pl-own-7d21c4e8aa90"]
    assert ownership.properties.percentage == 51.0
    assert (ownership.source.name, ownership.source.country, ownership.source.topics) == (
        "Piotr Kowalczyk", "pl", ("role.rca",))
    assert (ownership.target.schema_.value, ownership.target.country) == ("Company", "pl")
    assert ownership.provenance.publisher == "Krajowy Rejestr Sadowy"
    assert ownership.provenance.retrieved_at == dt.datetime(2025, 5, 19, 22, 14, 3, tzinfo=dt.UTC)
    payment = events["pl-pay-3b6f0e1d2c4a"]
    assert (payment.properties.amount, payment.properties.currency) == (1250000.5, "PLN")
    assert payment.start_date == dt.date(2024, 3, 15), "a Payment's date is its start"
    assert (payment.source.schema_.value, payment.target.schema_.value) == ("PublicBody", "Company")
    occupancy = events["pl-occ-0c1e9d2a77b4"]
    assert occupancy.source.politically_exposed and occupancy.target.schema_.value == "Position"
    assert occupancy.source.aliases == ("Marta Anna Kowalczyk",)
    assert occupancy.status is Status.CONFIRMED, "FtM's free-text status 'current' is not one of ours"
    assert events["pl-fam-5e0a3f9c1b2d"].properties.relationship == "Spouse"
    assert events["pl-own-vessel-1a2b"].target.schema_.value == "Asset", "a Vessel is an Asset"
    assert events["pl-ul-regulates-bal"].spec.authority


def test_opensanctions_style_import_takes_provenance_from_the_data_before_the_defaults(opensanctions_import):
    events, _ = opensanctions_import
    occupancy, family = events["pl-occ-0c1e9d2a77b4"], events["pl-fam-5e0a3f9c1b2d"]
    assert (occupancy.provenance.publisher, occupancy.provenance.source_url) == (
        "OpenSanctions: wd_peps", "https://www.opensanctions.org/datasets/wd_peps/"), "from datasets, not flags"
    assert occupancy.provenance.retrieved_at == dt.datetime(2023, 12, 14, 6, 12, 1, tzinfo=dt.UTC), "first_seen"
    assert occupancy.observed_at == dt.datetime(2025, 1, 8, 6, 11, 2, tzinfo=dt.UTC), \
        "observed when the latest of relation and endpoints last changed (the holder's last_change)"
    assert family.provenance.source_url == "https://example.org/declarations/2024/kowalczyk.pdf"
    assert family.provenance.publisher == "OpenSanctions: pl_declarations"
    assert all(event.provenance.extractor.name == "ftm-import" for event in events.values())


def test_partial_dates_read_as_the_first_day_and_are_noted(opensanctions_import):
    events, report = opensanctions_import
    assert events["pl-occ-0c1e9d2a77b4"].start_date == dt.date(2023, 12, 1)
    assert events["pl-own-7d21c4e8aa90"].start_date == dt.date(2019, 1, 1)
    assert report.notes == ["Occupancy pl-occ-0c1e9d2a77b4: startDate 2023-12 read as 2023-12-01",
                            "Ownership pl-own-7d21c4e8aa90: startDate 2019 read as 2019-01-01"]


def test_opensanctions_style_import_reports_what_it_left_out(opensanctions_import):
    _, report = opensanctions_import
    [skipped] = report.skipped
    assert (skipped.entity_id, skipped.reason) == ("pl-ul-partner-9f8e", SkipReason.UNKNOWN_ROLE)
    assert "business partner" in skipped.message and "regulates" in skipped.message
    assert report.ignored == {"Sanction": 1, "Address": 1}


def test_event_ids_ignore_volatile_fields_but_follow_the_content(opensanctions):
    baseline = {e.relation_id: e.event_id for e in events_from_ftm(opensanctions, OPENSANCTIONS, ImportReport())}
    restamped = copy.deepcopy(opensanctions)
    for entity in restamped:
        entity["last_seen"] = "2025-06-01T00:00:00"
    assert {e.relation_id: e.event_id for e in events_from_ftm(restamped, OPENSANCTIONS, ImportReport())} == baseline
    changed = copy.deepcopy(opensanctions)
    next(e for e in changed if e["id"] == "pl-own-7d21c4e8aa90")["properties"]["percentage"] = ["49"]
    after = {e.relation_id: e.event_id for e in events_from_ftm(changed, OPENSANCTIONS, ImportReport())}
    assert {rid for rid in baseline if after[rid] != baseline[rid]} == {"pl-own-7d21c4e8aa90"}


# --- what cannot be imported ----------------------------------------------------------------------------------

PERSON = {"id": "p1", "schema": "Person", "properties": {"name": ["Pat"]}}
COMPANY = {"id": "c1", "schema": "Company", "properties": {"name": ["Acme"]}}
PROVENANCE = {"sourceUrl": ["https://example.org/x"], "publisher": ["X"], "retrievedAt": ["2025-01-01T00:00:00"]}


def link(schema: str, **properties) -> dict:
    return {"id": "l1", "schema": schema, "properties": {**PROVENANCE, **properties}}


def similar(judgement: str | None = None, **properties) -> dict:
    """An FtM Similar (it has no provenance properties: OpenSanctions-style metadata beside them)."""
    found = {"id": "s1", "schema": "Similar", "properties": properties, "datasets": ["desk"],
             "last_change": "2025-01-01T00:00:00"}
    return found | ({"judgement": judgement} if judgement else {})


@pytest.mark.parametrize(("entities", "reason", "says"), [
    ([PERSON, COMPANY, link("UnknownLink", subject=["p1"], object=["c1"], role=["friend of"])],
     SkipReason.UNKNOWN_ROLE, "friend of"),
    ([PERSON, COMPANY, link("UnknownLink", subject=["p1"], object=["c1"], role=["regulates", "oversees"])],
     SkipReason.UNKNOWN_ROLE, "exactly one"),
    ([PERSON, COMPANY, similar(candidate=["p1"], match=["c1"])], "invalid_endpoint", "one kind"),
    ([PERSON, {"id": "p2", "schema": "Person", "properties": {"name": ["Ann"]}},
      similar(candidate=["p1"], match=["p2"], judgement="probably")],
     SkipReason.UNREADABLE_VALUE, "judgement 'probably'"),
    ([PERSON, COMPANY, link("Ownership", owner=["p1"], asset=["c1"], endDate=["31.12.2019"])],
     SkipReason.UNREADABLE_VALUE, "endDate '31.12.2019' is not a date"),
    ([PERSON, link("Ownership", owner=["p1"], asset=["c9"])], SkipReason.MISSING_ENDPOINT, "c9"),
    ([PERSON, COMPANY, link("Ownership", asset=["c1"])], SkipReason.MISSING_ENDPOINT, "owner names no entity"),
    ([PERSON, {"id": "a1", "schema": "Address", "properties": {"full": ["1 Main St"]}},
      link("UnknownLink", subject=["p1"], object=["a1"], role=["lobbies"])],
     SkipReason.UNMAPPED_SCHEMA, "Address a1 cannot be a relation endpoint"),
    ([PERSON, COMPANY, link("Occupancy", holder=["p1"], post=["c1"])], "invalid_endpoint", "Position"),
    ([PERSON, COMPANY, {"id": "l1", "schema": "Ownership", "properties": {"owner": ["p1"], "asset": ["c1"]}}],
     SkipReason.MISSING_PROVENANCE, "--source-url"),
    ([PERSON, {"schema": "Ownership", "properties": {}}], SkipReason.INVALID_ENTITY, "no id"),
    ([PERSON, {"id": "x", "schema": "Bribe", "properties": {}}], SkipReason.INVALID_ENTITY, "schema"),
    ([PERSON, ["not", "an", "entity"]], SkipReason.INVALID_ENTITY, "got list"),
])
def test_what_cannot_be_converted_is_reported_with_a_reason(entities, reason, says):
    report = ImportReport()
    assert list(events_from_ftm(entities, ImportDefaults(), report)) == []
    [skipped] = report.skipped
    assert skipped.reason == reason and says in skipped.message, skipped
    with pytest.raises(FtmImportError, match=reason):
        list(events_from_ftm(entities))


def test_roles_are_matched_loosely_and_the_rest_of_the_role_is_kept():
    entities = [{"id": "b1", "schema": "PublicBody", "properties": {"name": ["Agency"]}}, COMPANY,
                link("UnknownLink", subject=["b1"], object=["c1"], role=["Awards Contract", "road works"])]
    [event] = events_from_ftm(entities)
    assert event.relation_type is RelationType.AWARDS_CONTRACT and event.properties.role == "road works"


def test_fragments_of_one_entity_are_merged():
    entities = [PERSON, {"id": "p1", "schema": "Person", "properties": {"alias": ["P."], "topics": ["role.pep"]}},
                COMPANY, link("Ownership", owner=["p1"], asset=["c1"], percentage=["10"])]
    [event] = events_from_ftm(entities)
    assert (event.source.name, event.source.aliases, event.source.topics) == ("Pat", ("P.",), ("role.pep",))


def test_relations_may_come_before_their_endpoints():
    entities = [link("Ownership", owner=["p1"], asset=["c1"]), COMPANY, PERSON]
    [event] = events_from_ftm(entities)
    assert (event.source.id, event.target.id) == ("p1", "c1")


def test_awards_contract_exports_as_contract_and_award_and_comes_back_whole(handwritten_documents):
    [event] = [validate_event(doc) for doc in handwritten_documents if doc["relation_type"] == "awards_contract"]
    exported = list(ftm_from_events([event]))
    schemas = {entity["schema"]: entity for entity in exported}
    assert schemas["Contract"]["properties"]["authority"] == [event.source.id]
    assert schemas["ContractAward"]["properties"]["supplier"] == [event.target.id]
    [back] = events_from_ftm(exported)
    assert comparable(back, "ContractAward") == comparable(event, "ContractAward")
    assert (back.properties.amount, back.properties.currency, back.properties.purpose) == (3200000.0, "EUR",
                                                                                           "gravel supply")


@pytest.mark.parametrize(("judgement", "status"), [
    (None, "proposed"), ("positive", "confirmed"), ("negative", "denied"), ("unsure", "in_discussion"),
    ("no_judgement", "proposed"), ("confirmed", "confirmed")])
def test_similar_is_a_same_as_judgement(judgement, status):
    people = [PERSON, {"id": "p2", "schema": "Person", "properties": {"name": ["Pat Doe"]}}]
    found = similar(candidate=["p1"], match=["p2"], confidenceScore=["0.91"], criteria=["name, birth date"],
                    matcher=["logic-v2"], judgement=judgement)
    [event] = events_from_ftm([*people, found])
    assert (event.relation_type.value, event.schema_version, event.status.value) == ("same_as", "1.1", status)
    assert (event.source.id, event.target.id, event.relation_id) == ("p1", "p2", "s1")
    assert (event.properties.confidence_score, event.properties.criteria, event.properties.matcher) == \
        (0.91, "name, birth date", "logic-v2")


def test_identifiers_make_an_event_1_1_and_only_then():
    wikidata = {"id": "p1", "schema": "Person", "properties": {"name": ["Pat"], "wikidataId": ["Q42"]}}
    company = {"id": "c1", "schema": "Company", "properties": {"name": ["Acme"], "jurisdiction": ["GB"],
                                                                "registrationNumber": ["0744-4723"]}}
    stake = link("Ownership", owner=["p1"], asset=["c1"], percentage=["60"])
    [plain] = events_from_ftm([PERSON, COMPANY, stake])
    assert plain.schema_version == "1.0" and not plain.source.identifiers
    [rich] = events_from_ftm([wikidata, company, stake])
    assert rich.schema_version == "1.1"
    assert [str(i) for i in rich.source.identifiers] == ["wikidata:Q42"]
    assert [str(i) for i in rich.target.identifiers] == ["register:gb:07444723"]
    opensanctions = dict(PERSON, id="Q7747", datasets=["peps"], last_change="2024-01-01T00:00:00")
    [listed] = events_from_ftm([opensanctions, COMPANY, link("Ownership", owner=["Q7747"], asset=["c1"])])
    assert [str(i) for i in listed.source.identifiers] == ["opensanctions:Q7747", "wikidata:Q7747"]


def test_identifiers_survive_an_export_and_re_import():
    wikidata = {"id": "p1", "schema": "Person", "properties": {"name": ["Pat"], "wikidataId": ["Q42"]}}
    company = {"id": "c1", "schema": "Company", "properties": {"name": ["Acme"], "jurisdiction": ["gb"],
                                                                "registrationNumber": ["07444723"],
                                                                "leiCode": ["5493001KJTIIGC8Y1R12"]}}
    [event] = events_from_ftm([wikidata, company, link("Ownership", owner=["p1"], asset=["c1"])])
    [back] = events_from_ftm(ftm_from_events([event]), ImportDefaults())
    assert (back.source.identifiers, back.target.identifiers) == (event.source.identifiers, event.target.identifiers)
    assert [str(i) for i in back.target.identifiers] == ["lei:5493001KJTIIGC8Y1R12", "register:gb:07444723"]


# --- review18: adversarial review of the importers ---------------------------------------------------------------

_OS_META = {"datasets": ["ds"], "first_seen": "2024-01-01T00:00:00", "last_change": "2024-02-01T00:00:00"}


def test_fragments_with_clashing_schemata_are_skipped_not_a_crash():
    """Two files concatenated whose ids collide (a Person and a Company both "x1"): FtM cannot merge them. The
    import must record it and go on, not stop with InvalidData's traceback."""
    entities = [{"id": "x1", "schema": "Person", "properties": {"name": ["Anna"]}},
                {"id": "x1", "schema": "Company", "properties": {"name": ["Anna Ltd"]}},
                {"id": "c1", "schema": "Company", "properties": {"name": ["Firm"]}},
                {"id": "p1", "schema": "Person", "properties": {"name": ["Bo"]}},
                {"id": "o1", "schema": "Ownership", "properties": {"owner": ["x1"], "asset": ["c1"]}},
                {"id": "o2", "schema": "Ownership", "properties": {"owner": ["p1"], "asset": ["c1"]}}]
    report = ImportReport()
    events = list(events_from_ftm(entities, OPENSANCTIONS, report))
    assert "o2" in [e.relation_id for e in events]
    assert report.skipped, "the clash is reported"


def test_an_opensanctions_entity_with_an_over_long_id_is_skipped_not_a_crash():
    """An entity from an OpenSanctions-style export (datasets, last_change) whose id is longer than an identifier
    may be: its opensanctions identifier cannot be built; that must not stop the import with a traceback."""
    long_id = "NK-" + "a" * 210
    entities = [dict({"id": long_id, "schema": "Company", "properties": {"name": ["Firm"]}}, **_OS_META),
                dict({"id": "p1", "schema": "Person", "properties": {"name": ["Anna"]}}, **_OS_META),
                dict({"id": "o1", "schema": "Ownership", "properties": {"owner": ["p1"], "asset": [long_id]}},
                     **_OS_META)]
    report = ImportReport()
    list(events_from_ftm(entities, OPENSANCTIONS, report))
    assert len(report.skipped) == 1


def test_referent_judgements_the_worker_would_reject_are_not_emitted():
    """Every event an importer yields must pass the worker's own parse_event; a referent judgement observed in
    year 3024 (a typo in last_change) is dead-lettered by the worker, so the importer must skip and report it."""
    from schemas.ftm import referent_events

    entity = {"id": "Q1", "schema": "Person", "properties": {"name": ["Anna"]}, "referents": ["ofac-1"],
              "datasets": ["ds"], "last_change": "3024-01-01T00:00:00"}
    report = ImportReport()
    for event in referent_events(lambda: [entity], OPENSANCTIONS, report):
        parse_event(event.model_dump_json(by_alias=True, exclude_none=True).encode())


def test_no_event_exceeds_the_size_the_worker_accepts():
    """A heavily aliased entity (sanctioned people carry hundreds of spellings): the event must stay under the
    worker's max_event_bytes, or not be emitted at all (reported), never be produced to be dead-lettered."""
    names = [f"Alias number {i} of a sanctioned person, transliterated" for i in range(1500)]
    entities = [{"id": "p1", "schema": "Person", "properties": {"name": names}},
                {"id": "c1", "schema": "Company", "properties": {"name": ["Firm"]}},
                {"id": "o1", "schema": "Ownership", "properties": {"owner": ["p1"], "asset": ["c1"]}}]
    report = ImportReport()
    for event in events_from_ftm(entities, OPENSANCTIONS, report):
        parse_event(event.model_dump_json(by_alias=True, exclude_none=True).encode())


def test_a_directorship_with_long_role_texts_is_not_lost():
    """Several role values joined exceed the contract's 200 characters: the directorship (an authority
    statement) must still be imported, its role text clipped (BODS clips it too), not skipped whole."""
    entities = [{"id": "p1", "schema": "Person", "properties": {"name": ["Anna"]}},
                {"id": "c1", "schema": "Company", "properties": {"name": ["Firm"]}},
                {"id": "d1", "schema": "Directorship", "properties": {
                    "director": ["p1"], "organization": ["c1"],
                    "role": ["Member of the Supervisory Board and Chairman of the Audit Committee and of the Risk "
                             "Committee", "Member of the Remuneration Committee",
                             "Deputy Chairman of the Supervisory Board", "Member of the Nomination Committee"]}}]
    report = ImportReport()
    events = list(events_from_ftm(entities, OPENSANCTIONS, report))
    assert [e.relation_type for e in events] == [RelationType.DIRECTORSHIP], report.skipped


def test_an_unreadable_contract_date_is_noted():
    """A ContractAward's start comes from its Contract's contractDate when it has none of its own; a contractDate
    FtM drops (31.12.2019) must be noted, as the award's own unreadable dates are, not vanish silently."""
    entities = [{"id": "pb", "schema": "PublicBody", "properties": {"name": ["Ministry"]}},
                {"id": "c1", "schema": "Company", "properties": {"name": ["Firm"]}},
                {"id": "k1", "schema": "Contract", "properties": {"authority": ["pb"], "title": ["Dredging"],
                                                                   "contractDate": ["31.12.2019"]}},
                {"id": "a1", "schema": "ContractAward", "properties": {"contract": ["k1"], "supplier": ["c1"]}}]
    report = ImportReport()
    events = list(events_from_ftm(entities, OPENSANCTIONS, report))
    assert len(events) == 1 and events[0].start_date is None
    assert any("31.12.2019" in note for note in report.notes), report.notes


# --- nested FtM: entities as yente's API serves them ------------------------------------------------------------

def test_a_link_served_nested_reads_its_embedded_endpoints():
    """yente's /entities/<ownership id> embeds owner and asset as entity objects instead of ids."""
    stake = link("Ownership", owner=[PERSON], asset=[COMPANY], percentage=["60"])
    report = ImportReport()
    [event] = events_from_ftm([stake], OPENSANCTIONS, report)
    assert (event.relation_id, event.source.id, event.target.id, event.source.name) == ("l1", "p1", "c1", "Pat")
    assert event.properties.percentage == 60.0 and not report.skipped and not report.ignored


def test_a_nested_entity_gives_back_the_reference_yente_leaves_out():
    """Under the company's `ownershipAsset` (the reverse of Ownership.asset) yente leaves out the asset, the
    company itself, whenever the embedded stake has another value to show there: the parent is implied."""
    stake = link("Ownership", owner=[PERSON], percentage=["60"])
    company = dict(COMPANY, properties={**COMPANY["properties"], "ownershipAsset": [stake]})
    [event] = events_from_ftm([company], OPENSANCTIONS)
    assert (event.relation_id, event.source.id, event.target.id) == ("l1", "p1", "c1")


def test_nested_input_is_not_changed_by_the_import():
    stake = link("Ownership", owner=[PERSON], percentage=["60"])
    company = dict(COMPANY, properties={**COMPANY["properties"], "ownershipAsset": [stake]})
    before = copy.deepcopy(company)
    list(events_from_ftm([company], OPENSANCTIONS))
    assert company == before, "the same values are read three times: flattening must copy, not edit"


def test_referents_of_a_nested_entity_are_judged():
    from schemas.ftm import referent_events

    person = dict(PERSON, referents=["ofac-1"], datasets=["ds"], last_change="2024-01-01T00:00:00")
    stake = link("Ownership", owner=[person], asset=[COMPANY])
    [judgement] = referent_events(lambda: [stake], OPENSANCTIONS)
    assert (judgement.source.id, judgement.target.id) == ("ofac-1", "p1")


# --- several values on one end of a link ------------------------------------------------------------------------

PERSON_2 = {"id": "p2", "schema": "Person", "properties": {"name": ["Sam"]}}
COMPANY_2 = {"id": "c2", "schema": "Company", "properties": {"name": ["Beta"]}}


def test_joint_owners_are_one_relation_each_with_the_whole_percentage():
    """FtM cannot say which part of one percentage is whose: joint holders are each treated as holding the whole
    interest (Companies Act 2006, Sch. 1A para 11; its explanatory notes: A and B with a joint interest in 26% each
    hold 26%), and each relation gets an id of its own from the entity and the owner."""
    report = ImportReport()
    stake = link("Ownership", owner=["p2", "p1"], asset=["c1"], percentage=["60"], startDate=["2020-01-01"])
    events = list(events_from_ftm([PERSON, PERSON_2, COMPANY, stake], report=report))
    assert [(e.relation_id, e.source.id, e.target.id, e.properties.percentage, e.start_date.isoformat())
            for e in events] == [("l1:ownership:p1", "p1", "c1", 60.0, "2020-01-01"),
                                 ("l1:ownership:p2", "p2", "c1", 60.0, "2020-01-01")]
    assert any("Ownership l1" in note and "owner p1, p2" in note and "each" in note for note in report.notes), \
        report.notes
    assert events == list(events_from_ftm([PERSON, PERSON_2, COMPANY, stake])), "deterministic"


@pytest.mark.parametrize(("owners", "assets", "ids"), [
    (["p1"], ["c1", "c2"], ["l1:ownership:c1", "l1:ownership:c2"]),
    (["p1", "p2"], ["c1", "c2"], ["l1:ownership:p1:c1", "l1:ownership:p1:c2", "l1:ownership:p2:c1",
                                  "l1:ownership:p2:c2"]),
])
def test_several_values_on_either_end_give_one_relation_per_pair(owners, assets, ids):
    stake = link("Ownership", owner=owners, asset=assets)
    events = list(events_from_ftm([PERSON, PERSON_2, COMPANY, COMPANY_2, stake]))
    assert [e.relation_id for e in events] == ids


def test_one_missing_joint_owner_skips_only_its_own_relation():
    report = ImportReport()
    stake = link("Directorship", director=["p1", "p9"], organization=["c1"])
    [event] = events_from_ftm([PERSON, COMPANY, stake], report=report)
    assert event.relation_id == "l1:directorship:p1"
    [skipped] = report.skipped
    assert skipped.reason == SkipReason.MISSING_ENDPOINT and "p9" in skipped.message


def test_joint_owners_served_nested_keep_both_owners():
    """Under the first owner's `ownershipOwner`, yente's Ownership lists only the second owner (the first is
    implied): both are owners."""
    stake = link("Ownership", owner=[PERSON_2], asset=[COMPANY], percentage=["50"])
    person = dict(PERSON, properties={**PERSON["properties"], "ownershipOwner": [stake]})
    events = list(events_from_ftm([person], OPENSANCTIONS))
    assert sorted((e.relation_id, e.source.id) for e in events) == [("l1:ownership:p1", "p1"),
                                                                    ("l1:ownership:p2", "p2")]


def test_a_feed_that_adds_a_joint_owner_retracts_the_single_relation():
    from schemas.ftm import FtmFeed

    feed = FtmFeed(OPENSANCTIONS)
    for entity in (PERSON, PERSON_2, COMPANY, link("Ownership", owner=["p1"], asset=["c1"])):
        list(feed.apply({"op": "ADD", "entity": entity}))
    changed = list(feed.apply({"op": "MOD", "entity": link("Ownership", owner=["p1", "p2"], asset=["c1"])}))
    assert [(e.op.value, e.relation_id) for e in changed] == [
        ("retract", "l1"), ("upsert", "l1:ownership:p1"), ("upsert", "l1:ownership:p2")]


# --- share ranges ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("written", "percentage", "most"), [
    (["0-10%"], None, 10.0), (["under 5%"], None, 5.0), (["10-25"], 10.0, 25.0), (["25"], 25.0, None),
    (["more than 25%"], 25.0, None), (["more than 0%"], None, None),
    # of several values, the highest of each bound, and no cap when one value has none
    (["0-10%", "0-20%"], None, 20.0), (["0-10%", "more than 0%"], None, None), (["10", "0-20%"], 10.0, 20.0),
])
def test_a_share_range_keeps_its_upper_bound(written, percentage, most):
    """"0-10%" guarantees no stake, so it has no percentage; its upper bound was dropped, and the engine assumed
    25% of a stake the source said was at most 10%."""
    report = ImportReport()
    stake = link("Ownership", owner=["p1"], asset=["c1"], percentage=written)
    [event] = events_from_ftm([PERSON, COMPANY, stake], OPENSANCTIONS, report)
    assert (event.properties.percentage, event.properties.percentage_max) == (percentage, most)
    if percentage is None and most is not None:
        assert any(f"at most {most:g}%" in note for note in report.notes), report.notes


@pytest.mark.parametrize(("percentage", "most"), [(None, 0.00005), (0.00001, 0.00005), (0.00002, None),
                                                (12.5, 33.333)])
def test_a_small_share_survives_an_export_and_a_reimport(percentage, most):
    """Floats were written as Python's repr, which turns to exponent notation below 0.0001: a stake in a listed
    company of 0.00005% went out as "5e-05" (a range as "1e-05-5e-05"), which no reader takes for a number, so the
    re-import had neither bound and the engine assumed 25%."""
    properties = {name: value for name, value in (("percentage", percentage), ("percentage_max", most)) if value}
    event = RelationshipEvent.model_validate({
        "schema_version": "1.0", "event_id": "e1", "op": "upsert", "relation_id": "l1", "relation_type": "ownership",
        "source": {"id": "p1", "schema": "Person", "name": "Pat"},
        "target": {"id": "c1", "schema": "Company", "name": "Acme"}, "properties": properties,
        "observed_at": "2025-01-01T00:00:00Z",
        "provenance": {"source_url": "https://example.org/x", "publisher": "X", "retrieved_at": "2025-01-01T00:00:00Z",
                       "extractor": {"name": "test", "version": "1"}, "confidence": 0.8}})
    [back] = [e for e in events_from_ftm(ftm_from_events([event])) if e.relation_id == event.relation_id]
    assert (back.properties.percentage, back.properties.percentage_max) == (percentage, most)


@pytest.mark.parametrize(("written", "percentage"), [(["30-150"], 30.0), (["more than 30% but not more than 150%"], 30.0),
                                                    (["30-150", "40"], 40.0)])
def test_a_share_whose_top_is_beyond_100_keeps_the_share_it_guarantees(written, percentage):
    """Read as its lower bound before percentage_max (ftm-import 2.2), "30-150" was a 30% stake, and a BODS share
    from 30 to 150 still is (its maximum left out, noted); a top beyond 100 made the whole value unreadable, and the
    relation was imported without a percentage, so the engine assumed 25% of a holding declared at least 30%."""
    report = ImportReport()
    stake = link("Ownership", owner=["p1"], asset=["c1"], percentage=written)
    [event] = events_from_ftm([PERSON, COMPANY, stake], OPENSANCTIONS, report)
    assert (event.properties.percentage, event.properties.percentage_max) == (percentage, None)
    assert any("0 to 100" in note for note in report.notes), report.notes


@pytest.mark.parametrize(("percentage", "most"), [(None, 10.0), (10.0, 25.0), (25.0, None)])
def test_a_share_range_survives_an_export_and_a_reimport(percentage, most):
    """FtM writes a range as one value: `percentage` and `percentage_max` go out as "0-10" or "10-25" and come back
    as they were, not as two values of which the highest would be the percentage."""
    stake = link("Ownership", owner=["p1"], asset=["c1"],
                 percentage=["0-10%" if percentage is None else (f"{percentage:g}-{most:g}" if most else "25")])
    [event] = events_from_ftm([PERSON, COMPANY, stake], OPENSANCTIONS)
    [back] = [e for e in events_from_ftm(ftm_from_events([event])) if e.relation_id == event.relation_id]
    assert (back.properties.percentage, back.properties.percentage_max) == (percentage, most)


@pytest.mark.parametrize("amount", [1.234, 12.5, 999.999, 1234.567, 0.125])
def test_an_amount_with_three_decimals_survives_an_export_and_a_reimport(amount):
    """An amount of 1.234 (a dinar amount has three decimals) went out as "1.234", which the importer reads the way
    real data writes a thousand ("1.234" = 1234): the re-import was a thousand times larger."""
    event = RelationshipEvent.model_validate({
        "schema_version": "1.0", "event_id": "e1", "op": "upsert", "relation_id": "l1", "relation_type": "payment",
        "source": {"id": "c1", "schema": "Company", "name": "Acme"},
        "target": {"id": "p1", "schema": "Person", "name": "Pat"},
        "properties": {"amount": amount, "currency": "KWD"}, "observed_at": "2025-01-01T00:00:00Z",
        "provenance": {"source_url": "https://example.org/x", "publisher": "X", "retrieved_at": "2025-01-01T00:00:00Z",
                       "extractor": {"name": "test", "version": "1"}, "confidence": 0.8}})
    [back] = [e for e in events_from_ftm(ftm_from_events([event])) if e.relation_id == event.relation_id]
    assert (back.properties.amount, back.properties.currency) == (amount, "KWD")
