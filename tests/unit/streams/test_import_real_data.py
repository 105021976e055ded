"""`coi-risk import` end to end on public data (tests/fixtures/README.md) and on our own cases, through the real
command line, and the scores the imported events give."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
from pathlib import Path

import pytest
from followthemoney import model

from schemas import parse_event
from schemas.ftm import FtmImportError, ImportReport, events_from_ftm
from scoring import Engine
from streams.cli import main

FIXTURES = Path(__file__).parents[2] / "fixtures"
YENTE, BODS, OURS = FIXTURES / "yente", FIXTURES / "bods", FIXTURES / "ours"
SOURCE_URL = ["--source-url", "https://example.org/register"]


def run_import(capsys, *argv: str) -> tuple[list[str], str, int]:
    code = main(["import", *argv, "--quiet"])
    captured = capsys.readouterr()
    return [line for line in captured.out.splitlines() if line.strip()], captured.err, code


def engine_of(lines: list[str]) -> Engine:
    engine = Engine()
    for line in lines:
        engine.apply(parse_event(line.encode()))
    return engine


@pytest.mark.parametrize(("argv", "format_", "converted", "skipped"), [
    ([str(YENTE / "t1-entities.ftm.json")], "ftm", 0, 0),
    ([str(YENTE / "zala-ownership.ftm.json")], "ftm", 21, 0),
    ([str(YENTE / "parteispenden-head.ftm.json")], "ftm", 0, 16),
    ([str(YENTE / "parteispenden-head.ftm.json"), "--publisher", "Bundestag", *SOURCE_URL,
      "--retrieved-at", "2024-06-01T00:00:00Z"], "ftm", 16, 0),
    ([str(YENTE / "t2-20240528014702-pfh.delta.json")], "ftm-delta", 0, 0),
    ([str(BODS / "bods-package-fi-soe.json")], "bods", 4, 0),
    ([str(BODS / "indirect-ownership.json"), *SOURCE_URL], "bods", 2, 0),
    ([str(BODS / "full-pep-declaration.json"), *SOURCE_URL], "bods", 3, 0),
    ([str(BODS / "joint-ownership.json"), *SOURCE_URL], "bods", 3, 0),
    ([str(BODS / "nomination.json"), *SOURCE_URL], "bods", 3, 0),
    ([str(BODS / "multiple-indirect-ownership.json"), *SOURCE_URL], "bods", 4, 0),
    ([str(OURS / "procurement.ftm.json")], "ftm", 5, 0),
    ([str(OURS / "bods-chain.json")], "bods", 4, 0),
])
def test_each_fixture_imports_with_the_expected_counts(capsys, argv, format_, converted, skipped):
    lines, err, _ = run_import(capsys, *argv)
    assert f"import ({format_}): converted {converted}; retracted 0; skipped {skipped}" in err, err
    assert len(lines) == converted
    for line in lines:
        parse_event(line.encode())


def test_yente_fixtures_read_caption_datasets_and_amounts(capsys):
    lines, _, _ = run_import(capsys, str(YENTE / "parteispenden-head.ftm.json"), "--publisher", "Bundestag",
                             *SOURCE_URL, "--retrieved-at", "2024-06-01T00:00:00Z")
    payment = parse_event(lines[0].encode())
    assert (payment.properties.amount, payment.properties.currency) == (100000.0, "EUR"), "amountEur is EUR"
    lines, _, _ = run_import(capsys, str(YENTE / "zala-ownership.ftm.json"))
    event = parse_event(lines[0].encode())
    assert event.provenance.publisher.startswith("OpenSanctions: ") and "/datasets/" in event.provenance.source_url


def test_importing_twice_gives_identical_bytes(capsys):
    for path in (OURS / "procurement.ftm.json", YENTE / "zala-ownership.ftm.json", OURS / "bods-chain.json"):
        first, _, _ = run_import(capsys, str(path))
        second, _, _ = run_import(capsys, str(path))
        assert hashlib.sha256("\n".join(first).encode()).hexdigest() == \
            hashlib.sha256("\n".join(second).encode()).hexdigest()


def test_the_plain_ftm_procurement_case_raises_the_alert(capsys):
    lines, _, _ = run_import(capsys, str(OURS / "procurement.ftm.json"))
    by_type = {parse_event(line.encode()).relation_type.value: parse_event(line.encode()) for line in lines}
    award = by_type["awards_contract"]
    assert (award.source.id, award.target.id) == ("case-ministry", "case-firm"), "Contract.authority -> supplier"
    assert (award.properties.amount, award.properties.currency) == (1_000_000.0, "EUR")
    assert by_type["ownership"].properties.percentage == 60.0
    assert by_type["control"].source.id == "case-post", "Position.organization: the office steers its body"
    assert award.target.name == "Brückenbau Berger GmbH", "FtM's caption, not the first name"
    engine = engine_of(lines)
    pairs = {(s.actor_id, s.counterparty_id): s for s in engine.scores()}
    score = pairs[("case-minister", "case-firm")]
    assert score.band.value in ("medium", "high", "critical")
    assert "COI-AUTH-OWNERSHIP" in score.rules


def test_a_nested_yente_entity_gives_the_relations_of_the_flat_export(capsys):
    """yente's API (`/entities/<id>`, nested by default) and OpenSanctions' targets.nested.json embed the related
    entities as objects in `properties`, and leave out the back reference where the parent is implied
    (tests/fixtures/README.md): the person's relations are the ones the flat export gives, byte for byte."""
    root = "NK-aU5ybkbRFJucf8YMwsJvDw"
    nested, err, code = run_import(capsys, str(YENTE / "zala-nested.ftm.json"))
    flat, _, _ = run_import(capsys, str(YENTE / "zala-ownership.ftm.json"))
    expected = [line for line in flat if root in (json.loads(line)["source"]["id"], json.loads(line)["target"]["id"])]
    assert len(expected) == 16 and code == 0, err
    assert sorted(nested) == sorted(expected)
    again, _, _ = run_import(capsys, str(YENTE / "zala-nested.ftm.json"))
    assert again == nested


def _json_values(path: Path) -> list:
    """The JSON values of a file written one after another (pretty-printed or one a line)."""
    decoder, text, values, position = json.JSONDecoder(), path.read_text(), [], 0
    while text[position:].strip():
        value, position = decoder.raw_decode(text, len(text) - len(text[position:].lstrip()))
        values.append(value)
    return values


def _import_flat(capsys, tmp_path, entities: list[dict], *argv: str) -> list[str]:
    """What `coi-risk import` makes of the entities written as a flat FtM file."""
    flat = tmp_path / "flat.ftm.json"
    flat.write_text("".join(json.dumps(entity, ensure_ascii=False) + "\n" for entity in entities))
    lines, _, _ = run_import(capsys, str(flat), *argv)
    return lines


def test_a_saved_yente_search_response_gives_the_relations_of_its_results(capsys, tmp_path):
    """A file saved from yente's /search (tests/fixtures/README.md: two searches of the zala dataset, pretty-printed
    one after another; the second a first page of 20 of its 21 intervals) was rejected whole as not an entity. Its
    results are the dataset's entities: they give the relations the same entities give as a flat file, byte for
    byte, and the summary says the responses were read as their results."""
    from schemas.ftm import YENTE_RESPONSES
    from streams.commands.importer import JsonValues, detect_format

    path = YENTE / "zala-search.json"
    assert detect_format(JsonValues(path, ImportReport(), progress=False)) == "ftm"
    lines, err, code = run_import(capsys, str(path))
    assert code == 0 and "import (ftm): converted 20; retracted 0; skipped 0" in err, err
    assert f"{YENTE_RESPONSES['/search']}: 2" in err
    responses = _json_values(path)
    results = [entity for response in responses for entity in response["results"]]
    assert lines == _import_flat(capsys, tmp_path, results)
    judged, _, _ = run_import(capsys, str(path), "--referents")
    assert len(judged) > len(lines) and judged == _import_flat(capsys, tmp_path, results, "--referents"), \
        "OpenSanctions' merges (referents) of the results are read too"
    everything, _, _ = run_import(capsys, str(YENTE / "zala-ownership.ftm.json"))
    assert set(lines) < set(everything), "the whole export's relations, less the interval not on the page"
    one_a_line = tmp_path / "search.json"
    one_a_line.write_text("".join(json.dumps(response, ensure_ascii=False) + "\n" for response in responses))
    again, err, _ = run_import(capsys, str(one_a_line))
    assert again == lines and f"{YENTE_RESPONSES['/search']}: 2" in err, "one response a line reads the same"


def test_a_saved_yente_match_response_gives_every_result_and_never_the_query():
    """/match answers each query with scored results (score, explanations, match) and echoes the query example. The
    results are entities of the dataset whether or not their score crossed the threshold (two of the four here did
    not): with the zala intervals, they are the endpoints they are as flat entities, and the relations are the
    same, skips and all. The query examples (one with the caller's id "client-0042", one without an id) are the
    caller's, never data: neither becomes an entity, an endpoint or a skipped record."""
    from schemas.ftm import YENTE_RESPONSES

    [response] = _json_values(YENTE / "zala-match.json")
    results = [entity for query in response["responses"].values() for entity in query["results"]]
    assert [entity["match"] for entity in results] == [True, False, True, False]
    rows = [json.loads(line) for line in (YENTE / "zala-ownership.ftm.json").read_text().splitlines()]
    intervals = [row for row in rows if model.get(row["schema"]).is_a("Interval")]
    report, flat_report = ImportReport(), ImportReport()
    events = list(events_from_ftm([response, *intervals], report=report))
    flat = list(events_from_ftm([*results, *intervals], report=flat_report))
    assert len(events) == 6 and events == flat
    assert {"NK-JseaPJctnK9o8wrmz8xmoT", "NK-cPks3aTbes8k4aCerfBAzN"} <= {
        ref.id for event in events for ref in (event.source, event.target)}, "results below the threshold count"
    assert [str(s) for s in report.skipped] == [str(s) for s in flat_report.skipped]
    assert report.ignored == flat_report.ignored and report.notes == flat_report.notes
    assert report.outcomes[YENTE_RESPONSES["/match"]] == 1
    assert "client-0042" not in json.dumps([event.model_dump(mode="json") for event in events])


def test_the_cli_reads_a_pretty_printed_match_response(capsys, tmp_path):
    [response] = _json_values(YENTE / "zala-match.json")
    pretty = tmp_path / "match.json"
    pretty.write_text(json.dumps(response, ensure_ascii=False, indent=2) + "\n")
    _, err, code = run_import(capsys, str(pretty))
    assert code == 0 and "import (ftm): converted 0; retracted 0; skipped 0" in err, err
    assert "not converted (neither a relation nor an endpoint): Company 2, Person 2" in err, \
        "the four results, not the two query examples"


def test_a_saved_yente_adjacent_response_gives_the_relations_of_the_entity(capsys, tmp_path):
    """/entities/<id>/adjacent gives the entity and, per property, the entities adjacent to it, nested as
    /entities/<id> nests them: the person's relations are the ones the nested and the flat export give. An
    Ownership listed under the person's `ownershipOwner` may lack its owner (yente leaves the back reference out
    where it has another value to show): it is put back; an id string among the results names an entity the
    response does not give, and adds nothing."""
    from schemas.ftm import YENTE_RESPONSES

    lines, err, code = run_import(capsys, str(YENTE / "zala-adjacent.json"))
    nested, _, _ = run_import(capsys, str(YENTE / "zala-nested.ftm.json"))
    assert code == 0 and len(lines) == 16 and sorted(lines) == sorted(nested), err
    assert f"{YENTE_RESPONSES['/entities/<id>/adjacent']}: 1" in err
    [response] = _json_values(YENTE / "zala-adjacent.json")
    for ownership in response["adjacent"]["ownershipOwner"]["results"]:
        del ownership["properties"]["owner"]
    response["adjacent"]["ownershipOwner"]["results"].append("NK-not-in-the-response")
    pruned = tmp_path / "adjacent.json"
    pruned.write_text(json.dumps(response, ensure_ascii=False, indent=1))
    again, err, _ = run_import(capsys, str(pruned))
    assert sorted(again) == sorted(lines) and "skipped 0" in err, err


@pytest.mark.parametrize(("body", "detail"), [
    ({"detail": "No such entity!"}, "No such entity!"),  # GET /entities/<unknown id>
    ({"detail": [{"type": "missing", "loc": ["body", "queries"], "msg": "Field required", "input": {}}]},
     "Field required"),  # a /match body without queries (FastAPI's validation error)
    ({"status": "error"}, "a server error (HTTP 500)"),
])
def test_a_saved_yente_error_response_is_reported_with_its_detail(capsys, tmp_path, body, detail):
    path = tmp_path / "response.json"
    path.write_text(json.dumps(body, indent=2) + "\n")
    lines, err, code = run_import(capsys, str(path))
    assert (lines, code) == ([], 1) and "skipped 1 (error_response: 1)" in err, err
    assert "a yente error response, not entities" in err and detail in err
    with pytest.raises(FtmImportError, match="error_response"):
        list(events_from_ftm([body]))


def test_score_on_ftm_input_fails_with_one_line(capsys):
    assert main(["score", str(OURS / "procurement.ftm.json")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is not relationship events" in err[0] and "coi-risk import" in err[0]


def test_a_delta_feed_changes_and_then_resolves_the_score(capsys, tmp_path):
    state = tmp_path / "feed.state.jsonl"
    applied: list[str] = []
    scores = []
    for part in (1, 2, 3):
        lines, err, code = run_import(capsys, str(OURS / f"procurement-feed-{part}.delta.json"), "--state", str(state))
        assert code == 0 and "(ftm-delta)" in err
        applied += lines
        engine = engine_of(applied)
        scores.append({(s.actor_id, s.counterparty_id): s.score for s in engine.scores()})
        snapshot, _, _ = run_import(capsys, str(state))  # the state is the full export after this part
        assert {(s.actor_id, s.counterparty_id): s.score for s in engine_of(snapshot).scores()} == scores[-1], \
            f"after part {part} the feed scores as the full export of its final state"
    full, _, _ = run_import(capsys, str(OURS / "procurement.ftm.json"))
    assert scores[0].keys() == {(s.actor_id, s.counterparty_id) for s in engine_of(full).scores()}, \
        "the feed's ADDs give the pairs the full export gives"
    pair = ("case-minister", "case-firm")
    assert scores[1][pair] < scores[0][pair], "the MOD from 60% to 10% lowers the score"
    assert pair not in scores[2], "the DEL of the family tie retracts it and the pair resolves"
    retraction = parse_event(applied[-1].encode())
    assert (retraction.op.value, retraction.relation_id) == ("retract", "case-family")


def test_a_mod_replaces_old_values_even_with_an_older_timestamp():
    from schemas.ftm import FtmFeed

    feed = FtmFeed()
    rows = [json.loads(line) for line in (OURS / "procurement.ftm.json").read_text().splitlines()]
    events = [e for row in rows for e in feed.apply({"op": "ADD", "entity": row})]
    stake = next(r for r in rows if r["id"] == "case-stake")
    older = json.loads(json.dumps(stake))
    older["properties"]["percentage"] = ["49"]
    older["last_change"] = "2020-01-01T00:00:00"
    [mod] = feed.apply({"op": "MOD", "entity": older})
    last = [e for e in events if e.relation_id == "case-stake"][-1]
    assert mod.properties.percentage == 49.0 and mod.observed_at > last.observed_at


def test_a_bods_chain_gives_the_declared_indirect_share(capsys):
    lines, err, _ = run_import(capsys, str(OURS / "bods-chain.json"))
    assert "indirect interest left to the engine" in err
    engine = engine_of(lines)
    assert engine.stakes("person-p")["opco"].stake == pytest.approx(0.30), "60% of 50%, as declared"
    board = [parse_event(line.encode()) for line in lines if "boardMember" in line][-1]
    assert board.end_date == dt.date(2024, 9, 14), "a closed record without an end date ends the day before"
    lines, _, _ = run_import(capsys, str(BODS / "bods-package-fi-soe.json"))
    ministry = engine_of(lines).stakes("7ff95ba3682c")
    assert ministry["19f1c5afe9d7"].stake == pytest.approx(1.0), \
        "the ministry holds 23.5% directly and 76.5% through its company: the state's declared 100%"


def test_a_bods_02_declaration_gives_what_its_0_3_version_gives(capsys):
    """BODS 0.2 (the Open Ownership register's UK data) writes interest types in kebab case ("voting-rights") and a
    PEP as hasPepStatus with pepStatusDetails: the voting rights were noted as meaningless and dropped, and the
    member of parliament lost his office and his PEP topic without a word."""
    def relations(name: str) -> list[tuple]:
        lines, err, _ = run_import(capsys, str(BODS / name), *SOURCE_URL)
        events = [parse_event(line.encode()) for line in lines]
        return sorted((e.relation_id, e.relation_type.value, e.source.topics, e.properties.role,
                       e.properties.percentage, e.start_date) for e in events)
    found = relations("0.2-full-pep-declaration.json")
    assert found == relations("0.3-full-pep-declaration.json")
    assert [kind for _, kind, *_ in found] == ["ownership", "control", "occupancy"]


def test_a_declared_pep_becomes_an_office(capsys):
    lines, _, _ = run_import(capsys, str(BODS / "full-pep-declaration.json"), *SOURCE_URL)
    occupancy = next(parse_event(line.encode()) for line in lines if '"occupancy"' in line)
    assert occupancy.source.topics == ("role.pep",) and occupancy.target.schema_.value == "Position"
    assert occupancy.start_date == dt.date(2017, 10, 15)


def test_ended_without_a_date_is_ended():
    entities = [
        {"id": "p", "schema": "Person", "properties": {"name": ["Former Official"]}},
        {"id": "post", "schema": "Position", "properties": {"name": ["Deputy Minister"]}},
        {"id": "occ", "schema": "Occupancy", "datasets": ["wd_peps"], "last_change": "2024-03-10T00:00:00",
         "properties": {"holder": ["p"], "post": ["post"], "status": ["ended"], "startDate": ["2015"]}},
    ]
    report = ImportReport()
    [event] = events_from_ftm(entities, report=report)
    assert event.end_date == dt.date(2024, 3, 9) and event.start_date == dt.date(2015, 1, 1)
    assert any("status ended without an end date" in note for note in report.notes)
    exposure = engine_of([event.model_dump_json(by_alias=True, exclude_none=True)]).exposure("p")
    assert exposure.kind == "former_pep"


def _occupancy(post: dict | None = None, **properties) -> list[dict]:
    return [
        {"id": "p", "schema": "Person", "properties": {"name": ["Deputy Minister"]}},
        {"id": "post", "schema": "Position", "properties": {"name": ["Deputy Minister of Works"], **(post or {})}},
        {"id": "occ", "schema": "Occupancy", "datasets": ["wd_peps"], "last_change": "2024-03-10T00:00:00",
         "properties": {"holder": ["p"], "post": ["post"], **properties}},
    ]


def test_an_office_of_unknown_status_without_an_end_is_held_but_not_confirmed():
    """OpenSanctions writes status "unknown" where its source cannot say whether the person still holds the office
    (no end date from a source not known to remove those who leave, a term end beyond the data's coverage). Read as
    current and confirmed, it was full live authority on no evidence; read as ended, a sitting official whose
    source is stale would lose his authority. It stays held, as `alleged`: still a PEP, his authority weighed
    as uncertain and shown so in every path."""
    report = ImportReport()
    [event] = events_from_ftm(_occupancy(status=["unknown"], startDate=["2019-05-01"]), report=report)
    assert (event.end_date, event.status.value) == (None, "alleged")
    assert any("Occupancy occ" in note and "status unknown" in note for note in report.notes), report.notes
    engine = engine_of([event.model_dump_json(by_alias=True, exclude_none=True)])
    assert engine.exposure("p").kind == "pep"
    [later] = events_from_ftm(_occupancy(status=["unknown"], endDate=["2026-12-31"]))
    assert (later.end_date, later.status.value) == (dt.date(2026, 12, 31), "alleged"), \
        "an end after the source looked is no more certain than none"


def test_an_office_of_unknown_status_that_ended_ends_on_its_date():
    """An end date the source had already seen pass answers what "unknown" left open: ended then, as certain as
    any other statement of the source."""
    [event] = events_from_ftm(_occupancy(status=["unknown"], startDate=["2015"], endDate=["2019-06-30"]))
    assert (event.end_date, event.status.value) == (dt.date(2019, 6, 30), "confirmed")
    [stated] = events_from_ftm(_occupancy(status=["unknown", "reported"]))
    assert (stated.end_date, stated.status.value) == (None, "reported"), "our own status word is what the data says"


@pytest.mark.parametrize(("properties", "end"), [
    # OpenSanctions marks a term whose periodEnd has passed "ended", often with no endDate: the office ran to the
    # day before the source was observed (2024), five years of authority the member no longer had
    ({"status": ["ended"], "periodEnd": ["2019-10-01"]}, dt.date(2019, 10, 1)),
    ({"periodEnd": ["2019-10"]}, dt.date(2019, 10, 31)),  # no status at all: it never ended
    ({"status": ["ended"], "periodEnd": ["2026-10-01"]}, dt.date(2024, 3, 9)),  # ended before its term ran out
    ({"periodEnd": ["2026-10-01"]}, dt.date(2026, 10, 1)),
    ({"endDate": ["2018-05-31"], "periodEnd": ["2019-10-01"]}, dt.date(2018, 5, 31)),  # his own end first
    ({"status": ["ended"], "periodEnd": ["01.10.2019"]}, dt.date(2024, 3, 9)),  # unreadable: noted, as before
])
def test_a_term_end_bounds_an_office_without_an_end_date(properties, end):
    report = ImportReport()
    [event] = events_from_ftm(_occupancy(startDate=["2015-10-01"], **properties), report=report)
    assert event.end_date == end, report.notes


@pytest.mark.parametrize(("properties", "end"), [
    ({}, None),
    ({"status": ["ended"]}, dt.date(2024, 3, 9)),
    ({"status": ["unknown"]}, None),
])
def test_a_term_end_before_the_start_leaves_the_office_as_it_was(properties, end):
    """A periodEnd before the occupancy's own startDate (a term the data pairs with a later start) cannot be the
    end of this office: read as its end, the event ended before it began and the whole office was skipped
    (invalid_dates), a PEP's office lost where it was imported before the term was read."""
    report = ImportReport()
    [event] = events_from_ftm(_occupancy(startDate=["2020-10-01"], periodEnd=["2019-10-01"], **properties),
                              report=report)
    assert (event.start_date, event.end_date) == (dt.date(2020, 10, 1), end), report.notes
    assert not report.skipped


@pytest.mark.parametrize(("post", "properties", "end", "says"), [
    # the post was abolished in 2019 (a year: its last day); without the post's end the office was held for ever
    ({"dissolutionDate": ["2019"]}, {}, dt.date(2019, 12, 31), "ending with its post, post.dissolutionDate 2019-12-31"),
    ({"dissolutionDate": ["2019-03"]}, {"periodEnd": ["2019-10-01"]}, dt.date(2019, 3, 31), "post.dissolutionDate"),
    ({"dissolutionDate": ["2019-06-30"]}, {"status": ["ended"]}, dt.date(2019, 6, 30), "post.dissolutionDate"),
    ({"dissolutionDate": ["2010"]}, {}, None, "post.dissolutionDate 2010-12-31 is before the start 2015-10-01"),
    ({"dissolutionDate": ["31.12.2019"]}, {}, None, "post.dissolutionDate '31.12.2019' is not a date: left out"),
])
def test_an_office_ends_when_its_post_is_dissolved(post, properties, end, says):
    """A post abolished (Position.dissolutionDate) cannot be held after that day: an Occupancy without an endDate
    of its own ends then, or with its term where that ends first; a dissolution before the occupancy began is
    noted and left out, as such a term end is, and so is one FtM cannot read as a date."""
    report = ImportReport()
    [event] = events_from_ftm(_occupancy(post, startDate=["2015-10-01"], **properties), report=report)
    assert event.end_date == end, report.notes
    assert any(says in note for note in report.notes), report.notes


def test_a_post_dissolved_later_moves_no_end_that_comes_first():
    """The dissolution bounds the office; it never replaces an end that comes first: the occupancy's own endDate
    (even a later one, which is the data's to correct), a term that ran out before, or the day before the source
    saw the office ended."""
    post = {"dissolutionDate": ["2020-06-30"]}
    [alone] = events_from_ftm(_occupancy(post, startDate=["2015-10-01"]))
    assert alone.end_date == dt.date(2020, 6, 30)
    for properties, end in (({"periodEnd": ["2019-10-01"]}, dt.date(2019, 10, 1)),
                            ({"endDate": ["2021-05-31"]}, dt.date(2021, 5, 31)),
                            ({"status": ["ended"]}, dt.date(2020, 6, 30)),
                            ({"endDate": ["2018-05-31"], "periodEnd": ["2019-10-01"]}, dt.date(2018, 5, 31))):
        [event] = events_from_ftm(_occupancy(post, startDate=["2015-10-01"], **properties))
        assert event.end_date == end, properties
    [observed_first] = events_from_ftm(_occupancy({"dissolutionDate": ["2026-01-01"]}, status=["ended"]))
    assert observed_first.end_date == dt.date(2024, 3, 9), "ended before the post was abolished"


def test_a_dissolved_post_leaves_a_former_pep_and_its_status_unknown_answered():
    report = ImportReport()
    [event] = events_from_ftm(_occupancy({"dissolutionDate": ["2019-06-30"]}, status=["unknown"]), report=report)
    assert (event.end_date, event.status.value) == (dt.date(2019, 6, 30), "confirmed"), report.notes
    assert engine_of([event.model_dump_json(by_alias=True, exclude_none=True)]).exposure("p").kind == "former_pep"


def test_a_feed_that_dissolves_a_post_ends_the_office_held_in_it():
    from schemas.ftm import FtmFeed

    feed = FtmFeed()
    rows = _occupancy(startDate=["2015-10-01"])
    [held] = [e for row in rows for e in feed.apply({"op": "ADD", "entity": row})]
    dissolved = json.loads(json.dumps(rows[1]))
    dissolved["properties"]["dissolutionDate"] = ["2019-06-30"]
    [ended] = feed.apply({"op": "MOD", "entity": dissolved})
    assert (held.end_date, ended.relation_id, ended.end_date) == (None, "occ", dt.date(2019, 6, 30))


def test_real_data_values_and_skip_messages():
    base = [{"id": "p", "schema": "Person", "properties": {"name": ["Pat"]}},
            {"id": "c", "schema": "Company", "properties": {"name": ["Acme"]}}]
    own = {"id": "o", "schema": "Ownership", "datasets": ["x"], "last_change": "2024-01-01T00:00:00",
           "properties": {"owner": ["p"], "asset": ["c"], "percentage": ["25,5 %", "30%"], "endDate": ["2018"]}}
    report = ImportReport()
    [event] = events_from_ftm([*base, own], report=report)
    assert event.properties.percentage == 30.0 and event.end_date == dt.date(2018, 12, 31)
    assert any("several values" in note for note in report.notes)
    bad = json.loads(json.dumps(own))
    bad["properties"]["percentage"] = ["about half"]
    report = ImportReport()
    [event] = events_from_ftm([*base, bad], report=report)
    assert event.properties.percentage is None
    assert any("Ownership o" in note and "percentage 'about half'" in note for note in report.notes)
    payment = {"id": "pay", "schema": "Payment", "datasets": ["x"], "last_change": "2024-01-01T00:00:00",
               "properties": {"payer": ["c"], "beneficiary": ["p"], "amount": ["EUR 1.500.000"]}}
    [event] = events_from_ftm([*base, payment])
    assert (event.properties.amount, event.properties.currency) == (1_500_000.0, "EUR"), \
        "an amount that names its currency was imported without an amount"


@pytest.mark.parametrize("percentage", ["0-25%", "more than 0%"])
def test_an_ftm_percentage_from_zero_is_a_stake_of_unknown_size(percentage):
    """"0-25%" or "more than 0%" read as the lower bound was a 0% stake; the engine's assumed stake (marked as
    assumed) applies."""
    entities = [{"id": "p", "schema": "Person", "properties": {"name": ["Pat"]}},
                {"id": "c", "schema": "Company", "properties": {"name": ["Acme"]}},
                {"id": "o", "schema": "Ownership", "datasets": ["x"], "last_change": "2024-01-01T00:00:00",
                 "properties": {"owner": ["p"], "asset": ["c"], "percentage": [percentage]}}]
    report = ImportReport()
    [event] = events_from_ftm(entities, report=report)
    assert event.properties.percentage is None
    assert any(f"percentage '{percentage}'" in note and "guarantees no stake" in note
               for note in report.notes), report.notes
    holding = engine_of([event.model_dump_json(by_alias=True, exclude_none=True)]).stakes("p")["c"]
    assert holding.assumed and holding.stake == pytest.approx(0.25)


def test_export_bods_declares_the_computed_indirect_stake(capsys, tmp_path):
    lines, _, _ = run_import(capsys, str(OURS / "bods-chain.json"))
    events = tmp_path / "chain.jsonl"
    events.write_text("\n".join(lines) + "\n")
    assert main(["export-bods", str(events)]) == 0
    statements = json.loads(capsys.readouterr().out)
    [relationship] = [s for s in statements if s["recordType"] == "relationship"]
    [interest] = relationship["recordDetails"]["interests"]
    assert (relationship["recordDetails"]["interestedParty"], relationship["recordDetails"]["subject"]) == (
        "person-p", "opco")
    assert interest["directOrIndirect"] == "indirect" and interest["share"] == {"exact": 30.0}
    assert "EU rule" in interest["details"] and "person-p -> holdco -> opco" in interest["details"]
    assert {s["recordId"] for s in statements if s["recordType"] != "relationship"} == {"person-p", "opco"}
    assert main(["export-bods", str(events)]) == 0
    assert json.loads(capsys.readouterr().out) == statements, "one state, one export"


def test_export_bods_writes_no_exact_share_for_an_estimate(capsys, tmp_path):
    """A chain through an ownership without a percentage is estimated with the assumed stake: `exact` would declare
    the assumption as the register's figure. The share says only what is known; the estimate is in `details`."""
    lines, _, _ = run_import(capsys, str(OURS / "bods-chain.json"))
    unknown = []
    for line in lines:
        event = json.loads(line)
        if event["relation_type"] == "ownership" and event["target"]["id"] == "holdco":
            event["properties"].pop("percentage", None)
            event["properties"].pop("percentage_max", None)
        unknown.append(json.dumps(event))
    events = tmp_path / "chain.jsonl"
    events.write_text("\n".join(unknown) + "\n")
    assert main(["export-bods", str(events)]) == 0
    [relationship] = [s for s in json.loads(capsys.readouterr().out) if s["recordType"] == "relationship"]
    [interest] = relationship["recordDetails"]["interests"]
    assert interest["share"] == {"exclusiveMinimum": 0, "maximum": 100}
    assert "estimated at 12.5% with assumed stakes" in interest["details"]


def test_deleting_a_person_retracts_every_relation_naming_it():
    from schemas.ftm import FtmFeed

    feed = FtmFeed()
    rows = [json.loads(line) for line in (OURS / "procurement.ftm.json").read_text().splitlines()]
    upserts = [e for row in rows for e in feed.apply({"op": "ADD", "entity": row})]
    retracts = list(feed.apply({"op": "DEL", "entity": {"id": "case-brother"}}))
    assert {e.relation_id for e in retracts} == {"case-family", "case-stake"}
    assert all(e.op.value == "retract" for e in retracts)
    latest = {e.relation_id: e for e in upserts}
    assert all(e.observed_at > latest[e.relation_id].observed_at for e in retracts)
    state = list(feed.state())
    assert "case-brother" not in {entry.get("id") for entry in state}
    resumed = FtmFeed(state=state)
    [back] = [e for e in resumed.apply({"op": "ADD", "entity": next(r for r in rows if r["id"] == "case-brother")})
              if e.relation_id == "case-stake"]
    assert back.op.value == "upsert" and back.observed_at > retracts[0].observed_at, "state keeps the versions"


def test_pretty_printed_statements_one_after_another_import_like_the_array(capsys, tmp_path):
    # BODS 0.3 publishes single statements pretty-printed (examples/flat-serialisation in openownership/
    # data-standard 0.3.0); read line by line, each line was reported as malformed JSON and the format taken for FtM.
    statements = json.loads((BODS / "full-pep-declaration.json").read_text())
    concatenated = tmp_path / "statements.json"
    concatenated.write_text("\n".join(json.dumps(s, indent=2) for s in statements) + "\n")
    from_array, _, _ = run_import(capsys, str(BODS / "full-pep-declaration.json"), *SOURCE_URL)
    lines, err, code = run_import(capsys, str(concatenated), *SOURCE_URL)
    assert code == 0 and "import (bods): converted 3; retracted 0; skipped 0" in err, err
    assert lines == from_array
    single = tmp_path / "person.json"
    single.write_text(json.dumps(statements[1], indent=2))
    lines, err, _ = run_import(capsys, str(single), *SOURCE_URL)
    assert "(bods)" in err and "malformed_json" not in err, "one pretty-printed statement is one statement"


def test_json_lines_with_a_broken_line_still_report_that_line(capsys, tmp_path):
    rows = (YENTE / "zala-ownership.ftm.json").read_text().splitlines()
    broken = tmp_path / "broken.ftm.json"
    broken.write_text("\n".join(['{"id": "cut-off", "schema": "Ownership", "prop', *rows]) + "\n")
    lines, err, _ = run_import(capsys, str(broken))
    assert "converted 21" in err and "malformed_json: line 1" in err and len(lines) == 21


def test_a_json_document_that_is_not_entities_names_what_it_read(capsys, tmp_path):
    index = tmp_path / "delta.json"  # the shape of yente's tests/fixtures/dataset/t2/delta.json: versions -> URLs
    index.write_text('{"versions":\n  {"20240527134702-zbn": "https://data.opensanctions.org/artifacts/x.json"},\n'
                     '  "updated_at": "2024-05-28T14:47:29Z"\n}\n')
    _, err, code = run_import(capsys, str(index))
    assert code == 1 and 'not an FtM entity: no "schema" among its keys updated_at, versions' in err, err


def test_a_file_that_is_plainly_not_json_stops_with_one_line(capsys, tmp_path):
    packed = tmp_path / "zala.ftm.json.gz"
    packed.write_bytes(gzip.compress((YENTE / "zala-ownership.ftm.json").read_bytes()))
    mapping = tmp_path / "kek.yml"  # the start of followthemoney's tests/fixtures/kek.yml, a mapping, not entities
    mapping.write_text("database: ${FTM_TEST_DATABASE_URI}\ntables:\n  - table: company\n")
    for path, says in ((packed, "is a gzip file: decompress it first"), (mapping, "is not JSON lines")):
        with pytest.raises(SystemExit) as stopped:
            main(["import", str(path), "--quiet"])
        err = capsys.readouterr().err
        assert stopped.value.code == 2, "an input the command cannot use is exit 2, as in every other command"
        assert says in err and err.count("\n") == 1 and err.startswith(f"coi-risk import: {path} ")


def test_entities_of_the_wrong_shape_are_skipped_and_the_rest_imports():
    rows = [json.loads(line) for line in (YENTE / "zala-ownership.ftm.json").read_text().splitlines()]
    ownership = next(r for r in rows if r["schema"] == "Ownership")
    family = next(r for r in rows if r["schema"] == "Family")
    ownership["schema"] = ["Ownership"]  # each of these raised out of the import (TypeError, AttributeError)
    family["properties"]["person"] = family["properties"]["person"][0]
    report = ImportReport()
    events = list(events_from_ftm(rows, report=report))
    assert len(events) == 20 and [s.entity_id for s in report.skipped] == [ownership["id"]]
    assert "schema must be a schema name" in report.skipped[0].message


def test_a_feed_line_that_leaves_an_endpoint_nameless_retracts_instead_of_stopping():
    from schemas.ftm import FtmFeed

    rows = [json.loads(line) for line in (YENTE / "zala-ownership.ftm.json").read_text().splitlines()]
    report = ImportReport()
    feed = FtmFeed(report=report)
    added = [e for row in rows for e in feed.apply({"op": "ADD", "entity": row})]
    person = next(r for r in rows if r["id"] == "NK-aU5ybkbRFJucf8YMwsJvDw")  # Zakharov, in eight relations
    nameless = json.loads(json.dumps(person))
    nameless["properties"] = {"nationality": ["ru"]}
    changed = list(feed.apply({"op": "MOD", "entity": nameless}))  # EventRejected escaped the feed here
    mine = {e.relation_id for e in added if person["id"] in (e.source.id, e.target.id)}
    assert changed and {e.relation_id for e in changed} == mine and all(e.op.value == "retract" for e in changed)
    feed.report_failures()
    assert {s.reason for s in report.skipped} == {"invalid_endpoint"}


def test_a_state_file_that_is_not_a_feed_state_stops_with_one_line_and_stays(capsys, tmp_path):
    feed = str(OURS / "procurement-feed-1.delta.json")
    for content in ("not json\n", '{"id": "x"}\n', '{"coi_risk_feed_state": {"clock": "yesterday"}}\n'):
        state = tmp_path / "feed.state.jsonl"
        state.write_text(content)
        with pytest.raises(SystemExit) as stopped:  # each raised a traceback (JSONDecodeError, _Skip, UnreadableValue)
            main(["import", feed, "--state", str(state), "--quiet"])
        assert stopped.value.code == 2  # a usage error, as every refusal of an input
        assert "coi-risk import: " in (err := capsys.readouterr().err)
        assert "is not a feed state written by `coi-risk import --state`" in err
        assert state.read_text() == content, "the file given is left as it was"


def test_a_state_cut_short_stops_before_its_lost_entities_lose_their_retractions(capsys, tmp_path):
    state = tmp_path / "feed.state.jsonl"
    for part in (1, 2):
        run_import(capsys, str(OURS / f"procurement-feed-{part}.delta.json"), "--state", str(state))
    whole = state.read_text()
    feed = str(OURS / "procurement-feed-3.delta.json")
    # its first five lines: "retracted 0", exit 0, where the whole state retracts the family tie part 3 deletes
    for content in ("".join(whole.splitlines(keepends=True)[:5]), ""):
        state.write_text(content)
        with pytest.raises(SystemExit) as stopped:
            main(["import", feed, "--state", str(state), "--quiet"])
        assert stopped.value.code == 2
        assert "is not a feed state written by `coi-risk import --state` (it does not end with the state's " \
               "trailer line: cut short, or empty)" in capsys.readouterr().err
        assert state.read_text() == content, "the file given is left as it was"
    state.write_text(whole)
    lines, err, code = run_import(capsys, feed, "--state", str(state))
    assert code == 0 and ("retract", "case-family") in {(e.op.value, e.relation_id) for e in map(
        lambda line: parse_event(line.encode()), lines)}


def test_a_cut_off_json_array_is_an_error_not_a_shorter_file(capsys, tmp_path):
    whole = (BODS / "full-pep-declaration.json").read_text()
    cut = tmp_path / "cut.json"
    cut.write_text(whole[:whole.rindex("}") + 1] + ",\n")  # an interrupted download: every statement, no "]"
    with pytest.raises(SystemExit) as stopped:
        main(["import", str(cut), "--quiet", *SOURCE_URL])
    assert 'no closing "]" after 3 elements' in str(stopped.value)


def test_score_on_events_with_one_bad_first_line_scores_the_rest(tmp_path, capsys):
    seed = (Path(__file__).resolve().parents[3] / "examples" / "binance-wlfi.jsonl").read_text()
    path = tmp_path / "events.jsonl"
    path.write_text("{not json\n" + seed)
    assert main(["score", str(path)]) == 1  # the bad line's exit; the rest scored
    captured = capsys.readouterr()
    assert f"{path}:1: malformed_json" in captured.err
    assert "is not relationship events" not in captured.err
    assert "Donald Trump x Justin Sun" in captured.out


def _ownership_file(tmp_path, name: str, percentage: str) -> str:
    entities = [{"id": "p", "schema": "Person", "properties": {"name": ["Pat"]}},
                {"id": "c", "schema": "Company", "properties": {"name": ["Acme"]}},
                {"id": "o", "schema": "Ownership", "datasets": ["x"], "last_change": "2024-01-01T00:00:00",
                 "properties": {"owner": ["p"], "asset": ["c"], "percentage": [percentage]}}]
    path = tmp_path / name
    path.write_text("\n".join(json.dumps(entity) for entity in entities) + "\n")
    return str(path)


def test_a_restated_reimport_replaces_what_the_first_import_gave(capsys, tmp_path):
    """A corrected file (or a newer importer) gives the same relation with the same observed_at: the engine keeps
    the version whose event id sorts higher, so the correction was applied or not by the luck of a hash (here
    not). `--restated-at` observes every event at that time at the earliest, so the corrected version replaces the
    first one; the same re-import gives the same ids, and an event observed later than the time is left as it is."""
    first, _, _ = run_import(capsys, _ownership_file(tmp_path, "first.json", "30"))
    corrected, _, _ = run_import(capsys, _ownership_file(tmp_path, "fixed.json", "45"))
    assert json.loads(corrected[0])["event_id"] < json.loads(first[0])["event_id"], \
        "the case this test is about: the corrected version's id sorts lower"
    assert engine_of(first + corrected).stakes("p")["c"].stake == pytest.approx(0.30), "without the flag"

    argv = (_ownership_file(tmp_path, "fixed.json", "45"), "--restated-at", "2026-12-05T00:00:00Z")
    restated, _, code = run_import(capsys, *argv)
    assert code == 0 and engine_of(first + restated).stakes("p")["c"].stake == pytest.approx(0.45)
    event = json.loads(restated[0])
    assert event["observed_at"] == "2026-12-05T00:00:00Z" and event["event_id"] != json.loads(corrected[0])["event_id"]
    assert run_import(capsys, *argv)[0] == restated, "deterministic"
    earlier, _, _ = run_import(capsys, argv[0], "--restated-at", "2020-01-01T00:00:00Z")
    assert earlier == corrected, "an event observed after the time is not restated"


def test_restating_a_delta_feed_is_refused(capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["import", str(YENTE / "t2-20240528014702-pfh.delta.json"), "--restated-at", "2026-01-01T00:00:00Z",
              "--quiet"])
    assert stopped.value.code == 2 and "coi-risk import: --restated-at is not for delta feeds" in capsys.readouterr().err


def test_json_lines_longer_than_the_sniffed_head_with_a_broken_first_record_are_read_line_by_line(
        capsys, tmp_path, monkeypatch):
    """The reader sniffs the file's head to tell an indented object from JSON lines. A first record broken over two
    lines (a raw newline in a value) in front of more than the head holds is JSON lines, each good line read; a line
    with a number of 5,000 digits, or not in UTF-8, is one line skipped, not the file."""
    from streams.commands import importer

    monkeypatch.setattr(importer._object_spans_lines, "__defaults__", (1500,))  # a head smaller than the file
    good = (FIXTURES / "ours" / "procurement.ftm.json").read_text()
    path = tmp_path / "broken-first.jsonl"
    path.write_bytes(b'{"id": "a\nb"}\n' + good.encode() + b'{"n": ' + b"1" * 5000 + b"}\n"
                     + '{"id": "caf\xe9"}\n'.encode("latin-1") + good.encode())
    lines, err, code = run_import(capsys, str(path))
    assert code == 1 and "malformed_json: 4" in err, err  # the rest converted; the exit says some was unread
    # (the fixture's entities given twice: each relation once, as from the fixture alone)
    assert lines == run_import(capsys, str(FIXTURES / "ours" / "procurement.ftm.json"))[0]


def test_a_byte_order_mark_compact_indentation_and_a_cut_off_file_are_read_as_what_they_are(
        capsys, tmp_path, monkeypatch):
    """JSON lines opening with a byte-order mark stay JSON lines (one bad line skipped); an indented file that puts
    its short objects on one line, larger than the sniffed head, is one value; a cut-off indented file is refused."""
    from streams.commands import importer

    monkeypatch.setattr(importer._object_spans_lines, "__defaults__", (1500,))
    good = (FIXTURES / "ours" / "procurement.ftm.json").read_text()
    bom = tmp_path / "bom.jsonl"
    bom.write_bytes(b"\xef\xbb\xbf" + good.encode() + b"{broken\n" + good.encode())
    lines, err, code = run_import(capsys, str(bom))
    assert code == 1 and "malformed_json: 1" in err and lines, err
    entities = [json.loads(line) for line in good.splitlines() if line.strip()]
    compact = tmp_path / "compact.json"
    compact.write_text('{\n  "uri": "https://example.org/p",\n  "entities": [\n'
                       + ",\n".join("    " + json.dumps(entity) for entity in entities * 3) + "\n  ]\n}\n")
    from schemas.ftm import ImportReport
    from streams.commands.importer import JsonValues

    values = list(JsonValues(compact, ImportReport(), progress=False).read())
    assert len(values) == 1 and len(values[0]["entities"]) == 3 * len(entities)
    indented = json.dumps(entities * 5, indent=2)
    cut = tmp_path / "cut.json"
    cut.write_text(indented[: len(indented) * 2 // 3])
    with pytest.raises(SystemExit, match="ends early"):
        run_import(capsys, str(cut))


def test_a_file_of_no_format_the_import_knows_is_said_once(capsys):
    """Detection falls back to FtM: LDA's table of filing types (real, but no filings) was read as FtM and listed
    fifty times as "not an FtM entity" (a user's review). Now one line says the format was not recognised."""
    lines, err, code = run_import(capsys, str(FIXTURES / "lda" / "senate_constants_filing_types.json"))
    assert code == 1 and lines == [] and err.splitlines() == [err.strip()], err
    assert "was not recognised: read as FtM (the default), no record of it is an FtM entity (50 skipped; the " \
           "first: not an FtM entity: no \"schema\" among its keys" in err and "); give --format (ftm, ftm-delta" in err
    # named as FtM, the file is what the user asked for: each record is listed as before
    lines, err, code = run_import(capsys, str(FIXTURES / "lda" / "senate_constants_filing_types.json"), "--format",
                                  "ftm")
    assert code == 1 and "import (ftm): converted 0; retracted 0; skipped 50 (invalid_entity: 50)" in err


def test_two_files_of_different_formats_concatenated_convert_what_reads_and_exit_1(capsys, tmp_path):
    # `cat a.ftm.json b.bods.json | coi-risk import -`: "converted 3; skipped 108 (malformed_json: 108)", exit 0
    mixed = tmp_path / "mixed.json"
    mixed.write_text((OURS / "mixed-pep.ftm.json").read_text() + (OURS / "mixed-stake.bods.json").read_text())
    lines, err, code = run_import(capsys, str(mixed))
    assert code == 1 and lines and "malformed_json" in err, err


def test_a_feed_state_given_for_a_file_that_is_no_delta_feed_is_refused(capsys, tmp_path):
    # it was ignored: neither read nor written, and the feed the user thought kept started afresh next time
    state = tmp_path / "feed.state.jsonl"
    with pytest.raises(SystemExit) as stopped:
        main(["import", str(OURS / "procurement.ftm.json"), "--state", str(state), "--quiet"])
    assert stopped.value.code == 2
    assert "--state keeps the state of an FtM delta feed (lines of op/entity) or of a BODS register's files, not " \
           "of ftm" in capsys.readouterr().err
    assert not state.exists()


# --- a BODS register published in files: `--state` carries the parties, chains and versions (forty-ninth round) ---

def _bods_relations(lines: list[str]) -> dict[str, tuple]:
    """relation id -> (op, percentage, start, end) of the version the engine keeps (the latest observed_at)."""
    state = {}
    for event in sorted(map(parse_event, (line.encode() for line in lines)), key=lambda e: e.observed_at):
        state[event.relation_id] = (event.op.value, event.properties.percentage, event.start_date, event.end_date)
    return state


def test_a_bods_register_read_file_by_file_with_its_state_gives_what_the_whole_file_gives(capsys, tmp_path):
    # Open Ownership's tecido.json cut into the four installments a register would publish (2019, 2021, 2022,
    # 2023). Each later file names parties only an earlier one described: read alone (as every file was before
    # --state read BODS), its relationships were skipped as having no such party, and the 2019 stakes (100%,
    # open) stood for good.
    statements = json.loads((FIXTURES / "bods" / "tecido.json").read_text())
    url = ("--source-url", "https://example.org/register")  # (the example names no URL)
    whole, _, code = run_import(capsys, str(FIXTURES / "bods" / "tecido.json"), *url)
    assert code == 0
    state, installments, alone = tmp_path / "register.state.jsonl", [], []
    for number, part in enumerate((statements[0:3], statements[3:6], statements[6:8], statements[8:11]), start=1):
        path = tmp_path / f"tecido-{number}.json"
        path.write_text(json.dumps(part))
        lines, err, code = run_import(capsys, str(path), "--state", str(state), *url)
        assert code == 0 and state.exists(), err
        installments += lines
        alone += run_import(capsys, str(path), *url)[0]
    assert _bods_relations(installments) == _bods_relations(whole)
    assert _bods_relations(installments)["022EBEB66B/shareholding"] == ("upsert", 30.0, dt.date(2022, 9, 21),
                                                                        dt.date(2023, 3, 2))
    assert _bods_relations(alone)["022EBEB66B/shareholding"] == ("upsert", 100.0, dt.date(2002, 3, 9), None)


def test_a_bods_state_that_is_not_one_is_refused_and_left_as_it_was(capsys, tmp_path):
    path = str(FIXTURES / "bods" / "tecido.json")
    state = tmp_path / "register.state.jsonl"
    run_import(capsys, path, "--state", str(state), "--source-url", "https://example.org/register")
    whole = state.read_text()
    for content in ("not json\n", '{"id": "x"}\n', "".join(whole.splitlines(keepends=True)[:4]), "",
                    whole.replace('"bods_import_state_entries": ', '"bods_import_state_entries": 1')):
        state.write_text(content)
        with pytest.raises(SystemExit) as stopped:
            main(["import", path, "--state", str(state), "--quiet"])
        assert stopped.value.code == 2
        assert "is not the state of a BODS import written by `coi-risk import --state`" in capsys.readouterr().err
        assert state.read_text() == content, "the file given is left as it was"


def test_a_bods_state_keeps_text_utf8_cannot_write_and_is_refused_before_anything_is_read(capsys, tmp_path):
    # A lone surrogate (an escape JSON allows, from a broken UTF-16 conversion) in an interest's details: the state
    # could not be written, after the events were out, and every later import died the same way.
    statements = json.loads((FIXTURES / "bods" / "tecido.json").read_text())
    for statement in statements:
        if statement["recordId"] == "022EBEB66B":
            statement["recordDetails"]["interests"][0]["details"] = "held via nominee \ud800"
    path = tmp_path / "tecido.json"
    path.write_text(json.dumps(statements))
    state = tmp_path / "register.state.jsonl"
    url = ("--source-url", "https://example.org/register")
    lines, err, code = run_import(capsys, str(path), "--state", str(state), *url)
    assert code == 0 and lines, err
    from schemas.bods import BodsState

    read = BodsState.from_lines(json.loads(line) for line in state.read_text().splitlines())
    assert read.interests["022EBEB66B"][0]["details"] == "held via nominee \ud800"
    for where in (tmp_path / "no-such-directory" / "s.jsonl", tmp_path):  # a state where none can be written
        with pytest.raises(SystemExit) as stopped:
            main(["import", str(path), "--state", str(where), "--quiet", *url])
        assert stopped.value.code == 2 and not capsys.readouterr().out, "refused before any event was written"


def test_a_broken_line_after_the_first_statement_of_a_bods_file_is_still_reported(capsys, tmp_path):
    # The look-ahead for 0.3 chains read the file first and stopped at a 0.4 statement: the reading that reports
    # what it cannot parse was that one, and a cut-short installment was taken as whole (exit 0).
    statements = json.loads((FIXTURES / "bods" / "tecido.json").read_text())
    path = tmp_path / "tecido.jsonl"
    path.write_text("".join(json.dumps(s) + "\n" for s in statements[:3]) + '{"statementId": "cut sh\n')
    lines, err, code = run_import(capsys, str(path), "--source-url", "https://example.org/register")
    assert code == 1 and lines and "malformed_json: 1" in err, err
