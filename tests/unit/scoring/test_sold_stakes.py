"""Authority over a company reaches its owner only through stakes he holds on the date: a company he sold is no
interest of his. His ended stake is still an ended tie (decaying), so the company's own pair keeps it."""

from __future__ import annotations

from scoring import Engine
from scoring.caches import Kind
from scoring.ownership import StakesAlone

from .conftest import full_state, incremental_state

SOLD = "2025-03-31"
LATER = "2025-04-02T00:00:00Z"  # two days after the sale: every ended relation still weighs in full (decay steps)


def _regulated_bank(make, *owners) -> Engine:
    engine = Engine()
    engine.apply_many([make("control", "minister", "regulator"), make("regulates", "regulator", "bank"),
                       make("partners_with", "minister", "tycoon"), *owners])
    return engine


def test_authority_over_a_company_he_sold_does_not_reach_the_former_owner(make):
    engine = _regulated_bank(make, make("ownership", "tycoon", "bank", percentage=60, start="2015-01-01", end=SOLD))
    held = engine.score("minister", "tycoon")
    assert held is not None and held.authority_paths[0].text.endswith("-regulates-> Big Bank <-ownership[60%]- Tycoon")
    changes = engine.apply(make("partners_with", "nobody", "builder", observed_at=LATER))
    # from the day he no longer holds it; before, the pair stayed 0.648 high, and 0.459 high a year later
    assert ("minister", "tycoon") in [c.key for c in changes if c.new is None]
    assert engine.score("minister", "tycoon") is None
    # the bank's own pair keeps his ended stake as a tie, as an ended tie does
    bank = engine.score("minister", "bank")
    assert bank is not None and any("ownership[60%, ended 2025-03-31]" in p.text for p in bank.commercial_paths)
    assert incremental_state(engine) == full_state(engine)


def test_a_stake_he_still_holds_keeps_the_authority(make):
    engine = _regulated_bank(make, make("ownership", "tycoon", "bank", percentage=60, start="2015-01-01"))
    engine.apply(make("partners_with", "nobody", "builder", observed_at=LATER))
    assert engine.score("minister", "tycoon") is not None
    assert incremental_state(engine) == full_state(engine)


def test_a_company_his_holding_sold_is_not_his_either(make):
    """He still holds the holding company; it sold the bank. Neither is reached through the bank any more."""
    engine = _regulated_bank(make, make("ownership", "tycoon", "holdco", percentage=100),
                             make("ownership", "holdco", "bank", percentage=60, start="2015-01-01", end=SOLD))
    assert engine.score("minister", "tycoon") is not None
    engine.apply(make("partners_with", "nobody", "builder", observed_at=LATER))
    assert engine.score("minister", "tycoon") is None
    assert incremental_state(engine) == full_state(engine)


def test_a_sold_stake_beside_a_held_one_counts_only_the_held_one(make):
    """Sold 60% directly, still holds 20% through his holding company: 20% is no beneficial ownership (25%)."""
    engine = _regulated_bank(make, make("ownership", "tycoon", "bank", percentage=60, end=SOLD),
                             make("ownership", "tycoon", "holdco", percentage=100),
                             make("ownership", "holdco", "bank", percentage=20))
    engine.apply(make("partners_with", "nobody", "builder", observed_at=LATER))
    assert "bank" not in engine._caches.get(Kind.OWNED, "tycoon")
    assert engine.score("minister", "tycoon") is None
    engine.apply(make("ownership", "holdco", "bank", percentage=30, observed_at=LATER))
    assert "bank" in engine._caches.get(Kind.OWNED, "tycoon")
    assert engine.score("minister", "tycoon") is not None
    assert incremental_state(engine) == full_state(engine)


def test_a_walk_that_met_an_ended_stake_is_not_shared_between_holdings_and_beneficial_ownership(make):
    """What he holds (ownership and control, ended stakes as decaying ties) and what he beneficially owns (held
    stakes only) are one walk only where it met neither control nor anything ended (`StakesAlone`)."""
    engine = _regulated_bank(make, make("ownership", "tycoon", "bank", percentage=60, end=SOLD),
                             make("ownership", "tycoon", "vendor", percentage=100))
    engine.apply(make("partners_with", "nobody", "builder", observed_at=LATER))
    owned = engine._caches.get(Kind.OWNED, "tycoon")
    assert set(owned) == {"vendor"} and type(owned) is not StakesAlone
    held = engine._caches.get(Kind.HOLDINGS, "tycoon")
    assert held is None or (set(held) == {"bank", "vendor"} and type(held) is not StakesAlone)
