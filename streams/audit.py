"""Audit reports: for one pair or one entity, the score over time, every alert transition, the explaining paths at
each step and, for every edge, the evidence behind it. Built from a replay; rendered as JSON, Markdown and HTML."""

from __future__ import annotations

import html
import json
import urllib.parse
from collections.abc import Iterable

from streams.replay import ReplayItem


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
                        "evidence": e["evidence"]} for e in path["edges"]]}
            for path in value["authority_paths"] + value["commercial_paths"]]


def build_report(items: Iterable[ReplayItem], pair: tuple[str, str] | None = None, entity: str | None = None,
                 as_of_scores: Iterable[dict] = (), window: str = "") -> dict:
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
            if not (matches_subject(value, pair, entity) if out.role == "scores"
                    else _alert_matches(value, pair, entity, followed)):
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


def _evidence_lines(path: dict) -> list[str]:
    lines = []
    for edge in path["edges"]:
        for ev in edge["evidence"]:
            quote = f' - "{ev["quote"]}"' if ev.get("quote") else ""
            lines.append(f"    - `{edge['relation_id']}` ({edge['relation_type']}, {edge['status']}): event "
                         f"`{ev['event_id']}` at offset {ev.get('offset') or '-'}, {ev['publisher']}, "
                         f"<{ev['source_url']}>, extractor {ev['extractor']}, confidence {ev['confidence']}{quote}")
    return lines


def _merge_lines(merges: list[dict]) -> list[str]:
    """Entity resolution: each merged entity of the score and the evidence of each merge, like an edge's."""
    lines = []
    for note in merges:
        lines.append(f"- merged: {note['member_ids'][0]} stands for {', '.join(note['member_ids'])}")
        for ev in note["evidence"]:
            if ev["kind"] == "judgement":
                lines.append(f"    - same_as judgement event `{ev['event_id']}`, {ev['publisher']}, "
                             f"<{ev['source_url']}>, matcher {ev.get('matcher') or '-'}"
                             + (f", criteria: {ev['criteria']}" if ev.get("criteria") else ""))
            else:
                lines.append(f"    - {ev['text']}")
    return lines


def _subject(report: dict) -> str:
    subject = report["subject"]
    return " x ".join(subject["pair"]) if "pair" in subject else subject["entity"]


def render_markdown(report: dict) -> str:
    out = [f"# Conflict-of-interest audit: {_subject(report)}", "",
           f"Log window: {report['window'] or 'whole topic'}", ""]
    if report.get("bulk_load"):
        out += [f"Bulk load: {report['bulk_load']}.", ""]
    out += ["## Current assessment", ""]
    if not report["final"]:
        out.append("No score was ever published for this subject in the window.")
    for entry in report["final"]:
        out += [f"- **{entry['actor']} x {entry['counterparty']}**: {entry['band']} ({entry['score']:.3f}), "
                f"rules {', '.join(entry['rules']) or '-'}"]
    out += ["", "## Score over time", "", "| input offset | graph version | pair | score | band | trigger event |",
            "|---|---|---|---|---|---|"]
    for e in report["timeline"]:
        out.append(f"| {e['input_offset']} | {e['graph_version']} | {e['actor']} x {e['counterparty']} | "
                   f"{e['score']:.3f} | {e['band']} | {e['trigger_event_id'] or '-'} |")
    out += ["", "## Alert transitions", ""]
    if not report["alert_transitions"]:
        out.append("None.")
    for t in report["alert_transitions"]:
        out += [f"### {t['state'].upper()} {t['previous_band']} -> {t['band']}: {t['actor']} x {t['counterparty']}",
                "", f"Alert `{t['alert_id']}` #{t['sequence']}, score {t['score']:.3f}, rules "
                f"{', '.join(t['rules']) or '-'}, at input offset {t['input_offset']} "
                f"(event `{t['trigger_event_id']}`).", ""]
        for path in t["paths"]:
            out.append(f"- {path['kind']}: {path['text']} (strength {path['strength']:.2f})")
            out += _evidence_lines(path)
        out += _merge_lines(t.get("merges", []))
        out.append("")
    if report["as_of_scores"]:
        out += ["## As of a validity date", ""]
        for s in report["as_of_scores"]:
            out.append(f"- {s['actor_name']} x {s['counterparty_name']}: {s['band']} ({s['score']:.3f}) as of "
                       f"{s['as_of']}")
        out.append("")
    if report["rejected_events_in_window"]:
        out += ["## Rejected input in the window", ""]
        out += [f"- offset {r['offset']}: {r['reason']}" for r in report["rejected_events_in_window"]]
    return "\n".join(out).rstrip() + "\n"


def _link(url: str) -> str:
    """A source as a link when it is a web address; as text otherwise. Source URLs come from the events: a
    `javascript:` or `data:` one would run its script in the report's page when the analyst follows it."""
    text = html.escape(url)
    if urllib.parse.urlsplit(url.strip()).scheme.lower() not in ("http", "https"):
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
                f"<li><code>{html.escape(edge['relation_id'])}</code> ({html.escape(edge['relation_type'])}, "
                f"{html.escape(edge['status'])}): event <code>{html.escape(ev['event_id'])}</code>, offset "
                f"{html.escape(str(ev.get('offset') or '-'))}, {html.escape(ev['publisher'])}, "
                f"{_link(ev['source_url'])}, extractor "
                f"{html.escape(ev['extractor'])}, confidence {ev['confidence']}"
                + (f", &ldquo;{html.escape(ev['quote'])}&rdquo;" if ev.get("quote") else "") + "</li>"
                for edge in path["edges"] for ev in edge["evidence"])
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
            f"<h2>Alert transitions</h2>{''.join(transitions) or '<p>None.</p>'}</body></html>\n")
