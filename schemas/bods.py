"""Beneficial Ownership Data Standard (BODS 0.4, and 0.3) in: person, entity and relationship statements out as
relationship events. docs/events.md ("BODS") has the mapping table and what is lost.

- Entities and persons are endpoints: the entity type decides the schema (`ENTITY_SCHEMA`: a state or state body
  is a PublicBody); a person declared politically exposed gets the `role.pep` topic (`role.pep.frmr` when every
  declared office has ended) and one `occupancy` of a Position per declared office (its `reason`); an office a
  later version of the person no longer declares ends the day before it (`_office_events`).
- Each interest of a relationship statement is one event from the interested party to the subject, its type
  read from `INTERESTS` (0.2's kebab-case types through `INTERESTS_02`; its hasPepStatus/pepStatusDetails as 0.3's
  politicalExposure). A share reads its `exact` value, else its lower bound (`minimum`/`exclusiveMinimum`: the
  share the register guarantees), and its upper bound as `percentage_max`; a share with only an upper bound, or
  a lower bound of 0, is imported without a percentage (the engine assumes its `unknown_stake`, never above the
  upper bound), the declared range kept in the role.
- `directOrIndirect: indirect` (0.2: `interestLevel`): when the statement lists its `componentRecords` (0.3:
  `componentStatementIDs`) and they are all in the file, the chain is there and the engine computes the indirect
  stake itself, so the declared one is not imported (it would count twice); otherwise it is imported as the only
  evidence, with role "indirect".
- Versions: a record's statements (0.4: one `recordId`; 0.3: chains of `replacesStatements`) are versions of the
  same relations, ordered by `statementDate` and, on one date, by their order in the file (whatever order the file
  lists them in); an interest a later statement no longer states is retracted. A relationship that states no
  interests is an interest of unknown kind. A closed record (`recordStatus: closed`) ends its relations: on the
  interest's `endDate`, else on the day before the closing statement's date.
- Identifiers: a party's `identifiers` (scheme codes such as GB-COH, XI-LEI) become typed identifiers through
  `schemas.identifiers.BODS_SCHEMES`, so a register number here merges with the same number from another source; an
  event carrying identifiers is contract 1.1, any other stays 1.0.
- Provenance: the publisher from `publicationDetails.publisher`, the source URL from `source.url` or the
  publisher's `url`, the retrieval time from `source.retrievedAt` or `publicationDate`; `ImportDefaults` fill
  only what the statement lacks.

`import_bods` reads a file in two passes (the parties, then the relationships), holding the parties only; given the
`BodsState` earlier files of the same register left, it reads the file against it (a later file names parties, and
replaces statements, of an earlier one) and brings it up to date.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from schemas.events import SCHEMA_VERSION, RelationshipEvent, required_schema_version
from schemas.identifiers import identifiers_from_bods
from schemas.ftm import (ImportDefaults, ImportReport, ImportSkip, Skipped, SkipReason, _record,
                         content_event_id, text_or_none, validated_event)
from schemas.values import UnreadableValue, first_day, last_day, read_percentage, read_timestamp
from schemas.vocabulary import EntitySchema, RelationType

BODS_IMPORT_VERSION = "1.4"  # bump when the mapping changes what an import yields

ENTITY_SCHEMA: dict[str, EntitySchema] = {
    "registeredEntity": EntitySchema.COMPANY,
    "legalEntity": EntitySchema.LEGAL_ENTITY,
    "arrangement": EntitySchema.LEGAL_ENTITY,
    "anonymousEntity": EntitySchema.LEGAL_ENTITY,
    "unknownEntity": EntitySchema.LEGAL_ENTITY,
    "state": EntitySchema.PUBLIC_BODY,
    "stateBody": EntitySchema.PUBLIC_BODY,
}


@dataclass(frozen=True)
class Interest:
    relation: RelationType
    label: str
    takes_share: bool = False  # the share is the relation's percentage; otherwise it goes into the role text


# BODS interest type -> our relation, from the interested party (source) to the subject (target).
INTERESTS: dict[str, Interest] = {
    "shareholding": Interest(RelationType.OWNERSHIP, "shareholding", takes_share=True),
    "votingRights": Interest(RelationType.CONTROL, "voting rights"),
    "appointmentOfBoard": Interest(RelationType.CONTROL, "appointment of board"),
    "otherInfluenceOrControl": Interest(RelationType.CONTROL, "other influence or control"),
    "seniorManagingOfficial": Interest(RelationType.DIRECTORSHIP, "senior managing official"),
    "boardMember": Interest(RelationType.DIRECTORSHIP, "board member"),
    "boardChair": Interest(RelationType.DIRECTORSHIP, "board chair"),
    "settlor": Interest(RelationType.CONTROL, "settlor"),
    "trustee": Interest(RelationType.CONTROL, "trustee"),
    "protector": Interest(RelationType.CONTROL, "protector"),
    "beneficiaryOfLegalArrangement": Interest(RelationType.OWNERSHIP, "beneficiary of legal arrangement",
                                              takes_share=True),
    "rightsToSurplusAssetsOnDissolution": Interest(RelationType.OWNERSHIP, "rights to surplus assets on "
                                                   "dissolution", takes_share=True),
    "rightsToProfitOrIncome": Interest(RelationType.OWNERSHIP, "rights to profit or income", takes_share=True),
    "enjoymentAndUseOfAssets": Interest(RelationType.OWNERSHIP, "enjoyment and use of assets", takes_share=True),
    "rightToProfitOrIncomeFromAssets": Interest(RelationType.OWNERSHIP, "right to profit or income from assets",
                                                takes_share=True),
    "rightsGrantedByContract": Interest(RelationType.CONTROL, "rights granted by contract"),
    "conditionalRightsGrantedByContract": Interest(RelationType.CONTROL, "conditional rights granted by contract"),
    "controlViaCompanyRulesOrArticles": Interest(RelationType.CONTROL, "control via company rules or articles"),
    "controlByLegalFramework": Interest(RelationType.CONTROL, "control by legal framework"),
    "nominator": Interest(RelationType.CONTROL, "nominator"),
    "nominee": Interest(RelationType.REPRESENTATION, "nominee"),
    # No type, or one the register does not publish: a stake of unknown size (the engine's unknown_stake).
    "unknownInterest": Interest(RelationType.OWNERSHIP, "interest of unknown kind", takes_share=True),
    "unpublishedInterest": Interest(RelationType.OWNERSHIP, "unpublished interest", takes_share=True),
}
UNTYPED_INTEREST = "unknownInterest"
# BODS 0.2's interest types (its codelist, kebab case: the Open Ownership register's UK data) -> 0.3's. 0.3 folded
# the trust variants into settlor/trustee/protector/beneficiary of any legal arrangement.
INTERESTS_02: dict[str, str] = {
    "voting-rights": "votingRights",
    "appointment-of-board": "appointmentOfBoard",
    "other-influence-or-control": "otherInfluenceOrControl",
    "senior-managing-official": "seniorManagingOfficial",
    "settlor-of-trust": "settlor",
    "trustee-of-trust": "trustee",
    "protector-of-trust": "protector",
    "beneficiary-of-trust": "beneficiaryOfLegalArrangement",
    "other-influence-or-control-of-trust": "otherInfluenceOrControl",
    "rights-to-surplus-assets-on-dissolution": "rightsToSurplusAssetsOnDissolution",
    "rights-to-profit-or-income": "rightsToProfitOrIncome",
    "rights-granted-by-contract": "rightsGrantedByContract",
    "conditional-rights-granted-by-contract": "conditionalRightsGrantedByContract",
}

_ID_CHARS = re.compile(r"[^A-Za-z0-9._:\-/]")
_ONE_DAY = dt.timedelta(days=1)
_ONE_SECOND = dt.timedelta(seconds=1)


def _object(value: object) -> dict:
    """A field the schema types as an object; anything else (invalid data) reads as absent."""
    return value if isinstance(value, dict) else {}


def _objects(value: object) -> list[dict]:
    """The objects of a field the schema types as an array of objects."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def identifier(raw: str) -> str:
    """A BODS id as an event identifier: characters the contract does not allow become '-'."""
    text = _ID_CHARS.sub("-", str(raw).strip())
    return text if text[:1].isalnum() else f"bods-{text}"


def is_bods(document: object) -> bool:
    return isinstance(document, dict) and any(key in document for key in ("statementId", "statementID",
                                                                           "recordType", "statementType"))


@dataclass
class Statement:
    """One BODS statement, read the same way for 0.4 and 0.3."""

    kind: str  # entity, person, relationship
    record_id: str  # stable across versions
    statement_id: str
    details: dict
    date: dt.date | None
    closed: bool
    raw: dict
    time: dt.datetime | None = None  # statementDate with its time of day, when it gives one

    def version(self, position: int) -> tuple[dt.datetime, int]:
        """Where this statement stands among the versions of its record: by statementDate, then file order."""
        return self.time or dt.datetime.min.replace(tzinfo=dt.UTC), position

    @classmethod
    def read(cls, data: dict, lineage: dict[str, str]) -> Statement:
        statement_id = str(data.get("statementId") or data.get("statementID") or "")
        if not statement_id:
            raise ImportSkip(SkipReason.INVALID_ENTITY, "statement has no statementId")
        if "recordType" in data:  # 0.4
            kind = data["recordType"]
            record_id = str(data.get("recordId") or statement_id)
            details = data.get("recordDetails") or {}
            closed = data.get("recordStatus") == "closed"
        else:  # 0.3: the record is the chain of statements that replace one another
            kind = {"entityStatement": "entity", "personStatement": "person",
                    "ownershipOrControlStatement": "relationship"}.get(
                text_or_none(data.get("statementType")) or "", "")
            replaced = [lineage[s] for s in data.get("replacesStatements") or []
                        if isinstance(s, str) and s in lineage]
            record_id = replaced[0] if replaced else statement_id
            lineage[statement_id] = record_id
            details = _details_03(data, kind)
            closed = False
        if kind not in ("entity", "person", "relationship"):
            raise ImportSkip(SkipReason.UNMAPPED_SCHEMA,
                             f"statement type {data.get('recordType') or data.get('statementType')!r}")
        date, time = None, None
        if data.get("statementDate"):
            try:
                date = first_day(data["statementDate"])
                time = read_timestamp(data["statementDate"])
            except UnreadableValue as exc:
                raise ImportSkip(SkipReason.UNREADABLE_VALUE, f"statementDate {exc}") from None
        return cls(kind, identifier(record_id), statement_id, details if isinstance(details, dict) else {}, date,
                   closed, data, time)


def _details_03(data: dict, kind: str) -> dict:
    """0.3 fields in 0.4 places."""
    if kind == "relationship":
        subject = _object(data.get("subject"))
        party = _object(data.get("interestedParty"))
        return {
            "subject": subject.get("describedByEntityStatement"),
            "interestedParty": (party.get("describedByPersonStatement") or party.get("describedByEntityStatement")
                                or party.get("unspecified")),
            # 0.3 states directOrIndirect like 0.4 (interestLevel is its 0.2 name) and lists the chain by statement
            "interests": [dict(i, directOrIndirect=i.get("directOrIndirect") or i.get("interestLevel") or "unknown",
                               **({"type": INTERESTS_02[i["type"]]} if i.get("type") in INTERESTS_02 else {}))
                          for i in _objects(data.get("interests"))],
            "componentRecords": data.get("componentStatementIDs") or [],
        }
    if kind == "entity":
        return {"name": data.get("name"), "entityType": {"type": data.get("entityType")},
                "jurisdiction": _object(data.get("incorporatedInJurisdiction")), "identifiers": data.get("identifiers")}
    return {"names": _objects(data.get("names")), "nationalities": _objects(data.get("nationalities")),
            "politicalExposure": _object(data.get("politicalExposure")) or _exposure_02(data),  # 0.3 is 0.4's shape
            "identifiers": data.get("identifiers")}


def _exposure_02(data: dict) -> dict:
    """0.2's hasPepStatus and pepStatusDetails as 0.3's politicalExposure. A declaration that is missing gives a
    detail with only its missingInfoReason: that is no office."""
    details = [d for d in _objects(data.get("pepStatusDetails")) if d.get("reason") or d.get("jurisdiction")]
    declared = data.get("hasPepStatus")
    if declared is True or (declared is None and details):
        return {"status": "isPep", "details": details}
    return {"status": "notPep"} if declared is False else {}


@dataclass
class BodsState:
    """What an import keeps of the statements it read, to read the next file of the same register against: the
    parties (a relationship in a later file names parties published before), the 0.3 chains of
    `replacesStatements` (a later file replaces statements of an earlier one), what each record stated last (what
    a later version no longer states is retracted or ended) and the last `observed_at` of each relation (a later
    file's version is the newer one). `coi-risk import --state` writes it after a file and reads it before the
    next (`lines`, `from_lines`); without it every file stands alone."""

    parties: dict[str, tuple[dict, tuple]] = field(default_factory=dict)  # record id -> (EntityRef dict, version)
    relationship_ids: set[str] = field(default_factory=set)
    lineage: dict[str, str] = field(default_factory=dict)
    stamps: dict[str, dt.datetime] = field(default_factory=dict)  # relation id -> last observed_at
    produced: dict[str, dict[str, dict]] = field(default_factory=dict)  # record -> relation id -> document
    interests: dict[str, list[dict]] = field(default_factory=dict)  # record -> the interests it last stated
    # person record -> the offices its versions declared, by number (the relation's `/pep/<number>`): [what tells
    # the office from another (`_office_key`), the last document emitted, whether the newest version declares it,
    # the date of the last statement that declared it, whether this import ended it (`_office_events`)]
    offices: dict[str, dict[int, list]] = field(default_factory=dict)
    # "<kind>/<record>" -> the statementDate of the newest version of a relationship or person record applied: a
    # later file's older version is not applied (a file's own versions are applied in date order: `import_bods`)
    applied: dict[str, dt.datetime] = field(default_factory=dict)
    # files read with this state: a party's version is (statementDate, file, place in the file), so that of two
    # statements on one date the later file's is the newer
    files: int = 0

    def lines(self) -> Iterator[dict]:
        """The state as JSON objects, one a line: a header, the entries, and a trailer that counts them (a file
        cut short is refused, never read as a smaller state)."""
        yield {STATE_HEADER: STATE_FORMAT, "files": self.files, "import_version": BODS_IMPORT_VERSION}
        count = 0
        for entries in (
                ({"party": record, "ref": ref, "version": _encoded(version)}
                 for record, (ref, version) in self.parties.items()),
                ({"relationship": record} for record in sorted(self.relationship_ids)),
                ({"statement": statement, "record": record} for statement, record in self.lineage.items()),
                ({"stamp": relation, "at": at.isoformat()} for relation, at in self.stamps.items()),
                ({"applied": record, "at": at.isoformat()} for record, at in self.applied.items()),
                ({"produced": record, "documents": _encoded(documents)}
                 for record, documents in self.produced.items()),
                ({"interests": record, "stated": stated} for record, stated in self.interests.items()),
                ({"offices": record, "known": [[number, *_encoded(entry)] for number, entry in sorted(known.items())]}
                 for record, known in self.offices.items())):
            for entry in entries:
                count += 1
                yield entry
        yield {STATE_TRAILER: count}

    @classmethod
    def from_lines(cls, lines: Iterable[object]) -> BodsState:
        """Read back what `lines` wrote; ValueError naming what is wrong with anything else."""
        state, count, ended = cls(), -1, False
        for line in lines:
            if ended:
                raise ValueError("it goes on after its trailer line")
            if not isinstance(line, dict):
                raise ValueError(f"a line is {type(line).__name__}, not a JSON object")
            if count < 0:
                if line.get(STATE_HEADER) != STATE_FORMAT or not isinstance(line.get("files"), int):
                    raise ValueError(f"its first line is not the header of a BODS import state ({STATE_HEADER}: "
                                     f"{STATE_FORMAT})")
                state.files, count = line["files"], 0
            elif STATE_TRAILER in line:
                if line[STATE_TRAILER] != count:
                    raise ValueError(f"its trailer counts {line[STATE_TRAILER]} entries, the file holds {count}")
                ended = True
            else:
                count += 1
                state._read_entry(line)
        if not ended:
            raise ValueError("it does not end with the state's trailer line: cut short, or empty")
        return state

    def _read_entry(self, line: dict) -> None:
        """One entry, checked for the shape `lines` writes (a state is a file anyone can hand over: a wrong type
        inside must be refused here, not fail half-way through the next import or send events astray)."""
        if "party" in line:
            record, ref, version = _text(line["party"]), line["ref"], _decoded(line["version"])
            if not isinstance(ref, dict) or ref.get("id") != record or not isinstance(ref.get("name"), str) \
                    or not isinstance(ref.get("schema"), str):
                raise ValueError(f"the party {record!r} is not an endpoint with its own id, a schema and a name")
            if not (isinstance(version, tuple) and len(version) == 3 and _aware(version[0])
                    and all(type(part) is int for part in version[1:])):
                raise ValueError(f"the version of party {record!r} is not (time, file, position)")
            self.parties[record] = (ref, version)
        elif "relationship" in line:
            self.relationship_ids.add(_text(line["relationship"]))
        elif "statement" in line:
            self.lineage[_text(line["statement"])] = _text(line["record"])
        elif "stamp" in line:
            at = dt.datetime.fromisoformat(_text(line["at"]))
            if not _aware(at):
                raise ValueError(f"the stamp of {line['stamp']!r} has no time zone")
            self.stamps[_text(line["stamp"])] = at
        elif "applied" in line:
            at = dt.datetime.fromisoformat(_text(line["at"]))
            if not _aware(at):
                raise ValueError(f"the newest version of {line['applied']!r} has no time zone")
            self.applied[_text(line["applied"])] = at
        elif "produced" in line:
            documents = _decoded(line["documents"])
            if not isinstance(documents, dict) or not all(_document(relation, document)
                                                          for relation, document in documents.items()):
                raise ValueError(f"what record {line['produced']!r} produced is not its relations' documents")
            self.produced[_text(line["produced"])] = documents
        elif "interests" in line:
            stated = line["stated"]
            if not isinstance(stated, list) or not all(isinstance(interest, dict) for interest in stated):
                raise ValueError(f"the interests of {line['interests']!r} are not a list of objects")
            self.interests[_text(line["interests"])] = stated
        elif "offices" in line:
            known = {}
            for entry in line["known"]:
                number, key, document, current, declared_on, ended_here = entry
                key, document, declared_on = _decoded(key), _decoded(document), _decoded(declared_on)
                if type(number) is not int or not (isinstance(key, tuple) and len(key) == 4 and all(
                        part is None or isinstance(part, str) for part in key)) \
                        or not (document is None or _document(document.get("relation_id"), document)) \
                        or type(current) is not bool or type(ended_here) is not bool \
                        or not (declared_on is None or type(declared_on) is dt.date):
                    raise ValueError(f"an office of {line['offices']!r} is not (number, key, document, current, "
                                     "declared on, ended here)")
                known[number] = [key, document, current, declared_on, ended_here]
            self.offices[_text(line["offices"])] = known
        else:
            raise ValueError(f"an entry of no kind a BODS import state holds: {sorted(line)[:3]}")


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not text")
    return value


def _aware(value: object) -> bool:
    return isinstance(value, dt.datetime) and value.tzinfo is not None


def _document(relation_id: object, document: object) -> bool:
    """Whether this is an event document as the importer keeps one (`_relationship_events`, `_office_events`)."""
    return isinstance(document, dict) and document.get("relation_id") == relation_id and isinstance(relation_id, str) \
        and isinstance(document.get("relation_type"), str) \
        and all(isinstance(document.get(end), dict) for end in ("source", "target")) \
        and isinstance(document.get("properties"), dict) and isinstance(document["properties"].get("role"), str) \
        and isinstance(document.get("provenance"), dict) and _aware(document.get("observed_at")) \
        and all(day in document and (document[day] is None or type(document[day]) is dt.date)
                for day in ("start_date", "end_date"))


STATE_HEADER, STATE_TRAILER, STATE_FORMAT = "bods_import_state", "bods_import_state_entries", 1


def _encoded(value: object) -> object:
    """Dates, times and tuples of the state in JSON, tagged so that `_decoded` gives them back as they were."""
    if isinstance(value, dt.datetime):
        return {"$time": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, tuple):
        return {"$tuple": [_encoded(item) for item in value]}
    if isinstance(value, list):
        return [_encoded(item) for item in value]
    if isinstance(value, dict):
        return {key: _encoded(item) for key, item in value.items()}
    return value


def _decoded(value: object) -> object:
    if isinstance(value, dict):
        if len(value) == 1:
            ((tag, item),) = value.items()
            if tag == "$time":
                return dt.datetime.fromisoformat(item)
            if tag == "$date":
                return dt.date.fromisoformat(item)
            if tag == "$tuple":
                return tuple(_decoded(member) for member in item)
        return {key: _decoded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_decoded(item) for item in value]
    return value


def import_bods(read: Callable[[], Iterable[object]], defaults: ImportDefaults = ImportDefaults(
        extractor_name="bods-import", extractor_version=BODS_IMPORT_VERSION),
                report: ImportReport | None = None, state: BodsState | None = None,
                read_quietly: Callable[[], Iterable[object]] | None = None) -> Iterator[RelationshipEvent]:
    """Stream a BODS file (statements as a JSON array or lines): parties first, then relationships in order.

    A relationship or person record whose versions the file lists out of date order (BODS requires only that
    parties come before the relationships naming them) is held back until its last version in the file, then
    applied in statementDate order: otherwise an older version read later would win (a person's versions give his
    offices). Only those records are held.

    `state`: what earlier files of the same register left (`BodsState`), read against and brought up to date.
    `read_quietly`: `read` without reporting what it cannot parse, for the look-ahead of a 0.3 file's chains
    (`_chain_ahead`), which stops at a 0.4 file's first statement: the reading that reports must read it whole."""
    state = state if state is not None else BodsState()
    state.files += 1
    _chain_ahead(read_quietly or read, state.lineage)
    versions_of: dict[tuple[str, str], list[tuple[tuple[dt.datetime, int], int]]] = {}  # (kind, record) -> versions
    for position, data in enumerate(read()):
        if not isinstance(data, dict):
            continue
        try:
            statement = _read_statement(data, state.lineage)
        except ImportSkip:
            continue  # reported in the second pass
        if statement.kind in ("relationship", "person"):
            versions_of.setdefault((statement.kind, statement.record_id), []).append(
                (statement.version(position), position))
        if statement.kind == "relationship":
            state.relationship_ids.add(statement.record_id)
            continue
        problems: list[str] = []
        try:
            ref = _party_ref(statement, problems)
        except (TypeError, AttributeError, ValueError) as exc:  # a shape the schema does not allow
            _record_problem(report, data, ImportSkip(SkipReason.INVALID_ENTITY, f"not a valid BODS statement: {exc}"))
            continue
        if report is not None:
            report.notes.extend(f"BODS {statement.record_id}: {problem}" for problem in problems)
        version = (statement.version(position)[0], state.files, position)
        if ref is not None and (statement.record_id not in state.parties
                                or state.parties[statement.record_id][1] <= version):
            state.parties[statement.record_id] = (ref, version)
    last_of_unordered = {record: max(position for _, position in versions)
                         for record, versions in versions_of.items() if versions != sorted(versions)}
    held: dict[tuple[str, str], list[tuple[tuple[dt.datetime, int], dict]]] = {}
    for position, data in enumerate(read()):  # `lineage` from the first pass stays: 0.3 parties are named by
        try:                                   # their latest statement
            if not isinstance(data, dict):
                raise ImportSkip(SkipReason.INVALID_ENTITY, f"a BODS statement is a JSON object, got "
                                                          f"{type(data).__name__}")
            statement = _read_statement(data, state.lineage)
        except ImportSkip as problem:
            _record_problem(report, data, problem)
            continue
        record = (statement.kind, statement.record_id)
        if record in last_of_unordered:
            held.setdefault(record, []).append((statement.version(position), data))
            if position != last_of_unordered[record]:
                continue
            _note(report, statement, "versions out of date order in the file: applied in statementDate order")
            for _, version_data in sorted(held.pop(record), key=lambda item: item[0]):
                yield from _statement_events(_read_statement(version_data, state.lineage), version_data, state,
                                             defaults, report)
            continue
        yield from _statement_events(statement, data, state, defaults, report)


def _chain_ahead(read: Callable[[], Iterable[object]], lineage: dict[str, str]) -> None:
    """Of a 0.3 file (the first statement decides; 0.4 names its records itself and is not read here), every chain
    of `replacesStatements` resolved to the statement that begins it, before the statements are read: a statement
    listed before the one it replaces would otherwise begin a record of its own, and the older version, read
    later, would stand beside it (or, a person's, give his offices back). The chains run as reading them in order
    does (a statement's record is that of the first statement it replaces that is known, in the file or from an
    earlier file's `lineage`); a cycle ends where it closes."""
    parent: dict[str, list[str]] = {}
    listed: set[str] = set()
    for data in read():
        if not isinstance(data, dict):
            continue
        if "recordType" in data:
            return
        statement_id = data.get("statementID") or data.get("statementId")
        if not isinstance(statement_id, str) or not statement_id:
            continue
        listed.add(statement_id)
        replaces = data.get("replacesStatements")
        if isinstance(replaces, list):
            parent[statement_id] = [r for r in replaces if isinstance(r, str)]
    if not any(r in listed for replaced in parent.values() for r in replaced):
        return  # no chain within the file: reading in order resolves the rest
    known = listed | lineage.keys()
    for statement_id in parent:
        chain, current = [], statement_id
        while current not in lineage:
            chain.append(current)
            first = next((r for r in parent.get(current, ()) if r in known and r not in chain), None)
            if first is None:
                break
            current = first
        record = lineage.get(current, current)
        for member in chain:
            lineage[member] = record


def _read_statement(data: dict, lineage: dict[str, str]) -> Statement:
    try:
        return Statement.read(data, lineage)
    except (TypeError, AttributeError, ValueError) as exc:  # a shape the schema does not allow: skip, never stop
        raise ImportSkip(SkipReason.INVALID_ENTITY, f"not a valid BODS statement: {exc}") from None


def _statement_events(statement: Statement, data: dict, state: BodsState, defaults: ImportDefaults,
                      report: ImportReport | None) -> Iterator[RelationshipEvent]:
    record = f"{statement.kind}/{statement.record_id}"
    when = statement.version(0)[0]
    newest = state.applied.get(record)
    if newest is not None and when < newest:
        _note(report, statement, f"a version of {when.date()}, older than the one of {newest.date()} an earlier file "
                                 "gave: not applied")
        return
    try:
        if statement.kind == "relationship":
            yield from _relationship_events(statement, state, defaults, report)
            state.applied[record] = when  # (a version skipped for what it lacks is no newer word on its record)
        elif statement.kind == "person":
            yield from _office_events(statement, state, defaults, report)  # (which marks what it applied)
    except ImportSkip as problem:
        _record_problem(report, data, problem)
    except (TypeError, AttributeError, ValueError, OverflowError) as exc:  # a shape the schema does not allow (or
        # a date at the calendar's edge): skip, never stop
        _record_problem(report, data, ImportSkip(SkipReason.INVALID_ENTITY, f"not a valid BODS statement: {exc}"))


def _record_problem(report: ImportReport | None, data: object, problem: ImportSkip) -> None:
    known = data if isinstance(data, dict) else {}
    _record(report, Skipped(str(known.get("statementId") or known.get("statementID") or "") or None,
                            "BODS", problem.reason, problem.message))


def _party_ref(statement: Statement, problems: list[str] | None = None) -> dict | None:
    details = statement.details
    if statement.kind == "entity":
        entity_type = text_or_none(_object(details.get("entityType")).get("type")) or "unknownEntity"
        schema = ENTITY_SCHEMA.get(entity_type, EntitySchema.LEGAL_ENTITY)
        name = text_or_none(details.get("name")) or f"{entity_type} {statement.record_id}"
        ref = {"id": statement.record_id, "schema": schema.value, "name": name[:500]}
        code = _object(details.get("jurisdiction")).get("code")
    else:
        names = _objects(details.get("names"))
        names.sort(key=lambda n: n.get("type") != "legal")  # the legal name first, else the order given
        full = [text_or_none(n.get("fullName")) or " ".join(filter(None, (text_or_none(n.get("givenName")),
                                                                    text_or_none(n.get("familyName")))))
                for n in names]
        full = [n for n in full if n]
        ref = {"id": statement.record_id, "schema": EntitySchema.PERSON.value,
               "name": (full[0] if full else f"unnamed person {statement.record_id}")[:500],
               "aliases": list(dict.fromkeys(full[1:]))}
        codes = [n.get("code") for n in _objects(details.get("nationalities"))]
        code = next(filter(None, codes), None)
        exposure = _object(details.get("politicalExposure"))
        if exposure.get("status") == "isPep":
            offices = _objects(exposure.get("details"))
            ended = offices and all(d.get("endDate") for d in offices)
            ref["topics"] = ["role.pep.frmr" if ended else "role.pep"]
    if isinstance(code, str) and re.fullmatch(r"[A-Za-z]{2}(-[A-Za-z0-9]+)?", code):
        ref["country"] = code.lower()
    identifiers = identifiers_from_bods(details.get("identifiers"), statement.record_id, problems)
    if identifiers:
        ref["identifiers"] = [identifier.model_dump(exclude_none=True) for identifier in identifiers]
    return ref


def _provenance(statement: Statement, defaults: ImportDefaults) -> tuple[dict, dt.datetime]:
    data = statement.raw
    publication = _object(data.get("publicationDetails"))
    publisher_info = _object(publication.get("publisher"))
    source = _object(data.get("source"))
    publisher = text_or_none(publisher_info.get("name")) or text_or_none(publisher_info.get("url")) \
        or defaults.publisher
    source_url = text_or_none(source.get("url")) or text_or_none(publisher_info.get("url")) or defaults.source_url
    retrieved_at = None
    for value in (source.get("retrievedAt"), publication.get("publicationDate")):
        if value:
            try:
                retrieved_at = read_timestamp(value)
                break
            except UnreadableValue:
                continue
    retrieved_at = retrieved_at or defaults.retrieved_at
    missing = [(name, option) for name, option, value in (
        ("source.url or publicationDetails.publisher.url", "--source-url", source_url),
        ("publicationDetails.publisher", "--publisher", publisher),
        ("source.retrievedAt or publicationDetails.publicationDate", "--retrieved-at", retrieved_at))
        if value is None]
    if missing:
        raise ImportSkip(SkipReason.MISSING_PROVENANCE,
                         f"no {', '.join(n for n, _ in missing)} in the statement and no default for it "
                         f"({', '.join(o for _, o in missing)})")
    observed = statement.time or retrieved_at
    return {"source_url": str(source_url), "publisher": str(publisher)[:500], "retrieved_at": retrieved_at,
            "extractor": {"name": defaults.extractor_name, "version": defaults.extractor_version},
            "confidence": defaults.confidence}, observed


def _share(share: object, notes: list[str]) -> tuple[float | None, float | None, str]:
    """(percentage, percentage_max, how it reads) of a BODS share: exact, else the lower bound, and the upper bound
    when it is above that; a lower bound of 0 guarantees no stake, so that share reads like one with only an upper
    bound, which caps the stake the engine assumes."""
    if not isinstance(share, dict):
        return None, None, ""
    exact = _share_number(share.get("exact"), notes)
    if exact is not None:
        return exact, None, f"{exact:g}%"
    low = _bound(share, "minimum", "exclusiveMinimum")
    high = _bound(share, "maximum", "exclusiveMaximum")
    text = f"{low if low is not None else '?'}-{high if high is not None else '?'}%"
    number = _share_number(low, notes)
    top = _share_number(high, notes) if high is not None else None
    if number is not None and top is not None and top < number:  # as the FtM reader refuses "50-25"
        notes.append(f"share {text} ends below its start: imported without a percentage")
        return None, None, text
    if number == 0.0 and top != 0.0:  # "0 to 0" is a declared 0%, as `exact: 0` and FtM's "0-0"
        # read as a lower bound, "0 to 25%" was a declared interest counted as no stake (below the engine's chain
        # floor it passed nothing on); without a percentage the engine assumes its unknown_stake, marked assumed
        notes.append(f"share {text} starts at 0, so it guarantees no stake: imported without a percentage"
                     + (f", at most {top:g}%" if top is not None else ""))
        return None, top, text
    if number is not None:
        notes.append(f"share {text} read as its lower bound {number:g}%")
        return number, top if top is not None and top > number else None, text
    if top is not None:
        notes.append(f"share {text} gives only an upper bound: imported without a percentage, at most {top:g}%")
    return None, top, text


def _bound(share: dict, inclusive: str, exclusive: str) -> object:
    """A share's bound, inclusive or exclusive (0.4 numbers). BODS 0.2 and 0.3 write exclusiveMinimum and
    exclusiveMaximum as flags beside the bounds: a flag is no bound."""
    for key in (inclusive, exclusive):
        value = share.get(key)
        if value is not None and not isinstance(value, bool):
            return value
    return None


def _share_number(value: object, notes: list[str]) -> float | None:
    """A share bound as a number; text ("30", "25%") is read as real data writes it, anything else noted."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if 0.0 <= value <= 100.0:
            return float(value)
        # the contract refuses it, and the whole interest with it: the register declared an interest, so keep that
        notes.append(f"share {value!r} is not a percentage from 0 to 100: imported without it")
        return None
    try:
        if not isinstance(value, str):
            raise UnreadableValue(f"{value!r} is not a number")
        number = read_percentage(value)
    except UnreadableValue as exc:
        notes.append(f"share {exc}: imported without it")
        return None
    notes.append(f"share {value!r} is text: read as {number:g}%")
    return number


def _relationship_events(statement: Statement, state: BodsState, defaults: ImportDefaults,
                         report: ImportReport | None) -> Iterator[RelationshipEvent]:
    details = statement.details
    stated = {"subject": details.get("subject"), "interestedParty": details.get("interestedParty")}
    for end, value in stated.items():
        if isinstance(value, dict):  # BODS states why a party is not named (0.4: the object; 0.3: `unspecified`)
            raise ImportSkip(SkipReason.MISSING_ENDPOINT,
                             f"relationship {statement.record_id}: the {end} is not disclosed "
                             f"({value.get('reason') or 'no reason given'}"
                             + (f": {value['description']}" if value.get("description") else "") + ")")
    subject, party = stated["subject"], stated["interestedParty"]
    subject = identifier(state.lineage.get(subject, subject)) if isinstance(subject, str) else None
    party = identifier(state.lineage.get(party, party)) if isinstance(party, str) else None
    for end, record in (("subject", subject), ("interestedParty", party)):
        if record is None or record not in state.parties:
            raise ImportSkip(SkipReason.MISSING_ENDPOINT,
                             f"relationship {statement.record_id}: {end} {record or '(unspecified)'} is not a person "
                             f"or entity statement in the file")
    provenance, observed = _provenance(statement, defaults)
    # 0.3 names component statements: their records are the chains they belong to
    listed = details.get("componentRecords")
    components = [identifier(state.lineage.get(c, c)) for c in listed if isinstance(c, str)] \
        if isinstance(listed, list) else []
    chain_in_file = bool(components) and all(c in state.relationship_ids or c in state.parties for c in components)
    documents: dict[str, dict] = {}
    seen: dict[str, int] = {}
    interests = _objects(details.get("interests"))
    if not interests and statement.closed:  # a closing statement that does not repeat them closes them
        interests = state.interests.get(statement.record_id, [])
    if not interests:  # the party has an interest the statement does not describe: a stake of unknown size
        interests = [{}]
        _note(report, statement, "relationship states no interests: imported as an interest of unknown kind")
    for interest in interests:
        kind = interest.get("type") or UNTYPED_INTEREST
        kind = kind if isinstance(kind, str) else repr(kind)
        mapping = INTERESTS.get(kind)
        notes: list[str] = []
        if mapping is None:
            _note(report, statement, f"interest type {kind!r} has no meaning in our vocabulary: not imported")
            continue
        indirect = interest.get("directOrIndirect") == "indirect"
        if indirect and chain_in_file:
            if report is not None:
                report.outcomes["bods indirect interest left to the engine (its chain is in the file)"] += 1
            continue
        seen[kind] = seen.get(kind, 0) + 1
        relation_id = f"{statement.record_id}/{kind}" + (f"/{seen[kind]}" if seen[kind] > 1 else "")
        percentage, most, share_text = _share(interest.get("share"), notes)
        # a share that gave no percentage stays in the role, so the event still says what was declared
        role = ", ".join(filter(None, (mapping.label, "indirect" if indirect else None,
                                       None if mapping.takes_share and percentage is not None else share_text)))
        properties: dict = {"role": role}
        if mapping.takes_share and percentage is not None:
            properties["percentage"] = percentage
        if mapping.takes_share and most is not None:
            properties["percentage_max"] = most
        try:
            start = first_day(interest["startDate"]) if interest.get("startDate") else None
            end = last_day(interest["endDate"]) if interest.get("endDate") else None
        except UnreadableValue as exc:
            raise ImportSkip(SkipReason.UNREADABLE_VALUE, f"interest {kind} of {statement.record_id}: {exc}") from None
        if statement.closed and end is None:
            end = max(_day_before(statement.date or observed.date()), start or dt.date.min)
            notes.append(f"closed record without an end date: read as ended on {end}")
        for note in notes:
            _note(report, statement, f"{kind}: {note}")
        documents[relation_id] = {
            "schema_version": SCHEMA_VERSION, "op": "upsert", "relation_id": relation_id,
            "relation_type": mapping.relation.value, "source": state.parties[party][0],
            "target": state.parties[subject][0], "properties": properties, "start_date": start, "end_date": end,
            "status": defaults.status.value, "observed_at": observed, "provenance": provenance,
        }
    # what the stream states for the record, kept to what was emitted: a statement skipped half-way (a later
    # interest the contract rejects) leaves the versions it did emit to be retracted by the next statement
    produced = state.produced.setdefault(statement.record_id, {})
    for relation_id in sorted(set(produced) - set(documents)):  # a later statement no longer states it
        yield _event(dict(produced[relation_id], op="retract"), state, report, statement)
        del produced[relation_id]
    for relation_id, document in documents.items():
        yield _event(document, state, report, statement)
        produced[relation_id] = document
    if _objects(details.get("interests")):
        state.interests[statement.record_id] = interests


def _office_events(statement: Statement, state: BodsState, defaults: ImportDefaults,
                   report: ImportReport | None) -> Iterator[RelationshipEvent]:
    """One `occupancy` per office a person statement declares (`politicalExposure.status: isPep`; a detail that
    gives neither a reason nor a jurisdiction, such as one with only a `missingInfoReason`, is no office).

    A later version of the person is the register's newer word on him: an office it no longer declares, where it
    states his exposure (`isPep` with its offices, or `notPep`), ends, as a closed relationship does, on the day
    before that version's date (never before the last date a statement declared it): he held it when the earlier
    statement was made, and no longer. The office stays on record as a former one, so a former official's
    interests still read as his; the ending carries the two dates in its quote, for the register gives neither
    the day he left nor why the office went (a correction reads the same). A version that leaves his exposure
    `unknown`, or out, or declares `isPep` without offices, says nothing of his offices; a closed person record
    neither (it closes the register's interest in the person, not his office).

    Offices are told apart by their reason, jurisdiction and start (`_office_key`), not by their place in the
    list: a version that drops the first of two must not give the second the first's relation. An office ended
    here is never taken up again by a later declaration of the same office: that is a new term, with a relation of
    its own."""
    exposure = _object(statement.details.get("politicalExposure"))
    status = exposure.get("status")
    record = statement.record_id
    if status not in ("isPep", "notPep") or record not in state.parties:
        return
    offices = [office for office in _objects(exposure.get("details"))
               if text_or_none(office.get("reason")) or text_or_none(_object(office.get("jurisdiction")).get("name"))
               or text_or_none(_object(office.get("jurisdiction")).get("code"))] if status == "isPep" else []
    if status == "isPep" and not offices:
        return  # a PEP whose offices the statement does not name: it ends none of those declared before
    known = state.offices.setdefault(record, {})
    provenance, observed = _provenance(statement, defaults)
    on = statement.date or observed.date()
    declared = []  # (key, office, start, end, whether its dates could be read)
    for office in offices:
        key = _office_key(office)
        if any(key == other[0] for other in declared):
            continue  # the same office listed twice in one statement: one occupancy
        try:
            start = first_day(office["startDate"]) if office.get("startDate") else None
            end = last_day(office["endDate"]) if office.get("endDate") else None
        except UnreadableValue as exc:
            # still declared (it ends nothing), but nothing of it is taken: an office held before keeps its dates
            _note(report, statement, f"politicalExposure: the dates of an office of "
                                     f"{text_or_none(office.get('reason'))!r} not read ({exc})")
            declared.append((key, office, None, None, False))
            continue
        declared.append((key, office, start, end, True))
    taken: dict[int, tuple] = {}  # number -> the entry of `declared` that restates it
    for exact in (True, False):  # every office that restates one exactly first, then those restating one loosely
        for entry in declared:
            if entry in taken.values():
                continue
            number = _same_office(known, taken, entry[0], exact)
            if number is not None:
                taken[number] = entry
    for entry in declared:
        if entry not in taken.values() and entry[4]:
            number = max(known, default=0) + 1
            known[number] = [entry[0], None, False, None, False]
            taken[number] = entry
    source = state.parties[record][0]
    for number in sorted(known):
        key, document, current, declared_on, _ = known[number]
        if not current or number in taken or statement.closed:
            # (a closed person record closes the register's interest in him, not his office)
            continue
        known[number][2] = False
        held_until = max(_day_before(on), declared_on or dt.date.min, document["start_date"] or dt.date.min)
        if document["end_date"] is not None and document["end_date"] <= held_until:
            continue  # ended by then as declared: the newer statement agrees
        role = document["properties"]["role"]
        _note(report, statement, f"office {role!r} no longer declared: read as ended on {held_until}")
        quote = (f"{role}: declared on {declared_on or 'an undated statement'}, no longer declared on {on}: read as "
                 f"ended on {held_until}")
        ended = dict(document, source=source, end_date=held_until, observed_at=observed,
                     provenance=dict(provenance, quote=quote))
        known[number] = [key, ended, False, declared_on, True]
        yield _event(dict(ended), state, report, statement)
    for number, (key, office, start, end, dated) in sorted(taken.items(), key=lambda item: declared.index(item[1])):
        held_key, previous = known[number][:2]
        if not dated:
            continue  # its dates unreadable: the office stays as it was
        if previous is not None and held_key[3] is not None and (key[3] is None or held_key[3].startswith(key[3])):
            # restated without its start, or with less of it ("2017" for "2017-10-15"): the start declared before
            # still holds, in the relation and in what the next version is matched against
            key, start = (*key[:3], held_key[3]), previous["start_date"]
        jurisdiction = _object(office.get("jurisdiction"))
        reason = text_or_none(office.get("reason")) or "politically exposed person"
        position = {"id": f"{record}-office-{number}", "schema": EntitySchema.POSITION.value,
                    "name": (reason + (f" ({jurisdiction['name']})" if text_or_none(jurisdiction.get("name")) else ""))
                    [:500]}
        code = jurisdiction.get("code")
        if isinstance(code, str) and re.fullmatch(r"[A-Za-z]{2}", code):
            position["country"] = code.lower()
        document = {
            "schema_version": SCHEMA_VERSION, "op": "upsert", "relation_id": f"{record}/pep/{number}",
            "relation_type": RelationType.OCCUPANCY.value, "source": source,
            "target": position, "properties": {"role": reason[:200]}, "start_date": start, "end_date": end,
            "status": defaults.status.value, "observed_at": observed, "provenance": provenance,
        }
        event = _event(dict(document), state, report, statement)
        known[number] = [key, document, True, on, False]
        yield event
    # a newer word on his offices than any older version a later file may bring (`_statement_events`); a version
    # that says nothing of them, returned above, is none
    state.applied[f"person/{record}"] = statement.version(0)[0]


def _office_key(office: dict) -> tuple:
    """What tells one declared office from another across a person's versions: its reason (case and spacing
    aside), its jurisdiction's code and name, and its start as written (a partial date such as "2017" is the same
    start as "2017-10-15"; two jurisdictions are the same by their codes where both give one, else by their names:
    `_same_office`). An end date given later is the same office ending."""
    jurisdiction = _object(office.get("jurisdiction"))
    code = text_or_none(jurisdiction.get("code"))
    return (_folded(office.get("reason")), code.lower() if code else None, _folded(jurisdiction.get("name")),
            text_or_none(office.get("startDate")))


def _folded(text: object) -> str | None:
    text = text_or_none(text)
    return " ".join(text.casefold().split()) if text else None


def _same_office(known: dict[int, list], taken: dict[int, tuple], key: tuple, exact: bool) -> int | None:
    """The number of the office an earlier version declared that this one restates, not yet taken by this
    version, and never ended here by inference (a new term is a new relation): the same reason and jurisdiction
    (by code where both give one, else by name), and with `exact` the same start, else a start that one of the two
    leaves out or gives less precisely ("2017", "2017-10-15"). The lowest such number; None: none."""
    reason, code, name, start = key
    for number in sorted(known):
        held, _, _, _, ended_here = known[number]
        if number in taken or ended_here or held[0] != reason:
            continue
        if (held[1] != code) if held[1] and code else (held[2] != name):
            continue
        if exact and held[3] == start:
            return number
        if not exact and (held[3] is None or start is None or held[3].startswith(start)
                          or start.startswith(held[3])):
            return number
    return None


def _day_before(day: dt.date) -> dt.date:
    return day - _ONE_DAY if day > dt.date.min else day


def _event(document: dict, state: BodsState, report: ImportReport | None, statement: Statement) -> RelationshipEvent:
    relation_id = document["relation_id"]
    previous = state.stamps.get(relation_id)
    if previous is not None and document["observed_at"] <= previous:
        document["observed_at"] = previous + _ONE_SECOND  # a later statement on the same date is the newer one
    state.stamps[relation_id] = document["observed_at"]
    document["schema_version"] = required_schema_version(document)
    document["event_id"] = content_event_id(document, "bods")
    event = validated_event(document, f"{relation_id}: ")
    if report is not None:
        if event.op == "retract":
            report.retracted += 1
        else:
            report.converted += 1
    return event


def _note(report: ImportReport | None, statement: Statement, text: str) -> None:
    if report is not None:
        report.notes.append(f"BODS {statement.record_id}: {text}")


def events_from_bods(statements: Iterable[object], defaults: ImportDefaults | None = None,
                     report: ImportReport | None = None) -> Iterator[RelationshipEvent]:
    """`import_bods` over statements in memory."""
    statements = statements if isinstance(statements, list) else list(statements)
    return import_bods(lambda: statements, defaults or ImportDefaults(
        extractor_name="bods-import", extractor_version=BODS_IMPORT_VERSION), report)


# --- export: the indirect stakes the engine computes ------------------------------------------------------------

BODS_EXPORT_VERSION = "0.4"
# Our endpoint schema -> the BODS record it becomes (entity type for entities).
RECORD_OF_SCHEMA: dict[EntitySchema, tuple[str, str | None]] = {
    EntitySchema.PERSON: ("person", None),
    EntitySchema.COMPANY: ("entity", "registeredEntity"),
    EntitySchema.PUBLIC_BODY: ("entity", "stateBody"),
    EntitySchema.ORGANIZATION: ("entity", "legalEntity"),
    EntitySchema.LEGAL_ENTITY: ("entity", "legalEntity"),
    EntitySchema.SECURITY: ("entity", "legalEntity"),
    EntitySchema.ASSET: ("entity", "legalEntity"),
    EntitySchema.POSITION: ("entity", "stateBody"),
}
RULE_DESCRIPTIONS: dict[str, str] = {
    "eu": "EU rule: the product of the stakes along each ownership chain, chains added (capped at 100%)",
    "ofac": "OFAC 50% rule: a chain passes its last stake on only through majority-held entities, chains added",
}


@dataclass(frozen=True)
class ComputedStake:
    """An effective stake the engine computed: owner -> owned, with the chains (entity ids, owner first)."""

    owner: dict  # EntityRef as JSON
    owned: dict
    stake: float  # 0..1
    chains: tuple[tuple[str, ...], ...]
    assumed: bool  # some chain used the assumed stake of an ownership without a percentage


def _statement_id(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]


def bods_from_stakes(stakes: Iterable[ComputedStake], rule: str, day: dt.date,
                     publisher: str = "coi-risk") -> Iterator[dict]:
    """BODS 0.4 statements declaring each computed stake as an indirect shareholding: the parties (each once),
    then one relationship per stake. Statement ids are hashes of the content, so one state gives one file."""
    stakes = list(stakes)
    publication = {"publicationDate": day.isoformat(), "bodsVersion": BODS_EXPORT_VERSION,
                   "publisher": {"name": publisher}}
    parties: dict[str, dict] = {}
    for stake in stakes:
        for ref in (stake.owner, stake.owned):
            parties.setdefault(ref["id"], ref)
    for party_id, ref in parties.items():
        record_type, entity_type = RECORD_OF_SCHEMA.get(EntitySchema(ref["schema"]), ("entity", "legalEntity"))
        details: dict = {"isComponent": False}
        if record_type == "person":
            details |= {"personType": "knownPerson", "names": [{"type": "legal", "fullName": ref["name"]}]}
            if ref.get("country"):
                details["nationalities"] = [{"code": ref["country"].upper()[:2]}]
        else:
            details |= {"entityType": {"type": entity_type}, "name": ref["name"]}
            if ref.get("country"):
                details["jurisdiction"] = {"code": ref["country"].upper()[:2]}
        yield {"statementId": _statement_id("party", party_id, json.dumps(ref, sort_keys=True), day.isoformat()),
               "statementDate": day.isoformat(), "recordId": party_id, "recordStatus": "new",
               "recordType": record_type, "recordDetails": details, "publicationDetails": publication}
    for stake in stakes:
        percent = round(stake.stake * 100, 4)
        # an estimate through an ownership without a percentage is no exact share: a register reading `exact` would
        # take the engine's assumption for the declared figure; the share is only known to be above 0
        share = {"exclusiveMinimum": 0, "maximum": 100} if stake.assumed else {"exact": percent}
        via = "; ".join(" -> ".join(chain) for chain in stake.chains)
        record_id = f"{stake.owner['id']}-indirect-{stake.owned['id']}"
        yield {
            "statementId": _statement_id("stake", record_id, f"{percent}", via, rule, day.isoformat()),
            "statementDate": day.isoformat(), "recordId": record_id, "recordStatus": "new",
            "recordType": "relationship",
            "recordDetails": {
                "isComponent": False, "subject": stake.owned["id"], "interestedParty": stake.owner["id"],
                "interests": [{
                    "type": "shareholding", "directOrIndirect": "indirect", "share": share,
                    "details": f"computed by coi-risk ({RULE_DESCRIPTIONS.get(rule, rule)}) along: {via}"
                               + (f"; estimated at {percent:g}% with assumed stakes for ownerships without a "
                                  "percentage" if stake.assumed else ""),
                }],
            },
            "publicationDetails": publication,
        }
