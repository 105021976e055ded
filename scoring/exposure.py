"""Political exposure: who holds public power, and what their private interests are.

- `exposure_set(actor)`: the actor's private sphere, whose commercial ties the conflict rules look for: the actor,
  relatives and close associates (closeness relations, up to `max_closeness_hops`), and what any of them owns at or
  above the ownership threshold or controls (see `scoring.ownership`). Offices and public bodies are never part of
  it: they are the actor's *apparatus*, the channel of his authority, recorded separately (lobbying targets it).
- `political_exposure(entity)`: why an entity counts as politically exposed on a date, in OpenSanctions' terms:
  a current office holder (weight 1), a former one (decaying linearly to 0 over `horizon_years`, or
  `long_horizon_years` for heads of state and national office; nothing before the office began), a holder of
  political topics, someone who holds public power directly or controls a public body, a relative or close
  associate of such a person (or tagged role.rca), or an entity any of these own or control at or above the
  threshold: a company a minister's son holds is exposed as the son's, as the scorer counts it in the minister's
  exposure set ("owned or controlled by Son (100%), family of Prime Minister"; "controlled by" for a seat).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from schemas.vocabulary import CLOSE_ASSOCIATE_TOPICS, POLITICAL_TOPICS, EntitySchema
from scoring.config import as_tiered
from scoring.ownership import (CONTROL_ONLY, Holding, as_ended_with, effective_stakes, former_period_of, held_at,
                               holdings, owners, stake_at_once, stake_on, stakes)
from scoring.paths import Chain, Hop, chain_nodes, command_strength, percent_text, strongest
from scoring.records import pickled_as_values
from scoring.search import SearchContext, Ties, commercial_ties
from scoring.semantics import (
    AUTHORITY_TYPES,
    CLOSENESS_TYPES,
    OFFICE_TYPES,
    OUT,
    PUBLIC_APPARATUS,
    RELAY_TYPES,
    STAKE_TYPES,
    Layer,
)


@pickled_as_values
@dataclass(frozen=True, slots=True)
class ExposureSet:
    """Compared with ==: hops hold their relation record, so a new version of any relation in it is a change."""

    actor: str
    members: dict[str, tuple[Chain, ...]]  # member -> chains actor -> member (the actor's own chain is empty)
    apparatus: dict[str, tuple[Chain, ...]]  # office or public body -> chains actor -> it (current relations)
    assets: Ties  # the members' ties to tokens and securities (`by_member` left empty)
    # members that no one in the set owns at the threshold alone but the related parties do together: member ->
    # (total, ((holder, effective stake, assumed), ...), the day they stopped holding it together or None); see
    # `_joint_holdings`
    aggregates: dict[str, tuple[float, tuple[tuple[str, float, bool], ...], object]] = field(default_factory=dict)

    def changed_nodes(self, other: ExposureSet) -> set[str] | None:
        """Nodes whose part in the set differs between the two (members, assets, apparatus), and the assets their
        paths run through; None: anything may differ (a hub member's ties are probed, not listed)."""
        changed = set()
        for mine, theirs in ((self.members, other.members), (self.apparatus, other.apparatus),
                             (self.assets.by_asset, other.assets.by_asset), (self.aggregates, other.aggregates)):
            changed.update(n for n in mine.keys() | theirs.keys() if mine.get(n) != theirs.get(n))
        joint = {n for n in self.aggregates.keys() | other.aggregates.keys()
                 if self.aggregates.get(n) != other.aggregates.get(n)}
        if joint:
            # a path through a jointly held entity says what the related parties hold of it (`rules._joint_note`):
            # every member reached through one whose sum or parts changed shows it differently
            for members in (self.members, other.members):
                changed.update(member for member, chains in members.items()
                               if any(hop.end in joint for chain in chains for hop in chain))
        if changed & (set(self.assets.capped) | set(other.assets.capped)) or self.assets.capped != other.assets.capped:
            return None
        for ties_by_asset in (self.assets.by_asset, other.assets.by_asset):
            changed.update(asset for asset, ties in ties_by_asset.items() if any(m in changed for m, _ in ties))
        return changed

    def sees(self, nodes: set[str], assets_changed: bool, tied: dict[str, set[str]] | None = None) -> bool:
        """Whether a pair of this actor can see a group difference (`Group.changed_nodes`). A changed tie of group
        member R to N is seen only where the set holds N by a chain that does not pass through R: a path to N
        through R and on through the tie back to R is no path (`rules.tie_paths` keeps simple paths only)."""
        if assets_changed and self.assets.capped:
            return True
        if any(node == self.actor or node in self.members or node in self.assets.by_asset
               or node in self.apparatus for node in nodes):
            return True
        for node, through in (tied or {}).items():
            if node == self.actor or node in self.assets.by_asset or node in self.apparatus:
                return True
            chains = self.members.get(node)
            if chains is not None and any(relative not in chain_nodes(self.actor, chain)
                                          for chain in chains for relative in through):
                return True
        return False


def exposure_set(actor: str, ctx: SearchContext) -> ExposureSet:
    decay, keep = ctx.hop_decay, ctx.config.paths.max_reach_chains
    ctx.schema(actor)
    roots: dict[str, list[Chain]] = {actor: [()]}

    def close(node: str, chain: Chain, depth: int, on_chain: frozenset[str]) -> None:
        for relative, rec, forward in ctx.both_ways(node, Layer.CLOSENESS, CLOSENESS_TYPES):
            if relative in on_chain or ctx.schema(relative) in PUBLIC_APPARATUS:
                continue
            weight = ctx.strength.reach(rec)
            if weight is None:
                continue
            longer = chain + (Hop(rec, forward, weight),)
            roots.setdefault(relative, []).append(longer)
            if depth + 1 < ctx.config.exposure.max_closeness_hops:
                close(relative, longer, depth + 1, on_chain | {relative})

    try:
        if ctx.config.exposure.max_closeness_hops > 0:
            close(actor, (), 0, frozenset({actor}))
    finally:
        del close  # a recursive closure refers to itself: unbound, its walk is freed now, not by the cycle collector

    members: dict[str, list[Chain]] = {}
    held_alone: set[str] = set()  # what one of the roots holds at the threshold on the day (not only before)
    ended_alone: dict[str, object] = {}  # what one of them held at the threshold only before: until when, at latest
    for root in sorted(roots):
        root_chains = strongest(roots[root], decay, keep)
        members.setdefault(root, []).extend(root_chains)
        for held, holding in sorted(held_by(root, ctx).items()):
            if holding.ended is None:
                held_alone.add(held)
            elif held not in ended_alone or ended_alone[held] < holding.ended:
                ended_alone[held] = holding.ended
            for root_chain in root_chains:
                for chain in holding.chains:
                    combined = root_chain + chain
                    nodes = chain_nodes(actor, combined)
                    if len(set(nodes)) == len(nodes):
                        members.setdefault(held, []).append(combined)
    joint = _joint_holdings(roots, held_alone, ended_alone, ctx)
    for held, (_, shares, former) in joint.items():
        # the parts, each as its holder's chains: actor -> related party -> ... -> the jointly held entity: of a
        # holding they hold together on the day, the chains that hold then; of one they met together only before,
        # the chains that made it then, each decaying from its end as one owner's do (`ownership._former_chains`)
        part_chains = [root_chain + (chain if former is None else as_ended_with(chain, former[1], ctx))
                       for holder, holding in shares
                       for root_chain in strongest(roots[holder], decay, keep) for chain in holding.chains
                       if held_at(chain, ctx.day if former is None else former[0])]
        part_chains = [c for c in part_chains if len(set(chain_nodes(actor, c))) == len(c) + 1]
        members.setdefault(held, []).extend(part_chains)
        for further, holding in sorted(held_by(held, ctx).items()):
            for part in strongest(part_chains, decay, keep):
                for chain in holding.chains:
                    combined = part + chain
                    nodes = chain_nodes(actor, combined)
                    if len(set(nodes)) == len(nodes):
                        members.setdefault(further, []).append(combined)
    final = {m: strongest(chains, decay, keep) for m, chains in members.items() if chains}
    # each part with whether its stake is assumed (no percentage given, somewhere on its chains): the sum of parts
    # assumed is at most what they hold together, as each part is (`rules._joint_note`)
    aggregates = {held: _aggregate(total, shares, former, ctx.day) for held, (total, shares, former) in joint.items()}
    return ExposureSet(actor, final, apparatus(actor, ctx), commercial_ties(final, ctx), aggregates)


def _aggregate(total: float, shares: list[tuple[str, Holding]], former: tuple | None, day) -> tuple:
    """(total, ((holder, stake, assumed), ...), end or None) as explanations show a family interest: one held on
    the day with what each holds on the day (a part's `stake` is the most it held at one moment: a spouse's 30% cut
    to 15% read "hold 50% together: Spouse 30%"), one met only before with the most they held together and when
    it ended."""
    if former is not None:
        return total, tuple((holder, h.stake, h.assumed) for holder, h in shares), former[1]
    parts = tuple((holder, stake, h.assumed) for holder, h in shares if (stake := stake_on(h, day)) > 0)
    return min(1.0, math.fsum(stake for _, stake, _ in parts)), parts, None


def _joint_holdings(roots: dict[str, list[Chain]], held_alone: set[str], ended_alone: dict[str, object],
                    ctx: SearchContext) -> dict[str, tuple[float, list[tuple[str, Holding]], tuple | None]]:
    """Related parties aggregate: entities the actor and his relatives and associates (the roots) own together at
    or above the ownership threshold though none of them does alone (EU AMLR Art. 52 and the related-party rules
    banks apply; US IRC 318 family attribution): a spouse's 15% and a son's 15% are a 30% family interest, where
    they held them at the same time (a spouse's 15% sold in 2021 and a son's 15% bought in 2024 are not: where a
    part's chain ended, `ownership.stake_at_once`). entity -> (what they hold together, ((holder, its effective
    stake), ...) in holder order, `ownership.former_period` of a holding they met together only before or None).
    `held_alone`: what one of them holds at the threshold on the day; one that one of them held only before (a
    former holding, decaying) may be a family interest now (a review: a spouse's 30% cut to 15% beside a son's
    20% hid their 35% until the 30% left the look-back)."""
    threshold = ctx.config.ownership.threshold - 1e-12
    shares: dict[str, list[tuple[str, Holding]]] = {}
    if len(roots) < 2:
        return {}
    for root in sorted(roots):  # (each entity's parts in root order; the entities are sorted below)
        for held, holding in stakes_of(root, ctx).items():
            if held not in held_alone and held not in roots and holding.stake > 0:
                shares.setdefault(held, []).append((root, holding))
    joint = {}
    dated: dict[str, dict[str, Holding]] = {}  # root -> its stakes with the spans of their chains, where needed
    for held, parts in sorted(item for item in shares.items() if len(item[1]) > 1):
        if math.fsum(h.stake for _, h in parts) < threshold or ctx.schema(held) in PUBLIC_APPARATUS:
            continue
        if any(h.spans is not None for _, h in parts):
            # a part's chain ended: when the others began matters too (a part whose chains all hold has no spans),
            # and whether they still hold together depends on the day: each part is walked here, so that the day
            # after an end recomputes this set (its reads are then those of the relations that ended)
            for number, (root, holding) in enumerate(parts):
                if root not in dated:
                    dated[root] = effective_stakes(root, ctx, True, STAKE_TYPES, dated=True)
                parts[number] = (root, dated[root].get(held, holding))
            total = stake_at_once([h for _, h in parts])
            if total < threshold:
                continue
            former = former_period_of([h for _, h in parts], ctx.day, threshold)
            if former is not None and held in ended_alone and ended_alone[held] >= former[1]:
                # one of them held it alone until they stopped holding it together (his former holding, decaying
                # from then): no family interest of the past beside it (a review: a spouse's 100% sold read "held
                # 100% together: Son 1% + Spouse 100%"); one that outlasted his own holding is theirs
                continue
        else:
            total, former = min(1.0, math.fsum(h.stake for _, h in parts)), None
        joint[held] = (total, parts, former)
    return joint


def held_by(node: str, ctx: SearchContext) -> dict:
    """`ownership.holdings(node)`, from the engine's memo when there is one."""
    if ctx.memo is None:
        return holdings(node, ctx)
    return ctx.memo.holdings(node, ctx.reads)


def stakes_of(node: str, ctx: SearchContext) -> dict:
    """`ownership.stakes(node)`, from the engine's memo when there is one (a relative's stakes are walked once for
    every exposure set he is part of, and again only when what that walk read changes)."""
    if ctx.memo is None:
        return stakes(node, ctx)
    return ctx.memo.stakes(node, ctx.reads)


def apparatus(actor: str, ctx: SearchContext) -> dict[str, tuple[Chain, ...]]:
    """Offices the actor holds and public bodies he steers through them or directly, on the date."""
    found: dict[str, list[Chain]] = {}
    limit = max(1, ctx.config.authority.max_hops - 1)

    def descend(node: str, chain: Chain, on_chain: frozenset[str]) -> None:
        for body, rec in ctx.edges(node, Layer.HOLDING, OUT, RELAY_TYPES):
            if body in on_chain or ctx.schema(body) not in PUBLIC_APPARATUS:
                continue
            weight = ctx.strength.authority(rec)
            if weight is None:
                continue
            longer = chain + (Hop(rec, True, weight),)
            if command_strength(longer, ctx.hop_decay) < ctx.config.authority.min_strength:
                continue  # as far as `authority.reach` follows a chain of command
            found.setdefault(body, []).append(longer)
            if len(longer) < limit:
                descend(body, longer, on_chain | {body})

    try:
        descend(actor, (), frozenset({actor}))
    finally:
        del descend  # a recursive closure refers to itself: unbound, its walk is freed now, not by the cycle collector
    keep = ctx.config.paths.max_reach_chains
    return {body: strongest(chains, ctx.hop_decay, keep) for body, chains in found.items()}


@dataclass(frozen=True, slots=True)
class Exposure:
    entity_id: str
    weight: float  # 0: not exposed; 1: holds public power now
    kind: str  # "pep", "former_pep", "close_associate", "pep_controlled" or "none"
    reasons: tuple[str, ...]


def political_exposure(entity: str, ctx: SearchContext) -> Exposure:
    """Why `entity` is politically exposed: a person by his own office, topics or public power, else as a
    relative or close associate of such a person; anything else as owned or controlled, at or above the
    threshold, by such people: a politically exposed person, a relative or close associate of one, or a firm
    tagged as an associate (what a minister's son holds is in the minister's exposure set, `exposure_set`); or
    held at the threshold by such a person and his relatives together, where none of them holds it alone (a
    spouse's 15% and a son's 15%: the set's family interest, `_joint_holdings`). Not (yet) as that set has it: a
    person a relative controls, relatives of relatives."""
    if ctx.schema(entity) == EntitySchema.PERSON:
        return Exposure(entity, *_person_exposure(entity, ctx))
    best, kind, reasons = 0.0, "none", []
    if ctx.topics(entity) & CLOSE_ASSOCIATE_TOPICS:
        best, kind = 1.0, "close_associate"
        reasons.append(_TAGGED)
    for owner, holding in sorted(owners(entity, ctx).items()):
        if ctx.schema(owner) == EntitySchema.PERSON:
            owner_weight, owner_kind, why = _person_exposure(owner, ctx)
        elif ctx.topics(owner) & CLOSE_ASSOCIATE_TOPICS:  # a firm or foundation tagged as a PEP's associate
            owner_weight, owner_kind, why = 1.0, "close_associate", (_TAGGED,)
        else:
            continue  # (a company's own exposure is its owners': they are among the owners already)
        if owner_weight <= 0:
            continue
        name = ctx.graph.name(owner)
        reason = f"controlled by {name}" if _by_control(holding) else \
            f"owned or controlled by {name} ({percent_text(holding.stake)}%)"
        if owner_kind == "close_associate":  # say whose: "..., family of Prime Minister"
            reason += ", " + "; ".join(why)
        reasons.append(reason)
        best, kind = max(best, owner_weight), "pep_controlled"
    if best <= 0:
        for weight, reason in _held_together(entity, ctx):
            reasons.append(reason)
            best, kind = max(best, weight), "pep_controlled"
    return Exposure(entity, best, kind, tuple(reasons))


def _held_together(entity: str, ctx: SearchContext) -> list[tuple[float, str]]:
    """(weight, reason) for each person exposed on his own whose family (he and those he has a closeness relation
    with) holds `entity` at the threshold together, through ownership alone, where they held it at the same time:
    "held 30% together by Son (15%) and Spouse (15%), family of Finance Minister"."""
    threshold = ctx.config.ownership.threshold - 1e-12
    families: dict[str, list[tuple[str, Holding]]] = {}
    own: dict[str, float] = {}
    # (with every chain's span: whether the parts held at the same time is the question)
    for owner, holding in sorted(effective_stakes(entity, ctx, False, STAKE_TYPES, dated=True).items()):
        if ctx.schema(owner) != EntitySchema.PERSON or holding.stake <= 0:
            continue
        anchors = {owner} | {relative for relative, rec, _ in ctx.both_ways(owner, Layer.CLOSENESS, CLOSENESS_TYPES)
                             if ctx.strength.reach(rec) is not None}  # (a son who is also an associate: once)
        for anchor in sorted(anchors):
            if anchor not in own:
                own[anchor] = _own_exposure(anchor, ctx)[0]
            if own[anchor] > 0:
                families.setdefault(anchor, []).append((owner, holding))
    found = []
    said: set[tuple[str, ...]] = set()  # the holders of each interest said (two married ministers: once)
    for anchor, parts in sorted(families.items()):
        holders = tuple(owner for owner, _ in parts)
        if len(parts) < 2 or holders in said:
            continue
        said.add(holders)
        total = stake_at_once([holding for _, holding in parts])
        if total < threshold:
            continue
        shares = " and ".join(f"{ctx.graph.name(owner)} ({percent_text(holding.stake)}%)" for owner, holding in parts)
        found.append((own[anchor], f"held {percent_text(total)}% together by {shares}, "
                                   f"{'the family of' if any(o == anchor for o, _ in parts) else 'family of'} "
                                   f"{ctx.graph.name(anchor)}"))
    return found


_TAGGED = "tagged as a relative or close associate of a PEP (role.rca)"


def _by_control(holding: Holding) -> bool:
    """Whether every chain of a holding passes a control without a stake (a seat, a directorship): it carries no
    percentage to show (its 100% is the walk's, not a stake)."""
    return bool(holding.chains) and all(any(hop.rec.type in CONTROL_ONLY for hop in chain)
                                        for chain in holding.chains)


def _person_exposure(person: str, ctx: SearchContext) -> tuple[float, str, tuple[str, ...]]:
    """(weight, kind, reasons) of a person: his own exposure, else as a relative or close associate (a tag, or a
    closeness relation to someone exposed on his own)."""
    own_weight, own_kind, reasons = _own_exposure(person, ctx)
    if own_weight > 0:
        return own_weight, own_kind, tuple(reasons)
    best, kind = 0.0, "none"
    if ctx.topics(person) & CLOSE_ASSOCIATE_TOPICS:
        best, kind = 1.0, "close_associate"
        reasons.append(_TAGGED)
    for relative, rec, _ in ctx.both_ways(person, Layer.CLOSENESS, CLOSENESS_TYPES):
        weight = ctx.strength.reach(rec)
        relative_weight, _, _ = _own_exposure(relative, ctx)
        if weight is None or relative_weight <= 0:
            continue
        reasons.append(f"{rec.type.value} of {ctx.graph.name(relative)}")
        best, kind = max(best, relative_weight), "close_associate"
    return best, kind, tuple(reasons)


def _own_exposure(entity: str, ctx: SearchContext) -> tuple[float, str, list[str]]:
    """Exposure from the entity's own office, topics or public power (not through others)."""
    cfg, graph = ctx.config.exposure, ctx.graph
    if ctx.schema(entity) != EntitySchema.PERSON:
        return 0.0, "none", []
    weight, kind, reasons = 0.0, "none", []
    topics = ctx.topics(entity)
    for position, rec in ctx.edges(entity, Layer.HOLDING, OUT, OFFICE_TYPES):
        horizon = cfg.long_horizon_days if as_tiered(topics | ctx.topics(position)) & cfg.long_horizon_topics \
            else cfg.horizon_days
        held = ctx.strength.time.office_weight(rec, ctx.day, horizon)
        if held is None or ctx.strength.certainty(rec) <= 0:
            continue
        office_weight, former = held
        if former:
            reasons.append(f"former holder of {graph.name(position)} (left {rec.end}; exposure {office_weight:.2f})")
            if office_weight > weight:
                weight, kind = office_weight, "former_pep"
        else:
            reasons.append(f"holds {graph.name(position)}" + (f" since {rec.start}" if rec.start else ""))
            weight, kind = 1.0, "pep"
    political = sorted(topics & POLITICAL_TOPICS)
    if political:
        current = [t for t in political if t not in cfg.former_topics]
        topic_weight = 1.0 if current else cfg.former_topic_weight
        reasons.append(f"political topics: {', '.join(political)}")
        if topic_weight > weight:
            weight, kind = topic_weight, "pep" if current else "former_pep"
    for target, rec in ctx.edges(entity, Layer.AUTHORITY, OUT, AUTHORITY_TYPES):
        if ctx.strength.authority(rec) is not None:
            reasons.append(f"holds authority: {rec.type.value} {graph.name(target)}")
            weight, kind = 1.0, "pep"
    for body, rec in ctx.edges(entity, Layer.HOLDING, OUT, RELAY_TYPES):
        if ctx.schema(body) in PUBLIC_APPARATUS and rec.type not in OFFICE_TYPES \
                and ctx.strength.authority(rec) is not None:
            reasons.append(f"controls {graph.name(body)}")
            weight, kind = 1.0, "pep"
    return weight, kind, reasons
