"""What thousands of payments between two parties cost the engine now that they add up (`scoring.payments`).

    .venv/bin/python bench/payment_sums.py --payments 10000
    COI_RISK_REPO=/path/to/other/checkout .venv/bin/python bench/payment_sums.py --payments 10000 --dated

A minister controls a regulator that regulates a bank; the bank pays the minister's spouse `--payments` times, each
a sum of its own (1,000 USD plus the payment's number), undated or (`--dated`) on one of 500 successive days. Each
payment stated at confidence 0.9, or (`--varied`) at one of 4,999 confidences from 0.5 up, so that each has a factor
of its own (`scoring.payments` sums the payments factor by factor). Each
payment is applied to the engine alone (`Engine.apply`: the graph, the rescoring); reported: the mean CPU time an
event (`time.process_time`) over the 100 events before each checkpoint, and the pair's score there (the sum of the
payments, where the checkout adds them up; their noisy-OR before).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

REPO = Path(os.environ.get("COI_RISK_REPO", Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(REPO))

CHECKPOINTS = (100, 1_000, 3_000, 10_000, 30_000)


def _event(number: int, relation_type: str, source: dict, target: dict, confidence: float = 0.9, **fields):
    from schemas import validate_event

    document = {"schema_version": "1.0", "event_id": f"e{number}", "op": "upsert",
                "relation_id": fields.pop("relation_id", f"r{number}"), "relation_type": relation_type,
                "source": source, "target": target, "status": "confirmed",
                "observed_at": (dt.datetime(2025, 6, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=number)).isoformat(),
                "provenance": {"source_url": "https://example.org/a", "publisher": "Example Daily",
                               "retrieved_at": "2025-06-01T00:00:00Z",
                               "extractor": {"name": "bench", "version": "1"}, "confidence": confidence}}
    document.update(fields)
    return validate_event(document)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--payments", type=int, default=10_000)
    parser.add_argument("--dated", action="store_true", help="each payment on one of 500 successive days")
    parser.add_argument("--varied", action="store_true", help="each payment at a confidence of its own")
    args = parser.parse_args()

    from scoring import Engine, ScoringConfig

    def party(entity_id: str, schema: str, topics: tuple = ()) -> dict:
        return {"id": entity_id, "schema": schema, "name": entity_id, "topics": list(topics)}

    minister, regulator = party("minister", "Person", ("role.pep",)), party("regulator", "PublicBody")
    bank, spouse = party("bank", "Company"), party("spouse", "Person")
    engine = Engine(ScoringConfig.load())
    engine.apply_many([_event(1, "control", minister, regulator), _event(2, "regulates", regulator, bank),
                       _event(3, "family", minister, spouse)])
    spent = []
    for number in range(args.payments):
        dated = {"start_date": (dt.date(2024, 1, 1) + dt.timedelta(days=number % 500)).isoformat()} \
            if args.dated else {}
        confidence = 0.5 + (number % 4999) / 10_000 if args.varied else 0.9
        event = _event(10 + number, "payment", bank, spouse, confidence, relation_id=f"paid-{number}",
                       properties={"amount": 1_000 + number, "currency": "USD"}, **dated)
        tick = time.process_time()
        engine.apply(event)
        spent.append(time.process_time() - tick)
        if number + 1 in CHECKPOINTS:
            score = engine.score("minister", "bank")
            print(f"{REPO}: {number + 1:>6} payments  {sum(spent[-100:]) / 100 * 1e3:.2f} ms an event  "
                  f"score {score.score if score else None}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
