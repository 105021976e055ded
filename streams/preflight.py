"""Before the worker starts Faust: wait for Kafka (bounded), and say exactly why a connection cannot work.

Faust and the Kafka clients report an unreachable broker, a wrong password, an untrusted certificate and a wrong
host name all the same way ("Unable to bootstrap" after 30 s, or a traceback). This probe takes one step at a
time against each bootstrap server, so the failure names its layer:

1. TCP: refused, timed out or unknown host means "not there yet": retry until `startup_timeout_seconds`;
2. TLS (SSL, SASL_SSL): the handshake with the configured CA and host-name check; an untrusted certificate, a
   certificate for another name, or a port that does not speak TLS is a configuration error: stop at once;
3. Kafka: a metadata request through kafka-python with the configured SASL credentials; rejected credentials
   stop at once, anything else is retried.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import time
from collections.abc import Callable

from kafka import KafkaAdminClient
from kafka.errors import KafkaError

from streams.config import Settings

log = logging.getLogger(__name__)

_CONNECT_TIMEOUT_S = 3.0
_RETRY_INTERVAL_S = 2.0
_REPEAT_WAITING_S = 10.0  # one "waiting" line every 10 s, not one per attempt
_NAME_MISMATCH_CODES = (62, 64)  # X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH


class KafkaNotUsable(Exception):
    """The worker cannot use Kafka as configured; the message says which layer failed and what to check."""


class _NotYet(Exception):
    """Kafka is not reachable yet; retrying may help."""


def wait_for_kafka(settings: Settings, say: Callable[[str], None] | None = None,
                   clock: Callable[[], float] = time.monotonic) -> None:
    """Return once every layer works; raise KafkaNotUsable on a configuration error or after the timeout."""
    say = say or log.warning
    deadline = clock() + settings.startup_timeout_seconds
    announced = False
    last_said = float("-inf")
    while True:
        try:
            probe(settings)
            if announced:
                say(f"Kafka at {settings.bootstrap} is reachable")
            return
        except _NotYet as exc:
            remaining = deadline - clock()
            if remaining <= 0:
                raise KafkaNotUsable(f"Kafka at {settings.bootstrap} was not reachable within "
                                     f"{settings.startup_timeout_seconds:g} s (startup_timeout_seconds): {exc}. "
                                     "Is the broker running, and is this its address?") from None
            if clock() - last_said >= _REPEAT_WAITING_S:
                say(f"waiting for Kafka at {settings.bootstrap} ... ({exc}; giving up in {remaining:.0f} s)")
                announced, last_said = True, clock()
            time.sleep(min(_RETRY_INTERVAL_S, max(remaining, 0.0)))


def probe(settings: Settings) -> None:
    context = _tls_context(settings)
    for server in settings.bootstrap_list:
        host, _, port = server.rpartition(":")
        with _connect(host, int(port)) as raw:
            if context is not None:
                _handshake(context, raw, host, server, settings)
        if settings.sasl_mechanism is not None:
            asyncio.run(_authenticate(settings, host, int(port)))
    _kafka_metadata(settings)


def _tls_context(settings: Settings) -> ssl.SSLContext | None:
    try:
        return settings.ssl_context()
    except (OSError, ssl.SSLError) as exc:
        raise KafkaNotUsable(f"TLS: cannot load the configured CA or client certificate (ssl_cafile="
                             f"{settings.ssl_cafile}, ssl_certfile={settings.ssl_certfile}): {exc}") from None


def _connect(host: str, port: int) -> socket.socket:
    try:
        return socket.create_connection((host, port), timeout=_CONNECT_TIMEOUT_S)
    except OSError as exc:
        raise _NotYet(f"{host}:{port}: {exc.strerror or exc}") from None


def _handshake(context: ssl.SSLContext, raw: socket.socket, host: str, server: str, settings: Settings) -> None:
    try:
        with context.wrap_socket(raw, server_hostname=host):
            pass
    except ssl.SSLCertVerificationError as exc:
        if exc.verify_code in _NAME_MISMATCH_CODES:
            raise KafkaNotUsable(
                f"TLS host-name verification failed for {server}: the broker's certificate does not name "
                f"{host!r} ({exc.verify_message}). Connect with a name the certificate lists (the advertised "
                "listener's host).") from None
        hint = (f"ssl_cafile={settings.ssl_cafile} did not sign it" if settings.ssl_cafile
                else "set ssl_cafile (COI_SSL_CAFILE) to the CA that signed it")
        raise KafkaNotUsable(f"TLS: the certificate of {server} is not trusted ({exc.verify_message}): {hint}.") \
            from None
    except ssl.SSLError as exc:
        raise KafkaNotUsable(f"TLS handshake with {server} failed ({exc.reason or exc}): is this a TLS listener, "
                             f"and is security_protocol={settings.security_protocol.value} right?") from None
    except OSError as exc:  # reset during the handshake: a listener still starting, or not a TLS one
        raise _NotYet(f"{server}: connection closed during the TLS handshake ({exc})") from None


async def _authenticate(settings: Settings, host: str, port: int) -> None:
    # kafka-python retries rejected credentials until its bootstrap times out ("Unable to bootstrap");
    # aiokafka's single connection reports the broker's answer.
    from aiokafka.conn import create_conn
    from aiokafka.errors import KafkaError as AIOKafkaError
    from aiokafka.errors import SaslAuthenticationFailed, UnsupportedSaslMechanismError

    options = settings.aiokafka_options()
    try:
        connection = await create_conn(
            host, port, ssl_context=options.get("ssl_context"), security_protocol=options["security_protocol"],
            sasl_mechanism=options["sasl_mechanism"], sasl_plain_username=options["sasl_plain_username"],
            sasl_plain_password=options["sasl_plain_password"], request_timeout_ms=int(_CONNECT_TIMEOUT_S * 2000))
    except (SaslAuthenticationFailed, UnsupportedSaslMechanismError) as exc:
        raise KafkaNotUsable(
            f"Kafka authentication failed for user {settings.sasl_username!r} at {host}:{port} "
            f"({settings.sasl_mechanism.value}): {exc}. Check the username and the password (COI_SASL_PASSWORD "
            "or COI_SASL_PASSWORD_FILE) and the mechanism the broker enables.") from None
    except (AIOKafkaError, OSError, asyncio.TimeoutError) as exc:
        raise _NotYet(f"{host}:{port}: SASL handshake did not complete ({type(exc).__name__}: {exc})") from None
    connection.close()


def _kafka_metadata(settings: Settings) -> None:
    timeout_ms = int(_CONNECT_TIMEOUT_S * 2000)
    try:
        with KafkaAdminClient(**settings.kafka_python_options(), client_id="coi-risk-preflight",
                              bootstrap_timeout_ms=timeout_ms, request_timeout_ms=timeout_ms,
                              reconnect_backoff_max_ms=500) as admin:
            admin.describe_cluster()
    except (KafkaError, OSError) as exc:
        raise _NotYet(f"no metadata: {exc}") from None
