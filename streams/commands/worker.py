"""`coi-risk worker`: run the scoring worker until interrupted."""

from __future__ import annotations

import logging
import sys

from streams.config import add_connection_flags, add_scoring_flags, add_worker_flags, settings_from_args

# EX_UNAVAILABLE: a supervisor restarting the worker gets a distinct code for "Kafka not usable as configured"
EXIT_KAFKA_NOT_USABLE = 69


def register(subparsers) -> None:
    parser = subparsers.add_parser("worker", help="run the streaming worker (Faust) against Kafka")
    add_connection_flags(parser)
    add_worker_flags(parser)
    add_scoring_flags(parser)
    parser.add_argument("--loglevel", default="info", choices=["crit", "error", "warn", "info", "debug"])
    parser.set_defaults(func=run)


def run(args) -> int:
    settings = settings_from_args(args)
    return run_worker(settings, loglevel=args.loglevel)


def run_worker(settings, loglevel: str = "info") -> int:
    from faust.worker import Worker

    from streams.app import Pipeline
    from streams.client_logs import limit_client_logs
    from streams.preflight import KafkaNotUsable, wait_for_kafka
    from streams.topics import ensure_topics

    say = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731 - before Faust sets up logging
    limit_client_logs()
    pipeline = Pipeline(settings)
    pipeline.time_collections()
    pipeline.prefetch_snapshot()  # loads while the worker connects, starts and joins its group
    try:
        wait_for_kafka(settings, say=say)
    except KafkaNotUsable as exc:
        say(f"error: {exc}")
        return EXIT_KAFKA_NOT_USABLE
    logging.getLogger(__name__).info("topics: %s", ensure_topics(settings))
    worker = Worker(pipeline.app, loglevel=loglevel, quiet=True, redirect_stdouts=False)
    # Faust's terminal spinner lowers the root logger to DEBUG so that every record ticks it: each aiokafka
    # send then builds a debug record nobody prints (5% of a worker's time in a profile).
    worker.spinner = None
    worker.execute_from_commandline()
    return 0
