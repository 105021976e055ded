"""The broker a benchmark runs against: the one it was given, or one of the project's own it starts and stops."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def bootstrap_or_local_broker(bootstrap: str | None, port: int, state_dir: Path) -> Iterator[str]:
    """`bootstrap` if given (--bootstrap or KAFKA_BOOTSTRAP_SERVERS), else the address of a local broker started
    on `port` with its state in `state_dir`, stopped on the way out."""
    if bootstrap:
        yield bootstrap
        return
    from streams.broker import LocalBroker

    broker = LocalBroker(port=port, state_dir=state_dir)
    broker.start(timeout=120)
    try:
        yield broker.bootstrap
    finally:
        broker.stop()
