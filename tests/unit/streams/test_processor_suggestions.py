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


COMPANIES = {1: "Nordic Timber AB", 2: "Baltic Shipping AS", 3: "Lake Foods Oy", 4: "Fjord Mining ASA"}


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


def test_the_audit_of_a_merged_id_shows_the_judgement_like_an_edge():
    from streams.audit import build_report, render_html, render_markdown
    from streams.replay import ReplayItem

    config = ScoringConfig.load()
    processor = EventProcessor(Engine(config), AlertTracker(config))
    minister = {"id": "reg-minister", "schema": "Person", "name": "Jan Kowalski", "topics": ["role.pep"]}
    news = {"id": "news-kowalski", "schema": "Person", "name": "Jan Kowalski"}
    regulator = {"id": "regulator", "schema": "PublicBody", "name": "Regulator"}
    bank = {"id": "bank", "schema": "Company", "name": "Big Bank"}
    vendor = {"id": "vendor", "schema": "Company", "name": "Vendor Ltd"}
    documents = [("control", minister, regulator, {}), ("regulates", regulator, bank, {}),
                 ("ownership", news, vendor, {"percentage": 100}),
                 ("payment", bank, vendor, {"amount": 1e6, "currency": "USD"})]
    items = []
    for number, (kind, source, target, props) in enumerate(documents, start=1):
        document = {**ownership(number, source), "relation_type": kind, "target": target, "properties": props}
        rec = record(number, document)
        items.append(ReplayItem(rec, processor.process(rec), True))
    judgement = {"schema_version": "1.1", "event_id": "judge-k", "relation_id": "same-k", "relation_type": "same_as",
                 "source": minister, "target": news, "status": "confirmed",
                 "properties": {"matcher": "analyst", "criteria": "same man, register and interview"},
                 "observed_at": "2025-01-09T00:00:00Z", "provenance": {**PROVENANCE, "publisher": "Research desk"}}
    rec = record(9, judgement)
    items.append(ReplayItem(rec, processor.process(rec), True))
    report = build_report(items, entity="reg-minister")  # the id the register uses, merged into the other
    assert [t["state"] for t in report["alert_transitions"]] == ["raised"]
    markdown = render_markdown(report)
    assert "merged: news-kowalski stands for news-kowalski, reg-minister" in markdown
    assert "same_as judgement event `judge-k`, Research desk" in markdown
    assert "criteria: same man, register and interview" in markdown
    assert "judge-k" in render_html(report)
