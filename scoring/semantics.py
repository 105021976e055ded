"""What the relation vocabulary means to the scorer.

Every group of relation types below is derived from the flags and endpoint sets of `schemas.vocabulary.RELATIONS`,
never from type names, so a new relation type joins the rules by its flags alone. The groups also decide which
graph layer a relation is stored in: one layer per role in the rules, so that a search reads only the relations it
needs (a firm that lists 100 000 tokens must not slow down the search for who owns it).
"""

from __future__ import annotations

from enum import IntEnum

from schemas.vocabulary import (
    ASSETS,
    AUTHORITY_HOLDERS,
    ORGANIZATIONS,
    PARTIES,
    PEOPLE,
    POSITIONS,
    RELATIONS,
    EntitySchema,
    RelationSpec,
    RelationType,
)


class Layer(IntEnum):
    """The graph layers; each relation type lives in exactly one."""

    AUTHORITY = 0  # public power over the target (regulates, oversees, prosecutes, pardons, awards contracts)
    INFLUENCE = 1  # commercial relations aimed at an authority holder (lobbying)
    HOLDING = 2  # who owns, steers, holds office or sits in what: ownership, control, directorship, issuance,
    # occupancy, membership
    CLOSENESS = 3  # family and close associates
    TRADE = 4  # the other commercial ties: payments, debts, investments, partnerships, listings, representation
    OTHER = 5  # kept for queries; no rule reads them (a relation type with none of the flags the rules read)
    # commercial ties only a person has (a job): a firm's thousands of employees are not its payments and partners,
    # and in the same layer would take those past the hub guard (`limits.max_fanout` counts a layer's neighbours)
    WORK = 6


OUT, IN = 0, 1  # adjacency directions, as the dependency index records reads


def is_office(spec: RelationSpec) -> bool:
    """The relation's target can only be a political position: the source holds that office."""
    return spec.targets <= POSITIONS


def is_seat(spec: RelationSpec) -> bool:
    """A relation without flags whose target can only be an organization: the source has a seat in it (a board, a
    committee, a commission, a party). A seat in a public body is a share of that body's authority."""
    flags = (spec.authority, spec.commercial, spec.closeness, spec.control, spec.symmetric)
    return not any(flags) and spec.targets <= ORGANIZATIONS and EntitySchema.PUBLIC_BODY in spec.targets


def takes_stake(spec: RelationSpec) -> bool:
    return "percentage" in spec.properties


def takes_amount(spec: RelationSpec) -> bool:
    return "amount" in spec.properties


def is_influence(spec: RelationSpec) -> bool:
    """A commercial relation whose target must be an authority holder: an attempt to sway a decision."""
    return spec.commercial and spec.targets <= AUTHORITY_HOLDERS


def is_work(spec: RelationSpec) -> bool:
    """A commercial relation only a person can have as its source: his job."""
    return spec.commercial and not is_influence(spec) and spec.sources <= PEOPLE


def _types(predicate) -> frozenset[RelationType]:
    return frozenset(t for t, spec in RELATIONS.items() if predicate(spec))


AUTHORITY_TYPES = _types(lambda s: s.authority)
OFFICE_TYPES = _types(is_office)
CONTROL_TYPES = _types(lambda s: s.control)
SEAT_TYPES = _types(is_seat)
STAKE_TYPES = _types(takes_stake)
MONEY_TYPES = _types(takes_amount)
ONE_OFF_TYPES = _types(lambda s: s.one_off)  # a transfer made on its date: a payment
AWARDED_TYPES = _types(lambda s: s.awarded)  # authority decided when it began: a contract awarded
SIZED_TYPES = _types(lambda s: s.sized)  # authority as large as the sums stated: contracts by their value
CLOSENESS_TYPES = _types(lambda s: s.closeness)
INFLUENCE_TYPES = _types(is_influence)
TIE_TYPES = _types(lambda s: s.commercial and not is_influence(s))
SYMMETRIC_TYPES = _types(lambda s: s.symmetric)
MARKET_TYPES = _types(lambda s: s.market)
# The property that says what a relation of each type is, as its source states it, shown in explanations: how two
# people are related (son, spouse, business partner), the source's role in the rest (chief executive, chair,
# monitor); None for a type that takes neither.
LABELLED_BY: dict[RelationType, str | None] = {
    t: "relationship" if "relationship" in spec.properties else "role" if "role" in spec.properties else None
    for t, spec in RELATIONS.items()}
# Authority is exercised by whoever holds the office or controls the body that holds it, and shared by the members
# of a public body (weighted by their role: `authority.seat_roles`).
RELAY_TYPES = CONTROL_TYPES | OFFICE_TYPES | SEAT_TYPES
# An exposure set or a counterparty's group extends along control and ownership stakes.
HOLDING_TYPES = CONTROL_TYPES | STAKE_TYPES


def _layer_of(spec: RelationSpec) -> Layer:
    if spec.authority:
        return Layer.AUTHORITY
    if spec.closeness:
        return Layer.CLOSENESS
    if spec.control or takes_stake(spec) or is_office(spec) or is_seat(spec):
        return Layer.HOLDING
    if is_influence(spec):
        return Layer.INFLUENCE
    if is_work(spec):
        return Layer.WORK
    if spec.commercial:
        return Layer.TRADE
    return Layer.OTHER


LAYER_OF: dict[RelationType, Layer] = {t: _layer_of(spec) for t, spec in RELATIONS.items()}
TIE_LAYERS = tuple(sorted({LAYER_OF[t] for t in TIE_TYPES}))
# Layers whose reads the dependency index keeps with another layer's (`dependencies`): what reads one reads the other
# (a node's ties), and a change in either concerns the same searches.
READ_WITH: dict[Layer, Layer] = {Layer.WORK: Layer.TRADE}
# The schemas a tie's end can have, by layer and direction (OUT: its source's, IN: its target's): a search for a
# node's ties need not read (nor be indexed under) a list its schema can never be in (a firm is nobody's employee).
TIE_ENDS: dict[tuple[Layer, int], frozenset[EntitySchema]] = {
    (layer, direction): frozenset().union(*(RELATIONS[t].sources if direction == OUT else RELATIONS[t].targets
                                            for t in TIE_TYPES if LAYER_OF[t] == layer))
    for layer in TIE_LAYERS for direction in (OUT, IN)}

# The public side of the state: offices and public bodies carry authority; they are never a private interest.
PUBLIC_APPARATUS = POSITIONS | {EntitySchema.PUBLIC_BODY}
# Things that are only ever owned or traded, never parties: a tie "through an asset" passes one of these.
PURE_ASSETS = ASSETS - PARTIES
