"""Which counterparties an actor's private sphere is tied to: the only pairs worth scoring.

An actor may hold authority over a huge number of parties (a minister over every firm a regulator oversees), but a
pair scores only if the actor's exposure set is tied to the counterparty's group. So candidates are found from the
tie side: the members of the exposure set and the parties they have a usable commercial relation with (directly or
through a token or security) are the actor's *partners*; the counterparties are the partners and the groups they
belong to (what each owns or controls and what owns or controls it: `ownership.sphere`). Authority is then checked
pair by pair with look-ups.
"""

from __future__ import annotations

from collections.abc import Callable

from scoring.exposure import ExposureSet
from scoring.search import SearchContext
from scoring.semantics import INFLUENCE_TYPES, IN, Layer


def partners(actor: str, exposure: ExposureSet, ctx: SearchContext) -> frozenset[str]:
    found = set(exposure.members)
    for node in (*sorted(exposure.members), *exposure.assets.by_asset):
        found.update(partner for partner, _, _ in ctx.ties_of(node).ties)
    if not ctx.config.lobby_requires_primary:  # lobbying alone may then score: lobbyists are candidates too
        for target in (actor, *sorted(exposure.apparatus)):
            found.update(lobbyist for lobbyist, _ in ctx.edges(target, Layer.INFLUENCE, IN, INFLUENCE_TYPES))
    return frozenset(found)


def counterparties(actor: str, partner_set: frozenset[str],
                   sphere_of: Callable[[str], tuple[str, ...]]) -> frozenset[str]:
    found = set(partner_set)
    for partner in sorted(partner_set):
        found.update(sphere_of(partner))
    found.discard(actor)
    return frozenset(found)
