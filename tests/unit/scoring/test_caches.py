"""The engine's cache store: a shared result is computed once, registered with the dependency index, and goes
with its last user (a group only at `collect`); its reverse indexes stay equal to its results; an engine with its
store survives pickling (snapshots) and goes on exactly as the original."""

from __future__ import annotations

import pickle
import random

import pytest

from bench.synthetic import generate_events
from schemas import validate_event
from scoring import Engine, ScoringConfig
from scoring import group as group_module
from scoring.caches import KINDS, CacheStore, Kind
from scoring.compact_index import SMALL, add_one, discard_one, members
from scoring.dependencies import DependencyIndex, Reads
from scoring.search import SearchContext
from scoring.semantics import IN, OUT, Layer


def store_on(engine: Engine) -> tuple[CacheStore, DependencyIndex]:
    deps = DependencyIndex()
    day = engine.graph.clock.date()

    def context(reads: Reads) -> SearchContext:
        return SearchContext(engine.graph, engine.config, day, reads, None, store)

    store = CacheStore(deps, context)
    return store, deps


def small_world(make) -> Engine:
    engine = Engine()
    for event in (make("ownership", "pm", "holdco", percentage=60), make("ownership", "holdco", "shell", percentage=50),
                  make("ownership", "tycoon", "shell", percentage=30), make("partners_with", "shell", "vendor")):
        engine.apply(event)
    return engine


def test_a_shared_result_is_computed_once_and_goes_with_its_last_user(make):
    store, deps = store_on(small_world(make))
    owned, visits = store.get_or_compute(Kind.OWNED, "holdco", "pm")
    assert "shell" in owned and visits > 0
    again, visits = store.get_or_compute(Kind.OWNED, "holdco", "spouse")
    assert again is owned and visits == 0
    assert set(store.users(Kind.OWNED, "holdco")) == {"pm", "spouse"}
    assert deps.registered((Kind.OWNED, "holdco"))
    store.release(Kind.OWNED, "holdco", "pm")
    assert store.count(Kind.OWNED) == 1
    store.release(Kind.OWNED, "holdco", "spouse")
    assert store.count(Kind.OWNED) == 0 and store.get(Kind.OWNED, "holdco") is None
    assert not deps.registered((Kind.OWNED, "holdco")) and not store.users(Kind.OWNED, "holdco")


def test_a_released_group_stays_until_collected(make):
    store, deps = store_on(small_world(make))
    grp, _ = store.get_or_compute(Kind.GROUP, "shell", "pm")
    assert store.held_by(Kind.GROUP, "pm") == {"shell"}
    nodes = grp.touched_nodes()
    assert nodes and all("shell" in store.mentioning(Kind.GROUP, node) for node in nodes)
    store.release(Kind.GROUP, "shell", "pm")
    assert not store.held_by(Kind.GROUP, "pm") and store.count(Kind.GROUP) == 1
    store.get_or_compute(Kind.GROUP, "shell", "minister")
    store.collect(Kind.GROUP, {"shell"})
    assert store.count(Kind.GROUP) == 1  # still used
    store.release(Kind.GROUP, "shell", "minister")
    store.collect(Kind.GROUP, {"shell"})
    assert store.count(Kind.GROUP) == 0 and not deps.registered((Kind.GROUP, "shell"))
    assert all(not store.mentioning(Kind.GROUP, node) for node in nodes)


def test_a_result_read_by_computations_goes_when_none_reads_it(make):
    store, deps = store_on(small_world(make))
    reads = Reads()
    ties = store.ties("shell", reads)
    assert any(neighbour == "vendor" for neighbour, _, _ in ties.ties) and reads.visits > 0
    reader = (Kind.PAIR, "pm", "shell")
    deps.register(reader, reads)
    assert store.users(Kind.TIES, "shell") == {reader}
    assert store.ties("shell", Reads()) is ties
    deps.unregister(reader)
    store.release_unread()
    assert store.count(Kind.TIES) == 0 and not deps.registered((Kind.TIES, "shell"))


def synthetic_log(relations: int, seed: int) -> list:
    return [validate_event(document) for document in generate_events(relations, seed=seed)]


@pytest.mark.parametrize("wide", [group_module.WIDE_MEMBER_TIES, 2, 0])
def test_the_stores_indexes_equal_its_results_after_many_events(monkeypatch, wide):
    """`wide`: members with more ties than this are indexed once under the member (0: every member with a tie)."""
    monkeypatch.setattr(group_module, "WIDE_MEMBER_TIES", wide)
    engine = Engine(ScoringConfig.load(overrides={"limits": {"max_fanout": 4}}))
    for number, event in enumerate(synthetic_log(500, 5)):
        engine.apply(event)
        if number % 50 == 49:
            assert_consistent(engine)
    assert engine.stats()["cached_groups"] > 0
    assert bool(engine._caches._tied_as[Kind.GROUP]) == (wide < 16)  # the synthetic members have few ties
    # an empty result of each type is one object, held for every empty one (most candidates own nothing)
    empty = [result for kind in Kind if kind in KINDS for _, result in engine._caches.items(kind) if not result]
    assert len(empty) > 10 and len({id(result) for result in empty}) == len({type(result) for result in empty})


def assert_consistent(engine: Engine) -> None:
    store, deps = engine._caches, engine._deps
    for kind in (Kind.TIES, Kind.HOLDINGS, Kind.STAKES, Kind.OWNERS, Kind.SPHERE, Kind.OWNED, Kind.GROUP):
        for key, _ in store.items(kind):
            assert deps.registered((kind, key)), (kind, key)
            assert store.users(kind, key), (kind, key)  # nothing is kept without users after a refresh
    groups = dict(store.items(Kind.GROUP))
    touched = {counterparty: grp.touched_nodes() for counterparty, grp in groups.items()}
    assert store.mentioning_all(Kind.GROUP) == {c for c, nodes in touched.items() if nodes is None}
    for node in {n for nodes in touched.values() if nodes for n in nodes} | all_nodes(engine):
        assert set(store.mentioning(Kind.GROUP, node)) == {
            c for c, nodes in touched.items() if nodes is not None and node in nodes}, node
    holders = {(c, actor) for c in groups for actor in store.users(Kind.GROUP, c)}
    assert holders == {(c, actor) for actor in engine._reach for c in store.held_by(Kind.GROUP, actor)}


def all_nodes(engine: Engine) -> set[str]:
    return {node for layer in Layer for direction in (OUT, IN) for node in (
        engine.graph.nodes_with_out_edges(layer) if direction == OUT else engine.graph.nodes_with_in_edges(layer))}


def test_an_engine_pickles_with_its_store_and_goes_on_as_the_original():
    log = synthetic_log(400, 2)
    engine = Engine(ScoringConfig.load(overrides={"limits": {"max_fanout": 6}}))
    for event in log[:250]:
        engine.apply(event)
    copy = pickle.loads(pickle.dumps(engine))
    assert copy.stats() == engine.stats()
    assert copy._caches._context.__self__ is copy  # computes on its own graph, not the original's
    for event in log[250:]:
        assert [c.published() for c in copy.apply(event)] == [c.published() for c in engine.apply(event)]
        assert copy.stats() == engine.stats()
    assert copy.scores() == engine.scores()


def test_the_compact_user_index_equals_a_dict_of_sets():
    rng = random.Random(9)
    index: dict = {}
    reference: dict[str, set[str]] = {}
    users = [f"u{i}" for i in range(3 * SMALL)]
    for _ in range(3000):
        key, user = rng.choice("ab"), rng.choice(users)
        if rng.random() < 0.45:
            emptied = discard_one(index, key, user)
            had = reference.get(key, set())
            assert emptied == (had == {user})
            had.discard(user)
            if not had:
                reference.pop(key, None)
        else:
            add_one(index, key, user)
            reference.setdefault(key, set()).add(user)
        assert {k: set(members(index.get(k))) for k in "ab" if k in index} == reference
