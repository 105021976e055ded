"""The matcher's cost per entity is bounded whatever an event states: an entity takes part with its name and at most
MAX_ALIASES_MATCHED aliases (issue 11, abuse replay: 20 entities with 5,000 aliases each, a legal 40 KB event each,
held the worker 16 s on the last one)."""

from __future__ import annotations

from schemas.events import EntityRef
from scoring.matching import MAX_ALIASES_MATCHED, Matcher, _proxy, matched_names, name_tokens


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
