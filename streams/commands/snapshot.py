"""`coi-risk snapshot list|export|import`: the worker's snapshots, and their portable form for upgrades.

    coi-risk snapshot list                        # the snapshots in the configured directory, newest first, each
                                                  # checked as the worker would (header, code, config, HMACs)
    coi-risk snapshot export -o state.jsonl       # newest usable snapshot -> portable JSON lines (scoring.portable)
    coi-risk snapshot import state.jsonl          # portable JSON lines -> a snapshot this version's worker loads

Before an upgrade, export with the old version; after it, import with the new one: the new worker then starts from
the imported snapshot and replays only the log after its offsets, instead of the whole history. An import refuses a
file whose alert state this version scores otherwise (anything but the wording of explanations) unless
`--rescore` (docs/streaming.md, "Upgrades that change scoring"), and whatever export never writes, in one line with
exit 2 and no snapshot written.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from pathlib import Path

from streams.commands.exits import EXIT_FAILED, EXIT_USAGE
from streams.commands.inputs import refuse_unusable_input
from streams.config import add_connection_flags, add_scoring_flags, settings_from_args


def register(subparsers) -> None:
    parser = subparsers.add_parser("snapshot", help="list, export or import worker snapshots")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, help_text, func in (("list", "the snapshots in the configured directory", run_list),
                                  ("export", "write the newest usable snapshot in the portable form", run_export),
                                  ("import", "turn a portable file into a snapshot the worker loads", run_import)):
        action = actions.add_parser(name, help=help_text)
        add_connection_flags(action)
        add_scoring_flags(action)
        action.add_argument("--snapshot-dir", help="default: the snapshot_dir setting (<data_dir>/snapshots)")
        action.add_argument("--app-id", help="Faust app id whose snapshots these are")
        action.set_defaults(func=func)
        if name == "list":
            action.add_argument("--headers-only", action="store_true",
                                help="print the headers without checking each body (its length and HMAC)")
        if name == "export":
            action.add_argument("--output", "-o", default="-", help="JSON-lines file (default stdout)")
        if name == "import":
            action.add_argument("file", help="a file written by `coi-risk snapshot export`")
            action.add_argument("--force", action="store_true",
                                help="import although the file names another app id or input topic")
            action.add_argument("--rescore", action="store_true",
                                help="import although this version scores the file's relations otherwise than the "
                                     "version that exported them (another scoring config or rules): its alert state "
                                     "is brought in line with the scores here, and those alert transitions are not "
                                     "published")


def open_store(args):
    from streams.config import load_scoring_config
    from streams.snapshots import Identity, SnapshotStore, config_hash

    settings = settings_from_args(args, snapshot_dir=args.snapshot_dir, app_id=args.app_id)
    config = load_scoring_config(settings.scoring_config)
    store = SnapshotStore(settings.snapshot_path, Identity(settings.app_id, settings.events_topic,
                                                           config_hash(config)), keep=settings.snapshot_keep)
    return settings, config, store


def cannot_write_snapshots(store) -> str | None:
    """Why snapshots cannot be written to the store (its key file is unusable, its directory cannot be made), or
    None: checked before a bulk load or an import, which would otherwise fail only at their final write."""
    try:
        store.ensure_key()
    except (RuntimeError, OSError) as exc:
        return str(exc)
    return None


def run_list(args) -> int:
    from streams.snapshots import SnapshotRejected

    _, _, store = open_store(args)
    paths = store.paths()
    if not paths:
        print(f"no snapshots in {store.directory}", file=sys.stderr)
    chosen = None
    for path in paths:
        status = ""
        try:
            if args.headers_only:
                header = store.read_header(path)
            else:
                try:
                    header = store.verify(path)
                    status = "  usable" if chosen else "  usable: a restart starts here"
                    chosen = chosen or path
                except SnapshotRejected as rejected:
                    status = f"  not usable ({rejected.reason}): {rejected}"
                    header = store.read_header(path)
            size = path.stat().st_size
        except (SnapshotRejected, OSError) as exc:  # unreadable, or removed meanwhile (a worker prunes old ones)
            print(f"{path.name}  unreadable: {exc}{status}")
            continue
        print(f"{path.name}  {_time_text(header.get('created_at'))}  offsets={header.get('offsets')}  "
              f"relations={header.get('relations')}  {size} bytes  version={header.get('package_version')}{status}")
    if paths and not args.headers_only and chosen is None:
        print("no usable snapshot: a worker started now replays the full log", file=sys.stderr)
    return 0


def _time_text(seconds) -> str:
    """An epoch time as UTC ISO 8601, or "?" for anything else a damaged header may hold."""
    try:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))
    except (TypeError, ValueError, OverflowError, OSError):
        return "?"


class _TooLong(Exception):
    pass


def run_export(args) -> int:
    from scoring.portable import MAX_LINE_BYTES, export_state

    target = None if args.output == "-" else Path(args.output)
    if target is not None and (why := _not_exportable_to(target)) is not None:
        print(f"not exporting to {target}: {why}", file=sys.stderr)
        return EXIT_USAGE
    _, _, store = open_store(args)
    found = store.load_newest()
    if found is None:
        why = "see the warnings above" if store.paths() else "it holds none: is this the worker's snapshot_dir?"
        print(f"no usable snapshot in {store.directory} ({why})", file=sys.stderr)
        return EXIT_FAILED
    state, path = found
    header = {key: value for key, value in store.read_header(path).items()
              if key in ("app_id", "events_topic", "offsets", "last_records", "package_version", "config_hash",
                         "created_at")}
    lines = 0
    try:
        with _export_sink(target) as out:
            for record in export_state(state.engine, state.tracker, header):
                line = json.dumps(record, sort_keys=True, separators=(",", ":")) + "\n"
                if len(line) > MAX_LINE_BYTES:  # (ASCII: json.dumps escapes the rest) import would refuse it
                    raise _TooLong(f"its {record['record']} record of line {lines + 1} is {len(line)} bytes, over the "
                                   f"{MAX_LINE_BYTES} an import reads")
                out.write(line)
                lines += 1
    except (OSError, _TooLong) as exc:  # a full disk, a directory we may not write to: one line, and no file there
        print(f"not exported to {target or 'standard output'}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    # The newest snapshot is the state up to its offsets, which may be behind what the worker applied when it
    # stopped (it writes one every snapshot_every_events or _seconds): nothing is lost, as a worker started from
    # the import reads the rest from the log. Said here, since a user took the file for the worker's last state.
    print(f"exported {path.name} (offsets {header['offsets']}, {state.engine.stats()['relations']} relations) as "
          f"{lines} lines; the state as of that snapshot ({_time_text(header.get('created_at'))}): a worker started "
          "from its import reads on from those offsets in the log", file=sys.stderr)
    return 0


def _export_sink(target: Path | None):
    """Where the export is written, as a context manager."""
    from streams.files import atomic_replacement

    if target is None:
        return contextlib.nullcontext(sys.stdout)
    if target.exists() and not target.is_file():
        # a pipe or a device: written in place, as nothing could be renamed over it (and still not through a link
        # put there since `_not_exportable_to` looked: O_NOFOLLOW)
        return open(os.open(target, os.O_WRONLY | os.O_NOFOLLOW), "w", encoding="utf-8")
    # a file: written beside it and renamed over it once whole, so that an interrupted export leaves the name as it
    # was (a cut stream is refused at import by its missing end record: scoring.portable)
    return atomic_replacement(target, mode="w")


def _not_exportable_to(target: Path) -> str | None:
    """Why the export refuses `target`, or None. A link there is refused rather than written through (whoever
    could plant it in a shared directory would choose which file the state overwrites) or replaced by the file (the
    user's own link, or /dev/stdout, would be gone): name the file itself, or `-o -` for standard output."""
    if target.is_symlink():
        return ("it is a symbolic link, and the export neither writes through a link nor replaces it: give the path "
                "of the file itself, or -o - for standard output")
    if target.is_dir():
        return "it is a directory"
    return None


def run_import(args) -> int:
    """Read, check and re-apply the whole file, then write one snapshot (atomically, `SnapshotStore.save`): a file
    refused at any point, or an import interrupted, leaves no snapshot behind. Every refusal is one line and exit 2."""
    from scoring.portable import (MAX_LINE_BYTES, PortableFormatError, ScoredDifferently, describe_transitions,
                                  header_last_records, header_offsets, import_lines)
    from streams.snapshots import SnapshotState, config_hash

    # (a portable file is JSON lines: a compressed one is named as such, not as "line 1: UnicodeDecodeError")
    if (refused := refuse_unusable_input(args.file, "snapshot import", reads_stdin=False)) is not None:
        return refused
    settings, config, store = open_store(args)
    if (why := cannot_write_snapshots(store)) is not None:
        print(f"cannot import {args.file}: {why}", file=sys.stderr)
        return EXIT_USAGE
    started = time.perf_counter()
    transitions: list = []
    rescored_pairs: list = []
    try:
        with Path(args.file).open("rb") as handle:
            engine, tracker, header = import_lines(_bounded_lines(handle, MAX_LINE_BYTES), config,
                                                   rescore=args.rescore, transitions=transitions,
                                                   rescored_pairs=rescored_pairs)
        offsets, last_records = header_offsets(header), header_last_records(header)
        if not offsets:
            raise PortableFormatError("its header names no offsets: where in the input log the state stands, which "
                                      "the worker needs to read on from there")
    except ScoredDifferently as exc:
        print(f"cannot import {args.file}: {exc}; it was scored under the scoring config "
              f"{_hash_text(exc.header.get('config_hash'))} (package {exc.header.get('package_version', '?')}), this "
              f"version's is {_hash_text(config_hash(config))}: pass --rescore to import it with its alerts brought "
              "in line with the scores here, unpublished (docs/streaming.md, \"Upgrades that change scoring\")",
              file=sys.stderr)
        return EXIT_USAGE
    except PortableFormatError as exc:
        print(f"cannot import {args.file}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # noqa: BLE001 - a file the checks did not foresee: still one line, no traceback
        print(f"cannot import {args.file}: not a portable state file written by `coi-risk snapshot export` "
              f"({type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:200]})", file=sys.stderr)
        return EXIT_USAGE
    for name, mine in (("app_id", settings.app_id), ("events_topic", settings.events_topic)):
        if header.get(name) not in (None, mine) and not args.force:
            print(f"{args.file} was exported for {name}={header.get(name)!r}, this worker has {mine!r}; "
                  "pass --force to import it anyway", file=sys.stderr)
            return EXIT_USAGE
    path = store.save(SnapshotState(engine, tracker, offsets, last_records))
    notes = []
    if header.get("config_hash") not in (None, config_hash(config)):
        notes.append(f"exported under the scoring config {_hash_text(header['config_hash'])}, scored here under "
                     f"{_hash_text(config_hash(config))}: " + (
                         f"rescored, {describe_transitions(transitions)} not published" if transitions
                         else "every alert stands as it was"))
    elif transitions:
        notes.append(f"rescored: {describe_transitions(transitions)} not published")
    if rescored_pairs and not transitions:
        notes.append(f"{len(rescored_pairs)} alerting pair(s) whose explanations this version words otherwise, "
                     "nothing else: their alerts hold this version's scores, unpublished until an event changes them")
    if not last_records:
        notes.append("the file names no append times of the last records its state applied, so a worker cannot "
                     "tell another log under this topic's name from this one (an export of an older version)")
    print(f"imported {engine.stats()['relations']} relations at offsets {offsets} in "
          f"{time.perf_counter() - started:.1f}s -> {path}" + "".join(f"; {note}" for note in notes), file=sys.stderr)
    return 0


def _bounded_lines(handle, limit: int):
    """The lines of a binary file, each read only up to `limit` bytes: a longer one (a file without newlines) is
    refused there, not read into memory whole."""
    from scoring.portable import PortableFormatError

    number = 0
    while line := handle.readline(limit + 1):
        number += 1
        if len(line) > limit:
            raise PortableFormatError(f"line {number} is longer than {limit} bytes, longer than any record an export "
                                      "writes")
        yield line


def _hash_text(value) -> str:
    return value[:12] if isinstance(value, str) else "(not named)"
