"""The KEK media database (Kommission zur Ermittlung der Konzentration im Medienbereich, Germany's media
concentration commission): its shareholder and media records, as its API gives them one by one
(`https://medienvielfaltsmonitor.de/api/v1/shareholders/<squuid>` and `.../media/<squuid>`), out as relationship
events. docs/events.md ("KEK media database") has the mapping table and what is lost.

- A holding (`owns` / `ownedBy`, type `own`) is an ownership with `capitalShares` as its percentage. A general
  partner (`complementaryPartner`: the Komplementär of a GmbH & Co. KG, which manages it, usually with 0% of its
  capital) is control; its capital share, when it holds one, is an ownership beside it.
- Operating a medium (`operates` / `operatedBy`, type `operate`) is control of the medium (a newspaper, website,
  radio or TV programme, read as an Organization).
- A radio or TV programme's supervising authority (`rfSupervisingAuthority`, a state media authority such as the
  BLM) licenses and supervises its operator: `regulates`, from the authority (a PublicBody) to each operator the
  programme's record names. Private broadcasting needs that licence; print and online media need none, so theirs
  (mostly "DL", the media authorities together) is not read.
- Each relation has its own id in KEK (`squuid`) and is listed by both of its ends: it is read once, from the record
  KEK checked last (`controlDate`, also the events' `observed_at`).
- Endpoints: `kek-<squuid>`. A shareholder is a Person (`naturalPerson`), else a Company; a `pseudoCompany` is a
  holder that is not a company: a public body (a town, a district, a state, a ministry), which is read as a
  PublicBody, or holders counted together (free float, the company's own shares, "other shareholders"), which are
  no entity: their holdings are skipped, noted. An entity only named by a relation, not given a record of its own
  in the file, is a LegalEntity (noted).

`import_kek` reads the file once and holds what it read (KEK's whole database is about 11,000 entities and 26,000
relations): what each entity is must be known before any relation naming it is written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from schemas.events import SCHEMA_VERSION, RelationshipEvent
from schemas.ftm import (ImportDefaults, ImportReport, ImportSkip, Skipped, SkipReason, _record,
                         converted_event, count_outcome, text_or_none)
from schemas.values import UnreadableValue, read_timestamp
from schemas.vocabulary import RelationType, Status

KEK_IMPORT_VERSION = "1.1"  # bump when the mapping changes what an import yields
EXTRACTOR_NAME = "kek-import"
PUBLISHER = "KEK (Kommission zur Ermittlung der Konzentration im Medienbereich)"
RECORD_URL = "https://medienvielfaltsmonitor.de/api/v1/{kind}/{squuid}"

# rfSupervisingAuthority values that are no state media authority's licence: "Im Ausland zugelassen" (licensed
# abroad, its fullName "keine"), KEK itself (over public broadcasters), DL (the media authorities together)
_NOT_LICENSORS = frozenset({"5b083116-b4c6-4d71-965c-d9d0e6f52237", "5adf79c7-7ca3-4d7a-939c-d5a256934b27",
                            "5adf79c8-9f9e-4b59-a86f-7119603efa99"})
MEDIA_TYPES = frozenset({"print", "online", "radio", "tv"})
LICENSED_MEDIA = frozenset({"radio", "tv"})  # private broadcasting needs a state media authority's licence
_LISTS = ("owns", "ownedBy", "operates", "operatedBy")
_SQUUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# Holders KEK counts together under one name (free float, own shares, "further" or "other" shareholders): no entity.
# Matched on the first word, as KEK names them ("Streubesitz an der Freenet AG", "weitere ca. 60 Kommanditisten").
_TOGETHER = re.compile(
    r"^\s*(streubesitz|eigenbesitz|eigenanteile?|weitere|sonstige|übrige|verschiedene|andere|aktionäre|anteilseigner"
    r"|einzelpersonen|individuals|mitarbeiter|ehemalige|management der|durch einziehung|größere zahl|(ca\.|rund)\s)\b"
    r"|.*\bmit anteilen von jeweils\b|.*\(eigenanteil\)|.*\bvereinsmitglieder\b", re.IGNORECASE)
# Of the holders KEK marks `pseudoCompany`, the public bodies: a town, district, state, the federation, a ministry
# ("Stadt Wuppertal", "Rhein-Sieg-Kreis", "Freie Hansestadt Bremen (Land)", "Das Saarland").
_PUBLIC_BODY = re.compile(
    r"^\s*(das\s+)?(stadt|stadtgemeinde|gemeinde|markt|landkreis|kreis|landeshauptstadt|land|freistaat|freie"
    r"|bundesrepublik|bundesministerium|ministerium|staatskanzlei|landschaftsverband|bezirk|saarland)\b"
    r"|.*kreis\s*$|.*\bstaatskanzlei\b|\s*staatsministerium\b|\s*(deutscher\s+)?bundestag\b|\s*auswärtiges amt\b"
    r"|\s*jobcenter\b", re.IGNORECASE)
# How KEK writes a person ("Hinzer, Christina"): family name, comma, given names, no legal form or body among them.
# Of the holders KEK gives no flags, those so named are people (265 in the 2026-08 archive).
_PERSON_NAME = re.compile(r"^[^\W\d_][\w'.\- ]*,\s*[^\W\d_][\w'.\- ]*$")
_NOT_A_PERSON = re.compile(
    r"\b(gmbh|mbh|ag|kg|kgaa|ohg|gbr|e\.\s?v|eg|se|ug|ltd|llc|inc|plc|s\.?a|b\.?v|n\.?v|co|l\.?l?\.?p|verlag|"
    r"stiftung|verein|verband|holding|gesellschaft|gruppe|group|rundfunk|radio|medien|media|stadt|gemeinde|kreis|"
    r"land|bank|"
    r"erben|erbengemeinschaft|familie|kirche|bistum|diözese)\b", re.IGNORECASE)


def is_kek(document: object) -> bool:
    """A KEK shareholder or media record (or an entry of its lists): a `squuid` and what only KEK's records carry."""
    if not isinstance(document, dict) or not isinstance(document.get("squuid"), str) \
            or not _SQUUID.match(document["squuid"]):
        return False
    # (a shareholder KEK lists without its flags or relations still carries the authorities it is filed with)
    return any(key in document for key in (*_LISTS, "naturalPerson", "pseudoCompany", "rfSupervisingAuthority",
                                             "organizations", "organization", "controlDate")) \
        or _media_type(document) is not None


def _media_type(document: dict) -> str | None:
    kind = document.get("type")
    return kind if isinstance(kind, str) and kind in MEDIA_TYPES else None


@dataclass
class _Entity:
    """What the file says of one squuid: its kind (shareholders or media), name, flags, and when KEK checked it."""

    kind: str
    name: str | None = None
    media_type: str | None = None
    natural_person: bool | None = None
    pseudo_company: bool | None = None
    checked: str = ""
    rank: str = ""  # a digest of the record, which breaks a tie between two records of one squuid


@dataclass
class _State:
    entities: dict[str, _Entity] = field(default_factory=dict)
    # relation squuid -> (controlDate of the record it was read from, that record's kind and squuid, the entry, the
    # record's digest)
    relations: dict[str, tuple[str, str, str, dict, str]] = field(default_factory=dict)
    # squuid -> (controlDate, digest) of the record whose relation named it, and the name: the latest record's
    named: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    supervised: dict[str, dict] = field(default_factory=dict)  # squuid -> the latest record of a radio or TV programme
    noted: set[tuple[str, str]] = field(default_factory=set)
    held: set[str] = field(default_factory=set)  # the squuids some holding names as what it holds


def import_kek(read: Callable[[], Iterable[object]], defaults: ImportDefaults = ImportDefaults(
        extractor_name=EXTRACTOR_NAME, extractor_version=KEK_IMPORT_VERSION),
               report: ImportReport | None = None) -> Iterator[RelationshipEvent]:
    """Stream KEK records (JSON lines, an array, or the API's pretty-printed objects one after another, e.g. `cat
    shareholders/*.json media/*.json`): what each entity is, then every relation once, in relation id order (so
    one set of records gives the same events in any file order)."""
    state = _State()
    for document in read():
        if not is_kek(document):
            _record(report, Skipped(text_or_none(document.get("squuid")) if isinstance(document, dict) else None, "KEK",
                                    SkipReason.INVALID_ENTITY.value,
                                    "not a KEK shareholder or media record (no squuid, or none of its fields)"))
            continue
        _read_record(document, state)
    state.held = {_end_id(entry.get("held")) for _, _, _, entry, _ in state.relations.values()
                  if entry.get("type") == "own"}
    for squuid in sorted(state.relations):
        checked, kind, owner, entry, _ = state.relations[squuid]
        try:
            for document in _relation_documents(squuid, checked, kind, owner, entry, state, defaults, report):
                yield converted_event(document, "kek", report)
        except ImportSkip as problem:
            _record(report, Skipped(squuid, f"KEK {entry.get('type') or 'relation'}", problem.reason,
                                    problem.message))
    for medium, record in sorted(state.supervised.items()):
        for operator in _operators(record):
            try:
                document = _supervision_document(medium, record, operator, state, defaults)
                yield converted_event(document, "kek", report)
            except ImportSkip as problem:
                _record(report, Skipped(f"{medium}:{operator}", "KEK supervision", problem.reason, problem.message))


def _read_record(document: dict, state: _State) -> None:
    squuid = document["squuid"]
    is_medium = _media_type(document) is not None or "operatedBy" in document \
        or "rfSupervisingAuthority" in document
    checked = text_or_none(document.get("controlDate")) or ""
    held = state.entities.get(squuid)
    # of two records of one squuid, the one KEK checked last; of two checked at once (or never), the one whose content
    # sorts last, so that the file order decides nothing
    rank = hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode()).hexdigest()
    latest = held is None or (held.checked, held.rank) <= (checked, rank)
    if latest:
        state.entities[squuid] = _Entity(
            "media" if is_medium else "shareholders", _name(document.get("name")),
            _media_type(document) if is_medium else None,
            document.get("naturalPerson") if isinstance(document.get("naturalPerson"), bool) else None,
            document.get("pseudoCompany") if isinstance(document.get("pseudoCompany"), bool) else None, checked, rank)
    kind = "media" if is_medium else "shareholders"
    for key in _LISTS:
        entries = document.get(key)
        for entry in entries if isinstance(entries, list) else ():
            if not isinstance(entry, dict) or not isinstance(entry.get("squuid"), str):
                continue
            for end in ("holder", "held"):
                ref = entry.get(end)
                name = _name(ref.get("name")) if isinstance(ref, dict) else None
                if name and isinstance(ref.get("squuid"), str):
                    held_name = state.named.get(ref["squuid"])
                    if held_name is None or held_name[:2] < (checked, rank):  # as for relations: not the file order
                        state.named[ref["squuid"]] = (checked, rank, name)
            # the far end of an entry in `owns` is `held`, and this record is its holder (and the reverse)
            entry = dict(entry)
            if key in ("owns", "operates"):
                entry.setdefault("holder", {"squuid": squuid, "name": document.get("name")})
            else:
                entry.setdefault("held", {"squuid": squuid, "name": document.get("name")})
            read = state.relations.get(entry["squuid"])
            # a tie: the record with the larger squuid, then the larger digest (two records of one entity at one time)
            if read is None or (read[0], read[2], read[4]) < (checked, squuid, rank):
                state.relations[entry["squuid"]] = (checked, kind, squuid, entry, rank)
    if latest:
        if _media_type(document) in LICENSED_MEDIA and document.get("rfPublicPrivate") is not True \
                and isinstance(document.get("rfSupervisingAuthority"), dict):
            state.supervised[squuid] = document
        else:
            state.supervised.pop(squuid, None)


def _relation_documents(squuid: str, checked: str, kind: str, record: str, entry: dict, state: _State,
                        defaults: ImportDefaults, report: ImportReport | None) -> list[dict]:
    """The events of one KEK relation: a holding (ownership; control for a general partner, with an ownership of its
    capital share beside it when it has one) or the operation of a medium (control)."""
    holder, held = _end_id(entry.get("holder")), _end_id(entry.get("held"))
    if holder is None or held is None:
        raise ImportSkip(SkipReason.MISSING_ENDPOINT, "the relation does not name both its holder and what it holds")
    relation = entry.get("type")
    if relation not in ("own", "operate"):
        raise ImportSkip(SkipReason.UNKNOWN_ROLE, f"relation type {relation!r} is neither own nor operate")
    source = _ref(holder, state, report)
    target = _ref(held, state, report, medium=relation == "operate")
    if source is None or target is None:
        together = state.entities.get(holder if source is None else held)
        name = (together.name if together else None) or _named(state, holder if source is None else held)
        count_outcome(report, "kek holdings of shareholders counted together skipped")
        _note(report, squuid, f"{name!r} counts several holders together (free float, own shares, others): "
                              "not an entity, its holding is skipped")
        return []
    observed = _observed(checked, defaults)
    base = {"source": source, "target": target, "observed": observed, "kind": kind, "record": record}
    end = None
    if entry.get("state") not in (None, "active"):
        end = max(observed.date() - dt.timedelta(days=1), dt.date.min)
        _note(report, squuid, f"state {entry.get('state')!r}: read as ended on {end}, the day before KEK checked it")
    if relation == "operate":
        medium = state.entities.get(held)
        what = f"operates the {medium.media_type} medium" if medium and medium.media_type else "operates the medium"
        return [_document(f"kek:{squuid}", RelationType.CONTROL, {"role": what}, end, base, defaults)]
    share = _share(entry.get("capitalShares"), squuid, report)
    documents = []
    if entry.get("complementaryPartner") is True:
        documents.append(_document(f"kek:{squuid}", RelationType.CONTROL,
                                   {"role": "general partner (Komplementär)"}, end, base, defaults))
        if share:
            documents.append(_document(f"kek:{squuid}:capital", RelationType.OWNERSHIP,
                                       {"percentage": share, "role": "general partner's capital share"}, end, base,
                                       defaults))
        return documents
    properties = {"role": "shareholder"} if share is None else {"percentage": share, "role": "shareholder"}
    documents.append(_document(f"kek:{squuid}", RelationType.OWNERSHIP, properties, end, base, defaults))
    votes = _share(entry.get("votingShares"), squuid, report)
    if votes is not None and votes > 50.0 and (share is None or share <= 50.0):
        # a voting majority on a capital minority (6% of the capital with all the votes): the holder steers it
        documents.append(_document(f"kek:{squuid}:votes", RelationType.CONTROL,
                                   {"role": f"holds {votes:g}% of the voting rights"}, end, base, defaults))
    return documents


def _named(state: _State, squuid: str) -> str | None:
    """The name the latest record naming it in a relation gives an entity without a record of its own."""
    held = state.named.get(squuid)
    return held[2] if held else None


def _supervision_document(medium: str, record: dict, operator: str, state: _State,
                          defaults: ImportDefaults) -> dict:
    authority = record["rfSupervisingAuthority"]
    authority_id = _end_id(authority)
    if authority_id in _NOT_LICENSORS:
        raise ImportSkip(SkipReason.UNKNOWN_ROLE, f"{authority.get('name')!r} is no state media authority's licence")
    if authority_id is None:
        raise ImportSkip(SkipReason.MISSING_ENDPOINT, "the supervising authority has no squuid")
    name = _name(authority.get("fullName")) or _name(authority.get("name")) or authority_id
    source = {"id": f"kek-{authority_id}", "schema": "PublicBody", "name": name, "country": "de",
              "topics": ["gov.state"]}  # the media authorities are the states' (Landesmedienanstalten)
    short = _name(authority.get("name"))
    if short and short != name:
        source["aliases"] = [short]
    target = _ref(operator, state, None)
    if target is None:
        raise ImportSkip(SkipReason.MISSING_ENDPOINT, f"operator {operator} counts several holders together")
    licence = ", ".join(f"{label} {record[key]}" for key, label in (
        ("rfLicensed", "licensed"), ("rfLicenseFrom", "from"), ("rfLicenseUntil", "until"))
        if text_or_none(record.get(key)))
    title = _name(record.get("name")) or medium
    role = f"supervising authority of the {record.get('type')} programme {title}" + (f" ({licence})" if licence else "")
    # when KEK checked the programme's record, else its operator's (which lists the programme among what it operates):
    # a quarter of the media records carry no controlDate
    operator_record = state.entities.get(operator)
    checked = state.entities[medium].checked or (operator_record.checked if operator_record else "")
    base = {"source": source, "target": target, "observed": _observed(checked, defaults), "kind": "media",
            "record": medium}
    return _document(f"kek:{medium}:supervision:{operator}", RelationType.REGULATES, {"role": role[:200]}, None,
                     base, defaults)


def _operators(record: dict) -> list[str]:
    """The operators a programme's record names (its licensees), active ones, each once, in id order."""
    entries = record.get("operatedBy")
    found = {_end_id(entry.get("holder")) for entry in (entries if isinstance(entries, list) else ())
             if isinstance(entry, dict) and entry.get("state") in (None, "active")}
    return sorted(found - {None})


def _document(relation_id: str, relation: RelationType, properties: dict, end: dt.date | None, base: dict,
              defaults: ImportDefaults) -> dict:
    observed = base["observed"]
    return {
        "schema_version": SCHEMA_VERSION, "op": "upsert", "relation_id": relation_id,
        "relation_type": relation.value, "source": base["source"], "target": base["target"],
        "properties": properties, **({"end_date": end} if end else {}), "status": Status.CONFIRMED.value,
        "observed_at": observed,
        "provenance": {"source_url": RECORD_URL.format(kind=base["kind"], squuid=base["record"]),
                       "publisher": PUBLISHER, "retrieved_at": observed,
                       "extractor": {"name": defaults.extractor_name, "version": defaults.extractor_version},
                       "confidence": defaults.confidence},
    }


def _ref(squuid: str, state: _State, report: ImportReport | None, medium: bool = False) -> dict | None:
    """The event endpoint of a squuid; None for holders counted together (no entity)."""
    known = state.entities.get(squuid)
    name = (known.name if known else None) or _named(state, squuid)
    if medium or (known and known.kind == "media"):
        schema = "Organization"
    elif known is None or (known.natural_person is None and known.pseudo_company is None):
        if name and _TOGETHER.match(name):
            return None
        if name and _PERSON_NAME.match(name) and not _NOT_A_PERSON.search(name) and squuid not in state.held:
            schema = "Person"
            _note_once(state, report, squuid, f"{name!r} has no naturalPerson flag: read as a Person, as KEK writes "
                                              "people's names (family name, comma, given names)")
        else:
            schema = "LegalEntity"
            _note_once(state, report, squuid, "no record of its own in the file (or one without naturalPerson and "
                                              "pseudoCompany): read as LegalEntity")
    elif known.natural_person and squuid not in state.held:
        schema = "Person"
    elif known.natural_person:
        # an association or a community of heirs KEK marks a natural person (it has shareholders of its own)
        schema = "LegalEntity"
        _note_once(state, report, squuid, f"{name!r} is marked naturalPerson but has shareholders of its own: read "
                                          "as LegalEntity")
    elif known.pseudo_company:
        if name and _TOGETHER.match(name):
            return None
        if name and _PUBLIC_BODY.match(name):
            schema = "PublicBody"
        else:
            schema = "Organization"
            _note_once(state, report, squuid, f"{name!r} is marked pseudoCompany (not a company) and is not a "
                                              "public body KEK names so: read as Organization")
    else:
        schema = "Company"
    if name is None:
        _note_once(state, report, squuid, "no name in the file: named by its squuid")
    return {"id": f"kek-{squuid}", "schema": schema, "name": (name or squuid)[:500]}


def _share(value: object, squuid: str, report: ImportReport | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 100.0:
        _note(report, squuid, f"capitalShares {value!r} is not a share from 0 to 100%: imported without it")
        return None
    return float(value)


def _observed(checked: str, defaults: ImportDefaults) -> dt.datetime:
    if checked:
        try:
            return read_timestamp(checked)
        except UnreadableValue:
            pass
    if defaults.retrieved_at is None:
        raise ImportSkip(SkipReason.MISSING_PROVENANCE, "the record has no controlDate (when KEK checked it) and "
                                                        "there is no default for it (--retrieved-at)")
    return defaults.retrieved_at


def _end_id(ref: object) -> str | None:
    if isinstance(ref, dict) and isinstance(ref.get("squuid"), str) and _SQUUID.match(ref["squuid"]):
        return ref["squuid"]
    return None


def _name(value: object) -> str | None:
    return " ".join(value.split()) if isinstance(value, str) and value.strip() else None


def _note(report: ImportReport | None, squuid: str, text: str) -> None:
    if report is not None:
        report.notes.append(f"KEK {squuid}: {text}")


def _note_once(state: _State, report: ImportReport | None, squuid: str, text: str) -> None:
    if (squuid, text) not in state.noted:
        state.noted.add((squuid, text))
        _note(report, squuid, text)


def events_from_kek(documents: Iterable[object], defaults: ImportDefaults | None = None,
                    report: ImportReport | None = None) -> Iterator[RelationshipEvent]:
    """`import_kek` over documents in memory."""
    documents = documents if isinstance(documents, list) else list(documents)
    return import_kek(lambda: iter(documents), defaults or ImportDefaults(
        extractor_name=EXTRACTOR_NAME, extractor_version=KEK_IMPORT_VERSION), report)
