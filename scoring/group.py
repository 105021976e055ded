"""A counterparty's group: the counterparty, the entities that own (at or above the threshold) or control it, and
the entities it owns or controls. A commercial tie with any of them is a tie with the counterparty; the explanation
then walks from the group member to the counterparty."""

from __future__ import annotations

from dataclasses import dataclass

from scoring.exposure import held_by
from scoring.ownership import Holding, owners
from scoring.paths import Chain, Hop, reverse_chain, strongest
from scoring.records import pickled_as_values
from scoring.search import SearchContext, Ties, commercial_ties
from scoring.semantics import INFLUENCE_TYPES, OUT, Layer


# A member with more ties than this is "wide": its groups name it, and whom it is tied to is indexed once under it
# (`caches.CacheStore.mentioning`); most members have a few ties, indexed with each group as they are
WIDE_MEMBER_TIES = 16


@pickled_as_values
@dataclass(frozen=True, slots=True)
class Group:
    counterparty: str
    members: dict[str, tuple[Chain, ...]]  # member -> chains member -> counterparty (empty for itself)
    ties: Ties  # every usable commercial relation of the members (and those to tokens and securities)
    influence: tuple[tuple[str, str, Hop], ...]  # (member, lobbied target, hop member -> target)

    def touched_nodes(self) -> set[str] | None:
        """Every node of an exposure set this group's pairs can depend on; None: any (a member is a hub whose
        ties are probed against the whole exposure set). `named_nodes` and the neighbours of `wide_members`."""
        nodes = self.named_nodes()
        if nodes is not None:
            for ties in self.wide_members().values():
                nodes.update([neighbour for neighbour, _, _ in ties])
        return nodes

    def named_nodes(self) -> set[str] | None:
        """`touched_nodes` but the neighbours of the wide members: the members, assets and lobbying targets, and
        whom the other members are tied to."""
        if self.ties.capped:
            return None
        nodes = set(self.members) | set(self.ties.by_asset) | {t for _, t, _ in self.influence}
        for ties in self.ties.by_member.values():
            if len(ties) <= WIDE_MEMBER_TIES:
                nodes.update([neighbour for neighbour, _, _ in ties])
        return nodes

    def wide_members(self) -> dict[str, tuple]:
        """The members with more than `WIDE_MEMBER_TIES` ties, with their ties (the member's own tuple, shared by
        every group it is in): the cache store indexes whom such a member is tied to once, under the member, not
        once in each of its groups (a relative with 400 holdings is in 400 groups: 160,000 entries)."""
        return {member: ties for member, ties in self.ties.by_member.items() if len(ties) > WIDE_MEMBER_TIES}

    def changed_nodes(self, other: Group,
                      compared: dict | None = None) -> tuple[set[str], bool, dict[str, set[str]]] | None:
        """What an exposure set must contain for its pair with this counterparty to see the difference between the
        two groups: (nodes, whether some asset's ties changed, tied); None: any pair may see it (the hub members
        differ, or a hub member's chains). Following `rules.tie_paths`: a tie of member R to neighbour N matters
        only to an exposure set that holds N, by a chain that does not pass through R (`ExposureSet.sees`): `tied`
        maps such an N to the Rs whose ties to it changed, where nothing else about N changed; an asset's ties
        only to one that holds or is tied to the asset (or has a hub member, which probes every asset); a lobbying
        target only to the actor or his apparatus; a member whose chains changed (or that joined or left) to one
        that holds it or anything it is tied to. `compared`: the neighbours whose ties differ between two tuples of
        a member's ties, by the tuples' ids, kept by the caller while it holds both groups: a member's ties are one
        tuple shared by every group it is in, so the groups a relative is in compare his ties once, not once each."""
        capped = set(self.ties.capped)
        if capped != set(other.ties.capped):
            return None
        moved = {m for m in self.members.keys() | other.members.keys()
                 if self.members.get(m) != other.members.get(m)}
        if moved & capped:
            return None
        nodes: set[str] = set(moved)
        assets_changed = False
        for grp in (self, other):
            for member in moved:
                nodes.update(neighbour for neighbour, _, _ in grp.ties.by_member.get(member, ()))
            for asset, ties in grp.ties.by_asset.items():
                if any(member in moved for member, _ in ties):
                    nodes.add(asset)
                    assets_changed = True
            nodes.update(target for member, target, _ in grp.influence if member in moved)
        # a relative's new holding is a new tie of every group he is in, to a node every such exposure set reaches
        # only through him: told apart here, it rescores none of those pairs (it rescored them all, each reading
        # every holding: quadratic in a relative's holdings)
        tied: dict[str, set[str]] = {}
        mine, theirs = self.ties.by_member, other.ties.by_member
        for member in mine.keys() | theirs.keys():
            before, after = theirs.get(member, ()), mine.get(member, ())
            if before is after:
                continue
            differing = None if compared is None else compared.get((id(before), id(after)))
            if differing is None:
                differing = {neighbour for neighbour, _, _ in set(before) ^ set(after)} if before != after else set()
                if compared is not None:
                    compared[id(before), id(after)] = differing
            for neighbour in differing:
                tied.setdefault(neighbour, set()).add(member)
        mine, theirs = self.ties.by_asset, other.ties.by_asset
        assets = {asset for asset in mine.keys() | theirs.keys() if mine.get(asset) != theirs.get(asset)}
        nodes |= assets
        if self.influence != other.influence:
            nodes.update(target for _, target, _ in set(self.influence) ^ set(other.influence))
        for node in nodes.intersection(tied):
            del tied[node]
        return nodes, assets_changed or bool(assets), tied


def owned_by(node: str, ctx: SearchContext) -> dict[str, Holding]:
    """`ownership.owners(node)`, from the engine's memo when there is one (a group is recomputed far more often for
    its members' ties than for who owns its counterparty)."""
    if ctx.memo is None:
        return owners(node, ctx)
    return ctx.memo.owners(node, ctx.reads)


def group(counterparty: str, ctx: SearchContext) -> Group:
    members: dict[str, list[Chain]] = {counterparty: [()]}
    for owner, holding in sorted(owned_by(counterparty, ctx).items()):
        members.setdefault(owner, []).extend(holding.chains)  # already oriented owner -> counterparty
    for held, holding in sorted(held_by(counterparty, ctx).items()):
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
