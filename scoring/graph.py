"""The temporal relationship graph: one record per relation, the latest version wins, queries by validity date.

Applying an event is idempotent (an event id is applied once) and order-independent: versions of one relation are
ordered by (observed_at, event_id), and an older version never overwrites a newer one, also across a retraction
(the version of a retracted relation is kept as a tombstone, so a late older upsert cannot resurrect it). Entity
attributes (name, schema, topics) follow the newest event that names the entity, whatever the relation (`naming`:
a reference whose name is its own id, an importer's stand-in for an entity its file does not describe, names
nothing, and gives way to any that names it).

Storage: one networkx DiGraph per `Layer` (its `_succ` / `_pred` dicts are the out- and in-adjacency the searches
read). The data of edge u -> v is the `Relation` record itself (a `__slots__` object), or a tuple of records (sorted
by relation id) when several relations join u to v in one layer, rather than attribute dicts (a dict per edge costs
~180 bytes, and a MultiDiGraph's key dict as much again); nodes share one never-written attribute dict, and the
direction a node has no relations in (most nodes of a layer only hold, or are only held) points at one shared empty
adjacency dict; its first neighbour gets a `OneNeighbour` (read as a dict of one entry, a quarter of its bytes:
most adjacency lists have one neighbour), and a second one a dict of its own. Adjacency
dicts are kept in neighbour order: a new neighbour that sorts after the last one is appended in order, any other
marks the dict unsorted, and it is sorted in place when next read through `sorted_adjacency` (so searches never
re-sort on every read, and results never depend on insertion or hash order). Evidence
strings shared by many relations (article URL, publisher, extractor) are interned once, and so are the values many
records repeat (entity ids, timestamps, dates, currency codes, confidences, stakes): a parsed event brings its
own copy of each, which a record would otherwise keep for its lifetime. Validity dates are kept on the record and
filtered at query time, so "as of D" needs no rebuild.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import sys
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from operator import attrgetter
from typing import NamedTuple

import networkx as nx

from schemas.events import EntityRef, Op, RelationProperties, RelationshipEvent
from schemas.vocabulary import EntitySchema, RelationType, Status
from scoring.records import pickled_as_values
from scoring.semantics import LABELLED_BY, LAYER_OF, MONEY_TYPES, ONE_OFF_TYPES, STAKE_TYPES, SYMMETRIC_TYPES, Layer
from scoring.sources import article_key, relays_among

Version = tuple[dt.datetime, str]
_NO_ORIGINALS: Mapping[str, str] = {}  # never written


def publisher_key(publisher: str) -> str:
    """The publisher as independent sources are told apart (`Citation.source`): NFKC, case-folded, its whitespace
    collapsed and stripped. Sources spell one outlet several ways ("Reuters", "REUTERS", "Reuters " from a scraper,
    full-width letters); counted as written, one outlet's claim restated under another relation id read as two
    sources, corroborating itself (an alleged payment went from 0.149 low to 0.209 medium, "2 sources").
    Explanations show the publisher as stated (`Citation.publisher`)."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", publisher).casefold())
    return sys.intern(" ".join(folded.split()))


@pickled_as_values
class Citation:
    """Where a statement comes from; shared by every relation citing the same article through the same extractor.
    `source`: the publisher as sources are counted (`publisher_key`), and `article`: the article as it joins the
    publishers citing it into one source (`sources.article_key`), kept here, on the few citations, so that counting
    the sources of a fact costs no normalization and the millions of relations no slot."""

    __slots__ = ("source_url", "publisher", "extractor", "source", "article")

    def __init__(self, source_url: str, publisher: str, extractor: str):
        self.source_url = source_url
        self.publisher = publisher
        self.extractor = extractor
        self.source = publisher_key(publisher)
        self.article = article_key(source_url)


@pickled_as_values
class Relation:
    """The current version of one relation.

    A relation with an amount, a quote or a bound on a stake it does not give, and a fact stated several times, is
    a `DetailedRelation`, which holds those too; on a plain one they read None. Six slots on every record would cost
    48 bytes a relation, and most relations (a holding, a family tie, an office) have none of them. One that says
    only what it is (`role`: a director's role, how two relatives are related) is a `LabelledRelation`, one slot
    more than a plain record."""

    __slots__ = ("relation_id", "type", "source", "target", "start", "end", "status", "confidence", "stake",
                 "observed_at", "event_id", "citation", "offset")

    amount: float | None = None
    currency: str | None = None
    # the most a stake without a percentage can be, as a fraction (`percentage_max`); None on a record with a stake
    stake_max: float | None = None
    quote: str | None = None
    # None: one statement standing alone as its fact. On a fact stated several times (see `Fact`), the statements
    # behind it, by relation id.
    statements: tuple[Relation, ...] | None = None
    # what the relation is, as its source states it (`semantics.LABELLED_BY`: how two relatives are related, the
    # source's role in the rest), shown in explanations; a seat's also weighs it (`authority.seat_roles`)
    role: str | None = None

    def __new__(cls, event: RelationshipEvent | None = None, *args, **kwargs):
        # (no arguments: unpickling and `_merged`, which name the class themselves)
        if cls is Relation and event is not None:
            if _has_details(event):
                cls = DetailedRelation
            elif (label := _label(event)) is not None:
                labelled = object.__new__(LabelledRelation)
                labelled.role = label  # read once here, where it decides the class
                return labelled
        return object.__new__(cls)

    def __init__(self, event: RelationshipEvent, citation: Citation, offset: str | int | None,
                 observed_at: dt.datetime | None = None):
        props = event.properties
        self.relation_id = event.relation_id
        self.type: RelationType = event.relation_type
        self.source: str = event.source.id
        self.target: str = event.target.id
        self.start: dt.date | None = event.start_date
        self.end: dt.date | None = event.end_date
        self.status: Status = event.status
        self.confidence: float = event.provenance.confidence
        percentage = _guaranteed(props)
        self.stake: float | None = None if percentage is None else percentage / 100.0
        self.observed_at: dt.datetime = observed_at or utc(event.observed_at)
        self.event_id: str = event.event_id
        self.citation = citation
        self.offset = compact_offset(offset)
        if type(self) is DetailedRelation:
            self.amount = props.amount
            self.currency = props.currency
            self.quote = event.provenance.quote
            self.statements = None
            self.role = _label(event)
            self.stake_max = None if percentage is not None or props.percentage_max is None \
                else props.percentage_max / 100.0

    @property
    def version(self) -> Version:
        return self.observed_at, self.event_id

    @property
    def layer(self) -> Layer:
        return LAYER_OF[self.type]

    def other(self, node: str) -> str:
        return self.target if node == self.source else self.source

    def evidence(self) -> tuple[Relation, ...]:
        """The statements behind this edge (itself, for a fact stated once)."""
        return self.statements or (self,)

    def __repr__(self) -> str:
        return f"Relation({self.relation_id}: {self.source} -{self.type.value}-> {self.target}, {self.event_id})"


@pickled_as_values
class LabelledRelation(Relation):
    """A relation that says what it is and has none of a `DetailedRelation`'s other values."""

    __slots__ = ("role",)


@pickled_as_values
class DetailedRelation(Relation):
    """A relation with the values most have none of (see `Relation`)."""

    __slots__ = ("amount", "currency", "quote", "statements", "role", "stake_max")


# A fact stated this many times or more is a `StatedFact`: a fact stated fewer times is read statement by statement
# where it is scored and shown, at no cost worth keeping a summary for.
SUMMARISED_FROM = 16

STATUSES = tuple(Status)  # declared strongest first


class PublisherEvidence(NamedTuple):
    """What one publisher's statements of a fact add up to (`StatedFact.by_publisher`, keyed by `Citation.source`)."""

    # by status, in `STATUSES` order: the highest confidence it states the fact with in that status (None: none)
    confidence: tuple[float | None, ...]
    # its oldest statement and that statement's place in the order the evidence shows the statements after the
    # primary (`_shown_order`); the list of an edge skips the primary's publisher (`explain.listed_statements`)
    first: Relation
    first_order: tuple


@pickled_as_values
class StatedFact(DetailedRelation):
    """A fact stated `SUMMARISED_FROM` times or more, with what its statements add up to where it is scored and
    shown: the publishers (`Strength.certainty`, `explain.listed_statements`), the day it was first stated
    (`TimeModel.reference_end`) and whether any statement gives no sum (`_of_the_sums`). A restatement updates them
    (`_restated`): one fact stated ten thousand times costs an event a look at its publishers and a copy of the
    references to its statements, no pass over them in Python. It also keeps what its end is read from
    (`_ending`): the latest end a statement gives, when the newest statement giving an end was observed, and when
    the newest open-ended one was; and which articles its publishers cite (`citers`: each article's publishers,
    with how many of its statements each; `owners`: how many articles each publisher alone cites; `relaying`: the
    publishers that cite no article of their own, with the articles they cite: `scoring.sources`). Only the
    newest version keeps `citers` and `owners` (`_handed_on`)."""

    __slots__ = ("by_publisher", "first_stated", "unsummed", "statement_digest", "latest_end", "dated_seen",
                 "open_seen", "citers", "owners", "relaying")


def _label(event: RelationshipEvent) -> str | None:
    """What the relation is, as its source states it (`Relation.role`), None where it says nothing. Interned: a
    register states the same few roles and relationships millions of times."""
    labelled_by = LABELLED_BY[event.relation_type]
    text = None if labelled_by is None else getattr(event.properties, labelled_by)
    return sys.intern(text) if text and not text.isspace() else None


def naming(ref, version: Version) -> tuple[bool, Version]:
    """Which of two references of one entity its attributes follow: the newer, except that one whose name is its own
    id names nothing (Wikidata's importer names a QID its file has no label for by the QID; "Q7747" replaced
    "Vladimir Putin" wherever a later file only referred to him) and gives way to any that names it. A total order,
    so the attributes do not depend on the order events arrive in."""
    return ref.name != ref.id, version


def _guaranteed(props: RelationProperties) -> float | None:
    """The percentage a relation's stake is counted at, None for one assumed (`Strength.stake`). A range from 0
    (`percentage` 0 below a `percentage_max`: "0-10%", as the FtM export writes it) guarantees no stake, as the
    importers read one (`values.read_share`): counted as a declared 0% it passed nothing along a chain, and the same
    holding scored its top after an FtM round trip."""
    if props.percentage == 0.0 and props.percentage_max:
        return None
    if props.percentage is None and props.percentage_max == 0.0:  # at most 0% is 0%, as FtM's "0-0" re-imports
        return 0.0
    return props.percentage


def _has_details(event: RelationshipEvent) -> bool:
    props = event.properties
    return props.amount is not None or props.currency is not None or event.provenance.quote is not None \
        or (props.percentage_max is not None and _guaranteed(props) is None)


@pickled_as_values
class Entity:
    # the version is kept as its two parts: a tuple per entity would cost 64 bytes more
    __slots__ = ("id", "name", "schema", "topics", "observed_at", "event_id", "degree")

    def __init__(self, ref: EntityRef, version: Version, topics: frozenset[str]):
        self.id = ref.id
        self.name: str = ref.name
        self.schema: EntitySchema = ref.schema_
        self.topics = topics
        self.observed_at, self.event_id = version  # of the newest event that mentioned it
        self.degree = 0  # live relations touching it

    @property
    def version(self) -> Version:
        return self.observed_at, self.event_id

    def same_attributes(self, ref: EntityRef) -> bool:
        return shown_alike(self.name, self.schema, self.topics, ref)


def shown_alike(name: str, schema: EntitySchema, topics, ref: EntityRef) -> bool:
    """Whether an entity with this name, schema and topics shows as `ref` does (what the graph keeps of an entity;
    topics compare as sets, and topics listed alike need no sets built)."""
    return name == ref.name and schema == ref.schema_ and (topics == ref.topics or
                                                           frozenset(topics) == frozenset(ref.topics))


@dataclass(slots=True)
class GraphChange:
    """What applying one event changed."""

    event_id: str
    relations: list[tuple[Relation | None, Relation | None]] = field(default_factory=list)  # (before, after)
    entities: list[str] = field(default_factory=list)  # ids whose name, schema or topics changed
    # of those, the ids held before whose schema or topics changed: what decides whether a node is expanded past the
    # guard, whether a seat in it is public power and an office's tier (a name changes none of it)
    recast: list[str] = field(default_factory=list)
    stale: bool = False  # an older version than the one held: counted, but changes no relation
    # (node, layer, direction) whose adjacency went from empty to non-empty or back
    presence: list[tuple[str, Layer, int]] = field(default_factory=list)


_relation_id = attrgetter("relation_id")


def records(entry) -> tuple[Relation, ...]:
    """The relations stored on one edge of a layer (a record, or a tuple of them)."""
    return entry if type(entry) is tuple else (entry,)


FactKey = tuple


def fact_key(rec: Relation) -> FactKey:
    """Statements with equal keys may state one fact: the same type between the same ends, in either direction for
    a symmetric type (`facts_of` decides which do, by validity and, for money, by amount). A payment (a type that
    is `one_off`) is made on its date: its key holds the date too, since one sum paid on two dates is two payments
    (a review: 24 monthly payments of 10,000 stated from their dates on overlapped, and made one payment of 10,000).
    Statements of it without a date are one key of their own: they cannot say which dated payment they mean."""
    a, b = rec.source, rec.target
    if rec.type in SYMMETRIC_TYPES and b < a:
        a, b = b, a
    if rec.type in ONE_OFF_TYPES:
        return rec.type, a, b, rec.start
    return rec.type, a, b


_STATUS_RANK = {status: rank for rank, status in enumerate(STATUSES)}


def _rank(rec: Relation) -> tuple:
    """How strongly a statement states its fact, strongest lowest: its status, then one giving a stake, then one
    bounding it (`_primary`, `_outranks`)."""
    return _STATUS_RANK[rec.status], rec.stake is None, rec.stake_max is None


def _primary(cluster: list[Relation], originals: Mapping[str, str]) -> Relation:
    """The statement a fact shows first (its id, direction, status, stake): the most certain status, one that
    gives a stake, else one that bounds it, then the newest (by its input event's version: `statement_version`)."""
    best = min(map(_rank, cluster))
    return max((rec for rec in cluster if _rank(rec) == best), key=lambda rec: statement_version(rec, originals))


def statement_version(rec: Relation, originals: Mapping[str, str]) -> Version:
    """A statement's version as its input event gave it. A relation the resolution layer re-issued under its ends'
    new canonical ids reaches the graph under an id of its own that sorts after the one held (`scoring.resolution`:
    `originals` maps it to the input event's id); that id must decide nothing the input's id would have decided
    otherwise, or the scores would depend on when a merge arrived and differ after a portable import."""
    return rec.observed_at, originals.get(rec.event_id, rec.event_id)


def _shown_order(rec: Relation, originals: Mapping[str, str]) -> tuple:
    """Where a statement other than the primary stands in its fact's evidence: oldest first, by relation id among
    equal versions (the order `_merged` gives)."""
    return *statement_version(rec, originals), rec.relation_id


def _outranks(rec: Relation, primary: Relation, originals: Mapping[str, str]) -> bool:
    """Whether `rec` would be its fact's primary (`_primary`) rather than `primary`: a more certain status, a stake
    or a bound on one, then the newer, then (of one version) the lower relation id, as `_primary` takes the first of
    its statements in relation id order."""
    ranks = _rank(rec), _rank(primary)
    if ranks[0] != ranks[1]:
        return ranks[0] < ranks[1]
    versions = statement_version(rec, originals), statement_version(primary, originals)
    if versions[0] != versions[1]:
        return versions[0] > versions[1]
    return rec.relation_id < primary.relation_id


# Relations whose statements carry a value a source restates for each period: a stake (a register closes a
# statement and opens the next one on every change, BODS on each) or a sum (each quarter's fee is a payment of its
# own). Their statements are one fact only where their validity overlaps; those of every other type also where it
# touches (one starts the day after another ends: consecutive quarterly lobbying reports, consecutive terms).
_VALUED_TYPES = STAKE_TYPES | MONEY_TYPES


def _adjoins(relation_type: RelationType) -> bool:
    """Whether statements of this type whose validity touches are one fact (see `_VALUED_TYPES`)."""
    return relation_type not in _VALUED_TYPES


def _overlap(first_end: dt.date | None, start: dt.date | None, adjoining: bool = False) -> bool:
    """Whether validity from `start` meets validity up to `first_end` (None: unbounded): shares a day, or with
    `adjoining`, begins the day after."""
    return first_end is None or start is None or (start - first_end).days <= (1 if adjoining else 0)


def facts_of(statements: list[Relation], previous: tuple[Relation, ...] = (),
             originals: Mapping[str, str] = _NO_ORIGINALS) -> list[Relation]:
    """The facts these statements (of one `fact_key`) make: statements whose validity overlaps, directly or through
    others, are one fact; for a type without a stake or a sum (`_adjoins`), also statements whose validity touches
    (one starts the day after another ends). Grouping reads each statement's own stated validity. A fact stated
    once is that statement's record; one stated several times is a record carrying the primary statement's values
    (`_primary`), from the earliest start, to the end its statements say together (`_ending`: an open end says the
    fact held when its statement was observed, not after a newer statement said it ended), with the statements
    attached. A fact of `previous` with exactly the same statements is returned as it was.

    Money: two sums are two payments, however their dates overlap. A statement without a sum (an outlet reporting
    the payment another gave the figure of) corroborates the payment it overlaps, the largest where it overlaps
    several (it cannot say which it means, and the largest is the one a score weighs most); it never bridges two
    sums, and one overlapping none is a payment of its own. (The graph knows no exchange rates: sums in different
    currencies compare as given, and equal ones go to the first currency in alphabetical order.)"""
    by_money: dict[tuple, list[Relation]] = {}
    vague: list[Relation] = []
    for rec in statements:
        if rec.amount is None:
            vague.append(rec)
        else:
            by_money.setdefault((rec.amount, rec.currency), []).append(rec)
    if not by_money or (len(by_money) == 1 and not vague):
        clusters = _overlapping(statements)  # every statement of a type without money, and most payments
    else:
        # one pass per statement (a filter per sum made thousands of payments of distinct sums between two
        # parties cost a thousand passes over all of them on every event)
        clusters = []
        for money in sorted(by_money, key=lambda money: (money[0], money[1] or "")):
            clusters.extend(_overlapping(by_money[money]))
        _join_vague(clusters, _overlapping(vague))
    kept = {frozenset(map(id, fact.evidence())): fact for fact in previous}
    facts = []
    for cluster in clusters:
        cluster.sort(key=lambda r: r.relation_id)
        held = kept.get(frozenset(map(id, cluster)))
        if held is not None:
            facts.append(held)
        elif len(cluster) == 1:
            facts.append(cluster[0])
        else:
            facts.append(_merged(cluster, originals))
    return facts


def _of_the_sums(facts: list[Relation], before: Relation | None, after: Relation | None) -> list[Relation]:
    """Of the facts of one key, those a change from `before` to `after` can alter: with a sum on both sides and no
    statement without one among them (so no report can move from one payment to another), only the facts of the
    sums it names; else all. Thousands of payments of distinct sums between two parties (a ministry paying a
    vendor for each contract) then cost an event a look at them, not their facts rebuilt (`facts_of`)."""
    if len(facts) < 2 or any(rec is not None and rec.amount is None for rec in (before, after)):
        return facts
    sums = {(rec.amount, rec.currency) for rec in (before, after) if rec is not None}
    chosen = []
    for fact in facts:
        if _unsummed(fact):
            return facts
        if (fact.amount, fact.currency) in sums:
            chosen.append(fact)
    return chosen


def _overlapping(statements: list[Relation]) -> list[list[Relation]]:
    """The statements in groups whose validity overlaps (or touches, for a type that `_adjoins`), directly or
    through others."""
    ordered = sorted(statements, key=lambda r: (r.start is not None, r.start or dt.date.min, r.relation_id))
    adjoining = bool(ordered) and _adjoins(ordered[0].type)  # (one key: one type)
    clusters: list[list[Relation]] = []
    reach_end: dt.date | None = dt.date.min
    for rec in ordered:
        if clusters and _overlap(reach_end, rec.start, adjoining):
            clusters[-1].append(rec)
            reach_end = None if reach_end is None or rec.end is None else max(reach_end, rec.end)
        else:
            clusters.append([rec])
            reach_end = rec.end
    return clusters


def _join_vague(clusters: list[list[Relation]], vague: list[list[Relation]]) -> None:
    """Each group of statements without a sum (`vague`, from `_overlapping`) joins the cluster of a sum it overlaps
    with the largest amount (of equal ones, the first in `clusters`); one overlapping none is appended as it is.
    The vague groups are disjoint and in order, so the ones a cluster overlaps are a run of them, found by
    bisection; and since they are disjoint, a group joining a cluster changes none of the others' choices."""
    if not vague:
        return
    spans = [_span(group) for group in vague]
    ends = [dt.date.max if end is None else end for _, end in spans]  # ascending: the groups are disjoint
    starts = [dt.date.min if start is None else start for start, _ in spans]
    best: list[list[Relation] | None] = [None] * len(vague)
    for cluster in clusters:
        start, end = _span(cluster)
        first = 0 if start is None else bisect.bisect_left(ends, start)
        last = len(vague) if end is None else bisect.bisect_right(starts, end)
        amount = cluster[0].amount
        for index in range(first, last):
            held = best[index]
            if held is None or amount > held[0].amount:
                best[index] = cluster
    for group, joined in zip(vague, best):
        if joined is not None:
            joined.extend(group)
        else:
            clusters.append(group)


def _span(cluster) -> tuple[dt.date | None, dt.date | None]:
    """What a group of statements reaches, as grouping reads it: from the first start to the last stated end (None:
    unbounded). Not when the fact holds: that ends where `_ending` says."""
    return (None if any(r.start is None for r in cluster) else min(r.start for r in cluster),
            None if any(r.end is None for r in cluster) else max(r.end for r in cluster))


Ending = tuple  # (latest stated end, newest observation of a statement giving one, newest of an open-ended one)


def _ending(statements) -> Ending:
    """What a fact's end is read from (`_end_of`): the latest end its statements give and when the newest of those
    was observed (None, None: none gives one), and when the newest open-ended statement was observed (None: none)."""
    latest_end = dated_seen = open_seen = None
    for rec in statements:
        latest_end, dated_seen, open_seen = _ended_with((latest_end, dated_seen, open_seen), rec)
    return latest_end, dated_seen, open_seen


def _ended_with(ending: Ending, rec: Relation) -> Ending:
    """`ending` with one more statement."""
    latest_end, dated_seen, open_seen = ending
    if rec.end is None:
        return latest_end, dated_seen, rec.observed_at if open_seen is None else max(open_seen, rec.observed_at)
    return (rec.end if latest_end is None else max(latest_end, rec.end),
            rec.observed_at if dated_seen is None else max(dated_seen, rec.observed_at), open_seen)


def _end_of(ending: Ending) -> dt.date | None:
    """When a fact stated several times ends. An open end says the tie held when its statement was observed, not
    that it holds for ever after a newer statement said it ended: the fact is open (None) only if an open-ended
    statement was observed strictly after every statement giving an end; else it ends at the latest of the ends
    given and the days its open-ended statements were observed (it held at least until it was seen to)."""
    latest_end, dated_seen, open_seen = ending
    if open_seen is not None and (dated_seen is None or open_seen > dated_seen):
        return None
    if open_seen is None:
        return latest_end
    return max(latest_end, open_seen.date())


def _reach(fact: Relation) -> tuple[dt.date | None, dt.date | None]:
    """What a fact's statements reach together, as grouping reads them (`_span`; its start is the fact's)."""
    if fact.statements is None:
        return fact.start, fact.end
    if type(fact) is StatedFact:
        return fact.start, None if fact.open_seen is not None else fact.latest_end
    return _span(fact.statements)


def _unsummed(fact: Relation) -> bool:
    """Whether a statement of this fact gives no sum (one that corroborates a payment another gave the sum of)."""
    if fact.statements is None:
        return fact.amount is None
    if type(fact) is StatedFact:
        return fact.unsummed
    return any(statement.amount is None for statement in fact.statements)


_DIGESTS = 1 << 128


def _statement_hash(rec: Relation) -> int:
    return int.from_bytes(hashlib.blake2b(rec.event_id.encode(), digest_size=16).digest(), "big")


def _fact_version(primary: Relation, statements: int, digest: int) -> str:
    """A fact's version (its `event_id`, which explanations and the calendar compare): equal for equal statements,
    different for different ones but by a collision of the digest, and short however many statements there are
    (docs/scoring.md). `digest`: the sum of all its statements' event ids' 128-bit hashes (`_statement_hash`),
    which a restatement adds to (`_restated`). Not collision-resistant against event ids chosen for it (a sum
    of hashes can be solved for); a collision would only make a changed fact look unchanged to the comparisons."""
    return f"{primary.event_id}+{statements - 1}#{digest:032x}"


def _take_values(fact: Relation, primary: Relation) -> None:
    for slot in (*Relation.__slots__, *DetailedRelation.__slots__):
        setattr(fact, slot, getattr(primary, slot))


def _merged(cluster: list[Relation], originals: Mapping[str, str]) -> Relation:
    primary = _primary(cluster, originals)
    fact = object.__new__(StatedFact if len(cluster) >= SUMMARISED_FROM else DetailedRelation)
    _take_values(fact, primary)
    ending = _ending(cluster)
    fact.start, fact.end = _span(cluster)[0], _end_of(ending)
    if fact.amount is None:  # a primary without the sum (`facts_of`: every sum in one fact is the same)
        fact.amount, fact.currency = next(((r.amount, r.currency) for r in cluster if r.amount is not None),
                                          (None, fact.currency))
    fact.observed_at = max(r.observed_at for r in cluster)
    digest = sum(map(_statement_hash, cluster)) % _DIGESTS
    fact.event_id = _fact_version(primary, len(cluster), digest)
    # in the order its evidence shows them (`explain.statements`): the primary first, then oldest first
    rest = sorted((r for r in cluster if r is not primary), key=lambda r: _shown_order(r, originals))
    fact.statements = (primary, *rest)
    if type(fact) is StatedFact:
        _summarise(fact, originals)
        fact.statement_digest = digest
        fact.latest_end, fact.dated_seen, fact.open_seen = ending
    return fact


def _summarise(fact: StatedFact, originals: Mapping[str, str]) -> None:
    fact.by_publisher = {}
    for statement in fact.statements:
        _count(fact.by_publisher, statement, originals)
    fact.first_stated = min(map(_stated_on, fact.statements))
    fact.unsummed = any(statement.amount is None for statement in fact.statements)
    _cite(fact, fact.statements)


def _cite(fact: StatedFact, statements) -> None:
    """`fact`'s `citers`, `owners` and `relaying`, from all of its statements."""
    fact.citers, fact.owners = _citers_of(statements)
    fact.relaying = _relaying(fact)


# `StatedFact.citers`: each article's publishers with how many of its statements each, or, for an article one
# statement cites (most, in a source that gives each statement a page of its own), that statement's publisher:
# a dict for each of thousands of such articles would take 230 bytes a statement.
Citers = dict[str, "str | dict[str, int]"]


def _citers_of(statements) -> tuple[Citers, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for citation in map(_CITATION, statements):
        held = counts.setdefault(citation.article, {})
        held[citation.source] = held.get(citation.source, 0) + 1
    citers: Citers = {article: _compact(held) for article, held in counts.items()}
    owners: dict[str, int] = {}
    for held in counts.values():
        if len(held) == 1:
            (publisher,) = held
            owners[publisher] = owners.get(publisher, 0) + 1
    return citers, owners


def _compact(held: dict[str, int]) -> str | dict[str, int]:
    """An article's publishers as `Citers` keeps them."""
    if len(held) == 1:
        ((publisher, count),) = held.items()
        if count == 1:
            return publisher
    return held


def _publishers_of(held: str | dict[str, int]) -> dict[str, int]:
    return {held: 1} if type(held) is str else held


_CITATION = attrgetter("citation")


def _handed_on(fact: StatedFact) -> tuple[Citers, dict[str, int]]:
    """`fact`'s `citers` and `owners`, for its successor to change in place: a fact stated many times is replaced
    by its successor, so it gives them up (None) rather than have each version copy a dict of every article it
    cites. One asked again (a successor made and then not used) makes them afresh from its statements."""
    citers, owners = fact.citers, fact.owners
    if citers is None:
        citers, owners = _citers_of(fact.statements)
    fact.citers = fact.owners = None
    return citers, owners


def _uncited(fact: StatedFact, new: StatedFact, citation: Citation) -> None:
    """`new`'s `citers`, `owners` and `relaying`: `fact`'s, without a statement citing `citation` (the same
    relays where another statement of its publisher cites that article: most withdrawals). The relays are edited
    where one publisher's part changes, found afresh only where a publisher loses its last article of its own and
    still cites others (which of them are shared takes a pass)."""
    publisher, article = citation.source, citation.article
    new.citers, new.owners = citers, owners = _handed_on(fact)
    new.relaying = relaying = fact.relaying
    held = dict(_publishers_of(citers[article]))
    if held[publisher] > 1:
        held[publisher] -= 1
        citers[article] = _compact(held)
        return
    del held[publisher]
    if not held:  # the article is cited no more: it was its publisher's own
        del citers[article]
        if owners[publisher] > 1:
            owners[publisher] -= 1
            return
        del owners[publisher]
        if publisher in new.by_publisher:  # (it still states the fact, only through articles others cite)
            new.relaying = _relaying(new)
        return
    citers[article] = _compact(held)
    if len(held) == 1:  # its one publisher left cites it alone now: an article of its own
        (left,) = held
        owners[left] = owners.get(left, 0) + 1
        relaying = _edited(relaying, left, leaving=True)
    new.relaying = _edited(relaying, publisher, removed=article)


def _relaying(fact: StatedFact) -> dict[str, list[str]] | None:
    if len(fact.owners) == len(fact.by_publisher):  # every publisher cites an article of its own
        return None
    return relays_among(((article, held) for article, held in fact.citers.items()
                         if type(held) is not str and len(held) > 1), fact.owners)


def _edited(relaying: dict[str, list[str]] | None, publisher: str, *, added: str | None = None,
            removed: str | None = None, leaving: bool = False) -> dict[str, list[str]] | None:
    """`relaying` with one publisher's part changed: an article `added` to or `removed` from a relay's (a relay
    left with none leaves), or the publisher `leaving` the relays (it has an article of its own now). A new dict:
    the older version keeps its own."""
    if added is None and (relaying is None or publisher not in relaying):
        return relaying
    edited = dict(relaying or {})
    held = edited.pop(publisher, ())
    articles = [] if leaving else [*held]
    if added is not None:
        articles.append(added)
    if removed is not None:
        articles.remove(removed)
    if articles:
        edited[publisher] = articles
    return edited or None


def _cited_too(fact: StatedFact, new: StatedFact, citation: Citation) -> None:
    """`new`'s `citers`, `owners` and `relaying`: `fact`'s, with one more statement citing `citation` (the same
    relays where it cites an article its publisher cited already: most restatements). The relays are edited where
    one publisher's part changes, found afresh only where a publisher loses its last article of its own (whose
    other articles are shared takes a pass)."""
    publisher, article = citation.source, citation.article
    new.citers, new.owners = citers, owners = _handed_on(fact)
    new.relaying = relaying = fact.relaying
    held = citers.get(article)
    if held is None:  # an article of its own: a relay no more, if it was one
        citers[article] = publisher
        owners[publisher] = owners.get(publisher, 0) + 1
        new.relaying = _edited(relaying, publisher, leaving=True)
        return
    held = citers[article] = dict(_publishers_of(held))
    if publisher in held:
        held[publisher] += 1
        return
    if len(held) == 1:  # the article its one publisher cited alone is shared now
        (alone,) = held
        if owners[alone] == 1:
            del owners[alone]
            held[publisher] = 1
            new.relaying = _relaying(new)  # (that publisher cites no article of its own now)
            return
        owners[alone] -= 1
    held[publisher] = 1
    if publisher not in owners:  # a relay, or a new publisher citing only what others cite: one more article
        new.relaying = _edited(relaying, publisher, added=article)


def _stated_on(rec: Relation) -> dt.date:
    """The day a statement says its fact held, or else the day it was stated (`TimeModel.reference_end`)."""
    return rec.start if rec.start is not None else rec.observed_at.date()


def _count(by_publisher: dict[str, PublisherEvidence], statement: Relation, originals: Mapping[str, str]) -> None:
    """Add one statement to its publisher's evidence (a new tuple: a fact's dict is shared with no other), under the
    publisher as sources are counted (`Citation.source`)."""
    publisher = statement.citation.source
    held = by_publisher.get(publisher)
    index = _STATUS_RANK[statement.status]
    if held is None:
        confidence, first, first_order = [None] * len(STATUSES), None, None
    else:
        confidence, first, first_order = list(held.confidence), held.first, held.first_order
    if confidence[index] is None or statement.confidence > confidence[index]:
        confidence[index] = statement.confidence
    order = _shown_order(statement, originals)
    if first_order is None or order < first_order:
        first, first_order = statement, order
    by_publisher[publisher] = PublisherEvidence(tuple(confidence), first, first_order)


def _restated(fact: StatedFact, statement: Relation, originals: Mapping[str, str]) -> StatedFact:
    """`fact` with one more statement, which overlaps it and has its sum or, like all of its statements, none:
    what `_merged` would make of them all, without a pass over them (see `StatedFact`)."""
    primary = fact.statements[0]
    if _outranks(statement, primary, originals):
        primary, demoted = statement, primary
    else:
        demoted = statement
    new = object.__new__(StatedFact)
    _take_values(new, primary)
    ending = _ended_with((fact.latest_end, fact.dated_seen, fact.open_seen), statement)
    new.latest_end, new.dated_seen, new.open_seen = ending
    new.start, new.end = _span((fact, statement))[0], _end_of(ending)
    new.observed_at = max(fact.observed_at, statement.observed_at)
    statements = list(fact.statements)  # (two copies of the references, where slices and sums of tuples took five)
    statements[0] = primary
    statements.insert(bisect.bisect(statements, _shown_order(demoted, originals), lo=1,
                                    key=lambda r: _shown_order(r, originals)), demoted)
    new.statements = tuple(statements)
    new.statement_digest = (fact.statement_digest + _statement_hash(statement)) % _DIGESTS
    new.event_id = _fact_version(primary, len(new.statements), new.statement_digest)
    new.by_publisher = dict(fact.by_publisher)
    _count(new.by_publisher, statement, originals)
    _cited_too(fact, new, statement.citation)
    new.first_stated = min(fact.first_stated, _stated_on(statement))
    new.unsummed = fact.unsummed or statement.amount is None
    return new


def _place(fact: StatedFact, statement: Relation, originals: Mapping[str, str]) -> int | None:
    """Where `statement` stands among the fact's statements (found by its place in their order, not a pass), or None
    where it is not one of them."""
    statements = fact.statements
    if statements[0] is statement:
        return 0
    order = _shown_order(statement, originals)
    index = bisect.bisect_left(statements, order, lo=1, key=lambda r: _shown_order(r, originals))
    return index if index < len(statements) and statements[index] is statement else None


def _unstated(fact: StatedFact, statement: Relation, originals: Mapping[str, str]) -> StatedFact | None:
    """`fact` without one of its statements, where the rest stay one fact stated at least `SUMMARISED_FROM` times:
    what `_merged` would make of them, without a pass over them unless the statement was the one the fact shows
    first, its newest, its earliest stated or its publisher's first or most confident. The rest stay one fact over
    the same span where one of them holds over all of the fact's span (every other statement lies within it, so
    overlaps it: most facts stated many times are undated, or open from one date); None where that cannot be told
    so (`facts_of` decides then)."""
    index = _place(fact, statement, originals)
    statements = fact.statements
    if index is None or len(statements) - 1 < SUMMARISED_FROM:
        return None
    rest = statements[:index] + statements[index + 1:]
    start, end = _reach(fact)
    if not any(rec.start == start and rec.end == end for rec in rest):
        return None
    if index == 0:  # the primary leaves: the next one, as `_primary` would choose it
        primary = rest[0]
        for rec in rest:
            if _outranks(rec, primary, originals):
                primary = rec
        rest = (primary, *(rec for rec in rest if rec is not primary))
    new = object.__new__(StatedFact)
    _take_values(new, rest[0])
    new.start = start  # (`_span`: one statement reaches over all of it)
    ending = fact.latest_end, fact.dated_seen, fact.open_seen
    seen = ending[2] if statement.end is None else ending[1]
    if statement.observed_at == seen or (statement.end is not None and statement.end == ending[0]):
        ending = _ending(rest)  # it was the newest of its kind, or gave the latest end
    new.latest_end, new.dated_seen, new.open_seen = ending
    new.end = _end_of(ending)
    new.observed_at = fact.observed_at if statement.observed_at < fact.observed_at \
        else max(rec.observed_at for rec in rest)
    new.statements = rest
    new.statement_digest = (fact.statement_digest - _statement_hash(statement)) % _DIGESTS
    new.event_id = _fact_version(rest[0], len(rest), new.statement_digest)
    new.by_publisher = by_publisher = dict(fact.by_publisher)
    publisher = statement.citation.source
    held = by_publisher[publisher]
    if held.first is statement or held.confidence[_STATUS_RANK[statement.status]] == statement.confidence:
        recounted: dict[str, PublisherEvidence] = {}
        for rec in rest:
            if rec.citation.source == publisher:
                _count(recounted, rec, originals)
        if publisher in recounted:
            by_publisher[publisher] = recounted[publisher]  # (in its place: the order means nothing, but stays)
        else:
            del by_publisher[publisher]
    _uncited(fact, new, statement.citation)
    stated_on = _stated_on(statement)
    new.first_stated = fact.first_stated if stated_on > fact.first_stated else min(map(_stated_on, rest))
    new.unsummed = True  # (no statement of it gives a sum: `_stated_no_more`)
    return new


def _validities_meet(fact: Relation, rec: Relation) -> bool:
    """Whether a statement meets what a fact's statements reach (`_reach`), as `_overlapping` joins them: a day in
    common (None: unbounded), or, for a type that `_adjoins`, one begins the day after the other ends."""
    start, end = _reach(fact)
    adjoining = _adjoins(rec.type)
    return _overlap(rec.end, start, adjoining) and _overlap(end, rec.start, adjoining)


def _within(rec: Relation, summed: Relation) -> bool:
    """Whether `rec` holds only while `summed`, a statement that gives a sum, does."""
    return summed.amount is not None \
        and (summed.start is None or (rec.start is not None and rec.start >= summed.start)) \
        and (summed.end is None or (rec.end is not None and rec.end <= summed.end))


def utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is dt.UTC:
        return moment  # the common case; no copy
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


# An input position ("partition:offset", as the worker cites the message a relation came from) is held as one int,
# offset * _PARTITIONS + partition: every relation keeps its position for its lifetime, in the graph and in the
# resolution layer, and a string of 10 characters costs 59 bytes where an int costs 32. Other text is kept as text.
_PARTITIONS = 4096


def compact_offset(position: str | int | None) -> str | int | None:
    """The position as the records keep it (`offset_text` gives the text back)."""
    if type(position) is not str:
        return position
    partition, _, offset = position.partition(":")
    if partition.isdigit() and offset.isdigit() and int(partition) < _PARTITIONS \
            and f"{int(partition)}:{int(offset)}" == position:
        return int(offset) * _PARTITIONS + int(partition)
    return position


def offset_text(held: str | int | None) -> str | None:
    """The position a record keeps, as it was given ("partition:offset")."""
    if type(held) is not int:
        return held
    offset, partition = divmod(held, _PARTITIONS)
    return f"{partition}:{offset}"


_EMPTY: dict = {}
_RECAST = "recast"  # `TemporalGraph._update_entity`: a held entity's schema or topics changed


@pickled_as_values
class OneNeighbour:
    """The adjacency of a (node, layer, direction) with one neighbour: read as a dict of one entry, which is what
    most adjacency lists are (0.8 of them a relation in the synthetic registers), and which would cost 200 bytes
    as a dict where this costs 48. The graph replaces it with a dict when a second neighbour comes, and a dict
    with it when one neighbour is left. Read only, as every adjacency the graph hands out."""

    __slots__ = ("neighbour", "entry")

    def __init__(self, neighbour: str, entry):
        self.neighbour = neighbour
        self.entry = entry

    def __len__(self) -> int:
        return 1

    def __bool__(self) -> bool:
        return True

    def __iter__(self):
        return iter((self.neighbour,))

    __reversed__ = __iter__

    def __contains__(self, node) -> bool:
        return node == self.neighbour

    def __getitem__(self, node):
        if node == self.neighbour:
            return self.entry
        raise KeyError(node)

    def get(self, node, default=None):
        return self.entry if node == self.neighbour else default

    def items(self) -> tuple:
        return ((self.neighbour, self.entry),)

    def keys(self) -> frozenset[str]:
        return frozenset((self.neighbour,))  # set-like, as a dict's keys are

    def values(self) -> tuple:
        return (self.entry,)

    def __eq__(self, other) -> bool:
        return isinstance(other, Mapping) and len(other) == 1 and self.neighbour in other \
            and other[self.neighbour] == self.entry

    __hash__ = None  # a mapping

    def __repr__(self) -> str:
        return f"{{{self.neighbour!r}: {self.entry!r}}}"


Mapping.register(OneNeighbour)


class _Layer(nx.DiGraph):
    """A DiGraph whose nodes share one (never written) attribute dict: the scorer keeps entity attributes on
    `Entity`, and a dict per node and layer would cost ~64 bytes each for nothing. Edge data: see the module
    docstring; read it through `records`."""

    _NO_ATTRIBUTES: dict = {}
    node_attr_dict_factory = staticmethod(lambda: _Layer._NO_ATTRIBUTES)


class TemporalGraph:
    def __init__(self):
        self._layers = tuple(_Layer() for _ in Layer)
        # index layer * 2 + direction (0 out, 1 in) -> that layer's networkx adjacency (node -> {neighbour: entry}),
        # in neighbour order unless the node is in the matching `_unsorted` set
        self._adj: tuple[dict[str, dict], ...] = tuple(
            adjacency for graph in self._layers for adjacency in (graph._succ, graph._pred))
        self._unsorted: tuple[set[str], ...] = tuple(set() for _ in range(2 * len(Layer)))
        self._relations: dict[str, Relation] = {}  # live statements by relation id
        # the edges are the facts, found through the adjacency (a map of them by id would cost a dict entry per
        # relation for the calendar's rare look-ups, see `fact`)
        self._fact_count = 0
        self._tombstones: dict[str, Version] = {}
        self._entities: dict[str, Entity] = {}
        # True: a reference named by its own id gives way to one that names the entity (`naming`). The resolution
        # layer chooses the reference it sends (the same rule, and its clusters' merged references, and its pushes
        # of attributes), so behind it the newest reference sent wins as sent
        self.prefer_named = True
        # the ids applied, as a dict's keys: a dict of strings costs half a set's bytes per entry or less; None
        # once whoever feeds the graph applies each id once (`trust_event_ids`): then only their count is kept
        self._events: dict[str, None] | None = {}
        self._event_count = 0
        self._citations: dict[tuple[str, str, str], Citation] = {}
        self._topic_sets: dict[frozenset[str], frozenset[str]] = {}  # one object per distinct set of topics
        # one object per distinct timestamp, date and currency code on relations
        self._shared_times: dict[dt.datetime, dt.datetime] = {}
        self._shared_dates: dict[dt.date, dt.date] = {}
        self._shared_codes: dict[str, str] = {}
        # confidences and stakes, never zero (see `_number`); not amounts: most are distinct, and an entry here
        # costs more than the float it would share
        self._shared_numbers: dict[float, float] = {}
        # The adjacency of every (node, layer, direction) without relations there, until it gets one: see the
        # module docstring. Held by the graph, not the module, so that a copy (a snapshot's pickle) keeps it shared
        # and recognisable. Never written.
        self._no_neighbours: dict = {}
        self._node_count = 0
        self._clock: dt.datetime | None = None
        # engine event id -> the input event id behind it, for the ids the resolution layer re-issues relations
        # under (it shares its own map here): a fact's primary and evidence order are decided by the input's id
        self.original_event_ids: Mapping[str, str] = _NO_ORIGINALS

    # -- applying events ------------------------------------------------------------------------------------------

    def apply(self, event: RelationshipEvent, offset: str | int | None = None, *,
              track: bool = True) -> GraphChange | None:
        """Apply one event; None if this event id was applied before (then nothing changes; see `trust_event_ids`).
        `track=False` (a bulk load, which rebuilds every score afterwards): the change lists no relations and no
        presence changes, which cost about a tenth of applying."""
        events = self._events
        if events is not None:
            if event.event_id in events:
                return None
            events[event.event_id] = None
        self._event_count += 1
        observed = self.shared_time(utc(event.observed_at))
        if self._clock is None or observed > self._clock:
            self._clock = observed
        version: Version = (observed, event.event_id)
        change = GraphChange(event.event_id)
        for ref in (event.source, event.target):
            updated = self._update_entity(ref, version)
            if updated:
                change.entities.append(ref.id)
                if updated is _RECAST:
                    change.recast.append(ref.id)
        held = self.version_of(event.relation_id)
        if held is not None and version < held:
            change.stale = True
            return change
        before = self._relations.get(event.relation_id)
        after = self._relation(event, offset, observed) if event.op is Op.UPSERT else None
        if before is not None:
            del self._relations[before.relation_id]
        if after is not None:
            self._relations[after.relation_id] = after
            self._tombstones.pop(event.relation_id, None)
        else:
            self._tombstones[event.relation_id] = version
        removed, added = self._restate(before, after)
        if not track:
            for fact in removed:
                self._unlink(fact)
            for fact in added:
                self._link(fact)
            return change
        presence = {(rec.source, rec.layer, 0): None for rec in (*removed, *added)}
        presence.update({(rec.target, rec.layer, 1): None for rec in (*removed, *added)})
        for key in presence:
            presence[key] = bool(self.adjacency(*key))
        for fact in removed:
            self._unlink(fact)
        for fact in added:
            self._link(fact)
        change.relations.extend((fact, None) for fact in removed)
        change.relations.extend((None, fact) for fact in added)
        change.presence = [key for key, had in presence.items() if had != bool(self.adjacency(*key))]
        return change

    def _restate(self, before: Relation | None, after: Relation | None) -> tuple[list[Relation], list[Relation]]:
        """The facts that one statement's change removes and adds (see `facts_of`)."""
        if before is None and after is not None:
            stated = self._stated_again(after)
            if stated is not None:
                return stated
        elif before is not None and type(before) is not StatedFact:
            unstated = self._stated_no_more(before, after)
            if unstated is not None:
                return unstated
        keys = dict.fromkeys(fact_key(rec) for rec in (before, after) if rec is not None)
        removed, added = [], []
        for key in keys:
            old = _of_the_sums(self._facts_at(key), before, after)
            statements = [st for fact in old for st in fact.evidence() if st is not before]
            if after is not None and fact_key(after) == key:
                statements.append(after)
            if not old and len(statements) <= 1:  # the common case: a relation no other statement states
                added.extend(statements)
                continue
            new = facts_of(statements, tuple(old), self.original_event_ids)
            kept, held = {id(fact) for fact in new}, {id(fact) for fact in old}
            removed.extend(fact for fact in old if id(fact) not in kept)
            added.extend(fact for fact in new if id(fact) not in held)
        return removed, added

    def _stated_again(self, statement: Relation) -> tuple[list[Relation], list[Relation]] | None:
        """The facts a new statement removes and adds when it restates at most one fact of its key and no report
        without a sum can move from one payment to another: what `facts_of` would decide, found without regrouping
        the key's statements. None where `facts_of` must decide."""
        facts = self._facts_at(fact_key(statement))
        money = statement.amount, statement.currency
        joined = None
        unsummed = False  # a report without the sum among the key's payments
        for fact in facts:
            if statement.amount is None:
                if fact.amount is not None:
                    return None  # a report without the sum: which payment it corroborates is `facts_of`'s to say
            else:
                if fact.amount is None or (fact.statements is not None and _unsummed(fact)):
                    unsummed = True  # (inline for a fact stated once: an edge may hold thousands of payments)
                if (fact.amount, fact.currency) != money:
                    continue  # another payment
            if _validities_meet(fact, statement):
                if joined is not None:
                    return None  # it joins two facts into one
                joined = fact
        if unsummed and (joined is None or not _within(statement, joined.evidence()[0])):
            # A report without the sum joins the payment it overlaps with the largest sum (`_join_vague`): a sum's
            # statements reaching further could take it from another. One within a statement of its payment that
            # gives the sum (the primary, or the fact stated once) reaches no further than they did.
            return None
        if joined is None:
            return [], [statement]
        if type(joined) is StatedFact:
            return [joined], [_restated(joined, statement, self.original_event_ids)]
        cluster = sorted((*joined.evidence(), statement), key=lambda r: r.relation_id)
        return [joined], [_merged(cluster, self.original_event_ids)]

    def _stated_no_more(self, before: Relation, after: Relation | None) -> tuple[list[Relation], list[Relation]] | None:
        """The facts a statement's retraction (or its new version) removes and adds where it leaves a fact stated
        many times that stays one (`_unstated`) among facts without sums, and its new version, if any, joins that
        fact alone: what `facts_of` would decide, without regrouping the fact's statements. None where `facts_of`
        must decide. (A source withdrawing its statements of a fact stated thousands of times cost a pass over all
        of them each.)"""
        key = fact_key(before)
        if before.amount is not None or (after is not None and (after.amount is not None or fact_key(after) != key)):
            return None
        facts = self._facts_at(key)
        holding = None
        for fact in facts:
            if fact.amount is not None:
                return None  # payments: which report corroborates which sum is `facts_of`'s to say
            if type(fact) is StatedFact and _place(fact, before, self.original_event_ids) is not None:
                holding = fact
        if holding is None:
            return None
        rest = _unstated(holding, before, self.original_event_ids)
        if rest is None:
            return None
        if after is None:
            return [holding], [rest]
        if not _validities_meet(holding, after) \
                or any(fact is not holding and _validities_meet(fact, after) for fact in facts):
            return None  # its new version leaves the fact, or joins another fact of the key too
        return [holding], [_restated(rest, after, self.original_event_ids)]

    def _facts_at(self, key: FactKey) -> list[Relation]:
        """The facts of one key in the adjacency."""
        relation_type, a, b = key[0], key[1], key[2]
        out = self._adj[LAYER_OF[relation_type] * 2]
        ends = ((a, b), (b, a)) if relation_type in SYMMETRIC_TYPES and a != b else ((a, b),)
        found = []
        for u, v in ends:
            held = out.get(u, _EMPTY).get(v)
            if held is not None:
                # an edge u -> v holds relations from u to v only: of those, the key's are the ones of its type (and
                # of a payment, its date: each of the key's statements starts on it, so its fact does)
                if len(key) == 3:
                    found.extend([rec for rec in records(held) if rec.type is relation_type])
                else:
                    found.extend([rec for rec in records(held) if rec.type is relation_type and rec.start == key[3]])
        return found

    def _update_entity(self, ref: EntityRef, version: Version) -> bool | str:
        """Whether the entity's attributes changed (new, or another name, schema or topics): `_RECAST` where it was
        held before with another schema or other topics, else True or False."""
        entity = self._entities.get(ref.id)
        if entity is None:
            self._entities[ref.id] = Entity(ref, version, self._interned_topics(ref.topics))
            return True
        if (naming(ref, version) < naming(entity, entity.version)) if self.prefer_named else version < entity.version:
            return False
        changed: bool | str = not entity.same_attributes(ref)
        if changed:
            if entity.schema != ref.schema_ or not (entity.topics == ref.topics
                                                    or frozenset(entity.topics) == frozenset(ref.topics)):
                changed = _RECAST
            entity.name, entity.schema = ref.name, ref.schema_
            entity.topics = self._interned_topics(ref.topics)
        entity.observed_at, entity.event_id = version
        return changed

    def shared_time(self, moment: dt.datetime) -> dt.datetime:
        """The one object held for this timestamp: events bring their own copies, and bulk sources state most
        relations at a handful of moments."""
        return self._shared_times.setdefault(moment, moment)

    def _relation(self, event: RelationshipEvent, offset: str | int | None, observed_at: dt.datetime) -> Relation:
        """A new record whose values repeated across relations (entity ids, dates, currency) are the objects
        already held: every parsed event brings its own copies, and a relation keeps them for its lifetime."""
        rec = Relation(event, self._citation(event), offset, observed_at)  # observed_at: shared already (apply)
        rec.source = self._entities[rec.source].id
        rec.target = self._entities[rec.target].id
        dates = self._shared_dates
        if rec.start is not None:
            rec.start = dates.setdefault(rec.start, rec.start)
        if rec.end is not None:
            rec.end = dates.setdefault(rec.end, rec.end)
        if rec.currency is not None:
            rec.currency = self._shared_codes.setdefault(rec.currency, rec.currency)
        rec.confidence = self._number(rec.confidence)
        if rec.stake is not None:
            rec.stake = self._number(rec.stake)
        if rec.stake_max is not None:
            rec.stake_max = self._number(rec.stake_max)
        return rec

    def _number(self, value: float) -> float:
        # Zero is left alone: 0.0 and -0.0 are equal keys, and a stake's sign shows in its rendering.
        return self._shared_numbers.setdefault(value, value) if value else value

    def _interned_topics(self, topics) -> frozenset[str]:
        key = frozenset(topics)
        return self._topic_sets.setdefault(key, key)

    def _citation(self, event: RelationshipEvent) -> Citation:
        prov = event.provenance
        key = (prov.source_url, prov.publisher, f"{prov.extractor.name}/{prov.extractor.version}")
        citation = self._citations.get(key)
        if citation is None:
            citation = self._citations[key] = Citation(*key)
        return citation

    def _link(self, rec: Relation) -> None:
        u, v = rec.source, rec.target
        code = rec.layer * 2
        layer = self._layers[rec.layer]
        for node in (u, v):
            if node not in layer._node:  # networkx's add_node, without a dict for a direction not used yet
                layer._node[node] = _Layer._NO_ATTRIBUTES
                layer._succ[node] = layer._pred[node] = self._no_neighbours
        held = layer._succ[u].get(v)
        if held is None:
            entry = rec
        else:
            # in relation id order: thousands of payments between two parties made a sort of them all an event
            held = records(held)
            at = bisect.bisect(held, rec.relation_id, key=_relation_id)
            entry = (*held[:at], rec, *held[at:])
        self._put(code, u, v, entry)
        self._put(code + 1, v, u, entry)
        self._fact_count += 1
        for node in (u, v):
            entity = self._entities[node]
            if entity.degree == 0:
                self._node_count += 1
            entity.degree += 1

    def _put(self, code: int, node: str, neighbour: str, entry) -> None:
        adjacencies = self._adj[code]
        adjacency = adjacencies[node]
        if adjacency is self._no_neighbours:
            adjacencies[node] = OneNeighbour(neighbour, entry)
        elif type(adjacency) is OneNeighbour:
            first = adjacency.neighbour
            if first == neighbour:
                adjacency.entry = entry
            else:  # a second neighbour: a dict, in neighbour order
                adjacencies[node] = {first: adjacency.entry, neighbour: entry} if first < neighbour else \
                    {neighbour: entry, first: adjacency.entry}
        else:
            if adjacency and neighbour not in adjacency and neighbour < next(reversed(adjacency)):
                self._unsorted[code].add(node)
            adjacency[neighbour] = entry

    def _unlink(self, rec: Relation) -> None:
        u, v = rec.source, rec.target
        code = rec.layer * 2
        held = records(self._adj[code][u][v])
        at = bisect.bisect_left(held, rec.relation_id, key=_relation_id)  # (one fact per relation id on an edge)
        rest = held[:at] + held[at + 1:] if at < len(held) and held[at] is rec else \
            tuple(r for r in held if r is not rec)
        for c, node, neighbour in ((code, u, v), (code + 1, v, u)):
            adjacencies = self._adj[c]
            adjacency = adjacencies[node]
            if rest:
                entry = rest if len(rest) > 1 else rest[0]
                if type(adjacency) is OneNeighbour:
                    adjacency.entry = entry
                else:
                    adjacency[neighbour] = entry
            elif type(adjacency) is OneNeighbour:
                adjacencies[node] = self._no_neighbours
            else:
                del adjacency[neighbour]
                if len(adjacency) <= 1:
                    self._unsorted[c].discard(node)
                    adjacencies[node] = OneNeighbour(*next(iter(adjacency.items()))) if adjacency else \
                        self._no_neighbours
        layer = self._layers[rec.layer]
        for node in (u, v):
            if node in layer._node and not layer._succ[node] and not layer._pred[node]:
                layer.remove_node(node)
            entity = self._entities[node]
            entity.degree -= 1
            if entity.degree == 0:
                self._node_count -= 1
        self._fact_count -= 1

    # -- reading --------------------------------------------------------------------------------------------------

    @property
    def clock(self) -> dt.datetime | None:
        """The latest observed_at of any applied event: the engine's notion of "now"."""
        return self._clock

    @property
    def event_count(self) -> int:
        return self._event_count

    def continue_count(self, count: int) -> None:
        """Go on counting events from `count`: a graph rebuilt from another's current relations (a portable
        import) continues that one's history, so the scores it makes next carry the graph version that one's
        would. (The rebuild may have applied more events than `count`, re-issuing in version order what the other
        met in arrival order, or fewer: either way the count is the other's.)"""
        self._event_count = count

    def trust_event_ids(self) -> None:
        """Stop remembering the applied event ids, for a caller that applies each id once (the resolution layer:
        it remembers its input's ids itself, and its re-issues have ids of their own): a second map of every id
        would cost about 40 bytes per event. An id applied twice is then applied again, which changes no relation
        (its version is the one held) but counts as another event."""
        self._events = None

    @property
    def relation_count(self) -> int:
        return len(self._relations)

    @property
    def node_count(self) -> int:
        """Entities with at least one live relation."""
        return self._node_count

    @property
    def entity_count(self) -> int:
        return len(self._entities)

    @property
    def retracted_count(self) -> int:
        return len(self._tombstones)

    def version_of(self, relation_id: str) -> Version | None:
        """The latest version seen of a relation, live or retracted."""
        rec = self._relations.get(relation_id)
        return rec.version if rec is not None else self._tombstones.get(relation_id)

    def relation(self, relation_id: str) -> Relation | None:
        return self._relations.get(relation_id)

    def relations(self) -> Iterator[Relation]:
        """Live statements (one per relation id)."""
        return iter(self._relations.values())

    def fact(self, fact_id: str) -> Relation | None:
        """The fact of this id: a fact's id is its primary statement's relation id, so it is among the facts of
        that statement's key."""
        stated = self._relations.get(fact_id)
        if stated is None:
            return None
        for fact in self._facts_at(fact_key(stated)):
            if fact.relation_id == fact_id:
                return fact
        return None

    def facts(self) -> Iterator[Relation]:
        """The edges: one per fact, however many statements state it (in no particular order)."""
        for code in range(0, len(self._adj), 2):  # out-adjacency only: each edge once
            for adjacency in self._adj[code].values():
                for entry in adjacency.values():
                    yield from records(entry)

    @property
    def fact_count(self) -> int:
        return self._fact_count

    def entity(self, entity_id: str) -> Entity | None:
        return self._entities.get(entity_id)

    def name(self, entity_id: str) -> str:
        entity = self._entities.get(entity_id)
        return entity.name if entity is not None else entity_id

    def schema(self, entity_id: str) -> EntitySchema | None:
        entity = self._entities.get(entity_id)
        return entity.schema if entity is not None else None

    def topics(self, entity_id: str) -> frozenset[str]:
        entity = self._entities.get(entity_id)
        return entity.topics if entity is not None else frozenset()

    def adjacencies(self, layer: Layer, direction: int) -> Mapping[str, dict[str, Relation | tuple[Relation, ...]]]:
        """node -> its `adjacency` in one layer and direction, for a search that looks up many nodes' (the
        ownership walk's innermost loop: a look-up in it saves a call per edge). Read only; a node without relations
        there may be missing or map to an empty dict."""
        return self._adj[layer * 2 + direction]

    def entity_table(self) -> Mapping[str, Entity]:
        """Entity id -> `Entity`, for the same searches (`entity`, a call per edge). Read only."""
        return self._entities

    def adjacency(self, node: str, layer: Layer, direction: int) -> dict[str, Relation | tuple[Relation, ...]]:
        """neighbour -> record(s) (see `records`) in one layer; direction 0 = out-edges, 1 = in-edges. Read only;
        not necessarily in neighbour order (see `sorted_adjacency`)."""
        return self._adj[layer * 2 + direction].get(node, _EMPTY)

    def sorted_adjacency(self, node: str, layer: Layer, direction: int) -> dict[str, Relation | tuple[Relation, ...]]:
        """`adjacency` in neighbour order (sorted in place if an insertion broke the order). Read only."""
        code = layer * 2 + direction
        adjacency = self._adj[code].get(node, _EMPTY)
        unsorted = self._unsorted[code]
        if unsorted and node in unsorted:
            unsorted.discard(node)
            items = sorted(adjacency.items())
            adjacency.clear()
            adjacency.update(items)
        return adjacency

    def fanout(self, node: str, layer: Layer, direction: int) -> int:
        return len(self.adjacency(node, layer, direction))

    def between(self, u: str, v: str, layer: Layer) -> tuple[Relation, ...]:
        """Relations u -> v in one layer, by relation id."""
        held = self._adj[layer * 2].get(u, _EMPTY).get(v)
        return () if held is None else records(held)

    def nodes_with_in_edges(self, layer: Layer) -> list[str]:
        return sorted(node for node, preds in self._adj[layer * 2 + 1].items() if preds)

    def nodes_with_out_edges(self, layer: Layer) -> list[str]:
        return sorted(node for node, succs in self._adj[layer * 2].items() if succs)

    def layer_graph(self, layer: Layer) -> nx.DiGraph:
        """The networkx graph of one layer, for ad-hoc analysis (read only); edge data: see `records`."""
        return self._layers[layer]

    def relations_at(self, day: dt.date) -> Iterator[Relation]:
        """Facts valid on `day` (started, not ended), in id order."""
        for rec in sorted(self.facts(), key=lambda fact: fact.relation_id):
            if (rec.start is None or rec.start <= day) and (rec.end is None or rec.end >= day):
                yield rec
