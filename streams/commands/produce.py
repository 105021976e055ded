"""`coi-risk produce FILE.jsonl`: publish relationship events, keyed by relation id, with progress and a summary.

Lines are sent byte for byte: a line that is not a valid event is still published (unkeyed if no relation id can
be read) so the worker dead-letters it with its reason; the producer never decides validity.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path

from streams.config import add_connection_flags, settings_from_args


def register(subparsers) -> None:
    parser = subparsers.add_parser("produce", help="publish relationship events from a JSON-lines file")
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
    except (ValueError, UnicodeDecodeError):
        return None, "?"
    key = relation_id.encode() if isinstance(relation_id, str) and relation_id else None
    return key, str(relation_type)


def produce_lines(settings, lines, topic: str, progress: bool = True) -> dict:
    from kafka import KafkaProducer
    from tqdm import tqdm

    producer = KafkaProducer(acks="all", linger_ms=5, batch_size=256 * 1024, max_request_size=8 * 1024 * 1024,
                             client_id=f"{settings.app_id}-produce", **settings.kafka_python_options())
    by_type: Counter[str] = Counter()
    sent = unkeyed = size = 0
    started = time.perf_counter()
    try:
        for line in tqdm(lines, unit="ev", disable=not progress, file=sys.stderr, desc=f"-> {topic}"):
            line = line.rstrip(b"\r\n")
            if not line.strip():
                continue
            key, relation_type = relation_key(line)
            producer.send(topic, key=key, value=line)
            by_type[relation_type] += 1
            unkeyed += key is None
            sent += 1
            size += len(line)
        producer.flush()
    finally:
        producer.close()
    elapsed = time.perf_counter() - started
    return {"topic": topic, "sent": sent, "bytes": size, "unkeyed": unkeyed, "seconds": round(elapsed, 3),
            "events_per_second": round(sent / elapsed, 1) if elapsed else None, "by_relation_type": dict(by_type)}


def run(args) -> int:
    settings = settings_from_args(args)
    topic = args.topic or settings.events_topic
    source = sys.stdin.buffer if args.file == "-" else Path(args.file).open("rb")
    with source:
        summary = produce_lines(settings, source, topic, progress=not args.quiet)
    print(f"sent {summary['sent']} events ({summary['bytes']} bytes) to {topic} in {summary['seconds']}s; "
          f"{summary['unkeyed']} without a readable relation_id (the worker will dead-letter them)", file=sys.stderr)
    types = ", ".join(f"{name}={count}" for name, count in sorted(summary["by_relation_type"].items()))
    print(f"by relation type: {types}", file=sys.stderr)
    return 0
