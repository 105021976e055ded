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


def _state(clusters: Clusters) -> tuple:
    """Everything a later change or a reader sees of the clusters."""
    return (dict(clusters._canonical), dict(clusters._members),
            {cid: tuple(e.key for e in edges) for cid, edges in clusters._joined_by.items()},
            {cid: tuple(e.key for e in edges) for cid, edges in clusters._refused.items()},
            set(clusters._clashes), dict(clusters._kinds), set(clusters._guarded))


@pytest.mark.parametrize("seed", range(80))
def test_joining_without_re_clustering_gives_what_re_clustering_gives(seed):
    _compare_joining(seed)


def test_the_random_changes_compared_join_without_re_clustering_often():
    """That the comparison above compares the path it is about: of its changes, hundreds are joins."""
    assert sum(_compare_joining(seed) for seed in range(20)) > 150


def _compare_joining(seed: int) -> int:
    """`Clusters._joined` (a change that only joins clusters, made from them as they are) against re-clustering
    everything each change touches, on random changes: identifier chains growing and re-linked around a new holder,
    judgements confirmed, denied and retracted, ids of two kinds or of none yet, kinds that change. After every
    change, the same clusters, edges, refusals and bookkeeping, and the same ids reported as moved. Returns how
    many changes were joined without re-clustering."""
    chance = random.Random(seed)
    ids = [f"e{n:03d}" for n in range(chance.randint(6, 60))]
    kinds = {node: chance.choice(("people", *["organizations"] * 6)) for node in ids if chance.random() > 0.1}
    joined, re_clustered = Clusters(), Clusters()
    re_clustered._joined = lambda *args: None  # re-cluster every change
    chains: dict[str, list[str]] = {}  # identifier -> its holders in order (linked in a chain, as the layer does)
    live: dict[tuple, Edge] = {}
    fast = 0
    for number in range(chance.randint(20, 120)):
        removed, added, retyped = [], [], []
        roll = chance.random()
        if roll < 0.55:  # a new holder of an identifier: the chain re-linked around it
            identifier = f"id{chance.randrange(4)}"
            holders = chains.setdefault(identifier, [])
            node = chance.choice([n for n in ids if n not in holders] or ids)
            if node not in holders:
                holders.append(node)
                holders.sort()
                at = holders.index(node)
                before, after = holders[at - 1] if at else None, holders[at + 1] if at + 1 < len(holders) else None
                if before and after:
                    removed.append((IDENTIFIER, identifier, before, after))
                for a, b in ((before, node), (node, after)):
                    if a and b:
                        added.append(Edge((IDENTIFIER, identifier, a, b), IDENTIFIER, a, b, True, identifier))
        elif roll < 0.8:  # a judgement, confirmed most often
            a, b = chance.sample(ids, 2)
            added.append(Edge((JUDGEMENT, f"j{number:03d}"), JUDGEMENT, a, b, chance.random() > 0.08))
        elif roll < 0.9 and live:  # a judgement or an identifier link retracted
            removed.append(chance.choice(sorted(live)))
        else:  # what an id is changes (a new reference of it), or becomes known
            node = chance.choice(ids)
            kinds[node] = chance.choice(("people", *["organizations"] * 6))
            retyped.append(node)
        for key in removed:
            live.pop(key, None)
        for edge in added:
            live[edge.key] = edge
        state_before = _state(joined)
        calls = []
        real = joined._joined
        joined._joined = lambda *args: calls.append(result := real(*args)) or result
        moved = joined.change(removed, added, retyped, kind_of=kinds.get)
        del joined._joined
        fast += sum(1 for result in calls if result is not None)
        assert moved == re_clustered.change(removed, added, retyped, kind_of=kinds.get), number
        assert _state(joined) == _state(re_clustered), number
        assert _state(joined) != state_before or not moved
    return fast


def test_ids_minted_by_the_thousand_for_one_entity_join_without_re_clustering(monkeypatch):
    """3,000 ids carrying one QID, added one at a time in random order (a chain re-linked around each): each joins
    the cluster as it is; re-clustering it would cost what the cluster holds, at every one."""
    chance = random.Random(5)
    ids = [f"mention-{n:05d}" for n in range(3000)]
    chance.shuffle(ids)
    clusters = Clusters()
    re_clustered = []
    recluster = clusters._recluster
    monkeypatch.setattr(clusters, "_recluster", lambda touched, kind_of: re_clustered.append(len(touched)) or
                        recluster(touched, kind_of))
    holders: list[str] = []
    for node in ids:
        holders.append(node)
        holders.sort()
        at = holders.index(node)
        before, after = holders[at - 1] if at else None, holders[at + 1] if at + 1 < len(holders) else None
        removed = [(IDENTIFIER, "Q1", before, after)] if before and after else []
        added = [Edge((IDENTIFIER, "Q1", a, b), IDENTIFIER, a, b, True, "Q1")
                 for a, b in ((before, node), (node, after)) if a and b]
        clusters.change(removed, added, kind_of=lambda node: "people")
    assert re_clustered == []
    assert clusters.members(ids[0]) == tuple(sorted(ids)) and clusters.canonical(ids[-1]) == "mention-00000"
    assert [e.key for e in clusters.joined_by(ids[0])] == [(IDENTIFIER, "Q1", a, b) for a, b in zip(sorted(ids),
                                                                                                  sorted(ids)[1:])]


@pytest.mark.parametrize("seed", range(10))
def test_many_clusters_joined_in_one_change_are_those_re_clustering_makes(seed):
    """A bulk of identifier links in one change (a portable file's identifiers restored): many clusters at once,
    some of them joined to clusters already held, some edges restated."""
    chance = random.Random(seed)
    ids = [f"e{n:04d}" for n in range(400)]
    joined, re_clustered = Clusters(), Clusters()
    re_clustered._joined = lambda *args: None
    kinds = {node: "organizations" for node in ids}
    for size in (60, 300, 40):
        edges = []
        for number in range(size):
            a, b = chance.sample(ids, 2)
            edges.append(Edge((IDENTIFIER, f"Q{chance.randrange(size)}", *sorted((a, b))), IDENTIFIER, a, b, True))
        moved = joined.change([], edges, kind_of=kinds.get)
        assert moved == re_clustered.change([], edges, kind_of=kinds.get)
        assert _state(joined) == _state(re_clustered)
    assert joined.merged > 3 and max(len(m) for m in joined._members.values()) > 50


def test_an_edge_of_an_id_to_itself_stays_evidence_when_it_joins_a_cluster():
    """(Validation rejects a judgement of an id with itself; `Clusters` holds whatever it is given.) Re-clustering
    lists such an edge among the edges that joined the cluster; joining without re-clustering does the same."""
    kind = {"x": "people", "y": "people"}.get
    joined, re_clustered = Clusters(), Clusters()
    re_clustered._joined = lambda *args: None
    for clusters in (joined, re_clustered):
        clusters.change([], [Edge((JUDGEMENT, "j-self"), JUDGEMENT, "x", "x", True)], kind_of=kind)
        clusters.change([], [Edge((IDENTIFIER, "Q1", "x", "y"), IDENTIFIER, "x", "y", True)], kind_of=kind)
    assert [e.key for e in joined.joined_by("x")] == [(JUDGEMENT, "j-self"), (IDENTIFIER, "Q1", "x", "y")]
    assert _state(joined) == _state(re_clustered)


def test_an_edge_of_an_id_to_itself_taken_out_leaves_no_cluster_of_one():
    kind = {"x": "people"}.get
    clusters = Clusters()
    clusters.change([], [Edge((JUDGEMENT, "j-self"), JUDGEMENT, "x", "x", True)], kind_of=kind)
    clusters.change([(JUDGEMENT, "j-self")], [], kind_of=kind)
    assert clusters.merged == 0 and clusters._members == {} and clusters._kinds == {}


def test_ids_retyped_given_as_a_generator_are_all_read():
    """`retyped` is read twice (what to re-cluster, and whether the ids are new); a generator was spent by the
    first, and a cluster whose member became another kind stayed merged."""
    kinds = {"x": "people", "y": "people"}
    clusters = Clusters()
    clusters.change([], [Edge((IDENTIFIER, "Q1", "x", "y"), IDENTIFIER, "x", "y", True)], kind_of=kinds.get)
    assert clusters.members("x") == ("x", "y")
    kinds["y"] = "organizations"
    clusters.change([], [], retyped=(node for node in ["y"]), kind_of=kinds.get)
    assert clusters.members("x") == ("x",)
    assert [e.key for e in clusters.refused("x")] == [(IDENTIFIER, "Q1", "x", "y")]
