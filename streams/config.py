"""All configuration of the streaming side, in one place.

Precedence, lowest first: built-in defaults, a TOML file (`--config PATH` or `COI_RISK_CONFIG`), environment
variables (`COI_<FIELD>`, plus the conventional `KAFKA_BOOTSTRAP_SERVERS`), command-line flags. Security settings
are passed through unchanged to all three Kafka clients (Faust, aiokafka, kafka-python).
"""

from __future__ import annotations

import os
import ssl
import tomllib
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.validation import DEFAULT_MAX_EVENT_BYTES

ENV_PREFIX = "COI_"
CONFIG_FILE_ENV = "COI_RISK_CONFIG"


class SecurityProtocol(StrEnum):
    PLAINTEXT = "PLAINTEXT"
    SSL = "SSL"
    SASL_PLAINTEXT = "SASL_PLAINTEXT"
    SASL_SSL = "SASL_SSL"


class SaslMechanism(StrEnum):
    PLAIN = "PLAIN"
    SCRAM_SHA_256 = "SCRAM-SHA-256"
    SCRAM_SHA_512 = "SCRAM-SHA-512"


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    bootstrap_servers: str = Field(default="", description="host:port[,host:port]; empty = the local broker")
    security_protocol: SecurityProtocol = SecurityProtocol.PLAINTEXT
    sasl_mechanism: SaslMechanism | None = None
    sasl_username: str | None = None
    sasl_password: str | None = None
    ssl_cafile: str | None = None
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    ssl_check_hostname: bool = True

    app_id: str = "coi-risk"
    events_topic: str = "coi-relationship-events"
    scores_topic: str = "coi-scores"
    alerts_topic: str = "coi-alerts"
    dead_letter_topic: str = "coi-dead-letters"
    # One input partition by default: the graph is global, and auditors need one total order of events to get
    # the same alert transitions on replay (docs/streaming.md).
    events_partitions: int = Field(default=1, ge=1)
    output_partitions: int = Field(default=3, ge=1)
    replication_factor: int = Field(default=1, ge=1)

    web_host: str = "127.0.0.1"
    web_port: int = Field(default=6066, ge=0, le=65535)
    data_dir: str = ".run/worker"
    scoring_config: str | None = Field(default=None, description="path to a scoring config overriding defaults")
    max_event_bytes: int = Field(default=DEFAULT_MAX_EVENT_BYTES, ge=256)
    local_broker_port: int = Field(default=9092, ge=1, le=65535)
    lag_interval_seconds: float = Field(default=5.0, gt=0)
    # The agent takes up to `batch_max_events` at a time, or what arrived within `batch_max_wait_seconds`, then
    # waits for the broker to acknowledge the batch's outputs before its offsets may be committed: the wait is
    # the latency a quiet stream pays, the batch size what a backlog gains (docs/streaming.md).
    batch_max_events: int = Field(default=500, ge=1)
    batch_max_wait_seconds: float = Field(default=0.01, gt=0)
    # Snapshots of the engine keyed to the input offset (streams.snapshots, docs/streaming.md): a restart loads
    # the newest and replays only the tail. Written after a batch once `snapshot_every_events` events or
    # `snapshot_every_seconds` have passed since the last one; `snapshot_dir` empty = <data_dir>/snapshots.
    snapshots_enabled: bool = True
    snapshot_dir: str = ""
    snapshot_every_events: int = Field(default=100_000, ge=1)
    snapshot_every_seconds: float = Field(default=600.0, gt=0)
    snapshot_keep: int = Field(default=3, ge=1)

    @model_validator(mode="after")
    def _security_complete(self) -> Settings:
        if self.security_protocol in (SecurityProtocol.SASL_SSL, SecurityProtocol.SASL_PLAINTEXT):
            if not (self.sasl_mechanism and self.sasl_username and self.sasl_password):
                raise ValueError(f"{self.security_protocol.value} needs sasl_mechanism, sasl_username and "
                                 "sasl_password")
        return self

    @property
    def snapshot_path(self) -> Path:
        return Path(self.snapshot_dir) if self.snapshot_dir else Path(self.data_dir) / "snapshots"

    @property
    def uses_local_broker(self) -> bool:
        return not self.bootstrap_servers

    @property
    def bootstrap(self) -> str:
        return self.bootstrap_servers or f"127.0.0.1:{self.local_broker_port}"

    @property
    def bootstrap_list(self) -> list[str]:
        return [server.strip() for server in self.bootstrap.split(",") if server.strip()]

    def ssl_context(self) -> ssl.SSLContext | None:
        if self.security_protocol not in (SecurityProtocol.SSL, SecurityProtocol.SASL_SSL):
            return None
        context = ssl.create_default_context(cafile=self.ssl_cafile)
        context.check_hostname = self.ssl_check_hostname
        if self.ssl_certfile:
            context.load_cert_chain(self.ssl_certfile, self.ssl_keyfile)
        return context

    def kafka_python_options(self) -> dict[str, Any]:
        """Keyword arguments for kafka-python clients (and, identically named, aiokafka's)."""
        options: dict[str, Any] = {"bootstrap_servers": self.bootstrap_list,
                                   "security_protocol": self.security_protocol.value}
        if self.sasl_mechanism:
            options.update(sasl_mechanism=self.sasl_mechanism.value, sasl_plain_username=self.sasl_username,
                           sasl_plain_password=self.sasl_password)
        context = self.ssl_context()
        if context is not None:
            options["ssl_context"] = context
        return options

    aiokafka_options = kafka_python_options

    def faust_broker_credentials(self):
        import faust  # only the worker needs Faust; keep `coi-risk score` light

        context = self.ssl_context()
        if self.sasl_mechanism:
            return faust.SASLCredentials(username=self.sasl_username, password=self.sasl_password,
                                         mechanism=self.sasl_mechanism.value, ssl_context=context)
        if context is not None:
            return faust.SSLCredentials(context)
        return None


def _from_environment(environ: dict[str, str]) -> dict[str, str]:
    values = {}
    if environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        values["bootstrap_servers"] = environ["KAFKA_BOOTSTRAP_SERVERS"]
    for name in Settings.model_fields:
        key = ENV_PREFIX + name.upper()
        if key in environ:
            values[name] = environ[key]
    return values


def load_settings(config_file: str | os.PathLike | None = None, environ: dict[str, str] | None = None,
                  **overrides: Any) -> Settings:
    """Defaults < file < environment < explicit overrides (flags); `None` overrides are ignored."""
    environ = dict(os.environ if environ is None else environ)
    values: dict[str, Any] = {}
    path = config_file or environ.get(CONFIG_FILE_ENV)
    if path:
        with Path(path).open("rb") as handle:
            document = tomllib.load(handle)
        values.update(document.get("coi-risk", document))
    values.update(_from_environment(environ))
    values.update({key: value for key, value in overrides.items() if value is not None})
    return Settings.model_validate(values)


def add_connection_flags(parser) -> None:
    """Flags every Kafka-facing command shares; `settings_from_args` reads them back."""
    group = parser.add_argument_group("connection (flags > environment > --config file > defaults)")
    group.add_argument("--config", dest="config_file", help="TOML file with settings (or COI_RISK_CONFIG)")
    group.add_argument("--bootstrap-servers", help="Kafka bootstrap servers (or KAFKA_BOOTSTRAP_SERVERS); "
                                                   "default: the local broker")
    group.add_argument("--security-protocol", choices=[p.value for p in SecurityProtocol])
    group.add_argument("--sasl-mechanism", choices=[m.value for m in SaslMechanism])
    group.add_argument("--sasl-username")
    group.add_argument("--sasl-password", help="prefer COI_SASL_PASSWORD: flags show up in process lists")
    group.add_argument("--ssl-cafile")
    group.add_argument("--ssl-certfile")
    group.add_argument("--ssl-keyfile")


_CONNECTION_FLAGS = ("bootstrap_servers", "security_protocol", "sasl_mechanism", "sasl_username", "sasl_password",
                     "ssl_cafile", "ssl_certfile", "ssl_keyfile")


def settings_from_args(args, **extra: Any) -> Settings:
    flags = {name: getattr(args, name, None) for name in _CONNECTION_FLAGS}
    return load_settings(getattr(args, "config_file", None), **flags, **extra)
