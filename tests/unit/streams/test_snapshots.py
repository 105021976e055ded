"""The snapshot store: round trip, atomic writes, checksum and HMAC checks before unpickling, keep K, headers."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import time
from pathlib import Path

import pytest

import streams.snapshots as snapshots_module
from schemas import parse_event
from scoring import AlertTracker, Engine
from streams.snapshots import (KEY_FILE, MAGIC, Identity, SnapshotRejected, SnapshotState, SnapshotStore,
                               _DigestingWriter, config_hash)

SEED = Path(__file__).resolve().parents[3] / "examples" / "binance-wlfi.jsonl"


def seeded_state(lines: int | None = None) -> SnapshotState:
    engine, tracker = Engine(), AlertTracker()
    events = SEED.read_text().splitlines()[:lines]
    for line in events:
        tracker.observe(engine.apply(parse_event(line.encode())))
    return SnapshotState(engine, tracker, {0: len(events)})


def identity(**changes) -> Identity:
    fields = {"app_id": "app", "events_topic": "events", "config_hash": config_hash(Engine().config)}
    return Identity(**{**fields, **changes})


def store(directory: Path, keep: int = 3, **changes) -> SnapshotStore:
    return SnapshotStore(directory, identity(**changes), keep=keep)


def coi_risk(data_dir: Path, *argv: str):
    """`coi-risk ARGV` in a process of its own, with `data_dir` as its data directory and no config file."""
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "streams.cli", *argv], cwd=SEED.parents[1], capture_output=True,
                          text=True, timeout=120,
                          env={**os.environ, "COI_DATA_DIR": str(data_dir), "COI_RISK_CONFIG": ""})


def dumped(engine: Engine) -> list[dict]:
    return [score.model_dump(mode="json") for score in engine.scores()]


def test_round_trip_restores_engine_tracker_and_offsets(tmp_path):
    state = seeded_state()
    snapshots = store(tmp_path)
    path = snapshots.save(state)
    loaded, found = snapshots.load_newest()
    assert found == path
    assert loaded.offsets == state.offsets
    assert dumped(loaded.engine) == dumped(state.engine) != []
    assert loaded.tracker.open_alerts() == state.tracker.open_alerts() != {}
    assert loaded.engine.stats()["relations"] == state.engine.stats()["relations"]
    header = snapshots.read_header(path)
    assert header["format_version"] == 2 and header["offsets"] == {"0": state.offsets[0]}
    assert header["config_hash"] == config_hash(Engine().config) and header["package_version"]
    assert header["body_sha256"] == hashlib.sha256(path.read_bytes().split(b"\n", 2)[2]).hexdigest()


def test_the_restored_engine_continues_exactly_like_the_original(tmp_path):
    lines = SEED.read_text().splitlines()
    original = seeded_state(15)
    snapshots = store(tmp_path)
    snapshots.save(original)
    restored, _ = snapshots.load_newest()
    for line in lines[15:]:
        event = parse_event(line.encode())
        expected = original.tracker.observe(original.engine.apply(event))
        assert restored.tracker.observe(restored.engine.apply(event)) == expected
    assert dumped(restored.engine) == dumped(original.engine)


def test_a_write_killed_before_the_rename_leaves_the_previous_snapshot_in_use(tmp_path, monkeypatch):
    snapshots = store(tmp_path)
    first = snapshots.save(seeded_state(10))

    def killed(*args):
        raise KeyboardInterrupt("killed between fsync and rename")

    monkeypatch.setattr(os, "replace", killed)
    monkeypatch.setattr(Path, "unlink", lambda path, missing_ok=False: None)  # a killed writer cleans nothing up
    with pytest.raises(KeyboardInterrupt):
        snapshots.save(seeded_state())
    monkeypatch.undo()
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp-")]
    assert leftovers  # the torn write is there, under a name the loader never reads
    loaded, found = snapshots.load_newest()
    assert found == first and loaded.offsets == {0: 10}


# 0o600: as written, checked in chunks and unpickled from the file; 0o664: writable by others, read whole first
@pytest.mark.parametrize("mode", [0o600, 0o664])
def test_a_flipped_byte_is_rejected_and_the_older_snapshot_is_used(tmp_path, mode):
    snapshots = store(tmp_path)
    older = snapshots.save(seeded_state(10))
    newest = snapshots.save(seeded_state())
    data = bytearray(newest.read_bytes())
    data[-50] ^= 0x01
    newest.write_bytes(bytes(data))
    newest.chmod(mode)
    with pytest.raises(SnapshotRejected) as rejected:
        snapshots.load(newest)
    assert rejected.value.reason == "corrupt"
    reasons = []
    loaded, found = snapshots.load_newest(reasons.append)
    assert found == older and reasons == ["corrupt"]


def test_a_truncated_file_is_corrupt_and_with_no_usable_snapshot_the_caller_replays_the_log(tmp_path):
    snapshots = store(tmp_path)
    path = snapshots.save(seeded_state())
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    reasons = []
    assert snapshots.load_newest(reasons.append) is None
    assert reasons == ["corrupt"]
    (tmp_path / "snapshot-99999999999999999999.coisnap").write_bytes(b"not a snapshot at all")
    reasons.clear()
    assert snapshots.load_newest(reasons.append) is None
    assert reasons == ["corrupt", "corrupt"]


def test_snapshots_are_written_for_their_owner_alone_and_load_either_way(tmp_path):
    snapshots = store(tmp_path)
    path = snapshots.save(seeded_state())
    assert path.stat().st_mode & 0o777 == 0o600  # nobody else can change a body between its check and its reading
    expected = dumped(snapshots.load(path).engine)
    path.chmod(0o664)  # e.g. copied in by an operator: checked and unpickled from one copy in memory
    assert dumped(snapshots.load(path).engine) == expected != []


class _Planted:
    """What someone who may write a snapshot file puts in its body once the body has been checked."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.mark.parametrize("others_may_change_it", ["group-writable", "another user's"])
def test_a_body_others_could_change_is_unpickled_from_the_copy_that_was_checked(tmp_path, monkeypatch,
                                                                                  others_may_change_it):
    snapshots = store(tmp_path)
    path = snapshots.save(seeded_state())
    expected = dumped(snapshots.load(path).engine)
    if others_may_change_it == "group-writable":
        path.chmod(0o664)
    else:
        monkeypatch.setattr(os, "geteuid", lambda: os.getuid() + 1)  # the file's owner is somebody else
        # (and so would the key's be: this test is about the body, so the key is read as it is)
        monkeypatch.setattr(snapshots_module, "_read_key", Path.read_bytes)
    body_start = path.read_bytes().index(b"\n", len(MAGIC)) + 1
    marker = tmp_path / "pwned"
    check = SnapshotStore._check_digests

    def checked_then_rewritten(self, *args):
        check(self, *args)
        with path.open("r+b") as handle:  # the other user, between the check and the unpickling
            handle.seek(body_start)
            handle.write(pickle.dumps(_Planted(marker)))

    monkeypatch.setattr(SnapshotStore, "_check_digests", checked_then_rewritten)
    loaded = snapshots.load(path)
    assert not marker.exists()
    assert dumped(loaded.engine) == expected != []


def test_a_body_only_its_writer_can_change_is_unpickled_from_the_file(tmp_path, monkeypatch):
    snapshots = store(tmp_path)
    path = snapshots.save(seeded_state())
    streamed = []
    load = pickle.load
    monkeypatch.setattr(pickle, "load", lambda handle: streamed.append(handle) or load(handle))
    monkeypatch.setattr(pickle, "loads", lambda body: pytest.fail("the body was read whole"))
    assert dumped(snapshots.load(path).engine) != [] and len(streamed) == 1


def test_loading_never_holds_the_whole_body_beside_the_state(tmp_path, monkeypatch):
    """The body is checked in chunks and unpickled from the file: the memory a load takes beyond the state it
    builds stays far below the body's size (reading the body whole took the body's size again)."""
    import tracemalloc

    import streams.snapshots

    monkeypatch.setattr(streams.snapshots, "_READ_CHUNK", 1 << 20)  # 40 MB in use: here a body of many chunks
    engine = seeded_state(5).engine
    snapshots = store(tmp_path)
    path = snapshots.save(SnapshotState(engine, [f"{i:08d}" * 8 for i in range(200_000)], {0: 5}))
    body_bytes = snapshots.read_header(path)["body_bytes"]
    assert body_bytes > 12_000_000
    tracemalloc.start()
    try:
        loaded = snapshots.load(path)
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(loaded.tracker) == 200_000 and loaded.tracker[-1] == "00199999" * 8
    assert peak - held < body_bytes / 2


def test_unpickling_copies_the_body_out_of_the_reader_once(tmp_path, monkeypatch):
    """Given the reader's `peek`, the unpickler took a copy of all the reader held at every refill, then read what
    it had used again: the body copied out twice, through fresh blocks of the reader's size (at 1M relations, 1.1
    GB of memory faulted in for nothing). It reads frame by frame now."""
    import io

    import streams.snapshots

    copied = [0]

    class CountingReader(io.BufferedReader):
        def read(self, *args):
            data = super().read(*args)
            copied[0] += len(data)
            return data

        def peek(self, *args):
            data = super().peek(*args)
            copied[0] += len(data)
            return data

    def counting_open(path, buffering=-1, follow_links=True):
        return CountingReader(io.FileIO(path, "rb"), buffering if buffering > 0 else io.DEFAULT_BUFFER_SIZE)

    monkeypatch.setattr(streams.snapshots, "_READ_CHUNK", 1 << 20)
    snapshots = store(tmp_path)
    path = snapshots.save(SnapshotState(seeded_state(5).engine, [f"{i:08d}" * 8 for i in range(200_000)], {0: 5}))
    body_bytes = snapshots.read_header(path)["body_bytes"]
    monkeypatch.setattr(streams.snapshots, "_open_regular", counting_open)
    loaded = snapshots.load(path)
    assert loaded.tracker[-1] == "00199999" * 8
    assert body_bytes < copied[0] < 1.2 * body_bytes


def test_a_write_that_fails_leaves_no_file_behind(tmp_path):
    snapshots = store(tmp_path)
    first = snapshots.save(seeded_state(10))
    with pytest.raises(Exception):  # noqa: B017 - whatever pickle raises for a lambda
        snapshots.save(SnapshotState(seeded_state(5).engine, lambda: None, {0: 5}))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([first.name, KEY_FILE])
    assert snapshots.load_newest()[1] == first


def test_keeps_the_newest_k(tmp_path):
    snapshots = store(tmp_path, keep=2)
    written = [snapshots.save(seeded_state(n)) for n in (5, 10, 15, 20)]
    assert snapshots.paths() == [written[3], written[2]]
    assert snapshots.load_newest()[0].offsets == {0: 20}


@pytest.mark.parametrize("field,value", [("config_hash", "0" * 64), ("app_id", "other-app"),
                                         ("events_topic", "other-topic"), ("code_hash", "f" * 64),
                                         ("package_version", "0.0.0-older")])
def test_a_snapshot_of_another_config_code_app_or_topic_is_incompatible(tmp_path, field, value):
    store(tmp_path, **{field: value}).save(seeded_state())
    reasons = []
    assert store(tmp_path).load_newest(reasons.append) is None
    assert reasons == ["incompatible"]


def test_a_body_without_this_installations_hmac_is_never_unpickled(tmp_path):
    """Someone who can write into the directory but does not hold the key: a valid-looking header and a correct
    sha256 around a malicious pickle. The store must refuse before unpickling."""
    snapshots = store(tmp_path)
    genuine = snapshots.save(seeded_state())
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (Path.touch, (marker,))

    body = pickle.dumps((Payload(), None))
    header = dict(snapshots.read_header(genuine), body_bytes=len(body), body_sha256=hashlib.sha256(body).hexdigest(),
                  body_hmac="0" * 64)
    forged = tmp_path / "snapshot-99999999999999999999.coisnap"
    forged.write_bytes(MAGIC + json.dumps(header).encode() + b"\n" + body)
    reasons = []
    loaded, found = snapshots.load_newest(reasons.append)
    assert reasons == ["unauthenticated"] and found == genuine
    assert not marker.exists()


def rewritten(path: Path, header: dict | None = None, body: bytes | None = None) -> None:
    """Write a snapshot file again with another header or body (its header unpadded)."""
    _, line, old_body = path.read_bytes().split(b"\n", 2)
    path.write_bytes(MAGIC + json.dumps(json.loads(line) if header is None else header).encode() + b"\n"
                     + (old_body if body is None else body))


@pytest.mark.parametrize("change", ["offsets", "body of another snapshot"])
def test_a_genuine_body_under_a_header_it_was_not_written_with_is_refused(tmp_path, change):
    """The header is authenticated too: offsets moved under a genuine body would make the restart skip events (or
    repeat them), and a genuine body paired with another genuine snapshot's header would start from offsets it
    does not match. Both fall back to the older snapshot."""
    snapshots = store(tmp_path)
    older = snapshots.save(seeded_state(5))
    newer = snapshots.save(seeded_state(20))
    header = snapshots.read_header(newer)
    if change == "offsets":
        rewritten(newer, dict(header, offsets={"0": 40}))
    else:  # the older body, with its length, sha256 and HMAC, under the newer header's offsets
        old_header = snapshots.read_header(older)
        rewritten(newer, dict(header, **{name: old_header[name] for name in ("body_bytes", "body_sha256", "body_hmac")}),
                  older.read_bytes().split(b"\n", 2)[2])
    reasons = []
    loaded, found = snapshots.load_newest(reasons.append)
    assert reasons == ["corrupt"] and found == older and loaded.offsets == {0: 5}


def test_the_header_mac_is_what_the_store_checks(tmp_path):
    """The same file with its header as written loads (the rewriting itself changes nothing)."""
    snapshots = store(tmp_path)
    path = snapshots.save(seeded_state(5))
    rewritten(path)
    loaded, found = snapshots.load_newest()
    assert found == path and loaded.offsets == {0: 5}


def test_a_snapshot_of_the_first_format_is_incompatible(tmp_path):
    """Version 1 had no header HMAC: accepting it would accept headers nobody authenticated."""
    snapshots = store(tmp_path)
    path = snapshots.save(seeded_state(5))
    header = {name: value for name, value in snapshots.read_header(path).items() if name != "header_hmac"}
    rewritten(path, dict(header, format_version=1))
    reasons = []
    assert snapshots.load_newest(reasons.append) is None
    assert reasons == ["incompatible"]


@pytest.mark.parametrize("field", ["body_hmac", "header_hmac"])
def test_a_digest_that_is_not_ascii_is_refused_as_a_wrong_digest(tmp_path, field):
    snapshots = store(tmp_path)
    path = snapshots.save(seeded_state(5))
    rewritten(path, dict(snapshots.read_header(path), **{field: "é" * 64}))
    reasons = []
    assert snapshots.load_newest(reasons.append) is None
    assert reasons == ["unauthenticated" if field == "body_hmac" else "corrupt"]


def test_a_directory_without_a_key_unpickles_nothing(tmp_path):
    """A planted snapshot with no HMAC at all, in a directory that has no key file: nothing can be checked, so
    nothing is unpickled."""
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (Path.touch, (marker,))

    elsewhere = store(tmp_path / "elsewhere")
    header = elsewhere.read_header(elsewhere.save(seeded_state(3)))
    body = pickle.dumps((Payload(), None, {}))
    header = {k: v for k, v in header.items() if k != "body_hmac"}
    header.update(body_bytes=len(body), body_sha256=hashlib.sha256(body).hexdigest())
    (tmp_path / "snapshot-99999999999999999999.coisnap").write_bytes(MAGIC + json.dumps(header).encode() + b"\n"
                                                                     + body)
    reasons = []
    assert store(tmp_path).load_newest(reasons.append) is None
    assert reasons == ["unauthenticated"] and not marker.exists()


def test_another_installations_key_does_not_authenticate(tmp_path):
    snapshots = store(tmp_path)
    snapshots.save(seeded_state())
    (tmp_path / KEY_FILE).write_bytes(b"k" * 32)
    reasons = []
    assert snapshots.load_newest(reasons.append) is None
    assert reasons == ["unauthenticated"]


def test_the_key_file_is_private(tmp_path):
    store(tmp_path).save(seeded_state(5))
    assert (tmp_path / KEY_FILE).stat().st_mode & 0o077 == 0


def test_a_forked_write_holds_the_state_of_the_fork_instant_while_the_parent_goes_on(tmp_path):
    lines = SEED.read_text().splitlines()
    state = seeded_state(10)
    expected = dumped(state.engine)
    snapshots = store(tmp_path)
    pid = snapshots.save_in_child(state)
    for line in lines[10:]:  # the live path changes its copy while the child writes
        state.tracker.observe(state.engine.apply(parse_event(line.encode())))
    assert snapshots.wait_for_child(pid) == 0
    loaded, _ = snapshots.load_newest()
    assert dumped(loaded.engine) == expected != dumped(state.engine)
    assert loaded.offsets == {0: 10}


def test_a_failed_forked_write_reports_a_nonzero_exit(tmp_path):
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the snapshot directory should be")
    blocked_store = store(blocked)
    pid = blocked_store.save_in_child(seeded_state(5))
    assert blocked_store.wait_for_child(pid) != 0


def test_a_writer_that_hangs_is_killed_after_the_timeout_and_the_next_write_works(tmp_path, monkeypatch):
    snapshots = store(tmp_path)
    snapshots.save(seeded_state(5))
    real_write = _DigestingWriter.write

    def hanging_write(self, data):  # as on a network mount that stopped answering mid-write
        time.sleep(60)

    monkeypatch.setattr(_DigestingWriter, "write", hanging_write)
    pid = snapshots.save_in_child(seeded_state(10))  # the child inherits the hanging write

    def leftovers():
        return list(tmp_path.glob(f".tmp-{pid}-*-snapshot-*.coisnap"))

    deadline = time.monotonic() + 10
    while not leftovers() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert leftovers()
    with pytest.raises(TimeoutError, match="killed"):
        snapshots.wait_for_child(pid, timeout=0.5)
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # reaped: no zombie left behind
    assert not leftovers()  # the killed writer's partial file goes at once, not an hour later
    loaded, _ = snapshots.load_newest()
    assert loaded.offsets == {0: 5}  # the previous snapshot stays in use
    monkeypatch.setattr(_DigestingWriter, "write", real_write)
    snapshots.save(seeded_state(10))
    assert snapshots.load_newest()[0].offsets == {0: 10}


def test_the_worker_load_moves_the_loaded_state_out_of_the_collector(tmp_path):
    import gc

    snapshots = store(tmp_path)
    snapshots.save(seeded_state(20))
    gc.collect()
    gc.unfreeze()
    try:
        plain, _ = snapshots.load_newest()
        assert gc.get_freeze_count() == 0
        generations = {id(obj) for obj in gc.get_objects()}
        assert all(id(rec) in generations for rec in plain.engine.graph.facts())
        frozen, _ = snapshots.load_newest(freeze=True)
        relations = frozen.engine.stats()["relations"]
        assert relations and gc.get_freeze_count() >= relations  # every record, at least, is out of them now
        generations = {id(obj) for obj in gc.get_objects()}
        assert not any(id(rec) in generations for rec in frozen.engine.graph.facts())
    finally:
        gc.unfreeze()


def test_verify_makes_every_check_of_a_load_without_unpickling(tmp_path, monkeypatch):
    snapshots = store(tmp_path)
    good = snapshots.save(seeded_state(5))
    changed = snapshots.save(seeded_state(10))
    rewritten(changed, dict(snapshots.read_header(changed), offsets={"0": 99}))
    unpickled = []
    monkeypatch.setattr(pickle, "load", lambda *a, **k: unpickled.append(1))
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: unpickled.append(1))
    assert snapshots.verify(good)["offsets"] == {"0": 5}
    with pytest.raises(SnapshotRejected) as rejected:
        snapshots.verify(changed)
    assert rejected.value.reason == "corrupt"
    with pytest.raises(SnapshotRejected) as rejected:
        store(tmp_path, app_id="other-app").verify(good)
    assert rejected.value.reason == "incompatible"
    assert unpickled == []


def test_snapshot_list_says_which_snapshot_the_worker_would_use_and_why_not(tmp_path):
    """The operator's view before a deploy: each snapshot checked as the worker checks it."""
    from scoring import ScoringConfig
    from streams.config import Settings

    settings = Settings()
    snapshots = SnapshotStore(tmp_path / "snapshots", Identity(settings.app_id, settings.events_topic,
                                                               config_hash(ScoringConfig.load())))
    good = snapshots.save(seeded_state(5))
    flipped = snapshots.save(seeded_state(10))
    data = bytearray(flipped.read_bytes())
    data[-10] ^= 0xFF
    flipped.write_bytes(bytes(data))
    result = coi_risk(tmp_path, "snapshot", "list")
    assert result.returncode == 0, result.stderr
    lines = dict(line.split("  ", 1) for line in result.stdout.splitlines())
    assert lines[good.name].endswith("  usable: a restart starts here")
    assert "not usable (corrupt)" in lines[flipped.name]
    good.unlink()
    result = coi_risk(tmp_path, "snapshot", "list")
    assert "no usable snapshot: a worker started now replays the full log" in result.stderr
    result = coi_risk(tmp_path, "snapshot", "list", "--headers-only")
    assert "usable" not in result.stdout and flipped.name in result.stdout


def planted(directory: Path, header: dict, marker: Path, key: bytes) -> Path:
    """A snapshot whose body runs code when unpickled, its HMACs made with `key`."""
    import hmac as hmac_module

    from streams.snapshots import _header_mac

    class Payload:
        def __reduce__(self):
            return (Path.touch, (marker,))

    body = pickle.dumps((Payload(), None))
    forged = dict(header, body_bytes=len(body), body_sha256=hashlib.sha256(body).hexdigest(),
                  body_hmac=hmac_module.new(key, body, hashlib.sha256).hexdigest())
    forged.pop("header_hmac", None)
    forged["header_hmac"] = _header_mac(key, forged)
    path = directory / "snapshot-99999999999999999999.coisnap"
    path.write_bytes(MAGIC + json.dumps(forged).encode() + b"\n" + body)
    return path


@pytest.mark.parametrize("damage", ["empty", "short", "readable by others", "a link"])
def test_a_key_file_that_is_not_a_private_key_of_this_user_is_never_used(tmp_path, damage):
    """An empty key file (a torn creation) would let anyone sign a body with the empty key; a key others can read,
    or a link to one, is no secret of this installation."""
    snapshots = store(tmp_path)
    header = snapshots.read_header(snapshots.save(seeded_state(5)))
    key_file = tmp_path / KEY_FILE
    if damage == "empty":
        key_file.write_bytes(b"")
        key = b""
    elif damage == "short":
        key_file.write_bytes(b"k" * 8)
        key = b"k" * 8
    elif damage == "readable by others":
        key = key_file.read_bytes()
        key_file.chmod(0o644)
    else:
        key = key_file.read_bytes()
        (tmp_path / "elsewhere").write_bytes(key)
        (tmp_path / "elsewhere").chmod(0o600)
        key_file.unlink()
        key_file.symlink_to(tmp_path / "elsewhere")
    marker = tmp_path / "pwned"
    planted(tmp_path, header, marker, key)
    reasons = []
    assert snapshots.load_newest(reasons.append) is None
    assert reasons == ["unauthenticated", "unauthenticated"] and not marker.exists()
    with pytest.raises(RuntimeError, match="not writing a snapshot: key file"):
        snapshots.save(seeded_state(5))


def test_a_new_key_is_whole_and_private_and_leaves_no_temporary_file(tmp_path):
    store(tmp_path).save(seeded_state(5))
    key_file = tmp_path / KEY_FILE
    assert len(key_file.read_bytes()) == 32 and key_file.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp-")) == []


def test_a_body_made_of_a_header_does_not_authenticate_as_a_body(tmp_path):
    """The two HMACs share a key: the header's is computed over a prefixed text, so that no body can be given a
    header's HMAC as its own."""
    from streams.snapshots import _header_line

    snapshots = store(tmp_path)
    path = snapshots.save(seeded_state(5))
    header = snapshots.read_header(path)
    fields = {name: value for name, value in header.items() if name != "header_hmac"}
    body = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()
    forged = dict(header, body_bytes=len(body), body_sha256=hashlib.sha256(body).hexdigest(),
                  body_hmac=header["header_hmac"])
    path.write_bytes(MAGIC + _header_line(forged) + body)
    with pytest.raises(SnapshotRejected) as rejected:
        snapshots.verify(path)
    assert rejected.value.reason == "unauthenticated"


def test_a_fifo_or_a_header_nested_too_deep_is_refused_without_hanging(tmp_path):
    import threading

    snapshots = store(tmp_path)
    good = snapshots.save(seeded_state(5))
    os.mkfifo(tmp_path / "snapshot-99999999999999999999.coisnap")
    (tmp_path / "snapshot-99999999999999999998.coisnap").write_bytes(MAGIC + b"[" * 20_000 + b"\n")
    outcome = []
    worker = threading.Thread(target=lambda: outcome.append(snapshots.load_newest(reasons.append)), daemon=True)
    reasons = []
    worker.start()
    worker.join(30)
    assert not worker.is_alive(), "loading waited on a FIFO"
    assert outcome[0][1] == good and reasons == ["unreadable", "corrupt"]


def test_snapshot_list_survives_a_damaged_header(tmp_path):
    snapshots_dir = tmp_path / "snapshots"
    snapshots_dir.mkdir()
    (snapshots_dir / "snapshot-1.coisnap").write_bytes(MAGIC + b'{"created_at": "x", "offsets": {}}\n')
    (snapshots_dir / "snapshot-2.coisnap").write_bytes(MAGIC + b'{"created_at": 1e300, "offsets": {}}\n')
    os.mkfifo(snapshots_dir / "snapshot-3.coisnap")
    result = coi_risk(tmp_path, "snapshot", "list")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert "snapshot-1.coisnap  ?  " in result.stdout and "snapshot-2.coisnap  ?  " in result.stdout
    assert "snapshot-3.coisnap  unreadable" in result.stdout


@pytest.mark.parametrize("command", ["import", "load"])
def test_an_import_or_load_stops_at_once_with_one_line_when_its_snapshot_could_not_be_written(tmp_path, command):
    """A bulk load or an import checks the key before its work: an unusable key is named at once, not after an
    hour's load as a traceback from the final write."""
    snapshots_dir = tmp_path / "snapshots"
    snapshots_dir.mkdir()
    (snapshots_dir / KEY_FILE).write_bytes(b"")
    (snapshots_dir / KEY_FILE).chmod(0o600)  # private, but empty: a creation killed before the fix made it whole
    state = tmp_path / "state.jsonl"
    state.write_text('{"record": "header", "format": "coi-risk-portable-state", "format_version": 2}\n')
    argv = ["snapshot", "import", str(state)] if command == "import" else ["load", "--bootstrap-servers", "127.0.0.1:9"]
    result = coi_risk(tmp_path, *argv)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "not writing a snapshot: key file" in result.stderr and "holds 0 bytes" in result.stderr


def exportable(directory: Path, monkeypatch, lines: int | None = None) -> SnapshotStore:
    """A store holding a snapshot of the resolution layer (what the worker saves, and the export reads) of the seed's
    first `lines` events, as `coi-risk snapshot export` opens it."""
    import streams.commands.snapshot as snapshot_command
    from scoring.resolution import ResolvingEngine

    engine, tracker = ResolvingEngine(), AlertTracker()
    events = SEED.read_text().splitlines()[:lines]
    for line in events:
        tracker.observe(engine.apply(parse_event(line.encode())))
    snapshots = store(directory)
    snapshots.save(SnapshotState(engine, tracker, {0: len(events)}))
    monkeypatch.setattr(snapshot_command, "open_store", lambda args: (None, None, snapshots))
    return snapshots


def export(output: Path) -> int:
    import argparse

    import streams.commands.snapshot as snapshot_command

    return snapshot_command.run_export(argparse.Namespace(output=str(output)))


def test_an_interrupted_or_failed_export_leaves_the_name_as_it_was(tmp_path, monkeypatch, capsys):
    import errno

    import scoring.portable

    exportable(tmp_path / "snapshots", monkeypatch)
    whole = scoring.portable.export_state

    def stopping_with(exception: BaseException):
        def export_state(*args, **kwargs):
            for number, record in enumerate(whole(*args, **kwargs)):
                if number == 10:
                    raise exception
                yield record
        return export_state

    target = tmp_path / "state.jsonl"
    monkeypatch.setattr(scoring.portable, "export_state", stopping_with(KeyboardInterrupt()))  # Ctrl-C halfway
    with pytest.raises(KeyboardInterrupt):
        export(target)
    assert not target.exists() and list(tmp_path.glob("*.part")) == list(tmp_path.glob(".*part")) == []
    monkeypatch.setattr(scoring.portable, "export_state", whole)
    assert export(target) == 0
    previous = target.read_text()
    assert json.loads(previous.splitlines()[-1])["record"] == "end" and len(previous.splitlines()) > 10
    # the next export fails halfway: the previous one stays whole under the name
    monkeypatch.setattr(scoring.portable, "export_state", stopping_with(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        export(target)
    monkeypatch.setattr(scoring.portable, "export_state",
                        stopping_with(OSError(errno.ENOSPC, "No space left on device")))
    assert export(target) == 1
    assert f"not exported to {target}: [Errno 28] No space left on device" in capsys.readouterr().err
    assert target.read_text() == previous
    assert list(tmp_path.glob(".*part")) == []


def test_an_export_to_a_pipe_is_written_in_place_and_one_to_a_link_is_refused(tmp_path, monkeypatch, capsys):
    import threading

    exportable(tmp_path / "snapshots", monkeypatch, lines=10)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    assert export(fifo) == 0
    reader.join(timeout=30)
    assert json.loads(received[0].splitlines()[-1])["record"] == "end"
    # a link, even the user's own: refused, rather than written through or replaced by a file
    real = tmp_path / "real.jsonl"
    link = tmp_path / "link.jsonl"
    real.write_text("mine\n")
    link.symlink_to(real)
    capsys.readouterr()
    assert export(link) == 2
    refusal = capsys.readouterr().err
    assert f"not exporting to {link}: it is a symbolic link" in refusal and "or -o - for standard output" in refusal
    assert link.is_symlink() and real.read_text() == "mine\n"
    assert export(tmp_path) == 2 and "it is a directory" in capsys.readouterr().err
    assert list(tmp_path.glob(".*part")) == []


def test_the_last_records_applied_travel_in_the_authenticated_header(tmp_path):
    snapshots = store(tmp_path)
    state = seeded_state(5)
    path = snapshots.save(SnapshotState(state.engine, state.tracker, {0: 5}, {0: (4, 1_700_000_000_123)}))
    assert snapshots.load(path).last_records == {0: (4, 1_700_000_000_123)}
    assert snapshots.read_header(path)["last_records"] == {"0": [4, 1_700_000_000_123]}
    older = snapshots.save(SnapshotState(state.engine, state.tracker, {0: 5}))  # an import's: not known
    assert snapshots.load(older).last_records == {}
