"""ESMA's real MiCA register imported with `coi-risk import --produce` into the live worker: a (fictional) executive
director of Austria's Financial Market Authority whose spouse holds 30% of an exchange (named by its LEI in a
disclosure) has no conflict the worker can see until the register says the FMA licensed that exchange; then the
alert is raised, the exchange of the disclosure and the register's firm one entity by their shared LEI. Real
broker, real worker subprocess, real command line."""

from __future__ import annotations

import pytest

from streams.testing import REPO_ROOT
from tests.integration.conftest import read_topic
from tests.integration.test_import_produce import import_and_produce

pytestmark = pytest.mark.kafka

FIXTURES = REPO_ROOT / "tests" / "fixtures"
OFFICIAL = "fma-director"
EXCHANGE = {"exchange-eu", "mica-lei-5299005V5GBSN2A4C303"}  # the disclosure's id, the register's id: one entity


def test_the_registers_licence_raises_the_conflict_in_the_live_worker(pipeline):
    settings, start_worker = pipeline
    start_worker()
    summary = import_and_produce(settings, FIXTURES / "ours" / "mica-official.ftm.json")
    assert "sent 4 events" in summary
    summary = import_and_produce(settings, FIXTURES / "mica" / "esma_casps_2026-08-17.csv")
    assert "sent 324 events" in summary and "import (mica): converted 324" in summary
    alerts = read_topic(settings, settings.alerts_topic,
                        lambda items: any(a["actor_id"] == OFFICIAL and a["counterparty_id"] in EXCHANGE
                                          for _, a in items))
    [raised] = [a for _, a in alerts if a["actor_id"] == OFFICIAL and a["counterparty_id"] in EXCHANGE]
    assert raised["state"] == "raised" and raised["rules"] == ["COI-AUTH-OWNERSHIP"]
    scores = read_topic(settings, settings.scores_topic,
                        lambda items: any(s.get("actor_id") == OFFICIAL and s.get("counterparty_id") in EXCHANGE
                                          for _, s in items))
    score = [s for _, s in scores if s.get("actor_id") == OFFICIAL and s.get("counterparty_id") in EXCHANGE][-1]
    regulating = [edge for path in score["authority_paths"] for edge in path["edges"]
                  if edge["relation_type"] == "regulates"]
    assert [(edge["source_id"], edge["target_id"] in EXCHANGE) for edge in regulating] == \
        [("mica-authority-at-fma", True)]
    assert {item["source_url"] for edge in regulating for item in edge["evidence"]} == \
        {"https://www.esma.europa.eu/sites/default/files/2024-12/CASPS.csv"}
