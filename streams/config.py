"""All configuration of the streaming side, in one place: the `Settings` declaration.

Precedence, lowest first: built-in defaults, a TOML file (`--settings PATH` or `COI_RISK_CONFIG`), environment
variables (`COI_<FIELD>`, plus the conventional `KAFKA_BOOTSTRAP_SERVERS`), command-line flags. Adding a setting is
one line in `Settings`; the command-line flags (fields marked `flag=...`) and the environment handed to a child
worker (`child_environment`) are derived from the declaration, not kept as lists of names.

Secrets (`SecretStr` fields) never appear in `repr`, logs, `/metrics` or process arguments: they are read from the
environment or from a file (`COI_<FIELD>_FILE`), never from a flag, and `redact_secrets_in_logs` keeps the Kafka
clients' own debug logs (kafka-python prints its whole configuration) from printing them. Security settings are
passed through unchanged to all three Kafka clients (Faust, aiokafka, kafka-python).
"""

from __future__ import annotations

import argparse
import difflib
import enum
import logging
import os
import ssl
import tomllib
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import AliasChoices, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from pydantic_settings.sources import DefaultSettingsSource, EnvSettingsSource, InitSettingsSource

from schemas.validation import DEFAULT_MAX_EVENT_BYTES
from streams.collector import AUTOMATIC_COLLECTION
from streams.snapshots import WITHOUT_FORK_ROOM

ENV_PREFIX = "COI_"
CONFIG_FILE_ENV = "COI_RISK_CONFIG"
SECRET_FILE_SUFFIX = "_file"  # `sasl_password_file` (COI_SASL_PASSWORD_FILE) holds `sasl_password`
REDACTED = "**********"
# Variables with the prefix that are not settings: the config file's name, the local broker's state dir
# (streams.broker), the test broker's port (tests/conftest.py) and the benchmarks' base checkout (bench/).
NOT_SETTINGS = frozenset({CONFIG_FILE_ENV, "COI_KAFKA_STATE_DIR", "COI_TEST_KAFKA_PORT", "COI_RISK_REPO"})


class SettingsError(ValueError):
    """A setting that cannot be used, said in one line per problem naming the setting (its variable, flag or file
    key) and what it accepts; the CLI prints it and exits 2 instead of a traceback."""


class SecurityProtocol(StrEnum):
    PLAINTEXT = "PLAINTEXT"
    SSL = "SSL"
    SASL_PLAINTEXT = "SASL_PLAINTEXT"
    SASL_SSL = "SASL_SSL"


class SaslMechanism(StrEnum):
    PLAIN = "PLAIN"
    SCRAM_SHA_256 = "SCRAM-SHA-256"
    SCRAM_SHA_512 = "SCRAM-SHA-512"


def flag(group: str) -> dict[str, Any]:
    """Marks a field as a command-line flag of `group` ("connection": every Kafka-facing command; "worker";
    "scoring": the commands that score)."""
    return {"flag": group}


CONNECTION = flag("connection")
WORKER = flag("worker")
SCORING = flag("scoring")


class Settings(BaseSettings):
    # no inf or nan: every interval and timeout here becomes a timedelta or an integer of milliseconds
    model_config = SettingsConfigDict(extra="forbid", frozen=True, env_prefix=ENV_PREFIX, case_sensitive=False,
                                      populate_by_name=True, allow_inf_nan=False)

    bootstrap_servers: str = Field(
        default="", description="Kafka bootstrap servers host:port[,host:port]; empty = the local broker",
        validation_alias=AliasChoices("COI_BOOTSTRAP_SERVERS", "KAFKA_BOOTSTRAP_SERVERS"),
        json_schema_extra=CONNECTION)
    security_protocol: SecurityProtocol = Field(default=SecurityProtocol.PLAINTEXT, json_schema_extra=CONNECTION)
    sasl_mechanism: SaslMechanism | None = Field(default=None, json_schema_extra=CONNECTION)
    sasl_username: str | None = Field(default=None, json_schema_extra=CONNECTION)
    sasl_password: SecretStr | None = Field(default=None, json_schema_extra=CONNECTION)
    sasl_password_file: str | None = Field(default=None, description="file holding the SASL password",
                                           json_schema_extra=CONNECTION)
    ssl_cafile: str | None = Field(default=None, description="CA bundle that signed the broker's certificate",
                                   json_schema_extra=CONNECTION)
    ssl_certfile: str | None = Field(default=None, json_schema_extra=CONNECTION)
    ssl_keyfile: str | None = Field(default=None, json_schema_extra=CONNECTION)
    ssl_check_hostname: bool = Field(default=True, json_schema_extra=CONNECTION)

    app_id: str = Field(default="coi-risk", description="Faust app id = consumer group id", json_schema_extra=WORKER)
    events_topic: str = "coi-relationship-events"
    scores_topic: str = "coi-scores"
    alerts_topic: str = "coi-alerts"
    dead_letter_topic: str = "coi-dead-letters"
    # the ranges of the input log `coi-risk load` applied at once, by app id (streams.bulk): a worker without a
    # usable snapshot reproduces its app id's load from it, so that it continues under the same alert ids
    bulk_loads_topic: str = "coi-bulk-loads"
    # Entity resolution: with suggest_merges the worker proposes same_as merges for new or renamed entities
    # (scoring.matching) on this topic; off by default (the matcher loads followthemoney, ~1 s, and costs per entity).
    suggest_merges: bool = False
    suggestions_topic: str = "coi-merge-suggestions"
    # One input partition by default: the graph is global, and auditors need one total order of events to get
    # the same alert transitions on replay (docs/streaming.md).
    events_partitions: int = Field(default=1, ge=1)
    output_partitions: int = Field(default=3, ge=1)
    replication_factor: int = Field(default=1, ge=1)

    web_host: str = Field(default="127.0.0.1", description="HTTP bind address", json_schema_extra=WORKER)
    web_port: int = Field(default=6066, ge=1, le=65535, description="HTTP port for /metrics, /healthz, /ready, "
                                                                    "/scores", json_schema_extra=WORKER)
    # Without a token the data views (/scores*) answer only on a loopback address (docs/streaming.md, HTTP).
    web_token: SecretStr | None = Field(default=None, description="bearer token protecting /scores*")
    web_token_file: str | None = Field(default=None, description="file holding the bearer token")
    # Rendering is bound by the GIL: a second render thread adds no throughput, only longer pauses of the loop
    # (bench/worker_operations.py). More concurrent /scores* requests than this get 429.
    web_max_concurrent_renders: int = Field(default=1, ge=1)
    web_faust_views: bool = False  # Faust's /router and /table views (cluster topology, table data)
    data_dir: str = ".run/worker"
    scoring_config: str | None = Field(default=None, json_schema_extra=SCORING,
                                       description="YAML scoring config overriding scoring/defaults.yaml")
    max_event_bytes: int = Field(default=DEFAULT_MAX_EVENT_BYTES, ge=256)
    local_broker_port: int = Field(default=9092, ge=1, le=65535)
    lag_interval_seconds: float = Field(default=5.0, gt=0)
    # The agent takes up to `batch_max_events` at a time, or what arrived within `batch_max_wait_seconds`, then
    # waits for the broker to acknowledge the batch's outputs before its offsets may be committed: the wait is
    # the latency a quiet stream pays, the batch size what a backlog gains (docs/streaming.md).
    batch_max_events: int = Field(default=500, ge=1)
    batch_max_wait_seconds: float = Field(default=0.01, gt=0)
    # Poison messages (docs/streaming.md). The largest message the pipeline writes to Kafka, and the largest line
    # `coi-risk produce` sends: the broker's default message.max.bytes (1 MiB) less room for record overhead. A
    # score or alert over it is published with its evidence cut to fit (`PathEdge.evidence_omitted`); an output
    # that does not fit even so is withheld and the event dead-lettered (`output_too_large`) instead of stopping
    # the worker.
    # The output topics are created to take it (`streams.topics`); at most the broker's default
    # socket.request.max.bytes (100 MiB), beyond which no request carrying it would be read.
    max_message_bytes: int = Field(default=1_000_000, ge=4096, le=100 * 1024 * 1024 - 1024)
    # How much of a rejected message a dead letter carries (value and key each); the rest is in the input topic.
    # 256 KiB at most, so a dead letter (base64, both parts) always stays under the default message limit.
    dead_letter_max_original_bytes: int = Field(default=DEFAULT_MAX_EVENT_BYTES, ge=0, le=256 * 1024)
    # How far an event's observed_at may lie ahead of its Kafka append timestamp. The engine clock is the latest
    # observed_at applied, so one far-future event would age every relation for good (docs/scoring.md).
    max_future_skew_seconds: float = Field(default=24 * 3600, ge=0, le=10**12)  # (a timedelta: ~8.6e13 s at most)
    # The worker dying this many times while processing one message (a crash, not a dead letter) skips it as a
    # dead letter (`processing_attempts_exceeded`) instead of failing on every restart.
    max_processing_attempts: int = Field(default=3, ge=1)

    # Starting and restarting (docs/streaming.md, Operating): how long a worker waits for an unreachable broker
    # before giving up, and how soon the group forgets a member that died without leaving (kill -9): its
    # partition is held for that long. Faust's default is 60 s.
    startup_timeout_seconds: float = Field(default=60.0, ge=0)
    session_timeout_seconds: float = Field(default=10.0, ge=6, le=90)
    # Static membership: a restarted member with the same id takes its partitions back at once. One id per
    # worker instance (a StatefulSet pod name): two live workers with one id fence each other.
    group_instance_id: str | None = None
    # How often the consumer refreshes topic metadata; a partition added to the input topic is consumed only
    # after a refresh, and until then /ready is 200 and no lag is reported for it (aiokafka's default: 5 min).
    metadata_max_age_seconds: float = Field(default=30.0, ge=1)
    # Snapshots of the engine keyed to the input offset (streams.snapshots, docs/streaming.md): a restart loads
    # the newest and replays only the tail. Written after a batch once `snapshot_every_events` events or
    # `snapshot_every_seconds` have passed since the last one; `snapshot_dir` empty = <data_dir>/snapshots.
    snapshots_enabled: bool = True
    snapshot_dir: str = ""
    snapshot_every_events: int = Field(default=100_000, ge=1)
    snapshot_every_seconds: float = Field(default=600.0, gt=0)
    snapshot_keep: int = Field(default=3, ge=1)
    # a writer (forked child) still busy after this long is killed: storage that hangs must not stop snapshots
    snapshot_write_timeout_seconds: float = Field(default=1800.0, gt=0)
    # A clean stop (SIGTERM, SIGINT) commits what was published, then writes a snapshot of what was applied since
    # the last one, so that its restart replays nothing; it waits at most `snapshot_at_stop_seconds` for it and
    # starts none that the last write says would take longer. Keep it under the platform's grace period
    # (Kubernetes' terminationGracePeriodSeconds, 30 s by default; compose's stop_grace_period, 10 s by default).
    snapshot_at_stop: bool = True
    snapshot_at_stop_seconds: float = Field(default=20.0, gt=0)
    # The writer is forked only if what it may copy (the worker's private memory) plus this reserve fits in the
    # memory left on the machine or in the container's cgroup (streams.memory); else the snapshot is written in a
    # thread while the stream waits ("thread", if its own needs fit: else it is skipped too), or skipped ("skip").
    snapshot_fork_reserve_mb: int = Field(default=256, ge=0)
    # ... and only while the worker's private memory is at most this (0: no cap): for where the memory that limits
    # the worker cannot be read (a VM's balloon, a limit enforced outside cgroups)
    snapshot_fork_max_private_mb: int = Field(default=0, ge=0)
    snapshot_without_fork_room: Literal[WITHOUT_FORK_ROOM] = "thread"
    # After recovery the worker freezes its heap (streams.collector.refreeze_heap) so full collections skip the graph;
    # it collects and freezes again after every `gc_refreeze_every_events` live events (0: never), so the graph
    # built live does not make full collections walk it either (bench/gc_pauses.py, docs/benchmarks.md).
    gc_refreeze_every_events: int = Field(default=10_000, ge=0)
    # ... and after `gc_refreeze_every_seconds` without one (an idle worker's libraries allocate too)
    gc_refreeze_every_seconds: float = Field(default=60.0, ge=1)
    # What the collector does by itself between re-freezes (streams.collector.refreeze_heap): "young" (its young
    # generations; the oldest one only at the re-freezes), "none" (only the re-freezes collect), "all" (Python's
    # own schedule). With gc_refreeze_every_events 0 there are no re-freezes (this and the setting above do
    # nothing) and the collector keeps Python's own schedule.
    gc_automatic_collection: Literal[AUTOMATIC_COLLECTION] = "young"

    @model_validator(mode="before")
    @classmethod
    def _secrets_from_files(cls, values: Any) -> Any:
        """`<secret>_file` names a file holding `<secret>` when the secret itself is not given."""
        if not isinstance(values, dict):
            return values
        for name in secret_fields():
            if values.get(name) == "":  # `COI_WEB_TOKEN: ${COI_WEB_TOKEN:-}` in compose means "no token"
                values = {key: value for key, value in values.items() if key != name}
            path = values.get(name + SECRET_FILE_SUFFIX)
            if path and not values.get(name):
                try:
                    values = {**values, name: Path(path).read_text(encoding="utf-8").rstrip("\r\n")}
                except OSError as exc:
                    raise ValueError(f"{name}{SECRET_FILE_SUFFIX}: cannot read {path}: {exc.strerror}") from None
        return values

    @model_validator(mode="after")
    def _security_complete(self) -> Settings:
        if self.security_protocol in (SecurityProtocol.SASL_SSL, SecurityProtocol.SASL_PLAINTEXT):
            if not (self.sasl_mechanism and self.sasl_username and self.sasl_password):
                raise ValueError(f"{self.security_protocol.value} needs sasl_mechanism, sasl_username and "
                                 "sasl_password (COI_SASL_PASSWORD or COI_SASL_PASSWORD_FILE)")
        return self

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings) -> tuple[PydanticBaseSettingsSource, ...]:
        # `Settings()` alone reads the process environment and the file it names; `load_settings` builds the
        # same chain with an explicit environment.
        return init_settings, env_settings, TomlFileSource(settings_cls, os.environ.get(CONFIG_FILE_ENV))

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

    @property
    def uses_tls(self) -> bool:
        return self.security_protocol in (SecurityProtocol.SSL, SecurityProtocol.SASL_SSL)

    def ssl_context(self) -> ssl.SSLContext | None:
        if not self.uses_tls:
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
                           sasl_plain_password=self._client_secret(self.sasl_password))
        context = self.ssl_context()
        if context is not None:
            options["ssl_context"] = context
        return options

    aiokafka_options = kafka_python_options

    def faust_broker_credentials(self):
        import faust  # only the worker needs Faust; keep `coi-risk score` light

        context = self.ssl_context()
        if self.sasl_mechanism:
            return faust.SASLCredentials(username=self.sasl_username, password=self._client_secret(self.sasl_password),
                                         mechanism=self.sasl_mechanism.value, ssl_context=context)
        if context is not None:
            return faust.SSLCredentials(context)
        return None

    @staticmethod
    def _client_secret(secret: SecretStr | None) -> str | None:
        """The plain value for a Kafka client, whose logs are redacted from here on."""
        if secret is None:
            return None
        redact_secrets_in_logs(secret)
        return secret.get_secret_value()

    def child_environment(self, base: Mapping[str, str]) -> dict[str, str]:
        """The environment for a child process (a worker) that must load exactly these settings.

        Every set field goes as `COI_<FIELD>` (secrets too: a process's environment is readable only by its own
        user, unlike its arguments); inherited `COI_*`, `KAFKA_BOOTSTRAP_SERVERS` and the config file name are
        dropped so nothing else can override them.
        """
        env = {key: value for key, value in base.items()
               if not key.upper().startswith(ENV_PREFIX) and key != "KAFKA_BOOTSTRAP_SERVERS"}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            elif isinstance(value, enum.Enum):
                value = value.value
            env[env_name(name)] = str(value)
        return env


def secret_fields() -> list[str]:
    return [name for name, field in Settings.model_fields.items() if SecretStr in get_args(field.annotation)]


def env_name(field_name: str) -> str:
    return ENV_PREFIX + field_name.upper()


class _SecretRedactor:
    """Wraps the log record factory: any known secret in a record's message becomes `**********`.

    A record factory, not a handler filter, because Faust and the CLI install their own handlers; it runs only for
    records whose level is enabled, so a quiet logger costs nothing.
    """

    def __init__(self) -> None:
        self.secrets: set[str] = set()
        self._factory = logging.getLogRecordFactory()
        logging.setLogRecordFactory(self._make_record)

    def _make_record(self, *args, **kwargs) -> logging.LogRecord:
        record = self._factory(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record is logging's problem to report, not ours
            return record
        redacted = message
        for secret in self.secrets:
            redacted = redacted.replace(secret, REDACTED)
        if redacted != message:
            record.msg, record.args = redacted, None
        return record


_redactor: _SecretRedactor | None = None


def redact_secrets_in_logs(secret: SecretStr | str) -> None:
    """From now on, no log record of this process prints `secret`."""
    global _redactor
    value = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
    if not value:
        return
    if _redactor is None:
        _redactor = _SecretRedactor()
    _redactor.secrets.add(value)


class _Environment(EnvSettingsSource):
    """pydantic-settings' environment source reading a given mapping instead of `os.environ`."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]):
        self._environ = environ
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {key.lower(): value for key, value in self._environ.items()}


class TomlFileSource(InitSettingsSource):
    """Settings from a TOML file: top-level keys, or the keys of a `[coi-risk]` table."""

    def __init__(self, settings_cls: type[BaseSettings], path: str | os.PathLike | None):
        document: dict[str, Any] = {}
        if path:
            try:
                with Path(path).open("rb") as handle:
                    document = tomllib.load(handle)
            except OSError as exc:
                raise SettingsError(f"cannot read the settings file {path} (--settings or {CONFIG_FILE_ENV}): "
                                    f"{exc.strerror}") from None
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise SettingsError(f"the settings file {path} is not valid TOML: {exc}"
                                    + _scoring_config_hint(Path(path))) from None
        table = document.get("coi-risk", document)
        if not isinstance(table, dict):
            raise SettingsError(f"the settings file {path}: [coi-risk] must be a table of settings")
        super().__init__(settings_cls, table)


def _scoring_config_hint(path: Path) -> str:
    """What to say where a scoring config (YAML) was given as the settings file: the flag it belongs to."""
    from scoring.config import ScoringConfig

    try:
        document = yaml.safe_load(path.read_text())
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return ""
    if isinstance(document, dict) and document and set(document) <= set(ScoringConfig.model_fields):
        return "; this looks like a scoring config (YAML): give it with --scoring-config (or COI_SCORING_CONFIG)"
    return ""


def load_settings(config_file: str | os.PathLike | None = None, environ: Mapping[str, str] | None = None,
                  **overrides: Any) -> Settings:
    """Defaults < file < environment < explicit overrides (flags); `None` overrides are ignored."""
    environ = os.environ if environ is None else environ
    _refuse_unknown_variables(environ)
    flags = {key: value for key, value in overrides.items() if value is not None}
    sources = (InitSettingsSource(Settings, flags), _Environment(Settings, environ),
               TomlFileSource(Settings, config_file or environ.get(CONFIG_FILE_ENV)), DefaultSettingsSource(Settings))
    return Settings(_build_sources=(sources, flags))


def load_scoring_config(path: str | os.PathLike | None, setting: str = "--scoring-config or COI_SCORING_CONFIG"):
    """The scoring configuration (defaults overridden by the YAML file at `path`); a file that is missing, not YAML
    or not a scoring configuration is a `SettingsError` naming the file and `setting`, where it was given."""
    from scoring import ScoringConfig

    if not path:
        return ScoringConfig.load()
    try:
        return ScoringConfig.load(path)
    except OSError as exc:
        reason = exc.strerror or str(exc)
    except ValidationError as exc:
        reason = "not a scoring config: " + "; ".join(f"{'.'.join(map(str, detail['loc']))}: {detail['msg']}"
                                                      for detail in exc.errors(include_url=False))
    except ValueError as exc:
        reason = " ".join(str(exc).split()).removeprefix(f"{path}: ")
    raise SettingsError(f"cannot load config {path} ({setting}): {reason}")


def _refuse_unknown_variables(environ: Mapping[str, str]) -> None:
    """A `COI_` variable that names no setting is a typo (COI_BOOTSTRAP_SERVER): refused, rather than the default
    it failed to override being used without a word."""
    known = {env_name(name) for name in Settings.model_fields} | NOT_SETTINGS
    unknown = sorted(key for key in environ if key.upper().startswith(ENV_PREFIX) and key.upper() not in known)
    if unknown:
        raise SettingsError("; ".join(f"{key} is not a setting{_did_you_mean(key.upper(), known)}" for key in unknown)
                            + " (the settings: docs/streaming.md, Operating; streams/config.py)")


def _did_you_mean(name: str, candidates) -> str:
    close = difflib.get_close_matches(name, sorted(candidates), n=2, cutoff=0.75)
    return f" (did you mean {' or '.join(close)}?)" if close else ""


def describe_validation_error(error: ValidationError) -> str:
    """One line per problem of a `Settings` validation: the setting, where it can be set, what it accepts and the
    value given (never a secret's)."""
    problems = []
    for detail in error.errors(include_url=False):
        message = detail["msg"].removeprefix("Value error, ")
        if not detail["loc"]:  # a check across settings (model validator): its message names them
            problems.append(message)
            continue
        name = str(detail["loc"][0])
        field = Settings.model_fields.get(name)
        if field is None:
            known = set(Settings.model_fields)
            problems.append(f"{name!r} is not a setting{_did_you_mean(name, known)} (in the settings file)")
            continue
        where = [env_name(name)]
        if (field.json_schema_extra or {}).get("flag") and SecretStr not in get_args(field.annotation):
            where.append("--" + name.replace("_", "-"))
        value = detail.get("input")
        given = "" if name in secret_fields() or isinstance(value, dict) else f", got {value!r}"
        problems.append(f"setting {name} ({', '.join(where)}): {message}{given}")
    return "; ".join(problems)


# --- command-line flags, derived from the fields marked with `flag(...)` ---------------------------------------

def _flag_fields(group: str) -> dict[str, Any]:
    return {name: field for name, field in Settings.model_fields.items()
            if (field.json_schema_extra or {}).get("flag") == group}


class _RefuseSecretFlag(argparse.Action):
    def __call__(self, parser, namespace, values, option_string=None):
        name = self.dest
        parser.error(f"{option_string} is not accepted: command-line arguments are visible to every user in the "
                     f"process list. Set {env_name(name)} or put the secret in a file named by "
                     f"{env_name(name + SECRET_FILE_SUFFIX)} (or `{name}{SECRET_FILE_SUFFIX}` in the --settings file).")


def _add_flags(group, fields: dict[str, Any]) -> None:
    for name, field in fields.items():
        option = "--" + name.replace("_", "-")
        kinds = [kind for kind in (get_args(field.annotation) or (field.annotation,)) if kind is not type(None)]
        kind = kinds[0]
        help_text = field.description
        if kind is SecretStr:
            group.add_argument(option, dest=name, action=_RefuseSecretFlag, default=None,
                               help=f"refused: use {env_name(name)} or {env_name(name + SECRET_FILE_SUFFIX)}")
        elif isinstance(kind, type) and issubclass(kind, enum.Enum):
            group.add_argument(option, dest=name, choices=[member.value for member in kind], help=help_text)
        elif kind is bool:
            group.add_argument(option, dest=name, action=argparse.BooleanOptionalAction, default=None,
                               help=help_text)
        else:
            group.add_argument(option, dest=name, type=kind, help=help_text)


def add_connection_flags(parser) -> None:
    """Flags every Kafka-facing command shares; `settings_from_args` reads them back."""
    group = parser.add_argument_group("connection (flags > environment > --settings file > defaults)")
    # `--config` was its only name; `score` took a scoring config under it: one name for each kind of file now
    group.add_argument("--settings", "--config", dest="config_file", metavar="FILE",
                       help="TOML file with settings (or COI_RISK_CONFIG; --config is its older name)")
    _add_flags(group, _flag_fields("connection"))


def add_worker_flags(parser) -> None:
    _add_flags(parser.add_argument_group("worker"), _flag_fields("worker"))


def add_scoring_flags(parser) -> None:
    """`--scoring-config`, for the commands that score (the worker, replay, audit, load, snapshot)."""
    _add_flags(parser.add_argument_group("scoring"), _flag_fields("scoring"))


def settings_from_args(args, **extra: Any) -> Settings:
    """Settings from parsed flags (the flag-marked fields found on `args`) over environment, file and defaults;
    `extra` are a command's own values, below its flags."""
    flagged = {name for name, field in Settings.model_fields.items() if (field.json_schema_extra or {}).get("flag")}
    flags = {name: getattr(args, name) for name in flagged if getattr(args, name, None) is not None}
    return command_settings(getattr(args, "config_file", None), **{**extra, **flags})


def command_settings(config_file: str | os.PathLike | None = None, **overrides: Any) -> Settings:
    """`load_settings` for a command: whatever is wrong with the settings is one `SettingsError`."""
    try:
        return load_settings(config_file, **overrides)
    except ValidationError as exc:
        raise SettingsError(describe_validation_error(exc)) from None
