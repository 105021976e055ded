"""The conflict-of-interest scoring engine: pure Python on networkx, deterministic, no Kafka.

It keeps a temporal ownership-and-influence graph built from `schemas.RelationshipEvent`s and scores pairs
(actor, counterparty) where a politically exposed person holds authority over a party that his private sphere is
commercially tied to. Every score names its rules and explains itself with paths and evidence
(`schemas.RiskScore`); `AlertTracker` turns score changes into alert transitions (`schemas.Alert`).

    engine = Engine(ScoringConfig.load())
    changes = engine.apply(event)          # -> [ScoreChange(old, new)], only the pairs the event affects
    alerts = AlertTracker(engine.config).observe(changes)

The model, its parameters (scoring/defaults.yaml) and the reasons behind them are in docs/scoring.md.
"""

from scoring.alerts import AlertTracker, alert_id
from scoring.config import ScoringConfig
from scoring.engine import Engine, ScoreChange
from scoring.exposure import Exposure
from scoring.graph import TemporalGraph

__all__ = ["AlertTracker", "Engine", "Exposure", "ScoreChange", "ScoringConfig", "TemporalGraph", "alert_id"]
