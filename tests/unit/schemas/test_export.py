"""The committed JSON Schemas are what the models export, and they agree with the models on real events."""

from __future__ import annotations

import copy
import datetime as dt
import json

import jsonschema
import pytest

from schemas import DeadLetter, EventRejected, RejectReason, RiskScore, validate_event
from schemas.events import FTM_TOPICS_FILE, ftm_topics
from schemas.export import CONTRACTS, SCHEMA_DIR, json_schema, render, render_topics, write_all


@pytest.mark.parametrize("name", list(CONTRACTS))
def test_committed_schema_is_what_the_models_export(name):
    committed = SCHEMA_DIR / f"{name}.json"
    assert committed.exists(), f"{committed} is missing: run `coi-risk schema --write`"
    assert committed.read_text() == render(name), (
        f"{committed} is out of date with the models: run `coi-risk schema --write` and commit the result")


@pytest.mark.parametrize("name", list(CONTRACTS))
def test_exported_schemas_are_valid_draft_2020_12(name):
    schema = json_schema(name)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$id"].endswith(f"/{name}.json")


def test_write_all_writes_one_file_per_contract_and_the_topic_list(tmp_path):
    written = write_all(tmp_path)
    assert sorted(path.name for path in written) == sorted([f"{name}.json" for name in CONTRACTS]
                                                           + [FTM_TOPICS_FILE.name])
    for path in written:
        if path.name != FTM_TOPICS_FILE.name:
            assert path.read_text() == render(path.stem)


def test_committed_topic_list_is_the_installed_followthemoneys():
    assert FTM_TOPICS_FILE.read_text() == render_topics(), (
        f"{FTM_TOPICS_FILE} is out of date with followthemoney: run `coi-risk schema --write` and commit the result")
    assert "role.pep" in ftm_topics() and "role.rca" in ftm_topics()


def test_examples_validate_with_jsonschema_and_with_the_models(all_examples, event_json_schema_validator):
    for doc in all_examples:
        errors = [error.message for error in event_json_schema_validator.iter_errors(doc)]
        assert not errors, (doc["event_id"], errors)
        validate_event(doc)


def mutate(doc: dict, path: tuple[str, ...], value) -> dict:
    changed = copy.deepcopy(doc)
    node = changed
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return changed


# Rules the JSON Schema states: an extractor validating against it is refused what the worker refuses.
BOTH_REFUSE = [
    ("occupancy of a company", ("relation_type",), "occupancy"),
    ("ownership by a security", ("source", "schema"), "Security"),
    ("property the type does not accept", ("properties",), {"amount": 10}),
    ("percentage over 100", ("properties", "percentage"), 101),
    ("confidence over 1", ("provenance", "confidence"), 1.01),
    ("unknown topic", ("source", "topics"), ["role.pepp"]),
    ("unknown field", ("weight",), 1),
    ("unknown schema version", ("schema_version",), "9.9"),
    ("unknown relation type", ("relation_type",), "bribes"),
    ("impossible date", ("start_date",), "2024-02-30"),
    ("bad identifier", ("relation_id",), "has spaces"),
]


@pytest.mark.parametrize(("path", "value"), [case[1:] for case in BOTH_REFUSE], ids=[c[0] for c in BOTH_REFUSE])
def test_jsonschema_and_models_refuse_the_same_mistakes(seed_documents, event_json_schema_validator, path, value):
    doc = mutate(seed_documents[0], path, value)
    assert not event_json_schema_validator.is_valid(doc)
    with pytest.raises(EventRejected):
        validate_event(doc)


@pytest.mark.parametrize(("path", "value", "reason"), [
    (("target", "id"), "cz", RejectReason.INVALID_ENDPOINT),
    (("end_date",), "2017-06-30", RejectReason.INVALID_DATES),
])
def test_rules_only_the_worker_checks(seed_documents, event_json_schema_validator, path, value, reason):
    """docs/events.md names these as beyond JSON Schema; if the schema learns them, update the docs."""
    doc = mutate(seed_documents[0], path, value)
    assert event_json_schema_validator.is_valid(doc)
    with pytest.raises(EventRejected) as caught:
        validate_event(doc)
    assert caught.value.reason is reason


def test_every_relation_type_has_its_rule_in_the_schema():
    rules = json_schema("relationship-event")["allOf"]
    named = [rule["if"]["properties"]["relation_type"]["const"] for rule in rules]
    assert named == json_schema("relationship-event")["$defs"]["RelationType"]["enum"]


def output_validator(name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads((SCHEMA_DIR / f"{name}.json").read_text()))


def test_output_contracts_validate_what_the_models_write():
    letter = DeadLetter(reason=RejectReason.MALFORMED_JSON, message="not valid JSON", original_value="e30=",
                        topic="coi-relationship-events", partition=0, offset=7)
    score = RiskScore(actor_id="trump", actor_name="Donald Trump", counterparty_id="binance",
                      counterparty_name="Binance", score=0.0, band="none", rules=(), authority_paths=(),
                      commercial_paths=(), as_of=dt.date(2025, 5, 26), graph_version=3)
    for name, model in (("dead-letter", letter), ("risk-score", score)):
        output_validator(name).validate(json.loads(model.model_dump_json()))


def _rfc3339_checker() -> jsonschema.FormatChecker:
    """The draft's format checker, with `date-time` asserted as RFC 3339 (section 5.6) even where the optional
    rfc3339-validator package is not installed: what a strict extractor-side validator checks."""
    import re

    checker = jsonschema.FormatChecker()  # a copy: the shared checker stays as it is
    grammar = re.compile(r"\A\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})\Z")

    @checker.checks("date-time")
    def _date_time(value) -> bool:
        return not isinstance(value, str) or bool(grammar.match(value))

    return checker


# What the worker used to accept by pydantic's lax coercion although the JSON Schema refuses it: an extractor that
# sends it passes the worker and fails every validator downstream (and a string "1.1" read as a Unix time is a
# silent misreading, not a value anyone stated).
WORKER_REFUSES_TOO = [
    ("confidence as a string", ("provenance", "confidence"), "0.95"),
    ("confidence as a boolean", ("provenance", "confidence"), True),
    ("percentage as a string", ("properties", "percentage"), "50"),
    ("observed_at as a number", ("observed_at",), 1748246400),
    ("observed_at as a numeric string", ("observed_at",), "1748246400"),
    ("observed_at without seconds", ("observed_at",), "2025-05-26T08:00Z"),
    ("observed_at offset without colon", ("observed_at",), "2025-05-26T08:00:00+0000"),
    ("retrieved_at as a number", ("provenance", "retrieved_at"), 1748246400),
    ("start_date as a number", ("start_date",), 1498867200),
    ("start_date as a time", ("start_date",), "2017-07-01T00:00:00"),
    ("start_date as a numeric string", ("start_date",), "1498867200"),
]


@pytest.mark.parametrize(("path", "value"), [case[1:] for case in WORKER_REFUSES_TOO],
                         ids=[c[0] for c in WORKER_REFUSES_TOO])
def test_the_worker_refuses_what_the_json_schema_refuses(seed_documents, path, value):
    from schemas import parse_event

    doc = mutate(seed_documents[0], path, value)
    schema = json.loads((SCHEMA_DIR / "relationship-event.json").read_text())
    assert not jsonschema.Draft202012Validator(schema, format_checker=_rfc3339_checker()).is_valid(doc)
    with pytest.raises(EventRejected):
        parse_event(json.dumps(doc).encode())
    with pytest.raises(EventRejected):
        validate_event(doc)


def test_an_endpoint_schema_is_read_only_under_its_json_name(seed_documents, event_json_schema_validator):
    from schemas import parse_event

    source = {("schema_" if key == "schema" else key): value for key, value in seed_documents[0]["source"].items()}
    doc = mutate(seed_documents[0], ("source",), source)
    assert not event_json_schema_validator.is_valid(doc)
    with pytest.raises(EventRejected) as caught:
        parse_event(json.dumps(doc).encode())
    assert caught.value.reason is RejectReason.INVALID_ENDPOINT


def test_the_json_schema_requires_a_jurisdiction_where_the_worker_does(seed_documents, event_json_schema_validator):
    doc = mutate(seed_documents[0], ("schema_version",), "1.1")
    for scheme in ("register", "tax"):
        bare = mutate(doc, ("source", "identifiers"), [{"scheme": scheme, "value": "5560001234"}])
        placed = mutate(doc, ("source", "identifiers"), [{"scheme": scheme, "value": "5560001234",
                                                          "jurisdiction": "se"}])
        assert not event_json_schema_validator.is_valid(bare)
        with pytest.raises(EventRejected) as caught:
            validate_event(bare)
        assert caught.value.reason is RejectReason.INVALID_ENDPOINT
        assert event_json_schema_validator.is_valid(placed)
        validate_event(placed)
