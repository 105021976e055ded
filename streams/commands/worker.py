"""`coi-risk worker`: run the scoring worker until interrupted."""

from __future__ import annotations

import logging

from streams.config import add_connection_flags, add_worker_flags, settings_from_args


def register(subparsers) -> None:
    parser = subparsers.add_parser("worker", help="run the streaming worker (Faust) against Kafka")
    add_connection_flags(parser)
    add_worker_flags(parser)
    parser.add_argument("--loglevel", default="info", choices=["crit", "error", "warn", "info", "debug"])
    parser.set_defaults(func=run)


def run(args) -> int:
    settings = settings_from_args(args)
    return run_worker(settings, loglevel=args.loglevel)


def run_worker(settings, loglevel: str = "info") -> int:
    from faust.worker import Worker

    from streams.app import Pipeline
    from streams.topics import ensure_topics

    logging.getLogger(__name__).info("topics: %s", ensure_topics(settings))
    pipeline = Pipeline(settings)
    worker = Worker(pipeline.app, loglevel=loglevel, quiet=True, redirect_stdouts=False)
    # Faust's terminal spinner lowers the root logger to DEBUG so that every record ticks it: each aiokafka
    # send then builds a debug record nobody prints (5% of a worker's time in a profile).
    worker.spinner = None
    worker.execute_from_commandline()
    return 0
