"""A fact is an edge; statements are its evidence (issue #14, item 1).

Statements of the same fact (same type, same ends; either direction for a symmetric type; overlapping validity;
for money, the same amount) are one edge whose evidence lists every statement. Certainty grows with independent
publishers (noisy-OR, capped at `evidence.max_corroborated_certainty`); repeats from one publisher add nothing.
"""

from __future__ import annotations

import pytest

from scoring import Engine, ScoringConfig
from scoring.graph import TemporalGraph
from scoring.semantics import Layer

from .conftest import full_state, incremental_state


def conflict(make, **family):
    """The minister controls the regulator, which regulates the bank his son owns 40% of."""
    return [make("control", "minister", "regulator"), make("regulates", "regulator", "bank"),
            make("ownership", "son", "bank", percentage=40),
            make("family", "son", "minister", relation_id="family-1", **family)]


def scored(events, config=None):
    engine = Engine(config)
    engine.apply_many(events)
    assert incremental_state(engine) == full_state(engine)
    return engine, engine.score("minister", "bank")


def test_a_family_tie_stated_from_both_people_is_one_edge(make):
    _, once = scored(conflict(make, status="reported"))
    engine, twice = scored([*conflict(make, status="reported"),
                            make("family", "minister", "son", relation_id="family-2", status="reported")])
    assert twice.score == once.score  # same publisher: the second statement adds nothing
    assert len(twice.commercial_paths) == len(once.commercial_paths) == 1
    family = twice.commercial_paths[0].edges[0]
    assert family.relation_type == "family"
    assert sorted(e.relation_id for e in family.evidence) == ["family-1", "family-2"]
    assert engine.graph.fact_count == 4 and engine.graph.relation_count == 5


def test_an_extractor_repeating_one_stake_does_not_raise_the_score(make):
    _, once = scored(conflict(make))
    repeats = [make("ownership", "son", "bank", percentage=40, relation_id=f"copy-{i}") for i in range(3)]
    _, repeated = scored([*conflict(make), *repeats])
    assert repeated.score == once.score
    assert len(repeated.commercial_paths) == 1
    stake = repeated.commercial_paths[0].edges[1]
    assert len(stake.evidence) == 4


def test_an_independent_publisher_raises_certainty_up_to_the_cap(make):
    cap = ScoringConfig.load().evidence.max_corroborated_certainty
    _, alone = scored(conflict(make, status="reported"))
    _, corroborated = scored([*conflict(make, status="reported"),
                              make("family", "son", "minister", relation_id="family-b", status="reported",
                                   publisher="Other Times", url="https://other.example/story")])
    hop = lambda score: score.commercial_paths[0].edges[0].weight  # noqa: E731
    assert hop(alone) == pytest.approx(0.85)
    assert hop(corroborated) == pytest.approx(min(cap, 1 - 0.15 ** 2))  # capped: 0.95
    assert corroborated.score > alone.score
    assert "2 sources" in corroborated.commercial_paths[0].text
    assert {e.publisher for e in corroborated.commercial_paths[0].edges[0].evidence} == \
        {"Example Gazette", "Other Times"}


def test_corroboration_never_lowers_a_confirmed_fact(make):
    _, confirmed = scored(conflict(make))
    _, plus_rumour = scored([*conflict(make), make("family", "son", "minister", relation_id="family-b",
                                                   status="alleged", publisher="Tabloid")])
    assert plus_rumour.score == confirmed.score


def test_statements_with_disjoint_validity_are_two_facts(make):
    graph = TemporalGraph()
    graph.apply(make("ownership", "son", "bank", percentage=40, relation_id="a", start="2010-01-01",
                     end="2012-12-31"))
    graph.apply(make("ownership", "son", "bank", percentage=40, relation_id="b", start="2020-01-01"))
    assert [r.relation_id for r in graph.between("son", "bank", Layer.HOLDING)] == ["a", "b"]
    # a third statement bridging both periods makes them one fact
    graph.apply(make("ownership", "son", "bank", percentage=40, relation_id="c", start="2012-06-01",
                     end="2020-06-01"))
    (fact,) = graph.between("son", "bank", Layer.HOLDING)
    assert sorted(r.relation_id for r in fact.evidence()) == ["a", "b", "c"]
    assert (fact.start.isoformat(), fact.end) == ("2010-01-01", None)


def test_payments_of_different_sums_are_two_facts(make):
    graph = TemporalGraph()
    graph.apply(make("payment", "bank", "son", amount=1000, relation_id="p1"))
    graph.apply(make("payment", "bank", "son", amount=5000, relation_id="p2"))
    graph.apply(make("payment", "bank", "son", amount=1000, relation_id="p1-again"))
    facts = graph.between("bank", "son", Layer.TRADE)
    assert sorted(len(f.evidence()) for f in facts) == [1, 2]


def test_retracting_one_statement_keeps_the_fact(make):
    engine = Engine()
    engine.apply_many([*conflict(make), make("family", "minister", "son", relation_id="family-2")])
    changes = engine.apply(make("family", "son", "minister", relation_id="family-1", op="retract"))
    assert [(c.key, c.new is not None) for c in changes] == [  # the evidence shown changed
        (("minister", "bank"), True), (("minister", "son"), True)]
    score = engine.score("minister", "bank")
    assert [e.relation_id for e in score.commercial_paths[0].edges[0].evidence] == ["family-2"]
    assert incremental_state(engine) == full_state(engine)
    engine.apply(make("family", "minister", "son", relation_id="family-2", op="retract"))
    assert engine.score("minister", "bank") is None
    assert incremental_state(engine) == full_state(engine)
