"""Recovery on the real broker: overlapping workers of one app id (a rolling deploy), and restarts from snapshots
(kill -9 during a snapshot write, a corrupt newest snapshot, nothing republished from a snapshot)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from streams.testing import REPO_ROOT, WorkerProcess, free_port, http_get, pipeline_settings
from streams.topics import ensure_topics
from tests.integration.conftest import SEED_FILE, produce_with_cli, read_topic
from tests.integration.test_worker import assert_no_conflicting_alerts, latest_by_key

pytestmark = pytest.mark.kafka

SYNTHETIC_RELATIONS = 1500


@pytest.fixture(scope="module")
def synthetic_lines() -> list[str]:
    """Deterministic synthetic events (bench/synthetic.py): enough pairs and alerts that a missed range shows."""
    result = subprocess.run([sys.executable, "bench/synthetic.py", str(SYNTHETIC_RELATIONS)], cwd=REPO_ROOT,
                            capture_output=True, text=True, check=True, timeout=120)
    return result.stdout.splitlines()


def write_parts(tmp_path: Path, lines: list[str], cuts: list[int]) -> list[Path]:
    bounds = [0, *cuts, len(lines)]
    paths = []
    for number, (start, stop) in enumerate(zip(bounds, bounds[1:])):
        path = tmp_path / f"part-{number}.jsonl"
        path.write_text("\n".join(lines[start:stop]) + "\n")
        paths.append(path)
    return paths


def worker_for(settings, log_path: Path, **env: str) -> WorkerProcess:
    return WorkerProcess(settings, log_path, extra_env=dict(env))


def snapshot_env(every_events: int) -> dict[str, str]:
    return {"COI_SNAPSHOT_EVERY_EVENTS": str(every_events), "COI_SNAPSHOT_EVERY_SECONDS": "3600"}


def with_snapshots(settings, every_events: int):
    return settings.model_copy(update={"snapshot_every_events": every_events, "snapshot_every_seconds": 3600.0})


def wait_until(condition, timeout: float = 90.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.3)
    pytest.fail(f"{what} not met within {timeout}s", pytrace=False)


def committed(settings) -> int:
    from streams.recovery import committed_offsets

    return committed_offsets(settings).get(0, 0)


def is_ready(worker: WorkerProcess) -> bool:
    try:
        return http_get(f"{worker.base_url}/ready", timeout=2)[0] == 200
    except OSError:
        return False


def top_scores(worker: WorkerProcess) -> list[dict]:
    return worker.json("/scores/top?limit=500")["scores"]


def reference_run(kafka_bootstrap, tmp_path: Path, parts: list[Path]) -> tuple[list[dict], dict, dict]:
    """One uninterrupted worker on fresh topics: its /scores/top, graph gauges and last score per key."""
    settings = pipeline_settings(kafka_bootstrap, tmp_path / "reference")
    ensure_topics(settings)
    worker = WorkerProcess(settings, tmp_path / "reference.log")
    total = sum(len(p.read_text().splitlines()) for p in parts)
    try:
        worker.start()
        for part in parts:
            produce_with_cli(settings, part)
        wait_until(lambda: committed(settings) >= total, what="reference worker committed everything")
        time.sleep(1.0)
        scores = top_scores(worker)
        gauges = {name: worker.metric(name) for name in ("coi_graph_relations", "coi_graph_nodes")}
    finally:
        worker.stop()
    published = latest_by_key(read_topic(settings, settings.scores_topic, lambda items: True, timeout=10))
    return scores, gauges, published


def test_overlapping_workers_end_with_the_graph_and_scores_of_one_uninterrupted_worker(
        pipeline, kafka_bootstrap, tmp_path, synthetic_lines):
    """A rolling deploy: start A, produce, start B (same app id), produce, stop A, produce. B must take over from
    A's committed offset, not from where the group was when B started."""
    settings, _ = pipeline
    parts = write_parts(tmp_path, synthetic_lines, [500, 1000])
    total = len(synthetic_lines)
    a = worker_for(settings, tmp_path / "a.log").start()
    produce_with_cli(settings, parts[0])
    wait_until(lambda: committed(settings) >= 500, what="A committed the first part")

    b_settings = settings.model_copy(update={"web_port": free_port(), "data_dir": str(tmp_path / "b-data")})
    b = worker_for(b_settings, tmp_path / "b.log").start(wait_ready=False)
    try:
        # the group rebalances with B in it; one input partition: exactly one of them owns it and is ready
        wait_until(lambda: "assigned input partitions" in (tmp_path / "b.log").read_text(errors="replace"),
                   what="B joined the group")
        wait_until(lambda: is_ready(a) != is_ready(b), what="exactly one worker ready after B joined")
        produce_with_cli(settings, parts[1])
        wait_until(lambda: committed(settings) >= 1000, what="the second part committed")
        a.stop()
        b.wait_ready()
        produce_with_cli(settings, parts[2])
        wait_until(lambda: committed(settings) >= total, what="B committed everything")
        time.sleep(1.0)
        b_scores = top_scores(b)
        b_gauges = {name: b.metric(name) for name in ("coi_graph_relations", "coi_graph_nodes")}
    finally:
        b.stop()
    published = latest_by_key(read_topic(settings, settings.scores_topic, lambda items: True, timeout=10))
    alerts = read_topic(settings, settings.alerts_topic, lambda items: True, timeout=10)

    reference_scores, reference_gauges, reference_published = reference_run(kafka_bootstrap, tmp_path, parts)
    assert b_gauges == reference_gauges
    assert b_gauges["coi_graph_relations"] > 0
    assert len(b_scores) == len(reference_scores) > 0
    assert b_scores == reference_scores
    assert published == reference_published
    assert_no_conflicting_alerts(alerts)


def snapshot_files(settings) -> list[Path]:
    return sorted(settings.snapshot_path.glob("snapshot-*.coisnap"))


def snapshot_offset(path: Path) -> int:
    from streams.snapshots import MAGIC

    with path.open("rb") as handle:
        assert handle.read(len(MAGIC)) == MAGIC
        return json.loads(handle.readline())["offsets"]["0"]


def test_kill_during_a_snapshot_write_then_restart_gives_the_scores_of_an_uninterrupted_run(
        pipeline, kafka_bootstrap, tmp_path, synthetic_lines):
    settings, _ = pipeline
    settings = with_snapshots(settings, 50).model_copy(update={"batch_max_events": 25})
    parts = write_parts(tmp_path, synthetic_lines, [1000])
    worker = worker_for(settings, tmp_path / "worker.log", **snapshot_env(50), COI_BATCH_MAX_EVENTS="25")
    worker.start()
    producer = subprocess.Popen(
        [sys.executable, "-m", "streams.cli", "produce", str(parts[0]), "--quiet", "--bootstrap-servers",
         settings.bootstrap_servers, "--topic", settings.events_topic], cwd=REPO_ROOT,
        env={**os.environ, "COI_RISK_CONFIG": ""}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # kill -9 the worker and its snapshot writer (a forked child) the moment a snapshot's temporary file exists
    # (the write is in progress), once an earlier snapshot is complete, so that the restart has one to start from:
    # what a machine or container dying mid-write does
    caught_mid_write = False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not caught_mid_write:
        directory = settings.snapshot_path
        names = [entry.name for entry in os.scandir(directory)] if directory.is_dir() else []
        if any(name.startswith(".tmp-") for name in names) and any(name.endswith(".coisnap") and
                                                                    name.startswith("snapshot-") for name in names):
            # freeze the writer first, then look again: a write that finished in between is let go, and the next
            # one is caught (without this the kill races the rename)
            writers = child_pids(worker.process.pid)
            for pid in writers:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGSTOP)
            if writers and any(entry.name.startswith(".tmp-") for entry in os.scandir(directory)):
                for pid in [*writers, worker.process.pid]:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                caught_mid_write = True
            else:
                for pid in writers:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGCONT)
        else:
            time.sleep(0.0005)
    worker.process.wait(timeout=10)
    producer.wait(timeout=120)
    assert caught_mid_write, "no snapshot write was observed to kill during"
    leftovers = [entry.name for entry in os.scandir(settings.snapshot_path) if entry.name.startswith(".tmp-")]
    assert leftovers, "the killed write left no temporary file: it was not killed mid-write"

    produce_with_cli(settings, parts[1])
    worker.start()
    wait_until(lambda: committed(settings) >= len(synthetic_lines), what="restarted worker committed everything")
    time.sleep(1.0)
    restarted_scores = top_scores(worker)
    worker.stop()
    log = (tmp_path / "worker.log").read_text(errors="replace")
    assert "loaded snapshot" in log
    published = latest_by_key(read_topic(settings, settings.scores_topic, lambda items: True, timeout=10))
    alerts = read_topic(settings, settings.alerts_topic, lambda items: True, timeout=10)

    reference_scores, _, reference_published = reference_run(kafka_bootstrap, tmp_path, parts)
    assert restarted_scores == reference_scores
    assert published == reference_published
    assert_no_conflicting_alerts(alerts)


def child_pids(pid: int) -> list[int]:
    children = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            children.extend(int(child) for child in (task / "children").read_text().split())
    return children


def topic_counts(settings) -> dict[str, int]:
    return {topic: len(read_topic(settings, topic, lambda items: True, timeout=5))
            for topic in (settings.scores_topic, settings.alerts_topic, settings.dead_letter_topic)}


# writer "thread": a cap of 1 MB on the private memory a forked writer may copy leaves no room to fork (streams.memory),
# as on a worker whose state is more than half its memory; the snapshot is then written by the worker itself while
# the stream waits
@pytest.mark.parametrize("writer", ["child", "thread"])
def test_restart_from_a_snapshot_replays_only_the_tail_and_publishes_nothing_again(
        pipeline, tmp_path, synthetic_lines, writer):
    settings, _ = pipeline
    # one snapshot exactly at the end of the first part (its 1,000th event is the first batch boundary with 1,000
    # events since the start); the second part's 500 stay under the interval, so they are the tail
    settings = with_snapshots(settings, 1000)
    parts = write_parts(tmp_path, synthetic_lines, [1000])
    no_room = {"COI_SNAPSHOT_FORK_MAX_PRIVATE_MB": "1"} if writer == "thread" else {}
    # (no snapshot at the stop: the tail is what this test replays; the next test stops with one)
    worker = worker_for(settings, tmp_path / "worker.log", **snapshot_env(1000), **no_room,
                        COI_SNAPSHOT_AT_STOP="false")
    worker.start()
    produce_with_cli(settings, parts[0])
    wait_until(lambda: committed(settings) >= 1000 and snapshot_files(settings), what="first part and a snapshot")
    produce_with_cli(settings, parts[1])  # 500 more: fewer than snapshot_every_events after the last snapshot
    wait_until(lambda: committed(settings) >= len(synthetic_lines), what="everything committed")
    time.sleep(1.0)
    assert worker.metric("coi_snapshots_written_total", writer=writer) == 1
    assert worker.metric("coi_snapshots_written_total", writer={"child": "thread", "thread": "child"}[writer]) == 0
    scores_before = top_scores(worker)
    worker.stop()
    before = topic_counts(settings)
    newest = snapshot_files(settings)[-1]
    tail = len(synthetic_lines) - snapshot_offset(newest)
    assert tail > 0, "the newest snapshot should lie before the end, so that a tail is replayed"

    worker.start()
    time.sleep(3.0)  # anything the restart were to publish would be on the topics by now
    assert worker.metric("coi_snapshot_loaded_offset", partition="0") == snapshot_offset(newest)
    assert worker.metric("coi_recovered_events_total") == tail  # the tail only, not the whole log
    assert worker.metric("coi_events_consumed_total") == 0
    assert top_scores(worker) == scores_before
    worker.stop()
    assert topic_counts(settings) == before
    assert f"loaded snapshot {newest}" in (tmp_path / "worker.log").read_text(errors="replace")


@pytest.mark.parametrize("writer", ["child", "thread"])
def test_a_clean_stop_writes_a_snapshot_so_that_the_restart_replays_nothing(pipeline, tmp_path, synthetic_lines,
                                                                             writer):
    """SIGTERM after 1,500 events with a snapshot every 1,000: the stop writes the state at 1,500, after committing
    it, so the restart loads it and replays nothing; it publishes nothing again and serves the same scores."""
    settings, _ = pipeline
    settings = with_snapshots(settings, 1000)
    parts = write_parts(tmp_path, synthetic_lines, [1000])
    no_room = {"COI_SNAPSHOT_FORK_MAX_PRIVATE_MB": "1"} if writer == "thread" else {}
    worker = worker_for(settings, tmp_path / "worker.log", **snapshot_env(1000), **no_room)
    worker.start()
    produce_with_cli(settings, parts[0])
    wait_until(lambda: committed(settings) >= 1000 and snapshot_files(settings), what="first part and a snapshot")
    produce_with_cli(settings, parts[1])
    wait_until(lambda: worker.metric("coi_events_consumed_total") >= len(synthetic_lines), what="all consumed")
    time.sleep(1.0)
    scores_before = top_scores(worker)
    assert worker.metric("coi_snapshots_written_total", writer=writer) == 1
    worker.stop()
    assert worker.process.returncode == 0
    assert committed(settings) == len(synthetic_lines)
    before = topic_counts(settings)
    newest = snapshot_files(settings)[-1]
    assert snapshot_offset(newest) == len(synthetic_lines)  # the stop's, at the end of what was applied
    assert len(snapshot_files(settings)) == 2
    log = (tmp_path / "worker.log").read_text(errors="replace")
    assert f"snapshot at stop {newest.name} at offsets {{0: {len(synthetic_lines)}}}" in log
    assert f"written by the {writer}" in log

    worker.start()
    time.sleep(3.0)  # anything the restart were to publish would be on the topics by now
    assert worker.metric("coi_snapshot_loaded_offset", partition="0") == len(synthetic_lines)
    assert worker.metric("coi_recovered_events_total") == 0  # nothing replayed
    assert worker.metric("coi_events_consumed_total") == 0
    assert top_scores(worker) == scores_before
    worker.stop()
    assert topic_counts(settings) == before
    assert "no snapshot at stop: every event applied is in the last snapshot written or loaded" in \
        (tmp_path / "worker.log").read_text(errors="replace")


def test_a_stop_during_a_catch_up_ends_it_writes_what_it_applied_and_the_restart_goes_on_from_there(
        pipeline, tmp_path):
    """A stop that came during a catch-up waited for the whole replay before the process could exit (an operator's
    review: 14 s with a 2 s limit). Now the replay ends at the next event, the stop's snapshot holds what it applied,
    and the next start replays the rest: the scores of the worker that processed it all live."""
    settings, _ = pipeline
    lines = subprocess.run([sys.executable, "bench/synthetic.py", "12000"], cwd=REPO_ROOT, capture_output=True,
                           text=True, check=True, timeout=120).stdout.splitlines()
    log_file = tmp_path / "all.jsonl"
    log_file.write_text("\n".join(lines) + "\n")
    live = worker_for(settings, tmp_path / "live.log", COI_SNAPSHOTS_ENABLED="false")
    live.start()
    try:
        produce_with_cli(settings, log_file)
        wait_until(lambda: committed(settings) >= len(lines), timeout=300, what="everything processed live")
        time.sleep(1.0)
        expected = top_scores(live)
    finally:
        live.stop()

    recovering = worker_for(settings, tmp_path / "recovering.log")  # no snapshot yet: replays the whole log
    recovering.start(wait_ready=False)
    log_path = tmp_path / "recovering.log"
    wait_until(lambda: "assigned input partitions [0]" in log_path.read_text(errors="replace"), timeout=120,
               what="the catch-up started")
    time.sleep(1.0)
    assert not is_ready(recovering), "the catch-up ended before the stop: too short a log for this test"
    started = time.monotonic()
    recovering.stop(timeout=120)
    stopped_in = time.monotonic() - started
    log = log_path.read_text(errors="replace")
    assert "catch-up ended by the stop after" in log
    (path,) = snapshot_files(settings)
    cut = snapshot_offset(path)
    assert 0 < cut < len(lines)
    assert f"snapshot at stop {path.name} at offsets {{0: {cut}}}" in log
    assert recovering.process.returncode == 0 and stopped_in < 20

    again = worker_for(settings, tmp_path / "again.log")
    again.start()
    try:
        assert again.metric("coi_snapshot_loaded_offset", partition="0") == cut
        assert again.metric("coi_recovered_events_total") == len(lines) - cut
        assert top_scores(again) == expected
    finally:
        again.stop()


def test_a_corrupt_newest_snapshot_falls_back_to_the_older_one(pipeline, tmp_path, synthetic_lines):
    settings, _ = pipeline
    settings = with_snapshots(settings, 300)
    worker = worker_for(settings, tmp_path / "worker.log", **snapshot_env(300))
    worker.start()
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(synthetic_lines) + "\n")
    produce_with_cli(settings, path)
    wait_until(lambda: committed(settings) >= len(synthetic_lines) and len(snapshot_files(settings)) >= 2,
               what="everything committed and two snapshots")
    time.sleep(1.0)
    scores_before = top_scores(worker)
    worker.stop()
    before = topic_counts(settings)
    *_, older, newest = snapshot_files(settings)
    data = bytearray(newest.read_bytes())
    data[-100] ^= 0xFF  # one flipped bit in the body: a bad disk, a bad copy
    newest.write_bytes(bytes(data))

    worker.start()
    time.sleep(2.0)
    assert worker.metric("coi_snapshot_fallbacks_total", reason="corrupt") == 1
    assert worker.metric("coi_snapshot_loaded_offset", partition="0") == snapshot_offset(older)
    assert worker.metric("coi_recovered_events_total") == len(synthetic_lines) - snapshot_offset(older)
    assert top_scores(worker) == scores_before
    worker.stop()
    assert topic_counts(settings) == before
    log = (tmp_path / "worker.log").read_text(errors="replace")
    assert f"snapshot {newest} not used (corrupt)" in log


def cli(settings, *args: str, expect: int = 0, **env: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COI_RISK_CONFIG": "", "COI_EVENTS_TOPIC": settings.events_topic,
           "COI_APP_ID": settings.app_id, "COI_DATA_DIR": settings.data_dir,
           "COI_BULK_LOADS_TOPIC": settings.bulk_loads_topic, "COI_DEAD_LETTER_TOPIC": settings.dead_letter_topic,
           **env}
    result = subprocess.run([sys.executable, "-m", "streams.cli", *args, "--bootstrap-servers",
                             settings.bootstrap_servers], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == expect, result.stderr
    return result


def content(scores: list[dict]) -> list[dict]:
    return [{k: v for k, v in score.items() if k not in ("trigger_event_id", "input_offsets", "graph_version")}
            for score in scores]


def test_bulk_load_then_the_worker_starts_from_its_snapshot_and_an_export_imports_elsewhere(
        pipeline, tmp_path, synthetic_lines):
    from schemas import parse_event
    from scoring import Engine
    from streams.recovery import committed_offsets

    settings, _ = pipeline
    path = tmp_path / "register.jsonl"
    path.write_text("\n".join(synthetic_lines) + "\n")
    loaded = cli(settings, "load", str(path), "--quiet")
    assert f"loaded {len(synthetic_lines)} events" in loaded.stderr
    # the group starts at the snapshot's end (the worker does not fetch the loaded log again to skip it), and a
    # second load on this app id is refused: its group has committed offsets now
    assert committed_offsets(settings) == {0: len(synthetic_lines)}
    assert "already committed" in cli(settings, "load", "--quiet", expect=2).stderr

    worker = worker_for(settings, tmp_path / "worker.log").start()
    assert worker.metric("coi_snapshot_loaded_offset", partition="0") == len(synthetic_lines)
    assert worker.metric("coi_recovered_events_total") == 0  # nothing replayed: the snapshot is at the log end
    reference = Engine()
    for number, line in enumerate(synthetic_lines):
        reference.apply(parse_event(line.encode()), offset=f"0:{number}")  # evidence cites the input offset
    served = top_scores(worker)
    expected = [json.loads(score.model_dump_json()) for score in reference.top_scores(limit=500)]
    assert served and content(served) == content(expected)
    assert worker.metric("coi_graph_relations") == reference.stats()["relations"]
    worker.stop()
    assert topic_counts(settings) == {settings.scores_topic: 0, settings.alerts_topic: 0,
                                      settings.dead_letter_topic: 0}

    exported = tmp_path / "state.jsonl"
    cli(settings, "snapshot", "export", "-o", str(exported))
    other_dir = tmp_path / "upgraded-snapshots"
    cli(settings, "snapshot", "import", str(exported), "--snapshot-dir", str(other_dir))
    upgraded = worker_for(settings.model_copy(update={"snapshot_dir": str(other_dir)}), tmp_path / "upgraded.log",
                          COI_SNAPSHOT_DIR=str(other_dir))
    upgraded.start()
    try:
        assert upgraded.metric("coi_snapshot_loaded_offset", partition="0") == len(synthetic_lines)
        assert upgraded.metric("coi_recovered_events_total") == 0
        assert content(top_scores(upgraded)) == content(served)
    finally:
        upgraded.stop()


def test_a_bulk_load_whose_file_does_not_reach_the_log_completely_writes_no_snapshot(pipeline, tmp_path,
                                                                                    synthetic_lines):
    """The file is published by a child process while the load reads the log: a line the producer cannot send
    stops the load before any snapshot or commit, with the line named."""
    from streams.recovery import committed_offsets

    settings, _ = pipeline
    oversized = json.dumps({**json.loads(synthetic_lines[0]), "event_id": "too-big",
                            "properties": {"summary": "x" * 4000}})
    path = tmp_path / "register.jsonl"
    path.write_text("\n".join([*synthetic_lines[:300], oversized, *synthetic_lines[300:600]]) + "\n")
    refused = cli(settings, "load", str(path), "--quiet", expect=1,
                  COI_MAX_MESSAGE_BYTES="4096")
    assert "line 301: refused" in refused.stderr
    assert "not loading: publish the file completely first" in refused.stderr
    assert snapshot_files(settings) == []
    assert committed_offsets(settings) == {}


def test_a_bulk_load_dead_letters_its_invalid_lines_and_the_worker_serves_what_an_event_by_event_one_does(
        pipeline, tmp_path, kafka_bootstrap):
    """A register with bad lines: each gets a dead letter with its reason (the worker starts after them and never
    sees them), every valid line is loaded, and the worker started from the load's snapshot serves the scores of a
    worker that processed the same file event by event (which dead-letters the same lines)."""
    settings, _ = pipeline
    seed = SEED_FILE.read_bytes().splitlines()
    wrong = json.loads(seed[5])
    wrong.update(event_id="bad-confidence", provenance={**wrong["provenance"], "confidence": 7})
    lines = [b"\xef\xbb\xbf" + seed[0], *(line + b"\r" for line in seed[1:5]), b"", b"{not json",
             json.dumps(wrong).encode(), b'{"relation_id": "x\xff"}', *seed[5:-1], seed[-1][:40]]
    path = tmp_path / "register.jsonl"
    path.write_bytes(b"\n".join(lines))  # CRLF line ends, a blank line, a last line cut short without its newline
    loaded = cli(settings, "load", str(path), "--quiet")
    # (the file's byte-order mark is the file's: its first event is published without it, and loads)
    assert "4 invalid events (encoding_error 1, invalid_confidence 1, malformed_json 2)" in loaded.stderr
    letters = read_topic(settings, settings.dead_letter_topic, lambda items: len(items) >= 4)
    assert sorted((value["offset"], value["reason"]) for _, value in letters) == [
        (5, "malformed_json"), (6, "invalid_confidence"), (7, "encoding_error"), (len(lines) - 2, "malformed_json")]

    reference_settings = pipeline_settings(kafka_bootstrap, tmp_path / "reference")
    ensure_topics(reference_settings)
    reference = WorkerProcess(reference_settings, tmp_path / "reference.log").start()
    try:
        produce_with_cli(reference_settings, path)
        wait_until(lambda: committed(reference_settings) >= len(lines) - 1, what="the reference worker")
        expected = top_scores(reference)
    finally:
        reference.stop()
    reference_letters = read_topic(reference_settings, reference_settings.dead_letter_topic,
                                   lambda items: len(items) >= 4)
    strip = lambda letters: sorted((v["offset"], v["reason"], v["message"], v["original_value"]) for _, v in letters)  # noqa
    assert strip(letters) == strip(reference_letters)

    worker = worker_for(settings, tmp_path / "worker.log").start()
    try:
        assert worker.metric("coi_recovered_events_total") == 0
        assert expected and content(top_scores(worker)) == content(expected)
    finally:
        worker.stop()


def test_a_bulk_load_beside_a_running_worker_of_the_app_id_is_refused_before_it_publishes(pipeline, tmp_path):
    """A worker on an empty log has committed nothing, yet it would apply what the load publishes event by event and
    publish its alerts, while the load's snapshot (the newest) and record made its next start continue the bulk
    load's alert history instead: the same alert id and sequence published twice with other content."""
    from streams.bulk import last_bulk_load
    from streams.recovery import log_end_offsets

    settings, start_worker = pipeline
    start_worker()
    path = tmp_path / "register.jsonl"
    path.write_text((REPO_ROOT / "examples" / "binance-wlfi.jsonl").read_text())
    refused = cli(settings, "load", str(path), "--quiet", expect=2)
    assert "is running" in refused.stderr
    assert log_end_offsets(settings) == {0: 0}  # refused before publishing: stop the worker and load
    assert last_bulk_load(settings) is None
    assert snapshot_files(settings) == []


def test_a_worker_that_lost_its_snapshots_after_a_bulk_load_continues_the_loads_alerts(pipeline, tmp_path):
    """A bulk load starts its alerts where its range ends (episode 0); replaying the range event by event would
    pass through the alert raised, resolved and raised again inside it, and continue under other ids. A worker whose
    snapshots are gone reproduces the recorded load (streams.bulk), so its next alert is the one the load's worker
    would publish."""
    from schemas import parse_event
    from scoring import AlertTracker
    from scoring.resolution import ResolvingEngine

    settings, _ = pipeline
    seed = [json.loads(line) for line in (REPO_ROOT / "examples" / "binance-wlfi.jsonl").read_text().splitlines()]
    owns = next(event for event in seed if event["relation_id"] == "cz-owns-binance")
    register = seed + [dict(owns, event_id="x-retract", op="retract", observed_at="2025-07-01T00:00:00Z"),
                       dict(owns, event_id="x-again", observed_at="2025-07-02T00:00:00Z")]
    live = [dict(owns, event_id="x-live-1", op="retract", observed_at="2025-08-01T00:00:00Z"),
            dict(owns, event_id="x-live-2", observed_at="2025-09-01T00:00:00Z")]

    def expected(bulk: bool) -> list[list[tuple]]:
        """The alerts each live event makes, after the register loaded in bulk or replayed event by event."""
        engine, events = ResolvingEngine(), [parse_event(json.dumps(event).encode()) for event in register]
        tracker = AlertTracker(engine.engine.config)
        if bulk:
            tracker.observe(engine.load([(event, f"0:{n}") for n, event in enumerate(events)]))
        else:
            for event in events:
                tracker.observe(engine.apply(event))
        return [[(a.alert_id, a.sequence, a.state.value) for a in tracker.observe(
            engine.apply(parse_event(json.dumps(event).encode())))] for event in live]

    continued = expected(bulk=True)
    assert continued != expected(bulk=False)  # the scenario tells the two apart
    path = tmp_path / "register.jsonl"
    path.write_text("\n".join(json.dumps(event) for event in register) + "\n")
    cli(settings, "load", str(path), "--quiet")

    def alerts() -> list[tuple]:  # in no particular order: the alerts topic has several partitions
        return sorted((a["alert_id"], a["sequence"], a["state"])
                      for _, a in read_topic(settings, settings.alerts_topic, lambda items: True, timeout=5))

    def publish(event: dict, name: str) -> None:
        live_path = tmp_path / name
        live_path.write_text(json.dumps(event) + "\n")
        produce_with_cli(settings, live_path)

    worker = worker_for(settings, tmp_path / "worker.log").start()
    publish(live[0], "live-1.jsonl")
    wait_until(lambda: committed(settings) >= len(register) + 1, what="the first live event committed")
    wait_until(lambda: len(alerts()) >= len(continued[0]), what="the first live event's alerts")
    worker.stop()
    assert alerts() == sorted(continued[0])
    for snapshot in snapshot_files(settings):
        snapshot.unlink()  # a new machine without the volume, or every snapshot unusable

    worker.start()
    try:
        assert worker.metric("coi_snapshot_loaded_offset", partition="0") == -1
        assert worker.metric("coi_recovered_events_total") == len(register) + 1
        publish(live[1], "live-2.jsonl")
        wait_until(lambda: committed(settings) >= len(register) + 2, what="the second live event committed")
        wait_until(lambda: len(alerts()) >= len(continued[0]) + len(continued[1]), what="its alerts")
    finally:
        worker.stop()
    assert alerts() == sorted(continued[0] + continued[1])
    published = read_topic(settings, settings.alerts_topic, lambda items: True, timeout=5)
    assert_no_conflicting_alerts(published)
    assert "reproduced the bulk load" in (tmp_path / "worker.log").read_text(errors="replace")

    # an auditor's replay of the whole topic starts as the worker did, and yields exactly what it published
    replayed = cli(settings, "replay", "--quiet")
    assert "reproduced the bulk load" in replayed.stderr
    replayed_alerts = [json.loads(line)["value"] for line in replayed.stdout.splitlines()
                       if json.loads(line)["role"] == "alerts"]
    by_id = lambda alerts: {(a["alert_id"], a["sequence"]): a for a in alerts}  # noqa: E731
    assert by_id(replayed_alerts) == by_id(alert for _, alert in published)


def test_a_bulk_load_of_a_pipe_that_is_no_events_publishes_none_of_it(pipeline, tmp_path):
    """`coi-risk load <(zcat register.csv.gz)`: the checks before anything is published cannot look into a pipe
    without taking its lines, and the publishing process read it unchecked: its CSV rows reached the input topic,
    which keeps them for ever, and every replay dead-lettered them again."""
    from streams.bulk import last_bulk_load
    from streams.recovery import log_end_offsets

    settings, _ = pipeline
    fifo = tmp_path / "register.csv"
    os.mkfifo(fifo)
    writer = subprocess.Popen(["sh", "-c", f"cat > '{fifo}'"], stdin=subprocess.PIPE)
    try:
        writer.stdin.write(b"lei,name,home_member_state\n529900T8BM49AURSDO55,Example CASP,DE\n")
        writer.stdin.close()
        refused = cli(settings, "load", str(fifo), "--quiet", expect=2)
    finally:
        writer.wait(timeout=30)
    assert f"coi-risk load: {fifo} is not relationship events (malformed_json on line 1)" in refused.stderr
    assert "publish the file completely first" not in refused.stderr  # nothing of it was published
    assert set(log_end_offsets(settings).values()) <= {0}
    assert last_bulk_load(settings) is None and snapshot_files(settings) == []
