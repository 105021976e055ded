"""The EU's register of crypto-asset firms under MiCA (Regulation (EU) 2023/1114), as ESMA publishes it: one CSV file
per register (`https://www.esma.europa.eu/sites/default/files/2024-12/CASPS.csv`, `EMTWP.csv`, `ARTZZ.csv`), out as
relationship events. docs/events.md ("MiCA register (ESMA)") has the mapping table and what is lost.

Each row says which national competent authority (BaFin, the AMF, the Central Bank of Ireland...) authorised a firm:
to provide crypto-asset services (CASPS), or to issue an e-money token (EMTWP) or an asset-referenced token (ARTZZ).
That authority licenses and supervises the firm: `regulates`, from the authority (a PublicBody, `gov.financial`) to
the firm (a Company with its LEI), from the authorisation's date to its end (a withdrawal), the services or tokens
as summary. An official who steers the authority and whose family holds the firm is what `COI-AUTH-OWNERSHIP`
finds; the firm's LEI joins it to the same firm in GLEIF, BODS or OpenSanctions data.

- One authority, firm and register is one relation, whatever the number of rows (ESMA writes a row per block of
  services, and one per white paper of a token): its services, countries and tokens together, the earliest
  authorisation, an end only when every row has one.
- Every relation of a file is observed when the register was: `--retrieved-at`, else the latest `ac_lastupdate` /
  `wp_lastupdate` of the file, so a later snapshot replaces an earlier one's rows, also those ESMA changed without
  dating the change.
- A row whose cells do not line up with the header (a comma or quote out of place) is skipped, never read shifted.
- A firm is `mica-lei-<LEI>` where the row gives a valid LEI (ISO 17442: twenty characters and its check digits),
  else `mica-<home member state>-<digest of its folded name>` (noted).
- An authority is `mica-authority-<member state>-<its acronym, else its name>`: ESMA writes one authority in
  several ways ("Malta Financial Services Authority (MFSA)" and "... Authority", "De Nederlansche Bank (DNB)"),
  and two authorities of one acronym in two states (Austria's and Liechtenstein's FMA) are two.
- The register of non-compliant entities (NCASP, MiCA article 110) lists firms providing crypto-asset services
  without authorisation and the authority that acted against them (a public warning, blocked websites):
  `prosecutes`, from the authority's decision, the firm a LegalEntity named apart from the licensed firms
  (`mica-ncasp-<digest of its folded name>` without an LEI), since such registers list clones of licensed firms'
  names.
- Each token an EMT or ART issuer states is a Security the firm `issues` (mica-import 1.3): rows of one issuer
  sharing a DTI (ISO 24165) are one token, named by its group's DTI (`ae_DTI_FFG`), else its lowest; every DTI is
  a strong `dti` identifier, which joins it to the same token stated elsewhere (an exchange's listing).
- The white papers of other crypto-assets (OTHER), notified to the authority of the offeror's home state, which
  supervises the offer (MiCA art. 94): `regulates` over the offeror, or over the trading platform applying for the
  asset's admission to trading where the row names no offeror; no start (ESMA dates no notification).

- Given the rows of an earlier snapshot of the register (`--previous`), what it stated and this one no longer does
  is retracted as of this one: ESMA keeps a withdrawn authorisation's row with its end date, so a row gone was a
  correction (a firm listed twice, an LEI a spreadsheet rounded).

The files are small (hundreds of rows): `import_mica` reads all rows, then writes the relations in id order, so
one file gives the same events in any row order.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace

from schemas.events import SCHEMA_VERSION, RelationshipEvent
from schemas.ftm import (ImportDefaults, ImportReport, ImportSkip, Skipped, SkipReason, _clip, _record,
                         converted_event)
from schemas.values import clean_name, folded_name, register_day
from schemas.vocabulary import IDENTIFIER_SCHEMES, RelationType

MICA_IMPORT_VERSION = "1.3"  # bump when the mapping changes what an import yields
EXTRACTOR_NAME = "mica-import"
PUBLISHER = "ESMA (European Securities and Markets Authority), interim MiCA register"
_FILES = "https://www.esma.europa.eu/sites/default/files/2024-12/"


@dataclass(frozen=True)
class Register:
    """One of ESMA's MiCA registers: what tells its header apart, where ESMA publishes it, what a row of it says
    (the relation, its role, the column that dates it) and what its summary lists: (label, column, how the cell
    lists its values: `cell` one value, `list` joined by "|", " I " or line breaks, `tokens` by "|", ";", line breaks
    or tabs, `countries` a list of states)."""

    name: str
    marks: frozenset[str]  # columns only this register's header has
    url: str
    role: str
    summary: tuple[tuple[str, str, str], ...]
    relation_type: RelationType = RelationType.REGULATES
    started: str = "ac_authorisationNotificationDate"  # empty: the register dates no start
    # the firm is one an authority acted against, not one it licensed: named apart from licensed firms (a clone of a
    # licensed firm's name is what such registers list), its country only from a valid LEI
    unlicensed: bool = False
    # the register's own dates cannot date it (ESMA writes some month first): only --retrieved-at does
    dated_by_download: bool = False
    # (name, LEI) columns of the firm where the row names no offeror: the trading platform that applies for the
    # crypto-asset's admission to trading
    applicant: tuple[str, str] | None = None
    # what the firm issues, where the register names the issuer of its tokens: each token (its DTIs) is then an
    # entity the firm `issues`. None: no issuer named (an offeror of another crypto-asset need not be its issuer)
    issued: str | None = None
    # columns of this register, beyond `_NEEDED`, without which its rows would read otherwise with no word said
    # (every file ESMA published in 2025-2026 has them: `missing_columns`)
    needs: tuple[str, ...] = ()


_TOKENS = (("tokens (DTI)", "ae_DTI", "tokens"), ("white papers", "wp_url", "list"))
REGISTERS = (
    Register("casp", frozenset({"ac_serviceCode", "ac_serviceCode_cou"}), _FILES + "CASPS.csv",
             "crypto-asset service provider (MiCA authorisation)",
             (("services", "ac_serviceCode", "list"), ("offered in", "ac_serviceCode_cou", "countries")),
             needs=("ac_authorisationEndDate",)),
    Register("emt", frozenset({"ae_DTI", "ae_authorisation_other_emt"}), _FILES + "EMTWP.csv",
             "e-money token issuer (MiCA)", (("authorised as", "ae_authorisation_other_emt", "cell"), *_TOKENS),
             issued="e-money token", needs=("ac_authorisationEndDate",)),
    Register("art", frozenset({"ae_credit_institution", "wp_url_cou"}), _FILES + "ARTZZ.csv",
             "asset-referenced token issuer (MiCA authorisation)",
             (("authorised as", "ae_credit_institution", "cell"), *_TOKENS), issued="asset-referenced token",
             needs=("ac_authorisationEndDate",)),
    # MiCA article 110: entities providing crypto-asset services without authorisation, as the competent authority
    # that acted against them (a public warning, blocked websites) reported them
    Register("ncasp", frozenset({"ae_infrigment"}), _FILES + "NCASP.csv",
             "enforcement: provides crypto-asset services without MiCA authorisation (MiCA art. 110 register)",
             (("decision", "ae_reason", "cell"), ("websites", "ae_website", "tokens"),
              ("comments", "ae_comments", "cell")),
             relation_type=RelationType.PROSECUTES, started="ae_decision_date", unlicensed=True),
    # MiCA title II: the white paper of a crypto-asset other than a token above, notified to the authority of the
    # offeror's (or the applicant for admission to trading's) home state, which supervises the offer and may suspend
    # or prohibit it (art. 94). ESMA gives no date of notification (and writes some updates month first): no start
    Register("other", frozenset({"ae_lei_casp"}), _FILES + "OTHER.csv",
             "offeror or applicant for admission to trading of a crypto-asset (white paper notified, MiCA title II)",
             (*_TOKENS, ("offered in", "ae_offerCode_cou", "countries"),
              ("trading platform", "ae_lei_name_casp", "cell"), ("comments", "wp_comments", "cell")),
             started="", applicant=("ae_lei_name_casp", "ae_lei_casp"), dated_by_download=True),
)

# A bare authority name ESMA also writes with an acronym: (member state, folded name) -> the acronym, so both are
# one PublicBody. From ESMA's files of 2025-2026 (tests/fixtures/mica).
_ACRONYM_OF = {("mt", "malta financial services authority"): "mfsa", ("lt", "bank of lithuania"): "lsc",
               ("lu", "commission de surveillance du secteur financier"): "cssf"}
# ESMA writes Greece EL (the EU's code) and, in some rows, Slovenia SL (Sierra Leone is no EEA state); entities carry
# ISO 3166-1 codes
_ISO_COUNTRY = {"el": "gr", "sl": "si"}
_LEI = re.compile(r"^[0-9A-Z]{18}[0-9]{2}$")
_DTI = re.compile(IDENTIFIER_SCHEMES["dti"].pattern)
_NO_VALUE = frozenset({"", "n/a", "na", "none", "-", "emt_no_wp"})  # (EMT_NO_WP: ESMA's "no white paper")
_NO_NAME = frozenset({"", "n a", "na", "none", "not available", "not applicable", "unknown"})  # (folded)
_ACRONYM = re.compile(r"^(?P<name>.*?)\s*\((?P<acronym>[^()]+)\)\s*$")
# ESMA joins services and countries by "|" (in some rows by " I ", or by line breaks, as a spreadsheet cell shows them)
_SERVICE_SEPARATOR = re.compile(r"\s*\|\s*|\s+I\s+|\s*\n\s*")
# token identifiers (DTIs), one each with its chain where ESMA gives it ("TD3BGWM5Z (Ethereum)"): separated by "|",
# line breaks or tabs
_LIST_SEPARATOR = re.compile(r"\s*[|;\n\t]\s*")
_SUMMARY_LIMIT = 5000
# ESMA updates its registers weekly: the latest two updates of its snapshots of 2025-2026 are 1-20 days apart. A
# register of a few rows (ARTZZ's first issuers) may rightly go months without an update: no typo is told there.
_LONE_UPDATE_DAYS = 31
_DENSE_REGISTER = 20
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_UPDATE_COLUMNS = ("ac_lastupdate", "wp_lastupdate", "ae_lastupdate")
_DATE_COLUMNS = (*_UPDATE_COLUMNS, "ac_authorisationNotificationDate", "ac_authorisationEndDate",
                 "wp_authorisationNotificationDate", "ae_decision_date")


def column_name(raw: str) -> str:
    """A header's column name as the registers are told apart and read by it: without stray spaces, or a byte-order
    mark left after decoding (a file saved twice with one)."""
    return raw.strip().lstrip("\ufeff").strip()


# The columns every register's rows are read by: without them the import would name the firms (by name, not LEI),
# place the authorities or date the licences otherwise than the register does, and no row would say why.
_NEEDED = ("ae_competentAuthority", "ae_homeMemberState", "ae_lei_name", "ae_lei", "ae_lei_cou_code")


def missing_columns(header: Iterable[str], register: Register) -> list[str]:
    """The columns `register` is read by that the header lacks (a column deleted in a spreadsheet, a file cut to
    some columns), in the register's order: such a file is refused, not read otherwise."""
    columns = {column_name(column) for column in header if column}
    needed = (*_NEEDED, *((register.started,) if register.started else ()), *register.needs,
              *(register.applicant or ()))
    return [column for column in dict.fromkeys(needed) if column not in columns]


def register_of(header: Iterable[str]) -> Register | None:
    """The register a CSV header is of, or None when it is no MiCA register's."""
    columns = {column_name(column) for column in header if column}
    if "ae_competentAuthority" not in columns:
        return None
    return next((register for register in REGISTERS if register.marks <= columns), None)


@dataclass(frozen=True)
class _Party:
    entity_id: str
    name: str
    schema: str
    country: str | None = None
    aliases: tuple[str, ...] = ()
    lei: str | None = None
    topics: tuple[str, ...] = ()

    def ref(self) -> dict:
        ref: dict = {"id": self.entity_id, "schema": self.schema, "name": self.name}
        for key, value in (("country", self.country), ("aliases", list(self.aliases)),
                           ("topics", list(self.topics))):
            if value:
                ref[key] = value
        if self.lei:
            ref["identifiers"] = [{"scheme": "lei", "value": self.lei}]
        return ref


class PreviousRegisterError(ValueError):
    """The earlier snapshot given to retract what a register no longer states cannot be used for that."""


@dataclass
class _Read:
    """One file of a register, read: its rows grouped by relation, when it was observed, how many rows it skipped."""

    groups: dict[str, list[tuple[int, dict]]]
    observed: dt.datetime | None
    undated: str  # why `observed` is None
    skipped: int
    shared: dict[str, str]  # `_shared_leis`
    tokens: dict[str, list[tuple[int, dict]]]  # `_issued`: the relation id of each firm's token -> its rows


def import_mica(read: Callable[[], Iterable[dict]], register: Register, defaults: ImportDefaults = ImportDefaults(
        extractor_name=EXTRACTOR_NAME, extractor_version=MICA_IMPORT_VERSION),
                report: ImportReport | None = None,
                previous: Callable[[], Iterable[dict]] | None = None) -> Iterator[RelationshipEvent]:
    """Stream the events of one register's rows (dicts by column name, as `csv.DictReader` reads them: a row with
    more cells than the header has them under None, one with fewer has None for the missing), in relation id
    order. With `previous` (the rows of an earlier snapshot of the same register), then the retractions of what
    that snapshot stated and this one no longer does (`PreviousRegisterError`, before any event, when it is not
    earlier)."""
    current = _read(read(), register, defaults, report)
    earlier = None
    if previous is not None:
        earlier = _read(previous(), register, replace(defaults, retrieved_at=None), ImportReport())
        if earlier.observed is None or current.observed is None or earlier.observed >= current.observed:
            raise PreviousRegisterError(
                f"the previous register ({_day(earlier.observed)}) is not older than this one "
                f"({_day(current.observed)}): give the earlier snapshot, and --retrieved-at for the day this one was "
                "downloaded")
    for relation_id in sorted(current.groups.keys() | current.tokens.keys()):
        try:
            if current.observed is None:
                raise ImportSkip(SkipReason.MISSING_PROVENANCE.value, current.undated)
            document = _any_document(relation_id, register, current, current.observed, defaults, report)
            yield converted_event(document, "mica", report)
        except ImportSkip as problem:
            _record(report, Skipped(relation_id, f"MiCA {register.name}", problem.reason, problem.message))
    if earlier is not None:
        yield from _withdrawn(register, earlier, current, defaults, report)


def _shared_leis(rows: list[dict], register: Register) -> dict[str, str]:
    """The LEIs a file of white papers gives to firms of several names (ESMA's OTHER file gives a trading
    platform's to offerors it admits), each with the name it names most often, or "" where two names tie: an LEI is
    one firm's. (In a register of licences two names of one LEI are one firm renamed: APLO SAS, FLOWDESK EUROPE SAS.)"""
    if register.applicant is None:
        return {}
    names: dict[str, Counter] = {}
    for row in rows:
        if not isinstance(row, dict) or None in row:
            continue
        name, lei_column = _named(row.get("ae_lei_name")) or _named(row.get("ae_commercial_name")), "ae_lei"
        if name is None and register.applicant is not None:
            name, lei_column = _named(row.get(register.applicant[0])), register.applicant[1]
        if name is not None and (lei := _lei(_text(row.get(lei_column)))) is not None:
            names.setdefault(lei, Counter())[folded_name(name)] += 1
    shared = {}
    for lei, counted in names.items():
        if len(counted) > 1:
            (first, most), (_, next_most) = sorted(counted.items(), key=lambda item: (-item[1], item[0]))[:2]
            shared[lei] = first if most > next_most else ""
    return shared


def _read(rows: Iterable[dict], register: Register, defaults: ImportDefaults, report: ImportReport | None) -> _Read:
    groups: dict[str, list[tuple[int, dict]]] = {}
    issuing: list[tuple[str, int, dict, list[str]]] = []  # (firm id, row number, row, its DTIs) of `issued` rows
    dates: list[dt.date] = []  # every date of every row read: the register's own date is the latest update
    updates: list[tuple[dt.date, int, str]] = []
    skipped = 0
    rows = list(rows)  # (a register is hundreds of rows)
    shared = _shared_leis(rows, register)
    for number, row in enumerate(rows, start=2):  # row 1 is the header, as a spreadsheet numbers them
        if None not in row and not any(isinstance(value, str) and value.strip() for value in row.values()):
            continue  # a blank row (a spreadsheet's trailing commas), counted so that the rows after keep their number
        try:
            if None in row or None in row.values():
                raise ImportSkip(SkipReason.INVALID_ENTITY.value,
                                 "its cells do not line up with the header's columns (a comma or quote out of place)")
            authority, firm, notes = _parties(row, register, shared)
        except ImportSkip as problem:
            skipped += 1
            _record(report, Skipped((clean_name(row.get("ae_lei_name")) or "")[:200] or None,
                                    f"MiCA {register.name}", problem.reason, f"row {number}: {problem.message}"))
            continue
        for note in notes:
            _note(report, f"row {number}: {note}")
        groups.setdefault(f"mica:{register.name}:{authority.entity_id}:{firm.entity_id}", []).append((number, row))
        if register.issued is not None and (dtis := _dtis(row, f"row {number}", report)):
            issuing.append((firm.entity_id, number, row, dtis))
        for column in _DATE_COLUMNS:
            if (day := _date(row.get(column), f"row {number}: {column}", report)) is not None:
                if column in _UPDATE_COLUMNS:
                    updates.append((day, number, column))
                else:
                    dates.append(day)
    if register.dated_by_download and defaults.retrieved_at is None:
        observed, undated = None, ("ESMA writes some of this register's updates month first (its file of 2026-02-09 "
                                   "has updates of \"June\" and \"July\" 2026): they cannot date it; give the day it "
                                   "was downloaded with --retrieved-at")
    else:
        observed, undated = _observed(updates, dates, defaults, report) if groups else (None, "")
    return _Read(groups, observed, undated, skipped, shared, _issued(register, issuing))


def _withdrawn(register: Register, earlier: _Read, current: _Read, defaults: ImportDefaults,
               report: ImportReport | None) -> Iterator[RelationshipEvent]:
    """What the earlier snapshot stated and this one no longer does, retracted as of this one. ESMA keeps a withdrawn
    authorisation's row with its end date, so a row gone is a correction (a firm listed twice, an LEI a spreadsheet
    rounded), which only a retraction undoes; an ended relation stays history. Where this snapshot skipped rows, any
    of them may be what it still states: nothing is retracted then."""
    gone = sorted((earlier.groups.keys() | earlier.tokens.keys()) - (current.groups.keys() | current.tokens.keys()))
    if not gone or current.observed is None:
        return
    if current.skipped:
        _note(report, f"{len(gone)} relations of the previous register are not in this one but are not retracted: "
                      f"{current.skipped} rows of this one were skipped, and any of them may state them")
        return
    for relation_id in gone:
        document = _any_document(relation_id, register, earlier, current.observed, defaults, None)
        document["op"] = "retract"
        try:
            event = converted_event(document, "mica", None)
        except ImportSkip as problem:
            _record(report, Skipped(relation_id, f"MiCA {register.name}", problem.reason, problem.message))
            continue
        _note(report, f"{relation_id}: stated by the previous register ({_day(earlier.observed)}), not by this one "
                      f"({_day(current.observed)}): retracted")
        if report is not None:
            report.retracted += 1
        yield event


def _day(moment: dt.datetime | None) -> str:
    return f"observed {moment.date().isoformat()}" if moment is not None else "undated"


def _observed(updates: list[tuple[dt.date, int, str]], dates: list[dt.date], defaults: ImportDefaults,
              report: ImportReport | None) -> tuple[dt.datetime | None, str]:
    """When the register stated what it holds, or None and why it cannot be told: `--retrieved-at`, else the latest
    day ESMA updated a row of it (noted: one file's time orders it against the register's other snapshots). Every
    relation of one file is observed then, so that a later file's rows replace an earlier file's, also where ESMA
    changed a row without dating the change. In a register of many rows, a latest update far from every other (a
    day and month swapped, as ESMA's files have) would date the whole file and put it after later snapshots: not
    taken."""
    if defaults.retrieved_at is not None:
        return defaults.retrieved_at, ""
    if updates:
        latest = max(day for day, _, _ in updates)
        number, column = min((number, column) for day, number, column in updates if day == latest)
        before = max((day for day, _, _ in updates if day < latest), default=None)
        if before is not None and (latest - before).days > _LONE_UPDATE_DAYS and len(updates) >= _DENSE_REGISTER:
            return None, (f"row {number}'s {column} ({latest.isoformat()}) is {(latest - before).days} days after any "
                          f"other row's update ({before.isoformat()}): a mistyped date would date every relation of "
                          "the register; give the day it was downloaded with --retrieved-at")
        _note(report, f"observed at {latest.isoformat()}, the register's latest update (row {number}, {column}); give "
                      "--retrieved-at for the day it was downloaded")
        return dt.datetime.combine(latest, dt.time(), tzinfo=dt.UTC), ""
    if not dates:
        return None, ("the register gives no date at all (no update, no authorisation): give the day it was "
                      "downloaded with --retrieved-at")
    _note(report, f"the register dates no update of its rows: observed at its latest date, {max(dates).isoformat()} "
                  "(give --retrieved-at for the day it was downloaded)")
    return dt.datetime.combine(max(dates), dt.time(), tzinfo=dt.UTC), ""


def _dtis(row: dict, where: str, report: ImportReport | None,
          columns: tuple[str, ...] = ("ae_DTI_FFG", "ae_DTI")) -> list[str]:
    """The DTIs a row gives its token: the group's (`ae_DTI_FFG`, a functionally fungible group: one token on several
    ledgers) first, then each ledger's (`ae_DTI`, some with their chain: "TD3BGWM5Z (Ethereum)"); what is not a
    DTI is noted and left out."""
    found: list[str] = []
    for column in columns:
        for part in _LIST_SEPARATOR.split(_text(row.get(column))):
            code = part.split()[0].upper() if part.split() else ""
            if code.lower() in _NO_VALUE or code in found:
                continue
            if _DTI.match(code):
                found.append(code)
            else:
                _note(report, f"{where}: {column} {part.strip()[:40]!r} is not a DTI (ISO 24165); left out")
    return found


def _issued(register: Register, issuing: list[tuple[str, int, dict, list[str]]]) -> dict[str, list[tuple[int, dict]]]:
    """Each firm's tokens, as `issues` relations: relation id -> the rows (white papers) of that token. A firm's rows
    sharing a DTI are one token (a white paper and its update, a token on more ledgers), named by its group's DTI
    where one is given, else by its lowest DTI: the same token whatever the row order. Rows of two firms are never
    grouped here (one issuer's mistyped DTI would rename the other's token): a DTI both give joins their tokens
    through the resolution layer, as any strong identifier does."""
    parent: dict[tuple[str, str], tuple[str, str]] = {}  # (firm id, DTI) -> its parent in the firm's groups

    def root(node: tuple[str, str]) -> tuple[str, str]:
        while parent.setdefault(node, node) != node:
            parent[node] = node = parent[parent[node]]
        return node

    for firm_id, _, _, dtis in issuing:
        first = root((firm_id, dtis[0]))  # (a row of one DTI is a token of its own)
        for code in dtis[1:]:
            a, b = first, root((firm_id, code))
            if a != b:
                parent[max(a, b)] = min(a, b)
            first = root((firm_id, dtis[0]))
    groups_of: dict[tuple[str, str], set[str]] = {}
    for node in parent:
        groups_of.setdefault(root(node), set()).add(node[1])
    named: dict[tuple[str, str], str] = {}  # root -> the token's DTI
    for top, codes in groups_of.items():
        fungible = sorted(code for firm_id, _, row, dtis in issuing if firm_id == top[0] and dtis[0] in codes
                          for code in _dtis(row, "", None, ("ae_DTI_FFG",)))
        named[top] = fungible[0] if fungible else min(codes)
    relations: dict[str, list[tuple[int, dict]]] = {}
    for firm_id, number, row, dtis in issuing:
        relation_id = f"mica:{register.name}:issues:{firm_id}:{_token_id(named[root((firm_id, dtis[0]))])}"
        relations.setdefault(relation_id, []).append((number, row))
    return relations


def _token_id(dti: str) -> str:
    return f"mica-dti-{dti.lower()}"


def _any_document(relation_id: str, register: Register, read: _Read, observed: dt.datetime,
                  defaults: ImportDefaults, report: ImportReport | None) -> dict:
    if relation_id in read.groups:
        return _document(relation_id, register, read.groups[relation_id], observed, defaults, report, read.shared)
    return _token_document(relation_id, register, read.tokens[relation_id], observed, defaults, read.shared)


def _token_document(relation_id: str, register: Register, rows: list[tuple[int, dict]], observed: dt.datetime,
                    defaults: ImportDefaults, shared: Mapping[str, str]) -> dict:
    """The firm `issues` its token: a Security named by its kind and DTI (ESMA names no token), with every DTI its
    rows give as identifiers (which join it to the same token stated elsewhere: an exchange's listing), from the
    earliest white paper's notification; its white papers and ledgers as summary."""
    _, firm, _ = _parties(max(rows, key=_rank)[1], register, shared)
    dtis = sorted({code for _, row in rows for code in _dtis(row, "", None)})
    key = relation_id.rsplit(":", 1)[1].removeprefix("mica-dti-").upper()
    starts = [day for _, row in rows if (day := _date(row.get("wp_authorisationNotificationDate"), "", None))]
    papers = sorted({part for _, row in rows for part in _SERVICE_SEPARATOR.split(_text(row.get("wp_url")))
                     if part.strip() and part.strip().lower() not in _NO_VALUE})
    summary = "; ".join(part for part in (f"white papers: {', '.join(papers)}" if papers else "",
                                          f"DTIs: {', '.join(dtis)}") if part)
    token = {"id": _token_id(key), "schema": "Security", "name": f"{register.issued} {key} (DTI)",
             "identifiers": [{"scheme": "dti", "value": code} for code in dtis]}
    return {
        "schema_version": SCHEMA_VERSION, "op": "upsert", "relation_id": relation_id,
        "relation_type": RelationType.ISSUES.value, "source": firm.ref(), "target": token,
        "properties": {"role": f"issuer of the {register.issued} (MiCA white paper)",
                       "summary": _clip(summary, _SUMMARY_LIMIT)},
        **({"start_date": min(starts).isoformat()} if starts else {}),
        "status": defaults.status.value, "observed_at": observed,
        "provenance": _provenance(register, observed, defaults),
    }


def _rank(item: tuple[int, dict]) -> tuple:
    """Of a relation's rows, which words its parties: the one updated last, of those the one whose content sorts
    last (so that the file order decides nothing)."""
    number, row = item
    updated = [_date(row.get(column), "", None) for column in _UPDATE_COLUMNS]
    return max((day for day in updated if day is not None), default=dt.date.min), sorted(row.items())


def _parties(row: dict, register: Register, shared: Mapping[str, str] = {}) -> tuple[_Party, _Party, list[str]]:
    """The authority and the firm a row names; `shared`: the LEIs the file gives to firms of several names, each
    with the (folded) name it names most often (empty where none does), the only firm it stays the id of."""
    notes: list[str] = []
    authority_name = clean_name(row.get("ae_competentAuthority"))
    firm_name = _named(row.get("ae_lei_name")) or _named(row.get("ae_commercial_name"))
    lei_column = "ae_lei"
    if firm_name is None and register.applicant is not None:  # no offeror: the platform applying for admission
        name_column, lei_column = register.applicant
        firm_name = _named(row.get(name_column))
    if firm_name is None and register.unlicensed:  # article 110 asks for a commercial name or a website
        firm_name = next(iter(_LIST_SEPARATOR.split(clean_name(row.get("ae_website")) or "")), None) or None
    if authority_name is None:
        raise ImportSkip(SkipReason.MISSING_ENDPOINT.value, "no competent authority")
    if firm_name is None:
        raise ImportSkip(SkipReason.MISSING_ENDPOINT.value, "the firm has no name")
    state = _country(row.get("ae_homeMemberState"))
    if state is None:
        state = _country(row.get("ae_lei_cou_code"))
        if state is None:
            raise ImportSkip(SkipReason.MISSING_ENDPOINT.value, "no home member state (nor the LEI's country) to "
                                                                "place the competent authority in")
        notes.append(f"{firm_name[:200]}: no home member state; the authority placed in the LEI's country, "
                     f"{state.upper()}")
    authority = _authority(authority_name, state)
    raw_lei = row.get(lei_column) if isinstance(row.get(lei_column), str) else ""
    lei = _lei(raw_lei)
    if lei is not None and lei in shared and shared[lei] != folded_name(firm_name):
        notes.append(f"{firm_name[:200]}: its LEI {lei} is given to firms of other names in this file (most often "
                     f"to {shared[lei] or 'none of them'!r}); the firm is named by its name")
        lei, raw_lei = None, ""
    if lei is not None:
        firm_id = f"mica-lei-{lei}"
    else:
        if raw_lei.strip():
            notes.append(f"{firm_name[:200]}: LEI {raw_lei.strip()[:40]!r} is not a valid LEI; the firm is named by "
                         "its name")
        firm_id = f"mica-{'ncasp' if register.unlicensed else state}-{_digest(folded_name(firm_name))}"
    commercial = clean_name(row.get("ae_commercial_name"))
    aliases = (commercial,) if commercial and folded_name(commercial) != folded_name(firm_name) else ()
    if register.unlicensed:  # ESMA writes the reporting authority's state as an unlicensed firm's LEI country
        firm = _Party(firm_id, firm_name[:500], "LegalEntity", _country(row.get("ae_lei_cou_code")) if lei else None,
                      tuple(alias[:500] for alias in aliases), lei)
    else:
        firm = _Party(firm_id, firm_name[:500], "Company", _country(row.get("ae_lei_cou_code")) or state,
                      tuple(alias[:500] for alias in aliases), lei)
    return authority, firm, notes


def _named(value: object) -> str | None:
    """A firm's name, None for none or for ESMA's placeholders ("Not Available": 37 rows of one file, which would
    otherwise be one firm of that name)."""
    name = clean_name(value)
    return None if name is None or folded_name(name) in _NO_NAME else name


def _authority(name: str, state: str) -> _Party:
    matched = _ACRONYM.match(name)
    acronym = matched["acronym"].strip() if matched else None
    bare = matched["name"].strip() if matched else name
    key = folded_name(acronym) if acronym else _ACRONYM_OF.get((state, folded_name(name)), folded_name(name))
    slug = "-".join(key.split())[:120]
    if not _SLUG.match(slug):  # a name in Greek or Cyrillic letters: no id writes those
        slug = _digest(key)
    return _Party(f"mica-authority-{state}-{slug}", name[:500], "PublicBody", state,
                  (acronym[:500],) if acronym and folded_name(acronym) != folded_name(bare) else (),
                  topics=("gov.financial", "gov.national"))


def _document(relation_id: str, register: Register, rows: list[tuple[int, dict]], observed: dt.datetime,
              defaults: ImportDefaults, report: ImportReport | None, shared: Mapping[str, str]) -> dict:
    """One relation from all its rows: the parties as the row updated last words them (of rows updated at once, the
    one whose content sorts last, so that the file order decides nothing), the earliest authorisation, an end if
    every row ended."""
    authority, firm, _ = _parties(max(rows, key=_rank)[1], register, shared)
    starts = [_date(row.get(register.started), "", None) for _, row in rows] if register.started else []
    ends = [_date(row.get("ac_authorisationEndDate"), "", None) for _, row in rows]
    start = min((day for day in starts if day is not None), default=None)
    end = max(ends) if all(day is not None for day in ends) else None  # type: ignore[type-var]
    if start is not None and end is not None and end < start:
        _note(report, f"{relation_id}: its authorisation ends ({end.isoformat()}) before it begins "
                      f"({start.isoformat()}); read as ending when it began")
        end = start
    summary = _summary(register, rows)
    return {
        "schema_version": SCHEMA_VERSION, "op": "upsert", "relation_id": relation_id,
        "relation_type": register.relation_type.value, "source": authority.ref(), "target": firm.ref(),
        "properties": {"role": register.role[:200], **({"summary": summary} if summary else {})},
        **({"start_date": start.isoformat()} if start else {}), **({"end_date": end.isoformat()} if end else {}),
        "status": defaults.status.value,
        "observed_at": observed,
        "provenance": _provenance(register, observed, defaults),
    }


def _provenance(register: Register, observed: dt.datetime, defaults: ImportDefaults) -> dict:
    """Where every relation of one file comes from: the register's file (or what the user says), when it was
    observed."""
    return {"source_url": defaults.source_url or register.url, "publisher": defaults.publisher or PUBLISHER,
            "retrieved_at": observed,
            "extractor": {"name": defaults.extractor_name, "version": defaults.extractor_version},
            "confidence": defaults.confidence}


def _summary(register: Register, rows: list[tuple[int, dict]]) -> str:
    """What the authorisation covers, the same in any row order: the services and the states they reach (CASPS), or
    the kind of institution, its tokens (their DTIs) and white papers (EMTWP, ARTZZ)."""
    def values(column: str, separator: re.Pattern | None = _SERVICE_SEPARATOR) -> list[str]:
        found: dict[str, str] = {}  # one of each value, whatever its case ("Electronic money Institution")
        for _, row in rows:
            text = row.get(column) if isinstance(row.get(column), str) else ""
            for part in (separator.split(text) if separator else [text]):
                cleaned = " ".join(part.replace("\ufffd", " ").split()).rstrip(".;")
                if cleaned.lower() not in _NO_VALUE:
                    key = cleaned.casefold()
                    found[key] = min(found.get(key, cleaned), cleaned)
        return sorted(found.values(), key=str.casefold)

    def listed(column: str, how: str) -> list[str]:
        if how == "countries":
            return sorted({_ISO_COUNTRY.get(c.lower(), c.lower()).upper() for c in values(column)
                           if re.fullmatch(r"[A-Za-z]{2}", c)})
        return values(column, {"cell": None, "list": _SERVICE_SEPARATOR, "tokens": _LIST_SEPARATOR}[how])

    parts = [(label, listed(column, how)) for label, column, how in register.summary]
    return _clip("; ".join(f"{label}: {', '.join(items)}" for label, items in parts if items), _SUMMARY_LIMIT)


def _lei(value: str) -> str | None:
    """The LEI a cell gives, without the spaces and stray full stop ESMA's files carry; None unless it is one (ISO
    17442: 18 characters, then two check digits that make the whole, letters as numbers, 1 modulo 97)."""
    candidate = value.strip().strip(".").upper()
    if not _LEI.match(candidate):
        return None
    return candidate if int("".join(str(int(char, 36)) for char in candidate)) % 97 == 1 else None


def _date(value: object, what: str, report: ImportReport | None) -> dt.date | None:
    """A dd/mm/yyyy date; None for an empty cell or ESMA's "n/a", noted when it is no date."""
    text = value.strip() if isinstance(value, str) else ""
    if text.lower() in _NO_VALUE:
        return None
    day = register_day(text, iso=False)
    if day is None:
        _note(report, f"{what}: {text[:40]!r} is not a date (dd/mm/yyyy); left out")
    return day


def _country(value: object) -> str | None:
    text = value.strip().lower() if isinstance(value, str) else ""
    return _ISO_COUNTRY.get(text, text) if re.fullmatch(r"[a-z]{2}", text) else None


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _note(report: ImportReport | None, text: str) -> None:
    if report is not None:
        report.notes.append(text)
