"""`coi-risk load [FILE]`: fill an engine from the input log at the bulk rate and write a snapshot the worker starts
from, so a register of millions of relations is loaded once and served at once.

    coi-risk load register.jsonl     # publish the file to the input topic, then build the snapshot from the log
    coi-risk load                    # build a snapshot from the input log as it is (a cold start, offline)

The log stays the source of truth: the file is published to the input topic (by a child process, on the other
core, while this one loads what reaches the log: the events are read back from the log, never from the file), the
snapshot is keyed to the log's end offsets once the file is published, and the app's consumer group is committed
there: the worker starts reading after the loaded
events, and a worker without the snapshot would rebuild the same graph from the log (its catch-up replays up to the
committed offsets). The events are
applied with `Engine.load` (graph first, then one rebuild of every score) instead of one rescoring per event.
What a bulk load does not do: publish scores or alerts for the loaded events (the worker starts after them; the
loaded register is a baseline, served on /scores). Invalid events are skipped, and dead-lettered by the load with
their reason as the worker would (the worker starts after them and never sees them); the first are printed.
Alerts open at the end of the load start their history there (episode 0).

It is for bootstrapping an app id whose worker has published nothing yet: alert ids and sequences depend on the
event-by-event history, which a bulk load does not reproduce, so on an app id whose group already committed
offsets (its alerts are out there) `load` refuses unless `--force`, and it refuses whenever a worker of the app id
is running (its group has members): that worker would apply the published events one by one and publish alerts
which the load's snapshot and record would then contradict. A running deployment gets its snapshots from
the worker itself; the worker's own cold start (no usable snapshot) replays event by event for the same reason.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from streams.commands.exits import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE
from streams.commands.inputs import refuse_non_events, refuse_unusable_input
from streams.config import add_connection_flags, add_scoring_flags


def register(subparsers) -> None:
    parser = subparsers.add_parser("load", help="bulk-load the input log (after publishing FILE) into a snapshot")
    add_connection_flags(parser)
    add_scoring_flags(parser)
    parser.add_argument("file", nargs="?", help="JSON-lines events to publish to the input topic first")
    parser.add_argument("--app-id", help="Faust app id whose worker will start from the snapshot")
    parser.add_argument("--snapshot-dir", help="default: the snapshot_dir setting (<data_dir>/snapshots)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--force", action="store_true",
                        help="load although the app id's consumer group has already committed offsets")
    parser.set_defaults(func=run)


def run(args) -> int:
    from streams.bulk import DeadLetters, bulk_apply, record_bulk_load
    from streams.render import printable
    from streams.commands.produce import report_failures
    from streams.commands.snapshot import cannot_write_snapshots, open_store
    from streams.log_reader import Bounds, open_consumer, read, read_while_written, resolve_bounds
    from streams.snapshots import SnapshotState

    if (refused := refuse_unusable_input(args.file, "load", reads_stdin=False)) is not None:
        return refused  # before anything is published or read
    if (refused := refuse_non_events(args.file, "load")) is not None:
        return refused
    settings, config, store = open_store(args)
    if (why := cannot_write_snapshots(store)) is not None:
        print(f"cannot load: {why}", file=sys.stderr)
        return EXIT_USAGE
    from streams.recovery import commit_offsets, committed_offsets, group_members, log_end_offsets

    # A worker of this app id that runs beside the load (even one that has committed nothing yet: an empty log)
    # applies the published events one by one and publishes their alerts, while the load's snapshot and record
    # would have the next start continue from the bulk load's alert history instead: conflicting alerts.
    if members := group_members(settings):
        print(f"a worker of {settings.app_id!r} is running (the consumer group has members: {', '.join(members)}; "
              "a worker stopped a moment ago stays one until its session times out): stop it before a bulk load",
              file=sys.stderr)
        return EXIT_USAGE
    committed = committed_offsets(settings)
    if committed and not args.force:
        print(f"the consumer group {settings.app_id!r} has already committed {committed}: its worker has published "
              "alerts whose ids a bulk load would not continue; use the worker's own snapshots, or --force",
              file=sys.stderr)
        return EXIT_USAGE
    # The end offsets the scores and the snapshot are stamped with; while a file is being published they are known
    # only when it is done, which is before the last event is read (the load stamps them in its final rebuild).
    offsets: dict[str, int] = {}
    if args.file:
        publishing = Publishing(settings, Path(args.file), progress=not args.quiet)
        try:
            start = publishing.wait_for_topic()
        except NotPublished as exc:
            return publishing.refuse(exc)
        end: dict[int, int] = {}

        def final_end() -> dict[int, int] | None:
            if not end:
                if not publishing.finished():
                    return None
                summary = publishing.summary
                print(f"published {summary['sent']} events to {settings.events_topic}", file=sys.stderr)
                not_sent = report_failures(summary, settings.events_topic)
                if not_sent:
                    raise NotPublished(not_sent)
                end.update(log_end_offsets(settings))
                offsets.update({str(partition): stop for partition, stop in end.items()})
            return end

        records = read_while_written(settings, settings.events_topic, start, final_end)
    else:
        consumer = open_consumer(settings)
        try:
            bounds = resolve_bounds(consumer, settings.events_topic)
        except LookupError as exc:
            print(f"cannot load: {exc}", file=sys.stderr)
            return EXIT_USAGE
        finally:
            consumer.close()
        offsets.update({str(partition): stop for partition, stop in bounds.end.items()})
        records = read(settings, settings.events_topic, bounds)
    started = time.perf_counter()
    # the invalid events' dead letters, as the worker would publish them: it starts after the loaded range
    letters = DeadLetters(settings)
    try:
        engine, tracker, applied = bulk_apply(settings, config, records, offsets, on_rejected=letters)
    except NotPublished as exc:
        letters.close(_ANSWER_TIMEOUT_S)  # of records in the log all the same
        return publishing.refuse(exc)
    except KeyboardInterrupt:
        letters.close(5.0)
        published = ""
        if args.file:
            publishing.stop()
            published = ("; part of the file may have reached the log: a worker started now applies it event by event, "
                         f"and `coi-risk load {args.file}` again publishes it whole (lines published twice are "
                         "applied once)")
        print(f"interrupted: no record, snapshot or commit written{published}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BaseException:
        letters.close(5.0)
        raise
    if args.file:
        bounds = Bounds(start=start, end=end)
    loaded = time.perf_counter() - started
    not_stored = letters.close(_ANSWER_TIMEOUT_S)
    if applied.invalid:
        print(f"{applied.invalid} invalid events ("
              + ", ".join(f"{reason} {count}" for reason, count in sorted(applied.rejected.items()))
              + f") dead-lettered to {settings.dead_letter_topic!r}, as the worker does; the first:", file=sys.stderr)
        for record, rejection in letters.examples:
            print(f"  {record.topic}:{record.partition}:{record.offset}: {rejection.reason.value}: "
                  f"{printable(rejection.message)}", file=sys.stderr)
    if not_stored:
        print(f"{len(not_stored)} dead letter(s) did not reach {settings.dead_letter_topic!r} (the first: "
              f"{printable(not_stored[0])}); no record, snapshot or commit written: load again", file=sys.stderr)
        return EXIT_FAILED
    # again before anything is written: a worker that started during the load is applying the same events itself
    members, committed_now = group_members(settings), committed_offsets(settings)
    if members or committed_now != committed:
        print(f"a worker of {settings.app_id!r} started during the load ("
              + (f"members: {', '.join(members)}" if members else f"the group committed {committed_now}")
              + "): it applies the log event by event and publishes its alerts itself; no record, snapshot or "
              "commit written", file=sys.stderr)
        return EXIT_USAGE
    # Recorded before the snapshot is written, and the snapshot before the group is committed: a worker that ever
    # has to start from the log's start (its snapshots lost) reproduces this load from the record, and continues
    # under the alert ids this load's worker publishes. A snapshot of the loaded state without the record (the record
    # refused, or the load killed in between) would be started from, and its worker's alerts never reproduced.
    try:
        record_bulk_load(settings, bounds.start, bounds.end, applied, store.identity.config_hash)
    except Exception as exc:  # noqa: BLE001 - nothing is written: say so
        print(f"the load could not be recorded in {settings.bulk_loads_topic!r} ({type(exc).__name__}: {exc}); "
              f"no snapshot was written and the group {settings.app_id!r} was not committed: load again",
              file=sys.stderr)
        return EXIT_FAILED
    try:
        path = store.save(SnapshotState(engine, tracker, dict(bounds.end), dict(applied.last_records)))
    except Exception as exc:  # noqa: BLE001 - the record stands: a worker reproduces the load from it
        print(f"the load is recorded in {settings.bulk_loads_topic!r}, but its snapshot could not be written to "
              f"{store.directory} ({type(exc).__name__}: {exc}); the group {settings.app_id!r} was not committed: a "
              "worker reproduces the load from the record at its start (as slow as this load), or load again",
              file=sys.stderr)
        return EXIT_FAILED
    # the group starts where the snapshot ends: the worker need not fetch the loaded log again only to skip it
    try:
        commit_offsets(settings, dict(bounds.end))
    except Exception as exc:  # noqa: BLE001 - the snapshot is written and valid; say what is missing
        print(f"the snapshot {path} is written and valid, but the group {settings.app_id!r} was not committed at "
              f"{bounds.end} ({type(exc).__name__}: {exc}; is a worker of this app id running?): its worker will "
              "read the loaded log again and skip it", file=sys.stderr)
        return EXIT_FAILED
    rate = applied.read / loaded if loaded else 0.0
    print(f"loaded {applied.read} events ({applied.invalid} invalid, dead-lettered) into "
          f"{engine.stats()['relations']} relations in {loaded:.1f}s ({rate:,.0f} ev/s); snapshot at offsets "
          f"{bounds.end}: {path} ({path.stat().st_size} bytes); the group {settings.app_id!r} committed there", file=sys.stderr)
    return 0


_ANSWER_TIMEOUT_S = 120.0  # for the broker's acknowledgement of the dead letters


class NotPublished(Exception):
    """The file did not reach the log completely: a snapshot of part of it would not be the log the worker reads."""

    def __init__(self, exit_code: int, why: str = "", refused: bool = False):
        super().__init__(why)
        # refused: the file is no relationship events (said by the publishing process); nothing of it was published
        self.exit_code, self.why, self.refused = exit_code, why, refused


class Publishing:
    """The file published to the input topic by a child process (`produce_lines`, with its checks and its report of
    lines not sent), so that publishing and loading each have a core: kafka-python's producer costs about 50 us of
    CPU an event, a fifth of a bulk load's time when they ran one after the other."""

    def __init__(self, settings, path: Path, progress: bool):
        import multiprocessing

        context = multiprocessing.get_context("spawn")  # a clean interpreter: no inherited client threads or sockets
        self._answers, answer = context.Pipe(duplex=False)
        self._process = context.Process(target=_publish, args=(settings, str(path), progress, answer),
                                        name="coi-risk-load-publish", daemon=True)
        self._process.start()
        answer.close()
        self._settings = settings
        self.summary: dict | None = None

    def finished(self) -> bool:
        """True once the child has reported; NotPublished if it stopped without a report."""
        if self.summary is None:
            try:
                if self._answers.poll():  # also true once the child's end is closed: it exited
                    self.summary = self._answers.recv()
                    self._process.join()
            except EOFError:
                pass
            else:
                if self.summary is None and self._process.is_alive():
                    return False
            if self.summary is None:
                self._process.join()
                raise NotPublished(EXIT_FAILED, f"the publishing process stopped (exit code "
                                                f"{self._process.exitcode}) before it reported")
        if "refused" in self.summary:
            raise NotPublished(self.summary["refused"], refused=True)
        return True

    def wait_for_topic(self, timeout_s: float = 120.0) -> dict[int, int]:
        """The first offset of each partition of the input topic, once it exists (publishing may create it)."""
        from streams.log_reader import open_consumer, partitions_of

        consumer = open_consumer(self._settings)
        deadline = time.monotonic() + timeout_s
        try:
            while True:
                try:
                    partitions = partitions_of(consumer, self._settings.events_topic)
                    return {tp.partition: offset for tp, offset in consumer.beginning_offsets(partitions).items()}
                except LookupError:
                    if self.finished() or time.monotonic() > deadline:
                        raise NotPublished(EXIT_FAILED, f"the topic {self._settings.events_topic!r} does not "
                                                        "exist") from None
                    time.sleep(0.2)  # `partitions_of` asks the broker again
        finally:
            consumer.close()

    def stop(self) -> None:
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()

    def refuse(self, exc: NotPublished) -> int:
        self.stop()
        if exc.refused:
            return exc.exit_code  # the publishing process said why
        if exc.why:
            print(exc.why, file=sys.stderr)
        print("not loading: publish the file completely first (the lines that reached the log stay there: publish "
              "the others, fixed, with `coi-risk produce`, then `coi-risk load` without FILE loads the log as it is; "
              "`coi-risk load FILE` again would publish every line a second time)", file=sys.stderr)
        return exc.exit_code


def _publish(settings, path: str, progress: bool, answer) -> None:
    from streams.commands.inputs import checked_lines
    from streams.commands.produce import produce_lines

    with Path(path).open("rb") as source:
        # a pipe (`coi-risk load <(zcat f)`), which the parent could not look at without taking its lines: checked as
        # it is read here, before any of it reaches the input log
        lines, refused = checked_lines(path, source, "load")
        answer.send({"refused": refused} if refused is not None else
                    produce_lines(settings, lines, settings.events_topic, progress=progress))
    answer.close()
