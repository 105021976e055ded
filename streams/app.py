"""The Faust application: topics, the scoring agent, recovery, lag sampling and web views.

Processing guarantee: at-least-once. The agent takes events in batches and acks a batch only once the broker has
acknowledged all of its outputs, so a committed input offset never runs ahead of what was published; after a
crash the uncommitted tail is processed again and the same (deterministic) scores and alert transitions are
published again. Consumers deduplicate alerts on (alert_id, sequence).

Recovery: on start the agent rebuilds the graph by re-applying the input topic from its beginning up to the
group's committed offset, without publishing (`streams.recovery`); then live processing resumes from that offset.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import time
from pathlib import Path

import faust
from faust.sensors.prometheus import FaustMetrics, PrometheusMonitor
from prometheus_client import CollectorRegistry

from scoring import AlertTracker, Engine, ScoringConfig
from scoring.matching import Matcher
from scoring.resolution import ResolvingEngine
from streams.config import Settings
from streams.crash_guard import CrashGuard
from streams.metrics import PipelineMetrics
from streams.processor import EventProcessor, InputRecord, ProcessingLimits
from streams.recovery import committed_offsets, replay_into
from streams.web import register_views

log = logging.getLogger(__name__)

# A backlog batch of slow events must not hold the event loop for seconds: health checks, the commit timer and
# rebalance callbacks run in it too.
_MAX_LOOP_HOLD_SECONDS = 0.05


class Pipeline:
    """Everything the worker holds besides Faust itself; tests and web views reach state through it."""

    def __init__(self, settings: Settings, registry: CollectorRegistry | None = None):
        self.settings = settings
        self.registry = registry or CollectorRegistry()
        self.metrics = PipelineMetrics(self.registry)
        self.metrics.declare_series([settings.scores_topic, settings.alerts_topic, settings.dead_letter_topic])
        config = ScoringConfig.load(settings.scoring_config) if settings.scoring_config else ScoringConfig.load()
        self.engine = ResolvingEngine(Engine(config), matcher=Matcher() if settings.suggest_merges else None)
        self.crash_guard = CrashGuard(settings.data_dir, settings.max_processing_attempts)
        self.processor = EventProcessor(self.engine, AlertTracker(config), None,
                                        limits=ProcessingLimits.from_settings(settings), crash_guard=self.crash_guard)
        self.ready = asyncio.Event()  # recovered and consuming: what /ready and coi_worker_ready report
        self._recovered = False
        self._assigned = False
        self._output_names = {"scores": settings.scores_topic, "alerts": settings.alerts_topic,
                              "dead_letters": settings.dead_letter_topic}
        if settings.suggest_merges:
            self._output_names["suggestions"] = settings.suggestions_topic
        self._published = {role: self.metrics.published.labels(topic=name)
                            for role, name in self._output_names.items()}
        self._latency_from_event_time = self.metrics.end_to_end_latency.labels(clock="event_time")
        self._latency_from_append_time = self.metrics.end_to_end_latency.labels(clock="append_time")
        self.app = self._build_app()

    def _build_app(self) -> faust.App:
        s = self.settings
        Path(s.data_dir).mkdir(parents=True, exist_ok=True)  # Faust creates only the last level
        app = faust.App(
            s.app_id,
            broker=[f"kafka://{server}" for server in s.bootstrap_list],
            broker_credentials=s.faust_broker_credentials(),
            store="memory://",
            datadir=s.data_dir,
            web_host=s.web_host,
            web_port=s.web_port,
            web_bind=s.web_host,
            web_enabled=True,
            # Faust's /router (cluster topology) and /table (table data) views: off unless asked for
            web_router_enabled=s.web_faust_views,
            web_tables_enabled=s.web_faust_views,
            # A member killed without leaving holds its partitions until the session times out; a restart with
            # the same static group_instance_id takes them back at once (docs/streaming.md, Operating).
            broker_session_timeout=s.session_timeout_seconds,
            broker_heartbeat_interval=min(3.0, s.session_timeout_seconds / 3),
            consumer_group_instance_id=s.group_instance_id,
            # a partition added to the input topic is found at the next refresh (Operating: Deploys)
            consumer_metadata_max_age_ms=round(s.metadata_max_age_seconds * 1000),
            key_serializer="raw",
            value_serializer="raw",
            consumer_auto_offset_reset="earliest",
            topic_replication_factor=s.replication_factor,
            topic_allow_declare=False,  # streams.topics creates them with the right configs
            producer_acks=-1,
        )
        # Faust's own sensors (messages in/out, commit latency, rebalances...) share our registry and /metrics.
        app.monitor = PrometheusMonitor(metrics=FaustMetrics.create(self.registry, "coi_faust"))
        events = app.topic(s.events_topic, key_type=bytes, value_type=bytes, partitions=s.events_partitions)
        pipeline = self

        @app.agent(events, name="score-events")
        async def score_events(stream):
            await pipeline.recover()
            async for batch in stream.take_events(s.batch_max_events, within=s.batch_max_wait_seconds):
                await pipeline.handle_batch(batch)

        @app.on_rebalance_complete.connect
        async def on_assigned(app, **kwargs):
            # The agent can finish recovery before the consumer's first rebalance completes; until then events
            # would wait, so the worker is not ready yet.
            pipeline._assigned = True
            pipeline._mark_ready_when_live()

        @app.timer(s.lag_interval_seconds)
        async def sample(app=app):
            pipeline.sample_gauges()

        register_views(app, self)
        return app

    async def handle_batch(self, batch) -> None:
        """Process a batch of input events in order, publish their outputs, and return once the broker has
        acknowledged every one of them.

        Faust's `take_events` acks the batch only after this returns, and a commit flushes the producer first, so
        an input offset is committed only once the outputs of every event before it are stored (at-least-once).
        Outputs go through Faust's producer directly, not `topic.send`, whose per-message bookkeeping costs more
        than the scoring of a cheap event. Whatever interrupts a batch (the broker refusing an output for good, a
        bug, a cancellation) stops the worker at once without committing it: a restart processes it again (see
        `_fail_without_commit`). The processor itself never raises on bad input: that becomes a dead letter.
        """
        producer, names = self.app.producer, self._output_names
        outcomes = []
        sent = dict.fromkeys(names, 0)
        try:
            paused = time.perf_counter()
            for event in batch:
                message = event.message
                # round, not int: the record's millisecond timestamp comes back exactly, as recovery reads it
                record = InputRecord(value=event.value, key=event.key, topic=message.topic,
                                     partition=message.partition, offset=message.offset,
                                     timestamp_ms=round(message.timestamp * 1000) if message.timestamp else None)
                outcomes.append((self.processor.process(record), message.timestamp))
                if time.perf_counter() - paused > _MAX_LOOP_HOLD_SECONDS:
                    # let /healthz, timers and rebalance callbacks run; the batch is acked only at its end
                    self.crash_guard.idle()  # a stop while yielding is not the last message's fault
                    await asyncio.sleep(0)
                    paused = time.perf_counter()
            self.crash_guard.idle()  # processed; a publishing failure is not the messages' fault
            pending = []
            for outcome, _ in outcomes:
                for out in outcome.outbound:
                    pending.append(await producer.send(names[out.role], out.key, out.value, partition=None,
                                                       timestamp=None, headers=None))
                    sent[out.role] += 1
            await asyncio.gather(*pending)
        except BaseException as exc:  # noqa: BLE001 - whatever interrupts a batch must not let it be acked
            self.crash_guard.idle()  # the processor never raises: this is not a message's fault
            _fail_without_commit(exc)
        for role, count in sent.items():
            if count:
                self._published[role].inc(count)
        for outcome, timestamp in outcomes:
            self._observe_latency(outcome, timestamp)

    async def recover(self) -> None:
        """Rebuild the graph from the input log up to the committed offsets; the worker is ready once this is done
        and the consumer has its partitions."""
        started = time.perf_counter()
        loop = asyncio.get_running_loop()
        offsets = await loop.run_in_executor(None, committed_offsets, self.settings)
        applied = await loop.run_in_executor(None, replay_into, self.settings, self.processor, offsets)
        self.crash_guard.idle()
        # The recovered graph lives as long as the worker: moving it out of the collector's generations spares
        # every later full collection a walk over millions of long-lived objects (a latency spike per pass).
        gc.collect()
        gc.freeze()
        self.processor.metrics = self.metrics
        self.metrics.recovered_events.inc(applied)
        self.sample_gauges()
        self._recovered = True
        self._mark_ready_when_live()
        log.info("recovered %d events up to %s in %.2fs", applied, offsets, time.perf_counter() - started)

    def _mark_ready_when_live(self) -> None:
        if self._recovered and self._assigned and not self.ready.is_set():
            self.ready.set()
            self.metrics.worker_ready.set(1)
            log.info("live: recovered and partitions assigned")

    def _observe_latency(self, outcome, append_timestamp: float | None) -> None:
        if outcome.event is None or not outcome.outbound:
            return
        now = time.time()
        self._latency_from_event_time.observe(max(0.0, now - outcome.event.observed_at.timestamp()))
        if append_timestamp:
            self._latency_from_append_time.observe(max(0.0, now - append_timestamp))

    def sample_gauges(self) -> None:
        stats = self.engine.stats()
        self.metrics.graph_nodes.set(stats["nodes"])
        self.metrics.graph_relations.set(stats["relations"])
        self.metrics.graph_hub_nodes.set(stats["hub_nodes"])
        consumer = getattr(self.app, "_consumer", None)
        if consumer is None:
            return
        for tp in consumer.assignment():
            if tp.topic != self.settings.events_topic:
                continue
            highwater = consumer.highwater(tp)
            if highwater is None:
                continue
            position = self.processor.next_offsets.get(str(tp.partition), 0)
            self.metrics.consumer_lag.labels(topic=tp.topic, partition=str(tp.partition)).set(
                max(0, highwater - position))


def _fail_without_commit(exc: BaseException) -> None:
    """Stop the process now. Raising would close Faust's take buffer, which acks the batch on the way out and
    lets a later commit skip events whose outputs were never stored; exiting leaves the offsets where they are."""
    log.critical("could not publish outputs: batch interrupted by %s: %s; stopping without committing it, a "
                 "restart will process it again", type(exc).__name__, exc,
                 exc_info=not isinstance(exc, asyncio.CancelledError))
    logging.shutdown()
    os._exit(70)  # EX_SOFTWARE
