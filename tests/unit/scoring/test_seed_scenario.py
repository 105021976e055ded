"""The seed case (examples/binance-wlfi.jsonl): the president x Binance and x Justin Sun in the top band with the
scenario's paths and evidence; the negative controls (Tether, Richard Teng) raise nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from schemas.outputs import AlertState, Band
from scoring import AlertTracker, Engine
from scoring.config import BAND_ORDER

from .conftest import full_state, incremental_state, load_seed_events

ARTICLE = "https://example.org/news/2025/binance-seeks-trump-family-deal"


@pytest.fixture(scope="module")
def seeded():
    engine = Engine()
    tracker = AlertTracker(engine.config)
    alerts = []
    for event in load_seed_events():
        alerts += tracker.observe(engine.apply(event))
    return engine, alerts


def texts(paths):
    return [p.text for p in paths]


def test_the_president_and_binance_and_justin_sun_are_the_top_risks(seeded):
    engine, _ = seeded
    ranked = engine.scores()
    assert BAND_ORDER[ranked[0].band] >= BAND_ORDER[Band.HIGH]
    assert {(s.actor_id, s.counterparty_id) for s in ranked[:2]} == {("trump", "binance"), ("trump", "sun")}
    # Changpeng Zhao follows: the same authority reaches him through his ownership of Binance, plus the pardon
    zhao = engine.score("trump", "cz")
    assert (ranked[2].actor_id, ranked[2].counterparty_id) == ("trump", "cz")
    assert zhao is not None and BAND_ORDER[zhao.band] >= BAND_ORDER[Band.MEDIUM]


def test_binance_is_explained_by_the_executive_and_the_family_business(seeded):
    engine, _ = seeded
    binance = engine.score("trump", "binance")
    assert set(binance.rules) == {"COI-AUTH-COMMERCIAL", "COI-AUTH-OWNERSHIP", "COI-LOBBY"}
    # each hop says what it is, as the seed states it: a role, or how two people are related
    assert texts(binance.authority_paths)[0] == (
        'Donald Trump -control["head of the executive branch"]-> US Department of the Treasury '
        '-oversees["AML compliance monitorship"]-> Binance')
    assert ('Donald Trump -control["head of the executive branch"]-> US Department of Justice '
            '-oversees["AML monitorship; corporate monitorships suspended", reported]-> Binance') in \
        texts(binance.authority_paths)
    commercial = texts(binance.commercial_paths)
    # Eric Trump -family["father"]-> Donald Trump as stated (the word names the target), walked from the father
    assert ('Donald Trump <-family["father"]- Eric Trump -ownership["backer and promoter", 25%?, reported]-> '
            'World Liberty Financial -issues["issuer of the USD1 stablecoin"]-> USD1 '
            '<-lists["listing under discussion", in_discussion]- Binance') in commercial
    assert ('Donald Trump -ownership["stake discussed by Trump family representatives", 25%?, proposed]-> Binance.US '
            '<-ownership["parent company", 25%?]- Binance') in commercial
    assert ('Donald Trump -control["head of the executive branch"]-> US Department of the Treasury '
            '<-lobbies["asked for the monitor to be removed or reduced", reported]- Binance') in commercial
    via_eric = next(p for p in binance.commercial_paths if p.text.startswith('Donald Trump <-family["father"]-'))
    assert via_eric.edges[0].role == "father" and via_eric.edges[0].source_id == "eric-trump"
    assert [e.relation_id for e in via_eric.edges] == [
        "eric-family-trump", "eric-owns-wlf", "wlf-issues-usd1", "binance-lists-usd1"]
    for edge in via_eric.edges:
        (evidence,) = edge.evidence
        assert evidence.source_url == ARTICLE and evidence.publisher.startswith("Crypto news site")
        assert evidence.extractor == "manual-seed/1.0"
    assert via_eric.edges[-1].evidence[0].quote.startswith("Binance has been exploring a listing of USD1")


def test_justin_sun_is_explained_by_the_sec_case_and_his_investment(seeded):
    engine, _ = seeded
    sun = engine.score("trump", "sun")
    assert sun.rules == ("COI-AUTH-COMMERCIAL",)
    assert texts(sun.authority_paths) == [
        'Donald Trump -control["appoints its leadership"]-> US Securities and Exchange Commission '
        '-prosecutes["fraud lawsuit"]-> Justin Sun']
    assert texts(sun.commercial_paths)[0] == (
        'Donald Trump -ownership["backer (Trump family)", 25%?, reported]-> World Liberty Financial '
        "<-invests_in[75M USD]- Justin Sun")


def test_the_pardon_and_the_monitor_explain_changpeng_zhao(seeded):
    engine, _ = seeded
    zhao = texts(engine.score("trump", "cz").authority_paths)
    assert 'Donald Trump -pardons["clemency request pending", alleged]-> Changpeng Zhao' in zhao
    assert ('Donald Trump -control["head of the executive branch"]-> US Department of the Treasury '
            '-oversees["AML compliance monitorship"]-> Binance <-ownership["founder and owner", 25%?]- Changpeng Zhao') \
        in zhao


def test_negative_controls_raise_nothing(seeded):
    engine, alerts = seeded
    for entity in ("tether", "teng", "usdt", "hughes"):
        assert engine.top_scores(entity_id=entity) == []
        assert not [a for a in alerts if entity in (a.actor_id, a.counterparty_id)]
    assert engine.exposure("tether").kind == "none"
    assert engine.exposure("teng").kind == "none"


def test_alerts_are_raised_for_the_three_pairs(seeded):
    _, alerts = seeded
    raised = {(a.actor_id, a.counterparty_id) for a in alerts if a.state == AlertState.RAISED}
    assert raised == {("trump", "binance"), ("trump", "sun"), ("trump", "cz")}


def test_incremental_equals_full_recomputation_and_order_does_not_matter(seeded):
    engine, _ = seeded
    assert incremental_state(engine) == full_state(engine)
    reordered = Engine()
    reordered.apply_many(reversed(load_seed_events()))
    assert incremental_state(reordered) == incremental_state(engine)


def test_before_the_inauguration_there_was_no_authority(seeded):
    engine, _ = seeded
    assert engine.score_all(as_of=dt.date(2025, 1, 19)) == []
    assert {(s.actor_id, s.counterparty_id) for s in engine.score_all(as_of=dt.date(2025, 1, 20))} == {
        ("trump", "binance"), ("trump", "sun"), ("trump", "cz")}
