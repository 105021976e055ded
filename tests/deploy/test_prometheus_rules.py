"""deploy/prometheus: configuration, recording and alerting rules, checked by Prometheus's own tools.

promtool validates the config and rules and runs the rule unit tests in deploy/prometheus/tests/; a real
Prometheus server is started once to prove it loads the configuration and every rule group. Without Debian's
prometheus package these tests fail (they are never skipped): a skipped rules test would hide exactly the
breakage it exists to catch.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
PROMETHEUS_DIR = REPO / "deploy" / "prometheus"
CONFIGS = [PROMETHEUS_DIR / "prometheus.yml", PROMETHEUS_DIR / "prometheus.local.yml"]
RULE_FILES = [PROMETHEUS_DIR / "rules" / "recording.yml", PROMETHEUS_DIR / "rules" / "alerts.yml"]
RULE_TESTS = sorted((PROMETHEUS_DIR / "tests").glob("*.yml"))

WORKER_JOB = "coi-risk-worker"
EXPECTED_ALERTS = {
    "CoiWorkerDown",
    "CoiWorkerNotReady",
    "CoiConsumerLagGrowing",
    "CoiWorkerStalled",
    "CoiWorkerRestarting",
    "CoiDeadLetterRateHigh",
    "CoiScoringLatencyHigh",
    "CoiCriticalConflictRaised",
    "CoiSnapshotWriterHasNoRoom",
    "CoiHubNodeEntered",
    "CoiWorkerDroppedEvents",
    "CoiSnapshotsFailing",
}
SERVER_START_TIMEOUT_S = 30.0


def _require(binary: str) -> str:
    path = shutil.which(binary)
    if path is None:
        pytest.fail(f"{binary} not found on PATH: install Debian's prometheus package "
                    f"(apt-get install prometheus)", pytrace=False)
    return path


@pytest.fixture(scope="module")
def promtool() -> str:
    return _require("promtool")


def _run(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=120, cwd=REPO)


def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _rules(path: Path) -> list[dict]:
    return [rule for group in _load(path)["groups"] for rule in group["rules"]]


def _alert_rules() -> dict[str, dict]:
    return {rule["alert"]: rule for rule in _rules(PROMETHEUS_DIR / "rules" / "alerts.yml")}


@pytest.mark.prometheus
@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: p.name)
def test_promtool_accepts_config(promtool: str, config: Path) -> None:
    result = _run(promtool, "check", "config", config)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.prometheus
def test_promtool_accepts_rules(promtool: str) -> None:
    result = _run(promtool, "check", "rules", *RULE_FILES)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.prometheus
@pytest.mark.parametrize("rule_test", RULE_TESTS, ids=lambda p: p.name)
def test_promtool_rule_unit_tests_pass(promtool: str, rule_test: Path) -> None:
    result = _run(promtool, "test", "rules", rule_test)
    assert result.returncode == 0, result.stdout + result.stderr


def test_rule_unit_test_files_exist() -> None:
    assert {p.name for p in RULE_TESTS} >= {"recording_test.yml", "alerts_test.yml"}


def test_configs_scrape_the_worker_job_and_load_both_rule_files() -> None:
    for config_path in CONFIGS:
        config = _load(config_path)
        jobs = {job["job_name"]: job for job in config["scrape_configs"]}
        assert WORKER_JOB in jobs, config_path
        targets = [t for sc in jobs[WORKER_JOB]["static_configs"] for t in sc["targets"]]
        assert [t.rsplit(":", 1)[1] for t in targets] == ["6066"], (config_path, targets)
        assert sorted((config_path.parent / f).resolve() for f in config["rule_files"]) == sorted(RULE_FILES)
    assert _load(CONFIGS[0])["scrape_configs"][0]["static_configs"][0]["targets"] == ["worker:6066"]
    assert _load(CONFIGS[1])["scrape_configs"][0]["static_configs"][0]["targets"] == ["127.0.0.1:6066"]


def test_every_expected_alert_is_defined_with_severity_and_runbook() -> None:
    alerts = _alert_rules()
    assert set(alerts) == EXPECTED_ALERTS
    for name, rule in alerts.items():
        assert rule["labels"].get("severity") in {"warning", "critical"}, name
        annotations = rule.get("annotations", {})
        assert annotations.get("summary", "").strip(), f"{name} has no summary"
        assert "Runbook:" in annotations.get("description", ""), f"{name} description is not a runbook"


def test_worker_down_alert_selects_the_scrape_job() -> None:
    assert f'job="{WORKER_JOB}"' in _alert_rules()["CoiWorkerDown"]["expr"]


def test_every_alert_has_a_firing_case_and_a_quiet_case() -> None:
    """An alert only tested firing could be `vector(1)`; one only tested quiet could be `vector(0) > 1`."""
    firing: set[str] = set()
    quiet: set[str] = set()
    for test_file in RULE_TESTS:
        for case in _load(test_file).get("tests", []):
            for alert_test in case.get("alert_rule_test", []):
                (firing if alert_test.get("exp_alerts") else quiet).add(alert_test["alertname"])
    assert firing >= EXPECTED_ALERTS, f"never seen firing: {EXPECTED_ALERTS - firing}"
    assert quiet >= EXPECTED_ALERTS, f"never seen quiet: {EXPECTED_ALERTS - quiet}"


def test_every_recording_rule_has_an_expected_value_test() -> None:
    recorded = {rule["record"] for rule in _rules(PROMETHEUS_DIR / "rules" / "recording.yml")}
    tested = {
        expr_test["expr"].strip()
        for test_file in RULE_TESTS
        for case in _load(test_file).get("tests", [])
        for expr_test in case.get("promql_expr_test", [])
        if expr_test.get("exp_samples")
    }
    assert recorded <= tested, f"recording rules without a promql_expr_test: {recorded - tested}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


@pytest.mark.prometheus
def test_prometheus_server_loads_config_and_all_rule_groups(tmp_path: Path) -> None:
    binary = _require("prometheus")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "prometheus.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [binary, f"--config.file={CONFIGS[0]}", f"--storage.tsdb.path={tmp_path / 'data'}",
             f"--web.listen-address=127.0.0.1:{port}"],
            stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path,
        )
        try:
            deadline = time.monotonic() + SERVER_START_TIMEOUT_S
            while True:
                if server.poll() is not None:
                    pytest.fail(f"prometheus exited with {server.returncode}:\n{log_path.read_text()}")
                try:
                    with urllib.request.urlopen(f"{base}/-/ready", timeout=2) as response:
                        if response.status == 200:
                            break
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"prometheus not ready after {SERVER_START_TIMEOUT_S}s:\n{log_path.read_text()}")
                time.sleep(0.2)

            groups = _get_json(f"{base}/api/v1/rules")["data"]["groups"]
            loaded = {group["name"]: group["rules"] for group in groups}
            assert set(loaded) == {"coi-risk-recording", "coi-risk-alerts"}
            expected_counts = {"coi-risk-recording": len(_rules(RULE_FILES[0])),
                               "coi-risk-alerts": len(_rules(RULE_FILES[1]))}
            assert {name: len(rules) for name, rules in loaded.items()} == expected_counts
            assert {r["name"] for r in loaded["coi-risk-alerts"]} == EXPECTED_ALERTS

            # Service discovery hands targets to the scrape manager a few seconds after start.
            targets: list[dict] = []
            targets_deadline = time.monotonic() + SERVER_START_TIMEOUT_S
            while not targets and time.monotonic() < targets_deadline:
                targets = _get_json(f"{base}/api/v1/targets")["data"]["activeTargets"]
                time.sleep(0.5)
            assert [(t["labels"]["job"], t["scrapeUrl"]) for t in targets] == [
                (WORKER_JOB, "http://worker:6066/metrics")]
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
