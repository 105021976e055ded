"""FollowTheMoney interop: FtM entity JSON in, relationship events out, and the way back.

Import reads FtM the way FtM states things (docs/events.md, "FollowTheMoney", has the full table):
- interval entities whose schema a relation type maps onto (`LINK_MAPPINGS`: the FtM-native relation types, plus
  `ContractAward` through its `Contract`'s `authority`, and `Succession`), and `UnknownLink`s whose `role` names
  one of our relation types, become one upsert event each;
- properties of other entities that state a relation (`NODE_MAPPINGS`: `Position.organization`,
  `Security.issuer`, `LegalEntity.parent`) become one event per value;
- `Similar` is a `same_as` judgement (candidate = source, match = target), its status from the entity's
  `judgement` (`SIMILAR_JUDGEMENTS`; none: a `proposed` suggestion, as FtM says the two are only "presumed" the same);
- schemata we cannot convert yet would be named in `PENDING_SCHEMATA` and reported as such.
Endpoints carry the typed identifiers the entity states (`schemas.identifiers`); an event that carries identifiers
or a judgement is contract 1.1, any other stays 1.0 (`required_schema_version`), so old inputs keep their bytes.
Values are read as real data writes them (`schemas.values`); provenance comes from the data itself (`sourceUrl`,
`publisher`, `retrievedAt`, else OpenSanctions' `datasets`, `last_change` and `first_seen`), and `ImportDefaults`
only fill what the data lacks, so one file always gives the same bytes.

`import_ftm` streams a file in three passes (ids referenced, the referenced entities, the relations in input
order), reading nested FtM (yente's API: related entities embedded in `properties`) and saved yente API responses
(/search, /match, /entities/<id>/adjacent: the entities they carry) through `flat_entities`;
`FtmFeed` applies OpenSanctions/yente delta lines (`{"op": "ADD"|"MOD"|"DEL", "entity": ...}`) with a
replayable state. Export (`ftm_from_events`) writes the current state a stream of events describes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from followthemoney import model
from followthemoney.exc import InvalidData
from followthemoney.property import Property
from followthemoney.proxy import EntityProxy
from followthemoney.schema import Schema
from followthemoney.types import registry

from schemas.events import SCHEMA_VERSION, EntityRef, RelationProperties, RelationshipEvent, required_schema_version
from schemas.identifiers import identifiers_from_ftm, merge_identifiers, opensanctions_identifiers
from schemas.outputs import RejectReason
from schemas.validation import DEFAULT_MAX_EVENT_BYTES, EventRejected, validate_event
from schemas.values import (
    UnreadableValue,
    first_day,
    is_partial,
    last_day,
    read_currency,
    read_number,
    read_percentage,
    read_share,
    read_timestamp,
    split_currency,
)
from schemas.vocabulary import IDENTIFIER_SCHEMES, JUDGEMENTS, PARTIES, RELATIONS, EntitySchema, RelationSpec, RelationType, Status

FTM_IMPORT_VERSION = "2.3"  # bump when the mapping changes what an import yields

# Our relation property -> the FtM property that carries it.
FTM_PROPERTY: dict[str, str] = {
    "percentage": "percentage",
    "percentage_max": "percentage",  # FtM writes a range as one value ("0-10%"): read and written with `percentage`
    "shares_count": "sharesCount",
    "amount": "amount",
    "currency": "currency",
    "relationship": "relationship",
    "role": "role",
    "purpose": "purpose",
    "summary": "summary",
    "confidence_score": "confidenceScore",
    "criteria": "criteria",
    "matcher": "matcher",
}
# Where an FtM schema lacks the property above, the closest one it has.
FTM_PROPERTY_BY_SCHEMA: dict[tuple[str, str], str] = {
    ("Occupancy", "role"): "description",
    ("Debt", "purpose"): "description",
    ("Contract", "purpose"): "title",
    ("Contract", "summary"): "description",
    ("ContractAward", "summary"): "decisionReason",
    ("ContractAward", "purpose"): "description",
}
# The longest text the contract takes per property (a longer one would lose the whole relation).
TEXT_LIMITS: dict[str, int] = {name: limit for name, info in RelationProperties.model_fields.items()
                               for limit in [next((m.max_length for m in info.metadata
                                                   if getattr(m, "max_length", None)), None)] if limit}
NUMERIC_PROPERTIES = frozenset(name for name, info in RelationProperties.model_fields.items()
                               if info.annotation == float | None)
# Amounts: the first property that has a value, with the currency it implies (None: the `currency` property).
AMOUNT_PROPERTIES: tuple[tuple[str, str | None], ...] = (("amount", None), ("amountEur", "EUR"), ("amountUsd", "USD"))

# The endpoint's country: the first of these properties its FtM schema has and fills.
COUNTRY_PROPERTIES = ("country", "jurisdiction", "nationality", "citizenship", "mainCountry")
# Name-like properties an endpoint's aliases come from (its name is FtM's caption).
ALIAS_PROPERTIES = ("name", "alias", "previousName")

# FtM `status` words (free text) -> what they say. Our own status values say how sure the source is; these say
# whether the relation still holds. An ended relation without an end date ends the day before it was observed.
ENDED_STATUS_WORDS = frozenset({"ended", "former", "inactive", "past", "terminated", "resigned", "dismissed",
                                "dissolved", "expired", "closed", "historical", "previous", "retired"})
# FtM `status` words saying the source cannot tell whether the relation still holds (OpenSanctions' occupancy
# status "unknown": a source not known to remove those who leave, an end beyond the data's coverage). Ending it
# would take live authority from an official whose source is only stale; confirming it would give full authority
# on no evidence. So unless an end the source had already seen pass closes it, it stays open at this certainty,
# which the scorer weighs and every path shows (an office of unknown status is still a PEP's).
UNKNOWN_STATUS_WORDS = frozenset({"unknown"})
UNKNOWN_STATUS_CERTAINTY = Status.ALLEGED

# A `Similar`'s judgement (FtM has no property for it: the entity's top-level `judgement`, as nomenklatura and
# Aleph's cross-referencing record it) -> the same_as status. Without one, a Similar is a suggestion.
SIMILAR_JUDGEMENTS: dict[str, Status] = {
    "positive": Status.CONFIRMED,
    "negative": Status.DENIED,
    "unsure": Status.IN_DISCUSSION,
    "no_judgement": Status.PROPOSED,
    **{status.value: status for status in JUDGEMENTS},
}
UNJUDGED_SIMILAR = Status.PROPOSED

UNKNOWN_LINK = model.schemata["UnknownLink"]


@dataclass(frozen=True)
class Mapping:
    """How an FtM entity states one relation. `source` and `target` are property paths read on the entity:
    "@" is the entity itself, "contract.authority" follows `contract` and reads `authority` there."""

    relation: RelationType
    source: str
    target: str
    role: str | None = None  # a role the mapping states (a Succession's successor)
    start: tuple[str, ...] = ("startDate", "date")
    end: tuple[str, ...] = ("endDate",)
    properties_from: str | None = None  # an entity the relation's properties also come from ("contract")
    term_end: str | None = None  # the end of the fixed term the relation belongs to, where it has no end of its own
    endpoint_end: str | None = None  # "post.dissolutionDate": an endpoint's end, which the relation cannot outlast


LINK_MAPPINGS: dict[str, Mapping] = {
    **{spec.ftm_schema: Mapping(spec.type, spec.ftm_source, spec.ftm_target)
       for spec in RELATIONS.values() if spec.ftm_native},
    # The contracting authority awards the contract to the supplier: FtM splits this over two entities.
    "ContractAward": Mapping(RelationType.AWARDS_CONTRACT, "contract.authority", "supplier",
                             start=("startDate", "date", "contract.contractDate"), properties_from="contract"),
    # The successor takes over the predecessor (merger, renamed body): it steers what the predecessor was.
    "Succession": Mapping(RelationType.CONTROL, "successor", "predecessor", role="successor"),
    # A term's end bounds the occupancy of that term (a re-election is another Occupancy): without it an office
    # OpenSanctions marks ended but gives no endDate ran to its observation, and one without a status never ended.
    # A post abolished (its dissolutionDate) cannot be held after that day either, whatever the term says.
    "Occupancy": Mapping(RelationType.OCCUPANCY, "holder", "post", term_end="periodEnd",
                         endpoint_end="post.dissolutionDate"),
}
# Schemata whose dates a relation reads though they do not carry it (a ContractAward's Contract, an Occupancy's
# Position): what FtM's cleaning drops from them is noted, as from a carrier.
DATES_READ_THROUGH: frozenset[str] = frozenset(
    model.schemata[name].properties[path.partition(".")[0]].range.name for name, mapping in LINK_MAPPINGS.items()
    for path in (mapping.properties_from, mapping.endpoint_end) if path)
# (FtM schema, property) of an entity that is not a relation but states one, per value of the property.
NODE_MAPPINGS: dict[tuple[str, str], Mapping] = {
    # The office steers its body: whoever holds the post exercises the body's authority.
    ("Position", "organization"): Mapping(RelationType.CONTROL, "@", "organization", role="office of",
                                          start=("inceptionDate",), end=("dissolutionDate",)),
    ("Security", "issuer"): Mapping(RelationType.ISSUES, "issuer", "@", start=("issueDate",), end=()),
    ("LegalEntity", "parent"): Mapping(RelationType.CONTROL, "parent", "@", role="parent", start=(), end=()),
}
# FtM schemata we know carry a relation but do not convert yet, with why (reported as not_converted_yet). Empty
# since `Similar` became the same_as judgement (LINK_MAPPINGS, from the vocabulary's `Similar` row).
PENDING_SCHEMATA: dict[str, str] = {}
# An UnknownLink's role names the relation type: ours FtM has no schema for, or any type whose endpoints do not
# fit its FtM schema (an Ownership's asset must be an FtM Asset, so owning an Organization is exported this way).
RELATION_BY_ROLE: dict[str, RelationSpec] = {spec.type.value: spec for spec in RELATIONS.values()}
RELATION_BY_FTM_SCHEMA: dict[str, RelationSpec] = {
    spec.ftm_schema: spec for spec in RELATIONS.values() if spec.ftm_native}

OPENSANCTIONS_DATASET_URL = "https://www.opensanctions.org/datasets/{}/"
_ONE_DAY = dt.timedelta(days=1)
_ONE_SECOND = dt.timedelta(seconds=1)


def ftm_property(ftm_schema: str, name: str) -> str | None:
    """The property of `ftm_schema` that carries our relation property `name`; None when it has none."""
    prop = FTM_PROPERTY_BY_SCHEMA.get((ftm_schema, name), FTM_PROPERTY[name])
    return prop if prop in model.schemata[ftm_schema].properties else None


def entity_schema_for(schema: Schema) -> EntitySchema | None:
    """The endpoint schema an FtM schema stands for: itself, else its nearest ancestor we know (a Vessel is an
    Asset); None for things that cannot be an endpoint (an Address)."""
    generation = [schema]
    while generation:
        for candidate in generation:
            if candidate.name in EntitySchema._value2member_map_:
                return EntitySchema(candidate.name)
        generation = [parent for candidate in generation for parent in candidate.extends]
    return None


# Relation types FtM states over two entities: exported as the Contract the source awards (its `authority`) and
# the ContractAward to the target, so amounts, dates and status survive; read back through LINK_MAPPINGS.
CONTRACT_AWARD = model.schemata["ContractAward"]
EXPORTED_AS_CONTRACT_AWARD = frozenset({RelationType.AWARDS_CONTRACT})


def ftm_schema_for(event: RelationshipEvent) -> Schema:
    """The relation's own FtM schema when both endpoints fit its ranges (awards_contract: ContractAward, with the
    source as its Contract's authority), else UnknownLink."""
    if event.relation_type in EXPORTED_AS_CONTRACT_AWARD:
        fits = (model.schemata[event.source.schema_.value].is_a(model.schemata["Contract"].properties["authority"].range)
                and model.schemata[event.target.schema_.value].is_a(CONTRACT_AWARD.properties["supplier"].range))
        return CONTRACT_AWARD if fits else UNKNOWN_LINK
    schema = model.schemata[event.spec.ftm_schema]
    fits = all(model.schemata[ref.schema_.value].is_a(schema.properties[prop].range)
               for ref, prop in ((event.source, event.spec.ftm_source), (event.target, event.spec.ftm_target)))
    return schema if fits else UNKNOWN_LINK


def node_mappings(schema: Schema) -> list[tuple[str, Mapping]]:
    """(property, mapping) of every relation an entity of `schema` states through its own properties."""
    return [(prop, mapping) for (name, prop), mapping in NODE_MAPPINGS.items() if schema.is_a(name)]


# --- import ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ImportDefaults:
    """Provenance for what the data does not state itself; never overrides what it does."""

    publisher: str | None = None
    source_url: str | None = None
    retrieved_at: dt.datetime | None = None
    confidence: float = 0.8
    status: Status = Status.CONFIRMED
    extractor_name: str = "ftm-import"
    extractor_version: str = FTM_IMPORT_VERSION


class SkipReason(StrEnum):
    """Why an entity yielded no event; validation failures use the dead-letter reason codes instead."""

    INVALID_ENTITY = "invalid_entity"
    UNMAPPED_SCHEMA = "unmapped_schema"
    NOT_CONVERTED_YET = "not_converted_yet"
    UNKNOWN_ROLE = "unknown_role"
    MISSING_ENDPOINT = "missing_endpoint"
    MISSING_PROVENANCE = "missing_provenance"
    UNREADABLE_VALUE = "unreadable_value"
    INVALID_DELTA = "invalid_delta"
    MALFORMED_JSON = "malformed_json"
    ERROR_RESPONSE = "error_response"  # a saved yente error ({"detail": ...}) where entities were expected


@dataclass(frozen=True)
class Skipped:
    entity_id: str | None
    schema: str | None
    reason: str
    message: str

    def __str__(self) -> str:
        # a record unread (malformed JSON) has neither: "? ?" said nothing a reader could use
        what = " ".join(part for part in (self.schema, self.entity_id) if part) or "a record"
        return f"{what}: {self.reason}: {self.message}"


@dataclass
class ImportReport:
    converted: int = 0
    retracted: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    ignored: Counter[str] = field(default_factory=Counter)  # schema -> entities neither relation nor endpoint
    outcomes: Counter[str] = field(default_factory=Counter)  # free-form outcome -> count (delta ops, BODS kinds)

    def skip_reasons(self) -> Counter[str]:
        return Counter(skip.reason for skip in self.skipped)


class FtmImportError(ValueError):
    """Raised by a strict import (no report given) at the first entity it cannot convert."""

    def __init__(self, skipped: Skipped):
        super().__init__(str(skipped))
        self.skipped = skipped


# what a record without a schema is skipped as: `streams.commands.importer` reads a file of nothing else as one of
# no format it knows
NOT_AN_ENTITY = "not an FtM entity"


class ImportSkip(Exception):
    """A record an importer skips (FtM, BODS, Wikidata): the `SkipReason` and why, reported as a `Skipped`."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass
class Stored:
    """One FtM entity (fragments merged) with the statement metadata OpenSanctions exports beside it."""

    proxy: EntityProxy
    datasets: tuple[str, ...] = ()
    first_seen: str | None = None
    last_change: str | None = None
    dropped: dict[str, tuple[str, ...]] = field(default_factory=dict)  # values FtM's cleaning threw away
    judgement: str | None = None  # a Similar's judgement (SIMILAR_JUDGEMENTS), written beside the properties

    @classmethod
    def parse(cls, data: object, check_dropped: bool = True) -> Stored:
        if not isinstance(data, dict):
            raise ImportSkip(SkipReason.INVALID_ENTITY, f"an FtM entity is a JSON object, got {type(data).__name__}")
        if not data.get("schema"):  # FtM's own message ("No schema for entity.") does not say what was read
            if (detail := yente_error(data)) is not None:
                raise ImportSkip(SkipReason.ERROR_RESPONSE, f"a yente error response, not entities: {detail!r:.300} "
                                                       f"(the request failed; save the answer of one that succeeds)")
            raise ImportSkip(SkipReason.INVALID_ENTITY, f"{NOT_AN_ENTITY}: no \"schema\" among its keys "
                                                   f"{', '.join(sorted(map(str, data))[:8]) or '(none)'}")
        if not isinstance(data["schema"], str):
            raise ImportSkip(SkipReason.INVALID_ENTITY, f"schema must be a schema name, got {data['schema']!r:.80}")
        try:
            proxy = model.get_proxy(data, cleaned=False)  # re-clean: the input is untrusted
        except InvalidData as exc:
            raise ImportSkip(SkipReason.INVALID_ENTITY, str(exc)) from None
        except (TypeError, AttributeError, ValueError) as exc:  # a shape FtM does not expect (properties a list)
            raise ImportSkip(SkipReason.INVALID_ENTITY, f"not a valid FtM entity: {exc}") from None
        if not proxy.id:
            raise ImportSkip(SkipReason.INVALID_ENTITY, "entity has no id")
        datasets = data.get("datasets") or ()
        return cls(proxy, tuple(sorted(str(d) for d in datasets)) if isinstance(datasets, list) else (),
                   text_or_none(data.get("first_seen")), text_or_none(data.get("last_change")),
                   _dropped_values(proxy.schema, data.get("properties")) if check_dropped else {},
                   text_or_none(data.get("judgement")))

    def merge(self, other: Stored) -> Stored:
        dropped = {prop: tuple(dict.fromkeys(self.dropped.get(prop, ()) + other.dropped.get(prop, ())))
                   for prop in sorted(set(self.dropped) | set(other.dropped))}
        return Stored(self.proxy.merge(other.proxy), tuple(sorted(set(self.datasets) | set(other.datasets))),
                      min(filter(None, (self.first_seen, other.first_seen)), default=None),
                      max(filter(None, (self.last_change, other.last_change)), default=None), dropped,
                      self.judgement or other.judgement)

    @property
    def id(self) -> str:
        return self.proxy.id

    @property
    def schema(self) -> Schema:
        return self.proxy.schema

    def to_dict(self) -> dict:
        data = self.proxy.to_dict()
        if self.datasets:
            data["datasets"] = list(self.datasets)
        if self.first_seen:
            data["first_seen"] = self.first_seen
        if self.last_change:
            data["last_change"] = self.last_change
        if self.judgement:
            data["judgement"] = self.judgement
        return data


def _dropped_values(schema: Schema, properties: object) -> dict[str, tuple[str, ...]]:
    """Values FtM silently drops when it cleans them (a date written 31.12.2019): the importer must say so."""
    dropped = {}
    for name, values in (properties.items() if isinstance(properties, dict) else ()):
        prop = schema.get(name)
        if prop is None or not isinstance(values, list) or prop.type is not registry.date:
            continue  # dates are what the importer reads and FtM drops; other types it keeps as written
        lost = tuple(str(v) for v in values if isinstance(v, str) and v.strip() and prop.type.clean(v) is None)
        if lost:
            dropped[name] = lost
    return dropped


def text_or_none(value: object) -> str | None:
    """An optional text field as the importers (FtM, BODS, Wikidata, KEK) read it: a non-empty string, else None."""
    return value if isinstance(value, str) and value else None


def count_outcome(report: ImportReport | None, outcome: str) -> None:
    """Count an outcome of an import (a kind of record read or left out) in its report, when there is one."""
    if report is not None:
        report.outcomes[outcome] += 1


def carries_relations(entity: Stored) -> bool:
    """The entity states relations (a link, or a node whose mapped properties have values); the others are only
    endpoints."""
    schema = entity.schema
    return (schema.name in LINK_MAPPINGS or schema.name in PENDING_SCHEMATA or schema is UNKNOWN_LINK
            or schema.edge or any(entity.proxy.get(prop, quiet=True) for prop, _ in node_mappings(schema)))


def _schema_of(data: dict) -> Schema | None:
    name = data.get("schema")
    return model.get(name) if isinstance(name, str) and name else None


def raw_carrier(data: dict) -> bool | None:
    """Whether a raw entity dict states relations (see `carries_relations`), without building it; None when its
    schema is unknown (the caller parses it to report why)."""
    schema = _schema_of(data)
    if schema is None:
        return None
    if schema.name in LINK_MAPPINGS or schema.name in PENDING_SCHEMATA or schema is UNKNOWN_LINK or schema.edge:
        return True
    properties = data.get("properties")
    return isinstance(properties, dict) and any(properties.get(prop) for prop, _ in node_mappings(schema))


def referenced_ids(data: dict) -> set[str]:
    """Ids a raw FtM entity references through the properties the mappings read (for the first import pass)."""
    schema = _schema_of(data)
    properties = data.get("properties")
    if schema is None or not isinstance(properties, dict):
        return set()
    paths: list[str] = []
    if schema.name in LINK_MAPPINGS:
        mapping = LINK_MAPPINGS[schema.name]
        paths += [mapping.source, mapping.target]
    elif schema is UNKNOWN_LINK or schema.edge:
        paths += [schema.edge_source, schema.edge_target]
    paths += [prop for prop, _ in node_mappings(schema)]
    if schema.is_a("Contract"):
        paths.append("authority")  # read through a ContractAward
    found = set()
    for path in paths:
        values = properties.get(path.split(".")[0]) or []
        found.update(v for v in (values if isinstance(values, list) else [values]) if isinstance(v, str))
    return found


class Converter:
    """Turns the relations one carrier entity states into event documents, looking endpoints up in `lookup`."""

    def __init__(self, lookup: Callable[[str], Stored | None], defaults: ImportDefaults,
                 report: ImportReport | None):
        self.lookup = lookup
        self.defaults = defaults
        self.report = report

    def relations(self, carrier: Stored) -> list[tuple[str, dict | ImportSkip]]:
        """(relation_id, event document or why not) for every relation the entity states; [] for plain nodes."""
        schema = carrier.schema
        if schema.name in PENDING_SCHEMATA:
            return [(carrier.id, ImportSkip(SkipReason.NOT_CONVERTED_YET,
                                            f"{schema.name}: {PENDING_SCHEMATA[schema.name]}"))]
        if schema.name in LINK_MAPPINGS or schema is UNKNOWN_LINK:
            try:
                mapping = self._link_mapping(carrier)
            except ImportSkip as skip:
                return [(carrier.id, skip)]
            return self._from_mapping(carrier, mapping, unique_id=carrier.id)
        if schema.edge:
            return [(carrier.id, ImportSkip(SkipReason.UNMAPPED_SCHEMA,
                                            f"no relation type maps FtM schema {schema.name}"))]
        found = []
        for prop, mapping in node_mappings(schema):
            found += self._from_mapping(carrier, mapping, unique_id=None, via=prop)
        return found

    def _link_mapping(self, link: Stored) -> Mapping:
        if link.schema.name in LINK_MAPPINGS:
            return LINK_MAPPINGS[link.schema.name]
        named = {RELATION_BY_ROLE[key] for key in map(_role_key, link.proxy.get("role")) if key in RELATION_BY_ROLE}
        if len(named) != 1:
            raise ImportSkip(SkipReason.UNKNOWN_ROLE,
                             f"UnknownLink role {link.proxy.get('role')} must name exactly one relation type: "
                             f"{', '.join(sorted(RELATION_BY_ROLE))}")
        return Mapping(named.pop().type, "subject", "object")

    def _from_mapping(self, carrier: Stored, mapping: Mapping, unique_id: str | None,
                      via: str | None = None) -> list[tuple[str, dict | ImportSkip]]:
        try:
            sources = self._ends(carrier, mapping.source)
            targets = self._ends(carrier, mapping.target)
        except ImportSkip as skip:
            return [(unique_id or f"{carrier.id}:{via}", skip)]
        pairs = [(s, t) for s in sources for t in targets]
        if unique_id and len(pairs) > 1:
            self._note_pairs(carrier, mapping, sources, targets)
        found = []
        for source_id, target_id in pairs:
            # One relation keeps the carrier's id; several (joint owners, joint awarding authorities, a node
            # property with many values) get the carrier's id with the end that varies (both where both do), so
            # each can be retracted on its own and keeps its id while the other values stay.
            if unique_id and len(pairs) == 1:
                relation_id = unique_id
            elif via:
                relation_id = f"{carrier.id}:{via}:{source_id if source_id != carrier.id else target_id}"
            else:
                varying = [end for end, ends in ((source_id, sources), (target_id, targets)) if len(ends) > 1]
                relation_id = ":".join((carrier.id, mapping.relation.value, *varying))
            try:
                found.append((relation_id, self._document(carrier, mapping, relation_id, source_id, target_id)))
            except ImportSkip as skip:
                found.append((relation_id, skip))
        return found

    def _note_pairs(self, carrier: Stored, mapping: Mapping, sources: list[str], targets: list[str]) -> None:
        if self.report is None:
            return
        ends = [f"{path.split('.')[-1]} {', '.join(ids)}" for path, ids in ((mapping.source, sources),
                                                                         (mapping.target, targets)) if len(ids) > 1]
        text = (f"{carrier.schema.name} {carrier.id}: {' and '.join(ends)}: one relation each, with the entity's "
                f"dates, status and properties")
        # FtM values are a set: nothing pairs a percentage with one owner. Joint holders are each treated as
        # holding the whole interest (UK Companies Act 2006, Sch. 1A para 11), so each relation keeps it whole.
        if len(sources) > 1 and carrier.proxy.get("percentage", quiet=True):
            text += "; the percentage is each owner's whole, as joint holders each hold the whole interest"
        self.report.notes.append(text)

    def _ends(self, carrier: Stored, path: str) -> list[str]:
        if path == "@":
            return [carrier.id]
        first, _, rest = path.partition(".")
        ids = carrier.proxy.get(first, quiet=True)
        if not ids:
            raise ImportSkip(SkipReason.MISSING_ENDPOINT, f"{first} names no entity")
        if not rest:
            return sorted(ids)
        found: list[str] = []
        for via_id in ids:
            via = self.lookup(via_id)
            if via is None:
                raise ImportSkip(SkipReason.MISSING_ENDPOINT, f"{first} {via_id} is not in the input")
            values = via.proxy.get(rest, quiet=True)
            if not values:
                raise ImportSkip(SkipReason.MISSING_ENDPOINT, f"{first} {via_id} names no {rest}")
            found += sorted(values)
        return found

    def _node(self, entity_id: str, prop: str) -> Stored:
        node = self.lookup(entity_id)
        if node is None:
            raise ImportSkip(SkipReason.MISSING_ENDPOINT, f"{prop} {entity_id} is not in the input")
        return node

    def _document(self, carrier: Stored, mapping: Mapping, relation_id: str, source_id: str,
                  target_id: str) -> dict:
        source = carrier if source_id == carrier.id else self._node(source_id, mapping.source)
        target = carrier if target_id == carrier.id else self._node(target_id, mapping.target)
        extra = self.lookup(carrier.proxy.first(mapping.properties_from)) if mapping.properties_from else None
        involved = [e for e in (carrier, source, target, extra) if e is not None]
        ends = {path: node for path, node in ((mapping.source, source), (mapping.target, target))
                if path != "@" and "." not in path}  # "post": this relation's post, read for its endpoint_end
        reader = _Reader(carrier, extra, self.report, ends)
        provenance = _provenance(carrier, self.defaults)
        observed_at = max((t for t in map(_observed, involved) if t), default=None) or provenance["retrieved_at"]
        spec = RELATIONS[mapping.relation]
        start = reader.date(mapping.start, first_day)
        end = reader.date(mapping.end, last_day, required=True)
        ended, certainty, unknown = reader.status(self.defaults.status)
        if spec.resolution:
            certainty = _judgement(carrier)
        if end is None:  # the relation's own end is never overridden
            end = self._bounded_end(reader, mapping, start, ended, observed_at.date())
        if ended and end is None:
            end = max(observed_at.date() - _ONE_DAY, start or dt.date.min)
            reader.note(f"status ended without an end date: read as ended on {end} (the day before it was "
                        f"observed, {observed_at.date()})")
        elif unknown and (end is None or end >= observed_at.date()):
            certainty = UNKNOWN_STATUS_CERTAINTY
            until = "no end date" if end is None else f"an end ({end}) after it was observed"
            reader.note(f"status unknown and {until}: read as still held, but {certainty.value}, not "
                        f"{self.defaults.status.value}")
        document = {
            "schema_version": SCHEMA_VERSION,
            "op": "upsert",
            "relation_id": relation_id,
            "relation_type": spec.type.value,
            "source": _entity_ref(source, reader),
            "target": _entity_ref(target, reader),
            "properties": reader.properties(spec, mapping),
            "start_date": start,
            "end_date": end,
            "status": certainty.value,
            "observed_at": observed_at,
            "provenance": provenance,
        }
        document["schema_version"] = required_schema_version(document)
        document["event_id"] = content_event_id(document)
        return document

    @staticmethod
    def _bounded_end(reader: _Reader, mapping: Mapping, start: dt.date | None, ended: bool,
                     observed: dt.date) -> dt.date | None:
        """The end of a relation without an end date of its own: the earliest of its term's end and its endpoint's
        end (`Mapping.term_end`, `Mapping.endpoint_end`; an unreadable one is noted and left out, as one before the
        relation's start: not the term he began in, nor the post he held). None while it runs on, and when it
        ended (status) while the earliest still ran on past the day it was observed: it ended before that."""
        bounds = []
        for path, what in ((mapping.term_end, "the term"), (mapping.endpoint_end, f"its {mapping.target}")):
            bound = reader.date((path,), last_day) if path else None
            if bound is not None and start is not None and bound < start:
                reader.note(f"{path} {bound} is before the start {start}: left out")
            elif bound is not None:
                bounds.append((bound, path, what))
        if not bounds:
            return None
        bound, path, what = min(bounds)
        if ended and bound >= observed:
            return None
        reader.note(f"no endDate: read as ending with {what}, {path} {bound}")
        return bound


def _judgement(similar: Stored) -> Status:
    if similar.judgement is None:
        return UNJUDGED_SIMILAR
    status = SIMILAR_JUDGEMENTS.get(similar.judgement.strip().lower())
    if status is None:
        raise ImportSkip(SkipReason.UNREADABLE_VALUE, f"judgement {similar.judgement!r} of {similar.schema.name} "
                                                 f"{similar.id} is not one of {', '.join(SIMILAR_JUDGEMENTS)}")
    return status


def content_event_id(document: dict, importer: str = "ftm") -> str:
    """The event id of a document: a hash of everything it states, so one claim always has one id (each importer's
    ids start with its name: `ftm-`, `bods-`, `wikidata-`)."""
    content = {key: value for key, value in document.items() if key != "event_id"}
    digest = hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()
    return f"{importer}-{digest[:32]}"


def _role_key(role: str) -> str:
    return role.strip().lower().replace(" ", "_").replace("-", "_")


def _entity_ref(node: Stored, reader: _Reader | None = None) -> dict:
    schema = entity_schema_for(node.schema)
    if schema is None:
        raise ImportSkip(SkipReason.UNMAPPED_SCHEMA, f"{node.schema.name} {node.id} cannot be a relation endpoint")
    proxy = node.proxy
    # FtM's caption: the schema's preferred name property, the most representative of its values (not a
    # legal-form variant that happens to come first).
    name = proxy.caption if proxy.get_type_values(proxy.schema.get("name").type) else ""
    if name == proxy.schema.label:
        name = ""  # FtM falls back to the schema's label; nameless: validation rejects it, naming the endpoint
    countries = [c for prop in COUNTRY_PROPERTIES for c in proxy.get(prop, quiet=True)]
    aliases = [a for prop in ALIAS_PROPERTIES for a in proxy.get(prop, quiet=True)]
    ref = {
        "id": node.id,
        "schema": schema.value,
        "name": name,
        "aliases": [alias for alias in dict.fromkeys(aliases) if alias != name],
        "topics": proxy.get("topics", quiet=True),
    }
    if countries:
        ref["country"] = countries[0]
    identifiers = _identifiers(node, reader)
    if identifiers:
        ref["identifiers"] = [identifier.model_dump(exclude_none=True) for identifier in identifiers]
    return ref


def _identifiers(node: Stored, reader: _Reader | None) -> tuple:
    """The endpoint's typed identifiers: its FtM identifier properties, and its id when it is an OpenSanctions
    entity; values that fit no scheme are noted, not guessed at."""
    problems: list[str] = []
    found = merge_identifiers(
        identifiers_from_ftm({"id": node.id, "properties": node.proxy.properties}, problems),
        opensanctions_identifiers({"id": node.id, "datasets": node.datasets, "first_seen": node.first_seen,
                                   "last_change": node.last_change}))
    for problem in problems if reader is not None else ():
        reader.note(problem)
    return found


def _observed(entity: Stored) -> dt.datetime | None:
    """When the source last stated what the entity says: modifiedAt, else OpenSanctions' last_change, else
    first_seen."""
    for value in (*entity.proxy.get("modifiedAt", quiet=True)[:1], entity.last_change, entity.first_seen):
        if value:
            try:
                return read_timestamp(value)
            except UnreadableValue:
                continue
    return None


def _provenance(carrier: Stored, defaults: ImportDefaults) -> dict:
    proxy = carrier.proxy
    datasets = carrier.datasets
    source_url = (next(iter(sorted(proxy.get("sourceUrl", quiet=True))), None)
                  or (OPENSANCTIONS_DATASET_URL.format(datasets[0]) if datasets else None) or defaults.source_url)
    publisher = (next(iter(sorted(proxy.get("publisher", quiet=True))), None)
                 or (_clip("OpenSanctions: " + ", ".join(datasets), 500) if datasets else None) or defaults.publisher)
    retrieved_at = None
    for value in (*proxy.get("retrievedAt", quiet=True)[:1], carrier.last_change, carrier.first_seen):
        try:
            retrieved_at = read_timestamp(value) if value else None
        except UnreadableValue:
            retrieved_at = None
        if retrieved_at:
            break
    retrieved_at = retrieved_at or defaults.retrieved_at
    missing = [(ftm_name, option) for ftm_name, option, value in (
        ("sourceUrl", "--source-url", source_url), ("publisher", "--publisher", publisher),
        ("retrievedAt", "--retrieved-at", retrieved_at)) if value is None]
    if missing:
        raise ImportSkip(SkipReason.MISSING_PROVENANCE,
                         f"no {', '.join(name for name, _ in missing)} on the entity (nor datasets, last_change or "
                         f"first_seen) and no default for it ({', '.join(option for _, option in missing)})")
    return {
        "source_url": source_url,
        "publisher": publisher,
        "retrieved_at": retrieved_at,
        "extractor": {"name": defaults.extractor_name, "version": defaults.extractor_version},
        "confidence": defaults.confidence,
    }


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


class _Reader:
    """Reads one relation's values from its carrier (and the entity its properties also come from), noting
    every choice it makes and naming value, property and entity when a value cannot be read."""

    def __init__(self, carrier: Stored, extra: Stored | None, report: ImportReport | None,
                 ends: dict[str, Stored] | None = None):
        self.carrier = carrier
        self.extra = extra
        self.report = report
        self.ends = ends or {}  # the relation's endpoints by the carrier property naming them ("post")

    def note(self, text: str) -> None:
        if self.report is not None:
            self.report.notes.append(f"{self.carrier.schema.name} {self.carrier.id}: {text}")

    def _through(self, prop: str) -> Stored | None:
        """The entity the carrier names in `prop` that this relation reads: its endpoint there ("post"), else the
        entity its properties also come from ("contract")."""
        entity = self.ends.get(prop) or self.extra
        return entity if entity is not None and entity.id in self.carrier.proxy.get(prop, quiet=True) else None

    def _values(self, prop: str) -> tuple[str, list[str]]:
        """(where, values): the carrier's own values, else those of the entity on the path ("contract.x")."""
        first, _, rest = prop.partition(".")
        if rest:
            entity = self._through(first)
            return (prop, entity.proxy.get(rest, quiet=True)) if entity else (prop, [])
        return prop, self.carrier.proxy.get(prop, quiet=True)

    def date(self, props: tuple[str, ...], read: Callable[[str], dt.date], required: bool = False) -> dt.date | None:
        """The first property with values; several values: the earliest start, the latest end."""
        for prop in props:
            where, values = self._values(prop)
            first, _, rest = prop.partition(".")  # "contract.contractDate": what the contract's cleaning dropped
            entity = self._through(first) if rest else self.carrier
            dropped = entity.dropped.get(rest or prop, ()) if entity is not None else ()
            for value in dropped:
                problem = f"{where} {value!r} is not a date"
                if required:
                    raise ImportSkip(SkipReason.UNREADABLE_VALUE,
                                     f"{problem}; an end date that cannot be read cannot be left out")
                self.note(f"{problem}: left out")
            if not values:
                continue
            days = []
            for value in values:
                try:
                    days.append(read(value))
                except UnreadableValue as exc:
                    if required:
                        raise ImportSkip(SkipReason.UNREADABLE_VALUE, f"{where} {exc}; an end date that cannot be "
                                                                  f"read cannot be left out") from None
                    self.note(f"{where} {exc}: left out")
                    continue
                if is_partial(value):
                    self.note(f"{where} {value} read as {days[-1]}")
            if days:
                return (min if read is first_day else max)(days)
        return None

    def status(self, default: Status) -> tuple[bool, Status, bool]:
        """(ended, certainty, unknown whether it still holds) from the FtM status words; our own status words are
        what the data says about certainty, so they leave nothing unknown."""
        words = [value.strip().lower() for value in self.carrier.proxy.get("status", quiet=True)]
        ours = [Status(word) for word in words if word in Status._value2member_map_]
        return (any(word in ENDED_STATUS_WORDS for word in words), ours[0] if ours else default,
                not ours and any(word in UNKNOWN_STATUS_WORDS for word in words))

    def properties(self, spec: RelationSpec, mapping: Mapping) -> dict:
        properties: dict = {}
        schemas = [(self.carrier, "")]
        if self.extra is not None:
            schemas.append((self.extra, f"{mapping.properties_from}."))
        type_role = spec.type.value if self.carrier.schema is UNKNOWN_LINK else None
        for name in sorted(spec.properties):
            if name in ("amount", "currency", "percentage_max"):  # read with the amount, with the percentage
                continue
            for entity, prefix in schemas:
                prop = ftm_property(entity.schema.name, name)
                values = [v for v in (entity.proxy.get(prop) if prop else []) if _role_key(v) != type_role]
                if name == "role" and mapping.role and entity is self.carrier:
                    values = [mapping.role, *values]
                if not values:
                    continue
                if name == "percentage":
                    properties.update(self._share(f"{prefix}{prop}", values))
                elif name in NUMERIC_PROPERTIES:
                    number = self._number(name, f"{prefix}{prop}", values)
                    if number is not None:
                        properties[name] = number
                else:
                    text = "; ".join(dict.fromkeys(values))
                    limit = TEXT_LIMITS.get(name)
                    if limit and len(text) > limit:
                        self.note(f"{prefix}{prop} is {len(text)} characters: clipped to {limit}")
                        text = _clip(text, limit)
                    properties[name] = text
                break
        if "amount" in spec.properties:
            for entity, prefix in schemas:
                if self._money(entity, prefix, properties):
                    break
        return properties

    def _share(self, where: str, values: list[str]) -> dict[str, float]:
        """`percentage` (what the source guarantees) and `percentage_max` (the most it says the share can be) of
        the values as written ("25%", "25-50", "0-10%", "under 5%"). Several values: the highest of each, as
        `_number` reads them; a cap only where every value has one."""
        bounds = []
        for value in values:
            try:
                bounds.append(read_share(value))
            except UnreadableValue as exc:
                try:  # "30-150": the share it guarantees still reads, as a BODS share keeps its minimum
                    low = read_percentage(value)
                except UnreadableValue:
                    self.note(f"{where} {exc}: imported without it")
                else:
                    bounds.append((low, None))
                    self.note(f"{where} {exc}: read as its lower bound {low:g}%, without an upper bound")
        lows = [low for low, _ in bounds if low is not None]
        if len(set(lows)) > 1:
            self.note(f"{where} has several values {values}: the highest, {max(lows):g}, is used")
        share = {"percentage": max(lows)} if lows else {}
        if bounds and all(high is not None for _, high in bounds):
            most = max(high for _, high in bounds)
            if not lows or most > share["percentage"]:
                share["percentage_max"] = most
        if bounds and not lows:
            cap = f", at most {share['percentage_max']:g}%" if "percentage_max" in share else ""
            self.note(f"{where} {values[0] if len(values) == 1 else values!r} guarantees no stake: imported "
                      f"without a percentage{cap}")
        return share

    def _number(self, name: str, where: str, values: list[str]) -> float | None:
        """Several values: the highest (a screen must not miss the claim that crosses a threshold), noted."""
        numbers = []
        for value in values:
            try:
                numbers.append(read_number(value))
            except UnreadableValue as exc:
                self.note(f"{where} {exc}: imported without it")
        if len(set(numbers)) > 1:
            self.note(f"{where} has several values {values}: the highest, {max(numbers):g}, is used")
        return max(numbers) if numbers else None

    def _money(self, entity: Stored, prefix: str, properties: dict) -> bool:
        for prop, implied in AMOUNT_PROPERTIES:
            values = entity.proxy.get(prop, quiet=True)
            if not values:
                continue
            split = [split_currency(value) for value in values]  # "EUR 1,000,000": the amount names its currency
            amount = self._number("amount", f"{prefix}{prop}", [number for number, _ in split])
            if amount is None:
                continue
            properties["amount"] = amount
            written = sorted({code for _, code in split if code})
            currency = implied
            if currency is None:
                for value in entity.proxy.get("currency", quiet=True)[:1]:
                    try:
                        currency = read_currency(value)
                    except UnreadableValue as exc:
                        self.note(f"{prefix}currency {exc}: the amount is imported without a currency")
            if currency is None and len(written) == 1:
                currency = written[0]
            if written and written != [currency]:
                self.note(f"{prefix}{prop} {values} names {', '.join(written)}: the currency used is "
                          f"{currency or 'none (they disagree)'}")
            if currency:
                properties["currency"] = currency
            return True
        return False


def validated_event(document: dict, where: str = "") -> RelationshipEvent:
    """The document as an event the worker takes; else `ImportSkip`: refused by the contract, or larger than the
    worker accepts (it would dead-letter it: parse_event's limit). `where` opens the message (the relation id)."""
    try:
        event = validate_event(document)
    except EventRejected as rejected:
        raise ImportSkip(rejected.reason.value, where + rejected.message) from None
    size = len(event.model_dump_json(by_alias=True, exclude_none=True).encode())
    if size > DEFAULT_MAX_EVENT_BYTES:
        raise ImportSkip(RejectReason.PAYLOAD_TOO_LARGE.value,
                         f"{where}the event would be {size} bytes; the worker accepts {DEFAULT_MAX_EVENT_BYTES}")
    return event


def converted_event(document: dict, importer: str, report: ImportReport | None) -> RelationshipEvent:
    """The event of one converted record (Wikidata, KEK): its contract version, its content id (`importer`-...),
    validated as the worker validates it (else `ImportSkip`), and counted as converted."""
    document["schema_version"] = required_schema_version(document)
    document["event_id"] = content_event_id(document, importer)
    event = validated_event(document, f"{document['relation_id']}: ")
    if report is not None:
        report.converted += 1
    return event


def _record(report: ImportReport | None, skipped: Skipped) -> None:
    if report is None:
        raise FtmImportError(skipped)
    report.skipped.append(skipped)


def _describe(data: object, skip: ImportSkip) -> Skipped:
    known = data if isinstance(data, dict) else {}
    return Skipped(text_or_none(known.get("id")), text_or_none(known.get("schema")), skip.reason, skip.message)


def _embedded(value: object) -> bool:
    # yente's own test fixtures call any object with an id and a schema in a property an entity
    return isinstance(value, dict) and isinstance(value.get("id"), str) and bool(value["id"]) \
        and isinstance(value.get("schema"), str)


# What the import summary says of each kind of yente API response it read (`yente_response_entities`).
YENTE_RESPONSES: dict[str, str] = {
    "/search": "yente /search responses: their results read as entities",
    "/match": "yente /match responses: every query's results read as entities, matched or not (the query "
              "examples are not)",
    "/entities/<id>/adjacent": "yente /entities/<id>/adjacent responses: the entity and its adjacent entities read",
    "results page": "yente pages of results (/entities/<id>/adjacent/<property>): their results read as entities",
}


def _results_page(value: object) -> list | None:
    results = value.get("results") if isinstance(value, dict) else None
    return results if isinstance(results, list) else None


def yente_response_entities(value: object) -> tuple[str, list[object]] | None:
    """(endpoint, entities) of a saved yente API response; None for anything else (an entity, an error response).

    Why: a file saved from yente's API holds its response, not entities (yente/data/common.py): `/search/<dataset>`
    answers {limit, offset, total, results, facets}, `/match/<dataset>` {responses: {query key: {status, results,
    total, query}}, limit}, `/entities/<id>/adjacent` {entity, adjacent: {property: {results, total, limit,
    offset}}}. Read as an entity, each was rejected whole. Every entity a response carries is data of the dataset,
    whatever the response says about it: each /match result is read in the order given, its `match` true or false
    (a candidate below the threshold still owns what it owns), the keys a scored result adds (score, explanations,
    match) are ignored as any key FtM does not know. A /match `query` is the caller's own example echoed back,
    never data: it is not read. An /adjacent response is given back as `/entities/<id>` would nest it, its
    adjacent entities embedded under the property they hang from, so `flat_entities` restores the back reference
    to the entity that yente leaves out (an Ownership under `ownershipOwner` does not name its owner); an id
    string among the results names an entity the response does not give, and adds nothing. Results may be nested
    entities themselves: `flat_entities` flattens what this returns."""
    if not isinstance(value, dict) or "schema" in value:
        return None
    queries = value.get("responses")
    if isinstance(queries, dict) and all(_results_page(query) is not None for query in queries.values()):
        return "/match", [entity for query in queries.values() for entity in query["results"]]
    entity, adjacent = value.get("entity"), value.get("adjacent")
    if isinstance(entity, dict) and isinstance(adjacent, dict) and all(
            _results_page(page) is not None for page in adjacent.values()):
        own = entity.get("properties")
        if not isinstance(own, dict):
            return "/entities/<id>/adjacent", [entity]
        properties = dict(own)
        for name, page in adjacent.items():
            given = {item["id"]: item for item in page["results"] if _embedded(item)}
            values = own.get(name) if isinstance(own.get(name), list) else []
            kept = [given.pop(v, v) if isinstance(v, str) else v for v in values]  # an id given: its entity
            properties[name] = kept + list(given.values())
        return "/entities/<id>/adjacent", [{**entity, "properties": properties}]
    if _results_page(value) is not None and isinstance(value.get("total"), dict):
        return ("/search" if "facets" in value else "results page"), list(value["results"])
    return None


def yente_error(value: object) -> str | None:
    """What a yente error response says: {"detail": "No such entity!"} (yente's ErrorResponse), the problems a
    request validation error lists under `detail`, or {"status": "error"}, yente's answer to a server error (HTTP
    500); None for anything else."""
    if value == {"status": "error"}:
        return "a server error (HTTP 500)"
    if not isinstance(value, dict) or set(value) != {"detail"}:
        return None
    detail = value["detail"]
    if isinstance(detail, list):
        detail = "; ".join(str(item.get("msg", item)) if isinstance(item, dict) else str(item) for item in detail)
    return detail if isinstance(detail, str) and detail else None


def flat_entities(values: Iterable[object], unwrapped: Counter[str] | None = None) -> Iterator[object]:
    """FtM entities as yente's API serves them (`/entities/<id>`, nested by default) and OpenSanctions publishes
    them (`targets.nested.json`): related entities embedded as objects in `properties` instead of ids. Each is
    given as an entity of its own after the one that holds it (depth first, in input order), referenced there by
    its id; a value without embedded entities passes through as it is (no copy). A saved yente API response
    (/search, /match, /adjacent) gives its entities (`yente_response_entities`), counted by kind in `unwrapped`.

    An entity embedded under a reverse property (a person's `ownershipOwner`, the reverse of Ownership.owner)
    points back at its parent; yente leaves that back reference out whenever the embedded entity has another
    value to show there (the second of two joint owners), since the parent is implied. It is put back, so the
    relation keeps both ends. The input is never edited: `events_from_ftm` reads the same objects three times."""
    for value in _unwrapped_responses(values, unwrapped):
        if not isinstance(value, dict) or not isinstance(value.get("properties"), dict) or not any(
                _embedded(item) for items in value["properties"].values() if isinstance(items, list)
                for item in items):
            yield value
            continue
        pending = [value]
        while pending:  # a stack, not recursion: depth is whatever the file nests
            data = pending.pop()
            schema = _schema_of(data)
            properties: dict = {}
            children: list[dict] = []
            raw = data.get("properties")
            for name, items in (raw.items() if isinstance(raw, dict) else ()):
                if not isinstance(items, list):
                    properties[name] = items
                    continue
                prop = schema.get(name) if schema is not None else None
                back = prop.reverse if prop is not None and prop.stub else None  # ownershipOwner -> owner
                kept = []
                for item in items:
                    if not _embedded(item):
                        kept.append(item)
                        continue
                    kept.append(item["id"])
                    children.append(item if back is None else _with_reference(item, back, data.get("id")))
                properties[name] = kept
            yield {**data, "properties": properties} if isinstance(raw, dict) else data
            pending.extend(reversed(children))


def _unwrapped_responses(values: Iterable[object], unwrapped: Counter[str] | None) -> Iterator[object]:
    """The values, each saved yente API response replaced by the entities it carries (counted in `unwrapped`)."""
    for value in values:
        response = yente_response_entities(value)
        if response is None:
            yield value
            continue
        endpoint, entities = response
        if unwrapped is not None:
            unwrapped[YENTE_RESPONSES[endpoint]] += 1
        yield from entities


def _with_reference(child: dict, prop: Property, parent_id: object) -> dict:
    """`child` with `parent_id` among the values of `prop` (a property of the child's schema) if it lacks it."""
    schema = _schema_of(child)
    properties = child.get("properties")
    if not isinstance(parent_id, str) or schema is None or schema.get(prop.name) is not prop \
            or not isinstance(properties, dict):
        return child
    values = properties.get(prop.name)
    values = values if isinstance(values, list) else []
    if any(v == parent_id or (_embedded(v) and v["id"] == parent_id) for v in values):
        return child
    return {**child, "properties": {**properties, prop.name: [*values, parent_id]}}


def import_ftm(read: Callable[[], Iterable[object]], defaults: ImportDefaults = ImportDefaults(),
               report: ImportReport | None = None) -> Iterator[RelationshipEvent]:
    """Stream an FtM entity file: `read()` yields its entities anew for each of three passes.

    1. the ids the relation carriers reference (and how often each carrier appears, for fragments);
    2. those entities, fragments merged, and the carriers that come in fragments;
    3. the relations, in input order (a carrier in fragments at its first appearance).
    Memory holds the referenced endpoints, not the file. Entities embedded in others (nested FtM) count as entities
    of their own, and a saved yente API response gives the entities it carries (`flat_entities`; counted in the
    report's outcomes by the first pass). Without a `report`, the first entity that cannot be converted raises
    `FtmImportError`; with one, it is recorded there and the import goes on.
    """
    unflattened, read = read, _flattened(read)
    wanted: set[str] = set()
    appearances: Counter[str] = Counter()
    for data in flat_entities(unflattened(), report.outcomes if report is not None else None):  # counted once
        if isinstance(data, dict) and isinstance(data.get("id"), str):
            wanted |= referenced_ids(data)
            appearances[data["id"]] += 1
    store: dict[str, Stored] = {}
    for data in read():
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            continue
        if data["id"] in wanted or appearances[data["id"]] > 1:
            schema = _schema_of(data)
            try:
                entity = Stored.parse(data, check_dropped=bool(raw_carrier(data)) or bool(
                    schema and any(schema.is_a(name) for name in DATES_READ_THROUGH)))
            except ImportSkip:
                continue  # reported in the third pass
            if entity.id in store:
                try:
                    entity = store[entity.id].merge(entity)
                except InvalidData as exc:  # one id, two kinds of thing (files whose ids collide)
                    _record(report, Skipped(entity.id, entity.schema.name, SkipReason.INVALID_ENTITY,
                                            f"{exc}: this fragment is left out"))
                    continue
            store[entity.id] = entity
    converter = Converter(store.get, defaults, report)
    done: set[str] = set()
    ignored: dict[str, str] = {}
    for data in read():
        if isinstance(data, dict) and STATE_TRAILER in data:
            continue  # a feed state file imports as the full export it is (see FtmFeed)
        if isinstance(data, dict) and isinstance(data.get("id"), str) and data["id"] and raw_carrier(data) is False:
            if data["id"] not in wanted and data["id"] not in store:  # endpoints are read in pass 2, not here
                ignored[data["id"]] = model.get(data["schema"]).name
            continue
        try:
            entity = Stored.parse(data)
        except ImportSkip as skip:
            _record(report, _describe(data, skip))
            continue
        if entity.id in done:
            continue
        entity = store.get(entity.id, entity)
        if not carries_relations(entity):
            continue
        done.add(entity.id)
        yield from _emit(converter.relations(entity), entity, report)
    if report is not None:
        report.ignored.update(ignored.values())


def _flattened(read: Callable[[], Iterable[object]]) -> Callable[[], Iterable[object]]:
    return lambda: flat_entities(read())


def _emit(found: list[tuple[str, dict | ImportSkip]], carrier: Stored,
          report: ImportReport | None) -> Iterator[RelationshipEvent]:
    for _relation_id, document in found:
        try:
            if isinstance(document, ImportSkip):
                raise document
            event = validated_event(document)
        except ImportSkip as skip:
            _record(report, Skipped(carrier.id, carrier.schema.name, skip.reason, skip.message))
            continue
        if report is not None:
            report.converted += 1
        yield event


def events_from_ftm(entities: Iterable[object], defaults: ImportDefaults = ImportDefaults(),
                    report: ImportReport | None = None) -> Iterator[RelationshipEvent]:
    """`import_ftm` over entities already in memory (a list, or any iterable: it is read once into a list)."""
    entities = entities if isinstance(entities, list) else list(entities)
    return import_ftm(lambda: entities, defaults, report)


def referent_events(read: Callable[[], Iterable[object]], defaults: ImportDefaults = ImportDefaults(),
                    report: ImportReport | None = None) -> Iterator[RelationshipEvent]:
    """OpenSanctions' own merges as `confirmed` same_as judgements (`coi-risk import --referents`): each source
    record an entity lists in `referents` is the same as the entity (`schemas.identifiers.referent_judgements`).
    One more pass over the file; provenance as for relations (`datasets`, `last_change`, else the defaults). Only
    parties are judged (an Address's referents are no entity of ours); fragments of one entity are judged once."""
    from schemas.identifiers import referent_judgements  # noqa: PLC0415 (schemas.identifiers imports nothing of ours)

    judged: set[str] = set()
    for data in flat_entities(read()):
        if not isinstance(data, dict) or not isinstance(data.get("referents"), list) or not data["referents"]:
            continue
        try:
            entity = Stored.parse(data, check_dropped=False)
            schema = entity_schema_for(entity.schema)
            if schema not in PARTIES:
                if report is not None:
                    report.outcomes[f"referents of {entity.schema.name} entities (not parties): not judged"] += 1
                continue
            provenance = _provenance(entity, defaults)
            observed_at = _observed(entity) or provenance["retrieved_at"]
            caption = entity.proxy.caption if entity.proxy.caption != entity.schema.label else entity.id
            judgements = list(referent_judgements(
                {"id": entity.id, "schema": schema.value, "caption": caption,
                 "referents": [r for r in data["referents"] if isinstance(r, str)]},
                publisher=provenance["publisher"], source_url=provenance["source_url"], observed_at=observed_at))
        except ImportSkip as skip:
            _record(report, _describe(data, skip))
            continue
        except ValueError as exc:  # a referent id the contract cannot carry
            _record(report, _describe(data, ImportSkip(SkipReason.INVALID_ENTITY, f"referents: {exc}")))
            continue
        for judgement in judgements:
            if judgement.event_id in judged:
                continue
            try:  # what the worker would dead-letter (an observed_at outside the contract's years) is skipped here
                validated_event(judgement.model_dump(by_alias=True, exclude_none=True))
            except ImportSkip as skip:
                _record(report, _describe(data, skip))
                continue
            judged.add(judgement.event_id)
            if report is not None:
                report.converted += 1
                report.outcomes["referent judgements (same_as, confirmed)"] += 1
            yield judgement


# --- change feeds ---------------------------------------------------------------------------------------------

DELTA_OPS = frozenset({"ADD", "MOD", "DEL"})
STATE_TRAILER = "coi_risk_feed_state"


class FtmFeed:
    """Applies OpenSanctions/yente delta lines in order and says which events they imply.

    ADD and MOD replace the entity (a MOD's values replace the old ones, they are not merged); DEL removes it.
    After each line, the relations of the entity and of every entity that references it are recomputed: a
    relation whose document changed is upserted, one that no longer exists (its carrier or an endpoint deleted,
    or its endpoint changed) is retracted, with the document it last had. A relation's versions never go back in
    time: a new version is stamped at least one second after the one before (a MOD may carry an older
    last_change than the ADD it replaces), and a retraction at the feed's latest time or that second later.

    The state this needs is the current entities plus the last version of each relation: `state()` writes it as
    FtM entity lines (importing them as a full export gives the same relations) and one trailer line; pass it
    back with `FtmFeed(..., state=lines)` to continue a feed in a later run.
    """

    def __init__(self, defaults: ImportDefaults = ImportDefaults(), report: ImportReport | None = None,
                 state: Iterable[dict] = ()):
        self.report = report
        self.entities: dict[str, Stored] = {}
        self.referrers: defaultdict[str, set[str]] = defaultdict(set)
        self.stamps: dict[str, str] = {}  # relation id -> observed_at (ISO) of its last event
        self.clock: dt.datetime | None = None
        self.failing: dict[str, list[Skipped]] = {}  # carrier id -> what it cannot state yet
        self.converter = Converter(self.entities.get, defaults, None)
        for data in state:
            if STATE_TRAILER in data:
                trailer = data[STATE_TRAILER]
                self.stamps = dict(trailer.get("stamps", {}))
                self.clock = read_timestamp(trailer["clock"]) if trailer.get("clock") else None
            else:
                self._put(Stored.parse(data))

    def _put(self, entity: Stored) -> None:
        self.entities[entity.id] = entity
        for referenced in referenced_ids(entity.proxy.to_dict()):
            self.referrers[referenced].add(entity.id)

    def _remove(self, entity_id: str) -> None:
        old = self.entities.pop(entity_id, None)
        if old is not None:
            for referenced in referenced_ids(old.proxy.to_dict()):
                self.referrers[referenced].discard(entity_id)

    def _affected(self, entity_id: str) -> list[str]:
        """The entity and every carrier reading it, directly or through a contract."""
        found = {entity_id} | self.referrers.get(entity_id, set())
        for referrer in list(found):
            found |= self.referrers.get(referrer, set())
        return sorted(found)

    def _current(self, carriers: list[str]) -> dict[str, dict]:
        """The documents the carriers state now; what they cannot state is kept in `failing` until it can."""
        documents = {}
        for carrier_id in carriers:
            entity = self.entities.get(carrier_id)
            self.failing.pop(carrier_id, None)
            if entity is None or not carries_relations(entity):
                continue
            for relation_id, document in self.converter.relations(entity):
                if isinstance(document, dict):  # a document the contract rejects cannot be stated either
                    try:
                        validated_event(document)
                    except ImportSkip as skip:
                        document = skip
                if isinstance(document, dict):
                    documents[relation_id] = document
                else:
                    self.failing.setdefault(carrier_id, []).append(
                        Skipped(entity.id, entity.schema.name, document.reason, document.message))
        return documents

    def report_failures(self) -> None:
        """Record what still cannot be converted at the end of a feed (a link ADDed before its endpoints is not
        a failure once they arrive)."""
        for carrier_id in sorted(self.failing):
            for skipped in self.failing[carrier_id]:
                _record(self.report, skipped)
        self.failing.clear()

    def apply(self, line: object) -> Iterator[RelationshipEvent]:
        """The events one delta line implies, in relation id order."""
        op, entity_data = self._parse(line)
        entity_id = entity_data["id"]
        carriers = self._affected(entity_id)
        before = self._current(carriers)
        if op == "DEL":
            self._remove(entity_id)
        else:
            try:
                entity = Stored.parse(entity_data)
            except ImportSkip as skip:
                _record(self.report, _describe(entity_data, skip))
                return
            self._remove(entity_id)
            self._put(entity)
            carriers = sorted(set(carriers) | set(self._affected(entity_id)))
        after = self._current(carriers)
        if self.report is not None:
            self.report.outcomes[f"delta {op}"] += 1
        for relation_id in sorted(set(before) | set(after)):
            old, new = before.get(relation_id), after.get(relation_id)
            if new is not None and (old is None or old["event_id"] != new["event_id"]
                                    or relation_id not in self.stamps):
                yield self._upsert(new)
            elif new is None and old is not None:
                yield self._retract(old)

    def _parse(self, line: object) -> tuple[str, dict]:
        if not isinstance(line, dict) or line.get("op") not in DELTA_OPS or not isinstance(line.get("entity"), dict):
            raise ImportSkip(SkipReason.INVALID_DELTA, 'a delta line is {"op": "ADD"|"MOD"|"DEL", "entity": {...}}')
        if not isinstance(line["entity"].get("id"), str) or not line["entity"]["id"]:
            raise ImportSkip(SkipReason.INVALID_DELTA, "the delta's entity has no id")
        return line["op"], line["entity"]

    def _stamp(self, relation_id: str, moment: dt.datetime) -> dt.datetime:
        previous = self.stamps.get(relation_id)
        if previous is not None and moment <= read_timestamp(previous):
            moment = read_timestamp(previous) + _ONE_SECOND
        self.stamps[relation_id] = moment.isoformat()
        self.clock = max(self.clock, moment) if self.clock else moment
        return moment

    def _upsert(self, document: dict) -> RelationshipEvent:
        document = dict(document)
        document["observed_at"] = self._stamp(document["relation_id"], document["observed_at"])
        document["event_id"] = content_event_id(document)
        if self.report is not None:
            self.report.converted += 1
        return validate_event(document)

    def _retract(self, old: dict) -> RelationshipEvent:
        document = dict(old, op="retract")
        document["observed_at"] = self._stamp(old["relation_id"], max(self.clock or old["observed_at"],
                                                                       old["observed_at"]))
        document["event_id"] = content_event_id(document)
        if self.report is not None:
            self.report.retracted += 1
        return validate_event(document)

    def state(self) -> Iterator[dict]:
        """The replayable state: current entities in id order, then the trailer with the relation versions."""
        for entity_id in sorted(self.entities):
            yield self.entities[entity_id].to_dict()
        yield {STATE_TRAILER: {"stamps": dict(sorted(self.stamps.items())),
                               "clock": self.clock.isoformat() if self.clock else None}}


def events_from_delta(lines: Iterable[object], defaults: ImportDefaults = ImportDefaults(),
                      report: ImportReport | None = None, feed: FtmFeed | None = None) -> Iterator[RelationshipEvent]:
    """The events a delta feed implies, line by line (a new `FtmFeed` unless one is given)."""
    feed = feed or FtmFeed(defaults, report)
    for number, line in enumerate(lines, start=1):
        try:
            yield from feed.apply(line)
        except ImportSkip as skip:
            _record(report, Skipped(None, None, skip.reason, f"line {number}: {skip.message}"))
    feed.report_failures()


# --- export ---------------------------------------------------------------------------------------------------

def ftm_from_events(events: Iterable[RelationshipEvent]) -> Iterator[dict]:
    """The current state the events describe, as FtM entity dicts: endpoints first, then one interval entity per
    relation (id = relation_id). Events apply in observed_at order, ties in input order; a retract removes the
    relation, and an entity no remaining relation references is left out."""
    current: dict[str, RelationshipEvent] = {}
    for event in sorted(events, key=lambda e: _utc(e.observed_at)):
        if event.spec.resolution:
            continue  # a same_as judgement is not a relation between two FtM entities (scoring.resolution)
        if event.op == "retract":
            current.pop(event.relation_id, None)
        else:
            current[event.relation_id] = event
    endpoints: dict[str, EntityRef] = {}
    for event in sorted(current.values(), key=lambda e: _utc(e.observed_at)):
        endpoints.update({event.source.id: event.source, event.target.id: event.target})
    for ref in _first_seen_order(current.values(), endpoints):
        yield _entity_from_ref(ref).to_dict()
    for event in current.values():
        link = _link_from_event(event)
        if link.schema is CONTRACT_AWARD:
            yield _contract_for(event).to_dict()
        yield link.to_dict()


def _first_seen_order(events: Iterable[RelationshipEvent], latest: dict[str, EntityRef]) -> list[EntityRef]:
    ids = dict.fromkeys(ref.id for event in events for ref in (event.source, event.target))
    return [latest[entity_id] for entity_id in ids]


def _entity_from_ref(ref: EntityRef) -> EntityProxy:
    entity = model.make_entity(ref.schema_.value)
    entity.id = ref.id
    entity.add("name", ref.name)
    entity.add("alias", ref.aliases)
    entity.add("country", ref.country)
    entity.add("topics", ref.topics)
    for identifier in ref.identifiers:  # FtM's property for the scheme; the opensanctions id has none: lost
        prop = IDENTIFIER_SCHEMES[identifier.scheme].ftm_property
        if prop and prop in entity.schema.properties:
            entity.add(prop, identifier.value)
            if identifier.jurisdiction and "jurisdiction" in entity.schema.properties:
                entity.add("jurisdiction", identifier.jurisdiction)  # where a register number is placed back
    return entity


def _contract_id(event: RelationshipEvent) -> str:
    return f"{event.relation_id}.contract"


def _contract_for(event: RelationshipEvent) -> EntityProxy:
    """The Contract an exported ContractAward belongs to: its authority is the relation's source."""
    contract = model.make_entity("Contract")
    contract.id = _contract_id(event)
    contract.add("authority", event.source.id)
    contract.add("title", event.properties.purpose or event.properties.role or event.relation_type.value)
    contract.add("sourceUrl", event.provenance.source_url)
    contract.add("publisher", event.provenance.publisher)
    contract.add("modifiedAt", _ftm_time(event.observed_at))
    return contract


def _link_from_event(event: RelationshipEvent) -> EntityProxy:
    schema = ftm_schema_for(event)
    link = model.make_entity(schema)
    link.id = event.relation_id
    if schema is CONTRACT_AWARD:
        link.add("contract", _contract_id(event))
        link.add("supplier", event.target.id)
    else:
        link.add(schema.edge_source, event.source.id)
        link.add(schema.edge_target, event.target.id)
    if schema is UNKNOWN_LINK:
        link.add("role", event.relation_type.value)
    given = event.properties.set_fields()
    if "percentage_max" in given:  # one FtM value for both bounds, as FtM writes a range: "0-10", "10-25"
        given = (given - {"percentage_max"}) | {"percentage"}
    for name in sorted(given):
        prop = ftm_property(schema.name, name)
        if prop:
            link.add(prop, _share_text(event.properties) if name == "percentage"
                     else _text(getattr(event.properties, name)))
    link.add("startDate", event.start_date)
    link.add("endDate", event.end_date)
    link.add("status", event.status.value, quiet=True)  # Family, Associate, Payment and Debt have none
    link.add("sourceUrl", event.provenance.source_url)
    link.add("publisher", event.provenance.publisher)
    link.add("retrievedAt", _ftm_time(event.provenance.retrieved_at))
    link.add("modifiedAt", _ftm_time(event.observed_at))
    return link


def _share_text(properties: RelationProperties) -> str:
    low, high = properties.percentage, properties.percentage_max
    if high is None or high == low:
        return _text(low)
    return f"{_text(low or 0.0)}-{_text(high)}"


_LIKE_THOUSANDS = re.compile(r"^-?[1-9][0-9]{0,2}\.[0-9]{3}$")


def _text(value: float | str) -> str:
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        # positional, as repr's shortest digits: below 0.0001 repr writes "5e-05", which no reader takes for a number
        text = format(Decimal(repr(value)), "f")
        # "1.234" reads back as 1234, a group of thousands (`values.read_number`): a fourth decimal keeps it a fraction
        return text + "0" if _LIKE_THOUSANDS.match(text) else text
    return value


def _utc(moment: dt.datetime) -> dt.datetime:
    # The contract allows offset-less times; read them as UTC so they order against the others.
    return moment.astimezone(dt.UTC) if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _ftm_time(moment: dt.datetime) -> str:
    # FtM drops the seconds of a time written with "Z"; without an offset it keeps them.
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%S")
