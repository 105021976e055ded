"""streams.client_logs: the Kafka client's repeated complaints said once a window, with their count."""

from __future__ import annotations

import logging

from streams.client_logs import CLIENT_LOGGERS, RepeatLimit, limit_client_logs


def _record(msg: str, level: int = logging.ERROR, name: str = "aiokafka.consumer.fetcher", *args) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, args, None)


def test_repeats_within_the_window_are_counted_and_told_by_the_next_one_let_through():
    now = [0.0]
    limit = RepeatLimit(window=60, clock=lambda: now[0])
    failed = "Failed fetch messages from %s: %s"
    assert limit.filter(_record(failed, logging.ERROR, "aiokafka.consumer.fetcher", 1, "NodeNotReadyError"))
    for step in range(400):  # a broker gone for 50 s: one every 125 ms
        now[0] = step * 0.125
        assert not limit.filter(_record(failed, logging.ERROR, "aiokafka.consumer.fetcher", 1, "NodeNotReadyError"))
    # another kind (another template, logger or level) is not held back by the first
    assert limit.filter(_record("Group Coordinator Request failed: %s", logging.ERROR,
                                "aiokafka.consumer.group_coordinator", "x"))
    assert limit.filter(_record(failed, logging.WARNING, "aiokafka.consumer.fetcher", 1, "x"))
    now[0] = 61.0
    told = _record(failed, logging.ERROR, "aiokafka.consumer.fetcher", 1, "NodeNotReadyError")
    assert limit.filter(told)
    assert told.getMessage() == ("Failed fetch messages from 1: NodeNotReadyError (and 400 like it in the 60 s "
                                 "before, not logged)")
    # below warning: never held back (debug and info are the client's business, and rarely on)
    assert all(limit.filter(_record("connecting", logging.INFO)) for _ in range(5))


def test_the_worker_limits_every_client_logger_it_names(caplog):
    limit = limit_client_logs(window=60)
    try:
        for name in CLIENT_LOGGERS:
            assert limit in logging.getLogger(name).filters, name
        with caplog.at_level(logging.WARNING, logger="aiokafka.conn"):
            for _ in range(50):
                logging.getLogger("aiokafka.conn").error("Unable to connect to %s", "127.0.0.1:9092")
        assert [r.getMessage() for r in caplog.records] == ["Unable to connect to 127.0.0.1:9092"]
    finally:
        for name in CLIENT_LOGGERS:
            logging.getLogger(name).removeFilter(limit)
