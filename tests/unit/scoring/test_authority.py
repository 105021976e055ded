"""Authority: what a person steers, and authority paths through offices and bodies, bounded, current, and over
beneficial owners."""

from __future__ import annotations

import datetime as dt

from scoring.authority import authority_paths, reach, steering_persons
from scoring.dependencies import Reads
from scoring.explain import path_text
from scoring.ownership import holdings
from scoring.search import SearchContext
from scoring.semantics import STAKE_TYPES
from scoring.strength import Strength

DAY = dt.date(2025, 6, 1)


def context(engine, day=DAY):
    return SearchContext(engine.graph, engine.config, day, Reads())


def paths(engine, actor, counterparty, day=DAY):
    ctx = context(engine, day)
    owned = {held: h.chains for held, h in holdings(counterparty, ctx, STAKE_TYPES).items()}
    return authority_paths(reach(actor, ctx), counterparty, owned, ctx)


def texts(engine, found, day=DAY):
    return [path_text(p, engine.graph, Strength(engine.config, day)) for p in found]


def test_reach_through_office_and_controlled_bodies(engine, make):
    engine.apply_many([
        make("occupancy", "pm", "pm-office"),
        make("control", "pm-office", "ministry"),
        make("control", "ministry", "regulator"),
        make("regulates", "regulator", "bank"),
        make("control", "minister", "regulator"),
        make("directorship", "ceo", "bank"),
    ])
    steers = reach("pm", context(engine))
    assert sorted(steers.sources) == ["ministry", "pm", "pm-office", "regulator"] and steers.is_actor
    assert not reach("ceo", context(engine)).is_actor  # steers a firm, which holds no authority
    assert texts(engine, paths(engine, "pm", "bank").current) == [
        "Prime Minister -occupancy-> Prime Minister of Ruritania -control-> Ministry of Finance "
        "-control-> Financial Regulator -regulates-> Big Bank"]
    assert paths(engine, "minister", "bank").current[0].strength > paths(engine, "pm", "bank").current[0].strength
    assert steering_persons("regulator", engine.graph, 3) == {"minister", "pm"}


def test_authority_is_bounded_in_hops(engine, make):
    bodies = [(f"body{i}", "PublicBody", f"Body {i}", ()) for i in range(5)]
    engine.apply(make("control", "minister", bodies[0]))
    for upper, lower in zip(bodies, bodies[1:]):
        engine.apply(make("control", upper, lower))
    engine.apply(make("regulates", bodies[-1], "bank"))
    assert paths(engine, "minister", "bank").current == ()  # 6 hops > authority.max_hops
    engine.apply(make("control", "mayor", bodies[2]))
    assert len(paths(engine, "mayor", "bank").current) == 1


def test_only_current_authority_counts(engine, make):
    engine.apply_many([
        make("control", "minister", "regulator", start="2020-01-01", end="2024-12-31"),
        make("regulates", "regulator", "bank"),
        make("prosecutes", "mayor", "bank", start="2026-01-01"),
    ])
    assert paths(engine, "minister", "bank").current == ()
    assert paths(engine, "mayor", "bank").current == ()
    assert len(paths(engine, "minister", "bank", day=dt.date(2024, 6, 1)).current) == 1


def test_a_left_office_yields_a_former_path(engine, make):
    engine.apply_many([
        make("occupancy", "pm", "pm-office", start="2015-01-01", end="2023-01-01"),
        make("regulates", "pm-office", "bank"),
    ])
    authority = paths(engine, "pm", "bank")
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
    assert texts(engine, paths(engine, "minister", "tycoon").current) == [
        "Finance Minister -control-> Financial Regulator -oversees-> Big Bank <-ownership[40%]- Tycoon"]
    assert paths(engine, "minister", "ceo").current == ()
    assert paths(engine, "minister", "bank-sub").current == ()  # power over a parent is not over its subsidiary
