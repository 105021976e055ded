"""`coi-risk topics create|describe` against the real broker: the topics the worker needs, with their configs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from streams.testing import REPO_ROOT, pipeline_settings
from streams.topics import describe_topics, ensure_topics

pytestmark = pytest.mark.kafka


def test_topics_are_created_and_described_with_what_every_output_needs(kafka_bootstrap, tmp_path):
    """kafka-python 3 answers a topic description under `name`: `topics describe` failed with a KeyError on
    every broker. The output topics take the largest output the worker lets through (`max_message_bytes` and the
    record batch's framing), on a broker whose own default is lower."""
    settings = pipeline_settings(kafka_bootstrap, tmp_path).model_copy(update={"max_message_bytes": 2_000_000})
    assert set(ensure_topics(settings).values()) == {"created"}
    deadline = time.monotonic() + 30  # a topic just created reaches the broker's metadata a moment later
    while True:
        described = {topic["name"]: topic for topic in describe_topics(settings)}
        if all(topic["exists"] for topic in described.values()) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert described[settings.events_topic]["partitions"] == settings.events_partitions
    assert described[settings.events_topic]["config"]["message.timestamp.type"] == "LogAppendTime"
    for topic in (settings.scores_topic, settings.alerts_topic, settings.dead_letter_topic):
        assert described[topic]["exists"]
        assert int(described[topic]["config"]["max.message.bytes"]) >= 2_000_000 + 100, topic

    env = {**os.environ, "COI_RISK_CONFIG": "", "COI_EVENTS_TOPIC": settings.events_topic,
           "COI_SCORES_TOPIC": settings.scores_topic, "COI_ALERTS_TOPIC": settings.alerts_topic,
           "COI_DEAD_LETTER_TOPIC": settings.dead_letter_topic, "COI_BULK_LOADS_TOPIC": settings.bulk_loads_topic}
    result = subprocess.run([sys.executable, "-m", "streams.cli", "topics", "describe", "--json",
                             "--bootstrap-servers", kafka_bootstrap], cwd=REPO_ROOT, capture_output=True,
                            text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    by_name = {topic["name"]: topic for topic in json.loads(result.stdout)}
    assert by_name[settings.scores_topic]["config"]["cleanup.policy"] == "compact"
    assert by_name[settings.alerts_topic]["partitions"] == settings.output_partitions
