"""`coi-risk worker`: run the scoring worker until interrupted."""

from __future__ import annotations

import logging

from streams.config import add_connection_flags, settings_from_args


def register(subparsers) -> None:
    parser = subparsers.add_parser("worker", help="run the streaming worker (Faust) against Kafka")
    add_connection_flags(parser)
    parser.add_argument("--web-port", type=int, help="HTTP port for /metrics, /healthz, /ready, /scores")
    parser.add_argument("--web-host", help="HTTP bind address")
    parser.add_argument("--app-id", help="Faust app id = consumer group id")
    parser.add_argument("--loglevel", default="info", choices=["crit", "error", "warn", "info", "debug"])
    parser.set_defaults(func=run)


def run(args) -> int:
    settings = settings_from_args(args, web_port=args.web_port, web_host=args.web_host, app_id=args.app_id)
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
