"""The "coi-risk pipeline" Grafana dashboard, as code.

    python deploy/grafana/dashboard.py           # rewrite dashboards/coi-risk.json
    python deploy/grafana/dashboard.py --check   # exit 1 if the committed JSON is stale

The JSON is committed so Grafana's file provisioning (and anyone without this
generator's dependency) can load it; tests/deploy/test_grafana_dashboard.py
fails when it drifts from this file.

Built with grafana-foundation-sdk (types generated for Grafana 11.6, the
version docker-compose.yml runs). Panels are declared as data first (ROWS)
so `panel_queries()` can hand every query to tests without going through the
SDK objects.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard as dashboard_builders
from grafana_foundation_sdk.builders import prometheus, stat, table, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as dashboard_models
from grafana_foundation_sdk.models.prometheus import PromQueryFormat

DASHBOARD_UID = "coi-risk-pipeline"
DASHBOARD_TITLE = "coi-risk pipeline"
# Must match the uid in provisioning/datasources/prometheus.yml: panels name
# the datasource by uid so the dashboard does not depend on it being default.
DATASOURCE_UID = "coi-prometheus"
DATASOURCE = dashboard_models.DataSourceRef(type_val="prometheus", uid=DATASOURCE_UID)

OUTPUT_PATH = Path(__file__).resolve().parent / "dashboards" / "coi-risk.json"

# Grafana fills these in per request; a plain Prometheus needs literal values.
# 1m is what Grafana's $__rate_interval resolves to with a 15s scrape interval
# (4 x scrape interval), so it also covers the 5s local scrape configuration.
PROMETHEUS_SUBSTITUTES = {
    "$__rate_interval": "1m",
    "$__interval": "1m",
    "$__range": "1h",
}

RATE = "$__rate_interval"
RANGE = "$__range"
# A bar is the count in its own interval: the window is the step ($__interval, at least BAR_MIN_INTERVAL, a few
# scrapes). With $__rate_interval (1m) at a 15 s step the windows overlapped and one alert drew four bars.
BAR_WINDOW = "$__interval"
BAR_MIN_INTERVAL = "1m"
BAR_MIN_SECONDS = 60


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""


PanelKind = Literal["timeseries", "bars", "stat", "table"]


@dataclass(frozen=True)
class PanelSpec:
    title: str
    kind: PanelKind
    queries: tuple[Query, ...]
    unit: str
    description: str
    width: int
    height: int = 8
    # a logarithmic y axis: for series of other magnitudes on one panel (end-to-end latency on its two clocks:
    # days for historical events, milliseconds for the pipeline's own)
    log_scale: bool = False


@dataclass(frozen=True)
class RowSpec:
    title: str
    panels: tuple[PanelSpec, ...]


def _spec(title: str, *queries: Query, unit: str, description: str, width: int,
          kind: PanelKind = "timeseries", log_scale: bool = False) -> PanelSpec:
    """One panel: a timeseries unless `kind` says otherwise; height is the project's default (8)."""
    return PanelSpec(title=title, kind=kind, queries=queries, unit=unit, description=description, width=width,
                     log_scale=log_scale)


def _sum(function: str, metric: str, by: str = "", window: str = RATE) -> str:
    """`sum(function(metric[window]))`, or `sum by (by) (...)` when grouped."""
    inner = f"{function}({metric}[{window}])"
    return f"sum by ({by}) ({inner})" if by else f"sum({inner})"


def _label(name: str) -> str:
    """Legend template that shows the value of label `name`."""
    return "{{" + name + "}}"


def _rate_by(label: str, metric: str) -> Query:
    """Per-second rate of a counter, one series per value of `label`, legend = that value."""
    return Query(_sum("rate", metric, by=label), _label(label))


def _quantiles(metric: str, by: str, legend_suffix: str = "") -> tuple[Query, ...]:
    grouping = f"{by}, le" if by else "le"
    return tuple(
        Query(
            expr=f"histogram_quantile({q}, {_sum('rate', f'{metric}_bucket', by=grouping)})",
            legend=f"{name}{legend_suffix}",
        )
        for q, name in (("0.5", "p50"), ("0.99", "p99"))
    )


ROWS: tuple[RowSpec, ...] = (
    RowSpec(
        "Throughput",
        (
            _spec(
                "Worker status",
                Query('max by (instance) (up{job="coi-risk-worker"})', "scraped {{instance}}"),
                Query("max by (instance) (coi_worker_ready)", "ready {{instance}}"),
                kind="stat",
                unit="none",
                description=(
                    "1 = the scrape succeeds / recovery has finished. "
                    "Red for long means CoiWorkerDown or CoiWorkerNotReady."
                ),
                width=4,
            ),
            _spec(
                "Throughput in",
                Query(_sum("rate", "coi_events_consumed_total"), "consumed"),
                Query(_sum("rate", "coi_events_valid_total"), "valid"),
                Query(_sum("rate", "coi_events_rejected_total"), "rejected"),
                unit="ops",
                description=(
                    "Relationship events read from coi-relationship-events per second; "
                    "consumed = valid + rejected, except output_too_large (applied, so valid, and its "
                    "oversized outputs withheld, so rejected)."
                ),
                width=10,
            ),
            _spec(
                "Throughput out",
                _rate_by("topic", "coi_published_total"),
                unit="ops",
                description="Messages written per second to coi-scores, coi-alerts and coi-dead-letters.",
                width=10,
            ),
        ),
    ),
    RowSpec(
        "Input quality and backlog",
        (
            _spec(
                "Dead letters by reason",
                _rate_by("reason", "coi_events_rejected_total"),
                unit="ops",
                description="Events rejected to coi-dead-letters per second, by reason code.",
                width=6,
            ),
            _spec(
                "Consumer lag",
                Query("sum(coi_consumer_lag)", "total"),
                Query("sum by (topic, partition) (coi_consumer_lag)", "{{topic}} [{{partition}}]"),
                unit="short",
                description=(
                    "Input messages not yet processed. A steady rise means the worker cannot keep up "
                    "(CoiConsumerLagGrowing)."
                ),
                width=6,
            ),
            _spec(
                "Graph size",
                Query("sum by (instance) (coi_graph_nodes)", "nodes {{instance}}"),
                Query("sum by (instance) (coi_graph_relations)", "relations {{instance}}"),
                unit="short",
                description="Entities and relations held in the ownership-and-influence graph.",
                width=6,
            ),
            _spec(
                "Hubs",
                Query("max by (instance) (coi_graph_hub_nodes)", "hubs {{instance}}"),
                Query(f"sum by (instance) (increase(coi_hub_nodes_entered_total[{RATE}]))", "entered {{instance}}"),
                unit="short",
                description=(
                    "Nodes past the scorer's fan-out guard (limits.max_fanout relations in one layer and "
                    "direction), and crossings of it: conflicts through a hub may be missed (CoiHubNodeEntered; "
                    "the worker log names the node)."
                ),
                width=6,
            ),
        ),
    ),
    RowSpec(
        "Latency",
        (
            _spec(
                "Scoring latency p50/p99",
                *_quantiles("coi_scoring_latency_seconds", by=""),
                unit="s",
                description="Time to apply one event to the graph and rescore the affected pairs.",
                width=12,
            ),
            _spec(
                "End-to-end latency p50/p99",
                *_quantiles("coi_end_to_end_latency_seconds", by="clock", legend_suffix=" {{clock}}"),
                unit="s",
                description=(
                    "From the event's observed time (event_time) or its Kafka append time (append_time) "
                    "to publication of the resulting score or alert. The gap between the two clocks is "
                    "delay before the event reached Kafka. A logarithmic axis: for historical data event_time is "
                    "days, and on a linear one the pipeline's own milliseconds were a flat line at zero."
                ),
                width=12,
                log_scale=True,
            ),
        ),
    ),
    RowSpec(
        "Risk",
        (
            _spec(
                "Score changes by band",
                _rate_by("band", "coi_score_changes_total"),
                unit="ops",
                description="Published score changes per second, by the band of the new score.",
                width=8,
            ),
            _spec(
                "Alerts by band and state",
                Query(_sum("increase", "coi_alerts_total", by="band, state", window=BAR_WINDOW), "{{band}} {{state}}"),
                kind="bars",
                unit="short",
                description="Alert transitions (raised, escalated, downgraded, updated, resolved) per band in each interval.",
                width=8,
            ),
            _spec(
                "Top pairs by alerts",
                Query(f"topk(10, {_sum('increase', 'coi_pair_alerts_total', by='actor, counterparty', window=RANGE)})"),
                kind="table",
                unit="short",
                description=(
                    "The ten actor/counterparty pairs (entity ids) with the most alert transitions "
                    "in the selected time range."
                ),
                width=8,
            ),
        ),
    ),
    RowSpec(
        "Worker internals",
        (
            _spec(
                "Garbage-collector pauses p50/p99",
                *_quantiles("coi_gc_pause_seconds", by="generation", legend_suffix=" gen {{generation}}"),
                unit="s",
                description=(
                    "The live path stops while Python's cyclic collector runs: full collections (generation 2) "
                    "when the worker re-freezes its heap (gc_refreeze_every_events, gc_refreeze_every_seconds); "
                    "young ones (0, 1) every few hundred allocations (with gc_automatic_collection none, only "
                    "during start-up and recovery). A rising full-collection pause means more is kept live "
                    "between two re-freezes."
                ),
                width=12,
            ),
            _spec(
                "Time in the garbage collector",
                Query(f"max by (generation) (rate(coi_gc_pause_seconds_sum[{RATE}]))", "gen {{generation}}"),
                unit="percentunit",
                description="Share of a worker's time spent in collections, by generation (the busiest worker).",
                width=8,
            ),
            _spec(
                "Frozen objects",
                Query("max by (instance) (coi_gc_frozen_objects)", "{{instance}}"),
                unit="short",
                description=(
                    "Objects the worker's heap freezes moved out of the collector's reach. They are never "
                    "collected again: growing much faster than the graph means objects die in reference cycles "
                    "after a re-freeze froze them."
                ),
                width=4,
            ),
        ),
    ),
    RowSpec(
        "Snapshots",
        (
            _spec(
                "Snapshot writer: what it may copy and the room",
                Query("max by (instance) (coi_snapshot_fork_may_copy_bytes)", "may copy {{instance}}"),
                Query("min by (instance) (coi_snapshot_fork_room_bytes)", "room {{instance}}"),
                unit="bytes",
                description=(
                    "A snapshot's writer is forked only while what it may copy (the worker's private memory) is "
                    "below the room (memory left on the machine or in the container's cgroup, less "
                    "snapshot_fork_reserve_mb). Above it at a due snapshot, the worker writes it itself while the "
                    "stream waits, or skips it (snapshot_without_fork_room): give it about twice its resident "
                    "memory. The room dips while a forked child writes: the pages it copies count as used."
                ),
                width=12,
            ),
            _spec(
                "Snapshots by writer",
                Query(_sum("increase", "coi_snapshots_written_total", by="writer", window=BAR_WINDOW),
                      "written by {{writer}}"),
                Query(_sum("increase", "coi_snapshots_skipped_total", window=BAR_WINDOW), "skipped"),
                Query(_sum("increase", "coi_snapshot_failures_total", by="writer", window=BAR_WINDOW),
                      "failed ({{writer}})"),
                kind="bars",
                unit="short",
                description=(
                    "Snapshots written by a forked child, or without room to fork by the worker itself "
                    "(thread), due snapshots skipped for want of room, and writes that failed or were given up "
                    "(CoiSnapshotsFailing: the worker log names the error)."
                ),
                width=6,
            ),
            _spec(
                "Snapshot pauses p50/p99",
                *_quantiles("coi_snapshot_pause_seconds", by="writer", legend_suffix=" {{writer}}"),
                unit="s",
                description=(
                    "How long the stream paused for a snapshot: the fork (child), or the whole write when the "
                    "worker wrote it itself (thread)."
                ),
                width=6,
            ),
        ),
    ),
)


def panel_queries(*, for_prometheus: bool = False) -> list[tuple[str, str]]:
    """Every (panel title, PromQL expr) on the dashboard, in panel order.

    With for_prometheus=True, Grafana's built-in variables are replaced by
    PROMETHEUS_SUBSTITUTES so each expr can be sent as-is to Prometheus's
    /api/v1/query (as the end-to-end test against a running worker does).
    """
    queries = []
    for row in ROWS:
        for panel in row.panels:
            for query in panel.queries:
                expr = query.expr
                if for_prometheus:
                    for variable, value in PROMETHEUS_SUBSTITUTES.items():
                        expr = expr.replace(variable, value)
                queries.append((panel.title, expr))
    return queries


def _targets(spec: PanelSpec) -> list[prometheus.Dataquery]:
    targets = []
    for index, query in enumerate(spec.queries):
        target = (
            prometheus.Dataquery()
            .ref_id(chr(ord("A") + index))
            .datasource(DATASOURCE)
            .expr(query.expr)
            .legend_format(query.legend or "__auto")
        )
        if spec.kind in ("stat", "table"):
            target = target.instant()
        else:
            target = target.range()
        if spec.kind == "table":
            target = target.format(PromQueryFormat.TABLE)
        targets.append(target)
    return targets


def _timeseries_panel() -> timeseries.Panel:
    """Lines with a bottom list legend and a light fill: the default for every rate and gauge panel."""
    return (
        timeseries.Panel()
        .legend(
            common_builders.VizLegendOptions()
            .display_mode(common.LegendDisplayMode.LIST)
            .placement(common.LegendPlacement.BOTTOM)
            .show_legend(True)
        )
        .fill_opacity(10)
    )


def _bars_panel() -> timeseries.Panel:
    """The timeseries defaults drawn as stacked bars (counts per interval, each its own: `BAR_WINDOW`)."""
    return (
        _timeseries_panel()
        .interval(BAR_MIN_INTERVAL)
        .draw_style(common.GraphDrawStyle.BARS)
        .fill_opacity(80)
        .stacking(common_builders.StackingConfig().mode(common.StackingMode.NORMAL))
    )


def _stat_panel() -> stat.Panel:
    """Last value on a coloured background: red below 1, green from 1 (up / ready flags)."""
    return (
        stat.Panel()
        .color_mode(common.BigValueColorMode.BACKGROUND)
        .graph_mode(common.BigValueGraphMode.NONE)
        .reduce_options(common_builders.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
        .thresholds(
            dashboard_builders.ThresholdsConfig()
            .mode(dashboard_models.ThresholdsMode.ABSOLUTE)
            .steps(
                [
                    dashboard_models.Threshold(value=None, color="red"),
                    dashboard_models.Threshold(value=1, color="green"),
                ]
            )
        )
    )


def _table_panel() -> table.Panel:
    """Instant values as a table without the time column, the value named and sorted descending."""
    return (
        table.Panel()
        .decimals(0)
        .with_transformation(
            dashboard_models.DataTransformerConfig(
                id_val="organize",
                options={"excludeByName": {"Time": True}, "renameByName": {"Value": "alert transitions"}},
            )
        )
        .sort_by([common_builders.TableSortByFieldState().display_name("alert transitions").desc(True)])
    )


_PANEL_BUILDERS = {
    "timeseries": _timeseries_panel,
    "bars": _bars_panel,
    "stat": _stat_panel,
    "table": _table_panel,
}


def _panel(spec: PanelSpec):
    """The SDK panel for `spec`: its kind's defaults, then what every panel sets (datasource, unit, size, queries)."""
    if spec.kind not in _PANEL_BUILDERS:  # pragma: no cover - PanelSpec.kind is a closed set
        raise ValueError(f"unknown panel kind {spec.kind!r}")
    panel = _PANEL_BUILDERS[spec.kind]()
    if spec.log_scale:
        panel = panel.scale_distribution(common_builders.ScaleDistributionConfig().type(common.ScaleDistribution.LOG)
                                         .log(10))
    return (
        panel
        .title(spec.title)
        .description(spec.description)
        .datasource(DATASOURCE)
        .unit(spec.unit)
        .span(spec.width)
        .height(spec.height)
        .targets(_targets(spec))
    )


def build_dashboard() -> dashboard_models.Dashboard:
    builder = (
        dashboard_builders.Dashboard(DASHBOARD_TITLE)
        .uid(DASHBOARD_UID)
        .tags(["coi-risk", "kafka", "faust"])
        .description(
            "Conflict-of-interest risk pipeline: input throughput and quality, backlog, graph size, "
            "latency, score and alert activity. Alert rules: deploy/prometheus/rules/alerts.yml."
        )
        .editable()
        .refresh("30s")
        .time("now-1h", "now")
        .timezone("browser")
    )
    # Explicit ids: Grafana keys panel state and links (?viewPanel=N) on them,
    # so they must be unique and stable across regenerations.
    panel_id = 0
    for row in ROWS:
        panel_id += 1
        builder = builder.with_row(dashboard_builders.Row(row.title).id(panel_id))
        for spec in row.panels:
            panel_id += 1
            builder = builder.with_panel(_panel(spec).id(panel_id))
    return builder.build()


def render() -> str:
    """The dashboard JSON exactly as committed (stable key order, trailing newline)."""
    return json.dumps(build_dashboard(), cls=JSONEncoder, sort_keys=True, indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed JSON differs from the generator")
    parser.add_argument("--output", type=Path, default=OUTPUT_PATH)
    args = parser.parse_args(argv)

    rendered = render()
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != rendered:
            print(f"{args.output} is stale: run python deploy/grafana/dashboard.py", file=sys.stderr)
            return 1
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(rendered, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
