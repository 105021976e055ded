"""One input message in, the messages to publish out: validation, dead letters, engine, alert transitions.

No Kafka I/O here: the Faust agent, the recovery pass and the audit replay all drive the same processor, so the
live worker and a replay publish byte-identical scores and alerts for the same log. For that, every decision here
depends only on the log: the record's bytes, key, position and append timestamp, and the events before it (never
the wall clock).

No single message can stop it (docs/streaming.md, "Poison messages"): whatever cannot be decoded, validated,
admitted or applied becomes a dead letter, and a dead letter is bounded in size whatever the input.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from schemas import Alert, DeadLetter, EventRejected, ExplanationPath, RejectReason, RiskScore, parse_event
from schemas.events import RelationshipEvent
from schemas.outputs import MergeNote
from schemas.validation import DEFAULT_MAX_EVENT_BYTES
from scoring import AlertTracker, Engine
from scoring.resolution import ResolvingEngine, content_digest_of
from streams.metrics import PipelineMetrics

if TYPE_CHECKING:
    from streams.config import Settings
    from streams.crash_guard import CrashGuard

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class InputRecord:
    """A message as read from the input topic."""

    value: bytes | None  # None: a null value (a tombstone)
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


_MAX_MESSAGE_CHARS = 2000  # a dead letter's message: enough for a person, bounded whatever the input


@dataclass(frozen=True, slots=True)
class ProcessingLimits:
    """The bounds the processor enforces; `from_settings` takes them from streams.config (the defaults there)."""

    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES
    max_message_bytes: int = 1_000_000
    dead_letter_max_original_bytes: int = DEFAULT_MAX_EVENT_BYTES
    max_future_skew: dt.timedelta | None = dt.timedelta(days=1)  # None: not checked

    @classmethod
    def from_settings(cls, settings: Settings) -> ProcessingLimits:
        return cls(max_event_bytes=settings.max_event_bytes, max_message_bytes=settings.max_message_bytes,
                   dead_letter_max_original_bytes=settings.dead_letter_max_original_bytes,
                   max_future_skew=dt.timedelta(seconds=settings.max_future_skew_seconds))


class EventProcessor:
    def __init__(self, engine: Engine | ResolvingEngine, tracker: AlertTracker, metrics: PipelineMetrics | None = None,
                 max_event_bytes: int | None = None, limits: ProcessingLimits | None = None,
                 crash_guard: CrashGuard | None = None):
        # scores are of the resolved graph: same_as judgements and shared identifiers merge ids (scoring.resolution)
        self.engine = engine if isinstance(engine, ResolvingEngine) else ResolvingEngine(engine)
        self.tracker = tracker
        self.metrics = metrics
        limits = limits or ProcessingLimits()
        if max_event_bytes is not None:
            limits = ProcessingLimits(max_event_bytes, limits.max_message_bytes,
                                      limits.dead_letter_max_original_bytes, limits.max_future_skew)
        self.limits = limits
        self.crash_guard = crash_guard
        self.next_offsets: dict[str, int] = {}
        # partition -> (offset, broker append time in ms) of the last record processed: which log the positions are
        # of (a snapshot's header carries it; `streams.app` compares it with the log a restart finds)
        self.last_records: dict[str, tuple[int, int]] = {}

    @property
    def max_event_bytes(self) -> int:
        return self.limits.max_event_bytes

    def process(self, record: InputRecord, publish: bool = True) -> Outcome:
        """Never raises on bad input: whatever cannot be applied becomes a dead letter. `publish=False` (recovery)
        applies the event and advances the alert tracker but renders no outputs: they were published before."""
        guard = self.crash_guard
        exhausted = guard is not None and guard.exhausted(record)
        if guard is not None and not exhausted:
            # before the record counts as applied: a failing write (the data dir's disk) must leave it to a retry
            guard.entering(record)
        self.next_offsets[str(record.partition)] = record.offset + 1
        if record.timestamp_ms is not None:
            self.last_records[str(record.partition)] = (record.offset, record.timestamp_ms)
        if self.metrics:
            self.metrics.events_consumed.inc()
        if guard is not None:
            if exhausted:
                log.error("skipping %s:%d:%d: the worker died %d times while processing it", record.topic,
                          record.partition, record.offset, guard.deaths(record))
                return self._dead_letter(record, RejectReason.PROCESSING_ATTEMPTS_EXCEEDED,
                                         f"the worker died {guard.deaths(record)} times while processing this "
                                         "message, so it is skipped (max_processing_attempts); its position is "
                                         "in the worker's log with the cause")
        try:
            event, digest = self._admit(record)
        except EventRejected as rejection:
            if not publish:
                return Outcome(rejected=rejection.reason)
            if rejection.unexpected:
                log.error("decoding %s:%d:%d failed unexpectedly: %s", record.topic, record.partition,
                          record.offset, rejection.message)
            return self._dead_letter(record, rejection.reason, rejection.message)
        except Exception as exc:  # noqa: BLE001 - a gap in the checks must not stop the stream
            log.exception("admitting %s:%d:%d failed", record.topic, record.partition, record.offset)
            return self._dead_letter(record, RejectReason.INVALID_EVENT,
                                     f"the event could not be read ({type(exc).__name__}); it was not applied")
        started = time.perf_counter()
        try:
            changes = self.engine.apply(event, offset=f"{record.partition}:{record.offset}",
                                        input_offsets=dict(self.next_offsets), raw=record.value,
                                        digest=digest)
            alerts = self.tracker.observe(changes)
            for hub in self.engine.hub_changes if publish else ():  # conflicts through a hub may be missed: say so
                log.warning("node %s %s the fan-out guard (limits.max_fanout) with %d %s relations (%s)%s",
                            hub.node, "crossed" if hub.entered else "is back under", hub.fanout, hub.layer,
                            hub.direction, ": conflicts through it there may be missed (a person's own holdings "
                            "and family are still followed)" if hub.entered else "")
            outcome = Outcome(event=event)
            for change in changes if publish else ():
                score = change.published()  # may render the old score (scoring.engine.ScoreChange)
                outcome.outbound.append(Outbound("scores", score_key(score.actor_id, score.counterparty_id),
                                                 score.model_dump_json().encode()))
            for alert in alerts if publish else ():
                outcome.outbound.append(Outbound("alerts", alert.alert_id.encode(),
                                                 alert.model_dump_json().encode()))
            proposals = self.engine.take_suggestions()  # only with a matcher (settings.suggest_merges)
            for proposal in proposals if publish else ():
                outcome.outbound.append(Outbound("suggestions", proposal.relation_id.encode(),
                                                 proposal.model_dump_json(by_alias=True, exclude_none=True).encode()))
        except Exception as exc:  # a bug must not stop the stream; the event is kept in the dead-letter topic
            log.exception("processing failed for event %s", event.event_id)
            return self._dead_letter(record, RejectReason.PROCESSING_ERROR,
                                     f"the engine failed on this event: {type(exc).__name__}: {exc}")
        self._withhold_oversized(record, outcome)
        if self.metrics:
            self.metrics.scoring_latency.observe(time.perf_counter() - started)
            self.metrics.events_valid.inc()
            self._count_outputs(changes, alerts)
        return outcome

    def _admit(self, record: InputRecord) -> tuple[RelationshipEvent, int]:
        """The record's event and its content's digest if it may be applied, else `EventRejected`.

        The layer ignores an event id it has applied (a redelivery changes nothing); different content under a
        used id is a dead letter instead of silence. The layer keeps each id's first digest with the id
        (`ResolvingEngine.content_digest`), in its snapshots too, and a replay rebuilds it with the engine, so a
        restart reaches the same decisions."""
        event = parse_event(record.value, max_bytes=self.limits.max_event_bytes)
        if record.key is not None and record.key != event.relation_id.encode():
            raise EventRejected(RejectReason.KEY_MISMATCH,
                                f"message key {record.key[:100]!r} is not the relation_id {event.relation_id!r}; "
                                "events must be keyed by relation_id so each relation's versions stay in order")
        self._check_not_in_future(record, event)
        digest = content_digest_of(event)
        known = self.engine.content_digest(event.event_id)
        if known is not None and known != digest:
            raise EventRejected(RejectReason.CONFLICTING_EVENT_ID,
                                f"event_id {event.event_id!r} was already applied with different content; an event "
                                "id names one statement: a new version or a retraction needs a new event_id")
        return event, digest

    def _check_not_in_future(self, record: InputRecord, event: RelationshipEvent) -> None:
        # Against the record's append timestamp, not the wall clock: a replay of the log must decide the same.
        skew = self.limits.max_future_skew
        if skew is None or record.timestamp_ms is None or record.timestamp_ms < 0:
            return
        ahead_ms = int(event.observed_at.timestamp() * 1000) - record.timestamp_ms
        if ahead_ms > skew / dt.timedelta(milliseconds=1):
            appended = dt.datetime.fromtimestamp(record.timestamp_ms / 1000, dt.UTC)
            raise EventRejected(RejectReason.OBSERVED_AT_IN_FUTURE,
                                f"observed_at {event.observed_at.isoformat()} is {_how_long(ahead_ms)} after the "
                                f"message was appended ({appended.isoformat()}); at most {_how_long(skew // _MS)} "
                                "is accepted, since the engine clock follows observed_at and never goes back")

    def _withhold_oversized(self, record: InputRecord, outcome: Outcome) -> None:
        """An output the broker would refuse would stop the worker on every restart. A score or alert is published
        with its edges' evidence cut to what fits (`_cut_to_fit`): an edge lists every statement of its fact, in
        every path through it, so a fact a hundred outlets quote would otherwise keep its conflict off the topics
        for good. What does not fit even so is withheld, and the event (which was applied) is dead-lettered with
        what was withheld."""
        limit = self.limits.max_message_bytes
        if not any(len(out.key) + len(out.value) > limit for out in outcome.outbound):
            return
        fitted = []
        for out in outcome.outbound:
            if len(out.key) + len(out.value) > limit and out.role in _EXPLAINED:
                value = _cut_to_fit(_EXPLAINED[out.role].model_validate_json(out.value), limit - len(out.key))
                if value is not None:
                    log.warning("event %s: %s %s over %d bytes, published with its evidence cut to fit",
                                outcome.event.event_id, out.role, out.key[:200].decode(errors="replace"), limit)
                    out = Outbound(out.role, out.key, value)
            fitted.append(out)
        outcome.outbound = fitted
        oversized = [out for out in outcome.outbound if len(out.key) + len(out.value) > limit]
        if not oversized:
            return
        outcome.outbound = [out for out in outcome.outbound if len(out.key) + len(out.value) <= limit]
        withheld = ", ".join(f"{out.role} {out.key[:200].decode(errors='replace')} ({len(out.value)} bytes)"
                             for out in oversized[:5])
        more = f" and {len(oversized) - 5} more" if len(oversized) > 5 else ""
        log.error("event %s: withheld outputs over %d bytes: %s%s", outcome.event.event_id, limit, withheld, more)
        letter = self._dead_letter(record, RejectReason.OUTPUT_TOO_LARGE,
                                   f"the event was applied, but these outputs exceed max_message_bytes ({limit}) "
                                   f"and were not published: {withheld}{more}")
        outcome.outbound.extend(letter.outbound)

    def _dead_letter(self, record: InputRecord, reason: RejectReason, message: str) -> Outcome:
        """The letter, within `max_message_bytes` like every output: a letter the broker refused would stop the
        worker on the same message at every restart. The original's prefixes give way first (its length, sha256 and
        place in the log still identify it), then the message."""
        if self.metrics:
            self.metrics.events_rejected.labels(reason=reason.value).inc()
        position = f"{record.topic}:{record.partition}:{record.offset}".encode()
        room = self.limits.max_message_bytes - len(position)
        message = _bounded_text(message)
        digest = None if record.value is None else hashlib.sha256(record.value).hexdigest()  # once: up to megabytes
        bare = _letter(record, reason, message, digest, 0, 0)
        while len(bare) > room and message:  # only a message of many multi-byte characters, near the 4096 floor
            message = _cut(message, len(bare) - room)
            bare = _letter(record, reason, message, digest, 0, 0)
        limit = self.limits.dead_letter_max_original_bytes
        # base64 writes 4 characters for each 3 bytes (rounded up, in each of the two fields); the margin covers
        # the flags' "false" over "true"
        spare = max(0, (room - len(bare) - 16) * 3 // 4)
        key_bytes = min(len(record.key or b""), limit, spare // 4)
        value_bytes = min(len(record.value or b""), limit, spare - key_bytes)
        letter = _letter(record, reason, message, digest, value_bytes, key_bytes) if spare else bare
        return Outcome(outbound=[Outbound("dead_letters", position, letter)], rejected=reason)

    def _count_outputs(self, changes, alerts) -> None:
        for change in changes:
            band = change.band.value if change.band is not None else "none"
            self.metrics.score_changes.labels(band=band).inc()
        for alert in alerts:
            self.metrics.alerts.labels(band=alert.band.value, state=alert.state.value).inc()
            self.metrics.count_pair_alert(alert.actor_id, alert.counterparty_id)
        for hub in self.engine.hub_changes:
            if hub.entered:
                self.metrics.hub_nodes_entered.inc()


_EXPLAINED: dict[str, type[RiskScore] | type[Alert]] = {"scores": RiskScore, "alerts": Alert}


def _cut_to_fit(output: RiskScore | Alert, room: int) -> bytes | None:
    """`output` as published with at most `keep` statements per edge, `keep` the first of half the longest list,
    half that, ... down to 1 (each edge's primary statement) that fits in `room` bytes; each edge says how many it
    left out (`PathEdge.evidence_omitted`). None when even one statement per edge is too much. Depends on the
    output and the room only, so a replay publishes the same bytes."""
    longest = max((len(edge.evidence) for path in (*output.authority_paths, *output.commercial_paths)
                   for edge in path.edges), default=0)
    keep = longest
    while keep > 1:
        keep = (keep + 1) // 2
        value = _with_evidence(output, keep).model_dump_json().encode()
        if len(value) <= room:
            return value
    # An entity merged from thousands of ids (an identifier many share, or judgements an adversary sends) lists
    # every merge and every id: then its merges' evidence is cut too (down to none), and then its ids (down to the
    # canonical one), each saying how many it left out. Else such a cluster kept every conflict of it off the topics.
    output = _with_evidence(output, 1) if longest > 1 else output
    keep = max((len(note.evidence) for note in output.merges), default=0)
    while keep > 0:
        keep //= 2
        value = _with_merges(output, keep, None).model_dump_json().encode()
        if len(value) <= room:
            return value
    keep = max((len(note.member_ids) for note in output.merges), default=0)
    while keep > 1:
        keep = (keep + 1) // 2
        value = _with_merges(output, 0, keep).model_dump_json().encode()
        if len(value) <= room:
            return value
    # Then the quotes, each repeated in every path through its edge (5,000 characters of CJK text in each of a
    # chain's statements made a conflict's alert 1.4 MB: withheld, while the tracker held it open, so its later
    # transitions named an alert never raised); then the paths beyond the strongest of each list; then, of an
    # alert, its related parties beyond the strongest. Each cut says what it left out.
    output = _with_merges(output, 0, 1 if keep else None)
    for cuts in (_quote_cuts, _path_cuts, _party_cuts):
        cut, value = _first_that_fits(cuts(output), room)
        if value is not None:
            return value
        output = cut or output  # the most this stage cuts, for the next to start from
    return None


def _first_that_fits(cuts: Iterable[RiskScore | Alert], room: int) -> tuple[RiskScore | Alert | None, bytes | None]:
    """The first of `cuts` (ever smaller forms of one output) whose bytes fit in `room`, and those bytes; else the
    last, and None."""
    cut = None
    for cut in cuts:
        value = cut.model_dump_json().encode()
        if len(value) <= room:
            return cut, value
    return cut, None


# A cut quote ends so: a reader sees the source said more.
QUOTE_CUT = "…"


def _quote_cuts(output: RiskScore | Alert) -> Iterator[RiskScore | Alert]:
    """`output` with every quote cut to at most half the longest, half that, ... characters, then none."""
    keep = max((len(evidence.quote or "") for path in (*output.authority_paths, *output.commercial_paths)
                for edge in path.edges for evidence in edge.evidence), default=0)
    while keep > 0:
        keep //= 2
        yield _with_quotes(output, keep)


def _with_quotes(output: RiskScore | Alert, keep: int) -> RiskScore | Alert:
    def quote(text: str | None) -> str | None:
        if text is None or len(text) <= keep:
            return text
        return text[:keep] + QUOTE_CUT if keep else None

    def cut(path: ExplanationPath) -> ExplanationPath:
        return path.model_copy(update={"edges": tuple(
            edge.model_copy(update={"evidence": tuple(
                evidence.model_copy(update={"quote": quote(evidence.quote)}) for evidence in edge.evidence)})
            for edge in path.edges)})

    return output.model_copy(update={"authority_paths": tuple(map(cut, output.authority_paths)),
                                     "commercial_paths": tuple(map(cut, output.commercial_paths))})


def _path_cuts(output: RiskScore | Alert) -> Iterator[RiskScore | Alert]:
    """`output` with at most the first of half the longest list of paths, half that, ... down to 1 path of each
    list (the strongest: the lists are ranked)."""
    keep = max(len(output.authority_paths), len(output.commercial_paths))
    while keep > 1:
        keep = (keep + 1) // 2
        yield output.model_copy(update={"authority_paths": output.authority_paths[:keep],
                                        "commercial_paths": output.commercial_paths[:keep]})


def _party_cuts(output: RiskScore | Alert) -> Iterator[RiskScore | Alert]:
    """An alert with at most the first of half its related parties, half that, ... down to none, counting those it
    left out (`Alert.related_parties_omitted`); a score has none."""
    if not isinstance(output, Alert):
        return
    keep = len(output.related_parties)
    while keep > 0:
        keep //= 2
        yield output.model_copy(update={
            "related_parties": output.related_parties[:keep],
            "related_parties_omitted": output.related_parties_omitted + len(output.related_parties) - keep})


def _with_merges(output: RiskScore | Alert, evidence: int, members: int | None) -> RiskScore | Alert:
    """`output` with at most `evidence` merges and (unless None) `members` ids listed per merged entity."""
    def cut(note: MergeNote) -> MergeNote:
        update: dict = {}
        if len(note.evidence) > evidence:
            left_out = len(note.evidence) - evidence
            kept = note.evidence[:evidence]
            total = len(note.member_ids) + note.member_ids_omitted
            update.update(evidence=kept, evidence_omitted=note.evidence_omitted + left_out, text="; ".join([
                f"{note.name} ({note.canonical_id}) stands for {total} ids", *(e.text for e in kept),
                f"{note.evidence_omitted + left_out} more merges left out (GET /entities/{note.canonical_id})"]))
        if members is not None and len(note.member_ids) > members:
            update.update(member_ids=note.member_ids[:members],
                          member_ids_omitted=note.member_ids_omitted + len(note.member_ids) - members)
        return note.model_copy(update=update) if update else note

    update: dict = {"merges": tuple(map(cut, output.merges))}
    if members is not None:
        update.update(actor_merged_ids=output.actor_merged_ids[:members],
                      counterparty_merged_ids=output.counterparty_merged_ids[:members])
    return output.model_copy(update=update)


def _with_evidence(output: RiskScore | Alert, keep: int) -> RiskScore | Alert:
    def cut(path: ExplanationPath) -> ExplanationPath:
        return path.model_copy(update={"edges": tuple(
            edge.model_copy(update={"evidence": edge.evidence[:keep],
                                    "evidence_omitted": edge.evidence_omitted + max(0, len(edge.evidence) - keep)})
            for edge in path.edges)})

    return output.model_copy(update={"authority_paths": tuple(map(cut, output.authority_paths)),
                                     "commercial_paths": tuple(map(cut, output.commercial_paths))})


def _letter(record: InputRecord, reason: RejectReason, message: str, value_sha256: str | None, value_bytes: int,
            key_bytes: int) -> bytes:
    """The dead letter of `record`, with at most these many bytes of its value and key, as published."""
    value, key = record.value, record.key
    return DeadLetter(
        reason=reason, message=message,
        original_value=None if value is None else base64.b64encode(value[:value_bytes]).decode(),
        original_value_length=None if value is None else len(value),
        original_value_sha256=value_sha256,
        original_value_truncated=value is not None and len(value) > value_bytes,
        original_key=None if key is None else base64.b64encode(key[:key_bytes]).decode(),
        original_key_length=None if key is None else len(key),
        original_key_truncated=key is not None and len(key) > key_bytes,
        topic=record.topic, partition=record.partition, offset=record.offset, timestamp_ms=record.timestamp_ms,
    ).model_dump_json().encode()


def _cut(message: str, excess: int) -> str:
    """`message` shorter by more than `excess` bytes (UTF-8, as published), at a character boundary."""
    encoded = message.encode()
    keep = len(encoded) - excess - 4  # and the ellipsis is three
    return encoded[:keep].decode("utf-8", "ignore") + "…" if keep > 0 else ""


def _bounded_text(message: str) -> str:
    """At most _MAX_MESSAGE_CHARS, and encodable: a message may quote input (a lone surrogate from a JSON escape)."""
    message = message.encode("utf-8", "backslashreplace").decode("utf-8")
    return message if len(message) <= _MAX_MESSAGE_CHARS else message[: _MAX_MESSAGE_CHARS - 1] + "…"


def score_key(actor_id: str, counterparty_id: str) -> bytes:
    return f"{actor_id}|{counterparty_id}".encode()


_MS = dt.timedelta(milliseconds=1)


def _how_long(ms: int) -> str:
    """A duration as a person reads it ("179 years", "3 days", "2 hours 5 minutes", "1.5 s"): a dead letter's
    "65380 days, 0:00:00" had to be worked out."""
    seconds = ms / 1000
    for unit, length in (("years", 365.2425 * 86400), ("days", 86400)):
        if seconds >= 2 * length:
            return f"{seconds / length:,.0f} {unit}"
    if seconds < 60:
        return f"{seconds:.3g} s"
    hours, minutes = divmod(int(seconds) // 60, 60)
    said = [f"{count} {unit}{'s' if count > 1 else ''}" for count, unit in ((hours, "hour"), (minutes, "minute"))
            if count]
    return " ".join(said)
