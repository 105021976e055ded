"""The Commons' register of interests through the engine (tests/fixtures/commons): a minister whose office awards
contracts to a company that gave him hospitality has a conflict (COI-AUTH-COMMERCIAL), the register's donor and the
contracts' supplier one company by its Companies House number."""

from __future__ import annotations

import datetime as dt

from schemas.events import RelationshipEvent
from scoring.resolution import ResolvingEngine
from tests.unit.schemas.test_commons import GIFTS, imported, rows_of

MINISTER = "commons-member-999999"  # fictional: the register's real gift, given here to a member who is not real
OFFICE = ("example-office", "Position", "Minister for Culture (example)", ("gov.national",))
SUPPLIER = {"id": "example-supplier", "schema": "Company", "name": "Glastonbury Festival Events Ltd",
            "identifiers": [{"scheme": "register", "value": "04348175", "jurisdiction": "gb"}]}


def hypothetical(relation_type: str, source: dict, target: dict, number: int) -> RelationshipEvent:
    return RelationshipEvent.model_validate({
        "schema_version": "1.1", "event_id": f"example-{number}", "op": "upsert",
        "relation_id": f"example-{relation_type}", "relation_type": relation_type, "source": source,
        "target": target, "properties": {}, "status": "confirmed", "start_date": "2025-01-01",
        "observed_at": "2025-07-01T00:00:00Z",
        "provenance": {"source_url": "https://example.org/contracts", "publisher": "Example Gazette",
                       "retrieved_at": "2025-07-01T00:00:00Z", "extractor": {"name": "test", "version": "1"},
                       "confidence": 1.0}})


def engine_with(gift: bool) -> ResolvingEngine:
    _, rows = rows_of(GIFTS)
    row = next(row for row in rows if row["Summary"].startswith("Glastonbury Festival"))
    events = imported(GIFTS, [{**row, "MNIS ID": "999999", "Member": "Example Minister"}])[0] if gift else []
    office = {"id": OFFICE[0], "schema": OFFICE[1], "name": OFFICE[2], "topics": list(OFFICE[3])}
    member = {"id": MINISTER, "schema": "Person", "name": "Example Minister", "topics": ["role.pep"]}
    layer = ResolvingEngine(as_of=dt.date(2025, 7, 1))
    layer.apply_many([*events, hypothetical("occupancy", member, office, 1),
                      hypothetical("awards_contract", office, SUPPLIER, 2)])
    return layer


def test_hospitality_from_a_company_the_ministers_office_contracts_with_is_a_conflict():
    score = engine_with(gift=True).score(MINISTER, "example-supplier")
    assert score is not None and "COI-AUTH-COMMERCIAL" in score.rules
    assert set(score.counterparty_merged_ids) == {"commons-company-gb-04348175", "example-supplier"}
    paying = [edge for path in score.commercial_paths for edge in path.edges if edge.relation_type.value == "payment"]
    assert paying and {str(item.source_url) for edge in paying for item in edge.evidence} == \
        {"https://interests-api.parliament.uk/api/v1/Interests/12879"}
    # without the register the engine knows of no tie between the minister and the supplier
    assert engine_with(gift=False).score(MINISTER, "example-supplier") is None
