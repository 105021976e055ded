"""Entity resolution through the worker on the real broker: two sources name one minister with their own ids; a
`same_as` judgement on the input topic raises the conflict neither source shows alone, `GET /entities/ID` shows the
cluster, and the judgement's retraction resolves the alert."""

from __future__ import annotations

import json

import pytest

from tests.integration.conftest import produce_with_cli, read_topic

pytestmark = pytest.mark.kafka

PROVENANCE = {"source_url": "https://example.org/a", "publisher": "Example Register", "retrieved_at":
              "2025-05-01T00:00:00Z", "extractor": {"name": "test", "version": "1"}, "confidence": 1.0}
MINISTER_REGISTER = {"id": "reg-minister-7", "schema": "Person", "name": "Jan Kowalski",
                     "topics": ["role.pep", "gov.national"]}
MINISTER_NEWS = {"id": "news-jan-kowalski", "schema": "Person", "name": "Jan Kowalski"}
REGULATOR = {"id": "regulator", "schema": "PublicBody", "name": "Financial Regulator"}
BANK = {"id": "bank", "schema": "Company", "name": "Big Bank"}
VENDOR = {"id": "vendor", "schema": "Company", "name": "Vendor Ltd"}


def event(number: int, relation_type: str, source: dict, target: dict, **extra) -> dict:
    return {"schema_version": "1.1", "event_id": f"ev-{number}", "relation_id": extra.pop("relation_id", f"r-{number}"),
            "relation_type": relation_type, "source": source, "target": target,
            "observed_at": f"2025-05-01T00:{number:02d}:00Z", "provenance": PROVENANCE, **extra}


def write(path, events) -> None:
    path.write_text("".join(json.dumps(e) + "\n" for e in events))


def alerts_for(items, pair, state) -> bool:
    return any((a["actor_id"], a["counterparty_id"]) == pair and a["state"] == state for _, a in items)


def test_a_judgement_on_the_input_topic_merges_and_its_retraction_unmerges(pipeline, tmp_path):
    settings, start_worker = pipeline
    worker = start_worker()
    sources = [event(1, "control", MINISTER_REGISTER, REGULATOR), event(2, "regulates", REGULATOR, BANK),
               event(3, "ownership", MINISTER_NEWS, VENDOR, properties={"percentage": 100}),
               event(4, "payment", BANK, VENDOR, properties={"amount": 3e6, "currency": "USD"})]
    judgement = event(5, "same_as", MINISTER_REGISTER, MINISTER_NEWS, relation_id="same-kowalski",
                      properties={"matcher": "analyst", "criteria": "same person (register and interview)"})
    write(tmp_path / "sources.jsonl", sources)
    write(tmp_path / "judgement.jsonl", [judgement])
    produce_with_cli(settings, tmp_path / "sources.jsonl")
    produce_with_cli(settings, tmp_path / "judgement.jsonl")
    pair = ("news-jan-kowalski", "bank")
    alerts = read_topic(settings, settings.alerts_topic, lambda items: alerts_for(items, pair, "raised"))
    raised = [a for _, a in alerts if (a["actor_id"], a["counterparty_id"]) == pair]
    assert raised[0]["trigger_event_id"] == "ev-5"
    assert raised[0]["actor_merged_ids"] == ["news-jan-kowalski", "reg-minister-7"]
    assert "by judgement event ev-5 from Example Register" in raised[0]["merges"][0]["text"]
    assert all(a["actor_id"] != "reg-minister-7" for _, a in alerts)  # nothing scored before the merge

    cluster = worker.json("/entities/reg-minister-7")
    assert cluster["canonical_id"] == "news-jan-kowalski"
    assert [m["id"] for m in cluster["members"]] == ["news-jan-kowalski", "reg-minister-7"]
    assert cluster["merged_by"][0]["event_id"] == "ev-5"

    write(tmp_path / "retraction.jsonl", [{**judgement, "event_id": "ev-6", "op": "retract",
                                           "observed_at": "2025-05-02T00:00:00Z"}])
    produce_with_cli(settings, tmp_path / "retraction.jsonl")
    read_topic(settings, settings.alerts_topic, lambda items: alerts_for(items, pair, "resolved"))
    assert worker.json("/entities/reg-minister-7")["canonical_id"] == "reg-minister-7"
