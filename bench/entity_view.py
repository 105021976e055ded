"""What `GET /entities/ID` costs while many merge suggestions are open: the cluster view of one id
(`streams.web.entity_view`), rendered as the worker does, with `--suggestions` open `proposed` judgements between
other ids.

    .venv/bin/python bench/entity_view.py --suggestions 20000
    COI_RISK_REPO=/path/to/other/checkout .venv/bin/python bench/entity_view.py
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO = Path(os.environ.get("COI_RISK_REPO", Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(REPO))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--suggestions", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()

    from scoring import Engine, ScoringConfig
    from scoring.resolution import ResolvingEngine
    from streams.web import entity_view
    from tests.unit.scoring.resolution_support import judgement

    layer = ResolvingEngine(Engine(ScoringConfig.load()))
    for i in range(args.suggestions):
        layer.apply(judgement((f"p-{i}", "Person", f"P {i}", ()), (f"q-{i}", "Person", f"Q {i}", ()), "proposed",
                              matcher="bench", confidence_score=0.8))
    started = time.process_time()
    for _ in range(args.rounds):
        body, status = entity_view(layer, "p-1")
        json.dumps(body)
    each = (time.process_time() - started) / args.rounds
    print(json.dumps({"repo": str(REPO), "open_suggestions": args.suggestions, "status": status,
                      "suggestions_shown": len(body["suggestions"]), "cpu_ms_per_view": round(each * 1000, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
