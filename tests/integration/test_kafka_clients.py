"""Kafka client semantics of the CLI's producers and readers, on the real broker."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType

from streams.testing import REPO_ROOT, pipeline_settings
from streams.topics import ensure_topics, topic_specs
from tests.integration.conftest import SEED_FILE

pytestmark = pytest.mark.kafka


def _cli(settings, *arguments: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COI_RISK_CONFIG": "", "COI_EVENTS_TOPIC": settings.events_topic,
           "COI_SCORES_TOPIC": settings.scores_topic, "COI_ALERTS_TOPIC": settings.alerts_topic,
           "COI_DEAD_LETTER_TOPIC": settings.dead_letter_topic, "COI_BULK_LOADS_TOPIC": settings.bulk_loads_topic,
           "COI_APP_ID": settings.app_id}
    return subprocess.run([sys.executable, "-m", "streams.cli", *arguments, "--bootstrap-servers",
                           settings.bootstrap_servers], cwd=REPO_ROOT, capture_output=True, text=True, timeout=180,
                          env=env)


def test_produce_before_the_worker_creates_the_input_topic_with_its_configs(kafka_bootstrap, tmp_path):
    """The natural first run: `coi-risk produce` before the worker (or `topics create`). The input topic must not
    be left to the broker's auto-creation (7-day retention, CreateTime): the worker's `ensure_topics` then finds it
    existing and never fixes it, and the log the worker rebuilds from loses its events after a week."""
    settings = pipeline_settings(kafka_bootstrap, tmp_path)
    result = _cli(settings, "produce", str(SEED_FILE), "--quiet")
    assert result.returncode == 0, result.stderr
    assert ensure_topics(settings)[settings.events_topic] == "exists"  # what the worker's start then does
    wanted = next(spec for spec in topic_specs(settings) if spec.role == "events")
    assert effective_configs(settings, settings.events_topic, wanted.config) == wanted.config


def effective_configs(settings, topic: str, keys) -> dict[str, str]:
    """The topic's effective values of `keys` (broker defaults included, unlike `describe_topics`)."""
    admin = KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    try:
        found = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)], config_filter="all")
    finally:
        admin.close()
    entries = next(iter(found.values()))[topic]
    return {key: str(entries[key]["value"] if isinstance(entries[key], dict) else entries[key]) for key in keys}


def test_tail_before_the_worker_does_not_create_the_output_topic_with_broker_defaults(kafka_bootstrap, tmp_path):
    """`coi-risk tail scores` started before the worker: subscribing must not auto-create the scores topic (the
    broker's defaults: cleanup.policy=delete, 7 days, 1 partition), which the worker's `ensure_topics` then finds
    existing and never compacts."""
    settings = pipeline_settings(kafka_bootstrap, tmp_path)
    result = _cli(settings, "tail", "scores", "--idle-timeout", "3")
    # it says so, at once, and fails when the topic never appears (before: nothing printed, exit 0)
    assert result.returncode == 1 and result.stdout == "", result.stderr
    assert result.stderr.splitlines() == [
        f"coi-risk: following {settings.scores_topic} from now on (those already there: --from-beginning)",
        f"coi-risk: topic {settings.scores_topic} does not exist (yet): waiting for a worker to create it (another "
        "topic: --topic, or the setting; the demo's are demo.coi-*)",
        f"coi-risk: topic {settings.scores_topic} does not exist: no worker of these settings has created it "
        "(nothing to follow)"]
    assert ensure_topics(settings)[settings.scores_topic] == "created"  # the worker's start creates it, as specified
    other = _cli(settings, "tail", "alerts", "--topic", f"{settings.alerts_topic}-elsewhere", "--idle-timeout", "2")
    assert other.returncode == 1 and f"topic {settings.alerts_topic}-elsewhere does not exist:" in other.stderr
    # an existing topic without messages: nothing to print, and no failure
    quiet = _cli(settings, "tail", "scores", "--idle-timeout", "2", "--from-beginning")
    assert quiet.returncode == 0 and quiet.stdout == "" and quiet.stderr == "", quiet.stderr
    wanted = next(spec for spec in topic_specs(settings) if spec.role == "scores")
    assert effective_configs(settings, settings.scores_topic, wanted.config) == wanted.config


def test_ctrl_c_during_produce_reports_what_was_sent_and_where_it_stopped(kafka_bootstrap, tmp_path):
    """Ctrl-C in the middle of `coi-risk produce -`: the lines handed to the producer are still checked, and the
    summary says how many reached the topic and from which line on nothing was sent (before: exit 130 and not a
    word, so nobody could tell what to send again)."""
    import signal
    import time

    from kafka import KafkaConsumer, TopicPartition

    settings = pipeline_settings(kafka_bootstrap, tmp_path)
    seed = SEED_FILE.read_bytes().splitlines()
    env = {**os.environ, "COI_RISK_CONFIG": "", "COI_EVENTS_TOPIC": settings.events_topic}
    # The command as a user runs it in the foreground, whose Ctrl-C it receives: a test run started as a background
    # job of a non-interactive shell (`.ci/run ... &`) ignores SIGINT, every child inherits that, and Python leaves
    # an ignored SIGINT ignored (as it should: Ctrl-C at a terminal must not stop background jobs). That made this
    # test hang in such a run; the child gets SIGINT's default back before it starts. -X faulthandler: should the
    # command hang anyway, SIGABRT below makes it print every thread's stack.
    process = subprocess.Popen([sys.executable, "-X", "faulthandler", "-m", "streams.cli", "produce", "-", "--quiet",
                                "--bootstrap-servers", settings.bootstrap_servers], cwd=REPO_ROOT, env=env,
                               stdin=subprocess.PIPE, stderr=subprocess.PIPE,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    process.stdin.write(b"\n".join(seed) + b"\n")
    process.stdin.flush()
    consumer = KafkaConsumer(bootstrap_servers=settings.bootstrap_servers)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # every line written so far is on the topic; the command waits for more
            partitions = consumer.partitions_for_topic(settings.events_topic)
            if partitions and sum(consumer.end_offsets(
                    [TopicPartition(settings.events_topic, p) for p in partitions]).values()) == len(seed):
                break
            time.sleep(0.2)
    finally:
        consumer.close()
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=60)  # standard input still open: the interrupt, not its end, stops the command
    except subprocess.TimeoutExpired:  # fail with where it was
        process.send_signal(signal.SIGABRT)
        _, stderr = process.communicate(timeout=30)
        pytest.fail(f"produce did not stop within 60 s of Ctrl-C; its threads:\n{stderr.decode()[-20000:]}")
    stderr = process.stderr.read().decode()
    process.stdin.close()
    assert process.returncode == 130, stderr
    assert f"sent {len(seed)} events" in stderr
    assert f"line {len(seed) + 1}: interrupted (Ctrl-C) before this line" in stderr
