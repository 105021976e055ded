"""`coi-risk load [FILE]`: fill an engine from the input log at the bulk rate and write a snapshot the worker starts
from, so a register of millions of relations is loaded once and served at once.

    coi-risk load register.jsonl     # publish the file to the input topic, then build the snapshot from the log
    coi-risk load                    # build a snapshot from the input log as it is (a cold start, offline)

The log stays the source of truth: the file is published to the input topic first, and the snapshot is keyed to
the log's end offsets, and the app's consumer group is committed there: the worker starts reading after the loaded
events, and a worker without the snapshot would rebuild the same graph from the log (its catch-up replays up to the
committed offsets). The events are
applied with `Engine.load` (graph first, then one rebuild of every score) instead of one rescoring per event.
What a bulk load does not do: publish scores or alerts for the loaded events (the worker starts after them; the
loaded register is a baseline, served on /scores), nor dead-letter invalid lines (they are counted and skipped).
Alerts open at the end of the load start their history there (episode 0).

It is for bootstrapping an app id whose worker has published nothing yet: alert ids and sequences depend on the
event-by-event history, which a bulk load does not reproduce, so on an app id whose group already committed
offsets (its alerts are out there) `load` refuses unless `--force`. A running deployment gets its snapshots from
the worker itself; the worker's own cold start (no usable snapshot) replays event by event for the same reason.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from streams.config import add_connection_flags


def register(subparsers) -> None:
    parser = subparsers.add_parser("load", help="bulk-load the input log (after publishing FILE) into a snapshot")
    add_connection_flags(parser)
    parser.add_argument("file", nargs="?", help="JSON-lines events to publish to the input topic first")
    parser.add_argument("--app-id", help="Faust app id whose worker will start from the snapshot")
    parser.add_argument("--snapshot-dir", help="default: the snapshot_dir setting (<data_dir>/snapshots)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--force", action="store_true",
                        help="load although the app id's consumer group has already committed offsets")
    parser.set_defaults(func=run)


def run(args) -> int:
    from schemas import EventRejected
    from scoring import AlertTracker
    from scoring.resolution import ResolvingEngine
    from streams.commands.produce import produce_lines, report_failures
    from streams.collector import PausedCollection
    from streams.commands.snapshot import open_store
    from streams.log_reader import open_consumer, resolve_bounds, read
    from streams.processor import EventProcessor
    from streams.snapshots import SnapshotState

    settings, config, store = open_store(args)
    from streams.recovery import commit_offsets, committed_offsets

    committed = committed_offsets(settings)
    if committed and not args.force:
        print(f"the consumer group {settings.app_id!r} has already committed {committed}: its worker has published "
              "alerts whose ids a bulk load would not continue; use the worker's own snapshots, or --force",
              file=sys.stderr)
        return 2
    if args.file:
        with Path(args.file).open("rb") as source:
            summary = produce_lines(settings, source, settings.events_topic, progress=not args.quiet)
        print(f"published {summary['sent']} events to {settings.events_topic}", file=sys.stderr)
        not_sent = report_failures(summary, settings.events_topic)
        if not_sent:  # a snapshot of a partly published file would not be the log the worker reads
            print("not loading: publish the file completely first", file=sys.stderr)
            return not_sent
    consumer = open_consumer(settings)
    try:
        bounds = resolve_bounds(consumer, settings.events_topic)
    finally:
        consumer.close()
    engine = ResolvingEngine(config)  # what the worker runs: judgements and shared identifiers merge ids
    tracker = AlertTracker(config)
    validator = EventProcessor(engine, tracker, None, settings.max_event_bytes)  # the worker's own checks
    counts = {"read": 0, "invalid": 0}
    started = time.perf_counter()

    def valid_events(collection: PausedCollection):
        for record in read(settings, settings.events_topic, bounds):
            counts["read"] += 1
            collection.step()
            try:
                yield validator._admit(record), f"{record.partition}:{record.offset}", record.value
            except EventRejected:
                counts["invalid"] += 1

    offsets = {str(partition): end for partition, end in bounds.end.items()}
    with PausedCollection() as collection:  # a load allocates the graph and every cache: see streams.collector
        tracker.observe(engine.load(valid_events(collection), input_offsets=offsets))
    loaded = time.perf_counter() - started
    path = store.save(SnapshotState(engine, tracker, dict(bounds.end), validator.content_by_event_id))
    # the group starts where the snapshot ends: the worker need not fetch the loaded log again only to skip it
    try:
        commit_offsets(settings, dict(bounds.end))
    except Exception as exc:  # noqa: BLE001 - the snapshot is written and valid; say what is missing
        print(f"the snapshot {path} is written and valid, but the group {settings.app_id!r} was not committed at "
              f"{bounds.end} ({type(exc).__name__}: {exc}; is a worker of this app id running?): its worker will "
              "read the loaded log again and skip it", file=sys.stderr)
        return 1
    rate = counts["read"] / loaded if loaded else 0.0
    print(f"loaded {counts['read']} events ({counts['invalid']} invalid, skipped) into "
          f"{engine.stats()['relations']} relations in {loaded:.1f}s ({rate:,.0f} ev/s); snapshot at offsets "
          f"{bounds.end}: {path} ({path.stat().st_size} bytes); the group {settings.app_id!r} committed there", file=sys.stderr)
    return 0
