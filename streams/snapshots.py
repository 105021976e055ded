"""Snapshots of the worker's state keyed to the input log: the fast, version-locked restart form.

A snapshot holds the engine and the alert tracker as they were after applying every input offset before
`offsets` (partition -> next offset not applied), taken at a batch boundary once the batch's outputs were
acknowledged. A restart loads the newest usable one and replays only [offsets, committed) without publishing.

File layout (one file per snapshot, `snapshot-<ns since epoch>.coisnap`):

    MAGIC line | header (one JSON line) | body (pickle of the state)

The header carries the format version, the package version, a fingerprint of the scoring and schema code, the
scoring-config hash, the app id, the input topic, the offsets, the body's length, sha256 and HMAC-SHA256, and an
HMAC-SHA256 of the header itself (`header_hmac`, over every other field: it names the body's HMAC, so it binds
the offsets to that body). The HMAC key is a per-installation secret file (`.snapshot-key`, mode 0600) in the
snapshot directory, created on first use. Pickle runs code on load, so a body is unpickled only after all of: it
was read from the configured directory, its header matches this code and config, its length matches and both
HMACs match (a file intact and written by a holder of the key, with the offsets it was written with; when the
body's does not, the sha256 tells a torn or corrupt file from a foreign one).
Anything else falls back to the next older snapshot, then
to the full log, with a log line and `coi_snapshot_fallbacks_total{reason}`.

The worker writes in a forked child (`save_in_child`): the live path pauses only for the fork, not for pickling.
Where a child would not fit in the memory left (`streams.memory`), it writes in a thread instead while the stream
waits, or skips the snapshot (`WITHOUT_FORK_ROOM_MEANING`, the decision in `streams.app`).
The body streams to the file (and a load reads it back) in chunks: it is never held whole in memory.
Writes are atomic: a temporary file in the same directory, fsync, rename, fsync of the directory (`streams.files`); a
kill at any point leaves either the previous set of snapshots or the new one, plus at most a temporary file (never read;
removed by a later write once an hour old, as a younger one may be another worker's write in progress). The newest `keep` snapshots are kept.

The body is version-locked (pickle of this code's classes): an upgrade that changes the code fingerprint ignores
old snapshots. The portable, versioned form that survives upgrades is `scoring.portable` (`coi-risk snapshot
export|import`).
"""

from __future__ import annotations

import gc
import hashlib
import hmac
import json
import logging
import os
import pickle
import secrets
import signal
import stat
import time
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from streams.collector import PausedCollection, freeze_heap
from streams.files import atomic_replacement, fsync_directory

log = logging.getLogger(__name__)

MAGIC = b"COI-RISK-SNAPSHOT\n"
# 2: the header is authenticated too (`header_hmac`); a version-1 snapshot is refused as incompatible
FORMAT_VERSION = 2
SUFFIX = ".coisnap"
KEY_FILE = ".snapshot-key"
_KEY_BYTES = 32
_HEADER_MAC_DOMAIN = b"coi-risk snapshot header\0"
_TEMP_PREFIX = ".tmp-"
# the code whose classes a body pickles, and whose behaviour the state was computed with
_FINGERPRINTED_PACKAGES = ("scoring", "schemas")
_MAX_HEADER_BYTES = 64 * 1024
# the widest body length a header reserves room for (20 digits, as wide as the largest file size)
_WIDEST_LENGTH = 10 ** 19
# the widest write time a header reserves room for (seconds, to the millisecond): a write is killed long before
_WIDEST_SECONDS = 99_999_999.999
# A body is written through a buffer of this size, and read back in chunks of `_READ_CHUNK`: the worker loads a
# snapshot in a thread beside its event loop, and every read from the file lets that loop take the interpreter,
# which the loader may then wait up to the switch interval to get back (chunks of 1 MB made a load beside a busy
# loop almost twice as slow as reading the body whole). Above 32 MB, because freeing a block of up to 32 MB makes
# the C library serve every smaller allocation from its heap from then on (glibc's dynamic mmap threshold): after
# loading 1M relations in 16 MB chunks a process held 66 MB more than after reading the body whole; with
# 40 MB chunks, the same (14 reads at 1M, and 40 MB more at the peak than 16 MB chunks).
_WRITE_BUFFER = 1 << 20
_READ_CHUNK = 40 << 20
# a temporary file this old is left over from a killed write; a younger one may be another worker's write in
# progress on a shared volume
_STALE_TEMPORARY_SECONDS = 3600.0
# What the worker does with a due snapshot when a forked writer would not fit in the memory left (the
# `snapshot_without_fork_room` setting; streams.memory), and what its log line says of it. A thread write that
# would not fit either is skipped.
WITHOUT_FORK_ROOM_MEANING = {
    "thread": "writing it in a thread while the stream waits (the event loop, heartbeats and /ready go on)",
    "skip": "skipping it (a restart replays more of the log)",
}
WITHOUT_FORK_ROOM = tuple(WITHOUT_FORK_ROOM_MEANING)


class SnapshotRejected(Exception):
    """A snapshot that must not be used; `reason` is the metric label."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass
class SnapshotState:
    """What a snapshot restores."""

    engine: Any
    tracker: Any
    offsets: dict[int, int]  # partition -> next input offset not applied
    # partition -> (offset, broker append time in ms) of the last input record applied: tells the log the offsets
    # are of from another log under the same name (empty: not known, as after an import)
    last_records: dict[int, tuple[int, int]] = field(default_factory=dict)
    # how long writing it took (read from its header; None for one written before the header said): what the worker
    # expects its next write to take (`Pipeline.snapshot_at_stop`)
    write_seconds: float | None = None


@dataclass
class Identity:
    """What a snapshot must match to be used by this worker."""

    app_id: str
    events_topic: str
    config_hash: str
    package_version: str = field(default_factory=lambda: package_version())
    code_hash: str = field(default_factory=lambda: code_fingerprint())

    def header_fields(self) -> dict[str, Any]:
        return {"format_version": FORMAT_VERSION, "package_version": self.package_version,
                "code_hash": self.code_hash, "config_hash": self.config_hash, "app_id": self.app_id,
                "events_topic": self.events_topic}


def package_version() -> str:
    try:
        return metadata.version("coi-risk")
    except metadata.PackageNotFoundError:
        return "unknown"


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """sha256 over the source of the packages a body pickles: a changed class layout never meets an old body."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for package in _FINGERPRINTED_PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def config_hash(config) -> str:
    """sha256 of a scoring config's canonical JSON (sets sorted: their order varies with the hash seed)."""
    canonical = json.dumps(_canonical(config.model_dump(mode="python")), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _canonical(value):
    if isinstance(value, dict):
        return {str(key): _canonical(item) for key, item in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted((_canonical(item) for item in value), key=repr)
    if isinstance(value, (list, tuple)):
        return [_canonical(item) for item in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


class SnapshotStore:
    """The snapshots of one app id in one directory."""

    def __init__(self, directory: str | os.PathLike, identity: Identity, keep: int = 3):
        if keep < 1:
            raise ValueError("keep at least one snapshot")
        self.directory = Path(directory)
        self.identity = identity
        self.keep = keep
        # in the names of this store's temporary files, beside the writer's pid: workers in containers sharing a
        # volume often have the same pid (1), and one must never take another's write in progress for its own
        self._writer_token = secrets.token_hex(4)

    # -- writing ---------------------------------------------------------------------------------------------

    def save(self, state: SnapshotState) -> Path:
        """Pickle the state straight into a temporary file, then rename it into place and prune to the newest
        `keep`; returns its path. Call it where the state is consistent (between batches, or in a forked child).

        The body streams to the file through its digests (`_DigestingWriter`): no copy of it in memory, whose size
        is the snapshot's (a third of what writing costs beside the pickler's memo of every object). The header
        comes first in the file but names the body's length and digests, so it is written with placeholders of
        its greatest width, then rewritten in place, padded with spaces to that width (JSON allows them)."""
        started = time.monotonic()
        self.directory.mkdir(parents=True, exist_ok=True)
        self._remove_temporaries()
        stats = state.engine.stats()
        header = {**self.identity.header_fields(),
                  "offsets": {str(p): o for p, o in sorted(state.offsets.items())},
                  "last_records": {str(p): list(r) for p, r in sorted(state.last_records.items())},
                  "created_at": time.time(), "relations": stats["relations"], "events": stats["events"]}
        reserved = len(_header_line(dict(header, body_bytes=_WIDEST_LENGTH, body_sha256="0" * 64,
                                         body_hmac="0" * 64, write_seconds=_WIDEST_SECONDS,
                                         header_hmac="0" * 64)))
        key = self._key(create=True)
        name = f"snapshot-{time.time_ns():020d}{SUFFIX}"
        final = self.directory / name
        temporary = self.directory / f"{self._own_prefix(os.getpid())}{name}"  # the pid: see wait_for_child
        # only this user may write it: `load` checks a body, then unpickles it from the same open file. A failed write
        # leaves no partial file behind (a killed one: see wait_for_child).
        with atomic_replacement(final, temporary=temporary, permissions=0o600, buffering=_WRITE_BUFFER) as handle:
            handle.write(MAGIC)
            handle.write(b" " * (reserved - 1) + b"\n")
            body = _DigestingWriter(handle, hmac.new(key, digestmod=hashlib.sha256))
            with PausedCollection():  # pickling makes no cycles; collections would walk the whole state
                pickle.dump((state.engine, state.tracker), body, protocol=pickle.HIGHEST_PROTOCOL)
            header.update(body_bytes=body.size, body_sha256=body.sha256.hexdigest(), body_hmac=body.mac.hexdigest(),
                          write_seconds=round(min(time.monotonic() - started, _WIDEST_SECONDS), 3))
            line = _header_line(dict(header, header_hmac=_header_mac(key, header)))
            if len(line) > reserved:
                raise RuntimeError(f"snapshot header of {len(line)} bytes exceeds the {reserved} reserved for it")
            handle.seek(len(MAGIC))
            handle.write(line[:-1] + b" " * (reserved - len(line)) + b"\n")
        self.prune()
        return final

    def ensure_key(self) -> None:
        """Create this installation's key if there is none; RuntimeError, saying why, if the key file there is
        unusable (so that a long bulk load or import stops at once instead of failing at its final write)."""
        self._key(create=True)

    def save_in_child(self, state: SnapshotState) -> int:
        """Fork; the child pickles and writes the state as it is at this instant, then exits (0 on success).
        Returns the child's pid (reap it with `wait_for_child`). The caller pauses only for the fork: the child
        holds a copy-on-write image of the heap, so the live path goes on changing its own copy meanwhile (the
        way Redis writes its RDB files). Pickling touches the objects' reference counts, so the pages it visits
        are copied: up to the state's size in extra memory while the child runs."""
        parent = os.getpid()
        pid = os.fork()
        if pid:
            return pid
        status = 1
        try:  # the child: no event loop, no other threads; never return into the parent's code
            # nor the parent's signal handling: its event loop's handlers write a signal's number to a socket that
            # loop reads, so a SIGTERM to the writer stopped the worker and left the writer running
            signal.set_wakeup_fd(-1)
            # a SIGTERM or SIGINT sent to the writer's pid stops the writer, and takes its unfinished file with it
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, self._abandon_write)
            # nor outlive it: a worker killed while its writer ran (a stop's grace period running out) left the
            # writer holding the web port, and the restart could not bind it until the write ended
            _die_with(parent)
            _close_inherited_sockets()
            # no collection here: a finalizer of some network object would run in the child (and collecting
            # would touch, so copy, every tracked object's page)
            gc.disable()
            self.save(state)
            status = 0
        except BaseException:  # noqa: BLE001
            import traceback

            traceback.print_exc()
        finally:
            os._exit(status)

    def wait_for_child(self, pid: int, timeout: float | None = None) -> int:
        """Block until a `save_in_child` child exits; its exit code. A child still writing after `timeout` seconds
        (storage that hangs: a dead network mount) is killed and TimeoutError raised, so that a stuck writer never
        holds back every later snapshot; its temporary file is removed at once (it may be a snapshot's size)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            done, status = os.waitpid(pid, 0 if deadline is None else os.WNOHANG)
            if done:
                return os.waitstatus_to_exitcode(status)
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                self.remove_temporaries_of(pid)
                raise TimeoutError(f"snapshot writer (pid {pid}) still writing after {timeout:.0f}s: killed")
            time.sleep(0.05)

    def prune(self) -> list[Path]:
        removed = []
        for path in self.paths()[self.keep:]:
            path.unlink(missing_ok=True)
            removed.append(path)
        return removed

    # -- reading ---------------------------------------------------------------------------------------------

    def paths(self) -> list[Path]:
        """Snapshot files, newest first."""
        if not self.directory.is_dir():
            return []
        return sorted((p for p in self.directory.iterdir() if p.name.startswith("snapshot-")
                       and p.name.endswith(SUFFIX)), reverse=True)

    def read_header(self, path: Path) -> dict[str, Any]:
        try:
            with _open_regular(path) as handle:
                return self._header(handle, path)
        except OSError as exc:
            raise SnapshotRejected("unreadable", f"{path.name}: {exc}") from exc

    def verify(self, path: Path) -> dict[str, Any]:
        """Every check `load` makes before unpickling (header, identity, length, HMACs), without unpickling:
        the header if this worker would use the snapshot, else SnapshotRejected with the reason. Reads the body in
        chunks (nothing of it is kept, so it does not matter who could change the file afterwards)."""
        try:
            with _open_regular(path) as handle:
                header = self._header(handle, path)
                self._check_identity(header, path)
                start = handle.tell()
                size = os.fstat(handle.fileno()).st_size - start
                self._check_digests(path, header, size, _chunked(handle, start, size))
        except OSError as exc:
            raise SnapshotRejected("unreadable", f"{path.name}: {exc}") from exc
        return header

    def load(self, path: Path, freeze: bool = False) -> SnapshotState:
        """Check a snapshot completely, then unpickle it; raises SnapshotRejected with the reason.

        `freeze` (the worker): the loaded objects go straight out of the collector's generations (`gc.freeze`),
        before it runs again: the state lives as long as the process, and a collection over millions of freshly
        loaded objects (the first one after loading, or the collect of `refreeze_heap`) would walk them all for
        nothing (about 2 s per 200,000 relations)."""
        try:
            handle = _open_regular(path, buffering=_READ_CHUNK)
        except OSError as exc:
            raise SnapshotRejected("unreadable", f"{path.name}: {exc}") from exc
        with handle:
            try:
                header = self._header(handle, path)
                self._check_identity(header, path)
                body = self._checked_body(handle, header, path)
            except OSError as exc:
                raise SnapshotRejected("unreadable", f"{path.name}: {exc}") from exc
            collecting = gc.isenabled()
            if freeze:
                gc.collect()  # what an earlier failed attempt left half-built must not be frozen with the state
            gc.disable()  # unpickling creates millions of objects: collections during it made loading 4-5 times slower
            try:
                # checked above: our directory, our key, intact, and nobody else can have changed it since
                try:
                    engine, tracker = (pickle.load(_WithoutPeek(handle)) if body is None  # noqa: S301
                                       else pickle.loads(body))  # noqa: S301
                except OSError as exc:  # reading the rest of a streamed body
                    raise SnapshotRejected("unreadable", f"{path.name}: {exc}") from exc
                del body
                if freeze:
                    freeze_heap()
            finally:
                if collecting:
                    gc.enable()
        offsets = {int(p): int(o) for p, o in header["offsets"].items()}
        last_records = {int(p): (int(r[0]), int(r[1])) for p, r in (header.get("last_records") or {}).items()}
        written = header.get("write_seconds")
        return SnapshotState(engine, tracker, offsets, last_records,
                             float(written) if isinstance(written, (int, float)) else None)

    def load_newest(self, on_rejected=None, freeze: bool = False) -> tuple[SnapshotState, Path] | None:
        """The newest snapshot that passes every check; each one skipped is logged and passed to
        `on_rejected(reason)`. None when there is none (then the caller replays the full log)."""
        self._remove_temporaries()
        for path in self.paths():
            try:
                return self.load(path, freeze), path
            except SnapshotRejected as rejected:
                log.warning("snapshot %s not used (%s): %s; falling back to an older snapshot or the log",
                            path, rejected.reason, rejected)
                if on_rejected is not None:
                    on_rejected(rejected.reason)
            except Exception as exc:  # noqa: BLE001 - an intact, authenticated body that still fails to load
                log.warning("snapshot %s not used (unloadable): %s: %s; falling back", path,
                            type(exc).__name__, exc)
                if on_rejected is not None:
                    on_rejected("unloadable")
        return None

    # -- internals -------------------------------------------------------------------------------------------

    def _checked_body(self, handle, header: dict[str, Any], path: Path) -> bytes | None:
        """Check the body after the header: its length, then its HMAC (a matching one proves it intact as well, so
        the sha256 is computed only to say why a body is refused: damaged, or not written with this key).

        Reads it in chunks and returns None, the handle back at the body's start to unpickle from: the body is
        never held in memory whole (a snapshot's size, about 0.56 GB at 1M relations). That is safe only if nobody
        but this user can change what was checked before it is read again: a regular file of this user's,
        writable by no one else (as `save` writes them). Any other file (another user's, one the group may
        write, one reached through a link to either) is read into memory whole, checked and returned."""
        start = handle.tell()
        found = os.fstat(handle.fileno())
        if not stat.S_ISREG(found.st_mode) or found.st_uid != os.geteuid() \
                or found.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            body = handle.read()
            self._check_digests(path, header, len(body), lambda digest: digest.update(body))
            return body

        size = found.st_size - start
        self._check_digests(path, header, size, _chunked(handle, start, size))
        handle.seek(start)
        return None

    def _check_digests(self, path: Path, header: dict[str, Any], size: int, digest_body) -> None:
        if size != header.get("body_bytes"):
            raise SnapshotRejected("corrupt", f"{path.name}: body is {size} bytes, header says "
                                              f"{header.get('body_bytes')} (torn write?)")
        key = self._key(create=False)
        if key is not None:
            mac = hmac.new(key, digestmod=hashlib.sha256)
            digest_body(mac)
            if _same_digest(mac.hexdigest(), header.get("body_hmac")):
                if _same_digest(_header_mac(key, header), header.get("header_hmac")):
                    return
                # the body is this installation's, the header around it is not as written: damaged, or its offsets
                # (or another field) changed, which would make the restart skip or repeat events
                raise SnapshotRejected("corrupt", f"{path.name}: header does not match its HMAC (changed after "
                                                  f"it was written)")
        sha256 = hashlib.sha256()
        digest_body(sha256)
        if sha256.hexdigest() != header.get("body_sha256"):
            raise SnapshotRejected("corrupt", f"{path.name}: body sha256 does not match the header")
        if key is None:  # no key here: nothing this installation wrote can be checked, so nothing is unpickled
            raise SnapshotRejected("unauthenticated", f"{path.name}: no snapshot key in {self.directory} "
                                                      f"({KEY_FILE}); not unpickling it")
        raise SnapshotRejected("unauthenticated", f"{path.name}: HMAC does not match this installation's key "
                                                  f"({self.directory / KEY_FILE}); not unpickling it")

    def _header(self, handle, path: Path) -> dict[str, Any]:
        if handle.read(len(MAGIC)) != MAGIC:
            raise SnapshotRejected("corrupt", f"{path.name}: not a coi-risk snapshot (bad magic)")
        line = handle.readline(_MAX_HEADER_BYTES)
        try:
            header = json.loads(line)
        except (ValueError, RecursionError) as exc:  # RecursionError: a header nested thousands deep
            raise SnapshotRejected("corrupt", f"{path.name}: unreadable header: {exc}") from exc
        if not isinstance(header, dict):
            raise SnapshotRejected("corrupt", f"{path.name}: header is not an object")
        return header

    def _check_identity(self, header: dict[str, Any], path: Path) -> None:
        expected = self.identity.header_fields()
        for name, value in expected.items():
            if header.get(name) != value:
                raise SnapshotRejected("incompatible", f"{path.name}: {name} is {header.get(name)!r}, this worker "
                                                       f"needs {value!r}")
        if not isinstance(header.get("offsets"), dict):
            raise SnapshotRejected("corrupt", f"{path.name}: header has no offsets")

    def _key(self, create: bool) -> bytes | None:
        """This installation's HMAC key: None when there is none (and `create` is false). A key file that is not a
        regular file of this user's, private to it and exactly `_KEY_BYTES` long is never used: an empty or
        foreign key would let anyone sign a body (SnapshotRejected when loading, RuntimeError when writing)."""
        path = self.directory / KEY_FILE
        try:
            return _read_key(path)
        except FileNotFoundError:
            if not create:
                return None
        except _UnusableKey as exc:
            if create:
                raise RuntimeError(f"not writing a snapshot: {exc}") from exc
            raise SnapshotRejected("unauthenticated", f"not unpickling any snapshot: {exc}") from exc
        self.directory.mkdir(parents=True, exist_ok=True)
        # written whole to a temporary file, then linked into place: no reader ever sees a partial key, and a kill
        # leaves no empty key file behind
        temporary = self.directory / f"{_TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(8)}{KEY_FILE}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(secrets.token_bytes(_KEY_BYTES))
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(temporary, path)
            except FileExistsError:  # another writer created it first
                pass
        finally:
            temporary.unlink(missing_ok=True)
        fsync_directory(self.directory)
        return _read_key(path)

    def remove_temporaries_of(self, pid: int) -> None:
        """Remove the temporary files this store's writer `pid` (this process, or a child it forked) left: a write
        given up or killed."""
        for leftover in self.directory.glob(f"{self._own_prefix(pid)}*"):
            leftover.unlink(missing_ok=True)

    def _abandon_write(self, signum, frame) -> None:
        """A forked writer's end on SIGTERM or SIGINT (also sent when the worker dies: `_die_with`): its partial file
        removed now, rather than left as large as a snapshot for an hour (`_STALE_TEMPORARY_SECONDS`)."""
        try:
            self.remove_temporaries_of(os.getpid())
        finally:
            signal.signal(signum, signal.SIG_DFL)  # and ends by the signal, as it would have without this handler
            os.kill(os.getpid(), signum)
            os._exit(128 + signum)

    def _own_prefix(self, pid: int) -> str:
        return f"{_TEMP_PREFIX}{pid}-{self._writer_token}-"

    def _remove_temporaries(self) -> None:
        if not self.directory.is_dir():
            return
        cutoff = time.time() - _STALE_TEMPORARY_SECONDS
        for path in self.directory.iterdir():
            try:
                if path.name.startswith(_TEMP_PREFIX) and path.stat().st_mtime < cutoff:
                    path.unlink(missing_ok=True)
            except FileNotFoundError:
                pass
            except OSError as exc:  # a read-only directory: leftovers cost room, never a start
                log.warning("cannot remove the stale temporary %s: %s", path, exc)


class _WithoutPeek:
    """The body's reader as the unpickler sees it: `read`, `readinto` and `readline`, but no `peek`.

    Given a `peek`, the C unpickler prefetches with it whenever its input runs out, and a buffered reader's peek
    returns everything it holds, copied: a new `_READ_CHUNK`-sized object at every refill, mapped, faulted in and
    freed again. At 1M relations that was 1.1 GB of memory faulted in on top of what the state needs (4.1 GB for a
    3.0 GB peak; 1.5 s more system time at the median of six loads, on a virtual machine where page faults are
    dear). Without it, the unpickler reads frame by frame (64 KB) from the reader's buffer (docs/benchmarks.md,
    issue 13, eleventh round)."""

    __slots__ = ("read", "readinto", "readline")

    def __init__(self, handle):
        self.read, self.readinto, self.readline = handle.read, handle.readinto, handle.readline


class _DigestingWriter:
    """The file object pickle writes a body to: passes it on to the snapshot file and through its digests."""

    def __init__(self, handle, mac):
        self._handle, self.mac, self.sha256, self.size = handle, mac, hashlib.sha256(), 0

    def write(self, data) -> int:
        self._handle.write(data)
        self.sha256.update(data)
        self.mac.update(data)
        written = memoryview(data).nbytes
        self.size += written
        return written


class _UnusableKey(Exception):
    pass


def _read_key(path: Path) -> bytes:
    try:
        handle = _open_regular(path, follow_links=False)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise _UnusableKey(f"key file {path} cannot be used ({exc}); it must be a regular file, not a link") from exc
    with handle:
        found = os.fstat(handle.fileno())
        if found.st_uid != os.geteuid() or found.st_mode & 0o077:
            raise _UnusableKey(f"key file {path} must belong to this user (uid {os.geteuid()}) and be readable "
                               f"by it alone (mode 0600); it is uid {found.st_uid}, mode {found.st_mode & 0o777:o}")
        key = handle.read(_KEY_BYTES + 1)
    if len(key) != _KEY_BYTES:
        raise _UnusableKey(f"key file {path} holds {len(key)} bytes, not {_KEY_BYTES} (a torn write?); remove it "
                           f"(the snapshots signed with it are then refused and the worker replays the log once)")
    return key


def _open_regular(path: Path, buffering: int = -1, follow_links: bool = True):
    """Open a file for reading, refusing (OSError) anything but a regular file: opening a FIFO would wait for a
    writer forever, and a device never ends. `follow_links=False` refuses a link too."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | (0 if follow_links else os.O_NOFOLLOW))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path.name} is not a regular file")
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb", buffering=buffering)


def _die_with(parent: int) -> None:
    """Have the kernel send this (forked) process SIGTERM when the thread that forked it dies, the worker's main
    thread (Linux's PR_SET_PDEATHSIG): its handler removes the partial file and exits. Where that is not to be had,
    nothing (the writer then finishes its file alone, as before)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # it died before the request was made
        os._exit(1)


def _close_inherited_sockets() -> None:
    """Let go of the sockets a forked writer inherited (the web port, the Kafka connections): it uses none, and one
    left open keeps a listening port bound after the worker is gone. Each becomes /dev/null rather than closed, so
    that its number is not the next file's (a library still holding it would write into the snapshot); standard
    input, output and error stay as they are (under systemd they are the journal's sockets)."""
    try:
        descriptors = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        return
    null = None
    try:
        for descriptor in descriptors:
            if descriptor <= 2:
                continue
            try:
                if stat.S_ISSOCK(os.fstat(descriptor).st_mode):
                    if null is None:
                        null = os.open(os.devnull, os.O_RDWR)
                    os.dup2(null, descriptor)
            except OSError:
                pass
    finally:
        if null is not None:
            os.close(null)


def _chunked(handle, start: int, size: int):
    """A function that feeds the body (`size` bytes from `start`) to a digest in `_READ_CHUNK` reads, through one
    buffer for every chunk."""

    def feed(digest) -> None:
        handle.seek(start)
        chunk = bytearray(max(1, min(_READ_CHUNK, size)))
        while read := handle.readinto(chunk):
            with memoryview(chunk)[:read] as view:
                digest.update(view)

    return feed


def _header_line(header: dict[str, Any]) -> bytes:
    return json.dumps(header, sort_keys=True).encode() + b"\n"


def _header_mac(key: bytes, header: dict[str, Any]) -> str:
    """HMAC-SHA256 of every header field but itself, in a canonical JSON form (what `json.loads` gives back of
    `_header_line` canonicalises to the same bytes: sorted keys, floats written exactly). It covers the values the
    header means, not its bytes: spacing, escapes or a repeated key (JSON keeps the last) may differ, never a
    value."""
    fields = {name: value for name, value in header.items() if name != "header_hmac"}
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()
    # prefixed, so that no body (authenticated with the same key) can ever stand for a header
    return hmac.new(key, _HEADER_MAC_DOMAIN + canonical, hashlib.sha256).hexdigest()


def _same_digest(computed: str, claimed: Any) -> bool:
    """A constant-time comparison that refuses, rather than raises on, a claimed value that is not an ASCII
    string (`hmac.compare_digest` raises TypeError on a non-ASCII str)."""
    return isinstance(claimed, str) and hmac.compare_digest(computed.encode(), claimed.encode("utf-8", "replace"))
