"""Undated one-off relations (payments) age from their first statement, whoever repeats them later."""

from __future__ import annotations

from scoring import Engine

from .conftest import full_state, incremental_state


def payment_case(make, restated_at: str) -> Engine:
    engine = Engine()
    engine.apply_many([
        make("control", "minister", "regulator", observed_at="2020-01-01T00:00:00Z"),
        make("regulates", "regulator", "bank", observed_at="2020-01-01T00:00:00Z"),
        make("ownership", "minister", "holdco", percentage=100, observed_at="2020-01-01T00:00:00Z"),
        # an undated one-off payment: it ages from when it was first stated
        make("payment", "bank", "holdco", amount=5e6, currency="USD", status="reported",
             observed_at="2020-01-01T00:00:00Z"),
        # a second outlet states the same payment (same ends, amount and currency: one fact, two sources)
        make("payment", "bank", "holdco", amount=5e6, currency="USD", status="reported",
             relation_id="other-outlet", publisher="Other Times", observed_at=restated_at),
        make("partners_with", "tycoon", "builder", observed_at="2024-01-05T00:00:00Z"),  # the clock: 2024-01-05
    ])
    return engine


def test_a_later_report_of_an_undated_payment_does_not_make_it_new_again(make):
    """A payment reported in 2020 is four years old in 2024, however many outlets repeat it later: a second
    source corroborates it (certainty), it does not move the day it happened. Before the fix the fact aged from the
    newest statement's observed_at, so a 2024 rehash of a 2020 payment counted as fresh (0.13 low -> 0.59 high,
    an alert raised), and the score depended on when the corroboration was published."""
    corroborated_at_once = payment_case(make, "2020-01-01T00:00:00Z").score("minister", "bank")
    corroborated_later = payment_case(make, "2024-01-03T00:00:00Z")
    assert corroborated_later.score("minister", "bank").score == corroborated_at_once.score
    assert corroborated_at_once.band.value == "low"
    assert incremental_state(corroborated_later) == full_state(corroborated_later)
