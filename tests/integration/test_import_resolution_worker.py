"""Two sources imported with `coi-risk import --produce` into the live worker: a PEP file and a BODS register name
one person and one company under their own ids with the same Wikidata QID and Companies House number. The worker
merges them by those identifiers and raises the conflict neither file shows alone, with the merges in the alert.
Real broker, real worker subprocess, real command line."""

from __future__ import annotations

import pytest

from streams.testing import REPO_ROOT
from tests.integration.conftest import read_topic
from tests.integration.test_import_produce import import_and_produce

pytestmark = pytest.mark.kafka

OURS = REPO_ROOT / "tests" / "fixtures" / "ours"
PAIR = ("owner-1", "harbourline")  # the smallest member id of each merged entity


def test_identifiers_from_two_imports_merge_in_the_worker_and_raise_one_alert(pipeline):
    settings, start_worker = pipeline
    start_worker()
    assert "sent 3 events" in import_and_produce(settings, OURS / "mixed-pep.ftm.json")
    assert "sent 1 events" in import_and_produce(settings, OURS / "mixed-stake.bods.json")

    def raised(items) -> bool:
        return any((a["actor_id"], a["counterparty_id"]) == PAIR and a["state"] == "raised" for _, a in items)

    alerts = [alert for _, alert in read_topic(settings, settings.alerts_topic, raised)]
    [alert] = [a for a in alerts if (a["actor_id"], a["counterparty_id"]) == PAIR]
    assert "COI-AUTH-OWNERSHIP" in alert["rules"]
    assert set(alert["actor_merged_ids"]) == {"owner-1", "pep-mara-vidal"}
    assert set(alert["counterparty_merged_ids"]) == {"harbourline", "tender-harbourline"}
    assert {e["identifier"] for note in alert["merges"] for e in note["evidence"]} == \
        {"wikidata:Q99999901", "register:gb:09876543"}
    assert len(alerts) == 1, "neither source alone raised anything"
