"""The commands' shared producer factory and acknowledgement tracker (streams.producer)."""

from __future__ import annotations

from kafka.future import Future

from streams.config import load_settings
from streams.producer import Acknowledgements


def test_the_tracker_counts_stored_keeps_failed_and_names_unanswered():
    acks = Acknowledgements()
    futures = [Future() for _ in range(3)]
    for number, future in enumerate(futures):
        acks.track(number, future, f"key-{number}".encode())
    futures[0].success(None)
    error = RuntimeError("NotEnoughReplicas")
    futures[2].failure(error)
    assert acks.stored == 1 and acks.failed == [(2, b"key-2", error)]
    assert acks.unanswered() == [1] and acks.wait(0.1) == [1]
    futures[1].success(None)
    assert acks.wait(1.0) == [] and acks.stored == 2


def test_each_publisher_keeps_its_acks_and_request_limit(monkeypatch):
    import kafka

    import streams.topics
    from streams.bulk import DeadLetters
    from streams.commands.produce import _request_limit
    from streams.producer import open_producer
    from streams.topics import RECORD_OVERHEAD_BYTES

    opened = []
    monkeypatch.setattr(kafka, "KafkaProducer", lambda **config: opened.append(config))
    monkeypatch.setattr(streams.topics, "ensure_topics", lambda *args, **kwargs: {})
    settings = load_settings(environ={}, app_id="app", max_message_bytes=100_000)
    DeadLetters(settings)._open()
    open_producer(settings, "produce", max_request_size=_request_limit(settings))
    open_producer(settings, "load")
    assert all(config["acks"] == "all" and "enable_idempotence" not in config for config in opened)
    assert [(config["client_id"], config.get("max_request_size")) for config in opened] == [
        ("app-load", 100_000 + RECORD_OVERHEAD_BYTES), ("app-produce", 200_000), ("app-load", None)]
