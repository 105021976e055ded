"""`coi-risk audit`: a human-readable audit report (Markdown, HTML) and its JSON, from a read-only replay."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from streams.commands.exits import EXIT_USAGE
from streams.commands.replay import end_position, start_position
from streams.commands.inputs import validity_date
from streams.config import add_connection_flags, add_scoring_flags, settings_from_args


REPORT_FILES = ("report.md", "report.html", "report.json")


def register(subparsers) -> None:
    parser = subparsers.add_parser("audit", help="audit report for a pair or an entity at a point in the log")
    add_connection_flags(parser)
    add_scoring_flags(parser)
    subject = parser.add_mutually_exclusive_group(required=True)
    subject.add_argument("--pair", nargs=2, metavar=("ACTOR_ID", "COUNTERPARTY_ID"))
    subject.add_argument("--entity", metavar="ENTITY_ID")
    parser.add_argument("--from", dest="start", default="beginning", type=start_position,
                        help="start of the reported window (as `coi-risk replay --from`)")
    parser.add_argument("--to", dest="end", default="end", type=end_position,
                        help="what the pipeline knew at this point (as `coi-risk replay --to`)")
    parser.add_argument("--as-of", type=validity_date, help="also score as of this validity date")
    parser.add_argument("--out", default="audit", help="directory for report.md, report.html, report.json")
    parser.set_defaults(func=run)


def run(args) -> int:
    from streams.audit import build_report, matches_subject, render_html, render_markdown
    from streams.commands.replay import bulk_load_note
    from streams.replay import Position, ReplaySummary, WindowRefused, new_processor, replay

    settings = settings_from_args(args)
    out = Path(args.out)
    try:  # before the replay, which reads the whole log: a directory that cannot be made fails now, not after it
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"coi-risk audit: cannot make the report directory {out}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    processor = new_processor(settings)
    summary = ReplaySummary()
    items = (item for item in replay(settings, Position.parse(args.start), Position.parse(args.end), processor,
                                     summary) if item.in_window)
    pair = tuple(args.pair) if args.pair else None
    try:
        report = build_report(items, pair=pair, entity=args.entity, window=f"{args.start} .. {args.end}",
                              canonical=processor.engine.canonical)
    except WindowRefused as refused:  # before anything is read
        print(f"coi-risk audit: {refused}", file=sys.stderr)
        return EXIT_USAGE
    # An id no event names (a typo, a name for an id: ids are case-sensitive) would give a clean report of nothing
    # found, which an auditor could file as one: no report, and the command says which id.
    unnamed = [subject for subject in (pair or (args.entity,)) if processor.engine.entity_ref(subject) is None]
    if unnamed:
        where = "in the log" if args.end == "end" else f"up to {args.end}"
        earlier = [name for name in REPORT_FILES if (out / name).exists()]
        print(f"coi-risk audit: no event {where} names the entity {unnamed[0]!r}"
              + (f" (nor {unnamed[1]!r})" if len(unnamed) > 1 else "")
              + ": check the id (ids are case-sensitive; `coi-risk tail` shows the events' ids); no report written"
              + (f" ({', '.join(earlier)} in {out} are an earlier audit's)" if earlier else ""), file=sys.stderr)
        return EXIT_USAGE
    report["bulk_load"] = bulk_load_note(summary)
    if args.as_of:
        report["as_of"] = args.as_of.isoformat()
        as_of = [json.loads(s.model_dump_json()) for s in processor.engine.score_all(as_of=args.as_of)]
        subjects = (args.entity,) if args.entity is None else (args.entity, processor.engine.canonical(args.entity))
        report["as_of_scores"] = [s for s in as_of if any(matches_subject(s, pair, subject) for subject in subjects)]
    renderers = {"report.md": render_markdown, "report.html": render_html,
                 "report.json": lambda r: json.dumps(r, indent=2, sort_keys=True) + "\n"}
    for name in REPORT_FILES:
        (out / name).write_text(renderers[name](report))
    print(f"wrote {out}/report.md, report.html, report.json: {len(report['timeline'])} score changes, "
          f"{len(report['alert_transitions'])} alert transitions", file=sys.stderr)
    return 0
