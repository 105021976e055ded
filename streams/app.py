"""The Faust application: topics, the scoring agent, recovery, lag sampling and web views.

Processing guarantee: at-least-once. The agent takes events in batches and acks a batch only once the broker has
acknowledged all of its outputs, so a committed input offset never runs ahead of what was published; after a
crash the uncommitted tail is processed again and the same (deterministic) scores and alert transitions are
published again. Consumers deduplicate alerts on (alert_id, sequence).

Recovery follows the partitions actually assigned (`streams.recovery`): on every assignment the engine is brought
to the group's committed offset of each assigned input partition, re-applying without publishing the range
between its own position (the newest usable snapshot's offset at start, `streams.snapshots`, else the log start)
and the committed offset; only then is the worker ready. Between a revocation and the end of that catch-up it is
not ready. So a worker that took a partition over from another one (a rolling deploy: start the new, stop the old)
first applies what the other one processed. Events delivered again that the engine already applied are skipped.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import gc
import itertools
import logging
import os
import signal
import threading
import time
from pathlib import Path

import faust
from prometheus_client import CollectorRegistry

from scoring import AlertTracker, Engine
from scoring.matching import Matcher
from scoring.resolution import ResolvingEngine
from streams.bulk import BulkLoad, last_bulk_load, reproduce, reproduction_refused
from streams.collector import (AUTOMATIC_COLLECTION_MEANING, CollectionTimer, frozen_objects, refreeze_heap,
                               unfreeze_heap)
from streams.config import Settings, load_scoring_config
from streams.crash_guard import CrashGuard
from streams.faust_metrics import BatchMonitor, FaustCollector, current_assignment
from streams.memory import THREAD_WRITE_SHARE, ForkRoom, fork_room
from streams.metrics import PipelineMetrics
from streams.log_ends import LogEndOffsets, max_age_for
from streams.log_reader import Bounds
from streams.processor import EventProcessor, InputRecord, ProcessingLimits
from streams.recovery import (catch_up_bounds, committed_offsets, log_end_offsets, positions_past_the_log,
                              records_of_another_log, replay_into)
from streams.snapshots import WITHOUT_FORK_ROOM_MEANING, Identity, SnapshotState, SnapshotStore, config_hash
from streams.topics import RECORD_OVERHEAD_BYTES
from streams.waiting import wait_through_cancellation
from streams.web import json_errors, kafka_unready_reason, register_views

log = logging.getLogger(__name__)

# A backlog batch of slow events must not hold the event loop for seconds: health checks, the commit timer and
# rebalance callbacks run in it too.
_MAX_LOOP_HOLD_SECONDS = 0.05
# The largest record batch the worker's producer builds per partition (bounded by max_message_bytes too)
MAX_PRODUCER_BATCH_BYTES = 1 << 20
# reading the committed offsets after an assignment: retried while the broker does not answer
_CATCH_UP_RETRY_SECONDS = (1.0, 2.0, 5.0, 10.0, 30.0)


class Pipeline:
    """Everything the worker holds besides Faust itself; tests and web views reach state through it."""

    def __init__(self, settings: Settings, registry: CollectorRegistry | None = None):
        self.settings = settings
        self.registry = registry or CollectorRegistry()
        self.metrics = PipelineMetrics(self.registry)
        self.metrics.declare_series([settings.scores_topic, settings.alerts_topic, settings.dead_letter_topic])
        config = load_scoring_config(settings.scoring_config)
        self.config = config
        self.engine = self._empty_engine()
        self.crash_guard = CrashGuard(settings.data_dir, settings.max_processing_attempts)
        self.processor = EventProcessor(self.engine, AlertTracker(config), None,
                                        limits=ProcessingLimits.from_settings(settings), crash_guard=self.crash_guard)
        self.ready = asyncio.Event()  # caught up on every assigned partition: /ready and coi_worker_ready need it
        # why not, as /ready says it: one answer for waiting, standing by and catching up told an operator nothing
        self.not_ready_reason = "waiting for the consumer group to assign the input partitions"
        self._kafka_lost: str | None = None  # what Kafka lacks, as /ready last said it while caught up
        # One user of the engine at a time: a batch, a catch-up replay (which runs in a thread), a snapshot, or a
        # data view rendering in a thread (`streams.web`)
        self._engine_lock = asyncio.Lock()
        self._assigned: frozenset[int] = frozenset()  # input partitions this worker holds now
        self._generation = 0  # bumped on every revocation and assignment; a catch-up of an old one is not "ready"
        self._catch_up_task: asyncio.Task | None = None
        self._snapshot_loaded = False
        # a loaded snapshot's positions not yet compared with the input log's end (`_check_position_on_the_log`)
        self._position_unchecked = False
        # the engine starts at the log's start, and the app id's recorded bulk load is still to be reproduced first
        # (`_reproduce_bulk_load`)
        self._from_log_start = False
        # (the newest usable snapshot or None, seconds its loading took), loading since start-up: `prefetch_snapshot`
        self._prefetched: concurrent.futures.Future | None = None
        self._gc_frozen = False
        # what the collector does by itself between re-freezes (`streams.collector.refreeze_heap`): without
        # periodic re-freezes, everything (nothing else would collect)
        self._automatic_collection = settings.gc_automatic_collection if settings.gc_refreeze_every_events \
            else "all"
        self._clock = time.monotonic  # (a test sets the time)
        self._refrozen_at = self._clock()
        self.snapshots = SnapshotStore(settings.snapshot_path, Identity(settings.app_id, settings.events_topic,
                                                                        config_hash(config)),
                                       keep=settings.snapshot_keep) if settings.snapshots_enabled else None
        if self.snapshots is not None:
            self.metrics.watch_fork_room(lambda: self._fork_room())  # (a test sets the room)
        self._events_since_snapshot = 0
        self._events_since_refreeze = 0
        self._snapshot_at = time.monotonic()
        self._snapshot_write: asyncio.Future | None = None
        self._snapshot_child: int | None = None  # the pid of a periodic writer still running
        # how long the last snapshot took to write (this process's, or the loaded one's header): what a stop expects
        self._last_write_seconds: float | None = None
        # the input positions of the newest snapshot written or loaded: the engine past them holds events a stop must
        # still write down (by position, not by count: a replay that failed half-way, a reproduced bulk load and a
        # write that failed all move the one without the other)
        self._saved_offsets: dict[str, int] = {}
        # set at a clean stop: a catch-up's replay ends at the next event (`streams.recovery.replay_into`)
        self._stopping = threading.Event()
        self._output_names = {"scores": settings.scores_topic, "alerts": settings.alerts_topic,
                              "dead_letters": settings.dead_letter_topic}
        if settings.suggest_merges:
            self._output_names["suggestions"] = settings.suggestions_topic
        self._published = {role: self.metrics.published.labels(topic=name)
                            for role, name in self._output_names.items()}
        self._latency_from_event_time = self.metrics.end_to_end_latency.labels(clock="event_time")
        self._latency_from_append_time = self.metrics.end_to_end_latency.labels(clock="append_time")
        # the input's end offsets as the broker has them, for coi_consumer_lag: the consumer's own high-water marks
        # stop with its fetching while the agent is stalled (streams.log_ends); read once the app runs
        self.log_ends = LogEndOffsets(settings, settings.events_topic, max_age_for(settings.lag_interval_seconds))
        self.app = self._build_app()
        # read at every scrape, as /ready answers: set only at the catch-up's transitions, the gauge stayed 1 with
        # the broker gone (/ready 503), and CoiWorkerNotReady never fired for a worker cut off from Kafka
        self.metrics.worker_ready.set_function(self._ready_now)

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
            web_application_options={"middlewares": [json_errors]},  # every error as JSON (streams.web)
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
            # Faust's leader-election topic serves only on_leader timers, which the worker has none of; with it, a
            # fresh group's first worker subscribed to a topic the broker created after the join, and the first
            # metadata refresh rebalanced the group (tests/integration/test_partitions.py)
            topic_disable_leader=True,
            producer_acks=-1,
            # the producer counts a record batch's header and framing too: with this margin no output the processor lets
            # through (`EventProcessor._withhold_oversized`) is refused by the client, which would stop the worker on
            # it at every restart
            producer_max_request_size=s.max_message_bytes + RECORD_OVERHEAD_BYTES,
            # aiokafka sends one request at a time to a broker, with at most one batch a partition in it, and a send
            # that finds its partition's batch full waits for that batch to leave: at Kafka's 16 KB an event whose
            # rescoring publishes 5,000 scores of 1.5 KB waited for ~470 sequential round trips (0.2-0.5 s on the
            # local broker, against 0.1 s at this size: docs/streaming.md). A full batch still fits every output
            # topic (its max.message.bytes is max_message_bytes plus RECORD_OVERHEAD_BYTES)
            producer_max_batch_size=min(s.max_message_bytes, MAX_PRODUCER_BATCH_BYTES),
        )
        # Faust's health (commits, rebalances, assignment) on our registry and /metrics, with no work per message:
        # Faust's PrometheusMonitor cost 25-40 % of a no-op agent's rate (streams.faust_metrics)
        app.monitor = BatchMonitor(self.registry)
        self.registry.register(FaustCollector(app, app.monitor))
        events = app.topic(s.events_topic, key_type=bytes, value_type=bytes, partitions=s.events_partitions)
        pipeline = self

        @app.agent(events, name="score-events")
        async def score_events(stream):
            async for batch in stream.take_events(s.batch_max_events, within=s.batch_max_wait_seconds):
                await pipeline.handle_batch(batch)

        @app.on_partitions_revoked.connect
        async def on_revoked(app, revoked, **kwargs):
            pipeline.partitions_revoked({tp.partition for tp in revoked if tp.topic == s.events_topic})

        @app.on_partitions_assigned.connect
        async def on_assigned(app, assigned, **kwargs):
            pipeline.partitions_assigned({tp.partition for tp in assigned if tp.topic == s.events_topic})

        @app.timer(s.lag_interval_seconds)
        async def sample(app=app):
            pipeline.sample_gauges()

        @app.task
        async def read_log_ends(app=app):
            pipeline.log_ends.start()

        @app.on_before_shutdown.connect
        async def stop_reading_log_ends(app, **kwargs):
            pipeline.log_ends.stop()

        # sent once the consumer has stopped and the streams are empty (the last batch published, acked and
        # committed), before the producer's flush and the consumer's own stop. One receiver, which ends a catch-up
        # first: mode runs a signal's receivers in no fixed order (a set), and a snapshot waited for a catch-up
        # another receiver had not yet told to end
        @app.on_before_shutdown.connect
        async def end_a_catch_up_and_snapshot(app, **kwargs):
            await pipeline.snapshot_at_stop()

        # checked four times a period: an idle re-freeze comes at most a quarter period late
        @app.timer(s.gc_refreeze_every_seconds / 4)
        async def refreeze_when_idle(app=app):
            pipeline.refreeze_if_stale()

        # likewise a snapshot due by time on a worker that went idle
        @app.timer(max(1.0, s.snapshot_every_seconds / 4))
        async def snapshot_when_idle(app=app):
            await pipeline.snapshot_if_stale()

        register_views(app, self)
        return app

    async def handle_batch(self, batch) -> None:
        """Process and publish the events of a batch the engine has not applied yet (catching up first on any gap
        before them), then write a snapshot if one is due."""
        try:
            # (a cancellation while a catch-up, a render or a thread's snapshot write holds the engine interrupts
            # a batch not applied either)
            await self._engine_lock.acquire()
        except BaseException as exc:  # noqa: BLE001 - as below: never ack a batch not applied
            _fail_without_commit(exc)
        try:
            try:
                await self._load_snapshot_once()  # before anything applies an event (normally the catch-up does)
                await self._check_position_on_the_log()
                await self._reproduce_bulk_load()
                fresh = await self._not_yet_applied(batch)
            except BaseException as exc:  # noqa: BLE001 - as in _process_and_publish: never ack a batch not applied
                _fail_without_commit(exc)
            await self._process_and_publish(fresh)
            self._refreeze_if_due(len(fresh))
            await self._snapshot_if_due(len(fresh))
        finally:
            self._engine_lock.release()

    def _refreeze_if_due(self, events: int) -> None:
        self._events_since_refreeze += events
        every = self.settings.gc_refreeze_every_events
        if every and self._gc_frozen and self._events_since_refreeze >= every:
            self._refreeze()

    def refreeze_if_stale(self) -> None:
        """Re-freeze if `gc_refreeze_every_seconds` passed without one (the timer's job): an idle worker's
        libraries make garbage too, and with automatic collection off only a re-freeze frees its cycles."""
        if self.settings.gc_refreeze_every_events and self._gc_frozen and not self._engine_lock.locked() \
                and self._clock() - self._refrozen_at >= self.settings.gc_refreeze_every_seconds:
            self._refreeze()  # (with the engine busy, a batch or a catch-up is under way: not idle)

    def _refreeze(self) -> None:
        self._events_since_refreeze = 0
        self._refrozen_at = self._clock()
        refreeze_heap(self._automatic_collection)

    async def _not_yet_applied(self, batch) -> list:
        """Events at or past the engine's position. Earlier ones were applied and published already (the engine
        is past the committed offset: a snapshot, or this worker's own uncommitted tail). An event past the
        position means another worker processed the range in between: it is applied silently first."""
        fresh = []
        expected: dict[int, int] = {}  # per partition: the offset the next fresh event should have
        for event in batch:
            message = event.message
            if message.partition in expected:  # the engine's position is behind the events taken already
                if message.offset >= expected[message.partition]:
                    fresh.append(event)
                    expected[message.partition] = message.offset + 1
                continue
            position = self.processor.next_offsets.get(str(message.partition))
            if position is not None and message.offset < position:
                continue
            if position is None or message.offset > position:
                loop = asyncio.get_running_loop()
                bounds = await loop.run_in_executor(None, catch_up_bounds, self.settings, self.processor,
                                                    {message.partition}, {message.partition: message.offset})
                await self._replay(bounds)
            fresh.append(event)
            expected[message.partition] = message.offset + 1
        return fresh

    async def _process_and_publish(self, batch) -> None:
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
                outcomes.append((self.processor.process(input_record(event)), message.timestamp))
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

    @property
    def engine_lock(self) -> asyncio.Lock:
        """Held by whatever uses the engine: reading it beside a change sees half of the change, and the layer's
        caches (an entity's merged view) would keep what was read."""
        return self._engine_lock

    # -- assignment, catch-up and readiness --------------------------------------------------------------------

    def partitions_revoked(self, partitions: set[int]) -> None:
        self._generation += 1
        self._assigned = self._assigned - partitions
        self._set_ready(False, f"partitions {sorted(partitions)} revoked: waiting for the group's next assignment")

    def partitions_assigned(self, partitions: set[int]) -> None:
        """Called on every rebalance with the full assignment: the worker is ready once its engine has reached
        the committed offset of each assigned partition (a worker with no input partition is never ready)."""
        self._generation += 1
        self._assigned = frozenset(partitions)
        log.info("assigned input partitions %s", sorted(partitions))
        self._set_ready(False, f"catching up on the assigned partitions {sorted(partitions)}" if partitions else
                        "no input partition assigned: other members of the group hold them all (a standby)")
        if partitions:
            self._catch_up_task = asyncio.ensure_future(self._catch_up(self._generation))

    async def _catch_up(self, generation: int) -> None:
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        async with self._engine_lock:
            retries = itertools.chain(_CATCH_UP_RETRY_SECONDS, itertools.repeat(_CATCH_UP_RETRY_SECONDS[-1]))
            # else a newer assignment took over, or the worker is stopping
            while generation == self._generation and not self._stopping.is_set():
                try:
                    # inside the retries: a load that failed (the snapshot directory unreadable for a moment) is
                    # tried again, never skipped for a replay that would not know the snapshot or the bulk load
                    await self._load_snapshot_once()
                    await self._check_position_on_the_log()
                    await self._reproduce_bulk_load()
                    committed = await loop.run_in_executor(None, committed_offsets, self.settings)
                    bounds = await loop.run_in_executor(None, catch_up_bounds, self.settings, self.processor,
                                                        set(self._assigned), committed)
                    applied = await self._replay(bounds)
                    break
                except Exception as exc:  # noqa: BLE001 - the broker may be briefly away; not ready meanwhile
                    log.warning("catch-up: cannot reach the committed offset (%s: %s); retrying",
                                type(exc).__name__, exc, exc_info=not self._snapshot_loaded)
                    await self._sleep_unless_stopping(next(retries))
            else:
                return
            if not self._gc_frozen:
                self._refreeze()  # the recovered graph
                self._gc_frozen = True
                log.info("heap frozen (%d objects); from now on the collector collects %s by itself, and the "
                         "heap is collected and re-frozen every %d events or %.0f s", frozen_objects(),
                         AUTOMATIC_COLLECTION_MEANING[self._automatic_collection],
                         self.settings.gc_refreeze_every_events, self.settings.gc_refreeze_every_seconds)
            self.sample_gauges()
            if self._stopping.is_set():  # ended early: what it applied is the stop's snapshot's to write down
                log.info("catch-up ended by the stop after %d events, at offsets %s", applied,
                         dict(self.processor.next_offsets))
                return
            # the replayed events count toward the next snapshot (a consistent cut: what they published is out, and
            # a replay publishes nothing): a long recovery is written down without waiting for a live event
            await self._snapshot_if_due(applied)
        if generation == self._generation:
            log.info("caught up: replayed %d events %s -> committed %s in %.2fs", applied, bounds.start,
                     bounds.end, time.perf_counter() - started)
            self._set_ready(True, "caught up on every assigned partition")

    async def _replay(self, bounds: Bounds) -> int:
        """Apply a range silently (in a thread; the caller holds the engine lock). Replayed events are not
        counted as consumed: `coi_recovered_events` counts them."""
        metrics, self.processor.metrics = self.processor.metrics, None
        try:
            applied = await asyncio.get_running_loop().run_in_executor(
                None, replay_into, self.settings, self.processor, bounds, self._stopping)
        finally:
            self.processor.metrics = metrics
            # replayed and done (or failed for a reason that is no message's fault): a death from here on is not
            # the last replayed message's (streams.crash_guard)
            self.crash_guard.idle()
        self.metrics.recovered_events.inc(applied)
        return applied

    def _set_ready(self, ready: bool, why: str) -> None:
        if not ready:
            self.not_ready_reason = why
        if ready == self.ready.is_set():
            return
        if ready:
            self.ready.set()
        else:
            self.ready.clear()
        log.info("%s: %s", "ready" if ready else "not ready", why)

    def _ready_now(self) -> float:
        """`coi_worker_ready`: what /ready says, recovered on every assigned partition and in touch with Kafka."""
        if not self.ready.is_set():
            return 0.0
        try:
            return 0.0 if kafka_unready_reason(self.app) else 1.0
        except Exception:  # noqa: BLE001 - unknown is not ready; one odd consumer state must not fail the scrape
            return 0.0

    def _log_kafka_state(self) -> None:
        """One line when a caught-up worker loses Kafka (/ready turns 503) and one when it is back: the client
        logged thousands of its own lines meanwhile (`streams.client_logs`), the worker none."""
        if not self.ready.is_set():
            return
        try:
            reason = kafka_unready_reason(self.app)
        except Exception:  # noqa: BLE001 - an odd consumer state: nothing to say
            return
        if reason != self._kafka_lost:
            if reason is not None:
                log.warning("not ready: %s", reason)
            else:
                log.info("ready again: in touch with Kafka")
            self._kafka_lost = reason

    # -- snapshots -------------------------------------------------------------------------------------------

    def time_collections(self) -> CollectionTimer:
        """Time this process's garbage collections into `coi_gc_pause_seconds` (the worker's process: the collector
        is process-wide, so a test building several pipelines in one process does not call this)."""
        return CollectionTimer(self.metrics.gc_pause).install()

    def prefetch_snapshot(self) -> None:
        """Start loading the newest usable snapshot now, in a thread of its own, so that the load overlaps what
        the worker waits for before its first assignment (the broker's preflight, topics, Faust's start-up,
        joining the group: 3-4 s of a restart at 1M relations, more where the broker delays a group's first
        rebalance). The first assignment then takes the loaded state instead of starting the load. A snapshot
        written meanwhile by another worker (a rolling deploy onto a shared volume) is not seen: the catch-up
        replays the events after the older one instead, which ends in the same state. The thread is a daemon: a
        worker stopped before its first assignment does not wait for a load nobody needs."""
        if self.snapshots is None or self._prefetched is not None:
            return
        prefetched: concurrent.futures.Future = concurrent.futures.Future()

        def load() -> None:
            started = time.perf_counter()
            try:
                found = self.snapshots.load_newest(self._snapshot_rejected, True)
            except BaseException as exc:  # noqa: BLE001 - handed to the first assignment, which fails with it
                prefetched.set_exception(exc)
            else:
                prefetched.set_result((found, time.perf_counter() - started))

        threading.Thread(target=load, name="snapshot-prefetch", daemon=True).start()
        self._prefetched = prefetched

    async def _load_snapshot_once(self) -> None:
        """At the first assignment: start from the newest usable snapshot (else from the log start), loaded
        since start-up if `prefetch_snapshot` was called."""
        if self._snapshot_loaded:
            return
        self.processor.metrics = self.metrics
        if self.snapshots is None:
            self._from_log_start = True
            self._snapshot_loaded = True
            return
        waited = time.perf_counter()
        if self._prefetched is None:
            self.prefetch_snapshot()
        prefetched = self._prefetched
        try:
            found, loading = await asyncio.wrap_future(prefetched)
        except BaseException:
            if prefetched.done():
                self._prefetched = None  # it failed: the caller's next attempt loads anew
            raise
        # from here on nothing fails: a load is taken whole or not at all
        self._prefetched = None  # the state is the engine's now; nothing else keeps it
        self._snapshot_loaded = True
        if found is None:
            log.info("no usable snapshot in %s: replaying the input log from its start", self.snapshots.directory)
            self.metrics.snapshot_loaded_offset.labels(partition="0").set(-1)
            self._from_log_start = True
            return
        state, path = found
        self.engine = self.processor.engine = state.engine
        # this run's setting, not the writer's; a matcher written with the snapshot keeps its index of the entities
        if not self.settings.suggest_merges:
            self.engine.matcher = None
        elif self.engine.matcher is None:
            self.engine.matcher = Matcher()  # indexes entities from here on (docs/streaming.md, snapshots)
        self.processor.tracker = state.tracker
        self.processor.next_offsets = {str(p): o for p, o in state.offsets.items()}
        self.processor.last_records = {str(p): r for p, r in state.last_records.items()}
        self._position_unchecked = True
        self._last_write_seconds = state.write_seconds  # what writing it took: what a stop expects a write to take
        self._saved(state.offsets)
        for partition, offset in state.offsets.items():
            self.metrics.snapshot_loaded_offset.labels(partition=str(partition)).set(offset)
        with contextlib.suppress(OSError):  # removed since (a newer one written by another worker): a gauge only
            written = path.stat()
            self.metrics.snapshot_bytes.set(written.st_size)
            self.metrics.snapshot_written_at.set(written.st_mtime)
        log.info("loaded snapshot %s at offsets %s (%d relations) in %.2fs (%.2fs of it after the first "
                 "assignment)", path, state.offsets, self.engine.stats()["relations"], loading,
                 time.perf_counter() - waited)

    async def _check_position_on_the_log(self) -> None:
        """Once a snapshot is loaded, before any event is applied or skipped: its positions must lie within the
        input log, and the last records it applied must be the log's records at their offsets (same append times).
        Offsets alone do not say of which log they are, and a snapshot written from another log (the topic deleted
        and created again, another cluster) would have every event of this one below its positions skipped as
        applied already, without a word. Its state is dropped and the log replayed
        from its start, as with no snapshot (`coi_snapshot_fallbacks_total{reason="past_the_log"}`). Broker errors
        propagate: the caller retries (a catch-up) or restarts without committing (a batch)."""
        if not self._position_unchecked:
            return
        loop = asyncio.get_running_loop()
        ends = await loop.run_in_executor(None, log_end_offsets, self.settings)
        past = positions_past_the_log(self.processor.next_offsets, ends)
        other = {} if past else await loop.run_in_executor(
            None, records_of_another_log, self.settings,
            {int(p): r for p, r in self.processor.last_records.items()})
        self._position_unchecked = False
        if past:
            why = "it applied {}, past the end of {} here ({})".format(
                ", ".join(f"partition {p} up to offset {position}" for p, (position, _) in past.items()),
                self.settings.events_topic,
                ", ".join(f"partition {p} ends at {'nothing' if end is None else end}" for p, (_, end) in past.items()))
        elif other:
            why = "the records it applied last were appended at other times than those at the same offsets of {} " \
                  "here ({})".format(self.settings.events_topic, ", ".join(
                      f"partition {p} offset {offset}: {given} ms, here {'nothing' if found is None else found}"
                      for p, ((offset, given), found) in other.items()))
        else:
            return
        log.error("the loaded snapshot is of another input log: %s (the topic was deleted and created again, or this "
                  "is another cluster); dropping its state and replaying the log from its start", why)
        self.metrics.snapshot_fallbacks.labels(reason="past_the_log").inc()
        # the load froze the state out of the collector's reach (`SnapshotStore.load`); unfrozen, its cycles go with
        # the next collection instead of staying beside the state that replaces it
        unfreeze_heap()
        self.engine = self.processor.engine = self._empty_engine()
        self.processor.tracker = AlertTracker(self.config)
        self.processor.next_offsets = {}
        self.processor.last_records = {}
        self._saved_offsets = {}  # none of this log is in a snapshot
        self.metrics.snapshot_loaded_offset.clear()
        self.metrics.snapshot_loaded_offset.labels(partition="0").set(-1)
        self._from_log_start = True

    async def _reproduce_bulk_load(self) -> None:
        """Starting from the log's start, before any event is applied: if `coi-risk load` bootstrapped this app id,
        apply the range it loaded as it did (`streams.bulk`), so that the engine and the alert tracker are the ones
        the load's worker started from, and the alerts published from here on continue under the same ids and
        sequences (replayed event by event, the range would pass through every alert raised and resolved in it, and
        continue under others). The rest of the log is then replayed event by event as always. Broker errors
        propagate: the caller retries (a catch-up) or restarts without committing (a batch)."""
        if not self._from_log_start:
            return
        loop = asyncio.get_running_loop()
        loaded = await loop.run_in_executor(None, last_bulk_load, self.settings)
        if loaded is None or self.processor.next_offsets:
            self._from_log_start = False
            return
        why_not = await loop.run_in_executor(None, reproduction_refused, self.settings, loaded)
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(loaded.loaded_at))
        if why_not is not None:
            log.warning("the bulk load of %s recorded for %s (offsets %s to %s) is not reproduced: %s; replaying "
                        "the log event by event instead", when, self.settings.app_id, loaded.start, loaded.end,
                        why_not)
            self._from_log_start = False
            return
        if loaded.config_hash != config_hash(self.config):
            log.warning("the bulk load of %s scored under another scoring config (%s, this worker %s): it is "
                        "reproduced under this worker's, as a replay would be", when, loaded.config_hash,
                        config_hash(self.config))
        started = time.perf_counter()
        engine, tracker, applied = await loop.run_in_executor(None, self._bulk_applied, loaded)
        self.engine = self.processor.engine = engine
        if self.settings.suggest_merges and engine.matcher is None:
            engine.matcher = Matcher()  # (the reproduction indexed the loaded entities: `streams.bulk.bulk_apply`)
        self.processor.tracker = tracker
        self.processor.next_offsets = {str(p): o for p, o in loaded.end.items()}
        self.processor.last_records = {str(p): r for p, r in applied.last_records.items()}
        self._from_log_start = False
        self.metrics.recovered_events.inc(applied.read)
        log.info("reproduced the bulk load of %s (offsets %s to %s): %d events (%d invalid, skipped) into %d "
                 "relations in %.2fs; replaying the rest event by event", when, loaded.start, loaded.end,
                 applied.read, applied.invalid, engine.stats()["relations"], time.perf_counter() - started)

    def _bulk_applied(self, loaded: BulkLoad):
        return reproduce(self.settings, self.config, loaded)

    def _empty_engine(self) -> ResolvingEngine:
        return ResolvingEngine(Engine(self.config), matcher=Matcher() if self.settings.suggest_merges else None)

    def _snapshot_rejected(self, reason: str) -> None:
        self.metrics.snapshot_fallbacks.labels(reason=reason).inc()

    async def _snapshot_if_due(self, events: int) -> None:
        """At a batch boundary, after its outputs were acknowledged (a consistent cut), with the engine lock held.
        The process forks here, while nothing changes the state, and the child pickles and writes its
        copy-on-write image; the live path pauses only for the fork (`coi_snapshot_pause_seconds`). One write at a
        time: a due snapshot waits for the next batch while one is being written.

        Where a forked writer might not fit in the memory left (`streams.memory`), the snapshot is written in a
        thread instead, the lock held so that no batch changes the state meanwhile, or skipped, as
        `snapshot_without_fork_room` says (and skipped where a thread's writer would not fit either). Nothing here
        raises: a snapshot not taken costs a longer restart, never an event."""
        self._events_since_snapshot += events
        s = self.settings
        if self.snapshots is None or not self._events_since_snapshot or self._snapshot_write is not None:
            return
        if self._events_since_snapshot < s.snapshot_every_events and \
                time.monotonic() - self._snapshot_at < s.snapshot_every_seconds:
            return
        self._events_since_snapshot, self._snapshot_at = 0, time.monotonic()
        offsets = {int(p): o for p, o in self.processor.next_offsets.items()}
        state = SnapshotState(self.engine, self.processor.tracker, offsets,
                              {int(p): r for p, r in self.processor.last_records.items()})
        room = self._read_fork_room()
        if not room.fits:
            await self._snapshot_without_fork(state, room)
            return
        started = time.perf_counter()
        try:
            pid = self.snapshots.save_in_child(state)
        except Exception as exc:  # noqa: BLE001 - a snapshot that cannot be taken costs a longer restart only
            log.error("snapshot not taken: %s: %s", type(exc).__name__, exc)
            self.metrics.snapshot_failures.labels(writer="child").inc()
            return
        pause = time.perf_counter() - started
        self.metrics.snapshot_pause.labels(writer="child").observe(pause)
        self._snapshot_child = pid
        self._snapshot_write = asyncio.get_running_loop().run_in_executor(None, self._await_snapshot_child, pid,
                                                                          offsets, pause)
        self._snapshot_write.add_done_callback(self._snapshot_written)

    async def snapshot_if_stale(self) -> None:
        """Events applied since the last snapshot, and `snapshot_every_seconds` passed: a snapshot, also while no
        batch comes (else a worker that went idle under `snapshot_every_events` never wrote the state it holds,
        and its restart replayed it all: an operator's review). Between batches, under the engine lock."""
        if not self._events_since_snapshot or not self.ready.is_set() or \
                time.monotonic() - self._snapshot_at < self.settings.snapshot_every_seconds:
            return
        async with self._engine_lock:
            await self._snapshot_if_due(0)

    async def _sleep_unless_stopping(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self._stopping.is_set() and time.monotonic() < deadline:
            await asyncio.sleep(min(0.1, max(0.0, deadline - time.monotonic())))

    def stopping(self) -> None:
        """A clean stop began: a catch-up under way ends at its next event (else the process's exit waited for the
        replay's thread, minutes on a long log), with what it applied kept for the stop's snapshot."""
        self._stopping.set()

    def _saved(self, offsets: dict[int, int]) -> None:
        """A snapshot at these input positions was written."""
        for partition, offset in offsets.items():
            key = str(partition)
            self._saved_offsets[key] = max(self._saved_offsets.get(key, 0), offset)

    def _unsaved(self) -> int:
        """How far the engine is past the newest snapshot written or loaded, in input offsets (0: nothing to
        write)."""
        saved = self._saved_offsets
        return sum(max(0, offset - saved.get(partition, 0)) for partition, offset in self.processor.next_offsets.items())

    async def snapshot_at_stop(self) -> None:
        """At a clean stop, once Faust has stopped the consumer, waited for the last batch and committed it: write
        a snapshot of what was applied since the last one written, so that the restart replays nothing (before, it
        replayed up to `snapshot_every_events` events, or the whole log of a worker that never wrote one). Only a
        worker that holds input partitions writes one: a standby's, or one whose partitions were taken away,
        would be the newest snapshot with an older state than the holder's.

        Within `snapshot_at_stop_seconds`: a write that the last one says would take longer is not started, and
        one still going then is given up (a forked writer is killed; a thread's dies with the process; either
        way its temporary file is removed), as is a periodic writer still running then. Nothing here raises: a
        snapshot not taken costs a longer restart, never an event, and the older snapshots stay as they were. A
        catch-up under way is told to end first (`stopping`), with or without snapshots."""
        self.stopping()
        s = self.settings
        if self.snapshots is None or not s.snapshot_at_stop:
            return
        deadline = time.monotonic() + s.snapshot_at_stop_seconds
        if not await self._periodic_write_done(deadline):
            return
        try:
            await asyncio.wait_for(self._engine_lock.acquire(), max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            log.warning("no snapshot at stop: the engine was busy for %.0fs (snapshot_at_stop_seconds); the restart "
                        "replays from the last snapshot", s.snapshot_at_stop_seconds)
            return
        try:
            unsaved = self._unsaved()
            if not unsaved:
                log.info("no snapshot at stop: every event applied is in the last snapshot written or loaded")
                return
            if not self._assigned:
                log.info("no snapshot at stop: this worker holds no input partition (a standby, or its partitions "
                         "were taken over); the worker holding them writes theirs")
                return
            left = deadline - time.monotonic()
            if self._last_write_seconds is not None and self._last_write_seconds > left:
                log.warning("no snapshot at stop: the last one took %.1fs to write, more than the %.1fs left of "
                            "snapshot_at_stop_seconds; the restart replays the %d input offsets applied since",
                            self._last_write_seconds, left, unsaved)
                return
            await self._write_at_stop(left, unsaved)
        finally:
            self._engine_lock.release()

    async def _periodic_write_done(self, deadline: float) -> bool:
        """Wait until `deadline` for a periodic snapshot being written; a forked writer still going then is killed
        (False: no time is left for another). Its own callback logs how it ended."""
        writing = self._snapshot_write
        if writing is None or writing.done():
            return True
        # (not wait_for: the writer's own TimeoutError, after snapshot_write_timeout_seconds, would read as the stop's)
        await asyncio.wait({writing}, timeout=max(0.0, deadline - time.monotonic()))
        if writing.done():  # written, or failed (its callback logs it): there is still time for the stop's
            return True
        child = self._snapshot_child
        if child is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)  # (its waiting thread reaps it and removes its file)
        log.warning("no snapshot at stop: the one being written since before the stop was still going after %.0fs "
                    "(snapshot_at_stop_seconds)%s", self.settings.snapshot_at_stop_seconds,
                    f": its writer (pid {child}) killed" if child is not None else "")
        await asyncio.wait({writing}, timeout=5.0)  # reaped, its file removed (a killed child ends at once)
        return False

    async def _write_at_stop(self, seconds: float, unsaved: int) -> None:
        offsets = {int(p): o for p, o in self.processor.next_offsets.items()}
        state = SnapshotState(self.engine, self.processor.tracker, offsets,
                              {int(p): r for p, r in self.processor.last_records.items()})
        room = self._read_fork_room()
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        writer = "child" if room.fits else "thread"
        try:
            if room.fits:
                pid = self.snapshots.save_in_child(state)
                # (the child is killed at the deadline, and its file removed: wait_for_child)
                code = await loop.run_in_executor(None, self.snapshots.wait_for_child, pid, seconds)
                if code != 0:
                    raise RuntimeError(f"snapshot writer (pid {pid}) exited with {code}")
            elif room.fits_thread and self.settings.snapshot_without_fork_room == "thread":
                written: concurrent.futures.Future = concurrent.futures.Future()
                # a daemon thread: one still pickling at the deadline must not hold the process's exit
                threading.Thread(target=_settle, args=(written, self.snapshots.save, state), daemon=True,
                                 name="snapshot-at-stop").start()
                await asyncio.wait_for(asyncio.wrap_future(written), seconds)
            else:
                log.warning("no snapshot at stop: no room to write it (%s)", room.describe())
                return
        except TimeoutError:  # (asyncio's is the builtin since 3.11)
            self.metrics.snapshot_failures.labels(writer=writer).inc()
            if writer == "thread":  # it dies with the process; its file goes now (unlinked, the write goes nowhere)
                self.snapshots.remove_temporaries_of(os.getpid())
            log.warning("no snapshot at stop: not written within snapshot_at_stop_seconds (%.1fs left of it): given "
                        "up; the restart replays the %d input offsets applied since the last one", seconds, unsaved)
            return
        except Exception as exc:  # noqa: BLE001 - a longer restart, never an event
            log.error("snapshot at stop failed: %s: %s", type(exc).__name__, exc)
            self.metrics.snapshot_failures.labels(writer=writer).inc()
            return
        self._saved(offsets)
        self._events_since_snapshot = 0
        self.metrics.snapshots_written.labels(writer=writer).inc()
        self.metrics.snapshot_written_at.set(time.time())
        try:  # (another worker's newer file may be the newest on a shared volume: a name for the log only)
            path = self.snapshots.paths()[0]
            written = f"{path.name} at offsets {offsets}: {path.stat().st_size} bytes"
        except (OSError, IndexError):
            written = f"at offsets {offsets}"
        log.info("snapshot at stop %s, written by the %s in %.3fs; a restart replays nothing before them", written,
                 writer, time.perf_counter() - started)

    def _await_snapshot_child(self, pid: int, offsets: dict[int, int], pause: float) -> None:
        started = time.perf_counter()
        try:
            code = self.snapshots.wait_for_child(pid, self.settings.snapshot_write_timeout_seconds)
        finally:
            self._snapshot_child = None
        if code != 0:
            self.snapshots.remove_temporaries_of(pid)  # (killed at a stop's deadline: its file is not wanted)
            raise RuntimeError(f"snapshot writer (pid {pid}) exited with {code}")
        self._saved(offsets)
        self._last_write_seconds = pause + time.perf_counter() - started
        path = self.snapshots.paths()[0]
        self.metrics.snapshots_written.labels(writer="child").inc()
        self.metrics.snapshot_bytes.set(path.stat().st_size)
        self.metrics.snapshot_written_at.set(time.time())
        log.info("snapshot %s at offsets %s: %d bytes, paused the stream %.3fs, written by pid %d in %.3fs",
                 path.name, offsets, path.stat().st_size, pause, pid, time.perf_counter() - started)

    def _fork_room(self) -> ForkRoom:
        cap = self.settings.snapshot_fork_max_private_mb
        return fork_room(self.settings.snapshot_fork_reserve_mb << 20, (cap << 20) if cap else None)

    def _read_fork_room(self) -> ForkRoom:
        try:
            return self._fork_room()
        except Exception as exc:  # noqa: BLE001 - nothing to go by: fork, as where /proc cannot be read
            log.warning("snapshot: cannot tell the memory left (%s: %s); forking its writer", type(exc).__name__, exc)
            return ForkRoom(None, None, "unknown", 0)

    async def _snapshot_without_fork(self, state: SnapshotState, room: ForkRoom) -> None:
        action = self.settings.snapshot_without_fork_room
        if action == "thread" and not room.fits_thread:
            log.warning("snapshot at offsets %s: no room to fork its writer, nor for writing it in a thread (%s; a "
                        "thread's pickler needs about %.0f %% of what a child may copy): skipping it",
                        state.offsets, room.describe(), THREAD_WRITE_SHARE * 100)
            action = "skip"
        else:
            log.warning("snapshot at offsets %s: no room to fork its writer (%s): %s", state.offsets,
                        room.describe(), WITHOUT_FORK_ROOM_MEANING[action])
        if action == "skip":
            self.metrics.snapshots_skipped.inc()
            return
        started = time.perf_counter()
        # the caller holds the engine lock: batches wait, while the event loop goes on in between the pickler's
        # writes (heartbeats, timers, /ready, the views, which only read)
        writing = asyncio.get_running_loop().run_in_executor(None, self.snapshots.save, state)
        try:
            path = await wait_through_cancellation(writing)
            pause = time.perf_counter() - started
            size = path.stat().st_size
        except asyncio.CancelledError:
            if not writing.cancelled() and writing.exception() is not None:
                log.error("snapshot write failed: %s: %s", type(writing.exception()).__name__, writing.exception())
                self.metrics.snapshot_failures.labels(writer="thread").inc()
            raise
        except Exception as exc:  # noqa: BLE001 - as for a forked write: a longer restart, never an event
            log.error("snapshot write failed: %s: %s", type(exc).__name__, exc)
            self.metrics.snapshot_failures.labels(writer="thread").inc()
            return
        self._saved(state.offsets)
        self._last_write_seconds = pause
        self.metrics.snapshot_pause.labels(writer="thread").observe(pause)
        self.metrics.snapshots_written.labels(writer="thread").inc()
        self.metrics.snapshot_bytes.set(size)
        self.metrics.snapshot_written_at.set(time.time())
        log.info("snapshot %s at offsets %s: %d bytes, written in a thread while the stream waited %.3fs",
                 path.name, state.offsets, size, pause)

    def _snapshot_written(self, future: asyncio.Future) -> None:
        self._snapshot_write = None
        if not future.cancelled() and future.exception() is not None:
            exc = future.exception()  # a failed snapshot costs a longer restart, never an event
            log.error("snapshot write failed: %s: %s", type(exc).__name__, exc)
            self.metrics.snapshot_failures.labels(writer="child").inc()

    def _observe_latency(self, outcome, append_timestamp: float | None) -> None:
        if outcome.event is None or not outcome.outbound:
            return
        now = time.time()
        self._latency_from_event_time.observe(max(0.0, now - outcome.event.observed_at.timestamp()))
        if append_timestamp:
            self._latency_from_append_time.observe(max(0.0, now - append_timestamp))

    def sample_gauges(self) -> None:
        self._log_kafka_state()
        stats = self.engine.stats()
        self.metrics.graph_nodes.set(stats["nodes"])
        self.metrics.graph_relations.set(stats["relations"])
        self.metrics.graph_hub_nodes.set(stats["hub_nodes"])
        consumer = getattr(self.app, "_consumer", None)
        if consumer is None:
            return
        self.metrics.consumer_lag.clear()  # a partition revoked since is another worker's to report
        assigned = [tp for tp in current_assignment(self.app)  # (none before the consumer's thread has started)
                    if tp.topic == self.settings.events_topic]
        for tp in assigned:
            # the newer of the two: the consumer's high-water mark stops with its fetching while the agent waits
            # (its buffers full), the broker's end offset comes from a thread and may be a sample old
            ends = [end for end in (consumer.highwater(tp), self.log_ends.end(tp.partition)) if end is not None]
            if not ends:
                continue
            position = self.processor.next_offsets.get(str(tp.partition), 0)
            self.metrics.consumer_lag.labels(topic=tp.topic, partition=str(tp.partition)).set(
                max(0, max(ends) - position))
        self.log_ends.request(tp.partition for tp in assigned)  # for the next sample


def _settle(future: concurrent.futures.Future, function, *args) -> None:
    """Run `function` and hand its outcome to `future`, unless whoever waited for it gave up (cancelled it)."""
    try:
        result = function(*args)
    except BaseException as exc:  # noqa: BLE001 - handed to whoever waits
        if future.set_running_or_notify_cancel():
            future.set_exception(exc)
        return
    if future.set_running_or_notify_cancel():
        future.set_result(result)


def input_record(event) -> InputRecord:
    """A Faust event as the processor takes it, as recovery and replays read the same record from the log
    (`streams.log_reader`): a timestamp of 0 ms is one, and checked as one (read as none, it let a record through
    live that every replay then dead-lettered)."""
    message = event.message
    # round, not int: the record's millisecond timestamp comes back exactly, as recovery reads it
    return InputRecord(value=event.value, key=event.key, topic=message.topic, partition=message.partition,
                       offset=message.offset,
                       timestamp_ms=None if message.timestamp is None else round(message.timestamp * 1000))


def _fail_without_commit(exc: BaseException) -> None:
    """Stop the process now. Raising would close Faust's take buffer, which acks the batch on the way out and
    lets a later commit skip events whose outputs were never stored; exiting leaves the offsets where they are."""
    log.critical("could not publish outputs: batch interrupted by %s: %s; stopping without committing it, a "
                 "restart will process it again", type(exc).__name__, exc,
                 exc_info=not isinstance(exc, asyncio.CancelledError))
    logging.shutdown()
    os._exit(70)  # EX_SOFTWARE
