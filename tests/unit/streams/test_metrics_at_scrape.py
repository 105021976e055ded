"""What a scrape of the worker's /metrics reads at the moment it runs: readiness as /ready says it, and a registry
that answers in every state of the Faust app (streams.app.Pipeline, streams.faust_metrics.FaustCollector)."""

from __future__ import annotations

from types import SimpleNamespace

from faust.types import TP
from prometheus_client import generate_latest

from streams.config import load_settings
from streams.web import kafka_unready_reason


def _pipeline(tmp_path):
    from streams.app import Pipeline

    return Pipeline(load_settings(environ={}, data_dir=str(tmp_path / "data")))


def _consumer(coordinator_id: int | None, connected: bool, assignment=()):
    """Faust's consumer as far as /ready and the collectors read it: the aiokafka consumer behind its thread."""
    connection = SimpleNamespace(connected=lambda: connected)
    aiokafka = SimpleNamespace(_coordinator=SimpleNamespace(coordinator_id=coordinator_id),
                               _client=SimpleNamespace(_conns={"node-1": connection}))
    return SimpleNamespace(_thread=SimpleNamespace(_consumer=aiokafka), assignment=lambda: set(assignment),
                           highwater=lambda tp: None)


def test_worker_ready_follows_the_broker_as_ready_does(tmp_path):
    # /ready turned 503 when the consumer lost its group coordinator, while coi_worker_ready stayed 1: with the
    # broker gone no alert fired (CoiWorkerNotReady reads the gauge; the lag gauge freezes, up stays 1)
    pipeline = _pipeline(tmp_path)
    registry = pipeline.registry
    pipeline._set_ready(True, "caught up")
    pipeline.app._consumer = _consumer(coordinator_id=1, connected=True)
    assert kafka_unready_reason(pipeline.app) is None
    assert registry.get_sample_value("coi_worker_ready") == 1

    pipeline.app._consumer = _consumer(coordinator_id=None, connected=True)  # a heartbeat failed: broker gone
    assert "coordinator" in kafka_unready_reason(pipeline.app)
    assert registry.get_sample_value("coi_worker_ready") == 0

    pipeline.app._consumer = _consumer(coordinator_id=1, connected=False)
    assert registry.get_sample_value("coi_worker_ready") == 0

    pipeline.app._consumer = _consumer(coordinator_id=1, connected=True)
    assert registry.get_sample_value("coi_worker_ready") == 1
    pipeline._set_ready(False, "partitions revoked")
    assert registry.get_sample_value("coi_worker_ready") == 0


def test_worker_ready_is_0_before_the_consumer_exists(tmp_path):
    pipeline = _pipeline(tmp_path)
    assert registry_value(pipeline, "coi_worker_ready") == 0
    pipeline._set_ready(True, "caught up")
    assert registry_value(pipeline, "coi_worker_ready") == 0  # /ready: "consumer not started"


def registry_value(pipeline, name, labels=None):
    return pipeline.registry.get_sample_value(name, labels or {})


def test_a_scrape_answers_before_the_consumer_thread_has_started(tmp_path):
    # Faust creates its consumer when the app starts (the boot strategy lists it among the services), and starts
    # the web server before the consumer, whose thread creates the aiokafka client: a scrape in between raised
    # ConsumerNotStarted out of FaustCollector.collect, and /metrics failed
    pipeline = _pipeline(tmp_path)
    list(pipeline.app.boot_strategy.server())
    assert pipeline.app._consumer is not None and pipeline.app._consumer._thread._consumer is None
    text = generate_latest(pipeline.registry).decode()
    assert "coi_faust_assigned_partitions" in text and "coi_worker_ready 0.0" in text
    pipeline.sample_gauges()  # the lag timer, were it to run then: nothing to report, nothing raised
    assert "coi_consumer_lag{" not in generate_latest(pipeline.registry).decode()


def test_a_scrape_reports_the_assignment_once_the_consumer_runs(tmp_path):
    pipeline = _pipeline(tmp_path)
    pipeline.app._consumer = _consumer(1, True, assignment={TP("coi-relationship-events", 0), TP("other", 3)})
    assert registry_value(pipeline, "coi_faust_assigned_partitions", {"topic": "coi-relationship-events"}) == 1
    assert registry_value(pipeline, "coi_faust_assigned_partitions", {"topic": "other"}) == 1


def test_not_ready_says_which_of_waiting_standing_by_and_catching_up(tmp_path):
    """/ready gave one reason, "recovering or waiting for partitions", to a worker waiting for its first assignment
    and to a standby that holds no partition for as long as it stands by (an operator's review)."""
    pipeline = _pipeline(tmp_path)
    assert pipeline.not_ready_reason == "waiting for the consumer group to assign the input partitions"
    pipeline.partitions_assigned(set())
    assert pipeline.not_ready_reason == ("no input partition assigned: other members of the group hold them all "
                                         "(a standby)")
    pipeline.partitions_revoked({0})
    assert pipeline.not_ready_reason == "partitions [0] revoked: waiting for the group's next assignment"
    assert not pipeline.ready.is_set()


def test_losing_kafka_and_getting_it_back_is_one_line_each(tmp_path, caplog):
    """The worker logged nothing of its own when it lost the broker (/ready 503), only the client's thousands of
    lines (an operator's review): one line when it goes, one when it is back, none in between."""
    import logging

    pipeline = _pipeline(tmp_path)
    pipeline._set_ready(True, "caught up")
    with caplog.at_level(logging.INFO, logger="streams.app"):
        for coordinator in (1, 1, None, None, None, 1, 1):
            pipeline.app._consumer = _consumer(coordinator_id=coordinator, connected=True)
            pipeline._log_kafka_state()
    said = [record.getMessage() for record in caplog.records if record.name == "streams.app"]
    assert len(said) == 2 and said[0].startswith("not ready: ") and "coordinator" in said[0]
    assert said[1] == "ready again: in touch with Kafka"
