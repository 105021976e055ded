"""Entity resolution through the worker on the real broker: two sources name one minister with their own ids; a
`same_as` judgement on the input topic raises the conflict neither source shows alone, `GET /entities/ID` shows the
cluster, and the judgement's retraction resolves the alert."""

from __future__ import annotations

import json
import time

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


def test_the_review_loop_on_the_broker_suggestion_then_confirmation(pipeline, tmp_path):
    """With suggest_merges the worker proposes a merge on the suggestions topic; `coi-risk review --produce`
    turns the analyst's "y" into a judgement on the input topic, and the worker merges the two ids."""
    import subprocess
    import sys

    from streams.testing import REPO_ROOT, WorkerProcess
    from streams.topics import ensure_topics

    settings, _ = pipeline
    settings = settings.model_copy(update={"suggest_merges": True,
                                           "suggestions_topic": f"{settings.app_id}.suggestions"})
    ensure_topics(settings)
    worker = WorkerProcess(settings, tmp_path / "worker-suggest.log",
                           extra_env={"COI_SUGGEST_MERGES": "true",
                                      "COI_SUGGESTIONS_TOPIC": settings.suggestions_topic})
    try:
        worker.start()
        anna = {"id": "anna-lindqvist-1", "schema": "Person", "name": "Anna Lindqvist"}
        anna_again = {"id": "register-4711", "schema": "Person", "name": "Anna Lindquist"}
        events = [event(1, "ownership", anna, VENDOR, properties={"percentage": 60}),
                  event(2, "directorship", anna_again, BANK)]
        write(tmp_path / "events.jsonl", events)
        produce_with_cli(settings, tmp_path / "events.jsonl")
        proposals = read_topic(settings, settings.suggestions_topic, lambda items: len(items) >= 1)
        proposal = proposals[0][1]
        assert proposal["status"] == "proposed" and proposals[0][0] == proposal["relation_id"].encode()
        assert {proposal["source"]["id"], proposal["target"]["id"]} == {"anna-lindqvist-1", "register-4711"}
        write(tmp_path / "suggestions.jsonl", [proposal])
        review = subprocess.run(
            [sys.executable, "-m", "streams.cli", "review", str(tmp_path / "events.jsonl"),
             str(tmp_path / "suggestions.jsonl"), "--analyst", "A. Analyst", "--produce",
             "--bootstrap-servers", settings.bootstrap_servers, "--topic", settings.events_topic],
            cwd=REPO_ROOT, input="y\n", capture_output=True, text=True, timeout=120)
        assert review.returncode == 0, review.stderr
        assert "published 1 judgements" in review.stderr and "Anna Lindquist (register-4711" in review.stderr
        deadline = time.monotonic() + 60
        while worker.json("/entities/register-4711")["canonical_id"] != "anna-lindqvist-1":
            assert time.monotonic() < deadline, "the worker did not merge the confirmed pair"
            time.sleep(0.5)
        cluster = worker.json("/entities/register-4711")
        assert cluster["merged_by"][0]["publisher"] == "A. Analyst"
    finally:
        worker.stop()
