"""Audit reports of alert cases and of merged ids (found by a time and alert-lifecycle review)."""

from __future__ import annotations

import json

import pytest

from scoring import AlertTracker, Engine, ScoringConfig
from streams.processor import EventProcessor, InputRecord
from streams.replay import ReplayItem

PROVENANCE = {"source_url": "https://example.org/a", "publisher": "Example", "retrieved_at": "2025-01-01T00:00:00Z",
              "extractor": {"name": "test", "version": "1"}, "confidence": 1.0}
MINISTER = {"id": "minister", "schema": "Person", "name": "Minister", "topics": ["role.pep"]}
REGULATOR = {"id": "regulator", "schema": "PublicBody", "name": "Regulator"}
DAUGHTER = {"id": "daughter", "schema": "Person", "name": "Daughter"}
HOLDCO = {"id": "media-holding", "schema": "Company", "name": "Media Holding"}
BROADCASTER = {"id": "broadcaster", "schema": "Company", "name": "National Broadcaster"}


def relation(number: int, kind: str, source: dict, target: dict, op: str = "upsert", **properties) -> dict:
    return {"schema_version": "1.1", "event_id": f"e{number}", "relation_id": f"{source['id']}-{kind}-{target['id']}",
            "relation_type": kind, "op": op, "source": source, "target": target, "properties": properties,
            "observed_at": f"2025-01-{number:02d}T00:00:00Z", "provenance": PROVENANCE}


def processed(documents: list[dict]) -> tuple[EventProcessor, list[ReplayItem]]:
    config = ScoringConfig.load()
    processor = EventProcessor(Engine(config), AlertTracker(config))
    items = []
    for offset, document in enumerate(documents):
        record = InputRecord(json.dumps(document).encode(), document["relation_id"].encode(), "events", 0, offset)
        items.append(ReplayItem(record, processor.process(record), True))
    return processor, items


def planted_case() -> list[dict]:
    """The KEK-like case of tests/unit/scoring/test_alert_cases.py: one alert, keyed by the broadcaster, whose
    related parties are the holding company and the daughter; then the regulator's power ends (resolved)."""
    return [relation(1, "control", MINISTER, REGULATOR), relation(2, "regulates", REGULATOR, BROADCASTER),
            relation(3, "family", DAUGHTER, MINISTER), relation(4, "ownership", DAUGHTER, HOLDCO, percentage=100),
            relation(5, "ownership", HOLDCO, BROADCASTER, percentage=60),
            relation(6, "regulates", REGULATOR, BROADCASTER, op="retract")]


def test_the_audit_of_a_related_party_shows_the_alert_of_its_case():
    from streams.audit import build_report

    _, items = processed(planted_case())
    alerts = [json.loads(out.value) for item in items for out in item.outcome.outbound if out.role == "alerts"]
    assert [(a["state"], a["case_id"]) for a in alerts] == [("raised", "broadcaster"), ("resolved", "broadcaster")]
    assert "media-holding" in {p["id"] for p in alerts[0]["related_parties"]}
    # the pair minister x media-holding alerted (the scores topic says high or above) and is a party of the alert
    report = build_report(items, pair=("minister", "media-holding"))
    assert any(entry["band"] in ("high", "critical") for entry in report["timeline"])
    assert [t["state"] for t in report["alert_transitions"]] == ["raised", "resolved"]
    by_entity = build_report(items, entity="media-holding")
    assert [t["state"] for t in by_entity["alert_transitions"]] == ["raised", "resolved"]


def test_the_audit_as_of_a_date_finds_a_merged_id_as_its_timeline_does(tmp_path, monkeypatch):
    import streams.replay as replay_module
    from streams.cli import main

    minister = {"id": "reg-minister", "schema": "Person", "name": "Jan Kowalski", "topics": ["role.pep"]}
    news = {"id": "news-kowalski", "schema": "Person", "name": "Jan Kowalski"}
    bank = {"id": "bank", "schema": "Company", "name": "Big Bank"}
    vendor = {"id": "vendor", "schema": "Company", "name": "Vendor Ltd"}
    judgement = {**relation(9, "same_as", minister, news), "status": "confirmed",
                 "properties": {"matcher": "analyst"}, "relation_id": "same-k"}
    processor, items = processed([relation(1, "control", minister, REGULATOR), relation(2, "regulates", REGULATOR, bank),
                                  relation(3, "ownership", news, vendor, percentage=100),
                                  relation(4, "payment", bank, vendor, amount=1e6, currency="USD"), judgement])
    assert processor.engine.canonical("reg-minister") == "news-kowalski"
    monkeypatch.setattr(replay_module, "new_processor", lambda settings: processor)
    monkeypatch.setattr(replay_module, "replay", lambda settings, start, end, proc, summary, *rest: iter(items))
    assert main(["audit", "--entity", "reg-minister", "--as-of", "2025-01-05", "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["timeline"]  # the merged id is found in the scores...
    assert [(s["actor_id"], s["counterparty_id"]) for s in report["as_of_scores"]] == [("news-kowalski", "bank")]


def _audit(tmp_path, monkeypatch, argv: list[str]) -> int:
    import streams.replay as replay_module
    from streams.cli import main

    processor, items = processed(planted_case())
    monkeypatch.setattr(replay_module, "new_processor", lambda settings: processor)
    monkeypatch.setattr(replay_module, "replay", lambda settings, start, end, proc, summary, *rest: iter(items))
    return main(["audit", *argv, "--out", str(tmp_path)])


def test_an_audit_of_an_id_no_event_names_writes_no_report(tmp_path, monkeypatch, capsys):
    # "No score was ever published for this subject in the window", exit 0: a typo filed as a clean report
    assert _audit(tmp_path, monkeypatch, ["--pair", "Minister", "media-holding"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("coi-risk audit: no event in the log names the entity 'Minister': check the id")
    assert not (tmp_path / "report.md").exists()
    assert _audit(tmp_path, monkeypatch, ["--entity", "minister", "--to", "0:3"]) == 0  # ids as the events give them


def test_an_audit_asked_as_of_a_date_says_so_when_nothing_scores_then(tmp_path, monkeypatch):
    # the section was left out when empty: a reader could not tell whether --as-of was applied
    assert _audit(tmp_path, monkeypatch, ["--entity", "minister", "--as-of", "1990-01-01"]) == 0
    markdown = (tmp_path / "report.md").read_text()
    assert "## As of a validity date\n\nNo pair of this subject scores as of 1990-01-01." in markdown
    assert "No pair of this subject scores as of 1990-01-01." in (tmp_path / "report.html").read_text()
    assert json.loads((tmp_path / "report.json").read_text())["as_of"] == "1990-01-01"


@pytest.mark.parametrize("start, end, why", [
    ("0:10", "0:5", "--from 0:10 is after --to 0:5"),
    ("beginning", "5:3", "--to names partition 5, which events does not have (its partitions: 0, 1)"),
    ("2:0", "end", "--from names partition 2, which events does not have (its partitions: 0, 1)"),
    ("2025-03-01T00:00:00Z", "2025-01-01T00:00:00Z", "--from is after --to"),
])
def test_a_window_no_log_can_have_is_refused(start, end, why):
    from streams.replay import Position, WindowRefused, refuse_impossible_window

    with pytest.raises(WindowRefused) as refused:
        refuse_impossible_window("events", [0, 1], Position.parse(start), Position.parse(end))
    assert str(refused.value) == why


def test_a_window_any_log_can_have_passes():
    from streams.replay import Position, refuse_impossible_window

    for start, end in (("0:5", "0:5"), ("0:1,1:9", "0:4,1:9"), ("beginning", "end"), ("1:3", "0:2")):
        refuse_impossible_window("events", [0, 1], Position.parse(start), Position.parse(end))


def test_an_audit_of_a_pair_checks_both_ids_and_says_up_to_where(tmp_path, monkeypatch, capsys):
    (tmp_path / "report.md").write_text("an earlier audit")
    assert _audit(tmp_path, monkeypatch, ["--pair", "minister", "Media-Holding", "--to", "0:4"]) == 2
    err = capsys.readouterr().err
    assert "no event up to 0:4 names the entity 'Media-Holding'" in err
    assert err.rstrip().endswith("no report written (report.md in " + str(tmp_path) + " are an earlier audit's)")
    assert (tmp_path / "report.md").read_text() == "an earlier audit"


def test_a_window_that_resolves_to_a_start_after_its_end_is_refused():
    from streams.log_reader import Bounds
    from streams.replay import Position, WindowRefused, refuse_impossible_window

    # --from 0:150 --to <a time whose offset is 10>: two kinds of position, compared once both are offsets
    with pytest.raises(WindowRefused, match="in partition 0 of events the window would begin at offset 150 and end "
                                            "at 10"):
        refuse_impossible_window("events", [0], Position.parse("0:150"), Position.parse("2025-01-11T00:00:00Z"),
                                 Bounds(start={0: 150}, end={0: 10}))


@pytest.mark.parametrize("argv", [["replay", "--from", "end"], ["audit", "--entity", "x", "--to", "beginning"]])
def test_end_as_a_start_and_beginning_as_an_end_are_usage_errors(argv, capsys):
    from streams.cli import main

    with pytest.raises(SystemExit) as stopped:  # both read as the default: a window of the whole log
        main(argv)
    assert stopped.value.code == 2 and "is where a window" in capsys.readouterr().err
