"""`coi-risk suggest-merges FILE.jsonl`: propose which ids of a file of events name one entity.

Reads the events (relations and judgements) as the worker would, then indexes every resolved entity (a cluster
of merged ids counts once) in the matcher's blocking index (scoring.matching) and writes one `proposed` same_as
judgement per suggestion to stdout, as JSON lines an analyst reviews with `coi-risk review`. Pairs already merged,
denied or proposed are left out. The output depends only on the file: running it twice gives the same lines.

    coi-risk suggest-merges events.jsonl > suggestions.jsonl
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from schemas.events import RelationshipEvent
from schemas.validation import EventRejected, parse_event
from scoring.matching import DEFAULT_MAX_BLOCK, DEFAULT_THRESHOLD, Matcher, Suggestion
from scoring.resolution import ResolvingEngine
from streams.commands.exits import EXIT_USAGE
from streams.commands.inputs import refuse_unusable_input
from streams.render import printable


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "suggest-merges", help="propose same_as judgements for the entities of a JSONL file of events",
        description="Index the file's entities by name tokens, score candidates with FollowTheMoney's matcher and "
                    "print proposed same_as judgements (JSON lines) for `coi-risk review`.")
    parser.add_argument("file", metavar="FILE.jsonl", help="relationship events ('-': stdin)")
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD,
                        help=f"minimum name score of the matcher, 0..1 (default {DEFAULT_THRESHOLD})")
    parser.add_argument("--max-block", type=int, default=DEFAULT_MAX_BLOCK,
                        help="ignore name tokens shared by more entities than this when blocking "
                             f"(default {DEFAULT_MAX_BLOCK})")
    parser.set_defaults(func=run)


def read_events(path: str, command: str) -> tuple[list[RelationshipEvent], int] | None:
    """The valid events of a file and how many lines were rejected (each reported on stderr); None when the file
    cannot be read."""
    if refuse_unusable_input(path, command, reads_stdin=command != "review") is not None:  # review asks on stdin
        return None
    try:
        stream = sys.stdin.buffer if path == "-" else open(path, "rb")
    except OSError as exc:
        print(f"coi-risk {command}: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return None
    events, rejected = [], 0
    with stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                events.append(parse_event(line.rstrip(b"\r\n")))
            except EventRejected as rejection:
                rejected += 1
                print(f"{path}:{number}: {rejection.reason.value}: {printable(rejection.message)}", file=sys.stderr)
    return events, rejected


def load_events(path: str, command: str) -> tuple[ResolvingEngine, int, int] | None:
    """The events of a file applied to a resolution layer, as the worker would: (layer, applied, rejected)."""
    read = read_events(path, command)
    if read is None:
        return None
    layer = ResolvingEngine()
    layer.apply_many(read[0])
    return layer, len(read[0]), read[1]


def suggestions_for(layer: ResolvingEngine, matcher: Matcher) -> list[Suggestion]:
    """Suggestions between the resolved entities the layer knows, in a stable order, without the pairs already
    merged, denied or proposed."""
    proposed = {tuple(sorted((layer.canonical(e.source.id), layer.canonical(e.target.id))))
                for e in layer.suggestions()}
    found: dict[tuple[str, str], Suggestion] = {}
    for cid in sorted({layer.canonical(i) for i in layer.known_ids()}):
        for suggestion in matcher.add(layer.merged_ref(cid)):
            pair = suggestion.pair
            if pair in proposed or layer.denied_between(*pair) or pair in found:
                continue
            found[pair] = suggestion
    return [found[pair] for pair in sorted(found, key=lambda p: (-found[p].score, p))]


def run(args: argparse.Namespace) -> int:
    loaded = load_events(args.file, "suggest-merges")
    if loaded is None:
        return EXIT_USAGE
    layer, applied, rejected = loaded
    matcher = Matcher(threshold=args.threshold, max_block=args.max_block)
    found = suggestions_for(layer, matcher)
    # the suggestions' time is the data's (the latest observed_at read), so the output depends on the file alone
    when = layer.clock or dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    for suggestion in found:
        sys.stdout.write(suggestion.event(when).model_dump_json(by_alias=True, exclude_none=True) + "\n")
    print(f"{applied} events read ({rejected} rejected); {len(matcher)} entities indexed, {matcher.compared} pairs "
          f"compared, {len(found)} merges proposed", file=sys.stderr)
    return 0
