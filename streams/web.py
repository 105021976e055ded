"""HTTP views on the worker: health, readiness, Prometheus metrics and the current top risks as JSON."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from faust import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

if TYPE_CHECKING:
    from streams.app import Pipeline

DEFAULT_LIMIT = 20
MAX_LIMIT = 500


def _limit(request: web.Request) -> int:
    try:
        return max(1, min(MAX_LIMIT, int(request.query.get("limit", DEFAULT_LIMIT))))
    except ValueError:
        return DEFAULT_LIMIT


def _scores_json(scores) -> list[dict]:
    return [json.loads(score.model_dump_json()) for score in scores]


def entity_view(resolver, entity_id: str) -> tuple[dict, int]:
    """`GET /entities/ID`: the cluster an id belongs to (scoring.resolution.ResolvingEngine.cluster), or 404."""
    cluster = resolver.cluster(entity_id)
    if cluster is None:
        return {"error": f"no event names the entity {entity_id!r}"}, 404
    return cluster, 200


def register_entity_view(app, pipeline: Pipeline) -> None:
    @app.page("/entities/{entity_id}")
    async def entity(self, request: web.Request, entity_id: str) -> web.Response:
        body, status = entity_view(pipeline.engine, entity_id)
        return self.json(body, status=status)


def register_views(app, pipeline: Pipeline) -> None:
    register_entity_view(app, pipeline)

    @app.page("/healthz")
    async def healthz(self, request: web.Request) -> web.Response:
        return self.json({"status": "ok"})

    @app.page("/ready")
    async def ready(self, request: web.Request) -> web.Response:
        is_ready = pipeline.ready.is_set()
        return self.json({"ready": is_ready}, status=200 if is_ready else 503)

    @app.page("/metrics")
    async def metrics(self, request: web.Request) -> web.Response:
        # aiohttp refuses a charset inside content_type=, and Prometheus' content type carries one
        return self.bytes(generate_latest(pipeline.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})

    @app.page("/scores")
    async def scores(self, request: web.Request) -> web.Response:
        entity = request.query.get("entity")
        if not entity:
            return self.json({"error": "pass ?entity=ID, or use /scores/top"}, status=400)
        ranked = pipeline.engine.top_scores(limit=_limit(request), entity_id=entity)
        return self.json({"entity": entity, "scores": _scores_json(ranked)})

    @app.page("/scores/top")
    async def top(self, request: web.Request) -> web.Response:
        return self.json({"scores": _scores_json(pipeline.engine.top_scores(limit=_limit(request)))})
