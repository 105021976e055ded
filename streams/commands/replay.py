"""`coi-risk replay`: what the pipeline would have published for a window of the input log, as JSON lines.

    coi-risk replay                                   # the whole topic
    coi-risk replay --from 0:100 --to 0:250           # an offset window (partition:offset)
    coi-risk replay --to 2025-03-01T00:00:00Z         # what the pipeline knew at that append time
    coi-risk replay --to 2025-03-01T00:00:00Z --as-of 2025-02-01   # ... about what was true on 1 February
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys

from streams.commands.exits import EXIT_USAGE
from streams.commands.inputs import validity_date
from streams.config import add_connection_flags, add_scoring_flags, settings_from_args


def register(subparsers) -> None:
    parser = subparsers.add_parser("replay", help="re-run the engine over the input topic (read-only)")
    add_connection_flags(parser)
    add_scoring_flags(parser)
    parser.add_argument("--from", dest="start", default="beginning", type=start_position,
                        help="beginning | partition:offset[,...] | ISO timestamp (append time)")
    parser.add_argument("--to", dest="end", default="end", type=end_position,
                        help="end (end offsets at start time) | partition:offset[,...] | ISO timestamp")
    parser.add_argument("--as-of", type=validity_date, default=None,
                        help="after the replay, also write every pair's score as of this validity date")
    parser.add_argument("--output", "-o", default="-", help="JSON-lines file (default stdout)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def position(text: str) -> str:
    """An argparse type: the text of a valid log position (kept as text: the audit report shows it as given)."""
    from streams.replay import Position

    try:
        Position.parse(text)
    except (ValueError, OverflowError):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a position in the log: beginning, end, partition:offset[,partition:offset...] "
            "(an offset alone: partition 0) or an ISO 8601 time such as 2025-03-01T00:00:00Z") from None
    return text


def start_position(text: str) -> str:
    """`--from`: a position, but not "end" (`Position` reads it as the log's start: a window of the whole log)."""
    if text == "end":
        raise argparse.ArgumentTypeError("'end' is where a window ends: --from takes beginning, an offset or a time")
    return position(text)


def end_position(text: str) -> str:
    """`--to`: a position, but not "beginning" (`Position` reads it as the log's end: a window of the whole log)."""
    if text == "beginning":
        raise argparse.ArgumentTypeError("'beginning' is where a window begins: --to takes end, an offset or a time")
    return position(text)


def output_line(role: str, offset: str, key: bytes | None, value: bytes) -> str:
    return json.dumps({"role": role, "input_offset": offset, "key": key.decode() if key else None,
                       "value": json.loads(value)}, sort_keys=True)


def bulk_load_note(summary) -> str | None:
    """What the replay did with the app id's recorded `coi-risk load`, for a person (None: there is none)."""
    import time

    if summary.bulk_load is not None:
        loaded = summary.bulk_load
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(loaded.loaded_at))
        return (f"reproduced the bulk load of {when} (offsets {loaded.start} to {loaded.end}, {summary.bulk_loaded} "
                "events) as the worker started from it: applied at once, no outputs for its range (the worker "
                "published none); the rest replayed event by event")
    if summary.bulk_load_ends_after is not None:
        loaded = summary.bulk_load_ends_after
        return (f"the range read ends inside the bulk load of offsets {loaded.start} to {loaded.end}: the worker "
                "published nothing for that range and served nothing before the load ended, so nothing is replayed")
    if summary.bulk_load_not_reproduced is not None:
        return (f"a bulk load is recorded for this app id but was not reproduced ({summary.bulk_load_not_reproduced}):"
                " replayed event by event, so alerts inside and after its range may not be those the worker "
                "published")
    return None


def run(args) -> int:
    from tqdm import tqdm

    from streams.replay import Position, ReplaySummary, WindowRefused, new_processor, replay

    settings = settings_from_args(args)
    processor = new_processor(settings)
    summary = ReplaySummary()
    progress = tqdm(unit="ev", file=sys.stderr, disable=args.quiet, desc="replay")

    def on_progress(done: int, total: int) -> None:
        progress.total = total
        progress.update(1)

    items = replay(settings, Position.parse(args.start), Position.parse(args.end), processor, summary, on_progress)
    try:
        first = next(items, None)  # the window is checked before anything is read
    except WindowRefused as refused:  # (and before the output file is opened: an earlier one stays as it was)
        progress.close()
        print(f"coi-risk replay: {refused}", file=sys.stderr)
        return EXIT_USAGE
    sink = sys.stdout if args.output == "-" else open(args.output, "w")
    try:
        for item in itertools.chain(() if first is None else (first,), items):
            if not item.in_window:
                continue
            offset = f"{item.record.partition}:{item.record.offset}"
            for out in item.outcome.outbound:
                sink.write(output_line(out.role, offset, out.key, out.value) + "\n")
        if args.as_of:
            for score in processor.engine.score_all(as_of=args.as_of):
                sink.write(json.dumps({"role": "as_of_score", "as_of": args.as_of.isoformat(),
                                       "value": json.loads(score.model_dump_json())}, sort_keys=True) + "\n")
    finally:
        progress.close()
        if sink is not sys.stdout:
            sink.close()
    note = bulk_load_note(summary)
    if note is not None:
        print(note, file=sys.stderr)
    rejected = ", ".join(f"{k}={v}" for k, v in sorted(summary.rejected.items())) or "none"
    print(f"replayed {summary.replayed} events ({summary.applied_before_window} applied before the window); "
          f"{summary.scores} score changes, {summary.alerts} alert transitions; rejected: {rejected}",
          file=sys.stderr)
    return 0
