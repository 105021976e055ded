"""The conflict rules and the score model.

A pair (actor, counterparty) exists when the actor, a person, holds authority over the counterparty (see
`scoring.authority`). It scores when the actor's exposure set (`scoring.exposure`) is tied to the counterparty's
group (`scoring.group`):

- COI-AUTH-OWNERSHIP: the exposure set owns or controls the counterparty or a member of its group (self-dealing:
  the regulator's family owns the regulated firm).
- COI-AUTH-COMMERCIAL: a commercial relation joins a member of the exposure set to a member of the group, directly
  or through an asset (Eric Trump -ownership-> WLF -issues-> USD1 <-lists- Binance).
- COI-REVOLVING-DOOR: as either of the above, but the actor's authority runs through an office he has left
  (within the exposure horizon, weighted by the decayed exposure), over a firm his office had power over while he
  held it or has now.
- COI-DECIDED-MATTER: as COI-AUTH-*, but the authority relation has ended while the actor held the power: a
  matter decided (a pardon granted, a case dismissed), within the exposure horizon, weighted by the time since
  the decision; each tie weighed by how soon after the decision it began (`scoring.cooling_off`).
- COI-LOBBY: the counterparty's group lobbies the actor or an office or body he steers. Aggravating: it counts only
  when one of the rules above fires (`lobby_requires_primary`), because lobbying alone is ordinary advocacy, and
  weighs weight x authority x lobbying x tie: it needs current authority, as the primary rules do.
- COI-REVOLVING-LOBBY: the revolving door's lobbying: the counterparty's group (or the former official himself)
  lobbies an office or body his former office steered to its power over the counterparty. Aggravating, as COI-LOBBY,
  on former authority and the revolving door's tie, both weighed by the cooling-off (`scoring.cooling_off`).
- COI-DECIDED-LOBBY: the decided matter's lobbying: the counterparty's group lobbied the actor or what he steers.
  Aggravating, as COI-LOBBY, on the decided matter's power (lobbying that sought the decision; not timed).

Score: a path's strength is the product of its hop weights times `hop_decay` per hop after the first. Paths of one
kind combine by noisy-OR (1 - prod(1 - s)), each distinct relation-id sequence once. A rule scores
weight x authority x tie (authority and tie are both needed: the product is their conjunction); the pair's score
is the noisy-OR of its rules, rounded to `precision` places.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from schemas.outputs import Band
from schemas.vocabulary import RelationType
from scoring.authority import ActorAuthority, authority_hop
from scoring.combine import noisy_or
from scoring.cooling_off import late_ties
from scoring.exposure import ExposureSet
from scoring.group import Group
from scoring.payments import tie_hops
from scoring.paths import (
    AUTHORITY,
    COMMERCIAL,
    DECIDED_AUTHORITY,
    FORMER_AUTHORITY,
    FORMER_LOBBY,
    LOBBY,
    OWNERSHIP,
    Chain,
    Hop,
    Path,
    chain_nodes,
    chain_strength,
    percent_text,
    ranked,
)
from scoring.records import pickled_as_values
from scoring.registry import AGGRAVATING, KIND_PRIORITY, PRIMARY, PRIMARY_KINDS, RULES, TIE_KINDS
from scoring.search import SearchContext
from scoring.semantics import (CONTROL_TYPES, INFLUENCE_TYPES, LAYER_OF, MARKET_TYPES, OFFICE_TYPES,
                               OUT, TIE_LAYERS, TIE_TYPES, Layer)

# When two decompositions give the same relation sequence, or relations of one holding between the same entities
# (`_alternatives_key`), the path counts once. Of the very same relations, the stronger counts under its own kind: a
# holding's chain is also a commercial tie through its last stake, never stronger than the chain while the holding
# holds; a former holding's chain decays, and once weaker than the tie a stake still held is, counts as that tie (a
# review: under the ownership kind, beside a stake the ownership rule already counted in full, the tie added
# nothing and the score fell). Of other relations of one holding (a stake beside the control it carries), the most
# urgent kind keeps the path, with the strongest's hops: one more relation of a holding never takes its rule away
# (a review: a stronger ended stake beside an ended control made the path commercial, and the ownership rule went).
_KIND_PRIORITY = KIND_PRIORITY
# the tie kinds the rules on ended authority read (an office left, a matter decided), and which reads each: their
# ties are weighed by the cooling-off (`scoring.cooling_off`)
_CLOCKED_RULE_OF: dict[str, dict[str, str]] = {
    FORMER_AUTHORITY: {kind: rule.id for rule in RULES if rule.authority == FORMER_AUTHORITY
                       for kind in rule.consumes},
    # lobbying before a decision is what sought it: it is not timed against the decision
    DECIDED_AUTHORITY: {kind: rule.id for rule in RULES if rule.authority == DECIDED_AUTHORITY
                        and rule.combination == PRIMARY for kind in rule.consumes}}
_LOBBY_KINDS = (LOBBY, FORMER_LOBBY)  # a lobbying relation counts once in either (`_once_per_lobbying`)


def _alternatives_key(hops: Chain) -> tuple:
    """What makes two paths one: their relations, except that the holding relations between the same two entities
    (a stake, the voting rights it carries, a seat on the board: BODS states each as an interest of its own) are one
    holding, taken once (docs/scoring.md, "A holding counts once"). Without this the ownership walk took the voting
    rights (control: 100 %) and the stake came back as a commercial tie, so one holding fired two rules. (A job
    beside a seat in the same firm is the seat's tie already: `search.node_ties`.)"""
    return tuple([(rec.source, rec.target) if LAYER_OF[rec.type] is Layer.HOLDING else rec.relation_id
                  for rec in (hop.rec for hop in hops)])


@pickled_as_values
@dataclass(frozen=True, slots=True)
class Assessment:
    actor: str
    counterparty: str
    score: float
    band: Band
    rules: tuple[str, ...]  # fired rules, strongest first
    rule_scores: tuple[tuple[str, float], ...]
    authority_paths: tuple[Path, ...]  # shown, strongest first
    commercial_paths: tuple[Path, ...]  # shown: ownership, commercial and lobby paths


def _same_relations(hops: Chain, others: Chain) -> bool:
    return all(hop.rec is other.rec for hop, other in zip(hops, others))


def _asset_part(relation_type) -> str:
    """The part a relation to a token or security gives its source: issuer, market or holder."""
    return "issuer" if relation_type in CONTROL_TYPES else "market" if relation_type in MARKET_TYPES else "holder"


def tie_paths(actor: str, exposure: ExposureSet, grp: Group, ctx: SearchContext,
              steered: dict[str, tuple[Chain, ...]] | None = None,
              steered_then: dict[str, tuple[Chain, ...]] | None = None) -> list[Path]:
    """Every distinct path from the actor through his exposure set to the counterparty's group and on to the
    counterparty, strongest first; with what his former offices steered (`ActorAuthority.former_steered`), also
    the lobbying of it: by the counterparty's group of what `steered` holds (what he steers now is COI-LOBBY's), by
    himself of all that his former offices steered (`steered_then`: COI-LOBBY reads no lobbying of his own)."""
    best: dict[tuple[str, ...], Path] = {}
    floor = ctx.config.paths.min_path_strength

    joint = exposure.aggregates

    decay = ctx.hop_decay

    def add(kind: str, hops: Chain) -> None:
        # the path is built only when it is kept (most candidates are too weak, beaten, or not simple); whether it is
        # simple is asked last, of the few that would be kept (the same paths are kept in any order of the checks)
        strength = chain_strength(hops, decay)
        if strength < floor:
            return
        key = _alternatives_key(hops)
        held = best.get(key)
        stronger = urgent = True
        if held is not None:
            stronger = (-strength, _KIND_PRIORITY[kind]) < (-held.strength, _KIND_PRIORITY[held.kind])
            # the very same relations: the stronger counts, under its own kind (a former holding's decayed chain
            # is the tie its stake still is); other relations of one holding: under the most urgent kind
            urgent = _KIND_PRIORITY[kind] < _KIND_PRIORITY[held.kind] and not _same_relations(hops, held.hops)
            if not stronger and not urgent:
                return
        nodes = chain_nodes(actor, hops)
        if len(set(nodes)) != len(nodes):  # (`Path.is_simple`)
            return
        if stronger:
            keep = kind if urgent or _same_relations(hops, held.hops) else held.kind
            best[key] = Path(keep, actor, hops, strength, _joint_note(hops, joint, ctx))
        else:  # a more urgent kind of the same holding, weaker: the stronger's hops, under this kind
            best[key] = Path(kind, actor, held.hops, held.strength, held.note)

    members, group_members = exposure.members, grp.members
    for shared in sorted(m for m in group_members if m in members):
        for to_member in members[shared]:
            for to_counterparty in group_members[shared]:
                add(OWNERSHIP, to_member + to_counterparty)

    def probed_ties(u: str, v: str) -> list[Hop]:
        """Commercial relations between u and v as hops from u (a look-up, not a neighbourhood scan)."""
        found = ctx.between(u, v, TIE_LAYERS, TIE_TYPES)
        # (payments add up, each way: `scoring.payments`)
        return tie_hops([(rec, ctx.strength.tie(rec), forward) for rec, forward in found], ctx.strength)

    def connect(member: str, ties: Chain, relative: str, kind: str = COMMERCIAL) -> None:
        for to_member in members[member]:
            if relative in chain_nodes(actor, to_member):
                # every path would pass through the relative twice (a relative's tie to his own holding, seen
                # from a group he is in): none is built (the same as `add` refusing each)
                continue
            for to_counterparty in group_members[relative]:
                add(kind, to_member + ties + to_counterparty)

    theirs = grp.ties
    # Direct ties, enumerated from the group's side (small); a group member too connected to enumerate (a hub)
    # is probed against every member of the exposure set instead.
    for relative in sorted(group_members):
        for neighbour, hop, _ in theirs.by_member.get(relative, ()):
            if neighbour in members and neighbour != relative:
                connect(neighbour, (hop.reversed(),), relative)
    for relative in theirs.capped:
        for member in sorted(members):
            if member != relative:
                for hop in probed_ties(member, relative):
                    connect(member, (hop,), relative)

    # Through an asset both sides are tied to in different parts: its issuer, a market for it (`market` in the
    # vocabulary), a holder of it. Two exchanges listing one token are competitors, and two owners of one share no
    # tie. (An asset that a member issues is a member itself, a direct tie above; one that an owner of the
    # counterparty issues is not.) A side too connected to list its assets (a hub) is probed instead.
    def through(member: str, first: Hop, last: Hop, relative: str) -> None:
        if _asset_part(first.rec.type) != _asset_part(last.rec.type) or first.rec.type in CONTROL_TYPES:
            connect(member, (first, last.reversed()), relative)

    ours = exposure.assets
    for asset in sorted(ours.by_asset.keys() & theirs.by_asset.keys()):
        if asset in members or asset in group_members:
            continue  # then it is a direct tie, found above
        for member, first in ours.by_asset[asset]:
            for relative, last in theirs.by_asset[asset]:
                through(member, first, last, relative)
    for asset, ties in theirs.by_asset.items():
        if asset in members or asset in group_members:
            continue
        for member in ours.capped:
            for first in probed_ties(member, asset):
                for relative, last in ties:
                    through(member, first, last, relative)
    for asset, ties in ours.by_asset.items():
        if asset in members or asset in group_members:
            continue
        for relative in theirs.capped:
            for last in probed_ties(relative, asset):
                for member, first in ties:
                    through(member, first, last, relative)
    targets = {actor: ((),), **exposure.apparatus}
    for relative, target, lobbying in grp.influence:
        for to_target in targets.get(target, ()):
            for to_counterparty in group_members[relative]:
                add(LOBBY, to_target + (lobbying.reversed(),) + to_counterparty)
    # What his former office steered to its power over the counterparty, lobbied by the counterparty's group, or by
    # the former official himself where he is its agent (`representation` of a member: his lobbying is then its
    # lobbying; a lobbying relation of his own does not say for whom, a review: it raised every firm he was tied to)
    for relative, target, lobbying in grp.influence if steered else ():
        for to_target in steered.get(target, ()):
            for to_counterparty in group_members[relative]:
                add(FORMER_LOBBY, to_target + (lobbying.reversed(),) + to_counterparty)
    if steered_then and any(path.hops[0].rec.type is RelationType.REPRESENTATION and path.hops[0].rec.source == actor
                            for path in best.values() if path.kind == COMMERCIAL):
        for target, rec in ctx.edges(actor, Layer.INFLUENCE, OUT, INFLUENCE_TYPES):
            if target in steered_then and (weight := ctx.strength.reach(rec)) is not None:
                add(FORMER_LOBBY, (Hop(rec, True, weight),))
    return ranked(best.values())


def _joint_note(hops: Chain, joint: dict, ctx: SearchContext) -> str | None:
    """The sum and its parts when a path runs through a stake the related parties hold only together."""
    if not joint:
        return None
    for hop in hops:
        held = joint.get(hop.end)
        if held is not None:
            total, parts, ended = held
            # an assumed part is marked as a single edge's is (`25%?`, `≤10%?`); a sum with one is only the most
            # they may hold: three "0-10%" bands read "hold 30%" as a fact
            shares = " + ".join(f"{ctx.graph.name(holder)} {percent_text(stake, assumed)}%{'?' if assumed else ''}"
                                for holder, stake, assumed in parts)
            bound = any(assumed for _, _, assumed in parts)
            if ended is not None:  # a holding they met together only before: its most, and when it ended
                return (f"related parties held {'up to ' if bound else ''}{percent_text(total, bound)}% of "
                        f"{ctx.graph.name(hop.end)} together until {ended.isoformat()}: {shares}")
            return (f"related parties hold {'up to ' if bound else ''}{percent_text(total, bound)}% of "
                    f"{ctx.graph.name(hop.end)} together: {shares}")
    return None


def assess(actor: str, counterparty: str, authority: ActorAuthority, exposure: ExposureSet, grp: Group,
           ctx: SearchContext) -> Assessment | None:
    """The pair's score and the paths behind it, by the rules of the registry (`scoring.registry`); None when it
    scores below `min_score`."""
    cfg = ctx.config
    cap = cfg.paths.max_paths_per_pair
    # what his former offices steered to their power, lobbied: what he steers now too is COI-LOBBY's where he holds
    # power over the counterparty now (counted once, as current), or COI-DECIDED-LOBBY's where he decided a matter
    # of it, else the revolving door's (reviews: a new office steering the same regulator took the lobbying from
    # both rules; so did a decided matter)
    steered = {node: chains for node, chains in authority.former_steered.items()
               if not ((authority.current or authority.decided) and node in exposure.apparatus)}
    paths = tie_paths(actor, exposure, grp, ctx, steered, authority.former_steered)
    by_kind = {kind: [p for p in paths if p.kind == kind][:cap] for kind in TIE_KINDS}
    # the authority paths' relations counted once: one relation reached through several chains of the
    # counterparty's stakes, or one office's chain of command to several relations, is one fact (`combine`),
    # over all the paths found (`ActorAuthority.power`)
    powers = {AUTHORITY: authority.power, FORMER_AUTHORITY: authority.former_power,
              DECIDED_AUTHORITY: authority.decided_power}
    # the revolving door weighs each tie by how soon after leaving office it began, a decided matter by how soon
    # after the decision (`scoring.cooling_off`)
    late = {
        FORMER_AUTHORITY: late_ties(
            [p for kind in _CLOCKED_RULE_OF[FORMER_AUTHORITY] for p in by_kind[kind]], authority.former_offices,
            ctx, _CLOCKED_RULE_OF[FORMER_AUTHORITY], partial(_timed_against, steered=authority.former_steered))
        if authority.former_power > 0 else {},
        DECIDED_AUTHORITY: late_ties(
            [p for kind in _CLOCKED_RULE_OF[DECIDED_AUTHORITY] for p in by_kind[kind]], authority.decisions, ctx,
            _CLOCKED_RULE_OF[DECIDED_AUTHORITY], _every_decision, partial(_after_decision, ctx=ctx), best=True)
        if authority.decided_power > 0 else {}}
    for kind in _LOBBY_KINDS:
        by_kind[kind] = _once_per_lobbying(by_kind[kind], late[FORMER_AUTHORITY])
    ties = {kind: noisy_or(p.strength for p in by_kind[kind]) for kind in TIE_KINDS}
    ties_of = {AUTHORITY: ties, **{clocked: {kind: noisy_or(p.strength * timed.get(id(p), (1.0,))[0]
                                                            for p in by_kind[kind]) for kind in TIE_KINDS}
                                   if timed else ties for clocked, timed in late.items()}}

    def tie(kinds, of=ties) -> float:
        return noisy_or(of[kind] for kind in kinds)

    rule_scores = {rule.id: cfg.rule_weight(rule.id) * powers[rule.authority]
                   * tie(rule.consumes, ties_of[rule.authority])
                   for rule in RULES if rule.combination == PRIMARY}
    primary = any(cfg.round(s) > 0 for s in rule_scores.values())
    for rule in RULES:
        if rule.combination == AGGRAVATING:
            # the channel through which a tie could buy a decision: it weighs as much as the tie it serves, and as
            # the authority it needs (no decision to buy without the power to make it; a former official's is the
            # power his old office had, which his contacts there may still move)
            of = ties_of[rule.authority]
            serves = tie(PRIMARY_KINDS, of) if cfg.lobby_requires_primary else 1.0
            allowed = primary or not cfg.lobby_requires_primary
            rule_scores[rule.id] = (cfg.rule_weight(rule.id) * powers[rule.authority] * tie(rule.consumes, of)
                                    * serves if allowed else 0.0)
    score = cfg.round(noisy_or(rule_scores.values()))
    if score < cfg.min_score or score <= 0:
        return None
    fired = sorted(((rule, cfg.round(s)) for rule, s in rule_scores.items() if cfg.round(s) > 0),
                   key=lambda item: (-item[1], item[0]))
    fired_rules = [rule for rule in RULES if any(rule.id == rule_id for rule_id, _ in fired)]
    shown = cfg.paths.max_paths_shown
    needs = {rule.authority for rule in fired_rules}
    authority_paths = _shown_authority([paths for kind, paths in ((AUTHORITY, authority.current),
                                                                  (FORMER_AUTHORITY, authority.former),
                                                                  (DECIDED_AUTHORITY, authority.decided))
                                        if kind in needs], shown, counterparty)
    kinds_fired = [kind for kind in TIE_KINDS if any(kind in rule.consumes for rule in fired_rules)]
    notes: dict[int, list[str]] = {}
    for clocked, timed in late.items():
        if timed and clocked in needs:
            for key, (_, why) in timed.items():
                notes.setdefault(key, []).append(why)
    if notes:
        by_kind = {kind: [_noted(p, "; ".join(notes[id(p)])) if id(p) in notes else p for p in paths]
                   for kind, paths in by_kind.items()}
    return Assessment(
        actor=actor, counterparty=counterparty, score=score, band=cfg.band_for(score),
        rules=tuple(rule for rule, _ in fired), rule_scores=tuple(fired),
        authority_paths=authority_paths,
        commercial_paths=_shown(by_kind, kinds_fired, shown),
    )


def _timed_against(path: Path, steered: dict[str, tuple[Chain, ...]]) -> set[str] | None:
    """The offices a path on former authority is timed against (`cooling_off.late_ties`): a tie, all he left; a
    lobbying path, the office on its chain of command (the one whose old power the lobbied body served), or for his
    own lobbying, those whose chains reach the body he lobbied."""
    if path.kind != FORMER_LOBBY:
        return None
    first = path.hops[0].rec
    if first.type in OFFICE_TYPES and first.source == path.start:
        return {first.target}
    return {chain[0].rec.target for chain in steered.get(path.end, ())}


def _every_decision(path: Path) -> None:
    """A tie is timed against every matter decided (`cooling_off.late_ties`: None, all of them)."""
    return None


def _after_decision(matter: str, day, ctx: SearchContext) -> str:
    """What a late tie's span runs from, in its note: the decision, named by its relation."""
    rec = ctx.graph.fact(matter)
    what = matter if rec is None else \
        f"{ctx.graph.name(rec.source)} -{rec.type.value}-> {ctx.graph.name(rec.target)}"
    role = getattr(rec, "role", None)
    if role:
        what = f"{role}: {what}"
    return f"the decided matter ({what}, ended {day.isoformat()})"


def _once_per_lobbying(paths: list[Path], late: dict[int, tuple[float, str]]) -> list[Path]:
    """One path per lobbying relation, the one that counts most: one act of lobbying reached through several
    chains of command is one act (a review: each chain counted it again, high to critical)."""
    best: dict[str, Path] = {}
    for path in paths:
        lobbying = next(hop.rec.relation_id for hop in path.hops if hop.rec.type in INFLUENCE_TYPES)
        held = best.get(lobbying)
        if held is None or path.strength * late.get(id(path), (1.0,))[0] > \
                held.strength * late.get(id(held), (1.0,))[0]:
            best[lobbying] = path
    kept = set(map(id, best.values()))
    return [path for path in paths if id(path) in kept]


def _noted(path: Path, note: str) -> Path:
    return Path(path.kind, path.start, path.hops, path.strength, f"{path.note}; {note}" if path.note else note)


def _shown_authority(pools: list, limit: int, counterparty: str) -> tuple[Path, ...]:
    """The strongest `limit` authority paths of the kinds the fired rules need, strongest first, among them the
    strongest of each kind and the strongest whose authority relation lands on the counterparty itself: a rule on
    former authority (COI-REVOLVING-DOOR) is explained by its former office, and authority over the counterparty
    in person (a pardon) by itself, even where authority over what it owns reaches it through more, stronger paths
    than are shown. The alert case (`alerts.case_of`) is read from these paths."""
    everything = pools[0] if len(pools) == 1 else ranked(path for pool in pools for path in pool)
    if len(everything) <= limit:
        return tuple(everything)
    kept = [pool[0] for pool in pools if pool]
    direct = next((path for path in everything if _lands_on(path, counterparty)), None)
    if direct is not None and direct not in kept:
        kept.append(direct)
    kept += [path for path in everything if path not in kept][:max(0, limit - len(kept))]
    return tuple(ranked(kept))


def _lands_on(path: Path, party: str) -> bool:
    """Whether the path's authority relation (its first) targets `party` (`alerts.case_of` reads the same)."""
    hop = authority_hop(path)
    return hop is not None and hop.rec.target == party


def _shown(by_kind: dict[str, list[Path]], kinds: list[str], limit: int) -> tuple[Path, ...]:
    """The strongest path of every kind that fired first (each fired rule is explained), then the strongest rest."""
    chosen = [by_kind[kind][0] for kind in kinds if by_kind[kind]]
    rest = ranked([p for kind in kinds for p in by_kind[kind] if p not in chosen])
    return tuple(ranked(chosen) + rest)[:limit]
