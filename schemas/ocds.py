"""Open Contracting Data Standard (OCDS) releases and records: who awarded a public contract to whom, out as
`awards_contract` events. docs/events.md ("OCDS") has the mapping table and what is lost.

A public buyer awarding a contract is the authority of procurement: an official who steers the buyer and holds a
stake in the supplier, or whose family does, is the classic conflict of interest. OCDS publishers (national
procurement systems, city governments, `open-contracting/kingfisher-collect`'s downloads) state it in a
contracting process's awards (dates, statuses and merging in full in docs/events.md):

- Each supplier of an award (`awards[].suppliers`) is awarded the contract by the process's `buyer` (its
  `tender.procuringEntity` where no buyer is given): one event, with the award's value as amount and currency and its
  title as purpose. The award's date (else its first contract's signature, else the contract period's start) starts
  it; the contract period's end (its contracts' latest, else the award's) ends it. A `pending` award is `proposed`;
  a `cancelled` or `unsuccessful` one, and one whose every contract was cancelled, yields nothing.
- A process published as several releases (a tender, then its award, then the contract) is compiled first, as the
  standard merges them: by date, later values over earlier ones, objects in arrays matched by `id`. A record's
  `compiledRelease` is read as it is.
- Entity ids depend on the party and its publisher alone: a party with an identifier in an org-id.guide scheme
  (`GB-COH`, `MX-RFC`, `XI-LEI`; Compranet's "Registro Federal de Contribuyentes de México" is MX-RFC) is
  `ocds-<scheme>-<id>`, whoever publishes it; any other party is `<publisher scope>-<party id>-<name digest>` (the
  scope: the ocid's registered prefix, else the publisher's name), so a publisher numbering parties per process never
  makes one entity of two firms.
- Who awards is a PublicBody, and so is a supplier that buys or procures in any process of the file; every other
  party is a LegalEntity (OCDS does not say whether a supplier is a company or a person). Identifiers in the
  schemes `schemas.identifiers` reads for BODS become typed identifiers, the others `other` ones (kept, never merged
  on).

`import_ocds` reads the file three times: first which parties buy and how many releases each process has, then every
id those parties have, since that must be known before any award naming them is written; then each process as soon as
the file has given all of it. Only the loose releases of processes not yet complete are held (the parts it maps).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from schemas.events import IDENTIFIER_MAX_LENGTH, IDENTIFIER_PATTERN, SCHEMA_VERSION, RelationshipEvent
from schemas.ftm import (ImportDefaults, ImportReport, ImportSkip, Skipped, SkipReason, _record,
                         converted_event, count_outcome, text_or_none)
from schemas.identifiers import identifiers_from_bods
from schemas.values import UnreadableValue, read_timestamp
from schemas.vocabulary import RelationType, Status

OCDS_IMPORT_VERSION = "1.3"  # bump when the mapping changes what an import yields
EXTRACTOR_NAME = "ocds-import"

# The parts of a release the mapping reads; the rest (planning, items, documents, transactions...) is not held.
_KEPT = ("ocid", "id", "date", "tag", "buyer", "tender", "awards", "contracts", "parties")
_KEPT_TENDER = ("procuringEntity", "title")
_KEPT_AWARD = ("id", "status", "date", "suppliers", "value", "title", "contractPeriod")
_KEPT_CONTRACT = ("id", "awardID", "status", "dateSigned", "period", "implementation")
_KEPT_PARTY = ("id", "name", "identifier", "additionalIdentifiers", "roles", "address")
_ORG_ID = re.compile(r"^[A-Z]{2}-[A-Z0-9]+$")  # an org-id.guide list code: GB-COH, MX-RFC, XI-LEI
# Scheme names some publishers write where the standard asks for the org-id.guide code.
_SCHEME_NAMES = {"registro federal de contribuyentes de mexico": "MX-RFC", "rfc": "MX-RFC"}
_OCID_PREFIX = re.compile(r"^(ocds-[a-z0-9]{6})-", re.IGNORECASE)
_IDENTIFIER = re.compile(IDENTIFIER_PATTERN)
_AUTHORITY_ROLES = frozenset({"buyer", "procuringEntity"})
# Arrays the release schema merges whole (`wholeListMerge`), not by their objects' ids.
_WHOLE_LIST_MERGE = frozenset({"additionalIdentifiers", "additionalClassifications"})
# Identifiers a scheme gives whole classes of parties, which name no one: Mexico's generic RFCs for the public, for
# foreign firms and for foreign residents.
_PLACEHOLDERS: dict[str, frozenset[str]] = {
    "MX-RFC": frozenset({"XAXX010101000", "XEXX010101000", "EXT990101NI1"})}


def is_ocds(document: object) -> bool:
    """An OCDS release, compiled release or record (an `ocid`), or a release or record package."""
    if not isinstance(document, dict):
        return False
    if isinstance(document.get("ocid"), str) and any(key in document for key in (
            "tag", "releases", "compiledRelease", "awards", "tender", "parties", "buyer", "date")):
        return True
    for key in ("releases", "records"):
        items = document.get(key)
        if not isinstance(items, list):
            continue
        # a package: its metadata says so (an empty page of a feed, one whose first release is broken), else a
        # release or record among its first items
        if any(meta in document for meta in ("publishedDate", "publisher", "uri", "version", "links")):
            return True
        if any(isinstance(item, dict) and "ocid" in item for item in items[:100]):
            return True
    return False


@dataclass
class _Source:
    """Where a release came from: its package's publisher, URI and publication time (a bare release has none)."""

    publisher: str | None = None
    uri: str | None = None
    published: str | None = None


@dataclass(frozen=True)
class _Where:
    """The process a party is named in, and the scope of its publisher's party ids: the ocid's registered prefix
    (`ocds-07smqs`), else the publisher's name (a publisher with unregistered ocids such as `2` or `PC-0083`), else
    the process itself. `process` names the process: its ocid where the prefix is registered (unique to one
    publisher), else the ocid within its publisher's scope (two publishers' ocid "7" are two processes)."""

    ocid: str
    scope: str
    process: str


def _where(ocid: str, source: _Source, defaults: ImportDefaults) -> _Where:
    registered = _OCID_PREFIX.match(ocid)
    if registered:
        return _Where(ocid, registered.group(1).lower(), ocid)
    publisher = source.publisher or defaults.publisher
    if publisher:
        scope = "ocds-p" + hashlib.sha256(_folded(publisher).encode()).hexdigest()[:8]
        return _Where(ocid, scope, f"{scope}/{ocid}")
    return _Where(ocid, ocid, ocid)


@dataclass(frozen=True)
class _Org:
    """A party as a process names it: the entity id it gets (a function of the party and its publisher alone, so
    the same in every import), its name and identifiers."""

    entity_id: str
    name: str
    identifiers: tuple[dict, ...]
    country: str | None
    # the publisher's id of it in the process (its `id`, never an identifier's: two parties may share one), which a
    # later release keeps; None for an OCDS 1.0 organisation given in place
    party_id: str | None = None


def import_ocds(read: Callable[[], Iterable[object]], defaults: ImportDefaults = ImportDefaults(
        extractor_name=EXTRACTOR_NAME, extractor_version=OCDS_IMPORT_VERSION),
                report: ImportReport | None = None) -> Iterator[RelationshipEvent]:
    """Stream OCDS data (release or record packages, releases, compiled releases or records; JSON lines, an array,
    or pretty-printed objects one after another) in three passes: the first learns how many releases each process
    has and which parties buy, the second every id those parties have, the last writes each process's awards as soon
    as the file has given all of its releases. Only the releases of processes not yet complete are held, so a
    national file of compiled releases streams. One set of releases gives the same events in any file order (not in
    the same order)."""
    survey = _Survey()
    for document in read():
        if not is_ocds(document):
            _record(report, Skipped(None, "OCDS", SkipReason.INVALID_ENTITY.value,
                                    "not an OCDS release, record or package (no ocid)"))
            continue
        for release, source, compiled in _releases(document, report):
            survey.count(release, source, defaults)
    for document in read():  # the entity ids a party that buys has in any release (an identifier given later)
        if is_ocds(document):
            for release, source, _ in _releases(document, None):
                survey.name_authorities(release, source, defaults)
    pending: dict[str, list[tuple[dict, _Source, bool]]] = {}
    for document in read():
        if not is_ocds(document):
            continue
        for release, source, compiled in _releases(document, None):
            where = _where(release["ocid"], source, defaults)
            held = pending.setdefault(where.process, [])
            held.append((release, source, compiled))
            if len(held) == survey.releases[where.process]:
                del pending[where.process]
                yield from _process_events(where, held, survey.authorities, defaults, report)


@dataclass
class _Survey:
    """What the first passes learn: how many releases (compiled or not) each process has, so that the last pass knows
    when it has all of one; the parties that buy or procure in any process, by their publisher's id in it, and then
    every entity id those parties have in any release of it (a buyer whose identifier comes in a later release that
    does not repeat its roles is a public body under either id, wherever it appears)."""

    releases: dict[str, int] = field(default_factory=dict)  # process -> releases
    buying: set[tuple[str, str]] = field(default_factory=set)  # (process, party id)
    authorities: set[str] = field(default_factory=set)  # entity ids

    def count(self, release: dict, source: _Source, defaults: ImportDefaults) -> None:
        where = _where(release["ocid"], source, defaults)
        self.releases[where.process] = self.releases.get(where.process, 0) + 1
        for org, roles in _parties(where, release):
            if roles & _AUTHORITY_ROLES:
                if org.party_id is None:
                    self.authorities.add(org.entity_id)
                else:
                    self.buying.add((where.process, org.party_id))

    def name_authorities(self, release: dict, source: _Source, defaults: ImportDefaults) -> None:
        where = _where(release["ocid"], source, defaults)
        for org, _ in _parties(where, release):
            if org.party_id is not None and (where.process, org.party_id) in self.buying:
                self.authorities.add(org.entity_id)


def _process_events(where: _Where, releases: list[tuple[dict, _Source, bool]], authorities: set[str],
                    defaults: ImportDefaults, report: ImportReport | None) -> Iterator[RelationshipEvent]:
    """A process's events, once the file has given all its releases: the newest compiled release, with the loose
    releases newer than it merged on top (a release published after the record was compiled), else its loose
    releases merged."""
    ocid = where.ocid
    compiled = [(release, source) for release, source, is_compiled in releases if is_compiled]
    loose = [(release, source) for release, source, is_compiled in releases if not is_compiled]
    if compiled:
        base = max(compiled, key=lambda item: _order(*item))
        newer = [item for item in loose if _newer(item[0], base[0])]
        if newer:
            count_outcome(report, "ocds processes read from a compiled release and newer releases")
            release, source = _compiled(ocid, [base, *newer])
        else:
            count_outcome(report, "ocds processes read from a compiled release")
            release, source = base
    else:
        count_outcome(report, "ocds processes compiled from their releases")
        release, source = _compiled(ocid, loose)
    try:
        documents = _award_documents(where, release, source, authorities, defaults, report)
    except ImportSkip as problem:
        _record(report, Skipped(ocid, "OCDS process", problem.reason, problem.message))
        return
    except (RecursionError, OverflowError, ValueError) as problem:  # a value beyond what it can mean: never a crash
        _record(report, Skipped(ocid, "OCDS process", SkipReason.UNREADABLE_VALUE.value,
                                f"a value the import cannot read ({type(problem).__name__})"))
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
        if _too_deep(kept):
            count_outcome(report, "ocds releases nested too deeply skipped")
            return
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
    kept = _kept(release)
    if _too_deep(kept):
        count_outcome(report, "ocds releases nested too deeply skipped")
        return
    tag = release.get("tag")
    yield kept, source, isinstance(tag, list) and "compiled" in tag


_MAX_DEPTH = 32  # OCDS nests about 6 deep; beyond this a value is no data the mapping reads, and merging it recurses


def _too_deep(value: object) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > _MAX_DEPTH:
            return True
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return False


def _kept(release: dict) -> dict:
    """The parts of a release the mapping reads (what the importer holds of a process until it is complete)."""
    kept = {key: release[key] for key in _KEPT if key in release}
    if isinstance(kept.get("tender"), dict):
        kept["tender"] = _only(kept["tender"], _KEPT_TENDER)
    for key, fields in (("awards", _KEPT_AWARD), ("contracts", _KEPT_CONTRACT), ("parties", _KEPT_PARTY)):
        if isinstance(kept.get(key), list):
            kept[key] = [_only(item, fields) if isinstance(item, dict) else item for item in kept[key]]
    for contract in kept.get("contracts") if isinstance(kept.get("contracts"), list) else ():
        implementation = contract.get("implementation") if isinstance(contract, dict) else None
        if isinstance(implementation, dict):
            transactions = implementation.get("transactions")
            contract["implementation"] = {"transactions": [
                _only(t, ("id", "date")) if isinstance(t, dict) else t for t in transactions]} \
                if isinstance(transactions, list) else {}
    return kept


def _only(item: dict, fields: tuple[str, ...]) -> dict:
    return {key: item[key] for key in fields if key in item}


def _versioned(release: dict) -> bool:
    """A versioned release gives every value as a list of its versions ({"releaseID", "value", ...})."""
    buyer = release.get("buyer")
    return isinstance(buyer, list) or isinstance(release.get("ocid"), list) or (
        isinstance(release.get("awards"), list) and any(
            isinstance(award, dict) and isinstance(award.get("status"), list) for award in release["awards"]))


def _order(release: dict, source: _Source) -> tuple:
    """Releases are merged by date; two of one date by release id, then content, then where they were published
    (the same release in two packages), so the file order decides nothing."""
    content = hashlib.sha256(json.dumps({key: value for key, value in release.items() if key != _PARTY_INDEX},
                                        sort_keys=True, default=str).encode()).hexdigest()
    return (_moment(release), str(release.get("date") or ""), str(release.get("id") or ""), content,
            source.published or "", source.uri or "", source.publisher or "")


def _newer(release: dict, than: dict) -> bool:
    """By time, where both dates are readable; where either is not ("02/01/2015"), no one can tell, and the
    publisher's compiled release stands (an unreadable date is not taken for the oldest)."""
    moment, other = _moment(release), _moment(than)
    return moment != -math.inf and other != -math.inf and moment > other


def _moment(release: dict) -> float:
    """When a release was published, comparable across offsets and fractions of a second (`10:00+02:00` is before
    `09:00Z`); an undated one before any dated."""
    moment = _time(release.get("date"))
    return moment.timestamp() if moment is not None else -math.inf


def _compiled(ocid: str, releases: list[tuple[dict, _Source]]) -> tuple[dict, _Source]:
    """A process's releases merged as the standard merges them; the source of the newest release."""
    ordered = sorted(releases, key=lambda item: _order(*item))
    merged: dict = {}
    for release, _ in ordered:
        _merge_into(merged, release)
    merged = _finished(merged)
    merged["ocid"] = ocid
    return merged, ordered[-1][1]


class _ById(dict):
    """An array of objects with ids while a process compiles: id -> object, so that each release merges into it in
    the time of its own size (a process of thousands of releases, each adding an award)."""


def _merge_into(target: dict, later: dict) -> None:
    """OCDS merging (what ocds-merge does): objects field by field, null removing a field; arrays of objects with
    ids matched by id, an empty one adding nothing; the arrays the schema merges whole (`wholeListMerge`) and any
    other value replaced. `later` is left as it was: what it gives is copied."""
    for key, value in later.items():
        if value is None:
            target.pop(key, None)
            continue
        held = target.get(key)
        if isinstance(value, dict):
            if not isinstance(held, dict) or isinstance(held, _ById):
                held = target[key] = {}
            _merge_into(held, value)
        elif isinstance(value, list) and key not in _WHOLE_LIST_MERGE and value and all(
                isinstance(item, dict) and item.get("id") is not None for item in value):
            if not isinstance(held, _ById):
                held = target[key] = _ById()
            for item in value:
                into = held.get(str(item["id"]))
                if into is None:
                    into = held[str(item["id"])] = {}
                _merge_into(into, item)
        elif isinstance(value, list) and not value and isinstance(held, _ById):
            continue
        else:
            target[key] = value


def _finished(value: object) -> object:
    """The compiled release as OCDS writes it: the arrays matched by id back to lists."""
    if isinstance(value, _ById):
        return [_finished(item) for item in value.values()]
    if isinstance(value, dict):
        return {key: _finished(item) for key, item in value.items()}
    return value


def _parties(where: _Where, release: dict) -> list[tuple[_Org, frozenset[str]]]:
    """Every organisation the process names, with the roles it has in it."""
    found: list[tuple[_Org, frozenset[str]]] = []
    for party in release.get("parties") if isinstance(release.get("parties"), list) else ():
        if isinstance(party, dict):
            org = _org(where, party)
            if org is not None:
                roles = party.get("roles")
                found.append((org, frozenset(r for r in roles if isinstance(r, str)) if isinstance(roles, list)
                              else frozenset()))
    # OCDS 1.0 names the buyer, the procuring entity and the suppliers where they act, without a list of parties
    for reference, role in ((release.get("buyer"), "buyer"), (_tender(release).get("procuringEntity"),
                                                              "procuringEntity")):
        org = _reference(where, release, reference)
        if org is not None:
            found.append((org, frozenset({role})))
    for award in _awards(release):
        for supplier in award.get("suppliers") if isinstance(award.get("suppliers"), list) else ():
            org = _reference(where, release, supplier)
            if org is not None:
                found.append((org, frozenset({"supplier"})))
    return found


def _tender(release: dict) -> dict:
    return release["tender"] if isinstance(release.get("tender"), dict) else {}


def _awards(release: dict) -> list[dict]:
    awards = release.get("awards")
    return [award for award in awards if isinstance(award, dict)] if isinstance(awards, list) else []


def _reference(where: _Where, release: dict, reference: object) -> _Org | None:
    """The organisation an organisation reference names: the party of its id (1.1), else the reference itself (1.0
    gives the organisation in place)."""
    if not isinstance(reference, dict):
        return None
    party_id = _text(reference.get("id"))
    if party_id is not None:
        party = _parties_by_id(release).get(party_id)
        if party is not None:
            return _org(where, party)
    return _org(where, reference)


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


def _org(where: _Where, party: dict) -> _Org | None:
    identifier = party.get("identifier") if isinstance(party.get("identifier"), dict) else {}
    name = _name(party.get("name")) or _name(identifier.get("legalName"))
    party_id = _text(party.get("id")) or _text(identifier.get("id"))
    if party_id is None and name is None:
        return None
    additional = party.get("additionalIdentifiers")
    listed = [identifier, *(item for item in (additional if isinstance(additional, list) else ())
                            if isinstance(item, dict))]
    identifiers = tuple({"scheme": code or _text(item.get("scheme")), "id": value, "uri": _text(item.get("uri"))}
                        for item in listed
                        for code, value in ((_scheme_code(item.get("scheme")), _text(item.get("id"))),)
                        if value and value.upper() not in _PLACEHOLDERS.get(code or "", ()))
    code, value = _scheme_code(identifier.get("scheme")), _text(identifier.get("id"))
    address = party.get("address") if isinstance(party.get("address"), dict) else {}
    country = _text(address.get("countryName"))
    country = country.lower() if country and re.fullmatch(r"[A-Za-z]{2}", country) else None
    if code and value and value.upper() not in _PLACEHOLDERS.get(code, ()):
        # registers write their numbers in one case (an id in lower case is the same number)
        return _Org(_entity_id(f"ocds-{code}-{value.upper()}"), name or value, identifiers, country,
                    _text(party.get("id")))
    # A publisher's own party id, with its publisher and what names the party: publishers keep their ids across
    # their processes, but some number parties per process ("1" is another firm in each), so the name (else the
    # identifier it gives) keeps firms apart whatever else an import holds; a name's variants of accents, case and
    # punctuation stay one. A party with neither is known only within its process.
    if name:
        label = _folded(name)
    elif value:
        scheme = identifier.get("scheme")
        label = f"{_folded(scheme if isinstance(scheme, str) else None)}:{value}"
    else:
        label = None
    if label is None:
        return _Org(_entity_id(f"{where.process}-{party_id}"), party_id, identifiers, country, _text(party.get("id")))
    named = hashlib.sha256(label.encode()).hexdigest()[:10]
    key = f"{where.scope}-{party_id}-{named}" if party_id is not None else f"{where.scope}-n{named}"
    return _Org(_entity_id(key), name or value or party_id, identifiers, country, _text(party.get("id")))


def _scheme_code(scheme: object) -> str | None:
    text = _text(scheme)
    if text is None:
        return None
    if _ORG_ID.match(text.upper()):
        return text.upper()
    return _SCHEME_NAMES.get(_folded(text))


def _entity_id(text: str) -> str:
    """An entity or relation id the contract accepts: the text where it fits, else a readable part and a digest."""
    if len(text) <= IDENTIFIER_MAX_LENGTH and _IDENTIFIER.match(text):
        return text
    readable = re.sub(r"[^A-Za-z0-9._:\-/]+", "-", text).strip("-._:/")[:120] or "ocds"
    return f"{readable}-{hashlib.sha256(text.encode()).hexdigest()[:16]}"


def _award_documents(where: _Where, release: dict, source: _Source, authorities: set[str],
                     defaults: ImportDefaults, report: ImportReport | None) -> list[tuple[str, dict]]:
    awards = _awards(release)
    if not awards:
        count_outcome(report, "ocds processes without awards")
        return []
    ocid = where.ocid
    authority = _authority(where, release)
    if authority is None:
        raise ImportSkip(SkipReason.MISSING_ENDPOINT, "the process names neither a buyer nor a procuring entity")
    provenance = _provenance(ocid, release, source, defaults)
    contracts: dict[str, list[dict]] = {}  # award id -> its contracts
    for contract in release.get("contracts") if isinstance(release.get("contracts"), list) else ():
        if isinstance(contract, dict) and _text(contract.get("awardID")) is not None:
            contracts.setdefault(_text(contract.get("awardID")), []).append(contract)
    documents = []
    for award in awards:
        award_id = _text(award.get("id"))
        status = _status(award.get("status"), AWARD_STATUSES)
        if status in ("cancelled", "unsuccessful"):
            count_outcome(report, f"ocds {status} awards skipped")
            continue
        if award_id is None:
            count_outcome(report, "ocds awards without an id skipped")
            continue
        own = contracts.get(award_id, [])
        if own and all(_status(c.get("status"), CONTRACT_STATUSES) == "cancelled" for c in own):
            count_outcome(report, "ocds awards whose every contract was cancelled skipped")
            continue
        suppliers = [_reference(where, release, s) for s in award.get("suppliers") or ()] \
            if isinstance(award.get("suppliers"), list) else []
        suppliers = [s for s in suppliers if s is not None]
        if not suppliers:
            count_outcome(report, "ocds awards without a supplier skipped")
            continue
        if status not in AWARD_STATUSES.values() and status is not None:
            count_outcome(report, "ocds awards of a status outside the codelist read as reported")
            _note(report, ocid, f"award {award_id}: status {award.get('status')!r} is not one OCDS defines: read as "
                                "reported")
        event_status = Status.PROPOSED if status == "pending" else Status.REPORTED \
            if status is not None and status not in AWARD_STATUSES.values() else defaults.status
        start, end = _period(ocid, award, own, provenance["observed"], report)
        properties = _properties(ocid, award, release, report)
        for supplier in sorted({s.entity_id: s for s in suppliers}.values(), key=lambda s: s.entity_id):
            source_ref = _ref(authority, authorities, buyer=True)
            target_ref = _ref(supplier, authorities)
            # the supplier as the process names it (its party id), not its entity id, which an identifier or a new
            # name given in a later import changes: that import's event then replaces this one
            relation_id = _entity_id(f"ocds:{where.process}:award:{award_id}:{supplier.party_id or supplier.entity_id}")
            document = {
                "schema_version": SCHEMA_VERSION, "op": "upsert", "relation_id": relation_id,
                "relation_type": RelationType.AWARDS_CONTRACT.value, "source": source_ref, "target": target_ref,
                "properties": properties, **({"start_date": start} if start else {}),
                **({"end_date": end} if end else {}),
                "status": event_status.value,
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


def _authority(where: _Where, release: dict) -> _Org | None:
    """Who awards: the buyer, else the procuring entity; where the release names neither, the one party with that
    role (a publisher that lists roles but fills neither field)."""
    for reference, role in ((release.get("buyer"), "buyer"), (_tender(release).get("procuringEntity"),
                                                              "procuringEntity")):
        org = _reference(where, release, reference)
        if org is not None:
            return org
        holders = [party for party in _parties_by_id(release).values()
                   if isinstance(party.get("roles"), list) and role in party["roles"]]
        if len(holders) == 1:
            return _org(where, holders[0])
    return None


# The codelists' values, and the words some publishers write for them (Spanish, Portuguese), compared folded.
AWARD_STATUSES: dict[str, str] = {
    "pending": "pending", "active": "active", "cancelled": "cancelled", "unsuccessful": "unsuccessful",
    "canceled": "cancelled", "pendiente": "pending", "activo": "active", "activa": "active", "adjudicado": "active",
    "adjudicada": "active",
    "cancelado": "cancelled", "cancelada": "cancelled", "anulado": "cancelled", "anulada": "cancelled",
    "desierto": "unsuccessful", "desierta": "unsuccessful", "pendente": "pending", "ativo": "active",
}
CONTRACT_STATUSES: dict[str, str] = {
    "pending": "pending", "active": "active", "cancelled": "cancelled", "terminated": "terminated",
    "canceled": "cancelled", "cancelado": "cancelled", "cancelada": "cancelled", "terminado": "terminated",
    "terminada": "terminated",
    "concluido": "terminated", "finalizado": "terminated", "activo": "active", "vigente": "active",
}


def _status(value: object, codelist: dict[str, str]) -> str | None:
    """A status as its codelist names it, whatever its case; another value as given (folded); none as None."""
    text = _text(value)
    if text is None:
        return None
    folded = _folded(text)
    return codelist.get(folded, folded)


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
    start, else its first payment) to the end of its contracts' periods (else the award's contract period; a period
    given by its duration ends that many days after it starts). Contracts that all ended (terminated, cancelled)
    without an end ended with their last payment, else at the latest the day before the release stating them."""
    award_period = award.get("contractPeriod") if isinstance(award.get("contractPeriod"), dict) else {}
    periods = [c["period"] for c in contracts if isinstance(c.get("period"), dict)]
    paid = sorted(d for c in contracts for d in map(_day, _transaction_dates(c)) if d)
    start = _day(award.get("date")) or min(
        (d for d in (_day(c.get("dateSigned")) for c in contracts) if d), default=None) \
        or min((d for d in (_day(p.get("startDate")) for p in periods) if d), default=None) \
        or _day(award_period.get("startDate")) or (paid[0] if paid else None)
    ends = [d for d in (_period_end(p) for p in periods) if d]
    end = max(ends) if ends else _period_end(award_period)
    if end is None and contracts and all(_status(c.get("status"), CONTRACT_STATUSES) in ("terminated", "cancelled")
                                         for c in contracts):
        if paid:
            end = paid[-1]
            _note(report, ocid, f"award {award.get('id')}: its contracts ended without a date: read as ended with "
                                f"their last payment, {end}")
        else:
            end = observed.date() - dt.timedelta(days=1) if observed.date() > dt.date.min else dt.date.min
            _note(report, ocid, f"award {award.get('id')}: its contracts ended without a date: read as ended on "
                                f"{end}, the day before the release stating it, at the latest")
    if start is not None and end is not None and end < start:
        _note(report, ocid, f"award {award.get('id')}: its contracts end ({end}) before it starts ({start}): "
                            "read without an end")
        end = None
    return start, end


def _period_end(period: dict) -> dt.date | None:
    """A period's end: its `endDate`, else its start and `durationInDays` (OCDS 1.1)."""
    end = _day(period.get("endDate"))
    if end is not None:
        return end
    start, days = _day(period.get("startDate")), period.get("durationInDays")
    if start is not None and isinstance(days, (int, float)) and not isinstance(days, bool) \
            and math.isfinite(days) and 0 <= days < 36_600:
        try:
            return start + dt.timedelta(days=int(days))  # the schema: the difference between start and end
        except OverflowError:
            return None
    return None


def _transaction_dates(contract: dict) -> list[object]:
    implementation = contract.get("implementation")
    transactions = implementation.get("transactions") if isinstance(implementation, dict) else None
    return [t.get("date") for t in transactions if isinstance(t, dict)] if isinstance(transactions, list) else []


def _properties(ocid: str, award: dict, release: dict, report: ImportReport | None) -> dict:
    properties: dict = {}
    value = award.get("value") if isinstance(award.get("value"), dict) else {}
    amount, currency = value.get("amount"), _text(value.get("currency"))
    currency = currency.upper() if currency and re.fullmatch(r"[A-Za-z]{3}", currency) else None
    if isinstance(amount, int) and not isinstance(amount, bool) and amount >= 10 ** 300:
        amount = None  # beyond what a float holds: no amount anyone paid
    if isinstance(amount, (int, float)) and not isinstance(amount, bool) and math.isfinite(amount) and amount > 0:
        if currency is None:
            # an amount without its currency says nothing comparable: left out rather than shown bare
            _note(report, ocid, f"award {award.get('id')}: value {amount!r} without a currency code: left out")
        else:
            properties["amount"] = float(amount)
            properties["currency"] = currency
    title = _name(award.get("title")) or _name(_tender(release).get("title"))
    if title:
        properties["purpose"] = title[:1000]
    properties["role"] = "supplier"
    return properties


def _ref(org: _Org, authorities: set[str], buyer: bool = False) -> dict:
    """The endpoint of an event: who awards is a public body whatever the first pass saw of it (a later release may
    rename it or add its identifier without repeating its roles); a supplier is one where it buys anywhere in the
    file."""
    ref: dict = {"id": org.entity_id, "schema": "PublicBody" if buyer or org.entity_id in authorities
                 else "LegalEntity",
                 "name": org.name[:500]}
    if org.country:
        ref["country"] = org.country
    identifiers = identifiers_from_bods(list(org.identifiers), org.entity_id)
    if identifiers:
        ref["identifiers"] = [identifier.model_dump(exclude_none=True) for identifier in identifiers]
    return ref


def _time(value: object) -> dt.datetime | None:
    text = _text(value)
    if text is None:
        return None
    if re.match(r"^\d{4}-\d{2}-\d{2} \d", text):  # a time written with a space ("2020-01-01 10:00:00")
        text = text.replace(" ", "T", 1)
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
    if isinstance(value, int):  # ids written as numbers (a contract's id in Compranet)
        return str(value) if abs(value) < 10 ** 30 else None
    if isinstance(value, float):
        return str(value) if math.isfinite(value) else None
    return _name(value)


def _name(value: object) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    # a lone surrogate (JSON allows "\ud800") is no character: replaced, so that it cannot fail an encoding later
    return " ".join(value.encode("utf-8", "surrogatepass").decode("utf-8", "replace").split())


def _folded(name: str | None) -> str:
    """A name as compared: without accents, case or punctuation ("LAUMAN, S.A. DE C.V." is "Lauman SA de CV")."""
    decomposed = unicodedata.normalize("NFKD", name or "")
    plain = "".join(char for char in decomposed
                    if not unicodedata.combining(char) and not unicodedata.category(char).startswith("P"))
    return " ".join(plain.casefold().split())


def _note(report: ImportReport | None, key: str, text: str) -> None:
    if report is not None:
        report.notes.append(f"OCDS {key}: {text}")


def events_from_ocds(documents: Iterable[object], defaults: ImportDefaults | None = None,
                     report: ImportReport | None = None) -> Iterator[RelationshipEvent]:
    """`import_ocds` over documents in memory."""
    documents = documents if isinstance(documents, list) else list(documents)
    return import_ocds(lambda: iter(documents), defaults or ImportDefaults(
        extractor_name=EXTRACTOR_NAME, extractor_version=OCDS_IMPORT_VERSION), report)
