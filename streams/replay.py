"""Audit replay: re-run the engine over a range of the input log and yield what the pipeline would have published.

A replay never joins the live consumer group and commits nothing. The graph is always rebuilt from the start of the
log (the state at any point depends on everything before it); outputs are yielded only for the chosen window.
Because the live worker uses the same `EventProcessor`, a replay of the whole topic yields the same scores and alert
ids that the worker published. Where `coi-risk load` bootstrapped the app id, the replay reproduces that load first,
as the worker does (`streams.bulk`): its range was applied at once and published no scores or alerts (only the
dead letters of its invalid events, which the load published and the replay yields), and the alerts after it
continue from the state it left.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from scoring import AlertTracker, Engine
from streams.bulk import BulkLoad, last_bulk_load, reproduce, reproduction_refused
from streams.config import Settings, load_scoring_config
from streams.log_reader import Bounds, open_consumer, read, resolve_bounds
from streams.processor import EventProcessor, InputRecord, Outcome, ProcessingLimits


@dataclass(frozen=True)
class Position:
    """A point in the log: the beginning/end, explicit offsets per partition, or an append timestamp."""

    offsets: dict[int, int] | None = None
    timestamp_ms: int | None = None

    @classmethod
    def parse(cls, text: str | None) -> Position:
        """'beginning'/'end'/None, '0:120,1:80' (partition:offset), '120' (partition 0), or an ISO timestamp."""
        if text in (None, "", "beginning", "end"):
            return cls()
        if all(part.replace(":", "").isdigit() for part in text.split(",")):
            offsets = {}
            for part in text.split(","):
                partition, _, offset = part.rpartition(":")
                offsets[int(partition or 0)] = int(offset)
            return cls(offsets=offsets)
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return cls(timestamp_ms=int(moment.timestamp() * 1000))

    def as_bound(self):
        return self.offsets if self.offsets is not None else self.timestamp_ms


class WindowRefused(ValueError):
    """A window no log can have: a partition the topic lacks, or a start after the end. Replaying it would read
    nothing, or the whole log, under a window the report then names as asked."""


def refuse_impossible_window(topic: str, partitions: list[int], start: Position, end: Position,
                             resolved: Bounds | None = None) -> None:
    """`WindowRefused` for a position naming a partition the topic lacks, or a start after the end: as given (two
    offsets, two times) or, `resolved`, once each is an offset of the log (an offset and a time)."""
    for flag, position in (("--from", start), ("--to", end)):
        for partition in sorted(set(position.offsets or ()) - set(partitions)):
            have = ", ".join(str(p) for p in partitions)
            raise WindowRefused(f"{flag} names partition {partition}, which {topic} does not have (its partitions: "
                                f"{have})")
    for partition in sorted(set(start.offsets or ()) & set(end.offsets or ())):
        if start.offsets[partition] > end.offsets[partition]:
            raise WindowRefused(f"--from {partition}:{start.offsets[partition]} is after --to "
                                f"{partition}:{end.offsets[partition]}")
    if start.timestamp_ms is not None and end.timestamp_ms is not None and start.timestamp_ms > end.timestamp_ms:
        raise WindowRefused("--from is after --to")
    for partition in sorted(resolved.start if resolved is not None else ()):
        begins = resolved.start[partition]
        ends = resolved.end.get(partition, begins)
        if begins > ends:
            raise WindowRefused(f"--from is after --to: in partition {partition} of {topic} the window would begin "
                                f"at offset {begins} and end at {ends}")


@dataclass
class ReplaySummary:
    applied_before_window: int = 0
    replayed: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    scores: int = 0
    alerts: int = 0
    window: Bounds | None = None
    bulk_load: BulkLoad | None = None  # the recorded load reproduced first, if any
    bulk_loaded: int = 0  # the events of its range (applied at once, no outputs: the worker published none)
    bulk_load_not_reproduced: str | None = None  # why a recorded load was replayed event by event instead
    bulk_load_ends_after: BulkLoad | None = None  # a recorded load the read part of the log ends inside of


@dataclass(frozen=True)
class ReplayItem:
    record: InputRecord
    outcome: Outcome
    in_window: bool


def new_processor(settings: Settings) -> EventProcessor:
    config = load_scoring_config(settings.scoring_config)
    return EventProcessor(Engine(config), AlertTracker(config), None, limits=ProcessingLimits.from_settings(settings))


def replay(settings: Settings, start: Position = Position(), end: Position = Position(),
           processor: EventProcessor | None = None, summary: ReplaySummary | None = None,
           on_progress: Callable[[int, int], None] | None = None) -> Iterator[ReplayItem]:
    """Yields every record from the log start to `end`; `in_window` marks those at or after `start`."""
    processor = processor or new_processor(settings)
    summary = summary if summary is not None else ReplaySummary()
    consumer = open_consumer(settings)
    try:
        window = resolve_bounds(consumer, settings.events_topic, start.as_bound(), end.as_bound())
        full = resolve_bounds(consumer, settings.events_topic, None, end.as_bound())
    finally:
        consumer.close()
    refuse_impossible_window(settings.events_topic, sorted(window.end), start, end, window)
    window = Bounds(start={p: min(o, window.end[p]) for p, o in window.start.items()}, end=window.end)
    summary.window = window
    loaded = last_bulk_load(settings)
    if loaded is not None:
        why_not = reproduction_refused(settings, loaded)  # against the log, as the worker decides
        if why_not is not None:
            summary.bulk_load_not_reproduced = why_not
        elif any(full.end.get(p, 0) < o for p, o in loaded.end.items()):
            # the worker published nothing for the loaded range and served nothing before the load ended: so the
            # replay yields nothing for it and applies nothing, whatever part of it the window covers
            summary.bulk_load_ends_after = loaded
            full = Bounds(start=dict(full.end), end=full.end)
        else:
            # the dead letters `coi-risk load` published for the invalid events of its range, as published
            letters: list[tuple[InputRecord, Outcome]] = []

            def rejected(record: InputRecord, _rejection, letter: Outcome) -> None:
                if record.offset >= window.start.get(record.partition, 0):
                    letters.append((record, letter))

            engine, tracker, applied = reproduce(settings, processor.engine.engine.config, loaded, rejected)
            processor.engine, processor.tracker = engine, tracker
            processor.next_offsets = {str(p): o for p, o in loaded.end.items()}
            processor.last_records = {str(p): r for p, r in applied.last_records.items()}
            summary.bulk_load, summary.bulk_loaded = loaded, applied.read
            full = Bounds(start={p: max(o, loaded.end.get(p, o)) for p, o in full.start.items()}, end=full.end)
            for record, letter in letters:
                summary.rejected[letter.rejected.value] = summary.rejected.get(letter.rejected.value, 0) + 1
                yield ReplayItem(record, letter, True)
            del letters
    total, done = full.total, 0
    for record in read(settings, settings.events_topic, full):
        outcome = processor.process(record)
        in_window = record.offset >= window.start.get(record.partition, 0)
        if in_window:
            summary.replayed += 1
            if outcome.rejected is not None:
                summary.rejected[outcome.rejected.value] = summary.rejected.get(outcome.rejected.value, 0) + 1
            summary.scores += sum(out.role == "scores" for out in outcome.outbound)
            summary.alerts += sum(out.role == "alerts" for out in outcome.outbound)
        else:
            summary.applied_before_window += 1
        done += 1
        if on_progress:
            on_progress(done, total)
        yield ReplayItem(record, outcome, in_window)
