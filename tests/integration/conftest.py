"""Fixtures for tests that run the real worker (a subprocess, as in production) against the real broker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from kafka import KafkaConsumer

from streams.config import Settings
from streams.testing import REPO_ROOT, WorkerProcess, free_port, http_get, pipeline_settings  # noqa: F401
from streams.topics import ensure_topics

SEED_FILE = REPO_ROOT / "examples" / "binance-wlfi.jsonl"


@pytest.fixture
def pipeline(kafka_bootstrap, tmp_path):
    """Fresh topics and a worker factory; every worker started here is stopped at the end."""
    settings = pipeline_settings(kafka_bootstrap, tmp_path)
    ensure_topics(settings)
    workers: list[WorkerProcess] = []

    def start_worker(**env: str) -> WorkerProcess:
        worker = WorkerProcess(settings, tmp_path / "worker.log", extra_env=env)
        workers.append(worker)
        return worker.start()

    yield settings, start_worker
    for worker in workers:
        worker.stop()


def produce_with_cli(settings: Settings, path: Path) -> str:
    """Publishes a file with the real `coi-risk produce` command; returns its stderr summary."""
    result = subprocess.run(
        [sys.executable, "-m", "streams.cli", "produce", str(path), "--quiet",
         "--bootstrap-servers", settings.bootstrap_servers, "--topic", settings.events_topic],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, env={**os.environ, "COI_RISK_CONFIG": ""})
    assert result.returncode == 0, result.stderr
    return result.stderr


def read_topic(settings: Settings, topic: str, until, timeout: float = 60.0) -> list[tuple[bytes, dict]]:
    """Reads (key, JSON value) from the start of `topic` with an independent consumer until `until(items)`."""
    consumer = KafkaConsumer(topic, group_id=None, auto_offset_reset="earliest", enable_auto_commit=False,
                             bootstrap_servers=settings.bootstrap_servers, consumer_timeout_ms=1000)
    items: list[tuple[bytes, dict]] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            for message in consumer:
                items.append((message.key, json.loads(message.value)))
            if until(items):
                return items
    finally:
        consumer.close()
    pytest.fail(f"condition not met on {topic} within {timeout}s; got {len(items)} messages", pytrace=False)
