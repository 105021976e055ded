"""Resolution on real ground truth: yente's test entities carry `referents`, the source records OpenSanctions
merged into each of its entities (tests/fixtures/README.md). Every source record becomes its own id in the graph;
importing OpenSanctions' merges as judgements (or as the shared `opensanctions` identifier) must give exactly one
canonical node per OpenSanctions entity, and no node that mixes two of them."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from schemas.events import Op, RelationshipEvent
from schemas.identifiers import identifiers_from_ftm, referent_judgements
from scoring import ScoringConfig
from scoring.resolution import ResolvingEngine

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "yente" / "t1-entities.ftm.json"
WHEN = dt.datetime(2024, 5, 27, 13, 47, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def entities() -> list[dict]:
    found = [json.loads(line) for line in FIXTURE.read_text().splitlines() if line.strip()]
    return [e for e in found if e["schema"] in ("Person", "Organization")]  # the parties; addresses are not


def source_names(entity: dict) -> dict[str, str]:
    """Each source record under one of the entity's names (they differ by source and script)."""
    names = sorted(entity["properties"]["name"])
    return {referent: names[number % len(names)] for number, referent in enumerate(sorted(entity["referents"]))}


def listings(entity: dict, with_identifier: bool = False) -> list[RelationshipEvent]:
    """What each source states on its own: its record is a member of its list (named after the dataset)."""
    events = []
    for referent, name in source_names(entity).items():
        dataset = "-".join(referent.split("-")[:2])
        source = {"id": referent, "schema": entity["schema"], "name": name}
        if with_identifier:
            source["identifiers"] = [{"scheme": "opensanctions", "value": entity["id"]}]
        events.append(RelationshipEvent.model_validate({
            "schema_version": "1.1", "event_id": f"listing-{referent}", "relation_id": f"listing-{referent}",
            "relation_type": "membership", "source": source,
            "target": {"id": f"list-{dataset}", "schema": "Organization", "name": f"List {dataset}"},
            "properties": {"role": "listed"}, "observed_at": WHEN.isoformat(),
            "provenance": {"source_url": f"https://example.org/{dataset}", "publisher": dataset,
                           "retrieved_at": WHEN.isoformat(), "extractor": {"name": "list", "version": "1"},
                           "confidence": 1.0}}))
    return events


def party_nodes(layer: ResolvingEngine) -> set[str]:
    graph = layer.engine.graph
    return {rec.source for rec in graph.relations()}


def test_without_judgements_every_source_record_is_its_own_node(entities):
    layer = ResolvingEngine(ScoringConfig.load())
    for entity in entities:
        layer.apply_many(listings(entity))
    assert party_nodes(layer) == {r for e in entities for r in e["referents"]}


def test_referents_as_judgements_give_one_canonical_node_per_opensanctions_entity(entities):
    layer = ResolvingEngine(ScoringConfig.load())
    judgements = [j for e in entities for j in referent_judgements(
        e, publisher="OpenSanctions", source_url="https://www.opensanctions.org/", observed_at=WHEN,
        names=source_names(e))]
    events = [event for e in entities for event in listings(e)]
    for event in events[::2] + judgements + events[1::2]:  # judgements arrive between the source records
        layer.apply(event)
    assert party_nodes(layer) == {e["id"] for e in entities}
    for entity in entities:
        members = set(layer.clusters.members(entity["id"]))
        assert members == {entity["id"], *entity["referents"]}
        assert all(layer.canonical(r) == entity["id"] for r in entity["referents"])
    # withdrawing one merge takes exactly that record out again
    entity = entities[0]
    withdrawn = next(j for j in judgements if j.source.id == sorted(entity["referents"])[0])
    layer.apply(withdrawn.model_copy(update={"event_id": "withdraw-1", "op": Op.RETRACT,
                                             "observed_at": WHEN + dt.timedelta(days=1)}))
    assert party_nodes(layer) == {e["id"] for e in entities} | {withdrawn.source.id}


def test_the_shared_opensanctions_identifier_merges_the_same_records(entities):
    layer = ResolvingEngine(ScoringConfig.load())
    for entity in entities:
        layer.apply_many(listings(entity, with_identifier=True))
    # no record carries the OpenSanctions id itself, so each cluster's smallest referent is canonical
    assert party_nodes(layer) == {min(e["referents"]) for e in entities}
    for entity in entities:
        assert set(layer.clusters.members(min(entity["referents"]))) == set(entity["referents"])
        evidence = layer.cluster(entity["referents"][0])["merged_by"]
        assert {e["identifier"] for e in evidence} == {f"opensanctions:{entity['id']}"}


def test_identifiers_from_ftm_reads_the_register_number_in_its_country(entities):
    inter_tobacco = next(e for e in entities if e["id"] == "NK-2GdmHtZTeNXjNVrBGEXZNj")
    assert [str(i) for i in identifiers_from_ftm(inter_tobacco)] == ["register:by:808000714"]
    problems: list[str] = []
    odd = {"id": "x", "properties": {"wikidataId": ["Q42", "not-a-qid"], "registrationNumber": ["123"],
                                     "leiCode": ["5493001kjtiigc8y1r12"]}}
    assert [str(i) for i in identifiers_from_ftm(odd, problems)] == ["lei:5493001KJTIIGC8Y1R12", "wikidata:Q42"]
    assert len(problems) == 2 and "jurisdiction" in problems[0] + problems[1]
