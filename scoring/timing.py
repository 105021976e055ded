"""The time model: when a relation holds, how much an ended tie or a left office still counts, and the dates on
which those answers change.

Everything is a function of one date D (an explicit `as_of`, or the engine clock: the latest `observed_at` seen;
never the wall clock). Decays move in whole steps (`time.step_days`), so each relation changes its contribution
on a few known dates; `next_change` names the next one, and the engine keeps a calendar of them to rescore exactly
the pairs a passing date affects.
"""

from __future__ import annotations

import datetime as dt

from scoring.config import ScoringConfig
from scoring.graph import Relation, StatedFact
from scoring.semantics import AUTHORITY_TYPES, OFFICE_TYPES

_ONE_DAY = dt.timedelta(days=1)
_DECAYING_OVER_HORIZONS = OFFICE_TYPES | AUTHORITY_TYPES


class TimeModel:
    __slots__ = ("config", "_step", "_half_life", "_lookback", "_point_types", "_horizons")

    def __init__(self, config: ScoringConfig):
        self.config = config
        self._step = config.time.step_days
        self._half_life = config.time.ended_half_life_days
        self._lookback = config.time.ended_lookback_days
        self._point_types = config.time.point_in_time_types
        self._horizons = (config.exposure.horizon_days, config.exposure.long_horizon_days)

    def reference_end(self, rec: Relation) -> dt.date | None:
        """The date a relation's age counts from: its end, or for one-off relations (payments) its date: its start,
        else the day it was first stated (a fact stated several times happened no later than its earliest statement;
        a later source repeating it corroborates it, it does not make it new)."""
        if rec.end is not None:
            return rec.end
        if rec.type in self._point_types:
            if rec.start is not None:
                return rec.start
            if rec.statements is None:
                return rec.observed_at.date()
            if type(rec) is StatedFact:
                return rec.first_stated
            return min(s.start if s.start is not None else s.observed_at.date() for s in rec.statements)
        return None

    def started(self, rec: Relation, day: dt.date) -> bool:
        return rec.start is None or rec.start <= day

    def current(self, rec: Relation, day: dt.date) -> bool:
        """Holds on `day`: authority must be current to count (a regulator that stopped overseeing has no power)."""
        return self.started(rec, day) and (rec.end is None or rec.end >= day)

    def recency(self, rec: Relation, day: dt.date) -> float | None:
        """1 while the relation holds; halves every `ended_half_life_days` after it ended (in whole steps);
        None once it is older than the lookback or before it began."""
        if not self.started(rec, day):
            return None
        return self.decay_after(self.reference_end(rec), day)

    def decay_after(self, end: dt.date | None, day: dt.date) -> float | None:
        """`recency` of something that ended on `end` (None: has not ended): 1 until then, then the stepped
        half-life decay; None past the lookback (a former holding's chains decay from the holding's end:
        `ownership._former_chains`)."""
        if end is None or end >= day:
            return 1.0
        age = (day - end).days
        if age > self._lookback:
            return None
        stepped = (age // self._step) * self._step
        return 0.5 ** (stepped / self._half_life)

    def office_weight(self, rec: Relation, day: dt.date, horizon_days: int) -> tuple[float, bool] | None:
        """(weight, former) of an office on `day`: (1, False) while held; after it ended, a linear decay to 0 over
        the horizon, in whole steps; None before the office began or after the horizon."""
        if not self.started(rec, day):
            return None
        if rec.end is None or rec.end >= day:
            return 1.0, False
        age = (day - rec.end).days
        if age > horizon_days or horizon_days == 0:
            return None
        stepped = (age // self._step) * self._step
        return max(0.0, 1.0 - stepped / horizon_days), True

    def decision_weight(self, rec: Relation, day: dt.date, long: bool) -> float | None:
        """How much an authority relation that has ended (a matter decided: `scoring.authority`) still counts on
        `day`: as a left office does, a linear decay to 0 from its end over the exposure horizon of the office it
        was decided in (`long`: head of state or national office), in whole steps; None while it holds, before it
        began and past the horizon."""
        if rec.end is None or rec.end >= day:
            return None
        held = self.office_weight(rec, day, self._horizons[1] if long else self._horizons[0])
        return None if held is None or held[0] <= 0 else held[0]

    def next_change(self, rec: Relation, day: dt.date) -> dt.date | None:
        """The first date after `day` on which any answer above can change for this relation (None: never).

        It may name a date on which nothing changes in the end (harmless: a needless rescore); it never skips one.
        """
        if rec.end is None and (rec.start is None or rec.start <= day) and rec.type not in self._point_types:
            return None  # started, and no end to age from (`reference_end`): most relations (a rebuild asks for all)
        candidates = []
        if rec.start is not None and rec.start > day:
            candidates.append(rec.start)
        end = self.reference_end(rec)
        if end is not None:
            # an office's and a decided matter's weights decay over the exposure horizons (`office_weight`,
            # `decision_weight`), an ended tie's over the lookback (`recency`)
            horizons = (self._lookback, *self._horizons) if rec.type in _DECAYING_OVER_HORIZONS \
                else (self._lookback,)
            candidates.append(end + _ONE_DAY)
            age = (day - end).days
            step_index = max(1, age // self._step + 1)
            step_date = end + dt.timedelta(days=step_index * self._step)
            if (step_date - end).days <= max(horizons):
                candidates.append(step_date)
            candidates.extend(end + dt.timedelta(days=h + 1) for h in horizons)
        later = [c for c in candidates if c > day]
        return min(later) if later else None
