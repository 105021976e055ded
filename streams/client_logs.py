"""The Kafka client's repeated complaints, said once a minute: a broker gone for 50 s made aiokafka log 3,211 lines
(a failed fetch and a failed coordinator request every few milliseconds), about 230,000 an hour, burying the
worker's own lines (an operator's review). The first of each kind is logged as it comes; its repeats within the
window are counted, and the next one logged after the window says how many there were."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

# The client's loggers that repeat themselves while a broker is away (a filter applies to the records of its own
# logger, not of its children: each is named)
CLIENT_LOGGERS = ("aiokafka", "aiokafka.conn", "aiokafka.client", "aiokafka.consumer.fetcher",
                  "aiokafka.consumer.group_coordinator", "aiokafka.producer.sender", "aiokafka.producer.producer")


class RepeatLimit(logging.Filter):
    """Lets through one record of a kind (logger, level, message template) per `window` seconds; the one let
    through after a quiet window tells how many it stood for."""

    def __init__(self, window: float = 60.0, clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self.window, self._clock = window, clock
        self._kinds: dict[tuple, list] = {}  # kind -> [time let through, repeats held back since]

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        kind = (record.name, record.levelno, str(record.msg))
        now = self._clock()
        held = self._kinds.get(kind)
        if held is not None and now - held[0] < self.window:
            held[1] += 1
            return False
        if held is not None and held[1]:
            record.msg = f"{record.msg} (and {held[1]} like it in the {self.window:.0f} s before, not logged)"
        if len(self._kinds) > 1000:  # kinds are templates, few; a bound all the same
            self._kinds.clear()
        self._kinds[kind] = [now, 0]
        return True


def limit_client_logs(window: float = 60.0) -> RepeatLimit:
    limit = RepeatLimit(window)
    for name in CLIENT_LOGGERS:
        logging.getLogger(name).addFilter(limit)
    return limit
