"""`coi-risk import FILE`: FtM entities, FtM/yente delta feeds, BODS statements, Wikidata entities, KEK media
database records, OCDS releases and records, US lobbying disclosures (LDA filings), ESMA's MiCA register (CSV) or
the UK Commons' Register of Members' Financial Interests (CSV) -> relationship events, on stdout or straight to
Kafka (`--produce`). `import-ftm` is the same command under its old name.

The file is streamed: an FtM export is read in three passes, a BODS or Wikidata file in two (each holds only what
later lines need, see `schemas.ftm.import_ftm`, `schemas.bods.import_bods` and `schemas.wikidata.import_wikidata`);
standard input is spooled to a temporary file first so it can be read again. The conversions are imported when the
command runs: followthemoney takes over a second to load, and every `coi-risk` invocation builds this parser.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import itertools
import json
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from streams.commands.csv_registers import (commons_export_events, commons_file_events, commons_register, csv_unlike,
                                           input_name, mica_events, mica_register, resaved_refusal)
from streams.commands.exits import EXIT_USAGE
from streams.commands.inputs import compressed_or_binary, refusal, refuse_unusable_input
from streams.config import add_connection_flags, settings_from_args
from streams.files import PreparedReplacement

if TYPE_CHECKING:
    from schemas.ftm import ImportReport

FORMATS = ("auto", "ftm", "ftm-delta", "bods", "wikidata", "kek", "ocds", "lda", "mica", "commons")
STATEFUL_FORMATS = ("ftm-delta", "bods")  # those `--state` continues: a feed, a register published in files
SHOWN_PER_KIND = 50  # skipped entities and notes listed one by one; the rest are counted
# Levels of nesting a line of JSON lines may have: far beyond any format read here, and far within the parser's reach
# from any pass (the parser's own limit depends on how deep the caller is: a line the first pass read could fail a
# later pass, which reports nothing, and be lost without a word)
MAX_LINE_NESTING = 500
_JSON_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def register(subparsers: argparse._SubParsersAction) -> None:
    for name, summary in (("import", "FtM entities, FtM delta feeds, BODS, Wikidata, KEK, OCDS, LDA filings, "
                                     "ESMA's MiCA register or the Commons' register of interests -> relationship "
                                     "events"),
                          ("import-ftm", "alias of `import`")):
        parser = subparsers.add_parser(
            name, help=summary,
            description="Convert FollowTheMoney entities (flat, nested, or the entities of saved yente API "
                        "responses: /search, /match, /entities/<id>/adjacent), OpenSanctions/yente delta lines "
                        "({\"op\": ..., \"entity\": ...}), BODS statements, Wikidata entities (wbgetentities "
                        "or Special:EntityData responses, JSON dump lines), KEK media database records (its API's "
                        "shareholder and media records), Open Contracting (OCDS) releases, records and packages "
                        "US lobbying disclosures (LDA filings and pages of them), ESMA's MiCA register (its CSV "
                        "files of authorised firms) or the UK House of Commons' Register of Members' Financial "
                        "Interests (its CSV file of a category) into relationship events: JSON "
                        "lines on stdout, or published to the input topic with --produce. A summary by outcome and "
                        "reason goes to stderr. Provenance comes from the data; the flags below only fill what it "
                        "lacks.")
        parser.add_argument("file", metavar="FILE", help="JSON lines, a JSON array, a register's CSV, or the directory "
                                                         "of an export of the Commons' register ('-' for stdin)")
        parser.add_argument("--format", choices=FORMATS, default="auto",
                            help="input format (default: detected from the first record)")
        parser.add_argument("--publisher", help="publisher where the data names none")
        parser.add_argument("--source-url", help="source URL where the data names none")
        parser.add_argument("--retrieved-at", type=_timestamp,
                            help="retrieval time where the data gives none (ISO 8601); never the wall clock")
        parser.add_argument("--confidence", type=_confidence,
                            help="confidence of every imported claim, 0..1 (default 0.8, see docs/events.md)")
        parser.add_argument("--restated-at", type=_timestamp, metavar="TIME",
                            help="a corrected re-import (a newer coi-risk, a fixed file) of data imported before: "
                                 "every event is observed at TIME at the earliest, so it replaces the version the "
                                 "earlier import gave (give a time after that import's latest observed_at); not "
                                 "for delta feeds, which order their own versions")
        parser.add_argument("--state", metavar="STATE.jsonl",
                            help="delta feeds and BODS: the state of the feed, or of the register's earlier files, "
                                 "to continue from (if it exists) and to write back")
        parser.add_argument("--previous", metavar="FILE",
                            help="MiCA: the earlier snapshot of the same register: what it states and FILE no longer "
                                 "does (a row ESMA removed) is retracted as of FILE")
        parser.add_argument("--referents", action="store_true",
                            help="FtM: also emit OpenSanctions' merges (each entity's `referents`) as confirmed "
                                 "same_as judgements, one more pass over the file")
        parser.add_argument("--produce", action="store_true", help="publish the events to Kafka instead of stdout")
        parser.add_argument("--topic", help="with --produce: override the input topic")
        parser.add_argument("--quiet", action="store_true", help="no progress bar")
        add_connection_flags(parser)
        parser.set_defaults(func=run_import, command_name=name)


def run_import(args: argparse.Namespace) -> int:
    from schemas.ftm import ImportReport

    report = ImportReport()
    written: list[PreparedReplacement] = []  # the feed state, once the delta was read to its end
    try:
        with _readable(args.file) as path:
            register = mica_register(path) if args.format in ("auto", "mica") and path.is_file() else None
            if path.is_dir():
                fmt = "commons"
                events = commons_export_events(path, args, report, _given(args))
            elif register is not None:
                fmt = "mica"
                events = mica_events(path, register, args, report, _given(args))
            elif args.format in ("auto", "commons") and commons_register(path):
                fmt = "commons"
                events = commons_file_events(path, args, report, _given(args))
            elif (unlike := csv_unlike(path)) is not None:
                raise SystemExit(refusal("import", resaved_refusal(input_name(args.file), unlike)))
            elif args.format == "commons":
                raise SystemExit(refusal("import", f"{input_name(args.file)} is not a category file of the Commons' "
                                                   "Register of Members' Financial Interests: its first line is not "
                                                   "its CSV header (ID,Summary,...,Category,MNIS ID,Member,...)"))
            elif args.format == "mica":
                raise SystemExit(refusal("import", f"{input_name(args.file)} is not one of ESMA's MiCA registers: its "
                                                   "first line is not a register's CSV header "
                                                   "(ae_competentAuthority,...)"))
            else:
                refuse_non_json(path, args.file)
                reader = JsonValues(path, report, progress=not args.quiet and sys.stderr.isatty())
                detected = detect_format(reader)
                if args.format not in ("auto", detected) and detected != "ftm":
                    # (ftm is what detection falls back to: the format given then decides, record by record)
                    raise SystemExit(refusal("import", f"{input_name(args.file)} reads as {detected}, not "
                                                       f"{args.format}: leave --format out (the format is detected) "
                                                       "or check that this is the file meant"))
                fmt = args.format if args.format != "auto" else detected
                if getattr(args, "previous", None) is not None:
                    raise SystemExit(refusal("import", f"--previous reads the earlier snapshot of a MiCA register, "
                                                       f"not {fmt} (a delta feed retracts with its own --state)"))
                events = _events(fmt, reader, args, report, written)
            if getattr(args, "state", None) and fmt not in STATEFUL_FORMATS:
                # ignored, the state was neither read nor written: the next delta would start the feed afresh
                raise SystemExit(refusal("import", f"--state keeps the state of an FtM delta feed (lines of "
                                                   f"op/entity) or of a BODS register's files, not of {fmt}: "
                                                   f"{input_name(args.file)} is read whole, with no state; leave "
                                                   "--state out"))
            if args.restated_at is not None:
                if fmt == "ftm-delta":
                    raise SystemExit(refusal("import", "--restated-at is not for delta feeds: a feed stamps its "
                                                       "versions from its --state; to restate a feed, import its "
                                                       "state file as a full export with --restated-at"))
                if fmt == "bods" and args.state:
                    raise SystemExit(refusal("import", "--restated-at is not for a BODS import with --state: the "
                                                       "state stamps each relation's versions, and the next file "
                                                       "would read as older than the restated one; restate without "
                                                       "--state, or import the corrected file as the next one"))
                events = (restated(event, args.restated_at) for event in events)
            lines = (event.model_dump_json(by_alias=True, exclude_none=True) for event in events)
            not_sent = 0
            if args.produce:
                from streams.commands.produce import produce_lines, report_failures

                settings = settings_from_args(args)
                topic = args.topic or settings.events_topic
                summary = produce_lines(settings, (line.encode() for line in lines), topic, progress=False)
                print(f"sent {summary['sent']} events to {topic}", file=sys.stderr)
                not_sent = report_failures(summary, topic)
            else:
                out = sys.stdout
                for line in lines:
                    out.write(line + "\n")
                out.flush()
        if fmt in STATEFUL_FORMATS and args.state:
            _commit_state(args.state, written, keep=not not_sent)
    finally:
        for state in written:  # not committed (an exception on the way): the previous state stays
            state.discard()
    if report.skipped and not (report.converted or report.retracted) and all(
            skip.reason == "malformed_json" and skip.message.endswith(": is not UTF-8") for skip in report.skipped):
        # every record in another encoding (ocdskit's ISO-8859-1 package, one line): as a file read whole says it
        print(f"{args.command_name}: {input_name(args.file)} is not UTF-8 ({len(report.skipped)} record(s) read, none "
              "in UTF-8); JSON is UTF-8: convert it first, e.g. iconv -f ISO-8859-1 -t UTF-8", file=sys.stderr)
        return EXIT_USAGE
    if args.format == "auto" and fmt == "ftm" and _nothing_was_ftm(report):
        # FtM is what detection falls back to: a file of another kind read as FtM listed each record as "not an
        # FtM entity", which named the wrong format fifty times over
        print(f"{args.command_name}: the format of {args.file} was not recognised: read as FtM (the default), no "
              f"record of it is an FtM entity ({len(report.skipped)} skipped; the first: {report.skipped[0].message}); "
              f"give --format ({', '.join(FORMATS[1:])}) or check that this is the file meant", file=sys.stderr)
        return 1
    print_summary(f"{args.command_name} ({fmt})", report)
    if not_sent:
        return not_sent
    # A record that could not be read at all (malformed JSON, not UTF-8: a file cut short, two files of different
    # formats concatenated) is broken input, as a rejected line is for `score`: what the rest gave is written, and
    # the exit says that it is not the whole file's. Records read and not converted (entities without relations,
    # a register's header alone) are no failure unless nothing came of the file.
    unread = any(skip.reason == "malformed_json" for skip in report.skipped)
    return 1 if unread or (report.skipped and not (report.converted or report.retracted)) else 0


def _nothing_was_ftm(report: ImportReport) -> bool:
    """Every record read was refused as no FtM entity at all, and nothing came of the file."""
    from schemas.ftm import NOT_AN_ENTITY

    return bool(report.skipped) and not (report.converted or report.retracted or report.ignored or report.notes) \
        and all(skip.reason == "invalid_entity" and skip.message.startswith(NOT_AN_ENTITY) for skip in report.skipped)


def _commit_state(state_path: str, written: list[PreparedReplacement], keep: bool) -> None:
    """The feed state moves into place only once its events were delivered: the next delta is read against it,
    so a state ahead of the topic would lose the upserts and retractions that never arrived."""
    if not written:
        return
    state = written.pop()
    if keep:
        state.commit()
    else:
        state.discard()
        print(f"coi-risk: the state {state_path} was NOT updated, since some events did not reach the topic; "
              "import the same file again once the broker takes them", file=sys.stderr)


def _given(args: argparse.Namespace) -> dict:
    """The provenance flags given, for the data that states none."""
    supplied = {"publisher": args.publisher, "source_url": args.source_url, "retrieved_at": args.retrieved_at,
                "confidence": args.confidence}
    return {name: value for name, value in supplied.items() if value is not None}


def _events(fmt: str, reader: JsonValues, args: argparse.Namespace, report: ImportReport,
            written: list[PreparedReplacement]) -> Iterator:
    from schemas.ftm import FTM_IMPORT_VERSION, ImportDefaults

    given = _given(args)
    if getattr(args, "referents", False) and fmt != "ftm":
        raise SystemExit(refusal("import", f"--referents reads FtM entity files, not {fmt}"))
    if fmt == "bods":
        from schemas.bods import BODS_IMPORT_VERSION, import_bods

        defaults = ImportDefaults(extractor_name="bods-import", extractor_version=BODS_IMPORT_VERSION, **given)
        if args.state:
            return _bods_events(reader, defaults, report, args.state, written)
        return import_bods(reader.read, defaults, report, read_quietly=partial(reader.read, quiet=True))
    if fmt == "kek":
        from schemas.kek import EXTRACTOR_NAME as KEK_EXTRACTOR, KEK_IMPORT_VERSION, import_kek

        defaults = ImportDefaults(extractor_name=KEK_EXTRACTOR, extractor_version=KEK_IMPORT_VERSION, **given)
        return import_kek(reader.read, defaults, report)
    if fmt == "ocds":
        from schemas.ocds import EXTRACTOR_NAME as OCDS_EXTRACTOR, OCDS_IMPORT_VERSION, import_ocds

        defaults = ImportDefaults(extractor_name=OCDS_EXTRACTOR, extractor_version=OCDS_IMPORT_VERSION, **given)
        return import_ocds(reader.read, defaults, report)
    if fmt == "lda":
        from schemas.lda import EXTRACTOR_NAME as LDA_EXTRACTOR, LDA_IMPORT_VERSION, import_lda

        defaults = ImportDefaults(extractor_name=LDA_EXTRACTOR, extractor_version=LDA_IMPORT_VERSION, **given)
        return import_lda(reader.read, defaults, report)
    if fmt == "wikidata":
        from schemas.wikidata import EXTRACTOR_NAME, WIKIDATA_IMPORT_VERSION, import_wikidata

        defaults = ImportDefaults(extractor_name=EXTRACTOR_NAME, extractor_version=WIKIDATA_IMPORT_VERSION, **given)
        return import_wikidata(reader.read, defaults, report)
    defaults = ImportDefaults(extractor_version=FTM_IMPORT_VERSION, **given)
    if fmt == "ftm-delta":
        return _delta_events(reader, defaults, report, args.state, written)
    from schemas.ftm import import_ftm, referent_events

    events = import_ftm(reader.read, defaults, report)
    if getattr(args, "referents", False):
        return itertools.chain(events, referent_events(reader.read, defaults, report))
    return events


def _delta_events(reader: JsonValues, defaults, report: ImportReport, state_path: str | None,
                  written: list[PreparedReplacement]) -> Iterator:
    from schemas.ftm import STATE_TRAILER, FtmFeed, events_from_delta

    state: list[dict] = []
    if state_path and Path(state_path).exists():
        with Path(state_path).open(encoding="utf-8") as lines:
            try:
                state = [json.loads(line) for line in lines if line.strip()]
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                _not_a_state(state_path, exc)
        # A state is written whole, its trailer (the relations' versions) last: without it the file was cut short
        # (a copy, an editor), and the entities it lost would never be retracted when the feed deletes them.
        if not state or not isinstance(state[-1], dict) or STATE_TRAILER not in state[-1]:
            _not_a_state(state_path, ValueError("it does not end with the state's trailer line: cut short, or "
                                                "empty"))
    try:
        feed = FtmFeed(defaults, report, state)
    except Exception as exc:  # noqa: BLE001 - any way a foreign file fails to be a state: one line, no traceback
        _not_a_state(state_path, exc)
    yield from events_from_delta(reader.read(), defaults, report, feed)
    if state_path:  # written whole, renamed by _commit_state: an interrupted import leaves the previous state intact
        state = PreparedReplacement(Path(state_path), mode="w")
        with state.writing() as out:
            for entry in feed.state():
                out.write(json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n")
        written.append(state)


def _bods_events(reader: JsonValues, defaults, report: ImportReport, state_path: str,
                 written: list[PreparedReplacement]) -> Iterator:
    """A BODS file read against the state its register's earlier files left (`schemas.bods.BodsState`): the
    parties they named, their statements' chains, what each record stated last. The state is read and checked now,
    before any event is read or sent; it is written back once the file is read, and moves into place once its
    events were delivered (`_commit_state`)."""
    from schemas.bods import BodsState, import_bods

    path = Path(state_path)
    if not path.parent.is_dir():
        raise SystemExit(refusal("import", f"--state {state_path}: the directory {path.parent} does not exist"))
    state = BodsState()
    if path.exists():
        try:
            with path.open(encoding="utf-8") as lines:
                state = BodsState.from_lines(json.loads(line) for line in lines if line.strip())
        except (OSError, json.JSONDecodeError, UnicodeDecodeError, ValueError, TypeError, KeyError, AttributeError,
                RecursionError) as exc:
            raise SystemExit(refusal("import", f"{state_path} is not the state of a BODS import written by "
                                               f"`coi-risk import --state` ({exc}); pass the file an earlier import "
                                               "of this register wrote, or a new path to start afresh")) from None
    return _bods_events_with(import_bods(reader.read, defaults, report, state, partial(reader.read, quiet=True)),
                             state, path, written)


def _bods_events_with(events: Iterator, state, path: Path, written: list[PreparedReplacement]) -> Iterator:
    yield from events
    replacement = PreparedReplacement(path, mode="w")
    with replacement.writing() as out:
        for entry in state.lines():
            # (ASCII: a lone surrogate in a register's free text, which UTF-8 cannot write, travels escaped)
            out.write(json.dumps(entry) + "\n")
    written.append(replacement)


def _not_a_state(state_path: str | None, exc: Exception) -> None:
    raise SystemExit(refusal("import", f"{state_path} is not a feed state written by `coi-risk import --state` "
                                       f"({getattr(exc, 'message', None) or exc}); pass the file an earlier import "
                                       "wrote, or a new path to start the feed afresh")) from None


def detect_format(reader: JsonValues) -> str:
    """ftm-delta, bods, wikidata, kek, ocds, lda or ftm, from the first JSON object of the file (a saved yente API
    response is ftm: the import reads the entities it carries, `schemas.ftm.yente_response_entities`)."""
    from schemas.bods import is_bods
    from schemas.kek import is_kek
    from schemas.lda import is_lda
    from schemas.ocds import is_ocds
    from schemas.wikidata import is_wikidata

    for value in reader.read(quiet=True):
        if not isinstance(value, dict):
            continue
        if value.get("op") in ("ADD", "MOD", "DEL") and isinstance(value.get("entity"), dict):
            return "ftm-delta"
        if is_bods(value):
            return "bods"
        if is_wikidata(value):
            return "wikidata"
        if is_kek(value):
            return "kek"
        if is_ocds(value):
            return "ocds"
        if is_lda(value):
            return "lda"
        return "ftm"
    return "ftm"


class JsonValues:
    """The JSON values of a file, one per line, the elements of one top-level array, or pretty-printed objects one
    after another (a single BODS statement, a yente index), read anew on each call without loading the file. A line
    that is not JSON is reported once (on the first full read)."""

    def __init__(self, path: Path, report: ImportReport, progress: bool):
        self.path = path
        self.report = report
        self.progress = progress
        self.passes = 0

    def read(self, quiet: bool = False) -> Iterator[object]:
        if not quiet:
            self.passes += 1
        report_errors = not quiet and self.passes == 1
        with self.path.open("rb") as stream, self._progress(stream, quiet) as bar:
            first = _first_byte(stream)
            stream.seek(0)
            if first == b"[" or (first == b"{" and _object_spans_lines(stream)):
                stream.seek(0)
                yield from _array_elements(stream, bar)
                return
            stream.seek(0)
            for number, line in enumerate(stream, start=1):
                bar.update(len(line))
                if not line.strip():
                    continue
                try:
                    if _nests_too_deeply(line):
                        raise RecursionError
                    yield json.loads(line)
                except (json.JSONDecodeError, UnicodeDecodeError, RecursionError, ValueError) as exc:
                    if report_errors:
                        from schemas.ftm import Skipped, SkipReason

                        from schemas.validation import json_error_at

                        why = "nests too deeply to parse" if isinstance(exc, RecursionError) \
                            else "is not UTF-8" if isinstance(exc, UnicodeDecodeError) \
                            else json_error_at(exc, one_line=True) if isinstance(exc, json.JSONDecodeError) else str(exc)
                        self.report.skipped.append(Skipped(None, None, SkipReason.MALFORMED_JSON.value,
                                                           f"line {number}: {why}"))

    def _progress(self, stream: BinaryIO, quiet: bool):
        from tqdm import tqdm

        return tqdm(total=self.path.stat().st_size, unit="B", unit_scale=True, file=sys.stderr,
                    disable=quiet or not self.progress, desc=f"{self.path.name} pass {self.passes}", leave=False)


def refuse_non_json(path: Path, file: str) -> None:
    """Stop with one line when the file is plainly not JSON: a compressed or binary format (`inputs`), or a first
    line that is not JSON and does not open a JSON value (a YAML mapping, a CSV header). A broken line in JSON lines
    is not this: it is reported and skipped. `file` is the name given ('-': standard input, spooled to `path`)."""
    name = "standard input" if file == "-" else file
    with path.open("rb") as stream:
        if (what := compressed_or_binary(stream.read(16), name, "import", reads_stdin=file != "-")) is not None:
            raise SystemExit(refusal("import", what))
        stream.seek(0)
        first = _first_byte(stream)
        if first in (b"", b"{", b"["):
            return
        stream.seek(0)
        line = b""
        while not line.strip():
            line = stream.readline()
    try:
        json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise SystemExit(refusal("import", f"{name} is not JSON lines, a JSON array or JSON objects (it begins "
                                           f"{line.strip()[:40]!r}); coi-risk import reads FtM entities, FtM delta "
                                           "lines, BODS statements and Wikidata entities as JSON, and ESMA's MiCA "
                                           "register and the UK Commons' register of interests as their CSV "
                                           "files")) from None


def _first_byte(stream: BinaryIO) -> bytes:
    while chunk := stream.read(1):
        if not chunk.isspace() and chunk != b"\xef" and chunk != b"\xbb" and chunk != b"\xbf":  # BOM
            return chunk
    return b""


def _object_spans_lines(stream: BinaryIO, limit: int = 1 << 22) -> bool:
    """Whether the file opens with a JSON object written over several lines (indented), rather than one object per
    line: the first line alone is not JSON, but the text from the start decodes to one object. An object larger
    than the head read is one unless most lines after the first are objects of their own, as in JSON lines whose
    first record is broken (an indented file puts few objects on one line: at most its short innermost ones)."""
    stream.seek(0)
    first_line = b""
    while not first_line.strip():
        first_line = stream.readline()
        if not first_line:
            return False
    try:
        # (a line not in UTF-8 is still a line: skipped; a byte-order mark is no part of it)
        json.loads(first_line.decode("utf-8", errors="replace").lstrip("\ufeff"))
        return False
    except json.JSONDecodeError:
        pass  # not a value of its own: perhaps the start of an indented object
    except (RecursionError, ValueError):
        return False  # a value the parser refuses (nested too deep, a 5,000-digit number): a line, skipped as such
    stream.seek(0)
    head = stream.read(limit)
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    try:
        json.JSONDecoder().raw_decode(text)
    except (RecursionError, ValueError) as exc:
        if not isinstance(exc, json.JSONDecodeError) or len(head) < limit:
            return False
        lines = [line for line in head.splitlines()[1:200] if line.strip()]
        return not lines or 2 * sum(map(_is_record, lines)) < len(lines)
    return True


def _nests_too_deeply(line: bytes) -> bool:
    """More than `MAX_LINE_NESTING` levels (brackets inside strings do not count); only a line of that many brackets
    is scanned."""
    if line.count(b"[") + line.count(b"{") <= MAX_LINE_NESTING:
        return False
    depth = 0
    for token in _JSON_TOKENS.finditer(line):
        if token.group() in (b"[", b"{"):
            depth += 1
            if depth > MAX_LINE_NESTING:
                return True
        elif token.group() in (b"]", b"}"):
            depth -= 1
    return False


def _is_record(line: bytes) -> bool:
    try:
        value = json.loads(line)
    except (ValueError, RecursionError):
        return False
    return isinstance(value, dict) and bool(value)


def _array_elements(stream: BinaryIO, bar) -> Iterator[object]:
    """The elements of a top-level JSON array (or JSON values one after another), decoded one at a time from a
    moving buffer."""
    decoder = json.JSONDecoder()
    buffer, position, started, count = "", 0, False, 0
    text = _text_chunks(stream, bar)
    while True:
        while position < len(buffer) and (buffer[position].isspace() or buffer[position] in ",\ufeff"
                                          or (not started and buffer[position] == "[")):
            started = started or buffer[position] == "["
            position += 1
        if position < len(buffer) and buffer[position] == "]":
            return
        try:
            value, end = decoder.raw_decode(buffer, position)
        except RecursionError:  # one element nested beyond the parser's reach: its end cannot be found to skip it
            raise SystemExit(f"coi-risk: the JSON nests too deeply to parse near "
                             f"{buffer[position:position + 60]!r}") from None
        except json.JSONDecodeError:
            chunk = next(text, None)
            if chunk is None:
                if buffer[position:].strip():
                    raise SystemExit(f"coi-risk: the JSON ends early or is malformed near "
                                     f"{buffer[position:position + 60]!r}") from None
                if started:  # an array without its closing bracket: a cut-off file, never a complete one
                    raise SystemExit(f"coi-risk: the JSON array ends early: no closing \"]\" after {count} "
                                     f"elements (is the file cut off?)")
                return
            buffer, position = buffer[position:] + chunk, 0
            continue
        except ValueError as exc:  # a value the parser refuses (an integer of more than 4,300 digits)
            raise SystemExit(f"coi-risk: the JSON holds a value the parser refuses near "
                             f"{buffer[position:position + 60]!r}: {exc}") from None
        yield value
        count += 1
        position = end


def _text_chunks(stream: BinaryIO, bar, size: int = 1 << 20) -> Iterator[str]:
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")()
    read = 0
    try:
        while chunk := stream.read(size):
            bar.update(len(chunk))
            yield decoder.decode(chunk)
            read += len(chunk)
        yield decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        # JSON is UTF-8 (RFC 8259): a file in another encoding (ocdskit keeps a real ISO-8859-1 one) is refused whole,
        # with where, since every later byte of it may be misread
        raise SystemExit(refusal("import", f"the file is not UTF-8 (byte {exc.object[exc.start:exc.start + 1]!r} at "
                                           f"about byte {read + exc.start:,}); JSON is UTF-8: convert it first, e.g. "
                                           "iconv -f ISO-8859-1 -t UTF-8")) from None


class _readable:
    """The input as a path that can be read several times: the file itself, or stdin or a pipe (`<(zcat f.gz)`)
    spooled to a temp file."""

    def __init__(self, file: str):
        self.file = file
        self.temporary: Path | None = None

    def __enter__(self) -> Path:
        if self.file != "-" and Path(self.file).is_dir():  # an export of files (the Commons' register's)
            return Path(self.file)
        if self.file != "-":
            # its own contents check (refuse_non_json) says what a compressed or binary file is
            if (refused := refuse_unusable_input(self.file, "import", json_lines=False)) is not None:
                raise SystemExit(refused)
            if Path(self.file).is_file():
                return Path(self.file)
        handle = tempfile.NamedTemporaryFile(prefix="coi-risk-import-", suffix=".json", delete=False)
        self.temporary = Path(handle.name)
        with handle:
            if self.file != "-":
                try:
                    with open(self.file, "rb") as source:
                        shutil.copyfileobj(source, handle)
                except OSError as exc:
                    raise SystemExit(refusal("import", f"cannot read {self.file}: {exc.strerror}")) from None
            elif hasattr(sys.stdin, "buffer"):
                shutil.copyfileobj(sys.stdin.buffer, handle)
            else:  # a text stream without bytes underneath (tests, embedding)
                for text in sys.stdin:
                    handle.write(text.encode("utf-8"))
        return self.temporary

    def __exit__(self, *exc) -> None:
        if self.temporary is not None:
            self.temporary.unlink(missing_ok=True)


def print_summary(title: str, report: ImportReport) -> None:
    reasons = ", ".join(f"{reason}: {count}" for reason, count in sorted(report.skip_reasons().items()))
    print(f"{title}: converted {report.converted}; retracted {report.retracted}; skipped {len(report.skipped)}"
          + (f" ({reasons})" if reasons else "") + f"; notes {len(report.notes)}", file=sys.stderr)
    for outcome, count in sorted(report.outcomes.items()):
        print(f"  {outcome}: {count}", file=sys.stderr)
    for skipped in report.skipped[:SHOWN_PER_KIND]:
        print(f"  skipped {skipped}", file=sys.stderr)
    if len(report.skipped) > SHOWN_PER_KIND:
        print(f"  ... and {len(report.skipped) - SHOWN_PER_KIND} more skipped", file=sys.stderr)
    for note in report.notes[:SHOWN_PER_KIND]:
        print(f"  note: {note}", file=sys.stderr)
    if len(report.notes) > SHOWN_PER_KIND:
        print(f"  ... and {len(report.notes) - SHOWN_PER_KIND} more notes", file=sys.stderr)
    if report.ignored:
        ignored = ", ".join(f"{schema} {count}" for schema, count in sorted(report.ignored.items()))
        print(f"  not converted (neither a relation nor an endpoint): {ignored}", file=sys.stderr)


def restated(event, at: dt.datetime):
    """`event` as observed at `at` if it was observed before: the same statement, stated again so that it replaces
    a version of the same `observed_at` an earlier import gave. A version with an equal `observed_at` replaces the
    one held only if its event id sorts higher (the engine's order is (observed_at, event_id)), so without this a
    corrected re-import changed about half of what it corrected. The event id stays derived from the statement and
    the time: the same re-import gives the same ids."""
    from schemas.events import IDENTIFIER_MAX_LENGTH

    if event.observed_at >= at:
        return event
    stamp = at.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    event_id = f"{event.event_id}:restated-{stamp}"
    if len(event_id) > IDENTIFIER_MAX_LENGTH:
        event_id = "restated-" + hashlib.sha256(event_id.encode()).hexdigest()
    return event.model_copy(update={"observed_at": at, "event_id": event_id})


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
