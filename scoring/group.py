"""A counterparty's group: the counterparty, the entities that own (at or above the threshold) or control it, and
the entities it owns or controls. A commercial tie with any of them is a tie with the counterparty; the explanation
then walks from the group member to the counterparty. Also kept: what the counterparty beneficially owns (through
ownership alone), over which authority reaches it (see `scoring.authority`)."""

from __future__ import annotations

from dataclasses import dataclass

from scoring.ownership import holdings, owners
from scoring.paths import Chain, Hop, reverse_chain, strongest
from scoring.search import AssetTies, SearchContext, asset_ties
from scoring.semantics import INFLUENCE_TYPES, OUT, STAKE_TYPES, Layer


@dataclass(frozen=True, slots=True)
class Group:
    counterparty: str
    members: dict[str, tuple[Chain, ...]]  # member -> chains member -> counterparty (empty for itself)
    assets: AssetTies  # the members' ties to tokens and securities
    influence: tuple[tuple[str, str, Hop], ...]  # (member, lobbied target, hop member -> target)
    owned: dict[str, tuple[Chain, ...]]  # beneficially owned (ownership chains only): counterparty -> entity


def group(counterparty: str, ctx: SearchContext) -> Group:
    members: dict[str, list[Chain]] = {counterparty: [()]}
    for owner, holding in sorted(owners(counterparty, ctx).items()):
        members.setdefault(owner, []).extend(holding.chains)  # already oriented owner -> counterparty
    for held, holding in sorted(holdings(counterparty, ctx).items()):
        members.setdefault(held, []).extend(reverse_chain(c) for c in holding.chains)
    keep = ctx.config.paths.max_reach_chains
    final = {m: strongest(chains, ctx.hop_decay, keep) for m, chains in members.items()}
    assets = asset_ties(final, ctx)
    influence = []
    for member in sorted(final):
        for target, rec in ctx.edges(member, Layer.INFLUENCE, OUT, INFLUENCE_TYPES):
            weight = ctx.strength.reach(rec)
            if weight is not None:
                influence.append((member, target, Hop(rec, True, weight)))
    owned = {held: holding.chains for held, holding in sorted(holdings(counterparty, ctx, STAKE_TYPES).items())}
    return Group(counterparty, final, assets, tuple(influence), owned)
