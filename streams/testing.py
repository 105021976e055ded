"""Running the real worker as a subprocess, as in production, for integration tests and benchmarks.

Not used by the worker itself: it is the harness that `tests/integration` and `bench/pipeline_throughput.py`
share, so a benchmark measures exactly the process the tests check.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from streams.config import Settings, load_settings

REPO_ROOT = Path(__file__).resolve().parents[1]
READY_TIMEOUT_S = 90.0


class WorkerFailed(AssertionError):
    """The worker exited or never became ready; the message carries the tail of its log."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@dataclass
class WorkerProcess:
    settings: Settings
    log_path: Path
    process: subprocess.Popen | None = None
    starts: list[float] = field(default_factory=list)
    extra_env: dict[str, str] = field(default_factory=dict)  # e.g. PYTHONHASHSEED for determinism checks

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.settings.web_port}"

    def environment(self) -> dict[str, str]:
        return {**self.settings.child_environment(os.environ), **self.extra_env}

    def command(self) -> list[str]:
        """The worker's argv: no settings in it (they travel in the environment, secrets included)."""
        return [sys.executable, "-m", "streams.cli", "worker", "--loglevel", "info"]

    def start(self, wait_ready: bool = True) -> WorkerProcess:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(self.command(), cwd=REPO_ROOT, env=self.environment(), stdout=log,
                                        stderr=subprocess.STDOUT)
        self.starts.append(time.monotonic())
        if wait_ready:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = READY_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise WorkerFailed(f"worker exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                status, _ = http_get(f"{self.base_url}/ready", timeout=2)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise WorkerFailed(f"worker not ready within {timeout}s:\n{self.log_tail()}")

    def stop(self, hard: bool = False, timeout: float = 30.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGKILL if hard else signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def json(self, path: str):
        status, body = http_get(self.base_url + path)
        assert status == 200, (status, body[:500])
        return json.loads(body)

    def metric(self, name: str, **labels: str) -> float:
        """A sample from /metrics scraped over HTTP (0.0 when the series does not exist yet)."""
        from prometheus_client.parser import text_string_to_metric_families

        _, body = http_get(self.base_url + "/metrics")
        for family in text_string_to_metric_families(body.decode()):
            for sample in family.samples:
                if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                    return sample.value
        return 0.0


def pipeline_settings(bootstrap: str, tmp_path: Path, prefix: str | None = None) -> Settings:
    prefix = prefix or f"t{uuid.uuid4().hex[:10]}"
    return load_settings(environ={}, bootstrap_servers=bootstrap, app_id=f"{prefix}-app",
                         events_topic=f"{prefix}.events", scores_topic=f"{prefix}.scores",
                         alerts_topic=f"{prefix}.alerts", dead_letter_topic=f"{prefix}.dead-letters",
                         bulk_loads_topic=f"{prefix}.bulk-loads",
                         web_port=free_port(), data_dir=str(tmp_path / "worker-data"), lag_interval_seconds=1.0)
