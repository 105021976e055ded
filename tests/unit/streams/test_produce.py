"""`coi-risk produce` without a broker: reading a line's key never fails, whatever the line; a Ctrl-C after the
input's end is reported like one before it."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from kafka.future import Future

from streams.commands.produce import relation_key


def test_the_key_of_a_valid_line_is_its_relation_id():
    assert relation_key(b'{"relation_id": "r-1", "relation_type": "ownership"}') == (b"r-1", "ownership")


def test_an_unreadable_line_is_sent_unkeyed_for_the_worker_to_dead_letter():
    for line in (b"[" * 100_000, b"\xff\xfe", b"{not json", b"[1, 2]", b'{"relation_id": 7}'):
        assert relation_key(line)[0] is None, line[:20]


# -- a Ctrl-C after the input's end: exit 130, and how many events were sent ------------------------------------

SEED = Path(__file__).resolve().parents[3] / "examples" / "binance-wlfi.jsonl"


class _Sent(Future):
    def get(self, timeout=None):  # only `_resend_alone` waits on one line: its Ctrl-C comes here
        raise KeyboardInterrupt


class _Producer:
    """kafka-python's producer as `produce_lines` uses it (its own futures), with a broker that has answered every
    line by the end of `flush` but the last `unanswered` (no answer) or `too_large` (its batch refused as too large),
    and a Ctrl-C in `interrupted_in`: "flush", "close", or sending a refused line again alone."""

    interrupted_in: str | None = None
    unanswered = too_large = 0

    def __init__(self, **config):
        self.futures: list[Future] = []

    def send(self, topic, key=None, value=None) -> Future:
        self.futures.append(_Sent())
        return self.futures[-1]

    def flush(self, timeout=None) -> None:
        from kafka.errors import MessageSizeTooLargeError

        answered = len(self.futures) - self.unanswered - self.too_large
        for number, future in enumerate(self.futures[:len(self.futures) - self.unanswered]):
            if future.is_done:
                continue
            if number < answered:
                future.success(None)
            else:
                future.failure(MessageSizeTooLargeError())
        if self.interrupted_in == "flush":
            raise KeyboardInterrupt

    def close(self, timeout=None) -> None:
        if self.interrupted_in == "close":
            raise KeyboardInterrupt


class _Stdin(io.BytesIO):
    """Standard input whose read at the end raises KeyboardInterrupt when `interrupted_at_end`."""

    def __init__(self, data: bytes, interrupted_at_end: bool):
        super().__init__(data)
        self.interrupted_at_end = interrupted_at_end
        self.buffer = self

    def readline(self, size=-1) -> bytes:
        line = super().readline(size)
        if not line and self.interrupted_at_end:
            raise KeyboardInterrupt
        return line

    def __next__(self) -> bytes:
        line = self.readline()
        if not line:
            raise StopIteration
        return line


@pytest.mark.parametrize("where", ["reading at the end", "flush", "waiting for answers", "close",
                                   "sending a refused line again"])
def test_a_ctrl_c_after_the_input_s_end_exits_130_saying_how_many_events_were_sent(where, monkeypatch, capsys):
    import kafka

    import streams.commands.produce as produce
    import streams.topics
    from streams.cli import main

    lines = SEED.read_bytes().splitlines(keepends=True)
    monkeypatch.setattr(kafka, "KafkaProducer", _Producer)
    monkeypatch.setattr(streams.topics, "ensure_topics", lambda *args, **kwargs: {})
    monkeypatch.setattr(_Producer, "interrupted_in", where if where in ("flush", "close") else None)
    if where == "waiting for answers":  # the broker has not answered the last line when the Ctrl-C comes

        def interrupted(seconds):
            raise KeyboardInterrupt

        monkeypatch.setattr(_Producer, "unanswered", 1)
        monkeypatch.setattr(produce.time, "sleep", interrupted)
    if where == "sending a refused line again":  # the broker refused the last line's batch as too large
        monkeypatch.setattr(_Producer, "too_large", 1)
    monkeypatch.setattr(sys, "stdin", _Stdin(b"".join(lines), interrupted_at_end=where == "reading at the end"))
    assert main(["produce", "-", "--quiet", "--bootstrap-servers", "127.0.0.1:9", "--topic", "events"]) == 130
    err = capsys.readouterr().err
    sent = len(lines) - (where in ("waiting for answers", "sending a refused line again"))
    assert f"sent {sent} events" in err
    assert f"interrupted (Ctrl-C): {sent} of {len(lines)} events handed to the producer reached events" in err
    if where == "waiting for answers":
        assert f"line {len(lines)}: interrupted (Ctrl-C) before the broker answered: it may or may not be stored" in err
    if where == "reading at the end":
        assert f"line {len(lines) + 1}: interrupted (Ctrl-C) before this line" in err
    if where == "sending a refused line again":
        assert f"line {len(lines)}: interrupted (Ctrl-C) while it was sent again alone" in err


class _Recording(_Producer):
    sent: list[bytes] = []

    def send(self, topic, key=None, value=None):
        _Recording.sent.append(value)
        future = Future()
        future.success(None)
        return future


def test_the_files_byte_order_mark_is_not_published_with_its_first_event(monkeypatch, tmp_path):
    import kafka

    import streams.topics
    from streams.cli import main

    monkeypatch.setattr(kafka, "KafkaProducer", _Recording)
    monkeypatch.setattr(_Recording, "sent", [])
    monkeypatch.setattr(streams.topics, "ensure_topics", lambda *args, **kwargs: {})
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + SEED.read_bytes())
    assert main(["produce", str(path), "--quiet", "--bootstrap-servers", "127.0.0.1:9", "--topic", "events"]) == 0
    assert _Recording.sent == SEED.read_bytes().splitlines()  # the worker dead-lettered the first ("Unexpected BOM")
