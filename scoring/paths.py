"""Paths as the rules build them: a start node and a sequence of hops, each a relation walked with or against its
direction, with the hop's weight. Explanations (`scoring.explain`) render these; rules combine their strengths."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from operator import itemgetter

from scoring.graph import Relation
from scoring.records import pickled_as_values


def percent_text(share: float, bound: bool = False) -> str:
    """A share as explanations show it, in percent without the sign: four significant digits, cut rather than
    rounded, so that a share never shows as more than it is: a stake of 24.999 % is below the 25 % threshold and
    reads "24.99", not "25" (float error in the last place is not cut: 0.29 reads "29"). `bound`: the share is
    the most there may be (an assumed stake, just below what its source says it is under), shown rounded: "10"."""
    value = share * 100
    if bound or value <= 0:
        return f"{value:.4g}"
    decimals = max(0, 3 - math.floor(math.log10(value)))
    scale = 10 ** decimals
    kept = math.floor(value * scale + 1e-9) / scale
    return f"{kept:.{decimals}f}".rstrip("0").rstrip(".") if decimals else f"{kept:.0f}"


def format_amount(amount: float, currency: str | None) -> str:
    """An amount in four significant digits, in the largest unit it reaches once rounded: 999,999 reads "1M",
    not "1000k" (a review)."""
    text = f"{amount:.4g}"
    for size, suffix in ((1e9, "bn"), (1e6, "M"), (1e3, "k")):
        if float(f"{amount:.4g}") >= size:
            shown = f"{amount / size:.4g}"
            text = f"{shown}{suffix}" if "e" not in shown else f"{amount / size:.0f}{suffix}"
            break
    return f"{text} {currency}" if currency else text


@pickled_as_values
class Hop:
    """One relation of a path, walked with or against its direction, with the hop's weight.

    A slotted record rather than a named tuple: a snapshot holds about two hops a relation in the cached chains, and
    pickle can rebuild a tuple only from a tuple of its fields, which the pickler's memo keeps until the whole
    snapshot is written and the unpickler's until it is loaded (bench/snapshot_load.py: the allocator's free
    blocks after a restart). A record fills its slots from list items instead (`records.pickled_as_values`), and
    costs 64 bytes where the tuple cost 72. Compared and hashed by its fields, as the tuple was; never changed once
    made (the chains of one refresh share a record's hop: `Strength.holding_hop`)."""

    __slots__ = ("rec", "forward", "weight", "decays")

    def __init__(self, rec: Relation, forward: bool, weight: float, decays: bool = True):
        self.rec = rec
        self.forward = forward  # False: the path walks the relation from its target to its source
        self.weight = weight
        # False for a hop of an ownership or control chain (`scoring.ownership`): such a chain passes a stake on
        # whole or in part (its weight says how much), not as one more assumption per tier, so depth alone never
        # weakens it
        self.decays = decays

    def __eq__(self, other: object) -> bool:
        # field by field, in Python: every hop of the results a recomputation compares with what they were comes here
        if type(other) is not Hop:
            return NotImplemented
        return self.rec == other.rec and self.weight == other.weight and self.forward == other.forward \
            and self.decays == other.decays

    def __hash__(self) -> int:
        return hash((self.rec, self.forward, self.weight, self.decays))

    def __repr__(self) -> str:
        return f"Hop({self.rec!r}, forward={self.forward}, weight={self.weight}, decays={self.decays})"

    @property
    def start(self) -> str:
        return self.rec.source if self.forward else self.rec.target

    @property
    def end(self) -> str:
        return self.rec.target if self.forward else self.rec.source

    def reversed(self) -> Hop:
        return Hop(self.rec, not self.forward, self.weight, self.decays)

    def signature(self) -> tuple:
        return self.rec.relation_id, self.rec.event_id, self.forward, round(self.weight, 9), self.decays


@pickled_as_values
class FormerHop(Hop):
    """A hop of a chain that was part of a holding that has ended, though the relation itself still holds (or
    ended later): the stake is weighed as if it had ended with the holding, from `held_until`
    (`ownership._former_chains`), and its explanation says so. Rare: only former holdings make them."""

    __slots__ = ("held_until",)

    def __init__(self, rec: Relation, forward: bool, weight: float, decays: bool, held_until):
        super().__init__(rec, forward, weight, decays)
        self.held_until = held_until

    def __eq__(self, other: object) -> bool:
        if type(other) is not FormerHop:
            return NotImplemented
        return self.rec == other.rec and self.weight == other.weight and self.forward == other.forward \
            and self.decays == other.decays and self.held_until == other.held_until

    def __hash__(self) -> int:
        return hash((self.rec, self.forward, self.weight, self.decays, self.held_until))

    def __repr__(self) -> str:
        return (f"FormerHop({self.rec!r}, forward={self.forward}, weight={self.weight}, decays={self.decays}, "
                f"held_until={self.held_until})")

    def reversed(self) -> FormerHop:
        return FormerHop(self.rec, not self.forward, self.weight, self.decays, self.held_until)

    def signature(self) -> tuple:
        return (*super().signature(), self.held_until)



@pickled_as_values
class SummedHop(Hop):
    """The payments of one type from one party to another, as one hop (`scoring.payments`): `rec` is the strongest
    of them, which the hop is named after; `parts` are all of them, oldest first; `total` what they add up to, in
    `currency` (None: in US dollars at the configured rates, their currencies differing). Rare: only parties paid
    several times by one another make them."""

    __slots__ = ("parts", "total", "currency", "digest")

    def __init__(self, rec: Relation, forward: bool, weight: float, decays: bool, parts: tuple[Relation, ...],
                 total: float, currency: str | None, digest: int):
        super().__init__(rec, forward, weight, decays)
        self.parts = parts
        self.total = total
        self.currency = currency
        # the parts' versions, summed (`payments.PaymentSum`): what a rendering compares, without a pass over them
        self.digest = digest

    def __eq__(self, other: object) -> bool:
        if type(other) is not SummedHop:
            return NotImplemented
        return self.rec == other.rec and self.weight == other.weight and self.forward == other.forward \
            and self.decays == other.decays and self.parts == other.parts

    def __hash__(self) -> int:
        return hash((self.rec, self.forward, self.weight, self.decays, self.parts))

    def __repr__(self) -> str:
        return (f"SummedHop({self.rec!r}, forward={self.forward}, weight={self.weight}, {len(self.parts)} parts, "
                f"total={self.total} {self.currency or 'USD'})")

    def reversed(self) -> SummedHop:
        return SummedHop(self.rec, not self.forward, self.weight, self.decays, self.parts, self.total, self.currency,
                         self.digest)

    def signature(self) -> tuple:
        return (*super().signature(), len(self.parts), self.digest)


Chain = tuple[Hop, ...]


def reverse_chain(chain: Chain) -> Chain:
    return tuple([Hop(hop.rec, not hop.forward, hop.weight, hop.decays) if type(hop) is Hop else hop.reversed()
                  for hop in reversed(chain)])


def chain_product(chain: Iterable[Hop]) -> float:
    product = 1.0
    for hop in chain:
        product *= hop.weight
    return product


def chain_strength(chain: Chain, hop_decay: float) -> float:
    """The product of the hop weights times `hop_decay` per decaying hop after the first: every associate, money,
    lobbying or authority link added to a path is one more assumption about who passes an interest to whom. The
    hops of ownership and control chains never decay: a company wholly owned twenty tiers down weighs what a
    direct stake of the same effective size weighs (layering must not hide an interest)."""
    decaying = -1
    product = 1.0
    for hop in chain:
        product *= hop.weight
        if hop.decays:
            decaying += 1
    return product * hop_decay ** decaying if decaying > 0 else product


def command_strength(chain: Chain, hop_decay: float) -> float:
    """The strength of a chain of command below the person's own link (his office, seat or control, whose doubt
    and tier weigh his authority but do not cut it off): the later links' weights and a decay per link."""
    strength = hop_decay ** (len(chain) - 1)
    for hop in chain[1:]:
        strength *= hop.weight
    return strength


def chain_signature(chain: Chain) -> tuple:
    return tuple(hop.signature() for hop in chain)


def chain_nodes(start: str, chain: Chain) -> tuple[str, ...]:
    # `Hop.end` spelled out: the rules call this for every path they combine
    return (start, *[hop.rec.target if hop.forward else hop.rec.source for hop in chain])


def relation_ids(chain: Chain) -> tuple[str, ...]:
    return tuple([hop.rec.relation_id for hop in chain])


def strongest(chains: Iterable[Chain], hop_decay: float, limit: int) -> tuple[Chain, ...]:
    """The `limit` strongest chains, ties broken by relation ids so that the choice never depends on input order."""
    if type(chains) is not list:
        chains = list(chains)
    if len(chains) == 1 and limit > 0:
        return (chains[0],)  # the common case: nothing to rank
    # Ranked by strength and relation ids first; the full signature (a rounded weight per hop) is computed only if
    # two chains tie on both, which then ranks all of them exactly as the full key would.
    ranked = sorted([((-chain_strength(c, hop_decay), relation_ids(c)), c) for c in chains], key=itemgetter(0))
    if any(ranked[i][0] == ranked[i + 1][0] for i in range(len(ranked) - 1)):
        return tuple(sorted(chains, key=lambda c: (-chain_strength(c, hop_decay), relation_ids(c),
                                                     chain_signature(c)))[:limit])
    return tuple(c for _, c in ranked[:limit])


# What a path proves, as the rules use it; `PathKind` in the output contract has only authority/commercial.
AUTHORITY = "authority"  # the actor holds power over the counterparty
FORMER_AUTHORITY = "former_authority"  # ...through an office the actor has left (revolving door)
DECIDED_AUTHORITY = "decided_authority"  # ...held, and used: an authority relation that ended in his time (a decision)
OWNERSHIP = "ownership"  # the actor's exposure set owns or controls the counterparty or its group
COMMERCIAL = "commercial"  # a commercial tie between the exposure set and the counterparty's group
LOBBY = "lobby"  # the counterparty's group lobbies the actor or the apparatus he steers
FORMER_LOBBY = "former_lobby"  # ...or the actor lobbies what an office he has left steers


@pickled_as_values
@dataclass(frozen=True, slots=True)
class Path:
    kind: str
    start: str
    hops: Chain
    strength: float
    note: str | None = None  # shown after the path's text (e.g. a stake the related parties hold together)
    # (key, weight) of a factor of `strength` beyond its hops that other paths may share, which
    # `combine.union_strength` counts once: the size of the awards among one kind of a pair's authority paths
    # (`authority._sized`), which each of those paths carries
    shared_factor: tuple[tuple, float] | None = None

    @property
    def end(self) -> str:
        return self.hops[-1].end if self.hops else self.start

    def relation_ids(self) -> tuple[str, ...]:
        return relation_ids(self.hops)

    def sort_key(self) -> tuple:
        return -self.strength, self.relation_ids(), chain_signature(self.hops)

    def is_simple(self) -> bool:
        nodes = chain_nodes(self.start, self.hops)
        return len(set(nodes)) == len(nodes)


def ranked(paths: Iterable[Path]) -> list[Path]:
    """`sorted(paths, key=Path.sort_key)`, computing the full signatures (a rounded weight per hop) only when two
    paths tie on strength and relation ids, which then ranks all of them exactly as the full key would."""
    keyed = sorted([((-p.strength, relation_ids(p.hops)), p) for p in paths], key=itemgetter(0))
    if any(keyed[i][0] == keyed[i + 1][0] for i in range(len(keyed) - 1)):
        return sorted([p for _, p in keyed], key=Path.sort_key)
    return [p for _, p in keyed]
