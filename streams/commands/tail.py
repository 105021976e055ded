"""`coi-risk tail alerts|scores|dead-letters`: follow an output topic, readable or as JSON lines."""

from __future__ import annotations

import argparse
import sys
import time

from schemas import Alert, DeadLetter, RiskScore
from streams.config import add_connection_flags, settings_from_args
from streams.render import render_alert, render_dead_letter, render_score

_KINDS = {
    "alerts": ("alerts_topic", Alert, render_alert),
    "scores": ("scores_topic", RiskScore, render_score),
    "dead-letters": ("dead_letter_topic", DeadLetter, render_dead_letter),
}


def register(subparsers) -> None:
    parser = subparsers.add_parser("tail", help="follow alerts, scores or dead letters")
    add_connection_flags(parser)
    parser.add_argument("kind", choices=sorted(_KINDS))
    parser.add_argument("--topic", help="the topic to follow (default: the setting of its kind, e.g. alerts_topic; "
                                        "`coi-risk demo` writes demo.coi-alerts, demo.coi-scores...)")
    parser.add_argument("--json", action="store_true", help="print the raw JSON value, one per line")
    parser.add_argument("--from-beginning", action="store_true", help="start at the oldest retained message")
    parser.add_argument("--max", type=_positive(int), default=None, help="stop after N messages")
    parser.add_argument("--idle-timeout", type=_positive(float), default=None,
                        help="stop after S seconds without messages")
    parser.set_defaults(func=run)


def _positive(kind):
    """An argparse type: a number above 0 (0 or less read as "no limit", or stopped after the first message)."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not 0 < value < float("inf"):
            raise argparse.ArgumentTypeError(f"expected a number above 0, got {text!r}")
        return value
    return parse


def topic_of(settings, kind: str, topic: str | None = None) -> str:
    """The topic `tail` follows for `kind`: `topic` when given, else the setting of that kind."""
    return topic or getattr(settings, _KINDS[kind][0])


class TopicMissing(Exception):
    """The topic did not exist within the idle timeout."""


def follow(settings, kind: str, from_beginning: bool, idle_timeout: float | None = None, topic: str | None = None,
           waiting=None, strict: bool = False):
    """Yields (raw bytes, parsed model) from the topic of `kind` (or `topic`), forever or until idle. While the
    topic does not exist, `waiting(topic)` is called once; with `strict`, a topic still missing when the idle
    timeout ends raises `TopicMissing` (else the generator just ends)."""
    for _, raw, item in follow_kinds(settings, {kind: topic_of(settings, kind, topic)}, from_beginning, idle_timeout,
                                     waiting, strict):
        yield raw, item


def follow_kinds(settings, topics: dict[str, str], from_beginning: bool, idle_timeout: float | None = None,
                 waiting=None, strict: bool = False):
    """Yields (kind, raw bytes, parsed model) from the topics of several kinds (kind -> topic) at once, as they
    arrive, with `follow`'s waiting for topics that do not exist yet and its idle timeout (no message on any)."""
    from kafka import KafkaConsumer

    kind_of = {topic: kind for kind, topic in topics.items()}
    consumer = KafkaConsumer(group_id=None, enable_auto_commit=False,
                             auto_offset_reset="earliest" if from_beginning else "latest",
                             consumer_timeout_ms=int(idle_timeout * 1000) if idle_timeout else float("inf"),
                             **settings.kafka_python_options())
    try:
        # Subscribing to a missing topic makes the broker auto-create it with its defaults (not compacted, 7 days,
        # 1 partition), which the worker's `ensure_topics` never alters; kafka-python 3.0 ignores
        # allow_auto_create_topics=False. So wait until the topics exist (asking for all topics creates none).
        deadline = time.monotonic() + idle_timeout if idle_timeout else None
        told = set()
        while missing := [topic for topic in kind_of if not consumer.partitions_for_topic(topic)]:
            for topic in missing:
                if waiting is not None and topic not in told:
                    waiting(topic)
                    told.add(topic)
            if deadline is not None and time.monotonic() >= deadline:
                if strict:
                    raise TopicMissing(missing[0])
                return
            time.sleep(0.5)
        consumer.subscribe(list(kind_of))
        for message in consumer:
            if message.value is None:
                continue
            kind = kind_of[message.topic]
            yield kind, message.value, _KINDS[kind][1].model_validate_json(message.value)
    finally:
        consumer.close()


def run(args) -> int:
    settings = settings_from_args(args)
    render = _KINDS[args.kind][2]

    def waiting(topic: str) -> None:
        print(f"coi-risk: topic {topic} does not exist (yet): waiting for a worker to create it (another topic: "
              "--topic, or the setting; the demo's are demo.coi-*)", file=sys.stderr, flush=True)

    if not args.from_beginning:  # an operator's review read "nothing" where letters were there from before
        print(f"coi-risk: following {topic_of(settings, args.kind, args.topic)} from now on (those already there: "
              "--from-beginning)", file=sys.stderr, flush=True)
    messages = follow(settings, args.kind, args.from_beginning, args.idle_timeout, args.topic, waiting, strict=True)
    try:
        for count, (raw, item) in enumerate(messages, 1):
            print(raw.decode() if args.json else render(item) + "\n", flush=True)
            if args.max and count >= args.max:
                break
    except TopicMissing as missing:
        print(f"coi-risk: topic {missing} does not exist: no worker of these settings has created it (nothing to "
              "follow)", file=sys.stderr)
        return 1
    return 0
