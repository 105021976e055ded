"""`ResolvingEngine.load` (bulk: graph first, one rebuild) ends in the state that applying the events one by one
reaches, merges and their retractions included."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from schemas import parse_event
from scoring.resolution import ResolvingEngine

REPO = Path(__file__).resolve().parents[3]
BOOKKEEPING = ("trigger_event_id", "input_offsets", "graph_version")


def content(score) -> dict:
    return {k: v for k, v in score.model_dump(mode="json").items() if k not in BOOKKEEPING}


def events() -> list:
    lines = []
    for name in ("binance-wlfi.jsonl", "resolution/register.jsonl", "resolution/news.jsonl",
                 "resolution/judgements.jsonl"):
        lines += (REPO / "examples" / name).read_text().splitlines()
    lines += subprocess.run([sys.executable, "bench/synthetic.py", "400"], cwd=REPO, capture_output=True, text=True,
                            check=True).stdout.splitlines()
    return [parse_event(line.encode()) for line in lines if line.strip()]


def test_bulk_load_equals_one_by_one_with_merges():
    stream = events()
    one_by_one = ResolvingEngine()
    for number, event in enumerate(stream):
        one_by_one.apply(event, offset=f"0:{number}")
    bulk = ResolvingEngine()
    changes = bulk.load([(event, f"0:{number}") for number, event in enumerate(stream)])
    expected = [content(s) for s in one_by_one.scores()]
    assert [content(s) for s in bulk.scores()] == expected != []
    assert any(s["merges"] for s in expected), "the data merges ids: the bulk path must show them too"
    # from an empty engine, the changes are every final score, merges restored
    final = {(s.actor_id, s.counterparty_id): content(s) for s in bulk.scores()}
    assert {c.key: content(c.new) for c in changes if c.new is not None} == final
    # a retraction of the analyst's judgement after the bulk load un-merges as it would have live
    judgement = next(e for e in stream if e.relation_type.value == "same_as")
    retract = judgement.model_copy(update={"op": "retract", "event_id": judgement.event_id + "-retract",
                                           "observed_at": max(e.observed_at for e in stream)})
    one_by_one.apply(retract)
    bulk.apply(retract)
    assert [content(s) for s in bulk.scores()] == [content(s) for s in one_by_one.scores()]
