"""Real KEK records through the engine (tests/fixtures/kek): a state media authority's supervision of a radio
operator reaches that operator's beneficial owners."""

from __future__ import annotations

import datetime as dt

from scoring import Engine
from tests.unit.schemas.test_kek import BLM, DIOCESE, FREENET, RSA_KG, RTA, imported
from tests.unit.scoring.test_authority import paths


def test_a_media_authoritys_power_reaches_the_operators_beneficial_owners(make):
    """The real records and one hypothetical event: an official who steers the BLM. The BLM licenses and supervises
    the operator of Radio Galaxy Kempten; the diocese holds 30% of that operator through its publishing house, at
    the 25% threshold, so the official's authority reaches the diocese's interest (and rta.media's 70%)."""
    engine = Engine()
    events, _ = imported()
    official = ("example-official", "Person", "Example Official", ("role.pep",))
    engine.apply_many([*events, make("control", official, (f"kek-{BLM}", "PublicBody", "BLM", ()))])
    day = dt.date(2026, 7, 1)
    for owner in (DIOCESE, RTA, RSA_KG):
        found = paths(engine, "example-official", f"kek-{owner}", day)
        assert found.current, owner
        assert {edge.rec.target for path in found.current for edge in path.hops
                if edge.rec.type.value == "regulates"} == {f"kek-{RSA_KG}"}
    assert not paths(engine, "example-official", f"kek-{FREENET}", day).current
