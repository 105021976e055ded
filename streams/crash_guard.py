"""Skipping a message the worker keeps dying on, instead of dying on it after every restart.

Bad input never stops the worker (it becomes a dead letter), but a message could still end the process itself
(the kernel killing it for memory, a crash in native code). Then the restart processes the same uncommitted
message again and dies again, for ever. So before it processes a message the worker writes the message's position
(topic, partition, offset) to a small file in its data dir, and blanks it once the batch is processed. Publishing
comes after: a broker that refuses outputs is not the message's fault and counts nothing, and neither does a clean
exit or an exception in the batch handler (the processor itself never raises).

A position found in the file on start means the previous run died while processing that message: it is counted in
a ledger next to it, and once a position has `max_processing_attempts` deaths the processor dead-letters it
(`processing_attempts_exceeded`) without applying it, live and in recovery alike. The ledger lives in the data dir:
a worker started on an empty data dir counts afresh.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import stat
from pathlib import Path
from typing import Protocol

from streams.files import atomic_replacement

log = logging.getLogger(__name__)

MARKER_FILE = "processing-position"
LEDGER_FILE = "processing-deaths.json"
# Fixed-width so one pwrite replaces the previous position in place: no rename, no truncate, a few microseconds.
# A Kafka topic name has at most 249 characters.
_MARKER_WIDTH = 320
_MAX_LEDGER_BYTES = 1 << 20


def _read_small(path: Path, limit: int, missing_ok: bool = True) -> bytes:
    """At most `limit` bytes of a regular file, not through a link (a link to /dev/zero would never end); b"" for a
    missing file when `missing_ok`."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        if missing_ok:
            return b""
        raise
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path} is not a regular file")
        return handle.read(limit)


class _Positioned(Protocol):
    topic: str
    partition: int
    offset: int


def position_of(record: _Positioned) -> str:
    return f"{record.topic}:{record.partition}:{record.offset}"  # ':' is not allowed in topic names


class CrashGuard:
    def __init__(self, data_dir: str | os.PathLike, max_attempts: int):
        self.max_attempts = max_attempts
        directory = Path(data_dir)
        directory.mkdir(parents=True, exist_ok=True)
        self._ledger_path = directory / LEDGER_FILE
        self._deaths: dict[str, int] = self._read_ledger()
        marker_path = directory / MARKER_FILE
        died_at = _read_small(marker_path, _MARKER_WIDTH).decode(errors="replace").strip()
        if died_at:
            self._deaths[died_at] = self._deaths.get(died_at, 0) + 1
            self._write_ledger()
            log.error("the previous run died while processing %s (%d of %d allowed deaths on it%s)", died_at,
                      self._deaths[died_at], max_attempts,
                      "; it will be dead-lettered and skipped" if self._deaths[died_at] >= max_attempts else "")
        # never through a link: whoever can write to the data dir would make every batch overwrite its target
        self._fd = os.open(marker_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        self.idle()
        # A clean exit (a stop, even mid-recovery) is no message's fault; a kill, a crash or os._exit skip this.
        atexit.register(self.idle)

    def deaths(self, record: _Positioned) -> int:
        return self._deaths.get(position_of(record), 0)

    def exhausted(self, record: _Positioned) -> bool:
        return bool(self._deaths) and self.deaths(record) >= self.max_attempts

    def entering(self, record: _Positioned) -> None:
        """Called before the record is processed; the position stays until the next record or `idle`."""
        self._mark(position_of(record))

    def idle(self) -> None:
        """Nothing is being processed (between batches, while publishing, after recovery)."""
        self._mark("")

    def close(self) -> None:
        atexit.unregister(self.idle)
        os.close(self._fd)

    def _mark(self, position: str) -> None:
        os.pwrite(self._fd, position.encode()[:_MARKER_WIDTH].ljust(_MARKER_WIDTH), 0)

    def _read_ledger(self) -> dict[str, int]:
        try:
            document = json.loads(_read_small(self._ledger_path, _MAX_LEDGER_BYTES, missing_ok=False))
            return {str(k): int(v) for k, v in document.items()}
        except FileNotFoundError:
            return {}
        except (ValueError, AttributeError, TypeError, OSError):
            log.warning("%s is unreadable; counting deaths afresh", self._ledger_path)
            return {}

    def _write_ledger(self) -> None:
        with atomic_replacement(self._ledger_path, permissions=0o644, mode="w") as handle:
            handle.write(json.dumps(self._deaths, indent=1, sort_keys=True))
