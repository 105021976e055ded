"""Relationship events: the input contract that extractors write and the scorer and auditors read.

One event states (`upsert`) or withdraws (`retract`) one relation between two entities. The Kafka key is the
`relation_id`, so every version of one relation lands in one partition, in order.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AwareDatetime, AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from schemas.vocabulary import (
    CLOSE_ASSOCIATE_TOPICS,
    IDENTIFIER_SCHEMES,
    JUDGEMENTS,
    NUMBER_NAMES_NO_ONE,
    POLITICAL_TOPICS,
    REGISTER_NUMBER_WIDTH,
    REGISTERS_UNIQUE_BELOW_COUNTRY,
    RELATIONS,
    SAME_NUMBER_AS,
    EntitySchema,
    RelationType,
    Status,
    same_kind,
)

SCHEMA_VERSION = "1.1"
# 1.1 adds `same_as` judgements and entity identifiers; every 1.0 event is a valid 1.1 event (docs/events.md).
SUPPORTED_SCHEMA_VERSIONS = frozenset({"1.0", SCHEMA_VERSION})

IDENTIFIER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:\-/]*$"
IDENTIFIER_MAX_LENGTH = 200
# A currency as events give it: an ISO 4217 code, or a crypto-asset's ticker (USDT, USD1: stablecoins are how much
# of the money in crypto cases moves, and refusing them dead-lettered real payments)
CURRENCY_CODE = r"^[A-Z][A-Z0-9]{2,9}$"
Identifier = Annotated[str, Field(min_length=1, max_length=IDENTIFIER_MAX_LENGTH, pattern=IDENTIFIER_PATTERN)]


FTM_TOPICS_FILE = Path(__file__).parent / "json" / "ftm-topics.json"

# What the JSON Schema's `format: date` and `format: date-time` (RFC 3339, section 5.6) admit. Pydantic alone also
# reads numbers and numeric strings as Unix times ("1.1" as 1970-01-01T00:00:01.1Z), a time without seconds or an
# offset without its colon, and a midnight time as a date: none of that is the contract, and an extractor whose
# events pass the worker must pass the exported schema too.
_DATE_TEXT = re.compile(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_DATE_TIME_TEXT = re.compile(  # no offset passes here: AwareDatetime then says it needs one
    r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})?\Z")


def _written_as(grammar: re.Pattern, what: str):
    def check(value: object) -> object:
        if isinstance(value, dt.date):  # built in Python (importers): already a date or time
            return value
        if not isinstance(value, str) or not grammar.match(value):
            raise ValueError(f"{what}, got {value!r:.60}")
        return value
    return BeforeValidator(check)


Date = Annotated[dt.date, _written_as(_DATE_TEXT, "a date is a string YYYY-MM-DD")]
Timestamp = Annotated[AwareDatetime, _written_as(
    _DATE_TIME_TEXT, "a time is an RFC 3339 string with seconds and an offset, e.g. 2025-05-26T08:00:00Z")]


@cache
def ftm_topics() -> tuple[str, ...]:
    """FollowTheMoney's topic names, as exported from the installed followthemoney to schemas/json/ftm-topics.json
    (`coi-risk schema --write`; a test keeps the file equal to the library). Read from the file because loading
    followthemoney takes over a second, which every command and the worker's first event would pay."""
    return tuple(json.loads(FTM_TOPICS_FILE.read_text()))


def _known_topic(topic: str) -> str:
    # A misspelt topic (role.pepp) would silently make a politically exposed person look unexposed.
    if topic not in ftm_topics():
        raise ValueError(f"{topic!r} is not a FollowTheMoney topic (e.g. role.pep, role.rca, gov.head)")
    return topic


def _topics_enum(schema: dict) -> None:
    schema["items"]["enum"] = list(ftm_topics())


Topic = Annotated[str, AfterValidator(_known_topic)]


class _Contract(BaseModel):
    # Unknown fields are an error: a typo in an extractor must not silently drop evidence. An infinite amount or
    # a NaN confidence would poison every score downstream.
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False, allow_inf_nan=False)


class EntityIdentifier(_Contract):
    """A typed identifier of an entity (`schemas.vocabulary.IDENTIFIER_SCHEMES`). Two entities sharing a strong
    identifier are one entity (scoring.resolution merges them); the value is kept normalised (no spaces, upper
    case where the scheme folds case), so equal identifiers compare equal."""

    # The JSON Schema states which schemes need a jurisdiction; the value's pattern per scheme (after normalising
    # spaces, separators and case) only the worker checks (docs/events.md).
    model_config = ConfigDict(json_schema_extra=lambda schema: schema.update(allOf=[
        {"if": {"properties": {"scheme": {"enum": [name for name, spec in IDENTIFIER_SCHEMES.items()
                                                   if spec.jurisdiction]}}, "required": ["scheme"]},
         "then": {"required": ["jurisdiction"], "properties": {"jurisdiction": {"type": "string"}}}}]))

    scheme: str = Field(description="One of: " + ", ".join(IDENTIFIER_SCHEMES),
                        json_schema_extra={"enum": list(IDENTIFIER_SCHEMES)})
    value: str = Field(min_length=1, max_length=200)
    jurisdiction: str | None = Field(default=None, pattern=r"^[a-z]{2}(-[a-z0-9]+)?$",
                                     description="Where the value is unique (ISO 3166-1 alpha-2, lower case); "
                                                 "required by schemes unique only within one (register, tax).")

    @model_validator(mode="after")
    def _valid_for_scheme(self) -> EntityIdentifier:
        scheme = IDENTIFIER_SCHEMES.get(self.scheme)
        if scheme is None:
            raise ValueError(f"identifier scheme {self.scheme!r} is not one of {sorted(IDENTIFIER_SCHEMES)}")
        value = "".join(self.value.split())
        for separator in scheme.separators:
            value = value.replace(separator, "")
        if scheme.fold_case:
            value = value.upper()
        if not re.match(scheme.pattern, value):
            raise ValueError(f"{self.value!r} is not a valid {scheme.name} identifier ({scheme.meaning})")
        if scheme.jurisdiction and self.jurisdiction is None:
            raise ValueError(f"a {scheme.name} identifier needs its jurisdiction")
        # one form for a number sources write in several (zeros dropped, the same number under another scheme), so
        # that the ids of one company in two sources share it
        width = REGISTER_NUMBER_WIDTH.get(self.jurisdiction or "") if self.scheme == "register" else None
        if width is not None and value.isdigit() and width - 2 <= len(value) < width:
            value = value.zfill(width)  # one or two zeros dropped; a shorter number is more likely a placeholder
        same = SAME_NUMBER_AS.get((self.scheme, self.jurisdiction or ""))
        if same is not None and re.match(IDENTIFIER_SCHEMES[same].pattern, value):
            object.__setattr__(self, "scheme", same)
            if not IDENTIFIER_SCHEMES[same].jurisdiction:
                object.__setattr__(self, "jurisdiction", None)
        object.__setattr__(self, "value", value)  # normalised: the model is frozen once validated
        return self

    @property
    def key(self) -> tuple[str, str, str]:
        """What two entities must share to be the same: scheme, jurisdiction (or "") and normalised value. The
        jurisdiction counts only for schemes unique within one (register, tax): an LEI or a QID is the same
        wherever a source says it was issued, and a country written beside it must not keep two holders apart."""
        if not IDENTIFIER_SCHEMES[self.scheme].jurisdiction:
            return self.scheme, "", self.value
        return self.scheme, self.jurisdiction or "", self.value

    @property
    def strong(self) -> bool:
        """Whether two ids carrying it are merged: its scheme's strength, except for a number of a jurisdiction-bound
        scheme that names no one (`NUMBER_NAMES_NO_ONE`: "N/A", "0") or is unique only below the jurisdiction given
        (`REGISTERS_UNIQUE_BELOW_COUNTRY`: HRB 12345 in "de" rather than in one court). Those are kept, shown, never
        merged on: "N/A" merged a minister's relative with a contractor, an HRB number two firms of two courts."""
        scheme = IDENTIFIER_SCHEMES[self.scheme]
        if not scheme.strong:
            return False
        if not scheme.jurisdiction:
            return True
        if re.match(NUMBER_NAMES_NO_ONE, self.value):
            return False
        below = REGISTERS_UNIQUE_BELOW_COUNTRY.get(self.jurisdiction or "") if self.scheme == "register" else None
        return below is None or not re.match(below, self.value)

    def __str__(self) -> str:
        return f"{self.scheme}:{self.jurisdiction + ':' if self.jurisdiction else ''}{self.value}"


class EntityRef(_Contract):
    """An entity as an event references it. The same id always means the same entity."""

    id: Identifier = Field(description="Stable entity id, e.g. an OpenSanctions/FtM id or a slug.")
    schema_: EntitySchema = Field(alias="schema", description="FollowTheMoney schema name.")
    name: str = Field(min_length=1, max_length=500)
    aliases: tuple[str, ...] = ()
    country: str | None = Field(default=None, pattern=r"^[a-z]{2}(-[a-z0-9]+)?$",
                                description="ISO 3166-1 alpha-2, lower case, as FtM writes it.")
    topics: tuple[Topic, ...] = Field(default=(), description="FtM topics, e.g. role.pep, gov.head, role.rca.",
                                      json_schema_extra=_topics_enum)
    identifiers: tuple[EntityIdentifier, ...] = Field(
        default=(), description="Typed identifiers (contract 1.1): Wikidata QID, LEI, register number... Entities "
                                "sharing a strong one are merged (docs/events.md, Entity resolution).")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @property
    def politically_exposed(self) -> bool:
        return bool(POLITICAL_TOPICS.intersection(self.topics))

    @property
    def close_associate(self) -> bool:
        return bool(CLOSE_ASSOCIATE_TOPICS.intersection(self.topics))


class Extractor(_Contract):
    name: str = Field(min_length=1, max_length=200)
    version: str = Field(min_length=1, max_length=100)


class Provenance(_Contract):
    """Where a claim comes from; every edge of every explanation cites it."""

    source_url: str = Field(min_length=1, max_length=2000)
    publisher: str = Field(min_length=1, max_length=500)
    retrieved_at: Timestamp = Field(description="When the source was fetched; with a UTC offset.")
    extractor: Extractor
    confidence: float = Field(strict=True, ge=0.0, le=1.0,
                              description="The extractor's confidence that the claim is stated.")
    quote: str | None = Field(default=None, max_length=5000)


class RelationProperties(_Contract):
    """Typed properties; which of them a relation type accepts is in `schemas.vocabulary.RELATIONS`."""

    # strict: a number, not a string or a boolean read as one (the JSON Schema says "type": "number")
    percentage: float | None = Field(default=None, strict=True, ge=0.0, le=100.0,
                                     description="Ownership stake in percent.")
    percentage_max: float | None = Field(
        default=None, strict=True, ge=0.0, le=100.0,
        description="The most the stake can be, in percent, where the source gives a range or an upper bound "
                    "(\"0-10%\", \"under 5%\"): without a `percentage` the engine assumes its configured unknown "
                    "stake, or just under this where this is no more. At least `percentage` when both are given.")
    shares_count: float | None = Field(default=None, strict=True, ge=0.0)
    amount: float | None = Field(default=None, strict=True, ge=0.0)
    currency: str | None = Field(
        default=None, pattern=CURRENCY_CODE,
        description="ISO 4217 code (EUR, USD), or the ticker of a crypto-asset (USDT, USDC, USD1, BTC): 3 to 10 "
                    "capital letters or digits, the first a letter. The scorer weighs the codes it has a rate for "
                    "(`amounts.usd_rates`); another weighs as a sum not given.")
    relationship: str | None = Field(default=None, max_length=200,
                                     description="What the target is to the source (FtM's convention, from the "
                                                 "source's side): mother, son, spouse, business partner.")
    role: str | None = Field(default=None, max_length=200, description="e.g. founder, chief executive, monitor")
    purpose: str | None = Field(default=None, max_length=1000)
    summary: str | None = Field(default=None, max_length=5000)
    # same_as judgements (contract 1.1), after FtM's Similar
    confidence_score: float | None = Field(default=None, strict=True, ge=0.0, le=1.0,
                                           description="The matcher's score for a same_as suggestion.")
    criteria: str | None = Field(default=None, max_length=5000,
                                 description="Why: the matcher's per-feature explanation, or an analyst's reason.")
    matcher: str | None = Field(default=None, max_length=200, description="Who or what judged: a matcher and "
                                "its version, an analyst, a register identifier match.")

    def set_fields(self) -> set[str]:
        # every default is None, so only fields given can be set (iterating the model costs ten times more)
        return {name for name in self.__pydantic_fields_set__ if getattr(self, name) is not None}


class Op(StrEnum):
    UPSERT = "upsert"
    RETRACT = "retract"


def _relation_rules(schema: dict) -> None:
    """States in JSON Schema what `check_consistency` enforces per relation type (endpoint schemata, accepted
    properties), so extractors that validate against the exported schema catch those mistakes too."""
    property_names = RelationProperties.model_fields
    schema["allOf"] = [
        {
            "if": {"properties": {"relation_type": {"const": spec.type.value}}, "required": ["relation_type"]},
            "then": {"properties": {
                "source": {"properties": {"schema": {"enum": sorted(s.value for s in spec.sources)}}},
                "target": {"properties": {"schema": {"enum": sorted(s.value for s in spec.targets)}}},
                "properties": {"properties": {name: {"type": "null"}
                                              for name in property_names if name not in spec.properties}},
            }},
        }
        for spec in RELATIONS.values()
    ]


class RelationshipEvent(_Contract):
    """One statement about one relation, with the evidence behind it."""

    model_config = ConfigDict(json_schema_extra=_relation_rules)

    schema_version: Literal["1.0", "1.1"] = Field(description="Contract version; see docs/events.md for the policy.")
    event_id: Identifier = Field(description="Unique per statement; applying it twice changes nothing.")
    op: Op = Op.UPSERT
    relation_id: Identifier = Field(description="Stable id of the relation; the Kafka key.")
    relation_type: RelationType
    source: EntityRef
    target: EntityRef
    properties: RelationProperties = RelationProperties()
    start_date: Date | None = Field(default=None, description="First day the relation held, if known.")
    end_date: Date | None = Field(default=None, description="Last day the relation held, if it ended.")
    status: Status = Status.CONFIRMED
    observed_at: Timestamp = Field(description="Event time, with a UTC offset: when the source stated the fact. "
                                               "Orders versions of one relation.")
    provenance: Provenance

    @model_validator(mode="after")
    def _consistent(self) -> RelationshipEvent:
        check_consistency(self)
        return self

    @property
    def spec(self):
        return RELATIONS[self.relation_type]


class ContractViolation(ValueError):
    """A rule of the contract that JSON Schema alone cannot state; `reason` is a dead-letter reason code."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


def check_consistency(event: RelationshipEvent) -> None:
    spec = RELATIONS[event.relation_type]
    for end, ref, allowed in (("source", event.source, spec.sources), ("target", event.target, spec.targets)):
        if ref.schema_ not in allowed:
            raise ContractViolation(
                "invalid_endpoint",
                f"{event.relation_type.value} {end} must be one of {sorted(s.value for s in allowed)}, "
                f"got {ref.schema_.value} ({ref.id})")
    if event.source.id == event.target.id:
        raise ContractViolation("invalid_endpoint", f"source and target are the same entity ({event.source.id})")
    unexpected = event.properties.set_fields() - spec.properties
    if unexpected:
        raise ContractViolation(
            "invalid_property",
            f"{event.relation_type.value} does not take {sorted(unexpected)}; it takes {sorted(spec.properties)}")
    props = event.properties
    if props.percentage is not None and props.percentage_max is not None and props.percentage_max < props.percentage:
        raise ContractViolation("invalid_property", f"percentage_max {props.percentage_max:g} is below the "
                                                    f"percentage {props.percentage:g}")
    if event.start_date and event.end_date and event.end_date < event.start_date:
        raise ContractViolation("invalid_dates",
                                f"end_date {event.end_date} is before start_date {event.start_date}")
    if event.spec.resolution:
        _check_judgement(event)
    if event.schema_version == "1.0" and (event.spec.resolution or event.source.identifiers
                                          or event.target.identifiers):
        raise ContractViolation("invalid_event", "same_as judgements and entity identifiers are contract 1.1: "
                                                 "send them with schema_version \"1.1\"")


def required_schema_version(document: dict) -> str:
    """The oldest contract version an event document can be sent as: "1.1" when it uses a 1.1 feature (a
    `same_as` judgement, identifiers on an endpoint), else "1.0", so producers keep their 1.0 bytes for 1.0 data."""
    uses_1_1 = (RELATIONS[RelationType(document["relation_type"])].resolution
                or any(document[end].get("identifiers") for end in ("source", "target")))
    return SCHEMA_VERSION if uses_1_1 else "1.0"


def _check_judgement(event: RelationshipEvent) -> None:
    if event.status not in JUDGEMENTS:
        raise ContractViolation("invalid_event", f"a same_as judgement is one of {sorted(s.value for s in JUDGEMENTS)}"
                                                 f", got {event.status.value}")
    if not same_kind(event.source.schema_, event.target.schema_):
        raise ContractViolation("invalid_endpoint", f"same_as joins entities of one kind (people, or organisations)"
                                                    f"; got {event.source.schema_.value} and "
                                                    f"{event.target.schema_.value}")
