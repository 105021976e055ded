"""`coi-risk suggest-merges` and `coi-risk review`: suggestions from the matcher, decisions from an analyst, and the
scores of the data with those decisions (`coi-risk score`)."""

from __future__ import annotations

import io
import json

from streams.cli import main

PROVENANCE = {"source_url": "https://example.org/a", "publisher": "Example", "retrieved_at": "2025-01-01T00:00:00Z",
              "extractor": {"name": "test", "version": "1"}, "confidence": 1.0}


def event(number: int, relation_type: str, source: dict, target: dict, **properties) -> dict:
    return {"schema_version": "1.0", "event_id": f"e{number}", "relation_id": f"r{number}",
            "relation_type": relation_type, "source": source, "target": target, "properties": properties,
            "observed_at": f"2025-01-0{number}T00:00:00Z", "provenance": PROVENANCE}


TRUMP = {"id": "Q22686", "schema": "Person", "name": "Donald Trump", "topics": ["role.pep", "gov.head"]}
TRUMP_NEWS = {"id": "news-donald-j-trump", "schema": "Person", "name": "Donald J. Trump"}
JUNIOR = {"id": "Q3713655", "schema": "Person", "name": "Donald Trump Jr."}
REGULATOR = {"id": "regulator", "schema": "PublicBody", "name": "Financial Regulator"}
BANK = {"id": "bank", "schema": "Company", "name": "Big Bank"}
VENDOR = {"id": "vendor", "schema": "Company", "name": "Vendor Ltd"}
CZ = {"id": "cz", "schema": "Person", "name": "CZ"}
ZHAO = {"id": "os-changpeng-zhao", "schema": "Person", "name": "Changpeng Zhao"}


def write_events(path) -> None:
    events = [event(1, "control", TRUMP, REGULATOR), event(2, "regulates", REGULATOR, BANK),
              event(3, "ownership", TRUMP_NEWS, VENDOR, percentage=100),
              event(4, "payment", BANK, VENDOR, amount=1e6, currency="USD"),
              event(5, "ownership", JUNIOR, {"id": "holdco", "schema": "Company", "name": "Holdco"}, percentage=60),
              event(6, "associate", CZ, ZHAO)]
    path.write_text("".join(json.dumps(e) + "\n" for e in events))


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_suggestions_propose_name_matches_only_and_are_deterministic(tmp_path, capsys):
    events = tmp_path / "events.jsonl"
    write_events(events)
    code, out, err = run(capsys, "suggest-merges", str(events))
    assert code == 0 and "3 merges proposed" in err
    proposed = [json.loads(line) for line in out.splitlines()]
    pairs = {tuple(sorted((p["source"]["id"], p["target"]["id"]))) for p in proposed}
    # the three Trumps are proposed to each other; "CZ" and "Changpeng Zhao" share no name token
    assert pairs == {("Q22686", "Q3713655"), ("Q22686", "news-donald-j-trump"), ("Q3713655", "news-donald-j-trump")}
    assert all(p["status"] == "proposed" and p["relation_type"] == "same_as" for p in proposed)
    assert all("name " in p["properties"]["criteria"] and p["properties"]["matcher"].startswith(
        "followthemoney.compare") for p in proposed)
    assert run(capsys, "suggest-merges", str(events))[1] == out  # the same file gives the same lines
    # the suggestions merge nothing: the file with them scores as without
    with_suggestions = tmp_path / "with.jsonl"
    with_suggestions.write_text(events.read_text() + out)
    assert run(capsys, "score", str(with_suggestions), "--json")[1] == run(capsys, "score", str(events), "--json")[1]


def test_review_turns_answers_into_judgements_that_the_scores_follow(tmp_path, capsys, monkeypatch):
    events = tmp_path / "events.jsonl"
    write_events(events)
    suggestions = tmp_path / "suggestions.jsonl"
    suggestions.write_text(run(capsys, "suggest-merges", str(events))[1])
    assert run(capsys, "score", str(events), "--json")[1] == ""  # apart, no conflict
    # best first: J. Trump = Jr. (0.387): no; Trump = J. Trump (0.199): yes; Trump = Jr. is then settled without
    # asking (Trump's cluster now holds J. Trump, whom the analyst kept apart from Jr.)
    monkeypatch.setattr("sys.stdin", io.StringIO("n\ny\n"))
    code, out, err = run(capsys, "review", str(events), str(suggestions), "--analyst", "A. Analyst",
                         "--at", "2025-02-01T00:00:00+00:00")
    assert code == 0
    assert "Donald J. Trump (news-donald-j-trump, Person)" in err and "-ownership-> Vendor Ltd (vendor)" in err
    assert "why suggested: followthemoney.compare" in err
    judgements = [json.loads(line) for line in out.splitlines()]
    decided = {tuple(sorted((j["source"]["id"], j["target"]["id"]))): j["status"] for j in judgements}
    assert decided == {("Q3713655", "news-donald-j-trump"): "denied", ("Q22686", "news-donald-j-trump"): "confirmed"}
    assert "[3/3]" not in err
    assert all(j["provenance"]["publisher"] == "A. Analyst" for j in judgements)
    combined = tmp_path / "combined.jsonl"
    combined.write_text(events.read_text() + out)
    scores = [json.loads(line) for line in run(capsys, "score", str(combined), "--json")[1].splitlines()]
    assert [(s["actor_id"], s["counterparty_id"]) for s in scores] == [("Q22686", "bank")]
    assert scores[0]["actor_merged_ids"] == ["Q22686", "news-donald-j-trump"]
    assert "by judgement event review-" in scores[0]["merges"][0]["text"]


def test_the_mixed_source_example_scores_only_with_the_judgement(tmp_path, capsys):
    """examples/resolution: a register (Wikidata ids, register numbers) and a news extractor (slugs) name one
    minister and one bank. The bank merges on its register number (written 556000-1234 and 5560001234); the
    minister only with the analyst's judgement, and only then does the conflict appear."""
    from pathlib import Path

    example = Path(__file__).resolve().parents[3] / "examples" / "resolution"
    sources = tmp_path / "sources.jsonl"
    sources.write_text((example / "register.jsonl").read_text() + (example / "news.jsonl").read_text())
    assert run(capsys, "score", str(sources), "--json")[1] == ""
    proposed = [json.loads(line) for line in run(capsys, "suggest-merges", str(sources))[1].splitlines()]
    assert [sorted((p["source"]["id"], p["target"]["id"])) for p in proposed] == [["Q4570123", "news-anna-berg"]]
    judged = tmp_path / "judged.jsonl"
    judged.write_text(sources.read_text() + (example / "judgements.jsonl").read_text())
    scores = [json.loads(line) for line in run(capsys, "score", str(judged), "--json")[1].splitlines()]
    assert [(s["actor_id"], s["counterparty_id"], s["band"]) for s in scores] == [
        ("Q4570123", "news-nordbank", "medium")]
    assert scores[0]["counterparty_merged_ids"] == ["news-nordbank", "se-org-5560001234"]
    texts = [m["text"] for m in scores[0]["merges"]]
    assert texts == [
        "Anna Berg (Q4570123) = Anna Berg (news-anna-berg), by judgement event review-anna-berg-1 from Example "
        "Daily research desk (analyst)",
        "Nordbank (news-nordbank) = Nordbank AB (se-org-5560001234), by shared identifier register:se:5560001234 "
        "(event news-2 from Example Daily, event reg-3 from Example Register of Office Holders)"]
    twice = [run(capsys, "score", str(judged), "--json")[1] for _ in range(2)]
    assert twice[0] == twice[1]  # byte-identical


def _suggested(tmp_path, capsys):
    events = tmp_path / "events.jsonl"
    write_events(events)
    suggestions = tmp_path / "suggestions.jsonl"
    suggestions.write_text(run(capsys, "suggest-merges", str(events))[1])
    return events, suggestions


def test_review_produce_checks_the_settings_before_the_first_question(tmp_path, capsys, monkeypatch):
    events, suggestions = _suggested(tmp_path, capsys)
    monkeypatch.setenv("COI_SECURITY_PROTOCOL", "TLS")
    monkeypatch.setattr("sys.stdin", io.StringIO("y\ny\ny\n"))
    code, out, err = run(capsys, "review", str(events), str(suggestions), "--produce")
    assert code == 2 and "setting security_protocol" in err
    assert "same entity?" not in err, "the analyst was asked, then the answers were lost to the setting"


def test_review_produce_keeps_the_judgements_when_the_broker_is_not_there(tmp_path, capsys, monkeypatch):
    from kafka.errors import KafkaTimeoutError

    events, suggestions = _suggested(tmp_path, capsys)

    def unreachable(*args, **kwargs):
        raise KafkaTimeoutError("Unable to bootstrap from ['127.0.0.1:1']")

    monkeypatch.setattr("streams.commands.produce.produce_lines", unreachable)
    monkeypatch.setattr("sys.stdin", io.StringIO("y\nn\n"))
    code, out, err = run(capsys, "review", str(events), str(suggestions), "--produce", "--bootstrap-servers",
                         "127.0.0.1:1")
    assert code == 1 and "Kafka: KafkaTimeoutError: Unable to bootstrap" in err
    assert "judgements were NOT published; they are on stdout" in err
    assert [json.loads(line)["status"] for line in out.splitlines()] == ["confirmed", "denied"]


def test_review_checks_the_out_file_before_the_first_question(tmp_path, capsys, monkeypatch):
    events, suggestions = _suggested(tmp_path, capsys)
    monkeypatch.setattr("sys.stdin", io.StringIO("y\ny\ny\n"))
    for unwritable in (tmp_path / "missing-dir" / "judgements.jsonl", tmp_path):
        code, out, err = run(capsys, "review", str(events), str(suggestions), "--out", str(unwritable))
        assert code == 2 and f"coi-risk review: cannot write {unwritable}: " in err
        assert "same entity?" not in err, "the analyst was asked, then the answers were lost to the file"
