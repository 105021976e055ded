"""`coi-risk snapshot export|import` end to end without Kafka: an export imported elsewhere is the worker's state
exactly and continues as it would have; a file that is not what export writes is refused with one line and leaves no
snapshot; an import under another scoring config says so; an imported snapshot keeps the append times that tell the
worker a file of another log from one of its own."""

from __future__ import annotations

import asyncio
import copy
import io
import json
import random
import re
from pathlib import Path

import pytest

import streams.app as app_module
from schemas import parse_event
from scoring import AlertTracker, ScoringConfig
from scoring.resolution import ResolvingEngine
from streams.cli import main
from streams.snapshots import Identity, SnapshotState, SnapshotStore, config_hash
from tests.unit.scoring.test_portable_random_logs import gen

SEED = Path(__file__).resolve().parents[3] / "examples" / "binance-wlfi.jsonl"
BOOKKEEPING = ("trigger_event_id", "input_offsets", "graph_version")
APPENDED = 1_700_000_000_000  # the broker's append time of the last record the exported state applied


@pytest.fixture(autouse=True)
def _environment(monkeypatch, tmp_path):
    for key in ("COI_RISK_CONFIG", "COI_SCORING_CONFIG", "COI_APP_ID", "COI_EVENTS_TOPIC", "COI_SNAPSHOT_DIR"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("COI_RISK_CONFIG", "")
    monkeypatch.setenv("COI_DATA_DIR", str(tmp_path / "data"))


def content(score) -> dict:
    return {k: v for k, v in score.model_dump(mode="json").items() if k not in BOOKKEEPING}


def run(engine, tracker, events, start: int) -> list:
    outputs = []
    for number, event in enumerate(events, start):
        changes = engine.apply(event, offset=f"0:{number}", input_offsets={"0": number + 1})
        outputs.append(([content(c.published()) for c in changes], [content(a) for a in tracker.observe(changes)]))
    return outputs


def tracker_state(tracker: AlertTracker) -> tuple:
    return ({pair: (case, content(score)) for pair, (case, score) in tracker._alerting.items()},
            {case: sorted(pairs) for case, pairs in tracker._members.items()},
            {case: (a.alert_id, a.sequence, a.band, a.score, content(a.lead)) for case, a in tracker._open.items()},
            dict(tracker._episodes))


def worker_store(directory: Path, config: ScoringConfig | None = None) -> SnapshotStore:
    """The store `coi-risk snapshot` opens for the default settings, in `directory`."""
    config = config or ScoringConfig.load()
    return SnapshotStore(directory, Identity("coi-risk", "coi-relationship-events", config_hash(config)))


def cli(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err.strip()


def log_with_merges_and_sequences() -> list:
    """Judgements (merges, splits, denials), retractions, relation ids that move, alerts escalated and downgraded
    (open at sequences 0, 1 and 3) and resolved (episodes) before the cut."""
    r = random.Random(24)
    events = gen(24, n_events=r.randint(60, 160), n_comp=r.choice([10, 20]))
    r.shuffle(events)
    return events


def exported(tmp_path, capsys, events: list, cut: int) -> tuple[ResolvingEngine, AlertTracker, Path]:
    """The worker's state after `events[:cut]`, saved as its snapshot (with the append time of the last record),
    and exported with `coi-risk snapshot export`."""
    engine, tracker = ResolvingEngine(), AlertTracker()
    run(engine, tracker, events[:cut], 0)
    worker_store(tmp_path / "old").save(SnapshotState(engine, tracker, {0: cut}, {0: (cut - 1, APPENDED)}))
    target = tmp_path / "state.jsonl"
    assert cli(capsys, "snapshot", "export", "-o", str(target), "--snapshot-dir", str(tmp_path / "old"))[0] == 0
    return engine, tracker, target


def test_an_export_imported_elsewhere_is_the_worker_state_and_continues_with_the_same_alerts(tmp_path, capsys):
    events = log_with_merges_and_sequences()
    cut = len(events) * 2 // 3
    original, tracker, target = exported(tmp_path, capsys, events, cut)
    sequences = {alert.sequence for alert in tracker._open.values()}  # alerts just raised, and alerts moved on
    assert 0 in sequences and max(sequences) >= 1 and tracker._episodes
    assert original.stats()["merged_entities"] and original.stats()["retracted"]
    code, said = cli(capsys, "snapshot", "import", str(target), "--snapshot-dir", str(tmp_path / "new"))
    assert code == 0 and said.startswith(f"imported {original.stats()['relations']} relations at offsets {{0: {cut}}}")
    loaded, _ = worker_store(tmp_path / "new").load_newest()
    assert loaded.offsets == {0: cut} and loaded.last_records == {0: (cut - 1, APPENDED)}
    assert [content(s) for s in loaded.engine.scores()] == [content(s) for s in original.scores()] != []
    assert tracker_state(loaded.tracker) == tracker_state(tracker)
    assert loaded.engine.clock == original.clock
    # the rest of the log, and an event applied before the cut delivered again: the same scores, and the same alerts
    # (ids, sequences, states, bands)
    tail = events[cut:] + [events[3]]
    assert run(loaded.engine, loaded.tracker, tail, cut) == run(original, tracker, tail, cut)


def test_the_imported_snapshot_of_another_log_is_dropped_by_the_worker(tmp_path, capsys, monkeypatch):
    """A file exported from another cluster's log (or a topic deleted and created again): its offsets fit this
    log, so only the append time of the last record it applied tells it from this one. Without it, the worker
    took every event of this log below the file's offsets for one applied already."""
    from tests.unit.streams.test_snapshot_of_another_log import _a_log, fallbacks
    from tests.unit.streams.test_snapshot_prefetch import _pipeline

    events = [parse_event(line.encode()) for line in SEED.read_text().splitlines()]
    _, _, target = exported(tmp_path, capsys, events, 12)
    assert json.loads(target.read_text().splitlines()[0])["last_records"] == {"0": [11, APPENDED]}
    assert cli(capsys, "snapshot", "import", str(target))[0] == 0  # into the data dir's snapshots
    pipeline = _pipeline(tmp_path)
    asyncio.run(pipeline._load_snapshot_once())
    assert pipeline.processor.next_offsets == {"0": 12} and pipeline.processor.last_records == {"0": (11, APPENDED)}
    monkeypatch.setattr(app_module, "log_end_offsets", lambda settings: {0: 40})
    _a_log(monkeypatch, {11: APPENDED + 60_000})  # this log's record 11 was appended at another time
    imported = pipeline.engine
    asyncio.run(pipeline._check_position_on_the_log())
    assert pipeline.engine is not imported and pipeline.processor.next_offsets == {}  # replayed from the start
    assert fallbacks(pipeline, "past_the_log") == 1


def test_an_upgrade_under_another_weight_is_refused_unless_rescored_and_then_alerts_follow_the_scores(
        tmp_path, capsys, monkeypatch):
    """The documented upgrade (export with the old version, import with the new) under a changed rule weight: the
    import rescored the relations but kept the old alert state, so alerts stayed open at bands the scores no longer
    had (the pair trump/sun: high, scored low here) until some later event happened to touch the pair."""
    events = [parse_event(line.encode()) for line in SEED.read_text().splitlines()]
    cut = len(events) - 3
    _, _, target = exported(tmp_path, capsys, events, cut)
    weights = tmp_path / "weights.yaml"
    weights.write_text("rules:\n  COI-AUTH-OWNERSHIP: {weight: 0.1}\n  COI-AUTH-COMMERCIAL: {weight: 0.1}\n")
    monkeypatch.setenv("COI_SCORING_CONFIG", str(weights))
    new_config = ScoringConfig.load(weights)
    code, said = cli(capsys, "snapshot", "import", str(target), "--snapshot-dir", str(tmp_path / "new"))
    assert code == 2 and said.splitlines() == [said] and "pass --rescore" in said
    assert "scores 3 alerting pair(s) of the file otherwise" in said
    assert "(1 downgraded, 2 resolved would follow)" in said
    assert worker_store(tmp_path / "new", new_config).paths() == []
    code, said = cli(capsys, "snapshot", "import", str(target), "--snapshot-dir", str(tmp_path / "new"), "--rescore")
    assert code == 0 and said.splitlines() == [said]
    assert "rescored, 1 downgraded, 2 resolved not published" in said
    loaded, _ = worker_store(tmp_path / "new", new_config).load_newest()
    engine, tracker = loaded.engine, loaded.tracker
    alerting = {(s.actor_id, s.counterparty_id): content(s) for s in engine.scores(min_band=tracker.min_band)}
    assert {pair: content(score) for pair, (_, score) in tracker._alerting.items()} == alerting != {}
    # as a replay of the log under the new weights would have it
    replayed, replay_tracker = ResolvingEngine(new_config), AlertTracker(new_config)
    run(replayed, replay_tracker, events[:cut], 0)
    assert {case: (a.band, a.score) for case, a in tracker._open.items()} == \
        {case: (a.band, a.score) for case, a in replay_tracker._open.items()}
    tail = events[cut:]
    assert [alerts for _, alerts in run(engine, tracker, tail, cut)] == \
        [alerts for _, alerts in run(replayed, replay_tracker, tail, cut)] == [[]] * len(tail)


def test_an_export_under_another_config_that_scores_the_same_is_imported_saying_so(tmp_path, capsys):
    events = [parse_event(line.encode()) for line in SEED.read_text().splitlines()]
    _, _, target = exported(tmp_path, capsys, events, len(events))
    lines = target.read_text().splitlines()
    lines[0] = json.dumps({**json.loads(lines[0]), "config_hash": "0" * 64})
    target.write_text("\n".join(lines) + "\n")
    code, said = cli(capsys, "snapshot", "import", str(target), "--snapshot-dir", str(tmp_path / "new"))
    assert code == 0 and "exported under the scoring config 000000000000" in said
    assert "every alert stands as it was" in said


def test_an_export_whose_explanations_this_version_words_anew_is_imported_holding_the_new_scores(tmp_path, capsys):
    """An upgrade that changes what explanations say and no score or band (the one that shows every relation's
    role: "-family->" became "<-family[son]-") moves no alert: the import takes the file, its alerts holding this
    version's scores, as a replay of the log would, and says how many. It was refused ("no alert transition would
    follow"), so every portable snapshot of real data needed --rescore after that upgrade."""
    events = [parse_event(line.encode()) for line in SEED.read_text().splitlines()]
    live, _, target = exported(tmp_path, capsys, events, len(events))
    records = _records(target)
    worded = 0
    for record in records:  # as the version before roles wrote them
        for score in [value for value in (record.get("score"), record.get("lead")) if isinstance(value, dict)]:
            for path in score["authority_paths"] + score["commercial_paths"]:
                path["text"] = re.sub(r"\[[^\]]*\]", "", path["text"])
                for edge in path["edges"]:
                    edge.pop("role", None)
                worded += 1
    assert worded
    target.write_text("\n".join(json.dumps(record) for record in records) + "\n")
    code, said = cli(capsys, "snapshot", "import", str(target), "--snapshot-dir", str(tmp_path / "new"))
    assert code == 0 and said.splitlines() == [said]
    assert "3 alerting pair(s) whose explanations this version words otherwise, nothing else" in said
    loaded, _ = worker_store(tmp_path / "new").load_newest()
    engine, tracker = loaded.engine, loaded.tracker
    alerting = {(s.actor_id, s.counterparty_id): content(s) for s in engine.scores(min_band=tracker.min_band)}
    assert {pair: content(score) for pair, (_, score) in tracker._alerting.items()} == alerting
    assert alerting == {(s.actor_id, s.counterparty_id): content(s) for s in live.scores(min_band=tracker.min_band)}
    assert all(content(alert.lead) == alerting[(alert.lead.actor_id, alert.lead.counterparty_id)]
               for alert in tracker._open.values())


def _records(target: Path) -> list[dict]:
    return [json.loads(line) for line in target.read_text().splitlines()]


def _index(records: list[dict], kind: str) -> int:
    return next(number for number, record in enumerate(records) if record["record"] == kind)


def _changed(kind: str, change):
    def edit(records):
        records = copy.deepcopy(records)
        change(records[_index(records, kind)])
        return [json.dumps(record) for record in records]
    return edit


def _inserted(line: str, counted: str | None = None):
    def edit(records):
        records = copy.deepcopy(records)
        if counted:
            records[-1]["records"][counted] = records[-1]["records"].get(counted, 0) + 1
        return [json.dumps(records[0]), line] + [json.dumps(record) for record in records[1:]]
    return edit


def _text(replace: str, by: str):
    def edit(records):
        text = "\n".join(json.dumps(record) for record in records)
        assert replace in text
        return text.replace(replace, by, 1).split("\n")
    return edit


def _rescaled_alert(records):
    """Both the alerting pair's score and its open alert's, changed alike: the alert records agree with each other,
    not with the scores of the relations (within the band: no alert would move, and it is still refused)."""
    records = copy.deepcopy(records)
    pair = records[_index(records, "alert_pair")]
    pair["score"]["score"] = round(pair["score"]["score"] * 0.99, 6)
    opened = next(r for r in records if r["record"] == "alert_open" and r["actor_id"] == pair["actor_id"]
                  and r["case_id"] == pair["case_id"])
    if opened["lead"]["counterparty_id"] == pair["counterparty_id"]:
        opened["lead"], opened["score"] = pair["score"], pair["score"]["score"]
    return [json.dumps(record) for record in records]


def _another_open_alert(records):
    records = copy.deepcopy(records)
    ghost = dict(records[_index(records, "alert_open")], actor_id="ghost")
    records[-1]["records"]["alert_open"] += 1
    return [json.dumps(records[0]), json.dumps(ghost)] + [json.dumps(record) for record in records[1:]]


# a file edited by hand, damaged, or of something else: each is refused with one line naming what is wrong
HOSTILE = {
    "negative offset": (_changed("header", lambda h: h.update(offsets={"0": -5})), "the offset of partition 0 is -5"),
    "fractional offset": (_changed("header", lambda h: h.update(offsets={"0": 3.7})), "is 3.7, not a whole number"),
    "offset as text": (_changed("header", lambda h: h.update(offsets={"0": "12"})), "is '12', not a whole number"),
    "offset true": (_changed("header", lambda h: h.update(offsets={"0": True})), "is True, not a whole number"),
    "offset beyond Kafka's": (_changed("header", lambda h: h.update(offsets={"0": 10 ** 30})), "not a whole number"),
    "negative partition": (_changed("header", lambda h: h.update(offsets={"-1": 5})), "the partition '-1'"),
    "no offsets": (_changed("header", lambda h: [h.pop("offsets"), h.pop("last_records")]), "names no offsets"),
    "format version 5.0": (_changed("header", lambda h: h.update(format_version=5.0)), "version 5.0 is not"),
    "format version '5'": (_changed("header", lambda h: h.update(format_version="5")), "version '5' is not"),
    "format version 8": (_changed("header", lambda h: h.update(format_version=8)), "version 8 is not supported"),
    "negative graph version": (_changed("header", lambda h: h.update(graph_version=-1)), "graph_version is -1"),
    "graph version as text": (_changed("header", lambda h: h.update(graph_version="9")), "graph_version is '9'"),
    "clock without offset": (_changed("header", lambda h: h.update(clock="2025-11-20T00:00:00")), "UTC offset"),
    "clock in year 9999": (_changed("header", lambda h: h.update(clock="9999-12-31T00:00:00+00:00")), "outside"),
    "extra header field": (_changed("header", lambda h: h.update(note="hi")), "fields export never writes: 'note'"),
    "extra record field": (_changed("event", lambda r: r.update(note="hi")), "an event record with fields"),
    "app id a list": (_changed("header", lambda h: h.update(app_id=["x"])), "app_id is ['x'], not text"),
    "last record past the offsets": (_changed("header", lambda h: h.update(last_records={"0": [999, 1]})),
                                     "at offset 999, not before"),
    "NaN": (_text('"offsets": {"0": ', '"offsets": {"0": NaN, "1": '), "NaN is not a JSON number"),
    "a key twice": (_text('"offsets": {', '"offsets": {"0": 1}, "offsets": {'), "'offsets' appears more than once"),
    "nested 100,000 deep": (_inserted('{"record": "event", "event": ' + "[" * 100_000 + "]" * 100_000 + "}"),
                            "nests too deeply"),
    "a 5,000-digit number": (_inserted('{"record": "alert_episodes", "actor_id": "a", "case_id": "c", "episodes": '
                                       + "9" * 5000 + "}"), "line 2: not a JSON record"),
    "an event of year 1": (_changed("event", lambda r: r["event"].update(observed_at="0001-01-01T00:00:00Z")),
                           "an event this version does not accept (invalid_event: observed_at 0001"),
    "a name of 10 MB": (_changed("event", lambda r: r["event"]["source"].update(name="x" * 10_000_000)),
                        "at most 500 characters"),
    "an event offset not a position": (_changed("event", lambda r: r.update(offset="zz")), "offset is 'zz'"),
    "event ids as one string": (_changed("events_seen", lambda r: r.update(event_ids="abc")), "not a list of event"),
    "event ids as numbers": (_changed("events_seen", lambda r: r.update(event_ids=[1, 2])), "not a list of event"),
    "identifiers of an id never named": (
        _inserted('{"record": "identifiers", "entity_id": "ghost", "identifiers": [{"scheme": "lei", "value": '
                  '"5493001KJTIIGC8Y1R12", "kind": "organizations", "event_id": "e1", "publisher": "p"}]}', "identifiers"),
        "identifiers of 'ghost', an id no event or entity record of the file names"),
    "an alerting pair of ids never scored": (
        _changed("alert_pair", lambda r: r.update(actor_id="ghost")), "holds the score of another pair"),
    "an open alert moved to another actor": (
        _changed("alert_open", lambda r: r.update(actor_id="ghost")), "has alerting pairs ([('p00', "),
    "an open alert without pairs": (_another_open_alert, "line 2: an open alert of ('ghost', 'c"),
    "a negative sequence": (_changed("alert_open", lambda r: r.update(sequence=-1)), "sequence is -1"),
    "a sequence as text": (_changed("alert_open", lambda r: r.update(sequence="3")), "sequence is '3'"),
    "an alert id of another episode": (_changed("alert_open", lambda r: r.update(alert_id="coi-" + "0" * 32)),
                                       "not coi-"),
    "an open alert's band": (_changed("alert_open", lambda r: r.update(band="none")), "not led by its strongest"),
    "an open alert's score": (_changed("alert_open", lambda r: r.update(score=0.99)), "not led by its strongest"),
    "episodes negative": (_changed("alert_episodes", lambda r: r.update(episodes=-7)), "episodes is -7"),
    "episodes true": (_changed("alert_episodes", lambda r: r.update(episodes=True)), "episodes is True"),
    "an alert state the relations do not score": (_rescaled_alert, "pass --rescore"),
    "an end count as text": (_changed("end", lambda r: r["records"].update(event=str(r["records"]["event"]))),
                             "count of event is"),
    "not UTF-8": (lambda records: [json.dumps(records[0]).encode("utf-8") + b"\xff"], "UnicodeDecodeError"),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_a_file_that_is_not_what_export_writes_is_refused_with_one_line_and_no_snapshot(tmp_path, capsys, name):
    events = log_with_merges_and_sequences()
    _, tracker, target = exported(tmp_path, capsys, events, len(events) * 2 // 3)
    assert tracker._episodes and tracker._open
    edit, why = HOSTILE[name]
    lines = edit(_records(target))
    target.write_bytes(b"\n".join(line if isinstance(line, bytes) else line.encode() for line in lines) + b"\n")
    code, said = cli(capsys, "snapshot", "import", str(target), "--snapshot-dir", str(tmp_path / "new"))
    assert code == 2 and said.splitlines() == [said] and said.startswith(f"cannot import {target}: ")
    assert why in said
    assert worker_store(tmp_path / "new").paths() == []


def test_a_line_longer_than_any_export_writes_is_refused_without_reading_it_whole(tmp_path, capsys, monkeypatch):
    import scoring.portable
    import streams.commands.snapshot as snapshot_command

    monkeypatch.setattr(scoring.portable, "MAX_LINE_BYTES", 1 << 20)
    events = [parse_event(line.encode()) for line in SEED.read_text().splitlines()]
    _, _, target = exported(tmp_path, capsys, events, 10)
    with target.open("a") as handle:
        handle.write('{"record": "event", "event": "' + "x" * (3 << 20))  # no newline: 3 MB on one line
    code, said = cli(capsys, "snapshot", "import", str(target), "--snapshot-dir", str(tmp_path / "new"))
    assert code == 2 and f"is longer than {1 << 20} bytes" in said
    stream = io.BytesIO(b"x" * (8 << 20))
    with pytest.raises(scoring.portable.PortableFormatError):
        list(snapshot_command._bounded_lines(stream, 1 << 20))
    assert stream.tell() == (1 << 20) + 1  # read up to the bound, not to the end


def test_an_import_holds_the_events_as_their_lines_until_it_applies_them():
    """A parsed event costs about ten times its line: holding every parsed event until the end of the file (the
    identifiers and entity records come after the events, and must be restored before them) took the import of
    100,000 relations to 1.05 GB for a state of 0.28 GB."""
    import subprocess
    import sys
    import tracemalloc

    from scoring.portable import export_state, import_lines

    lines = subprocess.run([sys.executable, "bench/synthetic.py", "3000"], cwd=SEED.parents[1], capture_output=True,
                           text=True, check=True).stdout.splitlines()
    engine, tracker = ResolvingEngine(), AlertTracker()
    tracker.observe(engine.load([(parse_event(line.encode()), f"0:{n}") for n, line in enumerate(lines)], {"0": 3000}))
    text = [json.dumps(record) for record in export_state(engine, tracker, {"offsets": {"0": 3000}})]
    size = sum(map(len, text))
    tracemalloc.start()
    try:
        imported = import_lines(text)
        state, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert imported[0].stats()["relations"] == engine.stats()["relations"]
    # beside the state it builds, the import holds little more than the file's text (it held 8 times the file)
    assert peak - state < 2.5 * size, (peak - state, size, state)


def test_an_export_says_it_is_the_state_as_of_its_snapshot(tmp_path, capsys):
    """The newest snapshot may be behind what the worker applied when it stopped (a user took the file for the
    worker's last state): the export says which snapshot, and that a worker started from it reads on in the log."""
    events = [parse_event(line.encode()) for line in SEED.read_text().splitlines()]
    engine, tracker = ResolvingEngine(), AlertTracker()
    run(engine, tracker, events[:18], 0)
    worker_store(tmp_path / "old").save(SnapshotState(engine, tracker, {0: 18}, {0: (17, APPENDED)}))
    code, said = cli(capsys, "snapshot", "export", "-o", str(tmp_path / "state.jsonl"), "--snapshot-dir",
                     str(tmp_path / "old"))
    assert code == 0 and said.splitlines() == [said], said
    assert re.fullmatch(r"exported snapshot-\S+ \(offsets \{'0': 18\}, 18 relations\) as \d+ lines; the state as of "
                        r"that snapshot \(20\d\d-\d\d-\d\dT\d\d:\d\d:\d\dZ\): a worker started from its import reads "
                        r"on from those offsets in the log", said), said


def test_a_worker_continuing_from_an_import_publishes_what_the_exporting_worker_would_byte_for_byte():
    """Two faults a review found after `snapshot export` + `snapshot import`: every later score and alert carried
    another graph_version than the exporting worker's (the import counted only the events it re-applied), so one
    (alert_id, sequence) came with two contents; and the re-applied events had no digests, so an id reused with
    other content was taken and the original, redelivered, dead-lettered. The tail after the cut restates
    relations, retracts and states one again, reuses an id with other content and redelivers the original."""
    from scoring import Engine
    from scoring.portable import export_state, import_lines
    from streams.processor import EventProcessor, InputRecord

    config = ScoringConfig.load()
    seed = [json.loads(line) for line in SEED.read_text().splitlines()]
    lists = next(e for e in seed if e["relation_id"] == "binance-lists-usd1")
    restated = [dict(e, event_id=e["event_id"] + "-v2", observed_at="2025-05-30T00:00:00Z") for e in seed[:6]]
    current = next(e for e in seed[6:] if e["relation_id"] != lists["relation_id"])  # still current at the cut
    reused = dict(current, properties={**current.get("properties", {}), "role": "something else"})
    tail = [dict(lists, event_id="later-retract", op="retract", observed_at="2025-06-01T00:00:00Z"),
            dict(lists, event_id="later-again", observed_at="2025-06-02T00:00:00Z"), reused, current, restated[2]]
    events = [*seed, *restated, *tail]
    appended = 1_750_838_400_000  # 2025-06-25, after every event's observed_at
    records = [InputRecord(json.dumps(e).encode(), e["relation_id"].encode(), "events", 0, offset, appended + offset)
               for offset, e in enumerate(events)]
    cut = len(seed) + len(restated)

    def processor(engine=None, tracker=None):
        return EventProcessor(engine or Engine(config), tracker or AlertTracker(config), None)

    uninterrupted = processor()
    published = [[(out.role, out.key, out.value) for out in uninterrupted.process(record).outbound]
                 for record in records]
    exporting = processor()
    for record in records[:cut]:
        exporting.process(record)
    lines = [json.dumps(record) for record in export_state(exporting.engine, exporting.tracker,
                                                           {"offsets": dict(exporting.next_offsets)})]
    layer, tracker, _ = import_lines(lines, config)
    continuing = processor(layer, tracker)
    continuing.next_offsets = dict(exporting.next_offsets)
    after = [[(out.role, out.key, out.value) for out in continuing.process(record).outbound]
             for record in records[cut:]]
    assert after == published[cut:]
    assert any(role == "alerts" for outputs in after for role, _, _ in outputs)
    assert [role for role, _, _ in published[cut + 2]] == ["dead_letters"]  # the reused id
    assert published[cut + 3] == []  # the original, redelivered
