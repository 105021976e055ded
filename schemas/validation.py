"""Turning raw message bytes into a `RelationshipEvent`, or a reason code and a message a person can act on.

The worker dead-letters whatever this rejects; nothing here raises anything but `EventRejected` (a fuzz test in
tests/unit/schemas/test_validation.py holds it to that). Hostile input is bounded before it is parsed: the size
first, then the nesting depth (by a scan that does not recurse), so neither `json.loads` nor pydantic can recurse
deeply on it.

Two paths, one outcome. The fast path validates the text once, in pydantic-core (`model_validate_json`), and
proves afterwards that no object had a duplicate key (pydantic's JSON parser keeps the last one silently). Every
message it does not accept (invalid, or not provably free of duplicates) goes down the reference path, which
parses with Python's json and names the reason; so the fast path decides nothing of its own, and a differential
test holds both paths to the same result on fuzzed input.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re

from pydantic import ValidationError

from schemas.events import SUPPORTED_SCHEMA_VERSIONS, ContractViolation, RelationshipEvent
from schemas.outputs import RejectReason
from schemas.vocabulary import RelationType

DEFAULT_MAX_EVENT_BYTES = 64 * 1024
# A valid event nests 3 levels deep (event > provenance > extractor, or event > source > topics); the margin leaves
# room for contract additions. Anything deeper is rejected before parsing, long before Python's recursion limit.
MAX_NESTING_DEPTH = 16
# Dates and times an event may state. The engine adds horizons and decay steps to dates; near year 1 or 9999 that
# overflows (and an offset can push a time past either end), so a date outside this range is a bad input, not an
# engine failure. No relation we score is older or further ahead.
EARLIEST_DATE = dt.date(1000, 1, 1)
LATEST_DATE = dt.date(2999, 12, 31)

# A string without its closing quote runs to the end of the text: were it not matched at all, the scan would start
# again at each of its quotes and read to the end each time (a 64 KiB message of escaped quotes took 19 s).
_JSON_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]|\\[\s\S])*(?:"|\\?\Z)|[\[\]{}]')
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')

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
    """The one exception `parse_event` raises. `unexpected` marks a failure none of the checks foresaw (a bug in
    them, caught by the safety net so it still ends as a dead letter); the fuzz tests fail on it."""

    def __init__(self, reason: RejectReason, message: str, unexpected: bool = False):
        super().__init__(f"{reason.value}: {message}")
        self.reason = reason
        self.message = message
        self.unexpected = unexpected


class _DuplicateKey(ValueError):
    pass


def parse_event(raw: bytes | None, max_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> RelationshipEvent:
    """The event in `raw`, or `EventRejected`; never any other exception."""
    try:
        return _parse(raw, max_bytes)
    except EventRejected:
        raise
    except Exception as exc:  # a gap in the checks below must still end as a dead letter, not stop the worker
        raise EventRejected(RejectReason.INVALID_EVENT,
                            f"the event could not be read ({type(exc).__name__}); it was not applied",
                            unexpected=True) from None


def _parse(raw: bytes | None, max_bytes: int) -> RelationshipEvent:
    if raw is None:
        raise EventRejected(RejectReason.NULL_VALUE,
                            "the message has no value (a tombstone); events are never deleted: withdraw a relation "
                            "with an event whose op is 'retract'")
    if len(raw) > max_bytes:
        raise EventRejected(RejectReason.PAYLOAD_TOO_LARGE, f"event is {len(raw)} bytes; the limit is {max_bytes}")
    try:
        text = bytes(raw).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EventRejected(RejectReason.ENCODING_ERROR,
                            f"event is not UTF-8: {exc.reason} at byte {exc.start}") from None
    if _nesting_too_deep(text):
        raise EventRejected(RejectReason.NESTING_TOO_DEEP,
                            f"the JSON nests more than {MAX_NESTING_DEPTH} levels deep; an event nests 3")
    event = _validated_at_once(text)
    if event is not None:
        _check_time_range(event)
        return event
    return _parse_reference(text)


def _parse_reference(text: str) -> RelationshipEvent:
    """The event in `text` (UTF-8 and depth already checked), or the reason it is rejected."""
    try:
        document = json.loads(text, parse_constant=_reject_non_json_number, object_pairs_hook=_unique_keys)
    except _DuplicateKey as exc:
        raise EventRejected(RejectReason.DUPLICATE_KEY, str(exc)) from None
    except json.JSONDecodeError as exc:
        raise EventRejected(RejectReason.MALFORMED_JSON,
                            f"not valid JSON: {json_error_at(exc)}") from None
    except RecursionError:  # unreachable after the depth check; kept so a regression cannot stop the worker
        raise EventRejected(RejectReason.NESTING_TOO_DEEP, "the JSON nests too deeply to parse") from None
    except ValueError as exc:  # from _reject_non_json_number
        raise EventRejected(RejectReason.MALFORMED_JSON, f"not valid JSON: {exc}") from None
    return _validate(document)  # the text scan above bounded the depth already


def _validated_at_once(text: str) -> RelationshipEvent | None:
    """The event, validated from the text in one pass, if it is valid and no object in it repeats a key; else None
    (the reference path then decides, and words the reason)."""
    try:
        event = RelationshipEvent.model_validate_json(text, by_name=False)
    except Exception:  # noqa: BLE001 - whatever it is, the reference path reports it as before
        return None
    return event if _key_count(text) == _fields_given(event) else None


def _key_count(text: str) -> int:
    """How many keys the JSON text writes: the colons outside strings (valid JSON has no other)."""
    if '\\"' in text:  # a quote after a backslash may be escaped, and `split` would end its string there
        return _JSON_STRING.sub("", text).count(":")
    return "".join(text.split('"')[::2]).count(":")  # outside strings: the even pieces between quotes


def _fields_given(event: RelationshipEvent) -> int:
    """How many keys the validated event was given, over every object in it. Unknown keys are refused, so each key
    of each object of a valid event sets one field; a repeated key sets its field once and counts one less."""
    given = len(event.__pydantic_fields_set__)
    for ref in (event.source, event.target):
        given += len(ref.__pydantic_fields_set__)
        for identifier in ref.identifiers:
            given += len(identifier.__pydantic_fields_set__)
    provenance = event.provenance
    return (given + len(event.properties.__pydantic_fields_set__) + len(provenance.__pydantic_fields_set__)
            + len(provenance.extractor.__pydantic_fields_set__))


def json_nesting_depth(text: str, stop_above: int | None = None) -> int:
    """The deepest nesting of arrays and objects in `text`, brackets inside strings not counted; with `stop_above`,
    the scan ends as soon as the depth passes it. Iterative, so it is safe on any input; on malformed JSON it may
    over-count, which only rejects what json.loads would reject."""
    depth = deepest = 0
    for match in _JSON_STRING_OR_BRACKET.finditer(text):
        token = match.group()
        if token in ("[", "{"):
            depth += 1
            if depth > deepest:
                deepest = depth
                if stop_above is not None and deepest > stop_above:
                    break
        elif token in ("]", "}"):
            depth -= 1
    return deepest


def _nesting_too_deep(text: str) -> bool:
    if text.count("[") + text.count("{") <= MAX_NESTING_DEPTH:  # the common case, decided at C speed
        return False
    return json_nesting_depth(text, stop_above=MAX_NESTING_DEPTH) > MAX_NESTING_DEPTH


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    # Python's json keeps the last of duplicate keys; two parsers could then read two different events from the
    # same bytes (an auditor's tool may keep the first), so a duplicate is refused.
    document = dict(pairs)
    if len(document) != len(pairs):
        seen: set[str] = set()
        duplicate = next(key for key, _ in pairs if key in seen or seen.add(key))
        raise _DuplicateKey(f"the key {duplicate[:100]!r} appears more than once in one object")
    return document


def _reject_non_json_number(constant: str) -> float:
    # Python's json accepts NaN and Infinity; JSON does not, and an infinite amount would poison scores.
    raise ValueError(f"{constant} is not a JSON number")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):  # 1e400 parses as infinity
        raise ValueError(f"number out of range: {text[:40]}")
    return number


def finite_json(text: str | bytes):
    """`json.loads`, refusing (ValueError) NaN, Infinity, numbers beyond a float and a key repeated in one object
    (which Python would read as its last value, and another reader as its first): for the project's own files and
    records (a portable state, a bulk-load record), which never hold them and would fail further on."""
    return json.loads(text, parse_constant=_reject_non_json_number, parse_float=_finite, object_pairs_hook=_unique_keys)


def validate_event(document: object) -> RelationshipEvent:
    """Validates a parsed JSON document; raises only `EventRejected` for any document, however deep."""
    depth = _document_depth(document)
    if depth > MAX_NESTING_DEPTH:
        raise EventRejected(RejectReason.NESTING_TOO_DEEP,
                            f"the event nests more than {MAX_NESTING_DEPTH} levels deep; an event nests 3")
    return _validate(document)


def json_error_at(exc: json.JSONDecodeError, one_line: bool = False) -> str:
    """The parser's complaint with where: "Expecting ',' delimiter at line 1 column 9" (`one_line`: "at column 9",
    for a line a caller numbers itself); its messages that end in "at" ("Unterminated string starting at") take
    the place without a second one."""
    joiner = " " if exc.msg.endswith(" at") else " at "
    where = f"column {exc.colno}" if one_line and exc.lineno == 1 else f"line {exc.lineno} column {exc.colno}"
    return f"{exc.msg}{joiner}{where}"


def _json_type(value: object) -> str:
    return {bool: "boolean", int: "number", float: "number", list: "array", dict: "object"}.get(type(value), "value")


def _validate(document: object) -> RelationshipEvent:
    if not isinstance(document, dict):
        raise EventRejected(RejectReason.NOT_AN_OBJECT, f"an event is a JSON object, got {type(document).__name__}")
    version = document.get("schema_version")
    # isinstance first: a list or object here is unhashable and must be rejected, not crash the membership test.
    if not isinstance(version, str) or version not in SUPPORTED_SCHEMA_VERSIONS:
        # a number or another JSON type names a version as a string would ("1.0" and 1.0 read alike): say which
        if version is None or isinstance(version, str):
            given = f"schema_version {version!r}"
        elif isinstance(version, (bool, int, float)):
            given = f"schema_version {json.dumps(version)[:40]} (a JSON {_json_type(version)}, not a string)"
        else:
            given = f"schema_version (a JSON {_json_type(version)}, not a string)"
        raise EventRejected(RejectReason.UNKNOWN_SCHEMA_VERSION,
                            f"{given} is not supported; supported: {sorted(SUPPORTED_SCHEMA_VERSIONS)}")
    relation_type = document.get("relation_type")
    if not isinstance(relation_type, str) or relation_type not in RelationType._value2member_map_:
        raise EventRejected(RejectReason.UNKNOWN_RELATION_TYPE,
                            f"relation_type {relation_type!r} is not one of {sorted(t.value for t in RelationType)}")
    try:
        # by_name=False: `schema_` is a Python name (EntityRef(schema_=...)), not a key of the contract
        event = RelationshipEvent.model_validate(document, by_name=False)
    except ValidationError as exc:
        raise _rejection_from(exc) from None
    _check_time_range(event)
    return event


def _document_depth(document: object) -> int:
    """Nesting depth of a Python document, without recursion, stopping once past the limit."""
    deepest, stack = 0, [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list | tuple):
            deepest = max(deepest, depth)
            if deepest > MAX_NESTING_DEPTH:
                return deepest
            stack.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
    return deepest


def _check_time_range(event: RelationshipEvent) -> None:
    dates = (("start_date", event.start_date, RejectReason.INVALID_DATES),
             ("end_date", event.end_date, RejectReason.INVALID_DATES))
    for name, value, reason in dates:
        if value is not None and not EARLIEST_DATE <= value <= LATEST_DATE:
            raise EventRejected(reason, f"{name} {value} is outside {EARLIEST_DATE}..{LATEST_DATE}")
    times = (("observed_at", event.observed_at), ("provenance.retrieved_at", event.provenance.retrieved_at))
    for name, moment in times:
        if EARLIEST_DATE.year < moment.year < LATEST_DATE.year:
            continue  # an offset (under a day) cannot carry it out of the range: no conversion needed
        try:
            day = moment.astimezone(dt.UTC).date()
        except (OverflowError, ValueError):  # an offset pushed it past year 1 or 9999
            day = None
        if day is None or not EARLIEST_DATE <= day <= LATEST_DATE:
            raise EventRejected(RejectReason.INVALID_EVENT,
                                f"{name} {moment.isoformat()} is outside {EARLIEST_DATE}..{LATEST_DATE} (in UTC)")


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
