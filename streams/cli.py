"""The `coi-risk` command line. Each subcommand lives in its own module and registers itself here."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from streams.commands.exits import EXIT_BROKEN_PIPE, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE

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


_UNREACHABLE_HINT = ("is the broker running, and is this its address? (--bootstrap-servers, COI_BOOTSTRAP_SERVERS or "
                     "KAFKA_BOOTSTRAP_SERVERS; none set: the local broker, `coi-risk broker start`)")


def _unreachable_hint(args) -> str:
    """Which address was tried, and where it came from (a user who gave one read "none set" as "ignored")."""
    if getattr(args, "bootstrap_servers", None):
        return f"is the broker running at the address given (--bootstrap-servers {args.bootstrap_servers})?"
    for name in ("COI_BOOTSTRAP_SERVERS", "KAFKA_BOOTSTRAP_SERVERS"):
        if os.environ.get(name):
            return f"is the broker running at the address given ({name}={os.environ[name]})?"
    return _UNREACHABLE_HINT


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    name = f"coi-risk {args.command}"
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # here, not at exit: a reader gone by then is answered below too
        return code
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except Exception as exc:  # noqa: BLE001 - only the kinds below are answered here; the rest go on as they were
        from streams.config import SettingsError

        if isinstance(exc, SettingsError):
            print(f"{name}: {exc}", file=sys.stderr)
            return EXIT_USAGE
        if _is_kafka_error(exc):
            text = " ".join(str(exc).split()) or type(exc).__name__
            unreachable = "bootstrap" in text.lower() or type(exc).__name__ == "NoBrokersAvailable"
            print(f"{name}: Kafka: {text}" + (f"; {_unreachable_hint(args)}" if unreachable else ""), file=sys.stderr)
            return EXIT_FAILED
        if isinstance(exc, OSError) and exc.filename is not None:
            print(f"{name}: {exc.filename}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_FAILED
        raise


def _is_kafka_error(exc: BaseException) -> bool:
    """Whether `exc` is a kafka-python error; without importing the client where no command loaded it."""
    errors = sys.modules.get("kafka.errors")
    return errors is not None and isinstance(exc, errors.KafkaError)


def _silence_stdout() -> None:
    """After the reader of stdout closed it: no second BrokenPipeError when Python flushes stdout at exit."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout replaced (tests) or already closed
        pass


if __name__ == "__main__":
    sys.exit(main())
