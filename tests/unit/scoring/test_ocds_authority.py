"""Real procurement data through the engine (tests/fixtures/ocds): a buyer's award of a contract is authority over
the supplier, which reaches an official who steers the buyer when his family owns the supplier."""

from __future__ import annotations

import datetime as dt

from scoring import Engine
from tests.unit.schemas.test_ocds import BROKERS, COMPRANET, INAH, imported, load

OFFICIAL = ("example-official", "Person", "Example Official", ("role.pep",))
SPOUSE = ("example-spouse", "Person", "Example Spouse", ())
BROKER = (BROKERS, "LegalEntity", "GLOBAL ASSURANCE BROKERS", ())


def engine_on(day: dt.date, make) -> Engine:
    """Compranet's real awards and three hypothetical events: an official who heads the INAH (a buyer), his spouse,
    and her stake in the insurance broker the INAH awarded two contracts to."""
    events, _ = imported([load(COMPRANET)])
    engine = Engine(as_of=day)
    engine.apply_many([*events, make("control", OFFICIAL, (INAH, "PublicBody", "INAH", ())),
                       make("family", OFFICIAL, SPOUSE, relationship="spouse"),
                       make("ownership", SPOUSE, BROKER, percentage=60.0)])
    return engine


def test_an_award_by_the_officials_buyer_to_his_familys_firm_is_a_conflict(make):
    engine = engine_on(dt.date(2016, 6, 1), make)
    score = engine.score("example-official", BROKERS)
    assert score is not None
    assert "COI-AUTH-OWNERSHIP" in score.rules
    awards = [edge for path in score.authority_paths for edge in path.edges
              if edge.relation_type.value == "awards_contract"]
    assert {(edge.source_id, edge.target_id) for edge in awards} == {(INAH, BROKERS)}
    assert all(evidence.publisher.startswith("SECRETARÍA DE LA FUNCIÓN PÚBLICA")
               for edge in awards for evidence in edge.evidence)


def test_once_the_contracts_ran_out_the_award_is_former_authority(make):
    """Both contracts ended in 2017 (their periods' ends): in 2026 the same facts are no current authority."""
    during = engine_on(dt.date(2016, 6, 1), make).score("example-official", BROKERS)
    after = engine_on(dt.date(2026, 6, 1), make).score("example-official", BROKERS)
    assert during is not None and "COI-AUTH-OWNERSHIP" in during.rules
    assert after is None or ("COI-AUTH-OWNERSHIP" not in after.rules and after.score < during.score)
