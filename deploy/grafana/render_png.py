"""Render the "coi-risk pipeline" dashboard to a PNG from the data of a running Prometheus.

    python deploy/grafana/render_png.py --prometheus http://127.0.0.1:9090 --minutes 15 \\
        --output docs/img/dashboard.png

Not a Grafana screenshot (that needs Grafana and a headless browser): the panels, their layout on Grafana's
24-column grid, titles, queries, legends and units all come from deploy/grafana/dashboard.py, and every
series is fetched from Prometheus's HTTP API exactly as Grafana would ask for it (query_range for graphs,
an instant query for the stat and table panels), then drawn with matplotlib's Agg backend in the colours of
Grafana's dark theme. Needs matplotlib and, through dashboard.py, grafana-foundation-sdk.

Grafana's variables are filled in the way Grafana resolves them: $__rate_interval with --rate-interval
(default 1m, four scrapes at the 15s compose interval) and $__range with the rendered window.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from types import ModuleType

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyBboxPatch  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402

HERE = Path(__file__).resolve().parent
DEFAULT_OUTPUT = HERE.parents[1] / "docs" / "img" / "dashboard.png"

# Grafana 11 dark theme and its classic series palette.
BACKGROUND = "#111217"
PANEL = "#181b1f"
BORDER = "#2c3235"
TEXT = "#ccccdc"
MUTED = "#8e8e8e"
GRID = "#2c3235"
GREEN = "#73bf69"
RED = "#f2495c"
PALETTE = ("#73bf69", "#f2cc0c", "#8ab8ff", "#ff780a", "#f2495c", "#5794f2", "#b877d9", "#705da0",
           "#37872d", "#fade2a", "#447ebc", "#c4162a", "#ff9830", "#1f60c4", "#8f3bb8")

# Grid units (Grafana's panel height unit is ~30 px; a row header is one unit).
ROW_HEADER_UNITS = 1
INCHES_PER_UNIT = 0.33
FIGURE_WIDTH_IN = 20.0

# (endpoint, params) -> Prometheus "data" object; injectable so tests need no server.
Fetch = Callable[[str, dict[str, str]], dict]


class RenderError(RuntimeError):
    pass


def load_dashboard_module() -> ModuleType:
    """deploy/grafana/dashboard.py (not a package), loaded once under a stable module name."""
    name = "coi_grafana_dashboard"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, HERE / "dashboard.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses resolve their module by name
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def prometheus_fetcher(base_url: str, timeout: float = 30.0) -> Fetch:
    base_url = base_url.rstrip("/")

    def fetch(endpoint: str, params: dict[str, str]) -> dict:
        url = f"{base_url}/api/v1/{endpoint}?{urllib.parse.urlencode(params)}"
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                body = json.load(response)
        except urllib.error.HTTPError as error:  # 400/422 carry Prometheus's error message
            try:
                body = json.load(error)
            except ValueError:
                raise RenderError(f"{url}: HTTP {error.code}") from error
        except (urllib.error.URLError, OSError) as error:
            raise RenderError(f"cannot reach Prometheus at {base_url}: {error}") from error
        if body.get("status") != "success":
            raise RenderError(f"{params.get('query')!r}: {body.get('errorType')}: {body.get('error')}")
        return body["data"]

    return fetch


def substitute(expr: str, rate_interval: str, range_: str, interval: str | None = None) -> str:
    """`expr` with Grafana's variables filled in; $__interval is the panel's step (`interval`)."""
    expr = expr.replace("$__rate_interval", rate_interval).replace("$__range", range_)
    return expr if interval is None else expr.replace("$__interval", interval)


def duration(seconds: float) -> str:
    """A Prometheus duration for a window of `seconds` (whole seconds, at least 1s)."""
    return f"{max(1, int(round(seconds)))}s"


def legend_for(template: str, labels: dict[str, str], expr: str) -> str:
    """Grafana's legend format: {{label}} replaced by the series' value; empty/__auto shows the labels."""
    if template and template != "__auto":
        return re.sub(r"\{\{\s*([A-Za-z_]\w*)\s*\}\}", lambda m: labels.get(m.group(1), ""), template).strip()
    shown = {k: v for k, v in labels.items() if k != "__name__"}
    if not shown:
        return expr
    return "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(shown.items())) + "}"


def collect(fetch: Fetch, start: float, end: float, step: float, rate_interval: str = "1m") -> dict:
    """Every panel's series: {panel title: [(legend, labels, [(unix time, value), ...]), ...]}.

    Graph panels get a range query over [start, end]; stat and table panels, which Grafana runs as instant
    queries, get one sample at `end`.
    """
    dashboard = load_dashboard_module()
    range_ = duration(end - start)
    panels: dict[str, list] = {}
    for row in dashboard.ROWS:
        for spec in row.panels:
            series = []
            # as Grafana steps a panel: its step is $__interval, never under the panel's minimum interval (bars)
            panel_step = max(step, dashboard.BAR_MIN_SECONDS) if spec.kind == "bars" else step
            for query in spec.queries:
                expr = substitute(query.expr, rate_interval, range_, duration(panel_step))
                if spec.kind in ("stat", "table"):
                    data = fetch("query", {"query": expr, "time": f"{end:.3f}"})
                    samples = [(item["metric"], [item["value"]]) for item in data["result"]]
                else:
                    data = fetch("query_range", {"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}",
                                                 "step": f"{panel_step:g}"})
                    samples = [(item["metric"], item["values"]) for item in data["result"]]
                for labels, values in samples:
                    points = [(float(t), float(v)) for t, v in values]
                    series.append((legend_for(query.legend, labels, expr), labels, points))
            panels[spec.title] = series
    return panels


# --- drawing ----------------------------------------------------------------------------------------

def _si(value: float) -> str:
    for threshold, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(value) >= threshold:
            return f"{value / threshold:.3g}{suffix}"
    return f"{value:.3g}"


def format_value(value: float, unit: str) -> str:
    if value is None or math.isnan(value):
        return "-"
    if unit == "s":
        if value == 0:
            return "0 s"
        if abs(value) < 1e-3:
            return f"{value * 1e6:.3g} µs"
        if abs(value) < 1:
            return f"{value * 1e3:.3g} ms"
        for size, suffix in ((86400, "day"), (3600, "h"), (60, "min")):
            if abs(value) >= size:
                return f"{value / size:.3g} {suffix}"
        return f"{value:.3g} s"
    if unit == "ops":
        return f"{_si(value)} ops/s"
    return _si(value)


def _frame(fig, grid, spec_title: str, description: str):
    frame = fig.add_subplot(grid)
    frame.set_axis_off()
    frame.add_patch(FancyBboxPatch((0.004, 0.01), 0.992, 0.98, boxstyle="round,pad=0,rounding_size=0.01",
                                   transform=frame.transAxes, facecolor=PANEL, edgecolor=BORDER, linewidth=0.8))
    frame.text(0.015, 0.955, spec_title, transform=frame.transAxes, color=TEXT, fontsize=10.5,
               fontweight="bold", va="top", ha="left")
    return frame


def _no_data(frame) -> None:
    frame.text(0.5, 0.45, "No data", transform=frame.transAxes, color=MUTED, fontsize=12, ha="center",
               va="center")


def _style_axes(ax, unit: str) -> None:
    ax.set_facecolor(PANEL)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color(BORDER)
    ax.tick_params(colors=MUTED, labelsize=7.5, length=0)
    ax.grid(True, color=GRID, linewidth=0.6)
    ax.set_axisbelow(True)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=4, min_n_ticks=2))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: format_value(v, unit)))
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=4, maxticks=10))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))


def _times(points) -> list[datetime]:
    return [datetime.fromtimestamp(t) for t, _ in points]


def _legend(frame, ax, handles_labels) -> None:
    if not handles_labels:
        return
    handles, labels = zip(*handles_labels)
    ncol = max(1, min(len(labels), 4))
    frame.legend(handles, labels, loc="lower left", bbox_to_anchor=(0.01, 0.01), ncol=ncol, frameon=False,
                 fontsize=7.5, labelcolor=TEXT, handlelength=1.2, columnspacing=1.0, borderaxespad=0.3)


def _plot_area(frame, legend_rows: int):
    bottom = 0.13 + 0.07 * legend_rows
    return frame.inset_axes([0.085, bottom, 0.895, 0.84 - bottom])


def _draw_timeseries(frame, spec, series, start: float, end: float, stacked_bars: bool) -> None:
    series = [s for s in series if any(not math.isnan(v) for _, v in s[2])]
    if not series:
        _no_data(frame)
        return
    legend_rows = math.ceil(len(series) / 4)
    ax = _plot_area(frame, legend_rows)
    _style_axes(ax, spec.unit)
    handles_labels = []
    if stacked_bars:
        times = sorted({t for _, _, points in series for t, _ in points})
        width = (times[1] - times[0]) / 86400 * 0.8 if len(times) > 1 else 1 / 86400
        bottoms = dict.fromkeys(times, 0.0)
        for index, (legend, _, points) in enumerate(series):
            values = dict(points)
            heights = [0.0 if math.isnan(values.get(t, 0.0)) else values.get(t, 0.0) for t in times]
            color = PALETTE[index % len(PALETTE)]
            bars = ax.bar([datetime.fromtimestamp(t) for t in times], heights, width=width,
                          bottom=[bottoms[t] for t in times], color=color, alpha=0.85, linewidth=0)
            for t, h in zip(times, heights):
                bottoms[t] += h
            handles_labels.append((bars, legend))
    else:
        for index, (legend, _, points) in enumerate(series):
            color = PALETTE[index % len(PALETTE)]
            times, values = _times(points), [v for _, v in points]
            (line,) = ax.plot(times, values, color=color, linewidth=1.3)
            ax.fill_between(times, values, color=color, alpha=0.10, linewidth=0)
            handles_labels.append((line, legend))
    ax.set_xlim(datetime.fromtimestamp(start), datetime.fromtimestamp(end))
    if getattr(spec, "log_scale", False) and any(v > 0 for _, _, points in series for _, v in points):
        ax.set_yscale("log")  # as the panel's axis is (`PanelSpec.log_scale`)
    else:
        low, high = ax.get_ylim()
        ax.set_ylim(min(0.0, low), high if high > 0 else 1.0)
    _legend(frame, ax, handles_labels)


def _draw_stat(frame, spec, series) -> None:
    if not series:
        _no_data(frame)
        return
    count = len(series)
    for index, (legend, _, points) in enumerate(series):
        value = points[-1][1] if points else float("nan")
        color = GREEN if not math.isnan(value) and value >= 1 else RED
        top = 0.86 - index * (0.82 / count)
        height = 0.82 / count - 0.03
        box = frame.inset_axes([0.05, top - height, 0.90, height])
        box.set_axis_off()
        box.add_patch(FancyBboxPatch((0, 0), 1, 1, boxstyle="round,pad=0,rounding_size=0.04",
                                     transform=box.transAxes, facecolor=color, edgecolor="none"))
        box.text(0.5, 0.62, format_value(value, spec.unit), transform=box.transAxes, color="white", fontsize=18,
                 fontweight="bold", ha="center", va="center")
        box.text(0.5, 0.2, legend, transform=box.transAxes, color="white", fontsize=7.5, ha="center",
                 va="center")


def _draw_table(frame, spec, series) -> None:
    rows = sorted(((labels, points[-1][1]) for _, labels, points in series if points),
                  key=lambda item: (-item[1], sorted(item[0].items())))
    if not rows:
        _no_data(frame)
        return
    columns = sorted({k for labels, _ in rows for k in labels if k != "__name__"})
    ax = frame.inset_axes([0.03, 0.04, 0.94, 0.80])
    ax.set_axis_off()
    cells = [[labels.get(c, "") for c in columns] + [f"{value:.0f}"] for labels, value in rows]
    table = ax.table(cellText=cells, colLabels=columns + ["alert transitions"], loc="upper center",
                     cellLoc="left", colLoc="left")
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    for (row, _), cell in table.get_celld().items():
        cell.set_edgecolor(BORDER)
        cell.set_facecolor(PANEL)
        cell.get_text().set_color(TEXT if row else MUTED)
        cell.set_height(min(0.085, 0.95 / (len(cells) + 1)))


def render(panels: dict, output: Path, start: float, end: float, subtitle: str = "") -> Path:
    """Draws the dashboard from `collect()`'s result and writes a PNG to `output`."""
    dashboard = load_dashboard_module()
    total_units = sum(ROW_HEADER_UNITS + max(p.height for p in row.panels) for row in dashboard.ROWS)
    title_units = 2
    fig = plt.figure(figsize=(FIGURE_WIDTH_IN, (total_units + title_units) * INCHES_PER_UNIT), facecolor=BACKGROUND)
    grid = fig.add_gridspec(total_units + title_units, 24, left=0.008, right=0.992, top=0.995, bottom=0.005,
                            wspace=0.0, hspace=0.0)
    header = fig.add_subplot(grid[0:title_units, :])
    header.set_axis_off()
    header.text(0.0, 0.62, dashboard.DASHBOARD_TITLE, transform=header.transAxes, color=TEXT, fontsize=15,
                fontweight="bold", va="center")
    window = (f"{datetime.fromtimestamp(start):%Y-%m-%d %H:%M:%S} to {datetime.fromtimestamp(end):%H:%M:%S}"
              + (f"  ·  {subtitle}" if subtitle else ""))
    header.text(1.0, 0.62, window, transform=header.transAxes, color=MUTED, fontsize=9, va="center", ha="right")

    y = title_units
    for row in dashboard.ROWS:
        label = fig.add_subplot(grid[y:y + ROW_HEADER_UNITS, :])
        label.set_axis_off()
        label.text(0.002, 0.4, row.title, transform=label.transAxes, color=TEXT, fontsize=11.5,
                   fontweight="bold", va="center")
        y += ROW_HEADER_UNITS
        x = 0
        for spec in row.panels:
            frame = _frame(fig, grid[y:y + spec.height, x:x + spec.width], spec.title, spec.description)
            series = panels.get(spec.title, [])
            if spec.kind == "stat":
                _draw_stat(frame, spec, series)
            elif spec.kind == "table":
                _draw_table(frame, spec, series)
            else:
                _draw_timeseries(frame, spec, series, start, end, stacked_bars=spec.kind == "bars")
            x += spec.width
        y += max(p.height for p in row.panels)

    output.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(output, dpi=100, facecolor=BACKGROUND)
    plt.close(fig)
    return output


def empty_panels(panels: dict) -> list[str]:
    return [title for title, series in panels.items()
            if not any(not math.isnan(v) for _, _, points in series for _, v in points)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prometheus", default="http://127.0.0.1:9090", help="Prometheus base URL")
    parser.add_argument("--minutes", type=float, default=15.0, help="time window ending now (or at --end)")
    parser.add_argument("--end", type=float, help="end of the window, unix seconds (default: now)")
    parser.add_argument("--step", type=float, help="seconds between points (default: window / 240, min 1)")
    parser.add_argument("--rate-interval", default="1m", help="value of $__rate_interval (default 1m)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--require-data", action="store_true", help="exit 1 if any panel has no data")
    args = parser.parse_args(argv)

    end = args.end if args.end is not None else time.time()
    start = end - args.minutes * 60
    step = args.step or max(1.0, round((end - start) / 240))
    try:
        panels = collect(prometheus_fetcher(args.prometheus), start, end, step, args.rate_interval)
    except RenderError as error:
        print(f"render_png: {error}", file=sys.stderr)
        return 1
    render(panels, args.output, start, end, subtitle=f"Prometheus {args.prometheus}")
    empty = empty_panels(panels)
    print(f"wrote {args.output}" + (f"; panels without data: {', '.join(empty)}" if empty else ""), file=sys.stderr)
    return 1 if empty and args.require_data else 0


if __name__ == "__main__":
    sys.exit(main())
