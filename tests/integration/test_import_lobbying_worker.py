"""Real lobbying disclosures imported with `coi-risk import --produce` into the live worker: a (fictional) secretary
of Veterans Affairs whose spouse holds 30% of Microsoft, which his department contracts with, is a conflict; the
Senate's real filings of Microsoft's lobbying of Veterans Affairs, imported after, aggravate it (`COI-LOBBY`), and
the worker's published score cites them. Real broker, real worker subprocess, real command line."""

from __future__ import annotations

import pytest

from streams.testing import REPO_ROOT
from tests.integration.conftest import read_topic
from tests.integration.test_import_produce import import_and_produce

pytestmark = pytest.mark.kafka

FIXTURES = REPO_ROOT / "tests" / "fixtures"
PAIR = ("va-secretary", "lda-client-f43b260c65382b8b81f5")  # the FtM file names Microsoft by its LDA client id


def scores_of(items) -> list[dict]:
    return [score for _, score in items if (score.get("actor_id"), score.get("counterparty_id")) == PAIR]


def test_a_clients_lobbying_of_the_officials_department_reaches_the_live_score(pipeline):
    settings, start_worker = pipeline
    start_worker()
    assert "sent 5 events" in import_and_produce(settings, FIXTURES / "ours" / "lda-official.ftm.json")
    alerts = read_topic(settings, settings.alerts_topic,
                        lambda items: any((a["actor_id"], a["counterparty_id"]) == PAIR for _, a in items))
    [raised] = [a for _, a in alerts if (a["actor_id"], a["counterparty_id"]) == PAIR]
    assert raised["state"] == "raised" and raised["rules"] == ["COI-AUTH-OWNERSHIP"]

    summary = import_and_produce(settings, FIXTURES / "lda" / "senate_filings_registrant_401104726_page1.json")
    assert "sent 95 events" in summary and "import (lda): converted 90; retracted 5" in summary
    scores = read_topic(settings, settings.scores_topic,
                        lambda items: any("COI-LOBBY" in s["rules"] for s in scores_of(items)))
    lobbied = [s for s in scores_of(scores) if "COI-LOBBY" in s["rules"]][-1]
    assert lobbied["score"] > [s for s in scores_of(scores) if "COI-LOBBY" not in s["rules"]][0]["score"]
    edges = [edge for path in (*lobbied["authority_paths"], *lobbied["commercial_paths"]) for edge in path["edges"]
             if edge["relation_type"] == "lobbies"]
    assert {(e["source_id"], e["target_id"]) for e in edges} == {(PAIR[1], "lda-government-entity-42")}
    assert {item["publisher"] for e in edges for item in e["evidence"]} == {
        "U.S. Senate Office of Public Records (Lobbying Disclosure Act)"}
