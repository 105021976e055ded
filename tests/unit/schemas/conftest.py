"""Fixtures for the contract tests: the seed scenario, hand-written events and the examples in docs/events.md."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest

from schemas.export import SCHEMA_DIR

ROOT = Path(__file__).parents[3]
DATA = Path(__file__).parent / "data"
SEED = ROOT / "examples" / "binance-wlfi.jsonl"
DOC = ROOT / "docs" / "events.md"


def _json_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def seed_lines() -> list[bytes]:
    return [line for line in SEED.read_bytes().splitlines() if line.strip()]


@pytest.fixture(scope="session")
def seed_documents(seed_lines) -> list[dict]:
    return [json.loads(line) for line in seed_lines]


@pytest.fixture(scope="session")
def handwritten_documents() -> list[dict]:
    return _json_lines(DATA / "handwritten-events.jsonl")


@pytest.fixture(scope="session")
def doc_examples() -> list[dict]:
    blocks = re.findall(r"^```json\n(.*?)^```", DOC.read_text(encoding="utf-8"), flags=re.DOTALL | re.MULTILINE)
    return [json.loads(block) for block in blocks]


@pytest.fixture(scope="session")
def all_examples(seed_documents, handwritten_documents, doc_examples) -> list[dict]:
    return seed_documents + handwritten_documents + doc_examples


@pytest.fixture
def valid_event(seed_documents) -> Callable[..., dict]:
    """A fresh copy of a valid event (the first seed event, an ownership), with top-level fields overridden."""

    def make(**overrides) -> dict:
        return {**copy.deepcopy(seed_documents[0]), **overrides}

    return make


@pytest.fixture(scope="session")
def event_json_schema_validator() -> jsonschema.Draft202012Validator:
    """Validates against the committed schema file: what extractors code against."""
    schema = json.loads((SCHEMA_DIR / "relationship-event.json").read_text())
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


@pytest.fixture(scope="session")
def ftm_lines() -> Callable[[str], list[dict]]:
    return lambda name: _json_lines(DATA / name)
