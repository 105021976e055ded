"""Entity resolution in front of the engine: judgements and identifiers merge ids, denials keep them apart, and the
incremental resolved scores equal the resolved graph computed from scratch, also across merges and splits."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.outputs import AlertState
from scoring import AlertTracker, Engine, ScoringConfig
from schemas.events import RelationshipEvent
from scoring.resolution import ResolvingEngine

from .conftest import EventFactory, content, full_state, incremental_state
from .resolution_support import (
    engine_state,
    judgement,
    layer_state,
    resolved_from_scratch,
    unmerged_content,
    identified,
)

# Two sources name one minister with their own ids: a register gives his power, a news extractor his stake.
REGISTER_MINISTER = ("os-minister-1", "Person", "Jan Kowalski", ("role.pep", "gov.national"))
NEWS_MINISTER = ("news-jan-kowalski", "Person", "Jan Kowalski", ())


def split_conflict(make):
    """Neither source alone shows a conflict: the register's minister controls the regulator of the bank, the news
    minister owns the vendor the bank pays."""
    return [make("control", REGISTER_MINISTER, "regulator"), make("regulates", "regulator", "bank"),
            make("ownership", NEWS_MINISTER, "vendor", percentage=100),
            make("payment", "bank", "vendor", amount=3e6, currency="USD")]


def test_a_merge_raises_the_conflict_neither_source_shows_and_its_retraction_resolves_it(make, config):
    layer = ResolvingEngine(config)
    tracker = AlertTracker(config)
    for event in split_conflict(make):
        assert tracker.observe(layer.apply(event)) == []
    assert layer.scores() == []
    merge = judgement(REGISTER_MINISTER, NEWS_MINISTER, event_id="judge-kowalski")
    changes = layer.apply(merge)
    alerts = tracker.observe(changes)
    assert [(a.state, a.actor_id, a.counterparty_id) for a in alerts] == [
        (AlertState.RAISED, "news-jan-kowalski", "bank")]  # the smallest member id is canonical
    score = changes[0].new
    assert score.trigger_event_id == "judge-kowalski"
    assert score.actor_merged_ids == ("news-jan-kowalski", "os-minister-1")
    assert alerts[0].actor_merged_ids == score.actor_merged_ids
    note = score.merges[0]
    assert note.canonical_id == "news-jan-kowalski" and note.member_ids == score.actor_merged_ids
    assert note.evidence[0].event_id == "judge-kowalski" and note.evidence[0].publisher == "Analyst desk"
    assert "by judgement event judge-kowalski from Analyst desk" in note.text
    # every edge still cites the statement that made it, not the re-issue the layer sent the engine
    cited = {ev.event_id for path in (*score.authority_paths, *score.commercial_paths)
             for edge in path.edges for ev in edge.evidence}
    assert cited <= {e.event_id for e in split_conflict(EventFactory().make)}
    assert layer.score("os-minister-1", "bank") == layer.score("news-jan-kowalski", "bank") is not None
    retraction = judgement(REGISTER_MINISTER, NEWS_MINISTER, op="retract", event_id="judge-kowalski-withdrawn")
    alerts = tracker.observe(layer.apply(retraction))
    assert [(a.state, a.actor_id) for a in alerts] == [(AlertState.RESOLVED, "news-jan-kowalski")]
    assert layer.scores() == []
    assert layer.canonical("os-minister-1") == "os-minister-1"


def test_a_merge_and_its_retraction_return_every_score_to_its_pre_merge_value(make, config):
    layer = ResolvingEngine(config)
    base = [make("control", "minister", "regulator"), make("regulates", "regulator", "bank"),
            make("family", "son", "minister"), make("ownership", "son", "vendor", percentage=100),
            make("payment", "bank", "vendor", amount=3e6, currency="USD"),
            make("ownership", ("son-2", "Person", "Son", ()), "holdco", percentage=60),
            make("partners_with", "holdco", "bank")]
    for event in base:
        layer.apply(event)
    before = {key: content(s) for key, s in ((k, layer.score(*k)) for k in [(s.actor_id, s.counterparty_id)
                                                                             for s in layer.scores()])}
    assert before
    layer.apply(judgement("son", ("son-2", "Person", "Son", ())))
    merged = {(s.actor_id, s.counterparty_id): content(s) for s in layer.scores()}
    assert merged != before  # the merge made a difference (son-2's holding joined the son's)
    layer.apply(judgement("son", ("son-2", "Person", "Son", ()), op="retract"))
    assert {(s.actor_id, s.counterparty_id): content(s) for s in layer.scores()} == before


def test_a_shared_strong_identifier_merges_without_a_judgement_and_says_why(make, config):
    layer = ResolvingEngine(config)
    events = [identified(make("control", REGISTER_MINISTER, "regulator"), "source",
                         {"scheme": "wikidata", "value": "q1234"}),
              identified(make("ownership", ("wd-kowalski", "Person", "J. Kowalski", ()), "vendor", percentage=100),
                         "source", {"scheme": "wikidata", "value": " Q1234"}),
              make("regulates", "regulator", "bank"), make("payment", "bank", "vendor", amount=3e6, currency="USD")]
    for event in events:
        layer.apply(event)
    assert layer.canonical("wd-kowalski") == layer.canonical("os-minister-1") == "os-minister-1"
    score = layer.score("os-minister-1", "bank")
    assert score is not None
    evidence = score.merges[0].evidence[0]
    assert evidence.kind == "identifier" and evidence.identifier == "wikidata:Q1234"
    cluster = layer.cluster("wd-kowalski")
    assert cluster["canonical_id"] == "os-minister-1"
    assert [m["id"] for m in cluster["members"]] == ["os-minister-1", "wd-kowalski"]
    # a denial outweighs the identifier (a register's error): the two come apart and the conflict goes
    changes = layer.apply(judgement(REGISTER_MINISTER, ("wd-kowalski", "Person", "J. Kowalski", ()), "denied"))
    assert layer.canonical("wd-kowalski") == "wd-kowalski"
    assert [c.new for c in changes] == [None] and layer.scores() == []


def test_names_alone_never_merge_and_one_judgement_does():
    config = ScoringConfig.load()
    layer = ResolvingEngine(config)
    make = EventFactory().make
    trump = ("Q22686", "Person", "Donald Trump", ("role.pep", "gov.head"))
    junior = ("Q3713655", "Person", "Donald Trump Jr.", ())
    news_trump = ("news-donald-trump", "Person", "Donald Trump", ())
    for event in [make("control", trump, "regulator"), make("regulates", "regulator", "bank"),
                  make("ownership", junior, "vendor", percentage=100),
                  make("ownership", news_trump, "holdco", percentage=100),
                  make("payment", "bank", "vendor", amount=1e6, currency="USD")]:
        layer.apply(event)
    for entity in ("Q22686", "Q3713655", "news-donald-trump"):
        assert layer.canonical(entity) == entity  # same or nearly the same name: still three entities
    assert layer.scores() == []
    layer.apply(judgement(trump, junior, matcher="analyst", criteria="confirmed by the analyst (test)"))
    assert layer.canonical("Q3713655") == "Q22686"
    assert [(s.actor_id, s.counterparty_id) for s in layer.scores()] == [("Q22686", "bank")]


def test_a_denial_splits_a_transitive_chain_whatever_the_order():
    a, b, c = (("e-a", "Company", "Alpha Ltd", ()), ("e-b", "Company", "Alpha Limited", ()),
               ("e-c", "Company", "Alpha Holdings", ()))
    events = [judgement(a, b, relation_id="j1", event_id="ja"), judgement(b, c, relation_id="j2", event_id="jb"),
              judgement(a, c, "denied", relation_id="j3", event_id="jc")]
    outcomes = set()
    for order in ([0, 1, 2], [2, 1, 0], [1, 2, 0], [2, 0, 1]):
        layer = ResolvingEngine(ScoringConfig.load())
        for index in order:
            layer.apply(events[index])
        clusters = tuple(layer.canonical(x) for x in ("e-a", "e-b", "e-c"))
        assert clusters[0] != clusters[2]
        outcomes.add(clusters)
        assert [e["event_id"] for e in layer.cluster("e-c")["refused"]] in (["ja"], ["jb"])
    assert outcomes == {("e-a", "e-a", "e-c")}  # j1 sorts first: a=b holds, b=c is refused


def test_a_relation_between_two_merged_ids_is_set_aside_and_comes_back_on_the_split(make, config):
    layer = ResolvingEngine(config)
    for event in [make("control", "minister", "regulator"), make("regulates", "regulator", "bank"),
                  make("family", "son", "minister"), make("ownership", "son", "vendor", percentage=100),
                  make("payment", "bank", "vendor", amount=3e6, currency="USD")]:
        layer.apply(event)
    assert layer.scores()
    layer.apply(judgement("son", "minister", relation_id="j-wrong"))  # a wrong merge: the family tie folds away
    assert layer.engine.graph.relation("son-family-minister") is None
    assert incremental_state(layer) == full_state(layer)
    layer.apply(judgement("son", "minister", relation_id="j-wrong", op="retract"))
    assert layer.engine.graph.relation("son-family-minister") is not None
    assert incremental_state(layer) == full_state(layer)


def test_judgements_and_suggestions_bookkeeping(config):
    layer = ResolvingEngine(config)
    a, b = ("x-1", "Person", "Ana Silva", ()), ("x-2", "Person", "Ana Sylva", ())
    layer.apply(judgement(a, b, "proposed", relation_id="s1", matcher="logic-v2", confidence_score=0.8))
    assert [s.relation_id for s in layer.suggestions()] == ["s1"]
    assert layer.canonical("x-2") == "x-2"  # a suggestion merges nothing
    layer.apply(judgement(a, b, "confirmed", relation_id="s1"))
    assert layer.suggestions() == [] and layer.canonical("x-2") == "x-1"
    assert layer.cluster("nobody-knows") is None


def test_one_clusters_suggestions_are_those_of_all_that_name_a_member(config):
    """`suggestions(id)` reads an index of the ids each open suggestion names; on random judgements (proposals,
    merges, denials, retractions, later statuses) it answers what filtering every open suggestion by cluster does."""
    rng = random.Random(11)
    layer = ResolvingEngine(config)
    ids = [(f"e-{i}", "Person", f"Person {i}", ()) for i in range(12)]
    for step in range(300):
        a, b = rng.sample(ids, 2)
        status = rng.choice(["proposed", "proposed", "in_discussion", "confirmed", "denied"])
        layer.apply(judgement(a, b, status, relation_id=f"j-{rng.randrange(40)}",
                              op="retract" if rng.random() < 0.1 else "upsert", matcher="m"))
        if step % 10 == 0:
            every = layer.suggestions()
            for entity in ids:
                cid = layer.canonical(entity[0])
                assert layer.suggestions(entity[0]) == [
                    s for s in every if cid in (layer.canonical(s.source.id), layer.canonical(s.target.id))]


# -- incremental == from scratch, with merges and splits ---------------------------------------------------------

PEOPLE = [("p0", "Person", "P0", ("role.pep",)), ("p1", "Person", "P1", ()), ("p2", "Person", "P2", ()),
          ("p3", "Person", "P3", ("role.rca",)), ("p4", "Person", "P4", ())]
COMPANIES = [("c0", "Company", "C0", ()), ("c1", "Company", "C1", ()), ("c2", "Company", "C2", ()),
             ("c3", "Company", "C3", ())]
BODIES = [("b0", "PublicBody", "B0", ("gov.national",)), ("b1", "PublicBody", "B1", ())]
TEMPLATES = [("control", PEOPLE[:3], BODIES), ("regulates", BODIES, COMPANIES), ("ownership", PEOPLE, COMPANIES),
             ("family", PEOPLE, PEOPLE), ("payment", COMPANIES, COMPANIES), ("partners_with", COMPANIES, COMPANIES),
             ("oversees", BODIES, COMPANIES)]
MOMENTS = [f"2025-{month:02d}-01T00:00:00Z" for month in range(1, 7)]
IDENTIFIED = {"p1": "Q7", "p4": "Q7", "c1": "Q9", "c3": "Q9"}
# what another source may state of an id's topics (none, or other ones): an id shows what its current statements
# state together (`ResolvingEngine._restate_topics`)
TOPIC_VARIANTS = {"Person": [(), ("role.pep",), ("role.pep", "role.pep.natl")], "Company": [()],
                  "PublicBody": [(), ("gov.national",), ("gov.muni",)]}


# Power and ties split across ids: merging p0 with p1 or p2, or c1 with c3, makes conflicts appear.
BACKBONE = [("control", PEOPLE[0], BODIES[0]), ("regulates", BODIES[0], COMPANIES[0]),
            ("ownership", PEOPLE[1], COMPANIES[1]), ("payment", COMPANIES[0], COMPANIES[1]),
            ("family", PEOPLE[3], PEOPLE[2]), ("ownership", PEOPLE[2], COMPANIES[2]),
            ("partners_with", COMPANIES[2], COMPANIES[0]), ("control", PEOPLE[4], BODIES[1]),
            ("oversees", BODIES[1], COMPANIES[3]), ("payment", COMPANIES[2], COMPANIES[1])]


@st.composite
def resolution_logs(draw):
    factory = EventFactory()
    events = []
    plan = [item for item in BACKBONE if draw(st.integers(0, 3))]
    plan += [None] * draw(st.integers(2, 14))
    for number, planned in enumerate(plan):
        if planned is None and draw(st.integers(0, 2)) == 0:  # a judgement, or a change of one
            pool = draw(st.sampled_from([PEOPLE, COMPANIES]))
            a, b = draw(st.sampled_from([(x, y) for x in pool for y in pool if x[0] < y[0]]))
            events.append(judgement(a, b, draw(st.sampled_from(["confirmed", "confirmed", "denied", "proposed"])),
                                    op=draw(st.sampled_from(["upsert", "upsert", "retract"])),
                                    relation_id=f"j-{a[0]}-{b[0]}", event_id=f"j{number:03d}",
                                    observed_at=draw(st.sampled_from(MOMENTS))))
            continue
        if planned is not None:
            kind, source, target = planned
        else:
            kind, sources, targets = draw(st.sampled_from(TEMPLATES))
            source = draw(st.sampled_from(sources))
            target = draw(st.sampled_from([t for t in targets if t[0] != source[0]]))
        if draw(st.integers(0, 3)) == 0:
            source = (*source[:3], draw(st.sampled_from(TOPIC_VARIANTS[source[1]])), *source[4:])
        if draw(st.integers(0, 3)) == 0:
            target = (*target[:3], draw(st.sampled_from(TOPIC_VARIANTS[target[1]])))
        if draw(st.integers(0, 4)) == 0 and source[0] in IDENTIFIED:  # a register that knows the QID
            source = (*source, ({"scheme": "wikidata", "value": IDENTIFIED[source[0]]},))
        properties = {"percentage": 60} if kind == "ownership" else {}
        if kind == "payment":
            properties = {"amount": 2e6, "currency": "USD"}
        event = factory.make(kind, source[:4], target, relation_id=f"{kind}-{source[0]}-{target[0]}" if planned or draw(st.integers(0, 3))
                             else draw(st.sampled_from(["r0", "r1"])),  # an id that moves between endpoints
                             event_id=f"e{number:03d}", op="upsert" if planned else draw(st.sampled_from(["upsert"] * 4 + ["retract"])),
                             observed_at=draw(st.sampled_from(MOMENTS)),
                             publisher=draw(st.sampled_from(["Example Gazette", "Other Register"])), **properties)
        if len(source) > 4:
            event = identified(event, "source", *source[4])
        events.append(event)
    return events


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events=resolution_logs(), seed=st.integers(0, 2**16))
def test_incremental_resolution_equals_the_resolved_graph_from_scratch(events, seed):
    config = ScoringConfig.load()
    shuffled = list(events)
    random.Random(seed).shuffle(shuffled)
    layer = ResolvingEngine(config)
    published = {}
    for number, event in enumerate(shuffled):
        for change in layer.apply(event):
            assert unmerged_content(change.old) == unmerged_content(published[change.key]) \
                if change.old is not None else change.key not in published
            published[change.key] = change.new
            if change.new is None:
                del published[change.key]
        assert layer_state(layer) == {k: unmerged_content(s) for k, s in layer.recompute_all().items()}
    assert layer_state(layer) == engine_state(resolved_from_scratch(shuffled, config))
    assert {k: unmerged_content(s) for k, s in published.items()} == layer_state(layer)
    # every edge's key starts with its kind: the clusters sort edges by key alone (`clusters._in_order`)
    assert all(key[0] == edge.kind for key, edge in layer.clusters._edges.items())
    # a replay in the same order gives byte-identical output; another order the same final state
    again = ResolvingEngine(config)
    replayed = [c.published().model_dump_json() for e in shuffled for c in again.apply(e)]
    other = ResolvingEngine(config)
    first = [c.published().model_dump_json() for e in shuffled for c in other.apply(e)]
    assert replayed == first
    ordered = ResolvingEngine(config)
    ordered.apply_many(sorted(events, key=lambda e: e.event_id))
    assert layer_state(ordered) == layer_state(layer)


def test_the_ranked_report_and_the_entity_view_show_the_merge(make, config):
    from streams.render import render_ranking
    from streams.web import entity_view

    layer = ResolvingEngine(config)
    for event in [*split_conflict(make), judgement(REGISTER_MINISTER, NEWS_MINISTER, event_id="judge-k")]:
        layer.apply(event)
    report = render_ranking(layer.scores())
    assert "merged:" in report and "Jan Kowalski (news-jan-kowalski) = Jan Kowalski (os-minister-1)" in report
    assert "by judgement event judge-k from Analyst desk" in report
    body, status = entity_view(layer, "os-minister-1")
    assert status == 200 and body["canonical_id"] == "news-jan-kowalski"
    assert entity_view(layer, "nobody")[1] == 404


def test_identifier_values_compare_normalised():
    from schemas.events import EntityIdentifier

    written = [EntityIdentifier(scheme="register", jurisdiction="se", value=v) for v in ("556000-1234", "5560001234",
                                                                                       " 556000 1234 ")]
    assert {i.key for i in written} == {("register", "se", "5560001234")}
    assert EntityIdentifier(scheme="wikidata", value="q42").value == "Q42"
    assert EntityIdentifier(scheme="opensanctions", value="NK-abc").value == "NK-abc"  # a system's ids keep case
    import pytest
    from pydantic import ValidationError

    for bad in ({"scheme": "register", "value": "123"}, {"scheme": "wikidata", "value": "Trump"},
                {"scheme": "passport", "value": "X1"}):
        with pytest.raises(ValidationError):
            EntityIdentifier(**bad)


def test_a_globally_unique_identifier_merges_whatever_jurisdiction_a_source_writes_beside_it(make, config):
    """An LEI or a QID is one entity wherever it was issued: a register that writes `jurisdiction: gb` beside an LEI
    and a list that writes none name one company (they were kept apart as lei:gb:X and lei:X). A register number
    stays unique within its jurisdiction only."""
    from schemas.events import EntityIdentifier

    lei = "529900T8BM49AURSDO55"
    assert EntityIdentifier(scheme="lei", value=lei, jurisdiction="gb").key == EntityIdentifier(scheme="lei",
                                                                                                value=lei).key
    assert (EntityIdentifier(scheme="register", value="123", jurisdiction="gb").key
            != EntityIdentifier(scheme="register", value="123", jurisdiction="se").key)
    layer = ResolvingEngine(config)
    for event in [make("control", REGISTER_MINISTER, "regulator"), make("regulates", "regulator", "bank"),
                  identified(make("ownership", REGISTER_MINISTER, ("vendor-a", "Company", "Vendor Ltd", ()),
                                  percentage=100), "target", {"scheme": "lei", "value": lei, "jurisdiction": "gb"}),
                  identified(make("payment", "bank", ("vendor-b", "Company", "VENDOR LIMITED", ()), amount=3e6,
                                  currency="USD"), "target", {"scheme": "lei", "value": lei})]:
        layer.apply(event)
    assert layer.canonical("vendor-b") == layer.canonical("vendor-a") == "vendor-a"
    score = layer.score("os-minister-1", "bank")
    assert score is not None and score.merges[0].evidence[0].kind == "identifier"


def test_a_merged_entity_shows_every_members_topics_whatever_the_event_times(make, config):
    """The member that carries the PEP topics was last named by an older event than the canonical member: the
    re-issued relations are too old to change the engine's entity, so the layer pushes the merged attributes."""
    layer = ResolvingEngine(config)
    plain = ("a-person", "Person", "Anna Berg", ())
    pep = ("b-person", "Person", "Anna Berg", ("role.pep", "gov.national"))
    layer.apply(make("ownership", plain, "vendor", percentage=100, observed_at="2025-06-01T00:00:00Z"))
    layer.apply(make("control", pep, "regulator", observed_at="2025-01-01T00:00:00Z"))
    assert layer.engine.graph.topics("a-person") == frozenset()
    layer.apply(judgement(plain, pep, observed_at="2025-01-02T00:00:00Z"))
    assert layer.engine.graph.topics("a-person") == {"role.pep", "gov.national"}
    assert layer.exposure("b-person").kind == "pep" and layer.exposure("b-person").entity_id == "a-person"
    layer.apply(judgement(plain, pep, op="retract", observed_at="2025-01-03T00:00:00Z"))
    assert layer.engine.graph.topics("a-person") == frozenset()
    assert layer.engine.graph.topics("b-person") == {"role.pep", "gov.national"}


def test_an_identifier_shared_by_a_person_and_a_company_merges_nothing(make, config):
    layer = ResolvingEngine(config)
    qid = {"scheme": "wikidata", "value": "Q99"}
    layer.apply(identified(make("ownership", ("x-person", "Person", "Ada", ()), "vendor", percentage=10), "source",
                           qid))
    layer.apply(identified(make("ownership", ("x-company", "Company", "Ada Ltd", ()), "bank", percentage=10),
                           "source", qid))
    assert layer.canonical("x-company") == "x-company" and layer.canonical("x-person") == "x-person"


def test_a_judgement_that_calls_a_company_a_person_merges_nothing_whatever_the_order(make, config):
    """A judgement states the schemata of its ends itself: both "Person" passes the contract's check, but the
    relations name the vendor as a Company. A person is never one entity with a company: the merge is refused (shown
    with why on the entity view), also when the judgement arrives before the relations that say what the ids are."""
    relations = [make("control", "minister", "regulator"), make("regulates", "regulator", "bank"),
                 make("ownership", ("zz-person", "Person", "Ada", ()), "vendor", percentage=100),
                 make("payment", "bank", "vendor", amount=3e6, currency="USD")]
    claim = judgement(("minister", "Person", "Finance Minister", ()), ("vendor", "Person", "Vendor Ltd", ()),
                      relation_id="j-clash", event_id="j-clash")
    for order in ([*relations, claim], [claim, *relations], [relations[0], claim, *relations[1:]]):
        layer = ResolvingEngine(config)
        for event in order:
            layer.apply(event)
        assert layer.canonical("vendor") == "vendor" and layer.canonical("minister") == "minister"
        assert layer.scores() == [] and layer.merged_ref("vendor").schema_.value == "Company"
        (refused,) = layer.cluster("vendor")["refused"]
        assert refused["event_id"] == "j-clash" and refused["refused_by"].startswith("kind:")
        assert "Vendor Ltd (vendor) is a Company" in refused["refused_by"]
        assert layer_state(layer) == engine_state(resolved_from_scratch(order, config))
    # the relation that called the vendor a Company is corrected: it is a person, and the judgement now merges
    layer.apply(make("ownership", ("vendor", "Person", "Vendor Ltd", ()), "holdco", percentage=100))
    assert layer.canonical("vendor") == "minister" and layer.cluster("vendor")["refused"] == []


def test_the_newest_judgement_names_an_id_only_judgements_name_whatever_the_order(make, config):
    """An id no relation names shows the name a judgement gives it; of two judgements naming it differently, the
    newest decides, not the one that arrived first (the merged entity's name is in every score of it)."""
    minister = ("b-minister", "Person", "Minister B", ("role.pep", "gov.national"))
    owner = ("c-owner", "Person", "Owner C", ())
    relations = [make("control", minister, "regulator"), make("regulates", "regulator", "bank"),
                 make("ownership", owner, "vendor", percentage=100),
                 make("payment", "bank", "vendor", amount=3e6, currency="USD")]
    older = judgement(("a-ghost", "Person", "Name One", ()), minister, relation_id="j1",
                      observed_at="2025-02-01T00:00:00Z")
    newer = judgement(("a-ghost", "Person", "Name Two", ()), owner, relation_id="j2",
                      observed_at="2025-03-01T00:00:00Z")
    shown = set()
    for order in ([older, newer], [newer, older]):
        layer = ResolvingEngine(config)
        for event in [*relations, *order]:
            layer.apply(event)
        shown.add(tuple((s.actor_id, s.actor_name) for s in layer.scores()))
        assert layer.merged_ref("c-owner").name == "Name Two"
        assert layer_state(layer) == engine_state(resolved_from_scratch([*relations, *order], config))
    assert shown == {(("a-ghost", "Name Two"),)}


def test_a_judgement_carrying_a_merged_view_leaves_nothing_behind_when_the_merge_is_retracted(make, config):
    """Suggestions and reviews name their ends as the layer shows them: merged, with every member's identifiers and
    topics. Applying such a judgement must not file those under one member, or retracting the merge that gave
    them would leave the members joined by an identifier no source ever stated of them."""
    layer = ResolvingEngine(config)
    anna = ("anna", "Person", "Anna Berg", ())
    wikidata_anna = ("Q42", "Person", "Anna Berg", ("role.pep",))
    other = ("anna-2", "Person", "Anna Bergh", ())
    for event in [make("ownership", anna, "vendor", percentage=100),
                  identified(make("control", wikidata_anna, "regulator"), "source",
                             {"scheme": "wikidata", "value": "Q42"}),
                  make("ownership", other, "holdco", percentage=100)]:
        layer.apply(event)
    merge = judgement(anna, wikidata_anna)
    layer.apply(merge)
    assert layer.canonical("anna") == layer.canonical("Q42")
    merged_view = layer.merged_ref("anna").model_dump(by_alias=True, exclude_none=True)
    assert merged_view.get("identifiers") and "role.pep" in merged_view["topics"]
    layer.apply(judgement(merged_view, other, "denied"))
    layer.apply(merge.model_copy(update={"op": "retract", "event_id": merge.event_id + "-retract",
                                         "observed_at": merge.observed_at.replace(year=merge.observed_at.year + 1)}))
    assert layer.canonical("anna") == "anna" and layer.canonical("Q42") == "Q42"
    assert not layer.entity_ref("anna").identifiers and "role.pep" not in layer.entity_ref("anna").topics


def test_a_redelivered_event_changes_nothing_and_counts_once_with_or_without_the_layer(make, config):
    events = [*split_conflict(make), judgement(REGISTER_MINISTER, NEWS_MINISTER, event_id="judge-kowalski")]
    layer, engine = ResolvingEngine(config), Engine(config)
    for event in events:
        layer.apply(event)
        engine.apply(event)
    # the layer remembers its input's ids; its graph keeps only their count: the four relations, the minister's
    # relation re-issued with the merged id, and the merged entity's attributes pushed
    counted, scores = layer.engine.graph.event_count, layer.scores()
    assert counted == 6 and scores != []
    for event in events:
        assert layer.apply(event) == [] and engine.apply(event) == []
    assert layer.engine.graph.event_count == counted and layer.scores() == scores
    assert engine.graph.event_count == len(events)  # the judgement is only an event to the bare engine


def test_the_layer_keeps_one_string_per_id_whatever_the_events_bring(make, config):
    """Every parsed event brings its own copies of its ends' ids; the layer's records and indexes must share the
    one it holds (a copy per relation cost a worker about 110 bytes a relation)."""
    # ids longer than pydantic's cache of short strings, which would otherwise hand back one object for all
    pm, holdco, shell = (("pm-" + "x" * 70, "Person", "Prime Minister", ("role.pep",)),
                         ("holdco-" + "x" * 70, "Company", "Holding", ()), ("shell-" + "x" * 70, "Company", "Shell", ()))
    events = [make("ownership", pm, holdco, percentage=60), make("ownership", pm, shell, percentage=40),
              make("ownership", pm, holdco, percentage=70)]  # a newer reference of both ends
    layer = ResolvingEngine(config)
    for event in events:  # as the worker parses them: from the message's bytes, each with strings of its own
        layer.apply(RelationshipEvent.model_validate_json(event.model_dump_json(by_alias=True)))
    held = layer._refs[pm[0]].id
    assert all(current.source is held for current in layer._current.values())
    assert next(key for key in layer._touching if key == pm[0]) is held


def test_the_layer_and_the_graph_keep_one_name_per_entity_while_it_is_unchanged(make, config):
    """A newer reference with the same name brings its own copy of it; the graph keeps the name it has, and the
    layer must keep that one too, not a second copy per entity."""
    long = " " + "x" * 70  # longer than pydantic's cache of short strings
    pm, holdco = ("pm", "Person", "Prime Minister" + long, ("role.pep",)), ("holdco", "Company", "Holding" + long, ())
    renamed = ("holdco", "Company", "Holding renamed" + long, ())
    layer = ResolvingEngine(config)
    for event in (make("ownership", pm, holdco, percentage=60), make("ownership", pm, holdco, percentage=70),
                  make("ownership", pm, renamed, percentage=80)):
        layer.apply(RelationshipEvent.model_validate_json(event.model_dump_json(by_alias=True)))
    graph = layer.engine.graph
    assert layer._refs["pm"].name is graph.entity("pm").name == "Prime Minister" + long
    assert layer._refs["holdco"].name == graph.entity("holdco").name == "Holding renamed" + long


def test_the_current_events_are_read_a_block_at_a_time(make, config, monkeypatch):
    """The portable export reads every current event: grouped by block, each block is inflated once, however the
    relations' updates have scattered their entries (in the order relations were first seen: dozens of times)."""
    import pickle

    from scoring import packed

    layer = ResolvingEngine(config)
    companies = [(f"co{n}", "Company", f"Company {n}", ()) for n in range(640)]
    for company in companies:
        layer.apply(make("ownership", "pm", company, percentage=60))
    for company in companies[::3]:
        layer.apply(make("ownership", "pm", company, percentage=70))
    layer = pickle.loads(pickle.dumps(layer))  # as a restarted worker: no block inflated yet
    blocks = {id(current.block) for current in layer._current.values() if current.block.sealed}
    inflated = []
    monkeypatch.setattr(packed, "inflate", lambda data, real=packed.inflate: inflated.append(data) or real(data))
    held = layer.current_events()
    assert len(held) == 640 and len(blocks) > 10
    assert len(inflated) == len(blocks)


def test_a_relation_read_back_is_the_event_admitted_as_it_came_or_as_the_layer_wrote_it(config):
    """A split reads back every relation of the ids that move (`_event`, with pydantic's JSON parser alone): what it
    reads is the event the worker admitted, from the message as it came and from the layer's own serialisation."""
    from pathlib import Path

    from schemas.validation import parse_event

    paths = (Path("examples/binance-wlfi.jsonl"), *sorted(Path("examples/resolution").glob("*.jsonl")))
    lines = [line for path in paths for line in path.read_bytes().splitlines() if line.strip()]
    assert len(lines) > 20
    for raw in (True, False):
        layer = ResolvingEngine(config)
        admitted = {}
        for line in lines:
            event = parse_event(line)
            layer.apply(event, raw=line if raw else None)
            if not event.spec.resolution:
                admitted[event.relation_id] = event
        read = {relation_id: layer._event(current) for relation_id, current in layer._current.items()}
        assert read == {relation_id: admitted[relation_id] for relation_id in read} and read


def test_a_content_digest_is_a_60_bit_int_that_tells_contents_apart():
    """The layer keeps one digest per event id: under 2**60 it is an int of 32 bytes (64 bits would cost 48)."""
    import sys
    from pathlib import Path

    from schemas import parse_event
    from scoring.resolution import content_digest_of

    seed = Path(__file__).resolve().parents[3] / "examples" / "binance-wlfi.jsonl"
    events = [parse_event(line.encode()) for line in seed.read_text().splitlines() if line.strip()]
    digests = [content_digest_of(event) for event in events]
    assert all(0 <= digest < 2**60 and sys.getsizeof(digest) <= 32 for digest in digests)
    assert len(set(digests)) == len(events)
    # by_alias: the contract's key is "schema", not the Python name "schema_"
    again = [parse_event(event.model_dump_json(by_alias=True).encode()) for event in events]
    assert [content_digest_of(event) for event in again] == digests
    changed = events[0].model_copy(update={"status": "disputed"})
    assert content_digest_of(changed) != digests[0]


def test_an_identifier_shared_by_many_ids_keeps_exactly_the_edges_of_its_holders_in_any_order():
    # each new holder now changes only the edges that differ; the edges held must be those of the whole set
    import random

    from scoring.clusters import IDENTIFIER
    from scoring.resolution import _identifier_edge_keys
    from tests.unit.scoring.conftest import EventFactory
    from tests.unit.scoring.resolution_support import identified

    lei = {"scheme": "lei", "value": "5493001KJTIIGC8Y1R12"}
    make = EventFactory().make
    names = [f"c{n:03d}" for n in range(38)]  # past the pairwise limit: a chain
    random.Random(3).shuffle(names)
    names += ["c100", "c050"]  # the second lands between the first and the end of the chain the first made
    companies = [(name, "Company", f"Company {name}", ()) for name in names]
    target = ("t-0", "Company", "Target Ltd", ())
    events = [identified(make("ownership", company, target, percentage=10), "source", lei)
              for company in companies[:-2]]
    # the last two ids arrive on both ends of one event
    both = identified(make("ownership", companies[-2], companies[-1], percentage=10), "source", lei)
    events.append(identified(both, "target", lei))
    layer = ResolvingEngine(ScoringConfig.load())
    for count, event in enumerate(events, start=1):
        layer.apply(event)
        holders = sorted(names[:count + 1] if count == len(events) else names[:count])
        held = sorted(key for key, edge in layer.clusters._edges.items() if edge.kind == IDENTIFIER)
        assert held == sorted(_identifier_edge_keys(("organizations", "lei", "", lei["value"]), holders))
        assert {layer.canonical(name) for name in holders} == {holders[0]}


def test_a_merged_entity_of_many_ids_lists_the_configured_number_and_counts_the_rest(make, config):
    """An entity merged from thousands of ids (judgements an adversary sends, a bulk of analyst merges) made every
    score of it carry, and every rescoring render, every id and merge: 2 MB a score at 4,000 ids, and each of the
    4,000 judgements re-rendered the growing score. A note lists `evidence.max_listed_merges` (25) of each, the
    canonical id first, and counts the rest; GET /entities/ID lists them all."""
    layer = ResolvingEngine(config)
    for event in [make("control", "minister", "regulator"), make("regulates", "regulator", "bank"),
                  make("ownership", "minister", "holdco", percentage=100), make("partners_with", "holdco", "bank")]:
        layer.apply(event)
    aliases = [(f"bank-{number:03d}", "Company", f"Big Bank {number}", ()) for number in range(60)]
    for alias in aliases:
        layer.apply(judgement("bank", alias, event_id=f"judge-{alias[0]}"))
    canonical = layer.canonical("bank")
    score = layer.score("minister", canonical)
    (note,) = score.merges
    members = layer.clusters.members(canonical)
    assert len(members) == 61
    assert note.member_ids == members[:25] == score.counterparty_merged_ids
    assert note.member_ids_omitted == 36
    assert len(note.evidence) == 25 and note.evidence_omitted == 35
    assert [e.event_id for e in note.evidence] == [
        e.detail.event_id for e in layer.clusters.joined_by(canonical)[:25]]
    assert note.text.startswith(f"Big Bank ({canonical}) stands for 61 ids; ")
    assert note.text.endswith(f"; 35 more merges left out (GET /entities/{canonical})")
    dumped = score.model_dump(mode="json")["merges"][0]
    assert (dumped["member_ids_omitted"], dumped["evidence_omitted"]) == (36, 35)
    # a smaller entity is listed whole, as before, without the counts
    small = ResolvingEngine(config)
    for event in [make("control", "minister", "regulator"), make("regulates", "regulator", "bank"),
                  make("ownership", "minister", "holdco", percentage=100), make("partners_with", "holdco", "bank")]:
        small.apply(event)
    for alias in aliases[:3]:
        small.apply(judgement("bank", alias))
    (note,) = small.score("minister", small.canonical("bank")).merges
    assert len(note.member_ids) == 4 and len(note.evidence) == 3
    assert "member_ids_omitted" not in note.model_dump(mode="json") and ": " in note.text


def test_a_two_id_entity_joined_by_many_merges_lists_the_configured_number_in_its_text_too(make, config):
    """Two ids joined by many judgements (each its own relation id: an analyst desk re-judging them on every run,
    or an adversary): the note's evidence stopped at `evidence.max_listed_merges`, but its text, worded as
    'A = B, by judgement ..., by judgement ...', still named every merge (16 KB at 300 of them, in every score)."""
    layer = ResolvingEngine(config)
    for event in [make("control", "minister", "regulator"), make("regulates", "regulator", "bank"),
                  make("ownership", "minister", "holdco", percentage=100), make("partners_with", "holdco", "bank")]:
        layer.apply(event)
    alias = ("bank-x", "Company", "Big Bank X", ())
    for number in range(60):
        layer.apply(judgement("bank", alias, relation_id=f"same-bank-x-{number:02d}", event_id=f"j-{number:02d}"))
    (note,) = layer.score("minister", layer.canonical("bank")).merges
    assert len(note.member_ids) == 2 and len(note.evidence) == 25 and note.evidence_omitted == 35
    assert note.text.count("by judgement event") == 25
    assert note.text.endswith("; 35 more merges left out (GET /entities/bank)")


def test_an_entity_of_one_id_over_the_listing_says_no_merge_was_left_out(make, config):
    """26 ids joined by 25 judgements: one id is left out of the note, every merge is listed; the text said
    '0 more merges left out'."""
    layer = ResolvingEngine(config)
    for event in [make("control", "minister", "regulator"), make("regulates", "regulator", "bank"),
                  make("ownership", "minister", "holdco", percentage=100), make("partners_with", "holdco", "bank")]:
        layer.apply(event)
    for number in range(25):
        layer.apply(judgement("bank", (f"bank-{number:03d}", "Company", f"Big Bank {number}", ())))
    (note,) = layer.score("minister", layer.canonical("bank")).merges
    assert (len(note.member_ids), note.member_ids_omitted, len(note.evidence), note.evidence_omitted) == (25, 1, 25, 0)
    assert note.text.startswith("Big Bank (bank) stands for 26 ids; ") and "more merges left out" not in note.text


@pytest.mark.parametrize("seed", range(12))
def test_ids_joining_a_cluster_as_it_is_publish_what_re_clustering_publishes(seed):
    """Ids minted by the dozen for one company and one minister (each carrying the entity's QID, arriving in any
    order, past the pairwise limit: a chain re-linked around each), with confirmed, denied and retracted
    judgements among them, a person's QID on a company, and a person named a company later: the layer joining
    clusters as they are (`Clusters._joined`) publishes, after every event, what re-clustering every change
    publishes, and holds the same clusters."""
    from scoring.clusters import Clusters

    chance = random.Random(seed)
    make = EventFactory().make
    firm = [(f"firm-{n:03d}", "Company", f"Firm {n}", ()) for n in range(30)]
    minister = [(f"minister-{n:03d}", "Person", "Jan Kowalski", ("role.pep",)) for n in range(25)]
    regulator = ("regulator", "PublicBody", "The Regulator", ("gov.national",))
    events = [make("regulates", regulator, ("firm-000", "Company", "Firm 0", ()), event_id="e-reg"),
              make("control", ("minister-000", "Person", "Jan Kowalski", ("role.pep",)), regulator,
                   event_id="e-ctl")]
    for number in range(140):
        roll = chance.random()
        if roll < 0.6:
            person = chance.random() < 0.4
            entity = chance.choice(minister if person else firm)
            qid = "Q1" if person else "Q2"
            if chance.random() < 0.05:
                qid = "Q1"  # a person's QID on a company: merges nothing across kinds
            target = chance.choice(firm)
            if target[0] == entity[0]:
                continue
            kind = "ownership" if person or chance.random() < 0.5 else "payment"
            properties = {"percentage": 30} if kind == "ownership" else {"amount": 1e6, "currency": "USD"}
            event = make(kind, entity, target, relation_id=f"r{number:03d}", event_id=f"e{number:03d}",
                         **properties)
            events.append(identified(event, "source", {"scheme": "wikidata", "value": qid}))
        elif roll < 0.85:
            pool = chance.choice([firm, minister])
            a, b = chance.sample(pool, 2)
            events.append(judgement(a, b, chance.choice(["confirmed"] * 5 + ["denied"]),
                                    relation_id=f"j-{a[0]}-{b[0]}", event_id=f"j{number:03d}"))
        elif roll < 0.95:
            pool = chance.choice([firm, minister])
            a, b = chance.sample(pool, 2)
            events.append(judgement(a, b, op="retract", relation_id=f"j-{a[0]}-{b[0]}", event_id=f"x{number:03d}"))
        else:  # a firm's id named as a person by a later source
            entity = chance.choice(firm)
            events.append(make("family", (entity[0], "Person", entity[2], ()), ("minister-000", "Person",
                                                                                "Jan Kowalski", ("role.pep",)),
                               relation_id=f"f{number:03d}", event_id=f"f{number:03d}"))
    config = ScoringConfig.load()
    joining, re_clustering = ResolvingEngine(config), ResolvingEngine(config)
    re_clustering.clusters._joined = lambda *args: None
    joined = 0
    published_any = False
    real = Clusters._joined
    for number, event in enumerate(events):
        calls = []
        joining.clusters._joined = lambda *args: calls.append(result := real(joining.clusters, *args)) or result
        published = [(c.key, c.new and content(c.new)) for c in joining.apply(event)]
        joined += sum(1 for result in calls if result is not None)
        published_any = published_any or any(new and new["merges"] for _, new in published)
        assert published == [(c.key, c.new and content(c.new)) for c in re_clustering.apply(event)], number
        assert {m: joining.clusters.members(m) for m in joining.known_ids()} == \
            {m: re_clustering.clusters.members(m) for m in re_clustering.known_ids()}
    assert layer_state(joining) == layer_state(re_clustering)
    assert joined > 5 and published_any


@pytest.mark.parametrize("seed", range(8))
def test_the_clusters_whose_merges_show_otherwise_are_found_as_comparing_them_whole_finds(seed, monkeypatch):
    """After every event, the merged clusters whose `merges` show otherwise (members, their names, the edges that
    join them) are those comparing every member's name and every edge before and after finds, though the layer
    compares by value only clusters whose tuples were replaced: ids renamed by later sources, judgements changed,
    identifiers joining ids."""
    chance = random.Random(seed)
    make = EventFactory().make
    firms = [f"firm-{n:02d}" for n in range(20)]
    events = []
    for number in range(160):
        roll = chance.random()
        a, b = chance.sample(firms, 2)
        if roll < 0.5:
            name = f"Firm {a} {chance.choice(['Ltd', 'Limited', 'plc'])}"  # a later source renames it
            event = make("payment", (a, "Company", name, ()), (b, "Company", f"Firm {b}", ()),
                         relation_id=f"r{number:03d}", event_id=f"e{number:03d}", amount=1e5, currency="USD")
            if chance.random() < 0.4:
                event = identified(event, "source", {"scheme": "lei", "value": chance.choice(LEIS)})
            events.append(event)
        else:
            events.append(judgement((a, "Company", f"Firm {a}", ()), (b, "Company", f"Firm {b}", ()),
                                    chance.choice(["confirmed"] * 4 + ["denied"]),
                                    op=chance.choice(["upsert"] * 4 + ["retract"]),
                                    relation_id=f"j-{min(a, b)}-{max(a, b)}", event_id=f"j{number:03d}"))
    compared_all: list = []
    layer = ResolvingEngine(ScoringConfig.load())
    views, shown_otherwise, change = layer._merge_views, layer._shown_otherwise, layer.clusters.change
    seen: dict = {}  # "before" and "after" the clusters change: cid -> what it shows by value, as first seen
    compared = []

    def by_value(entity_ids) -> dict:
        found = {}
        for cid in {layer.clusters.canonical(i) for i in entity_ids}:
            members = layer.clusters.members(cid)
            if len(members) > 1:
                found[cid] = (members, tuple(layer._refs[m].name if m in layer._refs else None for m in members),
                              tuple((e.key, e.a, e.b, str(e.detail) if e.kind == "identifier" else e.detail.event_id)
                                    for e in layer.clusters.joined_by(cid)))
        return found

    def viewed(entity_ids):
        entity_ids = list(entity_ids)
        for cid, shown in by_value(entity_ids).items():
            seen["after" if "changed" in seen else "before"].setdefault(cid, shown)
        return views(entity_ids)

    def changing(*args, **kwargs):
        seen["changed"] = True
        return change(*args, **kwargs)

    def otherwise(before, after, known):
        found = shown_otherwise(before, after, known)
        was, now = seen["before"], seen["after"]
        compared.append((found, {cid for cid in was.keys() | now.keys() if was.get(cid) != now.get(cid)} - known))
        return found

    monkeypatch.setattr(layer, "_merge_views", viewed)
    monkeypatch.setattr(layer, "_shown_otherwise", otherwise)
    monkeypatch.setattr(layer.clusters, "change", changing)
    for event in events:
        seen.clear()
        seen.update(before={}, after={})
        compared.clear()
        layer.apply(event)
        for found, expected in compared:
            assert found == expected
        compared_all.extend(compared)
    assert sum(1 for found, _ in compared_all if found) > 5  # clusters showed otherwise without moving


LEIS = ["5493001KJTIIGC8Y1R12", "529900T8BM49AURSDO55"]


def test_a_cluster_whose_joining_edges_change_while_no_id_moves_is_published_again():
    """The 17th organisation holder of an identifier re-links its holders in a chain, and the pairwise edge that
    joined two of them (also merged by a judgement) leaves the evidence of their entity, though no id moves and
    neither end of the event is in it. Its scores are published again: they still cited the identifier (and an
    export of that state imported ScoredDifferently). A review found it; the base did the same."""
    from scoring.portable import export_state, import_state

    q9 = {"scheme": "wikidata", "value": "Q9"}
    make = EventFactory().make
    minister = ("minister", "Person", "Jan Kowalski", ("role.pep", "gov.national"))
    events = [identified(make("ownership", (x, "Company", f"Co {x}", ()), "bank", relation_id=f"own-{x}",
                              percentage=60), "source", q9) for x in ("n-a", "n-z")]
    events += [make("ownership", (x, "Person", f"Mr {x}", ()), "bank", relation_id=f"own-{x}", percentage=60)
               for x in ("n-a", "n-z")]  # then people: the organisations' identifier stays with them
    events += [make("control", minister, "regulator"), make("regulates", "regulator", ("n-a", "Person", "Mr n-a", ())),
               make("payment", ("n-a", "Person", "Mr n-a", ()), minister, amount=2e6, currency="USD"),
               judgement(("n-a", "Person", "Mr n-a", ()), ("n-z", "Person", "Mr n-z", ()), relation_id="j-1")]
    events += [identified(make("partners_with", (f"n-b{i:02d}", "Company", f"B{i}", ()), "bank"), "source", q9)
               for i in range(1, 16)]
    layer, tracker = ResolvingEngine(ScoringConfig.load()), AlertTracker()
    published = {}
    for number, event in enumerate(events):
        changes = layer.apply(event, offset=f"0:{number}", input_offsets={"0": number + 1})
        tracker.observe(changes)
        published.update((c.key, c.new and content(c.new)) for c in changes)
    now = content(layer.score("minister", "n-a"))
    assert [e["kind"] for e in now["merges"][0]["evidence"]] == ["judgement"]
    assert published[("minister", "n-a")] == now
    import_state([json.loads(json.dumps(r)) for r in export_state(layer, tracker)], ScoringConfig.load())


@pytest.mark.parametrize("engine_class", [Engine, ResolvingEngine])
def test_a_reference_named_by_its_own_id_never_replaces_a_name(engine_class):
    """Wikidata's importer names a QID its file has no label for by the QID: a later file that only referred to
    Vladimir Putin (his daughter's P22) renamed him "Q7747" and took his topics, so he was no longer a PEP and the
    pair his office made was lost. Such a reference names nothing: in any order, the entity keeps the name, schema
    and topics of the newest reference that names it; among references that name it, the newest still wins."""
    from itertools import permutations

    from tests.unit.scoring.conftest import EventFactory

    make = EventFactory().make
    putin, bare = ("Q7747", "Person", "Vladimir Putin", ("role.pep",)), ("Q7747", "Person", "Q7747", ())
    events = [make("occupancy", putin, ("pos", "Position", "President of Russia", ("gov.head",)),
                   observed_at="2025-01-01T00:00:00Z"),
              make("family", ("kt", "Person", "Katerina Tikhonova", ()), bare, relationship="father",
                   observed_at="2025-03-01T00:00:00Z"),
              make("regulates", ("pos", "Position", "President of Russia", ("gov.head",)), "bank",
                   observed_at="2025-02-01T00:00:00Z"),
              make("ownership", ("kt", "Person", "Katerina Tikhonova", ()), "bank", percentage=30,
                   observed_at="2025-02-02T00:00:00Z")]
    seen = set()
    for order in permutations(events):
        engine = engine_class()
        for event in order:
            engine.apply(event)
        graph = engine.graph if engine_class is Engine else engine.engine.graph
        entity = graph.entity("Q7747")
        seen.add((entity.name, tuple(sorted(entity.topics)), tuple((s.actor_id, s.counterparty_id)
                                                                   for s in engine.scores())))
    ((name, topics, pairs),) = seen  # the same in every order
    assert (name, topics) == ("Vladimir Putin", ("role.pep",)) and ("Q7747", "bank") in pairs
    renamed = engine_class()
    for event in (*events, make("occupancy", ("Q7747", "Person", "Vladimir V. Putin", ("role.pep",)),
                                ("pos", "Position", "President of Russia", ("gov.head",)),
                                observed_at="2025-04-01T00:00:00Z")):
        renamed.apply(event)
    graph = renamed.graph if engine_class is Engine else renamed.engine.graph
    assert graph.entity("Q7747").name == "Vladimir V. Putin"


def test_what_names_an_entity_behind_the_layer_does_not_depend_on_the_order_events_arrive_in():
    """The graph behind the layer takes the references the layer sends as sent: it applied the naming rule to them
    a second time, kept a judgement's stand-in name after the layer had let it go, and scored 0.9 or 0.54 by the
    order of two events; the export of one of those states was refused by the same version (a review). And a
    cluster is named after a member that names it, not a canonical member named only by its id."""
    import json
    from itertools import permutations

    from scoring.portable import export_state, import_state
    from tests.unit.scoring.conftest import EventFactory
    from tests.unit.scoring.resolution_support import judgement

    make = EventFactory().make
    regulator = ("reg-z", "PublicBody", "Regulator Z", ())
    events = [make("control", "minister", regulator, observed_at="2025-01-01T00:00:00Z"),
              make("oversees", regulator, "bank", observed_at="2025-01-01T00:01:00Z"),
              make("ownership", "son", "bank", percentage=40, observed_at="2025-01-01T00:02:00Z"),
              make("family", "son", "minister", relationship="father", observed_at="2025-01-01T00:03:00Z"),
              judgement(("reg-a", "PublicBody", "Agency A", ()), regulator, observed_at="2025-01-02T00:00:00Z"),
              make("regulates", ("reg-a", "PublicBody", "reg-a", ("gov.muni",)), "vendor",
                   observed_at="2025-01-03T00:00:00Z")]
    outcomes = set()
    for order in permutations(events[3:]):
        layer, tracker = ResolvingEngine(), AlertTracker()
        for event in (*events[:3], *order):
            tracker.observe(layer.apply(event))
        entity = layer.engine.graph.entity(layer.canonical("reg-a"))
        outcomes.add((entity.name, tuple(sorted(entity.topics)), tuple(
            (s.actor_id, s.counterparty_id, s.score, s.band.value) for s in layer.scores())))
        imported, _, _ = import_state(json.loads(json.dumps(list(export_state(layer, tracker)))))
        assert [content(s) for s in imported.scores()] == [content(s) for s in layer.scores()]
    assert len(outcomes) == 1

    putin, bare = ("putin", "Person", "Vladimir Putin", ("role.pep",)), ("Q7747", "Person", "Q7747", ())
    qid = {"scheme": "wikidata", "value": "Q7747"}
    shown = set()
    for order in permutations([identified(make("occupancy", putin, ("pos", "Position", "President", ())), "source",
                                          qid),
                               identified(make("family", ("kt", "Person", "Katerina Tikhonova", ()), bare,
                                               relationship="father"), "target", qid)]):
        layer = ResolvingEngine()
        for event in order:
            layer.apply(event)
        ref = layer.merged_ref("putin")
        shown.add((ref.name, ref.aliases))
    assert shown == {("Vladimir Putin", ())}


@pytest.mark.parametrize("value, jurisdiction, merges", [
    ("N/A", "xk", False),  # a placeholder for "none" (read as NA once its separator goes)
    ("0", "xk", False),
    ("000000", "gb", False),
    ("123", "gb", False),  # too short to tell companies apart
    ("HRB 12345", "de", False),  # unique within one local court only, not in Germany
    ("HRB 12345", "de-d2601", True),  # within the court the jurisdiction names
    ("1234567", "us", False),  # a US company number: unique within its state
    ("1234567", "us-de", True),
    ("09876543", "gb", True),  # a Companies House number
])
def test_a_register_number_that_names_no_one_company_merges_nothing(make, config, value, jurisdiction, merges):
    # A review merged a minister's relative with a contractor on registrationNumber "N/A" (and "0", and "HRB 12345"
    # of two German courts): a false medium alert. Such numbers are kept and shown, never merged on.
    layer = ResolvingEngine(config)
    number = {"scheme": "register", "value": value, "jurisdiction": jurisdiction}
    layer.apply(identified(make("ownership", "son", ("firm-a", "Company", "Berger Bau GmbH", ()), percentage=60),
                           "target", number))
    layer.apply(identified(make("payment", "bank", ("firm-b", "Company", "Brueckenbau Berger GmbH", ()),
                                amount=3e6, currency="USD"), "target", number))
    assert (layer.canonical("firm-b") == layer.canonical("firm-a")) is merges


@pytest.mark.parametrize("first, second", [
    ({"scheme": "register", "value": "9876543", "jurisdiction": "gb"},  # an FtM export drops the leading zero
     {"scheme": "register", "value": "09876543", "jurisdiction": "gb"}),  # BODS and the Commons keep it
    ({"scheme": "inn", "value": "7707083893"},  # FtM's innCode
     {"scheme": "tax", "value": "7707083893", "jurisdiction": "ru"}),  # a taxNumber in Russia
])
def test_one_number_written_two_ways_by_two_sources_merges(make, config, first, second):
    # a review found the ids of one company in two real sources kept apart: a conflict spanning both missed
    layer = ResolvingEngine(config)
    layer.apply(identified(make("ownership", "son", ("firm-a", "Company", "Sberbank", ()), percentage=60),
                           "target", first))
    layer.apply(identified(make("payment", "bank", ("firm-b", "Company", "SBERBANK PAO", ()), amount=3e6,
                                currency="USD"), "target", second))
    assert layer.canonical("firm-b") == layer.canonical("firm-a") == "firm-a"
