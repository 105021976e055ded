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
    monkeypatch.setattr("streams.commands.tail.follow_kinds", follow)
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



def _demo_outputs(extra: bytes):
    """What the demo's worker publishes for the seed and `extra`: (kind, None, model) as `follow_kinds` yields them."""
    import json

    from schemas import Alert, DeadLetter
    from scoring import AlertTracker, Engine, ScoringConfig
    from streams.processor import EventProcessor, InputRecord

    config = ScoringConfig.load()
    processor = EventProcessor(Engine(config), AlertTracker(config))
    found = []
    for offset, line in enumerate([*SEED.read_bytes().splitlines(), extra]):
        key = json.loads(line).get("relation_id", "").encode()
        for out in processor.process(InputRecord(line, key, "demo.coi-relationship-events", 0, offset,
                                                 1_767_225_600_000)).outbound:
            if out.role == "alerts":
                found.append(("alerts", out.value, Alert.model_validate_json(out.value)))
            elif out.role == "dead_letters":
                found.append(("dead-letters", out.value, DeadLetter.model_validate_json(out.value)))
    return found


def test_the_demo_shows_the_events_the_worker_could_not_use_and_counts_them(monkeypatch, capsys):
    # a demo of one's own file showed alerts only: an event the worker refused went unnoticed
    import json

    misspelt = json.loads(SEED.read_bytes().splitlines()[0])
    misspelt.update(event_id="mine-001", relation_type="owns_lots")
    outputs = _demo_outputs(json.dumps(misspelt).encode())
    assert [kind for kind, _, _ in outputs].count("dead-letters") == 1
    followed = []

    def follow(settings, topics, **kwargs):
        followed.append(topics)
        yield from outputs

    demo, _ = _fake_demo(monkeypatch, follow)
    assert demo.run(build_parser().parse_args(["demo", "--file", str(SEED)])) == 0
    assert followed == [{"alerts": "demo.coi-alerts", "dead-letters": "demo.coi-dead-letters"}]
    out, err = capsys.readouterr()
    letters = [line for line in out.splitlines() if line.startswith("DEAD LETTER")]
    assert len(letters) == 1 and "owns_lots" in letters[0]
    alerts = sum(kind == "alerts" for kind, _, _ in outputs)
    assert out.count("[RAISED") == alerts > 0
    assert err.splitlines()[-2:-1] == [
        f"29 events published, {alerts} alerts shown; 1 of them dead-lettered (`coi-risk tail dead-letters --topic "
        "demo.coi-dead-letters --from-beginning` lists them)"]


def test_a_demo_without_dead_letters_says_only_what_it_showed(monkeypatch, capsys):
    def follow(settings, topics, **kwargs):
        yield from ()

    demo, _ = _fake_demo(monkeypatch, follow)
    assert demo.run(build_parser().parse_args(["demo", "--file", str(SEED)])) == 0
    assert "29 events published, 0 alerts shown\n" in capsys.readouterr().err


def test_a_pipe_of_no_events_is_refused_before_any_of_it_is_published(monkeypatch, capsys, tmp_path):
    # `--file <(cat register.csv)`: the checks before the broker starts cannot look into a pipe without taking its
    # lines, so it is checked as it is read; its CSV rows reached the demo's input topic
    import threading

    fifo = tmp_path / "register.csv"
    os.mkfifo(fifo)

    def write():
        with open(fifo, "wb") as pipe:
            pipe.write(b"lei,name,home_member_state\n529900T8BM49AURSDO55,Example CASP,DE\n")

    writer = threading.Thread(target=write)
    writer.start()

    def follow(*args, **kwargs):
        raise AssertionError("the demo went on with a file of no events")

    demo, workers = _fake_demo(monkeypatch, follow)
    published = []
    monkeypatch.setattr("streams.commands.produce.produce_lines", lambda *a, **k: published.append(a))
    assert demo.run(build_parser().parse_args(["demo", "--file", str(fifo)])) == 2
    writer.join(timeout=10)
    assert not published and signal.SIGTERM in workers[0].signals
    err = capsys.readouterr().err
    assert f"coi-risk demo: {fifo} is not relationship events (malformed_json on line 1)" in err
    assert "events published" not in err
