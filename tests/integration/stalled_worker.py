"""`python -m tests.integration.stalled_worker`: the real worker (`coi-risk worker`, settings from the environment)
whose agent, holding the engine, waits before processing each batch for as long as the file named by
STALLED_WORKER_GATE exists: a batch that takes minutes, with the event loop free (the web server, timers and
heartbeats run), as a batch of very slow events or a snapshot written in a thread would hold it.

Only the agent's processing is held; Kafka, Faust and the worker are the real ones (test_lag_while_stalled.py)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from streams.app import Pipeline

GATE_ENV = "STALLED_WORKER_GATE"


def main() -> int:
    gate = Path(os.environ[GATE_ENV])
    process_and_publish = Pipeline._process_and_publish

    async def stalled(self, batch) -> None:
        while gate.exists():
            await asyncio.sleep(0.1)
        await process_and_publish(self, batch)

    Pipeline._process_and_publish = stalled
    from streams.cli import main as cli

    return cli(["worker", "--loglevel", "info"])


if __name__ == "__main__":
    sys.exit(main())
