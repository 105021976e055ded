"""Operating the worker on real brokers: starting before Kafka, giving up clearly, /ready following the broker,
a SASL_SSL + SCRAM-SHA-512 broker with a private CA (wrong password, missing CA, wrong host name), secrets kept
out of logs, metrics and process arguments, and the HTTP side closed to the network without a token."""

from __future__ import annotations

import os
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from streams.broker import LocalBroker, SaslSslListener
from streams.config import load_settings
from streams.preflight import KafkaNotUsable, probe
from streams.testing import REPO_ROOT, WorkerProcess, free_port, http_get, pipeline_settings
from streams.topics import ensure_topics
from tests.conftest import DEFAULT_TEST_KAFKA_PORT, TEST_KAFKA_PORT_ENV

pytestmark = pytest.mark.kafka

PASSWORD = "scram-Secret-4711"
SECOND_PASSWORD = "added-Later-0815"
USER = "coi-worker"
BASE_PORT = int(os.environ.get(TEST_KAFKA_PORT_ENV, DEFAULT_TEST_KAFKA_PORT))
# The session broker uses BASE_PORT and BASE_PORT+1; these brokers take the next ones.
SECURE_PORT, SECURE_SASL_PORT = BASE_PORT + 4, BASE_PORT + 6
LATE_PORT = BASE_PORT + 8
EXIT_KAFKA_NOT_USABLE = 69


def _openssl(*arguments: str, cwd: Path) -> None:
    subprocess.run(["openssl", *arguments], cwd=cwd, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def private_ca(tmp_path_factory) -> Path:
    """A throwaway CA and a broker certificate for `localhost` signed by it (openssl on the machine)."""
    directory = tmp_path_factory.mktemp("private-ca")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
             "-subj", "/CN=coi-test-ca", "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=directory)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "broker.key", "-out", "broker.csr",
             "-subj", "/CN=localhost", cwd=directory)
    (directory / "ext.cnf").write_text("subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n"
                                       "extendedKeyUsage=serverAuth\n")
    _openssl("x509", "-req", "-in", "broker.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "broker.pem", "-days", "2", "-extfile", "ext.cnf", cwd=directory)
    keystore = directory / "keystore.pem"  # key (PKCS#8) + chain, what Kafka's PEM keystore reads
    keystore.write_text("".join((directory / name).read_text() for name in ("broker.key", "broker.pem", "ca.pem")))
    return directory


@pytest.fixture(scope="module")
def secure_broker(private_ca, tmp_path_factory):
    listener = SaslSslListener(port=SECURE_SASL_PORT, keystore_pem=private_ca / "keystore.pem",
                               users=((USER, PASSWORD),))
    broker = LocalBroker(port=SECURE_PORT, state_dir=tmp_path_factory.mktemp("secure-kafka"), heap_mb=256,
                         sasl_ssl=listener)
    broker.start(timeout=90)
    try:
        yield broker
    finally:
        broker.stop()


def _secure_settings(private_ca: Path, tmp_path: Path, password: str = PASSWORD, **overrides):
    plain = pipeline_settings(f"127.0.0.1:{SECURE_PORT}", tmp_path)
    values = {**plain.model_dump(exclude={"sasl_password", "web_token"}),
              "bootstrap_servers": f"localhost:{SECURE_SASL_PORT}", "security_protocol": "SASL_SSL",
              "sasl_mechanism": "SCRAM-SHA-512", "sasl_username": USER, "ssl_cafile": str(private_ca / "ca.pem"),
              **overrides}
    return load_settings(environ={"COI_SASL_PASSWORD": password}, **values)


def _run_worker(settings, timeout: float = 60) -> subprocess.CompletedProcess:
    worker = WorkerProcess(settings, Path("/dev/null"))
    return subprocess.run(worker.command(), cwd=REPO_ROOT, env=worker.environment(), capture_output=True,
                          text=True, timeout=timeout)


# --- SASL_SSL + SCRAM with a private CA --------------------------------------------------------------------------

def test_worker_on_sasl_ssl_is_ready_and_keeps_the_password_secret(secure_broker, private_ca, tmp_path):
    settings = _secure_settings(private_ca, tmp_path)
    ensure_topics(settings)
    worker = WorkerProcess(settings, tmp_path / "worker.log", extra_env={"COI_WEB_TOKEN": "tok"})
    try:
        worker.start()
        with open(f"/proc/{worker.process.pid}/cmdline", "rb") as cmdline:
            assert PASSWORD.encode() not in cmdline.read()
        status, metrics = http_get(worker.base_url + "/metrics")
        assert status == 200 and PASSWORD.encode() not in metrics
    finally:
        worker.stop()
    log = (tmp_path / "worker.log").read_text(errors="replace")
    assert "ready: caught up on every assigned partition" in log
    assert PASSWORD not in log


def test_a_wrong_password_says_authentication_failed(secure_broker, private_ca, tmp_path):
    result = _run_worker(_secure_settings(private_ca, tmp_path, password="not-the-password"))
    assert result.returncode == EXIT_KAFKA_NOT_USABLE, result.stderr[-2000:]
    assert f"Kafka authentication failed for user '{USER}'" in result.stderr
    assert "not-the-password" not in result.stderr + result.stdout


def test_a_missing_ca_says_the_certificate_is_not_trusted(secure_broker, private_ca, tmp_path):
    result = _run_worker(_secure_settings(private_ca, tmp_path, ssl_cafile=None))
    assert result.returncode == EXIT_KAFKA_NOT_USABLE, result.stderr[-2000:]
    assert f"TLS: the certificate of localhost:{SECURE_SASL_PORT} is not trusted" in result.stderr
    assert "ssl_cafile" in result.stderr


def test_a_wrong_host_name_says_host_name_verification_failed(secure_broker, private_ca, tmp_path):
    settings = _secure_settings(private_ca, tmp_path, bootstrap_servers=f"127.0.0.1:{SECURE_SASL_PORT}")
    result = _run_worker(settings)
    assert result.returncode == EXIT_KAFKA_NOT_USABLE, result.stderr[-2000:]
    assert "TLS host-name verification failed" in result.stderr and "'127.0.0.1'" in result.stderr


def test_kafka_configs_from_the_shipped_jars_adds_a_scram_user(secure_broker, private_ca, tmp_path):
    second_user = "added-later"
    with pytest.raises(KafkaNotUsable, match="authentication failed"):
        probe(_secure_settings(private_ca, tmp_path, password=SECOND_PASSWORD, sasl_username=second_user))
    result = subprocess.run(
        secure_broker.tool_command("org.apache.kafka.tools.ConfigCommand", "--bootstrap-server",
                                   secure_broker.bootstrap, "--alter", "--entity-type", "users", "--entity-name",
                                   second_user, "--add-config", f"SCRAM-SHA-512=[password={SECOND_PASSWORD}]"),
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    deadline = time.monotonic() + 30  # the credential reaches the SASL listener through the metadata log
    while True:
        try:
            probe(_secure_settings(private_ca, tmp_path, password=SECOND_PASSWORD, sasl_username=second_user))
            break
        except KafkaNotUsable:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


# --- starting before Kafka, giving up, /ready following the broker -----------------------------------------------

def test_a_worker_gives_up_with_a_clear_message_when_kafka_never_comes(tmp_path):
    dead = f"127.0.0.1:{free_port()}"
    settings = load_settings(environ={}, **{**pipeline_settings(dead, tmp_path).model_dump(),
                                            "startup_timeout_seconds": 3})
    result = _run_worker(settings, timeout=60)
    assert result.returncode == EXIT_KAFKA_NOT_USABLE, result.stderr[-2000:]
    assert f"waiting for Kafka at {dead} ..." in result.stderr
    assert f"Kafka at {dead} was not reachable within 3 s (startup_timeout_seconds)" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_worker_started_before_kafka_waits_then_follows_the_broker(tmp_path):
    broker = LocalBroker(port=LATE_PORT, state_dir=tmp_path / "late-kafka", heap_mb=256)
    settings = load_settings(environ={}, **{**pipeline_settings(broker.bootstrap, tmp_path).model_dump(),
                                            "startup_timeout_seconds": 180})
    worker = WorkerProcess(settings, tmp_path / "worker.log")
    try:
        worker.start(wait_ready=False)
        deadline = time.monotonic() + 30
        while f"waiting for Kafka at {broker.bootstrap}" not in worker.log_tail():
            assert worker.process.poll() is None, worker.log_tail()
            assert time.monotonic() < deadline, worker.log_tail()
            time.sleep(0.3)
        broker.start(timeout=90)
        worker.wait_ready()
        assert f"Kafka at {broker.bootstrap} is reachable" in worker.log_path.read_text(errors="replace")

        broker.stop()  # the broker goes away: /ready must say so while the worker keeps running
        deadline = time.monotonic() + 120
        while True:
            status, body = http_get(worker.base_url + "/ready")
            if status == 503:
                break
            assert time.monotonic() < deadline, f"/ready still {status} {body!r} without a broker"
            time.sleep(0.5)
        assert b"Kafka" in body or b"coordinator" in body, body
        assert worker.metric("coi_worker_ready") == 0  # what CoiWorkerNotReady reads
        assert worker.process.poll() is None
        assert http_get(worker.base_url + "/healthz")[0] == 200
    finally:
        worker.stop(hard=True)
        broker.stop()


# --- HTTP: closed to the network without a token ------------------------------------------------------------------

def test_data_views_need_a_token_off_loopback_and_faust_views_are_off(kafka_bootstrap, tmp_path):
    settings = load_settings(environ={}, **{**pipeline_settings(kafka_bootstrap, tmp_path).model_dump(),
                                            "web_host": "0.0.0.0"})
    ensure_topics(settings)
    worker = WorkerProcess(settings, tmp_path / "worker.log")
    try:
        worker.start()
        assert http_get(worker.base_url + "/scores/top")[0] == 403
        assert http_get(worker.base_url + "/metrics")[0] == 200
        assert http_get(worker.base_url + "/router/")[0] == 404
        assert http_get(worker.base_url + "/table/")[0] == 404
    finally:
        worker.stop()
    tokened = WorkerProcess(settings, tmp_path / "worker2.log", extra_env={"COI_WEB_TOKEN": "bearer-secret"})
    try:
        tokened.start()
        assert http_get(tokened.base_url + "/scores/top")[0] == 401
        request = urllib.request.Request(tokened.base_url + "/scores/top",
                                         headers={"Authorization": "Bearer bearer-secret"})
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200
    finally:
        tokened.stop()

