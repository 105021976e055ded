"""FollowTheMoney data as resolution evidence: an entity's typed identifiers, and the merges OpenSanctions already
made (an entity's `referents`) as `same_as` judgements.

For the FtM importers: `identifiers_from_ftm(entity)` reads the identifier properties of `IDENTIFIER_SCHEMES`
(`wikidataId`, `leiCode`, `registrationNumber` with the entity's jurisdiction or country...). A value that does not
fit its scheme is left out and reported, never guessed at.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator

from pydantic import ValidationError

from schemas.events import SCHEMA_VERSION, EntityIdentifier, EntityRef, RelationshipEvent
from schemas.vocabulary import IDENTIFIER_SCHEMES

# Where an FtM entity says where a jurisdiction-bound number is valid, in order of preference.
_JURISDICTION_PROPERTIES = ("jurisdiction", "country", "mainCountry")


def identifiers_from_ftm(entity: dict, problems: list[str] | None = None) -> tuple[EntityIdentifier, ...]:
    """The typed identifiers of an FtM entity dict (`{"properties": {...}}`), sorted, without duplicates.

    A jurisdiction-bound scheme takes the entity's single jurisdiction (or country); with none or several the value
    cannot be placed and is skipped. Rejected values are described in `problems` when given."""
    properties = entity.get("properties", {})
    jurisdictions = next((properties[p] for p in _JURISDICTION_PROPERTIES if properties.get(p)), [])
    found: dict[tuple, EntityIdentifier] = {}
    for scheme in IDENTIFIER_SCHEMES.values():
        if scheme.ftm_property is None:
            continue
        for value in properties.get(scheme.ftm_property, ()):
            jurisdiction = None
            if scheme.jurisdiction:
                if len(jurisdictions) != 1:
                    _note(problems, f"{entity.get('id')}: {scheme.ftm_property} {value!r} skipped: "
                                    f"{'no' if not jurisdictions else 'more than one'} jurisdiction to place it in")
                    continue
                jurisdiction = jurisdictions[0].lower()
            try:
                identifier = EntityIdentifier(scheme=scheme.name, value=value, jurisdiction=jurisdiction)
            except ValidationError as exc:
                _note(problems, f"{entity.get('id')}: {scheme.ftm_property} {value!r} skipped: "
                                f"{exc.errors(include_url=False)[0]['msg']}")
                continue
            found[identifier.key] = identifier
    return tuple(found[key] for key in sorted(found))


def _note(problems: list[str] | None, message: str) -> None:
    if problems is not None:
        problems.append(message)


def referent_judgements(entity: dict, *, publisher: str, source_url: str, observed_at: dt.datetime,
                        names: dict[str, str] | None = None) -> Iterator[RelationshipEvent]:
    """OpenSanctions' own merges of an entity as `confirmed` same_as judgements: each referent (a source record
    id) is the same as the canonical entity (its id, with the `opensanctions` identifier). The ids of the
    judgements are derived from the ids, so importing the same data again yields the same events."""
    schema = entity["schema"]
    caption = entity.get("caption") or entity["id"]
    canonical = EntityRef(id=entity["id"], schema=schema, name=caption,
                          identifiers=(EntityIdentifier(scheme="opensanctions", value=entity["id"]),))
    for referent in sorted(entity.get("referents", ())):
        if referent == entity["id"]:
            continue
        digest = hashlib.sha256(f"{entity['id']}\x1f{referent}".encode()).hexdigest()[:24]
        yield RelationshipEvent.model_validate({
            "schema_version": SCHEMA_VERSION, "event_id": f"os-referent-{digest}",
            "relation_id": f"os-referent-{digest}", "relation_type": "same_as",
            "source": {"id": referent, "schema": schema, "name": (names or {}).get(referent, caption)},
            "target": canonical.model_dump(by_alias=True, exclude_none=True),
            "status": "confirmed",
            "properties": {"matcher": "OpenSanctions deduplication (referents)",
                           "criteria": f"{referent} is a source record of {entity['id']}"},
            "observed_at": observed_at.isoformat(),
            "provenance": {"source_url": source_url, "publisher": publisher, "retrieved_at": observed_at.isoformat(),
                           "extractor": {"name": "referents", "version": "1"}, "confidence": 1.0}})
