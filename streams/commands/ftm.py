"""`coi-risk export-ftm`: relationship events out as FollowTheMoney entity JSON lines (import: `coi-risk import`,
streams/commands/importer.py).

`schemas.ftm` is imported when a command runs, not here: followthemoney takes over a second to load, and every
`coi-risk` invocation builds this parser.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path
from collections.abc import Iterable
from typing import ContextManager

from schemas.validation import EventRejected, parse_event
from streams.commands.inputs import refuse_unusable_input
from streams.render import printable


def register(subparsers: argparse._SubParsersAction) -> None:
    exporter = subparsers.add_parser(
        "export-ftm", help="relationship events (JSON lines) -> FtM entity JSON lines on stdout",
        description="Write the current state the events describe as FollowTheMoney entities: the endpoints, then "
                    "one interval entity per relation (retracted relations left out).")
    exporter.add_argument("file", metavar="FILE.jsonl", help="relationship events, one a line ('-' for stdin)")
    exporter.set_defaults(func=run_export)


def run_export(args: argparse.Namespace) -> int:
    from schemas.ftm import ftm_from_events

    if (refused := refuse_unusable_input(args.file, "export-ftm")) is not None:
        return refused
    events, rejected = [], 0
    with _open(args.file) as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:  # bytes: a line that is not UTF-8 is rejected (encoding_error) like any other bad line
                events.append(parse_event(line.rstrip(b"\r\n")))
            except EventRejected as exc:
                rejected += 1
                print(f"line {number}: {exc.reason.value}: {printable(exc.message)}", file=sys.stderr)
    entities = list(ftm_from_events(events))
    for entity in entities:
        print(json.dumps(entity, ensure_ascii=False))
    print(f"export-ftm: {len(events)} events -> {len(entities)} FtM entities; {rejected} lines rejected",
          file=sys.stderr)
    return 1 if rejected else 0


def _open(file: str) -> ContextManager[Iterable[bytes]]:
    if file == "-":
        if hasattr(sys.stdin, "buffer"):
            return contextlib.nullcontext(sys.stdin.buffer)
        return contextlib.nullcontext(line.encode() for line in sys.stdin)  # a text stream (tests, embedding)
    return Path(file).open("rb")
