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
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)

MARKER_FILE = "processing-position"
LEDGER_FILE = "processing-deaths.json"
# Fixed-width so one pwrite replaces the previous position in place: no rename, no truncate, a few microseconds.
# A Kafka topic name has at most 249 characters.
_MARKER_WIDTH = 320


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
        died_at = marker_path.read_bytes().decode(errors="replace").strip() if marker_path.exists() else ""
        if died_at:
            self._deaths[died_at] = self._deaths.get(died_at, 0) + 1
            self._write_ledger()
            log.error("the previous run died while processing %s (%d of %d allowed deaths on it%s)", died_at,
                      self._deaths[died_at], max_attempts,
                      "; it will be dead-lettered and skipped" if self._deaths[died_at] >= max_attempts else "")
        self._fd = os.open(marker_path, os.O_RDWR | os.O_CREAT, 0o644)
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
            document = json.loads(self._ledger_path.read_text())
            return {str(k): int(v) for k, v in document.items()}
        except FileNotFoundError:
            return {}
        except (ValueError, AttributeError, TypeError):
            log.warning("%s is unreadable; counting deaths afresh", self._ledger_path)
            return {}

    def _write_ledger(self) -> None:
        temporary = self._ledger_path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self._deaths, indent=1, sort_keys=True))
        os.replace(temporary, self._ledger_path)
