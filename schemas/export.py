"""JSON Schema export of every contract. The committed files under schemas/json/ are what extractors code against;
tests fail when they drift from the models."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from schemas.events import FTM_TOPICS_FILE, RelationshipEvent, ftm_topics
from schemas.outputs import Alert, DeadLetter, RiskScore

CONTRACTS: dict[str, type[BaseModel]] = {
    "relationship-event": RelationshipEvent,
    "risk-score": RiskScore,
    "alert": Alert,
    "dead-letter": DeadLetter,
}
SCHEMA_DIR = Path(__file__).parent / "json"


def json_schema(name: str) -> dict:
    model = CONTRACTS[name]
    schema = model.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://coi-risk.dev/schemas/{name}.json"
    return schema


def render(name: str) -> str:
    return json.dumps(json_schema(name), indent=2, sort_keys=True) + "\n"


def library_topics() -> list[str]:
    """The topic names of the installed followthemoney (slow to import: see `schemas.events.ftm_topics`)."""
    from followthemoney.types import registry

    return sorted(registry.topic.names)


def render_topics() -> str:
    return json.dumps(library_topics(), indent=2) + "\n"


def write_all(directory: Path = SCHEMA_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    topics = directory / FTM_TOPICS_FILE.name
    topics.write_text(render_topics())  # first: the event schema's topic enum is read from it
    ftm_topics.cache_clear()
    written = [topics]
    for name in CONTRACTS:
        path = directory / f"{name}.json"
        path.write_text(render(name))
        written.append(path)
    return written
