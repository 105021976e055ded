"""Every dashboard query and recording rule, run by a real Prometheus against a real worker's metrics.

tests/deploy/test_grafana_dashboard.py checks metric *names* against the worker's registry; promtool's rule
tests check the rules on synthetic series. Neither proves that the queries return anything on what the worker
actually exposes (label sets, histogram buckets, counters that only appear once incremented). Here a worker on
fresh topics processes the seed scenario plus bad events, Debian's Prometheus scrapes it every second with the
repository's rule files loaded, and each panel query (with Grafana's variables substituted), each recording
rule's expression and each recorded series must return at least one series that is not only NaN. Without Debian's
prometheus package the test fails (never skips).
"""

from __future__ import annotations

import importlib.util
import json
import math
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import yaml

from tests.integration.conftest import SEED_FILE, free_port, produce_with_cli, read_topic
from tests.integration.conftest import pipeline  # noqa: F401 - the fixture, shared with the integration tests

pytestmark = [pytest.mark.kafka, pytest.mark.prometheus]

REPO = Path(__file__).resolve().parents[2]
RULE_FILES = sorted((REPO / "deploy" / "prometheus" / "rules").glob("*.yml"))
GENERATOR = REPO / "deploy" / "grafana" / "dashboard.py"
WORKER_JOB = "coi-risk-worker"  # the job name the rules and dashboard select on
SERVER_START_TIMEOUT_S = 30.0
# Scrapes (1s apart) inside the 1m rate window before querying: enough for rate()/increase() and for the
# recording rules, evaluated every second, to have run on real data.
MIN_SAMPLES = 8
# Scrapes after the last event was processed, so every series born during processing has at least this many
# samples (rate() needs two).
LATE_SERIES_SAMPLES = 3
SCRAPE_WAIT_TIMEOUT_S = 40.0


def _require(binary: str) -> str:
    path = shutil.which(binary)
    if path is None:
        pytest.fail(f"{binary} not found on PATH: install Debian's prometheus package (apt-get install prometheus)",
                    pytrace=False)
    return path


def _dashboard_module():
    """deploy/grafana/dashboard.py, under the module name the other deploy tests load it with."""
    name = "coi_grafana_dashboard"
    if name not in sys.modules:
        try:
            import grafana_foundation_sdk  # noqa: F401
        except ImportError:
            pytest.fail("the dashboard generator needs grafana-foundation-sdk (pip install -e '.[test]')",
                        pytrace=False)
        spec = importlib.util.spec_from_file_location(name, GENERATOR)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses resolve their module by name
        spec.loader.exec_module(module)
    return sys.modules[name]


def _recording_rules() -> list[dict]:
    rules = []
    for path in RULE_FILES:
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]:
            rules.extend(rule for rule in group["rules"] if "record" in rule)
    return rules


def _bad_events() -> list[str]:
    """Lines the worker must dead-letter: not JSON at all, and a valid event with an unknown relation type."""
    event = json.loads(SEED_FILE.read_text().splitlines()[0])
    event.update(event_id="bad-relation-type", relation_type="bribes")
    return ['{"schema_version": "1.0", "event_id": ', json.dumps(event)]


class Prometheus:
    def __init__(self, binary: str, workdir: Path, target: str):
        self.binary = binary
        self.workdir = workdir
        self.target = target
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "prometheus.log"
        self.config_path = workdir / "prometheus.yml"
        self.process: subprocess.Popen | None = None

    def write_config(self) -> Path:
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "1s"},
            "rule_files": [str(path) for path in RULE_FILES],
            "scrape_configs": [{"job_name": WORKER_JOB, "metrics_path": "/metrics",
                                "static_configs": [{"targets": [self.target]}]}],
        }
        self.config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        return self.config_path

    def start(self) -> Prometheus:
        self.workdir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [self.binary, f"--config.file={self.config_path}", f"--storage.tsdb.path={self.workdir / 'data'}",
                 f"--web.listen-address=127.0.0.1:{self.port}"],
                stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir)
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"prometheus exited with {self.process.returncode}:\n{self.log_tail()}", pytrace=False)
            try:
                with urllib.request.urlopen(f"{self.base_url}/-/ready", timeout=2) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        pytest.fail(f"prometheus not ready within {SERVER_START_TIMEOUT_S}s:\n{self.log_tail()}", pytrace=False)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def query(self, expr: str) -> tuple[list[dict] | None, str | None]:
        """(result vector, None) or (None, error message) for an instant query at the current time."""
        url = f"{self.base_url}/api/v1/query?{urllib.parse.urlencode({'query': expr})}"
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                body = json.load(response)
        except urllib.error.HTTPError as error:  # Prometheus answers bad queries with 400/422 and a JSON error
            try:
                body = json.load(error)
            except ValueError:
                return None, f"HTTP {error.code}"
        if body.get("status") != "success":
            return None, f"{body.get('errorType')}: {body.get('error')}"
        if body["data"]["resultType"] != "vector":
            return None, f"unexpected result type {body['data']['resultType']}"
        return body["data"]["result"], None

    def value(self, expr: str) -> float | None:
        result, error = self.query(expr)
        if error:
            pytest.fail(f"{expr}: {error}", pytrace=False)
        return float(result[0]["value"][1]) if result else None

    def wait_until(self, expr: str, predicate, what: str, timeout: float = SCRAPE_WAIT_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"prometheus exited with {self.process.returncode}:\n{self.log_tail()}", pytrace=False)
            last = self.value(expr)
            if last is not None and predicate(last):
                return
            time.sleep(0.5)
        targets = self._targets()
        pytest.fail(f"{what}: `{expr}` is {last} after {timeout}s; targets: {targets}\n{self.log_tail()}",
                    pytrace=False)

    def _targets(self) -> list:
        try:
            with urllib.request.urlopen(f"{self.base_url}/api/v1/targets", timeout=5) as response:
                return [(t["scrapeUrl"], t["health"], t["lastError"])
                        for t in json.load(response)["data"]["activeTargets"]]
        except OSError as error:
            return [str(error)]


def _settle(worker, prometheus: Prometheus, expected_consumed: int) -> None:
    """Waits until the worker has consumed `expected_consumed` events and Prometheus has scraped that state
    LATE_SERIES_SAMPLES times, so series born during processing have enough samples for rate()."""
    deadline = time.monotonic() + 30
    while worker.metric("coi_events_consumed_total") < expected_consumed and time.monotonic() < deadline:
        time.sleep(0.3)
    assert worker.metric("coi_events_consumed_total") == expected_consumed, worker.log_tail()
    processed_at = time.time()
    prometheus.wait_until(f'sum(coi_events_consumed_total{{job="{WORKER_JOB}"}})',
                          lambda v: v == expected_consumed, "Prometheus never saw all events consumed")
    prometheus.wait_until(f'max(timestamp(up{{job="{WORKER_JOB}"}}))',
                          lambda v: v >= processed_at + LATE_SERIES_SAMPLES, "no scrapes after processing")


def test_every_panel_query_and_recording_rule_returns_series_on_live_worker_data(pipeline, tmp_path):
    prometheus_binary = _require("prometheus")
    promtool = _require("promtool")
    panel_queries = _dashboard_module().panel_queries(for_prometheus=True)
    rules = _recording_rules()
    assert panel_queries and rules

    settings, start_worker = pipeline
    worker = start_worker(COI_SNAPSHOT_EVERY_EVENTS="1")  # a snapshot after each batch: the snapshot panels' data
    # Two batches, each with the seed's scores and bad events: labelled counters and histograms only appear
    # when first incremented, so the first batch creates them and the second gives rate() an increase to see.
    # (With one burst, every labelled rate is 0 and the end-to-end quantiles are NaN, which Grafana shows as
    # no data.)
    seed, bad = SEED_FILE.read_text().splitlines(), _bad_events()
    batches = [seed[:15] + bad, seed[15:] + bad]
    files = []
    for index, lines in enumerate(batches):
        files.append(tmp_path / f"batch-{index}.jsonl")
        files[-1].write_text("\n".join(lines) + "\n")

    prometheus = Prometheus(prometheus_binary, tmp_path / "prometheus", target=f"127.0.0.1:{settings.web_port}")
    prometheus.workdir.mkdir()
    checked = subprocess.run([promtool, "check", "config", str(prometheus.write_config())], capture_output=True,
                             text=True, timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    try:
        # Scraping starts before any event, so even the first increments are seen.
        prometheus.start()
        prometheus.wait_until(f'up{{job="{WORKER_JOB}"}}', lambda v: v == 1, "worker never scraped successfully")

        produce_with_cli(settings, files[0])
        read_topic(settings, settings.scores_topic, lambda items: len(items) > 0)
        _settle(worker, prometheus, len(batches[0]))

        produce_with_cli(settings, files[1])
        read_topic(settings, settings.alerts_topic, lambda items: len(items) > 0)
        read_topic(settings, settings.dead_letter_topic, lambda items: len(items) >= 2 * len(bad))
        _settle(worker, prometheus, len(batches[0]) + len(batches[1]))
        prometheus.wait_until(f'count_over_time(up{{job="{WORKER_JOB}"}}[1m])',
                              lambda v: v >= MIN_SAMPLES, "too few scrapes")

        queries = [(f"panel {title!r}", expr) for title, expr in panel_queries]
        queries += [(f"rule {rule['record']}", rule["expr"]) for rule in rules]
        # The recorded series themselves: the rule manager evaluated each rule on the scraped data.
        queries += [(f"recorded series {rule['record']}", rule["record"]) for rule in rules]
        failures = []
        for name, expr in queries:
            result, error = prometheus.query(expr)
            problem = None
            if error:
                problem = f"error: {error}"
            elif not result:
                problem = "no series"
            elif all(math.isnan(float(series["value"][1])) for series in result):
                problem = f"only NaN (Grafana draws nothing): {[series['metric'] for series in result]}"
            if problem:
                failures.append(f"{name}: {' '.join(expr.split())}\n    {problem}")
        assert not failures, (f"{len(failures)} of {len(queries)} queries failed on live worker data:\n"
                              + "\n".join(failures))
    finally:
        prometheus.stop()
