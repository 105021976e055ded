"""Authority: what a person steers, and authority paths through offices and bodies, bounded, current, and over
beneficial owners."""

from __future__ import annotations

import datetime as dt

import pytest

from scoring import Engine
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


def chain_of_command(engine, make, depth, status="confirmed"):
    """minister -control-> body0 -control-> body1 ... -control-> body{depth-1} -regulates-> bank."""
    bodies = [(f"body{i:02d}", "PublicBody", f"Body {i}", ()) for i in range(depth)]
    engine.apply(make("control", "minister", bodies[0], status=status))
    for upper, lower in zip(bodies, bodies[1:]):
        engine.apply(make("control", upper, lower, status=status))
    engine.apply(make("regulates", bodies[-1], "bank"))


@pytest.mark.parametrize("depth", [5, 8, 12])
def test_chains_of_command_of_realistic_depth_are_followed(engine, make, depth):
    """Head of state, cabinet office, ministry, agency, division...: no small hop count cuts them off."""
    chain_of_command(engine, make, depth)
    (path,) = paths(engine, "minister", "bank").current
    assert len(path.hops) == depth + 1
    assert path.strength == pytest.approx(engine.config.paths.hop_decay ** depth)
    engine.apply(make("control", "mayor", ("body02", "PublicBody", "Body 2", ())))  # from the middle: shorter
    assert paths(engine, "mayor", "bank").current[0].strength > path.strength


def test_chains_of_command_are_bounded_by_strength(engine, make):
    chain_of_command(engine, make, 30)
    sources = reach("minister", context(engine)).sources
    decay, floor = engine.config.paths.hop_decay, engine.config.authority.min_strength
    deepest = max(len(ways[0].chain) for ways in sources.values())
    assert decay ** (deepest - 1) >= floor > decay ** deepest  # followed exactly while strong enough
    assert paths(engine, "minister", "bank").current == ()  # 31 hops: too weak to presume
    # weaker links (reported control) give out sooner
    reported = Engine()
    chain_of_command(reported, make, 30, status="reported")
    assert max(len(w[0].chain) for w in reach("minister", context(reported)).sources.values()) < deepest


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


COMMITTEE = ("committee", "PublicBody", "Banking Committee", ("gov.legislative", "gov.national"))


def seat_conflict(make, role, body=COMMITTEE):
    """A seat on the committee that oversees the bank; the member's son owns 40% of the bank."""
    return [make("membership", "mayor", body, role=role), make("oversees", body, "bank"),
            make("family", "son", "mayor"), make("ownership", "son", "bank", percentage=40)]


def seat_score(make, role, body=COMMITTEE):
    from .conftest import full_state, incremental_state

    engine = Engine()
    engine.apply_many(seat_conflict(make, role, body))
    assert incremental_state(engine) == full_state(engine)
    return engine.score("mayor", "bank")


def test_a_seat_in_a_public_body_confers_its_authority_by_role(make):
    chair, vice, member = (seat_score(make, role) for role in ("Chair", "vice chair", "member"))
    assert member is not None and "COI-AUTH-OWNERSHIP" in member.rules
    assert chair.score > vice.score > member.score
    config = Engine().config
    roles, decay = config.authority, config.paths.hop_decay  # the path: the seat, then the oversight
    assert [s.authority_paths[0].strength for s in (chair, vice, member)] == pytest.approx(
        [roles.seat_roles["chair"] * decay, roles.seat_roles["vice"] * decay, roles.seat_weight * decay])
    # the role that weighs the seat is shown, in the text and on the edge (it was in neither)
    # ("member" only restates the type: an ordinary member's weight is what a seat without a word has)
    assert member.authority_paths[0].text == "Mayor -membership-> Banking Committee -oversees-> Big Bank"
    assert chair.authority_paths[0].text == 'Mayor -membership["Chair"]-> Banking Committee -oversees-> Big Bank'
    assert [s.authority_paths[0].edges[0].role for s in (chair, vice, member)] == ["Chair", "vice chair", "member"]
    assert member.authority_paths[0].edges[1].role is None
    assert "role" not in member.authority_paths[0].edges[1].model_dump(mode="json")  # absent, as before


def test_a_long_role_is_shortened_in_the_text_and_kept_whole_on_the_edge(make):
    role = "Chairman of the\n  Standing Committee on Banking, Finance and Urban Affairs of the House of Representatives"
    score = seat_score(make, role)
    (edge, _) = score.authority_paths[0].edges
    assert edge.role == role
    shown = score.authority_paths[0].text.split("-membership[")[1].split("]->")[0]
    assert shown == '"Chairman of the Standing Committee on Banking, Finance and…"'  # at most 60 characters
    assert "\n" not in score.authority_paths[0].text


def test_a_blank_role_shows_as_none(make):
    (edge, _) = seat_score(make, "  ").authority_paths[0].edges
    assert edge.role is None and "-membership->" in seat_score(make, "  ").authority_paths[0].text


def test_a_seat_on_a_company_board_or_in_a_party_is_no_authority(make):
    party = ("party", "Organization", "Some Party", ())
    engine = Engine()
    engine.apply_many([make("membership", "mayor", party, role="chair"), make("oversees", party, "bank"),
                       make("family", "son", "mayor"), make("ownership", "son", "bank", percentage=40)])
    assert engine.scores() == []


@pytest.mark.parametrize("office, topics, expected_tier", [
    ("head", ("gov.head", "gov.national"), "gov.head"),
    ("state", ("gov.state",), "gov.state"),
    ("muni", ("gov.muni",), "gov.muni"),
])
def test_position_tiers_weigh_authority(make, office, topics, expected_tier):
    """The same chain of command from offices of different tiers: a head of state's or national office outweighs a
    regional one, which outweighs a municipal one; an office without a tier topic weighs 1."""
    engine = Engine()
    position = (f"{office}-office", "Position", f"Office {office}", topics)
    engine.apply_many([make("occupancy", "mayor", position), make("control", position, "agency"),
                       make("awards_contract", "agency", "builder")])
    (path,) = paths(engine, "mayor", "builder").current
    tiers = engine.config.authority.position_tiers
    assert path.strength == pytest.approx(tiers[expected_tier] * engine.config.paths.hop_decay ** 2)
    assert tiers["gov.head"] >= tiers["gov.national"] > tiers["gov.state"] > tiers["gov.muni"]


def test_a_seat_shows_the_role_that_weighs_it_whatever_other_sources_say(make):
    """A seat is weighed by its primary statement's role: another source's "Chair" shown beside a confirmed
    "member" read as a chair's weight the path did not have (a review: `membership["Chair", 2 sources]` at a
    member's 0.5). Only the weighing role is shown, on the edge as in the text."""
    from .conftest import full_state, incremental_state

    for statements, weight, shown in (
            ((("Chair", "reported", "Tabloid"), ("member", "confirmed", "Gazette")), 0.5, None),
            ((("Chair", "reported", "Tabloid"), (None, "confirmed", "Gazette")), 0.5, None),
            ((("Chair", "confirmed", "Gazette"), ("member", "reported", "Tabloid")), 1.0, "Chair")):
        engine = Engine()
        engine.apply_many([make("membership", "mayor", COMMITTEE, relation_id=f"seat-{number}", role=role,
                                status=status, publisher=publisher)
                           for number, (role, status, publisher) in enumerate(statements)]
                          + seat_conflict(make, None)[1:])
        assert incremental_state(engine) == full_state(engine)
        path = engine.score("mayor", "bank").authority_paths[0]
        seat = path.edges[0]
        # the role shown is the one that weighs the seat: a chair's 1.0, else an ordinary member's 0.5
        assert engine.config.authority.seat_role_weight(seat.role) == weight
        assert (seat.role if seat.role != "member" else None) == shown
        assert ("Chair" in path.text) == (shown == "Chair")


@pytest.mark.parametrize("role, weight", [
    ("Chair", 1.0), ("Chairman", 1.0), ("chairwoman", 1.0), ("Chairperson", 1.0), ("co-chair", 1.0),
    ("President of the Board", 1.0), ("Head of Unit", 1.0),
    ("Vice-Chair", 0.8), ("vice chairman", 0.8), ("Deputy Chairperson of the Management Board", 0.8),
    ("Vicepresident", 0.8), ("vicechairman", 0.8),  # two role words written as one
    ("Vicepresidents", 0.8), ("Cochair", 1.0), ("cochairwoman", 1.0), ("Heads of Unit", 1.0),  # (a review)
    ("Cochairs", 1.0), ("coordinator", 0.5), ("Corporate Secretary", 0.5), ("chaos", 0.5), ("Deputies", 0.8),
    # a role word inside another word, or naming who appointed the member, is not the member's role (a review:
    # each of these read as a chair's or a vice's weight)
    ("member, appointed by the President", 0.5), ("member (presidential appointee)", 0.5),
    ("member for public service", 0.5), ("headquarters liaison", 0.5), ("member", 0.5), (None, 0.5)])
def test_a_seat_role_is_read_from_its_words(role, weight):
    assert Engine().config.authority.seat_role_weight(role) == weight


def test_a_seat_role_configured_as_a_phrase_matches_its_words_in_sequence():
    from scoring.config import AuthorityConfig

    base = Engine().config.authority.model_dump()
    authority = AuthorityConfig(**{**base, "seat_roles": {**base["seat_roles"], "chief executive": 0.9}})
    assert authority.seat_role_weight("Chief-Executive Officer") == 0.9
    assert authority.seat_role_weight("Executive, Chief of Staff") == authority.seat_weight  # not in sequence
