"""Explanations: every path of a score rendered as `ExplanationPath` with one `PathEdge` per hop, the evidence
behind each hop, and a line a person can read, e.g.

    Donald Trump <-family["father"]- Eric Trump -ownership["backer and promoter", 25%?, reported]->
    World Liberty Financial -issues["issuer of the USD1 stablecoin"]-> USD1 <-lists["listing under discussion",
    in_discussion]- Binance

An arrow `-type->` walks a relation in its direction, `<-type-` against it (symmetric relations read `-type->`
either way, unless they say how the two are related). In brackets: in quotes, what the relation is in its
statements' words (`stated_role`: the source's role; for a family tie or an associate, what the arrow's head is to
its tail), the stake (`25%?` = no percentage given, the configured default assumed; `≤10%?` = none given but at most
10%, so just under 10% assumed), the amount, the status when weaker than confirmed, and the end date of a relation
that has ended.

The path, edge and evidence models are built from the graph's records, which hold validated values of exactly the
models' field types, so they are assembled without running validation again (`_assembled`): a score shows
dozens of them, and validating each was half the cost of rendering. A test holds the assembled models equal, field
for field and byte for byte in JSON, to validated ones.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple, Protocol, TypeVar

from pydantic import BaseModel

from schemas.outputs import Band, Evidence, ExplanationPath, PathEdge, PathKind, RiskScore
from schemas.vocabulary import RELATIONS, RelationSpec, RelationType, Status
from scoring.config import ScoringConfig
from scoring.graph import Relation, StatedFact, offset_text
from scoring.paths import (AUTHORITY, DECIDED_AUTHORITY, FORMER_AUTHORITY, FormerHop, Hop, Path, SummedHop,
                           format_amount, percent_text)
from scoring.rules import Assessment
from scoring.semantics import ONE_OFF_TYPES, SEAT_TYPES, STAKE_TYPES, SYMMETRIC_TYPES
from scoring.strength import Strength


class Names(Protocol):
    """Where rendering reads entity names: the graph, or the names a stored score was computed with."""

    def name(self, entity_id: str) -> str: ...


class FrozenNames:
    def __init__(self, names: dict[str, str]):
        self._names = names

    def name(self, entity_id: str) -> str:
        return self._names.get(entity_id, entity_id)


def names_on(assessment: Assessment, graph: Names) -> FrozenNames:
    """The names a score shows, frozen (actor, counterparty and every node of its paths)."""
    nodes = {assessment.actor, assessment.counterparty}
    for path in (*assessment.authority_paths, *assessment.commercial_paths):
        nodes.add(path.start)
        nodes.update(hop.rec.source for hop in path.hops)
        nodes.update(hop.rec.target for hop in path.hops)
    return FrozenNames({node: graph.name(node) for node in sorted(nodes)})


class ScoreContent(NamedTuple):
    """A RiskScore without its bookkeeping (graph version, trigger, offsets): what "the score changed" compares."""

    actor_id: str
    actor_name: str
    counterparty_id: str
    counterparty_name: str
    score: float
    band: Band
    rules: tuple[str, ...]
    authority_paths: tuple[ExplanationPath, ...]
    commercial_paths: tuple[ExplanationPath, ...]

    def risk_score(self, *, as_of: dt.date | None, graph_version: int, trigger_event_id: str | None,
                   input_offsets: dict[str, int]) -> RiskScore:
        return RiskScore(**self._asdict(), as_of=as_of, graph_version=graph_version,
                         trigger_event_id=trigger_event_id, input_offsets=dict(input_offsets))


class RenderedHops:
    """Hops rendered for earlier scores, for the next ones: the paths of one score share most of their hops (the
    actor's office, his relatives' stakes), and so do the scores of one actor. A hop renders the same wherever the
    names of its ends and the evaluation day are the same (its record never changes: a new version is a new record),
    so those are the key. Held for one engine (one config); at most `limit` hops, then started afresh. Pickled
    empty: a snapshot restores scores, not their renderings."""

    def __init__(self, limit: int = 20_000):
        self.limit = limit
        self._held: dict[tuple, tuple[PathEdge, str]] = {}

    def __reduce__(self):
        return type(self), (self.limit,)

    def rendered(self, hop: Hop, graph: Names, strength: Strength) -> tuple[PathEdge, str]:
        """(its edge, its arrow in a path's text)."""
        rec = hop.rec
        key = (hop, graph.name(rec.source), graph.name(rec.target), strength.day)
        held = self._held.get(key)
        if held is None:
            if len(self._held) >= self.limit:
                self._held = {}
            held = self._held[key] = (_edge(hop, graph, strength.config), _arrow(hop, strength))
        return held


def render(assessment: Assessment, graph: Names, strength: Strength,
           hops: RenderedHops | None = None) -> ScoreContent:
    cfg = strength.config
    shown = hops if hops is not None else RenderedHops()
    return ScoreContent(
        actor_id=assessment.actor, actor_name=graph.name(assessment.actor),
        counterparty_id=assessment.counterparty, counterparty_name=graph.name(assessment.counterparty),
        score=assessment.score, band=assessment.band, rules=assessment.rules,
        authority_paths=tuple(explanation(p, graph, strength, cfg, shown) for p in assessment.authority_paths),
        commercial_paths=tuple(explanation(p, graph, strength, cfg, shown) for p in assessment.commercial_paths),
    )


def rendering_signature(assessment: Assessment, graph: Names, day: dt.date) -> tuple:
    """Everything `render` shows, cheaply: equal signatures render identically (relation versions carry the
    evidence; names and the ended-or-not of dated hops cover the rest)."""
    def path_signature(path: Path) -> tuple:
        return path.kind, path.strength, path.note, graph.name(path.start), tuple(
            (hop.rec.relation_id, hop.rec.event_id, hop.forward, hop.weight, graph.name(hop.end),
             hop.rec.end is not None and hop.rec.end < day, hop.held_until if type(hop) is FormerHop else
             (len(hop.parts), hop.digest) if type(hop) is SummedHop else None)
            for hop in path.hops)

    return (assessment.score, assessment.band, assessment.rules, graph.name(assessment.actor),
            graph.name(assessment.counterparty), tuple(map(path_signature, assessment.authority_paths)),
            tuple(map(path_signature, assessment.commercial_paths)))


Model = TypeVar("Model", bound=BaseModel)


def _assembled(model: type[Model], values: dict, defaulted: frozenset[str] = frozenset()) -> Model:
    """`model(**values)` without validation, for values already of the field types, every field given, in field
    order: what `BaseModel.model_construct` does, without its per-field loop. `defaulted`: fields given their
    default, which `model(**values)` would not count as set."""
    built = object.__new__(model)
    object.__setattr__(built, "__dict__", values)
    fields_set = set(values)
    if defaulted:  # most models have none: no second set for every Evidence of every render
        fields_set -= defaulted
    object.__setattr__(built, "__pydantic_fields_set__", fields_set)
    object.__setattr__(built, "__pydantic_extra__", None)
    object.__setattr__(built, "__pydantic_private__", None)
    return built


def explanation(path: Path, graph: Names, strength: Strength, cfg: ScoringConfig,
                shown: RenderedHops | None = None) -> ExplanationPath:
    """`shown`: the hops rendered already, to reuse (the models are read only)."""
    kind = PathKind.AUTHORITY if path.kind in (AUTHORITY, FORMER_AUTHORITY, DECIDED_AUTHORITY) \
        else PathKind.COMMERCIAL
    if shown is None:
        shown = RenderedHops()
    edges, parts = [], [graph.name(path.start)]
    for hop in path.hops:
        held = shown.rendered(hop, graph, strength)
        edges.append(held[0])
        parts.append(held[1])
        parts.append(graph.name(hop.end))
    text = " ".join(parts) + (f" ({path.note})" if path.note else "")
    return _assembled(ExplanationPath, {"kind": kind, "text": text, "strength": float(cfg.round(path.strength)),
                                        "edges": tuple(edges)})


# fields an edge leaves at their defaults (absent from its JSON): most list every statement, and many state no role
_DEFAULTED = {(False, False): frozenset({"evidence_omitted", "role", "roles"}),
              (True, False): frozenset({"role", "roles"}), (False, True): frozenset({"evidence_omitted"}),
              (True, True): frozenset()}


def _edge(hop: Hop, graph: Names, cfg: ScoringConfig) -> PathEdge:
    rec = hop.rec
    limit = cfg.evidence.max_listed_statements
    if type(hop) is SummedHop:  # every payment is its evidence: the strongest's statements first, then by date
        listed = []
        for part in (rec, *hop.parts):
            if len(listed) >= limit:
                break
            if part is not rec or not listed:
                listed.extend(listed_statements(part, limit - len(listed)))
        omitted = sum(len(part.statements) if part.statements is not None else 1 for part in hop.parts) - len(listed)
    else:
        listed = listed_statements(rec, limit)
        omitted = len(rec.statements) - len(listed) if rec.statements is not None else 0
    turned, words = shown_words(rec, limit)
    source, target = (rec.target, rec.source) if turned else (rec.source, rec.target)
    return _assembled(PathEdge, {
        "relation_id": rec.relation_id, "relation_type": rec.type,
        "source_id": source, "source_name": graph.name(source),
        "target_id": target, "target_name": graph.name(target),
        "forward": bool(hop.forward) is not turned, "status": rec.status._value_,
        "weight": float(cfg.round(hop.weight)),
        "evidence": tuple([evidence(statement, cfg) for statement in listed]), "evidence_omitted": omitted,
        "role": (role := " / ".join(words) or None), "roles": tuple(words)},
        _DEFAULTED[bool(omitted), role is not None])


def _arrow(hop: Hop, strength: Strength) -> str:
    """The hop's arrow in a path's text (`path_text`): as the relation runs. A tie that runs both ways points
    forward, unless it says how the two are related: a relationship is what the relation's target is to its source
    (FtM's convention), so its arrow keeps the statement's direction and points at whom the word names ("Minister
    <-family["father"]- Son": the minister is the son's father)."""
    turned, role = _role_text(hop.rec, strength)
    label = hop_label(hop.rec, strength, role, hop.held_until if type(hop) is FormerHop else None,
                      hop if type(hop) is SummedHop else None)
    forward = (bool(hop.forward) is not turned) or (hop.rec.type in SYMMETRIC_TYPES and role is None)
    return f"-{label}->" if forward else f"<-{label}-"


def statements(fact: Relation) -> list[Relation]:
    """Every statement behind an edge: the one it shows first (its primary), then the rest oldest first."""
    if fact.statements is None:  # stated once (most facts): itself
        return [fact]
    return list(fact.statements)  # kept in this order (`graph._merged`, by the input events' versions)


def listed_statements(fact: Relation, limit: int) -> list[Relation]:
    """The statements an edge lists, in `statements` order: all of them up to `limit`; beyond it the primary, the
    first statement of each other publisher (however spelled: `Citation.source`; the relays of one article among
    them too, which `Strength.sources` counts once), then the oldest of the rest."""
    if type(fact) is StatedFact and len(fact.statements) > limit:
        return _listed_from_summary(fact, limit)
    every = statements(fact)
    if len(every) <= limit:
        return every
    chosen, publishers_seen = {0}, {every[0].citation.source}
    for index, statement in enumerate(every):
        if len(chosen) >= limit:
            break
        if statement.citation.source not in publishers_seen:
            publishers_seen.add(statement.citation.source)
            chosen.add(index)
    for index in range(len(every)):
        if len(chosen) >= limit:
            break
        chosen.add(index)
    return [every[index] for index in sorted(chosen)]


def _listed_from_summary(fact: StatedFact, limit: int) -> list[Relation]:
    """`listed_statements` of a fact stated many times, from its publishers' first statements: the same list,
    without a pass over every statement."""
    primary, head = fact.statements[0], fact.statements[1:2 * limit + 1]
    firsts = sorted((evidence.first_order, evidence.first) for publisher, evidence in fact.by_publisher.items()
                    if publisher != primary.citation.source)
    chosen = [statement for _, statement in firsts[:limit - 1]]
    # then the oldest of the rest: at most `limit - 1` of them, past at most as many chosen already
    taken = set(map(id, chosen))
    for statement in head:
        if len(chosen) >= limit - 1:
            break
        if id(statement) not in taken:
            chosen.append(statement)
    # in the evidence's order: those of its head by place, the publishers' firsts after it already in order
    place = {id(statement): index for index, statement in enumerate(head)}
    later = {id(statement): len(head) + rank for rank, (_, statement) in enumerate(firsts)}
    chosen.sort(key=lambda statement: place.get(id(statement), later.get(id(statement))))
    return [primary, *chosen]


def evidence(rec: Relation, cfg: ScoringConfig) -> Evidence:
    """One statement as evidence (`rec` is a statement, not a fact stated several times)."""
    citation = rec.citation
    return _assembled(Evidence, {
        "event_id": rec.event_id, "relation_id": rec.relation_id, "source_url": citation.source_url,
        "publisher": citation.publisher, "extractor": citation.extractor,
        "confidence": float(cfg.round(rec.confidence)), "status": rec.status._value_, "observed_at": rec.observed_at,
        "quote": rec.quote, "offset": offset_text(rec.offset)})


def path_text(path: Path, graph: Names, strength: Strength) -> str:
    parts = [graph.name(path.start)]
    for hop in path.hops:
        parts.append(_arrow(hop, strength))
        parts.append(graph.name(hop.end))
    return " ".join(parts)


def hop_label(rec: Relation, strength: Strength, role: str | None, held_until: dt.date | None = None,
              summed: SummedHop | None = None) -> str:
    """`type[qualifiers]` of a hop; `role`: its `_role_text`; `held_until`: the end of the former holding the hop
    was part of (`paths.FormerHop`), which its weight decays from; `summed`: the hop of several payments it is
    (`paths.SummedHop`), shown by what they add up to, how many and from when to when."""
    if summed is not None:
        return _summed_label(summed, strength)
    qualifiers = []
    if role is not None:
        qualifiers.append(role)
    if rec.type in STAKE_TYPES:
        stake, assumed = strength.stake(rec)
        cap = strength.stake_cap(rec)
        if cap is not None:  # the stake is assumed just below it
            qualifiers.append(f"≤{percent_text(cap)}%?")
        else:
            qualifiers.append(f"{percent_text(stake)}%" + ("?" if assumed else ""))
    if rec.amount is not None:
        qualifiers.append(format_amount(rec.amount, rec.currency))
    if rec.status is not Status.CONFIRMED:
        qualifiers.append(rec.status.value)
    if rec.statements is not None and (sources := strength.sources(rec)) > 1:
        qualifiers.append(f"{sources} sources")
    if rec.type in ONE_OFF_TYPES:  # a transfer made on its date: when it was paid, never "ended"
        if rec.start is not None:
            qualifiers.append(_paid_when(rec.start, rec.end))
    elif rec.end is not None and rec.end < strength.day:
        qualifiers.append(f"ended {rec.end.isoformat()}")
    if held_until is not None:
        qualifiers.append(f"part of a holding that ended {held_until.isoformat()}")
    return rec.type.value + (f"[{', '.join(qualifiers)}]" if qualifiers else "")


def _paid_when(start: dt.date, end: dt.date | None) -> str:
    """The date of a payment, or the span of one a register states over a period (an ongoing salary)."""
    return start.isoformat() if end is None or end == start else f"{start.isoformat()} to {end.isoformat()}"


def _summed_label(hop: SummedHop, strength: Strength) -> str:
    total = format_amount(hop.total, hop.currency) if hop.currency is not None \
        else f"{format_amount(hop.total, 'USD')} at the configured rates"
    dates = sorted({part.start for part in hop.parts if part.start is not None})
    when = "" if not dates else f", {dates[0].isoformat()}" if len(dates) == 1 \
        else f", {dates[0].isoformat()} to {dates[-1].isoformat()}"
    qualifiers = [f"{total} in {len(hop.parts)} payments{when}"]
    weaker = sorted({part.status.value for part in hop.parts if part.status is not Status.CONFIRMED})
    if weaker:
        qualifiers.append("some " + " or ".join(weaker))
    return f"{hop.rec.type.value}[{', '.join(qualifiers)}]"


_ROLE_SHOWN = 60  # characters of a role in a path's text; its edge's `role` has all of it


def stated_role(rec: Relation, limit: int) -> str | None:
    """What an edge is in its statements' words (`shown_words`), joined by " / "; None where none gives one."""
    return " / ".join(shown_words(rec, limit)[1]) or None


def stated_words(rec: Relation, limit: int, end: str | None = None) -> list[str]:
    """What an edge is in its statements' words (`graph.Relation.role`: a role, or how two relatives are related):
    each distinct word (alike whatever its case and spacing), in the order its evidence lists the statements (the
    primary first; `limit`: `listed_statements`), so that sources that word one tie otherwise ("son / stepson") are
    all shown and one that gives no word hides none of the others. Only the statements made from `end` (the
    edge's source by default): one made from the other end of a tie that runs both ways words it from there (what
    its target is to its source). A seat shows only the role that weighs it, its primary's
    (`authority.seat_roles`): another source's "chair" beside it would read as a weight the seat does not have."""
    if rec.statements is None or rec.type in SEAT_TYPES:  # (neither runs both ways: `end` is never asked of them)
        return [rec.role] if rec.role is not None else []
    end = rec.source if end is None else end
    words, seen = [], set()
    for statement in listed_statements(rec, limit):
        word = statement.role
        if word is not None and statement.source == end \
                and (alike := " ".join(word.split()).casefold()) not in seen:
            seen.add(alike)
            words.append(word)
    return words


def shown_words(rec: Relation, limit: int) -> tuple[bool, list[str]]:
    """(whether the edge is shown from its target, the words it shows): `stated_words`, and where none of the
    statements made from its source gives a word that says more than the type (`restates`), those of the
    statements made from its target where one of them does, on a tie that runs both ways: the edge is then shown
    turned round ("Son -family["father"]-> Minister" where the primary statement, Minister -family-> Son, gives no
    word, or "family member"), so that the word names what it names."""
    words = stated_words(rec, limit)
    if rec.statements is None or rec.type not in SYMMETRIC_TYPES or _telling(rec.type, words):
        return False, words
    turned = stated_words(rec, limit, rec.target)
    return (True, turned) if _telling(rec.type, turned) else (False, words)


def _telling(relation_type: RelationType, words: list[str]) -> bool:
    return any(not restates(relation_type, word) for word in words)


def _role_text(rec: Relation, strength: Strength) -> tuple[bool, str | None]:
    """(whether the hop is shown turned round, `shown_words` as a path's text shows them): without those that only
    restate the relation's type (`restates`), in quotes (they are the source's words, and cannot pass for a hop or a
    qualifier), on one line, at most `_ROLE_SHOWN` characters; None where nothing is left."""
    turned, words = shown_words(rec, strength.config.evidence.max_listed_statements)
    kept = [word for word in words if not restates(rec.type, word)]
    if not kept:
        return False, None
    one_line = " ".join(" / ".join(kept).split()).replace('"', "'")
    for forged, harmless in _FORGED:
        one_line = one_line.replace(forged, harmless)
    if len(one_line) > _ROLE_SHOWN:
        one_line = one_line[:_ROLE_SHOWN - 1].rstrip() + "…"
    return turned, f'"{one_line}"'


# what in a role could read as a path's own syntax: an arrow, or the end of the qualifiers
_FORGED = (("->", "→"), ("<-", "←"), ("[", "("), ("]", ")"))
# words that say nothing about a relation but what its type says already (after its FtM schema's own words and the
# names of its ends): "owner of", "position held", "Family member of", "shareholder" are a register's wording of the
# type, not a role
_STOP_WORDS = frozenset({"of", "the", "a", "an", "is", "held", "in", "to", "or", "and"})
_RESTATING_EXTRA: dict[RelationType, frozenset[str]] = {
    RelationType.OWNERSHIP: frozenset({"shareholder", "shareholding", "shares", "share", "stake", "stakeholder"}),
    RelationType.OCCUPANCY: frozenset({"position", "office"}),
    RelationType.FAMILY: frozenset({"family", "member", "relation"}),
    RelationType.ASSOCIATE: frozenset({"close", "known"}),
    RelationType.AWARDS_CONTRACT: frozenset({"supplier", "contractor", "contract"}),
}


def _restating_words(spec: RelationSpec) -> frozenset[str]:
    words = {spec.type.value, *spec.type.value.split("_"), spec.ftm_source.lower(), spec.ftm_target.lower(),
             spec.ftm_schema.lower()}
    return frozenset(words) | _RESTATING_EXTRA.get(spec.type, frozenset())


_RESTATING = {relation_type: _restating_words(spec) for relation_type, spec in RELATIONS.items()}


def restates(relation_type: RelationType, word: str) -> bool:
    """Whether a role says nothing but what the relation's type says ("owner of" on an ownership)."""
    words = {w for w in "".join(c if c.isalnum() else " " for c in word.lower()).split() if w not in _STOP_WORDS}
    return bool(words) and words <= _RESTATING[relation_type]
