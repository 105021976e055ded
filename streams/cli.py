"""The `coi-risk` command line. Each subcommand lives in its own module and registers itself here."""

from __future__ import annotations

import argparse
import importlib
import sys

# each module registers one or more subcommands; they import their heavy dependencies lazily
_COMMAND_MODULES = (
    "streams.broker",
    "streams.commands.schema",
    "streams.commands.importer",
    "streams.commands.ftm",
    "streams.commands.bods",
    "streams.commands.score",
    "streams.commands.suggest",
    "streams.commands.review",
    "streams.commands.worker",
    "streams.commands.produce",
    "streams.commands.tail",
    "streams.commands.topics",
    "streams.commands.replay",
    "streams.commands.audit",
    "streams.commands.demo",
    "streams.commands.snapshot",
    "streams.commands.load",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="coi-risk", description="Conflict-of-interest risk scoring on Kafka.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in _COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
