"""How strong one relation is as a hop of a path, on a given date.

weight = certainty x recency x magnitude, where
- certainty = status weight (confirmed > reported > alleged > proposed/in discussion; denied 0) x the extractor's
  confidence;
- recency = 1 while the relation holds, then a stepped half-life decay (see `scoring.timing`);
- magnitude depends on the hop's role: a tie between the two sides is as strong as its stake (ownership) or its
  amount (money, log scale) or its type's weight; a hop that merely reaches a member of an exposure set or group
  has magnitude 1 except for the type weight (membership itself was decided by the ownership threshold).
Authority hops must hold on the date (no recency decay): power that has ended is not power (the revolving door's
former office excepted: `scoring.authority`).
"""

from __future__ import annotations

import datetime as dt

from scoring.config import ScoringConfig
from scoring.graph import STATUSES, Relation, StatedFact
from scoring.paths import Hop
from scoring.semantics import MONEY_TYPES, STAKE_TYPES
from scoring.sources import independent, of_statements
from scoring.timing import TimeModel

# How far below its cap a capped stake is assumed: more than the float tolerance thresholds allow (1e-12, as in
# `ownership._holdings`), so it never meets a threshold equal to the cap; far too little to show or to move a score.
_UNDER_CAP = 1e-9


_UNUSABLE = ()  # a memoized hop that cannot be walked (`Strength.holding_hop`)

# How many relations' hop values one `Strength` remembers before it starts again (a bound on the memo's memory
# during a bulk rebuild; a live event's refresh walks far fewer).
_MEMO_LIMIT = 8_192


class Strength:
    """The weights of relations on one date. Records are never changed once in the graph (a new version is a new
    record), so what is computed from one record on this date can be remembered for as long as this object lives
    (the engine keeps one for the duration of a refresh)."""

    __slots__ = ("config", "day", "time", "_status", "_type_weight", "_hops", "_counted_values")

    def __init__(self, config: ScoringConfig, day: dt.date, time: TimeModel | None = None):
        self.config = config
        self.day = day
        self.time = time or TimeModel(config)
        self._status = config.status_weights
        self._type_weight = config.relation_weights
        self._hops: dict[Relation, tuple] = {}  # record (by identity) -> `holding_hop` of it
        # a fact stated several times (by identity) -> the values of its publishers that count (`_counted`)
        self._counted_values: dict[Relation, list[float]] = {}

    def holding_hop(self, rec: Relation) -> tuple[float, float, bool, Hop] | None:
        """(`reach` weight, stake, assumed, the hop) of a hop of an ownership or control chain (`ownership._walk`);
        None: not usable on this date. Remembered per record: a hub's holdings are walked by many searches of one
        refresh, and the chains they keep share one `Hop` of the record (about half the hops a bulk rebuild kept
        were copies of another: one relation in the holdings of its owner, the owners of what it owns, ...)."""
        held = self._hops.get(rec)
        if held is None:
            weight = self.reach(rec)
            held = _UNUSABLE if weight is None else (weight, *self.stake(rec), Hop(rec, True, weight, False))
            if len(self._hops) >= _MEMO_LIMIT:
                self._hops.clear()
            self._hops[rec] = held
        return held or None

    def remembered_hops(self) -> dict:
        """What `holding_hop` remembers: record -> its hop, or () for one not usable on this date. Read only, for
        the ownership walk's innermost loop, which looks there before calling it."""
        return self._hops

    def certainty(self, rec: Relation) -> float:
        """A statement's status weight x confidence. A fact stated several times (`Relation.statements`): each
        publisher counts once, however spelled (`Citation.source`), by its most certain statement (repeats add
        nothing), and one article relayed by several publishers once (`sources`); independent sources corroborate
        each other by noisy-OR, up to `evidence.max_corroborated_certainty` (never below the most certain
        statement alone)."""
        if rec.statements is None:
            return self._status[rec.status] * rec.confidence
        values = self._counted(rec)
        doubt = 1.0
        for value in values:
            doubt *= 1.0 - value
        return max(values[0], min(self.config.evidence.max_corroborated_certainty, 1.0 - doubt))

    def sources(self, rec: Relation) -> int:
        """How many independent sources a fact stated several times has, as its certainty counts them: its
        publishers, one article relayed by several of them once (`scoring.sources`), and not those whose statements
        add nothing to it (a denial, a statement of no confidence): "3 sources" beside an allegation two outlets
        denied read as three outlets saying it."""
        if rec.statements is None:
            return 1
        return sum(1 for value in self._counted(rec) if value > 0)

    def _counted(self, rec: Relation) -> list[float]:
        """The values of the publishers of a fact stated several times that count as independent sources, most
        certain first (remembered: a fact's certainty and its sources are read several times in one refresh)."""
        values = self._counted_values.get(rec)
        if values is None:
            by_publisher = self._by_publisher(rec)
            values = sorted((by_publisher[publisher] for publisher in self._independent(rec, by_publisher)),
                            reverse=True)
            if len(self._counted_values) >= _MEMO_LIMIT:
                self._counted_values.clear()
            self._counted_values[rec] = values
        return values

    def _by_publisher(self, rec: Relation) -> dict[str, float]:
        """Each publisher's most certain statement of a fact stated several times."""
        by_publisher: dict[str, float] = {}
        if type(rec) is StatedFact:  # (weights are never negative: the most confident statement of a status wins)
            weights = [self._status[status] for status in STATUSES]
            for publisher, evidence in rec.by_publisher.items():
                by_publisher[publisher] = max(weight * confidence for weight, confidence
                                              in zip(weights, evidence.confidence) if confidence is not None)
        else:
            for statement in rec.statements:
                value = self._status[statement.status] * statement.confidence
                publisher = statement.citation.source  # (however the publisher is spelled: `publisher_key`)
                if value > by_publisher.get(publisher, -1.0):
                    by_publisher[publisher] = value
        return by_publisher

    @staticmethod
    def _independent(rec: Relation, by_publisher: dict[str, float]) -> list[str]:
        if len(by_publisher) == 1:
            return list(by_publisher)
        relaying = rec.relaying if type(rec) is StatedFact else of_statements(rec.statements)
        return independent(by_publisher, relaying)

    def type_weight(self, rec: Relation) -> float:
        return self._type_weight.get(rec.type, 1.0)

    def stake(self, rec: Relation) -> tuple[float, bool]:
        """(stake in [0, 1], assumed): control without a stake passes on in full; a missing percentage is assumed,
        never as much as the most the source says it can be ("0-10%", "under 25%")."""
        if rec.type not in STAKE_TYPES:
            return 1.0, False
        if rec.stake is None:
            cap = self.stake_cap(rec)
            # Just below the cap: "under 25%" and a band that ends at 25% say the owner is not one of 25%, and an
            # assumption at the cap itself would meet that threshold (the contract has no exclusive bound)
            return (self.config.ownership.unknown_stake if cap is None else max(0.0, cap - _UNDER_CAP)), True
        return rec.stake, False

    def stake_cap(self, rec: Relation) -> float | None:
        """The most the source says a stake it gives no percentage of can be, where that bounds the assumed stake
        (`percentage_max` at or below `unknown_stake`); else None."""
        cap = rec.stake_max
        return cap if cap is not None and rec.stake is None and cap <= self.config.ownership.unknown_stake else None

    def magnitude(self, rec: Relation) -> float:
        if rec.type in STAKE_TYPES:
            cfg = self.config.ownership
            stake, _ = self.stake(rec)
            return max(cfg.min_stake_strength, min(1.0, stake / cfg.full_strength_stake))
        if rec.type in MONEY_TYPES:
            return self.config.amount_strength(rec.amount, rec.currency)
        return self.type_weight(rec)

    def reach(self, rec: Relation) -> float | None:
        """Weight of a hop that reaches a member (closeness, ownership or control chain); None: not usable."""
        recency = self.time.recency(rec, self.day)
        if recency is None:
            return None
        weight = self.certainty(rec) * recency * self.type_weight(rec)
        return weight if weight > 0 else None

    def tie(self, rec: Relation) -> float | None:
        """Weight of the commercial tie between the two sides."""
        recency = self.time.recency(rec, self.day)
        if recency is None:
            return None
        weight = self.certainty(rec) * recency * self.magnitude(rec)
        return weight if weight > 0 else None

    def authority(self, rec: Relation) -> float | None:
        """Weight of a hop of an authority path: only relations that hold on the date count."""
        if not self.time.current(rec, self.day):
            return None
        weight = self.certainty(rec)
        return weight if weight > 0 else None
