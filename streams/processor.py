"""One input message in, the messages to publish out: validation, dead letters, engine, alert transitions.

No Kafka I/O here: the Faust agent, the recovery pass and the audit replay all drive the same processor, so the
live worker and a replay publish byte-identical scores and alerts for the same log.
"""

from __future__ import annotations

import base64
import logging
import time
from dataclasses import dataclass, field

from schemas import DeadLetter, EventRejected, RejectReason, parse_event
from schemas.events import RelationshipEvent
from scoring import AlertTracker, Engine
from streams.metrics import PipelineMetrics

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class InputRecord:
    """A message as read from the input topic."""

    value: bytes
    key: bytes | None
    topic: str
    partition: int
    offset: int
    timestamp_ms: int | None = None


@dataclass(frozen=True, slots=True)
class Outbound:
    role: str  # "scores" | "alerts" | "dead_letters": a row of streams.topics.topic_specs
    key: bytes
    value: bytes


@dataclass(slots=True)
class Outcome:
    outbound: list[Outbound] = field(default_factory=list)
    event: RelationshipEvent | None = None
    rejected: RejectReason | None = None


class EventProcessor:
    def __init__(self, engine: Engine, tracker: AlertTracker, metrics: PipelineMetrics | None = None,
                 max_event_bytes: int | None = None):
        self.engine = engine
        self.tracker = tracker
        self.metrics = metrics
        self.max_event_bytes = max_event_bytes
        self.next_offsets: dict[str, int] = {}

    def process(self, record: InputRecord, publish: bool = True) -> Outcome:
        """Never raises on bad input: whatever cannot be applied becomes a dead letter. `publish=False` (recovery)
        applies the event and advances the alert tracker but renders no outputs: they were published before."""
        self.next_offsets[str(record.partition)] = record.offset + 1
        if self.metrics:
            self.metrics.events_consumed.inc()
        try:
            event = self._parse(record)
        except EventRejected as rejection:
            if not publish:
                return Outcome(rejected=rejection.reason)
            return self._dead_letter(record, rejection.reason, rejection.message)
        started = time.perf_counter()
        try:
            changes = self.engine.apply(event, offset=f"{record.partition}:{record.offset}",
                                        input_offsets=dict(self.next_offsets))
            alerts = self.tracker.observe(changes)
            outcome = Outcome(event=event)
            for change in changes if publish else ():
                score = change.published()  # may render the old score (scoring.engine.ScoreChange)
                outcome.outbound.append(Outbound("scores", score_key(score.actor_id, score.counterparty_id),
                                                 score.model_dump_json().encode()))
            for alert in alerts if publish else ():
                outcome.outbound.append(Outbound("alerts", alert.alert_id.encode(),
                                                 alert.model_dump_json().encode()))
        except Exception as exc:  # a bug must not stop the stream; the event is kept in the dead-letter topic
            log.exception("processing failed for event %s", event.event_id)
            return self._dead_letter(record, RejectReason.PROCESSING_ERROR,
                                     f"the engine failed on this event: {type(exc).__name__}: {exc}")
        if self.metrics:
            self.metrics.scoring_latency.observe(time.perf_counter() - started)
            self.metrics.events_valid.inc()
            self._count_outputs(changes, alerts)
        return outcome

    def _parse(self, record: InputRecord) -> RelationshipEvent:
        limit = {} if self.max_event_bytes is None else {"max_bytes": self.max_event_bytes}
        event = parse_event(record.value, **limit)
        if record.key is not None and record.key != event.relation_id.encode():
            raise EventRejected(RejectReason.KEY_MISMATCH,
                                f"message key {record.key[:100]!r} is not the relation_id {event.relation_id!r}; "
                                "events must be keyed by relation_id so each relation's versions stay in order")
        return event

    def _dead_letter(self, record: InputRecord, reason: RejectReason, message: str) -> Outcome:
        letter = DeadLetter(
            reason=reason, message=message,
            original_value=base64.b64encode(record.value).decode(),
            original_key=None if record.key is None else base64.b64encode(record.key).decode(),
            topic=record.topic, partition=record.partition, offset=record.offset, timestamp_ms=record.timestamp_ms)
        if self.metrics:
            self.metrics.events_rejected.labels(reason=reason.value).inc()
        key = f"{record.topic}:{record.partition}:{record.offset}".encode()
        return Outcome(outbound=[Outbound("dead_letters", key, letter.model_dump_json().encode())], rejected=reason)

    def _count_outputs(self, changes, alerts) -> None:
        for change in changes:
            band = change.new.band.value if change.new is not None else "none"
            self.metrics.score_changes.labels(band=band).inc()
        for alert in alerts:
            self.metrics.alerts.labels(band=alert.band.value, state=alert.state.value).inc()
            self.metrics.pair_alerts.labels(actor=alert.actor_id, counterparty=alert.counterparty_id).inc()


def score_key(actor_id: str, counterparty_id: str) -> bytes:
    return f"{actor_id}|{counterparty_id}".encode()
