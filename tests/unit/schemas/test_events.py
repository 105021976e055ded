"""The event models: every relation type accepts exactly the endpoints and properties RELATIONS gives it."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from pydantic import ValidationError

from schemas import (
    RELATIONS,
    EntityRef,
    EntitySchema,
    EventRejected,
    Op,
    RejectReason,
    RelationshipEvent,
    RelationType,
    Status,
    parse_event,
    validate_event,
)
from schemas.events import RelationProperties
from schemas.vocabulary import same_kind

PROPERTY_VALUES = {
    "percentage": 25.0, "percentage_max": 50.0, "shares_count": 1000.0, "amount": 5000.0, "currency": "EUR",
    "relationship": "sister", "role": "adviser", "purpose": "consulting", "summary": "as reported",
    "confidence_score": 0.7, "criteria": "name and birth date", "matcher": "analyst",
}


def document(relation_type: str, source_schema: str = "Person", target_schema: str = "Company", **overrides) -> dict:
    return {
        "schema_version": "1.1" if RELATIONS[RelationType(relation_type)].resolution else "1.0",
        "event_id": "e-1",
        "relation_id": "r-1",
        "relation_type": relation_type,
        "source": {"id": "a", "schema": source_schema, "name": "A"},
        "target": {"id": "b", "schema": target_schema, "name": "B"},
        "observed_at": "2025-05-26T08:00:00Z",
        "provenance": {"source_url": "https://example.org/a", "publisher": "Example", "retrieved_at":
                       "2025-05-26T09:00:00Z", "extractor": {"name": "test", "version": "1"}, "confidence": 0.5},
        **overrides,
    }


def outcome(doc: dict) -> RejectReason | None:
    try:
        validate_event(doc)
    except EventRejected as rejected:
        return rejected.reason
    return None


@pytest.mark.parametrize("relation_type", list(RelationType), ids=str)
def test_endpoints_are_accepted_exactly_as_the_vocabulary_allows(relation_type):
    spec = RELATIONS[relation_type]
    for source, target in itertools.product(EntitySchema, repeat=2):
        allowed = source in spec.sources and target in spec.targets
        if spec.resolution:  # a judgement also needs two ends of one kind (never a person and a company)
            allowed = allowed and same_kind(source, target)
        result = outcome(document(relation_type.value, source.value, target.value))
        assert result == (None if allowed else RejectReason.INVALID_ENDPOINT), (source, target)


@pytest.mark.parametrize("relation_type", list(RelationType), ids=str)
def test_properties_are_accepted_exactly_as_the_vocabulary_allows(relation_type):
    spec = RELATIONS[relation_type]
    source, target = sorted(spec.sources)[0].value, sorted(spec.targets)[-1].value
    for name, value in PROPERTY_VALUES.items():
        result = outcome(document(relation_type.value, source, target, properties={name: value}))
        assert result == (None if name in spec.properties else RejectReason.INVALID_PROPERTY), name


def test_property_values_cover_every_property():
    assert set(PROPERTY_VALUES) == set(RelationProperties.model_fields)


def test_an_unset_property_may_be_null_whatever_the_type():
    event = validate_event(document("family", "Person", "Person", properties={"percentage": None}))
    assert event.properties.set_fields() == set()


def test_defaults_and_derived_fields():
    event = validate_event(document("ownership"))
    assert event.op is Op.UPSERT and event.status is Status.CONFIRMED
    assert event.properties == RelationProperties()
    assert event.spec is RELATIONS[RelationType.OWNERSHIP]
    assert event.start_date is None and event.end_date is None
    assert event.observed_at == dt.datetime(2025, 5, 26, 8, tzinfo=dt.UTC)


def test_events_are_immutable():
    event = validate_event(document("ownership"))
    with pytest.raises(ValidationError):
        event.status = Status.DENIED


def test_a_contract_violation_carries_its_reason_through_pydantic():
    with pytest.raises(ValidationError) as caught:
        RelationshipEvent.model_validate(document("occupancy", "Person", "Company"))
    violation = caught.value.errors()[0]["ctx"]["error"]
    assert violation.reason == "invalid_endpoint" and "Position" in violation.message


def test_entity_ref_reads_and_writes_the_ftm_field_name():
    ref = EntityRef(id="x", schema="Person", name="X")
    assert ref.schema_ is EntitySchema.PERSON
    assert ref.model_dump(by_alias=True, exclude_defaults=True) == {"id": "x", "schema": "Person", "name": "X"}
    assert EntityRef(id="x", schema_=EntitySchema.PERSON, name="X") == ref


@pytest.mark.parametrize(("topics", "exposed", "close"), [
    ((), False, False),
    (("role.pep",), True, False),
    (("gov.head",), True, False),
    (("role.pep.frmr", "role.rca"), True, True),
    (("role.rca",), False, True),
    (("role.journo", "corp.public"), False, False),
])
def test_political_exposure_follows_the_topics(topics, exposed, close):
    ref = EntityRef(id="x", schema="Person", name="X", topics=topics)
    assert (ref.politically_exposed, ref.close_associate) == (exposed, close)


def test_unknown_topics_are_refused():
    with pytest.raises(ValidationError, match="not a FollowTheMoney topic"):
        EntityRef(id="x", schema="Person", name="X", topics=("role.pep", "role.villain"))


def test_non_finite_numbers_are_refused_from_python_too():
    doc = document("payment", "Company", "Company", properties={"amount": float("inf")})
    assert outcome(doc) is RejectReason.INVALID_PROPERTY


def test_serialised_events_read_back_equal(seed_lines, handwritten_documents, doc_examples):
    events = [parse_event(line) for line in seed_lines]
    events += [validate_event(doc) for doc in handwritten_documents + doc_examples]
    for event in events:
        assert parse_event(event.model_dump_json(by_alias=True, exclude_none=True).encode()) == event


def test_examples_cover_every_relation_type_at_least_twice(all_examples):
    counts = {relation: 0 for relation in RelationType}
    for doc in all_examples:
        counts[RelationType(doc["relation_type"])] += 1
    assert min(counts.values()) >= 2, counts


def test_a_share_whose_most_is_below_what_it_guarantees_is_refused():
    """`percentage_max` is the most the stake can be: below the `percentage` the source guarantees, the event
    contradicts itself, and the engine would have to pick one of the two."""
    assert outcome(document("ownership", properties={"percentage": 30.0, "percentage_max": 20.0})) \
        == RejectReason.INVALID_PROPERTY
    assert outcome(document("ownership", properties={"percentage": 30.0, "percentage_max": 30.0})) is None
    assert outcome(document("ownership", properties={"percentage_max": 10.0})) is None
