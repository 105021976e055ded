"""The revolving door's clock: how soon after leaving office a former official's tie to the firm began (and a
decided matter's: how soon after the decision, `late_ties`).

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
- Lobbying (COI-REVOLVING-LOBBY) is timed against the office whose chain of command reached the body lobbied, not
  every office he left; lobbying that ended before he left that office was no contact after leaving it (0), and
  lobbying that began while he held it and goes on counts in full (contacts in the cooling-off).
- A run of facts allows gaps of up to a quarter (`_RESTATED`): registers close a stake and restate it later.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Collection, Iterable, Mapping

from scoring.config import ExposureConfig
from scoring.graph import Relation
from scoring.paths import Hop, Path, SummedHop
from scoring.search import SearchContext
from scoring.semantics import INFLUENCE_TYPES, LAYER_OF, Layer

# A fact that ended at most this long before the next began is the same run: registers close a stake and restate it
# with gaps of days or weeks (a review: a month's gap halved a stake held since 2008)
_RESTATED = dt.timedelta(days=92)
_EVERY_TYPE = frozenset(LAYER_OF)


def late_ties(paths: Iterable[Path], offices: tuple[tuple[dt.date, float, str], ...], ctx: SearchContext,
              rule_of: Mapping[str, str],
              offices_of: Callable[[Path], Collection[str] | None],
              after: Callable[[str, dt.date], str] | None = None,
              best: bool = False) -> dict[int, tuple[float, str]]:
    """id(path) -> (the weight it counts with toward the rule on former authority that reads its kind, `rule_of`,
    why) of the paths that began past the cooling-off after the offices their power comes from (`offices_of`: the
    offices a path is timed against, None: all of them); the others count in full. A path through a lobbying
    relation that ended before he left an office is no contact after leaving it: 0 for that office.

    The same clock times a tie against the matters an official decided (COI-DECIDED-MATTER): `offices` are then
    (decided on, power, matter), `after(matter, day)` says what the span runs from (default: leaving the office,
    which ended on `day`), and `best`: a tie counts as on time as it is for the decision it is timed best against,
    the latest it could reward (a review: weighing it by every decision's power, an older decision beside a recent
    one made a hire two months after the recent one late), where the offices he left weigh by their power."""
    cfg = ctx.config.exposure
    late: dict[int, tuple[float, str]] = {}
    runs: dict = {}  # the runs of facts swept (`held_since`): the paths of a pair share their hops
    for path in paths:
        named = offices_of(path)
        mine = offices if named is None else tuple(office for office in offices if office[2] in named)
        total = sum(power for _, power, _ in mine)
        if total <= 0:
            continue
        lobbying = next((hop.rec for hop in path.hops if hop.rec.type in INFLUENCE_TYPES), None)
        ended = lobbying.end if lobbying is not None else None
        # a tie begun by then is on time for every office (their ends are in order: the first was left first)
        began = _began(path, mine[0][0] + dt.timedelta(days=cfg.cooling_off_days), ctx, runs)
        if began is None and (ended is None or ended > mine[-1][0]):
            continue  # on time for every office, and no lobbying that ended before one was left
        weighed = [(end, power, office, before := ended is not None and ended <= end,
                    0.0 if before else 1.0 if began is None else _factor((began - end).days, cfg))
                   for end, power, office in mine]
        factor = max(item[4] for item in weighed) if best else \
            sum(power * weight for _, power, _, _, weight in weighed) / total
        if factor >= 1.0:
            continue
        # named: the decision it is timed against, or the most powerful of the offices it counts less for
        end, _, office, before, _ = max(weighed, key=lambda item: (item[4], item[0])) if best else \
            max((item for item in weighed if item[4] < 1.0), key=lambda item: item[1])
        counts = f"it counts {math.floor(factor * 100) / 100:.2f} toward {rule_of[path.kind]}"  # never "1.00" for less
        if before:
            why = (f"the lobbying ended {ended.isoformat()}, before he left {ctx.graph.name(office)} "
                   f"({end.isoformat()}): no contact after leaving; {counts}")
        else:
            since = (f"leaving {ctx.graph.name(office)} (ended {end.isoformat()})" if after is None
                     else after(office, end))
            why = (f"began {began.isoformat()}, {_span(end, began)} after {since}: past the "
                   f"{cfg.cooling_off_years:g}-year cooling-off, {counts}")
        late[id(path)] = (factor, why)
    return late


def _began(path: Path, soonest: dt.date, ctx: SearchContext, runs: dict) -> dt.date | None:
    """When the path began, where that is after `soonest` (else None: on time for every office). A lobbying path
    began with its lobbying and what joins the lobbyist to the counterparty: the chain of command before it is his
    office's, of his time (a review: a link of it stated from 2022 dated lobbying begun in 2016)."""
    hops = path.hops
    lobbying = next((at for at, hop in enumerate(hops) if hop.rec.type in INFLUENCE_TYPES), 0)
    began = None
    for hop in hops[lobbying:]:
        rec = _first_of(hop)
        start = rec.start
        if start is not None and start > soonest:
            start = held_since(rec, ctx, runs)
            if start is not None and start > soonest and (began is None or start > began):
                began = start
    return began


def _first_of(hop: Hop) -> Relation:
    """The relation a hop began with: its own, or of payments that add up (`paths.SummedHop`, its parts in date
    order, undated last) the first, or an undated one (on time): a sum is timed by its first payment, not by its
    strongest (a review: a small late payment beside an on-time million named the sum and made it late)."""
    if type(hop) is not SummedHop:
        return hop.rec
    parts = hop.parts
    return parts[-1] if parts[-1].start is None else parts[0]


def held_since(rec: Relation, ctx: SearchContext, runs: dict | None = None) -> dt.date | None:
    """The first day of the uninterrupted run of facts between the relation's two ends that it continues (None: a
    fact of the run states no start): of the same holding (any holding relation from the same owner), or else of
    the same type either way, each beginning at most a quarter after the run so far ended (`_RESTATED`). A denied
    fact continues nothing. `runs`: the runs already swept, by their two ends and kind (`_runs`)."""
    layer = LAYER_OF[rec.type]
    kind = layer if layer is Layer.HOLDING else rec.type
    key = (rec.source, rec.target, kind) if layer is Layer.HOLDING else (*sorted((rec.source, rec.target)), kind)
    starts = None if runs is None else runs.get(key)
    if starts is None:
        starts = _runs(rec, layer, ctx)
        if runs is not None:
            runs[key] = starts
    return starts.get(id(rec), rec.start)


def _runs(rec: Relation, layer: Layer, ctx: SearchContext) -> dict[int, dt.date | None]:
    """id(fact) -> the first day of its run, for the facts `held_since` reads beside `rec`: one sweep, earliest
    start first (a review: extending one run a fact at a time was quadratic in a pair's thousands of payments)."""
    holding = layer is Layer.HOLDING
    run = [fact for fact, forward in ctx.between(rec.source, rec.target, (layer,), _EVERY_TYPE)
           if (forward if holding else fact.type is rec.type) and ctx.strength.certainty(fact) > 0]
    run.sort(key=lambda fact: (fact.start is not None, fact.start or dt.date.min))
    starts: dict[int, dt.date | None] = {}
    first: dt.date | None = None
    reach: dt.date | None = None  # the latest end of the run so far (None: it has not ended)
    swept = False
    for fact in run:
        if not swept or (reach is not None and fact.start is not None and fact.start > reach + _RESTATED):
            first, reach, swept = fact.start, fact.end, True  # a run begins
        elif reach is not None:
            reach = None if fact.end is None else max(reach, fact.end)
        starts[id(fact)] = first
    return starts


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
