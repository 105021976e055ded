"""Random event logs around the fan-out guard: incremental scores equal a full recompute after every event.

A conflict skeleton (an official's office and bodies, his family, seats, stakes, a control chain through a company)
and a handful of nodes whose fan-out hovers around a guard of 1-4, so that they enter and leave hub status all the
time in every layer and direction; events restate their schemata (Company, PublicBody, Organization) and topics,
retract relations, move a relation id on or off a hub, and let time pass. Seeded, so a failure names its case.
Written after a review's fuzzer of the hub reads (`dependencies`: hub tables) found that people who may become
actors were missed where a node's schema changed or it crossed the guard. Of these 48 cases (3,360 events, hundreds
of hub crossings) the code before that round fails 3, and 10 without the recomputation of a former hub's readers.
"""

from __future__ import annotations

import datetime as dt
import random

import pytest
from pydantic import ValidationError

from scoring import Engine, ScoringConfig

from .conftest import BASE_TIME, EventFactory, full_state, incremental_state

PEOPLE = ("minister", "councillor", "son", "friend", "cousin")
ORGANISATIONS = ("holdco", "nominee", "council", "firm-0", "firm-1", "firm-2", "firm-3")
HUBS = ("holdco", "nominee", "council", "son", "regulator", "firm-0")
SPARE = ("spare-0", "spare-1", "spare-2", "spare-3", "spare-4")
SKELETON = (("occupancy", "minister", "office"), ("control", "office", "regulator"), ("control", "minister", "mint"),
            ("regulates", "regulator", "firm-0"), ("regulates", "regulator", "firm-1"), ("oversees", "mint", "firm-2"),
            ("regulates", "regulator", "holdco"), ("family", "minister", "son"), ("associate", "minister", "friend"),
            ("ownership", "son", "firm-0"), ("ownership", "holdco", "firm-1"), ("ownership", "son", "holdco"),
            ("payment", "firm-2", "nominee"), ("ownership", "friend", "nominee"),
            ("membership", "councillor", "council"), ("regulates", "council", "firm-3"),
            ("ownership", "cousin", "firm-3"), ("family", "councillor", "cousin"),
            ("control", "holdco", "nominee"), ("directorship", "friend", "holdco"), ("control", "holdco", "council"),
            ("control", "nominee", "mint"), ("membership", "cousin", "regulator"))
AT_A_HUB = ("ownership", "ownership", "control", "payment", "partners_with", "regulates", "lobbies", "family",
            "associate", "membership", "directorship")


class HubLog:
    """One random log: entities whose schema and topics the log itself changes, and the relations it holds."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.factory = EventFactory()
        self.clock = BASE_TIME
        self.schema = {**{p: "Person" for p in PEOPLE}, **{o: "Company" for o in ORGANISATIONS},
                       "council": "Organization", "regulator": "PublicBody", "mint": "PublicBody",
                       "office": "Position", **{s: rng.choice(("Company", "Company", "Person")) for s in SPARE}}
        self.topics: dict[str, tuple[str, ...]] = {"minister": ("role.pep",), "office": ("gov.national",)}
        self.held: dict[str, tuple[str, str, str]] = {}  # relation id -> (type, source, target)

    def ref(self, node: str) -> tuple:
        return node, self.schema[node], node.title(), self.topics.get(node, ())

    def make(self, relation_type: str, source: str, target: str, relation_id: str | None = None, **kwargs):
        rng = self.rng
        self.clock += dt.timedelta(days=rng.choice((0, 0, 0, 30, 200)), minutes=1)
        if relation_type == "ownership":
            kwargs.setdefault("percentage", rng.choice((10, 26, 51, 100)))
        elif relation_type == "payment":
            kwargs.update(amount=rng.choice((5e4, 2e6)), currency="USD")
        elif relation_type == "membership":
            kwargs.setdefault("role", rng.choice(("chair", "member")))
        try:
            return self.factory.make(relation_type, self.ref(source), self.ref(target), relation_id=relation_id,
                                     observed_at=self.clock, **kwargs)
        except ValidationError:  # a type these ends' current schemata cannot take: the log moves on
            return None

    def next_event(self):
        rng = self.rng
        draw = rng.random()
        if draw < 0.2:  # a hub or a node near one restated with another schema or topics, in a payment to it
            node = rng.choice((*HUBS, "mint", "office"))
            if self.schema[node] in ("Company", "PublicBody", "Organization") and rng.random() < 0.7:
                self.schema[node] = rng.choice(("Company", "PublicBody", "Organization"))
            else:
                self.topics[node] = rng.choice(((), ("gov.muni",), ("gov.national",), ("role.pep",)))
            return self.make("payment", rng.choice(SPARE), node)
        if self.held and draw < 0.5:
            relation_id = rng.choice(sorted(self.held))
            relation_type, source, target = self.held[relation_id]
            if rng.random() < 0.6:
                return self.make(relation_type, source, target, relation_id=relation_id, op="retract")
            hub, other = rng.choice(HUBS), rng.choice(SPARE)  # the same id between other ends: on or off a hub
            source, target = (hub, other) if rng.random() < 0.5 else (other, hub)
            return self.make(relation_type, source, target, relation_id=relation_id)
        hub, other = rng.choice(HUBS), rng.choice((*SPARE, "firm-1", "firm-2", "firm-3", "friend", "cousin"))
        source, target = (hub, other) if rng.random() < 0.5 else (other, hub)
        return self.make(rng.choice(AT_A_HUB), source, target)

    def record(self, event) -> None:
        if event.op.value == "retract":
            self.held.pop(event.relation_id, None)
        else:
            self.held[event.relation_id] = (event.relation_type.value, event.source.id, event.target.id)


@pytest.mark.parametrize("seed", range(48))
def test_incremental_equals_full_around_the_guard(seed):
    rng = random.Random(seed)
    config = ScoringConfig.load(overrides={"limits": {"max_fanout": rng.choice((1, 2, 3, 4))},
                                           "ownership": {"rule": rng.choice(("eu", "ofac"))},
                                           "authority": {"max_hops": rng.choice((3, 24)),
                                                         "max_paths": rng.choice((1, 5))}})
    log = HubLog(rng)
    engine = Engine(config)
    pending = [log.make(*spec) for spec in SKELETON if rng.random() < 0.8]
    applied = 0
    while applied < 70:
        event = pending.pop(0) if pending else log.next_event()
        if event is None:
            continue
        log.record(event)
        engine.apply(event)
        applied += 1
        assert incremental_state(engine) == full_state(engine), (seed, applied, event.event_id)
