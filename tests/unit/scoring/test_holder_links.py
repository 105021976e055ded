"""The edges that join the holders of one strong identifier, kept up to date one holder at a time: every pair of them
up to 16 holders, every pair with one of the three smallest beyond (`_identifier_edges`). A holder that joins or
leaves changes only the edges that differ (`_new_holder_links`, `_leaving_holder_links`); past 17 holders a new or
departing hub changes them without re-making every edge, as holders arriving in decreasing id order do at each
event. The clusters these edges make without re-clustering (`Clusters._joined`, which asks whether the edges added
link the ends of every edge taken out) are those re-clustering makes."""

from __future__ import annotations

import random

import pytest

from schemas.events import EntityIdentifier
from scoring.clusters import IDENTIFIER, JUDGEMENT, Clusters, Edge, _in_order
from scoring.resolution import (_MAX_PAIRWISE, _identifier_edge_keys, _leaving_holder_links, _new_holder_links)

from .test_clusters import _state

LEI = EntityIdentifier(scheme="lei", value="5493001KJTIIGC8Y1R12")
KEY = ("organizations", *LEI.key)


def _orders(chance: random.Random) -> list[list[str]]:
    ids = [f"s{n:04d}" for n in range(60)]
    shuffled = ids[:]
    chance.shuffle(shuffled)
    return [ids[::-1], ids, shuffled]


def _steps(chance: random.Random, order: list[str]):
    """Holders joining in `order`, with some leaving on the way (the smallest now and then: a hub) and rejoining."""
    held: set[str] = set()
    for holder in order:
        yield "join", holder
        held.add(holder)
        if chance.random() < 0.3 and len(held) > 3:
            leaving = min(held) if chance.random() < 0.5 else chance.choice(sorted(held))
            held.discard(leaving)
            yield "leave", leaving
    for holder in sorted(held, key=lambda _: chance.random()):
        yield "leave", holder


@pytest.mark.parametrize("seed", range(6))
def test_the_edges_kept_one_holder_at_a_time_are_those_made_from_all_of_them(seed):
    chance = random.Random(seed)
    for order in _orders(chance):
        holders: set[str] = set()
        kept: dict[tuple, Edge] = {}
        crossed = set()
        for step, holder in _steps(chance, order):
            links = _new_holder_links if step == "join" else _leaving_holder_links
            size = len(holders)
            fresh, gone = links(KEY, LEI, holders, holder)
            crossed.add((step, size > _MAX_PAIRWISE + (step == "leave")))
            assert gone <= kept.keys(), "takes out only edges it holds"
            assert not {edge.key for edge in fresh} & (kept.keys() - gone), "adds only edges it does not hold"
            for key_gone in gone:
                del kept[key_gone]
            kept.update((edge.key, edge) for edge in fresh)
            assert sorted(kept) == sorted(_identifier_edge_keys(KEY, sorted(holders)))
            for edge in fresh:
                assert edge.key == (IDENTIFIER, *KEY, edge.a, edge.b) and edge.a < edge.b
                assert edge.kind == IDENTIFIER and edge.merging and edge.detail == LEI
        assert holders == set() and kept == {}
        assert crossed == {("join", False), ("join", True), ("leave", False), ("leave", True)}


@pytest.mark.parametrize("seed", range(4))
def test_clusters_joined_from_the_changed_edges_are_those_re_clustering_makes(seed):
    """Each holder's change goes to the clusters as the layer sends it: the edges it takes out (a displaced hub's,
    linked again through the new hub's edges) and those it adds. Joining without re-clustering finds the same
    clusters as re-clustering, for holders arriving in decreasing, increasing and random id order."""
    chance = random.Random(seed)
    kind = "organizations"
    for order in _orders(chance):
        holders: set[str] = set()
        joined, re_clustered = Clusters(), Clusters()
        re_clustered._joined = lambda *args: None
        for step, holder in _steps(chance, order):
            links = _new_holder_links if step == "join" else _leaving_holder_links
            fresh, gone = links(KEY, LEI, holders, holder)
            moved = joined.change(sorted(gone), fresh, kind_of=lambda node: kind)
            assert moved == re_clustered.change(sorted(gone), fresh, kind_of=lambda node: kind)
            assert _state(joined) == _state(re_clustered)
            if len(holders) > 1:
                assert joined.members(holder if step == "join" else min(holders)) == tuple(sorted(holders))


def _joined_and_re_clustered(start: list[Edge], removed: list[tuple], added: list[Edge]) -> Clusters:
    """The clusters of `start` after the change, made without re-clustering where it can be; checked equal to
    re-clustering's."""
    joined, re_clustered = Clusters(), Clusters()
    re_clustered._joined = lambda *args: None
    for clusters in (joined, re_clustered):
        clusters.change([], start, kind_of=lambda node: "organizations")
        clusters.change(removed, added, kind_of=lambda node: "organizations")
    assert _state(joined) == _state(re_clustered)
    return joined


def test_edges_taken_out_whose_ends_the_added_edges_do_not_link_are_re_clustered():
    """Of two edges taken out, the first's ends are linked by the added edges through a chain of three, the second's
    not: the change splits a cluster, which only re-clustering finds. Then the ends of an edge taken out are both
    named by added edges, which do not link them."""
    chain = [Edge((IDENTIFIER, "Q1", a, b), IDENTIFIER, a, b, True) for a, b in (("a", "b"), ("b", "c"), ("c", "d"))]
    start = [Edge((IDENTIFIER, "Q2", "a", "d"), IDENTIFIER, "a", "d", True),
             Edge((IDENTIFIER, "Q2", "d", "e"), IDENTIFIER, "d", "e", True)]
    assert _joined_and_re_clustered(start, [start[0].key], chain).members("a") == ("a", "b", "c", "d", "e")
    assert _joined_and_re_clustered(start, [start[0].key, start[1].key], chain).members("a") == ("a", "b", "c", "d")
    apart = [Edge((IDENTIFIER, "Q3", "a", "b"), IDENTIFIER, "a", "b", True),
             Edge((IDENTIFIER, "Q3", "c", "d"), IDENTIFIER, "c", "d", True)]
    clusters = _joined_and_re_clustered(start, [start[0].key], apart)
    assert clusters.members("a") == ("a", "b") and clusters.members("e") == ("c", "d", "e")


@pytest.mark.parametrize("seed", range(5))
def test_edges_in_order_are_judgements_first_then_by_key(seed):
    chance = random.Random(seed)
    edges = []
    for number in range(200):
        kind = chance.choice((IDENTIFIER, JUDGEMENT))
        a, b = sorted(chance.sample([f"id-{n}" for n in range(30)], 2))
        key = (JUDGEMENT, f"k{chance.randrange(10**6):07d}") if kind == JUDGEMENT \
            else (IDENTIFIER, "lei", f"L{number}", a, b)
        edges.append(Edge(key, kind, a, b, chance.random() > 0.1))
    for size in (0, 1, 2, 17, 200):
        subset = chance.sample(edges, size)
        assert _in_order(subset) == sorted(subset, key=lambda e: e.order)
    assert _in_order([e for e in edges if e.kind == IDENTIFIER]) == sorted(
        (e for e in edges if e.kind == IDENTIFIER), key=lambda e: e.order)
