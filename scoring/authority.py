"""Authority: who holds public power over a counterparty, and through which offices and bodies.

The search walks backwards from the counterparty: an authority relation (regulates, oversees, prosecutes, pardons,
awards contracts) names its holder; from there, relations through which authority is exercised (an office held,
control of a body) lead to the people behind it, up to `authority.max_hops` hops, e.g.
person -occupancy-> Position -control-> PublicBody -oversees-> firm. Every person on such a path is an actor.

Authority over a firm is also authority over the interests of its beneficial owners: the search starts from the
counterparty and from every entity it owns at or above the ownership threshold through ownership chains (control
alone, e.g. a chief executive's directorship, does not carry it: the manager's money is not at stake), e.g.
Donald Trump -control-> US Treasury -oversees-> Binance <-ownership- Changpeng Zhao.

Walking backwards keeps the search small where fan-out is legitimately huge (a regulator overseeing 100 000 firms):
a firm has few regulators, a regulator few controllers. Every hop must hold on the date, except that an office the
person has left still links him to the power it carries, with an exposure that decays over the horizon (see
`scoring.exposure`): that is what the revolving-door rule looks at.
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.vocabulary import EntitySchema
from scoring.ownership import holdings, owners
from scoring.paths import AUTHORITY, FORMER_AUTHORITY, Chain, Hop, Path, chain_nodes, chain_strength, reverse_chain
from scoring.search import SearchContext
from scoring.semantics import AUTHORITY_TYPES, IN, OFFICE_TYPES, RELAY_TYPES, STAKE_TYPES, Layer


@dataclass(frozen=True, slots=True)
class ActorAuthority:
    current: tuple[Path, ...]  # strongest first
    former: tuple[Path, ...]


@dataclass(frozen=True, slots=True)
class AuthorityScan:
    actors: dict[str, ActorAuthority]  # actor -> paths from the actor to the counterparty
    # Some authority relation (held or not on the date) points at the counterparty or what it owns: the scan
    # must be kept up to date even while it finds no actor (a new controller of the regulator makes one).
    watched: bool


def authority_over(counterparty: str, ctx: SearchContext) -> AuthorityScan:
    cfg = ctx.config
    max_hops = cfg.authority.max_hops
    exposure = cfg.exposure
    current: dict[str, list[Path]] = {}
    former: dict[str, list[Path]] = {}
    # Bounds the enumeration in dense webs of control; sorted iteration keeps what is cut off deterministic.
    budget = [cfg.authority.max_paths * 16]

    def climb(node: str, chain: Chain, tail: int, on_chain: frozenset[str]) -> None:
        budget[0] -= 1
        if budget[0] < 0:
            return
        if ctx.schema(node) == EntitySchema.PERSON:
            current.setdefault(node, []).append(Path(AUTHORITY, node, chain, chain_strength(chain, ctx.hop_decay)))
        if len(chain) - tail >= max_hops:
            return
        for holder, rec in ctx.edges(node, Layer.HOLDING, IN, RELAY_TYPES):
            if holder in on_chain:
                continue
            if rec.type in OFFICE_TYPES:
                long = (ctx.topics(node) | ctx.topics(holder)) & exposure.long_horizon_topics
                held = ctx.strength.time.office_weight(
                    rec, ctx.day, exposure.long_horizon_days if long else exposure.horizon_days)
                certainty = ctx.strength.certainty(rec)
                if held is None or certainty <= 0:
                    continue
                office_weight, left = held
                longer = (Hop(rec, True, certainty),) + chain
                if left:
                    if ctx.schema(holder) == EntitySchema.PERSON:
                        strength = chain_strength(longer, ctx.hop_decay) * office_weight
                        former.setdefault(holder, []).append(Path(FORMER_AUTHORITY, holder, longer, strength))
                    continue
                climb(holder, longer, tail, on_chain | {holder})
            else:
                weight = ctx.strength.authority(rec)
                if weight is not None:
                    climb(holder, (Hop(rec, True, weight),) + chain, tail, on_chain | {holder})

    ctx.schema(counterparty)
    watched = False
    targets: list[tuple[str, Chain]] = [(counterparty, ())]
    for owned, holding in sorted(holdings(counterparty, ctx, STAKE_TYPES).items()):
        targets.extend((owned, reverse_chain(chain)) for chain in holding.chains)
    for target, to_counterparty in targets:
        regulators = ctx.edges(target, Layer.AUTHORITY, IN, AUTHORITY_TYPES)
        watched = watched or bool(ctx.graph.fanout(target, Layer.AUTHORITY, IN))
        for holder, rec in regulators:
            weight = ctx.strength.authority(rec)
            on_chain = frozenset(chain_nodes(target, to_counterparty)) | {holder}
            if weight is not None and holder not in chain_nodes(target, to_counterparty):
                climb(holder, (Hop(rec, True, weight),) + to_counterparty, len(to_counterparty), on_chain)

    keep = cfg.authority.max_paths
    actors = sorted((set(current) | set(former)) - {counterparty})
    return AuthorityScan(
        actors={actor: ActorAuthority(
            current=tuple(sorted(current.get(actor, ()), key=Path.sort_key)[:keep]),
            former=tuple(sorted(former.get(actor, ()), key=Path.sort_key)[:keep]))
            for actor in actors},
        watched=watched)


def counterparty_candidates(target: str, ctx: SearchContext) -> list[str]:
    """Entities over which authority pointed at `target` is authority: itself and its beneficial owners."""
    return [target, *sorted(owners(target, ctx, STAKE_TYPES))]
