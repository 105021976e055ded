"""parse_event: every seed event passes; every kind of bad input is rejected with its reason code and a message a
person can act on, never with anything but EventRejected."""

from __future__ import annotations

import datetime as dt
import json
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas import EventRejected, RejectReason, parse_event, validate_event, validation
from schemas.events import RelationshipEvent
from schemas.validation import _JSON_STRING_OR_BRACKET, DEFAULT_MAX_EVENT_BYTES, json_nesting_depth


def rejection(raw: bytes, **kwargs) -> EventRejected:
    with pytest.raises(EventRejected) as caught:
        parse_event(raw, **kwargs)
    return caught.value


def assert_readable(rejected: EventRejected) -> None:
    assert not rejected.unexpected, f"the safety net caught what no check foresaw: {rejected.message}"
    assert rejected.message.strip()
    assert "Traceback" not in rejected.message
    assert str(rejected).startswith(f"{rejected.reason.value}: ")


def encoded(document: object) -> bytes:
    return json.dumps(document).encode()


def test_every_seed_event_validates(seed_lines):
    events = [parse_event(line) for line in seed_lines]
    assert len({event.event_id for event in events}) == len(events)


def test_every_hand_written_and_documented_example_validates(handwritten_documents, doc_examples):
    for document in handwritten_documents + doc_examples:
        validate_event(document)


@pytest.mark.parametrize(("raw", "reason", "says"), [
    (b'{"schema_version": "1.0", "event_id": ', RejectReason.MALFORMED_JSON, "line 1"),
    (b"", RejectReason.MALFORMED_JSON, "not valid JSON"),
    (b'{"confidence": NaN}', RejectReason.MALFORMED_JSON, "NaN"),
    (b'{"amount": Infinity}', RejectReason.MALFORMED_JSON, "Infinity"),
    (b"[" * 50_000, RejectReason.NESTING_TOO_DEEP, "more than 16 levels"),
    (b'{"name": "caf\xe9"}', RejectReason.ENCODING_ERROR, "not UTF-8"),
    (b"\xff\xfe{\x00}\x00", RejectReason.ENCODING_ERROR, "byte 0"),
    (b"[1, 2]", RejectReason.NOT_AN_OBJECT, "got list"),
    (b'"an event"', RejectReason.NOT_AN_OBJECT, "got str"),
    (b"null", RejectReason.NOT_AN_OBJECT, "got NoneType"),
])
def test_unparseable_bytes_are_rejected(raw, reason, says):
    rejected = rejection(raw)
    assert rejected.reason is reason
    assert says in rejected.message
    assert_readable(rejected)
    assert "\n" not in rejected.message


def test_oversized_payload_is_rejected_before_parsing(valid_event):
    document = valid_event()
    document["provenance"]["quote"] = "x" * DEFAULT_MAX_EVENT_BYTES
    rejected = rejection(encoded(document))
    assert rejected.reason is RejectReason.PAYLOAD_TOO_LARGE
    assert str(DEFAULT_MAX_EVENT_BYTES) in rejected.message
    assert rejection(encoded(valid_event()), max_bytes=100).reason is RejectReason.PAYLOAD_TOO_LARGE


def with_source(valid_event, **fields) -> dict:
    document = valid_event()
    document["source"].update(fields)
    return document


def with_provenance(valid_event, **fields) -> dict:
    document = valid_event()
    document["provenance"].update(fields)
    return document


def without(document: dict, *path: str) -> dict:
    *parents, last = path
    node = document
    for key in parents:
        node = node[key]
    del node[last]
    return document


OCCUPANCY_OF_A_COMPANY = dict(
    relation_type="occupancy",
    source={"id": "trump", "schema": "Person", "name": "Donald Trump"},
    target={"id": "wlf", "schema": "Company", "name": "World Liberty Financial"},
    properties={})


# (case id, builds a document from the valid_event factory, reason, words the message must contain)
BAD_DOCUMENTS = [
    ("unknown schema version", lambda ev: ev(schema_version="2.0"), RejectReason.UNKNOWN_SCHEMA_VERSION, "'2.0'"),
    ("no schema version", lambda ev: without(ev(), "schema_version"), RejectReason.UNKNOWN_SCHEMA_VERSION, "None"),
    ("schema version a list", lambda ev: ev(schema_version=["1.0"]), RejectReason.UNKNOWN_SCHEMA_VERSION, "supported"),
    # "schema_version 1.0 is not supported; supported: ['1.0', '1.1']" contradicted itself
    ("schema version a number", lambda ev: ev(schema_version=1.0), RejectReason.UNKNOWN_SCHEMA_VERSION,
     "schema_version 1.0 (a JSON number, not a string) is not supported"),
    ("schema version a boolean", lambda ev: ev(schema_version=True), RejectReason.UNKNOWN_SCHEMA_VERSION,
     "schema_version true (a JSON boolean, not a string) is not supported"),
    ("schema version an array", lambda ev: ev(schema_version=["1.0"]), RejectReason.UNKNOWN_SCHEMA_VERSION,
     "schema_version (a JSON array, not a string) is not supported"),
    ("unknown relation type", lambda ev: ev(relation_type="bribes"), RejectReason.UNKNOWN_RELATION_TYPE, "bribes"),
    ("relation type an object", lambda ev: ev(relation_type={}), RejectReason.UNKNOWN_RELATION_TYPE, "ownership"),
    ("missing source", lambda ev: without(ev(), "source"), RejectReason.INVALID_ENDPOINT, "source"),
    ("missing target", lambda ev: without(ev(), "target"), RejectReason.INVALID_ENDPOINT, "target"),
    ("endpoint without id", lambda ev: without(ev(), "target", "id"), RejectReason.INVALID_ENDPOINT, "target.id"),
    ("endpoint of unknown schema", lambda ev: with_source(ev, schema="Vessel"), RejectReason.INVALID_ENDPOINT,
     "source.schema"),
    ("occupancy of a company", lambda ev: ev(**OCCUPANCY_OF_A_COMPANY), RejectReason.INVALID_ENDPOINT, "Position"),
    ("ownership by a security", lambda ev: with_source(ev, schema="Security"), RejectReason.INVALID_ENDPOINT,
     "ownership source"),
    ("source is target", lambda ev: with_source(ev, id="binance"), RejectReason.INVALID_ENDPOINT, "same entity"),
    ("id with spaces", lambda ev: with_source(ev, id="changpeng zhao"), RejectReason.INVALID_ENDPOINT, "source.id"),
    ("unknown topic", lambda ev: with_source(ev, topics=["role.pepp"]), RejectReason.INVALID_ENDPOINT, "role.pepp"),
    ("upper-case country", lambda ev: with_source(ev, country="US"), RejectReason.INVALID_ENDPOINT,
     "source.country"),
    ("percentage over 100", lambda ev: ev(properties={"percentage": 150}), RejectReason.INVALID_PROPERTY,
     "properties.percentage"),
    ("negative percentage", lambda ev: ev(properties={"percentage": -0.5}), RejectReason.INVALID_PROPERTY,
     "greater than or equal to 0"),
    ("property the type does not accept", lambda ev: ev(properties={"amount": 5}), RejectReason.INVALID_PROPERTY,
     "ownership does not take ['amount']"),
    ("family with a stake", lambda ev: ev(relation_type="family", target={"id": "eric", "schema": "Person",
                                                                          "name": "Eric Trump"},
                                          properties={"percentage": 10}),
     RejectReason.INVALID_PROPERTY, "family does not take ['percentage']"),
    ("lower-case currency", lambda ev: ev(relation_type="payment", properties={"amount": 1, "currency": "usd"}),
     RejectReason.INVALID_PROPERTY, "properties.currency"),
    ("currency starting with a digit", lambda ev: ev(relation_type="payment",
                                                     properties={"amount": 1, "currency": "1INCH"}),
     RejectReason.INVALID_PROPERTY, "properties.currency"),
    ("currency of two letters", lambda ev: ev(relation_type="payment", properties={"amount": 1, "currency": "US"}),
     RejectReason.INVALID_PROPERTY, "properties.currency"),
    ("unknown property", lambda ev: ev(properties={"stake": 10}), RejectReason.INVALID_PROPERTY,
     "properties.stake"),
    ("end before start", lambda ev: ev(start_date="2024-05-01", end_date="2024-04-30"), RejectReason.INVALID_DATES,
     "before start_date"),
    ("impossible date", lambda ev: ev(start_date="2024-02-30"), RejectReason.INVALID_DATES, "start_date"),
    ("partial date", lambda ev: ev(end_date="2024-05"), RejectReason.INVALID_DATES, "end_date"),
    ("confidence over 1", lambda ev: with_provenance(ev, confidence=1.5), RejectReason.INVALID_CONFIDENCE,
     "provenance.confidence"),
    ("negative confidence", lambda ev: with_provenance(ev, confidence=-0.1), RejectReason.INVALID_CONFIDENCE,
     "greater than or equal to 0"),
    ("confidence missing", lambda ev: without(ev(), "provenance", "confidence"), RejectReason.INVALID_CONFIDENCE,
     "Field required"),
    ("unknown field", lambda ev: ev(relation_strength=0.9), RejectReason.INVALID_EVENT, "relation_strength"),
    ("unknown provenance field", lambda ev: with_provenance(ev, author="x"), RejectReason.INVALID_EVENT,
     "provenance.author"),
    ("missing observed_at", lambda ev: without(ev(), "observed_at"), RejectReason.INVALID_EVENT, "observed_at"),
    ("unknown op", lambda ev: ev(op="delete"), RejectReason.INVALID_EVENT, "op"),
    ("unknown status", lambda ev: ev(status="rumoured"), RejectReason.INVALID_EVENT, "status"),
    ("empty event id", lambda ev: ev(event_id=""), RejectReason.INVALID_EVENT, "event_id"),
]


@pytest.mark.parametrize(("build", "reason", "says"), [case[1:] for case in BAD_DOCUMENTS],
                         ids=[case[0] for case in BAD_DOCUMENTS])
def test_bad_events_are_rejected_with_their_reason(valid_event, build, reason, says):
    rejected = rejection(encoded(build(valid_event)))
    assert rejected.reason is reason, rejected.message
    assert says in rejected.message
    assert_readable(rejected)
    assert "\n" not in rejected.message


@pytest.mark.parametrize("currency", ["EUR", "USDT", "USDC", "USD1", "FDUSD", "BTC"])
def test_a_currency_is_an_iso_code_or_a_crypto_assets_ticker(valid_event, currency):
    """Stablecoins are how much of the money in crypto cases moves: a payment in USDT or USD1 was refused."""
    event = parse_event(encoded(valid_event(relation_type="payment",
                                            properties={"amount": 1_000_000, "currency": currency})))
    assert event.properties.currency == currency


def test_many_errors_are_summarised(valid_event):
    document = valid_event(event_id="", relation_id="", observed_at="yesterday", status="rumoured", op="delete")
    rejected = rejection(encoded(document))
    assert rejected.message.endswith("(and 2 more)")


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12)


@settings(max_examples=200, deadline=None)
@given(raw=st.binary(max_size=300))
def test_arbitrary_bytes_never_escape_as_anything_but_a_rejection(raw):
    try:
        parse_event(raw)
    except EventRejected as rejected:
        assert_readable(rejected)


@settings(max_examples=300, deadline=None)
@given(path=st.sampled_from([
    ("schema_version",), ("event_id",), ("op",), ("relation_id",), ("relation_type",), ("source",),
    ("source", "schema"), ("source", "topics"), ("target",), ("target", "id"), ("properties",),
    ("properties", "percentage"), ("properties", "role"), ("start_date",), ("end_date",), ("status",),
    ("observed_at",), ("provenance",), ("provenance", "confidence"), ("provenance", "extractor"),
]), value=JSON_VALUES)
def test_any_value_in_any_field_is_accepted_or_rejected_readably(seed_documents, path, value):
    document = json.loads(json.dumps(seed_documents[0]))
    node = document
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    try:
        parse_event(encoded(document))
    except EventRejected as rejected:
        assert_readable(rejected)


def test_times_without_a_utc_offset_are_rejected(valid_event):
    # Event time orders versions of a relation; a naive time cannot be compared with the others.
    rejected = rejection(encoded(valid_event(observed_at="2025-05-26T08:00:00")))
    assert rejected.reason is RejectReason.INVALID_EVENT
    assert "observed_at" in rejected.message and "timezone" in rejected.message
    assert_readable(rejected)


# -- poison messages: nothing but EventRejected, whatever the bytes (issue 11) ---------------------------------------

def nested(depth: int, inner: str = "1") -> str:
    return "[" * depth + inner + "]" * depth


def test_a_null_value_is_rejected_with_its_own_reason():
    rejected = rejection(None)
    assert rejected.reason is RejectReason.NULL_VALUE
    assert "retract" in rejected.message
    assert_readable(rejected)


@pytest.mark.parametrize("depth", [17, 970, 100_000])
def test_deep_nesting_is_rejected_before_parsing_without_recursion(valid_event, depth):
    document = valid_event()
    document["properties"] = {"summary": "x"}
    raw = encoded(document).replace(b'"x"', nested(depth).encode())
    rejected = rejection(raw, max_bytes=10**6)
    assert rejected.reason is RejectReason.NESTING_TOO_DEEP
    assert "more than 16 levels" in rejected.message
    assert_readable(rejected)


def test_the_depth_scan_counts_what_json_nests():
    assert json_nesting_depth('{"a": [1, {"b": []}], "c": {}}') == 4
    assert json_nesting_depth('["[[[", "\\"[[", {"]": "}"}]') == 2
    assert json_nesting_depth("[" * 100, stop_above=16) == 17


def test_a_string_left_open_is_scanned_once_to_the_end():
    # Unmatched, an open string made the scan start again at each of its quotes and read to the end each time:
    # a 64 KiB message of escaped quotes and a few brackets held the worker's event loop for 19 s.
    text = '"' + '\\"' * 5 + "[" * 17
    assert [match.group() for match in _JSON_STRING_OR_BRACKET.finditer(text)] == [text]
    assert json_nesting_depth(text) == 0
    assert json_nesting_depth('["a", "b\\') == 1  # a trailing backslash is part of the open string


def test_a_largest_message_of_escaped_quotes_is_malformed_json_not_too_deep():
    raw = ('"' + '\\"' * ((DEFAULT_MAX_EVENT_BYTES - 18) // 2) + "[" * 17).encode()
    assert len(raw) <= DEFAULT_MAX_EVENT_BYTES
    assert rejection(raw).reason is RejectReason.MALFORMED_JSON


def test_brackets_inside_strings_do_not_count_as_nesting(valid_event):
    quote = "[{" * 200 + '\\"]' + "}]" * 200
    document = with_provenance(valid_event, quote=quote)
    assert parse_event(encoded(document)).provenance.quote == quote


def test_a_deep_python_document_is_rejected_too():
    document: dict = {"schema_version": "1.0", "relation_type": "ownership"}
    node = document
    for _ in range(5000):  # deeper than the recursion limit
        node["properties"] = {}
        node = node["properties"]
    with pytest.raises(EventRejected) as caught:
        validate_event(document)
    assert caught.value.reason is RejectReason.NESTING_TOO_DEEP


def test_duplicate_keys_are_rejected_not_last_wins(valid_event):
    raw = encoded(valid_event()).replace(b'"op": "upsert"', b'"op": "upsert", "op": "retract"')
    assert b'"op": "retract"' in raw
    rejected = rejection(raw)
    assert rejected.reason is RejectReason.DUPLICATE_KEY
    assert "'op'" in rejected.message
    nested_duplicate = encoded(valid_event()).replace(b'"confidence": ', b'"confidence": 0.1, "confidence": ')
    assert rejection(nested_duplicate).reason is RejectReason.DUPLICATE_KEY


def test_invalid_utf8_and_lone_surrogates_are_rejected(valid_event):
    raw = encoded(valid_event())
    name_at = raw.index(b'"name": "') + len(b'"name": "')
    for invalid in (b"\xed\xa0\x80", b"\xc0\xaf", b"\xf4\x90\x80\x80", b"\xe2\x82"):  # surrogate, overlong, > U+10FFFF
        rejected = rejection(raw[:name_at] + invalid + raw[name_at:])
        assert rejected.reason is RejectReason.ENCODING_ERROR, invalid
        assert_readable(rejected)
    escaped = raw[:name_at] + b"\\ud800" + raw[name_at:]  # valid UTF-8 JSON whose string is not valid Unicode
    rejected = rejection(escaped)
    assert "unicode string" in rejected.message
    assert_readable(rejected)


@pytest.mark.parametrize(("field", "value", "reason"), [
    ("observed_at", "0001-01-01T00:00:00+01:00", RejectReason.INVALID_EVENT),  # before year 1 in UTC
    ("observed_at", "9999-12-31T23:59:59-01:00", RejectReason.INVALID_EVENT),  # after year 9999 in UTC
    ("observed_at", "9999-12-31T00:00:00+00:00", RejectReason.INVALID_EVENT),
    ("observed_at", "1000-01-01T01:00:00+02:00", RejectReason.INVALID_EVENT),  # 999-12-31 in UTC
    ("start_date", "0001-01-01", RejectReason.INVALID_DATES),
    ("end_date", "9999-12-31", RejectReason.INVALID_DATES),
])
def test_extreme_dates_and_times_are_invalid_input(valid_event, field, value, reason):
    rejected = rejection(encoded(valid_event(**{field: value})))
    assert rejected.reason is reason
    assert field in rejected.message
    assert_readable(rejected)


def test_extreme_retrieval_times_are_invalid_input(valid_event):
    rejected = rejection(encoded(with_provenance(valid_event, retrieved_at="9999-12-31T23:59:59-23:59")))
    assert rejected.reason is RejectReason.INVALID_EVENT and "retrieved_at" in rejected.message


def test_the_edges_of_the_date_range_are_accepted(valid_event):
    assert parse_event(encoded(valid_event(start_date="1000-01-01", end_date="2999-12-31"))).end_date.year == 2999


OFFSETS = st.timedeltas(min_value=dt.timedelta(hours=-23, minutes=-59), max_value=dt.timedelta(hours=23, minutes=59))
# the ends of the calendar, where an offset overflows, as often as the rest of it
MOMENTS = st.sampled_from([dt.datetime(1, 1, 1), dt.datetime(9999, 12, 31, 23, 59)]) | st.datetimes()
TIMES = st.builds(lambda moment, offset: moment.replace(tzinfo=dt.timezone(offset)).isoformat(), MOMENTS,
                  OFFSETS.map(lambda d: dt.timedelta(minutes=d // dt.timedelta(minutes=1))))
DATES = (st.sampled_from([dt.date.min, dt.date.max]) | st.dates()).map(dt.date.isoformat)
FUZZ_VALUES = JSON_VALUES | TIMES | DATES | st.integers(0, 3000).map(lambda depth: json.loads(nested(min(depth, 900))))
VALUES_BY_FIELD = {"observed_at": TIMES, "retrieved_at": TIMES, "start_date": DATES | st.none(),
                   "end_date": DATES | st.none()}
FUZZ_PATHS = [
    ("observed_at",), ("start_date",), ("end_date",), ("provenance", "retrieved_at"), ("event_id",), ("op",),
    ("relation_id",), ("relation_type",), ("source",), ("source", "topics"), ("target", "id"), ("properties",),
    ("properties", "percentage"), ("properties", "amount"), ("status",), ("provenance", "confidence"),
    ("provenance", "quote"), ("schema_version",),
]


@st.composite
def hostile_messages(draw, documents: list[dict]) -> bytes:
    """A seed event with some fields replaced, then perhaps a duplicated key or a byte-level splice."""
    document = json.loads(json.dumps(draw(st.sampled_from(documents))))
    for path in draw(st.lists(st.sampled_from(FUZZ_PATHS), max_size=3)):
        node = document
        for key in path[:-1]:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node[path[-1]] = draw(VALUES_BY_FIELD.get(path[-1], FUZZ_VALUES))
    raw = json.dumps(document).encode()
    mutation = draw(st.sampled_from(["none", "none", "none", "duplicate", "splice", "truncate"]))
    if mutation == "duplicate":
        raw = raw.replace(b"{", b'{"op": "retract", ', 1)
    elif mutation == "splice":
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + draw(st.binary(min_size=1, max_size=8)) + raw[at:]
    elif mutation == "truncate":
        raw = raw[: draw(st.integers(0, len(raw)))]
    return raw


@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_fuzzed_messages_are_accepted_or_rejected_never_anything_else(seed_documents, data):
    raw = data.draw(hostile_messages(seed_documents))
    try:
        event = parse_event(raw, max_bytes=10**6)
    except EventRejected as rejected:
        assert_readable(rejected)
        return
    # what is accepted is safe to use: its times convert to UTC and it serialises
    event.observed_at.astimezone(dt.UTC)
    event.provenance.retrieved_at.astimezone(dt.UTC)
    event.model_dump_json()


# -- the fast path decides exactly what the reference path decides (schemas.validation module docstring) ------------

def decision(raw: bytes) -> tuple:
    """What parse_event makes of `raw`: the event (with its serialised form and the fields each object was given,
    which `set_fields` and the content digest read), or the rejection."""
    try:
        event = parse_event(raw, max_bytes=10**6)
    except EventRejected as rejected:
        return "rejected", rejected.reason, rejected.message, rejected.unexpected
    given = [model.__pydantic_fields_set__ for model in (event, event.source, event.target, event.properties,
                                                          event.provenance, event.provenance.extractor)]
    return "accepted", event, event.model_dump_json(), given


def reference_decision(raw: bytes) -> tuple:
    with mock.patch.object(validation, "_validated_at_once", return_value=None):  # the reference path alone
        return decision(raw)


def test_the_fast_path_is_taken_for_ordinary_events(seed_lines):
    assert all(validation._validated_at_once(line.decode()) is not None for line in seed_lines)


def test_a_repeated_key_is_never_accepted_by_the_fast_path(valid_event):
    raw = encoded(valid_event())
    repeats = [raw.replace(b'"op": "upsert"', b'"op": "retract" , "op"  :"upsert"'),
               raw.replace(b'"confidence": ', b'"confidence":0.1,"confidence" \n: '),
               raw.replace(b'"source": {', b'"source": {"name": "x\\" y", '),  # an escaped quote in the text
               raw.replace(b'"source": {', b'"source": {"name": "x\\\\", '),  # an escaped backslash, then a quote
               raw.replace(b'"source": {', b'"source": {"name": "M\\u00fcller", '),  # an escape without quotes
               raw.replace(b'"properties": {', b'"properties": {}, "properties": {')]
    for repeated in repeats:
        assert validation._validated_at_once(repeated.decode()) is None, repeated
        assert rejection(repeated).reason is RejectReason.DUPLICATE_KEY, repeated


def test_an_escaped_quote_cannot_hide_a_repeated_key(valid_event):
    # Splitting the text at quotes reads an escaped quote as the end of its string, and everything after it as
    # inside-out; with colons placed to make up the difference, a naive key count would match the fields given.
    def armed(extra_colons: int) -> bytes:
        document = valid_event()
        document["source"]["name"] = 'x " y'
        document["target"]["name"] += ":" * extra_colons
        return encoded(document).replace(b'"op": "upsert"', b'"op": "retract", "op": "upsert"')

    def naive_key_count(raw: bytes) -> int:
        return "".join(raw.decode().split('"')[::2]).count(":")

    def fields_given(raw: bytes) -> int:
        return validation._fields_given(RelationshipEvent.model_validate_json(raw))

    missing = fields_given(armed(0)) - naive_key_count(armed(0))
    assert missing > 0
    raw = armed(missing)
    assert naive_key_count(raw) == fields_given(raw)  # the trap is set
    assert validation._validated_at_once(raw.decode()) is None
    assert rejection(raw).reason is RejectReason.DUPLICATE_KEY


NUMBERS = (st.floats(allow_nan=False, allow_infinity=False).map(repr)
           | st.integers(-10**30, 10**30).map(str)
           | st.builds(lambda whole, fraction, exponent: f"{whole}.{fraction}e{exponent}",
                       st.integers(0, 10**6), st.integers(0, 10**25), st.integers(-330, 330)))
NUMBER_FIELDS = [("properties", "percentage"), ("properties", "amount"), ("provenance", "confidence")]
SEPARATORS = st.tuples(st.sampled_from([",", ", ", " ,", ",\n  "]), st.sampled_from([":", ": ", " : ", "\t:"]))


@st.composite
def differently_written_messages(draw, documents: list[dict]) -> bytes:
    """Events written as producers may write them: other spacing, escapes, number spellings; perhaps a repeated
    key, or one of the hostile mutations."""
    if draw(st.booleans()):
        return draw(hostile_messages(documents))
    document = json.loads(json.dumps(draw(st.sampled_from(documents))))
    number_at = {}
    for section, name in draw(st.lists(st.sampled_from(NUMBER_FIELDS), max_size=2)):
        if isinstance(document.get(section), dict):
            marker = f"@number{len(number_at)}@"
            document[section][name] = marker
            number_at[marker] = draw(NUMBERS)
    if draw(st.booleans()):
        document["source"]["name"] = draw(st.text(max_size=12)) or "x"
    raw = json.dumps(document, separators=draw(SEPARATORS), ensure_ascii=draw(st.booleans()))
    for marker, number in number_at.items():
        raw = raw.replace(f'"{marker}"', number)
    if draw(st.booleans()):
        raw = raw.replace(":", "\\u003a", 1) if draw(st.booleans()) else raw.replace("/", "\\/")
    if draw(st.booleans()):
        raw = raw.replace('"event_id"', '"event_id"' + draw(SEPARATORS)[1] + '"x", "event_id"', 1)
    return raw.encode("utf-8", "surrogatepass")


@settings(max_examples=500, deadline=None)
@given(data=st.data())
def test_the_fast_path_and_the_reference_path_decide_alike(seed_documents, handwritten_documents, data):
    raw = data.draw(differently_written_messages(seed_documents + handwritten_documents))
    assert decision(raw) == reference_decision(raw)
