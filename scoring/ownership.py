"""Indirect ownership: effective stakes along ownership and control chains, under either rule.

- EU beneficial ownership (`rule: eu`): a chain's stake is the product of its hops; chains add up. An owner at or
  above `threshold` (25%) of a company is its beneficial owner.
- OFAC 50% rule (`rule: ofac`): a stake passes along a chain only through entities held at `majority` (50%) or
  more, and then in full: a chain is worth its last hop if every earlier hop is a majority stake; chains add up.
  (Aggregation of several minority stakes into control of an intermediate entity is not modelled.)

Control without a stake (control, directorship, issuance) counts as a full stake. An ownership relation without a
percentage counts as `unknown_stake` and marks the result as assumed. Only simple chains are followed (a node is
never visited twice on one chain), so cycles neither hang the search nor count twice; chains are bounded by
`max_hops` and `max_chains`, and public bodies and offices are never part of anyone's holdings.

One owner's holding in one entity counts once: when several facts join the same two nodes (a stake that ended and
the one that followed it, as registers state them; a stake and a directorship), they are alternatives, not
additions, and a chain takes one (`_holding_alternatives`). A chain exists only while its stakes coexist (the
intersection of its hops' validity is not empty): an owner who sold HoldCo before HoldCo bought the bank never
held the bank. And chains add up only where they held at the same time: an owner who sold 20% of the bank in 2021
and has held 10% through a holding company since 2025 never held 30% (`_at_once`: the most the chains held
together at any one moment; a former holding of that size still counts, as ended stakes do, decaying).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scoring.paths import Chain, FormerHop, strongest
from scoring.records import pickled_as_values
from scoring.search import SearchContext
from scoring.semantics import HOLDING_TYPES, IN, OUT, PEOPLE, PUBLIC_APPARATUS, STAKE_TYPES, Layer


@pickled_as_values
@dataclass(frozen=True, slots=True)
class Holding:
    stake: float  # effective stake in [0, 1]: the most its chains held together at any one moment
    assumed: bool  # some chain used an assumed stake (no percentage given)
    chains: tuple[Chain, ...]  # the strongest chains, oriented owner -> owned
    # where a chain ended (or ends): every chain's (value, since, until), so that holdings of several owners add up
    # only where they coexisted too (`stake_at_once`, related parties); None where no chain ends (most)
    spans: tuple[tuple[float, object, object], ...] | None = None
    # a holding met at the threshold only before the day: when it ended (`former_period`); None for one held on the
    # day, or below the threshold (what changes on the day it ends, so that its readers are recomputed then)
    ended: object = None


class StakesAlone(dict):
    """Holdings found by a walk that met no control without a stake (`CONTROL_ONLY`): the walk along ownership
    alone and the walk along ownership and control are then the same walk, with the same result and the same reads.
    So one kind of result stands for the other (`beneficially_owned`, `sphere`) instead of walking the same chains
    again: a node that is both a candidate counterparty and a partner has both, and most registers state few
    control relations. A plain dict in every other way (equal to one with the same items)."""

    __slots__ = ()


# the relations an ownership-and-control walk follows and a walk along ownership alone does not
CONTROL_ONLY = HOLDING_TYPES - STAKE_TYPES


def effective_stakes(start: str, ctx: SearchContext, forward: bool = True,
                     types: frozenset = HOLDING_TYPES, dated: bool = False) -> dict[str, Holding]:
    """Every entity reached from `start` with its effective stake: what `start` holds (forward) or who holds
    `start` (backward), including stakes below the threshold. `types`: the relations followed (ownership and
    control by default; ownership alone for beneficial ownership). `dated`: each holding with the spans of its
    chains wherever they have dates, not only where one ended (`Holding.spans`)."""
    return _holdings(*_walk(start, ctx, forward, types, True, dated), ctx, 0.0)


def stakes(start: str, ctx: SearchContext) -> dict[str, Holding]:
    """What `start` owns through ownership alone (control does not count), also below the threshold: the stakes
    related parties add up (`exposure._joint_holdings`)."""
    return effective_stakes(start, ctx, True, STAKE_TYPES)


def holdings(start: str, ctx: SearchContext, types: frozenset = HOLDING_TYPES) -> dict[str, Holding]:
    """What `start` owns or controls at or above the threshold (its sphere); `StakesAlone` when its walk met no
    control without a stake."""
    return _holdings(*_walk(start, ctx, True, types, True), ctx, ctx.config.ownership.threshold)


def owners(target: str, ctx: SearchContext, types: frozenset = HOLDING_TYPES) -> dict[str, Holding]:
    """Who owns or controls `target` at or above the threshold."""
    return _holdings(*_walk(target, ctx, False, types, True), ctx, ctx.config.ownership.threshold)


def beneficially_owned(node: str, ctx: SearchContext) -> dict[str, tuple[Chain, ...]]:
    """What `node` owns at or above the threshold through ownership alone (control does not count): entity ->
    chains node -> entity. Authority over these is authority over `node`'s interests. Read from its holdings
    where the engine keeps them and their walk met no control (`StakesAlone`); `StakesAlone` itself when its own
    walk met none."""
    held = ctx.memo.holdings_through_stakes_alone(node, ctx.reads) if ctx.memo is not None else None
    if held is None:
        held = holdings(node, ctx, STAKE_TYPES)
    owned = {entity: holding.chains for entity, holding in sorted(held.items())}
    return StakesAlone(owned) if type(held) is StakesAlone else owned


def sphere(node: str, ctx: SearchContext) -> tuple[str, ...]:
    """The entities whose group `node` belongs to: what it owns or controls and what owns or controls it, at or
    above the threshold (`holdings` and `owners` without their chains, for finding candidates cheaply). They are
    exactly the nodes of its `holdings` and `owners`: when the engine keeps those already, they are read instead of
    walked again.

    A sorted tuple, not a set: the engine holds one for every partner of an actor, most of one to four nodes, where
    a tuple costs 48 to 72 bytes and a frozenset 216 (732 from five nodes on); readers iterate it, and what the rare
    sphere that changed gained and lost is taken as sets (`Engine._refreshed`)."""
    threshold = ctx.config.ownership.threshold - 1e-12
    found: set[str] = set()
    walks = []
    for forward, held in ((True, _held_forward(node, ctx)),
                          (False, ctx.memo.held_owners(node, ctx.reads) if ctx.memo is not None else None)):
        if held is None:
            walks.append(forward)
        else:
            found.update(held)
    for forward in walks:
        for other, (values, _, _, spans) in _walk(node, ctx, forward, HOLDING_TYPES, False)[0].items():
            if (min(1.0, math.fsum(values)) if spans is None else _at_once(values, spans)) >= threshold:
                found.add(other)
    return tuple(sorted(found))


def _held_forward(node: str, ctx: SearchContext) -> dict | None:
    """What `node` holds at or above the threshold, where the engine keeps it: its holdings, else what it
    beneficially owns if that walk met no control (the same walk); None: walk."""
    memo = ctx.memo
    if memo is None:
        return None
    held = memo.held_holdings(node, ctx.reads)
    return held if held is not None else memo.owned_through_stakes_alone(node, ctx.reads)


def _extra_records(adjacency: dict) -> int:
    """How many records of an adjacency list are beyond the first between two nodes (several relations of one
    layer between the same two nodes are held as a tuple: `scoring.records`)."""
    return sum(len(entry) - 1 for entry in adjacency.values() if type(entry) is tuple)


def _holdings(walked: dict, met_control: bool, ctx: SearchContext, threshold: float) -> dict[str, Holding]:
    keep = ctx.config.paths.max_reach_chains
    threshold -= 1e-12  # 25% is "at or above 25%" despite float error
    result = {} if met_control else StakesAlone()
    for node, (values, assumed, chains, spans) in walked.items():
        stake = min(1.0, math.fsum(values)) if spans is None else _at_once(values, spans)
        if stake >= threshold:
            ended = None
            if spans is not None and chains is not None and threshold > 0:
                period = former_period(values, spans, ctx.day, threshold)
                if period is not None:
                    ended = period[1]
                    chains = _former_chains(chains, period, ctx)
            dated = spans is not None and any(since is not None or until is not None for since, until in spans)
            result[node] = Holding(stake, assumed, strongest(chains, ctx.hop_decay, keep),
                                   tuple((value, since, until) for value, (since, until) in zip(values, spans))
                                   if dated else None, ended)
    return result


def _former_chains(chains: list, period: tuple, ctx: SearchContext) -> list:
    """Of a holding that met the threshold only before the day (its chains that hold on the day add up to less),
    the chains that made it the last time they met the threshold together, each weighed as if it had ended with
    the holding (`as_ended_with`): its paths decay from when the holding ended, whether a chain of it is still held
    or was sold later (selling it later must not bring the former holding back at full strength, and ending a stake
    still held must not make the holding weigh more than it did). `period`: `former_period` of its chains."""
    _, end, last = period
    return [as_ended_with(chains[number], end, ctx) for number in last]


def as_ended_with(chain: Chain, end, ctx: SearchContext) -> Chain:
    """A chain of a holding that ended on `end`, weighed as if it had ended then: unchanged if it ended by then;
    else its hop that decays least above the holding's decay (the last of equals: a chain held in full, the stake
    into the held entity) carries the holding's decay instead of its own, as a `FormerHop` its explanation names.
    Exactly the decay of a chain that ended on `end` where no other hop of it ended after."""
    until = chain_span(chain)[1]
    if until is not None and until <= end:
        return chain
    time, day = ctx.strength.time, ctx.day
    decay = time.decay_after(end, day) or 0.0
    chosen, own = None, 0.0
    for number, hop in enumerate(chain):
        recency = time.recency(hop.rec, day) or 0.0
        if recency > decay and (chosen is None or recency <= own):
            chosen, own = number, recency
    if chosen is None:
        return chain
    hop = chain[chosen]
    return (*chain[:chosen], FormerHop(hop.rec, hop.forward, hop.weight * decay / own, hop.decays, end),
            *chain[chosen + 1:])


def held_at(chain: Chain, moment) -> bool:
    """Whether every stake of a chain held at `moment` (None: before every start), as the sums at one moment read
    it (`_holds_at`)."""
    return _holds_at(*chain_span(chain), moment)


def former_period(values: list[float], spans: list[tuple], day, threshold: float) -> tuple | None:
    """(the last moment chains of these values and spans met the threshold together, the end that took them below
    it, the numbers of the chains holding then) where they meet it only before `day`; None where they meet it on
    the day, or never."""
    def holding_at(moment) -> list[int]:
        return [number for number, (since, until) in enumerate(spans) if _holds_at(since, until, moment)]

    held = math.fsum(value for value, (since, until) in zip(values, spans)
                     if (since is None or since <= day) and (until is None or day <= until))
    if min(1.0, held) >= threshold:
        return None
    moments = sorted({since for since, _ in spans if since is not None})
    last_moment, last = None, None  # the chains holding the last time they met the threshold together
    for moment in ((None, *moments) if any(since is None for since, _ in spans) else moments):
        holding = holding_at(moment)
        if min(1.0, math.fsum(values[number] for number in holding)) >= threshold:
            last_moment, last = moment, holding
    if last is None:
        return None
    for end in sorted({spans[number][1] for number in last if spans[number][1] is not None}):
        left = math.fsum(values[number] for number in last if spans[number][1] is None or spans[number][1] > end)
        if min(1.0, left) < threshold:  # the end that took the holding below the threshold
            return last_moment, end, last
    return None


def chain_span(chain: Chain) -> tuple:
    """(since, until) of a chain: when all its stakes held together (None: unbounded)."""
    starts = [hop.rec.start for hop in chain if hop.rec.start is not None]
    ends = [hop.rec.end for hop in chain if hop.rec.end is not None]
    return (max(starts) if starts else None), (min(ends) if ends else None)


def _at_once(values: list[float], spans: list[tuple] | None) -> float:
    """What chains of these values add up to, at most 1: where some chain ended (`spans`: each chain's (since,
    until), None where none did), the most those holding at one moment add up to. A stake that ends on the day
    another begins does not add up with it (a holding moved to a holding company on one day is not held twice that
    day): a span is read from its start up to its end, the end excluded, but for one of a single day."""
    if spans is None or all(until is None for _, until in spans):
        return min(1.0, math.fsum(values))
    best = 0.0
    # the most is held from some chain's start on (or from the earliest, for chains without a start)
    moments = sorted({since for since, _ in spans if since is not None})
    for moment in ((None, *moments) if any(since is None for since, _ in spans) else moments):
        best = max(best, math.fsum(value for value, (since, until) in zip(values, spans)
                                   if _holds_at(since, until, moment)))
    return min(1.0, best)


def _holds_at(since, until, moment) -> bool:
    """Whether a chain's span holds at `moment` (None: before every start) for the sums at one moment: from its
    start up to its end, the end excluded, but for a span of a single day."""
    if moment is None:
        return since is None
    return (since is None or since <= moment) and (until is None or moment < until or since == until == moment)


def stake_on(holding: Holding, day) -> float:
    """What a holding's chains hold together at `day`, as the sums at one moment read it (`_holds_at`: an end is
    excluded, so a holding moved to a holding company that day is not counted twice), at most 1: its `stake` is
    the most they held at one moment, which may have been before (a stake cut from 60% to 10%)."""
    if holding.spans is None:
        return holding.stake
    return min(1.0, math.fsum(value for value, since, until in holding.spans if _holds_at(since, until, day)))


def stake_at_once(holdings: list[Holding]) -> float:
    """What several owners' holdings of one entity add up to (related parties: `exposure`), at most 1: where a
    chain of one of them ended, the most they held together at one moment (a spouse's 15% sold in 2021 and a son's
    15% bought in 2024 never made 30%)."""
    if all(holding.spans is None for holding in holdings):
        return min(1.0, math.fsum(holding.stake for holding in holdings))
    return _at_once(*_combined(holdings))


def former_period_of(holdings: list[Holding], day, threshold: float) -> tuple | None:
    """`former_period` of several owners' holdings of one entity together (related parties); None where none of
    their chains ended, or they meet the threshold together on the day."""
    if all(holding.spans is None for holding in holdings):
        return None
    return former_period(*_combined(holdings), day, threshold)


def _combined(holdings: list[Holding]) -> tuple[list[float], list[tuple]]:
    values, spans = [], []
    for holding in holdings:
        for value, since, until in holding.spans or ((holding.stake, None, None),):
            values.append(value)
            spans.append((since, until))
    return values, spans


def stake_of(chains: tuple[Chain, ...], ctx: SearchContext) -> float:
    """What these chains (owner -> owned) add up to, as `_walk` values them: under the `eu` rule the product of a
    chain's stakes, under `ofac` its last one's (the walk computes the same inline, in its innermost loop)."""
    stake = ctx.strength.stake
    if ctx.config.ownership.rule == "ofac":
        values = [stake(chain[-1].rec)[0] for chain in chains if chain]
    else:
        values = [math.prod(stake(hop.rec)[0] for hop in chain) for chain in chains]
    return min(1.0, math.fsum(values))


def _walk(start: str, ctx: SearchContext, forward: bool, types: frozenset,
          with_chains: bool, dated: bool = False) -> tuple[dict, bool]:
    """node -> ([chain values], any assumed stake, [chains] or None, [(since, until) of each chain] or None): every
    simple chain from `start`; and whether the walk met a relation of `CONTROL_ONLY` (followed or not: where it met
    none, a walk of ownership alone and one of ownership and control are the same, `StakesAlone`).

    Chains add up only where they held at the same time (`_at_once`), which needs each chain's span: a walk in
    which some chain ends is walked again to take them (`dated`: taken at once). Most walks meet no end, and pay
    nothing for the spans.

    The innermost loop of every ownership search (a hub's sphere walks are re-run whenever its holdings move), so
    it binds what it calls once and keeps the nodes on the current chain in one set it backtracks on, rather than
    a new frozenset per hop."""
    direction = OUT if forward else IN
    if not ctx.graph.adjacency(start, Layer.HOLDING, direction):
        # what `visit` would find first, and all it would do, for most starts (a company that owns nothing, a
        # person nobody owns): about half of all walks, which need none of the set-up below
        ctx.reads.adj(start, Layer.HOLDING, direction)
        return {}, False
    cfg = ctx.config.ownership
    ofac = cfg.rule == "ofac"
    majority, min_chain_stake, max_hops = cfg.majority, cfg.min_chain_stake, cfg.max_hops
    found: dict[str, list] = {}
    budget = cfg.max_chains
    schema, hop_values, remembered = ctx.schema, ctx.strength.holding_hop, ctx.strength.remembered_hops()
    graph = ctx.graph
    # the innermost calls looked up directly: a node's holding relations, an entity (its schema), a hop
    adjacencies, sorted_adjacency, entity_of = graph.adjacencies(Layer.HOLDING, direction), \
        graph.sorted_adjacency, graph.entity_table().get
    nothing: dict = {}
    reads = ctx.reads
    read_adjacency, read_node, read_hub = reads.adj, reads.node, reads.hub
    max_fanout, expanded_anyway = ctx.max_fanout, ctx.expanded_anyway
    holding = Layer.HOLDING
    on_chain = {start}
    met_control, control_only = False, CONTROL_ONLY
    ending: dict[str, tuple] = {}  # node -> the span of a chain to it that ends (its sums need the spans)

    # A person's own stakes are listed in full, whatever their number (`SearchContext.expanded_anyway`), and
    # outside the chain budget: only what lies beyond them is bounded by the hub guard and the budget.
    own = schema(start) in PEOPLE and forward

    day = ctx.day

    # chains through a node pair several facts join (`_holding_alternatives`): (nodes of the chain) -> every
    # combination of facts that coexists, as (rank of its facts, value, assumed, chain, since, until): the best
    # ranked counts, and where facts followed one another (a 30% stake cut to 10%), the earlier states too, each
    # for its own span (`_states`)
    chosen: dict[tuple, list] = {}
    trail = [start]  # the nodes of the current chain, in walk order

    def visit(node: str, chain: Chain, value: float, assumed: bool, depth: int, since, until, choice) -> None:
        # since, until: when every stake of the chain so far held together (None: unbounded); choice: the ranks of
        # the facts the chain took where several join two nodes (empty where none did)
        nonlocal budget, met_control
        direct = own and depth == 0
        deeper = depth + 1 < max_hops
        # `SearchContext.edges`, inlined (the walk's innermost call): the same reads and visits, without building
        # the list of edges first
        listed = adjacencies.get(node, nothing)
        if len(listed) > max_fanout and not expanded_anyway(node, holding, direction):
            read_hub(node, holding, direction)
            return
        read_adjacency(node, holding, direction)
        if not listed:
            return
        listed = sorted_adjacency(node, holding, direction)
        reads.visits += len(listed)  # and one more for each record beyond the first between two nodes, below
        counted = 0
        for neighbour, entry in listed.items():
            if type(entry) is tuple:
                reads.visits += len(entry) - 1
                counted += len(entry) - 1
                if not met_control:
                    met_control = any(rec.type in control_only for rec in entry)
                recs = _holding_alternatives(entry, types, hop_values, since, until, day)
            else:
                if entry.type in control_only:
                    met_control = True
                if entry.type in types:
                    recs = ((entry, None),)
                else:
                    continue
            for rec, alternative in recs:
                if budget <= 0 and not direct:
                    reads.visits += _extra_records(listed) - counted  # every edge counts as looked at, as listed
                    return
                if neighbour in on_chain:
                    continue
                # `SearchContext.schema`, inlined; the read of the neighbour's attributes is recorded only where the
                # walk does not go on to read its adjacency, which covers it (`dependencies`: the same index entries)
                entity = entity_of(neighbour)
                if entity is not None and entity.schema in PUBLIC_APPARATUS:
                    read_node(neighbour)
                    continue
                hop = remembered.get(rec)
                if hop is None:
                    hop = hop_values(rec)
                if not hop:  # (None, or () remembered: not usable on the date)
                    read_node(neighbour)
                    continue
                begins, ends = rec.start, rec.end
                now_since = since if begins is None or (since is not None and since >= begins) else begins
                now_until = until if ends is None or (until is not None and until <= ends) else ends
                if now_since is not None and now_until is not None and now_since > now_until:
                    read_node(neighbour)  # this stake and the chain's earlier ones never held at the same time
                    continue
                weight, stake, stake_assumed, step = hop
                if ofac:
                    # Forward, the newest hop is the chain's last: its stake is the chain's value, and only a majority
                    # lets the chain go on. Backward, the first hop found is the last one; every later find is an
                    # earlier hop and must be a majority.
                    if forward or depth == 0:
                        chain_value, goes_on = stake, (stake >= majority) if forward else True
                    elif stake >= majority:
                        chain_value, goes_on = value, True
                    else:
                        read_node(neighbour)
                        continue
                else:
                    chain_value = value * stake
                    goes_on = chain_value >= min_chain_stake
                if not direct:
                    budget -= 1
                longer = None
                now_assumed = assumed or stake_assumed
                if with_chains:
                    longer = chain + (step,) if forward else (step,) + chain
                now_choice = choice
                if alternative is not None:  # one of several facts joining these two nodes: ranked owner -> owned
                    now_choice = choice + (alternative,) if forward else (alternative,) + choice
                if now_until is not None and not now_choice:  # (a chosen chain's span is taken once chosen)
                    ending[neighbour] = (now_since, now_until)
                if now_choice:
                    # a chain through a node pair several facts join: of the chains along the same nodes (one per
                    # combination of those facts that coexists), only the best ranked counts (`_holding_alternatives`)
                    key = (*trail, neighbour)
                    candidates = chosen.get(key)
                    if candidates is None:
                        chosen[key] = candidates = []
                    candidates.append((now_choice, chain_value, now_assumed, longer, now_since, now_until))
                else:  # `_record`, inlined (the walk's innermost path)
                    held = found.get(neighbour)
                    if held is None:
                        found[neighbour] = held = [[chain_value], now_assumed, [] if with_chains else None,
                                                   [] if dated else None]
                    else:
                        held[0].append(chain_value)
                        if now_assumed:
                            held[1] = True
                    if with_chains:
                        held[2].append(longer)
                    if dated:
                        held[3].append((now_since, now_until))
                if goes_on and deeper:
                    if adjacencies.get(neighbour):
                        on_chain.add(neighbour)
                        trail.append(neighbour)
                        visit(neighbour, longer, chain_value, now_assumed, depth + 1, now_since, now_until,
                              now_choice)
                        trail.pop()
                        on_chain.discard(neighbour)
                    else:  # what visiting it would do (`SearchContext.edges` of nothing): most chains end here
                        read_adjacency(neighbour, holding, direction)
                else:
                    read_node(neighbour)

    visits = reads.visits
    try:
        visit(start, (), 1.0, False, 0, None, None, ())
    finally:
        del visit  # a recursive closure refers to itself: unbound, its walk is freed now, not by the cycle collector
    earlier = False  # some sequence of nodes had earlier states of its holding (only a dated walk takes them)
    for key, candidates in chosen.items():
        states = _states(candidates)
        for _, chain_value, now_assumed, longer, since, until in (states if dated else states[:1]):
            _record(found, key[-1], chain_value, now_assumed, longer, with_chains, (since, until) if dated else None)
        _, _, _, _, since, until = states[0]
        if until is not None:
            ending[key[-1]] = (since, until)
        earlier = earlier or len(states) > 1
    if (ending or earlier) and not dated:
        if earlier or any(len(found[node][0]) > 1 for node in ending):
            # chains to one node of which one ends: walked again with their spans, the same reads (and visits) again
            spent = reads.visits - visits
            found, met_control = _walk(start, ctx, forward, types, with_chains, True)
            reads.visits -= spent
        else:  # one chain to each such node: its span is the one kept (related parties' sums need it)
            for node, span in ending.items():
                found[node][3] = [span]
    return found, met_control


def _states(candidates: list[tuple]) -> list[tuple]:
    """Of the combinations of facts along one sequence of nodes (`_walk`'s candidates), the best ranked first
    (`_holding_alternatives`), then, best ranked first, each that never held at the same time as one taken: the
    successive states of one holding (a stake cut from 30% to 10% is a 30% holding until the cut, which a current
    10% alone hid: a review). Facts that held at once (a stake and the control it carries) stay one view."""
    if len(candidates) > 1:
        candidates.sort(key=_rank_of)
    taken = [candidates[0]]
    for candidate in candidates[1:]:
        since, until = candidate[4], candidate[5]
        if all(_apart(since, until, other[4], other[5]) for other in taken):
            taken.append(candidate)
    return taken


def _rank_of(candidate: tuple) -> tuple:
    return candidate[0]


def _apart(since, until, other_since, other_until) -> bool:
    """Whether two spans never hold at one moment (`_holds_at`: an end is excluded, so one that ends on the day
    the other begins is apart)."""
    return (until is not None and other_since is not None and until <= other_since) or \
        (other_until is not None and since is not None and other_until <= since)


def _record(found: dict[str, list], node: str, value: float, assumed: bool, chain: Chain | None,
            with_chains: bool, span: tuple | None) -> None:
    """Count one chain to `node` in the walk's result: its value, whether a stake on it was assumed, the chain,
    its span where the walk takes them."""
    held = found.get(node)
    if held is None:
        found[node] = held = [[value], assumed, [] if with_chains else None, [] if span is not None else None]
    else:
        held[0].append(value)
        if assumed:
            held[1] = True
    if with_chains:
        held[2].append(chain)
    if span is not None:
        held[3].append(span)


def _holding_alternatives(recs: tuple, types: frozenset, hop_values, since, until, day) -> list[tuple]:
    """The relations between two nodes (several facts of the holding layer) that a chain may pass, each with its
    rank: one owner's holding in one entity counts once. Two facts of one type between the same ends do not overlap
    in time (else they would be one fact: `graph.facts_of`): a stake that ended and the one that followed it are
    successive states of one holding, and a stake and a directorship of one company are two views of it; adding
    them up would count it twice (15% + 15% = a beneficial owner's 30%). So a chain along given nodes takes, of the
    combinations of facts that coexist (`since`, `until`: the chain so far), the best ranked, hop by hop from owner
    to owned: the fact in force on the date first (of those, the largest stake: control counts as 100%), else the
    one that ended last; ties go to the stronger relation, then the relation id. The ranks depend on the fact and
    the date only, so the choice never depends on order nor on the direction of the walk: a newer stake that never
    coexisted with the next hop does not hide the older one that did (a chain the walk from the owner and the walk
    from the owned find alike)."""
    usable = []
    for rec in recs:
        if rec.type not in types:
            continue
        hop = hop_values(rec)
        if hop is None:
            continue
        if (until is not None and rec.start is not None and rec.start > until) or \
                (since is not None and rec.end is not None and rec.end < since):
            continue
        weight, stake, _, _ = hop
        held = rec.end is None or rec.end >= day
        usable.append((rec, (not held, 0 if held else -rec.end.toordinal(), -stake, -weight, rec.relation_id)))
    return usable
