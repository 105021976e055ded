"""`coi-risk export-bods EVENTS.jsonl`: the indirect ownership stakes the engine computes, as BODS 0.4 statements.

Registers declare direct interests; the engine multiplies and adds them along chains (scoring.ownership, under the
configured rule). This writes every stake an owner holds through a chain of two or more ownership hops as a
`directOrIndirect: indirect` shareholding, with the rule and the chains in the interest's `details`. Importing the
export next to the events it came from would count those stakes twice: it is for registers and analysts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

from schemas.validation import EventRejected, parse_event
from streams.commands.inputs import refuse_unusable_input, validity_date
from streams.render import printable


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export-bods", help="relationship events -> BODS 0.4 statements of the computed indirect stakes",
        description="Apply the events to the scoring engine and write the indirect ownership stakes it computes as "
                    "a BODS 0.4 JSON array on stdout.")
    parser.add_argument("file", metavar="FILE.jsonl", help="relationship events, one a line ('-' for stdin)")
    parser.add_argument("--as-of", type=validity_date, metavar="DATE",
                        help="read the graph on this date (default: the latest observed_at in the file)")
    parser.add_argument("--scoring-config", "--config", dest="config", metavar="FILE",
                        help="YAML overriding scoring/defaults.yaml, e.g. the rule (--config is its older name)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from schemas.bods import ComputedStake, bods_from_stakes
    from schemas.vocabulary import RelationType
    from scoring import Engine
    from scoring.ownership import held_at, stake_on
    from streams.config import load_scoring_config

    if (refused := refuse_unusable_input(args.file, "export-bods")) is not None:
        return refused
    config = load_scoring_config(args.config, "--scoring-config")
    engine = Engine(config, as_of=args.as_of)
    refs: dict[str, dict] = {}
    owners: set[str] = set()
    rejected = 0
    stream = sys.stdin.buffer if args.file == "-" else open(args.file, "rb")
    with stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                event = parse_event(line.rstrip(b"\r\n"))
            except EventRejected as exc:
                rejected += 1
                print(f"line {number}: {exc.reason.value}: {printable(exc.message)}", file=sys.stderr)
                continue
            engine.apply(event)
            for ref in (event.source, event.target):
                refs[ref.id] = ref.model_dump(mode="json", by_alias=True, exclude_none=True)
            if event.relation_type is RelationType.OWNERSHIP:
                owners.add(event.source.id)
    day = args.as_of or (engine.clock.date() if engine.clock else None)
    stakes = []
    for owner in sorted(owners):
        for owned, holding in sorted(engine.stakes(owner, day).items()):
            # the chains that hold on the day, each sequence of entities once (earlier states of a holding are
            # chains along the same entities)
            chains = list(dict.fromkeys(tuple([owner] + [_end(hop) for hop in chain]) for chain in holding.chains
                                        if day is None or holding.spans is None or held_at(chain, day)))
            # the stake on the day the statements are as of (a holding's `stake` is the most it ever held at once)
            share = holding.stake if day is None else stake_on(holding, day)
            if share > 0 and any(len(chain) > 2 for chain in chains):  # through at least one intermediate entity
                stakes.append(ComputedStake(refs[owner], refs[owned], share, tuple(chains), holding.assumed))
    statements = list(bods_from_stakes(stakes, config.ownership.rule, day or dt.date.min))
    json.dump(statements, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")
    when = f"as of {day}" if day is not None else "(no event: no date)"
    print(f"export-bods: {len(stakes)} indirect stakes ({config.ownership.rule} rule) {when}; "
          f"{rejected} lines rejected", file=sys.stderr)
    return 1 if rejected else 0


def _end(hop) -> str:
    return hop.rec.target if hop.forward else hop.rec.source
