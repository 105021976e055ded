"""Political exposure and the actor's exposure set."""

from __future__ import annotations

import datetime as dt

from scoring.dependencies import Reads
from scoring.exposure import exposure_set
from scoring.search import SearchContext

DAY = dt.date(2025, 6, 1)


def exposure_members(engine, actor):
    ctx = SearchContext(engine.graph, engine.config, DAY, Reads())
    return exposure_set(actor, ctx)


def test_exposure_set_holds_relatives_associates_and_their_holdings(engine, make):
    engine.apply_many([
        make("family", "spouse", "minister"),
        make("associate", "minister", "friend"),
        make("associate", "friend", "tycoon"),  # an associate's associate: too far
        make("ownership", "spouse", "holdco", percentage=30),
        make("ownership", "holdco", "shell", percentage=100),
        make("ownership", "friend", "vendor", percentage=5),  # below the threshold
        make("control", "minister", "ministry"),
    ])
    found = exposure_members(engine, "minister")
    assert sorted(found.members) == ["friend", "holdco", "minister", "shell", "spouse"]
    assert list(found.apparatus) == ["ministry"]  # public bodies are his apparatus, not his private sphere


def test_current_office_holder_is_exposed(engine, make):
    engine.apply(make("occupancy", "mayor", "mayor-office", start="2021-01-01", observed_at="2025-06-01T00:00:00Z"))
    exposure = engine.exposure("mayor")
    assert (exposure.weight, exposure.kind) == (1.0, "pep")
    assert "holds Mayor of Smalltown since 2021-01-01" in exposure.reasons


def test_former_office_holder_decays_by_level_of_office(engine, make):
    engine.apply_many([
        make("occupancy", "mayor", "mayor-office", start="2010-01-01", end="2022-01-01"),
        make("occupancy", "nobody", "pm-office", start="2010-01-01", end="2022-01-01"),
    ])
    local = engine.exposure("mayor", as_of=dt.date(2024, 1, 1))
    national = engine.exposure("nobody", as_of=dt.date(2024, 1, 1))
    assert local.kind == national.kind == "former_pep"
    assert 0 < local.weight < national.weight < 1
    assert engine.exposure("mayor", as_of=dt.date(2027, 6, 1)).weight == 0  # 5 years after leaving
    assert engine.exposure("nobody", as_of=dt.date(2027, 6, 1)).weight > 0  # 20 years for a head of government
    assert engine.exposure("mayor", as_of=dt.date(2009, 6, 1)).weight == 0  # not before the office began


def test_topics_public_power_relatives_and_controlled_entities(engine, make):
    engine.apply_many([
        make("family", "son", "pm"),
        make("ownership", "pm", "holdco", percentage=60),
        make("control", "mayor", "town"),
    ])
    assert engine.exposure("pm").kind == "pep"  # political topics
    assert engine.exposure("mayor").kind == "pep"  # controls a public body
    son = engine.exposure("son")
    assert son.kind == "close_associate" and "family of Prime Minister" in son.reasons
    holdco = engine.exposure("holdco")
    assert holdco.kind == "pep_controlled" and holdco.weight == 1.0
    assert engine.exposure("vendor").kind == "none"


def test_an_entity_a_relative_or_associate_owns_is_exposed_through_them(engine, make):
    # the scorer counts what a minister's son holds in the minister's exposure set; asked why the son's company is
    # exposed, the engine says so, and whose relative he is (before: "none")
    engine.apply_many([
        make("family", "son", "pm"),
        make("ownership", "son", "holdco", percentage=100),
        make("ownership", "son", "vendor", percentage=10),  # below the threshold: not his
        make("ownership", "holdco", "shell", percentage=60),  # held through his company
        make("ownership", "spouse", "builder", percentage=30),  # tagged a relative (role.rca)
        make("ownership", "nobody", "exchange", percentage=100),
    ])
    holdco = engine.exposure("holdco")
    assert (holdco.kind, holdco.weight) == ("pep_controlled", 1.0)
    assert "owned or controlled by Son (100%), family of Prime Minister" in holdco.reasons
    assert engine.exposure("shell").kind == "pep_controlled"
    assert engine.exposure("builder").kind == "pep_controlled"
    assert engine.exposure("vendor").kind == "none"
    assert engine.exposure("exchange").kind == "none"
    # what the scorer holds in the prime minister's exposure set, the same companies
    assert {"holdco", "shell"} <= set(exposure_members(engine, "pm").members)


def test_what_a_tagged_associate_firm_owns_and_what_a_seat_controls(engine, make):
    # a foundation tagged as a PEP's associate is exposed, and so is the firm it owns (before: "none", a review); a
    # seat on a board is control, not a 100% holding
    foundation = ("foundation", "Organization", "Family Foundation", ("role.rca",))
    engine.apply_many([
        make("ownership", foundation, "vendor", percentage=100),
        make("family", "son", "pm"),
        make("directorship", "son", "builder", role="chair"),
    ])
    vendor = engine.exposure("vendor")
    assert (vendor.kind, vendor.weight) == ("pep_controlled", 1.0)
    assert any("Family Foundation" in reason and "role.rca" in reason for reason in vendor.reasons)
    builder = engine.exposure("builder")
    assert builder.kind == "pep_controlled"
    assert "controlled by Son, family of Prime Minister" in builder.reasons


def test_what_relatives_hold_only_together_is_exposed_as_their_family_interest(engine, make):
    # the scorer sums a spouse's 15% and a son's 15% into a family interest in the minister's exposure set; the
    # exposure query says so too (before: "none", a review), and not for stakes that never coexisted
    engine.apply_many([
        make("family", "son", "minister"), make("family", "spouse", "minister"),
        make("ownership", "son", "vendor", percentage=15), make("ownership", "spouse", "vendor", percentage=15),
        make("ownership", "son", "builder", percentage=15, end="2020-12-31"),
        make("ownership", "spouse", "builder", percentage=15, start="2022-01-01"),
        make("ownership", "son", "shell", percentage=10), make("ownership", "tycoon", "shell", percentage=20),
    ])
    vendor = engine.exposure("vendor")
    assert (vendor.kind, vendor.weight) == ("pep_controlled", 1.0)
    assert "held 30% together by Son (15%) and Spouse (15%), family of Finance Minister" in vendor.reasons
    assert "vendor" in exposure_members(engine, "minister").members
    assert engine.exposure("builder").kind == "none"  # the son's 15% sold before the spouse's bought
    assert engine.exposure("shell").kind == "none"  # a stranger's stake is no family's


def test_a_family_interest_counts_each_holder_once(engine, make):
    # a son who is also the minister's associate holds his 15% once (a review: "Son (15%) and Son (15%)" made 30%)
    engine.apply_many([
        make("family", "son", "minister"), make("associate", "son", "minister"),
        make("ownership", "son", "vendor", percentage=15),
    ])
    assert engine.exposure("vendor").kind == "none"
