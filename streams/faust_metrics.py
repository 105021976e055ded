"""Faust's own health as Prometheus metrics (`coi_faust_*`), without work per message.

Faust's `PrometheusMonitor` updates labelled counters and histograms on every message in, event in, event out,
message out and send: on this machine that cost 25-40 % of a no-op agent's rate (issue 13). What an operator
needs from Faust happens per commit, per rebalance or per assignment, not per message, so `BatchMonitor` keeps
Faust's default monitor for those hooks (and for Faust's /stats view) and turns the per-message hooks into no-ops;
messages in and out are the pipeline's own counters, updated per batch (`coi_events_consumed_total`,
`coi_published_total`). Offsets and the assignment are read at scrape time by `FaustCollector`.
"""

from __future__ import annotations

from typing import Any

from faust.exceptions import ConsumerNotStarted
from faust.sensors.monitor import Monitor
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

# a commit is a broker round trip; a rebalance waits for every member of the group
_COMMIT_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_REBALANCE_BUCKETS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)


class BatchMonitor(Monitor):
    """Faust's default monitor minus its per-message bookkeeping, plus Prometheus series for the rare events."""

    def __init__(self, registry: CollectorRegistry, prefix: str = "coi_faust", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # (named series_*: Faust's Monitor already has attributes called rebalances, send_errors, ...)
        self.series_commit_latency_seconds = Histogram(
            f"{prefix}_commit_latency_seconds", "Offset commits to the broker, from start to acknowledgement",
            buckets=_COMMIT_BUCKETS, registry=registry)
        self.series_rebalances = Counter(f"{prefix}_rebalances", "Consumer group rebalances this worker took part "
                                         "in", registry=registry)
        self.series_rebalance_seconds = Histogram(f"{prefix}_rebalance_seconds", "From a rebalance's start until "
                                                  "Faust resumed processing", buckets=_REBALANCE_BUCKETS,
                                                  registry=registry)
        self.series_assignments = Counter(f"{prefix}_assignments", "Partition assignments computed, by outcome",
                                          ["outcome"], registry=registry)
        self.series_send_errors = Counter(f"{prefix}_send_errors", "Messages the producer could not publish",
                                          registry=registry)
        self.series_topic_buffer_full = Counter(f"{prefix}_topic_buffer_full", "Times the conductor waited because "
                                                "a stream's buffer was full (the agent is the bottleneck)",
                                                registry=registry)
        for outcome in ("completed", "failed"):
            self.series_assignments.labels(outcome=outcome)

    # -- per message: nothing (these run for every message; Faust calls them through its sensor delegate) -----

    def on_message_in(self, tp, offset, message) -> None:
        pass

    def on_stream_event_in(self, tp, offset, stream, event) -> None:
        return None

    def on_stream_event_out(self, tp, offset, stream, event, state=None) -> None:
        pass

    def on_message_out(self, tp, offset, message) -> None:
        pass

    def on_send_initiated(self, producer, topic, message, keysize, valsize) -> None:
        return None

    def on_send_completed(self, producer, state, metadata) -> None:
        pass

    # -- rare events: Faust's own bookkeeping, plus a Prometheus series ----------------------------------------

    def on_send_error(self, producer, exc, state) -> None:
        super().on_send_error(producer, exc, state)
        self.series_send_errors.inc()

    def on_topic_buffer_full(self, tp) -> None:
        super().on_topic_buffer_full(tp)
        self.series_topic_buffer_full.inc()

    def on_commit_completed(self, consumer, state) -> None:
        super().on_commit_completed(consumer, state)
        self.series_commit_latency_seconds.observe(self.commit_latency[-1])

    def on_assignment_completed(self, assignor, state) -> None:
        super().on_assignment_completed(assignor, state)
        self.series_assignments.labels(outcome="completed").inc()

    def on_assignment_error(self, assignor, state, exc) -> None:
        super().on_assignment_error(assignor, state, exc)
        self.series_assignments.labels(outcome="failed").inc()

    def on_rebalance_start(self, app) -> dict:
        self.series_rebalances.inc()
        return super().on_rebalance_start(app)

    def on_rebalance_end(self, app, state) -> None:
        super().on_rebalance_end(app, state)
        self.series_rebalance_seconds.observe(state["latency_end"])


def current_assignment(app) -> set:
    """The partitions Faust's consumer holds now; none before its thread has created the Kafka client. Faust
    creates the consumer when the app starts and starts the web server before it: a scrape in between must answer
    (ConsumerNotStarted out of a collector failed the whole of /metrics)."""
    consumer = getattr(app, "_consumer", None)
    if consumer is None:
        return set()
    try:
        return set(consumer.assignment())
    except ConsumerNotStarted:
        return set()


class FaustCollector(Collector):
    """Per partition, computed at scrape time: assigned, committed offset, end offset (the monitor's record of
    what Faust committed and of the high-water marks its consumer fetched)."""

    def __init__(self, app, monitor: Monitor, prefix: str = "coi_faust"):
        self.app, self.monitor, self.prefix = app, monitor, prefix

    def collect(self):
        assigned = GaugeMetricFamily(f"{self.prefix}_assigned_partitions", "Partitions assigned to this worker, "
                                     "by topic", labels=["topic"])
        counts: dict[str, int] = {}
        for tp in current_assignment(self.app):
            counts[tp.topic] = counts.get(tp.topic, 0) + 1
        for topic, count in sorted(counts.items()):
            assigned.add_metric([topic], count)
        yield assigned
        yield self._offsets("committed_offset", "Last offset Faust committed", self.monitor.tp_committed_offsets)
        yield self._offsets("end_offset", "High-water mark the consumer last saw", self.monitor.tp_end_offsets)

    def _offsets(self, name: str, documentation: str, offsets) -> GaugeMetricFamily:
        family = GaugeMetricFamily(f"{self.prefix}_{name}", documentation, labels=["topic", "partition"])
        for tp, offset in sorted(dict(offsets).items()):
            family.add_metric([tp.topic, str(tp.partition)], offset)
        return family
