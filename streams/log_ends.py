"""The input topic's log end offsets as the broker has them now, for `coi_consumer_lag`.

Faust's consumer knows a partition's high-water mark only from its own fetch responses, and it stops fetching a
partition while the records already fetched wait for the agent (its buffers full: the agent stuck in a long batch
or a slow one). The lag computed from that mark then froze while producers kept appending, and
CoiConsumerLagGrowing, which exists for exactly that worker, read a steady backlog and stayed quiet
(tests/integration/test_lag_while_stalled.py).

`LogEndOffsets` asks the broker instead: a kafka-python client of its own, in a daemon thread of its own, never in
the event loop and never per message. The lag timer asks for a read (`request`) and uses the newest answer younger
than `max_age` (`end`); a read that times out or fails leaves the last answer to age out, and the lag falls back to
the consumer's high-water mark.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable

from streams.config import Settings

log = logging.getLogger(__name__)

READ_TIMEOUT_SECONDS = 10.0  # one ListOffsets round trip; a broker that does not answer in that time is away
MIN_MAX_AGE_SECONDS = 30.0


def max_age_for(interval: float) -> float:
    """How long one read of the end offsets counts: three lag samples, at least MIN_MAX_AGE_SECONDS."""
    return max(MIN_MAX_AGE_SECONDS, 3 * interval)


class LogEndOffsets:
    """Log end offsets (high watermarks) of partitions of `topic`, read by the broker in a thread of its own.

    `read` (partitions -> {partition: end offset}) defaults to a kafka-python consumer built from the settings'
    connection options, created on the first read and kept; a test passes its own."""

    def __init__(self, settings: Settings, topic: str, max_age: float,
                 read: Callable[[frozenset[int]], dict[int, int]] | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self.settings, self.topic, self.max_age = settings, topic, max_age
        self._read = read or self._read_from_broker
        self._clock = clock
        self._ends: dict[int, tuple[int, float]] = {}  # partition -> (end offset, clock when read)
        self._wanted: frozenset[int] = frozenset()
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._consumer = None
        self._failing = False

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="coi-log-end-offsets", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._wake.set()

    def request(self, partitions: Iterable[int]) -> None:
        """Ask for a read of these partitions' end offsets (never waits; nothing before `start`)."""
        self._wanted = frozenset(partitions)
        if self._wanted:
            self._wake.set()

    def end(self, partition: int) -> int | None:
        """The partition's end offset read from the broker less than `max_age` ago, else None."""
        found = self._ends.get(partition)
        if found is None or self._clock() - found[1] > self.max_age:
            return None
        return found[0]

    def refresh(self) -> None:
        """One read of the partitions last requested, in the caller's thread (the thread's loop; tests)."""
        wanted = self._wanted
        if not wanted:
            return
        try:
            ends = self._read(wanted)
        except Exception as exc:  # noqa: BLE001 - the broker away or slow: the last reading ages out
            if not self._failing:
                log.warning("cannot read the log end offsets of %s from the broker (%s: %s); coi_consumer_lag "
                            "falls back to the consumer's high-water marks, which freeze while its fetching "
                            "waits", self.topic, type(exc).__name__, exc)
            self._failing = True
            self._close_consumer()  # a new client at the next read: the old one may be stuck on a dead connection
            return
        if self._failing:
            log.info("reading the log end offsets of %s from the broker again", self.topic)
            self._failing = False
        now = self._clock()
        self._ends = {**self._ends, **{p: (offset, now) for p, offset in ends.items()}}

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            if self._stopped.is_set():
                self._close_consumer()
                return
            self.refresh()

    def _read_from_broker(self, partitions: frozenset[int]) -> dict[int, int]:
        from kafka import KafkaConsumer, TopicPartition

        if self._consumer is None:
            self._consumer = KafkaConsumer(group_id=None, enable_auto_commit=False,
                                           client_id=f"{self.settings.app_id}-log-end-offsets",
                                           **self.settings.kafka_python_options())
        found = self._consumer.end_offsets([TopicPartition(self.topic, p) for p in sorted(partitions)],
                                           timeout_ms=round(READ_TIMEOUT_SECONDS * 1000))
        return {tp.partition: offset for tp, offset in found.items()}

    def _close_consumer(self) -> None:
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            try:
                consumer.close()
            except Exception:  # noqa: BLE001 - closing a broken client: nothing left to do with it
                pass
