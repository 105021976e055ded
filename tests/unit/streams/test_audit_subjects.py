"""Audit reports of alert cases and of merged ids (found by a time and alert-lifecycle review)."""

from __future__ import annotations

import json

from scoring import AlertTracker, Engine, ScoringConfig
from streams.processor import EventProcessor, InputRecord
from streams.replay import ReplayItem

PROVENANCE = {"source_url": "https://example.org/a", "publisher": "Example", "retrieved_at": "2025-01-01T00:00:00Z",
              "extractor": {"name": "test", "version": "1"}, "confidence": 1.0}
MINISTER = {"id": "minister", "schema": "Person", "name": "Minister", "topics": ["role.pep"]}
REGULATOR = {"id": "regulator", "schema": "PublicBody", "name": "Regulator"}
DAUGHTER = {"id": "daughter", "schema": "Person", "name": "Daughter"}
HOLDCO = {"id": "media-holding", "schema": "Company", "name": "Media Holding"}
BROADCASTER = {"id": "broadcaster", "schema": "Company", "name": "National Broadcaster"}


def relation(number: int, kind: str, source: dict, target: dict, op: str = "upsert", **properties) -> dict:
    return {"schema_version": "1.1", "event_id": f"e{number}", "relation_id": f"{source['id']}-{kind}-{target['id']}",
            "relation_type": kind, "op": op, "source": source, "target": target, "properties": properties,
            "observed_at": f"2025-01-{number:02d}T00:00:00Z", "provenance": PROVENANCE}


def processed(documents: list[dict]) -> tuple[EventProcessor, list[ReplayItem]]:
    config = ScoringConfig.load()
    processor = EventProcessor(Engine(config), AlertTracker(config))
    items = []
    for offset, document in enumerate(documents):
        record = InputRecord(json.dumps(document).encode(), document["relation_id"].encode(), "events", 0, offset)
        items.append(ReplayItem(record, processor.process(record), True))
    return processor, items


def planted_case() -> list[dict]:
    """The KEK-like case of tests/unit/scoring/test_alert_cases.py: one alert, keyed by the broadcaster, whose
    related parties are the holding company and the daughter; then the regulator's power ends (resolved)."""
    return [relation(1, "control", MINISTER, REGULATOR), relation(2, "regulates", REGULATOR, BROADCASTER),
            relation(3, "family", DAUGHTER, MINISTER), relation(4, "ownership", DAUGHTER, HOLDCO, percentage=100),
            relation(5, "ownership", HOLDCO, BROADCASTER, percentage=60),
            relation(6, "regulates", REGULATOR, BROADCASTER, op="retract")]


def test_the_audit_of_a_related_party_shows_the_alert_of_its_case():
    from streams.audit import build_report

    _, items = processed(planted_case())
    alerts = [json.loads(out.value) for item in items for out in item.outcome.outbound if out.role == "alerts"]
    assert [(a["state"], a["case_id"]) for a in alerts] == [("raised", "broadcaster"), ("resolved", "broadcaster")]
    assert "media-holding" in {p["id"] for p in alerts[0]["related_parties"]}
    # the pair minister x media-holding alerted (the scores topic says high or above) and is a party of the alert
    report = build_report(items, pair=("minister", "media-holding"))
    assert any(entry["band"] in ("high", "critical") for entry in report["timeline"])
    assert [t["state"] for t in report["alert_transitions"]] == ["raised", "resolved"]
    by_entity = build_report(items, entity="media-holding")
    assert [t["state"] for t in by_entity["alert_transitions"]] == ["raised", "resolved"]


def test_the_audit_as_of_a_date_finds_a_merged_id_as_its_timeline_does(tmp_path, monkeypatch):
    import streams.replay as replay_module
    from streams.cli import main

    minister = {"id": "reg-minister", "schema": "Person", "name": "Jan Kowalski", "topics": ["role.pep"]}
    news = {"id": "news-kowalski", "schema": "Person", "name": "Jan Kowalski"}
    bank = {"id": "bank", "schema": "Company", "name": "Big Bank"}
    vendor = {"id": "vendor", "schema": "Company", "name": "Vendor Ltd"}
    judgement = {**relation(9, "same_as", minister, news), "status": "confirmed",
                 "properties": {"matcher": "analyst"}, "relation_id": "same-k"}
    processor, items = processed([relation(1, "control", minister, REGULATOR), relation(2, "regulates", REGULATOR, bank),
                                  relation(3, "ownership", news, vendor, percentage=100),
                                  relation(4, "payment", bank, vendor, amount=1e6, currency="USD"), judgement])
    assert processor.engine.canonical("reg-minister") == "news-kowalski"
    monkeypatch.setattr(replay_module, "new_processor", lambda settings: processor)
    monkeypatch.setattr(replay_module, "replay", lambda settings, start, end, proc, summary, *rest: iter(items))
    assert main(["audit", "--entity", "reg-minister", "--as-of", "2025-01-05", "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["timeline"]  # the merged id is found in the scores...
    assert [(s["actor_id"], s["counterparty_id"]) for s in report["as_of_scores"]] == [("news-kowalski", "bank")]
