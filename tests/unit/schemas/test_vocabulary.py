"""The relation table against FollowTheMoney's model: every mapping names real schemata and properties."""

from __future__ import annotations

import pytest
from followthemoney import model
from followthemoney.types import registry

from schemas import RELATIONS, EntitySchema, RelationType
from schemas.events import RelationProperties
from schemas.ftm import FTM_PROPERTY, FTM_PROPERTY_BY_SCHEMA, RELATION_BY_FTM_SCHEMA, ftm_property
from schemas.vocabulary import CLOSE_ASSOCIATE_TOPICS, POLITICAL_TOPICS, PROPERTY_NAMES

SPECS = list(RELATIONS.values())
FTM_NATIVE = [spec for spec in SPECS if spec.ftm_native]
# Endpoint schemata our table allows but the FtM schema's range does not; such relations export as UnknownLink.
OUTSIDE_FTM_RANGES = {
    RelationType.OWNERSHIP: {("target", "LegalEntity"), ("target", "Organization")},
    RelationType.CONTROL: {("source", "Position")},
    RelationType.DIRECTORSHIP: {("target", "LegalEntity")},
    RelationType.EMPLOYMENT: {("target", "LegalEntity"), ("target", "Person")},
    RelationType.MEMBERSHIP: {("target", "LegalEntity")},
}


def test_every_relation_type_has_exactly_one_entry():
    assert list(RELATIONS) == list(RelationType)
    assert all(key is spec.type for key, spec in RELATIONS.items())


@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.type.value)
def test_ftm_schema_exists_and_source_and_target_are_its_edge(spec):
    schema = model.get(spec.ftm_schema)
    assert schema is not None, f"{spec.ftm_schema} is not a FollowTheMoney schema"
    if spec.resolution:  # FtM's Similar is a judgement between two entities, not an edge
        assert schema.get(spec.ftm_source) is not None and schema.get(spec.ftm_target) is not None
        return
    assert schema.edge and schema.is_a("Interval")
    assert (spec.ftm_source, spec.ftm_target) == (schema.edge_source, schema.edge_target)


def test_relations_ftm_has_no_schema_for_are_unknown_links():
    for spec in SPECS:
        if not spec.ftm_native:
            assert (spec.ftm_schema, spec.ftm_source, spec.ftm_target) == ("UnknownLink", "subject", "object")


def test_an_ftm_schema_maps_back_to_one_relation_type():
    assert len(RELATION_BY_FTM_SCHEMA) == len(FTM_NATIVE)


@pytest.mark.parametrize("spec", FTM_NATIVE, ids=lambda spec: spec.type.value)
def test_every_accepted_property_has_an_ftm_property(spec):
    unmapped = [name for name in sorted(spec.properties) if ftm_property(spec.ftm_schema, name) is None]
    assert not unmapped, f"{spec.ftm_schema} has no property for {unmapped}: extend schemas.ftm.FTM_PROPERTY_BY_SCHEMA"


def test_the_property_tables_name_our_properties_and_real_ftm_ones():
    assert set(FTM_PROPERTY) == set(RelationProperties.model_fields) == PROPERTY_NAMES
    for (ftm_schema, name), prop in FTM_PROPERTY_BY_SCHEMA.items():
        assert name in FTM_PROPERTY and model.get(ftm_schema).get(prop) is not None


def test_endpoint_schemata_are_ftm_schemata():
    for schema in EntitySchema:
        assert model.get(schema.value) is not None and model.get(schema.value).is_a("Thing")


@pytest.mark.parametrize("spec", FTM_NATIVE, ids=lambda spec: spec.type.value)
def test_endpoints_outside_the_ftm_ranges_are_the_ones_exported_as_unknown_links(spec):
    """Listed, so that a change in either table is seen."""
    schema = model.get(spec.ftm_schema)
    outside = {(end, allowed.value)
               for end, prop, allowed_set in (("source", spec.ftm_source, spec.sources),
                                              ("target", spec.ftm_target, spec.targets))
               for allowed in allowed_set if not model.get(allowed.value).is_a(schema.get(prop).range)}
    assert outside == OUTSIDE_FTM_RANGES.get(spec.type, set())



def test_topic_groups_are_ftm_topics():
    assert POLITICAL_TOPICS <= set(registry.topic.names)
    assert CLOSE_ASSOCIATE_TOPICS <= set(registry.topic.names)


def test_symmetric_relations_join_entities_of_the_same_kinds():
    for spec in SPECS:
        if spec.symmetric:
            assert spec.sources == spec.targets, spec.type
