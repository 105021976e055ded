"""Audit reports: for one pair or one entity, the score over time, every alert transition, the explaining paths at
each step and, for every edge, the evidence behind it. Built from a replay; rendered as JSON, Markdown and HTML."""

from __future__ import annotations

import html
import json
import re
import urllib.parse
from collections.abc import Callable, Iterable

from scoring.semantics import LABELLED_BY
from streams.render import printable
from streams.replay import ReplayItem

# Characters that open markup wherever they stand in a line of Markdown (CommonMark, with GitHub's tables and
# strikethrough): emphasis, code, links and images, raw HTML and autolinks, entities, a heading's closing hashes, table
# cells. Event text is written with a backslash before each, which a renderer shows as the character itself. (The
# closing "]" and ">" close nothing once no "[" or "<" can open.)
_MARKDOWN_MARKUP = re.compile(r"[\\`*_\[<|#&~]")
# What else is markup at the start of a list item's text: a list marker ("-", "+", "1." or "1)") would nest a list,
# and ">" a quote; the backslash goes before the sign.
_MARKDOWN_ITEM_START = re.compile(r"^(\d{1,9}(?=[.)])|(?=[-+>]))")
# Printable ASCII but the space and the angle brackets: what an autolink's address may hold as it is.
_AUTOLINK_SAFE = "".join(chr(code) for code in range(0x21, 0x7f) if chr(code) not in "<>")


def matches_subject(value: dict, pair: tuple[str, str] | None, entity: str | None) -> bool:
    if pair is not None:
        return (value["actor_id"], value["counterparty_id"]) == pair
    # an id merged into the actor or counterparty (entity resolution) is that entity too
    return entity in (value["actor_id"], value["counterparty_id"], *value.get("actor_merged_ids", ()),
                      *value.get("counterparty_merged_ids", ()))


def _alert_matches(value: dict, pair: tuple[str, str] | None, entity: str | None, followed: set[str]) -> bool:
    """An alert is about the subject when its lead pair is, or when the subject is its case or one of its related
    parties (one conflict, one alert: `scoring.alerts`); once it is, every later transition of it is too (a
    resolution lists no related parties and names the last lead)."""
    parties = {value.get("case_id"), *(party["id"] for party in value.get("related_parties", ()))} - {None}
    if value["alert_id"] in followed or matches_subject(value, pair, entity) or (
            pair[0] == value["actor_id"] and pair[1] in parties if pair is not None else entity in parties):
        followed.add(value["alert_id"])
        return True
    return False


def _paths(value: dict) -> list[dict]:
    return [{"kind": path["kind"], "text": path["text"], "strength": path["strength"],
             "edges": [{"relation_id": e["relation_id"], "relation_type": e["relation_type"],
                        "from": e["source_name"], "to": e["target_name"], "status": e["status"],
                        "evidence": e["evidence"],
                        # what the relation is, as stated: a role or a relationship (absent otherwise, as in
                        # the message)
                        **({"role": e["role"]} if e.get("role") else {}),
                        # statements not listed (the scoring config's limit, or cut to fit max_message_bytes;
                        # absent when none, as in the message)
                        **({"evidence_omitted": e["evidence_omitted"]} if e.get("evidence_omitted") else {})}
                       for e in path["edges"]]}
            for path in value["authority_paths"] + value["commercial_paths"]]


def _role(edge: dict) -> str:
    """", role <role>" (", relationship <son>" for a family tie or an associate) where the edge states one, else
    nothing."""
    if not edge.get("role"):
        return ""
    return f", {LABELLED_BY.get(edge['relation_type']) or 'role'} {edge['role']}"


def _left_out(edge: dict) -> str | None:
    """What the published message left out of an edge's evidence (`PathEdge.evidence_omitted`), or None."""
    omitted = edge.get("evidence_omitted")
    if not omitted:
        return None
    return (f"{omitted} more statements of this edge left out of the published message (beyond "
            "evidence.max_listed_statements, or cut to fit max_message_bytes; the weight counts them all)")


def build_report(items: Iterable[ReplayItem], pair: tuple[str, str] | None = None, entity: str | None = None,
                 as_of_scores: Iterable[dict] = (), window: str = "",
                 canonical: Callable[[str], str] | None = None) -> dict:
    """`canonical`: the replay's entity of an id as each item is read (`ResolvingEngine.canonical`), so that an id
    merged into another finds that entity's outputs even when the message's merged ids were cut to fit
    max_message_bytes (`MergeNote.member_ids_omitted`) and do not list it."""
    if (pair is None) == (entity is None):
        raise ValueError("an audit is of one pair or of one entity")
    timeline, transitions, rejected = [], [], []
    followed: set[str] = set()  # the alerts about the subject seen so far
    for item in items:
        offset = f"{item.record.partition}:{item.record.offset}"
        if item.outcome.rejected is not None:
            rejected.append({"offset": offset, "reason": item.outcome.rejected.value})
        for out in item.outcome.outbound:
            if out.role not in ("scores", "alerts"):
                continue
            value = json.loads(out.value)
            subjects = (entity,) if entity is None or canonical is None else tuple(dict.fromkeys(
                (entity, canonical(entity))))
            if not any(matches_subject(value, pair, subject) if out.role == "scores"
                       else _alert_matches(value, pair, subject, followed) for subject in subjects):
                continue
            entry = {"input_offset": offset, "actor": value["actor_name"], "actor_id": value["actor_id"],
                     "counterparty": value["counterparty_name"], "counterparty_id": value["counterparty_id"],
                     "score": value["score"], "band": value["band"], "rules": value["rules"],
                     "graph_version": value["graph_version"], "trigger_event_id": value["trigger_event_id"],
                     "paths": _paths(value), "merges": value.get("merges", [])}
            if out.role == "scores":
                timeline.append(entry)
            else:
                transitions.append({**entry, "alert_id": value["alert_id"], "sequence": value["sequence"],
                                    "state": value["state"], "previous_band": value["previous_band"]})
    latest: dict[tuple[str, str], dict] = {}
    for entry in timeline:
        latest[(entry["actor_id"], entry["counterparty_id"])] = entry
    return {
        "subject": {"pair": list(pair)} if pair else {"entity": entity},
        "window": window,
        "final": sorted(latest.values(), key=lambda e: (-e["score"], e["actor_id"], e["counterparty_id"])),
        "timeline": timeline,
        "alert_transitions": transitions,
        "as_of_scores": [s for s in as_of_scores if matches_subject(s, pair, entity)],
        "rejected_events_in_window": rejected,
    }


def _one_line(text) -> str:
    """Event text on one line, inert: a line break in it would start a block of its own in Markdown (a heading, a
    table row), and control characters are written as escapes, as on a terminal (`streams.render.printable`)."""
    return printable(" ".join(str(text).split()))


def _md(text) -> str:
    """Event text as Markdown that shows it and nothing else, within a line."""
    return _MARKDOWN_MARKUP.sub(r"\\\g<0>", _one_line(text))


def _md_item(text) -> str:
    """Event text as Markdown that opens a list item's text (right after "- ")."""
    return _MARKDOWN_ITEM_START.sub(r"\1\\", _md(text))


def _md_code(text) -> str:
    """Event text (an id) as a Markdown code span: nothing is markup inside one, and no escape works there either,
    so it is fenced by one backtick more than its longest run of them, and spaced off a backtick at either end."""
    line = _one_line(text)
    fence = "`" * (max(map(len, re.findall("`+", line)), default=0) + 1)
    padding = " " if line.startswith("`") or line.endswith("`") else ""
    return f"{fence}{padding}{line}{padding}{fence}"


def _md_source(url: str) -> str:
    """A source as a link when it is a web address (`_is_web_address`, as in the HTML report); as text otherwise.
    An autolink ends at a space or an angle bracket: those, control and non-ASCII characters are percent-encoded."""
    if not _is_web_address(url):
        return _md(url)
    return f"<{urllib.parse.quote(url.strip(), safe=_AUTOLINK_SAFE)}>"


def _evidence_lines(path: dict) -> list[str]:
    lines = []
    for edge in path["edges"]:
        for ev in edge["evidence"]:
            # a statement without its words is the extractor's say-so: said, so that an auditor asks for them
            quote = f' - "{_md(ev["quote"])}"' if ev.get("quote") else " - no quote"
            lines.append(f"    - {_md_code(edge['relation_id'])} ({_md(edge['relation_type'])}{_md(_role(edge))}, "
                         f"{_md(edge['status'])}): event {_md_code(ev['event_id'])} at offset "
                         f"{_md(ev.get('offset') or '-')}, {_md(ev['publisher'])}, {_md_source(ev['source_url'])}, "
                         f"extractor {_md(ev['extractor'])}, confidence {_md(ev['confidence'])}{quote}")
        left_out = _left_out(edge)
        if left_out:
            lines.append(f"    - {_md_code(edge['relation_id'])}: {left_out}")
    return lines


def _merge_lines(merges: list[dict]) -> list[str]:
    """Entity resolution: each merged entity of the score and the evidence of each merge, like an edge's."""
    lines = []
    for note in merges:
        more_ids = note.get("member_ids_omitted", 0)  # beyond evidence.max_listed_merges, or cut to fit
        lines.append(f"- merged: {_md(note['member_ids'][0])} stands for "
                     f"{', '.join(_md(member) for member in note['member_ids'])}"
                     + (f" and {more_ids} more ids" if more_ids else ""))
        for ev in note["evidence"]:
            if ev["kind"] == "judgement":
                lines.append(f"    - same_as judgement event {_md_code(ev['event_id'])}, {_md(ev['publisher'])}, "
                             f"{_md_source(ev['source_url'])}, matcher {_md(ev.get('matcher') or '-')}"
                             + (f", criteria: {_md(ev['criteria'])}" if ev.get("criteria") else ""))
            else:
                lines.append(f"    - {_md_item(ev['text'])}")
        if note.get("evidence_omitted"):
            lines.append(f"    - {note['evidence_omitted']} more merges left out of the published message (beyond "
                         f"evidence.max_listed_merges, or cut to fit max_message_bytes; "
                         f"GET /entities/{_md(note['member_ids'][0])} lists them all)")
    return lines


def _subject(report: dict) -> str:
    subject = report["subject"]
    return " x ".join(subject["pair"]) if "pair" in subject else subject["entity"]


def _rules(rules: list[str]) -> str:
    return ", ".join(_md(rule) for rule in rules) or "-"


def render_markdown(report: dict) -> str:
    """The report in Markdown. Every name, id, URL and text in it comes from the events (or the command line) and is
    escaped (`_md`, `_md_code`), so that an event can neither add markup (a link, HTML, a heading, a table cell) nor
    link anything but a web address."""
    out = [f"# Conflict-of-interest audit: {_md(_subject(report))}", "",
           f"Log window: {_md(report['window'] or 'whole topic')}", ""]
    if report.get("bulk_load"):
        out += [f"Bulk load: {_md(report['bulk_load'])}.", ""]
    out += ["## Current assessment", ""]
    if not report["final"]:
        out.append("No score was ever published for this subject in the window.")
    for entry in report["final"]:
        out += [f"- **{_md(entry['actor'])} x {_md(entry['counterparty'])}**: {_md(entry['band'])} "
                f"({entry['score']:.3f}), rules {_rules(entry['rules'])}"]
    out += ["", "## Score over time", "", "| input offset | graph version | pair | score | band | trigger event |",
            "|---|---|---|---|---|---|"]
    for e in report["timeline"]:
        out.append(f"| {_md(e['input_offset'])} | {_md(e['graph_version'])} | {_md(e['actor'])} x "
                   f"{_md(e['counterparty'])} | {e['score']:.3f} | {_md(e['band'])} | "
                   f"{_md(e['trigger_event_id'] or '-')} |")
    out += ["", "## Alert transitions", ""]
    if not report["alert_transitions"]:
        out.append("None.")
    for t in report["alert_transitions"]:
        out += [f"### {_md(t['state'].upper())} {_md(t['previous_band'])} -> {_md(t['band'])}: {_md(t['actor'])} x "
                f"{_md(t['counterparty'])}",
                "", f"Alert {_md_code(t['alert_id'])} #{_md(t['sequence'])}, score {t['score']:.3f}, rules "
                f"{_rules(t['rules'])}, at input offset {_md(t['input_offset'])} "
                f"(event {_md_code(t['trigger_event_id'])}).", ""]
        for path in t["paths"]:
            out.append(f"- {_md_item(path['kind'])}: {_md(path['text'])} (strength {path['strength']:.2f})")
            out += _evidence_lines(path)
        out += _merge_lines(t.get("merges", []))
        out.append("")
    if report["as_of_scores"] or report.get("as_of"):
        # asked for, it is shown even empty: a report without the section reads as one that was never asked
        out += ["## As of a validity date", ""]
        for s in report["as_of_scores"]:
            out.append(f"- {_md_item(s['actor_name'])} x {_md(s['counterparty_name'])}: {_md(s['band'])} "
                       f"({s['score']:.3f}) as of {_md(s['as_of'])}")
        if not report["as_of_scores"]:
            out.append(f"No pair of this subject scores as of {_md(report['as_of'])}.")
        out.append("")
    if report["rejected_events_in_window"]:
        out += ["## Rejected input in the window", ""]
        out += [f"- offset {_md(r['offset'])}: {_md(r['reason'])}" for r in report["rejected_events_in_window"]]
    return "\n".join(out).rstrip() + "\n"


def _is_web_address(url: str) -> bool:
    """Whether a source URL from an event may be linked, in either report: only http(s). A `javascript:` or `data:`
    one would run its script in the report's page when the analyst follows it; one that does not parse is text."""
    try:
        return urllib.parse.urlsplit(url.strip()).scheme.lower() in ("http", "https")
    except ValueError:
        return False


def _link(url: str) -> str:
    """A source as a link when it is a web address; as text otherwise."""
    text = html.escape(url)
    if not _is_web_address(url):
        return text
    return f'<a href="{text}" rel="noopener noreferrer">{text}</a>'


def render_html(report: dict) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(e['input_offset'])}</td><td>{e['graph_version']}</td>"
        f"<td>{html.escape(e['actor'])} x {html.escape(e['counterparty'])}</td><td>{e['score']:.3f}</td>"
        f"<td>{html.escape(e['band'])}</td><td>{html.escape(e['trigger_event_id'] or '-')}</td></tr>"
        for e in report["timeline"])
    transitions = []
    for t in report["alert_transitions"]:
        items = []
        for path in t["paths"]:
            evidence = "".join(
                "".join(
                    f"<li><code>{html.escape(edge['relation_id'])}</code> ({html.escape(edge['relation_type'])}"
                    f"{html.escape(_role(edge))}, "
                    f"{html.escape(edge['status'])}): event <code>{html.escape(ev['event_id'])}</code>, offset "
                    f"{html.escape(str(ev.get('offset') or '-'))}, {html.escape(ev['publisher'])}, "
                    f"{_link(ev['source_url'])}, extractor "
                    f"{html.escape(ev['extractor'])}, confidence {ev['confidence']}"
                    + (f", &ldquo;{html.escape(ev['quote'])}&rdquo;" if ev.get("quote") else ", no quote") + "</li>"
                    for ev in edge["evidence"])
                + (f"<li><code>{html.escape(edge['relation_id'])}</code>: {html.escape(_left_out(edge))}</li>"
                   if _left_out(edge) else "")
                for edge in path["edges"])
            items.append(f"<li><b>{html.escape(path['kind'])}</b>: {html.escape(path['text'])} "
                         f"({path['strength']:.2f})<ul>{evidence}</ul></li>")
        items += [f"<li><b>merged</b>: {html.escape(note['text'])}</li>" for note in t.get("merges", [])]
        transitions.append(
            f"<h3>{html.escape(t['state'].upper())} {html.escape(t['previous_band'])} &rarr; "
            f"{html.escape(t['band'])}: {html.escape(t['actor'])} x {html.escape(t['counterparty'])}</h3>"
            f"<p>Alert <code>{html.escape(t['alert_id'])}</code> #{t['sequence']}, score {t['score']:.3f}, "
            f"offset {html.escape(t['input_offset'])}</p><ul>{''.join(items)}</ul>")
    title = html.escape(f"Conflict-of-interest audit: {_subject(report)}")
    return (f"<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title>"
            "<style>body{font-family:sans-serif;max-width:70em;margin:auto}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:2px 6px}</style></head><body>"
            f"<h1>{title}</h1><p>Log window: {html.escape(report['window'] or 'whole topic')}</p>"
            + (f"<p>Bulk load: {html.escape(report['bulk_load'])}.</p>" if report.get("bulk_load") else "") +
            "<h2>Score over time</h2><table><tr><th>input offset</th><th>graph version</th><th>pair</th>"
            f"<th>score</th><th>band</th><th>trigger event</th></tr>{rows}</table>"
            f"<h2>Alert transitions</h2>{''.join(transitions) or '<p>None.</p>'}{_html_as_of(report)}</body></html>\n")


def _html_as_of(report: dict) -> str:
    if not report["as_of_scores"] and not report.get("as_of"):
        return ""
    items = "".join(f"<li>{html.escape(s['actor_name'])} x {html.escape(s['counterparty_name'])}: "
                    f"{html.escape(s['band'])} ({s['score']:.3f}) as of {html.escape(s['as_of'])}</li>"
                    for s in report["as_of_scores"])
    empty = f"<p>No pair of this subject scores as of {html.escape(report.get('as_of') or '')}.</p>"
    return "<h2>As of a validity date</h2>" + (f"<ul>{items}</ul>" if items else empty)
