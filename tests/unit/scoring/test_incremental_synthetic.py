"""Incremental == full recomputation on the benchmark's heavy-tailed synthetic graphs, with retractions and
re-versions interleaved, and with a tiny hub limit so that hub handling (probes instead of enumeration) is exercised
as much as ordinary nodes: the shared per-node results, the precise propagation of group, reach and holding
changes, and the dependency index's re-registration by difference all meet here."""

from __future__ import annotations

import random

import pytest

from bench.synthetic import generate_events
from schemas import validate_event
from schemas import EventRejected
from scoring import Engine, ScoringConfig
from scoring.caches import Kind
from scoring.paths import chain_signature

from .conftest import full_state, incremental_state


def event_log(relations: int, seed: int):
    raw = list(generate_events(relations, seed=seed))
    rng = random.Random(seed)
    changes = random.Random(seed + 1000)  # attribute changes drawn apart: the relations' history stays as it was
    log = []
    for number, document in enumerate(raw):
        log.append(validate_event(document))
        if rng.random() < 0.15:  # a later version of an earlier relation: retracted, or its status changed
            again = dict(raw[rng.randrange(number + 1)])
            again["event_id"] = f"again-{number}"
            again["observed_at"] = "2025-12-31T00:00:00Z"
            if rng.random() < 0.5:
                again["op"] = "retract"
            else:
                again["status"] = rng.choice(["confirmed", "denied", "alleged"])
            log.append(validate_event(again))
        if changes.random() < 0.06:  # an entity's attributes change: a PEP's role ends or begins, a company renamed
            again = dict(raw[changes.randrange(number + 1)])
            end = changes.choice(("source", "target"))
            entity = dict(again[end])
            if entity["schema"] == "Person":
                entity["topics"] = [] if entity.get("topics") else ["role.pep"]
            elif changes.random() < 0.5:
                entity["name"] = f"{entity['name']} (renamed {number})"
            else:  # re-classified, as a register's later extract may: a body's company, or a company's body
                entity["schema"] = "PublicBody" if entity["schema"] == "Company" else "Company"
            again[end] = entity
            again["event_id"] = f"attributes-{number}"
            again["observed_at"] = "2025-12-31T00:00:00Z"
            try:
                log.append(validate_event(again))
            except EventRejected:  # the relation's type does not take that schema at this end
                pass
    return log


@pytest.mark.parametrize(("seed", "fanout", "rule", "hops"), [(0, 3, "eu", 1), (1, 500, "eu", 2),
                                                              (2, 8, "ofac", 1), (3, 4, "eu", 2)])
def test_incremental_equals_full_on_synthetic_graphs(seed, fanout, rule, hops):
    config = ScoringConfig.load(overrides={"limits": {"max_fanout": fanout}, "ownership": {"rule": rule},
                                           "exposure": {"max_closeness_hops": hops}})
    log = event_log(450, seed)
    engine = Engine(config)
    scored = 0
    for number, event in enumerate(log):
        engine.apply(event)
        if number % 6 == 0:
            state = incremental_state(engine)
            assert state == full_state(engine), (number, event.event_id)
            scored = max(scored, len(state))
    final = incremental_state(engine)
    assert final == full_state(engine)
    assert scored > 0, "the synthetic graph should produce scores"
    loaded = Engine(config)
    loaded.load(log)
    assert incremental_state(loaded) == final
    # the bookkeeping kept by difference (candidate counts, shared per-node results) equals a fresh build's
    assert {a: c for a, c in engine._candidate_counts.items() if c} == {
        a: c for a, c in loaded._candidate_counts.items() if c}
    for node, ties in engine._caches.items(Kind.TIES):  # relation records differ between engines: compare contents
        fresh = loaded._caches.get(Kind.TIES, node)
        if fresh is not None:
            assert ties_signature(ties) == ties_signature(fresh), node
    for kind in (Kind.HOLDINGS, Kind.STAKES, Kind.OWNERS):
        for node, held in engine._caches.items(kind):
            fresh = loaded._caches.get(kind, node)
            if fresh is not None:
                assert holdings_signature(held) == holdings_signature(fresh), (kind, node)


def ties_signature(ties) -> tuple:
    return ties.hub, tuple((neighbour, hop.signature(), asset) for neighbour, hop, asset in ties.ties)


def holdings_signature(held: dict) -> dict:
    return {node: (h.stake, h.assumed, tuple(chain_signature(c) for c in h.chains)) for node, h in held.items()}
