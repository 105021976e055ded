"""`coi-risk load` (streams/commands/load.py) without a broker: the order of what it writes, and what a load that
fails or is interrupted part-way leaves behind for the worker that starts next."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import streams.bulk as bulk
import streams.log_reader as log_reader
import streams.recovery as recovery
from streams.cli import build_parser
from streams.log_reader import Bounds
from streams.processor import InputRecord

SEED = (Path(__file__).resolve().parents[3] / "examples" / "binance-wlfi.jsonl").read_bytes().splitlines()
APPENDED_MS = 1_750_838_400_000


def a_log(lines: list[bytes]) -> list[InputRecord]:
    records = []
    for offset, line in enumerate(lines):
        try:
            key = json.loads(line)["relation_id"].encode()
        except Exception:  # noqa: BLE001 - an unreadable line is published unkeyed
            key = None
        records.append(InputRecord(line, key, "events", 0, offset, APPENDED_MS + offset))
    return records


class Broker:
    """What `load` reads from and writes to the broker, in memory: the input log, the group's committed offsets, the
    bulk-loads records, and the order in which the load wrote them."""

    def __init__(self, monkeypatch, log: list[InputRecord]):
        self.log = log
        self.committed: dict[int, int] = {}
        self.recorded: list = []
        self.writes: list[str] = []
        self.members: list[str] = []

        class Consumer:
            def close(self):
                pass

        def read(settings, topic, bounds):
            return iter([r for r in log if bounds.start.get(0, 0) <= r.offset < bounds.end.get(0, 0)])

        monkeypatch.setattr(log_reader, "open_consumer", lambda settings: Consumer())
        monkeypatch.setattr(log_reader, "resolve_bounds",
                            lambda consumer, topic, start=None, end=None: Bounds({0: 0}, {0: len(log)}))
        monkeypatch.setattr(log_reader, "read", read)
        monkeypatch.setattr(recovery, "committed_offsets", lambda settings: dict(self.committed))
        monkeypatch.setattr(recovery, "commit_offsets", self.commit)
        monkeypatch.setattr(bulk, "record_bulk_load", self.record)
        monkeypatch.setattr(recovery, "group_members", lambda settings: list(self.members))

    def commit(self, settings, offsets):
        self.writes.append("commit")
        self.committed.update(offsets)

    def record(self, settings, start, end, applied, config_hash):
        self.writes.append("record")
        self.recorded.append((dict(start), dict(end)))


def load(tmp_path, *extra: str) -> int:
    args = build_parser().parse_args(["load", "--quiet", "--snapshot-dir", str(tmp_path / "snapshots"),
                                      "--app-id", "app", "--bootstrap-servers", "127.0.0.1:1", *extra])
    return args.func(args)


@pytest.fixture(autouse=True)
def quiet_environment(monkeypatch):
    for name in ("COI_RISK_CONFIG", "COI_EVENTS_TOPIC", "COI_APP_ID", "COI_DATA_DIR", "COI_SNAPSHOT_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COI_EVENTS_TOPIC", "events")


def usable_snapshots(tmp_path) -> list:
    from scoring import ScoringConfig
    from streams.snapshots import Identity, SnapshotStore, config_hash

    store = SnapshotStore(tmp_path / "snapshots", Identity("app", "events", config_hash(ScoringConfig.load())))
    found = store.load_newest()
    return [] if found is None else [found[1]]


def test_a_load_writes_its_record_before_the_snapshot_and_commits_last(monkeypatch, tmp_path):
    broker = Broker(monkeypatch, a_log(SEED))
    order = []
    from streams.snapshots import SnapshotStore

    save = SnapshotStore.save
    monkeypatch.setattr(SnapshotStore, "save", lambda self, state: (order.append("snapshot"), save(self, state))[1])
    broker_record = broker.record
    monkeypatch.setattr(bulk, "record_bulk_load", lambda *a: (order.append("record"), broker_record(*a))[1])
    assert load(tmp_path) == 0
    assert order == ["record", "snapshot"]
    assert broker.writes[-1] == "commit"
    assert broker.committed == {0: len(SEED)}
    assert len(usable_snapshots(tmp_path)) == 1


@pytest.mark.parametrize("failure", [RuntimeError("the bulk-loads topic refused it"), KeyboardInterrupt()])
def test_a_load_whose_record_is_not_written_leaves_no_snapshot_for_a_worker_to_start_from(monkeypatch, tmp_path,
                                                                                          failure):
    # A snapshot of the bulk state without the record: a worker would start from it and publish alerts under the
    # load's history, and once its snapshots are gone its cold start (no record to reproduce) would replay the range
    # event by event and continue under other alert ids and sequences.
    broker = Broker(monkeypatch, a_log(SEED))

    def refused(*args):
        raise failure

    monkeypatch.setattr(bulk, "record_bulk_load", refused)
    if isinstance(failure, KeyboardInterrupt):
        with pytest.raises(KeyboardInterrupt):
            load(tmp_path)
    else:
        assert load(tmp_path) == 1
    assert usable_snapshots(tmp_path) == []
    assert broker.committed == {}


def test_a_load_whose_snapshot_cannot_be_written_commits_nothing_and_its_record_reproduces_it(monkeypatch, tmp_path):
    broker = Broker(monkeypatch, a_log(SEED))
    from streams.snapshots import SnapshotStore

    def full_disk(self, state):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(SnapshotStore, "save", full_disk)
    assert load(tmp_path) == 1
    assert broker.committed == {}
    assert broker.recorded == [({0: 0}, {0: len(SEED)})]  # a cold start reproduces the load: the same state


def test_a_load_beside_a_running_worker_of_the_app_id_is_refused(monkeypatch, tmp_path, capsys):
    # a worker on an empty log has committed nothing, yet it applies and publishes what the load publishes
    broker = Broker(monkeypatch, a_log(SEED))
    broker.members = ["faust-0.15.3@/127.0.0.1"]
    assert load(tmp_path) == 2
    assert "is running" in capsys.readouterr().err
    assert broker.writes == [] and usable_snapshots(tmp_path) == []


@pytest.mark.parametrize("started", ["member", "commit"])
def test_a_worker_that_starts_during_the_load_makes_it_write_nothing(monkeypatch, tmp_path, capsys, started):
    log = a_log(SEED)
    broker = Broker(monkeypatch, log)

    def read(settings, topic, bounds):
        yield from log
        if started == "member":  # the worker joined while the load was reading
            broker.members.append("faust-0.15.3@/127.0.0.1")
        else:  # ... and processed and committed already
            broker.committed[0] = 5

    monkeypatch.setattr(log_reader, "read", read)
    assert load(tmp_path) == 2
    assert "started during the load" in capsys.readouterr().err
    assert broker.writes == [] and broker.recorded == [] and usable_snapshots(tmp_path) == []


class Producer:
    """The dead letters' producer: stores what it is sent, or refuses all of it."""

    def __init__(self, sink: list, refuse: bool = False):
        self.sink, self.refuse = sink, refuse

    def send(self, topic, key, value):
        producer = self

        class Future:
            def add_callback(self, callback, *args):
                if not producer.refuse:
                    producer.sink.append((topic, key, value))
                    callback(*args, None)

            def add_errback(self, errback, *args):
                if producer.refuse:
                    errback(*args, RuntimeError("NotEnoughReplicas"))

        return Future()

    def flush(self, timeout=None):
        pass

    def close(self, timeout=None):
        pass


def bad_lines() -> list[bytes]:
    """What a register file holds besides its events, as `coi-risk produce` publishes each line (byte for byte, its
    line end stripped; blank lines are not sent)."""
    big = json.loads(SEED[6])
    big.update(event_id="too-big", properties={**big["properties"], "summary": "x" * 70_000})
    wrong = json.loads(SEED[5])
    wrong["provenance"]["confidence"] = 7
    wrong["event_id"] = "bad-confidence"
    return [b"\xef\xbb\xbf" + SEED[0],  # a byte order mark
            b"{not json",
            json.dumps(wrong).encode(),  # schema-invalid
            b'{"relation_id": "x\xff\xfe"}',  # not UTF-8
            json.dumps(big).encode(),  # over max_event_bytes, under max_message_bytes
            SEED[3],  # the same event stated twice: applied once, no dead letter
            SEED[-1][: len(SEED[-1]) // 2]]  # a last line cut short


def test_a_load_dead_letters_each_invalid_event_as_the_worker_does_and_loads_every_valid_one(monkeypatch, tmp_path,
                                                                                            capsys):
    from scoring import AlertTracker
    from scoring.resolution import ResolvingEngine
    from streams.bulk import DeadLetters
    from streams.config import load_settings
    from streams.processor import EventProcessor, ProcessingLimits

    log = a_log([*SEED[1:-1], *bad_lines()])
    broker = Broker(monkeypatch, log)
    sent: list = []
    monkeypatch.setattr(DeadLetters, "_open", lambda self: Producer(sent))
    assert load(tmp_path) == 0
    err = capsys.readouterr().err
    assert "6 invalid events (encoding_error 1, invalid_confidence 1, malformed_json 3, payload_too_large 1) " \
           "dead-lettered to 'coi-dead-letters'" in err
    assert "events:0:27: malformed_json:" in err  # the BOM's line, by its place in the log

    # the worker, event by event over the same log: the same dead letters, the same scores
    settings = load_settings(environ={"COI_EVENTS_TOPIC": "events"}, app_id="app")
    worker = EventProcessor(ResolvingEngine(), AlertTracker(), None, limits=ProcessingLimits.from_settings(settings))
    letters = [(settings.dead_letter_topic, out.key, out.value) for record in log
               for out in worker.process(record).outbound if out.role == "dead_letters"]
    assert sent == letters and len(letters) == 6
    assert {json.loads(value)["offset"] for _, _, value in sent} == {27, 28, 29, 30, 31, 33}

    from scoring import ScoringConfig
    from streams.snapshots import Identity, SnapshotStore, config_hash

    store = SnapshotStore(tmp_path / "snapshots", Identity("app", "events", config_hash(ScoringConfig.load())))
    state, _ = store.load_newest()
    bookkeeping = ("trigger_event_id", "input_offsets", "graph_version")

    def content(engine):
        return [{k: v for k, v in s.model_dump(mode="json").items() if k not in bookkeeping} for s in engine.scores()]

    assert content(state.engine) == content(worker.engine) != []
    from schemas import parse_event

    good = ResolvingEngine()  # every valid line of the file, and only those
    good.load(parse_event(line) for line in SEED[1:-1])
    assert state.engine.stats()["relations"] == worker.engine.stats()["relations"] == good.stats()["relations"]
    assert broker.committed == {0: len(log)}


def test_a_load_whose_dead_letters_are_not_stored_writes_nothing(monkeypatch, tmp_path, capsys):
    from streams.bulk import DeadLetters

    broker = Broker(monkeypatch, a_log([*SEED, b"{not json"]))
    monkeypatch.setattr(DeadLetters, "_open", lambda self: Producer([], refuse=True))
    assert load(tmp_path) == 1
    assert "1 dead letter(s) did not reach 'coi-dead-letters'" in capsys.readouterr().err
    assert broker.writes == [] and usable_snapshots(tmp_path) == []


def test_a_reproduction_of_the_load_publishes_no_dead_letters_again(monkeypatch, tmp_path):
    # the worker's cold start reproduces the recorded load: the load published its dead letters already
    from scoring import ScoringConfig
    from streams.bulk import BulkLoad, DeadLetters, reproduce
    from streams.config import load_settings

    log = a_log([*SEED, b"{not json"])
    Broker(monkeypatch, log)
    monkeypatch.setattr(DeadLetters, "_open", lambda self: pytest.fail("a reproduction published a dead letter"))
    settings = load_settings(environ={}, app_id="app", events_topic="events")
    loaded = BulkLoad("app", "events", {0: 0}, {0: len(log)}, {}, 65536, 86400.0, "x", 1.0)
    _, _, applied = reproduce(settings, ScoringConfig.load(), loaded)
    assert applied.invalid == 1 and applied.rejected == {"malformed_json": 1}


def test_an_interrupted_load_says_what_it_left_and_writes_nothing(monkeypatch, tmp_path, capsys):
    log = a_log(SEED)
    broker = Broker(monkeypatch, log)

    def read(settings, topic, bounds):
        yield from log[:10]
        raise KeyboardInterrupt  # Ctrl-C

    monkeypatch.setattr(log_reader, "read", read)
    assert load(tmp_path) == 130
    assert "interrupted: no record, snapshot or commit written" in capsys.readouterr().err
    assert broker.writes == [] and usable_snapshots(tmp_path) == []


def test_a_publisher_that_dies_without_reporting_is_a_refusal_with_its_exit_code_not_a_crash(tmp_path):
    # the child's end of the pipe closes when it dies: `poll` says there is something to read, and `recv` raised
    # EOFError through the load (a traceback) instead of the refusal meant for this case
    import time

    from streams.commands.load import NotPublished, Publishing
    from streams.config import load_settings

    publishing = Publishing(load_settings(environ={}, bootstrap_servers="127.0.0.1:1"), tmp_path / "missing.jsonl",
                            progress=False)
    publishing._process.join(timeout=60)
    time.sleep(0.1)
    with pytest.raises(NotPublished) as refused:
        publishing.finished()
    assert "before it reported" in refused.value.why


def test_a_file_that_cannot_be_read_is_refused_before_anything_starts(monkeypatch, tmp_path, capsys):
    broker = Broker(monkeypatch, [])
    assert load(tmp_path, str(tmp_path / "missing.jsonl")) == 2
    assert "No such file" in capsys.readouterr().err
    assert broker.writes == []


def test_a_load_of_a_topic_that_does_not_exist_says_so(monkeypatch, tmp_path, capsys):
    Broker(monkeypatch, [])

    def missing(consumer, topic, start=None, end=None):
        raise LookupError(f"topic {topic!r} does not exist on the broker")

    monkeypatch.setattr(log_reader, "resolve_bounds", missing)
    assert load(tmp_path) == 2
    assert "topic 'events' does not exist" in capsys.readouterr().err


def test_with_suggest_merges_the_loaded_entities_are_indexed_as_the_event_by_event_worker_indexes_them():
    # the worker started from the load's snapshot proposed no merge of a new entity with any loaded one: its matcher
    # began empty, where the worker that applied the same log event by event had indexed every entity
    from scoring import AlertTracker, ScoringConfig
    from scoring.matching import Matcher
    from scoring.resolution import ResolvingEngine
    from streams.bulk import bulk_apply
    from streams.config import load_settings
    from streams.processor import EventProcessor, ProcessingLimits

    settings = load_settings(environ={}, app_id="app", events_topic="events", suggest_merges=True)
    limits = ProcessingLimits.from_settings(settings)
    log = a_log(SEED)
    seed = [json.loads(line) for line in SEED]
    stated = next(event for event in seed if event["source"]["name"] == "Donald Trump")
    renamed = dict(stated, event_id="live-1", relation_id="live-1", observed_at="2025-06-24T00:00:00Z",
                   source=dict(stated["source"], id="another-id", name="Donald J. Trump"))
    live = InputRecord(json.dumps(renamed).encode(), b"live-1", "events", 0, len(log), APPENDED_MS + len(log))

    event_by_event = EventProcessor(ResolvingEngine(ScoringConfig.load(), matcher=Matcher()), AlertTracker(), None,
                                    limits=limits)
    for record in log:
        event_by_event.process(record, publish=False)
    engine, tracker, _ = bulk_apply(settings, ScoringConfig.load(), log, {"0": len(log)})
    assert engine.matcher is not None
    index = lambda matcher: (matcher._refs, matcher._tokens, matcher._postings)  # noqa: E731
    assert index(engine.matcher) == index(event_by_event.engine.matcher)
    assert engine.take_suggestions() == []  # indexed, not compared: a bulk range publishes nothing
    bulk = EventProcessor(engine, tracker, None, limits=limits)
    suggested = [(out.key, out.value) for out in event_by_event.process(live).outbound if out.role == "suggestions"]
    assert suggested and [(out.key, out.value) for out in bulk.process(live).outbound
                          if out.role == "suggestions"] == suggested
    # without the setting, no index (the worker drops a matcher it is not to use)
    plain = load_settings(environ={}, app_id="app", events_topic="events")
    assert bulk_apply(plain, ScoringConfig.load(), log, {"0": len(log)})[0].matcher is None
