"""Explanations: readable text, one PathEdge per hop with direction, weight and evidence."""

from __future__ import annotations

from pydantic import BaseModel

from schemas.outputs import PathKind
from .conftest import content, load_seed_events


def conflict(make):
    return [
        make("control", "minister", "regulator", quote="the minister oversees the regulator"),
        make("oversees", "regulator", "exchange"),
        make("family", "son", "minister", relationship="father"),
        make("ownership", "son", "issuer", status="reported", confidence=0.8),
        make("issues", "issuer", "token"),
        make("lists", "exchange", "token", status="in_discussion", confidence=0.6,
             url="https://example.org/listing", quote="the exchange is exploring a listing"),
    ]


def test_paths_render_as_readable_text_with_flags(engine, make):
    engine.apply_many(conflict(make))
    (score,) = engine.scores()
    (authority,) = score.authority_paths
    assert authority.kind == PathKind.AUTHORITY
    assert authority.text == "Finance Minister -control-> Financial Regulator -oversees-> Crypto Exchange"
    (commercial,) = score.commercial_paths
    assert commercial.kind == PathKind.COMMERCIAL
    # the family tie was stated son -> minister, "father" (what the target is to the source): walked from the
    # minister, its arrow still points as stated, at the one the word names
    assert commercial.text == ('Finance Minister <-family["father"]- Son -ownership[25%?, reported]-> Token Issuer '
                               "-issues-> TOKEN <-lists[in_discussion]- Crypto Exchange")


def test_every_hop_names_its_relation_direction_weight_and_evidence(engine, make):
    events = conflict(make)
    for offset, event in enumerate(events):
        engine.apply(event, offset=f"3:{100 + offset}")
    (score,) = engine.scores()
    edges = score.commercial_paths[0].edges
    assert [(e.relation_id, e.forward) for e in edges] == [
        ("son-family-minister", False), ("son-ownership-issuer", True), ("issuer-issues-token", True),
        ("exchange-lists-token", False)]
    listing = edges[-1]
    assert (listing.source_name, listing.target_name, listing.status) == ("Crypto Exchange", "TOKEN", "in_discussion")
    assert 0 < listing.weight < 0.5
    (evidence,) = listing.evidence
    assert evidence.event_id == events[-1].event_id
    assert (evidence.source_url, evidence.publisher, evidence.extractor) == (
        "https://example.org/listing", "Example Gazette", "test/1")
    assert (evidence.confidence, evidence.status, evidence.offset) == (0.6, "in_discussion", "3:105")
    assert evidence.quote == "the exchange is exploring a listing"
    assert score.authority_paths[0].edges[0].evidence[0].quote == "the minister oversees the regulator"


def test_strengths_are_rounded_and_consistent(engine, make):
    engine.apply_many(conflict(make))
    (score,) = engine.scores()
    for path in (*score.authority_paths, *score.commercial_paths):
        product = 1.0
        for edge in path.edges:
            product *= edge.weight
        # one decay per hop after the first, except the hops of ownership and control chains (here: the son's stake
        # in the issuer and the token it issues; scoring.paths.chain_strength)
        decaying = sum(1 for edge in path.edges if edge.relation_type not in ("ownership", "issues"))
        assert abs(path.strength - product * engine.config.paths.hop_decay ** (decaying - 1)) < 1e-5
        assert round(path.strength, 6) == path.strength


def test_amounts_and_ended_relations_are_labelled(engine, make):
    engine.apply_many([
        make("control", "minister", "regulator"), make("regulates", "regulator", "bank"),
        make("ownership", "minister", "holdco", percentage=75, end="2024-12-31"),
        make("payment", "bank", "holdco", amount=2_500_000, currency="EUR", observed_at="2025-06-01T00:00:00Z"),
    ])
    (score,) = engine.scores()
    assert score.commercial_paths[0].text == ("Finance Minister -ownership[75%, ended 2024-12-31]-> Family Holding "
                                              "<-payment[2.5M EUR]- Big Bank")


def test_a_stake_assumed_below_the_default_says_it_is_a_cap(engine, make):
    """A share declared "0-10%" has no percentage: the engine assumes the lesser of its default and the declared
    most, and the label says so (`≤10%?`), where it read `25%?` and scored a stake the source excluded."""
    engine.apply_many([
        make("control", "minister", "regulator"), make("regulates", "regulator", "bank"),
        make("ownership", "minister", "holdco", percentage_max=10.0),
        make("ownership", "bank", "holdco", percentage_max=60.0),
    ])
    (score,) = engine.scores()
    assert score.commercial_paths[0].text == ("Finance Minister -ownership[≤10%?]-> Family Holding "
                                              "<-ownership[25%?]- Big Bank")


def validated_again(model: BaseModel) -> BaseModel:
    """The model as validation builds it from its own fields (nested models validated too)."""
    return type(model).model_validate(model.model_dump())


def assert_as_validated(model: BaseModel) -> None:
    again = validated_again(model)
    assert model == again
    assert model.model_dump_json() == again.model_dump_json()  # also 1 against 1.0, enum against str
    assert model.__pydantic_fields_set__ == again.__pydantic_fields_set__
    for name in type(model).model_fields:
        assert type(getattr(model, name)) is type(getattr(again, name)), name


def test_assembled_paths_edges_and_evidence_equal_validated_ones(make, config):
    # scoring.explain builds them without validation: they must be what validation would build, field for field
    from scoring.engine import Engine
    engine = Engine(config)
    board = ("board", "PublicBody", "Banking Board", ())
    events = conflict(make) + [make("payment", "son", "exchange", amount=2_500_000, currency="USD", end="2025-01-01"),
                               make("ownership", "son", "exchange", percentage=0, observed_at="2025-06-02T00:00:00Z"),
                               make("membership", "minister", board, role="vice chair"),  # an edge with a role
                               make("oversees", board, "exchange")]
    for offset, event in enumerate(events):
        engine.apply(event, offset=f"0:{offset}")
    engine.load(load_seed_events())
    scores = engine.scores()
    assert len(scores) > 2
    assert any(edge.role == "vice chair" for score in scores for path in score.authority_paths for edge in path.edges)
    for score in scores:
        for path in (*score.authority_paths, *score.commercial_paths):
            assert_as_validated(path)
            for edge in path.edges:
                assert_as_validated(edge)
                for evidence in edge.evidence:
                    assert_as_validated(evidence)


def test_hops_rendered_for_earlier_scores_render_as_fresh_ones_and_a_rename_renders_anew(make, config):
    from scoring.engine import Engine
    events = conflict(make) + load_seed_events()
    warm, cold = Engine(config), Engine(config)
    for event in events:
        for change in warm.apply(event):  # rendered as they come, so later scores meet rendered hops
            assert change.published() is not None
    warm_scores = warm.scores()
    cold.load(events)
    assert [content(score) for score in warm_scores] == [content(score) for score in cold.scores()]
    assert len(warm._rendered_hops._held) > 0

    renamed = make("family", ("son", "Person", "Renamed Son", ()), "minister", relationship="son")
    warm.apply(renamed)
    cold.apply(renamed)
    edge_names = {name for score in warm.scores() for path in score.commercial_paths for edge in path.edges
                  for name in (edge.source_name, edge.target_name)}
    assert "Renamed Son" in edge_names and "Son" not in edge_names
    assert [content(score) for score in warm.scores()] == [content(score) for score in cold.scores()]


def _family_path(engine, make, *family):
    """The commercial path of the `conflict` scenario, its family tie stated by `family` instead."""
    events = [e for e in conflict(make) if e.relation_type != "family"]
    engine.apply_many([*events[:2], *family, *events[2:]])
    (score,) = engine.scores()
    (commercial,) = score.commercial_paths
    return commercial


def test_a_tie_its_sources_word_otherwise_shows_every_word(engine, make):
    """Three publishers state one family tie as father, stepfather, uncle: the path shows the three words, not the
    newest publisher's beside "3 sources" (a review: a blog's "nephew" read as what all three said); a statement
    that gives no word hides none; one stated from the other end (minister -> son) words it from there and is left
    out of this edge's words."""
    commercial = _family_path(engine, make,
                              make("family", "minister", "son", relation_id="f5", relationship="son",
                                   publisher="Almanac"),
                              make("family", "son", "minister", relation_id="f1", relationship="father",
                                   publisher="Register"),
                              make("family", "son", "minister", relation_id="f2", relationship="stepfather",
                                   publisher="Tabloid"),
                              make("family", "son", "minister", relation_id="f3", publisher="Wire"),
                              make("family", "son", "minister", relation_id="f4", relationship="uncle",
                                   publisher="Blog"))
    family = commercial.edges[0]
    words = family.role.split(" / ")
    assert sorted(words) == ["father", "stepfather", "uncle"] and "son" not in words
    assert commercial.text.startswith(f'Finance Minister <-family["{family.role}", ')
    assert "sources]- Son" in commercial.text


def test_a_role_cannot_pass_for_a_hop_or_a_qualifier(engine, make):
    """A role is the source's free text: in a path's text it is quoted, and arrows and brackets in it are made
    harmless, so it cannot forge a hop (a review forged "-ownership[nominee]-> Prime Minister <-ownership[hidden
    51%, 40%]->")."""
    events = conflict(make)
    events[3] = make("ownership", "son", "issuer", status="reported", confidence=0.8,
                     role='nominee]-> Prime Minister <-ownership[hidden "51%"')
    engine.apply_many(events)
    (score,) = engine.scores()
    text = score.commercial_paths[0].text
    assert "-ownership[\"nominee)→ Prime Minister ←ownership(hidden '51%'\", 25%?, reported]-> Token Issuer" in text
    assert text.count("->") + text.count("<-") == 4  # the path's four hops, no more
    assert score.commercial_paths[0].edges[1].role == 'nominee]-> Prime Minister <-ownership[hidden "51%"'


def test_words_that_only_restate_the_type_are_left_out_of_the_text(engine, make):
    """"owner of" on an ownership, "Family member of" on a family tie say nothing the type does not: the text leaves
    them out (the edge keeps them, as stated); with nothing left, a tie that runs both ways reads forward."""
    events = conflict(make)
    events[2] = make("family", "son", "minister", relationship="Family member of")
    events[3] = make("ownership", "son", "issuer", status="reported", confidence=0.8, role="owner of")
    engine.apply_many(events)
    (score,) = engine.scores()
    (commercial,) = score.commercial_paths
    assert commercial.text.startswith("Finance Minister -family-> Son -ownership[25%?, reported]-> Token Issuer")
    assert [edge.role for edge in commercial.edges[:2]] == ["Family member of", "owner of"]


def test_words_alike_but_for_case_and_spacing_are_shown_once(engine, make):
    """"Father", "father" and " father" from three sources are one word ("Father / father / father" before)."""
    commercial = _family_path(engine, make,
                              *(make("family", "son", "minister", relation_id=f"f{number}", relationship=word,
                                     publisher=publisher)
                                for number, (word, publisher) in enumerate((("Father", "Register"),
                                                                            ("father", "Tabloid"),
                                                                            ("\n father ", "Blog")))))
    # the primary's spelling (the newest statement, the blog's), as stated on the edge, on one line in the text
    assert commercial.edges[0].role == "\n father "
    assert commercial.text.startswith('Finance Minister <-family["father", 3 sources]- Son')


def test_a_tie_only_its_other_end_words_is_shown_from_there(engine, make):
    """The primary statement, minister -> son, gives no word; the son's register, son -> minister, says "father"
    (what the minister is to the son). The edge is shown from the son's end with that word, which names whom it
    names, where it showed no word before."""
    commercial = _family_path(engine, make,
                              make("family", "son", "minister", relation_id="f2", relationship="father",
                                   publisher="Register", observed_at="2024-01-01T00:00:00Z"),
                              make("family", "minister", "son", relation_id="f1", publisher="Almanac"))
    family = commercial.edges[0]
    assert len(family.evidence) == 2 and family.evidence[0].relation_id == "f1"  # the primary is minister -> son
    assert (family.source_id, family.target_id, family.role, family.forward) == ("son", "minister", "father", False)
    assert commercial.text.startswith('Finance Minister <-family["father", 2 sources]- Son')


def test_a_tie_worded_from_both_ends_shows_its_sources_words(engine, make):
    """Where a statement from the edge's own source gives a word, the other end's words stay out (as before)."""
    commercial = _family_path(engine, make,
                              make("family", "son", "minister", relation_id="f2", relationship="father",
                                   publisher="Register", observed_at="2024-01-01T00:00:00Z"),
                              make("family", "minister", "son", relation_id="f1", relationship="son",
                                   publisher="Almanac"))
    family = commercial.edges[0]
    assert (family.source_id, family.target_id, family.role, family.forward) == ("minister", "son", "son", True)
    assert commercial.text.startswith('Finance Minister -family["son", 2 sources]-> Son')


def test_a_portable_file_showing_such_a_tie_unturned_imports_in_this_wording(make, monkeypatch):
    """An upgrade: earlier versions showed the tie above from its primary's end without a word, and wrote that in
    their files. The end a tie that runs both ways is shown from is wording (`portable._unworded`): such a file
    imports without `rescore`, and the alert state takes this version's edge."""
    import json

    from scoring import AlertTracker, ScoringConfig, explain
    from scoring.portable import export_state, import_state
    from scoring.resolution import ResolvingEngine

    events = [make("control", "minister", "regulator"), make("regulates", "regulator", "bank"),
              make("family", "son", "minister", relation_id="f2", relationship="father", publisher="Register",
                   observed_at="2024-01-01T00:00:00Z"),
              make("family", "minister", "son", relation_id="f1", publisher="Almanac"),
              make("ownership", "son", "vendor", percentage=100),
              make("payment", "bank", "vendor", amount=3e6, currency="USD")]  # an alert (high)
    config = ScoringConfig.load()
    with monkeypatch.context() as earlier:
        earlier.setattr(explain, "shown_words", lambda rec, limit: (False, explain.stated_words(rec, limit)))
        live, tracker = ResolvingEngine(config), AlertTracker(config)
        for event in events:
            tracker.observe(live.apply(event))
        lines = [json.dumps(record) for record in export_state(live, tracker)]
    (_, (_, held)), = tracker.view().alerting.items()
    assert (held.commercial_paths[0].edges[0].source_id, held.commercial_paths[0].edges[0].role) == ("minister", None)
    layer, imported, _ = import_state((json.loads(line) for line in lines), config)
    (pair, (_, score)), = imported.view().alerting.items()
    assert content(score) == content(layer.score(*pair))
    assert (score.commercial_paths[0].edges[0].source_id, score.commercial_paths[0].edges[0].role) == ("son", "father")


def test_each_word_is_listed_whole_where_a_word_holds_the_joiner(engine, make):
    """`role` joins the words by " / ", which a source's own word can hold ("son / heir" from one register beside
    another's "stepson" read as three words): `roles` lists them as stated."""
    commercial = _family_path(engine, make,
                              make("family", "son", "minister", relation_id="f1", relationship="father / guardian",
                                   publisher="Register", observed_at="2024-01-01T00:00:00Z"),
                              make("family", "son", "minister", relation_id="f2", relationship="stepfather",
                                   publisher="Tabloid"))
    family = commercial.edges[0]
    assert family.role == "stepfather / father / guardian"
    assert family.roles == ("stepfather", "father / guardian")
    assert "roles" not in commercial.edges[1].model_dump(exclude_defaults=False)  # no word: absent, as `role`


def test_a_tie_neither_end_words_or_one_only_restating_its_type_is_not_turned(engine, make):
    """The edge turns only for a word that says more than the type: with no word from either end it stays as its
    primary states it, and a word from its source that only restates the type ("family member") does not keep a
    telling word from the other end ("father") out (a review found the edge turned without a word, and "father"
    lost beside "family member")."""
    unworded = _family_path(engine, make,
                            make("family", "son", "minister", relation_id="f2", publisher="Register",
                                 observed_at="2024-01-01T00:00:00Z"),
                            make("family", "minister", "son", relation_id="f1", publisher="Almanac"))
    family = unworded.edges[0]
    assert (family.source_id, family.target_id, family.role, family.forward) == ("minister", "son", None, True)


def test_a_word_that_only_restates_the_type_gives_way_to_the_other_ends_telling_one(make, config):
    from scoring.engine import Engine

    commercial = _family_path(Engine(config), make,
                              make("family", "son", "minister", relation_id="f2", relationship="father",
                                   publisher="Register", observed_at="2024-01-01T00:00:00Z"),
                              make("family", "minister", "son", relation_id="f1", relationship="family member",
                                   publisher="Almanac"))
    family = commercial.edges[0]
    assert (family.source_id, family.target_id, family.role) == ("son", "minister", "father")
    assert commercial.text.startswith('Finance Minister <-family["father", 2 sources]- Son')


def test_a_stake_never_shows_as_more_than_it_is(engine, make):
    """A 24.999 % stake is below the 25 % threshold and scores as such, but read `ownership[25%]`, the same as a
    stake that meets it (a review): shares are cut to four digits, not rounded up."""
    engine.apply_many([make("control", "minister", "regulator"), make("regulates", "regulator", "bank"),
                       make("ownership", "minister", "bank", percentage=24.999),
                       make("ownership", "minister", "holdco", percentage=200 / 3),
                       make("payment", "holdco", "bank", amount=5_000_000, currency="USD")])
    texts = [path.text for score in engine.scores() for path in score.commercial_paths]
    assert any("ownership[24.99%]" in text for text in texts), texts
    assert not any("[25%]" in text or "66.67%" in text for text in texts), texts
    from scoring.paths import percent_text

    assert [percent_text(share) for share in (0.25, 0.29, 1 / 3, 0.125, 1.0, 0.00001)] == [
        "25", "29", "33.33", "12.5", "100", "0.001"]
