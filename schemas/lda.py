"""US federal lobbying disclosures (the Lobbying Disclosure Act of 1995): the filings the Senate's Office of Public
Records publishes (`https://lda.senate.gov/api/v1/filings/`, now also `lda.gov`), out as relationship events.
docs/events.md ("US lobbying disclosures (LDA)") has the mapping table and what is lost.

A lobbying registrant (a firm, or an organisation lobbying for itself) reports each quarter, for each client, the
federal bodies its lobbyists contacted and what the client paid for it; each lobbyist lists the covered government
positions he or she held (the revolving door). What an official steers being lobbied by a firm his family is tied to
is what `COI-LOBBY` weighs, so:

- Each government entity a report's activities name is lobbied (`lobbies`) by the client, over the report's period
  (a quarter; before 2008 a half year), with the issues as summary.
- The registrant acts for the client (`representation`, from the client's effective date to the termination the
  filings report; written by registrations and terminations), and the client pays the registrant the reported
  income for the period (`payment`, USD).
- Each lobbyist acts for the client (`representation`, per period), with the covered positions as summary.
- A registration (RR, RA) names the lobbyists and bodies the registrant expects: `proposed`, from the effective
  date until a termination.
- Each foreign entity a filing says owns a share of the client (`foreign_entities`, its `ownership_percentage`: a
  registration's list, and those a report adds) owns (`ownership`) that share of the client from the filing's
  period (a registration's: the effective date) while the engagement lasts. Only where no filing of the engagement
  names an affiliated organisation: LDA's share may be of one of those instead.
- One registrant, client record (LDA's `client.id`) and period is one report: the one posted last (an amendment, a
  "no activity" amendment) replaces the others of the file, whose relations it does not restate are retracted.

Ids: `lda-registrant-<registrant id>`, `lda-lobbyist-<lobbyist id>`, `lda-government-entity-<id>` (LDA's own ids);
a foreign entity `lda-foreign-entity-<digest>` of its name and country;
a client `lda-client-<digest>` of its name (without case or accents, punctuation as spaces; a government client's
with its state and country): LDA numbers a client anew for each registrant, and one client of several firms (or
lobbying for itself as well) is one entity.
A registrant filing for itself is its client (that entity). Every government entity of LDA is federal: a PublicBody
with the topic `gov.national`.

`import_lda` reads the file twice: which filing of each report was posted last (with the hashes of its relation
ids), then it writes each filing's relations as it comes. Those keys are held, not the filings. A file that repeats
a filing uuid is read twice more before writing: which copy of it to read, and the survey again from those copies.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property

from schemas.events import SCHEMA_VERSION, RelationshipEvent
from schemas.ftm import (ImportDefaults, ImportReport, ImportSkip, Skipped, SkipReason, _record,
                         converted_event, count_outcome)
from schemas.validation import EARLIEST_DATE, LATEST_DATE
from schemas.values import UnreadableValue, clean_name as _name, folded_name as _folded, read_timestamp
from schemas.vocabulary import RelationType, Status

# bump when the mapping changes what an import yields (1.1: the client's foreign owners)
LDA_IMPORT_VERSION = "1.1"
EXTRACTOR_NAME = "lda-import"
PUBLISHER = "U.S. Senate Office of Public Records (Lobbying Disclosure Act)"

# filing_period -> (first month, first day), (last month, last day)
PERIODS = {
    "first_quarter": ((1, 1), (3, 31)), "second_quarter": ((4, 1), (6, 30)), "third_quarter": ((7, 1), (9, 30)),
    "fourth_quarter": ((10, 1), (12, 31)), "mid_year": ((1, 1), (6, 30)), "year_end": ((7, 1), (12, 31)),
}
# LDA's filing types (`/api/v1/constants/filing/filingtypes/`): registrations, and reports of a quarter (Q1..Q4; 1..4
# in amendments and terminations), a half year (MM, YY before 2008); A an amendment, T a termination, @ an amended
# termination, a final Y "no activity".
_REGISTRATION = re.compile(r"^R[RA]$")
_REPORT = re.compile(r"^(Q[1-4]|MM|YY|[1-4MY][TA@])Y?$")
_AMENDMENT = re.compile(r"^(RA|[1-4MY][A@]Y?)$")
_TERMINATION = re.compile(r"^[1-4MY][T@]Y?$")
_NO_ACTIVITY = re.compile(r"^.{2}Y$")
_USD_LIMIT = 1e15  # beyond any lobbying income: a typo, not a sum
_SUMMARY_LIMIT = 5000  # the contract's length of a summary
# the period each report type is of, checked against the filing's own `filing_period` (a mismatch is noted)
_TYPE_PERIODS = {"1": "first_quarter", "2": "second_quarter", "3": "third_quarter", "4": "fourth_quarter",
                 "M": "mid_year", "Y": "year_end"}


def is_lda(document: object) -> bool:
    """An LDA filing, or a page of the filings endpoint (`{"count", "next", "previous", "results": [...]}`)."""
    if not isinstance(document, dict):
        return False
    if isinstance(document.get("results"), list):  # a page: a broken first item does not hide the others
        return any(_is_filing(item) for item in document["results"])
    return _is_filing(document)


def _is_filing(value: object) -> bool:
    return (isinstance(value, dict) and isinstance(value.get("filing_uuid"), str) and _text(value["filing_uuid"])
            and isinstance(value.get("filing_type"), str) and isinstance(value.get("registrant"), dict)
            and isinstance(value.get("client"), dict))


@dataclass(frozen=True)
class _Party:
    entity_id: str
    name: str
    schema: str
    country: str | None = None


@dataclass
class _Filing:
    """What the mapping reads of one filing."""

    uuid: str
    type: str
    registration: bool
    year: int
    period: str
    posted: dt.datetime
    registrant: _Party
    client: _Party
    client_number: str  # LDA's id of the registrant's client record: what one report and one engagement are of
    registrant_key: str  # `lda-registrant-<id>`, also for a self-filer (whose entity is its client's, by name)
    self_filed: bool
    effective: dt.date | None
    terminated: dt.date | None
    income: float | None
    activities: list[dict]
    url: str
    foreign_owners: list[tuple[_Party, float, float | None]] = field(default_factory=list)  # (owner, %, contribution)
    affiliated: bool = False  # names affiliated organisations (or gives something unreadable where they go)
    notes: list[str] = field(default_factory=list)  # what the reading left out, told once the filing is written

    @property
    def group(self) -> tuple:
        """One report: the registrant's for one client (LDA's record of it, whatever name it gives the client that
        day) and period, or its registration of the client."""
        return (*self.pair, "registration") if self.registration else (*self.pair, self.year, self.period)

    @property
    def pair(self) -> tuple[str, str]:
        return self.registrant_key, self.client_number

    @property
    def states_engagement(self) -> bool:
        """A registration or a termination: what the engagement is written from (a file of quarterly reports alone
        restating it without its termination would undo one imported before)."""
        return self.registration or self.terminated is not None

    @property
    def scope(self) -> str:
        """The relation ids' common part: registrant, LDA's client record, period (or registration)."""
        return f"lda:{self.registrant_key}:client-{self.client_number}:" + (
            "registration" if self.registration else f"{self.year}:{self.period}")

    @property
    def order(self) -> tuple:
        """Which of two filings of one report stands: the one posted last (an amendment after its original)."""
        return self.posted, bool(_AMENDMENT.match(self.type)), self.uuid

    @property
    def no_activity(self) -> bool:
        return bool(_NO_ACTIVITY.match(self.type)) and not self.registration

    def dates(self, until: dt.date | None = None) -> tuple[dt.date | None, dt.date | None]:
        """A report's period (a termination's ends on its date); a registration's from the effective date `until`
        the engagement ends."""
        if self.registration:
            return self.effective, until
        (first_month, first_day), (last_month, last_day) = PERIODS[self.period]
        start, end = dt.date(self.year, first_month, first_day), dt.date(self.year, last_month, last_day)
        if self.terminated is not None and start <= self.terminated < end:
            end = self.terminated
        return start, end


@dataclass
class _Engagement:
    """A registrant's engagement by a client over the file: from its effective date to a reported termination."""

    effective: dt.date | None = None
    latest_registered: dt.date | None = None  # the effective date of the latest registration
    last_period_start: dt.date | None = None
    newest: tuple | None = None  # the order of the latest registration or termination, which writes the engagement
    # report group -> (order, termination date or None, the end of the report's period) of the filing standing for
    # each report a termination was filed for: an amended termination, or an amendment withdrawing it, stands as any
    # report does
    terminations: dict[tuple, tuple] = field(default_factory=dict)
    affiliated: bool = False  # a filing of it names affiliated organisations: a foreign entity's share may be theirs

    @cached_property
    def end(self) -> dt.date | None:
        """When the engagement ended (asked once the survey is complete, and kept)."""
        standing = [(day, period_end) for _, day, period_end in self.terminations.values() if day is not None]
        if not standing:
            return None
        ended, period_end = max(standing)
        if (self.last_period_start is not None and self.last_period_start > period_end) or (
                self.latest_registered is not None and self.latest_registered > ended):
            return None  # a report of a period after the termination's, or a registration effective later: again
        return ended


@dataclass
class _Survey:
    """The first pass (of a file that repeats a filing, the third): the filing of each report posted last, with the
    relation ids it states, and each engagement."""

    # group -> (order, hashes of its relation ids) of the filing standing: the ids themselves would be most of what
    # the survey holds
    standing: dict[tuple, tuple] = field(default_factory=dict)
    # group -> {hash of a relation id: the order of the last filing stating it}, of a report filed more than once:
    # of the filings the standing one replaced, the last to state a relation it dropped retracts it, whatever the
    # file order
    last_stated: dict[tuple, dict[int, tuple]] = field(default_factory=dict)
    engagements: dict[tuple, _Engagement] = field(default_factory=dict)

    def add(self, filing: _Filing, defaults: ImportDefaults) -> None:
        group, order = filing.group, filing.order
        held = self.standing.get(group)
        ids = frozenset(hash(relation_id) for relation_id, _ in _relations(filing, defaults, None, ids_only=True))
        if held is not None:
            last = self.last_stated.get(group)
            if last is None:
                last = self.last_stated[group] = dict.fromkeys(held[1], held[0])
            for relation in ids:
                if relation not in last or order > last[relation]:
                    last[relation] = order
        if held is None or order > held[0]:
            self.standing[group] = held = (order, ids)
        engagement = self.engagements.setdefault(filing.pair, _Engagement())
        engagement.affiliated |= filing.affiliated
        if filing.effective is not None:
            if engagement.effective is None or filing.effective < engagement.effective:
                engagement.effective = filing.effective
            if filing.registration and (engagement.latest_registered is None
                                        or filing.effective > engagement.latest_registered):
                engagement.latest_registered = filing.effective
        if not filing.registration:
            start = filing.dates()[0]
            if engagement.last_period_start is None or start > engagement.last_period_start:
                engagement.last_period_start = start
            if filing.terminated is not None or group in engagement.terminations:
                current = engagement.terminations.get(group)
                if current is None and held[0] > order:
                    current = (held[0], None, None)  # a later filing of the report, no termination, stands already
                if current is None or order > current[0]:
                    engagement.terminations[group] = (order, filing.terminated, dt.date(filing.year,
                                                                                       *PERIODS[filing.period][1]))
        if filing.states_engagement and (engagement.newest is None or order > engagement.newest):
            engagement.newest = order


def import_lda(read: Callable[[], Iterable[object]], defaults: ImportDefaults = ImportDefaults(
        extractor_name=EXTRACTOR_NAME, extractor_version=LDA_IMPORT_VERSION),
               report: ImportReport | None = None) -> Iterator[RelationshipEvent]:
    """Stream LDA filings (single filings, pages of the filings endpoint; JSON lines, an array, or pretty-printed
    objects one after another) in two passes: which filing of each report stands (and how many copies of each filing
    the file gives), then the events. A file that repeats a filing uuid is read twice more first: which copy to
    read (pages downloaded at different times repeat a filing with its client's record of the day), then the
    survey again from those copies. One set of filings gives the same events in any file order."""
    copies: dict[str, int] = {}  # filing uuid -> how many copies the file gives
    survey, skipped = _Survey(), []
    for document in read():
        if not is_lda(document):
            _record(report, Skipped(None, "LDA", SkipReason.INVALID_ENTITY.value,
                                    "not an LDA filing or page of filings (no filing_uuid, registrant and client)"))
            continue
        for raw in _raw_filings(document):
            if not _is_filing(raw):
                _record(report, Skipped(None, "LDA", SkipReason.INVALID_ENTITY.value,
                                        f"an item of a page that is no filing: {raw!r:.100}"))
                continue
            uuid = _uuid(raw)
            copies[uuid] = copies.get(uuid, 0) + 1
            if copies[uuid] == 1:
                _survey(survey, raw, defaults, skipped)
    # uuid -> (readable, content digest) of the copy read, of a filing given more than once: a readable one, then the
    # largest digest, whatever the order
    chosen: dict[str, tuple[bool, bytes]] = {}
    if any(count > 1 for count in copies.values()):
        for raw in _filings(read):
            uuid = _uuid(raw)
            if copies[uuid] > 1:
                chosen[uuid] = max(chosen.get(uuid, (False, b"")), _choice(raw, defaults))
        survey, skipped = _Survey(), []  # the first survey read the first copy of each filing
        for raw in _chosen_filings(read, copies, chosen, defaults):
            _survey(survey, raw, defaults, skipped)
    for skip in skipped:
        _record(report, skip)
    for raw in _chosen_filings(read, copies, chosen, defaults):
        try:
            filing = _read(raw, defaults)
        except ImportSkip:
            continue  # reported by the survey
        yield from _filing_events(filing, survey, defaults, report)


def _survey(survey: _Survey, raw: dict, defaults: ImportDefaults, skipped: list[Skipped]) -> None:
    try:
        survey.add(_read(raw, defaults), defaults)
    except ImportSkip as problem:
        skipped.append(Skipped(_uuid(raw), "LDA filing", problem.reason, problem.message))


def _filings(read: Callable[[], Iterable[object]]) -> Iterator[dict]:
    for document in read():
        if is_lda(document):
            yield from (raw for raw in _raw_filings(document) if _is_filing(raw))


def _chosen_filings(read: Callable[[], Iterable[object]], copies: dict[str, int],
                    chosen: dict[str, tuple[bool, bytes]], defaults: ImportDefaults) -> Iterator[dict]:
    """Each filing once: the copy chosen (a filing listed twice, on overlapping pages, is read once)."""
    done: set[str] = set()
    for raw in _filings(read):
        uuid = _uuid(raw)
        if copies[uuid] > 1:  # (a filing given once, most of them, needs neither a choice nor a place in `done`)
            if uuid in done or _choice(raw, defaults) != chosen[uuid]:
                continue
            done.add(uuid)
        yield raw


def _choice(raw: dict, defaults: ImportDefaults) -> tuple[bool, bytes]:
    try:
        _read(raw, defaults)
        readable = True
    except ImportSkip:
        readable = False
    return readable, _digest(raw)


def _digest(raw: dict) -> bytes:
    return hashlib.blake2b(json.dumps(raw, sort_keys=True, default=str).encode(), digest_size=16).digest()


def _filing_events(filing: _Filing, survey: _Survey, defaults: ImportDefaults,
                   report: ImportReport | None) -> Iterator[RelationshipEvent]:
    standing_order, standing_ids = survey.standing[filing.group]
    stands = filing.order == standing_order
    kind = "registrations" if filing.registration else "reports"
    count_outcome(report, f"lda {kind} read" if stands else f"lda {kind} replaced by one posted later")
    if filing.no_activity and stands:
        count_outcome(report, "lda reports of no activity")
    engagement = survey.engagements[filing.pair]
    documents = list(_relations(filing, defaults, report if stands else None, until=engagement.end,
                                affiliated=engagement.affiliated))
    if engagement.newest == filing.order and filing.states_engagement and not filing.self_filed:
        documents.append(_engagement(filing, engagement, defaults))
    for relation_id, document in documents:
        if stands or relation_id == _engagement_id(filing):
            yield from _converted(relation_id, document, report)
        elif hash(relation_id) not in standing_ids and _last_to_state(survey, filing, hash(relation_id)):
            # the report posted later (an amendment) no longer states it: withdrawn as of that filing (a microsecond
            # after the one it replaced where both were posted at once), once, by the last replaced filing stating it
            observed = max(standing_order[0], filing.posted + dt.timedelta(microseconds=1))
            for event in _converted(relation_id, dict(document, op="retract", observed_at=observed), report):
                if report is not None:
                    report.converted -= 1
                    report.retracted += 1
                yield event


def _last_to_state(survey: _Survey, filing: _Filing, relation: int) -> bool:
    return survey.last_stated[filing.group][relation] == filing.order


def _converted(relation_id: str, document: dict, report: ImportReport | None) -> Iterator[RelationshipEvent]:
    """The event, or nothing and the contract's reason in the report (no known filing comes here: a safety net)."""
    try:
        yield converted_event(document, "lda", report)
    except ImportSkip as problem:
        _record(report, Skipped(relation_id, "LDA relation", problem.reason, problem.message))


def _raw_filings(document: dict) -> Iterator[object]:
    """The filings of a page (with whatever else it lists, for the caller to skip), or the filing itself."""
    if isinstance(document.get("results"), list) and not _is_filing(document):
        yield from document["results"]
    else:
        yield document


def _uuid(raw: dict) -> str:
    """A filing's uuid as compared (`_is_filing` checked it names one)."""
    return _text(raw.get("filing_uuid")) or ""


def _read(raw: dict, defaults: ImportDefaults) -> _Filing:
    uuid = _text(raw.get("filing_uuid"))
    kind = _text(raw.get("filing_type"))
    if uuid is None or kind is None:
        raise ImportSkip(SkipReason.INVALID_ENTITY, "the filing has no uuid or type")
    kind = kind.upper()
    registration = bool(_REGISTRATION.match(kind))
    if not registration and not _REPORT.match(kind):
        raise ImportSkip(SkipReason.UNREADABLE_VALUE, f"filing type {kind!r} is none of LDA's")
    year = _year(raw.get("filing_year"))
    period = _text(raw.get("filing_period"))
    if not registration and (year is None or period not in PERIODS):
        raise ImportSkip(SkipReason.UNREADABLE_VALUE, f"a report of period {raw.get('filing_year')!r} {period!r}: "
                                                      "no period LDA defines (a quarter, mid_year, year_end)")
    posted = _time(raw.get("dt_posted"))
    if posted is None and raw.get("dt_posted") is not None:
        raise ImportSkip(SkipReason.UNREADABLE_VALUE, f"dt_posted {raw.get('dt_posted')!r:.100} is no time within "
                                                      f"{EARLIEST_DATE.year}-{LATEST_DATE.year}")
    posted = posted or defaults.retrieved_at
    if posted is None:
        raise ImportSkip(SkipReason.MISSING_PROVENANCE, "the filing has no dt_posted (when it was filed) and there is "
                                                        "no default for it (--retrieved-at)")
    url = _text(raw.get("filing_document_url")) or _text(raw.get("url")) or defaults.source_url
    if url is None:
        raise ImportSkip(SkipReason.MISSING_PROVENANCE, "the filing has no URL (give --source-url)")
    registrant = _registrant(raw["registrant"])
    client = _client(raw["client"])
    if registrant is None or client is None:
        raise ImportSkip(SkipReason.MISSING_ENDPOINT, "the filing names no registrant (an id and a name) or no "
                                                      "client (a name)")
    # LDA's record of this registrant's client (its `client_id` numbers the registrant's clients): without either,
    # the client's name stands in
    number = _number(raw["client"].get("id"))
    client_number = number or (f"n{_number(raw['client'].get('client_id'))}" if _number(raw["client"].get("client_id"))
                               else client.entity_id)
    self_filed = raw["client"].get("client_self_select") is True or _folded(client.name) == _folded(registrant.name)
    registrant_key = registrant.entity_id  # the report's, whatever name the client's record gives it that day
    if self_filed:
        registrant = client  # an organisation lobbying for itself is one entity, its client's
    activities, notes = _items(raw.get("lobbying_activities"), "lobbying_activities")
    terminated = None
    if _TERMINATION.match(kind):
        terminated = _day(raw.get("termination_date"))
        if terminated is None:  # a termination report terminates by the end of its period at the latest
            terminated = dt.date(year, *PERIODS[period][1])
            notes.append(f"a termination without a readable termination_date ({raw.get('termination_date')!r:.60}): "
                         "ended with its period")
    if not registration and _TYPE_PERIODS.get(kind[1] if kind.startswith("Q") else kind[0]) != period:
        notes.append(f"filing type {kind} is not of its period {period}: read as of the period")
    income = _amount(raw.get("income"))
    if income is None and raw.get("income") not in (None, "", "0", "0.00", 0):
        notes.append(f"income {_shown(raw.get('income'), 60)} is no positive sum: no payment")
    foreign_owners = _foreign_owners(raw, notes)
    affiliates = raw.get("affiliated_organizations")
    notes.extend(_items(affiliates, "affiliated_organizations")[1])
    effective = _day(raw["client"].get("effective_date"))
    if effective is None and raw["client"].get("effective_date") is not None:
        notes.append(f"the client's effective_date {raw['client'].get('effective_date')!r:.60} is no date within "
                     f"{EARLIEST_DATE.year}-{LATEST_DATE.year}: left out")
    return _Filing(uuid=uuid, type=kind, registration=registration, year=year or 0, period=period or "",
                   posted=posted, registrant=registrant, client=client, client_number=client_number,
                   registrant_key=registrant_key,
                   self_filed=self_filed, effective=effective,
                   terminated=terminated, income=income, activities=activities, url=url[:2000], notes=notes,
                   foreign_owners=foreign_owners, affiliated=affiliates not in (None, []))


def _foreign_owners(raw: dict, notes: list[str]) -> list[tuple[_Party, float, float | None]]:
    """The foreign entities the filing says own a share of the client (or of an affiliated organisation: see
    `_relations`), each once. LDA lists a foreign entity that holds at least 20 % of the client or of an affiliated
    organisation, or that controls, directs, finances or subsidises their activities, or is an affiliate with an
    interest in the outcome: only a share is a stake."""
    entities, more = _items(raw.get("foreign_entities"), "foreign_entities")
    notes.extend(more)
    owners: dict[str, tuple[_Party, float, float | None]] = {}
    for entity in entities:
        party = _foreign_entity(entity)
        if party is None:
            notes.append(f"a foreign entity without a name: {_shown(entity, 200)}")
            continue
        share = _percentage(entity.get("ownership_percentage"))
        if share is None:
            notes.append(f"foreign entity {party.name!r:.100} with no share of ownership "
                         f"({_shown(entity.get('ownership_percentage'), 30)}): LDA lists it for control, finance or "
                         "affiliation, which it does not tell apart: left out")
            continue
        held = owners.get(party.entity_id)
        if held is not None:
            notes.append(f"foreign entity {party.name!r:.100} listed twice ({held[1]:g} % and {share:g} %): the "
                         "largest share read")
            if held[1] >= share:
                continue
        owners[party.entity_id] = (party, share, _amount(entity.get("contribution")))
    return [owners[key] for key in sorted(owners)]


def _foreign_entity(raw: dict) -> _Party | None:
    """A foreign entity: one per name and country (LDA gives it no id)."""
    name = _name(raw.get("name"))
    if name is None or not _folded(name):
        return None
    country = _country(raw.get("country")) or _country(raw.get("ppb_country"))
    digest = hashlib.sha256("\x1f".join((_folded(name), country or "")).encode()).hexdigest()[:20]
    return _Party(f"lda-foreign-entity-{digest}", name[:500], "Organization", country)


def _percentage(value: object) -> float | None:
    """A share LDA gives ("37.50"): none for an unreadable one, or one not above 0 and at most 100."""
    share = _decimal(value, "%")
    return share if share is not None and 0 < share <= 100 else None


def _items(value: object, what: str) -> tuple[list[dict], list[str]]:
    """The objects of a list the filing gives (an activity's entities, its lobbyists), and notes of the rest."""
    if value is None:
        return [], []
    if not isinstance(value, list):
        return [], [f"{what} is no list ({value!r:.60}): left out"]
    kept = [item for item in value if isinstance(item, dict)]
    return kept, ([f"{len(value) - len(kept)} of {what} are no objects: left out"] if len(kept) < len(value) else [])


def _year(value: object) -> int | None:
    if isinstance(value, str) and re.fullmatch(r"[0-9]{4}", value.strip()):
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 1995 <= value <= LATEST_DATE.year:
        return value
    return None


def _registrant(raw: dict) -> _Party | None:
    number, name = _number(raw.get("id")), _name(raw.get("name"))
    if number is None or name is None:
        return None
    return _Party(f"lda-registrant-{number}", name[:500], "Organization", _country(raw.get("country")))


def _client(raw: dict) -> _Party | None:
    """A client's entity: one per name (LDA numbers a client anew for each registrant, and registrants write its
    state as they please: Boston Scientific is in DC, MA or nowhere); a government's per name, state and country
    (the City of Springfield of Illinois is not Massachusetts')."""
    name = _name(raw.get("name"))
    if name is None or not _folded(name):
        return None
    country = _country(raw.get("country")) or _country(raw.get("ppb_country"))
    government = raw.get("client_government_entity") is True
    key = _folded(name)
    if government:
        state = _text(raw.get("state")) or _text(raw.get("ppb_state")) or ""
        key = "\x1f".join((key, state.upper(), country or "", "government"))
    digest = hashlib.sha256(key.encode()).hexdigest()[:20]
    return _Party(f"lda-client-{digest}", name[:500], "PublicBody" if government else "Organization", country)


def _relations(filing: _Filing, defaults: ImportDefaults, report: ImportReport | None,
               ids_only: bool = False, until: dt.date | None = None,
               affiliated: bool = False) -> Iterator[tuple[str, dict | None]]:
    """(relation id, document) of what one filing states but the engagement: lobbying, income, lobbyists (with
    `ids_only`, the ids alone, the documents None). A registration's relations hold `until` the engagement ends, as
    do the foreign owners; `affiliated`: a filing of the engagement names affiliated organisations (no stake read)."""
    start, end = filing.dates(until)
    status = Status.PROPOSED if filing.registration else defaults.status
    scope = filing.scope
    through = "in-house" if filing.self_filed else f"through {filing.registrant.name}"
    for note in filing.notes:
        _note(report, filing.uuid, note)

    def stated(relation_id: str, relation_type: RelationType, source: _Party, target: _Party, **properties):
        return relation_id, None if ids_only else _document(relation_id, relation_type, source, target, start, end,
                                                            status, filing, defaults, **properties)

    if filing.income is not None and not filing.self_filed and not filing.registration:
        # a report of no activity may still give the income of the period (a retainer)
        yield stated(f"{scope}:income", RelationType.PAYMENT, filing.client, filing.registrant,
                     amount=filing.income, currency="USD",
                     purpose=f"lobbying, {filing.year} {filing.period.replace('_', ' ')}")
    for owner, share, contribution in filing.foreign_owners:
        if affiliated:
            if not ids_only:
                _note(report, filing.uuid, f"foreign entity {owner.name!r:.100} owns {share:g} % of the client or of "
                                           "an affiliated organisation a filing of the engagement names, LDA does not "
                                           "say which: left out")
            continue
        # A stake, not a plan: stated as a fact in a registration too. The LD-2 lists the foreign entities added
        # since the registration: each holds from its filing's period while the engagement lasts (the reports of
        # one owner then overlap, and are one fact, stated again, not one stake a quarter).
        relation_id = f"{scope}:foreign-owner:{owner.entity_id}"
        yield relation_id, None if ids_only else _document(
            relation_id, RelationType.OWNERSHIP, owner, filing.client, start, until, defaults.status, filing,
            defaults,
            percentage=share, role="foreign owner, as the client's lobbying filing reports",
            summary=f"contributes ${contribution:,.2f} to the lobbying" if contribution else None)
    if filing.no_activity:
        return
    # dicts, not lists: a filing of thousands of activities costs a look-up each, not a scan of those before it
    bodies: dict[str, tuple[_Party, _Texts]] = {}
    lobbyists: dict[str, tuple[_Party, _Texts]] = {}
    for activity in filing.activities:
        issue = _text(activity.get("general_issue_code_display")) or _text(activity.get("general_issue_code"))
        description = _text(activity.get("description"))
        said = ": ".join(part for part in (issue, description) if part)[:_SUMMARY_LIMIT]
        entities, notes = _items(activity.get("government_entities"), "government_entities")
        people, more = _items(activity.get("lobbyists"), "lobbyists")
        for note in (*notes, *more):
            _note(report, filing.uuid, note)
        for entity in entities:
            body = _government_entity(entity)
            if body is None:
                _note(report, filing.uuid, f"a government entity without an id or a name: {entity!r:.200}")
                continue
            bodies.setdefault(body.entity_id, (body, _Texts()))[1].add(said)
        for entry in people:
            person = _lobbyist(entry.get("lobbyist"))
            if person is None:
                _note(report, filing.uuid, f"a lobbyist without an id or a name: {entry!r:.200}")
                continue
            position = _text(entry.get("covered_position"))
            positions = lobbyists.setdefault(person.entity_id, (person, _Texts()))[1]
            if position and position.upper().strip(".") not in {"N/A", "NA", "NONE"}:
                positions.add(position)
    for body_id, (body, topics) in sorted(bodies.items()):
        yield stated(f"{scope}:lobbies:{body_id}", RelationType.LOBBIES, filing.client, body, role=through,
                     summary="; ".join(topics)[:_SUMMARY_LIMIT])
    for person_id, (person, positions) in sorted(lobbyists.items()):
        yield stated(f"{scope}:lobbyist:{person_id}", RelationType.REPRESENTATION, person, filing.client,
                     role=f"lobbyist, {through}",
                     summary=("covered positions: " + " | ".join(positions))[:_SUMMARY_LIMIT] if positions else None)


class _Texts(dict):
    """The distinct texts of a summary, in the order given, until the summary is full."""

    def __init__(self):
        super().__init__()
        self.length = 0  # of the summary they make, separators included

    def add(self, text: str) -> None:
        if text and text not in self and self.length < _SUMMARY_LIMIT:
            self[text] = None
            self.length += len(text) + 3


def _engagement_id(filing: _Filing) -> str:
    return f"lda:{filing.registrant_key}:client-{filing.client_number}:engagement"


def _engagement(filing: _Filing, engagement: _Engagement, defaults: ImportDefaults) -> tuple[str, dict]:
    relation_id = _engagement_id(filing)
    return relation_id, _document(relation_id, RelationType.REPRESENTATION, filing.registrant, filing.client,
                                  engagement.effective, engagement.end, defaults.status, filing, defaults,
                                  role="lobbying registrant")


def _document(relation_id: str, relation_type: RelationType, source: _Party, target: _Party,
              start: dt.date | None, end: dt.date | None, status: Status, filing: _Filing,
              defaults: ImportDefaults, **properties) -> dict:
    if start is not None and end is not None and end < start:
        end = start  # a termination dated before the client's effective date: it ended when it began
    return {
        "schema_version": SCHEMA_VERSION, "op": "upsert", "relation_id": relation_id,
        "relation_type": relation_type.value, "source": _ref(source), "target": _ref(target),
        "properties": {key: (value[:5000] if key == "summary" else value[:200] if key == "role" else value)
                       for key, value in properties.items() if value not in (None, "")},
        **({"start_date": start.isoformat()} if start else {}), **({"end_date": end.isoformat()} if end else {}),
        "status": status.value,
        "observed_at": filing.posted,
        "provenance": {"source_url": filing.url, "publisher": defaults.publisher or PUBLISHER,
                       "retrieved_at": defaults.retrieved_at or filing.posted,
                       "extractor": {"name": defaults.extractor_name, "version": defaults.extractor_version},
                       "confidence": defaults.confidence},
    }


def _ref(party: _Party) -> dict:
    ref: dict = {"id": party.entity_id, "schema": party.schema, "name": party.name}
    if party.country:
        ref["country"] = party.country
    if party.entity_id.startswith("lda-government-entity-"):
        ref["topics"] = ["gov.national"]
    return ref


def _government_entity(raw: object) -> _Party | None:
    if not isinstance(raw, dict):
        return None
    number, name = _number(raw.get("id")), _name(raw.get("name"))
    if number is None or name is None:
        return None
    return _Party(f"lda-government-entity-{number}", name[:500], "PublicBody", "us")


def _lobbyist(raw: object) -> _Party | None:
    if not isinstance(raw, dict):
        return None
    number = _number(raw.get("id"))
    suffix = _text(raw.get("suffix_display")) or _text(raw.get("suffix"))
    name = " ".join(part for part in (_name(raw.get("first_name")), _name(raw.get("middle_name")),
                                      _name(raw.get("last_name")), suffix) if part)
    if number is None or not name:
        return None
    return _Party(f"lda-lobbyist-{number}", name[:500], "Person")


def _amount(value: object) -> float | None:
    """The income a report gives ("15000.00"); none for an unreadable, zero or negative one."""
    amount = _decimal(value, ",$")
    return amount if amount is not None and 0 < amount < _USD_LIMIT else None


def _decimal(value: object, ignored: str) -> float | None:
    """A finite number given as one or as text (the characters of `ignored` left out: "$15,000.00", "37.50%")."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value.translate(str.maketrans("", "", ignored))) if isinstance(value, str) else float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _number(value: object) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10 ** 18:
        return str(value)
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,18}", value.strip()):
        return value.strip()
    return None


def _country(value: object) -> str | None:
    text = _text(value)
    return text.lower() if text and re.fullmatch(r"[A-Za-z]{2}", text) else None


def _time(value: object) -> dt.datetime | None:
    """A time with its offset, within the years the contract takes (in UTC, as it checks them)."""
    text = _text(value)
    if text is None:
        return None
    try:
        moment = read_timestamp(text)
        return moment if EARLIEST_DATE <= moment.astimezone(dt.timezone.utc).date() <= LATEST_DATE else None
    except (UnreadableValue, OverflowError, ValueError):
        return None


def _day(value: object) -> dt.date | None:
    text = _text(value)
    if text is None or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        return None
    return day if EARLIEST_DATE <= day <= LATEST_DATE else None


def _text(value: object) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value) if abs(value) < 10 ** 30 else None
    return _name(value)


def _shown(value: object, length: int) -> str:
    """A value in a note, cut: also an int Python will not print (of more than 4,300 digits: only from memory, as
    JSON parsing refuses it first)."""
    try:
        return repr(value)[:length]
    except ValueError:
        return "a number too long to print"


def _note(report: ImportReport | None, key: str, text: str) -> None:
    if report is not None:
        report.notes.append(f"LDA {key}: {text}")


def events_from_lda(documents: Iterable[object], defaults: ImportDefaults | None = None,
                    report: ImportReport | None = None) -> Iterator[RelationshipEvent]:
    """`import_lda` over documents in memory."""
    documents = documents if isinstance(documents, list) else list(documents)
    return import_lda(lambda: iter(documents), defaults or ImportDefaults(
        extractor_name=EXTRACTOR_NAME, extractor_version=LDA_IMPORT_VERSION), report)
