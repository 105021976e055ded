"""The UK Commons' real register of interests imported with `coi-risk import --produce` into the live worker: a
(fictional) minister whose department awards contracts to a company has no tie to it the worker can see until the
register says the company gave him hospitality; then the pair scores COI-AUTH-COMMERCIAL, the contracts' supplier
and the register's donor one company by their Companies House number. Real broker, real worker subprocess, real
command line. (The register's real gift of Glastonbury Festival Events Limited is given here to a member who is not
real: no real member's conflict is implied.)"""

from __future__ import annotations

import csv
import io

import pytest

from streams.testing import REPO_ROOT
from tests.integration.conftest import read_topic
from tests.integration.test_import_produce import import_and_produce

pytestmark = pytest.mark.kafka

FIXTURES = REPO_ROOT / "tests" / "fixtures"
MINISTER = "commons-member-999999"
SUPPLIER = {"example-supplier", "commons-company-gb-04348175"}  # the contracts' id, the register's id: one company


def test_the_registers_gift_ties_the_minister_to_his_departments_supplier_in_the_live_worker(pipeline, tmp_path):
    settings, start_worker = pipeline
    start_worker()
    summary = import_and_produce(settings, FIXTURES / "ours" / "commons-minister.ftm.json")
    assert "sent 3 events" in summary
    gifts = (FIXTURES / "commons" / "2025-07-14" / "PublishedInterest-Category_3.csv").read_bytes().decode("utf-8-sig")
    reader = csv.DictReader(io.StringIO(gifts, newline=""))
    row = next(row for row in reader if row["Summary"].startswith("Glastonbury Festival"))
    out = io.StringIO()
    writer = csv.DictWriter(out, reader.fieldnames)
    writer.writeheader()
    writer.writerow({**row, "MNIS ID": "999999", "Member": "Example Minister"})
    given = tmp_path / "PublishedInterest-Category_3.csv"
    given.write_text(out.getvalue(), encoding="utf-8")
    summary = import_and_produce(settings, given)
    assert "sent 1 events" in summary and "import (commons): converted 1" in summary
    scores = read_topic(settings, settings.scores_topic,
                        lambda items: any(s.get("actor_id") == MINISTER and s.get("counterparty_id") in SUPPLIER
                                          for _, s in items))
    score = [s for _, s in scores if s.get("actor_id") == MINISTER and s.get("counterparty_id") in SUPPLIER][-1]
    assert score["rules"] == ["COI-AUTH-COMMERCIAL"] and set(score["counterparty_merged_ids"]) == SUPPLIER
    paying = [edge for path in score["commercial_paths"] for edge in path["edges"]
              if edge["relation_type"] == "payment"]
    assert {item["source_url"] for edge in paying for item in edge["evidence"]} == \
        {"https://interests-api.parliament.uk/api/v1/Interests/12879"}
