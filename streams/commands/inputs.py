"""Input files named on the command line, checked before a command does any work (connects, starts a broker, asks
an analyst): one line saying why a file cannot be used, and exit code 2 (`exits.EXIT_USAGE`)."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

from streams.commands.exits import EXIT_USAGE

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
