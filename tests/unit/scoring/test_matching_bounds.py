"""The matcher's cost per entity is bounded whatever an event states: an entity takes part with its name and at most
MAX_ALIASES_MATCHED aliases (issue 11, abuse replay: 20 entities with 5,000 aliases each, a legal 40 KB event each,
held the worker 16 s on the last one)."""

from __future__ import annotations

from schemas.events import EntityRef
from scoring.matching import MAX_ALIASES_MATCHED, MAX_IDENTIFIERS_MATCHED, Matcher, _proxy, matched_names, name_tokens


def person(entity_id: str, name: str, aliases: tuple[str, ...] = ()) -> EntityRef:
    return EntityRef.model_validate({"id": entity_id, "schema": "Person", "name": name, "aliases": aliases})


FILLER = tuple(f"Filler Alias Number {i}" for i in range(5_000))


def test_only_the_first_aliases_are_matched_on():
    many = person("many", "Anna Lindqvist", ("Ingrid Solberg", *FILLER[:4_000], "Katarina Bergstrom"))
    assert len(matched_names(many)) == 1 + MAX_ALIASES_MATCHED
    assert len(_proxy(many).get("alias")) == MAX_ALIASES_MATCHED
    assert "bergstrom" not in name_tokens(many) and "solberg" in name_tokens(many)


def test_an_early_alias_still_finds_its_match_and_a_late_one_is_outside_the_bound():
    matcher = Matcher()
    assert matcher.add(person("many", "Anna Lindqvist", ("Ingrid Solberg", *FILLER[:4_000],
                                                         "Katarina Bergstrom"))) == []
    early = matcher.add(person("ingrid", "Ingrid Solberg"))
    assert [s.pair for s in early] == [("ingrid", "many")]
    assert matcher.add(person("katarina", "Katarina Bergstrom")) == []


def test_entities_with_thousands_of_aliases_compare_bounded_name_sets():
    matcher = Matcher()
    for number in range(3):
        matcher.add(person(f"p{number}", f"Person Filler {number}", FILLER))
    # each pair was compared (they share tokens), on bounded name sets: the proxies FtM sees hold 51 names at most
    assert matcher.compared == 3
    assert all(len(_proxy(matcher._refs[f"p{n}"]).names) <= 1 + MAX_ALIASES_MATCHED for n in range(3))


def test_an_entity_takes_part_with_at_most_fifty_identifiers_the_strong_first():
    """An id the layer gives hundreds of identifiers (each relation of a bad join states another QID) is indexed,
    compared and proposed with the first `MAX_IDENTIFIERS_MATCHED`: the strong ones, then by key, whatever the
    order they came in; its suggestions stay the size of one entity's reference."""
    from schemas import validate_event
    from scoring import Engine, ScoringConfig
    from scoring.resolution import ResolvingEngine

    provenance = {"source_url": "https://e.org", "publisher": "E", "retrieved_at": "2025-01-01T00:00:00Z",
                  "extractor": {"name": "t", "version": "1"}, "confidence": 1.0}

    def event(number: int, source: str, identifiers: list[dict]):
        return validate_event({
            "schema_version": "1.1", "event_id": f"e{number:06d}", "relation_id": f"r{number}",
            "relation_type": "partners_with", "observed_at": "2025-01-01T00:00:00Z", "provenance": provenance,
            "source": {"id": source, "schema": "Company", "name": "Nordic Timber Holding AB",
                       "identifiers": identifiers},
            "target": {"id": f"t{number}", "schema": "Company", "name": f"Target {number} Zq{number}"}})

    layer = ResolvingEngine(Engine(ScoringConfig.load()), matcher=Matcher())
    layer.apply(event(900_000, "y", []))
    weak = [{"scheme": "other", "value": f"note-{n}"} for n in range(3)]
    proposals = []
    for number in range(120):
        layer.apply(event(number, "x", [{"scheme": "wikidata", "value": f"Q{5000 - number}"},
                                        *(weak if number == 60 else [])]))
        proposals += layer.take_suggestions()
    held = layer._sorted_identifiers("x")
    assert len(held) == 123
    indexed = layer.matcher._refs["x"].identifiers
    strong_first = sorted(held, key=lambda i: (not i.strong, i.key))
    assert indexed == tuple(strong_first[:MAX_IDENTIFIERS_MATCHED]) and all(i.strong for i in indexed)
    assert proposals and all(len(p.source.identifiers) <= MAX_IDENTIFIERS_MATCHED
                             and len(p.target.identifiers) <= MAX_IDENTIFIERS_MATCHED for p in proposals)
    assert max(len(p.model_dump_json()) for p in proposals) < 8_000
    # (an id with few identifiers is indexed as it comes)
    assert layer.matcher._refs["y"].identifiers == ()


def test_one_set_of_identifiers_past_the_bound_and_back_is_not_compared_again():
    """49 QIDs and a weak identifier, then a second weak one (51: the weak one with the larger key is left out), then
    without it again: the matcher holds the same 50 in the same order each time, and compares the entity once (a
    reviewing helper: kept strong-first past the bound and in key order below it, the entity was compared again)."""
    from schemas.events import EntityIdentifier

    qids = [EntityIdentifier(scheme="wikidata", value=f"Q{n}") for n in range(100, 149)]
    first, second = (EntityIdentifier(scheme="other", value=v) for v in ("a-1", "z-9"))

    def firm(*identifiers):
        return EntityRef.model_validate({"id": "x", "schema": "Company", "name": "Nordic Timber Holding AB",
                                         "identifiers": sorted(identifiers, key=lambda i: i.key)})

    matcher = Matcher()
    matcher.add(EntityRef.model_validate({"id": "y", "schema": "Company", "name": "Nordic Timber Holding AB"}))
    matcher.add(firm(*qids, first))
    held = matcher._refs["x"].identifiers
    matcher.add(firm(*qids, first, second))
    assert matcher._refs["x"].identifiers == held
    matcher.add(firm(*qids, first))
    assert matcher.compared == 1
