"""When a fact stated several times holds (`graph.facts_of`, docs/scoring.md "A fact is an edge").

An open end says the tie held when the statement was observed, not that it holds for ever after a newer statement
reported it ended: the fact is open only if an open-ended statement was observed after every statement giving an end
date; else it ends at the latest of the stated ends and the days its open-ended statements were observed. Statements
whose spans touch (one starts the day after another ends) are one fact, like overlapping ones, for relations without
a stake or a sum (consecutive quarterly lobbying reports, consecutive terms of an office)."""

from __future__ import annotations

import datetime as dt
import itertools
import random

import pytest

import scoring.graph as graph_module
from schemas.events import Op
from scoring import Engine
from scoring.graph import TemporalGraph, facts_of
from scoring.semantics import Layer

from .conftest import full_state, incremental_state
from .test_stated_facts import _described, _reference_facts, _spans

MINISTER = ("min", "Person", "Minister X", ())
POST = ("post", "Position", "Finance Minister", ("gov.national",))
SUPERVISOR = ("fsa", "PublicBody", "Supervisor", ())
BANK = ("big-bank", "Company", "Big Bank", ())


def _at(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC)


def _facts(events, source, target, layer):
    """The facts between two ends, for the events applied in every order (the same whatever the order)."""
    seen = set()
    for order in itertools.permutations(events):
        graph = TemporalGraph()
        for event in order:
            graph.apply(event)
        seen.add(tuple((tuple(sorted(r.relation_id for r in f.evidence())), f.start, f.end)
                       for f in graph.between(source, target, layer)))
    assert len(seen) == 1, seen
    return seen.pop()


def _office(make, relation_id, observed, start="2018-01-01", end=None, publisher="Gazette"):
    return make("occupancy", MINISTER, POST, relation_id=relation_id, observed_at=_at(observed), start=start, end=end,
                publisher=publisher)


def test_an_end_stated_later_closes_an_office_an_older_statement_left_open(make):
    events = [_office(make, "old", "2020-01-01", publisher="Gazette 2020"),
              _office(make, "new", "2024-01-01", end="2022-06-30", publisher="Gazette 2024")]
    assert _facts(events, "min", "post", Layer.HOLDING) == (
        (("new", "old"), dt.date(2018, 1, 1), dt.date(2022, 6, 30)),)


def test_an_open_statement_seen_after_every_end_keeps_the_fact_open(make):
    events = [_office(make, "ended", "2021-01-01", end="2020-12-31"), _office(make, "open", "2023-01-01")]
    assert _facts(events, "min", "post", Layer.HOLDING) == ((("ended", "open"), dt.date(2018, 1, 1), None),)


def test_a_fact_closed_by_a_newer_end_holds_at_least_until_its_open_statements_were_seen(make):
    """An open statement observed on 2024-03-05, an end of 2022-06-30 observed in June 2024: it ended, but no
    earlier than the day it was seen to hold."""
    events = [_office(make, "open", "2024-03-05"), _office(make, "ended", "2024-06-01", end="2022-06-30"),
              _office(make, "older", "2019-05-01")]
    assert _facts(events, "min", "post", Layer.HOLDING) == (
        (("ended", "older", "open"), dt.date(2018, 1, 1), dt.date(2024, 3, 5)),)


def test_a_stake_sold_is_not_current_because_an_older_register_gave_no_end(make):
    events = [make("ownership", MINISTER, BANK, relation_id="r2019", percentage=60, start="2015-01-01",
                   observed_at=_at("2019-01-01"), publisher="Register 2019"),
              make("ownership", MINISTER, BANK, relation_id="r2024", percentage=60, start="2015-01-01",
                   end="2018-01-15", observed_at=_at("2024-06-01"), publisher="Register 2024")]
    assert _facts(events, "min", "big-bank", Layer.HOLDING) == (
        (("r2019", "r2024"), dt.date(2015, 1, 1), dt.date(2019, 1, 1)),)


def _supervision(make):
    return [make("control", POST, SUPERVISOR, observed_at=_at("2025-01-01")),
            make("regulates", SUPERVISOR, BANK, observed_at=_at("2025-01-01")),
            make("ownership", MINISTER, BANK, percentage=60, start="2023-01-01", observed_at=_at("2025-01-01"))]


def test_a_minister_whose_office_a_newer_gazette_ended_is_scored_as_a_former_holder(make):
    """The review's probe: the office is not current because a 2020 gazette gave no end; the score is what the
    2024 gazette alone gives (both confirm it, so certainty is the same)."""
    new = _office(make, "new", "2024-01-01", end="2022-06-30", publisher="Gazette 2024")
    old = _office(make, "old", "2020-01-01", publisher="Gazette 2020")
    scores = []
    for events in ([new], [old, new], [new, old]):
        engine = Engine(as_of=dt.date(2025, 1, 1))
        engine.apply_many([*_supervision(make), *events])
        assert incremental_state(engine) == full_state(engine)
        score = engine.score("min", "big-bank")
        scores.append((round(score.score, 6), score.band, tuple(score.rules)))
    assert scores[1] == scores[0] and scores[2] == scores[0]


def _quarter(make, relation_id, start, end, relation_type="lobbies", source="bank", target="agency", **values):
    return make(relation_type, source, target, relation_id=relation_id, start=start, end=end, **values)


QUARTERS = [("2018-01-01", "2018-03-31"), ("2018-04-01", "2018-06-30"), ("2018-07-01", "2018-09-30"),
            ("2018-10-01", "2018-12-31")]


def test_consecutive_quarterly_lobbying_reports_are_one_fact(make):
    events = [_quarter(make, f"q{number}", start, end) for number, (start, end) in enumerate(QUARTERS, 1)]
    assert _facts(events, "bank", "agency", Layer.INFLUENCE) == (
        (("q1", "q2", "q3", "q4"), dt.date(2018, 1, 1), dt.date(2018, 12, 31)),)


def test_a_day_between_two_spans_keeps_them_two_facts(make):
    events = [_quarter(make, "q1", "2018-01-01", "2018-03-30"), _quarter(make, "q2", "2018-04-01", "2018-06-30")]
    assert len(_facts(events, "bank", "agency", Layer.INFLUENCE)) == 2


def test_consecutive_terms_of_an_office_are_one_fact(make):
    events = [_office(make, "first", "2019-01-01", start="2014-01-01", end="2018-12-31"),
              _office(make, "second", "2024-01-01", start="2019-01-01", end="2023-12-31")]
    assert _facts(events, "min", "post", Layer.HOLDING) == (
        (("first", "second"), dt.date(2014, 1, 1), dt.date(2023, 12, 31)),)


@pytest.mark.parametrize("relation_type,values", [("ownership", {"percentage": 15}),
                                                  ("payment", {"amount": 15000.0, "currency": "USD"})])
def test_consecutive_stakes_or_payments_stay_two_facts(make, relation_type, values):
    """A stake or a sum is a value a register restates for each period (BODS closes a statement and opens the next
    on every change; each quarter's fee is a payment of its own): consecutive ones are not joined."""
    events = [_quarter(make, f"q{number}", start, end, relation_type, "son", "bank", **values)
              for number, (start, end) in enumerate(QUARTERS[:2], 1)]
    layer = Layer.HOLDING if relation_type == "ownership" else Layer.TRADE
    assert len(_facts(events, "son", "bank", layer)) == 2


def test_quarterly_lobbying_counts_as_one_lobbying_path(make):
    """Four quarterly reports of one client lobbying the agency an official steers: one lobbying path, not four."""
    official = ("official", "Person", "Official", ("role.pep",))
    client = ("client", "Company", "Client", ())
    agency = ("va", "PublicBody", "Agency", ("gov.national",))
    base = [make("control", official, agency), make("awards_contract", agency, client, start="2017-01-01"),
            make("family", official, "spouse", relationship="spouse"),
            make("ownership", "spouse", client, percentage=30.0)]
    lobbying = [make("lobbies", client, agency, relation_id=f"q{number}", start=start, end=end)
                for number, (start, end) in enumerate(QUARTERS, 1)]
    engine = Engine(as_of=dt.date(2019, 2, 1))
    engine.apply_many([*base, *lobbying])
    assert incremental_state(engine) == full_state(engine)
    score = engine.score("official", "client")
    paths = [path for path in (*score.authority_paths, *score.commercial_paths)
             if any(edge.relation_type.value == "lobbies" for edge in path.edges)]
    assert len(paths) == 1
    (edge,) = [edge for edge in paths[0].edges if edge.relation_type.value == "lobbies"]
    assert sorted(item.relation_id for item in edge.evidence) == ["q1", "q2", "q3", "q4"]


SPANS = [("2024-01-01", "2024-03-31"), ("2024-04-01", "2024-06-30"), ("2024-07-02", "2024-09-30"),
         ("2024-10-01", "2024-12-31"), ("2025-01-01", None), ("2023-06-01", "2023-12-31"), ("2024-02-01", "2024-02-29")]


@pytest.mark.parametrize("relation_type", ["directorship", "ownership"])
@pytest.mark.parametrize("summarised_from", [3, graph_module.SUMMARISED_FROM])
@pytest.mark.parametrize("seed", range(4))
def test_touching_and_ended_statements_in_any_order_make_the_facts_the_plain_rule_makes(make, monkeypatch, seed,
                                                                                      summarised_from, relation_type):
    """Bounded statements, some touching, some open, observed on several days, restated, retracted and withdrawn in
    random order: after every event the facts held are those of a full regrouping and of the rule written out
    plainly (`test_stated_facts._reference_facts`)."""
    monkeypatch.setattr(graph_module, "SUMMARISED_FROM", summarised_from)
    rng = random.Random(seed)
    graph = TemporalGraph()
    ids: list[str] = []
    separate = 0
    for number in range(80):
        start, end = rng.choice(SPANS)
        relation_id = rng.choice(ids) if ids and rng.random() < 0.3 else f"t{number}"
        event = make(relation_type, "son", "bank", relation_id=relation_id, start=start, end=end,
                     percentage=40 if relation_type == "ownership" else None, publisher=f"p{rng.randrange(3)}",
                     observed_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=rng.randrange(5) * 90,
                                                                                        minutes=number))
        if ids and rng.random() < 0.15:
            event = event.model_copy(update={"op": Op.RETRACT})
        graph.apply(event)
        ids.append(relation_id)
        statements = sorted(graph._relations.values(), key=lambda r: r.relation_id)
        held = list(graph.facts())
        assert sorted(map(_described, held)) == sorted(map(_described, facts_of(statements, (), {}))), number
        assert _spans(held) == _reference_facts(statements), number
        separate += len(held) > 1
    assert separate > 10
