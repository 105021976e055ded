"""HTTP views on the worker: health, readiness, Prometheus metrics and the current top risks as JSON.

The operational views (/healthz, /ready, /metrics) answer from the event loop in O(1). The data views (/scores*,
/entities/ID) render in a small thread pool, at most `web_max_concurrent_renders` at a time (more get 429 at once),
so no burst of large requests can hold the loop that serves the probes and runs the agent. The data views need the
bearer token when one is set; without one they answer only on a loopback bind address (docs/streaming.md, HTTP).
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from aiohttp import web as aiohttp_web
from faust import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from streams.waiting import wait_through_cancellation

if TYPE_CHECKING:
    from streams.app import Pipeline

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 20
MAX_LIMIT = 500
# The scores dict may change size while a render thread iterates it (the agent keeps scoring on the loop): a
# render that trips over that reads the new state instead.
_RENDER_ATTEMPTS = 3


class BadQuery(ValueError):
    """A query string a data view cannot answer: raised from a view, `json_errors` answers it 400 with the
    message."""


def _query(request: web.Request, allowed: tuple[str, ...]) -> dict[str, str]:
    """The view's parameters, each at most once. An unknown one is refused, not ignored: `?offset=20` or `?page=2`
    would answer the first page again, and `/scores/top?entity=ID` everyone's top risks as if they were ID's."""
    names = [name for name, _ in request.query.items()]
    unknown = sorted(set(names) - set(allowed))
    if unknown:
        takes = ", ".join(allowed) if allowed else "no parameters"
        raise BadQuery(f"unknown query parameter {', '.join(unknown)}: this view takes {takes}")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise BadQuery(f"query parameter {', '.join(repeated)} given more than once")
    return dict(request.query)


def _limit(query: dict[str, str]) -> int:
    """`limit`: a whole number from 1; above MAX_LIMIT it is capped (docs/streaming.md, HTTP)."""
    text = query.get("limit")
    if text is None:
        return DEFAULT_LIMIT
    digits = text.lstrip("0") if text.isascii() and text.isdigit() else None
    if not digits:  # not digits only (-1, 1.5, 1_000, " 5", empty), or zero
        raise BadQuery(f"limit must be a whole number from 1 (at most {MAX_LIMIT} are answered), got {text!r}")
    return MAX_LIMIT if len(digits) > len(str(MAX_LIMIT)) else min(MAX_LIMIT, int(digits))


def _scores_json(scores) -> list[bytes]:
    # one small encoder call per score, not one call over megabytes: the GIL can pass to the loop in between
    return [score.model_dump_json().encode() for score in scores]


def _json_object(**fields) -> bytes:
    """`fields` as a JSON object; a list of already-encoded items (bytes) is joined as an array."""
    parts = []
    for name, value in fields.items():
        encoded = b"[" + b",".join(value) + b"]" if isinstance(value, list) else json.dumps(value).encode()
        parts.append(json.dumps(name).encode() + b": " + encoded)
    return b"{" + b", ".join(parts) + b"}"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def _loopback_host(host: str) -> bool:
    """Whether a Host header names a loopback address or `localhost`, with or without a port."""
    host = host.strip().lower()
    if host.startswith("["):  # [::1]:6066
        host = host[1:].partition("]")[0]
    elif host.count(":") == 1:
        host = host.partition(":")[0]
    return is_loopback(host.rstrip("."))


@aiohttp_web.middleware
async def json_errors(request: aiohttp_web.Request, handler) -> aiohttp_web.StreamResponse:
    """Every error as JSON, as the views' own: aiohttp's (no such path, a wrong method) were text/plain, and a view
    that failed answered "500 Internal Server Error" as text. A failure's details go to the log, not the client.
    A query a data view cannot answer (BadQuery, raised once its request is admitted) is a 400 here, for every
    view."""
    try:
        return await handler(request)
    except BadQuery as exc:
        return aiohttp_web.json_response({"error": str(exc)}, status=400)
    except aiohttp_web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {name: value for name, value in exc.headers.items()
                   if name.lower() not in ("content-type", "content-length")}
        return aiohttp_web.json_response({"error": exc.reason.lower()}, status=exc.status, headers=headers)
    except Exception:  # noqa: BLE001 - answered, and logged with its traceback
        log.exception("%s %s failed", request.method, request.path)
        return aiohttp_web.json_response({"error": "internal error (the worker's log has the details)"},
                                         status=500)


def kafka_unready_reason(app) -> str | None:
    """Why the consumer cannot make progress right now (None: it can). Reads the aiokafka consumer's state
    without any request: the group coordinator is forgotten as soon as a heartbeat or fetch fails."""
    consumer = getattr(getattr(getattr(app, "_consumer", None), "_thread", None), "_consumer", None)
    if consumer is None:
        return "consumer not started"
    coordinator = getattr(consumer, "_coordinator", None)
    if coordinator is None or coordinator.coordinator_id is None:
        return "no group coordinator (Kafka unreachable or the group is moving)"
    connections = getattr(getattr(consumer, "_client", None), "_conns", {})
    if not any(connection.connected() for connection in list(connections.values())):
        return "no open connection to Kafka"
    return None


class DataViewGuard:
    """Bearer-token check and bounded, off-loop rendering for the data views."""

    def __init__(self, pipeline: Pipeline):
        self.pipeline = pipeline
        settings = pipeline.settings
        self.token = settings.web_token.get_secret_value().encode() if settings.web_token else None
        self.open_without_token = is_loopback(settings.web_host)
        self.slots = asyncio.Semaphore(settings.web_max_concurrent_renders)
        self.executor = ThreadPoolExecutor(max_workers=settings.web_max_concurrent_renders,
                                           thread_name_prefix="coi-web-render")
        if self.token is None and not self.open_without_token:
            log.warning("data views (/scores*, /entities/ID) are off: the web server binds %s and no web token is set "
                        "(COI_WEB_TOKEN or COI_WEB_TOKEN_FILE)", settings.web_host)

    def admit(self, view, request: web.Request,
              allowed: tuple[str, ...] = ()) -> tuple[web.Response | None, dict[str, str]]:
        """The one token check of a data request, then its query (`_query`: BadQuery for one the view cannot
        answer). The token comes first: a client without it learns nothing of the parameters. Every data view
        calls this before `render`, which trusts what it is given."""
        if (refused := self.refusal(view, request)) is not None:
            return refused, {}
        return None, _query(request, allowed)

    def refusal(self, view, request: web.Request) -> web.Response | None:
        if self.token is None:
            if self.open_without_token:
                # loopback only, against DNS rebinding too: a web page of attacker.example whose name the attacker
                # then resolves to 127.0.0.1 makes the analyst's browser send its requests here, same-origin to it
                # (a request without a Host header comes from no browser: let it through)
                if _loopback_host(request.headers.get("Host", "localhost")):
                    return None
                return view.json({"error": "without a token the data views answer only requests addressed to a "
                                           "loopback host (Host: localhost, 127.0.0.1 or [::1])"}, status=403)
            return view.json({"error": "data views need a bearer token when the server is not bound to a loopback "
                                       "address: set COI_WEB_TOKEN or COI_WEB_TOKEN_FILE on the worker"},
                             status=403)
        scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode(), self.token):
            return None
        return view.json({"error": "missing or wrong bearer token"}, status=401,
                         headers={"WWW-Authenticate": 'Bearer realm="coi-risk"'})

    async def render(self, view, produce) -> web.Response:
        """`produce()`, off the loop, for a request `admit` let through (no token check here). It answers the
        body (bytes: 200), or (body, status); a body that is not bytes is encoded as JSON, in the render thread."""
        if self.slots.locked():
            return view.json({"error": "too many concurrent data requests; retry shortly"}, status=429,
                             headers={"Retry-After": "1"})
        if (refused := self.not_yet(view)) is not None:
            return refused
        async with self.slots:
            loop = asyncio.get_running_loop()
            # with the engine to itself: a render beside a batch or a replay read half-applied events, and what it
            # left in the layer's caches (a cluster's merged view) outlived them into published scores
            async with self.pipeline.engine_lock:
                # to its end even if the request is cancelled meanwhile (a shutdown; a client gone, where aiohttp
                # cancels on that): the thread reads the engine until then, and no batch may change it before
                body = await wait_through_cancellation(loop.run_in_executor(self.executor, self._render, produce))
        if body is None:
            return view.json({"error": "scores changed while rendering; retry"}, status=503,
                             headers={"Retry-After": "1"})
        body, status = body
        return view.bytes(body, content_type="application/json", status=status)

    def not_yet(self, view) -> web.Response | None:
        """503 while the worker recovers: the catch-up holds the engine for as long as it replays."""
        if self.pipeline.ready.is_set():
            return None
        return view.json({"error": "recovering: the scores are not served until the worker has caught up"},
                         status=503, headers={"Retry-After": "5"})

    @staticmethod
    def _render(produce) -> tuple[bytes, int] | None:
        for _ in range(_RENDER_ATTEMPTS):
            try:
                body, status = produced if isinstance(produced := produce(), tuple) else (produced, 200)
                return (body if isinstance(body, bytes) else json.dumps(body).encode()), status
            except RuntimeError:  # "dictionary changed size during iteration"
                continue
        return None


def unknown_entity(entity_id: str) -> tuple[dict, int]:
    """The answer of both entity views (/scores?entity=ID, /entities/ID) for an id no event names: a 404, not an
    empty answer that would read a typo as "no risk"."""
    return {"error": f"no event names the entity {entity_id!r}"}, 404


def entity_view(resolver, entity_id: str) -> tuple[dict, int]:
    """`GET /entities/ID`: the cluster an id belongs to (scoring.resolution.ResolvingEngine.cluster), or 404."""
    cluster = resolver.cluster(entity_id)
    if cluster is None:
        return unknown_entity(entity_id)
    return cluster, 200


def register_views(app, pipeline: Pipeline) -> None:
    guard = DataViewGuard(pipeline)

    @app.page("/healthz")
    async def healthz(self, request: web.Request) -> web.Response:
        return self.json({"status": "ok"})

    @app.page("/ready")
    async def ready(self, request: web.Request) -> web.Response:
        if not pipeline.ready.is_set():
            return self.json({"ready": False, "reason": pipeline.not_ready_reason}, status=503)
        reason = kafka_unready_reason(pipeline.app)
        if reason is not None:
            return self.json({"ready": False, "reason": reason}, status=503)
        return self.json({"ready": True})

    @app.page("/metrics")
    async def metrics(self, request: web.Request) -> web.Response:
        # aiohttp refuses a charset inside content_type=, and Prometheus' content type carries one
        return self.bytes(generate_latest(pipeline.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

    # every data view: `guard.admit` (the token, then the query) before `guard.render`, which does not check again;
    # a BadQuery raised here is answered 400 by `json_errors`
    @app.page("/scores")
    async def scores(self, request: web.Request) -> web.Response:
        refused, query = guard.admit(self, request, ("entity", "limit"))
        if refused is not None:
            return refused
        entity = query.get("entity")
        if not entity:
            raise BadQuery("pass ?entity=ID, or use /scores/top")
        limit = _limit(query)

        def produce() -> bytes | tuple[dict, int]:
            if pipeline.engine.entity_ref(entity) is None:
                return unknown_entity(entity)
            return _json_object(entity=entity,
                                scores=_scores_json(pipeline.engine.top_scores(limit=limit, entity_id=entity)))
        return await guard.render(self, produce)

    @app.page("/scores/top")
    async def top(self, request: web.Request) -> web.Response:
        refused, query = guard.admit(self, request, ("limit",))
        if refused is not None:
            return refused
        limit = _limit(query)
        return await guard.render(self,
                                  lambda: _json_object(scores=_scores_json(pipeline.engine.top_scores(limit=limit))))

    # ids may hold "/" (schemas.events.Identifier): the id is the rest of the path, percent-encoded or not
    @app.page("/entities/{entity_id:.+}")
    async def entity(self, request: web.Request, entity_id: str) -> web.Response:
        # an id's cluster is data like its scores: the same token rule, and rendered off the loop like them (its
        # open suggestions are found among all of them: a cost that grows with the input, not with the cluster).
        # It takes no parameters, and refuses any as the other views refuse one they do not take
        refused, _ = guard.admit(self, request)
        if refused is not None:
            return refused
        return await guard.render(self, lambda: entity_view(pipeline.engine, entity_id))
