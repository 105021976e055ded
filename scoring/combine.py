"""How the strengths of several paths add up to the power an actor has over a counterparty.

A path's strength is the probability that all its hops hold (`paths.chain_strength`: the product of their weights,
times `hop_decay` for each decaying hop after the first). Several paths add up as the probability that at least one
of them holds. Where they share no relation that is the noisy-OR of their strengths, `1 - prod(1 - s)`. Where they
share one, it is not: a regulator's one alleged `regulates` relation reaches a spouse's bank through two chains of
her stakes, and the two paths hold or fail together with it. Noisy-OR counted the allegation twice (0.6 became
0.84, critical); the probability that one of the paths holds is 0.6 x (what the two chains add up to).

`union_strength` computes that probability exactly where paths share relations, by conditioning on a shared
relation (it holds, or it does not) until the paths left share none, as network reliability is computed by
factoring. Each path is its relations, each with the weight it has in the path (a decaying hop after the first
carries `hop_decay` too, as `paths.chain_strength` weighs it); whatever else weighs a path (a former office's
decayed exposure) belongs to its first relation, the office, and is shared by every path from it. A relation with
different weights in two paths is taken as two relations (as before: counted in both). Groups of paths that share
nothing are combined apart; past `_MAX_STEPS` conditionings (many paths sharing many relations) the rest is
combined by noisy-OR, as before; paths that share nothing combine exactly as before, to the bit.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from scoring.paths import Path

_MAX_STEPS = 512  # conditionings per combination; beyond, noisy-OR (an over-count, bounded as it always was)


def noisy_or(strengths) -> float:
    """Probability that at least one of several independent signals holds."""
    remaining = 1.0
    for strength in sorted(strengths, reverse=True):  # fixed order: the float result never depends on input order
        remaining *= 1.0 - strength
    return 1.0 - remaining


def union_strength(paths: Sequence[Path], hop_decay: float) -> float:
    """The probability that at least one of these paths holds, their shared relations counted once."""
    if len(paths) < 2:
        return noisy_or(path.strength for path in paths)
    weights: dict[tuple, float] = {}
    terms = []
    for path in paths:
        hop_weights = []
        product = 1.0
        decaying = False
        for hop in path.hops:
            weight = hop.weight
            if hop.decays:
                if decaying:
                    weight *= hop_decay
                decaying = True
            hop_weights.append(weight)
            product *= weight
        if product <= 0:
            continue
        # What weighs the path beyond its hops is its first hop's: a former office's decayed exposure, which every
        # path from that office shares (a review: two chains of stakes under one former office counted it twice).
        # Rounded in the key only, so that float noise between paths never makes one office two.
        extra = path.strength / product
        shared = path.shared_factor
        if shared is not None:
            # a factor other paths share (the size of a pair's awards: `authority._sized`): one more relation of
            # the path, the same in each of them, and not part of its first hop's weight
            extra /= shared[1]
        if abs(extra - 1.0) > 1e-9:
            hop_weights[0] *= extra
        relations = []
        for number, (hop, weight) in enumerate(zip(path.hops, hop_weights)):
            key = (hop.rec.relation_id, hop.rec.event_id, hop.forward, round(weight, 12) if number == 0 else weight)
            weights.setdefault(key, weight)
            relations.append(key)
        if shared is not None:
            weights.setdefault(shared[0], shared[1])
            relations.append(shared[0])
        terms.append((frozenset(relations), path.strength))
    counts = Counter(key for relations, _ in terms for key in relations)
    if all(count == 1 for count in counts.values()):
        return noisy_or(strength for _, strength in terms)  # nothing shared: exactly as it always was
    steps = [_MAX_STEPS]
    return _union([relations for relations, _ in terms], weights, steps)


def _union(terms: list[frozenset], weights: dict[tuple, float], steps: list[int]) -> float:
    """P(at least one term holds): a term holds when all its relations do, relations being independent events of
    the given weights. Terms that share no relation with each other, directly or through others, are independent
    groups, combined by noisy-OR; within a group, conditioning on the relation most of its terms share."""
    if not terms:
        return 0.0
    if any(not relations for relations in terms):
        return 1.0
    groups = _groups(terms)
    if len(groups) > 1:
        return noisy_or(_union(group, weights, steps) for group in groups)
    counts = Counter(key for relations in terms for key in relations)
    shared = [key for key, count in counts.items() if count > 1]
    if not shared or steps[0] <= 0:
        return noisy_or(_product(relations, weights) for relations in terms)
    steps[0] -= 1
    # the relation most terms share (ties: the first in key order, so the result never depends on input order)
    pivot = min(shared, key=lambda key: (-counts[key], key))
    weight = weights[pivot]
    holds = [relations - {pivot} for relations in terms]
    fails = [relations for relations in terms if pivot not in relations]
    return weight * _union(holds, weights, steps) + (1.0 - weight) * _union(fails, weights, steps)


def _groups(terms: list[frozenset]) -> list[list[frozenset]]:
    """The terms in groups that share relations (connected through shared relations), in a fixed order."""
    parent = list(range(len(terms)))

    def root(number: int) -> int:
        while parent[number] != number:
            parent[number] = parent[parent[number]]
            number = parent[number]
        return number

    first_with: dict[tuple, int] = {}
    for number, relations in enumerate(terms):
        for key in relations:
            other = first_with.setdefault(key, number)
            if other != number:
                parent[root(number)] = root(other)
    grouped: dict[int, list[frozenset]] = {}
    for number, relations in enumerate(terms):
        grouped.setdefault(root(number), []).append(relations)
    return sorted(grouped.values(), key=lambda group: min(min(relations) for relations in group))


def _product(relations: frozenset, weights: dict[tuple, float]) -> float:
    product = 1.0
    for key in sorted(relations):
        product *= weights[key]
    return product
