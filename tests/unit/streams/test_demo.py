"""`coi-risk demo` (`make demo`) cleans up after itself: the worker it started and the broker it started stop however
the demo is ended, and a broker it did not start is named, left running, with how to stop it. No broker needed."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from types import SimpleNamespace

import pytest

from streams.cli import build_parser

SEED = Path(__file__).resolve().parents[3] / "examples" / "binance-wlfi.jsonl"


@pytest.fixture(autouse=True)
def _no_inherited_settings(monkeypatch, tmp_path):
    for key in list(os.environ):
        if key.upper().startswith("COI_") or key == "KAFKA_BOOTSTRAP_SERVERS":
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)  # the demo worker's data dir (.run/demo-worker) is relative


class _Broker:
    instances: list[_Broker] = []

    def __init__(self, port, already_running=False):
        self.port, self.running, self.stopped = port, already_running, False
        _Broker.instances.append(self)

    def status(self):
        return SimpleNamespace(running=self.running, pid=4242 if self.running else None)

    def start(self):
        self.running = True

    def stop(self):
        self.stopped = True


class _Worker:
    def __init__(self, *args, **kwargs):
        self.signals, self.returncode = [], None

    def send_signal(self, signum):
        self.signals.append(signum)

    def wait(self, timeout=None):
        self.returncode = 0
        return 0

    def poll(self):
        return self.returncode

    def kill(self):
        self.signals.append(signal.SIGKILL)


def _fake_demo(monkeypatch, follow, already_running=False):
    from streams.commands import demo

    _Broker.instances.clear()
    workers = []
    monkeypatch.setattr("streams.broker.LocalBroker",
                        lambda port: _Broker(port, already_running=already_running))
    monkeypatch.setattr("streams.topics.recreate_topics", lambda settings: None)
    monkeypatch.setattr(demo, "_wait_ready", lambda url, worker: None)
    monkeypatch.setattr(demo.subprocess, "Popen", lambda *a, **k: workers.append(_Worker()) or workers[-1])
    monkeypatch.setattr("streams.commands.produce.produce_lines",
                        lambda *a, **k: {"sent": 29, "interrupted": False})
    monkeypatch.setattr("streams.commands.produce.report_failures", lambda summary, topic: False)
    monkeypatch.setattr("streams.commands.tail.follow", follow)
    return demo, workers


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_demo_ended_by_a_signal_stops_its_worker_and_its_broker(monkeypatch, capsys, signum):
    # `kill <demo pid>` (a supervisor, `timeout make demo`) or a closed terminal (SIGHUP) ended the demo without its
    # clean-up: the worker kept serving on its port and the broker (its own session) kept running, and the next
    # `make demo` reused that broker without a word and left it running too
    before = signal.getsignal(signum)

    def follow(*args, **kwargs):
        handler = signal.getsignal(signum)
        assert callable(handler), f"signal {signum} would end the demo without stopping the worker and broker"
        handler(signum, None)  # what the signal does when it arrives
        yield from ()

    demo, workers = _fake_demo(monkeypatch, follow)
    assert demo.run(build_parser().parse_args(["demo", "--file", str(SEED)])) == 0
    assert workers and signal.SIGTERM in workers[0].signals
    assert _Broker.instances[0].stopped
    assert "local broker stopped" in capsys.readouterr().err
    assert signal.getsignal(signum) == before


def test_a_broker_the_demo_did_not_start_is_named_and_left_running(monkeypatch, capsys):
    def follow(*args, **kwargs):
        raise KeyboardInterrupt
        yield

    demo, workers = _fake_demo(monkeypatch, follow, already_running=True)
    assert demo.run(build_parser().parse_args(["demo", "--file", str(SEED)])) == 0
    err = capsys.readouterr().err
    assert not _Broker.instances[0].stopped and signal.SIGTERM in workers[0].signals
    assert "already running on 127.0.0.1:9092 (pid 4242)" in err
    assert "coi-risk broker stop --port 9092" in err


def test_ctrl_c_while_the_broker_starts_stops_it(monkeypatch, capsys):
    # `make demo`, Ctrl-C at "starting the local Kafka broker ...": the JVM (its own session) was left running and
    # the next demo reused it without a word
    def follow(*args, **kwargs):
        raise AssertionError("the demo went on after Ctrl-C")

    def interrupted_start(self):
        self.running = True  # the JVM runs, not ready yet
        raise KeyboardInterrupt

    monkeypatch.setattr(_Broker, "start", interrupted_start)
    demo, workers = _fake_demo(monkeypatch, follow)
    try:
        code = demo.run(build_parser().parse_args(["demo", "--file", str(SEED)]))
    except KeyboardInterrupt:
        code = 130  # it escaped the demo's clean-up
    assert code == 0 and _Broker.instances[0].stopped and not workers
    assert "local broker stopped" in capsys.readouterr().err
