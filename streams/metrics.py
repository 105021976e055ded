"""The pipeline's own Prometheus metrics, registered on a registry passed in (never the global one).

Names are a contract with deploy/prometheus rules and the Grafana dashboard; tests/deploy checks they agree.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, ProcessCollector

from schemas import AlertState, Band, RejectReason
from streams.collector import frozen_objects
from streams.memory import ForkRoom

# Scoring is sub-millisecond to tens of milliseconds; end-to-end spans broker round trips and batching. 0.5 is
# CoiScoringLatencyHigh's threshold: histogram_quantile interpolates inside a bucket, so a threshold that is no
# bucket boundary fires on latencies below it (a p99 of 0.3 s read as 0.625 s between 0.25 and 1).
# Above 1 s: an event that holds the worker for seconds (a hub's rescoring) is told from one that holds it for a
# minute; with 1.0 the last bound, a p99 of 1 s and one of 60 s read the same.
_SCORING_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                    10.0, 30.0)
# A fork pauses for milliseconds; a snapshot written in a thread (no room to fork) for the whole write, about 40 s at
# 1M relations
_PAUSE_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0,
                  1800.0)
# A young collection takes a fraction of a millisecond; a full one walks whatever is not frozen (seconds at worst).
_GC_BUCKETS = (0.0001, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_E2E_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
                3600.0, 86400.0)
# who wrote a snapshot: a forked child, or the worker in a thread (no room to fork; streams.memory)
SNAPSHOT_WRITERS = ("child", "thread")
# coi_pair_alerts_total: series for at most this many (actor, counterparty) pairs; the transitions of later pairs
# count under actor="_other", counterparty="_other". Its labels come from the input: unbounded, one producer could
# make the worker's memory and each /metrics render (on the event loop) grow without limit.
MAX_PAIR_SERIES = 1000
OTHER_PAIRS = "_other"


class PipelineMetrics:
    def __init__(self, registry: CollectorRegistry):
        self.registry = registry
        self.events_consumed = Counter("coi_events_consumed", "Relationship events read from the input topic",
                                       registry=registry)
        self.events_valid = Counter("coi_events_valid", "Events that passed validation", registry=registry)
        self.events_rejected = Counter("coi_events_rejected", "Events dead-lettered, by reason code", ["reason"],
                                       registry=registry)
        self.graph_nodes = Gauge("coi_graph_nodes", "Entities in the ownership-and-influence graph",
                                 registry=registry)
        self.graph_relations = Gauge("coi_graph_relations", "Live relations in the graph", registry=registry)
        # Hubs: nodes past the scorer's fan-out guard (limits.max_fanout) in some layer and direction; conflicts
        # through them may be missed (docs/scoring.md, "Bounds"), so a new one is an alert (CoiHubNodeEntered).
        self.graph_hub_nodes = Gauge("coi_graph_hub_nodes", "Nodes past the scorer's fan-out guard",
                                     registry=registry)
        self.hub_nodes_entered = Counter("coi_hub_nodes_entered", "Times a node crossed the scorer's fan-out "
                                         "guard in some layer and direction while live", registry=registry)
        self.scoring_latency = Histogram("coi_scoring_latency_seconds", "Apply one event and rescore",
                                         buckets=_SCORING_BUCKETS, registry=registry)
        self.end_to_end_latency = Histogram(
            "coi_end_to_end_latency_seconds",
            "From the event's observed time (clock=event_time) or its Kafka append time (clock=append_time) "
            "to publication of the resulting score or alert", ["clock"], buckets=_E2E_BUCKETS, registry=registry)
        self.score_changes = Counter("coi_score_changes", "Published score changes, by new band", ["band"],
                                     registry=registry)
        self.alerts = Counter("coi_alerts", "Published alert transitions", ["band", "state"], registry=registry)
        self.pair_alerts = Counter("coi_pair_alerts", "Alert transitions per (actor, counterparty) pair",
                                   ["actor", "counterparty"], registry=registry)
        self.published = Counter("coi_published", "Messages written to output topics", ["topic"],
                                 registry=registry)
        self.consumer_lag = Gauge("coi_consumer_lag", "Input messages not yet processed", ["topic", "partition"],
                                  registry=registry)
        self.worker_ready = Gauge("coi_worker_ready", "1 while /ready says ready: the graph recovered on every "
                                  "assigned input partition and the consumer in touch with Kafka", registry=registry)
        # CoiCriticalConflictRaised: a transition counted before the first scrape of a worker started less than 5
        # minutes ago is new, whatever Prometheus saw of an earlier process (or did not see: a gap, an empty TSDB)
        self.worker_start_time = Gauge("coi_worker_start_time_seconds", "Unix time the worker process started "
                                       "(its metrics were created), seconds", registry=registry)
        self.worker_start_time.set(time.time())
        self.recovered_events = Counter("coi_recovered_events", "Events re-applied from the input topic without "
                                        "publishing (at start, and after a rebalance assigned a partition)",
                                        registry=registry)
        # writer="child": forked, the live path pauses for the fork alone; writer="thread": there was no room for a
        # fork (streams.memory), and the stream waits for the whole write
        self.snapshots_written = Counter("coi_snapshots_written", "Snapshots of the engine written, by writer "
                                         "(child: a forked process; thread: in the worker, the stream waiting)",
                                         ["writer"], registry=registry)
        self.snapshot_pause = Histogram("coi_snapshot_pause_seconds", "Live-path pause to take a snapshot, by writer "
                                        "(child: the fork; thread: the whole write)", ["writer"],
                                        buckets=_PAUSE_BUCKETS, registry=registry)
        self.snapshots_skipped = Counter("coi_snapshots_skipped", "Due snapshots not written for want of memory "
                                         "(no room to fork, and snapshot_without_fork_room skip or no room for a "
                                         "thread either)", registry=registry)
        # Read at scrape time (`watch_fork_room`): a snapshot is forked only while may_copy <= room
        self.snapshot_fork_may_copy = Gauge("coi_snapshot_fork_may_copy_bytes", "What a forked snapshot writer may "
                                            "copy: the worker's private memory", registry=registry)
        self.snapshot_fork_room = Gauge("coi_snapshot_fork_room_bytes", "Memory left on the machine or in the "
                                        "worker's cgroup, less snapshot_fork_reserve_mb", registry=registry)
        self.snapshot_bytes = Gauge("coi_snapshot_bytes", "Size of the last snapshot written or loaded",
                                    registry=registry)
        # A full or read-only disk failed every snapshot with a log line only: the next restart replayed the whole
        # log and nothing told the operator before (CoiSnapshotsFailing)
        self.snapshot_failures = Counter("coi_snapshot_failures", "Snapshot writes that failed or were given up, by "
                                         "writer (child: a forked process; thread: in the worker)", ["writer"],
                                         registry=registry)
        self.snapshot_written_at = Gauge("coi_snapshot_last_written_timestamp_seconds", "Unix time the newest "
                                         "snapshot this worker wrote or loaded was written (NaN: none)",
                                         registry=registry)
        self.snapshot_written_at.set(math.nan)
        self.snapshot_fallbacks = Counter("coi_snapshot_fallbacks", "Snapshots skipped at load, by reason "
                                          "(corrupt, incompatible, unauthenticated, unreadable, unloadable; "
                                          "past_the_log: loaded, then dropped as written from another log)",
                                          ["reason"], registry=registry)
        self.snapshot_loaded_offset = Gauge("coi_snapshot_loaded_offset", "Input offset of the snapshot loaded at "
                                            "start (-1: none, the full log was replayed)", ["partition"],
                                            registry=registry)
        # The live path stops while the cyclic collector runs (streams.collector.CollectionTimer): young
        # collections, and full ones at the heap's re-freezes (gc_refreeze_every_events, gc_automatic_collection)
        self.gc_pause = Histogram("coi_gc_pause_seconds", "Pauses of the cyclic garbage collector, by generation "
                                  "(2: a full collection)", ["generation"], buckets=_GC_BUCKETS, registry=registry)
        # Read at scrape time, as the freezes counted them (`streams.collector.frozen_objects`: counting at the
        # scrape held the event loop 0.2 s at 1M relations). A frozen object is never collected again: if this
        # grows much faster than the graph, objects die in reference cycles after being frozen (a leak the heap's
        # re-freezes can cause).
        self.gc_frozen_objects = Gauge("coi_gc_frozen_objects", "Objects moved out of the collector's generations "
                                       "by the heap's freezes (counted exactly at least every 10 minutes of "
                                       "re-freezes)", registry=registry)
        self.gc_frozen_objects.set_function(frozen_objects)
        # process_resident_memory_bytes, process_cpu_seconds_total, open fds: what the runbooks size the worker
        # and its snapshot writer's room by (the registry is the worker's own, without the default collectors)
        ProcessCollector(registry=registry)
        self._pairs: set[tuple[str, str]] = set()

    def count_pair_alert(self, actor: str, counterparty: str) -> None:
        pair = (actor, counterparty)
        if pair not in self._pairs:
            if len(self._pairs) >= MAX_PAIR_SERIES:
                pair = (OTHER_PAIRS, OTHER_PAIRS)
            else:
                self._pairs.add(pair)
        self.pair_alerts.labels(actor=pair[0], counterparty=pair[1]).inc()

    def watch_fork_room(self, room: Callable[[], ForkRoom]) -> None:
        """Read what a forked snapshot writer may copy, and the room for it, at every scrape (unknown: NaN): once
        for both gauges, so that they come from one reading (a scrape collects them in this order)."""
        reading: list[ForkRoom | None] = []

        def read() -> ForkRoom | None:
            try:
                return room()
            except Exception:  # noqa: BLE001 - unknown (NaN): one unreadable file must not fail the whole scrape
                return None

        def may_copy() -> float:
            reading[:] = [read()]
            return _or_nan(reading[0] and reading[0].may_copy)

        def room_left() -> float:
            found = reading[0] if reading else read()
            return _or_nan(found and found.room)

        self.snapshot_fork_may_copy.set_function(may_copy)
        self.snapshot_fork_room.set_function(room_left)

    def declare_series(self, output_topics: list[str]) -> None:
        """Create every known label combination at 0, so rate() and increase() see the first event too."""
        for writer in SNAPSHOT_WRITERS:
            self.snapshots_written.labels(writer=writer)
            self.snapshot_failures.labels(writer=writer)
            self.snapshot_pause.labels(writer=writer)
        for reason in RejectReason:
            self.events_rejected.labels(reason=reason.value)
        for generation in ("0", "1", "2"):
            self.gc_pause.labels(generation=generation)
        for clock in ("event_time", "append_time"):
            self.end_to_end_latency.labels(clock=clock)
        for band in Band:
            self.score_changes.labels(band=band.value)
            for state in AlertState:
                self.alerts.labels(band=band.value, state=state.value)
        for topic in output_topics:
            self.published.labels(topic=topic)


def _or_nan(value: int | None) -> float:
    return math.nan if value is None else float(value)
