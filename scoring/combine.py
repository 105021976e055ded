"""How the strengths of several paths add up to the power an actor has over a counterparty.

A path's strength is the probability that all its hops hold (`paths.chain_strength`: the product of their weights,
times `hop_decay` for each decaying hop after the first). Several paths add up as the probability that at least one
of them holds. Where they share no relation that is the noisy-OR of their strengths, `1 - prod(1 - s)`. Where they
share one, it is not: a regulator's one alleged `regulates` relation reaches a spouse's bank through two chains of
her stakes, and the two paths hold or fail together with it. Noisy-OR counted the allegation twice (0.6 became
0.84, critical); the probability that one of the paths holds is 0.6 x (what the two chains add up to).

`union_strength` computes that probability exactly where paths share relations, by conditioning on a shared
relation (it holds, or it does not) until the paths left share none, as network reliability is computed by
factoring. Each path is its relations (each with the weight it has in the path: a decaying hop after the first
carries `hop_decay` too) and a factor of its own (whatever else weighs it: a former office's decayed exposure),
which no other path shares. A relation with different weights in two paths is taken as two relations (as before:
counted in both). Past `_MAX_STEPS` conditionings (many paths sharing many relations) the rest is combined by
noisy-OR, as before; paths that share nothing combine exactly as before, to the bit.
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
        relations = []
        product = 1.0
        decaying = False
        for hop in path.hops:
            weight = hop.weight
            if hop.decays:
                if decaying:
                    weight *= hop_decay
                decaying = True
            key = (hop.rec.relation_id, hop.rec.event_id, hop.forward, weight)
            weights[key] = weight
            relations.append(key)
            product *= weight
        own = min(1.0, path.strength / product) if product > 0 else 0.0
        terms.append((frozenset(relations), own, path.strength))
    counts = Counter(key for relations, _, _ in terms for key in relations)
    if all(count == 1 for count in counts.values()):
        return noisy_or(strength for _, _, strength in terms)  # nothing shared: exactly as it always was
    steps = [_MAX_STEPS]
    return _union([(relations, own) for relations, own, _ in terms], weights, steps)


def _union(terms: list[tuple[frozenset, float]], weights: dict[tuple, float], steps: list[int]) -> float:
    """P(at least one term holds): a term holds when all its relations and its own factor do; relations are
    independent events of the given weights, own factors independent of everything."""
    terms = [(relations, own) for relations, own in terms if own > 0]
    if not terms:
        return 0.0
    counts = Counter(key for relations, _ in terms for key in relations)
    shared = [key for key, count in counts.items() if count > 1]
    if not shared or steps[0] <= 0:
        return noisy_or(own * _product(relations, weights) for relations, own in terms)
    steps[0] -= 1
    # the relation most paths share (ties: the first in key order, so the result never depends on input order)
    pivot = min(shared, key=lambda key: (-counts[key], key))
    weight = weights[pivot]
    holds = [(relations - {pivot}, own) for relations, own in terms]
    fails = [(relations, own) for relations, own in terms if pivot not in relations]
    # a term left with no relation holds by its own factor alone, independently of the rest
    certain = [own for relations, own in holds if not relations]
    rest = [(relations, own) for relations, own in holds if relations]
    held = 1.0 - (1.0 - noisy_or(certain)) * (1.0 - _union(rest, weights, steps)) if certain \
        else _union(rest, weights, steps)
    return weight * held + (1.0 - weight) * _union(fails, weights, steps)


def _product(relations: frozenset, weights: dict[tuple, float]) -> float:
    product = 1.0
    for key in sorted(relations):
        product *= weights[key]
    return product
