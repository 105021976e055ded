"""The portable form (scoring.portable): an export re-imported rescoring to the same state, continuing identically."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from schemas import parse_event
from scoring import AlertTracker
from scoring.portable import PortableFormatError, ScoredDifferently, export_state, import_state
from scoring.resolution import ResolvingEngine

REPO = Path(__file__).resolve().parents[3]
BOOKKEEPING = ("trigger_event_id", "input_offsets", "graph_version")


@pytest.fixture(scope="module")
def events() -> list:
    seed = (REPO / "examples" / "binance-wlfi.jsonl").read_text().splitlines()
    synthetic = subprocess.run([sys.executable, "bench/synthetic.py", "800"], cwd=REPO, capture_output=True,
                               text=True, check=True).stdout.splitlines()
    return [parse_event(line.encode()) for line in seed + synthetic]


def content(score) -> dict:
    return {k: v for k, v in score.model_dump(mode="json").items() if k not in BOOKKEEPING}


def run(engine, tracker, events, start: int):
    outputs = []
    for number, event in enumerate(events, start):
        changes = engine.apply(event, offset=f"0:{number}", input_offsets={"0": number + 1})
        outputs.append(([content(c.published()) for c in changes], [content(a) for a in tracker.observe(changes)]))
    return outputs


def round_trip(engine, tracker):
    lines = [json.dumps(record) for record in export_state(engine, tracker, {"offsets": {"0": 1}})]
    return import_state(json.loads(line) for line in lines)


def test_an_imported_export_has_the_same_scores_and_continues_identically(events):
    cut = len(events) * 2 // 3
    original, tracker = ResolvingEngine(), AlertTracker()
    run(original, tracker, events[:cut], 0)
    # a retraction and a superseded version before the cut: tombstones and seen ids must survive the export
    retracted = events[0].model_copy(update={"op": "retract", "event_id": "retract-0"})
    run(original, tracker, [retracted], cut)
    imported, imported_tracker, header = round_trip(original, tracker)
    assert header["offsets"] == {"0": 1}
    assert [content(s) for s in imported.scores()] == [content(s) for s in original.scores()] != []
    assert imported_tracker.open_alerts() == tracker.open_alerts() != {}
    # "events" is not compared: superseded versions are not re-applied (their ids are kept as seen)
    for name in ("entities", "nodes", "relations", "retracted", "scored_pairs"):
        assert imported.stats()[name] == original.stats()[name], name
    assert imported.clock == original.clock
    # the rest of the stream, plus an event applied before the cut delivered again: identical outputs
    tail = events[cut:] + [events[5]]
    assert run(imported, imported_tracker, tail, cut + 1) == run(original, tracker, tail, cut + 1)


def test_an_unknown_format_version_is_refused():
    with pytest.raises(PortableFormatError):
        import_state([{"record": "header", "format": "coi-risk-portable-state", "format_version": 99}])
    with pytest.raises(PortableFormatError):
        import_state([{"record": "relation"}])


HEADER = '{"record": "header", "format": "coi-risk-portable-state", "format_version": 3'


@pytest.mark.parametrize("lines", [
    [HEADER + '}', '{"record": "event", "event": {"relation_id": "r1"}}'],
    [HEADER + '}', '[1, 2]'],  # a line that is not an object
    ['"header"'],
    [HEADER + ', "offsets": {"zero": 1}}', '{"record": "end", "records": {}}'],  # a partition that is no number
    [HEADER + ', "offsets": {"0": 1e400}}', '{"record": "end", "records": {}}'],  # infinity: int() overflowed
    [HEADER + '}', '{"record": "alert_episodes", "actor_id": "a", "case_id": "c", "episodes": 1e400}'],
])
def test_snapshot_import_of_a_file_that_is_not_an_export_fails_with_one_line(tmp_path, lines):
    state = tmp_path / "state.jsonl"
    state.write_text("\n".join(lines) + "\n")
    result = subprocess.run([sys.executable, "-m", "streams.cli", "snapshot", "import", str(state)], cwd=REPO,
                            capture_output=True, text=True, timeout=120,
                            env={**__import__("os").environ, "COI_DATA_DIR": str(tmp_path), "COI_RISK_CONFIG": ""})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith(f"cannot import {state}: ")
    assert "Traceback" not in result.stderr


def test_an_export_cut_short_at_a_line_boundary_is_refused(events):
    engine, tracker = ResolvingEngine(), AlertTracker()
    run(engine, tracker, events[:300], 0)
    records = [json.loads(json.dumps(record)) for record in export_state(engine, tracker, {"offsets": {"0": 300}})]
    assert records[-1]["record"] == "end" and tracker.open_alerts()
    import_state(records)  # whole: imports
    for cut in (len(records) - 1, len(records) // 2, 2):  # the end record lost; half the events; only one event
        with pytest.raises(PortableFormatError, match="cut short"):
            import_state(records[:cut])
    # a line lost from the middle, the end record intact
    missing = records[:5] + records[6:]
    with pytest.raises(PortableFormatError, match="records are missing"):
        import_state(missing)
    with pytest.raises(PortableFormatError, match="after the end record"):
        import_state(records + [records[3]])


def test_a_version_2_export_without_its_end_record_is_still_read(events):
    engine, tracker = ResolvingEngine(), AlertTracker()
    run(engine, tracker, events[:200], 0)
    records = [json.loads(json.dumps(record)) for record in export_state(engine, tracker, {"offsets": {"0": 200}})]
    records = [dict(records[0], format_version=2)] + records[1:-1]
    imported, _, _ = import_state(records)
    assert [content(s) for s in imported.scores()] == [content(s) for s in engine.scores()]


def test_an_identifier_a_newer_version_no_longer_states_merges_nothing_live_or_imported():
    """A register corrects its statement of the minister (a newer r1 without the QID): the QID is no longer his, and
    the merge with the QID's other holder goes with it, live and in the state an export carries. Earlier versions
    merged on every identifier an id was ever stated with, and wrote them in their files: such a file imports
    with this version's merges (the alert state of the merge it no longer makes needs `--rescore`)."""
    from tests.unit.scoring.conftest import EventFactory
    from tests.unit.scoring.resolution_support import identified

    minister = ("os-minister-1", "Person", "Jan Kowalski", ("role.pep", "gov.national"))
    same_person = ("wd-kowalski", "Person", "J. Kowalski", ())
    qid = {"scheme": "wikidata", "value": "Q1234"}
    make = EventFactory().make
    stated = identified(make("control", minister, "regulator", relation_id="r1", event_id="ev-1"), "source", qid)
    corrected = make("control", minister, "regulator", relation_id="r1", event_id="ev-2")  # newer, without it
    rest = [identified(make("ownership", same_person, "vendor", percentage=100, event_id="ev-3"), "source", qid),
            make("regulates", "regulator", "bank", event_id="ev-4"),
            make("payment", "bank", "vendor", amount=3e6, currency="USD", event_id="ev-5")]
    merged, merged_tracker = ResolvingEngine(), AlertTracker()
    run(merged, merged_tracker, [stated, *rest], 0)
    assert merged.canonical("wd-kowalski") == "os-minister-1" and merged.scores() and merged_tracker.open_alerts()
    live, tracker = ResolvingEngine(), AlertTracker()
    run(live, tracker, [stated, *rest, corrected], 0)
    assert live.canonical("wd-kowalski") == "wd-kowalski" and not live.scores() and not tracker.open_alerts()
    records = [json.loads(json.dumps(record)) for record in export_state(live, tracker)]
    assert not [r for r in records if r["record"] == "identifiers" and r["entity_id"] == "os-minister-1"]
    imported, _, _ = import_state(records)
    assert imported.canonical("wd-kowalski") == "wd-kowalski" and not imported.scores()
    # a file of an earlier version: the QID still listed as the minister's, the merge's alert open
    earlier = [json.loads(json.dumps(record)) for record in export_state(merged, merged_tracker)]
    minister_record = next(r for r in earlier if r["record"] == "identifiers" and r["entity_id"] == "os-minister-1")
    at = next(n for n, r in enumerate(earlier) if r["record"] == "event" and r["event"]["event_id"] == "ev-1")
    earlier[at] = {"record": "event", "event": corrected.model_dump(mode="json", by_alias=True, exclude_none=True),
                   "offset": earlier[at]["offset"]}
    seen = next(r for r in earlier if r["record"] == "events_seen")
    seen["event_ids"] = sorted({*seen["event_ids"], "ev-2"})
    assert minister_record["identifiers"][0]["event_id"] == "ev-1"
    with pytest.raises(ScoredDifferently):
        import_state(earlier)
    transitions = []
    imported, _, _ = import_state(earlier, rescore=True, transitions=transitions)
    assert imported.canonical("wd-kowalski") == "wd-kowalski"
    assert {(a.actor_id, a.state.value) for a in transitions} >= {("os-minister-1", "resolved")}
    # and a version 3 file, which has no identifiers records, is still read
    older = [dict(records[0], format_version=3)] + [r for r in records[1:-1] if r["record"] != "identifiers"]
    counts = {kind: n for kind, n in records[-1]["records"].items() if kind != "identifiers"}
    imported, _, _ = import_state(older + [{"record": "end", "records": counts}])
    assert imported.canonical("wd-kowalski") == "wd-kowalski" and not imported.scores()


def _judged_live() -> tuple[ResolvingEngine, AlertTracker]:
    """'alias-1' stands in for a superseded judgement (named by no current judgement as a person any more), 'other'
    for a current one."""
    from tests.unit.scoring.conftest import EventFactory
    from tests.unit.scoring.resolution_support import judgement

    make = EventFactory().make
    minister = ("minister", "Person", "Jan Kowalski", ("role.pep", "gov.national"))
    nominee = ("nominee", "Person", "A. Nominee", ())
    events = [make("control", minister, "regulator"), make("regulates", "regulator", "bank"),
              make("ownership", nominee, "bank", percentage=60),
              judgement(minister, ("alias-1", "Person", "Jan K.", ()), relation_id="j-1",
                        observed_at="2025-06-02T00:05:00Z"),
              # j-1 restated about other ids: alias-1 is named by no current judgement as a person any more
              judgement(nominee, ("other", "Person", "Other", ()), relation_id="j-1",
                        observed_at="2025-06-02T01:00:00Z"),
              # an older judgement calling alias-1 the nominee, both as companies
              judgement(("alias-1", "Company", "Jan K. Ltd", ()), ("nominee", "Company", "A. Nominee", ()),
                        relation_id="j-2", observed_at="2025-06-01T23:48:00Z")]
    live, tracker = ResolvingEngine(), AlertTracker()
    run(live, tracker, events, 0)
    return live, tracker


def test_what_a_superseded_judgement_said_of_an_id_only_judgements_name_survives_export_and_import():
    """An id no relation names shows what the newest judgement ever naming it said (here: a person). That judgement
    was superseded by a version naming other ids; re-applied alone, an older current judgement calling the id a
    company gave it another kind, and the merge it makes live was refused on import (ScoredDifferently). A review
    found it in a random log; version 5 files carry the stand-ins."""
    live, tracker = _judged_live()
    assert live.entity_ref("alias-1").schema_.value == "Person"
    assert set(live.clusters.members("alias-1")) == {"alias-1", "nominee", "other"}
    records = [json.loads(json.dumps(record)) for record in export_state(live, tracker)]
    assert [r["stand_in"] for r in records if r["record"] == "entity" and r["entity_id"] == "alias-1"] == [True]
    imported, _, _ = import_state(records)
    assert imported.entity_ref("alias-1").schema_.value == "Person"
    assert imported.clusters.members("alias-1") == live.clusters.members("alias-1")
    for value in (False, "yes", 1):  # export writes true or nothing
        edited = [dict(r, stand_in=value) if r.get("stand_in") else r for r in records]
        with pytest.raises(PortableFormatError, match="stand_in is"):
            import_state(edited)
    assert [content(s) for s in imported.scores()] == [content(s) for s in live.scores()]
    # a version 4 file has no stand-ins: the id takes what the current judgements say
    older = [dict(records[0], format_version=4)] + [r for r in records[1:-1] if not r.get("stand_in")]
    counts: dict[str, int] = {}
    for record in older[1:]:
        counts[record["record"]] = counts.get(record["record"], 0) + 1
    imported, _, _ = import_state(older + [{"record": "end", "records": counts}], rescore=True)
    assert imported.entity_ref("alias-1").schema_.value == "Company"


def _judged_state():
    """The export of `_judged_live`."""
    live, tracker = _judged_live()
    return [json.loads(json.dumps(record)) for record in export_state(live, tracker)]


def _entity_of(records: list[dict], entity_id: str) -> dict:
    return next(r for r in records if r["record"] == "entity" and r["entity_id"] == entity_id)


def _event_naming(records: list[dict], entity_id: str) -> dict:
    """The event of the file's first relation naming the id."""
    return next(r["event"] for r in records if r["record"] == "event" and entity_id in (
        r["event"]["source"]["id"], r["event"]["target"]["id"]) and r["event"]["relation_type"] != "same_as")


def _added(record: dict):
    """Insert `record` after the last entity record."""
    def edit(records):
        at = max(n for n, r in enumerate(records) if r["record"] == "entity") + 1
        records.insert(at, record(records) if callable(record) else record)
    return edit


# hand edits around the stand-ins: each leaves the layer in a state live never reaches, and the reader refused none
# (a review found them); the message each must give (a pattern), with the line of the record it names
STAND_IN_EDITS = {
    "in a version 4 file": (lambda records: records[0].update(format_version=4),
                            "a stand-in in a file of format version 4"),
    "of an id a current relation names": (
        _added(lambda records: {**_entity_of(records, "alias-1"), "entity_id": "nominee",
                                "ref": {**_entity_of(records, "alias-1")["ref"], "id": "nominee"}}),
        "the stand-in of 'nominee': an event of the file states it"),
    "carrying identifiers": (
        lambda records: _entity_of(records, "alias-1")["ref"].update(identifiers=[{"scheme": "wikidata",
                                                                                   "value": "Q5"}]),
        "a stand-in with identifiers"),
    "with an identifiers record": (
        _added(lambda records: {"record": "identifiers", "entity_id": "alias-1", "identifiers": [{
            "scheme": "wikidata", "value": "Q5", "kind": "people", "publisher": "p",
            "event_id": _entity_of(records, "alias-1")["event_id"]}]}),
        "identifiers of 'alias-1', an id only judgements name"),
    "moved from the time of the current judgement it is dated by": (
        lambda records: _entity_of(records, "other").update(observed_at="2025-06-03T01:00:00+00:00"),
        "the stand-in of 'other': dated 2025-06-03T01:00:00[+]00:00 by the judgement 'judge-[0-9]+', which the file "
        "holds as of 2025-06-02T01:00:00"),
    "dated by a relation's event": (
        lambda records: _entity_of(records, "other").update(
            {key: _event_naming(records, "nominee")[key] for key in ("observed_at", "event_id")}),
        "the stand-in of 'other': dated by the event '[^']+', a relation: a stand-in is a judgement's"),
    "a plain reference dated by the current event stating it": (
        _added(lambda records: {"record": "entity", "entity_id": "nominee",
                                **{key: _event_naming(records, "nominee")[key] for key in ("observed_at", "event_id")},
                                "ref": {"id": "nominee", "schema": "Person", "name": "The Minister's Cousin",
                                        "topics": ["role.pep"]}}),
        "the reference of 'nominee': dated by the event '[^']+', which the file holds"),
    "twice": (_added(lambda records: {**_entity_of(records, "alias-1"),
                                      "ref": {**_entity_of(records, "alias-1")["ref"], "schema": "Company"}}),
              "the entity record of 'alias-1' again"),
    "and a plain reference of the same id": (
        _added(lambda records: {k: v for k, v in _entity_of(records, "alias-1").items() if k != "stand_in"}),
        "the entity record of 'alias-1' again"),
    "older than a current judgement naming the id": (
        lambda records: _entity_of(records, "alias-1").update(observed_at="2025-01-01T00:00:00+00:00"),
        "the stand-in of 'alias-1': the judgement 'judge-[0-9]+', newer, names it"),
    "of an event never applied": (lambda records: _entity_of(records, "alias-1").update(event_id="never"),
                                  "from the event 'never', which neither an event record nor events_seen names"),
    "renamed from what its current judgement says": (
        lambda records: _entity_of(records, "other")["ref"].update(name="Someone Else"),
        "the stand-in of 'other': it differs from what the judgement"),
    "dated by a current judgement not naming it": (
        lambda records: _entity_of(records, "alias-1").update(
            observed_at=_entity_of(records, "other")["observed_at"], event_id=_entity_of(records, "other")["event_id"]),
        "the stand-in of 'alias-1': the judgement"),
}


def _refused_once_edited(records: list[dict], edit, why: str) -> None:
    """The export imports as written; edited (its end record counting again), it is refused naming a line, why."""
    import_state(records)
    edit(records)
    counts: dict[str, int] = {}
    for record in records[1:-1]:
        counts[record["record"]] = counts.get(record["record"], 0) + 1
    records[-1] = {"record": "end", "records": counts}
    with pytest.raises(PortableFormatError, match="^line [0-9]+: ") as refused:
        import_state(records)
    assert re.search(why, str(refused.value))


@pytest.mark.parametrize("name", STAND_IN_EDITS)
def test_a_stand_in_export_never_writes_is_refused_naming_its_line(name):
    _refused_once_edited(_judged_state(), *STAND_IN_EDITS[name])


@pytest.mark.parametrize("kind", ["entity", "identifiers", "end"])
def test_a_record_an_older_format_version_never_held_is_refused(kind):
    records = _judged_state()
    written = {"entity": {k: v for k, v in _entity_of(records, "alias-1").items() if k != "stand_in"},
               "identifiers": {"record": "identifiers", "entity_id": "minister",
                               "identifiers": [{"scheme": "wikidata", "value": "Q5"}]},
               "end": records[-1]}[kind]
    older = {"entity": 3, "identifiers": 3, "end": 2}[kind]
    kept = [dict(records[0], format_version=older)] + [r for r in records[1:] if r["record"] == "event"] + [written]
    with pytest.raises(PortableFormatError, match=f"^line {len(kept)}: an? {kind} record in a file of format "
                                                  f"version {older}"):
        import_state(kept)


def _identified_state() -> list[dict]:
    """The export of a merge by a QID (strong) of two ids, one also with a website (weak)."""
    from tests.unit.scoring.conftest import EventFactory
    from tests.unit.scoring.resolution_support import identified

    minister = ("os-minister-1", "Person", "Jan Kowalski", ("role.pep", "gov.national"))
    same_person = ("wd-kowalski", "Person", "J. Kowalski", ())
    make = EventFactory().make
    events = [identified(make("control", minister, "regulator"), "source", {"scheme": "wikidata", "value": "Q1234"}),
              identified(make("ownership", same_person, "vendor", percentage=100), "source",
                         {"scheme": "wikidata", "value": "Q1234"}, {"scheme": "other", "value": "kowalski-jan"}),
              make("regulates", "regulator", "bank"), make("payment", "bank", "vendor", amount=3e6, currency="USD")]
    live, tracker = ResolvingEngine(), AlertTracker()
    run(live, tracker, events, 0)
    assert live.canonical("wd-kowalski") == "os-minister-1"
    return [json.loads(json.dumps(record)) for record in export_state(live, tracker)]


def _statement(records: list[dict], scheme: str) -> dict:
    return next(statement for r in records if r["record"] == "identifiers" and r["entity_id"] == "wd-kowalski"
                for statement in r["identifiers"] if statement["scheme"] == scheme)


# hand edits of identifiers that changed the merges, or their evidence, without a word (a review found them)
IDENTIFIER_EDITS = {
    "a strong identifier without where it was first seen": (
        lambda records: [_statement(records, "wikidata").pop(name) for name in ("kind", "event_id", "publisher")],
        "a strong identifier without kind, event_id and publisher"),
    "a weak identifier with them": (
        lambda records: _statement(records, "other").update(kind="people", event_id="x", publisher="p"),
        "a weak identifier with kind, event_id and publisher"),
    "a kind the layer never merges within": (lambda records: _statement(records, "wikidata").update(kind="Company"),
                                             "an identifier of kind 'Company', none the layer merges within"),
    "first seen in an event never applied": (
        lambda records: _statement(records, "wikidata").update(event_id="never-applied", publisher="Nobody"),
        "an identifier of 'wd-kowalski' first seen in the event 'never-applied', which neither"),
}


@pytest.mark.parametrize("name", IDENTIFIER_EDITS)
def test_an_identifier_export_never_writes_is_refused_naming_its_line(name):
    _refused_once_edited(_identified_state(), *IDENTIFIER_EDITS[name])


def test_a_number_an_earlier_version_merged_on_is_imported_and_merges_nothing():
    # an export by a version that still merged on a German court's register number in "de" (or a placeholder) writes
    # where it was first seen and its kind; this version does not merge on it, and the upgrade must not be refused
    records = _identified_state()
    qid = _statement(records, "wikidata")
    entry = next(r for r in records if r["record"] == "identifiers" and r["entity_id"] == "wd-kowalski")
    entry["identifiers"].append({"scheme": "register", "value": "HRB12345", "jurisdiction": "de",
                                 **{name: qid[name] for name in ("kind", "event_id", "publisher")}})
    imported, _, _ = import_state(records)
    assert imported.canonical("wd-kowalski") == "os-minister-1"  # the QID's merge stands
    kept = next(r["identifiers"] for r in imported.identifier_statements() if r["entity_id"] == "wd-kowalski")
    # the identifiers are those the current events state: one only the file's record lists is not the id's
    assert {"scheme": "register", "value": "HRB12345", "jurisdiction": "de"} not in kept


def test_an_import_counts_on_from_the_exporting_engines_graph_version_even_where_it_re_issued_more():
    """A same_as judgement that arrived before a relation it moves but was observed after it: the exporting layer
    applied the relation once, already merged; the import re-applies in version order and re-issues it. Its count
    passed the file's and every later output differed (a review); it is the file's now."""

    from scoring import ScoringConfig
    from scoring.resolution import ResolvingEngine

    from .conftest import EventFactory
    from .resolution_support import judgement

    make = EventFactory().make
    config = ScoringConfig.load()
    firm_a, firm_b = ("firm-a", "Company", "Firm A", ()), ("firm-b", "Company", "Firm B", ())
    arrival = [make("control", "minister", "regulator", observed_at="2025-01-01T00:00:00Z"),
               judgement(firm_a, firm_b, "confirmed", relation_id="j-ab", event_id="j1",
                         observed_at="2025-03-01T00:00:00Z"),
               make("regulates", "regulator", firm_b, observed_at="2025-01-02T00:00:00Z"),
               make("ownership", "son", firm_b, percentage=60, observed_at="2025-01-03T00:00:00Z"),
               make("family", "son", "minister", observed_at="2025-01-04T00:00:00Z")]
    tail = [make("payment", "nobody", "builder", amount=1e5, currency="USD", observed_at="2025-03-02T00:00:00Z"),
            make("ownership", "son", firm_a, percentage=70, relation_id="son-ownership-firm-b",
                 observed_at="2025-03-03T00:00:00Z")]
    live, tracker = ResolvingEngine(config), AlertTracker(config)
    for number, event in enumerate(arrival):
        tracker.observe(live.apply(event, offset=f"0:{number}", input_offsets={"0": number + 1}))
    records = [json.loads(json.dumps(record)) for record in export_state(live, tracker)]
    imported, _, _ = import_state(records, config)
    assert imported.graph_version == live.graph_version == records[0]["graph_version"]
    for number, event in enumerate(tail, len(arrival)):
        published = [[c.published().model_dump_json() for c in layer.apply(event, offset=f"0:{number}",
                                                                           input_offsets={"0": number + 1})]
                     for layer in (live, imported)]
        assert published[0] == published[1]
    assert published[0]
