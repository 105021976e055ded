"""Where a restart's snapshot load goes: checking the file, the unpickler's own work, and the kernel's work of
backing the memory the restored state fills (page faults: system time).

    .venv/bin/python bench/snapshot_load.py --relations 1000000 --state-dir /tmp/bsw1m --rounds 3

The state is the one `bench/snapshot_writers.py` keeps in `--state-dir` (built there first if missing: N synthetic
relations through `coi-risk load`'s path). Each round loads its newest snapshot in a fresh process, as a restarted
worker does (`SnapshotStore.load(..., freeze=True)`), and reports wall time for the checks (header, length, HMAC)
and for unpickling, the process's user and system CPU time and minor page faults over the load, and its resident
anonymous memory at the peak and after; and how much of the small-object allocator's memory holds objects after
the load and how much is free blocks (the places of objects that lived only while unpickling).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

_MB = 1 << 20


def _usage() -> tuple[float, float, float, int]:
    used = resource.getrusage(resource.RUSAGE_SELF)
    return time.perf_counter(), used.ru_utime, used.ru_stime, used.ru_minflt


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def load_once(state_dir: Path, relations: int) -> dict:
    import scoring.resolution  # noqa: F401 - the classes a body names, imported before the clock starts, as in the worker
    import streams.snapshots as snapshots
    from bench.snapshot_writers import state_identity
    from streams.snapshots import SnapshotStore

    store = SnapshotStore(state_dir, state_identity(relations))
    path = store.paths()[0]
    checked_at = {}
    check = snapshots.SnapshotStore._checked_body

    def timed_check(self, *args):
        try:
            return check(self, *args)
        finally:
            checked_at["usage"] = _usage()

    snapshots.SnapshotStore._checked_body = timed_check
    before = _usage()
    state = store.load(path, freeze=True)
    after = _usage()
    middle = checked_at["usage"]
    in_blocks, free_blocks = _object_allocator_blocks()
    return {"relations": state.engine.stats()["relations"], "snapshot_mb": round(path.stat().st_size / _MB),
            "check_s": round(middle[0] - before[0], 2), "unpickle_s": round(after[0] - middle[0], 2),
            "user_s": round(after[1] - before[1], 2), "system_s": round(after[2] - before[2], 2),
            "minor_faults": after[3] - before[3], "faulted_mb": round((after[3] - before[3]) * 4096 / _MB),
            "peak_rss_mb": round(_status_kb("VmHWM") / 1024), "rss_anon_after_mb": round(_status_kb("RssAnon") / 1024),
            "allocator_used_mb": round(in_blocks / _MB), "allocator_free_mb": round(free_blocks / _MB)}


def _object_allocator_blocks() -> tuple[int, int]:
    """(bytes in allocated blocks, bytes in free blocks) of the interpreter's small-object allocator now: what
    `sys._debugmallocstats` writes to the C stderr. Free blocks are held memory no object uses (a freed object's
    place, reusable only by objects of its size class)."""
    import tempfile

    with tempfile.TemporaryFile() as captured:
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            os.dup2(captured.fileno(), 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        captured.seek(0)
        text = captured.read().decode(errors="replace")

    def figure(label: str) -> int:
        for line in text.splitlines():
            if line.startswith(label):
                return int(line.split("=")[1].replace(",", "").strip())
        return 0

    return figure("# bytes in allocated blocks"), figure("# bytes in available blocks")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--relations", type=int, default=200_000)
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # internal: one load, this process
    args = parser.parse_args()
    if args.one:
        print(json.dumps(load_once(args.state_dir, args.relations)))
        return 0
    from bench.snapshot_writers import ensure_state

    ensure_state(args.state_dir, args.relations)
    for number in range(1, args.rounds + 1):
        done = subprocess.run([sys.executable, __file__, "--one", "--relations", str(args.relations),
                               "--state-dir", str(args.state_dir)], check=True, capture_output=True, text=True)
        print(json.dumps({"round": number, **json.loads(done.stdout)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
