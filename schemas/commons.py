"""The UK House of Commons' Register of Members' Financial Interests, as the Parliament's interests API exports it:
one CSV file per category (`PublishedInterest-Category_7.csv`, ...), out as relationship events. docs/events.md
("UK House of Commons: Register of Members' Financial Interests") has the mapping table and what is lost.

Each row is one interest a Member of Parliament registered: the shares he holds, who paid him as employer or
director, who gave him donations, gifts and hospitality. Those are the commercial side of a conflict: a member who
is also a minister holds authority (from Wikidata or FtM data) over firms, and the register says which of them
pay him or are his. Categories read:

- 1 "Employment and earnings": the member is employed by the payer (`employment`, a commercial tie for as long as
  the job lasts); a director paid as one: `directorship`.
- 1.1 "Ad hoc payments", 1.2 "Ongoing paid employment": a sum the payer of the employment (category 1) paid, or
  the ultimate payer the member names (`payment`, in GBP). They name their employment only by its interest id, so
  they are read when the export's directory is imported whole (`employments`); a file of them alone is skipped.
- 2 "Donations and other support", 3 "Gifts, benefits and hospitality from UK sources", 5 "... from sources
  outside the UK": the donor paid the member (`payment`, the value in GBP, in kind or monetary).
- 7 "Shareholdings": the member owns part of the company (`ownership`): "over 15% of issued share capital" is a
  stake of unknown size that may be control (the engine's unknown stake), "valued at more than £70,000" one of at
  most 15% (else it would be registered as the other).

- 4 "Visits outside the UK": each donor of the visit paid the member (`payment`, one relation per donor).

- 9 "Family members employed" (by the member) and 10 "... engaged in third-party lobbying": the relative
  (`family`, a Person with `role.rca`, named among the member's relatives) and his job (`employment`: by the
  member, or by the lobbying firm).

The others (6 land and property, 8 miscellaneous) are skipped row by row with the reason.

- A member is `commons-member-<MNIS id>` (the Parliament's member id), a Person with the topic `role.pep` and the
  id as `ukparliament` identifier: Wikidata's item of the member (P10428), with the offices he holds, is the same
  node.
- A company the register gives a Companies House number for is `commons-company-gb-<number>`, with the number as
  a `register` identifier (jurisdiction gb), which merges it with the same company from BODS or OpenSanctions;
  other counterparties are `commons-party-<digest of the folded name>` (the same firm may pay one member and give
  to another), a person `commons-person-<MNIS id>-<digest>`: two members' donors of one common name are two.
- An interest's relations are `commons:<interest id>:<relation type>`; each row is observed at its latest
  publication or update (`Published`, `Updated_1`...), so a later export replaces an earlier one's version, and the
  row's `Link` (the interest in the Parliament's API) is its source.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

from schemas.events import SCHEMA_VERSION, Op, RelationshipEvent
from schemas.ftm import (ImportDefaults, ImportReport, ImportSkip, Skipped, SkipReason, _clip, _record,
                         converted_event)
from schemas.values import clean_name, folded_name, register_day
from schemas.vocabulary import RelationType

COMMONS_IMPORT_VERSION = "1.1"  # bump when the mapping changes what an import yields
_AFTER = dt.timedelta(microseconds=1)  # a retraction of what an earlier version stated orders after it
EXTRACTOR_NAME = "commons-interests-import"
PUBLISHER = "UK House of Commons, Register of Members' Financial Interests"
REGISTER_URL = "https://interests-api.parliament.uk/api/v1/Interests"
HEADER = frozenset({"ID", "Summary", "Parent Interest ID", "Registered", "Published", "Category", "MNIS ID", "Member",
                    "Link"})  # the columns every category's file has
_SUMMARY_LIMIT = 5000
_MONEY = re.compile(r"^\s*£?\s*([0-9][0-9,]*(?:\.[0-9]+)?)\s*$")
# four digits at least: the first companies registered (Lloyds Bank's 2065) have fewer than eight, but "123" is a
# placeholder (a donor whose address is "Abc")
_COMPANY_NUMBER = re.compile(r"^(?:0*[1-9][0-9]{3,7}|[A-Z]{2}[0-9]{6})$")
_NUMBER_IN_TEXT = re.compile(r"\b(?:[0-9]{6,8}|[A-Z]{2}[0-9]{6})\b")
_TRUE = "true"


@dataclass(frozen=True)
class Category:
    """A category of the register, by the name its rows give in `Category`: how its rows are read, or why not."""

    name: str
    read: str = ""  # "employment", "donation", "shareholding"; empty: not read
    not_read: str = ""


CATEGORIES = {category.name: category for category in (
    Category("Employment and earnings", read="employment"),
    Category("Employment and earnings - Ad hoc payments", read="earning"),
    Category("Employment and earnings - Ongoing paid employment", read="earning"),
    Category("Donations and other support (including loans) for activities as an MP", read="donation"),
    Category("Gifts, benefits and hospitality from UK sources", read="donation"),
    Category("Gifts and benefits from sources outside the UK", read="donation"),
    Category("Visits outside the UK", read="visit"),
    Category("Land and property (within or outside the UK)", not_read="land and property name no counterparty"),
    Category("Shareholdings", read="shareholding"),
    Category("Miscellaneous", not_read="miscellaneous interests are free text: not read"),
    Category("Family members employed", read="family"),
    Category("Family members engaged in third-party lobbying", read="family"),
)}

# who a donor is, by the register's `DonorStatus` (trade unions, associations, parties...: Organization)
_DONORS = {"individual": "Person", "company": "Company", "limited liability partnership": "Company",
           "trust": "LegalEntity"}
_COMPANIES = frozenset(status for status, schema in _DONORS.items() if schema == "Company")
_STAKE_OVER_15 = "(i)"  # "(i) Shareholdings: over 15% of issued share capital"
_STAKE_OVER_70K = "(ii)"  # "(ii) Other shareholdings, valued at more than £70,000"


# The exports of 2024-08 to 2024-10 name some columns otherwise: read as the later exports name them
_OLD_COLUMNS = {"Registration Date": "Registered", "Published Date": "Published", "Updated Date": "Updated_1",
                "Link_1": "Link"}
_OLD_NUMBERED = re.compile(r"^(Donors|VisitLocations)_(\d+)_(\w+)$")  # Donors_1_Name: Donors_Name_1


def column(name: str) -> str:
    """A column's name as the register's current exports write it (stray spaces and a byte-order mark dropped)."""
    name = name.strip().lstrip("\ufeff").strip()
    if (numbered := _OLD_NUMBERED.match(name)) is not None:
        return f"{numbered[1]}_{numbered[3]}_{numbered[2]}"
    return _OLD_COLUMNS.get(name, name)


def is_register(header: Iterable[str]) -> bool:
    """Whether a CSV header is one of the register's category files (of any of its layouts)."""
    return HEADER - {"Link"} <= {column(name) for name in header if name}


def normalised(row: dict) -> dict:
    """A row under the current exports' column names (cells that do not line up, under None, kept as they are)."""
    return {column(key) if isinstance(key, str) else key: value for key, value in row.items()}


def company_numbers(rows: Iterable[dict]) -> dict[str, str]:
    """The Companies House number the register gives for each company name (folded), where it gives one number:
    a row of the same company without it (another member's gift, a visit) names it by that number too."""
    found: dict[str, set[str]] = {}
    for row in rows:
        if _text(row.get("DonorStatus")).casefold() in _COMPANIES and \
                "companies house" in _text(row.get("DonorCompanyIdentifierSource")).lower():
            number = _company_number(row.get("DonorCompanyIdentifier"))
            for name in {clean_name(row.get("DonorCompanyName")), clean_name(row.get("DonorName"))} - {None}:
                if number is not None:
                    found.setdefault(folded_name(name), set()).add(number)
    return {name: numbers.pop() for name, numbers in found.items() if len(numbers) == 1}


def import_commons_interests(read: Callable[[], Iterable[dict]], defaults: ImportDefaults = ImportDefaults(
        extractor_name=EXTRACTOR_NAME, extractor_version=COMMONS_IMPORT_VERSION),
        report: ImportReport | None = None, employments: Mapping[str, dict] | None = None,
        where: str = "", numbers: Mapping[str, str] | None = None, caveat: bool = True) -> Iterator[RelationshipEvent]:
    """Stream the events of one category file's rows (dicts by column name, as `csv.DictReader` reads them), in
    interest id order, so that one file gives the same events in any row order. `employments` (the rows of the
    same export's category 1 by interest id) lets the payments of categories 1.1 and 1.2 name their payer; `where`
    (the file's name, when an export's files are read together) prefixes the rows' numbers in what is skipped;
    `numbers` (`company_numbers` of all the export's rows; by default this file's) names a company by the number
    the register gives for it elsewhere; `caveat`: say (once an export) that undated changes need --retrieved-at."""
    rows = []
    for number, row in enumerate(map(normalised, read()), start=2):  # row 1 is the header, as a spreadsheet has it
        if None not in row and not any(isinstance(value, str) and value.strip() for value in row.values()):
            continue
        rows.append((_interest_order(row), number, row))
    context = _Context(defaults, report, employments,
                       company_numbers(row for _, _, row in rows) if numbers is None else numbers)
    if defaults.retrieved_at is None and rows and caveat:
        _note(report, "each interest is observed when the register last published or updated it: a change "
                      "it does not date (a member knighted, a wording changed) is ordered against an earlier "
                      "export's by content alone; give --retrieved-at, the day the export was downloaded")
    for number, row in _one_per_interest(sorted(rows, key=lambda item: item[:2]), where, report):
        try:
            if None in row or None in row.values():
                raise ImportSkip(SkipReason.INVALID_ENTITY.value,
                                 "its cells do not line up with the header's columns (a comma or quote out of place)")
            category = CATEGORIES.get(clean_name(row.get("Category")) or "")
            if category is None:
                raise ImportSkip(SkipReason.NOT_CONVERTED_YET.value,
                                 f"category {(clean_name(row.get('Category')) or '')[:100]!r} is not one this "
                                 "importer knows")
            if category.not_read:
                raise ImportSkip(SkipReason.NOT_CONVERTED_YET.value, category.not_read)
            if category.read == "earning" and employments is None:
                raise ImportSkip(SkipReason.NOT_CONVERTED_YET.value,
                                 "a payment names its employment (category 1) only by its interest id: import the "
                                 "export's directory, all its category files at once, to read it")
            documents = list(_READERS[category.read](row, _Interest.of(row, context), context))
        except ImportSkip as problem:
            _record(report, Skipped(_text(row.get("ID"))[:40] or None, "Commons interest", problem.reason,
                                    f"{where}row {number}: {problem.message}"))
            continue
        for document in documents:
            try:
                event = converted_event(document, "commons", report)
            except ImportSkip as problem:
                _record(report, Skipped(document["relation_id"], "Commons interest", problem.reason,
                                        f"{where}row {number}: {problem.message}"))
                continue
            yield event
            for retraction in withdrawn_mappings(event):
                if report is not None:
                    report.retracted += 1
                yield retraction


@dataclass(frozen=True)
class _Context:
    """What reading one row needs beyond the row: the flags' provenance, the report, the export's employments (for
    1.1 and 1.2) and the company numbers the register gives by name."""

    defaults: ImportDefaults
    report: ImportReport | None
    employments: Mapping[str, dict] | None
    numbers: Mapping[str, str]


@dataclass(frozen=True)
class _Interest:
    """What every row states: the interest's id, its member, when it was stated and where."""

    interest_id: str
    member: dict
    observed: dt.datetime
    source_url: str
    context: _Context

    @classmethod
    def of(cls, row: dict, context: _Context) -> _Interest:
        defaults, report = context.defaults, context.report
        interest_id = _text(row.get("ID"))
        if not interest_id.isdigit():
            raise ImportSkip(SkipReason.INVALID_ENTITY.value, f"no interest id ({interest_id[:40]!r})")
        member_id, name = _text(row.get("MNIS ID")), clean_name(row.get("Member"))
        if not member_id.isdigit() or not int(member_id) or name is None:
            raise ImportSkip(SkipReason.MISSING_ENDPOINT.value, "no member (MNIS ID and name)")
        member_id = str(int(member_id))  # "04439" is member 4439
        stated = _stated(row, report)
        if defaults.retrieved_at is not None:  # the export's day orders it after an earlier export's restatements
            observed = defaults.retrieved_at
            if stated and max(stated) > observed.date():
                _note(report, f"interest {interest_id}: updated {max(stated).isoformat()}, after --retrieved-at "
                              f"{observed.date().isoformat()}: is that the day the export was downloaded?")
        elif stated:
            observed = dt.datetime.combine(max(stated), dt.time(), tzinfo=dt.UTC)
        else:
            raise ImportSkip(SkipReason.MISSING_PROVENANCE.value,
                             "the interest gives no date of publication or update: give --retrieved-at")
        link = _text(row.get("Link"))
        member = {"id": f"commons-member-{member_id}", "schema": "Person", "name": name[:500], "country": "gb",
                  "topics": ["role.pep"], "identifiers": [{"scheme": "ukparliament", "value": member_id}]}
        return cls(interest_id, member, observed,
                   link if link.startswith("https://") else f"{REGISTER_URL}/{interest_id}", context)

    def date(self, row: dict, column: str) -> dt.date | None:
        return _date(row.get(column), f"interest {self.interest_id}: {column}", self.context.report)

    def document(self, relation_type: RelationType, source: dict, target: dict, properties: dict,
                 start: dt.date | None, end: dt.date | None, relation_id: str | None = None) -> dict:
        defaults = self.context.defaults
        if start is not None and end is not None and end < start:
            _note(self.context.report, f"interest {self.interest_id}: it ends ({end.isoformat()}) before it begins "
                                       f"({start.isoformat()}); read as ending when it began")
            end = start
        return {
            "schema_version": SCHEMA_VERSION, "op": "upsert",
            "relation_id": relation_id or f"commons:{self.interest_id}:{relation_type.value}",
            "relation_type": relation_type.value, "source": source, "target": target,
            "properties": {key: value for key, value in properties.items() if value not in (None, "")},
            **({"start_date": start.isoformat()} if start else {}),
            **({"end_date": end.isoformat()} if end else {}),
            "status": defaults.status.value, "observed_at": self.observed,
            "provenance": {"source_url": defaults.source_url or self.source_url,
                           "publisher": defaults.publisher or PUBLISHER,
                           "retrieved_at": self.observed,
                           "extractor": {"name": defaults.extractor_name, "version": defaults.extractor_version},
                           "confidence": defaults.confidence},
        }

    def party(self, name: str, schema: str, number: str | None = None) -> dict:
        """A counterparty: by its Companies House number where the register gives one (in this row, or for this
        company's name in another); else a firm or body by its folded name (the same firm pays one member and gives
        to another), a person by his name among one member's counterparties (two members' donors of one common name
        are not taken for one person: names never merge)."""
        if number is None and schema != "Person":
            number = self.context.numbers.get(folded_name(name))
        if number is not None:
            return {"id": f"commons-company-gb-{number.lower()}", "schema": "Company" if schema != "LegalEntity"
                    else schema, "name": name[:500],
                    "identifiers": [{"scheme": "register", "value": number, "jurisdiction": "gb"}]}
        if schema == "Person":
            member = self.member["id"].removeprefix("commons-member-")
            return {"id": f"commons-person-{member}-{_digest(folded_name(name))}", "schema": schema,
                    "name": name[:500]}
        return {"id": f"commons-party-{_digest(folded_name(name))}", "schema": schema, "name": name[:500]}


def _stated(row: dict, report: ImportReport | None) -> list[dt.date]:
    """The days the register published or updated an interest (else registered it)."""
    interest_id = _text(row.get("ID"))
    stated = [day for column, value in sorted(row.items(), key=lambda item: str(item[0]))
              if isinstance(column, str) and (column == "Published" or column.startswith("Updated_"))
              and (day := _date(value, f"interest {interest_id}: {column}", report)) is not None]
    if not stated and (registered := _date(row.get("Registered"), f"interest {interest_id}: Registered",
                                           report)) is not None:
        stated = [registered]
    return stated


def _one_per_interest(rows: list[tuple], where: str, report: ImportReport | None) -> Iterator[tuple[int, dict]]:
    """(row number, row) once per interest id: of rows that repeat one (an export stating an interest twice), the one
    published or updated last, then the one whose content sorts last (so that the row order decides nothing),
    noted."""
    for interest, group in itertools.groupby(rows, key=lambda item: item[0]):
        versions = [(number, row) for _, number, row in group]
        if len(versions) > 1 and interest[0] == 0:
            kept = max(versions, key=lambda version: (max(_stated(version[1], None), default=dt.date.min),
                                                      sorted((str(key), str(value))
                                                             for key, value in version[1].items())))
            _note(report, f"{where}interest {interest[1]} is listed {len(versions)} times (rows "
                          f"{', '.join(str(number) for number, _ in versions)}): row {kept[0]}, published or "
                          "updated last, read")
            versions = [kept]
        yield from versions


def _employment(row: dict, interest: _Interest, context: _Context) -> Iterator[dict]:
    """The member works for the payer (`employment`, a commercial tie from the job's start to its end: a job that
    lasts is a tie that lasts, where a payment would age from its day; a director paid as one: `directorship`)."""
    name = clean_name(row.get("PayerName"))
    if name is None:
        raise ImportSkip(SkipReason.MISSING_ENDPOINT.value, "the employment names no payer")
    person = _true(row.get("PayerIsPrivateIndividual"))
    nature = clean_name(row.get("PayerNatureOfBusiness"))
    payer = interest.party(name, "Person" if person else "Organization")
    job = clean_name(row.get("JobTitle"))
    start, end = interest.date(row, "StartDate"), interest.date(row, "EndDate")
    summary = _clip(f"{name}: {nature}" if nature else "", _SUMMARY_LIMIT)
    if _true(row.get("IsPaidAsDirectorOfPayer")) and not person:
        yield interest.document(RelationType.DIRECTORSHIP, interest.member, payer,
                                {"role": _clip(job or "director", 200), "summary": summary}, start, end)
        return
    yield interest.document(RelationType.EMPLOYMENT, interest.member, payer,
                            {"role": _clip(job or "", 200), "summary": summary}, start, end)


def withdrawn_mappings(event: RelationshipEvent) -> Iterator[RelationshipEvent]:
    """What an earlier version of this importer stated beside `event` and this one does not, retracted a
    microsecond after it: commons-interests-import 1.0 stated a `partners_with` beside each of a member's jobs
    (category 1: `commons:<interest>:partners_with`, the same two parties), which, now that a job is a tie of its
    own, counted each job twice (0.518 became 0.705). Every import retracts it, so that importing the register again
    mends a stream an earlier version fed; a stream that never held it keeps only the retracted id."""
    if event.relation_type is not RelationType.EMPLOYMENT or event.op is not Op.UPSERT \
            or not event.source.id.startswith("commons-member-"):  # a relative's job (9, 10) had none
        return
    interest = event.relation_id.removeprefix("commons:").removesuffix(":employment")
    if event.relation_id != f"commons:{interest}:employment":
        return
    document = event.model_dump(mode="json", by_alias=True, exclude_none=True)
    del document["event_id"]
    document.update(op=Op.RETRACT.value, relation_id=f"commons:{interest}:partners_with",
                    relation_type=RelationType.PARTNERS_WITH.value, properties={},
                    observed_at=(event.observed_at + _AFTER).isoformat())
    yield converted_event(document, "commons", None)


def _earning(row: dict, interest: _Interest, context: _Context) -> Iterator[dict]:
    """A sum paid under an employment (1.1 ad hoc, 1.2 ongoing): from its payer (the employment's, or the ultimate
    payer the member names), with the employment's job."""
    parent_id = _text(row.get("Parent Interest ID"))
    employment = (context.employments or {}).get(parent_id)
    if employment is None:
        raise ImportSkip(SkipReason.MISSING_ENDPOINT.value,
                         f"its employment (interest {parent_id[:40] or 'none'}) is not in the export")
    ultimate = clean_name(row.get("UltimatePayerName")) if _true(row.get("IsUltimatePayerDifferent")) else None
    if ultimate is not None:
        payer = interest.party(ultimate, "Organization")
    else:
        name = clean_name(employment.get("PayerName"))
        if name is None:
            raise ImportSkip(SkipReason.MISSING_ENDPOINT.value, f"its employment (interest {parent_id}) names no payer")
        payer = interest.party(name, "Person" if _true(employment.get("PayerIsPrivateIndividual")) else "Organization")
    value = _money(row.get("Value"), f"interest {interest.interest_id}: Value", context.report)
    job = clean_name(employment.get("JobTitle"))
    donated = clean_name(row.get("DonateeDetails")) if _true(row.get("IsPaymentDonated")) else None
    purpose = "; ".join(part for part in (f"earnings as {job}" if job else "earnings",
                                          donated and f"donated to {donated}") if part)
    regularity, hours, period = (clean_name(row.get(column)) for column in
                                 ("RegularityOfPayment", "HoursWorked", "PeriodForHoursWorked"))
    summary = "; ".join(part for part in (
        regularity and f"paid {regularity.lower()}",
        hours and f"{hours} hours" + (f" {period.lower()}" if period else ""),
        clean_name(row.get("PaymentDescription")), clean_name(row.get("Summary"))) if part)
    start = interest.date(row, "ReceivedDate") or interest.date(row, "StartDate")
    yield interest.document(RelationType.PAYMENT, payer, interest.member,
                            {"amount": value, "currency": "GBP" if value is not None else None,
                             "purpose": _clip(purpose, 200), "summary": _clip(summary, _SUMMARY_LIMIT)},
                            start, interest.date(row, "EndDate"))


def _donation(row: dict, interest: _Interest, context: _Context) -> Iterator[dict]:
    status = (clean_name(row.get("DonorStatus")) or "").casefold()
    schema = _DONORS.get(status, "Organization")
    name = clean_name(row.get("DonorCompanyName")) if schema == "Company" else None
    name = name or clean_name(row.get("DonorName"))
    if name is None:
        raise ImportSkip(SkipReason.MISSING_ENDPOINT.value, "the donation names no donor")
    number = None
    if schema == "Company" and "companies house" in (clean_name(row.get("DonorCompanyIdentifierSource")) or "").lower():
        number = _company_number(row.get("DonorCompanyIdentifier"))
        if number is None and _text(row.get("DonorCompanyIdentifier")):
            _note(context.report, f"interest {interest.interest_id}: {name[:200]}: Companies House number "
                                  f"{_text(row.get('DonorCompanyIdentifier'))[:40]!r} is none; the donor is named by "
                                  "its name")
    donor = interest.party(name, schema, number)
    value = _money(row.get("Value"), f"interest {interest.interest_id}: Value", context.report)
    kind_of_payment = clean_name(row.get("PaymentType"))
    description = clean_name(row.get("PaymentDescription"))
    shared = _text(row.get("IsSoleBeneficiary")).lower() == "false" and "not to the member alone"
    purpose = "; ".join(part for part in (kind_of_payment and kind_of_payment.lower(), shared, description) if part)
    category = clean_name(row.get("Category")) or ""
    received = interest.date(row, "ReceivedDate") or interest.date(row, "AcceptedDate")
    summary = _clip("; ".join(part for part in (category, clean_name(row.get("DonationSource")),
                                                 clean_name(row.get("Summary"))) if part), _SUMMARY_LIMIT)
    yield interest.document(RelationType.PAYMENT, donor, interest.member,
                            {"amount": value, "currency": "GBP" if value is not None else None,
                             "purpose": _clip(purpose, 200), "summary": summary},
                            received, interest.date(row, "ReceivedEndDate"))


def _shareholding(row: dict, interest: _Interest, context: _Context) -> Iterator[dict]:
    """The member's stake: "over 15%" is a stake of unknown size that may be control (the engine's unknown stake,
    flagged as assumed), "valued at more than £70,000" one of at most 15% (else it would be registered as the
    other)."""
    name = clean_name(row.get("OrganisationName"))
    if name is None:
        raise ImportSkip(SkipReason.MISSING_ENDPOINT.value, "the shareholding names no company")
    threshold = clean_name(row.get("ShareholdingThreshold")) or ""
    stake: dict = {}
    if threshold.startswith(_STAKE_OVER_70K):
        stake = {"percentage_max": 15.0}
    elif not threshold.startswith(_STAKE_OVER_15):
        _note(context.report, f"interest {interest.interest_id}: shareholding threshold {threshold[:80]!r} is neither "
                              "of the register's two: the stake is unknown")
    company = interest.party(name, "Company")
    behalf = clean_name(row.get("HeldOnBehalfOf"))
    managed = clean_name(row.get("ManagedBy"))
    role = "; ".join(part for part in (threshold, behalf and f"held: {behalf}", managed and f"managed by: {managed}")
                     if part)
    description = clean_name(row.get("OrganisationDescription"))
    yield interest.document(RelationType.OWNERSHIP, interest.member, company,
                            {**stake, "role": _clip(role, 200), "summary": _clip(description or "", _SUMMARY_LIMIT)},
                            interest.date(row, "RegistrableDate"), interest.date(row, "EndDate"))


def _visit(row: dict, interest: _Interest, context: _Context) -> Iterator[dict]:
    """A visit outside the UK: each of its donors (numbered columns, `Donors_Name_1`...) paid the member, one
    relation per donor, numbered as the register numbers them."""
    places = [place for number in range(1, _MAX_NUMBERED + 1)
              if (place := clean_name(row.get(f"VisitLocations_Country_{number}")))]
    purpose = clean_name(row.get("Purpose"))
    start, end = interest.date(row, "StartDate"), interest.date(row, "EndDate")
    donors = [number for number in range(1, _MAX_NUMBERED + 1) if clean_name(row.get(f"Donors_Name_{number}"))]
    if not donors:
        raise ImportSkip(SkipReason.MISSING_ENDPOINT.value, "the visit names no donor")
    visit = f"visit to {', '.join(places)}" if places else "visit outside the UK"
    for number in donors:
        name = clean_name(row.get(f"Donors_Name_{number}")) or ""
        donor = interest.party(name, "Person" if _true(row.get(f"Donors_IsPrivateIndividual_{number}"))
                               else "Organization")
        value = _money(row.get(f"Donors_Value_{number}"), f"interest {interest.interest_id}: Donors_Value_{number}",
                       context.report)
        paid = clean_name(row.get(f"Donors_PaymentType_{number}"))
        description = clean_name(row.get(f"Donors_PaymentDescription_{number}"))
        yield interest.document(
            RelationType.PAYMENT, donor, interest.member,
            {"amount": value, "currency": "GBP" if value is not None else None,
             "purpose": _clip("; ".join(part for part in (paid and paid.lower(), visit) if part), 200),
             "summary": _clip("; ".join(part for part in (purpose, description) if part), _SUMMARY_LIMIT)},
            start, end, relation_id=f"commons:{interest.interest_id}:payment:{number}")


def _family(row: dict, interest: _Interest, context: _Context) -> Iterator[dict]:
    """A relative of the member (a close relative: FtM's `role.rca`) and his job: employed by the member from
    parliamentary funds (category 9), or by a firm that lobbies (category 10)."""
    name = clean_name(row.get("PersonName"))
    if name is None:
        raise ImportSkip(SkipReason.MISSING_ENDPOINT.value, "the family member has no name")
    kin = (clean_name(row.get("FamilyRelationType")) or "relative").lower()
    level = (clean_name(row.get("FamilyMemberRelationshipLevel")) or "").lower()
    # "Related to spouse": the spouse's brother, say (a "Spouse" related to the spouse is the member's own)
    if ("spouse" in level or "partner" in level) and kin not in _PARTNERS:
        kin = f"{'partner' if 'partner' in level else 'spouse'}'s {kin}"
    member = interest.member["id"].removeprefix("commons-member-")
    relative = {"id": f"commons-relative-{member}-{_digest(folded_name(name))}", "schema": "Person",
                "name": name[:500], "topics": ["role.rca"]}
    end = interest.date(row, "EndDate")
    job = clean_name(row.get("JobTitle"))
    employer = clean_name(row.get("Employer"))
    lobbying = "lobbying" in (clean_name(row.get("Category")) or "").lower()
    what = "; ".join(part for part in (
        "engaged in third-party lobbying" if lobbying else "employed by the member", job,
        employer if lobbying else clean_name(row.get("WorkingPattern"))) if part)
    yield interest.document(RelationType.FAMILY, interest.member, relative,
                            {"relationship": _clip(kin, 200), "summary": _clip(what, _SUMMARY_LIMIT)}, None, None)
    if not lobbying:  # 9: employed by the member, paid from parliamentary funds
        yield interest.document(RelationType.EMPLOYMENT, relative, interest.member,
                                {"role": _clip(job or "", 200), "summary": _clip(what, _SUMMARY_LIMIT)}, None, end)
    elif employer is not None and not _no_firm(employer):  # 10: the relative works for a firm that lobbies
        yield interest.document(RelationType.EMPLOYMENT, relative, interest.party(employer, "Organization"),
                                {"role": _clip(job or "", 200), "summary": "engaged in third-party lobbying"},
                                None, end)


def _no_firm(employer: str) -> bool:
    """An employer that names no firm ("Self Employed", "-", "Various"): one node of it would join every member
    whose relative works alone."""
    folded = folded_name(employer)
    return not folded or folded in _NO_EMPLOYER or folded.startswith(("self employed", "freelance", "sole trader"))


_PARTNERS = frozenset({"spouse", "partner", "wife", "husband", "civil partner"})
_NO_EMPLOYER = frozenset({"self", "none", "n a", "na", "not applicable", "unemployed", "various", "retired"})
_READERS = {"employment": _employment, "earning": _earning, "donation": _donation, "shareholding": _shareholding,
            "visit": _visit, "family": _family}
_MAX_NUMBERED = 20  # the register numbers a visit's donors and places from 1; its exports have up to five


def _interest_order(row: dict) -> tuple:
    interest_id = _text(row.get("ID"))
    return (0, int(interest_id), "") if interest_id.isdigit() else (1, 0, interest_id)


def _company_number(value: object) -> str | None:
    """A Companies House number (eight characters: digits, or two letters and six digits), also where the cell
    says more ("Ltd company, registration 12956185"); leading zeros a spreadsheet dropped restored."""
    text = _text(value).upper()
    if _COMPANY_NUMBER.match(compact := "".join(text.split())):
        return compact.zfill(8) if compact.isdigit() else compact
    found = set(_NUMBER_IN_TEXT.findall(text))
    # "Company Registration No. 03395681 Registered Charity No. 1068839": the one written as Companies House does
    whole = {token for token in found if len(token) == 8}
    found = whole or {token.zfill(8) for token in found}
    return found.pop() if len(found) == 1 else None


def _money(value: object, what: str, report: ImportReport | None) -> float | None:
    text = _text(value)
    if not text:
        return None
    matched = _MONEY.match(text)
    if matched is None:
        _note(report, f"{what}: {text[:40]!r} is not a sum; left out")
        return None
    return float(matched[1].replace(",", ""))


def _date(value: object, what: str, report: ImportReport | None) -> dt.date | None:
    text = _text(value)
    if not text:
        return None
    day = register_day(text, iso=True)  # (dd/mm/yyyy: the exports of 2024-08 to 2024-10)
    if day is None:
        _note(report, f"{what}: {text[:40]!r} is not a date (yyyy-mm-dd or dd/mm/yyyy); left out")
    return day


def _true(value: object) -> bool:
    return _text(value).lower() == _TRUE


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _note(report: ImportReport | None, text: str) -> None:
    if report is not None:
        report.notes.append(text)
