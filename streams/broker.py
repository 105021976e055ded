"""A real single-node Kafka broker (KRaft, broker and controller in one JVM) for development and tests.

The jars come from Maven Central through ``deploy/kafka/pom.xml`` into ``deploy/kafka/lib``; everything the
broker writes (generated ``server.properties``, KRaft metadata, topic data, logs, pid file) lives in one
state directory, by default ``<repo>/.run/kafka-<port>`` or ``$COI_KAFKA_STATE_DIR``.

    python -m streams.broker start --port 9092     # or: coi-risk broker start / deploy/kafka/broker.sh start
    python -m streams.broker status --port 9092
    python -m streams.broker stop --port 9092

The JVM runs detached in its own session, so it outlives the command that started it; ``stop`` finds it
again through the pid file. Readiness means the broker answered a metadata request, not that a port opened.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import hashlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

from kafka import KafkaAdminClient
from kafka.errors import KafkaError

from streams.commands.exits import EXIT_FAILED, EXIT_USAGE

REPO_ROOT = Path(__file__).resolve().parents[1]
KAFKA_DEPLOY_DIR = REPO_ROOT / "deploy" / "kafka"
POM_FILE = KAFKA_DEPLOY_DIR / "pom.xml"
LOG4J_CONFIG_FILE = KAFKA_DEPLOY_DIR / "log4j2.yaml"
DEFAULT_JAR_DIR = KAFKA_DEPLOY_DIR / "lib"

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9092
STATE_DIR_ENV = "COI_KAFKA_STATE_DIR"
# Developer laptops and CI run this next to the pipeline; a local single-partition broker never needs more.
MAX_HEAP_MB = 512
MIN_HEAP_MB = 128
NODE_ID = 1
LOG_TAIL_LINES = 30

# Written into the jar dir after a successful fetch: a pom change (new Kafka version) means the jars are stale.
_POM_STAMP_FILE = ".pom.sha256"
_MAVEN_TIMEOUT_S = 900
_FORMAT_TIMEOUT_S = 120
_PROBE_TIMEOUT_S = 3.0
_POLL_INTERVAL_S = 0.5


class BrokerError(RuntimeError):
    """The broker could not be fetched, started or reached; the message says why and what to do."""


@dataclasses.dataclass(frozen=True)
class BrokerStatus:
    running: bool
    pid: int | None
    bootstrap: str
    ready: bool


def clamp_heap_mb(heap_mb: int) -> int:
    return max(MIN_HEAP_MB, min(int(heap_mb), MAX_HEAP_MB))


def fetch_cluster_metadata(bootstrap: str, timeout: float = _PROBE_TIMEOUT_S) -> dict:
    """Ask ``bootstrap`` for cluster metadata; raise BrokerError with the client's reason if it doesn't answer."""
    timeout_ms = max(int(timeout * 1000), 500)
    try:
        with KafkaAdminClient(
            bootstrap_servers=bootstrap,
            client_id="coi-risk-broker-probe",
            bootstrap_timeout_ms=timeout_ms,
            request_timeout_ms=timeout_ms,
            reconnect_backoff_max_ms=500,
        ) as admin:
            metadata = admin.describe_cluster()
    except (KafkaError, OSError) as exc:
        raise BrokerError(f"no metadata from {bootstrap}: {exc!r}") from exc
    if not metadata.get("brokers"):
        raise BrokerError(f"{bootstrap} answered but lists no live brokers yet")
    return metadata


def _new_cluster_id() -> str:
    # Kafka's Uuid.toString(): URL-safe base64 of 16 random bytes, unpadded; Kafka itself rejects a leading "-".
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode("ascii")
        if not cluster_id.startswith("-"):
            return cluster_id


def _port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        return probe.connect_ex((host, port)) == 0


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _process_command_line(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None


def _other_kafka_processes() -> list[str]:
    """Describe running kafka.Kafka JVMs, to point at a leftover broker when a port is taken."""
    found = []
    for proc_dir in Path("/proc").glob("[0-9]*"):
        command_line = _process_command_line(int(proc_dir.name))
        if command_line and " kafka.Kafka " in command_line:
            config = command_line.split(" kafka.Kafka ", 1)[1].strip()
            found.append(f"pid {proc_dir.name} (config {config})")
    return found


def _tail(path: Path, lines: int) -> list[str]:
    try:
        return path.read_text(errors="replace").splitlines()[-lines:]
    except FileNotFoundError:
        return []


@dataclasses.dataclass(frozen=True)
class SaslSslListener:
    """An extra SASL_SSL listener with SCRAM-SHA-512 users, for testing authenticated, encrypted clients.

    `keystore_pem` holds the broker's private key (PKCS#8, unencrypted) and certificate chain in PEM; the
    certificate must name `host`. The users are created when the storage is formatted (`kafka-storage format
    --add-scram`); `kafka_configs_command` adds more later.
    """

    port: int
    keystore_pem: Path
    users: tuple[tuple[str, str], ...] = ()
    host: str = "localhost"
    mechanism: str = "SCRAM-SHA-512"

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"


class LocalBroker:
    """One KRaft broker+controller on ``host:port`` (controller on ``controller_port``) with its own state dir."""

    def __init__(
        self,
        port: int = DEFAULT_PORT,
        *,
        controller_port: int | None = None,
        host: str = DEFAULT_HOST,
        state_dir: str | os.PathLike | None = None,
        heap_mb: int = MAX_HEAP_MB,
        jar_dir: str | os.PathLike | None = None,
        sasl_ssl: SaslSslListener | None = None,
    ) -> None:
        self.host = host
        self.port = int(port)
        self.controller_port = int(controller_port) if controller_port is not None else self.port + 1
        if self.controller_port == self.port:
            raise ValueError("the controller port must differ from the broker port")
        state_dir = state_dir or os.environ.get(STATE_DIR_ENV) or REPO_ROOT / ".run" / f"kafka-{self.port}"
        self.state_dir = Path(state_dir).resolve()
        self.heap_mb = clamp_heap_mb(heap_mb)
        self.jar_dir = Path(jar_dir).resolve() if jar_dir else DEFAULT_JAR_DIR
        self.sasl_ssl = sasl_ssl
        # Set only in the process that started the JVM: lets stop() reap it instead of leaving a zombie.
        self._process: subprocess.Popen | None = None

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def data_dir(self) -> Path:
        return self.state_dir / "data"

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def config_file(self) -> Path:
        return self.state_dir / "server.properties"

    @property
    def pid_file(self) -> Path:
        return self.state_dir / "kafka.pid"

    @property
    def console_log(self) -> Path:
        return self.logs_dir / "kafka.out"

    @property
    def server_log(self) -> Path:
        return self.logs_dir / "server.log"

    def server_properties(self) -> str:
        settings = {
            "process.roles": "broker,controller",
            "node.id": NODE_ID,
            "controller.quorum.voters": f"{NODE_ID}@{self.host}:{self.controller_port}",
            "listeners": f"PLAINTEXT://{self.host}:{self.port},CONTROLLER://{self.host}:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://{self.host}:{self.port}",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "log.dirs": self.data_dir,
            "num.partitions": 1,
            # A single node cannot hold more than one replica of the internal topics.
            "offsets.topic.replication.factor": 1,
            "transaction.state.log.replication.factor": 1,
            "transaction.state.log.min.isr": 1,
            "share.coordinator.state.topic.replication.factor": 1,
            "share.coordinator.state.topic.min.isr": 1,
            # The first consumer group creates __consumer_offsets; 50 partitions would only slow that down here.
            "offsets.topic.num.partitions": 1,
            # Tests and workers join a fresh group each run; waiting 3 s for more members buys nothing.
            "group.initial.rebalance.delay.ms": 0,
        }
        if self.sasl_ssl is not None:
            extra = self.sasl_ssl
            settings["listeners"] += f",SASL_SSL://{extra.host}:{extra.port}"
            settings["advertised.listeners"] += f",SASL_SSL://{extra.bootstrap}"
            settings["listener.security.protocol.map"] += ",SASL_SSL:SASL_SSL"
            prefix = f"listener.name.sasl_ssl.{extra.mechanism.lower()}"
            settings.update({
                "sasl.enabled.mechanisms": extra.mechanism,
                f"{prefix}.sasl.jaas.config": "org.apache.kafka.common.security.scram.ScramLoginModule required;",
                "ssl.keystore.type": "PEM",
                "ssl.keystore.location": Path(extra.keystore_pem).resolve(),
            })
        header = "# Generated by streams/broker.py on every start; edit LocalBroker.server_properties instead.\n"
        return header + "".join(f"{key}={value}\n" for key, value in settings.items())

    def _java_base_command(self) -> list[str]:
        return [
            self._require_tool("java", "a Java 17+ runtime (apt-get install openjdk-17-jre-headless)"),
            f"-Xmx{self.heap_mb}m",
            "-XX:+ExitOnOutOfMemoryError",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={LOG4J_CONFIG_FILE}",
            f"-Dkafka.logs.dir={self.logs_dir}",
            "-cp",
            f"{self.jar_dir}/*",
        ]

    def java_command(self) -> list[str]:
        return [*self._java_base_command(), "kafka.Kafka", str(self.config_file)]

    @staticmethod
    def _require_tool(name: str, what: str) -> str:
        path = shutil.which(name)
        if path is None:
            raise BrokerError(f"`{name}` not found on PATH: the local Kafka broker needs {what}")
        return path

    def _jars_are_current(self) -> bool:
        if not any(self.jar_dir.glob("kafka_2.13-*.jar")):
            return False
        if self.jar_dir != DEFAULT_JAR_DIR:
            return True  # someone else's jar set: theirs to keep current
        stamp = self.jar_dir / _POM_STAMP_FILE
        return stamp.is_file() and stamp.read_text().strip() == _pom_digest()

    def fetch_jars(self, *, force: bool = False) -> Path:
        """Resolve Kafka and its logging backend into the jar dir with Maven, unless they are already there."""
        if not force and self._jars_are_current():
            return self.jar_dir
        self._require_tool("java", "a Java 17+ runtime (apt-get install openjdk-17-jre-headless)")
        maven = self._require_tool("mvn", "Maven once, to download the Kafka jars (apt-get install maven)")
        # Resolve into a scratch dir and swap: a failed or interrupted fetch must not leave a half-filled lib/,
        # and jars from a previous Kafka version must not stay on the classpath next to the new ones.
        staging_dir = self.jar_dir.with_name(self.jar_dir.name + ".partial")
        shutil.rmtree(staging_dir, ignore_errors=True)
        print(f"fetching Kafka jars with Maven into {self.jar_dir} ...", flush=True)
        result = subprocess.run(
            [maven, "-q", "-B", "-f", str(POM_FILE), "dependency:copy-dependencies",
             f"-DoutputDirectory={staging_dir}"],
            capture_output=True,
            text=True,
            timeout=_MAVEN_TIMEOUT_S,
        )
        if result.returncode != 0 or not any(staging_dir.glob("kafka_2.13-*.jar")):
            output = (result.stdout + result.stderr).splitlines()[-LOG_TAIL_LINES:]
            raise BrokerError(f"Maven could not fetch the Kafka jars (exit {result.returncode}):\n" + "\n".join(output))
        (staging_dir / _POM_STAMP_FILE).write_text(_pom_digest() + "\n")
        shutil.rmtree(self.jar_dir, ignore_errors=True)
        staging_dir.rename(self.jar_dir)
        return self.jar_dir

    def _running_pid(self) -> int | None:
        """The pid from the pid file if that process is still this broker's JVM."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        if self._process is not None and self._process.pid == pid:
            return pid if self._process.poll() is None else None
        if not _pid_alive(pid):
            return None
        command_line = _process_command_line(pid)
        # Pids get reused: only a JVM running this state dir's config counts (no /proc: trust the pid file).
        if command_line is not None and str(self.config_file) not in command_line:
            return None
        return pid

    def _is_ready(self) -> bool:
        try:
            fetch_cluster_metadata(self.bootstrap)
        except BrokerError:
            return False
        return True

    def status(self) -> BrokerStatus:
        pid = self._running_pid()
        running = pid is not None
        return BrokerStatus(running=running, pid=pid, bootstrap=self.bootstrap, ready=running and self._is_ready())

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        """The last lines of the JVM's console output and of server.log, labelled, for error messages."""
        sections = []
        for path in (self.console_log, self.server_log):
            tail = _tail(path, lines)
            if tail:
                sections.append(f"--- last {len(tail)} lines of {path} ---\n" + "\n".join(tail))
        return "\n".join(sections) or f"(no log output in {self.logs_dir})"

    def _ensure_ports_free(self) -> None:
        for port in (self.port, self.controller_port):
            if _port_in_use(self.host, port):
                others = _other_kafka_processes()
                hint = f"; running kafka.Kafka processes: {', '.join(others)}" if others else ""
                raise BrokerError(
                    f"port {self.host}:{port} is already in use by another process, not the broker of "
                    f"{self.state_dir}{hint}. Stop it or pick another port (--port)."
                )

    def _format_storage(self) -> None:
        if (self.data_dir / "meta.properties").exists():
            return
        result = subprocess.run(
            [*self._java_base_command(), "kafka.tools.StorageTool", "format",
             "-t", _new_cluster_id(), "-c", str(self.config_file), *self._scram_arguments()],
            capture_output=True,
            text=True,
            timeout=_FORMAT_TIMEOUT_S,
        )
        if result.returncode != 0:
            raise BrokerError(f"formatting KRaft storage in {self.data_dir} failed:\n{result.stdout}{result.stderr}")

    def _scram_arguments(self) -> list[str]:
        # A test broker's throwaway users: their passwords pass through this short-lived command's arguments.
        if self.sasl_ssl is None:
            return []
        return [argument for name, password in self.sasl_ssl.users
                for argument in ("--add-scram", f"{self.sasl_ssl.mechanism}=[name={name},password={password}]")]

    def tool_command(self, main_class: str, *arguments: str) -> list[str]:
        """A Kafka command-line tool (e.g. org.apache.kafka.tools.ConfigCommand = kafka-configs) on the jars."""
        return [*self._java_base_command(), main_class, *arguments]

    def start(self, timeout: float = 60.0) -> BrokerStatus:
        """Start the broker unless it already runs, and return once it answers metadata requests."""
        running_pid = self._running_pid()
        if running_pid is not None:
            print(f"broker already running on {self.bootstrap} (pid {running_pid})", flush=True)
            return self.status()
        self._ensure_ports_free()
        self.fetch_jars()
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        self.config_file.write_text(self.server_properties())
        self._format_storage()

        with open(self.console_log, "ab") as console:
            self._process = subprocess.Popen(
                self.java_command(),
                cwd=self.state_dir,
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pid_file.write_text(f"{self._process.pid}\n")

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            exit_code = self._process.poll()
            if exit_code is not None:
                self.pid_file.unlink(missing_ok=True)
                raise BrokerError(f"Kafka exited with code {exit_code} during startup.\n{self.log_tail()}")
            if self._is_ready():
                print(f"broker ready on {self.bootstrap} (pid {self._process.pid}, state {self.state_dir})", flush=True)
                return self.status()
            time.sleep(_POLL_INTERVAL_S)
        # Not ready in time: don't leave a half-started JVM holding the ports.
        tail = self.log_tail()
        self.stop()
        raise BrokerError(f"Kafka did not answer metadata requests on {self.bootstrap} within {timeout:.0f} s.\n{tail}")

    def _wait_for_exit(self, pid: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._running_pid() != pid:
                return True
            time.sleep(0.2)
        return False

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop the broker (SIGTERM, then SIGKILL after ``timeout``); return whether one was running."""
        pid = self._running_pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            print(f"no broker running on {self.bootstrap} (state {self.state_dir})", flush=True)
            return False
        os.kill(pid, signal.SIGTERM)
        if not self._wait_for_exit(pid, timeout):
            print(f"broker pid {pid} ignored SIGTERM for {timeout:.0f} s; killing it", flush=True)
            os.kill(pid, signal.SIGKILL)
            self._wait_for_exit(pid, 10.0)
        self.pid_file.unlink(missing_ok=True)
        self._process = None
        print(f"broker on {self.bootstrap} stopped (pid {pid})", flush=True)
        return True


def _pom_digest() -> str:
    return hashlib.sha256(POM_FILE.read_bytes()).hexdigest()


def _broker_from_args(args: argparse.Namespace) -> LocalBroker:
    return LocalBroker(port=_port(args), state_dir=args.state_dir)


def _port(args: argparse.Namespace) -> int:
    """--port, else the `local_broker_port` setting: the port every other command connects to when no bootstrap
    servers are set (COI_LOCAL_BROKER_PORT, or the --config/COI_RISK_CONFIG file), else 9092."""
    if args.port is not None:
        return args.port
    from streams.config import command_settings

    return command_settings().local_broker_port


def _run_start(args: argparse.Namespace) -> int:
    _silence_client_retries()
    try:
        _broker_from_args(args).start(timeout=args.timeout)
    except BrokerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return 0


def _run_stop(args: argparse.Namespace) -> int:
    _broker_from_args(args).stop()
    return 0


def _run_status(args: argparse.Namespace) -> int:
    _silence_client_retries()
    status = _broker_from_args(args).status()
    if not status.running:
        print(f"broker on {status.bootstrap}: not running")
        return 3
    readiness = "ready" if status.ready else "NOT answering metadata requests"
    print(f"broker on {status.bootstrap}: running (pid {status.pid}), {readiness}")
    return 0 if status.ready else 1


def _run_fetch(args: argparse.Namespace) -> int:
    broker = _broker_from_args(args)
    try:
        jar_dir = broker.fetch_jars(force=args.force)
    except BrokerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"Kafka jars ready in {jar_dir}")
    return 0


def _silence_client_retries() -> None:
    # While the broker boots, kafka-python logs every refused connection; the CLI reports the outcome itself.
    logging.getLogger("kafka").setLevel(logging.CRITICAL)


def _add_broker_commands(subparsers: argparse._SubParsersAction) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--port", type=int, default=None,
                        help=f"broker port; the controller uses port+1 (default: the local_broker_port setting, "
                             f"COI_LOCAL_BROKER_PORT, else {DEFAULT_PORT})")
    common.add_argument(
        "--state-dir",
        default=None,
        help=f"data, logs and pid file (default: ${STATE_DIR_ENV} or <repo>/.run/kafka-<port>)",
    )
    start = subparsers.add_parser("start", parents=[common], help="start the broker and wait until it is ready")
    start.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for readiness")
    start.set_defaults(func=_run_start)
    stop = subparsers.add_parser("stop", parents=[common], help="stop the broker (SIGTERM, SIGKILL after 30 s)")
    stop.set_defaults(func=_run_stop)
    status = subparsers.add_parser(
        "status", parents=[common], help="exit 0 if running and ready, 1 if running but not ready, 3 if stopped"
    )
    status.set_defaults(func=_run_status)
    fetch = subparsers.add_parser("fetch", parents=[common], help="download the Kafka jars with Maven if needed")
    fetch.add_argument("--force", action="store_true", help="download even if the jars look current")
    fetch.set_defaults(func=_run_fetch)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``broker start|stop|status|fetch`` to a CLI's subcommands."""
    broker = subparsers.add_parser("broker", help="run a local single-node Kafka broker")
    _add_broker_commands(broker.add_subparsers(dest="broker_command", required=True, metavar="ACTION"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m streams.broker", description=__doc__.splitlines()[0])
    _add_broker_commands(parser.add_subparsers(dest="broker_command", required=True, metavar="ACTION"))
    args = parser.parse_args(argv)
    from streams.config import SettingsError

    try:
        return args.func(args)
    except SettingsError as exc:
        print(f"python -m streams.broker: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
