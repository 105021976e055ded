"""Open Contracting Data Standard (OCDS) releases and records: who awarded a public contract to whom, out as
`awards_contract` events. docs/events.md ("OCDS") has the mapping table and what is lost.

A public buyer awarding a contract is the authority of procurement: an official who steers the buyer and holds a
stake in the supplier, or whose family does, is the classic conflict of interest. OCDS publishers (national
procurement systems, city governments, `open-contracting/kingfisher-collect`'s downloads) state it in a
contracting process's awards:

- Each supplier of an award (`awards[].suppliers`) is awarded the contract by the process's `buyer` (its
  `tender.procuringEntity` where no buyer is given): one event, with the award's value as amount and currency and its
  title as purpose. The award's date (else its first contract's signature, else the contract period's start) starts
  it; the contract period's end (its contracts' latest, else the award's) ends it. A `pending` award is `proposed`;
  a `cancelled` or `unsuccessful` one, and one whose every contract was cancelled, yields nothing.
- A process published as several releases (a tender, then its award, then the contract) is compiled first, as the
  standard merges them: by date, later values over earlier ones, objects in arrays matched by `id`. A record's
  `compiledRelease` is read as it is.
- Entity ids: a party with an identifier in an org-id.guide scheme (`GB-COH`, `MX-RFC`, `XI-LEI`; Compranet's
  "Registro Federal de Contribuyentes de México" is MX-RFC) is `ocds-<scheme>-<id>`, whoever publishes it; any other
  party is `<publisher prefix>-<party id>`, the prefix of the process's ocid (`ocds-07smqs`), since publishers keep
  their party ids across processes; where one such id carries different names in the file (a publisher numbering
  parties per process), it is scoped to its process instead (`<ocid>-<party id>`), never merged across them.
- A party that buys or procures in any process of the file is a PublicBody; every other party is a LegalEntity (OCDS
  does not say whether a supplier is a company or a person). Identifiers in the schemes `schemas.identifiers`
  reads for BODS become typed identifiers, the others `other` ones (kept, never merged on).

`import_ocds` reads the file twice: first what each party is (its names, whether it buys) and how many releases each
process has, since that must be known before any award naming the party is written; then each process as soon as
the file has given all of it. Only the loose releases of processes not yet complete are held (the parts it maps).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from schemas.events import IDENTIFIER_MAX_LENGTH, IDENTIFIER_PATTERN, SCHEMA_VERSION, RelationshipEvent
from schemas.ftm import (ImportDefaults, ImportReport, ImportSkip, Skipped, SkipReason, _record,
                         converted_event, count_outcome, text_or_none)
from schemas.identifiers import identifiers_from_bods
from schemas.values import UnreadableValue, read_timestamp
from schemas.vocabulary import RelationType, Status

OCDS_IMPORT_VERSION = "1.0"  # bump when the mapping changes what an import yields
EXTRACTOR_NAME = "ocds-import"

# The parts of a release the mapping reads; the rest (planning, items, documents, transactions...) is not held.
_KEPT = ("ocid", "id", "date", "tag", "buyer", "tender", "awards", "contracts", "parties")
_KEPT_TENDER = ("procuringEntity", "title")
_ORG_ID = re.compile(r"^[A-Z]{2}-[A-Z0-9]+$")  # an org-id.guide list code: GB-COH, MX-RFC, XI-LEI
# Scheme names some publishers write where the standard asks for the org-id.guide code.
_SCHEME_NAMES = {"registro federal de contribuyentes de méxico": "MX-RFC"}
_OCID_PREFIX = re.compile(r"^(ocds-[a-z0-9]{6})-", re.IGNORECASE)
_IDENTIFIER = re.compile(IDENTIFIER_PATTERN)
_AUTHORITY_ROLES = frozenset({"buyer", "procuringEntity"})


def is_ocds(document: object) -> bool:
    """An OCDS release, compiled release or record (an `ocid`), or a release or record package."""
    if not isinstance(document, dict):
        return False
    if isinstance(document.get("ocid"), str) and any(key in document for key in (
            "tag", "releases", "compiledRelease", "awards", "tender", "parties", "buyer", "date")):
        return True
    for key in ("releases", "records"):
        items = document.get(key)
        if isinstance(items, list) and items and isinstance(items[0], dict) and "ocid" in items[0]:
            return True
    return False


@dataclass
class _Source:
    """Where a release came from: its package's publisher, URI and publication time (a bare release has none)."""

    publisher: str | None = None
    uri: str | None = None
    published: str | None = None


@dataclass(frozen=True)
class _Org:
    """A party as a process names it: its key (the id it gets unless its scope must narrow), name, identifiers."""

    scoped: str  # publisher-scoped key: `<prefix>-<party id>`, or the org-id key when it has one
    local: str  # process-scoped key: `<ocid>-<party id>`
    global_id: bool  # an org-id identifier: the same id in every publisher's data
    name: str
    identifiers: tuple[dict, ...]
    country: str | None


def import_ocds(read: Callable[[], Iterable[object]], defaults: ImportDefaults = ImportDefaults(
        extractor_name=EXTRACTOR_NAME, extractor_version=OCDS_IMPORT_VERSION),
                report: ImportReport | None = None) -> Iterator[RelationshipEvent]:
    """Stream OCDS data (release or record packages, releases, compiled releases or records; JSON lines, an array,
    or pretty-printed objects one after another) in two passes: the first learns the parties (their names and
    roles) and how many releases each process has; the second writes each process's awards as soon as the file has
    given all of it (a compiled release at once; loose releases once the last of them is read). Only the loose
    releases of processes not yet complete are held, so a national file of compiled releases streams. One set of
    releases gives the same events in any file order (not in the same order)."""
    survey = _Survey()
    for document in read():
        if not is_ocds(document):
            _record(report, Skipped(None, "OCDS", SkipReason.INVALID_ENTITY.value,
                                    "not an OCDS release, record or package (no ocid)"))
            continue
        for release, source, compiled in _releases(document, report):
            survey.add(release, compiled)
    shared = {key for key, seen in survey.names.items() if len(seen) == 1}
    for key in sorted(survey.names.keys() - shared):
        _note(report, key, f"one party id with {len(survey.names[key])} names in the file: scoped to each process")
    identity = _Identity(shared, survey.authorities, survey.local_authorities)
    pending: dict[str, list[tuple[dict, _Source]]] = {}
    for document in read():
        if not is_ocds(document):
            continue
        for release, source, compiled in _releases(document, None):
            ocid = release["ocid"]
            if ocid in survey.compiled:
                # the newest compiled release of the process, once (a later package may repeat it)
                if not compiled or survey.compiled[ocid] != _order(release):
                    continue
                del survey.compiled[ocid]
                count_outcome(report, "ocds processes read from a compiled release")
                yield from _process_events(ocid, release, source, identity, defaults, report)
                continue
            held = pending.setdefault(ocid, [])
            held.append((release, source))
            if len(held) == survey.loose[ocid]:
                del pending[ocid]
                merged, newest = _compiled(ocid, held)
                count_outcome(report, "ocds processes compiled from their releases")
                yield from _process_events(ocid, merged, newest, identity, defaults, report)


@dataclass
class _Survey:
    """What the first pass learns: the names each publisher-scoped party id is given, the parties that buy or
    procure, the newest compiled release of each process that has one, how many loose releases the others have."""

    names: dict[str, set[str]] = field(default_factory=dict)
    authorities: set[str] = field(default_factory=set)  # scoped keys
    local_authorities: set[str] = field(default_factory=set)  # process-scoped keys
    compiled: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # ocid -> the newest's `_order`
    loose: dict[str, int] = field(default_factory=dict)

    def add(self, release: dict, compiled: bool) -> None:
        ocid = release["ocid"]
        if compiled:
            order = _order(release)
            if self.compiled.get(ocid, ("",)) <= order:
                self.compiled[ocid] = order
        else:
            self.loose[ocid] = self.loose.get(ocid, 0) + 1
        # every release's names count (a party renamed within a process is scoped to it: never merged wrongly)
        for org, roles in _parties(ocid, release):
            if not org.global_id:
                self.names.setdefault(org.scoped, set()).add(_folded(org.name))
            if roles & _AUTHORITY_ROLES:
                self.authorities.add(org.scoped)
                self.local_authorities.add(org.local)


@dataclass(frozen=True)
class _Identity:
    shared: set[str]
    authorities: set[str]
    local_authorities: set[str]

    def entity_id(self, org: _Org) -> str:
        return org.scoped if org.global_id or org.scoped in self.shared else org.local

    def is_authority(self, org: _Org) -> bool:
        if org.global_id or org.scoped in self.shared:
            return org.scoped in self.authorities
        return org.local in self.local_authorities


def _process_events(ocid: str, release: dict, source: _Source, identity: _Identity, defaults: ImportDefaults,
                    report: ImportReport | None) -> Iterator[RelationshipEvent]:
    try:
        documents = _award_documents(ocid, release, source, identity, defaults, report)
    except ImportSkip as problem:
        _record(report, Skipped(ocid, "OCDS process", problem.reason, problem.message))
        return
    for relation_id, document in documents:
        try:
            yield converted_event(document, "ocds", report)
        except ImportSkip as problem:
            _record(report, Skipped(relation_id, "OCDS award", problem.reason, problem.message))


def _releases(document: dict, report: ImportReport | None) -> Iterator[tuple[dict, _Source, bool]]:
    """The releases of a document (a package, a record, a release) with their source, each as the importer's own
    trimmed copy, and whether it is a compiled release; what cannot be read is counted (when `report` is given)."""
    publisher = document.get("publisher")
    source = _Source(text_or_none(publisher.get("name")) if isinstance(publisher, dict) else None,
                     text_or_none(document.get("uri")), text_or_none(document.get("publishedDate")))
    if isinstance(document.get("releases"), list) and "ocid" not in document:
        for release in document["releases"]:
            yield from _release(release, source, report)
    elif isinstance(document.get("records"), list):
        for record in document["records"]:
            yield from _record_releases(record, source, report)
    elif isinstance(document.get("compiledRelease"), dict) or isinstance(document.get("releases"), list):
        yield from _record_releases(document, source, report)
    else:
        yield from _release(document, source, report)


def _record_releases(record: object, source: _Source,
                     report: ImportReport | None) -> Iterator[tuple[dict, _Source, bool]]:
    if not isinstance(record, dict) or not isinstance(record.get("ocid"), str):
        count_outcome(report, "ocds records without an ocid skipped")
        return
    compiled = record.get("compiledRelease")
    if isinstance(compiled, dict) and not _versioned(compiled):
        kept = _kept(compiled)
        kept["ocid"] = record["ocid"]
        yield kept, source, True
        return
    for release in record.get("releases") if isinstance(record.get("releases"), list) else ():
        yield from _release(release, source, report)


def _release(release: object, source: _Source, report: ImportReport | None) -> Iterator[tuple[dict, _Source, bool]]:
    if not isinstance(release, dict) or not isinstance(release.get("ocid"), str):
        count_outcome(report, "ocds releases without an ocid skipped")
        return
    if _versioned(release):
        count_outcome(report, "ocds versioned releases skipped")
        _note(report, release["ocid"], "a versioned release (each value with its history): not read; import the "
                                       "releases or a compiled release")
        return
    if set(release) <= {"ocid", "url", "date", "tag"}:  # a linked release: only its address
        count_outcome(report, "ocds linked releases skipped (no content)")
        return
    tag = release.get("tag")
    yield _kept(release), source, isinstance(tag, list) and "compiled" in tag


def _kept(release: dict) -> dict:
    kept = {key: release[key] for key in _KEPT if key in release}
    if isinstance(kept.get("tender"), dict):
        kept["tender"] = {key: value for key, value in kept["tender"].items() if key in _KEPT_TENDER}
    return kept


def _versioned(release: dict) -> bool:
    """A versioned release gives every value as a list of its versions ({"releaseID", "value", ...})."""
    buyer = release.get("buyer")
    return isinstance(buyer, list) or isinstance(release.get("ocid"), list) or (
        isinstance(release.get("awards"), list) and any(
            isinstance(award, dict) and isinstance(award.get("status"), list) for award in release["awards"]))


def _order(release: dict) -> tuple[str, str, str]:
    """Releases are merged by date; two of one date by release id, then content, so the file order decides nothing."""
    content = hashlib.sha256(json.dumps({key: value for key, value in release.items() if key != _PARTY_INDEX},
                                        sort_keys=True, default=str).encode()).hexdigest()
    return (str(release.get("date") or ""), str(release.get("id") or ""), content)


def _compiled(ocid: str, releases: list[tuple[dict, _Source]]) -> tuple[dict, _Source]:
    """A process's releases merged as the standard merges them; the source of the newest release."""
    ordered = sorted(releases, key=lambda item: _order(item[0]))
    merged: dict = {}
    for release, _ in ordered:
        merged = _merge(merged, release)
    merged["ocid"] = ocid
    return merged, ordered[-1][1]


def _merge(earlier: object, later: object) -> object:
    """OCDS merging: objects field by field (null removes a field), arrays of objects with ids matched by id, any
    other value replaced."""
    if isinstance(earlier, dict) and isinstance(later, dict):
        merged = dict(earlier)
        for key, value in later.items():
            if value is None:
                merged.pop(key, None)
            elif key in merged:
                merged[key] = _merge(merged[key], value)
            else:
                merged[key] = value
        return merged
    if isinstance(earlier, list) and isinstance(later, list) and _identified(earlier) and _identified(later):
        merged_items = {str(item["id"]): item for item in earlier}
        for item in later:
            key = str(item["id"])
            merged_items[key] = _merge(merged_items[key], item) if key in merged_items else item
        return list(merged_items.values())
    return later


def _identified(items: list) -> bool:
    return bool(items) and all(isinstance(item, dict) and item.get("id") is not None for item in items)


def _parties(ocid: str, release: dict) -> list[tuple[_Org, frozenset[str]]]:
    """Every organisation the process names, with the roles it has in it."""
    found: list[tuple[_Org, frozenset[str]]] = []
    for party in release.get("parties") if isinstance(release.get("parties"), list) else ():
        if isinstance(party, dict):
            org = _org(ocid, party)
            if org is not None:
                roles = party.get("roles")
                found.append((org, frozenset(r for r in roles if isinstance(r, str)) if isinstance(roles, list)
                              else frozenset()))
    # OCDS 1.0 names the buyer, the procuring entity and the suppliers where they act, without a list of parties
    for reference, role in ((release.get("buyer"), "buyer"), (_tender(release).get("procuringEntity"),
                                                              "procuringEntity")):
        org = _reference(ocid, release, reference)
        if org is not None:
            found.append((org, frozenset({role})))
    for award in _awards(release):
        for supplier in award.get("suppliers") if isinstance(award.get("suppliers"), list) else ():
            org = _reference(ocid, release, supplier)
            if org is not None:
                found.append((org, frozenset({"supplier"})))
    return found


def _tender(release: dict) -> dict:
    return release["tender"] if isinstance(release.get("tender"), dict) else {}


def _awards(release: dict) -> list[dict]:
    awards = release.get("awards")
    return [award for award in awards if isinstance(award, dict)] if isinstance(awards, list) else []


def _reference(ocid: str, release: dict, reference: object) -> _Org | None:
    """The organisation an organisation reference names: the party of its id (1.1), else the reference itself (1.0
    gives the organisation in place)."""
    if not isinstance(reference, dict):
        return None
    party_id = _text(reference.get("id"))
    if party_id is not None:
        party = _parties_by_id(release).get(party_id)
        if party is not None:
            return _org(ocid, party)
    return _org(ocid, reference)


_PARTY_INDEX = "\x00parties by id"  # a key no OCDS field has: the index, kept in the importer's own copy of a release


def _parties_by_id(release: dict) -> dict[str, dict]:
    """The release's parties by id, built once per release (a framework agreement names thousands of suppliers, each
    looked up by reference): the first party of an id, as a scan of the list would find it. The release is the
    importer's own copy (`_kept`, `_merge`), compiled before this is asked for."""
    index = release.get(_PARTY_INDEX)
    if index is None:
        index = {}
        for party in release.get("parties") if isinstance(release.get("parties"), list) else ():
            if isinstance(party, dict):
                party_id = _text(party.get("id"))
                if party_id is not None:
                    index.setdefault(party_id, party)
        release[_PARTY_INDEX] = index
    return index


def _org(ocid: str, party: dict) -> _Org | None:
    identifier = party.get("identifier") if isinstance(party.get("identifier"), dict) else {}
    name = _name(party.get("name")) or _name(identifier.get("legalName"))
    party_id = _text(party.get("id")) or _text(identifier.get("id"))
    if party_id is None and name is None:
        return None
    additional = party.get("additionalIdentifiers")
    listed = [identifier, *(item for item in (additional if isinstance(additional, list) else ())
                            if isinstance(item, dict))]
    identifiers = tuple({"scheme": _scheme_code(item.get("scheme")) or _text(item.get("scheme")),
                         "id": _text(item.get("id")), "uri": _text(item.get("uri"))}
                        for item in listed if _text(item.get("id")))
    code, value = _scheme_code(identifier.get("scheme")), _text(identifier.get("id"))
    address = party.get("address") if isinstance(party.get("address"), dict) else {}
    country = _text(address.get("countryName"))
    country = country.lower() if country and re.fullmatch(r"[A-Za-z]{2}", country) else None
    prefix_match = _OCID_PREFIX.match(ocid)
    prefix = prefix_match.group(1).lower() if prefix_match else ocid
    if party_id is None:  # 1.0 without an identifier: named only
        party_id = "n" + hashlib.sha256(_folded(name).encode()).hexdigest()[:16]
    if code and value:
        key = _entity_id(f"ocds-{code}-{value}")
        return _Org(key, key, True, name or value, identifiers, country)
    return _Org(_entity_id(f"{prefix}-{party_id}"), _entity_id(f"{ocid}-{party_id}"), False, name or party_id,
                identifiers, country)


def _scheme_code(scheme: object) -> str | None:
    text = _text(scheme)
    if text is None:
        return None
    if _ORG_ID.match(text.upper()):
        return text.upper()
    return _SCHEME_NAMES.get(" ".join(text.lower().split()))


def _entity_id(text: str) -> str:
    """An entity or relation id the contract accepts: the text where it fits, else a readable part and a digest."""
    if len(text) <= IDENTIFIER_MAX_LENGTH and _IDENTIFIER.match(text):
        return text
    readable = re.sub(r"[^A-Za-z0-9._:\-/]+", "-", text).strip("-._:/")[:120] or "ocds"
    return f"{readable}-{hashlib.sha256(text.encode()).hexdigest()[:16]}"


def _award_documents(ocid: str, release: dict, source: _Source, identity: _Identity, defaults: ImportDefaults,
                     report: ImportReport | None) -> list[tuple[str, dict]]:
    awards = _awards(release)
    if not awards:
        count_outcome(report, "ocds processes without awards")
        return []
    authority = _reference(ocid, release, release.get("buyer")) \
        or _reference(ocid, release, _tender(release).get("procuringEntity"))
    if authority is None:
        raise ImportSkip(SkipReason.MISSING_ENDPOINT, "the process names neither a buyer nor a procuring entity")
    provenance = _provenance(ocid, release, source, defaults)
    contracts = release.get("contracts") if isinstance(release.get("contracts"), list) else []
    documents = []
    for award in awards:
        award_id = _text(award.get("id"))
        status = award.get("status")
        if status in ("cancelled", "unsuccessful"):
            count_outcome(report, f"ocds {status} awards skipped")
            continue
        if award_id is None:
            count_outcome(report, "ocds awards without an id skipped")
            continue
        own = [c for c in contracts if isinstance(c, dict) and _text(c.get("awardID")) == award_id]
        if own and all(c.get("status") == "cancelled" for c in own):
            count_outcome(report, "ocds awards whose every contract was cancelled skipped")
            continue
        suppliers = [_reference(ocid, release, s) for s in award.get("suppliers") or ()] \
            if isinstance(award.get("suppliers"), list) else []
        suppliers = [s for s in suppliers if s is not None]
        if not suppliers:
            count_outcome(report, "ocds awards without a supplier skipped")
            continue
        start, end = _period(ocid, award, own, provenance["observed"], report)
        properties = _properties(award, release)
        for supplier in sorted({identity.entity_id(s): s for s in suppliers}.values(), key=identity.entity_id):
            source_ref = _ref(authority, identity)
            target_ref = _ref(supplier, identity)
            relation_id = _entity_id(f"ocds:{ocid}:award:{award_id}:{target_ref['id']}")
            document = {
                "schema_version": SCHEMA_VERSION, "op": "upsert", "relation_id": relation_id,
                "relation_type": RelationType.AWARDS_CONTRACT.value, "source": source_ref, "target": target_ref,
                "properties": properties, **({"start_date": start} if start else {}),
                **({"end_date": end} if end else {}),
                "status": (Status.PROPOSED if status == "pending" else defaults.status).value,
                "observed_at": provenance["observed"],
                "provenance": {"source_url": provenance["source_url"], "publisher": provenance["publisher"],
                               "retrieved_at": provenance["retrieved"],
                               "extractor": {"name": defaults.extractor_name, "version": defaults.extractor_version},
                               "confidence": defaults.confidence},
            }
            documents.append((relation_id, document))
        if status == "pending":
            count_outcome(report, "ocds pending awards read as proposed")
    return documents


def _provenance(ocid: str, release: dict, source: _Source, defaults: ImportDefaults) -> dict:
    observed = _time(release.get("date"))
    retrieved = _time(source.published) or defaults.retrieved_at or observed
    if observed is None:
        observed = retrieved
    if observed is None:
        raise ImportSkip(SkipReason.MISSING_PROVENANCE, "the release has no date (when the publisher stated it) and "
                                                        "there is no default for it (--retrieved-at)")
    publisher = source.publisher or defaults.publisher
    url = source.uri or defaults.source_url
    if publisher is None or url is None:
        missing = " and ".join(what for what, value in (("publisher", publisher), ("URI", url)) if value is None)
        raise ImportSkip(SkipReason.MISSING_PROVENANCE, f"no package {missing} (give --publisher / --source-url)")
    return {"observed": observed, "retrieved": retrieved, "publisher": publisher[:500], "source_url": url[:2000]}


def _period(ocid: str, award: dict, contracts: list[dict], observed: dt.datetime,
            report: ImportReport | None) -> tuple[dt.date | None, dt.date | None]:
    """When the award held: from the award's date (else the first contract's signature, else the contract period's
    start) to the end of its contracts' periods (else the award's contract period). A contract terminated or
    cancelled without an end ended at the latest the day before the release stating it."""
    award_period = award.get("contractPeriod") if isinstance(award.get("contractPeriod"), dict) else {}
    periods = [c.get("period") for c in contracts if isinstance(c.get("period"), dict)]
    start = _day(award.get("date")) or min(
        (d for d in (_day(c.get("dateSigned")) for c in contracts) if d), default=None) \
        or _day(award_period.get("startDate"))
    ends = [d for d in (_day(p.get("endDate")) for p in periods) if d]
    end = max(ends) if ends else _day(award_period.get("endDate"))
    if end is None and contracts and all(c.get("status") in ("terminated", "cancelled") for c in contracts):
        end = observed.date() - dt.timedelta(days=1)
        _note(report, ocid, f"award {award.get('id')}: its contracts ended without a date: read as ended on {end}, "
                            "the day before the release stating it")
    if start is not None and end is not None and end < start:
        _note(report, ocid, f"award {award.get('id')}: its contracts end ({end}) before it starts ({start}): "
                            "read without an end")
        end = None
    return start, end


def _properties(award: dict, release: dict) -> dict:
    properties: dict = {}
    value = award.get("value") if isinstance(award.get("value"), dict) else {}
    amount, currency = value.get("amount"), _text(value.get("currency"))
    if isinstance(amount, (int, float)) and not isinstance(amount, bool) and amount > 0:
        properties["amount"] = float(amount)
        if currency and re.fullmatch(r"[A-Z]{3}", currency):
            properties["currency"] = currency
    title = _name(award.get("title")) or _name(_tender(release).get("title"))
    if title:
        properties["purpose"] = title[:1000]
    properties["role"] = "supplier"
    return properties


def _ref(org: _Org, identity: _Identity) -> dict:
    entity_id = identity.entity_id(org)
    ref: dict = {"id": entity_id, "schema": "PublicBody" if identity.is_authority(org) else "LegalEntity",
                 "name": org.name[:500]}
    if org.country:
        ref["country"] = org.country
    identifiers = identifiers_from_bods(list(org.identifiers), entity_id)
    if identifiers:
        ref["identifiers"] = [identifier.model_dump(exclude_none=True) for identifier in identifiers]
    return ref


def _time(value: object) -> dt.datetime | None:
    text = _text(value)
    if text is None:
        return None
    try:
        return read_timestamp(text)
    except UnreadableValue:
        return None


def _day(value: object) -> dt.date | None:
    """The day a time names, as its publisher wrote it (its own offset)."""
    moment = _time(value)
    return moment.date() if moment else None


def _text(value: object) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):  # ids written as numbers (a contract's id in Compranet)
        return str(value)
    return " ".join(value.split()) if isinstance(value, str) and value.strip() else None


def _name(value: object) -> str | None:
    return " ".join(value.split()) if isinstance(value, str) and value.strip() else None


def _folded(name: str | None) -> str:
    return " ".join((name or "").casefold().split())


def _note(report: ImportReport | None, key: str, text: str) -> None:
    if report is not None:
        report.notes.append(f"OCDS {key}: {text}")


def events_from_ocds(documents: Iterable[object], defaults: ImportDefaults | None = None,
                     report: ImportReport | None = None) -> Iterator[RelationshipEvent]:
    """`import_ocds` over documents in memory."""
    documents = documents if isinstance(documents, list) else list(documents)
    return import_ocds(lambda: iter(documents), defaults or ImportDefaults(
        extractor_name=EXTRACTOR_NAME, extractor_version=OCDS_IMPORT_VERSION), report)
