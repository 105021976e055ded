"""`coi-risk import` on Wikidata JSON (tests/fixtures/wikidata, real wbgetentities responses): detection, the
`--format wikidata` switch, identical bytes on re-import, and a Wikidata person and an FtM entity stating the same
QID (`wikidataId`) resolving to one node."""

from __future__ import annotations

import json
from pathlib import Path

from schemas import parse_event
from schemas.ftm import ImportReport
from scoring import ScoringConfig
from scoring.resolution import ResolvingEngine
from streams.cli import main
from streams.commands.importer import JsonValues, detect_format

FIXTURES = Path(__file__).parents[2] / "fixtures"
WIKIDATA = FIXTURES / "wikidata"
PUTIN_FILE = WIKIDATA / ("api_php_action_wbgetentities_format_json_ids_q7747_props_info_7csitelinks_2furls_"
                         "7caliases_7clabels_7cdescriptions_7cclaims_7cdatatype.json")


def run(capsys, *argv: str) -> tuple[list[str], str, int]:
    code = main(["import", *argv, "--quiet"])
    captured = capsys.readouterr()
    return [line for line in captured.out.splitlines() if line.strip()], captured.err, code


def joined(tmp_path: Path) -> Path:
    """Every fixture response, one per line (each file is one line without a final newline)."""
    path = tmp_path / "wikidata.jsonl"
    path.write_text("\n".join(p.read_text().strip() for p in sorted(WIKIDATA.glob("*.json"))) + "\n")
    return path


def detected(path: Path) -> str:
    return detect_format(JsonValues(path, ImportReport(), progress=False))


def test_wikidata_responses_and_dump_lines_are_detected(tmp_path):
    assert detected(PUTIN_FILE) == "wikidata"
    assert detected(joined(tmp_path)) == "wikidata"  # the first line is a label-only response
    line = tmp_path / "dump.json"
    line.write_text(json.dumps(json.loads(PUTIN_FILE.read_text())["entities"]["Q7747"]) + "\n")
    assert detected(line) == "wikidata"
    dump = tmp_path / "dump-array.json"  # the JSON dump: an array, one entity per line
    dump.write_text("[\n" + json.dumps(json.loads(PUTIN_FILE.read_text())["entities"]["Q7747"]) + "\n]\n")
    assert detected(dump) == "wikidata"
    # the other formats are detected as before
    assert detected(FIXTURES / "yente" / "zala-ownership.ftm.json") == "ftm"
    assert detected(FIXTURES / "yente" / "t2-20240528014702-pfh.delta.json") == "ftm-delta"
    assert detected(FIXTURES / "bods" / "tecido.json") == "bods"
    assert detected(FIXTURES / "ours" / "mixed-pep.ftm.json") == "ftm"


def test_the_cli_imports_wikidata_the_same_twice(capsys, tmp_path):
    path = joined(tmp_path)
    first, err, code = run(capsys, str(path))
    assert code == 0 and "import (wikidata): converted" in err and "skipped 0" in err, err
    assert "wikidata deprecated statements skipped: 1" in err
    events = [parse_event(line.encode()) for line in first]
    assert {e.relation_type.value for e in events} >= {"occupancy", "family", "membership", "employment",
                                                       "ownership"}
    second, _, _ = run(capsys, str(path))
    assert first == second
    forced, err, _ = run(capsys, str(path), "--format", "wikidata")
    assert forced == first and "import (wikidata)" in err
    # --confidence and --retrieved-at fill only what the data lacks: the entity's `modified` stays
    confident, _, _ = run(capsys, str(PUTIN_FILE), "--confidence", "0.6", "--retrieved-at", "2020-01-01T00:00:00Z")
    event = parse_event(confident[0].encode())
    assert event.provenance.confidence == 0.6 and event.observed_at.isoformat() == "2026-04-21T13:42:27+00:00"


def test_a_wikidata_person_and_an_ftm_entity_with_its_qid_are_one_node(capsys, tmp_path):
    wikidata, _, _ = run(capsys, str(PUTIN_FILE))
    ftm = tmp_path / "register.ftm.json"
    entities = [
        {"id": "reg-person-1", "schema": "Person", "properties": {"name": ["Putin, Vladimir"],
                                                                  "wikidataId": ["Q7747"]}},
        {"id": "reg-company-1", "schema": "Company", "properties": {"name": ["Example Holding"]}},
        {"id": "reg-own-1", "schema": "Ownership", "properties": {"owner": ["reg-person-1"],
                                                                  "asset": ["reg-company-1"],
                                                                  "percentage": ["60"]}},
    ]
    ftm.write_text("\n".join(json.dumps(e) for e in entities) + "\n")
    register, err, code = run(capsys, str(ftm), "--publisher", "A register", "--source-url",
                              "https://example.org/register", "--retrieved-at", "2026-05-01T00:00:00Z")
    assert code == 0 and len(register) == 1, err
    layer = ResolvingEngine(ScoringConfig.load())
    for line in wikidata + register:
        layer.apply(parse_event(line.encode()))
    assert set(layer.clusters.members("Q7747")) == {"Q7747", "reg-person-1"}
    canonical = {rec.source for rec in layer.engine.graph.relations() if rec.type.value == "ownership"
                 and rec.target == "reg-company-1"}
    occupant = {rec.source for rec in layer.engine.graph.relations() if rec.type.value == "occupancy"}
    assert canonical == occupant and len(canonical) == 1, "the stake and the offices hang from one node"


def test_a_response_of_missing_entities_is_wikidata(capsys, tmp_path):
    # wbgetentities for a QID that does not exist (or was deleted) answers with the entity marked missing
    path = tmp_path / "missing.json"
    path.write_text(json.dumps({"entities": {"Q99999999999": {"id": "Q99999999999", "missing": ""}},
                                "success": 1}) + "\n")
    assert detected(path) == "wikidata"
    lines, err, code = run(capsys, str(path))
    assert code == 0 and lines == [] and "import (wikidata): converted 0" in err and "skipped 0" in err, err
