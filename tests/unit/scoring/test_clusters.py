"""Clusters against the documented rule, computed the plain way: the positive edges in order (judgements before
identifiers, then by key), each refused if it would join two ids a denial keeps apart."""

from __future__ import annotations

import random

import pytest

from scoring.clusters import IDENTIFIER, JUDGEMENT, Clusters, Edge


def by_the_rule(edges: list[Edge], kinds: dict[str, str] | None = None,
                clashes: set | None = None) -> tuple[dict[str, str], set[tuple]]:
    """(id -> canonical id, keys of refused edges), checking every pair of ids of the two sets for a denial, and
    (given `kinds`) for two ids of different kinds (those refused for it go into `clashes`)."""
    denied = {frozenset((e.a, e.b)) for e in edges if not e.merging}
    kinds = kinds or {}
    cluster: dict[str, set[str]] = {}
    refused = set()
    for edge in sorted((e for e in edges if e.merging), key=lambda e: e.order):
        left, right = cluster.get(edge.a, {edge.a}), cluster.get(edge.b, {edge.b})
        if left is right:
            continue
        if any(frozenset((x, y)) in denied for x in left for y in right):
            refused.add(edge.key)
            continue
        if any(x in kinds and y in kinds and kinds[x] != kinds[y] for x in left for y in right):
            refused.add(edge.key)
            if clashes is not None:
                clashes.add(edge.key)
            continue
        joined = left | right
        for node in joined:
            cluster[node] = joined
    return {node: min(members) for node, members in cluster.items() if len(members) > 1}, refused


@pytest.mark.parametrize("seed", range(60))
def test_clusters_follow_the_rule_whatever_the_order_the_edges_come_in(seed):
    chance = random.Random(seed)
    ids = [f"e{n:02d}" for n in range(chance.randint(4, 40))]
    edges = []
    for number in range(chance.randint(1, 60)):
        a, b = chance.sample(ids, 2)
        kind = chance.choice((JUDGEMENT, IDENTIFIER))
        edges.append(Edge((kind, f"k{number:03d}"), kind, a, b, chance.random() > 0.15))
    expected_canonical, expected_refused = by_the_rule(edges)
    clusters = Clusters()
    shuffled = edges[:]
    chance.shuffle(shuffled)
    while shuffled:  # in batches, as events bring them
        size = chance.randint(1, 5)
        batch, shuffled = shuffled[:size], shuffled[size:]
        clusters.change([], batch)
    for node in ids:
        assert clusters.canonical(node) == expected_canonical.get(node, node)
    assert {e.key for node in ids for e in clusters.refused(node)} == expected_refused


def test_a_long_chain_sharing_one_identifier_is_one_cluster_and_a_denial_in_it_still_holds():
    ids = [f"e{n:04d}" for n in range(3000)]
    chain = [Edge((IDENTIFIER, a, b), IDENTIFIER, a, b, True) for a, b in zip(ids, ids[1:])]
    denial = Edge((JUDGEMENT, "no"), JUDGEMENT, ids[0], ids[-1], False)
    clusters = Clusters()
    clusters.change([], [*chain, denial])
    expected_canonical, expected_refused = by_the_rule([*chain, denial])
    assert [clusters.canonical(node) for node in ids] == [expected_canonical.get(node, node) for node in ids]
    assert {e.key for e in clusters.refused(ids[-1])} == expected_refused == {chain[-1].key}


@pytest.mark.parametrize("seed", range(40))
def test_an_edge_joining_two_kinds_is_refused_by_the_rule_whatever_the_order(seed):
    """A person is never one entity with a company, whatever a judgement claims: with each id's kind known (or not
    yet: None), an edge that would join two kinds is refused like one a denial refuses; and an id whose kind changes
    afterwards re-clusters its component."""
    chance = random.Random(seed)
    ids = [f"e{n:02d}" for n in range(chance.randint(4, 30))]
    kinds = {node: chance.choice(("people", "organizations")) for node in ids if chance.random() > 0.2}
    edges = []
    for number in range(chance.randint(1, 50)):
        a, b = chance.sample(ids, 2)
        kind = chance.choice((JUDGEMENT, IDENTIFIER))
        edges.append(Edge((kind, f"k{number:03d}"), kind, a, b, chance.random() > 0.15))
    shuffled = edges[:]
    chance.shuffle(shuffled)
    clusters = Clusters()
    known: dict[str, str] = {}
    clusters.change([], shuffled, kind_of=known.get)  # kinds not known yet: merged as edges say
    known.update(kinds)
    clusters.change([], [], retyped=ids, kind_of=known.get)  # then the relations say what each id is
    clashes: set[tuple] = set()
    expected_canonical, expected_refused = by_the_rule(edges, kinds, clashes)
    for node in ids:
        assert clusters.canonical(node) == expected_canonical.get(node, node)
    refused = {e.key for node in ids for e in clusters.refused(node)}
    assert refused == expected_refused
    assert {e.key for node in ids for e in clusters.refused(node) if clusters.refused_for_kind(e)} == clashes
