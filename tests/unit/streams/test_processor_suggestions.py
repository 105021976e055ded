"""The processor with a matcher: proposed merges for new entities go out on the suggestions role, keyed by the
suggestion's relation id, and a confirmed judgement of one merges the two ids."""

from __future__ import annotations

import json

from scoring import AlertTracker, Engine, ScoringConfig
from scoring.matching import Matcher
from scoring.resolution import ResolvingEngine
from streams.processor import EventProcessor, InputRecord

PROVENANCE = {"source_url": "https://example.org/a", "publisher": "Example", "retrieved_at": "2025-01-01T00:00:00Z",
              "extractor": {"name": "test", "version": "1"}, "confidence": 1.0}


COMPANIES = {1: "Nordic Timber AB", 2: "Baltic Shipping AS", 3: "Lake Foods Oy"}


def record(offset: int, document: dict) -> InputRecord:
    return InputRecord(value=json.dumps(document).encode(), key=document["relation_id"].encode(),
                       topic="coi-relationship-events", partition=0, offset=offset)


def ownership(number: int, owner: dict) -> dict:
    return {"schema_version": "1.0", "event_id": f"e{number}", "relation_id": f"r{number}",
            "relation_type": "ownership", "source": owner,
            "target": {"id": f"company-{number}", "schema": "Company", "name": COMPANIES[number]},
            "observed_at": f"2025-01-0{number}T00:00:00Z", "provenance": PROVENANCE}


def test_new_entities_get_suggestions_and_a_confirmation_merges_them():
    config = ScoringConfig.load()
    processor = EventProcessor(ResolvingEngine(Engine(config), matcher=Matcher()), AlertTracker(config))
    first = processor.process(record(0, ownership(1, {"id": "anna-1", "schema": "Person", "name": "Anna Lindqvist"})))
    assert [out.role for out in first.outbound] == []
    second = processor.process(record(1, ownership(2, {"id": "anna-2", "schema": "Person",
                                                        "name": "Anna Lindquist"})))
    proposals = [out for out in second.outbound if out.role == "suggestions"]
    assert len(proposals) == 1
    proposal = json.loads(proposals[0].value)
    assert proposals[0].key == proposal["relation_id"].encode()
    assert proposal["status"] == "proposed" and {proposal["source"]["id"], proposal["target"]["id"]} == {
        "anna-1", "anna-2"}
    assert processor.engine.canonical("anna-2") == "anna-2"  # proposed only
    # the analyst's confirmation comes back through the input topic as a later version of the proposal
    confirmed = {**proposal, "event_id": "review-1", "status": "confirmed", "observed_at": "2025-02-01T00:00:00Z"}
    outcome = processor.process(record(2, confirmed))
    assert outcome.rejected is None and processor.engine.canonical("anna-2") == "anna-1"
    # a third id of the same name is proposed against the merged entity's ids only once per pair, never re-proposed
    third = processor.process(record(3, ownership(3, {"id": "anna-3", "schema": "Person", "name": "Anna Lindqvist"})))
    pairs = {tuple(sorted((json.loads(o.value)["source"]["id"], json.loads(o.value)["target"]["id"])))
             for o in third.outbound if o.role == "suggestions"}
    assert pairs == {("anna-1", "anna-3"), ("anna-2", "anna-3")}
