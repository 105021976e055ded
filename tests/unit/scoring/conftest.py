"""Fixtures for the scoring tests: a factory of valid relationship events with readable defaults."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path
from urllib.parse import quote as quote_url

import pytest

from schemas.events import RelationshipEvent
from schemas.validation import parse_event
from scoring import Engine, ScoringConfig

REPO = Path(__file__).resolve().parents[3]
SEED_SCENARIO = REPO / "examples" / "binance-wlfi.jsonl"

# id -> (schema, name, topics): a small cast most tests share.
CAST = {
    "pm": ("Person", "Prime Minister", ("role.pep", "gov.head")),
    "minister": ("Person", "Finance Minister", ("role.pep", "gov.national")),
    "mayor": ("Person", "Mayor", ()),
    "spouse": ("Person", "Spouse", ("role.rca",)),
    "son": ("Person", "Son", ()),
    "friend": ("Person", "Friend", ()),
    "ceo": ("Person", "Chief Executive", ()),
    "tycoon": ("Person", "Tycoon", ()),
    "nobody": ("Person", "Nobody", ()),
    "pm-office": ("Position", "Prime Minister of Ruritania", ("gov.head", "gov.national")),
    "mayor-office": ("Position", "Mayor of Smalltown", ("gov.muni",)),
    "ministry": ("PublicBody", "Ministry of Finance", ("gov.national",)),
    "regulator": ("PublicBody", "Financial Regulator", ("gov.financial",)),
    "agency": ("PublicBody", "Licensing Agency", ()),
    "town": ("PublicBody", "Smalltown Council", ("gov.muni",)),
    "bank": ("Company", "Big Bank", ()),
    "bank-sub": ("Company", "Big Bank Subsidiary", ()),
    "holdco": ("Company", "Family Holding", ()),
    "shell": ("Company", "Shell Company", ()),
    "vendor": ("Company", "Vendor Ltd", ()),
    "builder": ("Company", "Builder Ltd", ()),
    "exchange": ("Company", "Crypto Exchange", ()),
    "issuer": ("Company", "Token Issuer", ()),
    "token": ("Security", "TOKEN", ()),
}

BASE_TIME = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


class EventFactory:
    """`make("ownership", "pm", "holdco", percentage=60)` -> a validated RelationshipEvent.

    Entities come from CAST unless given as (id, schema, name, topics). Event ids count up; observed_at defaults
    to one minute per event after BASE_TIME, so later calls are newer versions.
    """

    def __init__(self):
        self._numbers = itertools.count(1)

    def entity(self, ref) -> dict:
        if isinstance(ref, tuple):
            entity_id, schema, name, topics = ref
        else:
            entity_id = ref
            schema, name, topics = CAST[ref]
        return {"id": entity_id, "schema": schema, "name": name, "topics": list(topics)}

    def make(self, relation_type: str, source, target, *, relation_id: str | None = None,
             event_id: str | None = None, op: str = "upsert", observed_at: dt.datetime | str | None = None,
             status: str = "confirmed", confidence: float = 1.0, start: str | None = None, end: str | None = None,
             quote: str | None = None, url: str | None = None, publisher: str = "Example Gazette",
             **properties) -> RelationshipEvent:
        number = next(self._numbers)
        src, tgt = self.entity(source), self.entity(target)
        if observed_at is None:
            observed_at = BASE_TIME + dt.timedelta(minutes=number)
        document = {
            "schema_version": "1.0",
            "event_id": event_id or f"ev-{number:05d}",
            "op": op,
            "relation_id": relation_id or f"{src['id']}-{relation_type}-{tgt['id']}",
            "relation_type": relation_type,
            "source": src,
            "target": tgt,
            "properties": {k: v for k, v in properties.items() if v is not None},
            "status": status,
            "observed_at": observed_at.isoformat() if isinstance(observed_at, dt.datetime) else observed_at,
            "provenance": {
                # each publisher its own article unless told: publishers citing one article are one source
                "source_url": url or f"https://example.org/{quote_url(publisher)}/article",
                "publisher": publisher, "retrieved_at": "2025-06-01T00:00:00Z",
                "extractor": {"name": "test", "version": "1"}, "confidence": confidence,
                **({"quote": quote} if quote else {}),
            },
        }
        if start:
            document["start_date"] = start
        if end:
            document["end_date"] = end
        return RelationshipEvent.model_validate(document)


@pytest.fixture
def make():
    return EventFactory().make


@pytest.fixture
def factory():
    return EventFactory()


@pytest.fixture
def config():
    return ScoringConfig.load()


@pytest.fixture
def engine(config):
    return Engine(config)


def load_seed_events() -> list[RelationshipEvent]:
    return [parse_event(line) for line in SEED_SCENARIO.read_bytes().splitlines() if line.strip()]


def content(score) -> dict:
    """A RiskScore without its bookkeeping: what incremental and full computation must agree on."""
    data = score.model_dump(mode="json")
    for bookkeeping in ("graph_version", "trigger_event_id", "input_offsets"):
        data.pop(bookkeeping)
    return data


def incremental_state(engine: Engine) -> dict:
    return {(s.actor_id, s.counterparty_id): content(s) for s in engine.scores()}


def full_state(engine: Engine) -> dict:
    return {key: content(score) for key, score in engine.recompute_all().items()}
