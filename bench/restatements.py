"""What one fact stated many times costs the worker's path: each event of a flood of restatements of one relation
of the founding case, processed as the worker processes it (`EventProcessor.process`: the resolution layer, the
engine's apply and rescoring, the alert tracker, rendering what would be published).

    .venv/bin/python bench/restatements.py --statements 5000 --publishers 50
    COI_RISK_REPO=/path/to/other/checkout .venv/bin/python bench/restatements.py

The founding case (`examples/binance-wlfi.jsonl`) is loaded first; then its relation `--relation` (default
`eric-owns-wlf`, a hop of the case's conflict paths) is restated `--statements` times, each statement a new
relation id of the same fact from one of `--publishers` publishers in turn, observed one second after the previous
one, citing the case's article (`--articles N`: N articles in turn, each a path under it; `--articles` as many as
`--statements` makes every restatement cite an article of its own; by default all relay the case's one, so its
publishers count as one source). `--amount` gives every restatement a sum (restate a payment-like relation such as
`sun-invests-wlf`). Reports the mean CPU time an event (`time.process_time`) over the 100 events before each checkpoint, and the
outputs those events published.

    .venv/bin/python bench/restatements.py --graph-only --statements 40000

`--distinct-sums` (with `--amount`): each "restatement" is a payment of a sum of its own, so the edge holds one
fact per event, as a ministry paying one vendor for thousands of contracts does.

`--graph-only`: the restatements alone, applied to a `TemporalGraph` (no parsing, no scoring): the mean CPU time
an event over each window of 10,000.

    .venv/bin/python bench/restatements.py --graph-only --statements 20000 --withdraw 2000

`--withdraw N` (with `--graph-only`): then N of the restatements retracted, one by one from the oldest, as a source
withdrawing what it stated: the mean CPU time a retraction, and a digest of the facts left (the same on any
checkout that regroups alike).
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import hashlib
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(os.environ.get("COI_RISK_REPO", Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(REPO))

WINDOW = 100


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--statements", type=int, default=5_000, help="restatements of the one fact")
    parser.add_argument("--publishers", type=int, default=50, help="publishers the restatements cycle through")
    parser.add_argument("--articles", type=int, default=1,
                        help="articles the restatements cycle through (1: all cite the case's own, relayed)")
    parser.add_argument("--relation", default="eric-owns-wlf", help="the relation id restated")
    parser.add_argument("--amount", type=float, default=None, help="a sum every restatement gives")
    parser.add_argument("--distinct-sums", action="store_true",
                        help="each restatement a payment of its own: --amount plus its number (a ministry paying "
                             "one vendor for each contract)")
    parser.add_argument("--graph-only", action="store_true", help="time TemporalGraph.apply alone")
    parser.add_argument("--withdraw", type=int, default=0, metavar="N",
                        help="with --graph-only: then retract N of the restatements, oldest first")
    args = parser.parse_args()
    if args.graph_only:
        return graph_only(args)

    from scoring import AlertTracker
    from scoring.resolution import ResolvingEngine
    from streams.processor import EventProcessor, InputRecord

    seed = _seed()
    (template,) = [event for event in seed if event["relation_id"] == args.relation]
    layer = ResolvingEngine()
    processor = EventProcessor(layer, AlertTracker(layer.engine.config))
    offset = 0
    for event in seed:
        processor.process(InputRecord(json.dumps(event).encode(), None, "events", 0, offset))
        offset += 1
    checkpoints = sorted({n for n in (WINDOW, 1_000, 3_000, 10_000, 30_000) if n <= args.statements}
                         | {args.statements})
    spent, outputs, rows = [], [], []
    for number in range(1, args.statements + 1):
        record = InputRecord(json.dumps(_restatement(template, number, args)).encode(), None, "events", 0, offset)
        offset += 1
        started = time.process_time()
        result = processor.process(record)
        spent.append(time.process_time() - started)
        outputs.append(len(result.outbound))
        if number in checkpoints:
            window = spent[-WINDOW:]
            rows.append({"statements": number, "mean_ms": round(1000 * sum(window) / len(window), 3),
                         "max_ms": round(1000 * max(window), 3), "outputs": sum(outputs[-WINDOW:])})
    print(json.dumps({"repo": str(REPO), "relation": args.relation, "publishers": args.publishers,
                      "amount": args.amount, "total_cpu_seconds": round(sum(spent), 2), "checkpoints": rows}))
    return 0


def _seed() -> list[dict]:
    return [json.loads(line) for line in (REPO / "examples" / "binance-wlfi.jsonl").read_text().splitlines()
            if line.strip()]


def _restatement(template: dict, number: int, args) -> dict:
    """The `number`th restatement of the template: a relation id and event id of its own, one second after the
    previous one, from the next publisher in turn, with `--amount` if given."""
    event = copy.deepcopy(template)
    event["event_id"] = f"restated-{number}"
    event["relation_id"] = f"{args.relation}-restated-{number}"
    first = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    event["observed_at"] = (first + dt.timedelta(seconds=number)).isoformat().replace("+00:00", "Z")
    event["provenance"]["publisher"] = f"publisher {number % args.publishers}"
    if args.articles > 1:  # (an option older checkouts lack: their runs are of the default, one article)
        event["provenance"]["source_url"] += f"/{number % args.articles}"
    if args.amount is not None:
        event["properties"]["amount"] = args.amount + (number if args.distinct_sums else 0)
        event["properties"].setdefault("currency", "USD")
    return event


def graph_only(args) -> int:
    from schemas.validation import parse_event
    from scoring.graph import TemporalGraph

    (template,) = [event for event in _seed() if event["relation_id"] == args.relation]
    events = [parse_event(json.dumps(_restatement(template, number, args)).encode())
              for number in range(1, args.statements + 1)]
    graph = TemporalGraph()
    windows, started, since = [], time.process_time(), 0
    for number, event in enumerate(events, 1):
        graph.apply(event)
        if number % 10_000 == 0 or number == len(events):
            now = time.process_time()
            windows.append({"statements": number, "mean_us": round((now - started) / (number - since) * 1e6, 1)})
            started, since = now, number
    withdrawn = {}
    if args.withdraw:
        retractions = []
        for number in range(1, args.withdraw + 1):
            document = _restatement(template, number, args)
            document.update(op="retract", event_id=f"withdrawn-{number}", observed_at="2027-01-01T00:00:00Z")
            retractions.append(parse_event(json.dumps(document).encode()))
        started = time.process_time()
        for event in retractions:
            graph.apply(event)
        spent = time.process_time() - started
        facts = sorted((fact.relation_id, fact.event_id, str(fact.start), str(fact.end)) for fact in graph.facts())
        withdrawn = {"withdrawn": args.withdraw, "mean_us": round(spent / args.withdraw * 1e6, 1),
                     "facts": len(facts), "digest": hashlib.sha256(repr(facts).encode()).hexdigest()[:16]}
    print(json.dumps({"repo": str(REPO), "relation": args.relation, "publishers": args.publishers,
                      "graph_only": True, "windows": windows, **({"withdrawal": withdrawn} if withdrawn else {})}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
