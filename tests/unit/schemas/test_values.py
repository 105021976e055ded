"""Reading the values real data writes (schemas/values.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from schemas.values import (
    UnreadableValue,
    first_day,
    last_day,
    read_currency,
    read_number,
    read_percentage,
    read_share,
    split_currency,
)


@pytest.mark.parametrize(("text", "value"), [
    ("25%", 25.0), ("25,5", 25.5), ("50 %", 50.0), ("25-50", 25.0), ("25 – 50%", 25.0), ("more than 25%", 25.0),
    ("12,500", 12.5), ("0.5", 0.5),
    # the UK register's nature-of-control wording was unreadable and the stake imported without its size
    ("more than 25% but not more than 50%", 25.0), ("more than 50% but less than 75%", 50.0),
])
def test_percentages(text, value):
    assert read_percentage(text) == value


def test_only_a_percentage_range_from_zero_is_refused():
    """A range that starts at 0 says nothing of a stake; zero itself is what the source states, and an amount
    range keeps its lower bound."""
    assert [read_percentage(text) for text in ("0", "0%", "0-0")] == [0.0, 0.0, 0.0]
    assert read_number("0-25") == 0.0


@pytest.mark.parametrize(("text", "value"), [
    ("1.000.000", 1_000_000.0), ("1,000,000.50", 1_000_000.5), ("1.000.000,50", 1_000_000.5), ("1.000", 1000.0),
    ("113969.15", 113969.15), ("1 200", 1200.0), ("€ 1 200,50", 1200.5), ("0,75", 0.75),
    # a decimal with three places after more than three digits is no thousands group (was read 1000 times larger)
    ("1500000.000", 1_500_000.0), ("1234.567", 1234.567), ("12,345", 12345.0),
])
def test_amounts(text, value):
    assert read_number(text) == value


@pytest.mark.parametrize(("text", "says"), [("abc", "'abc' is not a number"), ("<25", "only an upper bound"),
                                            ("50-25", "ends below"), ("150", "0 to 100"),
                                            # a range from 0 read as its lower bound was a declared stake of 0%
                                            ("0-25", "guarantees no stake"), ("0 to 25 %", "guarantees no stake"),
                                            # "more than 0%" read as its bound was a declared stake of 0% too
                                            ("more than 0%", "guarantees no stake"), ("> 0", "guarantees no stake"),
                                            ("über 0 %", "guarantees no stake")])
def test_what_cannot_be_read_quotes_the_value(text, says):
    with pytest.raises(UnreadableValue, match=says):
        read_percentage(text)


@pytest.mark.parametrize("text", ["1" * 400, "1" * 200 + "-" + "1" * 400, "9" * 330 + ".5"])
def test_a_number_too_large_for_a_float_is_unreadable_not_infinity(text):
    """A 400-digit amount used to read as infinity, which the contract refuses: the whole relation was lost
    instead of being imported without the amount."""
    with pytest.raises(UnreadableValue, match="too large"):
        read_number(text)


@pytest.mark.parametrize(("text", "code"), [("eur", "EUR"), ("Euro", "EUR"), ("US dollar", "USD"), ("€", "EUR"),
                                            ("Schweizer Franken", "CHF"), ("pln", "PLN")])
def test_currencies(text, code):
    assert read_currency(text) == code


@pytest.mark.parametrize(("text", "number", "code"), [
    ("EUR 1,000,000", "1,000,000", "EUR"), ("1 000 000 USD", "1 000 000", "USD"), ("1.000.000 €", "1.000.000", "EUR"),
    ("1 000 000", "1 000 000", None), ("250000", "250000", None),
])
def test_an_amount_that_names_its_currency(text, number, code):
    assert split_currency(text) == (number, code)


def test_an_unknown_currency_is_named():
    with pytest.raises(UnreadableValue, match="'Talers'"):
        read_currency("Talers")


@pytest.mark.parametrize(("text", "first", "last"), [
    ("2018", dt.date(2018, 1, 1), dt.date(2018, 12, 31)),
    ("2020-02", dt.date(2020, 2, 1), dt.date(2020, 2, 29)),
    ("2021-06-15", dt.date(2021, 6, 15), dt.date(2021, 6, 15)),
    ("2021-06-15T10:00:00", dt.date(2021, 6, 15), dt.date(2021, 6, 15)),
])
def test_partial_dates_are_periods(text, first, last):
    assert (first_day(text), last_day(text)) == (first, last)


@pytest.mark.parametrize(("text", "bounds"), [
    ("25%", (25.0, 25.0)), ("25-50", (25.0, 50.0)), ("more than 25%", (25.0, None)),
    ("more than 25% but not more than 50%", (25.0, 50.0)),
    # what guarantees no stake still says how large it can be: the engine's assumed stake is capped by it
    ("0-10%", (None, 10.0)), ("0 to 25 %", (None, 25.0)), ("under 10%", (None, 10.0)), ("< 5 %", (None, 5.0)),
    ("bis zu 10 %", (None, 10.0)), ("more than 0%", (None, None)), ("über 0 %", (None, None)),
    ("0%", (0.0, 0.0)),  # a declared 0% is what the source states
])
def test_a_share_reads_as_what_it_guarantees_and_the_most_it_can_be(text, bounds):
    assert read_share(text) == bounds


@pytest.mark.parametrize("text", ["at most 10%", "not more than 10%", "no more than 10 %", "weniger als 10 %",
                                  "höchstens 10 %", "bis 10 %"])
def test_an_upper_bound_reads_in_the_words_its_lower_bound_does(text):
    """"at least 25%" and "mehr als 25 %" read as lower bounds, and "not more than 50%" as the top of the UK
    register's range; alone, "at most 10%", "not more than 10%" or German "weniger als", "höchstens", "bis" were
    not a number, so the share got no `percentage_max` and the engine assumed 25% of a stake said to be at most
    10%. They give only an upper bound, so they are still no percentage."""
    assert read_share(text) == (None, 10.0)
    with pytest.raises(UnreadableValue, match="only an upper bound"):
        read_percentage(text)


@pytest.mark.parametrize(("text", "says"), [("abc", "not a number"), ("<150", "0 to 100"), ("50-25", "ends below"),
                                            ("10-150", "0 to 100")])
def test_an_unreadable_share_quotes_the_value(text, says):
    with pytest.raises(UnreadableValue, match=says):
        read_share(text)
