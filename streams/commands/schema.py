"""`coi-risk schema`: print the JSON Schema of a contract, or regenerate the committed ones."""

from __future__ import annotations

import argparse
import sys

from schemas.export import CONTRACTS, SCHEMA_DIR, render, write_all


# `tail`'s names of the topics, for the contract of their messages
_ALIASES = {"events": "relationship-event", "scores": "risk-score", "alerts": "alert", "dead-letters": "dead-letter"}


def _contract(name: str) -> str:
    name = _ALIASES.get(name, name)
    if name not in CONTRACTS:
        raise argparse.ArgumentTypeError(f"no contract {name!r}: one of {', '.join(CONTRACTS)} (or as `tail` names "
                                         f"their topics: {', '.join(_ALIASES)})")
    return name


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "schema", help="print the JSON Schema of a contract, or regenerate schemas/json/",
        description="Print the JSON Schema of one contract. Without NAME, list the contracts.")
    parser.add_argument("name", nargs="?", type=_contract, metavar="NAME",
                        help=f"one of: {', '.join(CONTRACTS)} (also {', '.join(_ALIASES)}, as `tail` names them)")
    parser.add_argument("--write", action="store_true",
                        help=f"regenerate every committed schema under {SCHEMA_DIR}")
    parser.add_argument("--list", action="store_true", help="list the contract names")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.write:
        for path in write_all():
            print(f"wrote {path}", file=sys.stderr)
    if args.name:
        sys.stdout.write(render(args.name))
    elif args.list or not args.write:
        print("\n".join(CONTRACTS))
    return 0
