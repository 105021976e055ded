"""The kafka-python producer of the commands that publish (`coi-risk produce`, `coi-risk load`), and the tracking of
the broker's answer to each record they send.

The worker publishes through Faust (`streams.app`); consumers of the commands are in `streams.log_reader`, the
topics and their configs in `streams.topics`.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from streams.config import Settings


def open_producer(settings: Settings, client: str, *, max_request_size: int | None = None, linger_ms: int = 0,
                  **tuning: Any):
    """A producer whose every send is acknowledged by every in-sync replica (acks=all; idempotent, kafka-python's
    default under acks=all: a batch it retries is not stored twice), connected and authenticated as the settings
    say, with the client id `APP_ID-CLIENT`. `max_request_size`: the client's cap on one record (and request),
    which each caller sets for the topic it writes (None: kafka-python's own, 1 MiB); `linger_ms` and `tuning`
    (e.g. batch_size) only change how sends are batched."""
    from kafka import KafkaProducer

    if max_request_size is not None:
        tuning["max_request_size"] = max_request_size
    return KafkaProducer(acks="all", linger_ms=linger_ms, client_id=f"{settings.app_id}-{client}", **tuning,
                         **settings.kafka_python_options())


class Acknowledgements:
    """The broker's answers to what a producer sent, filled from its I/O thread. Each send is tracked under a number
    of the caller's (a line number, a count) with what the caller wants back if it fails (`kept`: the record to
    send again, its key to name it): `pending` holds the sends without an answer yet (number -> kept), `failed`
    those the broker did not store (number, kept, error), in the order the answers came."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.stored = 0
        self.pending: dict[int, Any] = {}
        self.failed: list[tuple[int, Any, BaseException]] = []

    def track(self, number: int, future, kept: Any = None) -> None:
        """Wait for `future`'s answer (kafka-python's, from `send`) without blocking."""
        with self.lock:
            self.pending[number] = kept
        future.add_callback(self._stored, number)
        future.add_errback(self._failed, number)

    def _stored(self, number: int, _metadata) -> None:
        with self.lock:
            self.stored += 1
            self.pending.pop(number, None)

    def _failed(self, number: int, exc: BaseException) -> None:
        with self.lock:
            self.failed.append((number, self.pending.pop(number, None), exc))

    def wait(self, timeout: float) -> list[int]:
        """Waits for the broker's answer to every send; returns those still unanswered after `timeout`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if not self.pending:
                    return []
            time.sleep(0.05)
        return self.unanswered()

    def unanswered(self) -> list[int]:
        with self.lock:
            return sorted(self.pending)
