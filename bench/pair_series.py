"""What `coi_pair_alerts_total` costs the worker as alerting pairs grow: the memory of its series and the CPU of
one `/metrics` render (which runs on the worker's event loop).

    .venv/bin/python bench/pair_series.py --pairs 10000 100000
    COI_RISK_REPO=/path/to/other/checkout .venv/bin/python bench/pair_series.py

Counts one alert transition for each of `pairs` distinct (actor, counterparty) pairs through the worker's metrics
(`PipelineMetrics.count_pair_alert` where the checkout has it, else the labelled counter directly, as the
processor did before), with tracemalloc on, then renders the registry once.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import tracemalloc
from pathlib import Path

REPO = Path(os.environ.get("COI_RISK_REPO", Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(REPO))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()

    from prometheus_client import CollectorRegistry, generate_latest

    from streams.metrics import PipelineMetrics

    for pairs in args.pairs:
        metrics = PipelineMetrics(CollectorRegistry())
        count = getattr(metrics, "count_pair_alert", None) or (
            lambda actor, counterparty: metrics.pair_alerts.labels(actor=actor, counterparty=counterparty).inc())
        tracemalloc.start()
        for i in range(pairs):
            count(f"person-{i:08d}", f"company-{i:08d}")
        held, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        started = time.process_time()
        body = generate_latest(metrics.registry)
        render = time.process_time() - started
        print(json.dumps({"repo": str(REPO), "pairs": pairs, "series_mib": round(held / 2**20, 1),
                          "render_cpu_ms": round(render * 1000), "body_mib": round(len(body) / 2**20, 2)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
