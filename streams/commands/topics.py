"""`coi-risk topics create|describe`: the pipeline's topics, with their configs."""

from __future__ import annotations

import json

from streams.config import add_connection_flags, settings_from_args


def register(subparsers) -> None:
    parser = subparsers.add_parser("topics", help="create or describe the pipeline's topics")
    add_connection_flags(parser)
    parser.add_argument("action", choices=["create", "describe"])
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(func=run)


def run(args) -> int:
    from streams.topics import describe_topics, ensure_topics

    settings = settings_from_args(args)
    if args.action == "create":
        for name, outcome in ensure_topics(settings).items():
            print(f"{name}: {outcome}")
        return 0
    described = describe_topics(settings)
    if args.json:
        print(json.dumps(described, indent=2))
        return 0
    for topic in described:
        config = ", ".join(f"{k}={v}" for k, v in sorted(topic["config"].items()))
        state = f"{topic['partitions']} partition(s); {config}" if topic["exists"] else "missing"
        print(f"{topic['name']}: {state}")
    return 0
