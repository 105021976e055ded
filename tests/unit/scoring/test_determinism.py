"""The same events give byte-identical scores and alert ids across runs and processes (hash seeds differ)."""

from __future__ import annotations

import os
import subprocess
import sys

from .conftest import REPO

# Applies the seed scenario, then a shuffled copy of it with retractions, and prints every published score and
# alert as JSON: a process's whole observable output.
SCRIPT = r"""
import random
from schemas.validation import parse_event
from scoring import AlertTracker, Engine
lines = open("examples/binance-wlfi.jsonl", "rb").read().splitlines()
events = [parse_event(line) for line in lines if line.strip()]
shuffled = list(events)
random.Random(7).shuffle(shuffled)
retractions = [e.model_copy(update={"event_id": "x-" + e.event_id, "op": "retract",
                                    "observed_at": e.observed_at.replace(year=2026)}) for e in events[::5]]
engine = Engine()
tracker = AlertTracker(engine.config)
for number, event in enumerate(shuffled + retractions):
    changes = engine.apply(event, offset=f"0:{number}", input_offsets={"0": number + 1})
    for change in changes:
        print(change.published().model_dump_json())
    for alert in tracker.observe(changes):
        print(alert.model_dump_json())
for score in engine.scores():
    print(score.model_dump_json())
print(sorted(engine.recompute_all()))
"""


def run(hash_seed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=REPO, env=env, capture_output=True, text=True,
                            check=True)
    return result.stdout


def test_two_processes_with_different_hash_seeds_print_identical_bytes():
    first, second = run("1"), run("12345")
    assert first == second
    assert '"state":"raised"' in first and '"state":"resolved"' in first
