"""Inputs named on the command line, checked before a command does any work (connects, starts a broker, asks an
analyst): one line saying why a file (or a date) cannot be used, and exit code 2 (`exits.EXIT_USAGE`)."""

from __future__ import annotations

import argparse
import datetime as dt
import stat
import sys
from collections.abc import Iterable, Iterator
from itertools import chain
from pathlib import Path

from streams.commands.exits import EXIT_USAGE

# A UTF-8 byte-order mark: what some editors and spreadsheet exports put at the start of a file. It is the file's,
# not its first event's (the JSON parser refuses it: that event would be a dead letter).
BYTE_ORDER_MARK = b"\xef\xbb\xbf"
# Reasons `parse_event` gives a line that is no event at all (an FtM entity, a BODS statement, a CSV row, a
# pretty-printed document, a file in another encoding), not a broken event.
NOT_EVENT_REASONS = frozenset({"malformed_json", "unknown_schema_version", "not_an_object", "encoding_error"})
# How long a line the check parses whole: a file's first record may be far longer than an event may be (an FtM
# entity of thousands of aliases, a minified BODS array on one line); longer still, it is taken as no event.
_SNIFFED_LINE_BYTES = 64 << 20
# This many such lines before any event (or a file of nothing else) mean the file is not relationship events; one
# bad first line in an events file is just a bad line.
NOT_EVENTS_AFTER = 2

# What people hand a command of JSON lines by mistake, by their first bytes.
COMPRESSED_OR_BINARY: dict[bytes, tuple[str, str | None]] = {
    b"\x1f\x8b": ("a gzip file: decompress it first", "zcat"),
    b"PK\x03\x04": ("a zip archive: extract the JSON lines file from it first", None),
    b"BZh": ("a bzip2 file: decompress it first", "bzcat"),
    b"\xfd7zXZ": ("an xz file: decompress it first", "xzcat"),
    b"SQLite format 3\x00": ("an SQLite database, not JSON lines", None),
}


def unusable_input(file: str, command: str, json_lines: bool = True, reads_stdin: bool = True) -> str | None:
    """Why FILE cannot be read as `command`'s input (missing, a directory, unreadable, or with `json_lines` a
    compressed or binary file), or None. Standard input ('-') and what is not a regular file (a pipe, `<(zcat f)`)
    are left to the command: looking at them here would consume what it is to read."""
    if file == "-":
        return None
    path = Path(file)
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        return f"cannot read {file}: {exc.strerror}"
    if stat.S_ISDIR(mode):
        return f"cannot read {file}: it is a directory"
    if not stat.S_ISREG(mode):
        return None
    try:
        with path.open("rb") as stream:
            head = stream.read(16)
    except OSError as exc:
        return f"cannot read {file}: {exc.strerror}"
    return compressed_or_binary(head, file, command, reads_stdin) if json_lines else None


def compressed_or_binary(head: bytes, file: str, command: str, reads_stdin: bool = True) -> str | None:
    """Why FILE, whose first bytes are `head`, is no JSON (a compressed file, an archive, a database), with how to
    feed it through stdin when the command reads it; or None."""
    for signature, (what, tool) in COMPRESSED_OR_BINARY.items():
        if head.startswith(signature):
            how = f" ({tool} {file} | coi-risk {command} -)" if tool and reads_stdin else ""
            return f"{file} is {what}{how}"
    return None


def refusal(command: str, why: str) -> int:
    """Prints why `command` cannot use its input, in the one line every command uses, and returns the exit code."""
    print(f"coi-risk {command}: {why}", file=sys.stderr)
    return EXIT_USAGE


def refuse_unusable_input(file: str | None, command: str, json_lines: bool = True,
                          reads_stdin: bool = True) -> int | None:
    """Prints why FILE cannot be used and returns the exit code, or returns None when it can (or is not given)."""
    why = None if file is None else unusable_input(file, command, json_lines, reads_stdin)
    return None if why is None else refusal(command, why)


def without_byte_order_mark(line: bytes, number: int) -> bytes:
    """The file's first line without a UTF-8 byte-order mark; any other line as it is."""
    return line[len(BYTE_ORDER_MARK):] if number == 1 and line.startswith(BYTE_ORDER_MARK) else line


def not_relationship_events(file: str, lines: Iterable[bytes]) -> str | None:
    """Why the JSON lines in `lines` are not relationship events at all (CSV rows, FtM entities, BODS statements, a
    pretty-printed document), judged by the lines before the first event, or None. Reads only as far as it must:
    up to the first line that is an event or a broken one, or `NOT_EVENTS_AFTER` lines that are none."""
    from schemas.validation import EventRejected, parse_event

    leading: list[tuple[int, EventRejected, bool]] = []  # (line number, why, whether it states a schema version)
    for number, line in enumerate(lines, start=1):
        line = without_byte_order_mark(line, number).rstrip(b"\r\n")
        if not line.strip():
            continue
        try:
            parse_event(line, max_bytes=_SNIFFED_LINE_BYTES)
        except EventRejected as rejection:
            if rejection.reason.value not in NOT_EVENT_REASONS and rejection.reason.value != "payload_too_large":
                return None  # a broken event: the worker dead-letters it with its reason
            leading.append((number, rejection, rejection.reason.value == "unknown_schema_version"
                            and _states_a_schema_version(line)))
            if len(leading) == NOT_EVENTS_AFTER:
                break
            continue
        return None
    if not leading:
        return None  # empty
    number, rejection, _ = leading[0]
    if all(versioned for _, _, versioned in leading):
        # events of a schema version this one does not read: a newer coi-risk reads them, `import` does not
        return (f"{file} is not relationship events this version reads (line {number}: {rejection.message}); "
                "events of another schema version need the coi-risk that writes it")
    return (f"{file} is not relationship events ({rejection.reason.value} on line {number}); convert FtM, BODS, "
            f"Wikidata or a register's file first with `coi-risk import {file}`")


def _states_a_schema_version(line: bytes) -> bool:
    """Whether a line that parsed as JSON (an object: its schema version was read) names a schema version at all, as
    events do (an FtM entity or a BODS statement names none)."""
    import json

    return "schema_version" in json.loads(line)


def refuse_non_events(file: str | None, command: str) -> int | None:
    """`not_relationship_events` of a regular FILE, printed as a refusal with its exit code; None when it is events
    (or not given, or not a regular file: a pipe is checked as it is read, `checked_lines`)."""
    if file is None or file == "-" or not Path(file).is_file():
        return None
    with Path(file).open("rb") as stream:
        why = not_relationship_events(file, stream)
    return None if why is None else refusal(command, why)


def checked_lines(file: str, stream: Iterable[bytes], command: str) -> tuple[Iterator[bytes] | None, int | None]:
    """The lines of `stream` (standard input, a pipe) after `not_relationship_events` looked at its first ones,
    which are read once and handed on: (lines, None), or (None, the exit code) once the refusal is printed."""
    stream = iter(stream)
    seen: list[bytes] = []

    def remembered() -> Iterator[bytes]:
        for line in stream:
            seen.append(line)
            yield line

    why = not_relationship_events(file, remembered())
    if why is not None:
        return None, refusal(command, why)
    return chain(seen, stream), None


def validity_date(text: str) -> dt.date:
    """An argument's date (`--as-of`), or argparse's one-line usage error naming what a date is written as."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date: write it YYYY-MM-DD, as 2025-01-31") from None
