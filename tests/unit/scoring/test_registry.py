"""The rules are a registry (issue #14, item 6): declared once, `assess` derived from it, the docs table equal."""

from __future__ import annotations

from scoring import Engine, ScoringConfig
from scoring.registry import RULE_IDS, RULES, rule_table

from .conftest import REPO


def test_the_docs_rule_table_is_the_registry():
    docs = (REPO / "docs" / "scoring.md").read_text()
    assert rule_table() in docs
    for rule in RULES:
        assert docs.count(f"| `{rule.id}` |") == 1


def test_every_rule_is_configured_with_its_registry_weight():
    config = ScoringConfig.load()
    assert tuple(config.rules) == RULE_IDS
    assert [config.rule_weight(rule.id) for rule in RULES] == [rule.weight for rule in RULES]
    override = ScoringConfig.load(overrides={"rules": {"COI-AUTH-COMMERCIAL": {"weight": 0.3}}})
    assert override.rule_weight("COI-AUTH-COMMERCIAL") == 0.3


def test_a_rule_weight_from_the_registry_scales_its_score(make):
    """The ownership rule alone fires for a directly owned regulated firm: its score is its weight x authority
    x tie, with the weight read from the registry unless the config overrides it."""
    events = [make("control", "minister", "regulator"), make("regulates", "regulator", "bank"),
              make("ownership", "minister", "bank", percentage=60)]
    scores = []
    for weight in (None, 0.5):
        engine = Engine(ScoringConfig.load(overrides={"rules": {"COI-AUTH-OWNERSHIP": {"weight": weight}}}))
        engine.apply_many(events)
        score = engine.score("minister", "bank")
        assert score.rules == ("COI-AUTH-OWNERSHIP",)
        scores.append(score.score)
    assert scores[1] == round(scores[0] * 0.5, 6)
