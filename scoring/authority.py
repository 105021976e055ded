"""Authority: what a person steers, and the paths by which that power reaches a counterparty.

`reach(person)` walks forward from the person along the relations through which authority is exercised (an office
held, control of a body, a seat in a public body; the vocabulary's control flag, offices and seats), e.g.
person -occupancy-> Position -control-> PublicBody, as deep as the chain of command stays at or above
`authority.min_strength` (`hop_decay` per hop; a hard cap of `authority.max_hops`). A seat weighs its role
(`authority.seat_roles`: a chair above a member); the person's first hop weighs the tier of the office or body
(`authority.position_tiers`: head of state and national office above regional and municipal). Every node reached is a *source*: if it holds authority
relations (regulates, oversees, prosecutes, pardons, awards contracts), the person is an actor. A person's own
office counts while held and, once left, as a *former* source whose weight decays over the exposure horizon (see
`scoring.exposure`): the revolving-door rule reads those. All other hops must hold on the date.

`authority_paths(reach, counterparty)` then looks up authority relations from the sources to the counterparty, or
to what the counterparty owns at or above the ownership threshold through ownership chains: authority over a firm
is authority over its beneficial owners' interests (Donald Trump -control-> US Treasury -oversees-> Binance
<-ownership- Changpeng Zhao). Control alone (a chief executive's directorship) does not carry it. Those are
look-ups between known nodes, so a regulator overseeing 100 000 firms costs nothing per firm. An authority relation
must hold on the date for current authority; through an office the person has left (the revolving door), it counts
if it holds now or held while he held that office: the power his office had over the firm in his time, which he
may now be paid for, even when the contracts have run out since. A former path whose authority relation he still
exercises through a current one (a second term in the same office, a body his old office and his new one both
steer) is not a revolving door and is dropped: the power is counted once, as current.

An authority relation that ended while the person holds the power it comes through, decided in his time (its
end, or an award's start, after his dated first hop began and before it ended: `_decided_in_office`), is a
*decided matter*: a pardon granted, a case dismissed or settled, a contract run out. The power was used, and the
decision is what a tie may reward, so it does not vanish with the relation: it counts as a decided path, its
relation's weight fading linearly from its end over his office's exposure horizon (`TimeModel.decision_weight`).
Beside power he holds over the counterparty now it joins that power (one power, under the current rules); alone it
is COI-DECIDED-MATTER's, which weighs each tie by how soon after the matter ended it began (`scoring.cooling_off`).
A matter decided before his time is not his; once he has left the office, its matters are the revolving door's. A
former path over a relation he decided from his current office counts once, as decided.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from schemas.vocabulary import EntitySchema
from scoring.combine import union_strength
from scoring.config import as_tiered
from scoring.graph import Relation, records
from scoring.ownership import stake_of
from scoring.paths import (
    AUTHORITY,
    DECIDED_AUTHORITY,
    FORMER_AUTHORITY,
    Chain,
    Hop,
    Path,
    chain_nodes,
    chain_strength,
    command_strength,
    format_amount,
    ranked,
    reverse_chain,
)
from scoring.records import pickled_as_values
from scoring.search import SearchContext
from scoring.semantics import (AUTHORITY_TYPES, AWARDED_TYPES, IN, OFFICE_TYPES, OUT, RELAY_TYPES, SEAT_TYPES,
                               SIZED_TYPES, Layer)


@pickled_as_values
@dataclass(frozen=True, slots=True)
class Source:
    chain: Chain  # person -> source (empty for the person himself)
    former: float | None  # None: held now; else the decayed exposure of the office the person has left


@pickled_as_values
@dataclass(frozen=True, slots=True)
class Reach:
    actor: str
    sources: dict[str, tuple[Source, ...]]  # node -> the strongest ways the person steers it
    is_actor: bool  # some source holds authority relations


@dataclass(frozen=True, slots=True)
class ActorAuthority:
    current: tuple[Path, ...]  # strongest first, the `max_paths` strongest
    former: tuple[Path, ...]
    # the power over the counterparty from all the paths found, not only those kept (`combine.union_strength`:
    # keeping the strongest of paths that share relations could drop a weaker one that adds more, so that one
    # path fewer raised the power)
    power: float = 0.0
    former_power: float = 0.0
    # (the day it ended, the power its paths have, the office) of each office left whose former paths reach the
    # counterparty, all of them: the revolving door weighs a tie by how soon after each it began (`rules`)
    former_offices: tuple[tuple[dt.date, float, str], ...] = ()
    # office or body -> the chains of command actor -> it of all his former paths, before their authority relation
    # (the office he left, and what it steered to that power): what COI-REVOLVING-LOBBY reads lobbying of
    former_steered: dict[str, tuple[Chain, ...]] = field(default_factory=dict)
    decided: tuple[Path, ...] = ()  # through authority relations that ended in his time: matters decided
    decided_power: float = 0.0
    # (the day it was decided, the power of its paths, its relation id) of each decided matter, in the order of the
    # decisions: COI-DECIDED-MATTER weighs a tie by how soon after each it began, as the revolving door does
    decisions: tuple[tuple[dt.date, float, str], ...] = ()

    @property
    def any(self) -> bool:
        return bool(self.current or self.former or self.decided)


def reach(person: str, ctx: SearchContext) -> Reach:
    if ctx.schema(person) != EntitySchema.PERSON:
        return Reach(person, {}, False)
    cfg = ctx.config
    exposure, authority = cfg.exposure, cfg.authority
    limit = max(0, authority.max_hops - 1)
    found: dict[str, list[Source]] = {person: [Source((), None)]}
    budget = [authority.max_paths * 16]  # bounds dense webs of control; sorted iteration keeps it stable

    def descend(node: str, chain: Chain, former: float | None, on_chain: frozenset[str]) -> None:
        if len(chain) >= limit:
            return
        for steered, rec in ctx.edges(node, Layer.HOLDING, OUT, RELAY_TYPES):
            if steered in on_chain or budget[0] <= 0:
                continue
            if rec.type in SEAT_TYPES and ctx.schema(steered) != EntitySchema.PUBLIC_BODY:
                continue  # a seat on a company board or in a party is no public power
            if rec.type in OFFICE_TYPES:
                long = as_tiered(ctx.topics(node) | ctx.topics(steered)) & exposure.long_horizon_topics
                held = ctx.strength.time.office_weight(
                    rec, ctx.day, exposure.long_horizon_days if long else exposure.horizon_days)
                certainty = ctx.strength.certainty(rec)
                if held is None or certainty <= 0 or (held[1] and chain):
                    continue  # a left office counts only as the person's own first hop
                weight, now_former = certainty, (held[0] if held[1] else former)
            else:
                weight = ctx.strength.authority(rec)
                if weight is None:
                    continue
                now_former = former
            if rec.type in SEAT_TYPES:
                weight *= authority.seat_role_weight(rec.role)
            if not chain:  # the tier of the office held or body steered decides how far the person's power goes
                weight *= authority.tier_weight(ctx.topics(steered))
            hop = Hop(rec, True, weight)
            longer = chain + (hop,)
            if command_strength(longer, ctx.hop_decay) < authority.min_strength:
                continue  # too weak a chain of command to presume the power reaches this far
            budget[0] -= 1
            found.setdefault(steered, []).append(Source(longer, now_former))
            descend(steered, longer, now_former, on_chain | {steered})

    try:
        descend(person, (), None, frozenset({person}))
    finally:
        del descend  # a recursive closure refers to itself: unbound, its walk is freed now, not by the cycle collector
    keep = cfg.paths.max_reach_chains

    def rank(source: Source) -> tuple:
        return (-chain_strength(source.chain, ctx.hop_decay) * (1.0 if source.former is None else source.former),
                tuple(h.rec.relation_id for h in source.chain))

    sources = {node: tuple(sorted(ways, key=rank)[:keep]) for node, ways in sorted(found.items())}
    is_actor = any([ctx.has_edges(node, Layer.AUTHORITY, OUT) for node in sources])  # all read: all are inputs
    return Reach(person, sources, is_actor)


def authority_paths(actor_reach: Reach, counterparty: str, owned: dict[str, tuple[Chain, ...]],
                    ctx: SearchContext) -> ActorAuthority:
    """Paths actor -> source -authority-> counterparty, or -> an entity it owns (`owned`: chains counterparty ->
    entity), looked up between the known sources and targets."""
    cfg = ctx.config
    targets = {counterparty: ((),), **owned}
    current: list[Path] = []
    former: list[Path] = []
    decided: list[Path] = []
    time = ctx.strength.time
    interests: dict[tuple, frozenset[int]] = {}  # (target, office or None) -> ids of its chains that carry it
    graph = ctx.graph
    for target in sorted(targets):
        steering = graph.adjacency(target, Layer.AUTHORITY, IN)  # most targets have no authority relation at all
        if not steering:
            continue
        for source_node in actor_reach.sources:
            if source_node == target or source_node not in steering:
                continue
            for rec in graph.between(source_node, target, Layer.AUTHORITY):
                ctx.reads.visits += 1
                if rec.type not in AUTHORITY_TYPES:
                    continue
                weight = ctx.strength.authority(rec)  # None: it does not hold on the date
                held_once = weight is None and time.started(rec, ctx.day) \
                    and ctx.strength.certainty(rec) > 0
                if weight is None and not held_once:
                    continue
                decided_on = _decided_on(rec) if held_once else None
                for source in actor_reach.sources[source_node]:
                    if weight is None and source.former is None \
                            and _decided_in_office(decided_on, source.chain):
                        factor = time.decision_weight(rec, ctx.day, _long_horizon(actor_reach.actor, source, ctx))
                        if factor is None:
                            continue  # past the horizon
                        # the matter's period: the counterparty's interests then are what the decision was about
                        office, kind = rec, DECIDED_AUTHORITY
                    elif source.former is not None:
                        if weight is None and not _during(rec, source.chain[0].rec):
                            continue  # a left office's authority counts if it held while he held the office
                        office, factor, kind = source.chain[0].rec, source.former, FORMER_AUTHORITY
                    elif weight is not None:
                        office, factor, kind = None, 1.0, AUTHORITY
                    else:
                        continue  # decided before his time
                    carrying = interests.get((target, office))
                    if carrying is None:
                        carrying = interests[target, office] = frozenset(
                            map(id, _interests(targets[target], ctx, office, kind is DECIDED_AUTHORITY)))
                    for to_target in targets[target]:
                        if id(to_target) not in carrying:
                            continue
                        # a decided matter's fading weighs its own relation (`combine.union_strength` reads a
                        # path's strength beyond its hops' as its first hop's: a left office's exposure)
                        matter = kind is DECIDED_AUTHORITY
                        hops = source.chain \
                            + (Hop(rec, True, ctx.strength.certainty(rec) * factor if matter else
                                   weight or ctx.strength.certainty(rec)),) \
                            + reverse_chain(to_target)
                        nodes = chain_nodes(actor_reach.actor, hops)
                        if len(set(nodes)) != len(nodes):
                            continue
                        strength = chain_strength(hops, ctx.hop_decay) * (1.0 if matter else factor)
                        tier = _tier_note(source, ctx)
                        if kind is AUTHORITY:
                            current.append(Path(AUTHORITY, actor_reach.actor, hops, strength, tier))
                        elif kind is FORMER_AUTHORITY:
                            former.append(Path(FORMER_AUTHORITY, actor_reach.actor, hops, strength, tier))
                        else:
                            decided.append(Path(DECIDED_AUTHORITY, actor_reach.actor, hops, strength,
                                                _joined(tier, _decision_note(factor))))
    if current and decided:
        # beside power he holds over the counterparty now, a matter he decided adds to that power as it did while
        # pending, fading: one power, under the current rules (a review: a second rule on the same tie raised the
        # score the day a case was dismissed, or ended in a conviction, where another body's power went on)
        current += decided
        decided = []
    if (current or decided) and former:
        # a power he still exercises is no revolving door: a former path whose authority relation a current path
        # uses too (a second term in the same office; an old office's body he steers from a new one) is dropped,
        # and so is one over a matter he decided from his current office (counted once, as his decision). (Not one
        # over another relation of the same body and party: a review found that dropping those lost power, and
        # the revolving door's lobbying, wherever a weaker current relation stood beside them.)
        held = {authority_hop(path).rec.relation_id for path in (*current, *decided)}
        former = [path for path in former if authority_hop(path).rec.relation_id not in held]
    # the awards' size, once each list is what it counts: a run-out contract beside running ones, one reached
    # through two offices, or one a current path took from the revolving door is one award of one total
    current, former, decided = (_sized(paths, kind, ctx) for paths, kind in
                                ((current, AUTHORITY), (former, FORMER_AUTHORITY), (decided, DECIDED_AUTHORITY)))
    keep = cfg.authority.max_paths
    current, former, decided = ranked(current), ranked(former), ranked(decided)
    return ActorAuthority(current=tuple(current[:keep]), former=tuple(former[:keep]),
                          power=union_strength(current, ctx.hop_decay),
                          former_power=union_strength(former, ctx.hop_decay),
                          former_offices=_offices_left(former, ctx.hop_decay),
                          former_steered=_steered_from_offices_left(former),
                          decided=tuple(decided[:keep]),
                          decided_power=union_strength(decided, ctx.hop_decay),
                          decisions=_decisions(decided, ctx.hop_decay))


def _sized(paths: list[Path], kind: str, ctx: SearchContext) -> list[Path]:
    """The paths through awards that state their sum (`SIZED_TYPES`) weighed by what those awards add up to, on the
    scale payments are weighed on (`ScoringConfig.usd_strength`): the contracts his power gave the counterparty and
    the firms it owns, each counted once however many paths reach it. The size is one factor the paths share
    (`Path.shared_factor`), counted once by `combine.union_strength`: weighed one by one, twenty contracts of
    $10,000 would add up by noisy-OR to more power than one of $200,000. An award that states no sum, or one in a
    currency without a rate, may be any size: its paths weigh in full, as every award did before sizes counted."""
    config = ctx.config
    dollars: dict[Relation, float] = {}
    sized: set[int] = set()
    for path in paths:
        rec = authority_hop(path).rec
        if rec.type in SIZED_TYPES:
            usd = config.in_usd(rec.amount, rec.currency)
            if usd is not None:
                dollars[rec] = usd
                sized.add(id(path))
    if not sized:
        return paths
    total = math.fsum(dollars.values())
    size = config.usd_strength(total)
    if size >= 1.0:
        return paths
    if size <= 0.0:  # (a floor strength of 0: awards at the floor give no power)
        return [path for path in paths if id(path) not in sized]
    awarded = list(dollars)
    currencies = {rec.currency for rec in awarded}
    in_all = "" if len(awarded) == 1 else " in all"
    if len(currencies) == 1:
        worth = f"{format_amount(math.fsum(rec.amount for rec in awarded), currencies.pop())}{in_all}"
    else:
        worth = f"{format_amount(total, 'USD')}{in_all} at the configured rates"
    shown = math.floor(size * 100 + 1e-9) / 100  # never "1.00" for less
    note = f"a contract worth {worth}: the award weighs {shown:.2f} by its size" if len(awarded) == 1 else \
        f"{len(awarded)} contracts worth {worth}: the awards weigh {shown:.2f} by their size"
    key = (f"\x00awards\x00{kind}", "", True, size)
    return [Path(path.kind, path.start, path.hops, path.strength * size,
                 f"{path.note}; {note}" if path.note else note, (key, size)) if id(path) in sized else path
            for path in paths]


def _decided_on(rec: Relation) -> dt.date:
    """The day an ended authority relation's matter was decided: its end (a pardon granted, a case dismissed), or
    for an award its start (`schemas.vocabulary`: the contract was decided when awarded, not when it ran out)."""
    return rec.start if rec.type in AWARDED_TYPES and rec.start is not None else rec.end


def _decided_in_office(decided_on: dt.date | None, chain: Chain) -> bool:
    """Whether a matter decided on that day (None: not an ended relation) was decided by the power the person
    reaches it through: his own first hop (his office, his control of a body) began before that day and had not
    ended by then, and no later link of his chain of command began on or after it: neither a predecessor's last
    day nor a body that came under his office after the decision makes it his. A first hop whose start nobody
    stated does not say the decision was his (credited, it took every decision of the horizon before he was even
    reported in office; dated by its first report, a register that restated it later took the decision away: two
    reviews). The person's own authority relation, with no hop before it, is his."""
    if decided_on is None:
        return False
    if not chain:
        return True
    first = chain[0].rec
    if first.start is None or first.start >= decided_on or (first.end is not None and first.end < decided_on):
        return False
    # the links after his own (an office's control of a body) are structural and mostly undated: only a stated
    # start tells that a body came under his office after the decision (a reorganisation)
    return all(hop.rec.start is None or hop.rec.start < decided_on for hop in chain[1:])


def _long_horizon(actor: str, source: Source, ctx: SearchContext) -> bool:
    """Whether a matter fades over the long exposure horizon: decided by a head of state or in national office
    (the person's topics, or his first hop's office or body), as his exposure after leaving it does."""
    topics = ctx.topics(actor) if not source.chain else ctx.topics(actor) | ctx.topics(source.chain[0].end)
    return bool(as_tiered(topics) & ctx.config.exposure.long_horizon_topics)


def _tier_note(source: Source, ctx: SearchContext) -> str | None:
    """What the tier of the office held or the body steered first takes from a path's strength, where it takes
    anything (`authority.position_tiers`: a municipal office 0.6): the topic that tiers it, which the office's
    current statements state (`ResolvingEngine._restate_topics`). None for a national office or one without a
    tier."""
    if not source.chain:
        return None
    first = source.chain[0].end
    tier = ctx.config.authority.tier_of(ctx.topics(first))
    if tier is None or tier[0] >= 1.0:
        return None
    weight, topic = tier
    what = "office" if ctx.schema(first) is EntitySchema.POSITION else "body"
    return f"the {what}'s tier, {topic}, weighs {weight:.2f}"


def _joined(*notes: str | None) -> str | None:
    return "; ".join(note for note in notes if note) or None


def _decision_note(factor: float) -> str:
    counts = math.floor(factor * 100) / 100  # never "1.00" for less
    return f"a matter decided in his time: it weighs {counts:.2f}, fading from the decision over the exposure horizon"


def _ended(paths: list[Path], ended_rec, named, hop_decay: float) -> tuple[tuple[dt.date, float, str], ...]:
    """(end, power, name) of each ended relation the paths run through (`ended_rec` of a path, `named` of the
    relation), in the order of their ends: the clocks `cooling_off.late_ties` times ties against."""
    by_rec: dict[Relation, list[Path]] = {}
    for path in paths:
        by_rec.setdefault(ended_rec(path), []).append(path)
    return tuple(sorted((rec.end, union_strength(group, hop_decay), named(rec)) for rec, group in by_rec.items()))


def _decisions(decided: list[Path], hop_decay: float) -> tuple[tuple[dt.date, float, str], ...]:
    """(end, power, relation id) of each matter the decided paths run through (`ActorAuthority.decisions`)."""
    return _ended(decided, lambda path: authority_hop(path).rec, lambda matter: matter.relation_id, hop_decay)


def _offices_left(former: list[Path], hop_decay: float) -> tuple[tuple[dt.date, float, str], ...]:
    """(end, power, office) of each office the former paths run through (their first hop: `reach` takes a left
    office only there)."""
    return _ended(former, lambda path: path.hops[0].rec, lambda office: office.target, hop_decay)


def _steered_from_offices_left(former: list[Path]) -> dict[str, tuple[Chain, ...]]:
    """`ActorAuthority.former_steered`, each chain once (paths to many targets share one chain of command)."""
    found: dict[str, dict[tuple, Chain]] = {}
    for path in former:
        hops = path.hops
        command = next((at for at, hop in enumerate(hops) if hop.rec.type in AUTHORITY_TYPES), len(hops))
        for length in range(1, command + 1):
            chain = hops[:length]
            found.setdefault(chain[-1].end, {}).setdefault(tuple(id(hop.rec) for hop in chain), chain)
    return {node: tuple(chains.values()) for node, chains in found.items()}


def authority_hop(path: Path) -> Hop | None:
    """The path's authority relation (the first hop after the chain of command: that chain relays only); None for a
    path without one (a commercial path). `alerts.case_of` reads the same edge of a published score."""
    return next((hop for hop in path.hops if hop.rec.type in AUTHORITY_TYPES), None)


def _interests(chains: tuple[Chain, ...], ctx: SearchContext, office, matter: bool = False) -> tuple[Chain, ...]:
    """The chains of stakes (counterparty -> a firm it beneficially owns) through which authority over the firm is
    authority over the counterparty's interests: those whose every stake holds on the date, as authority must;
    through a left office (`office`), a stake held while he held it will do too. A firm its owner sold is no
    interest of his any more: his ended stake is an ended tie, which the firm's own pair keeps (decaying), and not
    a way for authority over the firm to reach him.

    The firm is his by all the stakes the walk found: where some chains are set aside, those left must reach the
    ownership threshold by themselves (a holding company's 10 % beside a sold 60 % is no beneficial ownership).
    The chains are only those the walk kept, the strongest `max_reach_chains`: a held chain weaker than that many
    sold ones is not among them until the sold ones have decayed below it (docs/scoring.md).

    For a decided matter (`matter`: `office` is then the ended authority relation), only the stakes held while the
    matter ran: a firm bought after the decision was not the buyer's matter (a review)."""
    kept = tuple(chain for chain in chains if all(
        _during(hop.rec, office) if matter else
        hop.rec.end is None or hop.rec.end >= ctx.day or (office is not None and _during(hop.rec, office))
        for hop in chain))
    if len(kept) == len(chains):
        return chains
    return kept if stake_of(kept, ctx) >= ctx.config.ownership.threshold - 1e-12 else ()


def _during(rec, office) -> bool:
    """Whether an authority relation held at some time while the office was held (undated ends are open)."""
    return (rec.end is None or office.start is None or rec.end >= office.start) and \
        (rec.start is None or office.end is None or rec.start <= office.end)


def steering_persons(node: str, graph, max_relay_hops: int) -> set[str]:
    """People who may steer `node` through offices and control within the hop limit: a superset of those whose
    `reach` contains it (structure only: no dates, statuses or hub limits), to find new actors after a change."""
    found: set[str] = set()
    seen, frontier = {node}, [node]
    for depth in range(max_relay_hops + 1):
        upstream = []
        for current in frontier:
            if graph.schema(current) == EntitySchema.PERSON:
                found.add(current)
            if depth == max_relay_hops:
                continue
            for holder, entry in graph.adjacency(current, Layer.HOLDING, IN).items():
                if holder not in seen and any(rec.type in RELAY_TYPES for rec in records(entry)):
                    seen.add(holder)
                    upstream.append(holder)
        frontier = upstream
    return found
