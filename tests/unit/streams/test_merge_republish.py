"""The scores topic is compacted by pair: its last message per pair must be the pair's current score, merges
included. A merge (or its retraction) that changes who a scored entity is, but not the engine's score, changed the
score's `*_merged_ids` and `merges` without publishing it (found by a random-stream review of the processor)."""

from __future__ import annotations

import json

from tests.unit.streams.test_processor import SEED, make_processor, record


def judgement(event_id: str, op: str = "upsert", observed_at: str = "2025-05-27T00:00:00Z") -> bytes:
    return json.dumps({
        "schema_version": "1.1", "event_id": event_id, "op": op, "relation_id": "same-cz-os-cz",
        "relation_type": "same_as", "status": "confirmed", "properties": {"matcher": "analyst"},
        "source": {"id": "cz", "schema": "Person", "name": "Changpeng Zhao"},
        "target": {"id": "os-cz", "schema": "Person", "name": "Zhao Changpeng"},
        "observed_at": observed_at,
        "provenance": {"source_url": "https://example.org/review", "publisher": "Analyst desk",
                       "retrieved_at": "2025-06-01T00:00:00Z", "extractor": {"name": "review", "version": "1"},
                       "confidence": 1.0}}).encode()


def seeded():
    """A processor fed the seed scenario, the last score it published per pair, and how to feed it more."""
    processor, _ = make_processor()
    published: dict[bytes, dict] = {}

    def feed(value: bytes, offset: int) -> None:
        for out in processor.process(record(value, offset)).outbound:
            if out.role == "scores":
                published[out.key] = json.loads(out.value)

    for offset, line in enumerate(SEED.read_bytes().splitlines()):
        feed(line, offset)
    return processor, published, feed


def test_the_last_published_score_of_a_pair_shows_the_merges_of_its_ends():
    processor, published, feed = seeded()
    assert published[b"trump|cz"]["counterparty_merged_ids"] == []

    feed(judgement("j-1"), 100)  # cz = os-cz: an id no relation names yet
    assert processor.engine.score("trump", "cz").counterparty_merged_ids == ("cz", "os-cz")
    assert published[b"trump|cz"]["counterparty_merged_ids"] == ["cz", "os-cz"]
    assert published[b"trump|cz"]["merges"][0]["member_ids"] == ["cz", "os-cz"]
    assert published[b"trump|cz"]["trigger_event_id"] == "j-1"  # what an auditor follows back to the input

    feed(judgement("j-2", op="retract", observed_at="2025-05-28T00:00:00Z"), 101)  # and withdrawn
    assert processor.engine.score("trump", "cz").counterparty_merged_ids == ()
    assert published[b"trump|cz"]["counterparty_merged_ids"] == []
    assert published[b"trump|cz"]["merges"] == []


def test_a_second_reason_for_a_merge_is_published_too():
    """The members stay the same, the evidence of the merge (`merges[].evidence`) grows."""
    processor, published, feed = seeded()
    feed(judgement("j-1"), 100)
    second = json.loads(judgement("j-3"))
    second["relation_id"] = "same-cz-os-cz-by-registry"
    feed(json.dumps(second).encode(), 101)
    evidence = [e["event_id"] for e in processor.engine.score("trump", "cz").merges[0].model_dump()["evidence"]]
    assert evidence == ["j-1", "j-3"]
    assert [e["event_id"] for e in published[b"trump|cz"]["merges"][0]["evidence"]] == evidence


def test_graph_version_counts_what_the_engine_applied_as_the_contract_says():
    """`graph_version` was documented as the number of distinct events applied; behind the resolution layer (the
    worker's) a judgement is not applied to the engine and every relation a merge re-sends is: 29 seed events and
    one judgement moving cz's five relations publish graph_version 34. The contract says what it counts."""
    from schemas.outputs import RiskScore

    processor, published, feed = seeded()
    assert published[b"trump|cz"]["graph_version"] == 29  # no merge yet: the seed's 29 events
    feed(judgement("j-1").replace(b'"os-cz"', b'"a-cz"'), 100)  # cz = a-cz: canonical a-cz, cz's relations re-sent
    assert published[b"trump|a-cz"]["graph_version"] == 29 + 5
    description = RiskScore.model_fields["graph_version"].description
    assert "re-sen" in description and "judgement" in description
    assert json.loads((SEED.parents[1] / "schemas" / "json" / "risk-score.json").read_text())["properties"][
        "graph_version"]["description"] == description
