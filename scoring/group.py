"""A counterparty's group: the counterparty, the entities that own (at or above the threshold) or control it, and
the entities it owns or controls. A commercial tie with any of them is a tie with the counterparty; the explanation
then walks from the group member to the counterparty."""

from __future__ import annotations

from dataclasses import dataclass

from scoring.ownership import holdings, owners
from scoring.paths import Chain, Hop, reverse_chain, strongest
from scoring.search import SearchContext, Ties, commercial_ties
from scoring.semantics import INFLUENCE_TYPES, OUT, Layer


@dataclass(frozen=True, slots=True)
class Group:
    counterparty: str
    members: dict[str, tuple[Chain, ...]]  # member -> chains member -> counterparty (empty for itself)
    ties: Ties  # every usable commercial relation of the members (and those to tokens and securities)
    influence: tuple[tuple[str, str, Hop], ...]  # (member, lobbied target, hop member -> target)

    def touched_nodes(self) -> set[str] | None:
        """Every node of an exposure set this group's pairs can depend on; None: any (a member is a hub whose
        ties are probed against the whole exposure set)."""
        if self.ties.capped:
            return None
        nodes = set(self.members) | set(self.ties.by_asset) | {t for _, t, _ in self.influence}
        nodes.update(neighbour for ties in self.ties.by_member.values() for neighbour, _ in ties)
        return nodes


def group(counterparty: str, ctx: SearchContext) -> Group:
    members: dict[str, list[Chain]] = {counterparty: [()]}
    for owner, holding in sorted(owners(counterparty, ctx).items()):
        members.setdefault(owner, []).extend(holding.chains)  # already oriented owner -> counterparty
    for held, holding in sorted(holdings(counterparty, ctx).items()):
        members.setdefault(held, []).extend(reverse_chain(c) for c in holding.chains)
    keep = ctx.config.paths.max_reach_chains
    final = {m: strongest(chains, ctx.hop_decay, keep) for m, chains in members.items()}
    ties = commercial_ties(final, ctx, everyone=True)
    influence = []
    for member in sorted(final):
        for target, rec in ctx.edges(member, Layer.INFLUENCE, OUT, INFLUENCE_TYPES):
            weight = ctx.strength.reach(rec)
            if weight is not None:
                influence.append((member, target, Hop(rec, True, weight)))
    return Group(counterparty, final, ties, tuple(influence))
