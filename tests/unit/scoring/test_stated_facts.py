"""One fact stated many times: a restatement joins its fact without a pass over the statements before it
(`TemporalGraph._stated_again`, `graph._restated`), and a fact stated `SUMMARISED_FROM` times or more is scored and
shown from what its statements add up to (`StatedFact`). Either way the result is what regrouping every statement
(`facts_of`) and reading them one by one would give."""

from __future__ import annotations

import copy
import datetime as dt
import itertools
import pickle
import random

import pytest

import scoring.graph as graph_module
from scoring import Engine, ScoringConfig
from scoring.crowded import select
from scoring.explain import listed_statements
from scoring.graph import DetailedRelation, Relation, StatedFact, TemporalGraph, fact_key, facts_of
from schemas.events import Op
from schemas.vocabulary import RelationType
from scoring.semantics import Layer
from scoring.strength import Strength
from scoring.timing import TimeModel

# (May 31 and June 1 touch: statements of a type without a stake or a sum ending and starting on them are one fact)
DATES = [None, "2024-01-01", "2024-02-01", "2024-03-01", "2024-05-31", "2024-06-01", "2024-09-01"]


def _described(fact: Relation) -> tuple:
    """Everything a fact carries (its citation by value)."""
    values = tuple(getattr(fact, slot) for slot in Relation.__slots__ if slot != "citation")
    citation = fact.citation.source_url, fact.citation.publisher, fact.citation.extractor
    details = tuple(getattr(fact, slot) for slot in DetailedRelation.__slots__ if slot != "statements")
    evidence = tuple(statement.relation_id for statement in fact.evidence())
    summary = None
    if type(fact) is StatedFact:
        summary = (sorted((publisher, held.confidence, held.first.relation_id if held.first else None,
                           held.first_order) for publisher, held in fact.by_publisher.items()),
                   fact.first_stated, fact.unsummed, fact.statement_digest, fact.latest_end, fact.dated_seen,
                   fact.open_seen, fact.citers, fact.owners,
                   fact.relaying and {publisher: sorted(articles) for publisher, articles in fact.relaying.items()})
    return type(fact).__name__, values, citation, details, evidence, summary


def _reference_facts(statements: list[Relation]) -> list[tuple]:
    """The facts of one key's statements, by a rule written out plainly (docs/scoring.md): statements are one fact
    where their stated validities share a day, or, for a type without a stake or a sum, touch, directly or through
    others (payments apart: one sum, no reports without it); the fact runs from the earliest start to None if an
    open-ended statement was observed after every one giving an end, else to the latest of the ends given and the
    days its open-ended statements were observed. (relation ids, start, end), sorted."""
    gap = 0 if statements and statements[0].type.value in ("ownership", "payment", "debt") else 1
    def meet(a: Relation, b: Relation) -> bool:
        return all(earlier is None or later is None or (later - earlier).days <= gap
                   for earlier, later in ((a.end, b.start), (b.end, a.start)))

    groups = [[rec] for rec in statements]
    merged = True
    while merged:
        merged = False
        for i, j in itertools.combinations(range(len(groups)), 2):
            if any(meet(a, b) for a in groups[i] for b in groups[j]):
                groups[i].extend(groups.pop(j))
                merged = True
                break
    facts = []
    for group in groups:
        start = None if any(r.start is None for r in group) else min(r.start for r in group)
        dated = [r for r in group if r.end is not None]
        open_ = [r for r in group if r.end is None]
        if open_ and (not dated or max(r.observed_at for r in open_) > max(r.observed_at for r in dated)):
            end = None
        else:
            end = max([r.end for r in dated] + [r.observed_at.date() for r in open_])
        facts.append((tuple(sorted(r.relation_id for r in group)), start, end))
    return sorted(facts)


def _spans(facts) -> list[tuple]:
    return sorted((tuple(sorted(r.relation_id for r in fact.evidence())), fact.start, fact.end) for fact in facts)


def _cited(rng: random.Random) -> dict:
    """One of four publishers, citing an article of its own (one of two), or now and then one of two articles that
    several relay (so that relays of one article count once, and apart again as statements leave)."""
    publisher = rng.randrange(4)
    article = f"relayed/{rng.randrange(2)}" if rng.random() < 0.15 else f"{publisher}/{rng.randrange(2)}"
    return {"publisher": f"publisher {publisher}", "url": f"https://example.org/{article}"}


def _random_statement(make, rng: random.Random, number: int, payments: bool | str, ids: list[str]):
    start, end = sorted(rng.sample(DATES[1:], 2)) if rng.random() < 0.5 else (rng.choice(DATES), None)
    if rng.random() < 0.2:
        start = None
    # observed over days, so that which statements were seen last (and on what day) decides an end
    common = dict(start=start, end=end, status=rng.choice(["confirmed", "reported", "alleged"]),
                  confidence=rng.choice([0.5, 0.7, 0.9]), **_cited(rng),
                  observed_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=rng.randrange(4) * 100,
                                                                                     minutes=rng.randrange(50)))
    relation_id = rng.choice(ids) if ids and rng.random() < 0.15 else f"s{number}"
    if payments == "directorship":  # a type without a stake or a sum: touching validities are one fact
        return make("directorship", "son", "bank", relation_id=relation_id, **common)
    if payments:
        # reports without the sum only late: until one comes, restatements of a payment take the incremental path
        amount = None if number > 50 and rng.random() < 0.2 else rng.choice([1000.0, 2000.0])
        # (a debt: a sum that holds over time, whose statements overlap; payments on two dates are two keys)
        return make("debt", "ministry", "vendor", relation_id=relation_id, amount=amount,
                    currency="USD" if amount else None, **common)
    percentage = rng.choice([None, 40, 60])
    return make("ownership", "son", "bank", relation_id=relation_id, percentage=percentage, **common)


@pytest.mark.parametrize("summarised_from", [3, graph_module.SUMMARISED_FROM])
@pytest.mark.parametrize("payments", [False, True, "directorship"])
@pytest.mark.parametrize("seed", range(6))
def test_restatements_make_the_facts_a_full_regrouping_makes(make, monkeypatch, seed, payments, summarised_from):
    monkeypatch.setattr(graph_module, "SUMMARISED_FROM", summarised_from)
    joined = []
    restated = graph_module._restated
    monkeypatch.setattr(graph_module, "_restated", lambda *args: joined.append(1) or restated(*args))
    rng = random.Random(seed)
    graph = TemporalGraph()
    ids: list[str] = []
    for number in range(80):
        event = _random_statement(make, rng, number, payments, ids)
        if ids and rng.random() < 0.05:  # now and then a retraction
            event = event.model_copy(update={"op": Op.RETRACT, "relation_id": rng.choice(ids)})
        graph.apply(event)
        ids.append(event.relation_id)
        statements = sorted(graph._relations.values(), key=lambda r: r.relation_id)
        key = fact_key(statements[0]) if statements else None
        regrouped = facts_of([r for r in statements if fact_key(r) == key], (), graph.original_event_ids)
        held = [fact for fact in graph.facts()]
        assert sorted(map(_described, held)) == sorted(map(_described, regrouped)), number
        if not payments or payments == "directorship" or all(r.amount == statements[0].amount for r in statements):
            assert _spans(held) == _reference_facts(statements), number
        for fact in held:
            if type(fact) is StatedFact:
                _assert_read_alike(fact)
        for u, v in (("son", "bank"), ("ministry", "vendor")):  # an edge keeps its facts in relation id order
            layer = Layer.TRADE if payments is True else Layer.HOLDING
            on_edge = [fact.relation_id for fact in graph.between(u, v, layer)]
            assert on_edge == sorted(on_edge) and len(set(on_edge)) == len(on_edge)
    if summarised_from == 3:
        assert joined  # the incremental path was taken


def _assert_read_alike(fact: StatedFact) -> None:
    """A summarised fact scores and shows as reading its statements one by one does."""
    plain = _statement_by_statement(fact)
    config = ScoringConfig.load()
    strength = Strength(config, dt.date(2025, 6, 1))
    assert strength.certainty(fact) == strength.certainty(plain)
    assert strength.sources(fact) == strength.sources(plain)
    assert _publishers(fact) == _publishers(plain)
    for limit in range(1, len(fact.statements) + 2):
        assert listed_statements(fact, limit) == listed_statements(plain, limit), limit
    time = TimeModel(config)
    start, fact.start, plain.start = fact.start, None, None  # (`reference_end` reads the statements then)
    assert time.reference_end(fact) == time.reference_end(plain)
    fact.start = start


def _publishers(fact: Relation) -> int:
    """A fact's publishers however spelled: from its summary where it has one, else statement by statement."""
    if type(fact) is StatedFact:
        return len(fact.by_publisher)
    return len({statement.citation.source for statement in fact.evidence()})


def _stated_many_times(make, count: int = 60) -> StatedFact:
    graph = TemporalGraph()
    rng = random.Random(3)
    for number in range(count):
        graph.apply(make("debt", "ministry", "vendor", relation_id=f"pay-{number:03d}", amount=5e5,
                         currency="EUR", status=rng.choice(["confirmed", "reported", "alleged"]),
                         confidence=rng.choice([0.4, 0.6, 0.8]), publisher=f"outlet {rng.randrange(30)}",
                         start=None if number % 7 == 0 else f"2024-0{1 + number % 9}-15",
                         observed_at=dt.datetime(2025, 3, 1, tzinfo=dt.UTC) + dt.timedelta(hours=rng.randrange(99))))
    (fact,) = graph.between("ministry", "vendor", Layer.TRADE)
    return fact


def _statement_by_statement(fact: StatedFact) -> DetailedRelation:
    plain = object.__new__(DetailedRelation)
    for slot in (*Relation.__slots__, *DetailedRelation.__slots__):
        setattr(plain, slot, getattr(fact, slot))
    return plain


def test_a_fact_stated_many_times_scores_and_shows_as_its_statements_do(make):
    fact = _stated_many_times(make)
    assert type(fact) is StatedFact and len(fact.statements) == 60
    assert _publishers(fact) > 10
    _assert_read_alike(fact)
    fact.start = None  # (its statements' first start, or the day first stated: `reference_end`)
    config = ScoringConfig.load()
    one_off = config.model_copy(update={"time": config.time.model_copy(update={  # (read as a payment is)
        "point_in_time_types": config.time.point_in_time_types | {RelationType.DEBT}})})
    assert TimeModel(one_off).reference_end(fact) == dt.date(2024, 1, 15)


def test_a_summary_of_one_publisher_statuses_takes_each_statuses_most_confident_statement(make):
    """Certainty weighs each publisher by its most certain statement: a summary keeps the most confident of each
    status, so a less confident statement of a stronger status can still win."""
    graph = TemporalGraph()
    for number, (status, confidence) in enumerate([("alleged", 0.95)] * 10 + [("confirmed", 0.6)] * 10):
        graph.apply(make("ownership", "son", "bank", relation_id=f"o{number:02d}", percentage=40, status=status,
                         confidence=confidence))
    (fact,) = graph.between("son", "bank", Layer.HOLDING)
    assert type(fact) is StatedFact
    strength = Strength(ScoringConfig.load(), dt.date(2025, 6, 1))
    assert strength.certainty(fact) == strength.certainty(_statement_by_statement(fact))
    (evidence,) = fact.by_publisher.values()
    assert sorted(c for c in evidence.confidence if c is not None) == [0.6, 0.95]


def test_a_facts_version_stays_short_however_often_it_is_restated(make):
    """A fact's version was every statement's event id joined: 140 KB for a fact stated 10,000 times, kept again
    in the calendar on each restatement. It is now its primary's, a count and a digest of its statements."""
    graph = TemporalGraph()
    versions = set()
    for number in range(400):
        graph.apply(make("ownership", "son", "bank", relation_id=f"copy-{number}", percentage=40))
        (fact,) = graph.between("son", "bank", Layer.HOLDING)
        versions.add(fact.event_id)
        assert len(fact.event_id) < 60
    assert len(versions) == 400  # each restatement made a new version


@pytest.mark.parametrize("count", [3, 40])
def test_a_fact_of_the_same_statements_has_the_same_version_however_it_was_made(factory, count):
    """Statements in any order, restated one by one or regrouped, make a fact of one version: `Engine.load`
    compares a batch's scores before and after by it, and a batch that adds a statement and retracts it again
    changes nothing (a version that counted the events applied reported every pair of that fact as changed)."""
    events = [factory.make("ownership", "son", "bank", relation_id=f"copy-{number:02d}", percentage=40,
                           publisher=f"outlet {number % 5}") for number in range(count)]
    made = []
    for order in (events, events[::-1], events[::2] + events[1::2]):
        graph = TemporalGraph()
        for event in order:
            graph.apply(event)
        (fact,) = graph.between("son", "bank", Layer.HOLDING)
        made.append(fact.event_id)
    assert len(set(made)) == 1

    engine = Engine()
    engine.apply_many([factory.make("control", "minister", "regulator"),
                       factory.make("regulates", "regulator", "bank"),
                       factory.make("family", "son", "minister"), *events])
    assert engine.score("minister", "bank") is not None
    extra = factory.make("ownership", "son", "bank", relation_id="copy-extra", percentage=40, publisher="Third")
    assert engine.load([extra, factory.make("ownership", "son", "bank", relation_id="copy-extra",
                                            op="retract")]) == []


def test_a_stated_fact_survives_a_snapshot_and_a_copy(make):
    fact = _stated_many_times(make, count=20)
    for restored in (pickle.loads(pickle.dumps(fact, protocol=pickle.HIGHEST_PROTOCOL)), copy.copy(fact),
                     copy.deepcopy(fact)):
        assert type(restored) is StatedFact
        assert _described(restored) == _described(fact) and restored.event_id == fact.event_id


def test_a_statement_bridging_two_facts_or_a_report_without_the_sum_regroups_them_all(make, monkeypatch):
    """The incremental path takes only the restatement of one fact; a statement that joins two, or a report that
    may corroborate any payment, goes to `facts_of` as before."""
    regrouped = []
    real = graph_module.facts_of
    monkeypatch.setattr(graph_module, "facts_of", lambda statements, *args: regrouped.append(len(statements))
                        or real(statements, *args))
    graph = TemporalGraph()
    graph.apply(make("ownership", "son", "bank", relation_id="early", start="2020-01-01", end="2020-12-31"))
    graph.apply(make("ownership", "son", "bank", relation_id="late", start="2022-01-01", end="2022-12-31"))
    graph.apply(make("ownership", "son", "bank", relation_id="again", start="2020-06-01", end="2020-07-01"))
    assert regrouped == []
    graph.apply(make("ownership", "son", "bank", relation_id="bridge", start="2020-06-01", end="2022-06-01"))
    assert regrouped == [4]
    assert [sorted(r.relation_id for r in f.evidence()) for f in graph.between("son", "bank", Layer.HOLDING)] == [
        ["again", "bridge", "early", "late"]]
    graph.apply(make("payment", "ministry", "vendor", relation_id="paid", amount=10.0, currency="USD"))
    graph.apply(make("payment", "ministry", "vendor", relation_id="reported", publisher="Other Times"))
    assert regrouped == [4, 2]


def test_a_restatement_takes_the_primary_as_a_regrouping_would_even_on_equal_versions(make):
    """`_outranks` decides in one comparison what `_primary` decides over all statements: the most certain status,
    then the newest, then (one version: never from distinct input events, but decided all the same) the first by
    relation id."""
    when = dt.datetime(2025, 2, 1, tzinfo=dt.UTC)
    statements = [make("ownership", "son", "bank", relation_id=rid, event_id="same", observed_at=when, percentage=40,
                       status=status) for rid, status in (("b", "confirmed"), ("a", "confirmed"), ("c", "reported"))]
    records = [Relation(event, graph_module.Citation("u", "p", "e"), None) for event in statements]
    for first in records:
        for second in records:
            if first is not second:
                expected = graph_module._primary(sorted([first, second], key=lambda r: r.relation_id), {})
                assert (first if graph_module._outranks(first, second, {}) else second) is expected


def test_a_report_without_the_sum_leaves_restatements_within_their_payment_on_the_quick_path(make, monkeypatch):
    """A report without the sum joins the largest payment it overlaps (`_join_vague`). A restatement of a payment
    that reaches no further than a statement of it giving the sum cannot change which one: it joins its fact as it
    is, and the facts are those of a full regrouping. One that reaches further regroups the key. (Debts: a payment's
    statements on two dates are two keys, `graph.fact_key`.)"""
    regrouped = []
    real = graph_module.facts_of
    monkeypatch.setattr(graph_module, "facts_of", lambda statements, *args: regrouped.append(len(statements))
                        or real(statements, *args))
    graph = TemporalGraph()
    dated = dict(start="2024-03-01", end="2024-03-31")
    graph.apply(make("debt", "ministry", "vendor", relation_id="small", amount=10.0, currency="USD", **dated))
    graph.apply(make("debt", "ministry", "vendor", relation_id="large", amount=90.0, currency="USD",
                     start="2024-04-10", end="2024-04-12"))
    graph.apply(make("debt", "ministry", "vendor", relation_id="report", publisher="Other Times", **dated))
    assert _payment_of(graph, "report") == 10.0
    assert regrouped == [3]  # the report: which payment it corroborates is for `facts_of` to say
    for number in range(40):
        graph.apply(make("debt", "ministry", "vendor", relation_id=f"again-{number:02d}", amount=10.0,
                         currency="USD", publisher=f"outlet {number % 7}", start="2024-03-05", end="2024-03-20"))
    # only the first regroups: the report, then the newest statement, was the fact's primary, and gives no sum
    assert regrouped == [3, 4]
    graph.apply(make("debt", "ministry", "vendor", relation_id="longer", amount=90.0, currency="USD",
                     start="2024-03-01", end="2024-04-30"))  # the large payment now spans the report
    assert regrouped == [3, 4, 44]
    statements = list(graph._relations.values())
    assert sorted(map(_described, graph.facts())) == sorted(map(_described, real(statements)))
    assert _payment_of(graph, "report") == 90.0


def _payment_of(graph: TemporalGraph, relation_id: str) -> float:
    """The sum of the payment a statement is evidence of."""
    (fact,) = [fact for fact in graph.facts() if relation_id in {s.relation_id for s in fact.evidence()}]
    return fact.amount


def test_thousands_of_payments_between_two_parties_stay_in_order_on_their_edge(make):
    """Each payment of a sum of its own is a fact of the same edge: they are kept in relation id order (inserted
    where they belong, not sorted again), and a retraction takes out the one it names."""
    graph = TemporalGraph()
    rng = random.Random(11)
    numbers = list(range(600))
    rng.shuffle(numbers)
    for number in numbers:
        graph.apply(make("payment", "ministry", "vendor", relation_id=f"pay-{number:04d}", amount=100.0 + number,
                         currency="USD"))
    for number in numbers[:200]:
        graph.apply(make("payment", "ministry", "vendor", relation_id=f"pay-{number:04d}", op="retract"))
    on_edge = [fact.relation_id for fact in graph.between("ministry", "vendor", Layer.TRADE)]
    assert on_edge == sorted(f"pay-{number:04d}" for number in numbers[200:])
    assert [fact.relation_id for fact in graph.between("vendor", "ministry", Layer.TRADE)] == []
    assert graph.fact_count == 400


def _parallel_ties(factory, rng: random.Random, count: int) -> list:
    """Payments, investments and debts, each a fact of its own, on the founding case's commercial ties (the payments
    add up to one tie, `scoring.payments`; the searches carry the strongest of the others)."""
    sun = ("sun", "Person", "Justin Sun", ())
    ends = [(sun, ("wlf", "Company", "World Liberty Financial", ())),
            (("binance", "Company", "Binance", ()), sun)]
    events = []
    for number in range(count):
        source, target = rng.choice(ends)
        kind = rng.choice(["payment", "invests_in"]) if target[0] == "wlf" else rng.choice(["payment", "debt"])
        start = dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(700))
        ended = rng.random() < 0.3
        events.append(factory.make(
            kind, source, target, relation_id=f"tie-{number:03d}", amount=float(rng.randrange(1, 10**8)),
            currency="USD", status=rng.choice(["confirmed", "reported", "alleged"]),
            confidence=rng.choice([0.5, 0.8, 1.0]), publisher=f"outlet {rng.randrange(5)}",
            start=start.isoformat(), end=(start + dt.timedelta(days=30)).isoformat() if ended else None,
            observed_at=dt.datetime(2025, 6, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=number)))
        if number > 20 and rng.random() < 0.1:
            events.append(factory.make(kind, source, target, relation_id=f"tie-{rng.randrange(number):03d}",
                                       op="retract"))
    return events


@pytest.mark.parametrize("seed", range(3))
def test_ties_left_out_beyond_the_strongest_change_no_score(factory, monkeypatch, seed):
    """`search._carried` keeps, of the many ties between two parties, those that can be among a pair's strongest
    paths (`scoring.crowded`, remembered from one event to the next): every score and explanation, after every
    event, is what carrying them all gives."""
    import scoring.search as search_module

    from .conftest import content, load_seed_events

    config = ScoringConfig.load(overrides={"paths": {"max_paths_per_pair": 3, "max_paths_shown": 3}})
    events = [*load_seed_events(), *_parallel_ties(factory, random.Random(seed), 120)]
    pruned = []
    keep = search_module._carried

    def counted(entry, ctx, cap):
        kept = keep(entry, ctx, cap)
        pruned.append(len(_all_carried(entry, ctx, cap)) - len(kept))
        return kept

    monkeypatch.setattr(search_module, "_carried", counted)
    with_pruning = Engine(config)
    changes_pruned = [[(c.key, c.old and content(c.old), c.new and content(c.new)) for c in with_pruning.apply(e)]
                      for e in events]
    monkeypatch.setattr(search_module, "_carried", _all_carried)
    carrying_all = Engine(config)
    changes_all = [[(c.key, c.old and content(c.old), c.new and content(c.new)) for c in carrying_all.apply(e)]
                   for e in events]
    assert changes_pruned == changes_all
    assert max(pruned) > 10  # ties were left out
    shown = {edge["relation_id"] for changes in changes_all for _, _, new in changes if new
             for path in new["commercial_paths"] for edge in path["edges"]}
    # (shown: the payments' sum, named after its strongest, and the strongest of the other ties)
    assert len({relation_id for relation_id in shown if relation_id.startswith("tie-")}) >= 2
    assert [content(s) for s in with_pruning.scores()] == [content(s) for s in carrying_all.scores()]


def _all_carried(entry, ctx, cap):
    """Every usable tie of the edge: what `search._carried` gives with no tie left out."""
    return select(entry, ctx.strength.tie, len(entry))[0]


COMPANIES, RELATIVES = ["bank", "vendor", "holdco", "shell", "exchange", "issuer"], ["spouse", "son", "tycoon", "ceo"]


def _small_world(factory, seed: int) -> list:
    """A minister with authority over two firms, relatives, and random stakes, seats, issues, payments, investments,
    listings and debts among them: parallel ties of every commercial type, some of which are also holdings."""
    rng = random.Random(seed)
    events = [factory.make("control", "minister", "regulator"), factory.make("regulates", "regulator", "bank"),
              factory.make("regulates", "regulator", "exchange"), factory.make("family", "spouse", "minister"),
              factory.make("family", "son", "minister")]
    for number in range(rng.randrange(15, 45)):
        kind = rng.choice(["ownership", "ownership", "directorship", "issues", "payment", "payment", "payment",
                           "invests_in", "lists", "debt"])
        source = rng.choice(COMPANIES) if kind == "issues" else rng.choice([*RELATIVES, *COMPANIES, "minister"])
        target = "token" if kind in ("issues", "lists") and rng.random() >= 0.3 else rng.choice(COMPANIES)
        if source == target:
            continue
        properties = {}
        if kind == "ownership":
            properties["percentage"] = rng.choice([10, 30, 60, 100])
        if kind in ("payment", "invests_in", "debt"):
            properties.update(amount=float(rng.choice([1e3, 1e5, 1e7])) * (1 + rng.random()), currency="USD")
        events.append(factory.make(kind, source, target, relation_id=f"r{number:03d}",
                                   status=rng.choice(["confirmed", "reported"]), confidence=rng.choice([0.6, 1.0]),
                                   **properties))
    return events


def test_a_stake_parallel_to_payments_never_takes_a_payments_place(factory, monkeypatch):
    """A stake is a tie and also an ownership path's hop: the commercial path through it is the ownership path,
    kept under that kind (`rules.tie_paths`). Counted among a neighbour's strongest ties, it took the place of a
    payment the score combines (a spouse's stake in the bank and three payments to it, two paths combined)."""
    import scoring.search as search_module

    from .conftest import content

    config = ScoringConfig.load(overrides={"paths": {"max_paths_per_pair": 2, "max_paths_shown": 2}})
    events = [factory.make("control", "minister", "regulator"), factory.make("regulates", "regulator", "bank"),
              factory.make("family", "spouse", "minister"),
              factory.make("ownership", "spouse", "bank", relation_id="stake", percentage=60),
              *[factory.make("payment", "spouse", "bank", relation_id=f"paid-{k}", amount=1000.0 * k, currency="USD")
                for k in (1, 2, 3)]]
    pruned = Engine(config)
    pruned.apply_many(events)
    monkeypatch.setattr(search_module, "_carried", _all_carried)
    carrying_all = Engine(config)
    carrying_all.apply_many(events)
    assert content(pruned.score("minister", "bank")) == content(carrying_all.score("minister", "bank"))
    shown = [edge.relation_id for path in pruned.score("minister", "bank").commercial_paths for edge in path.edges]
    assert "paid-3" in shown


def test_in_small_worlds_of_every_tie_type_leaving_ties_out_changes_no_score(factory, monkeypatch):
    """60 random worlds, scored with the ties `search._carried` leaves out and with all of them, combining one or two
    paths a kind (so that it leaves many out): the same scores, and the full recomputation agrees."""
    import scoring.search as search_module

    from .conftest import content

    keep = search_module._carried
    left_out = 0
    for seed in range(60):
        events = _small_world(factory, seed)
        cap = 1 + seed % 2
        config = ScoringConfig.load(overrides={"paths": {"max_paths_per_pair": cap, "max_paths_shown": cap}})
        results = []
        for prune in (keep, _all_carried):
            def counted(entry, ctx, cap, prune=prune):
                nonlocal left_out
                kept = prune(entry, ctx, cap)
                left_out += len(_all_carried(entry, ctx, cap)) - len(kept)
                return kept

            monkeypatch.setattr(search_module, "_carried", counted)
            engine = Engine(config)
            engine.apply_many(events)
            scores = {(s.actor_id, s.counterparty_id): content(s) for s in engine.scores()}
            assert scores == {key: content(s) for key, s in engine.recompute_all().items()}
            results.append(scores)
        assert results[0] == results[1], seed
    assert left_out > 100


def _withdrawn_statement(make, rng: random.Random, number: int, ids: list[str], bounded: bool):
    """Statements of one holding: undated or open from one date (the facts stated many times real sources give),
    or bounded, in spans that only a third joins (so that a withdrawal can split a fact, and a new version join
    two); a fifth of the events retract a held statement, a tenth restate one anew."""
    if bounded:
        spans = [("2024-01-01", "2024-01-31"), ("2024-01-15", "2024-07-15"), ("2024-07-01", "2024-08-01"),
                 ("2024-03-01", None), ("2024-01-01", None)]
    else:
        spans = [(None, None), (None, None), ("2024-01-01", None), ("2024-02-01", "2024-06-01"), ("2024-03-01", None)]
    start, end = rng.choice(spans)
    common = dict(start=start, end=end, status=rng.choice(["confirmed", "reported", "alleged"]),
                  confidence=rng.choice([0.5, 0.7, 0.9]), **_cited(rng),
                  observed_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=rng.randrange(3) * 200,
                                                                                     minutes=rng.randrange(50)))
    roll = rng.random()
    relation_id = rng.choice(ids) if ids and roll < 0.3 else f"w{number}"
    event = make("ownership", "son", "bank", relation_id=relation_id, percentage=rng.choice([None, 40, 60]), **common)
    if ids and roll < 0.2:
        event = event.model_copy(update={"op": Op.RETRACT})
    return event


@pytest.mark.parametrize("bounded", [False, True])
@pytest.mark.parametrize("summarised_from", [3, graph_module.SUMMARISED_FROM])
@pytest.mark.parametrize("seed", range(8))
def test_withdrawals_and_new_versions_make_the_facts_a_full_regrouping_makes(make, monkeypatch, seed,
                                                                             summarised_from, bounded):
    """A statement retracted from a fact stated many times, or stated anew, leaves the fact without a pass over its
    statements (`graph._unstated`), as regrouping them all would: its primary, span, versions, evidence order and
    publishers' summaries. (A source withdrawing its statements of a fact stated 5,000 times cost 20 ms each.)"""
    monkeypatch.setattr(graph_module, "SUMMARISED_FROM", summarised_from)
    taken = []
    unstated = graph_module._unstated
    monkeypatch.setattr(graph_module, "_unstated",
                        lambda *args: (result := unstated(*args)) is not None and taken.append(1) or result)
    rng = random.Random(seed)
    graph = TemporalGraph()
    ids: list[str] = []
    for number in range(160):
        event = _withdrawn_statement(make, rng, number, ids, bounded)
        graph.apply(event)
        ids.append(event.relation_id)
        statements = sorted(graph._relations.values(), key=lambda r: r.relation_id)
        regrouped = facts_of(statements, (), graph.original_event_ids)
        held = list(graph.facts())
        assert sorted(map(_described, held)) == sorted(map(_described, regrouped)), number
        assert _spans(held) == _reference_facts(statements), number
        for fact in held:
            if type(fact) is StatedFact:
                _assert_read_alike(fact)
    assert len(taken) >= 3


def _open_from_march(make, monkeypatch) -> TemporalGraph:
    """A graph whose one fact is five statements of a stake open from March, summarised (`SUMMARISED_FROM` 3)."""
    monkeypatch.setattr(graph_module, "SUMMARISED_FROM", 3)
    graph = TemporalGraph()
    for number in range(5):
        graph.apply(make("ownership", "son", "bank", relation_id=f"m{number}", start="2024-03-01", percentage=40))
    return graph


def test_a_new_version_that_joins_another_fact_of_the_key_regroups_them(make, monkeypatch):
    """Statements open from March are one fact, a January one another; one of the first, stated anew from January
    15 to July, joins both: one fact, as regrouping makes it, not the first fact with the new version alone."""
    graph = _open_from_march(make, monkeypatch)
    graph.apply(make("ownership", "son", "bank", relation_id="j", start="2024-01-01", end="2024-01-31",
                     percentage=40))
    assert len(list(graph.facts())) == 2
    graph.apply(make("ownership", "son", "bank", relation_id="m4", start="2024-01-15", end="2024-07-15",
                     percentage=40))
    (fact,) = graph.facts()
    assert sorted(statement.relation_id for statement in fact.statements) == ["j", "m0", "m1", "m2", "m3", "m4"]
    assert _described(fact) == _described(facts_of(sorted(graph._relations.values(), key=lambda r: r.relation_id),
                                                    (), graph.original_event_ids)[0])


def test_a_new_version_that_leaves_the_fact_is_a_fact_of_its_own(make, monkeypatch):
    """Statements open from March are one fact; one of them, stated anew for January alone, meets no fact of the key:
    it is a fact of its own, and the rest stay one (a review: it was kept in the fact, whose span then began in
    January, and a score read it so)."""
    graph = _open_from_march(make, monkeypatch)
    graph.apply(make("ownership", "son", "bank", relation_id="m4", start="2024-01-01", end="2024-01-31",
                     percentage=40))
    held = sorted(map(_described, graph.facts()))
    assert held == sorted(map(_described, facts_of(sorted(graph._relations.values(), key=lambda r: r.relation_id),
                                                    (), graph.original_event_ids)))
    assert sorted(len(fact.evidence()) for fact in graph.facts()) == [1, 4]


@pytest.mark.parametrize("summarised_from", [3, graph_module.SUMMARISED_FROM])
def test_a_publisher_spelled_several_ways_counts_once_in_a_summary_and_statement_by_statement(
        make, monkeypatch, summarised_from):
    monkeypatch.setattr(graph_module, "SUMMARISED_FROM", summarised_from)
    spellings = {"Reuters": ("Reuters", "REUTERS", "Reuters ", "\uff32\uff45\uff55\uff54\uff45\uff52\uff53"),
                 "AP": ("AP", "ap", "AP\u00a0")}
    rng = random.Random(5)
    graph = TemporalGraph()
    for number in range(40):
        outlet = rng.choice(sorted(spellings))
        graph.apply(make("ownership", "son", "bank", relation_id=f"s{number}", percentage=40,
                         status=rng.choice(["confirmed", "reported", "alleged"]), confidence=rng.choice([0.5, 0.9]),
                         publisher=rng.choice(spellings[outlet])))
    for number in (3, 17, 25):  # withdrawals recount a publisher over its statements in every spelling
        graph.apply(make("ownership", "son", "bank", relation_id=f"s{number}", op="retract"))
        (fact,) = graph.between("son", "bank", Layer.HOLDING)
        regrouped = facts_of(sorted(graph._relations.values(), key=lambda r: r.relation_id), (),
                             graph.original_event_ids)
        assert list(map(_described, [fact])) == list(map(_described, regrouped))
        assert _publishers(fact) == 2
        if type(fact) is StatedFact:
            assert len(fact.by_publisher) == 2
            _assert_read_alike(fact)
