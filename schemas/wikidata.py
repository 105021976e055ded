"""Wikidata entities in (wbgetentities / Special:EntityData responses, or the JSON dump's one entity per line):
statements out as relationship events. docs/events.md ("Wikidata") has the mapping table and what is lost.

- Each statement of a property in `PROPERTIES` is one event between the item and the statement's value, its
  relation type, direction and role (or relationship) text read from the table; other properties are not read.
  A `deprecated` statement is skipped (Wikidata marks it as known to be wrong); a `novalue`/`somevalue` snak names
  no entity and is skipped with a note.
- Endpoints: the QID is the entity id and the `wikidata` identifier (contract 1.1), so the same person from an FtM
  file (`wikidataId`) or a BODS register (`MISC-WIKIDATA`) is one node in the resolution layer; the external ids
  of `EXTERNAL_IDS` (an LEI, a UK Parliament member id) are identifiers too, so a company of the MiCA register or
  a member of the Commons' register of interests is the item with its offices. The name is the
  English label, else the multilingual (`mul`) one, else the label of the first language code, else the QID
  (noted). The schema comes from the item's P31 (instance of) through `INSTANCE_SCHEMA`, else from the ranges of
  the properties that name it (`Claim.item_schema`/`value_schema`), else LegalEntity where the relation allows it;
  the fallbacks are noted.
- Qualifiers P580/P582 give the start and end date (a year or a month is a period: its first day starts, its last
  day ends); a statement with neither but a point in time (P585) held through that period, no longer (read without
  dates it was current forever: wikidata-import 1.7); P1107 (proportion) gives an ownership's percentage. A career
  statement (employer, position held, member of) with no date qualifier and not of preferred rank is read as still
  held but `alleged`: a biography lists past jobs without dates too (wikidata-import 1.8).
- Provenance: the item's page as source URL, publisher Wikidata, retrieval and observation time the entity's
  `modified` (else `--retrieved-at`); status `confirmed` for a statement that cites references, `reported` for one
  that cites none.

`import_wikidata` reads a file in two passes (the entities' names and classes, then the statements), holding only
the names and classes.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from pydantic import ValidationError

from schemas.events import SCHEMA_VERSION, EntityIdentifier, RelationshipEvent
from schemas.ftm import (UNKNOWN_STATUS_CERTAINTY, ImportDefaults, ImportReport, ImportSkip, Skipped, SkipReason,
                         _record, converted_event, count_outcome, text_or_none)
from schemas.values import UnreadableValue, first_day, last_day, read_timestamp
from schemas.vocabulary import IDENTIFIER_SCHEMES, RELATIONS, EntitySchema, RelationType, Status

WIKIDATA_IMPORT_VERSION = "1.8"  # bump when the mapping changes what an import yields
# the statuses a career statement's missing dates lower to `UNKNOWN_STATUS_CERTAINTY` (one less sure already stays)
_CURRENT_OR_NOT = frozenset({Status.CONFIRMED, Status.REPORTED})
_DATING_QUALIFIERS = ("P580", "P582", "P585")  # start time, end time, point in time
EXTRACTOR_NAME = "wikidata-import"
PUBLISHER = "Wikidata"
ITEM_URL = "https://www.wikidata.org/wiki/{}"


@dataclass(frozen=True)
class Claim:
    """How statements of one Wikidata property state a relation. `item_is_source`: the item carrying the statement
    is the relation's source (else its value is). `item_schema`/`value_schema`: what the item and the value are when
    their P31 does not say (the property's domain and range); None: LegalEntity, if the relation allows it."""

    relation: RelationType
    text: str | None  # the role (or, for family, the relationship: what the value is to the item)
    item_is_source: bool = True
    item_schema: EntitySchema | None = None
    value_schema: EntitySchema | None = None
    takes_share: bool = False  # P1107 (proportion) is the percentage
    # One value at a time (a chief executive, a party): when a statement has the preferred rank, the way Wikidata
    # marks the current value, a normal one without an end is a former value whose end nobody recorded.
    one_at_a_time: bool = False
    # A career: what the item has been, as much as what it is (employers, positions held, bodies sat in). A statement
    # with no date qualifier does not say it still holds (a biography lists every job), so it is read as still held
    # but at `UNKNOWN_STATUS_CERTAINTY`, as an FtM occupancy of status "unknown" is (`schemas.ftm`).
    career: bool = False


_P, _POS, _ORG = EntitySchema.PERSON, EntitySchema.POSITION, EntitySchema.ORGANIZATION
# P1039 (kinship to subject) on a P1038 (relative) statement: what the relative is to the item, by Wikidata's own
# labels of the kinships most statements use; another kinship is kept by its QID ("relative (Q41810796)").
KINSHIP: dict[str, str] = {
    "Q76557": "uncle", "Q76507": "aunt", "Q15224724": "nephew", "Q3403377": "niece",
    "Q9238344": "grandfather", "Q9235758": "grandmother", "Q11921506": "grandson", "Q19756330": "granddaughter",
    "Q19682162": "paternal grandfather", "Q4994791": "maternal grandfather", "Q2500621": "great-grandfather",
    "Q19680017": "great-grandson", "Q3752578": "son-in-law", "Q2914212": "brother-in-law",
    "Q3238556": "sister-in-law", "Q13204680": "father-in-law", "Q12160962": "wife's father",
    "Q61740757": "adoptive father", "Q20746725": "adopted son", "Q20746728": "adopted daughter",
    "Q4346792": "stepson", "Q19822354": "stepdaughter", "Q31819505": "male first cousin",
    "Q12051531": "female first cousin", "Q23009870": "cousin", "Q12158205": "father's brother",
    "Q4120409": "mother's brother", "Q23045211": "fraternal nephew", "Q19595226": "paternal half-brother",
    "Q19595228": "paternal half-sister",
}
PROPERTIES: dict[str, Claim] = {
    "P39": Claim(RelationType.OCCUPANCY, "position held", True, _P, _POS, career=True),
    # family: the relationship says what the value is to the item (P40 on a father: the value is his child)
    "P26": Claim(RelationType.FAMILY, "spouse", True, _P, _P),
    "P40": Claim(RelationType.FAMILY, "child", True, _P, _P),
    "P22": Claim(RelationType.FAMILY, "father", True, _P, _P),
    "P25": Claim(RelationType.FAMILY, "mother", True, _P, _P),
    "P3373": Claim(RelationType.FAMILY, "sibling", True, _P, _P),
    "P1038": Claim(RelationType.FAMILY, "relative", True, _P, _P),
    "P451": Claim(RelationType.FAMILY, "unmarried partner", True, _P, _P),
    "P43": Claim(RelationType.FAMILY, "stepfather", True, _P, _P),
    "P44": Claim(RelationType.FAMILY, "stepmother", True, _P, _P),
    "P3448": Claim(RelationType.FAMILY, "stepparent", True, _P, _P),
    "P8810": Claim(RelationType.FAMILY, "parent", True, _P, _P),
    "P1290": Claim(RelationType.FAMILY, "godparent", True, _P, _P),
    # a business partner (or a sports partner: the property does not tell them apart)
    "P1327": Claim(RelationType.ASSOCIATE, "partner in business or sport", True, _P, _P),
    # ownership: owner -> owned
    "P127": Claim(RelationType.OWNERSHIP, "owned by", False, None, None, takes_share=True),
    "P1830": Claim(RelationType.OWNERSHIP, "owner of", True, None, None, takes_share=True),
    # a parent organisation steers its subsidiary; Wikidata states no stake (and uses these for ministries over
    # their agencies), so this is control, as FtM's LegalEntity.parent is
    "P355": Claim(RelationType.CONTROL, "parent organization", True, None, None),
    "P749": Claim(RelationType.CONTROL, "parent organization", False, None, None, one_at_a_time=True),
    # officers of an organisation (the statement is on the organisation, the person is its value)
    "P169": Claim(RelationType.DIRECTORSHIP, "chief executive officer", False, None, _P, one_at_a_time=True),
    "P488": Claim(RelationType.DIRECTORSHIP, "chairperson", False, None, _P, one_at_a_time=True),
    "P3320": Claim(RelationType.DIRECTORSHIP, "board member", False, None, _P),
    # the head of an agency, a regulator, a ministry's department or a company (Wikidata's "director / manager")
    "P1037": Claim(RelationType.DIRECTORSHIP, "director / manager", False, None, _P, one_at_a_time=True),
    "P108": Claim(RelationType.EMPLOYMENT, None, True, _P, None, career=True),
    "P102": Claim(RelationType.MEMBERSHIP, "member of political party", True, None, _ORG, one_at_a_time=True),
    "P463": Claim(RelationType.MEMBERSHIP, "member of", True, None, _ORG, career=True),
    # an office steers the body it directs (as FtM's Position.organization)
    "P2389": Claim(RelationType.CONTROL, "office of", True, _POS, _ORG),
}

# P31 (instance of) classes -> our endpoint schema. Only direct classes are read (no subclass walk: that needs
# the class hierarchy, which an entity file does not carry).
INSTANCE_SCHEMA: dict[str, EntitySchema] = {
    "Q5": EntitySchema.PERSON,  # human
    # positions
    "Q4164871": EntitySchema.POSITION,  # position
    "Q294414": EntitySchema.POSITION,  # public office
    "Q83307": EntitySchema.POSITION,  # minister
    "Q486839": EntitySchema.POSITION,  # member of parliament
    "Q48352": EntitySchema.POSITION,  # head of state
    "Q2285706": EntitySchema.POSITION,  # head of government
    "Q30461": EntitySchema.POSITION,  # president
    "Q14212": EntitySchema.POSITION,  # prime minister
    "Q1553195": EntitySchema.POSITION,  # party leader
    "Q107363151": EntitySchema.POSITION,  # central bank governor
    # companies
    "Q4830453": EntitySchema.COMPANY,  # business
    "Q783794": EntitySchema.COMPANY,  # company
    "Q891723": EntitySchema.COMPANY,  # public company
    "Q6881511": EntitySchema.COMPANY,  # enterprise
    "Q658255": EntitySchema.COMPANY,  # subsidiary
    "Q1589009": EntitySchema.COMPANY,  # privately held company
    "Q270791": EntitySchema.COMPANY,  # state-owned enterprise
    # public bodies
    "Q327333": EntitySchema.PUBLIC_BODY,  # government agency
    "Q192350": EntitySchema.PUBLIC_BODY,  # ministry
    "Q2659904": EntitySchema.PUBLIC_BODY,  # government organization
    "Q1639780": EntitySchema.PUBLIC_BODY,  # regulatory agency
    "Q35798": EntitySchema.PUBLIC_BODY,  # executive branch
    "Q11204": EntitySchema.PUBLIC_BODY,  # legislature
    "Q7188": EntitySchema.PUBLIC_BODY,  # government
    # organisations (the vocabulary's membership targets "party, club, board" are organisations)
    "Q43229": EntitySchema.ORGANIZATION,  # organization
    "Q7210356": EntitySchema.ORGANIZATION,  # political organization
    "Q7278": EntitySchema.ORGANIZATION,  # political party
    "Q163740": EntitySchema.ORGANIZATION,  # nonprofit organization
    "Q3918": EntitySchema.ORGANIZATION,  # university
    "Q31855": EntitySchema.ORGANIZATION,  # research institute
    "Q157031": EntitySchema.ORGANIZATION,  # foundation
}

# An office's government tier as FtM's topics say it (the engine weighs a person's first hop by it:
# `authority.position_tiers`): a head of state or government by the office's own class, and the level of the
# jurisdiction it applies to (P1001) by that item's class, when the file carries the jurisdiction's item.
HEAD_CLASSES = frozenset({"Q48352", "Q2285706", "Q30461", "Q14212"})  # head of state, of government, president, PM

# External-id properties read as an entity's identifiers (`schemas.vocabulary.IDENTIFIER_SCHEMES`): the same entity
# in a register that names it by them
# (a member id names a person: on an office or a party, where editors sometimes put one, it would merge nothing right)
_SCHEMES_OF: dict[EntitySchema, frozenset[str]] = {schema: frozenset({"lei"}) for schema in EntitySchema
                                                   if schema is not EntitySchema.PERSON}
_ANY_SCHEME = frozenset({"lei", "ukparliament"})
EXTERNAL_IDS: dict[str, str] = {
    "P1278": "lei",  # Legal Entity Identifier
    "P10428": "ukparliament",  # UK Parliament member id (members-api.parliament.uk; the register of interests' MNIS ID)
}
JURISDICTION_TOPIC: dict[str, str] = {
    "Q6256": "gov.national",  # country
    "Q3624078": "gov.national",  # sovereign state
    "Q179164": "gov.national",  # unitary state
    "Q43702": "gov.national",  # federation
    "Q10864048": "gov.state",  # first-level administrative country subdivision
    "Q107390": "gov.state",  # federated state
    "Q1221156": "gov.state",  # state of Germany
    "Q35657": "gov.state",  # state of the United States
    "Q34876": "gov.state",  # province
    "Q515": "gov.muni",  # city
    "Q1549591": "gov.muni",  # big city
    "Q15284": "gov.muni",  # municipality
    "Q262166": "gov.muni",  # municipality of Germany
    "Q3957": "gov.muni",  # town
    "Q532": "gov.muni",  # village
    "Q484170": "gov.muni",  # commune of France
    "Q747074": "gov.muni",  # comune of Italy
}

# P1107 (proportion) units: "1" is a fraction of 1, Q11229 is per cent
_PERCENT_UNIT = "http://www.wikidata.org/entity/Q11229"
# P5102 (nature of statement) values that say the statement itself is in doubt: whatever its references, the
# relation is alleged (Putin's P40 names a daughter "disputed" and two sons "supposedly")
NATURE_STATUS: dict[str, Status] = {
    "Q18912752": Status.ALLEGED,  # disputed
    "Q32188232": Status.ALLEGED,  # supposedly
}
# English, then "mul" (the default for all languages, which Wikidata has used since 2024 for a name written the
# same in every Latin-script language, removing the English label it repeats); then the first language code
_NAME_LANGUAGES = ("en", "mul")
_NOT_A_SOURCE = frozenset({"P143", "P4656", "P887", "P813"})  # see _cites_a_source
_QID = re.compile(r"^Q[1-9][0-9]*$")
_GUID_CHARS = re.compile(r"[^A-Za-z0-9._\-]")
_TIME = re.compile(r"^\+([0-9]{4,})-([0-9]{2})-([0-9]{2})T")


def is_wikidata(document: object) -> bool:
    """A wbgetentities / Special:EntityData response (`entities` of item/property objects), or a dump line (an
    item with its `claims`)."""
    if not isinstance(document, dict):
        return False
    entities = document.get("entities")
    if isinstance(entities, dict) and entities:
        return all(isinstance(e, dict) and (e.get("type") in ("item", "property") or "missing" in e)
                   and isinstance(e.get("id"), str) for e in entities.values()) \
            and any(isinstance(e.get("claims"), dict) or isinstance(e.get("labels"), dict) or "missing" in e
                    for e in entities.values())
    return (document.get("type") in ("item", "property") and isinstance(document.get("claims"), dict)
            and isinstance(document.get("id"), str) and bool(re.fullmatch(r"[QP][1-9][0-9]*", document["id"])))


def entities_of(document: object) -> list[dict]:
    """The entity objects a document carries (a response's `entities`, or the dump line itself)."""
    if not isinstance(document, dict):
        return []
    if isinstance(document.get("entities"), dict):
        return [e for e in document["entities"].values() if isinstance(e, dict)]
    return [document] if "claims" in document or "type" in document else []


def _label(entity: dict) -> str | None:
    labels = entity.get("labels")
    if not isinstance(labels, dict):
        return None
    for language in [*_NAME_LANGUAGES, *sorted(labels)]:
        value = labels.get(language)
        if isinstance(value, dict) and isinstance(value.get("value"), str) and value["value"].strip():
            return value["value"].strip()
    return None


def _aliases(entity: dict, name: str) -> list[str]:
    found: list[str] = []
    aliases = entity.get("aliases")
    for item in [a for language in _NAME_LANGUAGES for a in aliases.get(language) or []] \
            if isinstance(aliases, dict) else []:
        if isinstance(item, dict) and isinstance(item.get("value"), str) and item["value"].strip():
            found.append(item["value"].strip()[:500])
    return [a for a in dict.fromkeys(found) if a != name]


def _external_ids(qid: str, claims: dict, report: ImportReport | None) -> tuple[tuple[str, str], ...]:
    """(scheme, value) of the item's `EXTERNAL_IDS` statements of the best rank (the preferred ones where any is),
    each value as its scheme writes it. An identifier merges entities, so a value that is none (a malformed LEI) and
    a property with several values left (two member ids: one of them another person's) are noted and left out."""
    found: set[tuple[str, str]] = set()
    for prop, scheme in EXTERNAL_IDS.items():
        statements = [statement for statement in _objects(claims.get(prop)) if statement.get("rank") != "deprecated"]
        if any(statement.get("rank") == "preferred" for statement in statements):
            statements = [statement for statement in statements if statement.get("rank") == "preferred"]
        values = []
        for statement in statements:
            snak = statement.get("mainsnak")
            value = snak.get("datavalue", {}).get("value") if isinstance(snak, dict) and \
                snak.get("snaktype") == "value" and isinstance(snak.get("datavalue"), dict) else None
            if not isinstance(value, str):
                _note(report, qid, f"{prop} names no value ({str(value)[:40] if value is not None else 'none'}): "
                                   "left out")
                continue
            values.append(value)
        if len(set(values)) > 1:
            _note(report, qid, f"{prop} has {len(set(values))} values of the best rank "
                               f"({', '.join(sorted(set(values)))[:80]}): none is used to merge")
            continue
        for value in values:
            try:
                identifier = EntityIdentifier(scheme=scheme, value=value)
            except ValidationError:
                identifier = None
            # (the value as written: "40 51" is no member id, though a space would be dropped from it)
            if identifier is None or not re.fullmatch(IDENTIFIER_SCHEMES[scheme].pattern, identifier.value) \
                    or not re.fullmatch(IDENTIFIER_SCHEMES[scheme].pattern, value.strip().upper()
                                        if IDENTIFIER_SCHEMES[scheme].fold_case else value.strip()):
                _note(report, qid, f"{prop} {value[:40]!r} is no {scheme} identifier: left out")
                continue
            found.add((scheme, identifier.value))
    return tuple(sorted(found))


def _value_id(snak: object) -> str | None:
    """The QID a wikibase-item snak names; None for novalue/somevalue and other data types."""
    if not isinstance(snak, dict) or snak.get("snaktype") != "value":
        return None
    value = snak.get("datavalue", {}).get("value") if isinstance(snak.get("datavalue"), dict) else None
    if isinstance(value, dict) and isinstance(value.get("id"), str) and _QID.match(value["id"]):
        return value["id"]
    return None


@dataclass
class _Known:
    """What pass 1 keeps of an entity: its name, aliases, classes, modification time, where it is in the file."""

    name: str | None = None
    aliases: tuple[str, ...] = ()
    classes: tuple[str, ...] = ()
    modified: str | None = None
    full: tuple[str, int] | None = None  # (modified, position) of the version whose statements are read
    ranges: set[EntitySchema | None] = field(default_factory=set)  # what the statements naming it say it is
    jurisdictions: tuple[str, ...] = ()  # an office's P1001 (applies to jurisdiction)
    identifiers: tuple[tuple[str, str], ...] = ()  # (scheme, value) of its `EXTERNAL_IDS` statements


@dataclass
class _State:
    known: dict[str, _Known] = field(default_factory=dict)
    schemas: dict[str, EntitySchema] = field(default_factory=dict)
    noted: set[tuple[str, str]] = field(default_factory=set)
    redirects: dict[str, str] = field(default_factory=dict)  # a merged item's old QID -> the one it redirects to


def import_wikidata(read: Callable[[], Iterable[object]], defaults: ImportDefaults = ImportDefaults(
        extractor_name=EXTRACTOR_NAME, extractor_version=WIKIDATA_IMPORT_VERSION),
                    report: ImportReport | None = None) -> Iterator[RelationshipEvent]:
    """Stream Wikidata JSON (responses or dump lines, as JSON lines, an array, or objects one after another): the
    names and classes of every entity first, then the statements of each item in file order. An item given more
    than once is read once, in its latest version (by `modified`, then the last in the file)."""
    state = _State()
    for position, document in enumerate(read()):
        for entity in entities_of(document):
            qid = entity.get("id")
            if not isinstance(qid, str) or not _QID.match(qid) or "missing" in entity:
                continue
            redirect = entity.get("redirects")  # wbgetentities gives a merged item under the QID it redirects to
            if isinstance(redirect, dict) and redirect.get("to") == qid and _QID.match(str(redirect.get("from"))):
                state.redirects[redirect["from"]] = qid
            known = state.known.setdefault(qid, _Known())
            claims = entity.get("claims")
            version = (str(entity.get("modified") or ""), position)
            latest = isinstance(claims, dict) and (known.full is None or known.full <= version)
            name = _label(entity)
            # the version whose statements are read names the item; a label-only response names it if none does
            if name and (latest or known.name is None or known.full is None):
                known.name, known.aliases = name, tuple(_aliases(entity, name))
            if not isinstance(claims, dict):
                continue
            if latest:
                known.full = version
                known.modified = text_or_none(entity.get("modified"))
                known.classes = tuple(filter(None, (_value_id(s.get("mainsnak")) for s in _objects(claims.get("P31"))
                                                    if s.get("rank") != "deprecated")))
                known.jurisdictions = tuple(filter(None, (_value_id(s.get("mainsnak"))
                                                          for s in _objects(claims.get("P1001"))
                                                          if s.get("rank") != "deprecated")))
                known.identifiers = _external_ids(qid, claims, report)
            for prop, claim in PROPERTIES.items():
                for statement in _objects(claims.get(prop)):
                    value = _value_id(statement.get("mainsnak"))
                    if value and statement.get("rank") != "deprecated":
                        state.known.setdefault(value, _Known()).ranges.add(claim.value_schema)
                        known.ranges.add(claim.item_schema)
    for old, new in state.redirects.items():  # what the statements naming the old QID say of it
        state.known.setdefault(new, _Known()).ranges |= state.known.pop(old, _Known()).ranges
    for position, document in enumerate(read()):
        if not isinstance(document, dict):
            _record(report, Skipped(None, "Wikidata", SkipReason.INVALID_ENTITY.value,
                                    f"a Wikidata document is a JSON object, got {type(document).__name__}"))
            continue
        entities = entities_of(document)
        if not entities:  # another format's record in a Wikidata file: say so rather than drop it unseen
            _record(report, Skipped(text_or_none(document.get("id")),
                                    text_or_none(document.get("schema")) or "Wikidata", SkipReason.INVALID_ENTITY.value,
                                    "not a Wikidata entity or response (no `entities`, `claims` or `type`)"))
        for entity in entities:
            qid = entity.get("id")
            if "missing" in entity:
                _note(report, str(qid), "the response says the entity is missing: nothing to read")
                continue
            if not isinstance(qid, str) or not _QID.match(qid):
                if report is not None:  # properties, lexemes, media info: no item's statements
                    report.ignored[f"Wikidata {text_or_none(entity.get('type')) or 'entity without an item id'}"] += 1
                continue
            claims = entity.get("claims")
            if not isinstance(claims, dict):
                continue  # labels only: a name for the items that name it
            if state.known[qid].full != (str(entity.get("modified") or ""), position):
                _note(report, qid, "given again: only its latest version is read")
                continue
            yield from _item_events(qid, entity, claims, state, defaults, report)


def _item_events(qid: str, entity: dict, claims: dict, state: _State, defaults: ImportDefaults,
                 report: ImportReport | None) -> Iterator[RelationshipEvent]:
    modified = state.known[qid].modified
    retrieved_at = None
    if modified:
        try:
            retrieved_at = read_timestamp(modified)
        except UnreadableValue:
            _note(report, qid, f"modified {modified!r} is not a time: --retrieved-at used")
    retrieved_at = retrieved_at or defaults.retrieved_at
    for prop, claim in PROPERTIES.items():
        statements = _objects(claims.get(prop))
        superseded = claim.one_at_a_time and any(s.get("rank") == "preferred" for s in statements)
        for statement in statements:
            statement_id = text_or_none(statement.get("id")) or ""
            try:
                if retrieved_at is None:
                    raise ImportSkip(SkipReason.MISSING_PROVENANCE,
                                     "the entity has no `modified` time and no default for it (--retrieved-at)")
                document = _statement_document(qid, prop, claim, statement, retrieved_at, state, defaults, report,
                                               superseded and statement.get("rank") == "normal"
                                               and not _names_a_role(statement))
                if document is None:
                    continue
                yield converted_event(document, "wikidata", report)
            except ImportSkip as problem:
                _record(report, Skipped(statement_id or qid, f"Wikidata {prop}", problem.reason, problem.message))


def _statement_document(qid: str, prop: str, claim: Claim, statement: dict, retrieved_at: dt.datetime,
                        state: _State, defaults: ImportDefaults, report: ImportReport | None,
                        superseded: bool = False) -> dict | None:
    """The event document of one statement; None for one that names no entity. `superseded`: a normal statement
    of a one-at-a-time property beside a preferred one (`Claim.one_at_a_time`)."""
    where = f"{prop} statement {statement.get('id') or '(no id)'}"
    if statement.get("rank") == "deprecated":
        count_outcome(report, "wikidata deprecated statements skipped")
        _note(report, qid, f"{where} is deprecated: skipped")
        return None
    snak = statement.get("mainsnak")
    snaktype = snak.get("snaktype") if isinstance(snak, dict) else None
    if snaktype in ("novalue", "somevalue"):
        count_outcome(report, f"wikidata {snaktype} statements skipped")
        _note(report, qid, f"{where} is {snaktype} ({'no' if snaktype == 'novalue' else 'an unknown'} value): "
                           "it names no entity, skipped")
        return None
    value = _value_id(snak)
    if value is None:
        raise ImportSkip(SkipReason.INVALID_ENTITY, f"{where}: the value is not a Wikidata item")
    if value in state.redirects:
        _note(report, qid, f"{where}: {value} redirects to {state.redirects[value]} (merged): read as that item")
        value = state.redirects[value]
    guid = text_or_none(statement.get("id"))
    if guid is None or "$" not in guid:
        raise ImportSkip(SkipReason.INVALID_ENTITY, f"{where}: the statement has no id")
    spec = RELATIONS[claim.relation]
    item_ref = _ref(qid, spec.sources if claim.item_is_source else spec.targets, state, report, where)
    value_ref = _ref(value, spec.targets if claim.item_is_source else spec.sources, state, report, where)
    source, target = (item_ref, value_ref) if claim.item_is_source else (value_ref, item_ref)
    qualifiers = statement.get("qualifiers") if isinstance(statement.get("qualifiers"), dict) else {}
    properties: dict = {}
    if claim.text:
        properties["relationship" if "relationship" in spec.properties else "role"] = claim.text
    if prop == "P1038":
        kinships = sorted({KINSHIP.get(kin, f"relative ({kin})")
                           for kin in map(_value_id, _objects(qualifiers.get("P1039"))) if kin})
        if kinships:
            properties["relationship"] = ", ".join(kinships)[:200]
    if claim.takes_share:
        percentage = _proportion(qualifiers.get("P1107"), qid, where, report)
        if percentage is not None:
            properties["percentage"] = percentage
    start = _start(qualifiers.get("P580"), qid, where, report)
    end = _end(qualifiers.get("P582"), start, retrieved_at, qid, where, report)
    if not _objects(qualifiers.get("P580")) and not _objects(qualifiers.get("P582")) and \
            _objects(qualifiers.get("P585")):
        start, end = _point_in_time(qualifiers["P585"], qid, where, report)
    if superseded and end is None and not qualifiers.get("P582"):  # (an explicit novalue end: it still holds)
        end = _ended_unseen(start, retrieved_at)
        _note(report, qid, f"{where}: a preferred statement names the current value: read as a former one, ended on "
                           f"{end}, the day before the entity was observed")
    if start and end and end < start:
        _note(report, qid, f"{where}: ends ({end}) before it starts ({start}): imported without its start")
        start = None
    status = Status.CONFIRMED if _cites_a_source(statement) else Status.REPORTED
    natures = sorted(n for n in map(_value_id, _objects(qualifiers.get("P5102"))) if n in NATURE_STATUS)
    status = NATURE_STATUS[natures[0]] if natures else status
    if claim.career and status in _CURRENT_OR_NOT and statement.get("rank") != "preferred" \
            and not any(qualifiers.get(dating) for dating in _DATING_QUALIFIERS):
        # no start, end or point in time at all, not even "unknown" or "none" (P582 novalue: it has not ended),
        # and not the preferred rank Wikidata marks a current value with
        status = UNKNOWN_STATUS_CERTAINTY
        _note(report, qid, f"{where}: no date qualifier and not of preferred rank: read as still held, but "
                           f"{status.value}, not known to be current (a career lists past values too)")
    relation_id = f"wikidata:{qid}:{_GUID_CHARS.sub('-', guid.partition('$')[2])}"
    return {
        "schema_version": SCHEMA_VERSION, "op": "upsert", "relation_id": relation_id,
        "relation_type": claim.relation.value, "source": source, "target": target, "properties": properties,
        "start_date": start, "end_date": end, "status": status.value, "observed_at": retrieved_at,
        "provenance": {"source_url": ITEM_URL.format(qid), "publisher": PUBLISHER, "retrieved_at": retrieved_at,
                       "extractor": {"name": defaults.extractor_name, "version": defaults.extractor_version},
                       "confidence": defaults.confidence},
    }


def _ref(qid: str, allowed: frozenset[EntitySchema], state: _State, report: ImportReport | None, where: str) -> dict:
    schema = _schema(qid, state, report)
    if schema not in allowed:
        raise ImportSkip(SkipReason.UNMAPPED_SCHEMA,
                         f"{where}: {qid} is a {schema.value}, which this relation does not take "
                         f"({', '.join(sorted(s.value for s in allowed))})")
    known = state.known.get(qid) or _Known()
    name = known.name
    if name is None and (qid, "name") not in state.noted:
        state.noted.add((qid, "name"))
        _note(report, qid, "no label in the file: named by its QID")
    ref: dict = {"id": qid, "schema": schema.value, "name": (name or qid)[:500],
                 "identifiers": [{"scheme": "wikidata", "value": qid},
                                 *({"scheme": scheme, "value": value} for scheme, value in known.identifiers
                                   if scheme in _SCHEMES_OF.get(schema, _ANY_SCHEME))]}
    if known.aliases:
        ref["aliases"] = list(known.aliases)
    if schema is EntitySchema.POSITION:
        topics = _office_topics(qid, known, state, report)
        if topics:
            ref["topics"] = topics
    return ref


def _office_topics(qid: str, known: _Known, state: _State, report: ImportReport | None) -> list[str]:
    """gov.head for a head of state or government, and the tier of the jurisdiction the office applies to, as far
    as the file says; an office whose jurisdiction the file does not classify gets no tier (noted once)."""
    topics = {"gov.head"} if HEAD_CLASSES.intersection(known.classes) else set()
    for jurisdiction in known.jurisdictions:
        classes = (state.known.get(state.redirects.get(jurisdiction, jurisdiction)) or _Known()).classes
        tiers = {JURISDICTION_TOPIC[c] for c in classes if c in JURISDICTION_TOPIC}
        topics |= tiers
        if not tiers and (qid, "tier") not in state.noted:
            state.noted.add((qid, "tier"))
            _note(report, qid, f"applies to {jurisdiction} (P1001), whose class the file does not give as a country, "
                               "state or municipality: no government tier")
    if topics & {"gov.state", "gov.muni"}:  # a Land's or a town's head of government is no head of state's tier
        topics.discard("gov.head")
    return sorted(topics)


def _schema(qid: str, state: _State, report: ImportReport | None) -> EntitySchema:
    """One schema per QID for the whole file: its P31 classes, else the ranges of the properties that name it,
    else LegalEntity; whatever was not read from P31 is noted once."""
    if qid in state.schemas:
        return state.schemas[qid]
    known = state.known.get(qid) or _Known()
    by_class = sorted({INSTANCE_SCHEMA[c] for c in known.classes if c in INSTANCE_SCHEMA})
    ranges = sorted(s for s in known.ranges if s is not None)
    if len(by_class) == 1:
        schema = by_class[0]
    else:
        schema = ranges[0] if len(ranges) == 1 else EntitySchema.LEGAL_ENTITY
        if len(by_class) > 1:
            why = f"its classes (P31) say {', '.join(s.value for s in by_class)}"
        elif known.classes:
            why = f"no class of it (P31 {', '.join(known.classes[:5])}) is in INSTANCE_SCHEMA"
        else:
            why = "the file gives no class (P31) for it"
        how = ("as the property naming it says" if len(ranges) == 1
               else f"as the properties naming it disagree ({', '.join(s.value for s in ranges)})" if ranges
               else "as nothing in the file says what it is")
        _note(report, qid, f"{why}: read as {schema.value}, {how}")
    state.schemas[qid] = schema
    return schema


def _time_text(snak: object) -> tuple[str | None, str | None]:
    """(partial ISO date as precise as the value states, why not) of a time snak."""
    if not isinstance(snak, dict) or snak.get("snaktype") != "value":
        return None, f"{(snak or {}).get('snaktype', 'no value') if isinstance(snak, dict) else 'no value'}"
    value = snak.get("datavalue", {}).get("value") if isinstance(snak.get("datavalue"), dict) else None
    if not isinstance(value, dict) or not isinstance(value.get("time"), str):
        return None, "not a time"
    match = _TIME.match(value["time"])
    precision = value.get("precision")
    if not match or len(match.group(1)) > 4:
        return None, f"{value['time']!r} is not a date of the common era we can read"
    year, month, day = match.groups()
    if isinstance(precision, int) and 11 <= precision <= 14:  # a day, or an hour, minute, second of it
        return f"{year}-{month}-{day}", None
    if precision == 10:
        return f"{year}-{month}", None
    if precision == 9:
        return year, None
    return None, f"{value['time']!r} has precision {precision} (coarser than a year)"


def _day(snak: dict, read: Callable[[str], dt.date]) -> dt.date:
    """The day a time snak gives, read as a start (`first_day`) or an end (`last_day`), in the Gregorian calendar;
    UnreadableValue if none."""
    text, why = _time_text(snak)
    if text is None:
        raise UnreadableValue(why or "not a time")
    parts = text.split("-")
    if len(parts) < 3 or not snak["datavalue"]["value"].get("calendarmodel", "").endswith(_JULIAN):
        # a month or a year is read as stated, as Wikibase reads it (it converts days only: Wikidata marks dates
        # before 1583 Julian by default, so at a coarser precision the calendar says nothing about the period)
        return read(text)
    # Wikidata keeps a day its sources give in the Julian calendar as that calendar's date (Lenin was born on
    # 10 April 1870 there, 22 April in ours)
    try:
        return _gregorian_of_julian(*(int(part) for part in parts))
    except ValueError:
        raise UnreadableValue(f"{text} is not a Julian calendar date we can convert") from None


_JULIAN = "Q1985786"


def _julian_month_days(year: int, month: int) -> int:
    if not 1 <= month <= 12:
        raise ValueError(f"month {month}")
    return 29 if month == 2 and year % 4 == 0 else (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[month - 1]


def _gregorian_of_julian(year: int, month: int, day: int) -> dt.date:
    """The Gregorian date of a Julian calendar date, through its Julian day number; ValueError for an impossible
    one or one before year 1."""
    if not 1 <= day <= _julian_month_days(year, month):
        raise ValueError(f"{year}-{month}-{day}")
    shift = (14 - month) // 12
    years, months = year + 4800 - shift, month + 12 * shift - 3
    julian_day = day + (153 * months + 2) // 5 + 365 * years + years // 4 - 32083
    return dt.date.fromordinal(julian_day - 1721425)  # 1721426 is 1 January of year 1 (Gregorian), ordinal 1


def _start(snaks: object, qid: str, where: str, report: ImportReport | None) -> dt.date | None:
    """The start (P580), the earliest of several (as the FtM import reads several start dates); one that cannot be
    read is noted and left out (the relation is then read as held from any time)."""
    starts = []
    for snak in _objects(snaks):
        try:
            starts.append(_day(snak, first_day))
        except UnreadableValue as exc:
            if snak.get("snaktype") != "novalue":
                _note(report, qid, f"{where}: start time {exc}: imported without it")
    if len(starts) > 1:
        _note(report, qid, f"{where}: {len(starts)} start times: the earliest read")
    return min(starts, default=None)


def _point_in_time(snaks: object, qid: str, where: str, report: ImportReport | None) -> tuple[dt.date, dt.date]:
    """A statement dated only by when it held (P585: "point in time", as an office held in a given year or a stake
    a filing stated on a date): held from the first day of that period (a day, a month, a year) to its last, the
    earliest to the latest of several. Read without dates it would be current forever, so one that cannot be read
    skips the statement (`unreadable_value`), as an end that cannot be read does."""
    periods = []
    for snak in _objects(snaks):
        if snak.get("snaktype") in ("novalue", "somevalue"):
            continue
        try:
            periods.append((_day(snak, first_day), _day(snak, last_day)))
        except UnreadableValue as exc:
            raise ImportSkip(SkipReason.UNREADABLE_VALUE, f"{where}: point in time {exc}: without it the statement "
                                                          "would read as holding at every time") from None
    if not periods:
        raise ImportSkip(SkipReason.UNREADABLE_VALUE, f"{where}: point in time without a value: without it the "
                                                      "statement would read as holding at every time")
    start, end = min(period[0] for period in periods), max(period[1] for period in periods)
    _note(report, qid, f"{where}: dated only by a point in time (P585): read as held from {start} to {end}")
    return start, end


def _end(snaks: object, start: dt.date | None, retrieved_at: dt.datetime, qid: str, where: str,
         report: ImportReport | None) -> dt.date | None:
    """The end (P582), the latest of several (as the FtM import reads several end dates). Leaving out an end would
    make an ended relation current, so, as the FtM import does (docs/events.md, "Ended without a date"): `novalue`
    (it has not ended) or no P582 is no end; `somevalue` alone (it ended, nobody says when) ends the day before the
    entity was observed, never before the start; an end that cannot be read (coarser than a year, a day the Julian
    calendar does not have, not a date) skips the statement (`unreadable_value`)."""
    snaks = _objects(snaks)
    ends = []
    for snak in snaks:
        if snak.get("snaktype") in ("novalue", "somevalue"):
            continue
        try:
            ends.append(_day(snak, last_day))
        except UnreadableValue as exc:
            raise ImportSkip(SkipReason.UNREADABLE_VALUE, f"{where}: end time {exc}: without it an ended relation "
                                                          "would read as current") from None
    if len(ends) > 1:
        _note(report, qid, f"{where}: {len(ends)} end times: the latest read")
    if ends or not any(snak.get("snaktype") == "somevalue" for snak in snaks):
        return max(ends, default=None)
    end = _ended_unseen(start, retrieved_at)
    _note(report, qid, f"{where}: end time unknown (somevalue): read as ended on {end}, the day before the entity "
                       "was observed")
    return end


# qualifiers that give the role a value holds (subject has role, object has role, as): a deputy beside the director
_ROLE_QUALIFIERS = ("P2868", "P3831", "P794")


def _names_a_role(statement: dict) -> bool:
    """The statement says in what role its value holds (a deputy director, a co-chair): one of several at once,
    not a former value beside the preferred one."""
    qualifiers = statement.get("qualifiers")
    return isinstance(qualifiers, dict) and any(_objects(qualifiers.get(p)) for p in _ROLE_QUALIFIERS)


def _ended_unseen(start: dt.date | None, retrieved_at: dt.datetime) -> dt.date:
    """The end of a relation that ended when nobody says: the day before the entity was observed (as the FtM import
    reads an ended status without an end date), never before its start."""
    return max(retrieved_at.date() - dt.timedelta(days=1), start or dt.date.min)


def _cites_a_source(statement: dict) -> bool:
    """A reference that names something to check: not one that only says which Wikipedia the statement was copied
    from (a bot's P143 "imported from Wikimedia project", P4656 its URL), that a bot guessed it (P887 "based on
    heuristic"), or only when something was retrieved (P813). Wikidata's own guidance (Help:Sources) counts none of
    these as a source."""
    references = statement.get("references")
    return any(isinstance(reference, dict) and isinstance(reference.get("snaks"), dict)
               and set(reference["snaks"]) - _NOT_A_SOURCE
               for reference in (references if isinstance(references, list) else []))


def _proportion(snaks: object, qid: str, where: str, report: ImportReport | None) -> float | None:
    """P1107 (proportion) as a percentage: a fraction 0..1 (unit "1") times 100, or a value in per cent."""
    snaks = [s for s in snaks if isinstance(s, dict)] if isinstance(snaks, list) else []
    if not snaks or snaks[0].get("snaktype") != "value":
        return None
    value = snaks[0].get("datavalue", {}).get("value") if isinstance(snaks[0].get("datavalue"), dict) else None
    try:
        amount = float(value["amount"])
        unit = value.get("unit", "1")
    except (TypeError, KeyError, ValueError):
        _note(report, qid, f"{where}: proportion {value!r} is not a quantity: imported without a percentage")
        return None
    percent = amount if unit == _PERCENT_UNIT else amount * 100 if unit == "1" else None
    if percent is None or not 0.0 <= percent <= 100.0:
        _note(report, qid, f"{where}: proportion {amount:g} (unit {unit}) is not a share from 0 to 100%: "
                           "imported without a percentage")
        return None
    return round(percent, 10)


def _objects(value: object) -> list[dict]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _note(report: ImportReport | None, qid: str, text: str) -> None:
    if report is not None:
        report.notes.append(f"Wikidata {qid}: {text}")


def events_from_wikidata(documents: Iterable[object], defaults: ImportDefaults | None = None,
                         report: ImportReport | None = None) -> Iterator[RelationshipEvent]:
    """`import_wikidata` over documents in memory."""
    documents = documents if isinstance(documents, list) else list(documents)
    return import_wikidata(lambda: documents, defaults or ImportDefaults(
        extractor_name=EXTRACTOR_NAME, extractor_version=WIKIDATA_IMPORT_VERSION), report)
