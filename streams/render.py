"""Readable renderings of scores, alerts and dead letters for terminals (`tail`, `demo`, `score`).

Two forms of a RiskScore: `render_score`, one compact block a score (each path with its own evidence), as `tail`
prints them; `render_ranking`, a ranked table followed by one explanation a pair (paths by strength, each citing its sources
by number, then the sources), as `score` prints them. Both name the ids merged into each end (entity resolution) on one
line, and an alert its case: the party the actor's authority lands on and the case's other counterparties.
"""

from __future__ import annotations

import base64
import re
import textwrap
from collections.abc import Iterable, Iterator

from schemas import Alert, AlertState, DeadLetter, Evidence, ExplanationPath, RiskScore

# Section titles of the two path kinds in the ranked explanation (`tail` prints the kind itself).
_EXPLANATION_TITLES = {"authority": "authority", "commercial": "ties"}
# Ids listed per merged end and related parties per alert; the rest are counted ("+3 more"): a cluster of
# OpenSanctions source records can have dozens.
SHOWN_IDS = 4
SHOWN_RELATED = 3
# Characters a terminal acts on instead of printing: C0 and C1 controls (ESC starts the sequences that clear the
# screen, recolour, retitle the window or forge lines; CR and LF forge lines) and the bidirectional overrides. Every
# name, URL and message here comes from the input topic: each is shown escaped (`\x1b`), never obeyed.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """`text` with every character a terminal would act on written as its Python escape: one line, inert."""
    return _UNPRINTABLE.sub(lambda found: found.group().encode("unicode_escape").decode("ascii"), text)


def _lines(lines: Iterable[str]) -> str:
    return "\n".join(printable(line) for line in lines)


def pair_label(item: RiskScore | Alert) -> str:
    return f"{item.actor_name} x {item.counterparty_name}"


def _path_groups(item: RiskScore | Alert) -> tuple[tuple[str, tuple[ExplanationPath, ...]], ...]:
    return ("authority", item.authority_paths), ("commercial", item.commercial_paths)


def _evidence(paths: Iterable[ExplanationPath]) -> Iterator[Evidence]:
    return (evidence for path in paths for edge in path.edges for evidence in edge.evidence)


def _listed(items: list[str], shown: int) -> str:
    more = f", +{len(items) - shown} more" if len(items) > shown else ""
    return ", ".join(items[:shown]) + more


def merged_ids(item: RiskScore | Alert) -> str | None:
    """The ids merged into each end, compactly: "actor a = b, c; counterparty x = y"; None when neither is."""
    sides = []
    for label, canonical, ids in (("actor", item.actor_id, item.actor_merged_ids),
                                  ("counterparty", item.counterparty_id, item.counterparty_merged_ids)):
        # ids the worker cut to fit max_message_bytes (down to the canonical one) are counted on the entity's note
        omitted = sum(note.member_ids_omitted for note in item.merges if note.canonical_id == canonical)
        if len(ids) > 1 or omitted:
            others = [i for i in ids if i != canonical]
            more = len(others) - min(len(others), SHOWN_IDS) + omitted
            sides.append(f"{label} {canonical} = " + ", ".join([*others[:SHOWN_IDS], *([f"+{more} more"] if more
                                                                                          else [])]))
    return "; ".join(sides) or None


def alert_case(alert: Alert) -> str | None:
    """The alert's case when it is more than its own pair: "case c: also Name (id) 0.310 medium, ..."."""
    if not alert.related_parties and alert.case_id in (None, alert.counterparty_id):
        return None
    related = [f"{p.name} ({p.id}) {p.score:.3f} {p.band.value}" for p in alert.related_parties]
    return f"case {alert.case_id or alert.counterparty_id}" + (f": also {_listed(related, SHOWN_RELATED)}"
                                                               if related else "")


def _paths(item: RiskScore | Alert, indent: str = "  ") -> list[str]:
    lines = []
    ids = merged_ids(item)
    if ids:
        lines.append(f"{indent}{'ids':<10} {ids}")
    for label, paths in _path_groups(item):
        for path in paths:
            lines.append(f"{indent}{label:<10} {path.text}  [{path.strength:.2f}]")
            sources = sorted({e.source_url for e in _evidence([path])})
            events = sorted({e.event_id for e in _evidence([path])})
            omitted = sum(edge.evidence_omitted for edge in path.edges)  # not listed: over the limit, or cut
            more = f" (+{omitted} statements not in the message)" if omitted else ""
            lines.append(f"{indent}{'':<10} evidence: events {', '.join(events)}; {', '.join(sources)}{more}")
    lines.extend(f"{indent}{'merged':<10} {note.text}" for note in item.merges)
    return lines


def render_score(score: RiskScore) -> str:
    head = (f"{score.band.value.upper():<8} {score.score:.3f}  {pair_label(score)}"
            f"  rules={','.join(score.rules) or '-'}  graph_version={score.graph_version}")
    return _lines([head, *_paths(score)])


def render_explanation(rank: int, score: RiskScore) -> list[str]:
    """The numbered explanation of one ranked pair: head line, paths by kind (wrapped), each citing its sources by
    number, then the sources with the events they hold (a pooled list left unsaid which filing backs which path)."""
    lines = [f"{rank}. {score.actor_name} ({score.actor_id}) x {score.counterparty_name} "
             f"({score.counterparty_id}): {score.score:.3f} {score.band.value.upper()}  [{', '.join(score.rules)}]"]
    ids = merged_ids(score)
    if ids:
        lines.extend(textwrap.wrap(f"ids: {ids}", width=116, initial_indent="   ", subsequent_indent="        "))
    # (publisher, url) -> the events of it the paths cite, numbered in order of publisher and URL
    cited: dict[tuple[str, str], set[str]] = {}
    for evidence in _evidence([*score.authority_paths, *score.commercial_paths]):
        cited.setdefault((evidence.publisher, evidence.source_url), set()).add(evidence.event_id)
    number = {source: n for n, source in enumerate(sorted(cited), start=1)}
    for kind, paths in _path_groups(score):
        if not paths:
            continue
        lines.append(f"   {_EXPLANATION_TITLES[kind]}:")
        for path in paths:
            refs = sorted({number[(e.publisher, e.source_url)] for e in _evidence([path])})
            cites = f"  [{', '.join(map(str, refs))}]" if refs else ""
            lines.extend(textwrap.wrap(f"{path.strength:.3f}  {path.text}{cites}", width=116,
                                       initial_indent="     ", subsequent_indent="            "))
    if score.merges:  # entity resolution: who is who, and on what evidence
        lines.append("   merged:")
        for note in score.merges:
            lines.extend(textwrap.wrap(note.text, width=116, initial_indent="     ",
                                       subsequent_indent="            "))
    if cited:
        lines.append("   sources:")
        for source, n in number.items():
            publisher, url = source
            lines.append(f"     [{n}] {publisher}: {url} (events {', '.join(sorted(cited[source]))})")
    return lines


def render_ranking(ranked: list[RiskScore]) -> str:
    """Ranked table of the pairs, then each pair's explanation, in the given order (rank 1 first)."""
    width = max((len(printable(pair_label(s))) for s in ranked), default=0)
    lines = [f"{'#':>3}  {'score':>6}  {'band':<8}  {'pair':<{width}}  rules"]
    for rank, score in enumerate(ranked, start=1):
        lines.append(f"{rank:>3}  {score.score:>6.3f}  {score.band.value:<8}  {printable(pair_label(score)):<{width}}  "
                     f"{', '.join(score.rules)}")
    for rank, score in enumerate(ranked, start=1):
        lines += ["", *render_explanation(rank, score)]
    texts = [path.text for score in ranked for _, paths in _path_groups(score) for path in paths]
    if any("%?" in text for text in texts):  # the one mark a reader cannot guess (docs/scoring.md has the rest)
        lines += ["", "25%?: the source gives no percentage, and the configured share is assumed (≤10%?: at most "
                      "10% given, just under it assumed); [reported], [alleged]...: a status weaker than confirmed"]
    return _lines(lines) + "\n"


def render_alert(alert: Alert) -> str:
    # a raised alert has no score before it (its previous_score is 0): "0.000 ->" read as the pair's last score
    moved = f"{alert.score:.3f}" if alert.state is AlertState.RAISED else \
        f"{alert.previous_score:.3f} -> {alert.score:.3f}"
    head = (f"[{alert.state.value.upper()} {alert.band.value}] {pair_label(alert)}  score {moved}  "
            f"rules={','.join(alert.rules)}  alert {alert.alert_id} #{alert.sequence}")
    case = alert_case(alert)
    return _lines([head, *([f"  {case}"] if case else []), *_paths(alert)])


def render_dead_letter(letter: DeadLetter) -> str:
    if letter.original_value is None:
        original = "null (a tombstone)"
    else:
        original = f"{base64.b64decode(letter.original_value)[:120]!r} ({letter.original_value_length} bytes)"
    return _lines([f"[{letter.reason.value}] {letter.message}",
                   f"  at {letter.topic}:{letter.partition}:{letter.offset}  original: {original}"])
