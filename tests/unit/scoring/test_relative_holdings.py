"""A relative's holdings: each one his father's office regulates is a conflict of its own, and the next one rescores
its own pair, not every pair of the family (each reading every holding: quadratic in the holdings). A tie that
a relative gains is still seen where the actor reaches its other end by a way of his own."""

from __future__ import annotations

from scoring import Engine

from .conftest import full_state, incremental_state


def _holding(number: int) -> tuple:
    return (f"h{number:03d}", "Company", f"Holding {number}", ())


def test_a_relatives_next_regulated_holding_rescores_its_own_pairs_not_the_familys(make):
    engine = Engine()
    engine.apply_many([make("control", "minister", "regulator"), make("family", "son", "minister")])
    recomputed = []
    for number in range(30):
        engine.apply(make("ownership", "son", _holding(number), percentage=100))
        count = engine._last["recomputed"]
        engine.apply(make("regulates", "regulator", _holding(number)))
        recomputed.append(count + engine._last["recomputed"])
    assert len(engine.scores()) == 31  # each holding, and the son himself, through the holdings he owns
    assert recomputed[29] == recomputed[9] <= 4, recomputed  # the base rescored 13 pairs at 10 holdings, 33 at 30
    assert incremental_state(engine) == full_state(engine)


def test_a_relatives_new_tie_to_what_the_actor_owns_himself_is_seen(make):
    """The son, a part owner of the bank the regulator regulates, becomes the partner of the minister's own holding
    company: the way minister -> holdco -> son -> bank passes through the son once, so it is a tie of the pair."""
    engine = Engine()
    engine.apply_many([make("control", "minister", "regulator"), make("regulates", "regulator", "bank"),
                       make("family", "son", "minister"), make("ownership", "son", "bank", percentage=30),
                       make("ownership", "minister", "holdco", percentage=60)]
                      + [make("ownership", "son", _holding(number), percentage=100) for number in range(5)])
    before = engine.score("minister", "bank")
    changes = engine.apply(make("partners_with", "son", "holdco"))
    after = engine.score("minister", "bank")
    assert ("minister", "bank") in [change.key for change in changes]
    assert after.score > before.score
    assert any([(edge.relation_type, edge.source_id, edge.target_id) for edge in path.edges][1:3]
               == [("partners_with", "son", "holdco"), ("ownership", "son", "bank")] for path in after.commercial_paths)
    assert incremental_state(engine) == full_state(engine)
