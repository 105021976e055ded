"""Records pickled as the tuple of their values (scoring.records): what a snapshot holds millions of."""

import copy
import pickle
from dataclasses import dataclass

import pytest

from scoring.records import pickled_as_values


@pickled_as_values
class Plain:
    __slots__ = ("a", "b", "c")

    def __init__(self, a, b, c):
        self.a, self.b, self.c = a, b, c


@pickled_as_values
@dataclass(frozen=True, slots=True)
class Frozen:
    x: int
    y: tuple = ()


@pickled_as_values
@dataclass(slots=True)
class Single:
    only: str


def test_a_plain_slotted_record_round_trips_with_its_values_as_state():
    record = Plain("one", (2, 3), None)
    assert record.__getstate__() == ("one", (2, 3), None)
    restored = pickle.loads(pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL))
    assert (restored.a, restored.b, restored.c) == ("one", (2, 3), None)
    assert type(restored) is Plain


def test_a_frozen_dataclass_round_trips_and_stays_frozen():
    record = Frozen(7, ("z",))
    restored = pickle.loads(pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL))
    assert restored == record
    assert hash(restored) == hash(record)
    with pytest.raises(AttributeError):
        restored.x = 8  # frozen: the generated __setstate__ must not have opened a way in


def test_a_one_slot_record_and_copies():
    assert pickle.loads(pickle.dumps(Single("s"))) == Single("s")
    assert copy.deepcopy(Frozen(1, ((2,),))) == Frozen(1, ((2,),))


def test_shared_values_stay_shared_after_a_round_trip():
    shared = ("a shared tuple",)
    first, second = pickle.loads(pickle.dumps([Plain(shared, 1, 2), Plain(shared, 3, 4)]))
    assert first.a is second.a


def test_an_unset_slot_fails_the_pickle_loudly():
    record = Plain.__new__(Plain)
    record.a = 1
    with pytest.raises(AttributeError):
        pickle.dumps(record)


def test_a_class_without_slots_is_refused():
    @dataclass
    class WithDict:
        a: int

    with pytest.raises(TypeError, match="slot of its own"):
        pickled_as_values(WithDict)


def test_the_engine_records_pickle_as_values():
    from scoring.graph import Citation, Entity, Relation
    from scoring.paths import Hop, Path
    from scoring.resolution import _Current, _Known

    for cls in (Relation, Entity, Citation, _Current, _Known, Path):
        assert cls.__setstate__.__qualname__ == f"{cls.__qualname__}.__setstate__"
    hop = Hop("rec", True, 0.5, False)
    assert pickle.loads(pickle.dumps(hop)) == hop and type(pickle.loads(pickle.dumps(hop))) is Hop


def _memoized_tuples(body: bytes) -> int:
    import pickletools

    made, count = None, 0
    for opcode, _, _ in pickletools.genops(body):
        if opcode.name == "MEMOIZE":
            count += made in ("TUPLE", "TUPLE1", "TUPLE2", "TUPLE3")
        elif opcode.name not in ("FRAME", "MARK"):
            made = opcode.name
    return count


def test_a_hop_pickles_without_a_tuple_the_memos_keep():
    # The pickler's memo keeps every pickled tuple until the whole state is written, the unpickler's until it is
    # loaded; a tuple that only carried a hop's fields (about two hops a relation in the cached chains) made the
    # snapshot writer's memory peak and left holes in a restored worker (bench/snapshot_load.py: free blocks).
    from scoring.paths import Hop

    hops = [Hop(f"rec{i}", i % 2 == 0, i / 7, i % 3 == 0) for i in range(10)]
    body = pickle.dumps(hops, protocol=pickle.HIGHEST_PROTOCOL)
    assert _memoized_tuples(body) == 0
    restored = pickle.loads(body)
    assert restored == hops and all(type(hop) is Hop for hop in restored)
    assert [(h.rec, h.forward, h.weight, h.decays) for h in restored] == \
        [(h.rec, h.forward, h.weight, h.decays) for h in hops]


def test_hops_compare_and_hash_by_their_fields():
    from scoring.paths import Hop

    rec = object()
    same, other = Hop(rec, True, 0.5, False), Hop(rec, True, 0.5, False)
    assert same == other and hash(same) == hash(other) and len({same, other}) == 1
    for changed in (Hop(object(), True, 0.5, False), Hop(rec, False, 0.5, False), Hop(rec, True, 0.25, False),
                    Hop(rec, True, 0.5, True)):
        assert changed != same
    assert (same,) == (other,) and Hop(rec, True, 0.5) == Hop(rec, True, 0.5, True)
    # hashed as the tuple of its fields was, so that hops differing in any field spread over a set's slots
    for hop in (same, Hop(rec, False, 0.5, False), Hop(rec, True, 0.25, True)):
        assert hash(hop) == hash((hop.rec, hop.forward, hop.weight, hop.decays))


def test_a_record_pickles_no_tuple_for_the_unpicklers_memo_to_keep():
    from scoring.graph import Citation, Entity
    from scoring.ownership import Holding

    records = [Citation(f"https://example.org/{i}", "publisher", "extractor") for i in range(5)]
    records += [Holding(0.5, False, ()), Holding(0.25, True, ())]
    body = pickle.dumps(records, protocol=pickle.HIGHEST_PROTOCOL)
    assert _memoized_tuples(body) == 0
    restored = pickle.loads(body)
    assert [vars_of(r) for r in restored] == [vars_of(r) for r in records]
    assert [type(r) for r in restored] == [type(r) for r in records]
    assert restored[1].publisher is restored[2].publisher  # shared values stay shared
    assert Entity.extend is Entity.__setstate__


def vars_of(record) -> tuple:
    return record.__getstate__()
