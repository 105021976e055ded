"""`coi-risk score FILE.jsonl`: run the scoring engine in-process over a file of relationship events and print the
ranked pairs with their explanations. No Kafka: this is the engine alone, for analysts and for checking a data set.

    coi-risk score examples/binance-wlfi.jsonl
    coi-risk score events.jsonl --as-of 2024-12-31 --min-band medium --json

Lines that are not valid events are reported on stderr (line number and reason) and skipped.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from schemas.outputs import Band, RiskScore
from schemas.validation import EventRejected, parse_event
from scoring import Engine
from scoring.resolution import ResolvingEngine
from scoring.config import BAND_ORDER
from streams.commands.exits import EXIT_USAGE
from streams.commands.inputs import checked_lines, refuse_unusable_input, validity_date, without_byte_order_mark
from streams.config import SettingsError, load_scoring_config
from streams.render import printable, render_ranking

_BAND_NAMES = [band.value for band in Band]
EXIT_REJECTED_LINES = 1  # as `export-ftm` and `export-bods`


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "score", help="score a JSONL file of relationship events in-process (no Kafka)",
        description="Apply the events of FILE to the scoring engine and print the ranked pairs with explanations.")
    parser.add_argument("file", metavar="FILE.jsonl", help="relationship events, one JSON object per line ('-': stdin)")
    parser.add_argument("--as-of", type=validity_date, metavar="DATE",
                        help="read the graph as of this validity date (default: the latest observed_at in the file)")
    parser.add_argument("--json", action="store_true", help="print one RiskScore JSON object per line")
    parser.add_argument("--scoring-config", "--config", dest="config", metavar="FILE",
                        help="YAML overriding scoring/defaults.yaml (--config is its older name)")
    parser.add_argument("--min-band", choices=_BAND_NAMES, default="low",
                        help="print pairs from this band upwards (default: low)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if (refused := refuse_unusable_input(args.file, "score")) is not None:
        return refused
    try:
        config = load_scoring_config(args.config, "--scoring-config")
    except SettingsError as exc:
        print(f"coi-risk score: {exc}", file=sys.stderr)
        return EXIT_USAGE
    engine = ResolvingEngine(config, as_of=args.as_of)  # the resolved graph: judgements in FILE merge ids
    try:
        stream = sys.stdin.buffer if args.file == "-" else open(args.file, "rb")
    except OSError as exc:
        print(f"coi-risk score: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    applied = rejected = 0
    with stream:
        # a file that is no events at all (FtM, BODS, CSV: its first lines say so) is one line, not a rejection a line
        lines, refused = checked_lines(args.file, stream, "score")
        if refused is not None:
            return refused
        for number, line in enumerate(lines, start=1):
            line = without_byte_order_mark(line, number)
            if not line.strip():
                continue
            line = line.rstrip(b"\r\n")
            try:
                event = parse_event(line)
            except EventRejected as rejection:
                print(f"{args.file}:{number}: {rejection.reason.value}: {printable(rejection.message)}",
                      file=sys.stderr)
                rejected += 1
                continue
            engine.apply(event, raw=line)
            applied += 1
    floor = BAND_ORDER[Band(args.min_band)]
    ranked = [s for s in engine.scores() if BAND_ORDER[s.band] >= floor]
    if args.json:
        for score in ranked:
            sys.stdout.write(score.model_dump_json() + "\n")
    else:
        sys.stdout.write(render_report(ranked, engine, applied, rejected))
    # the scores are those of the lines that applied: a script must not take them for the whole file's
    return EXIT_REJECTED_LINES if rejected else 0


def render_report(ranked: list[RiskScore], engine: Engine | ResolvingEngine, applied: int, rejected: int) -> str:
    day = engine.as_of or (engine.clock.date() if engine.clock else None)
    head = (f"{applied} events applied, {rejected} rejected; graph read as of {day or '-'} "
            f"({engine.stats()['relations']} relations, {engine.stats()['nodes']} entities)\n\n")
    return head + (render_ranking(ranked) if ranked else "No pair scores in the selected bands.\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="coi-risk")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["score", *(argv if argv is not None else sys.argv[1:])])
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
