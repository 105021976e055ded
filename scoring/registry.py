"""The conflict rules as a registry: each rule declared once, with everything `rules.assess` needs to score and
explain it. A new rule is one declaration here plus, if it reads a new kind of path, the finder of those paths in
`rules.tie_paths`. docs/scoring.md's rule table is `rule_table()` (a test keeps them equal).

How a rule combines:
- PRIMARY: weight x authority x tie, where authority is the noisy-OR of the actor's authority paths of the rule's
  `authority` kind and tie the noisy-OR of the paths of the kinds it `consumes` (both are needed: the product is
  their conjunction).
- AGGRAVATING: weight x authority x tie x the primary rules' tie, and only next to a fired primary rule (with
  `lobby_requires_primary`; without it, weight x authority x tie on its own): it cannot make a conflict, it makes
  one worse, and no more than the authority it needs allows (lobbying an official who holds no power, or a faint
  one, buys no decision).
"""

from __future__ import annotations

from dataclasses import dataclass

from scoring.paths import AUTHORITY, COMMERCIAL, DECIDED_AUTHORITY, FORMER_AUTHORITY, FORMER_LOBBY, LOBBY, OWNERSHIP

PRIMARY = "primary"
AGGRAVATING = "aggravating"


@dataclass(frozen=True, slots=True)
class RuleSpec:
    id: str
    weight: float  # default weight; `rules.<id>.weight` in a config overrides it
    authority: str  # the authority paths it needs and is explained by: AUTHORITY (current), FORMER_AUTHORITY or
    # DECIDED_AUTHORITY (`scoring.authority`)
    consumes: tuple[str, ...]  # the kinds of tie path whose noisy-OR is its tie
    combination: str  # PRIMARY or AGGRAVATING
    priority: int  # explanation priority: a path counted under several kinds is shown under the rule first here
    fires_when: str  # for people: docs/scoring.md's table


RULES: tuple[RuleSpec, ...] = (
    RuleSpec(
        "COI-AUTH-OWNERSHIP", 1.0, AUTHORITY, (OWNERSHIP,), PRIMARY, 0,
        "current authority, and the exposure set owns or controls the counterparty or a member of its group "
        "(self-dealing: the regulator's family owns the regulated firm)"),
    RuleSpec(
        "COI-AUTH-COMMERCIAL", 0.9, AUTHORITY, (COMMERCIAL,), PRIMARY, 1,
        "current authority, and a commercial tie joins the exposure set to the group, directly or through an asset"),
    RuleSpec(
        "COI-REVOLVING-DOOR", 0.6, FORMER_AUTHORITY, (OWNERSHIP, COMMERCIAL), PRIMARY, 2,
        "either of the above, but the authority runs through an office the actor has *left* (within the exposure "
        "horizon, weighted by the decayed exposure): the former official tied to a firm his office had power over (while "
        "he held it, or now). A tie that began past the cooling-off after he left weighs less, down to `late_tie_weight`"),
    RuleSpec(
        "COI-DECIDED-MATTER", 0.9, DECIDED_AUTHORITY, (OWNERSHIP, COMMERCIAL), PRIMARY, 3,
        "the authority was used and the matter is decided: an authority relation over the counterparty ended while "
        "the actor held the power (a pardon granted, a case dismissed, a contract run out), within the exposure "
        "horizon, weighted by the time since the decision, and the exposure set is tied to the group. A tie that "
        "began past the cooling-off after the decision weighs less, down to `late_tie_weight`; one before it, or "
        "soon after it (the reward), in full"),
    RuleSpec(
        "COI-LOBBY", 0.5, AUTHORITY, (LOBBY,), AGGRAVATING, 4,
        "the counterparty's group lobbies the actor or an office or body he steers. Aggravating only "
        "(`lobby_requires_primary: true`): lobbying alone is ordinary advocacy; next to a tie it is the channel "
        "through which the tie could buy a decision, so it weighs `weight x authority x lobbying x tie` (a primary "
        "rule on former authority alone leaves nothing to lobby for: see COI-REVOLVING-LOBBY)"),
    RuleSpec(
        "COI-REVOLVING-LOBBY", 0.5, FORMER_AUTHORITY, (FORMER_LOBBY,), AGGRAVATING, 5,
        "the revolving door, and the counterparty's group (or the former official himself) lobbies an office or body "
        "his former office steered to that power: the contacts the cooling-off rules ban (18 U.S.C. 207(c), the EU "
        "commissioners' code, ACOBA). Aggravating only, as COI-LOBBY: `weight x former authority x lobbying x tie`, "
        "lobbying and tie weighed by the cooling-off"),
    RuleSpec(
        "COI-DECIDED-LOBBY", 0.5, DECIDED_AUTHORITY, (LOBBY,), AGGRAVATING, 6,
        "the decided matter, and the counterparty's group lobbied the actor or an office or body he steers: lobbying "
        "that sought the decision, and got it (the monitorship lifted after the firm asked for it). Aggravating only, "
        "as COI-LOBBY: `weight x decided power x lobbying x tie`, the tie weighed by the cooling-off, the lobbying "
        "not"),
)

RULE_IDS: tuple[str, ...] = tuple(rule.id for rule in RULES)
BY_ID: dict[str, RuleSpec] = {rule.id: rule for rule in RULES}
# Tie path kinds in explanation order: a kind is as urgent as the most urgent rule consuming it.
TIE_KINDS: tuple[str, ...] = tuple(sorted({kind for rule in RULES for kind in rule.consumes},
                                          key=lambda kind: min(r.priority for r in RULES if kind in r.consumes)))
KIND_PRIORITY: dict[str, int] = {kind: rank for rank, kind in enumerate(TIE_KINDS)}
# What the aggravating rules multiply by: the tie of the primary rules.
PRIMARY_KINDS: tuple[str, ...] = tuple(kind for kind in TIE_KINDS
                                       if any(kind in r.consumes for r in RULES if r.combination == PRIMARY))


_AUTHORITY_TEXT = {AUTHORITY: "current authority", FORMER_AUTHORITY: "former authority",
                   DECIDED_AUTHORITY: "authority used in a decided matter"}


def rule_table() -> str:
    """The rule table of docs/scoring.md."""
    rows = ["| rule | fires when | consumes | combination | weight |", "|---|---|---|---|---|"]
    for rule in RULES:
        authority = _AUTHORITY_TEXT[rule.authority]
        consumed = ", ".join(kind.replace("_", " ") for kind in rule.consumes)
        rows.append(f"| `{rule.id}` | {rule.fires_when} | {authority}; {consumed} paths | {rule.combination} | "
                    f"{rule.weight} |")
    return "\n".join(rows)


__all__ = ["AGGRAVATING", "BY_ID", "KIND_PRIORITY", "PRIMARY", "PRIMARY_KINDS", "RULES", "RULE_IDS", "RuleSpec",
           "TIE_KINDS", "rule_table"]
