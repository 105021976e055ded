"""Authority paths: through offices and controlled bodies, bounded, current, and over beneficial owners."""

from __future__ import annotations

import datetime as dt

from scoring.authority import authority_over
from scoring.dependencies import Reads
from scoring.search import SearchContext

DAY = dt.date(2025, 6, 1)


def scan(engine, counterparty, day=DAY):
    return authority_over(counterparty, SearchContext(engine.graph, engine.config, day, Reads()))


def texts(engine, paths, day=DAY):
    from scoring.explain import path_text
    from scoring.strength import Strength
    return [path_text(p, engine.graph, Strength(engine.config, day)) for p in paths]


def test_authority_through_office_and_controlled_bodies(engine, make):
    engine.apply_many([
        make("occupancy", "pm", "pm-office"),
        make("control", "pm-office", "ministry"),
        make("control", "ministry", "regulator"),
        make("regulates", "regulator", "bank"),
        make("control", "minister", "regulator"),
    ])
    result = scan(engine, "bank")
    assert sorted(result.actors) == ["minister", "pm"]
    assert texts(engine, result.actors["pm"].current) == [
        "Prime Minister -occupancy-> Prime Minister of Ruritania -control-> Ministry of Finance "
        "-control-> Financial Regulator -regulates-> Big Bank"]
    assert result.actors["minister"].current[0].strength > result.actors["pm"].current[0].strength  # fewer hops


def test_authority_is_bounded_in_hops(engine, make):
    bodies = [(f"body{i}", "PublicBody", f"Body {i}", ()) for i in range(5)]
    engine.apply(make("control", "minister", bodies[0]))
    for upper, lower in zip(bodies, bodies[1:]):
        engine.apply(make("control", upper, lower))
    engine.apply(make("regulates", bodies[-1], "bank"))
    assert scan(engine, "bank").actors == {}  # 6 hops > authority.max_hops
    engine.apply(make("control", "mayor", bodies[2]))
    assert list(scan(engine, "bank").actors) == ["mayor"]


def test_only_current_authority_counts(engine, make):
    engine.apply_many([
        make("control", "minister", "regulator", start="2020-01-01", end="2024-12-31"),
        make("regulates", "regulator", "bank"),
        make("prosecutes", "mayor", "bank", start="2026-01-01"),
    ])
    assert scan(engine, "bank").actors == {}
    assert list(scan(engine, "bank", day=dt.date(2024, 6, 1)).actors) == ["minister"]


def test_a_left_office_yields_a_former_path(engine, make):
    engine.apply_many([
        make("occupancy", "pm", "pm-office", start="2015-01-01", end="2023-01-01"),
        make("regulates", "pm-office", "bank"),
    ])
    authority = scan(engine, "bank").actors["pm"]
    assert authority.current == () and len(authority.former) == 1
    assert 0 < authority.former[0].strength < 1


def test_authority_over_a_firm_reaches_its_owners_not_its_managers(engine, make):
    engine.apply_many([
        make("control", "minister", "regulator"),
        make("oversees", "regulator", "bank"),
        make("ownership", "tycoon", "bank", percentage=40),
        make("directorship", "ceo", "bank"),
        make("ownership", "bank", "bank-sub", percentage=100),
    ])
    assert list(scan(engine, "tycoon").actors) == ["minister"]
    assert texts(engine, scan(engine, "tycoon").actors["minister"].current) == [
        "Finance Minister -control-> Financial Regulator -oversees-> Big Bank <-ownership[40%]- Tycoon"]
    assert scan(engine, "ceo").actors == {}
    assert scan(engine, "bank-sub").actors == {}  # authority over a parent is not authority over its subsidiary
