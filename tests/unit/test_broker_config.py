"""LocalBroker's generated config and JVM command line, checked without starting a JVM."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest

from streams import broker as broker_module
from streams.broker import MAX_HEAP_MB, MIN_HEAP_MB, STATE_DIR_ENV, BrokerStatus, LocalBroker, register


def _properties(broker: LocalBroker) -> dict[str, str]:
    lines = [line for line in broker.server_properties().splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


@pytest.fixture(autouse=True)
def _no_state_dir_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(STATE_DIR_ENV, raising=False)


def test_single_node_kraft_roles_and_ports(tmp_path: Path) -> None:
    properties = _properties(LocalBroker(port=9300, state_dir=tmp_path))

    assert properties["process.roles"] == "broker,controller"
    assert properties["controller.quorum.voters"] == "1@127.0.0.1:9301"
    assert properties["listeners"] == "PLAINTEXT://127.0.0.1:9300,CONTROLLER://127.0.0.1:9301"
    assert properties["advertised.listeners"] == "PLAINTEXT://127.0.0.1:9300"
    assert properties["controller.listener.names"] == "CONTROLLER"
    assert properties["log.dirs"] == str(tmp_path / "data")
    assert properties["offsets.topic.replication.factor"] == "1"
    assert properties["transaction.state.log.replication.factor"] == "1"
    assert properties["group.initial.rebalance.delay.ms"] == "0"


def test_explicit_controller_port_and_host(tmp_path: Path) -> None:
    broker = LocalBroker(port=9300, controller_port=9400, host="127.0.0.2", state_dir=tmp_path)

    assert broker.bootstrap == "127.0.0.2:9300"
    assert _properties(broker)["controller.quorum.voters"] == "1@127.0.0.2:9400"


def test_controller_port_must_differ_from_broker_port(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        LocalBroker(port=9300, controller_port=9300, state_dir=tmp_path)


@pytest.mark.parametrize(
    ("requested", "expected"),
    [(4096, MAX_HEAP_MB), (MAX_HEAP_MB, MAX_HEAP_MB), (256, 256), (16, MIN_HEAP_MB)],
)
def test_heap_is_clamped(tmp_path: Path, requested: int, expected: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(broker_module.shutil, "which", lambda name: f"/usr/bin/{name}")
    command = LocalBroker(state_dir=tmp_path, heap_mb=requested).java_command()

    assert [arg for arg in command if arg.startswith("-Xmx")] == [f"-Xmx{expected}m"]
    assert command[-2:] == ["kafka.Kafka", str(tmp_path / "server.properties")]


def test_state_dir_defaults_per_port_and_env_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert LocalBroker(port=9300).state_dir == broker_module.REPO_ROOT / ".run" / "kafka-9300"

    monkeypatch.setenv(STATE_DIR_ENV, str(tmp_path / "from-env"))
    assert LocalBroker(port=9300).state_dir == tmp_path / "from-env"
    assert LocalBroker(port=9300, state_dir=tmp_path / "explicit").state_dir == tmp_path / "explicit"


def test_register_adds_broker_subcommands() -> None:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command", required=True))

    args = parser.parse_args(["broker", "status", "--port", "9300"])

    assert args.port == 9300
    assert callable(args.func)
    for action in ("start", "stop", "fetch"):
        assert callable(parser.parse_args(["broker", action]).func)


def test_status_without_pid_file_is_stopped(tmp_path: Path) -> None:
    status = LocalBroker(port=9300, state_dir=tmp_path).status()

    assert status == BrokerStatus(running=False, pid=None, bootstrap="127.0.0.1:9300", ready=False)


def test_pid_file_of_an_unrelated_process_is_ignored(tmp_path: Path) -> None:
    broker = LocalBroker(port=9300, state_dir=tmp_path)
    broker.pid_file.write_text(f"{os.getpid()}\n")  # alive, but not this state dir's JVM: a reused pid

    assert not broker.status().running


def test_the_broker_commands_use_the_port_the_other_commands_connect_to(tmp_path: Path, monkeypatch) -> None:
    """`COI_LOCAL_BROKER_PORT=9300 coi-risk broker start` started a broker on 9092, where the worker, topics, produce
    and demo (all on local_broker_port) do not look for it."""
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command", required=True))
    monkeypatch.setenv("COI_LOCAL_BROKER_PORT", "9300")
    for action in ("start", "stop", "status", "fetch"):
        args = parser.parse_args(["broker", action, "--state-dir", str(tmp_path)])
        assert broker_module._broker_from_args(args).port == 9300, action
    flagged = parser.parse_args(["broker", "status", "--port", "9400", "--state-dir", str(tmp_path)])
    assert broker_module._broker_from_args(flagged).port == 9400  # the flag still wins
    monkeypatch.delenv("COI_LOCAL_BROKER_PORT")
    args = parser.parse_args(["broker", "status", "--state-dir", str(tmp_path)])
    assert broker_module._broker_from_args(args).port == broker_module.DEFAULT_PORT
