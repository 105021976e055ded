"""The revolving door's clock: how soon after leaving office a former official's tie to the firm began.

A former office holder's exposure decays with the time since he left (`scoring.exposure`); how soon after leaving
his tie to the firm began says something else: whether it could be the office's reward. A tie that began while he
held the office, or within `exposure.cooling_off_years` of leaving it, counts in full toward COI-REVOLVING-DOOR;
later, its weight tapers linearly to `exposure.late_tie_weight` at `exposure.late_tie_years` after leaving, and stays
there (no cliff: a hire six weeks past the cooling-off is barely less suspect than one six weeks before it).

- A path began when the last of its relations did, and a relation began when the uninterrupted run of facts it
  continues did: a stake restated for a new period (10% until March, 12% from April), a holding stated as shares
  and then as control, a job restated with a promotion (`held_since`). A relation whose run reaches a fact of no
  start began at a time nobody stated: it does not make the path late.
- Against each office he left whose power reaches the firm: a tie late for the ministry he left ten years ago may
  be on time for the town hall he left last year. The path's weight is the offices' factors, weighed by each
  office's power over the firm (`authority.ActorAuthority.former_offices`).
- An undated tie counts in full: when it began is not known, so the rule cannot tell it late.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping

from scoring.config import ExposureConfig
from scoring.graph import Relation
from scoring.paths import Path
from scoring.search import SearchContext
from scoring.semantics import LAYER_OF, Layer

_DAY = dt.timedelta(days=1)
_EVERY_TYPE = frozenset(LAYER_OF)


def late_ties(paths: Iterable[Path], offices: tuple[tuple[dt.date, float, str], ...], ctx: SearchContext,
              rule_of: Mapping[str, str]) -> dict[int, tuple[float, str]]:
    """id(path) -> (the weight it counts with toward the rule on former authority that reads its kind, `rule_of`,
    why) of the paths that began past the cooling-off after the offices their power comes from; the others count
    in full."""
    total = sum(power for _, power, _ in offices)
    if total <= 0:
        return {}
    cfg = ctx.config.exposure
    # a tie begun by then is on time for every office (their ends are in order: the first was left first)
    soonest = offices[0][0] + dt.timedelta(days=cfg.cooling_off_days)
    late: dict[int, tuple[float, str]] = {}
    for path in paths:
        began = _began(path, soonest, ctx)
        if began is None:
            continue
        factor = sum(power * _factor((began - end).days, cfg) for end, power, _ in offices) / total
        if factor >= 1.0:
            continue
        # named: the most powerful of the offices it is late for
        end, _, office = max(((end, power, office) for end, power, office in offices
                              if _factor((began - end).days, cfg) < 1.0), key=lambda item: item[1])
        late[id(path)] = (factor, (
            f"began {began.isoformat()}, {_span(end, began)} after leaving {ctx.graph.name(office)} "
            f"(ended {end.isoformat()}): past the {cfg.cooling_off_years:g}-year cooling-off, it counts "
            f"{math.floor(factor * 100) / 100:.2f} toward {rule_of[path.kind]}"))  # never "1.00" for less
    return late


def _began(path: Path, soonest: dt.date, ctx: SearchContext) -> dt.date | None:
    """When the path began, where that is after `soonest` (else None: on time for every office)."""
    began = None
    for hop in path.hops:
        start = hop.rec.start
        if start is not None and start > soonest:
            start = held_since(hop.rec, ctx)
            if start is not None and start > soonest and (began is None or start > began):
                began = start
    return began


def held_since(rec: Relation, ctx: SearchContext) -> dt.date | None:
    """The first day of the uninterrupted run of facts between the relation's two ends that it continues (None: a
    fact of the run states no start): of the same holding (any holding relation from the same owner), or else of
    the same type either way. A denied fact continues nothing."""
    layer = LAYER_OF[rec.type]
    holding = layer is Layer.HOLDING
    run = [fact for fact, forward in ctx.between(rec.source, rec.target, (layer,), _EVERY_TYPE)
           if (forward if holding else fact.type is rec.type) and ctx.strength.certainty(fact) > 0]
    start = rec.start
    extended = True
    while extended and start is not None:
        extended = False
        for fact in run:
            if (fact.start is None or fact.start < start) and (fact.end is None or fact.end >= start - _DAY):
                start, extended = fact.start, True
                if start is None:
                    break
    return start


def _factor(gap_days: int, cfg: ExposureConfig) -> float:
    if gap_days <= cfg.cooling_off_days:
        return 1.0
    if gap_days >= cfg.late_tie_days:
        return cfg.late_tie_weight
    share = (gap_days - cfg.cooling_off_days) / (cfg.late_tie_days - cfg.cooling_off_days)
    return 1.0 - (1.0 - cfg.late_tie_weight) * share


def _span(start: dt.date, end: dt.date) -> str:
    """'2 years and 1 day', '8 years and 11 months': whole months, and the days only where no month is whole."""
    months = (end.year - start.year) * 12 + end.month - start.month - (end.day < start.day)
    years, rest = divmod(months, 12)
    parts = [f"{years} year{'s' * (years != 1)}"] if years else []
    if rest:
        parts.append(f"{rest} month{'s' * (rest != 1)}")
    if not rest:
        anniversary = _months_after(start, months)
        days = (end - anniversary).days
        if days or not parts:
            parts.append(f"{days} day{'s' * (days != 1)}")
    return " and ".join(parts)


def _months_after(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    month += 1
    for last in (day.day, 30, 29, 28):  # the 31st of a month of 30 days is its last
        try:
            return dt.date(year, month, last)
        except ValueError:
            continue
    raise AssertionError("unreachable")
