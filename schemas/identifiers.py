"""FollowTheMoney data as resolution evidence: an entity's typed identifiers, and the merges OpenSanctions already
made (an entity's `referents`) as `same_as` judgements.

For the FtM importers: `identifiers_from_ftm(entity)` reads the identifier properties of `IDENTIFIER_SCHEMES`
(`wikidataId`, `leiCode`, `registrationNumber` with the entity's jurisdiction or country...), and
`opensanctions_identifiers(entity)` the id of an entity from an OpenSanctions export. For the BODS importer:
`identifiers_from_bods(identifiers)` reads a statement's `identifiers` through `BODS_SCHEMES`. A value that does
not fit its scheme is left out and reported, never guessed at.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass

from pydantic import ValidationError

from schemas.events import SCHEMA_VERSION, EntityIdentifier, EntityRef, RelationshipEvent
from schemas.vocabulary import IDENTIFIER_SCHEMES

_QID = re.compile(r"^Q[1-9][0-9]*$")

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


def opensanctions_identifiers(entity: dict) -> tuple[EntityIdentifier, ...]:
    """The identifiers an entity of an OpenSanctions export carries by its id alone: its OpenSanctions id, and its
    Wikidata QID when the id is one (OpenSanctions names entities it links to Wikidata by their QID). An export
    entity is recognised by what OpenSanctions writes beside the properties: `referents`, or `datasets` with
    `first_seen`/`last_change`; any other FtM id is the id of whoever wrote the file."""
    from_export = bool(entity.get("referents")) or bool(entity.get("datasets")) and bool(
        entity.get("first_seen") or entity.get("last_change"))
    entity_id = entity.get("id")
    if not from_export or not isinstance(entity_id, str):
        return ()
    try:
        found = [EntityIdentifier(scheme="opensanctions", value=entity_id)]
    except ValidationError:  # an id the scheme cannot carry (over 200 characters): no identifier, not a crash
        return ()
    if _QID.match(entity_id):
        found.append(EntityIdentifier(scheme="wikidata", value=entity_id))
    return tuple(found)


def merge_identifiers(*groups: tuple[EntityIdentifier, ...]) -> tuple[EntityIdentifier, ...]:
    """One sorted tuple of the identifiers of several groups, each (scheme, jurisdiction, value) once."""
    found = {identifier.key: identifier for group in groups for identifier in group}
    return tuple(found[key] for key in sorted(found))


@dataclass(frozen=True)
class BodsScheme:
    """What a BODS identifier `scheme` code (org-id.guide for entities) is in our terms."""

    scheme: str  # one of IDENTIFIER_SCHEMES
    jurisdiction: str | None = None


# BODS identifier scheme codes -> our schemes: the register and tax numbers of org-id.guide lists we can place, the
# LEI, Wikidata. A person's "<ISO 3166-1 alpha-3>-TAXID" (BODS's pattern for people) is a tax number of that
# country (`_person_scheme`). Codes not listed here are kept as `other` (scheme:id), which never merges.
BODS_SCHEMES: dict[str, BodsScheme] = {
    "XI-LEI": BodsScheme("lei"),
    "XI-WIKIDATA": BodsScheme("wikidata"),
    "MISC-WIKIDATA": BodsScheme("wikidata"),
    "WIKIDATA": BodsScheme("wikidata"),
    "GB-COH": BodsScheme("register", "gb"),  # Companies House
    "GB-NIC": BodsScheme("register", "gb"),  # Northern Ireland companies (Companies House)
    "GB-SC": BodsScheme("register", "gb"),  # Scottish companies (Companies House)
    "FI-PRO": BodsScheme("register", "fi"),  # Finnish Patent and Registration Office (Y-tunnus)
    "UA-EDR": BodsScheme("register", "ua"),  # Unified State Register of Ukraine
    "DK-CVR": BodsScheme("register", "dk"),  # Central Business Register
    "NO-BRC": BodsScheme("register", "no"),  # Brønnøysund Register Centre
    "SE-BLV": BodsScheme("register", "se"),  # Bolagsverket
    "NL-KVK": BodsScheme("register", "nl"),  # Kamer van Koophandel
    "MX-RFC": BodsScheme("tax", "mx"),  # Registro Federal de Contribuyentes
}
_PERSON_TAX_ID = re.compile(r"^([A-Z]{3})-TAXID$")


def _bods_scheme(code: str, scheme_name: str, uri: str) -> BodsScheme | None:
    if code in BODS_SCHEMES:
        return BODS_SCHEMES[code]
    if "wikidata" in scheme_name.lower() or "wikidata.org/" in uri:
        return BodsScheme("wikidata")
    tax = _PERSON_TAX_ID.match(code)
    if tax:
        from followthemoney.types import registry  # alpha-3 -> alpha-2; loaded only for people's tax ids

        country = registry.country.clean(tax.group(1))
        return BodsScheme("tax", country) if country else None
    return None


def identifiers_from_bods(identifiers: object, owner: str = "",
                          problems: list[str] | None = None) -> tuple[EntityIdentifier, ...]:
    """The typed identifiers of a BODS statement's `identifiers` ({"id", "scheme", "schemeName", "uri"}), sorted,
    without duplicates. A Wikidata identifier may give its QID only in `uri`."""
    found: list[EntityIdentifier] = []
    for item in identifiers if isinstance(identifiers, list) else ():
        if not isinstance(item, dict):
            continue
        code = str(item.get("scheme") or "").strip().upper()
        uri = str(item.get("uri") or "")
        value = str(item.get("id") or "").strip() or uri.rstrip("/").rpartition("/")[2]
        if not value:
            continue
        scheme = _bods_scheme(code, str(item.get("schemeName") or ""), uri)
        try:
            if scheme is None:
                found.append(EntityIdentifier(scheme="other", value=f"{code or 'unknown'}:{value}"))
            else:
                found.append(EntityIdentifier(scheme=scheme.scheme, value=value, jurisdiction=scheme.jurisdiction))
        except ValidationError as exc:
            _note(problems, f"{owner}: identifier {code} {value!r} skipped: {exc.errors(include_url=False)[0]['msg']}")
    return merge_identifiers(tuple(found))


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
