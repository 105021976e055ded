"""The alert rules on the series the worker's own metrics produce, run by promtool.

deploy/prometheus/tests/*.yml feed the rules hand-written series; a bucket boundary or a series the worker never
exports passes there and misleads in production. Here the input series are scraped, minute by minute of promtool's
clock, from a real `PipelineMetrics` registry (declared as `streams.app.Pipeline` declares it) while the test drives
it the way the worker does, and the verdict is read from Prometheus's own ALERTS series. Without Debian's
prometheus package these tests fail (never skip), as in test_prometheus_rules.py.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry

from streams.metrics import PipelineMetrics
from tests.deploy.test_prometheus_rules import RULE_FILES, WORKER_JOB, _require, _run

INSTANCE = "worker-a:6066"
OUTPUT_TOPICS = ["coi-scores", "coi-alerts", "coi-dead-letters"]


def worker_metrics(started_minute: int = 0) -> PipelineMetrics:
    """A worker's metrics as `Pipeline.__init__` sets them up, started at `started_minute` of promtool's clock
    (which starts at the Unix epoch)."""
    metrics = PipelineMetrics(CollectorRegistry())
    metrics.declare_series(OUTPUT_TOPICS)
    metrics.worker_start_time.set(started_minute * 60)
    return metrics


class Timeline:
    """What Prometheus stored, one scrape a minute: a scrape of a registry, a failed scrape (a staleness marker,
    as Prometheus writes one for every series of a target it could not scrape), or nothing (Prometheus down)."""

    def __init__(self) -> None:
        self.scrapes: list[dict[str, float] | str] = []

    def scrape(self, metrics: PipelineMetrics) -> None:
        found = {}
        for family in metrics.registry.collect():
            for sample in family.samples:
                if sample.name.endswith("_created") or not math.isfinite(sample.value):
                    continue
                labels = {"job": WORKER_JOB, "instance": INSTANCE, **sample.labels}
                selector = ", ".join(f'{name}="{value}"' for name, value in labels.items())
                found[f"{sample.name}{{{selector}}}"] = sample.value
        self.scrapes.append(found)

    def failed_scrape(self) -> None:
        self.scrapes.append("stale")

    def nothing(self) -> None:
        self.scrapes.append("_")

    def input_series(self) -> list[dict]:
        names = sorted({name for scrape in self.scrapes if isinstance(scrape, dict) for name in scrape})
        series = []
        for name in names:
            values = []
            for scrape in self.scrapes:
                if isinstance(scrape, str):
                    values.append(scrape)
                else:
                    values.append(repr(scrape[name]) if name in scrape else "_")
            series.append({"series": name, "values": " ".join(values)})
        return series


def firing(timeline: Timeline, alert: str, minutes: list[int], tmp_path: Path) -> dict[int, bool]:
    """Whether `alert` is firing at each of `minutes`, evaluated by promtool on the timeline's series."""
    promtool = _require("promtool")
    results = {}
    for minute in minutes:
        for expect in (True, False):
            sample = [{"labels": "{}", "value": 1}] if expect else []
            test = {
                "rule_files": [str(path) for path in RULE_FILES],
                "evaluation_interval": "1m",
                "tests": [{"interval": "1m", "input_series": timeline.input_series(), "promql_expr_test": [{
                    "expr": f'count(ALERTS{{alertname="{alert}", alertstate="firing"}})',
                    "eval_time": f"{minute}m", "exp_samples": sample}]}],
            }
            path = tmp_path / f"{alert}-{minute}-{expect}.yml"
            path.write_text(yaml.safe_dump(test, sort_keys=False), encoding="utf-8")
            result = _run(promtool, "test", "rules", path)
            if result.returncode == 0:
                results[minute] = expect
                break
        else:
            pytest.fail(f"promtool could not evaluate {alert} at {minute}m:\n{result.stdout}{result.stderr}")
    return results


# --- CoiScoringLatencyHigh: its 0.5 s threshold against the real buckets ---------------------------------------

def _scoring_timeline(slow_seconds: float) -> Timeline:
    """600 events a minute for 30 minutes: 98 % take 1 ms, 2 % take `slow_seconds` (the true p99)."""
    metrics, timeline = worker_metrics(), Timeline()
    for _ in range(31):
        timeline.scrape(metrics)
        for event in range(600):
            metrics.scoring_latency.observe(slow_seconds if event % 50 == 0 else 0.001)
    return timeline


@pytest.mark.prometheus
def test_scoring_latency_alert_is_quiet_while_the_true_p99_is_under_its_threshold(tmp_path):
    # p99 is 0.3 s: with no bucket boundary at 0.5 s, histogram_quantile placed it at 0.625 s and the alert fired
    assert firing(_scoring_timeline(0.3), "CoiScoringLatencyHigh", [20, 30], tmp_path) == {20: False, 30: False}


@pytest.mark.prometheus
def test_scoring_latency_alert_fires_once_the_true_p99_is_over_its_threshold(tmp_path):
    assert firing(_scoring_timeline(0.7), "CoiScoringLatencyHigh", [10, 20], tmp_path) == {10: False, 20: True}


def test_scoring_latency_threshold_is_a_bucket_boundary():
    """histogram_quantile interpolates linearly inside a bucket: a threshold inside one reads latencies below it
    as above it (and the other way round)."""
    (rule,) = [rule for group in yaml.safe_load(RULE_FILES[1].read_text(encoding="utf-8"))["groups"]
               for rule in group["rules"] if rule.get("alert") == "CoiScoringLatencyHigh"]
    threshold = float(rule["expr"].rsplit(">", 1)[1])
    assert threshold in worker_metrics().scoring_latency._upper_bounds


# --- CoiCriticalConflictRaised: new transitions only -------------------------------------------------------------

def _raise_critical(metrics: PipelineMetrics) -> None:
    metrics.alerts.labels(band="critical", state="raised").inc()


@pytest.mark.prometheus
def test_critical_conflict_alert_fires_for_a_raise_seen_from_zero(tmp_path):
    metrics, timeline = worker_metrics(), Timeline()
    for minute in range(20):
        if minute == 3:
            _raise_critical(metrics)
        timeline.scrape(metrics)
    assert firing(timeline, "CoiCriticalConflictRaised", [2, 4, 7, 10], tmp_path) == {
        2: False, 4: True, 7: True, 10: False}


@pytest.mark.prometheus
def test_critical_conflict_alert_stays_quiet_after_a_scrape_outage(tmp_path):
    """A critical alert raised long ago, then Prometheus cannot scrape the running worker for six minutes (a
    network fault, CoiWorkerDown's business): no conflict was raised meanwhile, and none may be reported."""
    metrics, timeline = worker_metrics(), Timeline()
    _raise_critical(metrics)
    for _ in range(20):
        timeline.scrape(metrics)
    for _ in range(6):
        timeline.failed_scrape()
    for _ in range(20):
        timeline.scrape(metrics)
    assert set(firing(timeline, "CoiCriticalConflictRaised", [27, 28, 30, 32, 36], tmp_path).values()) == {False}


@pytest.mark.prometheus
def test_critical_conflict_alert_stays_quiet_when_prometheus_was_down(tmp_path):
    """Prometheus itself down for twelve minutes (an upgrade, a crash) beside a worker that raised long ago."""
    metrics, timeline = worker_metrics(), Timeline()
    _raise_critical(metrics)
    for _ in range(20):
        timeline.scrape(metrics)
    for _ in range(12):
        timeline.nothing()
    for _ in range(20):
        timeline.scrape(metrics)
    assert set(firing(timeline, "CoiCriticalConflictRaised", [33, 35, 38, 45], tmp_path).values()) == {False}


@pytest.mark.prometheus
def test_critical_conflict_alert_fires_for_a_raise_before_the_first_scrape_of_a_restarted_worker(tmp_path):
    """The worker is down for ten minutes, restarts at minute 30 and raises a critical alert before Prometheus
    first scrapes it: the counter's first sample is 1, and increase() alone cannot see that step."""
    old, timeline = worker_metrics(), Timeline()
    _raise_critical(old)
    for _ in range(20):
        timeline.scrape(old)
    for _ in range(10):
        timeline.failed_scrape()
    restarted = worker_metrics(started_minute=30)
    _raise_critical(restarted)
    for _ in range(15):
        timeline.scrape(restarted)
    assert firing(timeline, "CoiCriticalConflictRaised", [29, 30, 33, 36], tmp_path) == {
        29: False, 30: True, 33: True, 36: False}


@pytest.mark.prometheus
def test_critical_conflict_alert_fires_for_a_raise_during_a_scrape_outage(tmp_path):
    """A transition while Prometheus could not scrape the worker is reported once it can again."""
    metrics, timeline = worker_metrics(), Timeline()
    _raise_critical(metrics)
    for _ in range(20):
        timeline.scrape(metrics)
    for _ in range(8):
        timeline.failed_scrape()
    _raise_critical(metrics)
    for _ in range(20):
        timeline.scrape(metrics)
    assert firing(timeline, "CoiCriticalConflictRaised", [27, 28, 32, 33], tmp_path) == {
        27: False, 28: True, 32: True, 33: False}


@pytest.mark.prometheus
def test_critical_conflict_alert_stays_quiet_on_a_new_prometheus_beside_an_old_worker(tmp_path):
    """An empty TSDB (a new Prometheus, or its data lost) scraping a worker that raised critical alerts an hour
    before: nothing is new."""
    metrics, timeline = worker_metrics(started_minute=0), Timeline()
    _raise_critical(metrics)
    for _ in range(60):
        timeline.nothing()
    for _ in range(15):
        timeline.scrape(metrics)
    assert set(firing(timeline, "CoiCriticalConflictRaised", [60, 61, 63, 66, 70], tmp_path).values()) == {False}
