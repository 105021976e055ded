"""Published worked examples of indirect ownership, under both `ownership.rule` settings (issue #14, item 7).

Each case gives the effective stake the rule yields and whether the owner passes the rule's test (EU beneficial
owner at 25% or more; OFAC "blocked" at 50% or more). Sources (docs/scoring.md, "Ownership", cites them too):

- OFAC FAQ 401 (https://ofac.treasury.gov/faqs/401), examples 1 to 3, and the companion case on which the two
  rules diverge (X holds 25% of A and of B, which each hold 50% of C: EU 25%, OFAC nothing, since neither A nor
  B is 50% owned by X and so neither passes anything on).
- EU AMLR, Regulation (EU) 2024/1624, Art. 52: indirect ownership multiplies the stakes along each chain and adds
  the chains up (the numbers of that case are ours; the rule is the article's).
- 42 CFR 455.102(a) (Medicaid disclosure of ownership): A holds 10% of a corporation that holds 80% of the
  disclosing entity: 8%; B holds 80% of a corporation that holds 5%: 4%. Multiplication is the EU rule; under the
  OFAC rule the first is nothing (10% is no majority) and the second is the 5% passed on whole.
"""

from __future__ import annotations

import datetime as dt

import pytest

from scoring.config import ScoringConfig
from scoring.dependencies import Reads
from scoring.graph import TemporalGraph
from scoring.ownership import effective_stakes, owners
from scoring.search import SearchContext

DAY = dt.date(2025, 6, 1)
THRESHOLD = {"eu": 0.25, "ofac": 0.5}  # EU beneficial owner; OFAC 50% rule (blocked)


def holder(name: str) -> tuple:
    return (name, "Person" if name in ("X", "Y", "A_person", "B_person") else "Company", name, ())


def world(make, rule: str, *stakes):
    graph = TemporalGraph()
    for source, target, percentage in stakes:
        graph.apply(make("ownership", holder(source), holder(target), percentage=percentage))
    config = ScoringConfig.load(overrides={"ownership": {"rule": rule, "threshold": THRESHOLD[rule]}})
    return SearchContext(graph, config, DAY, Reads())


def stake(ctx, owner: str, owned: str) -> float:
    held = effective_stakes(owner, ctx).get(owned)
    return round(held.stake, 9) if held else 0.0


def passes(ctx, owner: str, owned: str) -> bool:
    return owner in owners(owned, ctx)


# (name, stakes, owner, owned, {rule: expected effective stake})
CASES = [
    ("OFAC FAQ 401 example 1", [("X", "A", 50), ("A", "B", 50)], "X", "B", {"eu": 0.25, "ofac": 0.5}),
    ("OFAC FAQ 401 example 2", [("X", "A", 50), ("X", "B", 50), ("A", "C", 25), ("B", "C", 25)], "X", "C",
     {"eu": 0.25, "ofac": 0.5}),
    ("OFAC FAQ 401 example 3", [("X", "A", 50), ("X", "B", 10), ("A", "B", 40)], "X", "B",
     {"eu": 0.3, "ofac": 0.5}),
    ("EU and OFAC diverge", [("X", "A", 25), ("X", "B", 25), ("A", "C", 50), ("B", "C", 50)], "X", "C",
     {"eu": 0.25, "ofac": 0.0}),
    ("EU AMLR Art. 52 multiply and add", [("X", "A", 40), ("X", "B", 30), ("X", "C", 5), ("A", "C", 50),
                                          ("B", "C", 30)], "X", "C", {"eu": 0.34, "ofac": 0.05}),
    ("42 CFR 455.102: 10% x 80% = 8%", [("A_person", "corp", 10), ("corp", "entity", 80)], "A_person", "entity",
     {"eu": 0.08, "ofac": 0.0}),
    ("42 CFR 455.102: 80% x 5% = 4%", [("B_person", "corp", 80), ("corp", "entity", 5)], "B_person", "entity",
     {"eu": 0.04, "ofac": 0.05}),
]


@pytest.mark.parametrize("rule", ["eu", "ofac"])
@pytest.mark.parametrize("name, stakes, owner, owned, expected", CASES, ids=[case[0] for case in CASES])
def test_worked_example(make, rule, name, stakes, owner, owned, expected):
    ctx = world(make, rule, *stakes)
    assert stake(ctx, owner, owned) == pytest.approx(expected[rule])
    assert passes(ctx, owner, owned) == (expected[rule] >= THRESHOLD[rule] - 1e-12)


@pytest.mark.parametrize("rule", ["eu", "ofac"])
def test_ofac_example_1_blocks_every_tier(make, rule):
    """FAQ 401 example 1 read tier by tier: X's 50% makes A blocked, and A's 50% makes B blocked."""
    ctx = world(make, rule, ("X", "A", 50), ("A", "B", 50))
    assert passes(ctx, "X", "A")
    assert passes(ctx, "A", "B")
    assert passes(ctx, "X", "B")  # OFAC: 50% passed on whole; EU: 50% x 50% = 25%, a beneficial owner


def test_the_companion_case_under_the_default_eu_threshold(make):
    """With the default configuration (EU, 25%), X is C's beneficial owner through A and B together."""
    graph = TemporalGraph()
    for source, target, percentage in [("X", "A", 25), ("X", "B", 25), ("A", "C", 50), ("B", "C", 50)]:
        graph.apply(make("ownership", holder(source), holder(target), percentage=percentage))
    ctx = SearchContext(graph, ScoringConfig.load(), DAY, Reads())
    held = owners("C", ctx)["X"]
    assert held.stake == pytest.approx(0.25) and len(held.chains) == 2
