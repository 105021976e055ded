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
  filings report), and the client pays the registrant the reported income for the period (`payment`, USD).
- Each lobbyist acts for the client (`representation`, per period), with the covered positions as summary.
- A registration (RR, RA) names the lobbyists and bodies the registrant expects: `proposed`, from the effective
  date until a termination.
- One registrant, client and period is one report: the one posted last (an amendment, a "no activity" amendment)
  replaces the others of the file, whose relations it does not restate are retracted.

Ids: `lda-registrant-<registrant id>`, `lda-lobbyist-<lobbyist id>`, `lda-government-entity-<id>` (LDA's own ids);
a client `lda-client-<digest>` of its name (without case, accents or punctuation), state and country: LDA numbers a
client anew for each registrant, and one client of several firms (or lobbying for itself as well) is one entity.
A registrant filing for itself is its client (that entity). Every government entity of LDA is federal: a PublicBody
with the topic `gov.national`.

`import_lda` reads the file twice: first which filing of each registrant, client and period was posted last (and
what it states), then it writes each filing's relations as it comes. Only those keys are held, not the filings.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from schemas.events import SCHEMA_VERSION, RelationshipEvent
from schemas.ftm import (ImportDefaults, ImportReport, ImportSkip, Skipped, SkipReason, _record,
                         converted_event, count_outcome)
from schemas.values import UnreadableValue, read_timestamp
from schemas.vocabulary import RelationType, Status

LDA_IMPORT_VERSION = "1.0"  # bump when the mapping changes what an import yields
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


def is_lda(document: object) -> bool:
    """An LDA filing, or a page of the filings endpoint (`{"count", "next", "previous", "results": [...]}`)."""
    if not isinstance(document, dict):
        return False
    if isinstance(document.get("results"), list):
        return any(_is_filing(item) for item in document["results"][:1])
    return _is_filing(document)


def _is_filing(value: object) -> bool:
    return (isinstance(value, dict) and isinstance(value.get("filing_uuid"), str)
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
    self_filed: bool
    effective: dt.date | None
    terminated: dt.date | None
    income: float | None
    activities: list[dict]
    url: str

    @property
    def group(self) -> tuple:
        """One report: the registrant's for one client and period (or its registration of the client)."""
        pair = (self.registrant.entity_id, self.client.entity_id)
        return (*pair, "registration") if self.registration else (*pair, self.year, self.period)

    @property
    def pair(self) -> tuple[str, str]:
        return self.registrant.entity_id, self.client.entity_id

    @property
    def order(self) -> tuple:
        """Which of two filings of one report stands: the one posted last (an amendment after its original)."""
        return self.posted, bool(_AMENDMENT.match(self.type)), self.uuid

    @property
    def no_activity(self) -> bool:
        return bool(_NO_ACTIVITY.match(self.type)) and not self.registration

    def dates(self) -> tuple[dt.date | None, dt.date | None]:
        if self.registration:
            return self.effective, self.terminated
        (first_month, first_day), (last_month, last_day) = PERIODS[self.period]
        return dt.date(self.year, first_month, first_day), dt.date(self.year, last_month, last_day)


@dataclass
class _Engagement:
    """A registrant's engagement by a client over the file: from its effective date to a reported termination."""

    effective: dt.date | None = None
    terminated: dt.date | None = None
    last_period_end: dt.date | None = None
    newest: tuple | None = None


@dataclass
class _Survey:
    """The first pass: the filing of each report posted last, with the relation ids it states, and each engagement."""

    # group -> (order, hashes of its relation ids): the ids themselves would be most of what the survey holds
    standing: dict[tuple, tuple] = field(default_factory=dict)
    engagements: dict[tuple, _Engagement] = field(default_factory=dict)

    def add(self, filing: _Filing, defaults: ImportDefaults) -> None:
        held = self.standing.get(filing.group)
        if held is None or filing.order > held[0]:
            ids = frozenset(hash(relation_id) for relation_id, _ in _relations(filing, defaults, None, True))
            self.standing[filing.group] = (filing.order, ids)
        engagement = self.engagements.setdefault(filing.pair, _Engagement())
        if filing.effective and (engagement.effective is None or filing.effective < engagement.effective):
            engagement.effective = filing.effective
        if filing.terminated and (engagement.terminated is None or filing.terminated > engagement.terminated):
            engagement.terminated = filing.terminated
        if not filing.registration:
            end = filing.dates()[1]
            if engagement.last_period_end is None or end > engagement.last_period_end:
                engagement.last_period_end = end
        if engagement.newest is None or filing.order > engagement.newest:
            engagement.newest = filing.order


def import_lda(read: Callable[[], Iterable[object]], defaults: ImportDefaults = ImportDefaults(
        extractor_name=EXTRACTOR_NAME, extractor_version=LDA_IMPORT_VERSION),
               report: ImportReport | None = None) -> Iterator[RelationshipEvent]:
    """Stream LDA filings (single filings, pages of the filings endpoint; JSON lines, an array, or pretty-printed
    objects one after another) in two passes. One set of filings gives the same events in any file order."""
    survey = _Survey()
    for document in read():
        if not is_lda(document):
            _record(report, Skipped(None, "LDA", SkipReason.INVALID_ENTITY.value,
                                    "not an LDA filing or page of filings (no filing_uuid, registrant and client)"))
            continue
        for raw in _raw_filings(document):
            try:
                survey.add(_read(raw, defaults), defaults)
            except ImportSkip as problem:
                _record(report, Skipped(_uuid(raw), "LDA filing", problem.reason, problem.message))
    written: set[str] = set()  # a filing listed twice (overlapping pages) is written once
    retracted: set[str] = set()
    for document in read():
        if not is_lda(document):
            continue
        for raw in _raw_filings(document):
            try:
                filing = _read(raw, defaults)
            except ImportSkip:
                continue  # reported by the first pass
            if filing.uuid in written:
                continue
            written.add(filing.uuid)
            yield from _filing_events(filing, survey, retracted, defaults, report)


def _filing_events(filing: _Filing, survey: _Survey, retracted: set[str], defaults: ImportDefaults,
                   report: ImportReport | None) -> Iterator[RelationshipEvent]:
    standing_order, standing_ids = survey.standing[filing.group]
    stands = filing.order == standing_order
    count_outcome(report, "lda registrations read" if filing.registration else
                  "lda reports read" if stands else "lda reports replaced by one posted later")
    if filing.no_activity and stands:
        count_outcome(report, "lda reports of no activity")
    documents = list(_relations(filing, defaults, report if stands else None))
    engagement = survey.engagements[filing.pair]
    if engagement.newest == filing.order and not filing.self_filed:
        documents.append(_engagement(filing, engagement, defaults))
    for relation_id, document in documents:
        if stands or relation_id == _engagement_id(filing):
            yield _converted(relation_id, document, report)
        elif hash(relation_id) not in standing_ids and relation_id not in retracted:
            # the report posted later (an amendment) no longer states it: withdrawn as of that filing
            retracted.add(relation_id)
            withdrawn = dict(document, op="retract", observed_at=standing_order[0])
            event = _converted(relation_id, withdrawn, report)
            if report is not None:
                report.converted -= 1
                report.retracted += 1
            yield event


def _converted(relation_id: str, document: dict, report: ImportReport | None) -> RelationshipEvent:
    try:
        return converted_event(document, "lda", report)
    except ImportSkip as problem:  # the contract refused what the mapping made: a fault of the mapping
        raise AssertionError(f"{relation_id}: {problem.message}") from None


def _raw_filings(document: dict) -> Iterator[dict]:
    if isinstance(document.get("results"), list) and not _is_filing(document):
        yield from (item for item in document["results"] if _is_filing(item))
    else:
        yield document


def _uuid(raw: dict) -> str | None:
    return _text(raw.get("filing_uuid"))


def _read(raw: dict, defaults: ImportDefaults) -> _Filing:
    uuid = _text(raw.get("filing_uuid"))
    kind = _text(raw.get("filing_type"))
    if uuid is None or kind is None:
        raise ImportSkip(SkipReason.INVALID_ENTITY, "the filing has no uuid or type")
    kind = kind.upper()
    registration = bool(_REGISTRATION.match(kind))
    if not registration and not _REPORT.match(kind):
        raise ImportSkip(SkipReason.UNREADABLE_VALUE, f"filing type {kind!r} is none of LDA's")
    year = raw.get("filing_year")
    period = _text(raw.get("filing_period"))
    if not registration and (not isinstance(year, int) or isinstance(year, bool) or not 1995 <= year <= 9999
                             or period not in PERIODS):
        raise ImportSkip(SkipReason.UNREADABLE_VALUE, f"a report of period {year!r} {period!r}: no period LDA "
                                                      "defines (a quarter, mid_year, year_end)")
    posted = _time(raw.get("dt_posted")) or defaults.retrieved_at
    if posted is None:
        raise ImportSkip(SkipReason.MISSING_PROVENANCE, "the filing has no dt_posted (when it was filed) and there is "
                                                        "no default for it (--retrieved-at)")
    url = _text(raw.get("filing_document_url")) or _text(raw.get("url")) or defaults.source_url
    if url is None:
        raise ImportSkip(SkipReason.MISSING_PROVENANCE, "the filing has no URL (give --source-url)")
    registrant = _registrant(raw["registrant"])
    client = _client(raw["client"])
    if registrant is None or client is None:
        raise ImportSkip(SkipReason.MISSING_ENDPOINT, "the filing names no registrant or no client (an id and a name)")
    self_filed = raw["client"].get("client_self_select") is True or _folded(client.name) == _folded(registrant.name)
    if self_filed:
        registrant = client  # an organisation lobbying for itself is one entity, its client's
    activities = [a for a in raw.get("lobbying_activities") or () if isinstance(a, dict)]
    return _Filing(uuid=uuid, type=kind, registration=registration, year=year if isinstance(year, int) else 0,
                   period=period or "", posted=posted, registrant=registrant, client=client, self_filed=self_filed,
                   effective=_day(raw["client"].get("effective_date")),
                   terminated=_day(raw.get("termination_date")) if _TERMINATION.match(kind) else None,
                   income=_amount(raw.get("income")), activities=activities, url=url[:2000])


def _registrant(raw: dict) -> _Party | None:
    number, name = _number(raw.get("id")), _name(raw.get("name"))
    if number is None or name is None:
        return None
    return _Party(f"lda-registrant-{number}", name[:500], "Organization", _country(raw.get("country")))


def _client(raw: dict) -> _Party | None:
    name = _name(raw.get("name"))
    if name is None:
        return None
    country = _country(raw.get("country")) or _country(raw.get("ppb_country"))
    state = _text(raw.get("state")) or _text(raw.get("ppb_state")) or ""
    key = "\x1f".join((_folded(name), state.upper(), country or ""))
    digest = hashlib.sha256(key.encode()).hexdigest()[:20]
    schema = "PublicBody" if raw.get("client_government_entity") is True else "Organization"
    return _Party(f"lda-client-{digest}", name[:500], schema, country)


def _relations(filing: _Filing, defaults: ImportDefaults, report: ImportReport | None,
               ids_only: bool = False) -> Iterator[tuple[str, dict | None]]:
    """(relation id, document) of what one filing states but the engagement: lobbying, income, lobbyists (with
    `ids_only`, the ids alone, the documents None)."""
    start, end = filing.dates()
    status = Status.PROPOSED if filing.registration else defaults.status
    scope = f"lda:{filing.registrant.entity_id}:{filing.client.entity_id}:" + (
        "registration" if filing.registration else f"{filing.year}:{filing.period}")
    through = "in-house" if filing.self_filed else f"through {filing.registrant.name}"
    if filing.no_activity:
        return
    bodies: dict[str, tuple[_Party, list[str]]] = {}
    lobbyists: dict[str, tuple[_Party, list[str]]] = {}
    for activity in filing.activities:
        issue = _text(activity.get("general_issue_code_display")) or _text(activity.get("general_issue_code"))
        description = _text(activity.get("description"))
        said = ": ".join(part for part in (issue, description) if part)
        for entity in activity.get("government_entities") or ():
            body = _government_entity(entity)
            if body is None:
                _note(report, filing.uuid, f"a government entity without an id or a name: {entity!r:.200}")
                continue
            topics = bodies.setdefault(body.entity_id, (body, []))[1]
            if said and said not in topics:
                topics.append(said)
        for entry in activity.get("lobbyists") or ():
            person = _lobbyist(entry.get("lobbyist") if isinstance(entry, dict) else None)
            if person is None:
                _note(report, filing.uuid, f"a lobbyist without an id or a name: {entry!r:.200}")
                continue
            positions = lobbyists.setdefault(person.entity_id, (person, []))[1]
            position = _text(entry.get("covered_position"))
            if position and position.upper() not in {"N/A", "NA", "NONE"} and position not in positions:
                positions.append(position)
    def stated(relation_id: str, relation_type: RelationType, source: _Party, target: _Party, **properties):
        return relation_id, None if ids_only else _document(relation_id, relation_type, source, target, start, end,
                                                            status, filing, defaults, **properties)

    for body_id, (body, topics) in sorted(bodies.items()):
        yield stated(f"{scope}:lobbies:{body_id}", RelationType.LOBBIES, filing.client, body, role=through,
                     summary="; ".join(topics))
    if filing.income is not None and not filing.self_filed and not filing.registration:
        yield stated(f"{scope}:income", RelationType.PAYMENT, filing.client, filing.registrant,
                     amount=filing.income, currency="USD",
                     purpose=f"lobbying, {filing.year} {filing.period.replace('_', ' ')}")
    for person_id, (person, positions) in sorted(lobbyists.items()):
        yield stated(f"{scope}:lobbyist:{person_id}", RelationType.REPRESENTATION, person, filing.client,
                     role=f"lobbyist, {through}",
                     summary="covered positions: " + " | ".join(positions) if positions else None)


def _engagement_id(filing: _Filing) -> str:
    return f"lda:{filing.registrant.entity_id}:{filing.client.entity_id}:engagement"


def _engagement(filing: _Filing, engagement: _Engagement, defaults: ImportDefaults) -> tuple[str, dict]:
    ended = engagement.terminated
    if ended is not None and engagement.last_period_end is not None and engagement.last_period_end > ended \
            and not _period_holds(ended, engagement.last_period_end):
        ended = None  # reports of periods after the termination: engaged again
    relation_id = _engagement_id(filing)
    return relation_id, _document(relation_id, RelationType.REPRESENTATION, filing.registrant, filing.client,
                                  engagement.effective, ended, defaults.status, filing, defaults,
                                  role="lobbying registrant")


def _period_holds(day: dt.date, period_end: dt.date) -> bool:
    """The termination falls within the last period reported (a termination report covers its own period)."""
    return (period_end - day).days < 184


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
    if isinstance(value, bool):
        return None
    try:
        amount = float(value.replace(",", "").replace("$", "")) if isinstance(value, str) else float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return amount if math.isfinite(amount) and 0 < amount < _USD_LIMIT else None


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
    text = _text(value)
    if text is None:
        return None
    try:
        return read_timestamp(text)
    except UnreadableValue:
        return None


def _day(value: object) -> dt.date | None:
    text = _text(value)
    if text is None or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _text(value: object) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value) if abs(value) < 10 ** 30 else None
    return _name(value)


def _name(value: object) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    # a lone surrogate (JSON allows "\ud800") is no character: replaced, so that it cannot fail an encoding later
    return " ".join(value.encode("utf-8", "surrogatepass").decode("utf-8", "replace").split())


@lru_cache(maxsize=1 << 16)
def _folded(name: str | None) -> str:
    """A name as compared: without accents, case or punctuation ("MEDTRONIC, INC" is "Medtronic Inc")."""
    decomposed = unicodedata.normalize("NFKD", name or "")
    plain = "".join(char for char in decomposed
                    if not unicodedata.combining(char) and not unicodedata.category(char).startswith("P"))
    return " ".join(plain.casefold().split())


def _note(report: ImportReport | None, key: str, text: str) -> None:
    if report is not None:
        report.notes.append(f"LDA {key}: {text}")


def events_from_lda(documents: Iterable[object], defaults: ImportDefaults | None = None,
                    report: ImportReport | None = None) -> Iterator[RelationshipEvent]:
    """`import_lda` over documents in memory."""
    documents = documents if isinstance(documents, list) else list(documents)
    return import_lda(lambda: iter(documents), defaults or ImportDefaults(
        extractor_name=EXTRACTOR_NAME, extractor_version=LDA_IMPORT_VERSION), report)
