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
    assert exposure.aggregates["bank"] == (pytest.approx(0.3), (("son", 0.15, False), ("spouse", 0.15, False)), None)
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


DAUGHTER = ("daughter", "Person", "Daughter", ())


def banded_family(make, **stakes):
    """The minister's spouse, son and daughter each hold a stake in the bank: a percentage, or None with a band's
    upper bound (a register's "0-10%": `percentage_max`)."""
    events = [make("control", "minister", "regulator"), make("regulates", "regulator", "bank"),
              make("family", "spouse", "minister"), make("family", "son", "minister"),
              make("family", DAUGHTER, "minister")]
    for holder, (percentage, most) in stakes.items():
        events.append(make("ownership", DAUGHTER if holder == "daughter" else holder, "bank",
                           percentage=percentage, percentage_max=most))
    return events


def test_a_joint_holding_of_assumed_stakes_says_up_to_and_marks_the_assumed_parts(make):
    # the review's probe: three "0-10%" bands read "hold 30% ... Spouse 10% + Son 10% + Daughter 10%", as facts
    _, score = scored(banded_family(make, spouse=(0, 10), son=(0, 10), daughter=(0, 10)))
    owning = [p for p in score.commercial_paths if "related parties" in p.text]
    assert owning and owning[0].text.endswith(
        "(related parties hold up to 30% of Big Bank together: Daughter 10%? + Son 10%? + Spouse 10%?)")


def test_a_joint_holding_marks_only_its_assumed_parts(make):
    engine, score = scored(banded_family(make, spouse=(15, None), son=(None, 20)))
    assert engine._exposure["minister"].aggregates["bank"][1] == (("son", pytest.approx(0.2), True),
                                                                   ("spouse", 0.15, False))
    owning = [p for p in score.commercial_paths if "related parties" in p.text]
    assert owning[0].text.endswith("(related parties hold up to 35% of Big Bank together: Son 20%? + Spouse 15%)")


def test_assumed_parts_weigh_as_an_assumed_stake_alone_does_as_stated(make):
    # A single assumed stake is not discounted (a stake without a percentage counts as `unknown_stake`, as a
    # stated one of that size, and "0-10%" as just under 10%): nor are the parts of a joint holding.
    _, assumed = scored(banded_family(make, spouse=(0, 10), son=(0, 10), daughter=(0, 10)))
    _, stated = scored(banded_family(make, spouse=(10, None), son=(10, None), daughter=(10, None)))
    assert assumed.score == stated.score
    _, alone_assumed = scored(banded_family(make, son=(None, None)))
    _, alone_stated = scored(banded_family(make, son=(25, None)))
    assert alone_assumed.score == alone_stated.score
