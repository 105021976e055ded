"""deploy/grafana: the generated dashboard, its provisioning, and the metric contract with the worker.

The metric names and labels that panel queries and Prometheus rules may use come from the worker's own
registry (streams.metrics.PipelineMetrics), so renaming a metric on either side fails here rather than
leaving an empty panel or an alert that can never fire.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

import pytest
import yaml
from prometheus_client import CollectorRegistry
from prometheus_client.metrics import MetricWrapperBase

from streams.metrics import PipelineMetrics

REPO = Path(__file__).resolve().parents[2]
GRAFANA_DIR = REPO / "deploy" / "grafana"
GENERATOR = GRAFANA_DIR / "dashboard.py"
DASHBOARD_JSON = GRAFANA_DIR / "dashboards" / "coi-risk.json"
DATASOURCES = GRAFANA_DIR / "provisioning" / "datasources" / "prometheus.yml"
DASHBOARD_PROVIDERS = GRAFANA_DIR / "provisioning" / "dashboards" / "coi-risk.yml"
RULE_FILES = [REPO / "deploy" / "prometheus" / "rules" / "recording.yml",
              REPO / "deploy" / "prometheus" / "rules" / "alerts.yml"]
COMPOSE_FILE = REPO / "docker-compose.yml"

SDK_PIN = "grafana-foundation-sdk==1769699379!11.6.0"

REQUIRED_PANELS = {
    "Throughput in",
    "Throughput out",
    "Dead letters by reason",
    "Consumer lag",
    "Graph size",
    "Scoring latency p50/p99",
    "End-to-end latency p50/p99",
    "Score changes by band",
    "Alerts by band and state",
    "Top pairs by alerts",
}

# Series Prometheus adds itself; everything else must come from the worker or a recording rule.
PROMETHEUS_SERIES = {"up": {"job", "instance"}}
TARGET_LABELS = {"job", "instance"}


@cache
def generator() -> ModuleType:
    try:
        import grafana_foundation_sdk  # noqa: F401
    except ImportError:
        pytest.fail(f"the dashboard generator needs {SDK_PIN} (pip install '{SDK_PIN}')", pytrace=False)
    spec = importlib.util.spec_from_file_location("coi_grafana_dashboard", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


def dashboard() -> dict:
    return json.loads(DASHBOARD_JSON.read_text(encoding="utf-8"))


def panels() -> list[dict]:
    return [p for p in dashboard()["panels"] if p["type"] != "row"]


# --- PromQL name extraction -------------------------------------------------------------------------
# A small lexer rather than a PromQL parser (none is packaged for Python): strip what can contain
# identifiers that are not metric names, then every identifier not followed by "(" is a metric.

_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool",
             "and", "or", "unless", "atan2", "inf", "nan"}
_STRINGS = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{([^}]*)\}")
_RANGES = re.compile(r"\[[^\]]*\]")
_LABEL_LISTS = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")
_IDENTIFIER = re.compile(r"(?<![\w.:$])([A-Za-z_:][\w:]*)(?![\w:])")
_MATCHER_LABEL = re.compile(r"([A-Za-z_]\w*)\s*(?:=~|!~|!=|=)")


def _without_strings_and_comments(expr: str) -> str:
    return re.sub(r"#[^\n]*", "", _STRINGS.sub('""', expr))


def metric_names(expr: str) -> set[str]:
    text = _without_strings_and_comments(expr)
    text = _MATCHERS.sub(" ", text)
    text = _RANGES.sub(" ", text)
    text = _LABEL_LISTS.sub(" ", text)
    names = set()
    for match in _IDENTIFIER.finditer(text):
        name = match.group(1)
        if name.lower() in _KEYWORDS or text[match.end():].lstrip().startswith("("):
            continue
        names.add(name)
    return names


def label_names(expr: str) -> set[str]:
    text = _without_strings_and_comments(expr)
    labels = set()
    for matchers in _MATCHERS.findall(text):
        labels.update(_MATCHER_LABEL.findall(matchers))
    for label_list in _LABEL_LISTS.findall(text):
        labels.update(name.strip() for name in label_list.split(",") if name.strip())
    return labels


def test_metric_name_extraction() -> None:
    expr = ('sum by (job, reason) (rate(foo_total{reason=~"a|b", x="sum(y)"}[5m] offset 1m)) '
            '/ on (job) group_left bar:baz:rate5m > 0.05 and histogram_quantile(0.99, le_bucket) '
            'or vector(1e3) * $__rate_interval_ish')
    assert metric_names(expr) == {"foo_total", "bar:baz:rate5m", "le_bucket"}
    assert label_names(expr) == {"job", "reason", "x"}


# --- the contract: metrics exported by the worker ---------------------------------------------------

@cache
def exported_series() -> dict[str, set[str]]:
    """Series name -> label names, for every series the worker's registry can expose."""
    registry = CollectorRegistry()
    pipeline_metrics = PipelineMetrics(registry)
    series: dict[str, set[str]] = {}
    for metric in vars(pipeline_metrics).values():
        if not isinstance(metric, MetricWrapperBase):
            continue
        labels = set(metric._labelnames) | TARGET_LABELS  # no public accessor for a metric's label names
        name, kind = metric._name, metric._type
        if kind == "counter":
            series[f"{name}_total"] = labels
        elif kind == "histogram":
            series[f"{name}_bucket"] = labels | {"le"}
            series[f"{name}_sum"] = labels
            series[f"{name}_count"] = labels
        else:
            series[name] = labels
    return series


@cache
def recording_rules() -> dict[str, str]:
    rules = yaml.safe_load(RULE_FILES[0].read_text(encoding="utf-8"))
    return {rule["record"]: rule["expr"] for group in rules["groups"] for rule in group["rules"]}


def known_series() -> dict[str, set[str]]:
    known = dict(PROMETHEUS_SERIES) | exported_series()
    for record, expr in recording_rules().items():
        known[record] = set().union(*(known.get(name, set()) for name in metric_names(expr)))
    return known


def rule_expressions() -> list[tuple[str, str]]:
    exprs = []
    for path in RULE_FILES:
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]:
            for rule in group["rules"]:
                exprs.append((rule.get("record") or rule["alert"], rule["expr"]))
    return exprs


def _check_names_and_labels(exprs: list[tuple[str, str]]) -> list[str]:
    known = known_series()
    problems = []
    for where, expr in exprs:
        names = metric_names(expr)
        if not names:
            problems.append(f"{where}: no metric found in {expr!r}")
        unknown = names - set(known)
        if unknown:
            problems.append(f"{where}: unknown metrics {sorted(unknown)}")
        available = set().union(*(known.get(name, set()) for name in names))
        missing_labels = label_names(expr) - available
        if missing_labels:
            problems.append(f"{where}: labels {sorted(missing_labels)} are not on {sorted(names)}")
    return problems


def test_brief_metric_list_is_what_the_worker_exports() -> None:
    expected = {
        "coi_events_consumed_total", "coi_events_valid_total", "coi_events_rejected_total", "coi_graph_nodes",
        "coi_graph_relations", "coi_scoring_latency_seconds_bucket", "coi_end_to_end_latency_seconds_bucket",
        "coi_score_changes_total", "coi_alerts_total", "coi_pair_alerts_total", "coi_published_total",
        "coi_consumer_lag", "coi_worker_ready",
    }
    assert expected <= set(exported_series())


def test_panel_queries_use_only_exported_metrics_and_labels() -> None:
    assert _check_names_and_labels(generator().panel_queries()) == []


def test_rules_use_only_exported_metrics_and_labels() -> None:
    assert _check_names_and_labels(rule_expressions()) == []


# --- the dashboard itself ---------------------------------------------------------------------------

def test_committed_json_matches_the_generator() -> None:
    assert DASHBOARD_JSON.read_text(encoding="utf-8") == generator().render(), (
        "deploy/grafana/dashboards/coi-risk.json is stale: run python deploy/grafana/dashboard.py")


def test_dashboard_identity() -> None:
    board = dashboard()
    assert board["title"] == "coi-risk pipeline"
    assert board["uid"] == generator().DASHBOARD_UID


def test_required_panels_are_present() -> None:
    titles = [p["title"] for p in panels()]
    assert len(titles) == len(set(titles)), "panel titles must be unique (panel_queries keys on them)"
    assert REQUIRED_PANELS <= set(titles)


def test_panel_ids_are_unique_and_panels_fit_the_grid() -> None:
    all_panels = dashboard()["panels"]
    ids = [p["id"] for p in all_panels]
    assert len(ids) == len(set(ids)) and None not in ids
    for panel in all_panels:
        grid = panel["gridPos"]
        assert 0 <= grid["x"] and grid["x"] + grid["w"] <= 24, panel["title"]


def test_every_panel_has_the_provisioned_datasource_and_queries() -> None:
    expected = {"type": "prometheus", "uid": generator().DATASOURCE_UID}
    for panel in panels():
        assert panel.get("datasource") == expected, panel["title"]
        assert panel.get("targets"), f"{panel['title']} has no queries"
        for target in panel["targets"]:
            assert target.get("datasource") == expected, panel["title"]
            assert isinstance(target.get("expr"), str) and target["expr"].strip(), panel["title"]
        ref_ids = [t["refId"] for t in panel["targets"]]
        assert len(ref_ids) == len(set(ref_ids)), panel["title"]


def test_top_pairs_panel_ranks_pairs() -> None:
    (expr,) = [e for title, e in generator().panel_queries() if title == "Top pairs by alerts"]
    assert expr.startswith("topk(") and "coi_pair_alerts_total" in expr
    assert {"actor", "counterparty"} <= label_names(expr)


def test_a_bar_counts_its_own_interval_only() -> None:
    """A bar panel drew `increase(x[$__rate_interval])` (1m) at a 15 s step: the windows overlapped and one alert
    showed as four bars (an operator's review). Each bar's window is now its step, at least a minute."""
    bars = [p for p in panels() if p["type"] == "timeseries"
            and p.get("fieldConfig", {}).get("defaults", {}).get("custom", {}).get("drawStyle") == "bars"]
    assert {p["title"] for p in bars} >= {"Alerts by band and state", "Snapshots by writer"}
    for panel in bars:
        assert panel.get("interval") == "1m", panel["title"]
        for target in panel["targets"]:
            assert "[$__interval]" in target["expr"] and "$__rate_interval" not in target["expr"], target["expr"]


def test_end_to_end_panel_splits_by_clock() -> None:
    exprs = [e for title, e in generator().panel_queries() if title == "End-to-end latency p50/p99"]
    assert exprs and all("clock" in label_names(e) for e in exprs)
    # days (event_time of historical data) and milliseconds (append_time) on one axis: the pipeline's own latency
    # was a flat line at zero on a linear one (an operator's review)
    (panel,) = [p for p in panels() if p["title"] == "End-to-end latency p50/p99"]
    assert panel["fieldConfig"]["defaults"]["custom"]["scaleDistribution"] == {"type": "log", "log": 10}


def test_panel_queries_list_every_query_on_the_dashboard() -> None:
    in_json = [(p["title"], t["expr"]) for p in panels() for t in p["targets"]]
    assert generator().panel_queries() == in_json


def test_prometheus_form_of_queries_has_no_grafana_variables() -> None:
    queries = generator().panel_queries(for_prometheus=True)
    assert len(queries) == len(generator().panel_queries())
    leftovers = [(title, expr) for title, expr in queries if "$" in expr]
    assert leftovers == []


@pytest.mark.prometheus
def test_panel_queries_parse_with_promtool(tmp_path: Path) -> None:
    """Prometheus's own parser, via a throwaway rule file (promtool cannot parse a bare expression)."""
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool not found on PATH: install Debian's prometheus package (apt-get install prometheus)",
                    pytrace=False)
    rules = {"groups": [{"name": "panel-queries", "rules": [
        {"record": f"panel_query_{i}", "expr": expr}
        for i, (_, expr) in enumerate(generator().panel_queries(for_prometheus=True))
    ]}]}
    rule_file = tmp_path / "panel-queries.yml"
    rule_file.write_text(yaml.safe_dump(rules), encoding="utf-8")
    result = subprocess.run([promtool, "check", "rules", str(rule_file)], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_generator_check_mode_agrees(tmp_path: Path) -> None:
    stale = tmp_path / "stale.json"
    stale.write_text("{}\n", encoding="utf-8")
    assert generator().main(["--check", "--output", str(stale)]) == 1
    assert generator().main(["--check"]) == 0


# --- provisioning -----------------------------------------------------------------------------------

def test_datasource_provisioning_matches_the_dashboard() -> None:
    (datasource,) = yaml.safe_load(DATASOURCES.read_text(encoding="utf-8"))["datasources"]
    assert datasource["type"] == "prometheus"
    assert datasource["uid"] == generator().DATASOURCE_UID
    assert datasource["url"] == "http://prometheus:9090"


def test_dashboard_provider_reads_the_directory_compose_mounts() -> None:
    (provider,) = yaml.safe_load(DASHBOARD_PROVIDERS.read_text(encoding="utf-8"))["providers"]
    assert provider["type"] == "file"
    grafana = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))["services"]["grafana"]
    host_dir_by_container_path = {}
    for volume in grafana["volumes"]:
        host, container = volume.split(":")[:2]
        host_dir_by_container_path[container] = host
    host_dir = host_dir_by_container_path.get(provider["options"]["path"])
    assert host_dir is not None, f"compose mounts nothing at {provider['options']['path']}"
    assert (REPO / host_dir).resolve() == DASHBOARD_JSON.parent


# --- the documentation of the panels ---------------------------------------------------------------------------

OBSERVABILITY_DOC = REPO / "docs" / "observability.md"


def documented_panels() -> list[tuple[str, str]]:
    """(row, panel) for each line of the panel table in docs/observability.md ("## Panels")."""
    text = OBSERVABILITY_DOC.read_text(encoding="utf-8")
    section = text.split("\n## Panels\n", 1)[1].split("\n## ", 1)[0]
    found, row = [], ""
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 2 or not cells[1].startswith("**"):
            continue
        row = cells[0] or row
        found.append((row, cells[1].strip("*")))
    return found


def test_the_documented_panels_are_the_dashboard_panels_in_their_rows():
    on_dashboard = [(row.title, panel.title) for row in generator().ROWS for panel in row.panels]
    assert documented_panels() == on_dashboard
