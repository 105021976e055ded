"""A fact is an edge; statements are its evidence (issue #14, item 1).

Statements of the same fact (same type, same ends; either direction for a symmetric type; overlapping validity;
for money, the same amount, or none given) are one edge whose evidence lists every statement. Certainty grows with independent
publishers (noisy-OR, capped at `evidence.max_corroborated_certainty`); repeats from one publisher add nothing.
"""

from __future__ import annotations

import datetime as dt

import pytest

from scoring import Engine, ScoringConfig
from scoring.graph import DetailedRelation, Relation, TemporalGraph, facts_of, publisher_key
from scoring.semantics import Layer

from .conftest import EventFactory, full_state, incremental_state


def conflict(make, **family):
    """The minister controls the regulator, which regulates the bank his son owns 40% of."""
    return [make("control", "minister", "regulator"), make("regulates", "regulator", "bank"),
            make("ownership", "son", "bank", percentage=40),
            make("family", "son", "minister", relation_id="family-1", **family)]


def scored(events, config=None):
    engine = Engine(config)
    engine.apply_many(events)
    assert incremental_state(engine) == full_state(engine)
    return engine, engine.score("minister", "bank")


def test_a_family_tie_stated_from_both_people_is_one_edge(make):
    _, once = scored(conflict(make, status="reported"))
    engine, twice = scored([*conflict(make, status="reported"),
                            make("family", "minister", "son", relation_id="family-2", status="reported")])
    assert twice.score == once.score  # same publisher: the second statement adds nothing
    assert len(twice.commercial_paths) == len(once.commercial_paths) == 1
    family = twice.commercial_paths[0].edges[0]
    assert family.relation_type == "family"
    assert sorted(e.relation_id for e in family.evidence) == ["family-1", "family-2"]
    assert engine.graph.fact_count == 4 and engine.graph.relation_count == 5


def test_an_extractor_repeating_one_stake_does_not_raise_the_score(make):
    _, once = scored(conflict(make))
    repeats = [make("ownership", "son", "bank", percentage=40, relation_id=f"copy-{i}") for i in range(3)]
    _, repeated = scored([*conflict(make), *repeats])
    assert repeated.score == once.score
    assert len(repeated.commercial_paths) == 1
    stake = repeated.commercial_paths[0].edges[1]
    assert len(stake.evidence) == 4


def test_an_independent_publisher_raises_certainty_up_to_the_cap(make):
    cap = ScoringConfig.load().evidence.max_corroborated_certainty
    _, alone = scored(conflict(make, status="reported"))
    _, corroborated = scored([*conflict(make, status="reported"),
                              make("family", "son", "minister", relation_id="family-b", status="reported",
                                   publisher="Other Times", url="https://other.example/story")])
    hop = lambda score: score.commercial_paths[0].edges[0].weight  # noqa: E731
    assert hop(alone) == pytest.approx(0.85)
    assert hop(corroborated) == pytest.approx(min(cap, 1 - 0.15 ** 2))  # capped: 0.95
    assert corroborated.score > alone.score
    assert "2 sources" in corroborated.commercial_paths[0].text
    assert {e.publisher for e in corroborated.commercial_paths[0].edges[0].evidence} == \
        {"Example Gazette", "Other Times"}


def test_corroboration_never_lowers_a_confirmed_fact(make):
    _, confirmed = scored(conflict(make))
    _, plus_rumour = scored([*conflict(make), make("family", "son", "minister", relation_id="family-b",
                                                   status="alleged", publisher="Tabloid")])
    assert plus_rumour.score == confirmed.score


def test_statements_with_disjoint_validity_are_two_facts(make):
    graph = TemporalGraph()
    graph.apply(make("ownership", "son", "bank", percentage=40, relation_id="a", start="2010-01-01",
                     end="2012-12-31"))
    graph.apply(make("ownership", "son", "bank", percentage=40, relation_id="b", start="2020-01-01"))
    assert [r.relation_id for r in graph.between("son", "bank", Layer.HOLDING)] == ["a", "b"]
    # a third statement bridging both periods makes them one fact
    graph.apply(make("ownership", "son", "bank", percentage=40, relation_id="c", start="2012-06-01",
                     end="2020-06-01"))
    (fact,) = graph.between("son", "bank", Layer.HOLDING)
    assert sorted(r.relation_id for r in fact.evidence()) == ["a", "b", "c"]
    # "b" gives no end, but "c", observed after it, gives one: the fact held at least until "b" was observed
    # (docs/scoring.md, `graph._end_of`), not for ever
    assert (fact.start.isoformat(), fact.end) == ("2010-01-01", dt.date(2025, 1, 1))


def test_payments_of_different_sums_are_two_facts(make):
    graph = TemporalGraph()
    graph.apply(make("payment", "bank", "son", amount=1000, relation_id="p1"))
    graph.apply(make("payment", "bank", "son", amount=5000, relation_id="p2"))
    graph.apply(make("payment", "bank", "son", amount=1000, relation_id="p1-again"))
    facts = graph.between("bank", "son", Layer.TRADE)
    assert sorted(len(f.evidence()) for f in facts) == [1, 2]


def test_retracting_one_statement_keeps_the_fact(make):
    engine = Engine()
    engine.apply_many([*conflict(make), make("family", "minister", "son", relation_id="family-2")])
    changes = engine.apply(make("family", "son", "minister", relation_id="family-1", op="retract"))
    assert [(c.key, c.new is not None) for c in changes] == [  # the evidence shown changed
        (("minister", "bank"), True), (("minister", "son"), True)]
    score = engine.score("minister", "bank")
    assert [e.relation_id for e in score.commercial_paths[0].edges[0].evidence] == ["family-2"]
    assert incremental_state(engine) == full_state(engine)
    engine.apply(make("family", "minister", "son", relation_id="family-2", op="retract"))
    assert engine.score("minister", "bank") is None
    assert incremental_state(engine) == full_state(engine)


def payment_conflict(make, *payments):
    """The minister's holding company is paid by a bank his regulator supervises."""
    return [make("control", "minister", "regulator"), make("regulates", "regulator", "bank"),
            make("ownership", "minister", "holdco", percentage=100), *payments]


def payment(make, relation_id, publisher, **money):
    return make("payment", "bank", "holdco", relation_id=relation_id, status="reported", publisher=publisher,
                url=f"https://{relation_id}.example/story", **money)


def test_a_payment_reported_without_its_amount_corroborates_the_one_with_it(make):
    """One outlet gives the sum, another reports the same payment without it: one payment, two sources. Before,
    the amount was part of what made two statements one fact, so the amountless report was a second payment: a
    second path, counted again by noisy-OR, and the pair scored as if paid twice."""
    _, with_amount = scored_pair(payment_conflict(make, payment(make, "p-sum", "Gazette", amount=5e6,
                                                                currency="USD")))
    engine, both = scored_pair(payment_conflict(
        make, payment(make, "p-sum", "Gazette", amount=5e6, currency="USD"),
        payment(make, "p-vague", "Other Times")))
    (fact,) = engine.graph.between("bank", "holdco", Layer.TRADE)
    assert sorted(r.relation_id for r in fact.evidence()) == ["p-sum", "p-vague"]
    assert (fact.amount, fact.currency) == (5e6, "USD")
    assert len(both.commercial_paths) == len(with_amount.commercial_paths) == 1
    # corroborated by a second publisher: more certain, the same sum
    assert both.commercial_paths[0].edges[-1].weight > with_amount.commercial_paths[0].edges[-1].weight


def test_an_amountless_report_takes_the_sum_of_the_payment_it_joins_even_as_the_primary(make):
    """A confirmed statement without the sum is the fact's primary (most certain status), but the fact still
    carries the sum another source gave: the amount is what the payment weighs."""
    engine, score = scored_pair(payment_conflict(
        make, payment(make, "p-sum", "Gazette", amount=5e6, currency="USD"),
        make("payment", "bank", "holdco", relation_id="p-filing", status="confirmed", publisher="Registry")))
    (fact,) = engine.graph.between("bank", "holdco", Layer.TRADE)
    assert fact.relation_id == "p-filing"
    assert (fact.amount, fact.currency) == (5e6, "USD")
    assert "<-payment[5M USD, 2 sources]- Big Bank" in score.commercial_paths[0].text


def test_an_amountless_report_between_two_payments_joins_the_largest_and_never_bridges_them(make):
    """Two sums are two payments, whatever else states a payment between the same parties at the time; a report
    without a sum cannot say which it means, and corroborates the largest (the one the score weighs most)."""
    engine, _ = scored_pair(payment_conflict(
        make, payment(make, "p-small", "Gazette", amount=1e3, currency="USD"),
        payment(make, "p-large", "Gazette", amount=5e6, currency="USD"),
        payment(make, "p-vague", "Other Times")))
    facts = sorted(engine.graph.between("bank", "holdco", Layer.TRADE), key=lambda f: f.amount)
    assert [sorted(r.relation_id for r in f.evidence()) for f in facts] == [["p-small"], ["p-large", "p-vague"]]


def test_an_amountless_report_of_another_period_stays_a_payment_of_its_own(make):
    graph = TemporalGraph()
    graph.apply(make("payment", "bank", "son", amount=1000, relation_id="p1", start="2020-01-01",
                     end="2020-01-01"))
    graph.apply(make("payment", "bank", "son", relation_id="p2", start="2023-05-01", end="2023-05-01"))
    facts = graph.between("bank", "son", Layer.TRADE)
    assert sorted((f.relation_id, f.amount) for f in facts) == [("p1", 1000), ("p2", None)]
    # and a retraction of the sum leaves the other statement as it was
    graph.apply(make("payment", "bank", "son", amount=1000, relation_id="p1", op="retract"))
    assert [(f.relation_id, f.amount) for f in graph.between("bank", "son", Layer.TRADE)] == [("p2", None)]


def test_which_payment_an_amountless_report_joins_does_not_depend_on_order(make):
    statements = [payment(make, "p-small", "Gazette", amount=1e3, currency="USD"),
                  payment(make, "p-large", "Gazette", amount=5e6, currency="USD"),
                  payment(make, "p-vague", "Other Times")]
    results = set()
    for order in ((0, 1, 2), (2, 1, 0), (1, 2, 0), (2, 0, 1)):
        engine, score = scored_pair(payment_conflict(make, *(statements[i] for i in order)))
        results.add((score.score, tuple(sorted(
            (f.amount, tuple(sorted(r.relation_id for r in f.evidence())))
            for f in engine.graph.between("bank", "holdco", Layer.TRADE)))))
    assert len(results) == 1


def scored_pair(events):
    engine = Engine()
    engine.apply_many(events)
    assert incremental_state(engine) == full_state(engine)
    return engine, engine.score("minister", "bank")


def restated(make, count, publishers=("Gazette",), limit=None):
    """The payment stated `count` times (each its own relation id), by the publishers in turn."""
    config = ScoringConfig.load()
    if limit is not None:
        config = config.model_copy(update={"evidence": config.evidence.model_copy(
            update={"max_listed_statements": limit})})
    engine = Engine(config)
    engine.apply_many(payment_conflict(make, *(
        payment(make, f"p{i:04}", publishers[i % len(publishers)], amount=5e6, currency="USD")
        for i in range(count))))
    return engine, engine.score("minister", "bank")


def test_an_edge_lists_at_most_the_configured_statements_and_counts_the_rest(make):
    """A fact restated under new relation ids (an extractor that mints ids on every run, a story a thousand outlets
    repeat) made every score through it carry every statement, and every rescoring render them all: 3,000 were
    0.7 MB of JSON and 28 ms an event. Now the edge lists `evidence.max_listed_statements` (25) of them."""
    engine, score = restated(make, 60, publishers=("Gazette",) * 9 + ("Other Times", "Third Post"))
    edge = score.commercial_paths[0].edges[-1]
    assert len(edge.evidence) == 25 and edge.evidence_omitted == 35
    # the primary first, then in the fact's order; every publisher is among them, though two of them stated only
    # the 10th, 11th, 21st, 22nd... statements
    (fact,) = engine.graph.between("bank", "holdco", Layer.TRADE)
    order = [statement.relation_id for statement in fact.statements]
    listed = [e.relation_id for e in edge.evidence]
    assert listed[0] == fact.relation_id and listed == sorted(listed, key=order.index)
    assert {e.publisher for e in edge.evidence} == {"Gazette", "Other Times", "Third Post"}
    assert "3 sources" in score.commercial_paths[0].text
    # what is not listed still counts: the weight is that of the same fact listed in full
    _, in_full = restated(make, 60, publishers=("Gazette",) * 9 + ("Other Times", "Third Post"), limit=1000)
    assert len(in_full.commercial_paths[0].edges[-1].evidence) == 60
    assert in_full.commercial_paths[0].edges[-1].evidence_omitted == 0
    assert in_full.score == score.score
    assert in_full.commercial_paths[0].edges[-1].weight == edge.weight
    assert "evidence_omitted" not in in_full.commercial_paths[0].edges[-1].model_dump(mode="json")
    assert score.model_dump(mode="json")["commercial_paths"][0]["edges"][-1]["evidence_omitted"] == 35


def test_a_fact_restated_thousands_of_times_gives_a_score_of_bounded_size(make):
    _, hundred = restated(make, 100)
    _, thousands = restated(make, 2000)
    # only numbers differ (the omitted count, the graph version, the trigger event's id): a few digits
    assert abs(len(thousands.model_dump_json()) - len(hundred.model_dump_json())) < 10
    assert thousands.commercial_paths[0].edges[-1].evidence_omitted == 1975


def test_thousands_of_payments_between_two_parties_cost_a_pass_over_them_not_one_per_sum(make):
    """A ministry paying a vendor for hundreds of contracts, each of its own sum, with outlets reporting some of
    them without the sum: every event restates the facts of the pair, and a filter over all the statements per
    sum (and a span of every payment per amountless report) made that quadratic in the payments: 2,000 of them
    cost 54 ms an event instead of 0.3. Counted here as reads of the statements' amounts and dates."""
    graph = TemporalGraph()
    day = dt.date(2020, 1, 1)
    for number in range(300):
        when = (day + dt.timedelta(days=number)).isoformat()
        graph.apply(make("payment", "ministry", "vendor", relation_id=f"p{number}", amount=1000.0 + number,
                         currency="USD", start=when, end=when))
        graph.apply(make("payment", "ministry", "vendor", relation_id=f"v{number}", start=when, end=when,
                         publisher="Other Times"))
    statements = [_counted(rec) for fact in graph.between("ministry", "vendor", Layer.TRADE)
                  for rec in fact.evidence()]
    assert len(statements) == 600
    _Counted.reads = 0
    facts = facts_of(statements)
    assert sorted((f.amount, sorted(r.relation_id for r in f.evidence())) for f in facts) == [
        (1000.0 + number, [f"p{number}", f"v{number}"]) for number in range(300)]
    assert _Counted.reads < 20 * len(statements)


class _Counted(DetailedRelation):
    """A statement that counts the reads of its amount and start."""

    reads = 0

    @property
    def amount(self):
        _Counted.reads += 1
        return self.__dict__["amount"]

    @property
    def start(self):
        _Counted.reads += 1
        return self.__dict__["start"]


def _counted(rec):
    counted = object.__new__(_Counted)
    for slot in (*Relation.__slots__, *DetailedRelation.__slots__):
        if slot in ("amount", "start"):
            counted.__dict__[slot] = getattr(rec, slot)
        else:
            setattr(counted, slot, getattr(rec, slot))
    return counted


def test_a_new_payment_of_its_own_sum_restates_only_its_own_fact(make, monkeypatch):
    """Between two parties with hundreds of payments of distinct sums and no report without a sum, an event can
    only change the facts of the sums it names (all of the pair's went to `facts_of`, 7 ms an event at 2,000
    payments). A report without a sum may move to any payment: then all of them go."""
    import scoring.graph as graph_module

    graph = TemporalGraph()
    for number in range(200):
        graph.apply(make("payment", "ministry", "vendor", relation_id=f"p{number}", amount=1000.0 + number,
                         currency="USD"))
    graph.apply(make("payment", "ministry", "vendor", relation_id="p-again", amount=1000.0, currency="USD",
                     publisher="Other Times"))
    given = []
    real = graph_module.facts_of
    monkeypatch.setattr(graph_module, "facts_of", lambda statements, *args: given.append(len(statements))
                        or real(statements, *args))
    graph.apply(make("payment", "ministry", "vendor", relation_id="p-new", amount=5e6, currency="USD"))
    graph.apply(make("payment", "ministry", "vendor", relation_id="p-third", amount=1000.0, currency="USD",
                     publisher="Third Post"))
    # neither needs facts_of: the new sum is stated once, and the restatement joins its own fact (`_stated_again`)
    assert given == []
    (fact,) = [f for f in graph.between("ministry", "vendor", Layer.TRADE) if f.amount == 1000.0]
    assert sorted(r.relation_id for r in fact.evidence()) == ["p-again", "p-third", "p0"]
    given.clear()
    graph.apply(make("payment", "ministry", "vendor", relation_id="p-vague", publisher="Fourth Estate"))
    assert given == [204]
    assert len(graph.between("ministry", "vendor", Layer.TRADE)) == 201


# One publisher as sources write it: case, spacing, a no-break space, full-width letters (NFKC).
_SPELLINGS = ("Reuters", "REUTERS", "Reuters ", " reuters", "Reuters\u00a0",
              "\uff32\uff45\uff55\uff54\uff45\uff52\uff53")


@pytest.mark.parametrize("spelling", _SPELLINGS[1:])
def test_one_publisher_spelled_two_ways_is_one_source(spelling):
    def scored(*publishers):
        engine = Engine(ScoringConfig.load())
        engine.apply_many([make("control", "minister", "regulator"), make("regulates", "regulator", "bank")])
        engine.apply_many([make("payment", "bank", "minister", relation_id=f"claim-{number}", status="alleged",
                                amount=50_000, currency="USD", publisher=publisher)
                           for number, publisher in enumerate(publishers)])
        assert incremental_state(engine) == full_state(engine)
        return engine.score("minister", "bank")

    make = EventFactory().make
    alone, twice = scored("Reuters"), scored("Reuters", spelling)
    assert twice.score == alone.score  # the review's probe: 0.149 low became 0.209 medium, "[2 sources]"
    (path,) = twice.commercial_paths
    assert "sources" not in path.text
    assert sorted(e.publisher for e in path.edges[-1].evidence) == sorted(["Reuters", spelling])  # as stated
    assert scored("Reuters", spelling, "Associated Press").score > alone.score  # another outlet still counts


def test_publisher_keys_fold_case_width_and_spacing():
    assert {publisher_key(spelling) for spelling in _SPELLINGS} == {"reuters"}
    assert publisher_key("Thomson \t Reuters") == publisher_key("thomson reuters") != publisher_key("Reuters")
    assert publisher_key("Stra\u00dfe") == publisher_key("STRASSE")  # casefold, not lower
