"""An adversarial hub (one node with 100 000 relations) must not make each event cost a full traversal.

Cost is the engine's own count of edges and adjacency lists examined by one apply (`stats()["last_visits"]`),
not wall time. The hubs are bulk-loaded (`Engine.load`), then single events are applied at and around them.
"""

from __future__ import annotations

import pytest

from scoring import Engine
from scoring.semantics import IN, OUT, Layer

from .conftest import EventFactory

HUB_EDGES = 100_000
FAN_OUT = 20_000  # firms the regulator oversees
MAX_VISITS = 500


def variants(template, count, prefix):
    """`count` copies of a validated event with fresh ids and targets (model_copy: no re-validation per copy)."""
    target = template.target
    for i in range(count):
        yield template.model_copy(update={
            "event_id": f"{prefix}-e{i}", "relation_id": f"{prefix}-r{i}",
            "target": target.model_copy(update={"id": f"{prefix}-{i}", "name": f"{target.name} {i}"})})


def reversed_variants(template, count, prefix):
    source = template.source
    for i in range(count):
        yield template.model_copy(update={
            "event_id": f"{prefix}-e{i}", "relation_id": f"{prefix}-r{i}",
            "source": source.model_copy(update={"id": f"{prefix}-{i}", "name": f"{source.name} {i}"})})


@pytest.fixture(scope="module")
def hub_engine():
    make = EventFactory().make
    engine = Engine()
    # A scored conflict at the hub: the regulator the minister controls oversees the exchange, which lists a token
    # issued by a company the minister's son owns.
    engine.apply_many([
        make("control", "minister", "regulator"), make("oversees", "regulator", "exchange"),
        make("family", "son", "minister"), make("ownership", "son", "issuer", percentage=60),
        make("issues", "issuer", "token"), make("lists", "exchange", "token"),
    ])
    before = engine.score("minister", "exchange")
    assert before is not None
    # The exchange: 100 000 relations (listings, incoming payments, small shareholders).
    # The regulator: oversees FAN_OUT firms (legitimate authority fan-out: every firm is a pair of the minister).
    bulk = [
        *variants(make("lists", "exchange", ("t", "Security", "Token", ())), HUB_EDGES // 2, "listed"),
        *reversed_variants(make("payment", ("c", "Company", "Customer", ()), "exchange", amount=100),
                           HUB_EDGES // 4, "customer"),
        *reversed_variants(make("ownership", ("h", "Person", "Holder", ()), "exchange", percentage=0.001),
                           HUB_EDGES // 4, "holder"),
        *variants(make("oversees", "regulator", ("f", "Company", "Firm", ())), FAN_OUT, "firm"),
    ]
    changes = engine.load(bulk)
    assert [c.key for c in changes] == []  # the hubs alone change no score
    assert engine.score("minister", "exchange") == before
    return engine, make


def test_the_hub_holds_100k_relations(hub_engine):
    engine, _ = hub_engine
    assert engine.stats()["relations"] == 6 + HUB_EDGES + FAN_OUT
    degree = sum(engine.graph.fanout("exchange", layer, direction)
                 for layer in Layer for direction in (OUT, IN))
    assert degree >= HUB_EDGES
    # The minister has authority over every overseen firm, but pairs come from ties: only the exchange's group.
    assert engine.stats()["pairs"] < 10


@pytest.mark.parametrize("new_event", [
    lambda make: make("lists", "exchange", ("t-new", "Security", "New token", ())),
    lambda make: make("payment", ("c-new", "Company", "New customer", ()), "exchange", amount=100),
    lambda make: make("ownership", ("h-new", "Person", "New holder", ()), "exchange", percentage=0.001),
    lambda make: make("oversees", "regulator", ("f-new", "Company", "New firm", ())),
    lambda make: make("payment", "exchange", "son", amount=1e6, currency="USD"),  # a new tie at the hub
    lambda make: make("associate", "son", ("a-new", "Person", "New friend", ())),
], ids=["listing", "payment-in", "shareholder", "oversight", "tie", "associate"])
def test_an_event_at_a_hub_costs_a_bounded_number_of_visits(hub_engine, new_event):
    engine, make = hub_engine
    engine.apply(new_event(make))
    assert engine.stats()["last_visits"] < MAX_VISITS


def test_scores_around_the_hub_stay_exact(hub_engine):
    engine, make = hub_engine
    changes = engine.apply(make("payment", "exchange", "issuer", amount=5e6, currency="USD"))
    assert [c.key for c in changes] == [("minister", "exchange")]
    assert changes[0].new.score > changes[0].old.score
    assert engine.stats()["last_visits"] < MAX_VISITS
