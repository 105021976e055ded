"""Ties by the thousand between two parties (`scoring.crowded`): the selection kept from one event to the next is
the one made anew, and an event adding one more payment weighs that payment, not all of them."""

from __future__ import annotations

import datetime as dt
import pickle
import random

import pytest

from schemas.vocabulary import RelationType
import scoring.crowded as crowded_module
import scoring.payments as payments_module
from scoring import Engine, ScoringConfig
from scoring.crowded import ONLY_COMMERCIAL, CrowdedTies, one_change, select
from scoring.semantics import Layer
from scoring.strength import Strength

DAY = dt.date(2025, 6, 1)


class _Record:
    """What the selection reads of a relation: its type, its ends and its layer (and its identity)."""

    __slots__ = ("type", "source", "target", "layer", "name")

    def __init__(self, name: str, relation_type: RelationType):
        self.name, self.type = name, relation_type
        self.source, self.target, self.layer = "ministry", "vendor", 3


class _Weights:
    """A `Strength` whose weights are given, counting how often each record is weighed."""

    def __init__(self, weights: dict):
        self.day = DAY
        self.weights = weights
        self.weighed = 0

    def tie(self, rec):
        self.weighed += 1
        return self.weights[rec]


_TYPES = [RelationType.PAYMENT, RelationType.PAYMENT, RelationType.DEBT, RelationType.OWNERSHIP,
          RelationType.FAMILY]


def _record(rng: random.Random, number: int, weights: dict) -> _Record:
    rec = _Record(f"r{number}", rng.choice(_TYPES))
    # few distinct weights, so that ties and weights within rounding of the floor are common
    weights[rec] = None if rng.random() < 0.1 else rng.choice([0.2, 0.5, 0.5 * (1 - 1e-12), 0.7, 0.9, 1.0])
    return rec


@pytest.mark.parametrize("seed", range(40))
def test_the_kept_selection_is_the_one_made_anew(seed):
    """Random edges growing, shrinking and changing one record at a time (insertions most often, as payments come):
    after every change the remembered selection is exactly `select` of the edge as it is."""
    rng = random.Random(seed)
    cap = rng.choice([1, 2, 3, 5])
    weights: dict = {}
    strength = _Weights(weights)
    memory = CrowdedTies().on(DAY)
    entry = tuple(_record(rng, number, weights) for number in range(cap + 1))
    numbers = iter(range(cap + 1, 10_000))
    inserted = 0
    for _ in range(150):
        roll = rng.random()
        if roll < 0.7 or len(entry) <= cap + 1:
            at = rng.randrange(len(entry) + 1)
            entry = (*entry[:at], _record(rng, next(numbers), weights), *entry[at:])
            inserted += 1
        elif roll < 0.85:
            at = rng.randrange(len(entry))
            entry = (*entry[:at], *entry[at + 1:])
        else:
            at = rng.randrange(len(entry))
            entry = (*entry[:at], _record(rng, next(numbers), weights), *entry[at + 1:])
        kept = memory.kept(entry, strength, cap)
        assert kept == select(entry, weights.get, cap)[0]
        commercial = [w for rec in entry if rec.type in ONLY_COMMERCIAL and (w := weights[rec]) is not None]
        if len(commercial) > cap:
            assert len([1 for _, rec, _ in kept if rec.type in ONLY_COMMERCIAL]) >= cap
    assert inserted > 50


def test_one_more_payment_is_the_only_one_weighed(monkeypatch):
    """The 201st payment between two parties weighs that payment: each event used to weigh every one of them."""
    rng = random.Random(7)
    weights: dict = {}
    strength = _Weights(weights)
    memory = CrowdedTies().on(DAY)
    entry: tuple = ()
    for number in range(200):
        rec = _Record(f"r{number}", RelationType.PAYMENT)
        weights[rec] = rng.random()
        entry = (*entry, rec)
        if len(entry) > 24:
            memory.kept(entry, strength, 24)
    before = strength.weighed
    rec = _Record("r200", RelationType.PAYMENT)
    weights[rec] = 2.0
    entry = (*entry[:100], rec, *entry[100:])
    kept = memory.kept(entry, strength, 24)
    assert strength.weighed - before == 1
    assert (100, rec, 2.0) in kept and len(kept) == 24
    # one left out taken back, and one left out replaced by a new version of it: weighed once, nothing selected anew
    selected = []
    monkeypatch.setattr(crowded_module, "select", lambda *args: selected.append(args) or select(*args))
    left_out = next(at for at, rec in enumerate(entry) if all(other is not rec for _, other, _ in kept))
    entry = (*entry[:left_out], *entry[left_out + 1:])
    assert memory.kept(entry, strength, 24) == select(entry, weights.get, 24)[0]
    left_out = next(at for at, rec in enumerate(entry) if all(other is not rec for _, other, _ in kept))
    rec = _Record("restated", RelationType.PAYMENT)
    weights[rec] = 0.0001
    entry = (*entry[:left_out], rec, *entry[left_out + 1:])
    before = strength.weighed
    assert memory.kept(entry, strength, 24) == select(entry, weights.get, 24)[0]
    assert strength.weighed - before == 1 and not selected
    # the strongest taken back: the next strongest must come back, so all are selected again (from weights kept)
    strongest = entry.index(max((rec for _, rec, _ in kept), key=weights.get))
    entry = (*entry[:strongest], *entry[strongest + 1:])
    before = strength.weighed
    assert memory.kept(entry, strength, 24) == select(entry, weights.get, 24)[0]
    assert len(selected) == 1 and strength.weighed == before


def test_one_change():
    a, b, c, d = (_Record(name, RelationType.PAYMENT) for name in "abcd")
    assert one_change((a, b), (d, a, b)) == (0, 1)
    assert one_change((a, b), (a, d, b)) == (1, 1)
    assert one_change((a, b), (a, b, d)) == (2, 1)
    assert one_change((), (d,)) == (0, 1)
    assert one_change((a, b, c), (b, c)) == (0, -1)
    assert one_change((a, b, c), (a, c)) == (1, -1)
    assert one_change((a, b, c), (a, b)) == (2, -1)
    assert one_change((a, b, c), (d, b, c)) == (0, 0)
    assert one_change((a, b, c), (a, d, c)) == (1, 0)
    assert one_change((a, b, c), (a, b, d)) == (2, 0)
    assert one_change((a, b), (a, b)) is None  # nothing changed
    assert one_change((a, b), (b, a)) is None  # two moved
    assert one_change((a, b), (b, d, a)) is None
    assert one_change((a, b), (a, c, d, b)) is None  # two inserted
    assert one_change((a, b, c), (c,)) is None  # two taken out
    assert one_change((a, b, c), (d, b, a)) is None  # two replaced
    for size in range(1, 40):  # every position of every kind, in edges of every size up to 40
        before = tuple(_Record(str(n), RelationType.PAYMENT) for n in range(size))
        for at in range(size + 1):
            assert one_change(before, (*before[:at], d, *before[at:])) == (at, 1)
        for at in range(size):
            assert one_change(before, (*before[:at], *before[at + 1:])) == (at, -1)
            assert one_change(before, (*before[:at], d, *before[at + 1:])) == (at, 0)


def test_a_new_day_and_a_snapshot_keep_nothing(factory):
    """What is remembered holds on one date: a new date starts again, and a pickled engine (a snapshot) holds none
    of it."""
    config = ScoringConfig.load(overrides={"paths": {"max_paths_per_pair": 2, "max_paths_shown": 2}})
    engine = Engine(config, as_of=DAY)
    engine.apply_many([factory.make("control", "minister", "regulator"),
                       factory.make("regulates", "regulator", "bank"),
                       factory.make("family", "spouse", "minister"),
                       *[factory.make("debt", "spouse", "bank", relation_id=f"owed-{k}", amount=1000.0 * k,
                                      currency="USD") for k in range(1, 8)],
                       # (payments add up: what they add up to is remembered, `scoring.payments`)
                       *[factory.make("payment", "spouse", "bank", relation_id=f"paid-{k}", amount=1000.0 * k,
                                      currency="USD") for k in range(1, 8)]])
    memory = engine._crowded
    assert memory.day == DAY and memory.selections and memory.weights and memory.sums
    restored = pickle.loads(pickle.dumps(engine))
    assert restored._crowded.day is None and not restored._crowded.selections and not restored._crowded.weights \
        and not restored._crowded.sums
    assert b"paid-1" not in pickle.dumps(memory) and b"owed-1" not in pickle.dumps(memory)
    memory.on(DAY + dt.timedelta(days=1))
    assert not memory.selections and not memory.weights and not memory.sums


def test_the_memory_is_bounded():
    rng = random.Random(3)
    weights: dict = {}
    strength = _Weights(weights)
    memory = CrowdedTies(edges=4, records=50).on(DAY)
    for edge in range(10):
        entry = tuple(_Record(f"e{edge}r{n}", RelationType.PAYMENT) for n in range(30))
        for rec in entry:
            rec.target = f"vendor {edge}"
            weights[rec] = rng.random()
        assert memory.kept(entry, strength, 3) == select(entry, weights.get, 3)[0]
        assert len(memory.selections) <= 4 and len(memory.weights) <= 51


def test_payments_between_two_parties_weigh_one_record_an_event(factory, monkeypatch):
    """Through the engine: after 60 payments between a minister's spouse and a bank, each further payment values a
    few records (the new one, and the pair's other ties), where it weighed every payment again: what they add up to
    is kept a payment at a time (`CrowdedTies.payment_sums`)."""
    config = ScoringConfig.load()
    engine = Engine(config, as_of=DAY)
    engine.apply_many([factory.make("control", "minister", "regulator"),
                       factory.make("regulates", "regulator", "bank"),
                       factory.make("family", "spouse", "minister"),
                       *[factory.make("payment", "spouse", "bank", relation_id=f"paid-{k:03d}",
                                      amount=1000.0 + k, currency="USD") for k in range(60)]])
    weighed = []
    tie, summand = Strength.tie, payments_module.summand

    def counted(self, rec):
        weighed.append(rec.relation_id)
        return tie(self, rec)

    def valued(rec, strength):
        weighed.append(rec.relation_id)
        return summand(rec, strength)

    monkeypatch.setattr(Strength, "tie", counted)
    monkeypatch.setattr(payments_module, "summand", valued)
    for k in range(60, 70):
        weighed.clear()
        changes = engine.apply(factory.make("payment", "spouse", "bank", relation_id=f"paid-{k:03d}",
                                            amount=1000.0 + k, currency="USD"))
        assert changes  # the pair's score shows the new payment among its strongest
        assert weighed.count(f"paid-{k:03d}") == 1
        assert len([rid for rid in weighed if rid.startswith("paid-")]) <= 3


def test_a_fact_restated_all_day_leaves_no_superseded_version_remembered(factory):
    """Each restatement of a payment on a crowded edge replaces its fact with a new version holding every statement
    so far: the memory forgets the version it replaces (it kept them all until the day changed, holding N^2/2
    statement references after N restatements)."""
    engine = Engine(ScoringConfig.load(), as_of=DAY)
    engine.apply_many([factory.make("control", "minister", "regulator"),
                       factory.make("regulates", "regulator", "bank"),
                       factory.make("family", "spouse", "minister"),
                       *[factory.make("payment", "spouse", "bank", relation_id=f"paid-{k:03d}", amount=1e6 + k,
                                      currency="USD") for k in range(30)]])
    for k in range(300):  # the strongest payment, stated again by other outlets
        engine.apply(factory.make("payment", "spouse", "bank", relation_id=f"again-{k:03d}", amount=1e6 + 29,
                                  currency="USD", publisher=f"outlet {k % 7}"))
    on_the_edge = set(engine.graph.between("spouse", "bank", Layer.TRADE))
    remembered = set(engine._crowded.weights) | {rec for _, sums, _ in engine._crowded.sums.values()
                                                 for held in sums.values() for rec in held.values}
    assert remembered <= on_the_edge and len(remembered) == 30
    (restated,) = [rec for rec in on_the_edge if rec.statements]
    assert len(restated.statements) == 301
