"""`coi-risk import-ftm` and `coi-risk export-ftm`: FollowTheMoney entity JSON lines in and out.

`schemas.ftm` is imported when a command runs, not here: followthemoney takes over a second to load, and every
`coi-risk` invocation builds this parser.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, ContextManager, TextIO

from schemas.outputs import RejectReason
from schemas.validation import EventRejected, parse_event

if TYPE_CHECKING:
    from schemas.ftm import ImportReport


def register(subparsers: argparse._SubParsersAction) -> None:
    importer = subparsers.add_parser(
        "import-ftm", help="FtM entity JSON lines -> relationship events (JSON lines on stdout)",
        description="Convert FollowTheMoney entities (JSON lines) into relationship events on stdout; a summary of "
                    "what was converted and skipped, and why, goes to stderr. Provenance comes from each relation "
                    "entity's sourceUrl, publisher and retrievedAt, else from the defaults below.")
    importer.add_argument("file", metavar="FILE", help="FtM entities, one JSON object a line ('-' for stdin)")
    importer.add_argument("--publisher", help="publisher for relations that name none")
    importer.add_argument("--source-url", help="source URL for relations that name none")
    importer.add_argument("--retrieved-at", type=_timestamp,
                          help="retrieval time for relations that give none (ISO 8601; default: now)")
    importer.add_argument("--confidence", type=_confidence,
                          help="confidence of every imported claim, 0..1 (default: the importer's, see "
                               "docs/events.md)")
    importer.set_defaults(func=run_import)

    exporter = subparsers.add_parser(
        "export-ftm", help="relationship events (JSON lines) -> FtM entity JSON lines on stdout",
        description="Write the current state the events describe as FollowTheMoney entities: the endpoints, then "
                    "one interval entity per relation (retracted relations left out).")
    exporter.add_argument("file", metavar="FILE.jsonl", help="relationship events, one a line ('-' for stdin)")
    exporter.set_defaults(func=run_export)


def run_import(args: argparse.Namespace) -> int:
    from schemas.ftm import ImportDefaults, ImportReport, events_from_ftm

    supplied = {"publisher": args.publisher, "source_url": args.source_url,
                "retrieved_at": args.retrieved_at or _now(), "confidence": args.confidence}
    defaults = ImportDefaults(**{name: value for name, value in supplied.items() if value is not None})
    report = ImportReport()
    with _open(args.file) as lines:
        entities = list(_json_lines(lines, report))
    for event in events_from_ftm(entities, defaults, report):
        print(event.model_dump_json(by_alias=True, exclude_none=True))
    _print_import_summary(report)
    return 1 if report.skipped and not report.converted else 0


def run_export(args: argparse.Namespace) -> int:
    from schemas.ftm import ftm_from_events

    events, rejected = [], 0
    with _open(args.file) as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                events.append(parse_event(line.encode()))
            except EventRejected as exc:
                rejected += 1
                print(f"line {number}: {exc.reason.value}: {exc.message}", file=sys.stderr)
    entities = list(ftm_from_events(events))
    for entity in entities:
        print(json.dumps(entity, ensure_ascii=False))
    print(f"export-ftm: {len(events)} events -> {len(entities)} FtM entities; {rejected} lines rejected",
          file=sys.stderr)
    return 1 if rejected else 0


def _json_lines(lines: TextIO, report: ImportReport) -> Iterator[dict]:
    from schemas.ftm import Skipped

    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield json.loads(line)
        except json.JSONDecodeError as exc:
            report.skipped.append(Skipped(None, None, RejectReason.MALFORMED_JSON.value, f"line {number}: {exc.msg}"))


def _print_import_summary(report: ImportReport) -> None:
    reasons = ", ".join(f"{reason}: {count}" for reason, count in sorted(report.skip_reasons().items()))
    print(f"import-ftm: converted {report.converted}; skipped {len(report.skipped)}"
          + (f" ({reasons})" if reasons else ""), file=sys.stderr)
    for skipped in report.skipped:
        print(f"  skipped {skipped}", file=sys.stderr)
    for note in report.notes:
        print(f"  note: {note}", file=sys.stderr)
    if report.ignored:
        ignored = ", ".join(f"{schema} {count}" for schema, count in sorted(report.ignored.items()))
        print(f"  not converted (neither a relation nor an endpoint): {ignored}", file=sys.stderr)


def _open(file: str) -> ContextManager[TextIO]:
    if file == "-":
        return contextlib.nullcontext(sys.stdin)
    try:
        return Path(file).open(encoding="utf-8")
    except OSError as exc:
        raise SystemExit(f"coi-risk: cannot read {file}: {exc.strerror}") from None


def _timestamp(text: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _confidence(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"confidence is a number from 0 to 1, got {text!r}")
    return value


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)
