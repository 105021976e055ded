"""ESMA's MiCA register through the engine (tests/fixtures/mica): an official who steers a national competent
authority and whose family holds a firm that authority licensed, or one it acted against for providing services
without a licence, has a conflict (COI-AUTH-OWNERSHIP), for as long as the authorisation holds or from the
authority's decision; once withdrawn, a decided matter (COI-DECIDED-MATTER) fading over the exposure horizon."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from scoring import Engine

from tests.unit.schemas.test_mica import (BYBIT, CASPS, CASPS_FEBRUARY, MEXC, NCASP, OPEN_BANK_BY_NAME, imported,
                                         imported_after)

OFFICIAL = ("example-official", "Person", "Example Official", ("role.pep",))
SPOUSE = ("example-spouse", "Person", "Example Spouse", ())
FMA = ("mica-authority-at-fma", "PublicBody", "Austrian Financial Market Authority (FMA)", ("gov.financial",))
NL_AFM = ("mica-authority-nl-afm", "PublicBody", "Netherlands Authority for the Financial Markets (AFM)",
          ("gov.financial",))
DECUBATE = "mica-lei-894500ZVOL3A9LO8LN34"  # authorised 2025-07-31, withdrawn 2026-03-26 at its own request


def engine_on(day: dt.date, make, authority: tuple, firm: str, register: bool = True, path: Path = CASPS) -> Engine:
    """The register's real authorisations (or none), and three hypothetical events: an official who heads the
    authority (since 2024), his spouse, and her 30% of the firm."""
    engine = Engine(as_of=day)
    firm_ref = (firm, "Company", "the firm", ())
    engine.apply_many([*(imported(path)[0] if register else []),
                       make("control", OFFICIAL, authority, start="2024-01-01"),
                       make("family", OFFICIAL, SPOUSE, relationship="spouse"),
                       make("ownership", SPOUSE, firm_ref, percentage=30.0)])
    return engine


def test_the_registers_authorisation_is_the_officials_authority_over_his_familys_firm(make):
    score = engine_on(dt.date(2026, 8, 20), make, FMA, BYBIT).score("example-official", BYBIT)
    assert score is not None and "COI-AUTH-OWNERSHIP" in score.rules
    regulating = [edge for path in score.authority_paths for edge in path.edges
                  if edge.relation_type.value == "regulates"]
    assert {(edge.source_id, edge.target_id) for edge in regulating} == {("mica-authority-at-fma", BYBIT)}
    assert {str(item.source_url) for edge in regulating for item in edge.evidence} == \
        {"https://www.esma.europa.eu/sites/default/files/2024-12/CASPS.csv"}
    # without the register the engine knows of no authority over the firm
    assert engine_on(dt.date(2026, 8, 20), make, FMA, BYBIT, register=False).score("example-official", BYBIT) is None


def test_a_withdrawn_authorisation_is_current_authority_only_while_it_held_then_a_decided_matter(make):
    for day in (dt.date(2025, 12, 1), dt.date(2026, 3, 25)):
        during = engine_on(day, make, NL_AFM, DECUBATE).score("example-official", DECUBATE)
        assert during is not None and "COI-AUTH-OWNERSHIP" in during.rules and during.band.value == "critical", day
    # withdrawn on 2026-03-26: the supervision his authority held over his family's firm is a matter it has
    # decided, fading over the exposure horizon of national office (20 years), no longer current authority
    after = [engine_on(day, make, NL_AFM, DECUBATE).score("example-official", DECUBATE)
             for day in (dt.date(2026, 3, 27), dt.date(2026, 8, 20), dt.date(2029, 1, 1))]
    assert all(score is not None and score.rules == ("COI-DECIDED-MATTER",) for score in after)
    assert during.score > after[0].score > after[1].score > after[2].score
    assert engine_on(dt.date(2046, 3, 28), make, NL_AFM, DECUBATE).score("example-official", DECUBATE) is None


def test_an_authority_acting_against_an_unlicensed_firm_has_power_over_it_from_its_decision(make):
    # the AFM's public warning against MEXC (NCASP, decided 2025-09-16): a hypothetical AFM official whose spouse
    # holds 30% of MEXC
    before = engine_on(dt.date(2025, 9, 1), make, NL_AFM, MEXC, path=NCASP).score("example-official", MEXC)
    assert before is None
    after = engine_on(dt.date(2025, 10, 1), make, NL_AFM, MEXC, path=NCASP).score("example-official", MEXC)
    assert after is not None and "COI-AUTH-OWNERSHIP" in after.rules
    acting = [edge for path in after.authority_paths for edge in path.edges
              if edge.relation_type.value == "prosecutes"]
    assert {(edge.source_id, edge.target_id) for edge in acting} == {("mica-authority-nl-afm", MEXC)}


def test_a_relation_the_later_register_retracts_is_authority_no_more(make):
    # February names OPEN BANK by its name (a spreadsheet rounded its LEI), August by its LEI; a hypothetical CNMV
    # official's spouse holds 30% of the firm as February names it
    cnmv = ("mica-authority-es-cnmv", "PublicBody", "Comisión Nacional del Mercado de Valores (CNMV)",
            ("gov.financial",))
    firm = OPEN_BANK_BY_NAME.rsplit(":", 1)[1]
    day = dt.date(2026, 8, 20)
    february = engine_on(day, make, cnmv, firm, path=CASPS_FEBRUARY)
    assert "COI-AUTH-OWNERSHIP" in february.score("example-official", firm).rules
    february.apply_many(imported(CASPS)[0])  # August alone restates, and cannot withdraw, February's relation
    assert february.score("example-official", firm) is not None
    february.apply_many(imported_after(CASPS, CASPS_FEBRUARY)[0])
    assert february.score("example-official", firm) is None


def test_a_token_an_exchange_lists_is_joined_by_its_dti_to_its_issuer_in_the_register(make):
    """The founding case's shape on ESMA's real register: an official oversees an exchange that lists a stablecoin
    whose issuer his spouse holds. The listing (hypothetical) names the token by one of USDC's ledger DTIs; the
    register (mica-import 1.3) says Circle issues the token of that DTI: the two tokens are one entity, which joins
    the exchange to Circle. Without the register's tokens the listing leads nowhere."""
    from scoring.resolution import ResolvingEngine
    from tests.unit.scoring.resolution_support import identified
    from tests.unit.schemas.test_mica import CIRCLE, EMTWP

    supervisor = ("example-supervisor", "PublicBody", "Example Supervisor", ("gov.financial", "gov.national"))
    exchange = ("example-exchange", "Company", "Example Exchange", ())
    listed = ("news-usdc", "Security", "USDC", ())
    hypothetical = [make("control", OFFICIAL, supervisor), make("oversees", supervisor, exchange),
                    make("family", OFFICIAL, SPOUSE, relationship="spouse"),
                    make("ownership", SPOUSE, (CIRCLE, "Company", "Circle", ()), percentage=30.0),
                    identified(make("lists", exchange, listed), "target", {"scheme": "dti", "value": "M8G59S1ZR"})]

    def score(register_events):
        layer = ResolvingEngine(as_of=dt.date(2026, 8, 20))
        layer.apply_many([*register_events, *hypothetical])
        return layer, layer.score("example-official", "example-exchange")

    layer, with_register = score(imported(EMTWP)[0])
    assert with_register is not None and with_register.band.value in ("high", "critical")
    assert layer.canonical("news-usdc") == layer.canonical("mica-dti-tjwk5qtrk")
    hops = [(edge.relation_type.value, edge.source_id, edge.target_id)
            for path in with_register.commercial_paths for edge in path.edges]
    assert ("issues", CIRCLE, layer.canonical("news-usdc")) in hops and ("ownership", SPOUSE[0], CIRCLE) in hops
    # the register without its tokens (its regulates relations only), and no register: no conflict
    licences = [event for event in imported(EMTWP)[0] if event.relation_type.value == "regulates"]
    assert score(licences)[1] is None and score([])[1] is None
