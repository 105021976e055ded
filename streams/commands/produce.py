"""`coi-risk produce FILE.jsonl`: publish relationship events, keyed by relation id, with progress and a summary.

Lines are sent byte for byte (but for a UTF-8 byte-order mark starting the file, which is the file's): a line that
is not a valid event is still published (unkeyed if no relation id can be read) so the worker dead-letters it with
its reason; the producer never decides validity. A file that is no events at all (CSV rows, FtM entities, BODS
statements: its first lines say so, `inputs.not_relationship_events`) is refused whole before anything is sent. What
it does decide is transport: a line over `max_message_bytes` is refused up front (the broker would refuse it), every send is
checked against the broker's acknowledgement, and each line that did not reach the topic is reported by number,
with exit status 1. The other lines still go: versions of a relation are ordered by `observed_at`, not by arrival,
so re-sending the failed lines later gives the same graph as if they had gone in order.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path

from streams.commands.exits import EXIT_INTERRUPTED
from streams.commands.inputs import checked_lines, refuse_non_events, refuse_unusable_input, without_byte_order_mark
from streams.config import add_connection_flags, settings_from_args
from streams.producer import Acknowledgements, open_producer

EXIT_SOME_LINES_NOT_SENT = 1
_FAILURES_SHOWN = 20
_ANSWER_TIMEOUT_S = 120.0


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "produce", help="publish relationship events from a JSON-lines file",
        description="Publish one event per line. Every send is checked: a line over max_message_bytes (default "
                    "1,000,000; COI_MAX_MESSAGE_BYTES) is refused before sending, a line the broker does not "
                    "acknowledge is reported with its line number, and the other lines still go. Exit status 1 "
                    "when any line did not reach the topic.")
    add_connection_flags(parser)
    parser.add_argument("file", help="JSON lines, one relationship event per line ('-' for stdin)")
    parser.add_argument("--topic", help="override the input topic")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def relation_key(line: bytes) -> tuple[bytes | None, str]:
    """The Kafka key (relation id) and relation type of a line, or (None, '?') when unreadable."""
    try:
        document = json.loads(line)
        relation_id = document.get("relation_id") if isinstance(document, dict) else None
        relation_type = document.get("relation_type", "?") if isinstance(document, dict) else "?"
    except (ValueError, UnicodeDecodeError, RecursionError):  # the worker dead-letters it with its reason
        return None, "?"
    key = relation_id.encode() if isinstance(relation_id, str) and relation_id else None
    return key, str(relation_type)


def _not_stored(exc: BaseException) -> str:
    return f"not stored by the broker: {type(exc).__name__}: {exc}"


def _request_limit(settings) -> int:
    """The client's request limit for `produce`: above the line limit (a key and record overhead come on top), so
    that the broker stays the judge of what it stores. Not the worker's and the load's (max_message_bytes plus
    RECORD_OVERHEAD_BYTES, what the output topics are created to hold): the input topic is created with no
    max.message.bytes of its own (streams.topics), and a line under max_message_bytes with a long key must reach
    the broker, which answers for every line, not be refused by the client."""
    return 2 * settings.max_message_bytes


def _answers(acks: Acknowledgements) -> tuple[list[tuple[int, bytes | None, bytes]], list[tuple[int, str]]]:
    """(the lines whose batch the broker refused as too large, to be sent again alone: number, key, line), and the
    other lines it did not store, with why, in line order."""
    from kafka.errors import MessageSizeTooLargeError

    too_large, failed = [], []
    with acks.lock:
        for number, kept, exc in sorted(acks.failed, key=lambda failure: failure[0]):
            if isinstance(exc, MessageSizeTooLargeError):
                # the broker refuses a whole batch when it is over its limit: maybe one line, maybe the batch
                too_large.append((number, *kept))
            else:
                failed.append((number, _not_stored(exc)))
    return too_large, failed


def _resend_alone(settings, topic: str, too_large: list[tuple[int, bytes | None, bytes]],
                  failed: list[tuple[int, str]], acks: Acknowledgements) -> None:
    """Sends each line of a batch the broker refused as too large again, one at a time, so that only the lines
    over the broker's limit fail. A fresh client after each refusal: kafka-python's (3.0) refuses every later send
    to the partition once the broker has refused one as too large."""
    from kafka.errors import KafkaError

    def new_producer():
        return open_producer(settings, "produce", max_request_size=_request_limit(settings))

    # each line leaves `too_large` once it is settled (in line order): after a Ctrl-C the first left is the one
    # being sent
    producer = new_producer()
    try:
        while too_large:
            number, key, line = too_large[0]
            try:
                producer.send(topic, key=key, value=line).get(timeout=_ANSWER_TIMEOUT_S)
                with acks.lock:
                    acks.stored += 1
            except KafkaError as exc:
                failed.append((number, _not_stored(exc)))
                producer.close()
                producer = new_producer()
            too_large.pop(0)
    finally:
        producer.close()


def produce_lines(settings, lines, topic: str, progress: bool = True) -> dict:
    from kafka.errors import KafkaError
    from tqdm import tqdm

    from kafka.errors import ClusterAuthorizationFailedError, TopicAuthorizationFailedError

    from streams.topics import ensure_topics

    # Publishing to a missing topic lets the broker create it with its own defaults (7 days' retention, the
    # producer's timestamps), which `ensure_topics` never alters afterwards: the log the worker rebuilds from would
    # lose its events after a week. So it is created here with the input topic's configs first.
    try:
        ensure_topics(settings.model_copy(update={"events_topic": topic}), roles=("events",))
    except (TopicAuthorizationFailedError, ClusterAuthorizationFailedError):
        pass  # not ours to create: whoever may creates it (`coi-risk topics create`); we publish as before
    limit = settings.max_message_bytes
    # every send is checked against the broker's answer (`acks`)
    producer = open_producer(settings, "produce", max_request_size=_request_limit(settings), linger_ms=5,
                             batch_size=256 * 1024)
    acks = Acknowledgements()
    refused: list[tuple[int, str]] = []
    by_type: Counter[str] = Counter()
    attempted = unkeyed = size = last = 0
    current: int | None = None  # the line being handed to the producer (for a Ctrl-C in the middle of it)
    interrupted = False
    started = time.perf_counter()

    def offer(number: int, line: bytes) -> None:
        nonlocal attempted, unkeyed, size
        line = without_byte_order_mark(line, number).rstrip(b"\r\n")
        if not line.strip():
            return
        if len(line) > limit:
            refused.append((number, f"refused: {len(line):,} bytes is over max_message_bytes ({limit:,}); not sent"))
            return
        key, relation_type = relation_key(line)
        try:
            future = producer.send(topic, key=key, value=line)
        except Exception as exc:  # noqa: BLE001 - the client refused it before sending; report and go on
            refused.append((number, f"not sent: {type(exc).__name__}: {exc}"))
            return
        acks.track(number, future, (key, line))
        by_type[relation_type] += 1
        unkeyed += key is None
        attempted += 1
        size += len(line)

    read_to_end = waiting_interrupted = False
    try:
        try:
            for number, line in enumerate(tqdm(lines, unit="ev", disable=not progress, file=sys.stderr,
                                               desc=f"-> {topic}"), start=1):
                current = number
                offer(number, line)
                current, last = None, number
            read_to_end = True
        except KeyboardInterrupt:  # Ctrl-C: what was handed to the producer is still sent, checked and reported
            interrupted = True
        try:
            try:
                producer.flush(timeout=_ANSWER_TIMEOUT_S)
            except KafkaError:
                pass  # kafka-python's flush can give up on a batch it split and resent; the per-line answers decide
            unanswered = acks.wait(_ANSWER_TIMEOUT_S)
        except KeyboardInterrupt:  # Ctrl-C while waiting for the broker's answers, after the input's end too
            interrupted = waiting_interrupted = True
    finally:
        try:
            producer.close()  # sends what is left and waits for the answers (a Ctrl-C while it does stops that)
        except KeyboardInterrupt:
            interrupted = waiting_interrupted = True
    if waiting_interrupted:  # the lines still without an answer, once the producer has stopped
        unanswered = acks.unanswered()
    too_large, failed = _answers(acks)
    resending_interrupted = False
    if too_large and not waiting_interrupted:
        try:
            _resend_alone(settings, topic, too_large, failed, acks)
        except KeyboardInterrupt:
            interrupted = resending_interrupted = True
    elapsed = time.perf_counter() - started
    not_sent_again = [(number, "its batch was over the broker's limit, and a Ctrl-C came before it was sent again "
                               "alone: not stored") for number, *_ in too_large]
    if resending_interrupted:
        not_sent_again[0] = (not_sent_again[0][0], "interrupted (Ctrl-C) while it was sent again alone (its batch was "
                                                   "over the broker's limit): it may or may not be stored")
    failures = sorted(refused + failed + not_sent_again + [
        (number, "interrupted (Ctrl-C) before the broker answered: it may or may not be stored" if waiting_interrupted
         else f"no answer from the broker within {_ANSWER_TIMEOUT_S:.0f}s; it may or may not be stored")
        for number in unanswered])
    if interrupted and current is not None:
        failures.append((current, "interrupted here (Ctrl-C): this line may or may not be stored; no later line was "
                                  "sent"))
    elif interrupted and not read_to_end:
        failures.append((last + 1, "interrupted (Ctrl-C) before this line: neither it nor any later line was sent"))
    return {"topic": topic, "sent": acks.stored, "attempted": attempted, "bytes": size, "unkeyed": unkeyed,
            "seconds": round(elapsed, 3), "events_per_second": round(acks.stored / elapsed, 1) if elapsed else None,
            "by_relation_type": dict(by_type), "failures": failures, "interrupted": interrupted}


def run(args) -> int:
    # before connecting: a compressed file's bytes, or a file of CSV rows or FtM entities, never reach the input
    # log, which is kept for ever (every replay would dead-letter them again)
    if (refused := refuse_unusable_input(args.file, "produce")) is not None:
        return refused
    if (refused := refuse_non_events(args.file, "produce")) is not None:
        return refused
    settings = settings_from_args(args)
    topic = args.topic or settings.events_topic
    source = sys.stdin.buffer if args.file == "-" else Path(args.file).open("rb")
    with source:
        lines, refused = checked_lines(args.file, source, "produce")  # a pipe: its first lines, as they come
        if refused is not None:
            return refused
        summary = produce_lines(settings, lines, topic, progress=not args.quiet)
    print(f"sent {summary['sent']} events ({summary['bytes']} bytes) to {topic} in {summary['seconds']}s; "
          f"{summary['unkeyed']} without a readable relation_id (the worker will dead-letter them)", file=sys.stderr)
    types = ", ".join(f"{name}={count}" for name, count in sorted(summary["by_relation_type"].items()))
    print(f"by relation type: {types}", file=sys.stderr)
    return report_failures(summary, topic)


def report_failures(summary: dict, topic: str) -> int:
    """Every command that publishes through `produce_lines` ends here: the lines that did not reach the topic, and
    the exit code (0, EXIT_SOME_LINES_NOT_SENT, or EXIT_INTERRUPTED after a Ctrl-C, wherever it came)."""
    failures = summary["failures"]
    if summary.get("interrupted"):
        # after the input's end a Ctrl-C may leave no line unreported (every answer came before the producer
        # stopped); it is still no success: a script must not take an interrupted run for a completed one
        print(f"interrupted (Ctrl-C): {summary['sent']} of {summary['attempted']} events handed to the producer "
              f"reached {topic}", file=sys.stderr)
    if failures:
        print(f"{len(failures)} line(s) did NOT reach {topic}; the others were sent:", file=sys.stderr)
        for number, why in failures[:_FAILURES_SHOWN]:
            print(f"  line {number}: {why}", file=sys.stderr)
        if len(failures) > _FAILURES_SHOWN:
            print(f"  ... and {len(failures) - _FAILURES_SHOWN} more", file=sys.stderr)
            if summary.get("interrupted"):
                print(f"  line {failures[-1][0]}: {failures[-1][1]}", file=sys.stderr)
    if summary.get("interrupted"):
        return EXIT_INTERRUPTED
    return EXIT_SOME_LINES_NOT_SENT if failures else 0
