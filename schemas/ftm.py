"""FollowTheMoney interop: FtM entity JSON in, relationship events out, and the way back.

Import (`events_from_ftm`) turns every FtM interval entity whose schema a relation type maps onto (see
`schemas.vocabulary.RELATIONS`), or an `UnknownLink` whose `role` names one of our relation types, into one
upsert event; the entities it references become the event's endpoints. Export (`ftm_from_events`) writes the
current state a stream of events describes: one FtM entity per endpoint and one interval entity per relation.

What does not survive a round trip (docs/events.md, "FollowTheMoney"):
- event_id, op, quote, extractor and confidence: FtM has no place for them. An import derives the event id
  from the FtM content and takes confidence and extractor from `ImportDefaults`.
- status, where the FtM schema has no `status` (Family, Associate, Payment, Debt): the import default applies.
- properties the exported FtM schema lacks: every property but role and summary of a relation written as an
  UnknownLink (our own types, and those whose endpoints fall outside the FtM ranges: see `ftm_schema_for`).
- retracted relations and superseded versions: the export is a snapshot, the latest version of each relation.
- sub-second precision of observed_at and retrieved_at.
- an entity that events name with different attributes (name, aliases, country, topics) keeps the latest.
- partial FtM dates (2024, 2024-05) are read as the first day of the period, with a note in the report.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from followthemoney import model
from followthemoney.exc import InvalidData
from followthemoney.proxy import EntityProxy
from followthemoney.schema import Schema
from followthemoney.types import registry

from schemas.events import SCHEMA_VERSION, EntityRef, RelationProperties, RelationshipEvent
from schemas.validation import EventRejected, validate_event
from schemas.vocabulary import RELATIONS, EntitySchema, RelationSpec, Status

FTM_IMPORT_VERSION = "1.0"  # bump when the mapping changes what an import yields

# Our relation property -> the FtM property that carries it.
FTM_PROPERTY: dict[str, str] = {
    "percentage": "percentage",
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
}
NUMERIC_PROPERTIES = frozenset(name for name, info in RelationProperties.model_fields.items()
                               if info.annotation == float | None)

# The endpoint's country: the first of these properties its FtM schema has and fills.
COUNTRY_PROPERTIES = ("country", "jurisdiction", "nationality", "citizenship", "mainCountry")

UNKNOWN_LINK = model.schemata["UnknownLink"]
RELATION_BY_FTM_SCHEMA: dict[str, RelationSpec] = {
    spec.ftm_schema: spec for spec in RELATIONS.values() if spec.ftm_native}
# An UnknownLink's role names the relation type: ours FtM has no schema for, or any type whose endpoints do not
# fit its FtM schema (an Ownership's asset must be an FtM Asset, so owning an Organization is exported this way).
RELATION_BY_ROLE: dict[str, RelationSpec] = {spec.type.value: spec for spec in RELATIONS.values()}


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


def ftm_schema_for(event: RelationshipEvent) -> Schema:
    """The relation's own FtM schema when both endpoints fit its ranges, else UnknownLink."""
    schema = model.schemata[event.spec.ftm_schema]
    fits = all(model.schemata[ref.schema_.value].is_a(schema.properties[prop].range)
               for ref, prop in ((event.source, event.spec.ftm_source), (event.target, event.spec.ftm_target)))
    return schema if fits else UNKNOWN_LINK


# --- import ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ImportDefaults:
    """Provenance for FtM entities that carry none of their own (most interval entities carry none)."""

    publisher: str | None = None
    source_url: str | None = None
    retrieved_at: dt.datetime | None = None
    confidence: float = 0.8
    status: Status = Status.CONFIRMED
    extractor_name: str = "ftm-import"
    extractor_version: str = FTM_IMPORT_VERSION


class SkipReason(StrEnum):
    """Why an FtM entity yielded no event; validation failures use the dead-letter reason codes instead."""

    INVALID_ENTITY = "invalid_entity"
    UNMAPPED_SCHEMA = "unmapped_schema"
    UNKNOWN_ROLE = "unknown_role"
    MISSING_ENDPOINT = "missing_endpoint"
    MISSING_PROVENANCE = "missing_provenance"


@dataclass(frozen=True)
class Skipped:
    entity_id: str | None
    schema: str | None
    reason: str
    message: str

    def __str__(self) -> str:
        return f"{self.schema or '?'} {self.entity_id or '?'}: {self.reason}: {self.message}"


@dataclass
class ImportReport:
    converted: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    ignored: Counter[str] = field(default_factory=Counter)  # schema -> entities neither relation nor endpoint

    def skip_reasons(self) -> Counter[str]:
        return Counter(skip.reason for skip in self.skipped)


class FtmImportError(ValueError):
    """Raised by a strict import (no report given) at the first entity it cannot convert."""

    def __init__(self, skipped: Skipped):
        super().__init__(str(skipped))
        self.skipped = skipped


class _Skip(Exception):
    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


def events_from_ftm(entities: Iterable[dict], defaults: ImportDefaults = ImportDefaults(),
                    report: ImportReport | None = None) -> Iterator[RelationshipEvent]:
    """One upsert event per convertible FtM interval entity, in input order.

    Reads all entities before yielding: FtM streams list relations and their endpoints in any order. Fragments
    with the same id are merged, as FtM tools do. Without a `report`, the first entity that cannot be converted
    raises `FtmImportError`; with one, it is recorded there and the import goes on.
    """
    nodes: dict[str, EntityProxy] = {}
    links: dict[str, EntityProxy] = {}
    for data in entities:
        try:
            proxy = _proxy(data)
            pool = links if proxy.schema.edge else nodes
            pool[proxy.id] = pool[proxy.id].merge(proxy) if proxy.id in pool else proxy
        except _Skip as skip:
            _record(report, _describe(data, skip))
        except InvalidData as exc:
            _record(report, _describe(data, _Skip(SkipReason.INVALID_ENTITY, str(exc))))
    referenced: set[str] = set()
    for link in links.values():
        referenced.update(link.get_type_values(registry.entity))
        try:
            event = _event_from_link(link, nodes, defaults, report)
        except _Skip as skip:
            _record(report, Skipped(link.id, link.schema.name, skip.reason, skip.message))
            continue
        if report is not None:
            report.converted += 1
        yield event
    if report is not None:
        report.ignored.update(node.schema.name for node_id, node in nodes.items() if node_id not in referenced)


def _proxy(data: object) -> EntityProxy:
    if not isinstance(data, dict):
        raise _Skip(SkipReason.INVALID_ENTITY, f"an FtM entity is a JSON object, got {type(data).__name__}")
    proxy = model.get_proxy(data, cleaned=False)  # re-clean: the input is untrusted
    if not proxy.id:
        raise _Skip(SkipReason.INVALID_ENTITY, "entity has no id")
    return proxy


def _describe(data: object, skip: _Skip) -> Skipped:
    known = data if isinstance(data, dict) else {}
    return Skipped(known.get("id"), known.get("schema"), skip.reason, skip.message)


def _record(report: ImportReport | None, skipped: Skipped) -> None:
    if report is None:
        raise FtmImportError(skipped)
    report.skipped.append(skipped)


def _event_from_link(link: EntityProxy, nodes: dict[str, EntityProxy], defaults: ImportDefaults,
                     report: ImportReport | None) -> RelationshipEvent:
    spec = _relation_spec(link)
    source = _endpoint(link, link.schema.edge_source, nodes)
    target = _endpoint(link, link.schema.edge_target, nodes)
    dates = _DateReader(link, report)
    provenance = _provenance(link, dates, defaults)
    document = {
        "schema_version": SCHEMA_VERSION,
        "event_id": _event_id(link, source, target),
        "op": "upsert",
        "relation_id": link.id,
        "relation_type": spec.type.value,
        "source": _entity_ref(source),
        "target": _entity_ref(target),
        "properties": _relation_properties(link, spec),
        "start_date": dates.first_date("startDate", "date"),
        "end_date": dates.last_date("endDate"),
        "status": _status(link, defaults),
        "observed_at": dates.timestamp("modifiedAt") or provenance["retrieved_at"],
        "provenance": provenance,
    }
    try:
        return validate_event(document)
    except EventRejected as rejected:
        raise _Skip(rejected.reason.value, rejected.message) from None


def _relation_spec(link: EntityProxy) -> RelationSpec:
    if link.schema.name in RELATION_BY_FTM_SCHEMA:
        return RELATION_BY_FTM_SCHEMA[link.schema.name]
    if link.schema is not UNKNOWN_LINK:
        raise _Skip(SkipReason.UNMAPPED_SCHEMA, f"no relation type maps FtM schema {link.schema.name}")
    named = {RELATION_BY_ROLE[key] for key in map(_role_key, link.get("role")) if key in RELATION_BY_ROLE}
    if len(named) != 1:
        raise _Skip(SkipReason.UNKNOWN_ROLE,
                    f"UnknownLink role {link.get('role')} must name exactly one relation type: "
                    f"{', '.join(sorted(RELATION_BY_ROLE))}")
    return named.pop()


def _role_key(role: str) -> str:
    return role.strip().lower().replace(" ", "_").replace("-", "_")


def _endpoint(link: EntityProxy, prop: str, nodes: dict[str, EntityProxy]) -> EntityProxy:
    ids = link.get(prop)
    if len(ids) != 1:
        raise _Skip(SkipReason.MISSING_ENDPOINT, f"{prop} must reference exactly one entity, got {ids}")
    if ids[0] not in nodes:
        raise _Skip(SkipReason.MISSING_ENDPOINT, f"{prop} {ids[0]} is not in the input")
    return nodes[ids[0]]


def _event_id(link: EntityProxy, source: EntityProxy, target: EntityProxy) -> str:
    # Only id, schema and properties: FtM exports stamp volatile fields (last_seen) that do not change the claim.
    content = [{"id": p.id, "schema": p.schema.name, "properties": p.properties} for p in (link, source, target)]
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
    return f"ftm-{digest[:32]}"


def _entity_ref(node: EntityProxy) -> dict:
    schema = entity_schema_for(node.schema)
    if schema is None:
        raise _Skip(SkipReason.UNMAPPED_SCHEMA, f"{node.schema.name} {node.id} cannot be a relation endpoint")
    names = node.get("name")
    name = names[0] if names else ""  # nameless: validation rejects it with a message naming the endpoint
    countries = [c for prop in COUNTRY_PROPERTIES for c in node.get(prop, quiet=True)]
    ref = {
        "id": node.id,
        "schema": schema.value,
        "name": name,
        "aliases": [alias for alias in dict.fromkeys(names[1:] + node.get("alias")) if alias != name],
        "topics": node.get("topics"),
    }
    if countries:
        ref["country"] = countries[0]
    return ref


def _relation_properties(link: EntityProxy, spec: RelationSpec) -> dict:
    # In an UnknownLink the role naming the relation type is the type, not a property of it.
    type_role = spec.type.value if link.schema is UNKNOWN_LINK else None
    properties = {}
    for name in sorted(spec.properties):
        prop = ftm_property(link.schema.name, name)
        values = [v for v in (link.get(prop) if prop else []) if _role_key(v) != type_role]
        if values:
            properties[name] = values[0] if name in NUMERIC_PROPERTIES else "; ".join(values)
    if "currency" in properties:  # FtM keeps a currency as written; the contract wants ISO 4217's upper case
        properties["currency"] = properties["currency"].upper()
    return properties


def _status(link: EntityProxy, defaults: ImportDefaults) -> str:
    # FtM statuses are free text (active, former...); only ours say how sure the source is.
    ours = [value for value in link.get("status", quiet=True) if value in Status._value2member_map_]
    return ours[0] if ours else defaults.status.value


def _provenance(link: EntityProxy, dates: _DateReader, defaults: ImportDefaults) -> dict:
    source_url = next(iter(link.get("sourceUrl")), None) or defaults.source_url
    publisher = next(iter(link.get("publisher")), None) or defaults.publisher
    retrieved_at = dates.timestamp("retrievedAt") or defaults.retrieved_at
    missing = [(ftm_name, option) for ftm_name, option, value in (
        ("sourceUrl", "--source-url", source_url), ("publisher", "--publisher", publisher),
        ("retrievedAt", "--retrieved-at", retrieved_at)) if value is None]
    if missing:
        raise _Skip(SkipReason.MISSING_PROVENANCE,
                    f"no {', '.join(name for name, _ in missing)} on the entity and no default for it "
                    f"({', '.join(option for _, option in missing)})")
    return {
        "source_url": source_url,
        "publisher": publisher,
        "retrieved_at": retrieved_at,
        "extractor": {"name": defaults.extractor_name, "version": defaults.extractor_version},
        "confidence": defaults.confidence,
    }


class _DateReader:
    """Reads FtM dates, which may be partial (2024, 2024-05): each reads as the first day, and the report says so."""

    def __init__(self, link: EntityProxy, report: ImportReport | None):
        self.link = link
        self.report = report

    def first_date(self, *props: str) -> dt.date | None:
        days = self._days(props)
        return min(days) if days else None

    def last_date(self, *props: str) -> dt.date | None:
        days = self._days(props)
        return max(days) if days else None

    def timestamp(self, prop: str) -> dt.datetime | None:
        values = self.link.get(prop)
        if not values:
            return None
        # FtM writes times in UTC without an offset, and may stop at the date or the minute.
        time_of_day = dt.time.fromisoformat(values[0][11:]) if "T" in values[0] else dt.time()
        return dt.datetime.combine(self._day(prop, values[0]), time_of_day, tzinfo=dt.UTC)

    def _days(self, props: tuple[str, ...]) -> list[dt.date]:
        """All values of the first property that has any: startDate wins over date."""
        for prop in props:
            if values := self.link.get(prop):
                return [self._day(prop, value) for value in values]
        return []

    def _day(self, prop: str, value: str) -> dt.date:
        day = value[:10]
        padding = {4: "-01-01", 7: "-01"}.get(len(day), "")
        if padding and self.report is not None:
            self.report.notes.append(
                f"{self.link.schema.name} {self.link.id}: {prop} {value} read as {day + padding}")
        return dt.date.fromisoformat(day + padding)


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
        yield _link_from_event(event).to_dict()


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
    return entity


def _link_from_event(event: RelationshipEvent) -> EntityProxy:
    schema = ftm_schema_for(event)
    link = model.make_entity(schema)
    link.id = event.relation_id
    link.add(schema.edge_source, event.source.id)
    link.add(schema.edge_target, event.target.id)
    if schema is UNKNOWN_LINK:
        link.add("role", event.relation_type.value)
    for name in sorted(event.properties.set_fields()):
        prop = ftm_property(schema.name, name)
        if prop:
            link.add(prop, _text(getattr(event.properties, name)))
    link.add("startDate", event.start_date)
    link.add("endDate", event.end_date)
    link.add("status", event.status.value, quiet=True)  # Family, Associate, Payment and Debt have none
    link.add("sourceUrl", event.provenance.source_url)
    link.add("publisher", event.provenance.publisher)
    link.add("retrievedAt", _ftm_time(event.provenance.retrieved_at))
    link.add("modifiedAt", _ftm_time(event.observed_at))
    return link


def _text(value: float | str) -> str:
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return value


def _utc(moment: dt.datetime) -> dt.datetime:
    # The contract allows offset-less times; read them as UTC so they order against the others.
    return moment.astimezone(dt.UTC) if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _ftm_time(moment: dt.datetime) -> str:
    # FtM drops the seconds of a time written with "Z"; without an offset it keeps them.
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%S")
