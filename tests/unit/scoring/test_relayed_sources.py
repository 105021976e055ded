"""One article relayed by several publishers is one source (`scoring.sources`): a wire story republished, a
register's page copied into another dataset. The publishers that count are a largest set of them that can each be
given an article of its own among those it cites; a publisher citing an article nobody else cites always counts."""

from __future__ import annotations

import datetime as dt
import itertools
import random

import pytest

import scoring.graph as graph_module
from scoring import Engine, ScoringConfig
from scoring.graph import StatedFact, TemporalGraph
from scoring.semantics import Layer
from scoring.sources import MAX_RELAYS, article_key, independent, relays
from scoring.strength import Strength

from .conftest import full_state, incremental_state

WIRE = "https://www.wire.example/2025/06/minister-son-bank"


def conflict(make):
    """The minister controls the regulator, which regulates the bank his son owns 40% of; the family tie is what
    the statements below report."""
    return [make("control", "minister", "regulator"), make("regulates", "regulator", "bank"),
            make("ownership", "son", "bank", percentage=40)]


def family(make, number: int, publisher: str, url: str):
    return make("family", "son", "minister", relation_id=f"family-{number}", status="reported", publisher=publisher,
                url=url)


def scored(events):
    engine = Engine(ScoringConfig.load())
    engine.apply_many(events)
    assert incremental_state(engine) == full_state(engine)
    return engine.score("minister", "bank")


def tie(score):
    return score.commercial_paths[0].edges[0]


def test_two_publishers_relaying_one_article_are_one_source(make):
    alone = scored([*conflict(make), family(make, 1, "Wire Service", WIRE)])
    # the aggregator's copy cites the wire's article, spelled as scrapers spell it
    relayed = scored([*conflict(make), family(make, 1, "Wire Service", WIRE),
                      family(make, 2, "Aggregator News", "http://WIRE.example/2025/06/minister-son-bank/#top")])
    assert relayed.score == alone.score
    assert tie(relayed).weight == tie(alone).weight == pytest.approx(0.85)
    assert "sources" not in relayed.commercial_paths[0].text
    assert sorted(e.publisher for e in tie(relayed).evidence) == ["Aggregator News", "Wire Service"]  # both shown
    own = scored([*conflict(make), family(make, 1, "Wire Service", WIRE),
                  family(make, 2, "Aggregator News", "http://WIRE.example/2025/06/minister-son-bank/#top"),
                  family(make, 3, "Other Times", "https://other.example/story")])
    assert own.score > alone.score  # a publisher with an article of its own still corroborates
    assert tie(own).weight == pytest.approx(0.95)
    assert "2 sources" in own.commercial_paths[0].text


def test_a_publisher_relaying_two_stories_leaves_them_two_sources_in_any_order(make):
    """A writes u1; B relays u1 and u2; C writes u2: two stories, so two sources, whatever the order."""
    statements = [("A Post", "https://a.example/u1"), ("B Daily", "https://a.example/u1"),
                  ("B Daily", "https://c.example/u2"), ("C Herald", "https://c.example/u2")]
    two = scored([*conflict(make), family(make, 0, *statements[0]), family(make, 3, *statements[3])])
    results = set()
    for order in itertools.permutations(range(4)):
        score = scored([*conflict(make), *(family(make, number, *statements[number]) for number in order)])
        results.add((score.score, tie(score).weight, "2 sources" in score.commercial_paths[0].text))
    assert results == {(two.score, tie(two).weight, True)}


def test_a_bogus_publisher_citing_two_outlets_articles_does_not_join_them(make):
    """Reuters and AP report the tie, each in an article of its own: two sources. A third name citing both articles
    (the adversary's way to make them look like one relayed story) adds nothing and takes nothing away."""
    honest = [*conflict(make), family(make, 1, "Reuters", "https://reuters.example/story"),
              family(make, 2, "AP", "https://ap.example/story")]
    before = scored(honest)
    bridged = scored([*honest, make("family", "son", "minister", relation_id="bogus-1", status="alleged",
                                    publisher="Bridge", url="https://reuters.example/story"),
                      make("family", "son", "minister", relation_id="bogus-2", status="alleged",
                           publisher="Bridge", url="https://ap.example/story")])
    assert bridged.score == before.score and tie(bridged).weight == tie(before).weight == pytest.approx(0.95)
    assert "2 sources" in bridged.commercial_paths[0].text


def test_one_relay_of_many_stories_of_one_outlet_is_not_many_sources(make):
    """An aggregator copying five of one outlet's articles: two publishers, so at most two sources."""
    events = [*conflict(make)]
    for number in range(5):
        url = f"https://outlet.example/story-{number}"
        events += [family(make, 2 * number, "Outlet", url), family(make, 2 * number + 1, "Aggregator", url)]
    score = scored(events)
    assert "2 sources" in score.commercial_paths[0].text


@pytest.mark.parametrize("summarised_from", [3, graph_module.SUMMARISED_FROM])
def test_a_fact_stated_many_times_counts_its_relays_once(make, monkeypatch, summarised_from):
    monkeypatch.setattr(graph_module, "SUMMARISED_FROM", summarised_from)
    graph = TemporalGraph()
    outlets = [f"outlet {number}" for number in range(6)]
    for number in range(40):  # six outlets relay one wire story; the seventh reports it itself
        graph.apply(make("ownership", "son", "bank", relation_id=f"s{number}", percentage=40, status="reported",
                         publisher=outlets[number % 6], url=WIRE))
    graph.apply(make("ownership", "son", "bank", relation_id="own", percentage=40, status="reported",
                     publisher="Investigations Desk", url="https://desk.example/our-story"))
    (fact,) = graph.between("son", "bank", Layer.HOLDING)
    assert type(fact) is StatedFact
    strength = Strength(ScoringConfig.load(), dt.date(2025, 6, 1))
    assert strength.sources(fact) == 2 and len(fact.by_publisher) == 7
    assert strength.certainty(fact) == pytest.approx(0.95)  # two sources at 0.85: capped
    graph.apply(make("ownership", "son", "bank", relation_id="own", op="retract"))
    (fact,) = graph.between("son", "bank", Layer.HOLDING)
    assert strength.sources(fact) == 1 and len(fact.by_publisher) == 6
    assert strength.certainty(fact) == pytest.approx(0.85)  # six relays of one story: one source


@pytest.mark.parametrize(("url", "same_as"), [
    ("https://www.Wire.example/story/", "https://wire.example/story"),
    ("http://wire.example/story#comments", "https://wire.example/story"),
    ("  https://wire.example/story  ", "https://wire.example/story"),
    ("HTTPS://WIRE.EXAMPLE/story", "https://wire.example/story"),
    ("https://wire.example:443/story", "https://wire.example/story"),
    ("http://wire.example:80/story", "https://wire.example/story"),
    ("//wire.example/story", "https://wire.example/story"),
    ("https://wire.example/#/story/1/", "https://wire.example#/story/1/"),
])
def test_one_article_however_its_url_is_written(url, same_as):
    assert article_key(url) == article_key(same_as)


@pytest.mark.parametrize(("url", "other"), [
    ("https://wire.example/story?id=1", "https://wire.example/story?id=2"),  # the query names the article
    ("https://wire.example/Story", "https://wire.example/story"),  # paths are case-sensitive
    ("https://wire.example/story", "https://other.example/story"),
    ("urn:coi-risk:review:a", "urn:coi-risk:review:b"),
    ("https://spa.example/#/story/1", "https://spa.example/#/story/2"),  # a single-page site's routes
    ("https://spa.example/#!story-1", "https://spa.example/#!story-2"),
    ("https://wire.example:8443/story", "https://wire.example/story"),
    ("http://wire.example:443/story", "https://wire.example/story"),  # 443 is https's port, not http's
])
def test_different_articles_stay_apart(url, other):
    assert article_key(url) != article_key(other)


def test_a_url_the_parser_refuses_is_compared_as_text():
    assert article_key("http://[unclosed/story") == "http://[unclosed/story"
    assert article_key("not a url at all ") == "not a url at all"
    assert article_key("wire.example/story#top") == "wire.example/story"  # no scheme: text, without its fragment


def test_a_url_that_is_its_own_article_is_kept_as_one_string():
    url = "https://wire.example/2025/06/story"
    assert article_key(url) is url


def test_a_relay_more_among_many_never_leaves_a_source_out(make):
    """A reviewer's case: an outlet with a story of its own and one it shares with a local paper (which relays
    only that one), and 63 aggregators relaying one wire story. One more aggregator, no more certain than the rest,
    used to push the local paper out of the 64 relays considered: 3 sources became 2."""
    graph = TemporalGraph()
    strength = Strength(ScoringConfig.load(), dt.date(2025, 6, 1))
    numbers = itertools.count()

    def add(publisher, url, confidence):
        graph.apply(make("ownership", "son", "bank", relation_id=f"s{next(numbers)}", percentage=40,
                         confidence=confidence, publisher=publisher, url=url))

    add("Desk", "https://desk.example/own", 0.3)
    add("Desk", "https://shared.example/y", 0.3)
    add("Local Paper", "https://shared.example/y", 0.2)
    for number in range(63):
        add(f"aggregator {number:02d}", "https://wire.example/x", 0.3)
    (before,) = graph.between("son", "bank", Layer.HOLDING)
    add("aggregator 63", "https://wire.example/x", 0.3)
    (after,) = graph.between("son", "bank", Layer.HOLDING)
    assert strength.sources(before) == strength.sources(after) == 3
    assert strength.certainty(after) == pytest.approx(strength.certainty(before)) == pytest.approx(0.608)


def _counted(statements: list[tuple[str, str, float]]) -> list[str]:
    """The publishers `independent` counts among (publisher, article, value) statements."""
    values: dict[str, float] = {}
    citers: dict[str, set[str]] = {}
    for publisher, article, value in statements:
        values[publisher] = max(value, values.get(publisher, 0.0))
        citers.setdefault(article, set()).add(publisher)
    return sorted(independent(values, relays(citers)))


def _largest_matching(statements: list[tuple[str, str, float]]) -> int:
    """How many publishers can each be given an article of its own, by trying every subset (small worlds)."""
    publishers = sorted({publisher for publisher, _, _ in statements})
    cites = {publisher: {article for name, article, _ in statements if name == publisher} for publisher in publishers}
    best = 0
    for size in range(len(publishers) + 1):
        for chosen in itertools.combinations(publishers, size):
            if any(len(set().union(*(cites[p] for p in subset))) < len(subset)  # Hall's condition
                   for k in range(1, size + 1) for subset in itertools.combinations(chosen, k)):
                continue
            best = size
    return best


@pytest.mark.parametrize("seed", range(40))
def test_sources_never_drop_as_statements_come_and_match_as_many_publishers_as_can_be(seed):
    """Random small worlds of publishers and articles: the count is a largest matching of publishers to articles;
    adding a statement never lowers the noisy-OR of what counts; any order of the statements counts alike."""
    rng = random.Random(seed)
    statements: list[tuple[str, str, float]] = []
    previous = 0.0
    for _ in range(9):
        statements.append((f"p{rng.randrange(5)}", f"u{rng.randrange(4)}", rng.choice([0.3, 0.6, 0.85, 1.0])))
        counted = _counted(statements)
        assert len(counted) == _largest_matching(statements)
        best = {publisher: max(v for p, _, v in statements if p == publisher) for publisher in counted}
        doubt = 1.0
        for value in best.values():
            doubt *= 1.0 - value
        assert 1.0 - doubt >= previous - 1e-12
        previous = 1.0 - doubt
        shuffled = statements[:]
        rng.shuffle(shuffled)
        assert _counted(shuffled) == counted


def test_a_flood_of_relays_counts_a_bounded_number_of_them():
    values = {f"relay {number:03d}": 0.5 for number in range(500)}
    citers = {f"https://wire.example/{number}": set(values) for number in range(200)}
    assert len(independent(values, relays(citers))) == MAX_RELAYS


def test_a_fact_stated_many_times_restated_twice_from_one_version_keeps_its_articles_right(make, monkeypatch):
    """A version hands its articles on to its successor (`graph._handed_on`); one restated again (a successor
    made and not used) makes them afresh, so neither successor sees the other's statement."""
    monkeypatch.setattr(graph_module, "SUMMARISED_FROM", 3)
    graph = TemporalGraph()
    for number in range(4):
        graph.apply(make("ownership", "son", "bank", relation_id=f"s{number}", percentage=40,
                         publisher=f"outlet {number % 2}", url=f"https://outlet.example/{number % 2}"))
    (fact,) = graph.between("son", "bank", Layer.HOLDING)
    relay, own = (TemporalGraph(), TemporalGraph())
    relay.apply(make("ownership", "son", "bank", relation_id="relay", percentage=40, publisher="outlet 1",
                     url="https://outlet.example/0"))
    own.apply(make("ownership", "son", "bank", relation_id="own", percentage=40, publisher="outlet 9"))
    (relayed,) = relay.between("son", "bank", Layer.HOLDING)
    (owned,) = own.between("son", "bank", Layer.HOLDING)
    first = graph_module._restated(fact, relayed, graph.original_event_ids)
    second = graph_module._restated(fact, owned, graph.original_event_ids)
    for made in (first, second):
        assert (made.citers, made.owners) == graph_module._citers_of(made.statements)
    assert second.citers == {"https://outlet.example/0": {"outlet 0": 2}, "https://outlet.example/1": {"outlet 1": 2},
                             "https://example.org/outlet%209/article": "outlet 9"}


def test_publishers_denying_a_fact_or_stating_it_with_no_confidence_are_not_its_sources(make):
    """A stake alleged by one outlet and denied by two read `ownership[30%, alleged, 3 sources]` (a review): the
    sources an edge shows are those behind its certainty, and a denial adds nothing to it. Its evidence still lists
    the denials."""
    stake = [make("control", "minister", "regulator"), make("regulates", "regulator", "bank")]

    def owned(*statements):
        return scored([*stake, *(make("ownership", "minister", "bank", percentage=30, relation_id=f"stake-{n}",
                                      status=status, confidence=confidence, publisher=publisher)
                                 for n, (status, confidence, publisher) in enumerate(statements))])

    alleged = owned(("alleged", 1.0, "Daily A"))
    denied = owned(("alleged", 1.0, "Daily A"), ("denied", 1.0, "Daily B"), ("denied", 1.0, "Daily C"))
    assert denied.score == alleged.score
    assert "sources" not in denied.commercial_paths[0].text and "alleged" in denied.commercial_paths[0].text
    assert sorted((e.publisher, str(e.status)) for e in tie(denied).evidence) == [
        ("Daily A", "alleged"), ("Daily B", "denied"), ("Daily C", "denied")]
    unsure = owned(("reported", 1.0, "Daily A"), ("reported", 0.0, "Daily B"))
    assert "sources" not in unsure.commercial_paths[0].text
    corroborated = owned(("reported", 1.0, "Daily A"), ("reported", 0.5, "Daily B"), ("denied", 1.0, "Daily C"))
    assert "2 sources" in corroborated.commercial_paths[0].text
