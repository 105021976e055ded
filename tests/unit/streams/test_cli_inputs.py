"""Input files named on the command line: a missing file, a directory or a compressed file is one line and exit 2,
before the command connects, starts anything or asks anything; a pipe is read like a file. No broker needed."""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from streams.cli import main

REPO = Path(__file__).resolve().parents[3]
SEED = REPO / "examples" / "binance-wlfi.jsonl"
PROCUREMENT = REPO / "tests" / "fixtures" / "ours" / "procurement.ftm.json"

# every command that reads a file of JSON lines named as an argument, and where the file goes
COMMANDS = {
    "score": lambda f: ["score", f],
    "export-ftm": lambda f: ["export-ftm", f],
    "export-bods": lambda f: ["export-bods", f],
    "suggest-merges": lambda f: ["suggest-merges", f],
    "review": lambda f: ["review", f],
    "produce": lambda f: ["produce", f, "--quiet"],
    "load": lambda f: ["load", f, "--quiet"],
    "demo": lambda f: ["demo", "--file", f],
    "import": lambda f: ["import", f, "--quiet"],
    "snapshot import": lambda f: ["snapshot", "import", f],
}


@pytest.fixture(autouse=True)
def _nothing_reaches_kafka(monkeypatch):
    """The checks come first: any command that got as far as Kafka, a broker or a worker fails the test."""
    for key in list(os.environ):
        if key.upper().startswith("COI_") or key == "KAFKA_BOOTSTRAP_SERVERS":
            monkeypatch.delenv(key)

    def reached(*args, **kwargs):
        raise AssertionError("the command went on to Kafka with an input it cannot use")

    for target in ("streams.commands.produce.produce_lines", "streams.topics.ensure_topics",
                   "streams.topics.recreate_topics", "streams.broker.LocalBroker", "streams.recovery.committed_offsets",
                   "streams.commands.snapshot.open_store"):
        monkeypatch.setattr(target, reached)


def _run(capsys, argv) -> tuple[int, str]:
    try:
        code = main(argv)
    except SystemExit as exited:  # import stops from inside its reader
        code = exited.code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err.strip()


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_missing_file_is_one_line_and_exit_2(capsys, tmp_path, command):
    missing = str(tmp_path / "missing.jsonl")
    code, err = _run(capsys, COMMANDS[command](missing))  # export-bods, produce, snapshot import: tracebacks
    assert (code, err) == (2, f"coi-risk {command}: cannot read {missing}: No such file or directory")


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_directory_is_one_line_and_exit_2(capsys, tmp_path, command):
    code, err = _run(capsys, COMMANDS[command](str(tmp_path)))  # import said "no such file"
    if command == "import":  # a directory of the Commons' register's files is an export it reads
        assert (code, err) == (2, f"coi-risk import: {tmp_path} is a directory: coi-risk import reads one as an "
                                  "export of the Commons' register of interests (its PublishedInterest-Category_*.csv "
                                  "files), and it holds none")
    else:
        assert (code, err) == (2, f"coi-risk {command}: cannot read {tmp_path}: it is a directory")


@pytest.mark.parametrize("command", sorted(COMMANDS))  # snapshot import said "line 1: ... UnicodeDecodeError"
def test_a_gzip_file_is_named_as_one(capsys, tmp_path, command):
    packed = tmp_path / "events.jsonl.gz"
    packed.write_bytes(gzip.compress(SEED.read_bytes()))
    # score and suggest-merges exited 0 after an encoding_error per line, export-ftm raised UnicodeDecodeError,
    # produce would have published the compressed bytes to the input topic, which keeps them for ever
    code, err = _run(capsys, COMMANDS[command](str(packed)))
    assert code == 2
    assert err.startswith(f"coi-risk {command}: {packed} is a gzip file: decompress it first")
    assert err.count("\n") == 0


def test_export_ftm_rejects_a_line_that_is_not_utf8_and_goes_on(capsys, tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_bytes(SEED.read_bytes().splitlines()[0] + b"\n" + b'{"name": "\xff"}\n')
    assert main(["export-ftm", str(path)]) == 1  # a UnicodeDecodeError traceback before
    captured = capsys.readouterr()
    assert "line 2: encoding_error" in captured.err and "Traceback" not in captured.err
    assert len(captured.out.splitlines()) == 3


def test_import_reads_a_pipe_like_a_file():
    # `coi-risk import <(zcat f.gz)`: a pipe is read several times, so it is spooled; it was refused as "no such file"
    command = f"{sys.executable} -m streams.cli import --quiet <(cat {PROCUREMENT})"
    result = subprocess.run(["bash", "-c", command], cwd=REPO, capture_output=True, text=True, timeout=120,
                            env={key: value for key, value in os.environ.items() if not key.startswith("COI_")})
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 5


# -- files that are no relationship events at all: refused whole, before anything reaches the input log ----------

MICA_CSV = REPO / "tests" / "fixtures" / "mica" / "esma_casps_2026-08-17.csv"
BODS_PRETTY = REPO / "tests" / "fixtures" / "bods" / "indirect-ownership.json"
PUBLISHING = ("produce", "load", "demo")


@pytest.mark.parametrize("command", PUBLISHING)
@pytest.mark.parametrize("data", [MICA_CSV, BODS_PRETTY, PROCUREMENT], ids=["register-csv", "bods-json", "ftm"])
def test_a_file_of_no_events_is_refused_before_it_reaches_the_log(capsys, command, data):
    # produce sent all 386 rows of the register's CSV to the input topic (kept for ever), exit 0; load and demo too
    code, err = _run(capsys, COMMANDS[command](str(data)))
    assert code == 2
    assert err.startswith(f"coi-risk {command}: {data} is not relationship events (")
    assert err.endswith(f"first with `coi-risk import {data}`") and err.count("\n") == 0


def _piped(monkeypatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))


def test_a_pipe_of_no_events_is_refused_too(capsys, monkeypatch):
    _piped(monkeypatch, MICA_CSV.read_bytes())
    code, err = _run(capsys, ["produce", "-", "--quiet"])
    assert (code, err.split(" (")[0]) == (2, "coi-risk produce: - is not relationship events")


def _sent_lines(monkeypatch) -> list[bytes]:
    """What `produce` hands its producer, caught where it would connect."""
    sent: list[bytes] = []

    def produce_lines(settings, lines, topic, progress=True):
        sent.extend(lines)
        return {"topic": topic, "sent": len(sent), "attempted": len(sent), "bytes": 0, "unkeyed": 0, "seconds": 0.0,
                "events_per_second": None, "by_relation_type": {}, "failures": [], "interrupted": False}

    monkeypatch.setattr("streams.commands.produce.produce_lines", produce_lines)
    return sent


@pytest.mark.parametrize("piped", [False, True], ids=["file", "pipe"])
def test_events_with_a_broken_first_line_still_go_every_line_of_them(capsys, monkeypatch, tmp_path, piped):
    # one bad line in an events file is the worker's to dead-letter with its reason, not a reason to refuse the file
    data = b"{not json\n" + SEED.read_bytes()
    sent = _sent_lines(monkeypatch)
    if piped:
        _piped(monkeypatch, data)
        argv = ["produce", "-", "--quiet"]
    else:
        path = tmp_path / "events.jsonl"
        path.write_bytes(data)
        argv = ["produce", str(path), "--quiet"]
    code, _ = _run(capsys, argv)
    assert code == 0
    assert b"".join(sent) == data  # the lines the check read first are handed on, none lost or repeated


def test_a_byte_order_mark_is_the_files_not_its_first_events(capsys, tmp_path):
    # score dropped the first event ("Unexpected UTF-8 BOM"), and produce would have published it so
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + SEED.read_bytes())
    code, err = _run(capsys, ["score", str(path)])
    assert code == 0 and err == ""


def test_produce_sends_the_first_line_without_the_files_byte_order_mark():
    from streams.commands.inputs import without_byte_order_mark

    first = SEED.read_bytes().splitlines()[0]
    assert without_byte_order_mark(b"\xef\xbb\xbf" + first, 1) == first
    assert without_byte_order_mark(b"\xef\xbb\xbf" + first, 2) == b"\xef\xbb\xbf" + first  # only the file's start


def test_score_exits_1_when_it_rejected_lines_and_still_prints_the_rest(capsys, tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_bytes(SEED.read_bytes() + b'{"schema_version": "1.0", "event_id": "x"}\n')
    code = main(["score", str(path)])
    captured = capsys.readouterr()
    assert code == 1  # 0 before: a script took the scores of part of the file for the whole file's
    assert "29 events applied, 1 rejected" in captured.out and "Trump" in captured.out


def test_a_line_that_is_not_json_says_where_once(capsys, tmp_path):
    # score said "Unterminated string starting at at line 1 column 12", import "line 1: Unterminated string starting at"
    path = tmp_path / "broken.jsonl"
    path.write_text('{"id": "x", "name": "unterminated\n' + SEED.read_text())
    main(["score", str(path)])
    assert f"{path}:1: malformed_json: not valid JSON: Unterminated string starting at line 1 column 21" in \
        capsys.readouterr().err
    entities = tmp_path / "broken.ftm.json"
    entities.write_text('{"id": "x" "name": 1}\n' + PROCUREMENT.read_text())
    main(["import", str(entities), "--quiet"])
    assert "  skipped a record: malformed_json: line 1: Expecting ',' delimiter at column 12\n" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["score", str(SEED), "--as-of", "2025-13-01"],
                                  ["replay", "--as-of", "2025-13-01"],
                                  ["audit", "--entity", "x", "--as-of", "2025-13-01"]])
def test_a_date_that_is_none_says_how_to_write_one(capsys, argv):
    # "invalid fromisoformat value" (argparse's name of the function that refused it)
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    assert "argument --as-of: '2025-13-01' is not a date: write it YYYY-MM-DD, as 2025-01-31" in \
        capsys.readouterr().err


def test_referents_on_a_file_of_no_ftm_entities_is_a_usage_error(capsys):
    bods = REPO / "tests" / "fixtures" / "bods" / "joint-ownership.json"
    code, err = _run(capsys, ["import", str(bods), "--referents", "--quiet"])
    assert (code, err) == (2, "coi-risk import: --referents reads FtM entity files, not bods")  # exit 1 before


def _refusal_of(capsys, tmp_path, data: bytes) -> tuple[int, str]:
    path = tmp_path / "input.jsonl"
    path.write_bytes(data)
    return _run(capsys, ["produce", str(path), "--quiet"])


def test_what_the_check_calls_no_events_and_what_it_leaves_to_the_worker(capsys, monkeypatch, tmp_path):
    seed = SEED.read_bytes()
    event = seed.splitlines()[0]
    bad_type = json.dumps(dict(json.loads(event), relation_type="befriends")).encode()
    csv_rows = MICA_CSV.read_bytes()
    refused = {
        "one line that is no event, and nothing else": b'{"id": "x", "schema": "Person"}\n',
        "JSON arrays": b"[1, 2]\n[3]\n" + seed,
        "two lines that are none, then events": b"name,country\nACME,DE\n" + seed,
        "a first record longer than an event may be": json.dumps(
            {"id": "x", "schema": "Person", "properties": {"alias": ["a" * 70] * 2000}}).encode() + b"\n"
            + PROCUREMENT.read_bytes(),
        "a register's CSV saved as cp1252": csv_rows.decode("utf-8-sig").replace("Lithuania", "Löw").encode(
            "cp1252", errors="replace").replace(b"\n", b"\n\xf6", 1),
    }
    for case, data in refused.items():
        code, err = _refusal_of(capsys, tmp_path, data)
        assert code == 2 and "is not relationship events" in err, case
    sent = _sent_lines(monkeypatch)
    accepted = {
        "a broken event first, then anything": bad_type + b"\n" + b"name,country\nACME,DE\n",
        "the byte-order mark and one event": b"\xef\xbb\xbf" + event + b"\n",
    }
    for case, data in accepted.items():
        sent.clear()
        code, _ = _refusal_of(capsys, tmp_path, data)
        assert code == 0 and b"".join(sent) == data, case


def test_events_of_a_schema_version_this_one_does_not_read_are_named_so(capsys, tmp_path):
    newer = b"".join(json.dumps(dict(json.loads(line), schema_version="9.0")).encode() + b"\n"
                     for line in SEED.read_bytes().splitlines())
    code, err = _refusal_of(capsys, tmp_path, newer)
    assert code == 2 and "is not relationship events this version reads (line 1: schema_version '9.0' is not " \
        "supported" in err and "need the coi-risk that writes it" in err and "coi-risk import" not in err


def test_export_bods_of_an_empty_file_names_no_date(capsys, tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text("")
    assert main(["export-bods", str(path)]) == 0
    assert "0 indirect stakes (eu rule) (no event: no date); 0 lines rejected" in capsys.readouterr().err  # "as of None"
