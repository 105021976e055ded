"""Shared fixtures: a real Kafka broker for the tests marked ``kafka``.

``KAFKA_BOOTSTRAP_SERVERS`` points the suite at an existing broker; otherwise the session starts one with
``streams.broker.LocalBroker`` on ``COI_TEST_KAFKA_PORT`` (default 19092, controller on the next port) in a
fresh temporary state dir and stops it at the end. A broker that cannot be reached or started fails the
tests that need it: a skipped Kafka test would hide exactly the breakage it exists to catch.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from streams.broker import BrokerError, LocalBroker, fetch_cluster_metadata

TEST_KAFKA_PORT_ENV = "COI_TEST_KAFKA_PORT"
DEFAULT_TEST_KAFKA_PORT = 19092
BROKER_START_TIMEOUT_S = 90.0


@pytest.fixture(scope="session")
def local_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBroker]:
    """A LocalBroker started for this session (also when KAFKA_BOOTSTRAP_SERVERS names another broker)."""
    port = int(os.environ.get(TEST_KAFKA_PORT_ENV, DEFAULT_TEST_KAFKA_PORT))
    broker = LocalBroker(port=port, state_dir=tmp_path_factory.mktemp("kafka-state"))
    try:
        broker.start(timeout=BROKER_START_TIMEOUT_S)
    except BrokerError as exc:
        pytest.fail(f"could not start the test Kafka broker on {broker.bootstrap}: {exc}", pytrace=False)
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def kafka_bootstrap(request: pytest.FixtureRequest) -> str:
    """``host:port`` of a broker that has answered a metadata request."""
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if not external:
        return request.getfixturevalue("local_broker").bootstrap
    try:
        fetch_cluster_metadata(external, timeout=10.0)
    except BrokerError as exc:
        pytest.fail(f"KAFKA_BOOTSTRAP_SERVERS={external} is set but the broker does not answer: {exc}", pytrace=False)
    return external


@pytest.fixture
def unique_topic(request: pytest.FixtureRequest) -> str:
    """A topic name no other test (or earlier run against a long-lived broker) has used."""
    test_name = "".join(ch if ch.isalnum() else "-" for ch in request.node.name)[:80]
    return f"test-{test_name}-{uuid.uuid4().hex[:8]}"
