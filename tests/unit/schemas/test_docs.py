"""docs/events.md is part of the contract: its relation table is RELATIONS, and every example in it is valid."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from schemas import RELATIONS, RejectReason, RelationType, validate_event

DOC = Path(__file__).parents[3] / "docs" / "events.md"
TABLE_BEGIN, TABLE_END = "<!-- relations:begin -->", "<!-- relations:end -->"
FLAGS = ("authority", "commercial", "closeness", "control", "symmetric", "market")


def relation_table() -> str:
    """The relation table as docs/events.md must show it, rendered from `schemas.vocabulary.RELATIONS`."""
    rows = ["| type | meaning | source | target | properties | flags | FollowTheMoney |",
            "|---|---|---|---|---|---|---|"]
    for spec in RELATIONS.values():
        ftm = f"`{spec.ftm_schema}` ({spec.ftm_source} → {spec.ftm_target})"
        if not spec.ftm_native:
            ftm += f", role=`{spec.type.value}`"
        rows.append(" | ".join([
            f"| `{spec.type.value}`", spec.meaning,
            ", ".join(sorted(s.value for s in spec.sources)), ", ".join(sorted(s.value for s in spec.targets)),
            ", ".join(f"`{name}`" for name in sorted(spec.properties)),
            ", ".join(flag for flag in FLAGS if getattr(spec, flag)) or "-", ftm]) + " |")
    return "\n".join(rows)


@pytest.fixture(scope="module")
def doc() -> str:
    return DOC.read_text()


def json_blocks(text: str) -> list[str]:
    return re.findall(r"^```json\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE)


def test_relation_table_matches_the_vocabulary(doc):
    shown = doc.split(TABLE_BEGIN, 1)[1].split(TABLE_END, 1)[0].strip()
    assert shown == relation_table(), (
        f"the relation table in {DOC} is out of date with schemas.vocabulary.RELATIONS; replace the lines between "
        f"{TABLE_BEGIN} and {TABLE_END} with:\n\n{relation_table()}\n")


def test_every_json_example_is_a_valid_event(doc):
    blocks = json_blocks(doc)
    assert blocks, "docs/events.md has no ```json examples"
    for block in blocks:
        validate_event(json.loads(block))


def test_there_is_an_example_of_each_relation_type(doc):
    shown = {json.loads(block)["relation_type"] for block in json_blocks(doc)}
    assert shown == {relation.value for relation in RelationType}


def test_every_reason_code_is_documented(doc):
    missing = [reason.value for reason in RejectReason if f"`{reason.value}`" not in doc]
    assert not missing, f"docs/events.md does not explain the reason codes {missing}"


def test_every_import_mapping_is_documented(doc):
    from schemas.bods import ENTITY_SCHEMA, INTERESTS
    from schemas.ftm import LINK_MAPPINGS, NODE_MAPPINGS, PENDING_SCHEMATA

    names = [*LINK_MAPPINGS, *PENDING_SCHEMATA, *(f"{schema}.{prop}" for schema, prop in NODE_MAPPINGS),
             *INTERESTS, *ENTITY_SCHEMA]
    missing = [name for name in names if f"`{name}`" not in doc and f"`{name}` (" not in doc
               and not re.search(rf"`{re.escape(name)}[` (]", doc)]
    assert not missing, f"docs/events.md does not show how these are imported: {missing}"


def test_every_wikidata_property_read_is_documented(doc):
    from schemas.wikidata import PROPERTIES

    section = doc.split("## Wikidata", 1)[1].split("\n## ", 1)[0]
    missing = [prop for prop, claim in PROPERTIES.items()
               if not re.search(rf"\| [^\n]*\b{prop} [^\n]*\| `{claim.relation.value}` \|", section)]
    assert not missing, f"docs/events.md (Wikidata) does not show how these properties are imported: {missing}"
