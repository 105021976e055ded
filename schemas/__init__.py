"""The contracts both sides share: relationship events in, risk scores, alerts and dead letters out.

Pydantic v2 models with exported JSON Schema (schemas/json/), in FollowTheMoney's vocabulary
(`schemas.vocabulary` is the one table of relation types and their FtM mapping). No Kafka, no scoring here.
"""

from schemas.events import SCHEMA_VERSION, EntityRef, Op, Provenance, RelationProperties, RelationshipEvent
from schemas.outputs import (
    Alert,
    AlertState,
    Band,
    DeadLetter,
    Evidence,
    ExplanationPath,
    PathEdge,
    PathKind,
    RejectReason,
    RiskScore,
)
from schemas.validation import EventRejected, parse_event, validate_event
from schemas.vocabulary import RELATIONS, EntitySchema, RelationSpec, RelationType, Status

__all__ = [
    "SCHEMA_VERSION", "EntityRef", "Op", "Provenance", "RelationProperties", "RelationshipEvent", "Alert",
    "AlertState", "Band", "DeadLetter", "Evidence", "ExplanationPath", "PathEdge", "PathKind", "RejectReason",
    "RiskScore", "EventRejected", "parse_event", "validate_event", "RELATIONS", "EntitySchema", "RelationSpec",
    "RelationType", "Status",
]
