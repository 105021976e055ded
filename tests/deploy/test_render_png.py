"""deploy/grafana/render_png.py, on canned Prometheus answers (no server, no network)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RENDERER = REPO / "deploy" / "grafana" / "render_png.py"
END = 1_750_000_000.0
START = END - 600
STEP = 15.0


def renderer():
    try:
        import matplotlib  # noqa: F401
        import grafana_foundation_sdk  # noqa: F401
    except ImportError as error:
        pytest.fail(f"render_png needs matplotlib and grafana-foundation-sdk: {error}", pytrace=False)
    name = "coi_grafana_render_png"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, RENDERER)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


class CannedPrometheus:
    """Answers like /api/v1/query(_range): two series for `by (...)` queries, one otherwise; records queries."""

    def __init__(self, empty: set[str] = frozenset()):
        self.calls: list[tuple[str, dict]] = []
        self.empty = empty

    def __call__(self, endpoint: str, params: dict[str, str]) -> dict:
        self.calls.append((endpoint, params))
        expr = params["query"]
        if any(word in expr for word in self.empty):
            return {"resultType": "vector" if endpoint == "query" else "matrix", "result": []}
        if "actor, counterparty" in expr:
            labels = [{"actor": "trump", "counterparty": "sun"}, {"actor": "trump", "counterparty": "binance"}]
        elif "by (" in expr:
            labels = [{"topic": "coi-scores", "reason": "malformed_json", "band": "high", "state": "raised",
                       "clock": "event_time", "instance": "worker:6066", "partition": "0"},
                      {"topic": "coi-alerts", "reason": "unknown_relation_type", "band": "critical",
                       "state": "raised", "clock": "append_time", "instance": "worker:6066", "partition": "1"}]
        else:
            labels = [{}]
        if endpoint == "query":
            at = float(params["time"])
            return {"resultType": "vector",
                    "result": [{"metric": m, "value": [at, str(i + 1)]} for i, m in enumerate(labels)]}
        start, end, step = float(params["start"]), float(params["end"]), float(params["step"])
        times = [start + k * step for k in range(int((end - start) / step) + 1)]
        return {"resultType": "matrix",
                "result": [{"metric": m, "values": [[t, "NaN" if k == 3 else str((k % 7) * 0.01 * (i + 1))]
                                                    for k, t in enumerate(times)]} for i, m in enumerate(labels)]}


def test_renders_every_panel_from_canned_answers(tmp_path):
    module = renderer()
    fetch = CannedPrometheus()
    panels = module.collect(fetch, START, END, STEP, rate_interval="30s")
    titles = [spec.title for row in module.load_dashboard_module().ROWS for spec in row.panels]
    assert list(panels) == titles
    assert module.empty_panels(panels) == []

    exprs = [params["query"] for _, params in fetch.calls]
    assert not any("$__" in expr for expr in exprs), "Grafana variables must be substituted"
    assert any("[30s]" in expr for expr in exprs)
    assert any("[600s]" in expr for expr in exprs), "$__range is the rendered window"
    # stat and table panels are instant queries, as Grafana runs them
    assert {endpoint for endpoint, params in fetch.calls if "topk" in params["query"]} == {"query"}
    assert {endpoint for endpoint, params in fetch.calls if "coi_published_total" in params["query"]} == {"query_range"}
    assert [legend for legend, _, _ in panels["Throughput out"]] == ["coi-scores", "coi-alerts"]

    output = module.render(panels, tmp_path / "dashboard.png", START, END)
    from PIL import Image

    with Image.open(output) as image:
        assert image.format == "PNG"
        assert image.width >= 1500 and image.height >= 800


def test_panels_without_data_are_reported_and_still_drawn(tmp_path):
    module = renderer()
    panels = module.collect(CannedPrometheus(empty={"coi_consumer_lag", "topk"}), START, END, STEP)
    assert set(module.empty_panels(panels)) == {"Consumer lag", "Top pairs by alerts"}
    assert module.render(panels, tmp_path / "out.png", START, END).stat().st_size > 0


def test_legend_and_unit_formatting():
    module = renderer()
    assert module.legend_for("{{band}} {{state}}", {"band": "high", "state": "raised"}, "x") == "high raised"
    assert module.legend_for("", {"__name__": "m", "a": "1"}, "x") == '{a="1"}'
    assert module.legend_for("__auto", {}, "sum(x)") == "sum(x)"
    assert module.format_value(0.0042, "s") == "4.2 ms"
    assert module.format_value(86400, "s") == "1 day"
    assert module.format_value(90, "s") == "1.5 min"
    assert module.format_value(12_500, "short") == "12.5K"
    assert module.format_value(3, "ops") == "3 ops/s"
    assert module.format_value(float("nan"), "s") == "-"
