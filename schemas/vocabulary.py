"""The relation vocabulary: one table that says what every relation type means.

Everything that needs to know what a relation *is* (validation, the scoring engine, FtM import and export, the
docs) reads `RELATIONS` instead of branching on type names. Types that FollowTheMoney models as an interval schema
map onto it; the authority and market relations FtM has no word for are exported as `UnknownLink` with the type
name as `role`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class EntitySchema(StrEnum):
    """FtM schema names an event endpoint may carry."""

    PERSON = "Person"
    COMPANY = "Company"
    ORGANIZATION = "Organization"
    PUBLIC_BODY = "PublicBody"
    LEGAL_ENTITY = "LegalEntity"
    POSITION = "Position"
    SECURITY = "Security"
    ASSET = "Asset"


# Groups of schemata, named after the FtM parent schema they stand for.
PARTIES = frozenset({EntitySchema.PERSON, EntitySchema.COMPANY, EntitySchema.ORGANIZATION,
                     EntitySchema.PUBLIC_BODY, EntitySchema.LEGAL_ENTITY})
PEOPLE = frozenset({EntitySchema.PERSON})
ORGANIZATIONS = frozenset({EntitySchema.COMPANY, EntitySchema.ORGANIZATION, EntitySchema.PUBLIC_BODY,
                           EntitySchema.LEGAL_ENTITY})
ASSETS = frozenset({EntitySchema.SECURITY, EntitySchema.ASSET, EntitySchema.COMPANY, EntitySchema.ORGANIZATION,
                    EntitySchema.LEGAL_ENTITY})
AUTHORITY_HOLDERS = frozenset({EntitySchema.PERSON, EntitySchema.PUBLIC_BODY, EntitySchema.POSITION,
                               EntitySchema.ORGANIZATION})
POSITIONS = frozenset({EntitySchema.POSITION})
ANYTHING = frozenset(EntitySchema)

# FtM topics that by themselves make an entity politically exposed (OpenSanctions' PEP and government tags).
POLITICAL_TOPICS = frozenset({
    "role.pep", "role.pep.natl", "role.pep.intl", "role.pep.frmr", "role.pol",
    "gov.head", "gov.national", "gov.state", "gov.muni", "gov.executive", "gov.legislative",
    "gov.judicial", "gov.security", "gov.financial", "gov.admin",
})
# Topics that make an entity close to a PEP (relative or close associate) without office of its own.
CLOSE_ASSOCIATE_TOPICS = frozenset({"role.rca"})


class RelationType(StrEnum):
    OWNERSHIP = "ownership"
    CONTROL = "control"
    DIRECTORSHIP = "directorship"
    EMPLOYMENT = "employment"
    MEMBERSHIP = "membership"
    OCCUPANCY = "occupancy"
    FAMILY = "family"
    ASSOCIATE = "associate"
    REPRESENTATION = "representation"
    LOBBIES = "lobbies"
    PAYMENT = "payment"
    DEBT = "debt"
    INVESTS_IN = "invests_in"
    PARTNERS_WITH = "partners_with"
    ISSUES = "issues"
    LISTS = "lists"
    REGULATES = "regulates"
    OVERSEES = "oversees"
    PROSECUTES = "prosecutes"
    PARDONS = "pardons"
    AWARDS_CONTRACT = "awards_contract"
    SAME_AS = "same_as"


@dataclass(frozen=True)
class RelationSpec:
    """What one relation type means and how it maps onto FollowTheMoney.

    Flags, read by the scoring engine:
    - authority: the source holds public power over the target (a decision that can favour or hurt it).
    - commercial: money or business interest flows between the two ends.
    - closeness: a personal tie; it extends a politically exposed person's exposure set.
    - control: the source steers the target (it joins the source's exposure set, and a public body's
      authority is exercised by whoever controls it).
    - symmetric: the tie reads the same both ways (family, associates, partners).
    - market: the source trades the target asset (an exchange listing a token): what it does moves the asset's value
      for whoever holds it. A tie through an asset joins a market to a holder of it (an owner, an investor), never
      two markets (competitors listing one token) nor two holders (two owners of one share).
    - resolution: not a relation between two entities but a judgement that the two ids name one entity (its status
      is the judgement: confirmed merges, denied forbids the merge); the resolution layer consumes it, the graph
      never holds it (scoring.resolution).
    - awarded: for an authority relation, the decision is its start (a contract awarded), not its end (a pardon
      granted, a case dismissed, a monitorship lifted): whose decided matter it is (`scoring.authority`) is read
      from that day.
    - sized: for an authority relation, the power it gives over the target is as large as the sum it states (a
      contract's value): the ones that reach one counterparty weigh by what they add up to (`scoring.authority`).
      An award of $200 and one of $500M are not the same power over the firm that won it.
    - one_off: a transfer made on a date (its `start_date`), not a state that holds from it: one sum paid on two
      dates is two payments, not one payment stated twice, and the payments between two parties add up
      (`scoring.payments`).
    """

    type: RelationType
    meaning: str
    ftm_schema: str
    ftm_source: str
    ftm_target: str
    sources: frozenset[EntitySchema]
    targets: frozenset[EntitySchema]
    properties: frozenset[str] = frozenset()
    authority: bool = False
    commercial: bool = False
    closeness: bool = False
    control: bool = False
    symmetric: bool = False
    market: bool = False
    resolution: bool = False
    one_off: bool = False
    awarded: bool = False
    sized: bool = False

    @property
    def ftm_native(self) -> bool:
        return self.ftm_schema != "UnknownLink"


def _ours(type_: RelationType, meaning: str, sources, targets, **flags) -> RelationSpec:
    """A relation FtM has no schema for: exported as UnknownLink(subject, object, role=<type>)."""
    return RelationSpec(type_, meaning, "UnknownLink", "subject", "object", sources, targets,
                        properties=flags.pop("properties", frozenset({"role", "summary"})), **flags)


_MONEY = frozenset({"amount", "currency", "purpose", "summary"})

RELATIONS: dict[RelationType, RelationSpec] = {spec.type: spec for spec in [
    RelationSpec(RelationType.OWNERSHIP, "source owns all or part of target (shares, stake, founder ownership)",
                 "Ownership", "owner", "asset", PARTIES, ASSETS,
                 frozenset({"percentage", "percentage_max", "shares_count", "role", "summary"}), commercial=True),
    RelationSpec(RelationType.CONTROL, "source steers target without (known) ownership: head of the executive "
                 "over a ministry, an office over a public body, a parent's de facto control",
                 "Control", "controller", "controlled", PARTIES | POSITIONS, PARTIES,
                 frozenset({"role", "summary"}), control=True),
    RelationSpec(RelationType.DIRECTORSHIP, "source is director, officer or executive of target",
                 "Directorship", "director", "organization", PARTIES, ORGANIZATIONS,
                 frozenset({"role", "summary"}), commercial=True, control=True),
    RelationSpec(RelationType.EMPLOYMENT, "source is employed by target",
                 "Employment", "employee", "employer", PEOPLE, PARTIES, frozenset({"role", "summary"}),
                 commercial=True),
    RelationSpec(RelationType.MEMBERSHIP, "source is a member of target (party, club, board)",
                 "Membership", "member", "organization", PARTIES, ORGANIZATIONS, frozenset({"role", "summary"})),
    RelationSpec(RelationType.OCCUPANCY, "source holds the political position target",
                 "Occupancy", "holder", "post", PEOPLE, POSITIONS, frozenset({"role", "summary"})),
    RelationSpec(RelationType.FAMILY, "source and target are relatives (relationship says how: son, spouse...)",
                 "Family", "person", "relative", PEOPLE, PEOPLE, frozenset({"relationship", "summary"}),
                 closeness=True, symmetric=True),
    RelationSpec(RelationType.ASSOCIATE, "source and target are close associates (business or personal)",
                 "Associate", "person", "associate", PEOPLE, PEOPLE, frozenset({"relationship", "summary"}),
                 closeness=True, symmetric=True),
    RelationSpec(RelationType.REPRESENTATION, "source acts as agent for target (lobbyist, lawyer, representative)",
                 "Representation", "agent", "client", PARTIES, PARTIES, frozenset({"role", "summary"}),
                 commercial=True),
    _ours(RelationType.LOBBIES, "source lobbies target (an official, office or public body) for a decision",
          PARTIES, AUTHORITY_HOLDERS, commercial=True),
    RelationSpec(RelationType.PAYMENT, "source paid target (amount, currency)",
                 "Payment", "payer", "beneficiary", PARTIES, PARTIES, _MONEY, commercial=True, one_off=True),
    RelationSpec(RelationType.DEBT, "source owes target (amount, currency)",
                 "Debt", "debtor", "creditor", PARTIES, PARTIES, _MONEY, commercial=True),
    _ours(RelationType.INVESTS_IN, "source invested in target or its tokens without a known equity stake",
          PARTIES, ASSETS, properties=_MONEY | {"role"}, commercial=True),
    _ours(RelationType.PARTNERS_WITH, "source and target do business together (joint venture, deal, dealings)",
          PARTIES, PARTIES, commercial=True, symmetric=True),
    _ours(RelationType.ISSUES, "source issues the asset target (a token, stablecoin, security)",
          PARTIES, ASSETS, commercial=True, control=True),
    _ours(RelationType.LISTS, "source (an exchange, marketplace) lists or trades the asset target",
          PARTIES, ASSETS, commercial=True, market=True),
    _ours(RelationType.REGULATES, "source licenses or supervises target as its regulator",
          AUTHORITY_HOLDERS, PARTIES, authority=True),
    _ours(RelationType.OVERSEES, "source oversees target under a specific measure (a monitorship, a settlement)",
          AUTHORITY_HOLDERS, PARTIES, authority=True),
    _ours(RelationType.PROSECUTES, "source prosecutes, sues or investigates target",
          AUTHORITY_HOLDERS, PARTIES, authority=True),
    _ours(RelationType.PARDONS, "source holds (or has used) the power to pardon target",
          AUTHORITY_HOLDERS, PEOPLE | ORGANIZATIONS, authority=True),
    _ours(RelationType.AWARDS_CONTRACT, "source awards public contracts, licences or grants to target",
          AUTHORITY_HOLDERS, PARTIES, properties=_MONEY | {"role"}, authority=True, awarded=True, sized=True),
    RelationSpec(RelationType.SAME_AS, "source and target are the same entity (judgement in status: confirmed "
                 "merges them, denied keeps them apart, proposed and in_discussion are suggestions)",
                 "Similar", "candidate", "match", PARTIES, PARTIES,
                 frozenset({"confidence_score", "criteria", "matcher"}), symmetric=True, resolution=True),
]}

@dataclass(frozen=True)
class IdentifierScheme:
    """A kind of identifier an entity may carry. `strong`: one value names one entity, so two ids sharing it are
    merged without a judgement (names never are). `jurisdiction`: the value is unique only within a jurisdiction,
    which must then be given (a company-register number). `pattern`: what a value looks like once normalised."""

    name: str
    meaning: str
    ftm_property: str | None
    pattern: str
    strong: bool = True
    jurisdiction: bool = False
    fold_case: bool = True  # compared in upper case (Q-ids, LEIs, register numbers); ids of a system are not
    separators: str = ""  # punctuation that does not change the value (556000-1234 is 5560001234): removed


IDENTIFIER_SCHEMES: dict[str, IdentifierScheme] = {scheme.name: scheme for scheme in [
    IdentifierScheme("wikidata", "Wikidata item (QID)", "wikidataId", r"^Q[1-9][0-9]*$"),
    IdentifierScheme("lei", "Legal Entity Identifier (ISO 17442)", "leiCode", r"^[0-9A-Z]{18}[0-9]{2}$"),
    IdentifierScheme("register", "company register number, unique within its jurisdiction", "registrationNumber",
                     r"^[0-9A-Z]+$", jurisdiction=True, separators="-./"),
    IdentifierScheme("opensanctions", "OpenSanctions canonical entity id", None, r"^[0-9a-zA-Z][0-9a-zA-Z._-]*$",
                     fold_case=False),
    IdentifierScheme("isin", "International Securities Identification Number", "isinCode",
                     r"^[A-Z]{2}[0-9A-Z]{9}[0-9]$"),
    IdentifierScheme("inn", "Russian taxpayer number (INN)", "innCode", r"^[0-9]{10}([0-9]{2})?$"),
    IdentifierScheme("tax", "tax number, unique within its jurisdiction", "taxNumber", r"^[0-9A-Z]+$",
                     jurisdiction=True, separators="-./"),
    # ISO 24165: 8 random characters and a check character, from 0-9 and the consonants but Y; never 0 first (the
    # check character's rule is in the paid standard: the form alone is checked). ESMA's MiCA registers give them
    IdentifierScheme("dti", "Digital Token Identifier (ISO 24165) of a crypto-asset", None,
                     r"^[1-9B-DF-HJ-NP-TV-XZ][0-9B-DF-HJ-NP-TV-XZ]{8}$"),
    # the id of members-api.parliament.uk (the Commons' register of interests calls it MNIS ID; Wikidata P10428)
    IdentifierScheme("ukparliament", "UK Parliament member id (MNIS)", None, r"^[1-9][0-9]*$", fold_case=False),
    # weak: shared by people with one name on a list, or re-used across registers; kept, never merged on
    IdentifierScheme("other", "any other identifier (kept for analysts, never merged on)", None, r"^.+$",
                     strong=False, fold_case=False),
]}

# Where a register's numbers are unique only within a part of the country, by the country's jurisdiction code: the
# pattern of such numbers ("" for every number). A German Handelsregister number (HRB 12345) is unique within its
# local court, a US company number within its state: with the country alone as jurisdiction the same number names
# different companies, and it is merged on only where the jurisdiction names the part (`de-<court>`, `us-de`).
REGISTERS_UNIQUE_BELOW_COUNTRY: dict[str, str] = {
    "de": r"^(HRA|HRB|GNR|PR|VR|GSR)[0-9]",
    "us": r"",
}
# Numbers that sources write in several forms, in the one form they are compared in. A register whose numbers have a
# fixed width, padded with zeros, by jurisdiction: Companies House's are 8 characters ("09876543"; FtM exports and
# some registers drop the leading zeros, the Commons' register and BODS keep them). Only one or two dropped zeros are
# put back: a shorter number is more likely a placeholder ("123") than a company of the 1860s.
REGISTER_NUMBER_WIDTH: dict[str, int] = {"gb": 8}
# A jurisdiction-bound scheme's number that is another scheme's, by (scheme, jurisdiction): a Russian tax number is
# the taxpayer's INN (FtM's innCode; taxNumber with jurisdiction ru in other sources).
SAME_NUMBER_AS: dict[tuple[str, str], str] = {("tax", "ru"): "inn"}

# A value of a jurisdiction-bound scheme (register, tax) that names no one: placeholders a source writes for "none"
# (N/A, 0, -, 000000) and numbers too short to be told apart ("123"). Kept, never merged on.
NUMBER_NAMES_NO_ONE = r"^[^0-9]*$|^0+$|^.{1,3}$"

# Every property a relation may carry, with the JSON type it must have (checked in `schemas.events`).
PROPERTY_NAMES = frozenset().union(*(spec.properties for spec in RELATIONS.values()))


class Status(StrEnum):
    """How sure the source is that the relation holds; the scorer weights by it (see docs/scoring.md)."""

    CONFIRMED = "confirmed"
    REPORTED = "reported"
    ALLEGED = "alleged"
    PROPOSED = "proposed"
    IN_DISCUSSION = "in_discussion"
    DENIED = "denied"


# The judgements a `same_as` event carries in its status; reported and alleged mean nothing for it and are rejected.
MERGING_JUDGEMENT = Status.CONFIRMED
BLOCKING_JUDGEMENT = Status.DENIED
SUGGESTION_JUDGEMENTS = frozenset({Status.PROPOSED, Status.IN_DISCUSSION})
JUDGEMENTS = frozenset({MERGING_JUDGEMENT, BLOCKING_JUDGEMENT}) | SUGGESTION_JUDGEMENTS
# Entities of one kind may be judged the same: a person is never merged with a company.
RESOLVABLE_KINDS = (PEOPLE, ORGANIZATIONS)


def same_kind(a: EntitySchema, b: EntitySchema) -> bool:
    return any(a in kind and b in kind for kind in RESOLVABLE_KINDS)
