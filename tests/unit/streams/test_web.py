"""The data views' guard: bearer token, loopback-only without one, bounded off-loop rendering; the app's web and
consumer settings (Faust's /router and /table off, session timeout, static membership)."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from streams.config import load_settings
from streams.web import DataViewGuard, _json_object, is_loopback


class _View:
    """Stands in for a Faust view: records what would be answered."""

    @staticmethod
    def json(value, status=200, headers=None):
        return status, value, headers or {}

    @staticmethod
    def bytes(value, content_type=None, status=200, headers=None):
        return status, value, headers or {}


def _request(token: str | None = None):
    return SimpleNamespace(headers={"Authorization": f"Bearer {token}"} if token else {}, query={})


def _answer(guard: DataViewGuard, request, produce):
    """What a data view answers: `admit` (the token), then `render`, which does not check the token again."""
    refused, _ = guard.admit(_View, request)
    return refused if refused is not None else asyncio.run(guard.render(_View, produce))


def _guard(ready: bool = True, **settings) -> DataViewGuard:
    pipeline = SimpleNamespace(settings=load_settings(environ={}, **settings), ready=asyncio.Event(),
                               engine_lock=asyncio.Lock())
    if ready:
        pipeline.ready.set()
    return DataViewGuard(pipeline)


def test_loopback_addresses():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("10.1.2.3") and not is_loopback("worker")


def test_without_a_token_data_is_served_on_loopback_only():
    assert _answer(_guard(), _request(), lambda: b"{}")[0] == 200
    status, body, _ = _answer(_guard(web_host="0.0.0.0"), _request(), lambda: b"{}")
    assert status == 403 and "COI_WEB_TOKEN" in body["error"]


def test_with_a_token_only_the_right_bearer_gets_data():
    guard = _guard(web_host="0.0.0.0", web_token="let-me-in")
    assert _answer(guard, _request(), lambda: b"{}")[0] == 401
    assert _answer(guard, _request("wrong"), lambda: b"{}")[0] == 401
    status, body, _ = _answer(guard, _request("let-me-in"), lambda: _json_object(scores=[]))
    assert (status, json.loads(body)) == (200, {"scores": []})


def test_rendering_runs_off_the_loop_and_excess_requests_get_429():
    guard = _guard(web_max_concurrent_renders=1)
    release, started = threading.Event(), threading.Event()

    def slow_render():
        started.set()
        release.wait(10)
        return b"{}"

    async def scenario():
        first = asyncio.ensure_future(guard.render(_View, slow_render))
        while not started.is_set():
            await asyncio.sleep(0.01)
        # the render holds its slot in a thread; the loop still runs other requests (as /healthz would)
        second = await guard.render(_View, lambda: b"{}")
        loop_ticks = 0
        for _ in range(5):
            await asyncio.sleep(0)
            loop_ticks += 1
        release.set()
        return await first, second, loop_ticks

    first, second, loop_ticks = asyncio.run(scenario())
    assert first[0] == 200 and loop_ticks == 5
    assert second[0] == 429 and second[2]["Retry-After"] == "1"


def test_rendered_json_joins_encoded_items():
    body = _json_object(entity="e/1", scores=[b'{"a": 1}', b'{"b": [2]}'])
    assert json.loads(body) == {"entity": "e/1", "scores": [{"a": 1}, {"b": [2]}]}


def test_a_render_racing_the_agent_is_retried_then_refused():
    calls = []

    def changing():
        calls.append(1)
        raise RuntimeError("dictionary changed size during iteration")

    status, _, _ = asyncio.run(_guard().render(_View, changing))
    assert status == 503 and len(calls) == 3


@pytest.fixture
def app_conf(tmp_path):
    from streams.app import Pipeline

    def build(**settings):
        return Pipeline(load_settings(environ={}, data_dir=str(tmp_path / "data"), **settings)).app.conf
    return build


def test_faust_views_are_off_unless_asked_for(app_conf):
    default = app_conf()
    assert not default.web_router_enabled and not default.web_tables_enabled
    asked = app_conf(web_faust_views=True)
    assert asked.web_router_enabled and asked.web_tables_enabled


def test_the_consumer_gets_the_session_timeout_and_static_membership(app_conf):
    conf = app_conf(session_timeout_seconds=12, group_instance_id="worker-0")
    assert conf.broker_session_timeout == 12 and conf.consumer_group_instance_id == "worker-0"
    assert conf.broker_heartbeat_interval <= 12 / 3
    assert app_conf().broker_session_timeout == 10  # Faust's own default would be 60 s


def test_the_consumer_refreshes_metadata_often_enough_to_find_a_new_partition(app_conf):
    # aiokafka's own default (5 min) left a partition added to the input topic unread, with /ready 200 and no lag
    assert app_conf().consumer_metadata_max_age_ms == 30_000
    assert app_conf(metadata_max_age_seconds=5).consumer_metadata_max_age_ms == 5_000


def test_a_render_waits_for_the_engine_and_is_refused_while_the_worker_recovers():
    # a render in its thread beside a batch or a catch-up read half-applied events, and what it cached in the
    # layer (a cluster's merged view) outlived them
    guard = _guard()
    rendered = []

    async def scenario():
        await guard.pipeline.engine_lock.acquire()  # a batch is being applied
        request = asyncio.ensure_future(guard.render(_View, lambda: rendered.append(1) or b"{}"))
        for _ in range(20):
            await asyncio.sleep(0.01)
        waited = not rendered and not request.done()
        guard.pipeline.engine_lock.release()
        return waited, await request

    waited, (status, _, _) = asyncio.run(scenario())
    assert waited and status == 200 and rendered == [1]
    status, body, headers = asyncio.run(_guard(ready=False).render(_View, lambda: b"{}"))
    assert status == 503 and "recovering" in body["error"] and headers["Retry-After"] == "5"


# -- the views as an HTTP client sees them: the worker's aiohttp app in-process, the seed scenario applied ----------

SEED_EVENTS = Path(__file__).resolve().parents[3] / "examples" / "binance-wlfi.jsonl"


def _answers(tmp_path, requests, *, events=(), **settings):
    """(status, Content-Type, JSON body or text, headers) for each (method, path), from a ready worker's views."""
    from aiohttp.test_utils import TestClient, TestServer

    from schemas import RelationshipEvent
    from streams.app import Pipeline

    pipeline = Pipeline(load_settings(environ={}, data_dir=str(tmp_path / "data"), snapshots_enabled=False,
                                      **settings))
    lines = [line for line in SEED_EVENTS.read_text().splitlines() if line.strip()] + list(events)
    pipeline.engine.apply_many(RelationshipEvent.model_validate_json(line) for line in lines)
    pipeline.ready.set()

    async def scenario():
        client = TestClient(TestServer(pipeline.app.web.web_app))
        await client.start_server()
        try:
            answers = []
            for method, path, *headers in requests:
                response = await client.request(method, path, headers=headers[0] if headers else None)
                text = await response.text()
                content_type = response.headers.get("Content-Type", "")
                body = json.loads(text) if content_type.startswith("application/json") else text
                answers.append((response.status, content_type, body, response.headers))
            return answers
        finally:
            await client.close()
    return asyncio.run(scenario())


@pytest.mark.parametrize("query", ["limit=-1", "limit=0", "limit=abc", "limit=1.5", "limit=", "limit=1_000",
                                   "limit=%205", "limit=1&limit=2", "offset=20", "page=2", "entity=sun"])
def test_a_query_the_top_view_cannot_answer_is_a_400(tmp_path, query):
    # `limit=-1` answered one score, `limit=abc` twenty, and `?offset=20` or `?page=2` the first page again: a
    # client paging through the top risks read the same scores over and over, and `/scores/top?entity=sun`
    # everyone's top risks as if they were Justin Sun's
    [(status, content_type, body, _)] = _answers(tmp_path, [("GET", f"/scores/top?{query}")])
    assert (status, content_type.split(";")[0]) == (400, "application/json"), body
    assert "limit" in body["error"] or "parameter" in body["error"]


@pytest.mark.parametrize("query", ["entity=sun&limit=-1", "entity=sun&entity=cz", "entity=sun&offset=20"])
def test_a_query_the_entity_scores_view_cannot_answer_is_a_400(tmp_path, query):
    [(status, _, body, _)] = _answers(tmp_path, [("GET", f"/scores?{query}")])
    assert status == 400, body


def test_limit_takes_whole_numbers_up_to_the_cap(tmp_path):
    answers = _answers(tmp_path, [("GET", "/scores/top?limit=2"), ("GET", "/scores/top?limit=1000000000"),
                                  ("GET", "/scores/top?limit=" + "9" * 5000), ("GET", "/scores/top"),
                                  ("GET", "/scores?entity=trump&limit=1")])
    assert [status for status, *_ in answers] == [200] * 5
    assert len(answers[0][2]["scores"]) == 2
    assert len(answers[1][2]["scores"]) == len(answers[2][2]["scores"]) == len(answers[3][2]["scores"]) > 2
    assert len(answers[4][2]["scores"]) == 1


def test_a_bad_query_without_the_token_is_a_401_not_a_400(tmp_path):
    # the token is checked first: a client without it learns nothing about the views' parameters
    answers = _answers(tmp_path, [("GET", "/scores"), ("GET", "/scores/top?limit=abc"),
                                  ("GET", "/scores?entity=sun&limit=-1")], web_token="let-me-in")
    assert [status for status, *_ in answers] == [401, 401, 401]


def test_the_scores_of_an_id_no_event_names_are_a_404_as_its_cluster_is(tmp_path):
    # `/scores?entity=donald-trump` (the id is `trump`) answered 200 with no scores: a typo read as "no risk",
    # while `/entities/donald-trump` said 404
    answers = _answers(tmp_path, [("GET", "/scores?entity=donald-trump"), ("GET", "/entities/donald-trump"),
                                  ("GET", "/scores?entity=tether"), ("GET", "/scores?entity=trump")])
    (scores_status, _, body, _), (entity_status, *_), (tether, _, quiet, _), (trump, _, found, _) = answers
    assert (scores_status, entity_status) == (404, 404) and "donald-trump" in body["error"]
    assert (tether, quiet) == (200, {"entity": "tether", "scores": []})  # named by events, no risk: an empty list
    assert trump == 200 and found["scores"]


def _event_naming(entity_id: str) -> str:
    event = json.loads(SEED_EVENTS.read_text().splitlines()[0])
    event.update(event_id="slash-1", relation_id="slash-owns-binance")
    event["source"] = {"id": entity_id, "name": "A register's company", "schema": "Company"}
    return json.dumps(event)


def test_an_id_with_a_slash_is_routed_to_its_cluster(tmp_path):
    # ids may hold "/" (schemas.events.Identifier; BODS statement ids, register numbers): `/entities/gb-coh/0123`
    # was a text/plain "404: Not Found", and only a client that percent-encoded the slash found it
    answers = _answers(tmp_path, [("GET", "/entities/gb-coh/0123"), ("GET", "/entities/gb-coh%2F0123"),
                                  ("GET", "/scores?entity=gb-coh/0123")], events=[_event_naming("gb-coh/0123")])
    assert [(status, body["id"] if "id" in body else body) for status, _, body, _ in answers[:2]] == \
        [(200, "gb-coh/0123"), (200, "gb-coh/0123")]
    assert answers[2][0] == 200


@pytest.mark.parametrize("method, path, status", [("GET", "/nope", 404), ("GET", "/entities/", 404),
                                                  ("GET", "/scores/top/", 404), ("POST", "/scores/top", 405),
                                                  ("DELETE", "/entities/trump", 405)])
def test_every_error_is_json(tmp_path, method, path, status):
    # the views' own errors were JSON, aiohttp's (no such path, wrong method) text/plain: a client parsing every
    # answer as JSON failed on them
    [(answered, content_type, body, headers)] = _answers(tmp_path, [(method, path)])
    assert (answered, content_type.split(";")[0]) == (status, "application/json") and body["error"]
    if status == 405:
        assert "GET" in headers["Allow"]


def test_a_view_that_fails_answers_500_in_json(tmp_path, monkeypatch):
    from scoring.resolution import ResolvingEngine

    def fails(self, *args, **kwargs):
        raise KeyError("a bug")

    monkeypatch.setattr(ResolvingEngine, "cluster", fails)
    [(status, content_type, body, _)] = _answers(tmp_path, [("GET", "/entities/trump")])
    assert (status, content_type.split(";")[0]) == (500, "application/json")
    assert "a bug" not in json.dumps(body)  # no internals to the client; the log has the traceback


def test_an_ids_cluster_is_data_behind_the_token_as_its_scores_are(tmp_path):
    authorized = {"Authorization": "Bearer let-me-in"}
    answers = _answers(tmp_path, [("GET", "/entities/trump"), ("GET", "/entities/trump", authorized),
                                  ("GET", "/metrics")], web_token="let-me-in")
    assert [status for status, *_ in answers] == [401, 200, 200]


@pytest.mark.parametrize("query", ["offset=20", "limit=5", "entity=sun", "x=1&x=2"])
def test_the_entity_view_refuses_parameters_as_the_scores_views_do(tmp_path, query):
    # `/entities/trump?limit=5` answered the whole cluster as if the parameter were not there, while `/scores*`
    # refused a parameter they do not take with 400
    [(status, content_type, body, _)] = _answers(tmp_path, [("GET", f"/entities/trump?{query}")])
    assert (status, content_type.split(";")[0]) == (400, "application/json") and "parameter" in body["error"]
    assert _answers(tmp_path, [("GET", "/entities/trump")])[0][0] == 200


def test_every_data_view_is_admitted_before_it_renders(tmp_path):
    # `render` trusts its request: the token is checked once, in `admit`. Every route but the probes and the
    # metrics is a data view, and each must refuse a request without the token, bad parameters or not
    from streams.app import Pipeline

    pipeline = Pipeline(load_settings(environ={}, data_dir=str(tmp_path / "routes"), snapshots_enabled=False))
    routes = {resource.canonical for resource in pipeline.app.web.web_app.router.resources()}
    data_views = routes - {"/healthz", "/ready", "/metrics"}
    assert data_views == {"/scores", "/scores/top", "/entities/{entity_id}"}, "a new route: admit it, then list it"
    paths = ["/scores?entity=trump", "/scores/top", "/entities/trump", "/scores?entity=sun&limit=-1",
             "/scores/top?page=2", "/entities/trump?page=2"]
    answers = _answers(tmp_path, [("GET", path) for path in paths], web_token="let-me-in")
    assert [status for status, *_ in answers] == [401] * len(paths)
