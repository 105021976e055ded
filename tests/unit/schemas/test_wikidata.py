"""The Wikidata importer (schemas.wikidata) on real wbgetentities responses (tests/fixtures/wikidata, copied
unchanged from nomenklatura's test fixtures: Vladimir Putin Q7747, Lyudmila Ocheretnaya Q233282, Maria Vorontsova
Q19816371, Katerina Tikhonova Q19364345, and label-only responses for the offices they name)."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections import Counter
from pathlib import Path

import pytest

from schemas import parse_event
from schemas.ftm import ImportReport
from schemas.wikidata import PROPERTIES, WIKIDATA_IMPORT_VERSION, events_from_wikidata, is_wikidata
from schemas.vocabulary import RELATIONS
from scoring import Engine
from scoring import ScoringConfig

WIKIDATA = Path(__file__).parents[2] / "fixtures" / "wikidata"
FULL = "api_php_action_wbgetentities_format_json_ids_{}_props_info_7csitelinks_2furls_7caliases_7clabels_" \
       "7cdescriptions_7cclaims_7cdatatype.json"
PUTIN, LYUDMILA, MARIA, KATERINA = "Q7747", "Q233282", "Q19816371", "Q19364345"


def documents(*qids: str) -> list[dict]:
    """The full responses of `qids` (all four when none), then every label-only response."""
    paths = [WIKIDATA / FULL.format(q.lower()) for q in (qids or (PUTIN, LYUDMILA, MARIA, KATERINA))]
    paths += sorted(WIKIDATA.glob("*_props_labels.json"))
    return [json.loads(path.read_text()) for path in paths]


def imported(docs: list[dict]) -> tuple[list, ImportReport]:
    report = ImportReport()
    return list(events_from_wikidata(docs, report=report)), report


def by_id(events) -> dict:
    return {event.relation_id: event for event in events}


def test_offices_held_are_occupancies_with_their_dates():
    events, report = imported(documents(PUTIN))
    assert not report.skipped
    offices = [e for e in events if e.relation_type.value == "occupancy"]
    # 22 P39 statements in the fixture, one of them deprecated ("president for life")
    assert len(offices) == 21 and {e.source.id for e in offices} == {PUTIN}
    assert all(e.target.schema_.value == "Position" for e in offices)
    found = by_id(offices)
    # "+2000-05-07T00:00:00Z" / "+2008-05-07T00:00:00Z" at day precision, with a reference
    president = found["wikidata:Q7747:6841bac1-4ad1-867c-0c6b-580acf144efc"]
    assert president.target.name == "President of Russia" and president.target.id == "Q218295"
    assert (president.start_date, president.end_date) == (dt.date(2000, 5, 7), dt.date(2008, 5, 7))
    assert president.status.value == "confirmed" and president.properties.role == "position held"
    # the current term: a start, no end, no reference: reported
    current = found["wikidata:Q7747:6C005620-3B92-4FE7-9EA0-C66DD660B9EB"]
    assert (current.start_date, current.end_date, current.status.value) == (dt.date(2012, 5, 7), None, "reported")
    # "+1997-01-01T00:00:00Z" at year precision (9) ends on the last day of 1997
    leader = found["wikidata:Q7747:99f119f7-4dc7-ac6c-db10-b04f98365bb5"]
    assert (leader.start_date, leader.end_date) == (dt.date(1995, 1, 1), dt.date(1997, 12, 31))
    for event in events:
        assert event.provenance.publisher == "Wikidata"
        assert str(event.provenance.source_url) == "https://www.wikidata.org/wiki/Q7747"
        assert event.observed_at == event.provenance.retrieved_at == dt.datetime(2026, 4, 21, 13, 42, 27,
                                                                                tzinfo=dt.UTC)
        assert (event.provenance.extractor.name, event.provenance.extractor.version) == \
            ("wikidata-import", WIKIDATA_IMPORT_VERSION)


def test_a_year_or_month_precision_is_a_period():
    events, _ = imported(documents(PUTIN))
    # P108 "+1996-08-00T00:00:00Z" (month) to "+1997-03-01T00:00:00Z" (day)
    job = by_id(events)["wikidata:Q7747:0525f102-4710-dcb6-5b99-b5d4e4baa5a3"]
    assert job.relation_type.value == "employment"
    assert (job.start_date, job.end_date) == (dt.date(1996, 8, 1), dt.date(1997, 3, 1))
    # Katerina Tikhonova's marriage: "+2013-00-00T00:00:00Z" to "+2018-00-00T00:00:00Z", year precision
    events, _ = imported(documents(KATERINA))
    marriage = by_id(events)["wikidata:Q19364345:d5627986-49c9-ef71-bf9f-5ee6e670b2cd"]
    assert (marriage.start_date, marriage.end_date) == (dt.date(2013, 1, 1), dt.date(2018, 12, 31))
    assert marriage.properties.relationship == "spouse"


def test_every_event_passes_the_contract_and_carries_the_qids():
    events, report = imported(documents())
    assert len(events) == report.converted > 60 and not report.skipped
    for event in events:
        line = event.model_dump_json(by_alias=True, exclude_none=True).encode()
        assert parse_event(line) == event  # the worker's own parser takes it
        assert event.schema_version == "1.1"
        for end in (event.source, event.target):
            assert [(i.scheme, i.value) for i in end.identifiers] == [("wikidata", end.id)]
        spec = RELATIONS[event.relation_type]
        assert event.source.schema_ in spec.sources and event.target.schema_ in spec.targets
        assert event.relation_id.startswith("wikidata:") and "$" not in event.relation_id


def test_names_come_from_labels_else_the_qid_is_noted():
    events, report = imported(documents(PUTIN))
    ends = {end.id: end for e in events for end in (e.source, e.target)}
    assert ends["Q7747"].name == "Vladimir Putin" and "Vladimir Vladimirovich Putin" in ends["Q7747"].aliases
    assert ends["Q842386"].name == "Prime Minister of Russia"  # from its label-only response
    assert ends["Q38715852"].name == "Q38715852"  # its label-only response has no label
    assert "Wikidata Q38715852: no label in the file: named by its QID" in report.notes
    assert any(n.startswith("Wikidata Q842386: the file gives no class (P31) for it: read as Position")
               for n in report.notes)
    # without the label-only responses the offices are named by QID, still Positions
    alone, _ = imported(documents(PUTIN)[:1])
    assert {e.target.name for e in alone if e.target.id == "Q842386"} == {"Q842386"}


def test_a_family_tie_stated_from_both_people_counts_once():
    events, _ = imported(documents())
    ties = Counter(frozenset((e.source.id, e.target.id)) for e in events if e.relation_type.value == "family")
    # stated from both sides in the file: Putin P26 Lyudmila / Lyudmila P26 Putin, Putin P40 Maria / Maria P22
    # Putin, the two sisters' P3373
    assert ties[frozenset((PUTIN, LYUDMILA))] == 2 and ties[frozenset((PUTIN, MARIA))] == 2
    assert ties[frozenset((MARIA, KATERINA))] == 2
    engine = Engine()
    for event in events:
        engine.apply(event)
    facts = Counter(frozenset((f.source, f.target)) for f in engine.graph.facts() if f.type.value == "family")
    assert set(facts.values()) == {1}, "each pair of relatives is one fact (docs/scoring.md, a fact is an edge)"
    assert set(facts) == set(ties)
    spouses = next(f for f in engine.graph.facts() if {f.source, f.target} == {PUTIN, LYUDMILA})
    assert len(spouses.statements) == 2


def test_a_relative_is_named_by_the_kinship_wikidata_gives():
    """Putin's P1038 (relative) statements carry P1039 (kinship to subject): his son-in-law (with the marriage's
    start) and his cousin by their labels, a kinship outside the table by its QID, never just "relative"."""
    events, _ = imported(documents(PUTIN))
    kin = {e.target.id: (e.properties.relationship, e.start_date) for e in events
           if e.relation_type.value == "family" and e.relation_id.split(":")[1] == PUTIN
           and e.target.id in {"Q22682071", "Q1833348", "Q15087614"}}
    assert kin == {"Q22682071": ("son-in-law", dt.date(2013, 2, 1)), "Q1833348": ("male first cousin", None),
                   "Q15087614": ("relative (Q41810796)", None)}


def test_deprecated_statements_and_value_less_snaks_are_skipped_with_a_note():
    events, report = imported(documents(PUTIN))
    ids = {e.relation_id for e in events}
    assert "wikidata:Q7747:977ea702-4905-638b-8fda-59786919692f" not in ids  # P39 president for life, deprecated
    assert report.outcomes["wikidata deprecated statements skipped"] == 1
    assert "wikidata:Q7747:d3ff1d0d-4d80-6282-9d7e-ba356cfef229" not in ids  # P102 novalue
    assert report.outcomes["wikidata novalue statements skipped"] == 2
    assert any("P102 statement Q7747$d3ff1d0d-4d80-6282-9d7e-ba356cfef229 is novalue" in n for n in report.notes)
    assert any("P39 statement Q7747$977ea702-4905-638b-8fda-59786919692f is deprecated" in n
               for n in report.notes)
    events, report = imported(documents(KATERINA))
    assert report.outcomes["wikidata somevalue statements skipped"] == 1  # her P40: a child not named


def test_the_same_input_gives_the_same_bytes():
    def dumped() -> list[str]:
        return [e.model_dump_json(by_alias=True, exclude_none=True) for e in imported(documents())[0]]

    first, second = dumped(), dumped()
    assert first == second and len(set(e.split('"event_id":"')[1][:41] for e in first)) == len(first)


def test_a_dump_line_reads_as_the_response_does():
    [response] = documents(PUTIN)[:1]
    entity = response["entities"][PUTIN]
    assert is_wikidata(response) and is_wikidata(entity)
    from_response, _ = imported([response])
    from_line, _ = imported([entity])
    assert from_response == from_line


def test_proportion_gives_the_percentage_and_unfit_ends_are_skipped():
    entity = copy.deepcopy(documents(PUTIN)[0]["entities"][PUTIN])
    [owned] = entity["claims"]["P1830"][:1]
    owned["qualifiers"] = {"P1107": [{"snaktype": "value", "property": "P1107", "datavalue": {
        "type": "quantity", "value": {"amount": "+0.25", "unit": "1"}}}]}
    entity["claims"] = {"P1830": [owned], "P26": [dict(entity["claims"]["P39"][1])]}
    # the office's own entity says it is a position (P31 Q4164871)
    office = {"type": "item", "id": "Q218295", "claims": {"P31": [{"rank": "normal", "mainsnak": {
        "snaktype": "value", "property": "P31", "datavalue": {"type": "wikibase-entityid", "value": {
            "id": "Q4164871"}}}}]}}
    events, report = imported([entity, office])
    [stake] = events
    assert stake.relation_type.value == "ownership" and stake.properties.percentage == 25.0
    # a P26 whose value is a Position (an office, stated as a spouse) fits no family tie: skipped
    [skipped] = report.skipped
    assert skipped.reason == "unmapped_schema" and "Position" in skipped.message


def test_the_property_table_fits_the_vocabulary():
    for prop, claim in PROPERTIES.items():
        spec = RELATIONS[claim.relation]
        item_ends, value_ends = (spec.sources, spec.targets) if claim.item_is_source else (spec.targets, spec.sources)
        assert claim.item_schema in (None, *item_ends), prop
        assert claim.value_schema in (None, *value_ends), prop
        if claim.text:
            assert {"role", "relationship"} & spec.properties, prop


@pytest.mark.parametrize("document", [
    {"entities": {"Q1": {"id": "Q1", "missing": ""}}},
    {"type": "item", "id": "Q1", "claims": {}},
])
def test_empty_or_missing_entities_give_nothing(document):
    events, report = imported([document])
    assert events == [] and not report.skipped


# hand-made entities, as the API writes them


def snak(prop: str, value: dict | None = None, snaktype: str = "value") -> dict:
    found = {"snaktype": snaktype, "property": prop}
    if value is not None:
        found["datavalue"] = {"value": value}
    return found


def item_value(qid: str) -> dict:
    return {"entity-type": "item", "id": qid}


def time(text: str, precision: int = 11, calendar: str = "Q1985727") -> dict:
    return {"time": text, "timezone": 0, "before": 0, "after": 0, "precision": precision,
            "calendarmodel": f"http://www.wikidata.org/entity/{calendar}"}


def statement(qid: str, prop: str, value: str, n: str = "1", qualifiers: dict | None = None,
              references: list | None = None) -> dict:
    found = {"id": f"{qid}${n}", "rank": "normal", "type": "statement", "mainsnak": snak(prop, item_value(value))}
    if qualifiers:
        found["qualifiers"] = qualifiers
    if references:
        found["references"] = references
    return found


def entity(qid: str, label: str, *statements: dict, modified: str = "2026-01-01T00:00:00Z", **more) -> dict:
    claims: dict = {}
    for found in statements:
        claims.setdefault(found["mainsnak"]["property"], []).append(found)
    return {"type": "item", "id": qid, "modified": modified, "labels": {"en": {"language": "en", "value": label}},
            "claims": claims, **more}


def held(qualifiers: dict) -> tuple[list, ImportReport]:
    """One P39 statement of a human with these qualifiers."""
    return imported([entity("Q1", "An official", statement("Q1", "P31", "Q5", "c"),
                            statement("Q1", "P39", "Q2", "s", qualifiers))])


@pytest.mark.parametrize(("qualifier", "what"), [
    (snak("P582", time("+1990-00-00T00:00:00Z", precision=8)), "end time"),  # a decade
    (snak("P582", time("+1990-02-30T00:00:00Z", calendar="Q1985786")), "end time"),  # no such Julian day
    (snak("P582", time("+1996-00-00T00:00:00Z", precision=11)), "end time"),  # day precision, no month or day
    (snak("P585", time("+1990-00-00T00:00:00Z", precision=8)), "point in time"),  # a decade
    (snak("P585", snaktype="somevalue"), "point in time"),  # some time, nobody says when
])
def test_an_end_or_point_in_time_that_cannot_be_read_skips_the_statement_rather_than_making_it_current(qualifier,
                                                                                                      what):
    events, report = held({qualifier["property"]: [qualifier]})
    assert events == []
    [skipped] = report.skipped
    assert skipped.reason == "unreadable_value" and what in skipped.message


def test_an_unknown_end_has_ended_and_an_end_before_the_start_keeps_the_end():
    start = snak("P580", time("+2001-01-01T00:00:00Z"))
    # somevalue: it ended, nobody says when: the day before the entity was observed, as FtM's ended status
    [event], report = held({"P580": [start], "P582": [snak("P582", snaktype="somevalue")]})
    assert (event.start_date, event.end_date) == (dt.date(2001, 1, 1), dt.date(2025, 12, 31))
    assert any("end time unknown (somevalue): read as ended on 2025-12-31" in n for n in report.notes)
    # novalue: it has not ended
    [event], _ = held({"P580": [start], "P582": [snak("P582", snaktype="novalue")]})
    assert event.end_date is None
    # an end before the start: the start is left out, the relation still ended
    [event], report = held({"P580": [snak("P580", time("+2005-01-01T00:00:00Z"))],
                            "P582": [snak("P582", time("+2001-01-01T00:00:00Z"))]})
    assert (event.start_date, event.end_date) == (None, dt.date(2001, 1, 1))
    assert any("ends (2001-01-01) before it starts (2005-01-01): imported without its start" in n
               for n in report.notes)


def test_a_reference_that_only_says_which_wikipedia_it_was_copied_from_is_no_source():
    events, _ = imported(documents(PUTIN, LYUDMILA))
    found = by_id(events)
    # P143 "imported from Wikimedia project" (a bot's copy of a Wikipedia infobox), with P4656 its URL: reported
    assert found["wikidata:Q7747:b4e20981-4972-75fd-cb3d-6dd1883ead6b"].status.value == "reported"
    assert found["wikidata:Q7747:6197e59a-4a2c-c5ac-27f4-7049929ed26e"].status.value == "reported"
    assert found["wikidata:Q233282:8a3c7c46-4010-d31c-439d-b600364e43b3"].status.value == "reported"
    # a reference stating a source (P854 reference URL, P248 stated in) still confirms
    assert found["wikidata:Q7747:6841bac1-4ad1-867c-0c6b-580acf144efc"].status.value == "confirmed"
    imported_from = [{"snaks": {"P143": [snak("P143", item_value("Q328"))]}}]
    stated_in = [{"snaks": {"P248": [snak("P248", item_value("Q36578"))],
                            "P813": [snak("P813", time("+2024-01-01T00:00:00Z"))]}}]
    for references, status in ((imported_from, "reported"), (imported_from + stated_in, "confirmed")):
        [event], _ = imported([entity("Q1", "A", statement("Q1", "P26", "Q2", references=references))])
        assert event.status.value == status


def test_a_statement_wikidata_calls_disputed_or_supposed_is_alleged():
    events, _ = imported(documents(PUTIN))
    found = by_id(events)
    # P40 with P5102 (nature of statement) disputed (Q18912752) and supposedly (Q32188232)
    assert found["wikidata:Q7747:45469ecd-4112-d819-b9e3-8c59ea7cb369"].status.value == "alleged"
    assert found["wikidata:Q7747:4d4d76c1-43fd-c450-8da1-dd32139358bf"].status.value == "alleged"
    assert found["wikidata:Q7747:47e88a7d-42af-c62b-c2a2-66e1d8146dba"].status.value == "alleged"
    assert found["wikidata:Q7747:7323036E-DBA9-4B71-B197-F19ACE975AD2"].status.value == "reported"  # Maria
    # a reference does not make a disputed statement confirmed
    [event], _ = imported([entity("Q1", "A", statement(
        "Q1", "P26", "Q2", qualifiers={"P5102": [snak("P5102", item_value("Q18912752"))]},
        references=[{"snaks": {"P854": [snak("P854", "https://example.org/a")]}}]))])
    assert event.status.value == "alleged"


def test_records_that_are_not_wikidata_items_are_reported_not_dropped_unseen():
    ftm = {"id": "ftm-1", "schema": "Ownership", "properties": {"owner": ["a"], "asset": ["b"]}}
    lexeme = {"type": "lexeme", "id": "L1", "lemmas": {}}
    events, report = imported([entity("Q1", "A", statement("Q1", "P26", "Q2")), ftm, lexeme,
                               {"entities": {"P26": {"type": "property", "id": "P26", "claims": {}}}}])
    assert len(events) == 1
    [skipped] = report.skipped
    assert (skipped.entity_id, skipped.reason) == ("ftm-1", "invalid_entity")
    assert report.ignored == {"Wikidata lexeme": 1, "Wikidata property": 1}


def test_the_multilingual_label_names_an_item_without_an_english_one():
    # since 2024 Wikidata states a Latin-script name once, as "mul", and drops the English label that repeats it
    person = entity("Q1", "unused", statement("Q1", "P26", "Q2"))
    person["labels"] = {language: {"language": language, "value": value} for language, value in (
        ("ar", "أولاف شولتس"), ("mul", "Olaf Scholz"), ("de", "Olaf Scholz"))}
    person["aliases"] = {"mul": [{"language": "mul", "value": "Olaf Scholz (SPD)"}]}
    [event], _ = imported([person])
    assert event.source.name == "Olaf Scholz" and list(event.source.aliases) == ["Olaf Scholz (SPD)"]


def test_an_item_given_twice_is_named_by_the_version_whose_statements_are_read():
    old = entity("Q1", "Old Name", statement("Q1", "P26", "Q2"), modified="2020-01-01T00:00:00Z")
    new = entity("Q1", "New Name", statement("Q1", "P26", "Q2"), modified="2026-01-01T00:00:00Z")
    for documents_ in ([old, new], [new, old]):
        [event], report = imported(documents_)
        assert event.source.name == "New Name" and event.observed_at == dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        assert "Wikidata Q1: given again: only its latest version is read" in report.notes


def test_a_value_naming_a_merged_item_is_read_as_the_item_it_redirects_to():
    # wbgetentities ids=Q2 for an item merged into Q3 answers with Q3 and says so in `redirects`
    spouse = {"entities": {"Q2": {"type": "item", "id": "Q3", "redirects": {"from": "Q2", "to": "Q3"},
                                  "labels": {"en": {"language": "en", "value": "The Spouse"}}}}}
    [event], report = imported([entity("Q1", "A", statement("Q1", "P26", "Q2")), spouse])
    assert (event.target.id, event.target.name) == ("Q3", "The Spouse")
    assert [(i.scheme, i.value) for i in event.target.identifiers] == [("wikidata", "Q3")]
    assert any("Q2 redirects to Q3 (merged): read as that item" in n for n in report.notes)


def test_several_start_or_end_times_give_the_earliest_start_and_the_latest_end():
    # as the FtM import reads several dates (docs/events.md): the first stated is not the widest
    [event], report = held({"P580": [snak("P580", time("+2004-01-01T00:00:00Z")),
                                     snak("P580", time("+2001-00-00T00:00:00Z", precision=9))],
                            "P582": [snak("P582", time("+2008-05-07T00:00:00Z")),
                                     snak("P582", time("+2012-05-07T00:00:00Z"))]})
    assert (event.start_date, event.end_date) == (dt.date(2001, 1, 1), dt.date(2012, 5, 7))
    assert any("2 end times: the latest read" in n for n in report.notes)


def test_a_time_finer_than_a_day_is_that_day():
    # precision 12-14 (hour, minute, second) is finer than a day, not "coarser than a year"
    [event], report = held({"P580": [snak("P580", time("+2022-02-24T00:00:00Z", precision=14))],
                            "P582": [snak("P582", time("+2023-03-01T00:00:00Z", precision=12))]})
    assert (event.start_date, event.end_date) == (dt.date(2022, 2, 24), dt.date(2023, 3, 1))


def test_a_normal_value_beside_a_preferred_one_of_a_one_at_a_time_property_is_a_former_value():
    """Wikidata marks the current chief executive (or party) with the preferred rank and keeps former ones as
    normal statements, often without an end: read as current, a company had two chief executives and a former one
    stayed a current tie. Beside a preferred statement, such a statement ended on an unseen day; one with its own
    end, or with an explicit novalue end (it still holds), keeps it, and properties that hold several values at
    once (offices, owners) are read as before."""
    former = statement("Q10", "P169", "Q11", "a")
    current = dict(statement("Q10", "P169", "Q12", "b"), rank="preferred")
    dated = statement("Q10", "P169", "Q13", "c", {"P582": [snak("P582", time("+2019-06-30T00:00:00Z"))]})
    still = statement("Q10", "P169", "Q14", "d", {"P582": [snak("P582", snaktype="novalue")]})
    events, report = imported([entity("Q10", "A company", statement("Q10", "P31", "Q783794", "t"),
                                      former, current, dated, still)])
    ends = {event.source.id: event.end_date for event in events}
    assert ends == {"Q11": dt.date(2025, 12, 31), "Q12": None, "Q13": dt.date(2019, 6, 30), "Q14": None}
    assert any("a preferred statement names the current value" in note for note in report.notes)
    offices, _ = imported([entity("Q1", "An official", statement("Q1", "P31", "Q5", "c"),
                                  statement("Q1", "P39", "Q2", "a"),
                                  dict(statement("Q1", "P39", "Q3", "b"), rank="preferred"))])
    assert [event.end_date for event in offices] == [None, None]


def test_julian_calendar_days_are_converted_to_ours_and_coarser_dates_read_as_stated():
    """Wikidata keeps a day its sources give in the Julian calendar as that calendar's date (a Russian official
    appointed before 1918): converted to the same day in ours. A month or a year is read as stated, as Wikibase
    reads it (Wikidata marks every date before 1583 Julian by default). A Julian start was left out, and a statement
    with a Julian end skipped."""
    julian = "Q1985786"
    [event], report = held({"P580": [snak("P580", time("+1870-04-10T00:00:00Z", calendar=julian))],
                            "P582": [snak("P582", time("+1917-10-25T00:00:00Z", calendar=julian))]})
    assert (event.start_date, event.end_date) == (dt.date(1870, 4, 22), dt.date(1917, 11, 7))
    assert report.skipped == []
    [event], _ = held({"P580": [snak("P580", time("+1900-02-00T00:00:00Z", precision=10, calendar=julian))],
                       "P582": [snak("P582", time("+1900-02-00T00:00:00Z", precision=10, calendar=julian))]})
    assert (event.start_date, event.end_date) == (dt.date(1900, 2, 1), dt.date(1900, 2, 28))
    [event], _ = held({"P582": [snak("P582", time("+1600-00-00T00:00:00Z", precision=9, calendar=julian))]})
    assert event.end_date == dt.date(1600, 12, 31)
    # a day the Julian calendar does not have skips the statement, at any precision it is read
    for text, precision in (("+1990-13-05T00:00:00Z", 11), ("+1990-02-30T00:00:00Z", 11)):
        events, report = held({"P582": [snak("P582", time(text, precision=precision, calendar=julian))]})
        assert events == [] and report.skipped[0].reason == "unreadable_value", text


def test_the_director_of_an_agency_directs_it_and_a_former_one_no_longer():
    """P1037 (director / manager) names the head of an agency, a regulator or a company: a directorship from the
    person, which carries the body's authority (the vocabulary's control flag). Beside the preferred (current)
    director, a normal one without an end is a former director (`Claim.one_at_a_time`)."""
    regulator = entity("Q20", "A financial regulator", statement("Q20", "P31", "Q1639780", "t"),
                       dict(statement("Q20", "P1037", "Q21", "a"), rank="preferred"),
                       statement("Q20", "P1037", "Q22", "b"))
    people = [entity(q, name, statement(q, "P31", "Q5", "c")) for q, name in (("Q21", "Director"), ("Q22", "Former"))]
    events, _ = imported([regulator, *people])
    found = {(e.source.id, e.target.id): e for e in events if e.relation_type.value == "directorship"}
    assert set(found) == {("Q21", "Q20"), ("Q22", "Q20")}
    current = found[("Q21", "Q20")]
    assert (current.source.schema_.value, current.target.schema_.value) == ("Person", "PublicBody")
    assert current.properties.role == "director / manager" and current.end_date is None
    assert found[("Q22", "Q20")].end_date == dt.date(2025, 12, 31)


def test_an_office_gets_the_tier_of_its_jurisdiction_and_a_head_of_state_gov_head():
    """The engine weighs a person's first hop by the office's tier (national 1.0, state 0.8, municipal 0.6); an
    office without topics weighed as a national one, so a town's mayor from Wikidata steered like a minister. The
    tier is read from the class of the jurisdiction the office applies to (P1001), when the file carries it."""
    town = entity("Q30", "Smalltown", statement("Q30", "P31", "Q262166", "t"))  # municipality of Germany
    land = entity("Q31", "A Land", statement("Q31", "P31", "Q1221156", "t"))  # state of Germany
    country = entity("Q32", "A country", statement("Q32", "P31", "Q6256", "t"))
    offices = [entity("Q40", "Mayor of Smalltown", statement("Q40", "P31", "Q4164871", "c"),
                      statement("Q40", "P1001", "Q30", "j")),
               entity("Q41", "Minister-President of A Land", statement("Q41", "P31", "Q4164871", "c"),
                      statement("Q41", "P1001", "Q31", "j")),
               entity("Q42", "President of A country", statement("Q42", "P31", "Q48352", "c"),
                      statement("Q42", "P1001", "Q32", "j")),
               entity("Q43", "Governor of Elsewhere", statement("Q43", "P31", "Q4164871", "c"),
                      statement("Q43", "P1001", "Q99", "j"))]
    person = entity("Q1", "An official", statement("Q1", "P31", "Q5", "c"),
                    *(statement("Q1", "P39", office, office) for office in ("Q40", "Q41", "Q42", "Q43")))
    events, report = imported([person, *offices, town, land, country])
    topics = {event.target.id: event.target.topics for event in events}
    assert topics == {"Q40": ("gov.muni",), "Q41": ("gov.state",), "Q42": ("gov.head", "gov.national"), "Q43": ()}
    assert any("Q43" in note and "no government tier" in note for note in report.notes)


def test_partners_step_and_god_parents_and_business_partners_are_read():
    """An unmarried partner (P451), step- and godparents (P43, P44, P3448, P1290), an unspecified parent (P8810) are
    family, a partner in business (P1327) an associate: a PEP's partner was not read at all."""
    person = entity("Q1", "A minister", statement("Q1", "P31", "Q5", "c"),
                    *(statement("Q1", prop, f"Q{n}", prop) for n, prop in enumerate(
                        ("P451", "P43", "P44", "P3448", "P8810", "P1290", "P1327"), start=50)))
    others = [entity(f"Q{n}", f"Person {n}", statement(f"Q{n}", "P31", "Q5", "c")) for n in range(50, 57)]
    events, report = imported([person, *others])
    read = {event.target.id: (event.relation_type.value, event.properties.relationship) for event in events}
    assert read == {"Q50": ("family", "unmarried partner"), "Q51": ("family", "stepfather"),
                    "Q52": ("family", "stepmother"), "Q53": ("family", "stepparent"), "Q54": ("family", "parent"),
                    "Q55": ("family", "godparent"), "Q56": ("associate", "partner in business or sport")}
    assert report.skipped == []


def test_a_deputy_beside_the_preferred_director_is_not_a_former_one():
    """P1037 has several people in office at once (a deputy, an artistic director beside a managing director), told
    apart by a role qualifier (P2868 subject has role): such a normal statement beside the preferred one is a
    concurrent value, not a former one ended on an unseen day (which would read a current head as a former one)."""
    museum = entity("Q20", "A museum", statement("Q20", "P31", "Q43229", "t"),
                    dict(statement("Q20", "P1037", "Q21", "a"), rank="preferred"),
                    statement("Q20", "P1037", "Q22", "b", {"P2868": [snak("P2868", item_value("Q1162163"))]}),
                    statement("Q20", "P1037", "Q23", "c"))
    people = [entity(q, q, statement(q, "P31", "Q5", "c")) for q in ("Q21", "Q22", "Q23")]
    events, _ = imported([museum, *people])
    ends = {event.source.id: event.end_date for event in events}
    assert ends == {"Q21": None, "Q22": None, "Q23": dt.date(2025, 12, 31)}


# A Land's Minister-President whose office Wikidata classes as head of government (Q2285706) gets gov.head and
# gov.state; the engine takes the highest tier (gov.head 1.0), so he steers with a chancellor's weight, not 0.8.
def test_a_head_of_a_states_government_weighs_as_a_state_office():
    land = entity("Q31", "A Land", statement("Q31", "P31", "Q1221156", "t"))  # state of Germany
    office = entity("Q41", "Minister-President of A Land", statement("Q41", "P31", "Q2285706", "c"),
                    statement("Q41", "P1001", "Q31", "j"))
    person = entity("Q1", "An official", statement("Q1", "P31", "Q5", "c"), statement("Q1", "P39", "Q41", "o"))
    events, _ = imported([person, office, land])
    topics = frozenset(events[0].target.topics)
    assert ScoringConfig.load().authority.tier_weight(topics) == 0.8, topics


def external_id(qid: str, prop: str, value: str, n: str, rank: str = "normal") -> dict:
    return {"id": f"{qid}${n}", "rank": rank, "type": "statement", "mainsnak": snak(prop, value)}


def test_an_items_external_ids_are_its_identifiers():
    # (hand-made: a member of the UK Parliament by his member id, P10428; a firm by its LEI, P1278)
    member = entity("Q1", "A member", statement("Q1", "P31", "Q5", "c"), statement("Q1", "P39", "Q2", "s"),
                    external_id("Q1", "P10428", "4051", "p"))
    firm = entity("Q3", "A firm", statement("Q3", "P31", "Q4830453", "c"), statement("Q3", "P127", "Q1", "o"),
                  external_id("Q3", "P1278", "5299005v5gbsn2a4c303", "l"))  # as written: folded to upper case
    other = entity("Q5", "Another firm", statement("Q5", "P31", "Q4830453", "c"), statement("Q5", "P127", "Q1", "o"),
                   external_id("Q5", "P1278", "not an LEI", "x"))
    events, report = imported([member, firm, other])
    refs = {ref.id: ref for event in events for ref in (event.source, event.target)}
    assert [(i.scheme, i.value) for i in refs["Q1"].identifiers] == [("wikidata", "Q1"), ("ukparliament", "4051")]
    assert [(i.scheme, i.value) for i in refs["Q3"].identifiers] == \
        [("wikidata", "Q3"), ("lei", "5299005V5GBSN2A4C303")]
    assert any("P1278 'not an LEI' is no lei identifier" in note for note in report.notes)


def test_an_identifier_of_the_best_rank_alone_merges():
    def member(*ids: dict) -> dict:
        return entity("Q1", "A member", statement("Q1", "P31", "Q5", "c"), statement("Q1", "P39", "Q2", "s"), *ids)

    events, _ = imported([member(external_id("Q1", "P10428", "413", "a", "preferred"),
                                 external_id("Q1", "P10428", "394", "b"))])
    assert [(i.scheme, i.value) for i in events[0].source.identifiers] == [("wikidata", "Q1"), ("ukparliament", "413")]
    # two values of one rank: one of them may be another person's, and an identifier merges: neither is used
    events, report = imported([member(external_id("Q1", "P10428", "413", "a"),
                                      external_id("Q1", "P10428", "394", "b"))])
    assert [i.scheme for i in events[0].source.identifiers] == ["wikidata"]
    assert any("P10428 has 2 values of the best rank (394, 413)" in note for note in report.notes)
    events, report = imported([member(external_id("Q1", "P10428", "413", "a", "deprecated"))])
    assert [i.scheme for i in events[0].source.identifiers] == ["wikidata"]


def test_a_member_id_names_a_person_written_as_it_is():
    member = entity("Q1", "A member", statement("Q1", "P31", "Q5", "c"), statement("Q1", "P39", "Q2", "s"),
                    external_id("Q1", "P10428", "40 51", "p"))
    office = entity("Q2", "An office", statement("Q2", "P31", "Q4164871", "c"),
                    external_id("Q2", "P10428", "4051", "p"))
    events, report = imported([member, office])
    refs = {ref.id: ref for event in events for ref in (event.source, event.target)}
    assert [i.scheme for i in refs["Q1"].identifiers] == ["wikidata"]  # "40 51" is no id
    assert any("P10428 '40 51' is no ukparliament identifier" in note for note in report.notes)
    assert [i.scheme for i in refs["Q2"].identifiers] == ["wikidata"]  # an office is no member


def test_a_statement_dated_only_by_a_point_in_time_held_through_that_period_not_forever():
    """P585 (point in time) dates an office held in a given year, or a stake a filing stated on a day. Read without
    dates (wikidata-import 1.6 and before), such a statement was current forever: an office held in 2003 made its
    holder a current official."""
    year = snak("P585", time("+2003-00-00T00:00:00Z", precision=9))
    [event], report = held({"P585": [year]})
    assert (event.start_date, event.end_date) == (dt.date(2003, 1, 1), dt.date(2003, 12, 31))
    assert any("dated only by a point in time (P585): read as held from 2003-01-01 to 2003-12-31" in n
               for n in report.notes)
    # several: from the earliest to the latest; a day is that day
    [event], _ = held({"P585": [snak("P585", time("+2019-03-05T00:00:00Z")),
                                snak("P585", time("+2017-06-00T00:00:00Z", precision=10))]})
    assert (event.start_date, event.end_date) == (dt.date(2017, 6, 1), dt.date(2019, 3, 5))
    # a start or an end of its own decides, as before
    [event], _ = held({"P585": [year], "P580": [snak("P580", time("+2001-01-01T00:00:00Z"))]})
    assert (event.start_date, event.end_date) == (dt.date(2001, 1, 1), None)
    [event], _ = held({"P585": [year], "P582": [snak("P582", snaktype="novalue")]})  # explicitly still holds
    assert event.end_date is None


def test_files_downloaded_one_person_at_a_time_keep_each_persons_name_and_topics():
    """Each person's response imported on its own, as separate downloads are: Katerina's and Maria's name their
    father only by his QID (their files have no label for him), and their items are observed after his, so the
    engine took "Q7747" for Vladimir Putin's name in every explanation (a review, on these fixtures). A reference
    named by its own id names nothing: in any order, he keeps his own file's name, schema and topics."""
    from itertools import permutations

    files = {qid: imported(documents(qid)[:1])[0] for qid in (PUTIN, MARIA, KATERINA)}
    own = next(end for e in files[PUTIN] for end in (e.source, e.target) if end.id == PUTIN)
    assert {end.name for e in files[KATERINA] for end in (e.source, e.target) if end.id == PUTIN} == {PUTIN}
    assert max(e.observed_at for e in files[KATERINA]) > max(e.observed_at for e in files[PUTIN])
    for order in permutations(files):
        engine = Engine()
        for qid in order:
            for event in files[qid]:
                engine.apply(event)
        held = engine.graph.entity(PUTIN)
        assert (held.name, held.topics) == (own.name, frozenset(own.topics)), order


def test_an_undated_job_office_or_seat_is_not_known_to_be_current():
    """A biography lists every employer, often without dates (an analyst's review: a regulator's undated job at the
    bank he regulates scored as a current one, 0.441 high). A career statement (P108 employer, P39 position held,
    P463 member of) with no date at all is read as still held but alleged, as an FtM occupancy of status unknown
    is; a dated one, a family tie and an ownership keep the status their references give."""
    sourced = [{"snaks": {"P854": [snak("P854", "https://example.org/cv")]}}]
    start = {"P580": [snak("P580", time("+2019-01-01T00:00:00Z"))]}
    events, report = imported([entity(
        "Q1", "A regulator", statement("Q1", "P31", "Q5", "c"),
        statement("Q1", "P108", "Q10", "job", references=sourced),
        statement("Q1", "P108", "Q11", "dated", start, references=sourced),
        statement("Q1", "P39", "Q12", "office"), statement("Q1", "P463", "Q13", "seat"),
        statement("Q1", "P26", "Q14", "spouse", references=sourced),
        statement("Q1", "P1830", "Q15", "stake", references=sourced))])
    status = {event.relation_id.rpartition(":")[2]: event.status.value for event in events}
    assert status == {"job": "alleged", "dated": "confirmed", "office": "alleged", "seat": "alleged",
                      "spouse": "confirmed", "stake": "confirmed"}
    assert any(note.endswith("P108 statement Q1$job: no date qualifier and not of preferred rank: read as still "
                             "held, but alleged, not known to be current (a career lists past values too)")
               for note in report.notes)
    # any dating qualifier says when: an end alone, a point in time, an end Wikidata says there is none of
    # (novalue: it has not ended), a start it does not know or gives only by the decade (a review)
    for qualifiers in ({"P582": [snak("P582", time("+2020-01-01T00:00:00Z"))]},
                       {"P585": [snak("P585", time("+2019-01-01T00:00:00Z"))]},
                       {"P582": [snak("P582", snaktype="novalue")]}, {"P580": [snak("P580", snaktype="somevalue")]},
                       {"P580": [snak("P580", time("+1990-00-00T00:00:00Z", precision=8))]}):
        [dated], _ = held(qualifiers)
        assert dated.status.value == "reported", qualifiers
    # so does the preferred rank, Wikidata's mark of a current value (a sitting prime minister's office)
    current = statement("Q1", "P39", "Q2", "s")
    current["rank"] = "preferred"
    [office], _ = imported([entity("Q1", "An official", statement("Q1", "P31", "Q5", "c"), current)])
    assert office.status.value == "reported"
