"""How long the checks before parsing take on a message of escaped quotes left without its closing quote, followed by
more brackets than an event may nest: the depth scan's worst input (`schemas.validation`).

    .venv/bin/python bench/nesting_scan.py
    COI_RISK_REPO=/path/to/other/checkout .venv/bin/python bench/nesting_scan.py

Prints, for 4 KiB, 16 KiB and 64 KiB (the default `max_event_bytes`), the reason the message is rejected and the
wall time `parse_event` took.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

REPO = Path(os.environ.get("COI_RISK_REPO", Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(REPO))


def main() -> int:
    from schemas.validation import DEFAULT_MAX_EVENT_BYTES, EventRejected, parse_event

    rows = []
    for size in (4096, 16384, DEFAULT_MAX_EVENT_BYTES):
        raw = ('"' + '\\"' * ((size - 18) // 2) + "[" * 17).encode()
        started = time.perf_counter()
        try:
            parse_event(raw)
            reason = "accepted"
        except EventRejected as rejected:
            reason = rejected.reason.value
        rows.append({"bytes": len(raw), "reason": reason, "seconds": round(time.perf_counter() - started, 3)})
    print(json.dumps({"repo": str(REPO), "messages": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
