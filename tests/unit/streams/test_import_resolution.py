"""Import and entity resolution wired together, through the real command line (`coi-risk import`, `coi-risk score`)
on real and our own fixtures (tests/fixtures/README.md): OpenSanctions' merges (`--referents`) give one canonical
node per OpenSanctions entity, and identifiers that two sources state for one person and one company join a
political actor from one to a stake from the other, a conflict neither shows alone."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from schemas import parse_event
from schemas.events import RelationshipEvent
from scoring import ScoringConfig
from scoring.alerts import AlertTracker
from scoring.resolution import ResolvingEngine
from streams.cli import main

FIXTURES = Path(__file__).parents[2] / "fixtures"
T1 = FIXTURES / "yente" / "t1-entities.ftm.json"
MIXED_PEP, MIXED_STAKE = FIXTURES / "ours" / "mixed-pep.ftm.json", FIXTURES / "ours" / "mixed-stake.bods.json"


def run(capsys, *argv: str) -> tuple[list[str], str, int]:
    code = main([*argv])
    captured = capsys.readouterr()
    return [line for line in captured.out.splitlines() if line.strip()], captured.err, code


def imported(capsys, *argv: str) -> list[str]:
    lines, err, code = run(capsys, "import", *argv, "--quiet")
    assert code == 0, err
    return lines


def t1_parties() -> list[dict]:
    entities = [json.loads(line) for line in T1.read_text().splitlines() if line.strip()]
    return [e for e in entities if e["schema"] in ("Person", "Organization")]


def source_listings(entity: dict) -> list[RelationshipEvent]:
    """What each source list states on its own, under its own record id (the ids OpenSanctions merged)."""
    events = []
    for referent in sorted(entity["referents"]):
        dataset = "-".join(referent.split("-")[:2])
        events.append(RelationshipEvent.model_validate({
            "schema_version": "1.0", "event_id": f"listing-{referent}", "relation_id": f"listing-{referent}",
            "relation_type": "membership", "source": {"id": referent, "schema": entity["schema"],
                                                      "name": entity["caption"]},
            "target": {"id": f"list-{dataset}", "schema": "Organization", "name": f"List {dataset}"},
            "observed_at": "2024-05-27T00:00:00Z",
            "provenance": {"source_url": f"https://example.org/{dataset}", "publisher": dataset,
                           "retrieved_at": "2024-05-27T00:00:00Z", "extractor": {"name": "list", "version": "1"},
                           "confidence": 1.0}}))
    return events


def test_t1_with_referents_gives_one_canonical_node_per_opensanctions_entity(capsys):
    lines, err, code = run(capsys, "import", str(T1), "--referents", "--quiet")
    assert code == 0
    parties = t1_parties()
    assert len(lines) == sum(len(e["referents"]) for e in parties) == 57
    assert "referent judgements (same_as, confirmed): 57" in err
    assert "referents of Address entities (not parties): not judged: 1" in err
    judgements = [parse_event(line.encode()) for line in lines]
    assert {(j.relation_type.value, j.status.value, j.schema_version) for j in judgements} == \
        {("same_as", "confirmed", "1.1")}
    layer = ResolvingEngine(ScoringConfig.load())
    listings = [event for entity in parties for event in source_listings(entity)]
    for event in listings[::2] + judgements + listings[1::2]:  # judgements arrive between the sources' records
        layer.apply(event)
    assert {rec.source for rec in layer.engine.graph.relations()} == {e["id"] for e in parties}
    for entity in parties:
        assert set(layer.clusters.members(entity["id"])) == {entity["id"], *entity["referents"]}
    # without --referents the same file yields nothing, and every source record stays its own node
    assert imported(capsys, str(T1)) == []


def test_referents_are_refused_for_other_formats(capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["import", str(MIXED_STAKE), "--referents", "--quiet"])
    assert stopped.value.code == 2 and "--referents reads FtM entity files" in capsys.readouterr().err


def scores_of(capsys, *files: Path, tmp_path: Path) -> list:
    events = [line for path in files for line in imported(capsys, str(path))]
    joined = tmp_path / "events.jsonl"
    joined.write_text("\n".join(events) + "\n")
    lines, err, code = run(capsys, "score", str(joined), "--json")
    assert code == 0, err
    from schemas import RiskScore

    return [RiskScore.model_validate_json(line) for line in lines]


def test_identifiers_from_two_sources_raise_the_conflict_neither_shows_alone(capsys, tmp_path):
    # each source alone: a minister whose ports authority awards a contract; a person's 75% stake in a firm
    assert scores_of(capsys, MIXED_PEP, tmp_path=tmp_path) == []
    assert scores_of(capsys, MIXED_STAKE, tmp_path=tmp_path) == []
    # together: the PEP file's Wikidata QID and the register's own record of the same QID are one person, and the
    # procurement portal's company and the register's company share their Companies House number
    [score] = scores_of(capsys, MIXED_PEP, MIXED_STAKE, tmp_path=tmp_path)
    assert (score.actor_id, score.counterparty_id) == ("owner-1", "harbourline")  # the smallest member ids
    assert set(score.actor_merged_ids) == {"owner-1", "pep-mara-vidal"}
    assert set(score.counterparty_merged_ids) == {"harbourline", "tender-harbourline"}
    assert score.band.value in ("medium", "high", "critical") and "COI-AUTH-OWNERSHIP" in score.rules
    assert {e.identifier for note in score.merges for e in note.evidence} == \
        {"wikidata:Q99999901", "register:gb:09876543"}
    assert any("awards_contract" in path.text for path in score.authority_paths)
    report, _, _ = run(capsys, "score", str(tmp_path / "events.jsonl"))
    assert "   merged:" in report and any("by shared identifier wikidata:Q99999901" in line for line in report)


def test_the_merged_conflict_is_one_alert_and_the_import_keeps_its_bytes(capsys):
    events = [parse_event(line.encode()) for path in (MIXED_PEP, MIXED_STAKE) for line in imported(capsys, str(path))]
    layer, tracker = ResolvingEngine(ScoringConfig.load()), AlertTracker(ScoringConfig.load())
    alerts = [alert for event in events for alert in tracker.observe(layer.apply(event))]
    assert [(a.state.value, a.actor_id, a.counterparty_id) for a in alerts] == \
        [("raised", "owner-1", "harbourline")]
    assert alerts[0].merges and alerts[0].case_id
    for path, extra in ((MIXED_PEP, ()), (MIXED_STAKE, ()), (T1, ("--referents",))):
        first, second = imported(capsys, str(path), *extra), imported(capsys, str(path), *extra)
        assert first and hashlib.sha256("\n".join(first).encode()).digest() == \
            hashlib.sha256("\n".join(second).encode()).digest()


def test_events_carry_identifiers_only_where_the_sources_state_them(capsys):
    pep = [parse_event(line.encode()) for line in imported(capsys, str(MIXED_PEP))]
    versions = {(e.relation_type.value, e.schema_version) for e in pep}
    # the occupancy names the PEP (Wikidata QID) and the award the firm (register number): 1.1; the position's
    # control of its body names neither: it stays 1.0, byte for byte what an import before identifiers wrote
    assert versions == {("occupancy", "1.1"), ("awards_contract", "1.1"), ("control", "1.0")}
    [stake] = [parse_event(line.encode()) for line in imported(capsys, str(MIXED_STAKE))]
    assert [str(i) for i in stake.source.identifiers] == ["wikidata:Q99999901"]
    assert [str(i) for i in stake.target.identifiers] == ["register:gb:09876543"]
