"""Merge suggestions: candidates from a blocking index over normalised name tokens, scored by FollowTheMoney's own
matcher (`followthemoney.compare`, the same pinned library the contract speaks; names tokenised with rigour),
published as `proposed` same_as judgements with the per-feature scores as their explanation.

Names only ever *propose*: a suggestion merges nothing until an analyst confirms it (`coi-risk review`). Cost per
entity is bounded: a token shared by more than `max_block` entities ("holding", "john") is not used for blocking,
and at most `max_candidates` candidates (those sharing the most tokens) are compared. Each entity takes part with
its name and at most `MAX_ALIASES_MATCHED` aliases (the first, in the event's order): FtM compares every name of one
entity with every name of the other, so 5,000 aliases on each side (a legal 40 KB event) took 16 s per candidate.
Likewise at most `MAX_IDENTIFIERS_MATCHED` identifiers (`matched_ref`).

Why this matcher (see README, "Entity resolution"): nomenklatura's logic-v2 would add some fifteen packages to the
worker (scipy, scikit-learn, duckdb, textual, lxml...) for a score that, as the issue measured, still ranks "Donald
Trump Jr." above "Donald J. Trump": no name matcher can decide alone, so the cheaper well-kept one proposes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from dataclasses import dataclass, field
from functools import cache

from schemas.events import SCHEMA_VERSION, EntityRef, RelationshipEvent
from schemas.vocabulary import IDENTIFIER_SCHEMES, same_kind

MATCHER_NAME = "followthemoney.compare"
# Proposals need the matcher's name feature at or above this (0..1); the combined score is shown, not thresholded,
# because FtM's model expects more features (dates, addresses) than events carry.
DEFAULT_THRESHOLD = 0.7
DEFAULT_MAX_BLOCK = 200
DEFAULT_MAX_CANDIDATES = 50
MIN_TOKEN_LENGTH = 2  # initials block everything with an "a" in it
# Real entities carry a handful of aliases (OpenSanctions' most-aliased persons, a few dozen); the bound keeps the
# name-by-name comparison at most (1 + 50)^2 pairs per candidate whatever an event states.
MAX_ALIASES_MATCHED = 50
# Real entities hold a few identifiers (an LEI, a QID, some register numbers); the layer gives an id every identifier
# its relations' current versions state, which a bad join or an adversary makes thousands. Each one was compared
# with every candidate, and published in the suggestion: 400 of them made 400 events 5 times slower, and about
# 1,700 a suggestion larger than an event may be, so that the analyst's judgement copying it was refused.
MAX_IDENTIFIERS_MATCHED = 50


@cache
def _ftm():
    """followthemoney loads in about a second: only commands and workers that suggest pay for it."""
    from followthemoney import __version__, model
    from followthemoney.compare import compare, compare_scores
    from normality import ascii_text
    from rigour.names import tokenize_name

    return model, compare, compare_scores, ascii_text, tokenize_name, __version__


def name_tokens(ref: EntityRef) -> frozenset[str]:
    """The blocking keys of an entity: its names' tokens, transliterated to ASCII and lower-cased."""
    _, _, _, ascii_text, tokenize_name, _ = _ftm()
    tokens = set()
    for name in matched_names(ref):
        text = ascii_text(name) or ""
        tokens.update(t for t in tokenize_name(text.lower()) if len(t) >= MIN_TOKEN_LENGTH)
    return frozenset(tokens)


def matched_ref(ref: EntityRef) -> EntityRef:
    """The entity as the matcher indexes, compares and proposes it: at most `MAX_ALIASES_MATCHED` aliases (the first)
    and `MAX_IDENTIFIERS_MATCHED` identifiers (the strong ones first, then by key, so that which are kept does not
    depend on the order they were stated in; kept in key order)."""
    if len(ref.aliases) <= MAX_ALIASES_MATCHED and len(ref.identifiers) <= MAX_IDENTIFIERS_MATCHED:
        return ref
    identifiers = ref.identifiers
    if len(identifiers) > MAX_IDENTIFIERS_MATCHED:
        # kept in key order, as the layer gives them: one set held in two orders would be compared again
        chosen = sorted(identifiers, key=lambda i: (not i.strong, i.key))[:MAX_IDENTIFIERS_MATCHED]
        identifiers = tuple(sorted(chosen, key=lambda i: i.key))
    return ref.model_copy(update={"aliases": ref.aliases[:MAX_ALIASES_MATCHED], "identifiers": identifiers})


def matched_names(ref: EntityRef) -> tuple[str, ...]:
    """The names the matcher blocks and compares on: the name and the first `MAX_ALIASES_MATCHED` aliases."""
    return (ref.name, *ref.aliases[:MAX_ALIASES_MATCHED])


def _proxy(ref: EntityRef):
    model = _ftm()[0]
    entity = model.make_entity(ref.schema_.value)
    entity.id = ref.id
    entity.add("name", ref.name)
    for alias in matched_names(ref)[1:]:
        entity.add("alias", alias, quiet=True)
    if ref.country:
        entity.add("country", ref.country, quiet=True)
    for identifier in ref.identifiers:
        prop = IDENTIFIER_SCHEMES[identifier.scheme].ftm_property
        if prop:
            entity.add(prop, identifier.value, quiet=True)
    return entity


@dataclass(frozen=True)
class Suggestion:
    """Two ids the matcher proposes as one entity, with the per-feature scores behind it."""

    source: EntityRef
    target: EntityRef
    score: float  # the matcher's combined probability
    features: dict[str, float | None] = field(hash=False)
    shared_tokens: tuple[str, ...] = ()

    @property
    def pair(self) -> tuple[str, str]:
        return self.source.id, self.target.id

    def explanation(self) -> str:
        features = ", ".join(f"{name} {'-' if value is None else f'{value:.3f}'}"
                             for name, value in sorted(self.features.items()))
        return (f"{MATCHER_NAME}: {self.score:.3f} ({features}); blocked on shared name tokens: "
                f"{', '.join(self.shared_tokens)}; names alone never merge: confirm or deny")

    def event(self, observed_at: dt.datetime, publisher: str = "coi-risk matcher") -> RelationshipEvent:
        """The suggestion as a `proposed` same_as judgement. Its relation id is derived from the pair (an analyst's
        confirmation is a later version of it); its event id also from what was compared, so suggesting again over
        the same data yields the same event."""
        a, b = self.pair
        relation = hashlib.sha256(f"{a}\x1f{b}".encode()).hexdigest()[:24]
        content = hashlib.sha256(f"{a}\x1f{b}\x1f{self.source.name}\x1f{self.target.name}\x1f{self.score:.6f}"
                                 .encode()).hexdigest()[:24]
        version = _ftm()[5]
        return RelationshipEvent.model_validate({
            "schema_version": SCHEMA_VERSION, "event_id": f"suggest-{content}",
            "relation_id": f"same-as-{relation}", "relation_type": "same_as",
            "source": self.source.model_dump(by_alias=True, exclude_defaults=True),
            "target": self.target.model_dump(by_alias=True, exclude_defaults=True),
            "status": "proposed",
            "properties": {"confidence_score": round(self.score, 6), "matcher": f"{MATCHER_NAME} {version}",
                           "criteria": self.explanation()},
            "observed_at": observed_at.isoformat(),
            "provenance": {"source_url": "urn:coi-risk:matcher", "publisher": publisher,
                           "retrieved_at": observed_at.isoformat(),
                           "extractor": {"name": MATCHER_NAME, "version": version}, "confidence": 1.0}})


class Matcher:
    """A blocking index of the entities seen, and suggestions for a new or renamed one."""

    def __init__(self, threshold: float = DEFAULT_THRESHOLD, max_block: int = DEFAULT_MAX_BLOCK,
                 max_candidates: int = DEFAULT_MAX_CANDIDATES):
        self.threshold = threshold
        self.max_block = max_block
        self.max_candidates = max_candidates
        self._refs: dict[str, EntityRef] = {}
        self._tokens: dict[str, frozenset[str]] = {}
        self._postings: dict[str, set[str]] = {}
        self.compared = 0  # how many pairs the matcher scored (the cost blocking bounds)

    def __len__(self) -> int:
        return len(self._refs)

    def add(self, ref: EntityRef, compare: bool = True) -> list[Suggestion]:
        """Index an entity (new, or with new names) and return the suggestions against those already indexed, best
        first; an entity seen before with the same names and identifiers is not compared again. Without `compare`
        (a bulk load: its range publishes no suggestions) the entity is indexed only, so that the entities after
        it are compared with its own, as after an event-by-event replay."""
        ref = matched_ref(ref)
        held = self._refs.get(ref.id)
        if held is not None and (held.name, held.aliases, held.identifiers, held.country) == (
                ref.name, ref.aliases, ref.identifiers, ref.country):
            return []
        tokens = name_tokens(ref)
        for token in self._tokens.get(ref.id, frozenset()) - tokens:
            self._postings[token].discard(ref.id)
        self._refs[ref.id] = ref
        self._tokens[ref.id] = tokens
        shared: Counter[str] = Counter()
        for token in tokens:
            posting = self._postings.setdefault(token, set())
            if compare and len(posting) <= self.max_block:
                shared.update(posting)
            posting.add(ref.id)
        if not compare:
            return []
        shared.pop(ref.id, None)
        candidates = sorted(shared, key=lambda other: (-shared[other], other))
        candidates = [c for c in candidates if same_kind(self._refs[c].schema_, ref.schema_)][: self.max_candidates]
        return sorted((s for s in (self._score(ref, self._refs[c]) for c in candidates) if s is not None),
                      key=lambda s: (-s.score, s.pair))

    def _score(self, left: EntityRef, right: EntityRef) -> Suggestion | None:
        _, compare, compare_scores, _, _, _ = _ftm()
        self.compared += 1
        a, b = _proxy(left), _proxy(right)
        features = {group.name: value for group, value in compare_scores(a, b).items()}
        if (features.get("name") or 0.0) < self.threshold:
            return None
        source, target = sorted((left, right), key=lambda r: r.id)
        shared = tuple(sorted(self._tokens[left.id] & self._tokens[right.id]))
        return Suggestion(source, target, round(compare(a, b), 6), features, shared)
