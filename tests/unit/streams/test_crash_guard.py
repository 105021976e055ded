"""The crash guard with real process deaths: a message the worker dies on is skipped after max_processing_attempts
deaths, live and on later replays, while deaths outside processing (publishing) count against nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from streams.crash_guard import CrashGuard
from tests.unit.streams.test_processor import record

REPO = Path(__file__).resolve().parents[3]
DIES = 77

# Processes the first six seed events with a crash guard on DATA_DIR; applying the event at POISON_OFFSET ends the
# process at once (as the kernel killing it would: no exception, no cleanup). Prints the reject reasons.
WORKER = """
import json, os, sys
from streams.crash_guard import CrashGuard
from tests.unit.streams.test_poison import LINES, keyed
from tests.unit.streams.test_processor import make_processor

data_dir, poison_offset, die_after_processing = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
processor, _ = make_processor()
processor.crash_guard = CrashGuard(data_dir, max_attempts=3)
poison_id = json.loads(LINES[poison_offset])["event_id"]
apply = processor.engine.apply

def dying_apply(event, **kwargs):
    if event.event_id == poison_id:
        os._exit(%d)
    return apply(event, **kwargs)

processor.engine.apply = dying_apply
reasons = [processor.process(keyed(line, offset)).rejected for offset, line in enumerate(LINES[:6])]
processor.crash_guard.idle()  # what the worker does once a batch is processed, before publishing
print(json.dumps([reason and reason.value for reason in reasons]))
if die_after_processing:
    os._exit(%d)  # a publishing failure: not the messages' fault
""" % (DIES, DIES)


def run(data_dir: Path, poison_offset: int, die_after_processing: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", WORKER, str(data_dir), str(poison_offset),
                           "1" if die_after_processing else "0"],
                          cwd=REPO, capture_output=True, text=True, timeout=120)


def test_a_message_the_worker_keeps_dying_on_is_skipped_after_max_attempts(tmp_path):
    for attempt in range(3):
        result = run(tmp_path, poison_offset=2)
        assert result.returncode == DIES, (attempt, result.stderr)
    result = run(tmp_path, poison_offset=2)
    assert result.returncode == 0, result.stderr
    reasons = json.loads(result.stdout)
    assert reasons == [None, None, "processing_attempts_exceeded", None, None, None]
    assert "died while processing in:0:2 (3 of 3" in result.stderr
    # the decision is kept: a later run (a recovery replay of the same log) skips it again without dying
    again = run(tmp_path, poison_offset=2)
    assert again.returncode == 0 and json.loads(again.stdout) == reasons


def test_deaths_after_processing_count_against_no_message(tmp_path):
    for _ in range(4):
        result = run(tmp_path, poison_offset=10, die_after_processing=True)
        assert result.returncode == DIES and json.loads(result.stdout) == [None] * 6, result.stderr
    guard = CrashGuard(tmp_path, max_attempts=1)
    assert not any(guard.exhausted(record(b"", offset)) for offset in range(6))


def test_deaths_are_counted_per_position(tmp_path):
    guard = CrashGuard(tmp_path, max_attempts=2)
    guard.entering(record(b"", 5))
    guard.close()  # the process dies here
    guard = CrashGuard(tmp_path, max_attempts=2)
    assert guard.deaths(record(b"", 5)) == 1 and not guard.exhausted(record(b"", 5))
    assert guard.deaths(record(b"", 5, topic="other")) == 0
    guard.entering(record(b"", 5))
    guard.close()
    guard = CrashGuard(tmp_path, max_attempts=2)
    assert guard.exhausted(record(b"", 5)) and not guard.exhausted(record(b"", 6))


def test_a_clean_exit_while_processing_counts_no_death(tmp_path):
    script = ("import sys\nfrom streams.crash_guard import CrashGuard\n"
              "from tests.unit.streams.test_processor import record\n"
              "CrashGuard(sys.argv[1], 1).entering(record(b'', 3))\nsys.exit(0)\n")
    for _ in range(2):
        subprocess.run([sys.executable, "-c", script, str(tmp_path)], cwd=REPO, check=True, timeout=60)
    assert CrashGuard(tmp_path, max_attempts=1).deaths(record(b"", 3)) == 0
