"""Related parties aggregate (issue #14, item 4): stakes held by members of an actor's exposure set add up towards
the ownership threshold, and the explanation shows the sum and its parts."""

from __future__ import annotations

import pytest

from scoring import Engine

from .conftest import full_state, incremental_state


def family_stakes(make, spouse: float, son: float):
    return [make("control", "minister", "regulator"), make("regulates", "regulator", "bank"),
            make("family", "spouse", "minister"), make("family", "son", "minister"),
            make("ownership", "spouse", "bank", percentage=spouse),
            make("ownership", "son", "bank", percentage=son)]


def scored(events):
    engine = Engine()
    engine.apply_many(events)
    assert incremental_state(engine) == full_state(engine)
    return engine, engine.score("minister", "bank")


def test_a_spouse_and_a_son_at_15_percent_are_a_30_percent_family_interest(make):
    engine, score = scored(family_stakes(make, 15, 15))
    assert "COI-AUTH-OWNERSHIP" in score.rules
    exposure = engine._exposure["minister"]
    assert exposure.aggregates["bank"] == (pytest.approx(0.3), (("son", 0.15), ("spouse", 0.15)))
    owning = [p for p in score.commercial_paths if "related parties" in p.text]
    assert len(owning) == 2  # each part is a path
    assert owning[0].text.endswith("(related parties hold 30% of Big Bank together: Son 15% + Spouse 15%)")


def test_together_they_outweigh_either_alone(make):
    _, together = scored(family_stakes(make, 15, 15))
    _, alone = scored(family_stakes(make, 15, 0.0001))
    assert together.score > alone.score
    assert "COI-AUTH-OWNERSHIP" not in alone.rules


def test_below_the_threshold_together_nothing_is_aggregated(make):
    engine, score = scored(family_stakes(make, 10, 10))
    assert engine._exposure["minister"].aggregates == {}
    assert "COI-AUTH-OWNERSHIP" not in score.rules  # still two (weak) commercial ties


def test_what_the_family_holds_together_extends_their_sphere(make):
    """30% of a holding company held jointly, which owns the bank outright: the bank is in the exposure set."""
    engine, score = scored([make("control", "minister", "regulator"), make("regulates", "regulator", "bank"),
                            make("family", "spouse", "minister"), make("family", "son", "minister"),
                            make("ownership", "spouse", "holdco", percentage=15),
                            make("ownership", "son", "holdco", percentage=15),
                            make("ownership", "holdco", "bank", percentage=100)])
    assert "COI-AUTH-OWNERSHIP" in score.rules
    assert "bank" in engine._exposure["minister"].members


def test_a_retracted_part_removes_the_aggregate(make):
    engine = Engine()
    engine.apply_many(family_stakes(make, 15, 15))
    engine.apply(make("ownership", "son", "bank", op="retract"))
    assert engine._exposure["minister"].aggregates == {}
    assert incremental_state(engine) == full_state(engine)
