"""`coi-risk review EVENTS.jsonl [SUGGESTIONS.jsonl]`: an analyst confirms or denies proposed merges.

For each open suggestion (a `proposed` or `in_discussion` same_as judgement, from SUGGESTIONS or from EVENTS, not
yet merged, denied or judged since) it shows both entities (names, aliases, identifiers, topics, the ids already
merged into each), their relations as the events state them, and the matcher's explanation, then asks. `y` turns
the suggestion into a `confirmed` judgement, `n` into a `denied` one (a later version of the suggestion's
relation, so the suggestion closes), `s` skips, `q` stops. Judgements are printed as JSON lines (stdout, or
--out FILE) or, with --produce, published to the input topic, where the worker merges or keeps apart.

    coi-risk suggest-merges events.jsonl > suggestions.jsonl
    coi-risk review events.jsonl suggestions.jsonl --analyst "A. Analyst" --produce
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import sys
from pathlib import Path

from schemas.events import SCHEMA_VERSION, RelationshipEvent
from scoring.resolution import ResolvingEngine
from streams.commands.exits import EXIT_USAGE
from streams.commands.suggest import load_events, read_events
from streams.config import add_connection_flags, settings_from_args

MAX_RELATIONS_SHOWN = 12
_ANSWERS = {"y": "confirmed", "yes": "confirmed", "n": "denied", "no": "denied"}


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "review", help="confirm or deny proposed merges (same_as suggestions) one by one",
        description="Show each open suggestion with both entities, their relations and the matcher's "
                    "explanation; turn y/n into a confirmed/denied same_as judgement.")
    add_connection_flags(parser)
    parser.add_argument("events", metavar="EVENTS.jsonl", help="the relationship events the entities come from")
    parser.add_argument("suggestions", metavar="SUGGESTIONS.jsonl", nargs="?",
                        help="proposed same_as judgements (coi-risk suggest-merges); default: those in EVENTS")
    parser.add_argument("--analyst", default="analyst", help="who decides: the judgements' publisher")
    parser.add_argument("--out", metavar="FILE", help="append the judgements to FILE instead of stdout")
    parser.add_argument("--produce", action="store_true", help="publish the judgements to the input topic")
    parser.add_argument("--topic", help="with --produce: override the input topic")
    parser.add_argument("--at", type=dt.datetime.fromisoformat, metavar="TIME",
                        help="the judgements' observed_at (default: now, UTC)")
    parser.set_defaults(func=run)


def describe_entity(layer: ResolvingEngine, entity_id: str) -> list[str]:
    cluster = layer.cluster(entity_id) or {}
    ref = layer.entity_ref(entity_id)
    lines = [f"  {ref.name} ({entity_id}, {ref.schema_.value}"
             + (f", {ref.country}" if ref.country else "") + ")"]
    if ref.aliases:
        lines.append(f"    aliases: {'; '.join(ref.aliases)}")
    if ref.topics:
        lines.append(f"    topics: {', '.join(ref.topics)}")
    identifiers = [i for m in cluster.get("members", []) for i in m["identifiers"]]
    if identifiers:
        lines.append(f"    identifiers: {', '.join(sorted(set(identifiers)))}")
    others = [m for m in cluster.get("members", []) if m["id"] != entity_id]
    if others:
        merged = ", ".join(f"{m['name']} ({m['id']})" for m in others)
        lines.append(f"    already merged with: {merged}")
    relations = layer.relations_of(entity_id)
    members = set(layer.clusters.members(entity_id))
    for event in relations[:MAX_RELATIONS_SHOWN]:
        outgoing = event.source.id in members
        other = event.target if outgoing else event.source
        arrow = f"-{event.relation_type.value}->" if outgoing else f"<-{event.relation_type.value}-"
        status = "" if event.status.value == "confirmed" else f" [{event.status.value}]"
        lines.append(f"    {arrow} {other.name} ({other.id}){status}  ({event.provenance.publisher})")
    if len(relations) > MAX_RELATIONS_SHOWN:
        lines.append(f"    ... and {len(relations) - MAX_RELATIONS_SHOWN} more relations")
    if not relations:
        lines.append("    (no relations)")
    return lines


def describe(layer: ResolvingEngine, suggestion: RelationshipEvent, number: int, total: int) -> str:
    props = suggestion.properties
    score = "-" if props.confidence_score is None else f"{props.confidence_score:.3f}"
    return "\n".join([
        f"[{number}/{total}] {suggestion.relation_id}: same entity? (matcher {props.matcher or '-'}, score {score})",
        *describe_entity(layer, suggestion.source.id), "  =?",
        *describe_entity(layer, suggestion.target.id),
        f"  why suggested: {props.criteria or '-'}", ""])


def judgement(suggestion: RelationshipEvent, status: str, analyst: str, when: dt.datetime) -> RelationshipEvent:
    """The analyst's decision as a later version of the suggestion's relation."""
    digest = hashlib.sha256(f"{suggestion.event_id}\x1f{status}\x1f{analyst}\x1f{when.isoformat()}"
                            .encode()).hexdigest()[:24]
    props = suggestion.properties
    return RelationshipEvent.model_validate({
        "schema_version": SCHEMA_VERSION, "event_id": f"review-{digest}", "relation_id": suggestion.relation_id,
        "relation_type": "same_as",
        "source": suggestion.source.model_dump(by_alias=True, exclude_defaults=True),
        "target": suggestion.target.model_dump(by_alias=True, exclude_defaults=True),
        "status": status,
        "properties": {"confidence_score": props.confidence_score,
                       "matcher": f"analyst {analyst}" + (f" (suggested by {props.matcher})" if props.matcher else ""),
                       "criteria": f"analyst: {'same entity' if status == 'confirmed' else 'different entities'}"
                                   + (f"; matcher: {props.criteria}" if props.criteria else "")},
        "observed_at": when.isoformat(),
        "provenance": {"source_url": f"urn:coi-risk:review:{suggestion.event_id}", "publisher": analyst,
                       "retrieved_at": when.isoformat(), "extractor": {"name": "coi-risk review", "version": "1"},
                       "confidence": 1.0}})


def run(args: argparse.Namespace) -> int:
    # the settings before the first question: a wrong one found after the answers lost them
    settings = settings_from_args(args) if args.produce else None
    if args.out and not args.produce:  # ... and the file they go to
        try:
            Path(args.out).open("a").close()
        except OSError as exc:
            print(f"coi-risk review: cannot write {args.out}: {exc.strerror}", file=sys.stderr)
            return EXIT_USAGE
    loaded = load_events(args.events, "review")
    if loaded is None:
        return EXIT_USAGE
    layer = loaded[0]
    if args.suggestions:
        proposals = read_events(args.suggestions, "review")
        if proposals is None:
            return EXIT_USAGE
        layer.apply_many(proposals[0])  # proposals not judged in EVENTS join the open ones
    # best first: the matcher's score, then the relation id (a stable order for a replay of the same answers)
    open_ones = sorted(layer.suggestions(), key=lambda e: (-(e.properties.confidence_score or 0.0), e.relation_id))
    when = args.at or dt.datetime.now(dt.UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    decided: list[RelationshipEvent] = []
    print(f"{len(open_ones)} open suggestions", file=sys.stderr)
    for number, suggestion in enumerate(open_ones, start=1):
        a, b = suggestion.source.id, suggestion.target.id
        if layer.canonical(a) == layer.canonical(b) or layer.denied_between(a, b):
            continue  # settled by a decision made earlier in this session
        print(describe(layer, suggestion, number, len(open_ones)), file=sys.stderr)
        answer = ask()
        if answer == "q":
            break
        if answer not in _ANSWERS:
            continue
        event = judgement(suggestion, _ANSWERS[answer], args.analyst, when)
        layer.apply(event)  # later suggestions see this decision (a merge shows in their clusters)
        decided.append(event)
    lines = [e.model_dump_json(by_alias=True, exclude_none=True) + "\n" for e in decided]
    if args.produce:
        from streams.commands.produce import produce_lines, report_failures

        topic = args.topic or settings.events_topic
        try:
            summary = produce_lines(settings, [line.encode() for line in lines], topic, progress=False)
        except Exception:
            sys.stdout.writelines(lines)  # the analyst's decisions outlive a broker that is not there
            print(f"coi-risk review: the {len(lines)} judgements were NOT published; they are on stdout (publish "
                  "them with `coi-risk produce FILE` once the broker takes them)", file=sys.stderr)
            raise
        print(f"published {summary['sent']} judgements to {topic}", file=sys.stderr)
        not_sent = report_failures(summary, topic)
        if not_sent:
            return not_sent
    elif args.out:
        with Path(args.out).open("a") as out:
            out.writelines(lines)
    else:
        sys.stdout.writelines(lines)
    print(f"{len(decided)} judgements: {sum(e.status.value == 'confirmed' for e in decided)} confirmed, "
          f"{sum(e.status.value == 'denied' for e in decided)} denied", file=sys.stderr)
    return 0


def ask() -> str:
    """y, n, s or q from stdin; end of input stops."""
    while True:
        print("same entity? [y]es / [n]o / [s]kip / [q]uit: ", end="", file=sys.stderr, flush=True)
        line = sys.stdin.readline()
        if not line:
            return "q"
        answer = line.strip().lower()
        if answer in _ANSWERS or answer in ("s", "skip", "q", "quit"):
            return answer[0] if answer in ("skip", "quit") else answer
