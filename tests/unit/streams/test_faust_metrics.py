"""Faust's health on /metrics without work per message (streams.faust_metrics)."""

from __future__ import annotations

from types import SimpleNamespace

from faust.types import TP
from prometheus_client import generate_latest

from streams.config import load_settings
from streams.faust_metrics import BatchMonitor


def _pipeline(tmp_path):
    from streams.app import Pipeline

    return Pipeline(load_settings(environ={}, data_dir=str(tmp_path / "data")))


def test_the_worker_installs_the_batch_monitor_and_not_faust_prometheus_sensor(tmp_path):
    from faust.sensors.prometheus import PrometheusMonitor

    pipeline = _pipeline(tmp_path)
    assert isinstance(pipeline.app.monitor, BatchMonitor)
    assert not any(isinstance(sensor, PrometheusMonitor) for sensor in pipeline.app.sensors)


def test_per_message_hooks_keep_nothing(tmp_path):
    monitor = _pipeline(tmp_path).app.monitor
    tp, message = TP("events", 0), SimpleNamespace(time_in=None)
    for offset in range(100):
        monitor.on_message_in(tp, offset, message)
        state = monitor.on_stream_event_in(tp, offset, None, None)
        monitor.on_stream_event_out(tp, offset, None, None, state)
        monitor.on_message_out(tp, offset, message)
    assert monitor.messages_received_total == 0 and monitor.events_total == 0 and not monitor.tp_read_offsets
    assert message.time_in is None  # Faust's monitor stamps every message; this one leaves it alone


def test_commits_rebalances_and_offsets_reach_the_registry(tmp_path):
    pipeline = _pipeline(tmp_path)
    monitor, registry = pipeline.app.monitor, pipeline.registry
    for _ in range(3):
        monitor.on_commit_completed(None, monitor.on_commit_initiated(None))
    monitor.on_tp_commit({TP("events", 2): 41})
    app = SimpleNamespace(rebalancing_count=1)
    monitor.on_rebalance_end(app, monitor.on_rebalance_start(app))
    assert registry.get_sample_value("coi_faust_commit_latency_seconds_count") == 3
    assert registry.get_sample_value("coi_faust_rebalances_total") == 1
    assert registry.get_sample_value("coi_faust_rebalance_seconds_count") == 1
    monitor.on_assignment_completed(None, monitor.on_assignment_start(None))
    monitor.on_assignment_error(None, monitor.on_assignment_start(None), RuntimeError("lost"))
    assert registry.get_sample_value("coi_faust_assignments_total", {"outcome": "completed"}) == 1
    assert registry.get_sample_value("coi_faust_assignments_total", {"outcome": "failed"}) == 1
    # Faust's monitor keeps its own tallies under the same hooks: both must work (a sensor that raises stops Faust)
    monitor.on_topic_buffer_full(TP("events", 0))
    monitor.on_send_error(None, RuntimeError("refused"), None)
    assert registry.get_sample_value("coi_faust_topic_buffer_full_total") == 1 and monitor.topic_buffer_full
    assert registry.get_sample_value("coi_faust_send_errors_total") == 1 and monitor.send_errors == 1
    monitor.on_tp_commit({TP("events", 2): 42})  # after the rebalance (which forgets offsets of old assignments)
    assert registry.get_sample_value("coi_faust_committed_offset", {"topic": "events", "partition": "2"}) == 42
    text = generate_latest(registry).decode()
    assert "coi_faust_assigned_partitions" in text and "coi_faust_end_offset" in text
    assert "coi_faust_messages_received" not in text  # no per-message series
