"""The payments one party made another add up to one tie.

Each payment is a fact of its own (`graph.fact_key`: one sum paid on two dates is two payments). Weighed one by one
and combined by noisy-OR, as paths of other ties are, many small payments outweighed one large one: 24 payments of
about 10,000 made a tie of 0.9994 where one of 240,000 made 0.485, and 24 of exactly 10,000 made 0.257 (they were
one fact then) (a review). Gift and conflict rules add up what one source gave (5 CFR 2635.204: per source and year;
"linked transactions" in AML rules), so the tie of a payer to a payee is what the payments add up to.

How much the sum weighs depends on how certain and how recent each payment is: a payment's factor f is its certainty
times its recency (`Strength.tie` without the sum's magnitude), so its own tie is f x `usd_strength(sum)`. Of the
payments in order of decreasing f, the tie is the most, over each k, of f_k times the strength of what the first k
add up to: the sum one can be at least f_k sure of and that recent. So:

- one payment weighs what it weighed alone; n equal payments weigh what one of their total weighs;
- a payment never lowers the tie (the k of the others stays): an old payment beside a new one adds its sum only at
  its own, lower, factor;
- the order the payments arrived in changes nothing: the payments of one factor are summed together (`math.fsum`,
  exact whatever their order), then the factors' sums are added in decreasing factor order.

Only sums the configured rates can weigh add up (`ScoringConfig.in_usd`): a payment without a sum, or in a currency
without a rate, stays a tie of its own, at the weight of a sum not given. The hop is a `paths.SummedHop` named after
the strongest payment, with every payment as its evidence.

`PaymentSum` holds what one edge's payments add up to and takes one payment in or out without a pass over the others
but in C (`math.fsum`, a list's insertion): the engine keeps one for each edge of thousands of records
(`scoring.crowded`), where each event added a payment and a pass over them all in Python cost 15 ms at 3,000.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from bisect import bisect_left, insort
from collections.abc import Iterable

from scoring.graph import Relation
from scoring.paths import Hop, SummedHop
from scoring.semantics import ONE_OFF_TYPES
from scoring.strength import Strength


def summand(rec: Relation, strength: Strength) -> tuple[float, float, float] | None:
    """(factor, dollars, weight) of a payment whose sum adds up; None: not one (no sum the rates weigh, not usable
    on the date, or of no weight). Its weight is `Strength.tie`'s, computed in the same order."""
    config = strength.config
    usd = config.in_usd(rec.amount, rec.currency)
    if usd is None:
        return None
    recency = strength.time.recency(rec, strength.day)
    if recency is None:
        return None
    factor = strength.certainty(rec) * recency
    weight = factor * config.usd_strength(usd)
    return (factor, usd, weight) if weight > 0 else None


_DIGESTS = 1 << 128


def _version_hash(rec: Relation) -> int:
    """A part's version (its relation id and event id: a fact restated has a new one), hashed: equal sums of these
    tell equal parts (a collision aside) in a comparison that costs no pass over them."""
    return int.from_bytes(hashlib.blake2b(f"{rec.relation_id}\x00{rec.event_id}".encode(), digest_size=16).digest(),
                          "big")


def _order(rec: Relation) -> tuple:
    """Payments in evidence order: by date (undated last), then relation id."""
    return rec.start is None, rec.start or dt.date.min, rec.relation_id


def _rank(rec: Relation, weight: float) -> tuple:
    """The strongest payment names the hop: the greatest weight, then the lowest relation id."""
    return -weight, rec.relation_id


class PaymentSum:
    """What the payments of one type, from one party to another, add up to on one date."""

    __slots__ = ("groups", "group_sums", "factors", "values", "parts", "weights", "strongest", "amounts", "digest",
                 "_weight")

    def __init__(self):
        self.groups: dict[float, list[float]] = {}  # factor -> the dollars of its payments
        self.group_sums: dict[float, float] = {}  # factor -> `math.fsum` of its dollars (exact whatever their order)
        self.factors: list[float] = []  # the distinct factors, ascending
        self._weight: float | None = None  # the hop's weight, until a payment comes or goes
        self.values: dict[Relation, tuple[float, float, float]] = {}  # record (by identity) -> `summand`
        self.parts: list[Relation] = []  # in `_order`
        self.weights: dict[Relation, float] = {}
        self.strongest: Relation | None = None
        self.amounts: dict[str, list[float]] = {}  # currency -> the sums stated in it
        self.digest = 0  # the sum of the parts' version hashes (`_version_hash`), modulo 2^128

    def add(self, rec: Relation, value: tuple[float, float, float]) -> None:
        factor, usd, weight = value
        self.values[rec] = value
        group = self.groups.get(factor)
        if group is None:
            group = self.groups[factor] = []
            insort(self.factors, factor)
        group.append(usd)
        self.group_sums[factor] = math.fsum(group)
        self._weight = None
        insort(self.parts, rec, key=_order)
        self.weights[rec] = weight
        self.amounts.setdefault(rec.currency, []).append(rec.amount)
        self.digest = (self.digest + _version_hash(rec)) % _DIGESTS
        if self.strongest is None or _rank(rec, weight) < _rank(self.strongest, self.weights[self.strongest]):
            self.strongest = rec

    def remove(self, rec: Relation) -> None:
        factor, usd, _ = self.values.pop(rec)
        group = self.groups[factor]
        group.remove(usd)
        if group:
            self.group_sums[factor] = math.fsum(group)
        else:
            del self.groups[factor], self.group_sums[factor]
            del self.factors[bisect_left(self.factors, factor)]
        self._weight = None
        del self.parts[bisect_left(self.parts, _order(rec), key=_order)]
        del self.weights[rec]
        amounts = self.amounts[rec.currency]
        amounts.remove(rec.amount)
        if not amounts:
            del self.amounts[rec.currency]
        self.digest = (self.digest - _version_hash(rec)) % _DIGESTS
        if rec is self.strongest:
            self.strongest = min(self.weights, key=lambda part: _rank(part, self.weights[part])) \
                if self.weights else None

    def __len__(self) -> int:
        return len(self.parts)

    def hop(self, forward: bool, strength: Strength) -> Hop | None:
        """The hop of these payments: None where there are none, the payment's own where there is one."""
        if not self.parts:
            return None
        strongest = self.strongest
        if len(self.parts) == 1:
            return Hop(strongest, forward, self.weights[strongest])
        weight = self._weight
        if weight is None:
            # the factors' sums added in decreasing factor order (one order, whatever the payments' own): the sum one
            # can be at least that sure of, at each factor
            usd_strength, group_sums = strength.config.usd_strength, self.group_sums
            running = 0.0
            weight = 0.0
            for factor in reversed(self.factors):
                running += group_sums[factor]
                weight = max(weight, factor * usd_strength(running))
            self._weight = weight = min(1.0, weight)
        if len(self.amounts) == 1:
            (currency, amounts), = self.amounts.items()
            total = math.fsum(amounts)
        else:
            total, currency = math.fsum(math.fsum(group) for group in self.groups.values()), None
        return SummedHop(strongest, forward, weight, True, tuple(self.parts), total, currency, self.digest)


def tie_hops(weighed: Iterable[tuple[Relation, float | None, bool]], strength: Strength,
             summed: dict[tuple, PaymentSum] | None = None) -> list[Hop]:
    """The hops of the usable ties between two parties (`weighed`: each record with its tie weight, None: not
    usable, and whether the hop walks it forward): a hop each, but the payments of one type and direction whose
    sums add up, which are one `SummedHop` where there are several, in the place of the first of them. `summed`:
    (type, forward) -> what the payments of an edge the engine keeps add up to (`scoring.crowded`), whose records
    `weighed` leaves out; their hop comes first."""
    hops: list[Hop | None] = []
    sums: dict[tuple, tuple[int, PaymentSum]] = {}  # (type, forward) -> (its place in `hops`, its payments)
    for key, held in (summed or {}).items():
        sums[key] = (len(hops), held)
        hops.append(None)
    for rec, weight, forward in weighed:
        if weight is None:
            continue
        if rec.type in ONE_OFF_TYPES:
            value = summand(rec, strength)
            if value is not None:
                held = sums.get((rec.type, forward))
                if held is None:
                    held = sums[rec.type, forward] = (len(hops), PaymentSum())
                    hops.append(None)
                held[1].add(rec, value)
                continue
        hops.append(Hop(rec, forward, weight))
    for (_, forward), (place, held) in sums.items():
        hops[place] = held.hop(forward, strength)
    return [hop for hop in hops if hop is not None]


def sum_into(sums: dict, rec: Relation, strength: Strength) -> bool:
    """Add a record to what its edge's payments add up to, if it is one whose sum adds up: whether it was."""
    if rec.type in ONE_OFF_TYPES:
        value = summand(rec, strength)
        if value is not None:
            held = sums.get(rec.type)
            if held is None:
                held = sums[rec.type] = PaymentSum()
            held.add(rec, value)
            return True
    return False


def take_out(sums: dict, rec: Relation) -> bool:
    """Take a record out of what its edge's payments add up to, if it is in it: whether it was."""
    held = sums.get(rec.type)
    if held is not None and rec in held.values:
        held.remove(rec)
        if not len(held):
            del sums[rec.type]
        return True
    return False


def others_of(entry: tuple[Relation, ...], sums: dict) -> tuple[Relation, ...]:
    """The records of an edge that are not summed payments, in the edge's order."""
    if not sums:
        return entry
    if len(sums) == 1:
        (relation_type, held), = sums.items()
        values = held.values
        return tuple([rec for rec in entry if rec not in values])
    return tuple([rec for rec in entry if rec.type not in sums or rec not in sums[rec.type].values])


def edge_sums(entry: tuple[Relation, ...], strength: Strength) -> tuple[dict, tuple[Relation, ...]]:
    """(type -> what the payments of one edge's records add up to, the edge's other records), summed afresh."""
    sums: dict = {}
    for rec in entry:
        sum_into(sums, rec, strength)
    return sums, others_of(entry, sums)
