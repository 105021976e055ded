"""Helpers for the resolution tests: judgement events, and the resolved graph computed from scratch (the reference
the incremental layer must equal)."""

from __future__ import annotations

import datetime as dt
import itertools

from schemas.events import EntityRef, Op, RelationshipEvent
from schemas.vocabulary import MERGING_JUDGEMENT
from scoring import Engine
from scoring.clusters import Clusters
from scoring.graph import naming, publisher_key, utc
from scoring.resolution import JUDGED_NAME_VERSION, ResolvingEngine, _identifier_edges, _kind, _Known

from .conftest import BASE_TIME, CAST, content

_numbers = itertools.count(1)


def ref(entity) -> dict:
    if isinstance(entity, dict):
        return entity
    if isinstance(entity, tuple):
        entity_id, schema, name, topics = entity[:4]
        document = {"id": entity_id, "schema": schema, "name": name, "topics": list(topics)}
        if len(entity) > 4:
            document["identifiers"] = list(entity[4])
        return document
    schema, name, topics = CAST[entity]
    return {"id": entity, "schema": schema, "name": name, "topics": list(topics)}


def judgement(a, b, status: str = "confirmed", *, op: str = "upsert", relation_id: str | None = None,
              event_id: str | None = None, observed_at: dt.datetime | str | None = None,
              publisher: str = "Analyst desk", matcher: str | None = "analyst", **properties) -> RelationshipEvent:
    number = next(_numbers)
    src, tgt = ref(a), ref(b)
    if observed_at is None:
        observed_at = BASE_TIME + dt.timedelta(minutes=number)
    return RelationshipEvent.model_validate({
        "schema_version": "1.1", "event_id": event_id or f"judge-{number:05d}", "op": op,
        "relation_id": relation_id or f"same-{min(src['id'], tgt['id'])}-{max(src['id'], tgt['id'])}",
        "relation_type": "same_as", "source": src, "target": tgt, "status": status,
        "properties": {"matcher": matcher, **properties} if matcher else properties,
        "observed_at": observed_at.isoformat() if isinstance(observed_at, dt.datetime) else observed_at,
        "provenance": {"source_url": "https://example.org/review", "publisher": publisher,
                       "retrieved_at": "2025-06-01T00:00:00Z", "extractor": {"name": "review", "version": "1"},
                       "confidence": 1.0}})


def resolved_from_scratch(events: list[RelationshipEvent], config) -> Engine:
    """The resolved graph computed in one pass over the final state: clusters from the final judgements and
    identifiers, each relation's current version rewritten to canonical ends, loaded into a fresh engine."""
    layer = ResolvingEngine(config)  # used only for its bookkeeping of refs and identifiers, never applied to
    version = lambda e: (utc(e.observed_at), e.event_id)  # noqa: E731
    seen, current, judgements = set(), {}, {}
    refs: dict[str, tuple] = {}
    stood_in: dict[str, tuple] = {}  # id named only by judgements -> the version of the newest naming it
    for event in events:
        if event.event_id in seen:
            continue
        seen.add(event.event_id)
        for end in (event.source, event.target):
            if event.spec.resolution:  # a judgement only names ids nothing else names (scoring.resolution): the
                # newest judgement naming such an id gives its stand-in
                if end.id not in stood_in and end.id in refs:
                    continue
                if end.id not in refs or version(event) > stood_in[end.id]:
                    stood_in[end.id] = version(event)
                    refs[end.id] = (JUDGED_NAME_VERSION, end.model_copy(update={"identifiers": ()}))
            elif end.id not in refs or end.id in stood_in \
                    or naming(end, version(event)) > naming(refs[end.id][1], refs[end.id][0]):
                stood_in.pop(end.id, None)  # (a reference named by its own id gives way to one naming it)
                refs[end.id] = (version(event), end)
        table = judgements if event.spec.resolution else current
        if event.relation_id not in table or version(event) > version(table[event.relation_id]):
            table[event.relation_id] = event
    # an id's identifiers are those the current upsert versions of relations state of it (a retraction or a
    # correction withdraws them); a strong one joins its holders of one kind as `_identifier_edges` says
    holders: dict[tuple, set[str]] = {}
    for event in sorted(current.values(), key=lambda e: e.event_id):
        if event.op is not Op.UPSERT:
            continue
        for end in (event.source, event.target):
            for identifier in end.identifiers:
                layer._identifiers.setdefault(end.id, {}).setdefault(identifier.key, identifier)
                if identifier.strong:
                    holders.setdefault((_kind(end.schema_), *identifier.key), set()).add(end.id)
    added = {edge.key: edge for key, ids in holders.items()
             for edge in _identifier_edges(key, layer._identifiers[min(ids)][key[1:]], sorted(ids))}
    layer._refs = {entity_id: _Known(held, ref) for entity_id, (held, ref) in refs.items()}
    # an id's topics: each publisher's newest current upsert version giving it any, together (a stand-in's: the
    # judgement's)
    words: dict[tuple[str, str], tuple] = {}  # (id, publisher) -> (version, topics)
    for event in current.values():
        if event.op is Op.UPSERT:
            given: dict[str, set[str]] = {}
            for end in (event.source, event.target):
                if end.topics:
                    given.setdefault(end.id, set()).update(end.topics)
            for entity_id, topics in given.items():
                key = (entity_id, publisher_key(event.provenance.publisher))
                if key not in words or version(event) > words[key][0]:
                    words[key] = (version(event), topics)
    stated_topics: dict[str, set[str]] = {}
    for (entity_id, _), (_, topics) in words.items():
        stated_topics.setdefault(entity_id, set()).update(topics)
    for entity_id, known in layer._refs.items():
        if entity_id not in stood_in:
            known.topics = tuple(sorted(stated_topics.get(entity_id, ())))
    clusters = Clusters()
    from scoring.clusters import JUDGEMENT, Edge
    judged = [Edge((JUDGEMENT, rid), JUDGEMENT, e.source.id, e.target.id, e.status == MERGING_JUDGEMENT, e)
              for rid, e in sorted(judgements.items())
              if e.op is Op.UPSERT and e.status in ("confirmed", "denied")]
    clusters.change([], [*judged, *added.values()], kind_of=layer._kind_of)  # a person is no company
    layer.clusters = clusters
    engine = Engine(config)
    rewritten = []
    for rid in sorted(current):
        event = current[rid]
        source, target = clusters.canonical(event.source.id), clusters.canonical(event.target.id)
        live = event.op is Op.UPSERT and source != target
        rewritten.append(event.model_copy(update={
            "op": Op.UPSERT if live else Op.RETRACT,
            "source": layer._merged_ref(source), "target": layer._merged_ref(target)}))
    engine.load(rewritten)
    return engine


def unmerged_content(score) -> dict:
    data = content(score)
    for field in ("actor_merged_ids", "counterparty_merged_ids", "merges"):
        data.pop(field)
    return data


def layer_state(layer) -> dict:
    return {(s.actor_id, s.counterparty_id): unmerged_content(s) for s in layer.scores()}


def engine_state(engine: Engine) -> dict:
    return {(s.actor_id, s.counterparty_id): unmerged_content(s) for s in engine.scores()}


def identified(event: RelationshipEvent, end: str, *identifiers: dict) -> RelationshipEvent:
    """The event (contract 1.1) with these identifiers on its `end` ("source" or "target")."""
    from schemas.validation import validate_event

    document = event.model_dump(mode="json", by_alias=True, exclude_none=True)
    document["schema_version"] = "1.1"
    document[end]["identifiers"] = list(identifiers)
    return validate_event(document)


__all__ = ["EntityRef", "judgement", "layer_state", "engine_state", "ref", "resolved_from_scratch",
           "unmerged_content", "identified"]
