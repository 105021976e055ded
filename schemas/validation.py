"""Turning raw message bytes into a `RelationshipEvent`, or a reason code and a message a person can act on.

The worker dead-letters whatever this rejects; nothing here raises anything but `EventRejected`.
"""

from __future__ import annotations

import json

from pydantic import ValidationError

from schemas.events import SUPPORTED_SCHEMA_VERSIONS, ContractViolation, RelationshipEvent
from schemas.outputs import RejectReason
from schemas.vocabulary import RelationType

DEFAULT_MAX_EVENT_BYTES = 64 * 1024

# The first matching field path prefix names the reason; order matters (most specific first).
_REASON_BY_FIELD: tuple[tuple[tuple[str, ...], RejectReason], ...] = (
    (("provenance", "confidence"), RejectReason.INVALID_CONFIDENCE),
    (("properties",), RejectReason.INVALID_PROPERTY),
    (("source",), RejectReason.INVALID_ENDPOINT),
    (("target",), RejectReason.INVALID_ENDPOINT),
    (("start_date",), RejectReason.INVALID_DATES),
    (("end_date",), RejectReason.INVALID_DATES),
)


class EventRejected(ValueError):
    def __init__(self, reason: RejectReason, message: str):
        super().__init__(f"{reason.value}: {message}")
        self.reason = reason
        self.message = message


def parse_event(raw: bytes, max_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> RelationshipEvent:
    if len(raw) > max_bytes:
        raise EventRejected(RejectReason.PAYLOAD_TOO_LARGE, f"event is {len(raw)} bytes; the limit is {max_bytes}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EventRejected(RejectReason.ENCODING_ERROR, f"event is not UTF-8: {exc.reason} at byte {exc.start}")
    try:
        document = json.loads(text, parse_constant=_reject_non_json_number)
    except json.JSONDecodeError as exc:
        raise EventRejected(RejectReason.MALFORMED_JSON,
                            f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
    except RecursionError:
        raise EventRejected(RejectReason.MALFORMED_JSON, "not valid JSON: nested too deeply") from None
    except ValueError as exc:  # from _reject_non_json_number
        raise EventRejected(RejectReason.MALFORMED_JSON, f"not valid JSON: {exc}") from None
    return validate_event(document)


def _reject_non_json_number(constant: str) -> float:
    # Python's json accepts NaN and Infinity; JSON does not, and an infinite amount would poison scores.
    raise ValueError(f"{constant} is not a JSON number")


def validate_event(document: object) -> RelationshipEvent:
    if not isinstance(document, dict):
        raise EventRejected(RejectReason.NOT_AN_OBJECT, f"an event is a JSON object, got {type(document).__name__}")
    version = document.get("schema_version")
    # isinstance first: a list or object here is unhashable and must be rejected, not crash the membership test.
    if not isinstance(version, str) or version not in SUPPORTED_SCHEMA_VERSIONS:
        raise EventRejected(RejectReason.UNKNOWN_SCHEMA_VERSION,
                            f"schema_version {version!r} is not supported; supported: "
                            f"{sorted(SUPPORTED_SCHEMA_VERSIONS)}")
    relation_type = document.get("relation_type")
    if not isinstance(relation_type, str) or relation_type not in RelationType._value2member_map_:
        raise EventRejected(RejectReason.UNKNOWN_RELATION_TYPE,
                            f"relation_type {relation_type!r} is not one of {sorted(t.value for t in RelationType)}")
    try:
        return RelationshipEvent.model_validate(document)
    except ValidationError as exc:
        raise _rejection_from(exc) from None


def _rejection_from(exc: ValidationError) -> EventRejected:
    errors = exc.errors(include_url=False)
    first = errors[0]
    violation = (first.get("ctx") or {}).get("error")
    if isinstance(violation, ContractViolation):
        return EventRejected(RejectReason(violation.reason), violation.message)
    location = tuple(str(part) for part in first["loc"])
    reason = next((reason for prefix, reason in _REASON_BY_FIELD if location[: len(prefix)] == prefix),
                  RejectReason.INVALID_EVENT)
    details = "; ".join(f"{'.'.join(str(p) for p in err['loc']) or 'event'}: {err['msg']}" for err in errors[:3])
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return EventRejected(reason, details + more)
