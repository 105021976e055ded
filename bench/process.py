"""What the benchmarks that measure one size per child process share: the child's peak RSS, and running a child
that prints its result as the last JSON line."""

from __future__ import annotations

import json
import subprocess


def peak_rss_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


def measure_in_child(command: list[str]) -> dict:
    """Run a benchmark child (a fresh process, so sizes do not share a heap) and return its last JSON line."""
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return json.loads(output.strip().splitlines()[-1])
