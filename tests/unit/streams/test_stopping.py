"""What a clean stop must not wait for, and what a forked snapshot writer must not keep (an operator's review of
the snapshot at stop): a catch-up's replay ends at the stop, a writer closes the sockets it inherited and dies with
the worker, and a store never takes another writer's temporary file for its own."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from scoring import AlertTracker
from scoring.resolution import ResolvingEngine
from streams import recovery
from streams.config import load_settings
from streams.log_reader import Bounds
from streams.processor import EventProcessor
from streams.snapshots import Identity, SnapshotState, SnapshotStore
from tests.unit.streams.test_processor import record

REPO = Path(__file__).resolve().parents[3]
SEED = REPO / "examples" / "binance-wlfi.jsonl"


def _records() -> list:
    lines = [line for line in SEED.read_bytes().splitlines() if line.strip()]
    return [record(line, offset) for offset, line in enumerate(lines)]


def test_a_replay_ends_at_the_stop_at_a_consistent_cut(monkeypatch, tmp_path):
    """Before, the process's exit waited for the replay's thread (14 s after a stop with a 2 s limit, minutes on a
    long log). Now it ends before its next record, at the position of the last record applied, not at the end."""
    records = _records()
    stop = threading.Event()

    def read(settings, topic, bounds):  # the log, as the broker would give it (recovery reads it through here)
        for index, item in enumerate(records):
            if index == 5:
                stop.set()  # the stop comes while the sixth record is read
            yield item

    monkeypatch.setattr(recovery, "read", read)
    processor = EventProcessor(ResolvingEngine(), AlertTracker())
    settings = load_settings(environ={}, data_dir=str(tmp_path))
    applied = recovery.replay_into(settings, processor, Bounds({0: 0}, {0: len(records)}), stop)
    assert applied == 5
    assert processor.next_offsets == {"0": 5}  # the sixth is the first a restart applies

    unstopped = EventProcessor(ResolvingEngine(), AlertTracker())
    monkeypatch.setattr(recovery, "read", lambda settings, topic, bounds: iter(records))
    assert recovery.replay_into(settings, unstopped, Bounds({0: 0}, {0: len(records) + 3}), threading.Event()) \
        == len(records)
    assert unstopped.next_offsets == {"0": len(records) + 3}  # to the end, across offsets the log lacks


def _store(directory: Path) -> SnapshotStore:
    return SnapshotStore(directory, Identity("app", "events", "cfg"))


def _slow_state() -> SnapshotState:
    """A state whose pickling takes half a minute: time to look at the writer while it runs."""
    return SnapshotState(ResolvingEngine(), _SlowPickle(), {0: 1})


class _SlowPickle:
    def __reduce__(self):
        time.sleep(30)  # (the tests kill it long before)
        return (dict, ())


def _fds_of(pid: int) -> list[str]:
    found = []
    for entry in Path(f"/proc/{pid}/fd").iterdir():
        try:
            found.append(str(entry.readlink()))
        except OSError:
            pass
    return found


def test_a_forked_writer_closes_the_sockets_it_inherited(tmp_path):
    """The worker's web port stayed bound by a writer that outlived the worker: the restart failed to bind it."""
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen()
    store = _store(tmp_path)
    pid = store.save_in_child(_slow_state())
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not list(tmp_path.glob(".tmp-*")):
            time.sleep(0.05)  # the child is writing
        assert list(tmp_path.glob(".tmp-*"))
        assert any(link.startswith("socket:") for link in _fds_of(os.getpid()))
        assert not any(link.startswith("socket:") for link in _fds_of(pid))
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        listening.close()


_WORKER = """
import sys, time
sys.path.insert(0, {repo!r})
from tests.unit.streams.test_stopping import _slow_state, _store
from pathlib import Path
directory = Path({directory!r})
pid = _store(directory).save_in_child(_slow_state())
while not list(directory.glob(".tmp-*")):
    time.sleep(0.05)  # the writer has its file
print(pid, flush=True)
time.sleep(60)
"""


def test_a_forked_writer_dies_with_the_worker(tmp_path):
    """A worker killed while its writer ran (a stop's grace period running out) left the writer running."""
    worker = subprocess.Popen([sys.executable, "-c", _WORKER.format(repo=str(REPO), directory=str(tmp_path))],
                              stdout=subprocess.PIPE, text=True)
    try:
        child = int(worker.stdout.readline())
        assert Path(f"/proc/{child}").exists()
    finally:
        worker.kill()
        worker.wait()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _alive(child):
        time.sleep(0.05)
    assert not _alive(child)
    assert not list(tmp_path.glob(".tmp-*"))  # and its partial file went with it, not an hour later


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_store_removes_only_its_own_temporary_files(tmp_path):
    """Workers in containers sharing a volume often have the same pid (1): a stop's clean-up took another's write
    in progress for its own."""
    ours, theirs = _store(tmp_path), _store(tmp_path)
    tmp_path.mkdir(exist_ok=True)
    mine = tmp_path / f"{ours._own_prefix(os.getpid())}snapshot-1.coisnap"
    other = tmp_path / f"{theirs._own_prefix(os.getpid())}snapshot-2.coisnap"
    mine.write_bytes(b"x")
    other.write_bytes(b"y")
    ours.remove_temporaries_of(os.getpid())
    assert not mine.exists() and other.exists()
