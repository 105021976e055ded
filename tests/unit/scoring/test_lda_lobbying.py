"""Real lobbying disclosures through the engine (tests/fixtures/lda): a client's lobbying of a federal body an
official steers aggravates the conflict his family's stake in that client makes (COI-LOBBY)."""

from __future__ import annotations

import datetime as dt

from scoring import Engine
from tests.unit.schemas.test_lda import MEDTRONIC, PAGE, VA, imported, load

OFFICIAL = ("example-official", "Person", "Example Official", ("role.pep",))
SPOUSE = ("example-spouse", "Person", "Example Spouse", ())
CLIENT = (MEDTRONIC, "Organization", "MEDTRONIC, INC", ())
AGENCY = (VA, "PublicBody", "Veterans Affairs, Dept of (VA)", ("gov.national",))


def engine_on(day: dt.date, make, lobbying: bool = True, page: dict | None = None) -> Engine:
    """The registrant's real filings (`page`, else the fixture's), and four hypothetical events: an official who heads
    the VA, the VA's authority over the client (a contract), his spouse, and her stake in the client."""
    events = imported([page or load(PAGE)])[0] if lobbying else []
    engine = Engine(as_of=day)
    engine.apply_many([*events, make("control", OFFICIAL, AGENCY),
                       make("awards_contract", AGENCY, CLIENT, start="2017-01-01"),
                       make("family", OFFICIAL, SPOUSE, relationship="spouse"),
                       make("ownership", SPOUSE, CLIENT, percentage=30.0)])
    return engine


def test_the_clients_lobbying_of_the_officials_agency_aggravates_the_conflict(make):
    with_lobbying = engine_on(dt.date(2018, 5, 15), make).score("example-official", MEDTRONIC)
    without = engine_on(dt.date(2018, 5, 15), make, lobbying=False).score("example-official", MEDTRONIC)
    assert without is not None and "COI-LOBBY" not in without.rules
    assert with_lobbying is not None and "COI-LOBBY" in with_lobbying.rules
    assert with_lobbying.score > without.score
    lobbying = [edge for path in (*with_lobbying.authority_paths, *with_lobbying.commercial_paths)
                for edge in path.edges if edge.relation_type.value == "lobbies"]
    assert {(edge.source_id, edge.target_id) for edge in lobbying} == {(MEDTRONIC, VA)}
    # cited with its filings: the report of the quarter the day falls in (the second of 2018) and the recent ones,
    # the fourth quarter of 2017 by its amendment, never by the report the amendment replaced
    cited = {item.source_url for edge in lobbying for item in edge.evidence}
    medtronic = {(f["filing_type"], f["filing_year"]): f["filing_document_url"] for f in load(PAGE)["results"]
                 if f["client"]["name"] == "MEDTRONIC, INC"}
    assert medtronic[("Q2", 2018)] in cited
    assert medtronic[("4A", 2017)] in cited and medtronic[("Q4", 2017)] not in cited
    assert cited <= set(medtronic.values())


def cited_lobbying(engine: Engine) -> set[str]:
    score = engine.score("example-official", MEDTRONIC)
    assert score is not None and "COI-LOBBY" in score.rules
    return {item.source_url for path in (*score.authority_paths, *score.commercial_paths) for edge in path.edges
            if edge.relation_type.value == "lobbies" for item in edge.evidence}


def test_a_quarter_an_amendment_reported_no_activity_for_is_not_cited(make):
    """The fourth quarter of 2018 was reported with lobbying, then amended to no activity: on a day of that quarter
    the lobbying cited is the earlier quarters' (recent lobbying still counts); without the amendment, the report
    of the quarter itself."""
    page = load(PAGE)
    reports = {(f["filing_type"], f["filing_year"]): f for f in page["results"]
               if f["client"]["name"] == "MEDTRONIC, INC"}
    fourth_quarter, third_quarter = reports[("Q4", 2018)]["filing_document_url"], reports[("Q3", 2018)][
        "filing_document_url"]
    cited = cited_lobbying(engine_on(dt.date(2018, 11, 15), make))
    assert third_quarter in cited and fourth_quarter not in cited
    page["results"] = [f for f in page["results"] if f is not reports[("4AY", 2018)]]
    assert fourth_quarter in cited_lobbying(engine_on(dt.date(2018, 11, 15), make, page=page))


def test_a_stake_reaching_the_client_only_through_its_reported_foreign_owner_makes_the_conflict(make):
    """MBDA's real registration (2025) reports AIRBUS SE owning 37.5 % of it. Hypothetically, an official heads an
    agency awarding MBDA a contract and his spouse holds 80 % of AIRBUS SE: 30 % of MBDA through the filing's stake,
    above the 25 % threshold. Without that stake (lda-import 1.0 did not read it) there is no conflict."""
    from tests.unit.schemas.test_lda import FOREIGN_OWNED

    events = imported([load(FOREIGN_OWNED)])[0]
    owner = next(e for e in events if e.relation_type.value == "ownership" and e.source.name == "AIRBUS SE")
    client = (owner.target.id, "Organization", "MBDA INCORPORATED", ())
    airbus = (owner.source.id, "Organization", "AIRBUS SE", ())
    hypothetical = [make("control", OFFICIAL, AGENCY), make("awards_contract", AGENCY, client, start="2025-02-01"),
                    make("family", OFFICIAL, SPOUSE, relationship="spouse"),
                    make("ownership", SPOUSE, airbus, percentage=80.0)]
    day = dt.date(2025, 6, 1)
    engine = Engine(as_of=day)
    engine.apply_many([*events, *hypothetical])
    score = engine.score("example-official", owner.target.id)
    assert score is not None and score.score > 0
    stakes = [edge for path in score.commercial_paths for edge in path.edges if edge.relation_type.value == "ownership"]
    assert (owner.source.id, owner.target.id) in {(edge.source_id, edge.target_id) for edge in stakes}
    assert load(FOREIGN_OWNED)["filing_document_url"] in {item.source_url for edge in stakes for item in edge.evidence}
    without = Engine(as_of=day)
    without.apply_many([*(e for e in events if e.relation_type.value != "ownership"), *hypothetical])
    assert without.score("example-official", owner.target.id) is None
