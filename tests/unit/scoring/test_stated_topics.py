"""An id's topics are what the current versions of the relations naming it state, together
(`ResolvingEngine._restate_topics`): a reference that states none says nothing of them, and what a version no
longer current stated counts no more. Before, they were the newest reference's, whatever it said: a contract notice
or a second register naming a mayor's office without its `gov.muni` took the tier's discount away (0.486 -> 0.81),
and a payment naming a former minister without `role.pep.natl` shortened how long his office counts, in whichever
order the events arrived (an analyst's finding: an office's tier came from whichever event named it last)."""

from __future__ import annotations

import datetime as dt
import itertools
import json

import pytest

from scoring import AlertTracker
from scoring.portable import PortableFormatError, export_state, import_state
from scoring.resolution import ResolvingEngine

from .conftest import content, full_state, incremental_state
from .resolution_support import judgement

MAYOR = ("mayor", "Person", "The Mayor", ("role.pep",))
OFFICE = ("mayor-office", "Position", "Mayor of Smalltown", ("gov.muni",))
UNCLASSIFIED = ("mayor-office", "Position", "Mayor of Smalltown", ())
TOWN = ("town", "PublicBody", "Smalltown Council", ("gov.muni",))
SON = ("son", "Person", "The Son", ())
BUILDER = ("builder", "Company", "Son's Builders Ltd", ())
DEPUTY = ("deputy", "Person", "The Deputy Mayor", ())
AS_OF = dt.date(2025, 1, 1)
MUNICIPAL = pytest.approx(0.81 * 0.6, abs=0.01)  # a municipal office: gov.muni's tier, 0.6
UNTIERED = pytest.approx(0.81, abs=0.01)  # an office without a tier weighs as a national one


def case(make, steering=OFFICE) -> list:
    """The mayor steers the council, which awards a contract to the company his son owns."""
    return [make("occupancy", MAYOR, OFFICE, start="2020-01-01"), make("control", steering, TOWN),
            make("family", SON, MAYOR, relationship="son"), make("ownership", SON, BUILDER, percentage=100),
            make("awards_contract", TOWN, BUILDER, start="2024-01-01")]


def deputy_seat(make, office=UNCLASSIFIED, **kwargs):
    """A second register of officeholders naming the office (its deputy's seat), without classifying it."""
    return make("occupancy", DEPUTY, office, start="2021-01-01", relation_id="deputy-seat", **kwargs)


def layer_of(events, as_of=AS_OF) -> ResolvingEngine:
    layer = ResolvingEngine(as_of=as_of)
    for event in events:
        layer.apply(event)
    return layer


def topics(layer, entity_id: str) -> set[str]:
    """What the engine behind the layer shows, and what the layer says it shows."""
    shown = layer.engine.graph.topics(entity_id)
    assert shown == set(layer.entity_ref(entity_id).topics)
    return set(shown)


def test_a_reference_without_topics_leaves_an_offices_tier(make):
    events = case(make)
    assert layer_of(events).score("mayor", "builder").score == MUNICIPAL
    later = layer_of([*events, deputy_seat(make)])
    assert topics(later, "mayor-office") == {"gov.muni"}
    assert later.score("mayor", "builder").score == MUNICIPAL
    assert incremental_state(later.engine) == full_state(later.engine)


def test_the_topics_do_not_depend_on_the_order_the_events_arrive_in(make):
    events = [*case(make), deputy_seat(make)]
    outcomes = set()
    for order in itertools.islice(itertools.permutations(events), 0, None, 97):
        layer = layer_of(order)
        outcomes.add((tuple(sorted(topics(layer, "mayor-office"))), layer.score("mayor", "builder").score))
    ((shown, value),) = outcomes  # one outcome in every order
    assert shown == ("gov.muni",) and value == MUNICIPAL


def test_the_newest_reference_still_names_the_entity(make):
    renamed = ("mayor-office", "Position", "Mayor of Smalltown-on-Sea", ())
    layer = layer_of([*case(make), deputy_seat(make, renamed)])
    assert layer.engine.graph.name("mayor-office") == "Mayor of Smalltown-on-Sea"
    assert topics(layer, "mayor-office") == {"gov.muni"}
    (path,) = layer.score("mayor", "builder").authority_paths
    assert "Mayor of Smalltown-on-Sea" in path.text


def test_a_source_correcting_its_own_statements_withdraws_what_it_classified(make):
    """An FtM change or a BODS replacement statement restates the same relations without the topics: the source's
    word now. (Topics kept from any older reference would never let a source take a classification back.)"""
    events = case(make)
    corrected = [make("occupancy", MAYOR, UNCLASSIFIED, start="2020-01-01", relation_id=events[0].relation_id),
                 make("control", UNCLASSIFIED, TOWN, relation_id=events[1].relation_id)]
    layer = layer_of([*events, deputy_seat(make), *corrected])
    assert topics(layer, "mayor-office") == set()
    assert layer.score("mayor", "builder").score == UNTIERED
    assert incremental_state(layer.engine) == full_state(layer.engine)


def test_a_retracted_statement_classifies_no_more(make):
    """The only statements classifying the office retracted (a retraction carries its old document, topics
    included: it restates nothing), the office is named by the deputy's register alone."""
    events = case(make)
    council = ("council-seat", "Person", "A Councillor", ())
    retractions = [make("occupancy", MAYOR, OFFICE, relation_id=events[0].relation_id, op="retract"),
                   make("control", OFFICE, TOWN, relation_id=events[1].relation_id, op="retract")]
    layer = layer_of([*events, deputy_seat(make), make("control", UNCLASSIFIED, TOWN, relation_id="other-control"),
                      make("occupancy", council, UNCLASSIFIED, relation_id="c"), *retractions])
    assert topics(layer, "mayor-office") == set()
    assert incremental_state(layer.engine) == full_state(layer.engine)


def test_the_words_of_several_publishers_count_together(make):
    """A sanctions list's `sanction` does not take a PEP register's `role.pep.natl` away; two registers tiering an
    office differently both count (its tier is the highest: `authority.tier_weight`), in any order and however
    often each is refreshed."""
    minister = ("minister", "Person", "The Minister", ("role.pep", "role.pep.natl"))
    sanctioned = ("minister", "Person", "The Minister", ("sanction",))
    national = ("mayor-office", "Position", "Mayor of Smalltown", ("gov.national",))
    events = [make("occupancy", minister, national, start="2015-01-01", publisher="PEP register"),
              make("payment", BUILDER, sanctioned, start="2024-03-01", amount=50_000, currency="USD",
                   publisher="Sanctions list"),
              make("occupancy", MAYOR, OFFICE, start="2020-01-01")]
    refreshed = [*events, make("occupancy", minister, national, start="2015-01-01", publisher="PEP register",
                               relation_id=events[0].relation_id)]
    for order in (events, events[::-1], refreshed):
        layer = layer_of(order)
        assert topics(layer, "minister") == {"role.pep", "role.pep.natl", "sanction"}
        assert topics(layer, "mayor-office") == {"gov.muni", "gov.national"}


def test_a_publishers_newer_statement_replaces_what_its_older_ones_said(make):
    """OpenSanctions' full export lists a minister's directorship in 2023 and not in 2025, without retracting it
    (an import of full exports never does); its 2025 export calls him a former PEP. Its word is the 2025 one: the
    2023 directorship's `role.pep.natl` no longer counts (with every current statement pooled it made him a current
    national PEP for good). Another publisher's word still counts beside it."""
    natl = ("minister", "Person", "The Minister", ("role.pep", "role.pep.natl"))
    former = ("minister", "Person", "The Minister", ("role.pep.frmr",))
    old_co = ("old-co", "Company", "Old Co", ())
    office = ("works-minister", "Position", "Minister of Works", ())
    at = lambda year: dt.datetime(year, 1, 1, tzinfo=dt.UTC)  # noqa: E731
    events = [make("directorship", natl, old_co, publisher="OpenSanctions", observed_at=at(2023)),
              make("occupancy", natl, office, start="2015-01-01", end="2019-01-01", publisher="OpenSanctions",
                   relation_id="seat", observed_at=at(2023)),
              make("occupancy", former, office, start="2015-01-01", end="2019-01-01", publisher="OpenSanctions",
                   relation_id="seat", observed_at=at(2025))]
    for order in (events, events[::-1]):
        assert topics(layer_of(order), "minister") == {"role.pep.frmr"}
    listed = make("payment", BUILDER, ("minister", "Person", "The Minister", ("role.pep",)), start="2024-03-01",
                  amount=1_000, currency="USD", publisher="Another register", observed_at=at(2024))
    assert topics(layer_of([*events, listed]), "minister") == {"role.pep", "role.pep.frmr"}


def test_a_refreshed_register_tiers_an_office_anew(make):
    """Wikidata tiered an office `gov.head` in two statements; its refresh restates one of them as `gov.muni` (a
    Wikidata import never retracts what a newer file leaves out). The office is municipal: 0.486, not 0.81."""
    head = ("mayor-office", "Position", "Mayor of Smalltown", ("gov.head",))
    events = [make("occupancy", MAYOR, head, start="2020-01-01", publisher="Wikidata"),
              make("control", head, TOWN, publisher="Wikidata"), *case(make)[2:],
              make("control", OFFICE, TOWN, publisher="Wikidata",
                   relation_id="mayor-office-control-town", observed_at=dt.datetime(2025, 3, 1, tzinfo=dt.UTC))]
    layer = layer_of(events)
    assert topics(layer, "mayor-office") == {"gov.muni"}
    assert layer.score("mayor", "builder").score == MUNICIPAL


def test_a_ministers_horizon_keeps_his_national_topics(make):
    """A payment register naming a former minister without his `role.pep.natl`: his office, left in 2019, still
    counts over the national horizon (20 years). Before, the pair was no longer scored at all: the payment's
    reference took his topics away, and the default horizon's five years had run out."""
    minister = ("minister", "Person", "The Minister", ("role.pep", "role.pep.natl"))
    office = ("works-minister", "Position", "Minister of Works", ())
    ministry = ("ministry", "PublicBody", "Ministry of Works", ())
    events = [make("occupancy", minister, office, start="2015-01-01", end="2019-01-01"),
              make("control", office, ministry), make("family", SON, minister, relationship="son"),
              make("ownership", SON, BUILDER, percentage=100),
              make("awards_contract", ministry, BUILDER, start="2018-06-01")]
    before = layer_of(events, dt.date(2026, 1, 1)).score("minister", "builder")
    assert before.rules == ("COI-REVOLVING-DOOR",)
    bare = ("minister", "Person", "The Minister", ())
    after = layer_of([*events, make("payment", BUILDER, bare, start="2024-03-01", amount=50_000, currency="USD")],
                     dt.date(2026, 1, 1))
    assert topics(after, "minister") == {"role.pep", "role.pep.natl"}
    assert after.score("minister", "builder").score == before.score


def test_a_merged_entity_shows_what_its_members_current_statements_state(make):
    """A cluster shows the union of its members' topics, each member's those of its current statements."""
    item = ("town-wd", "PublicBody", "Q123", ("gov.national",))
    firm = ("other-firm", "Company", "Other Firm", ())
    events = [*case(make), make("awards_contract", item, firm, relation_id="wd-award"), judgement(TOWN, item)]
    layer = layer_of(events)
    cid = layer.canonical("town")
    assert cid == layer.canonical("town-wd")
    assert layer.engine.graph.topics(cid) == {"gov.muni", "gov.national"}
    layer.apply(make("awards_contract", ("town-wd", "PublicBody", "Q123", ()), firm, relation_id="wd-award",
                     observed_at=dt.datetime(2025, 2, 1, tzinfo=dt.UTC)))
    assert layer.engine.graph.topics(cid) == {"gov.muni"}
    assert incremental_state(layer.engine) == full_state(layer.engine)


def test_restating_a_register_looks_at_no_other_statement(make, monkeypatch):
    """A register imported again restates what it stated: no word is withdrawn, so the office's other statements
    (a ministry named by every firm it licenses) are not gone through again for each."""
    events = [*case(make), deputy_seat(make)]
    layer = layer_of(events)
    looked: list[tuple[str, str]] = []
    original = ResolvingEngine._newest_word
    monkeypatch.setattr(ResolvingEngine, "_newest_word", lambda self, entity_id, publisher: looked.append(
        (entity_id, publisher)) or original(self, entity_id, publisher))
    for event in events:
        layer.apply(event.model_copy(update={"event_id": f"again-{event.event_id}",
                                             "observed_at": event.observed_at + dt.timedelta(days=1)}))
    assert looked == []
    # the publisher's word on the office (its newest statement classifying it, the council's control) restated
    # without topics: its other statements are looked at, and the mayor's own seat gives its word
    layer.apply(make("control", UNCLASSIFIED, TOWN, relation_id=events[1].relation_id,
                     observed_at=dt.datetime(2025, 2, 1, tzinfo=dt.UTC)))
    assert looked == [("mayor-office", "example gazette")]
    assert topics(layer, "mayor-office") == {"gov.muni"}


def _alerting(events) -> tuple[ResolvingEngine, AlertTracker]:
    layer, tracker = ResolvingEngine(), AlertTracker()  # (as an import does: scored as of its clock)
    for event in events:
        tracker.observe(layer.apply(event))
    return layer, tracker


def test_an_import_derives_the_topics_from_the_events_again(make):
    """The export's entity records carry what an id showed; the import takes each id's topics from the current
    events it re-applies, as live, and goes on alike."""
    clerk = ("clerk", "Person", "Clerk", ())
    events = [*case(make, steering=UNCLASSIFIED), deputy_seat(make),
              make("occupancy", MAYOR, UNCLASSIFIED, start="2020-01-01", relation_id="mayor-occupancy-mayor-office"),
              # the office's newest reference, renaming it, in a version since superseded: export writes it
              make("occupancy", clerk, ("mayor-office", "Position", "Mayor of Smalltown-on-Sea", ()),
                   relation_id="clerk-seat"),
              make("occupancy", clerk, ("other-office", "Position", "Town Clerk", ()), relation_id="clerk-seat")]
    live, tracker = _alerting(events)
    assert topics(live, "mayor-office") == set()  # only a superseded version classified it
    records = [json.loads(json.dumps(record)) for record in export_state(live, tracker)]
    imported, imported_tracker, _ = import_state(records)
    assert topics(imported, "mayor-office") == set()
    assert [content(s) for s in imported.scores()] == [content(s) for s in live.scores()] != []
    # an entity record carrying other topics: a hand edit, refused; in a file of format 6, the newest reference's
    # topics, which the import takes from the events instead
    (record,) = [r for r in records if r["record"] == "entity" and r["entity_id"] == "mayor-office"]
    record["ref"]["topics"] = ["gov.head"]
    with pytest.raises(PortableFormatError, match="gives the topics \\['gov.head'\\], where its sources' current"):
        import_state(records)
    older = [dict(records[0], format_version=6), *records[1:]]
    assert topics(import_state(older)[0], "mayor-office") == set()
    later = [deputy_seat(make, OFFICE), make("control", UNCLASSIFIED, TOWN, relation_id="c2")]
    for event in later:
        assert [content(c.published()) for c in imported.apply(event)] == \
            [content(c.published()) for c in live.apply(event)]
    assert topics(imported, "mayor-office") == topics(live, "mayor-office") == {"gov.muni"}


def test_an_authority_path_says_what_its_tier_takes(make):
    """An analyst sees why a mayor's path weighs less than a minister's: the topic that tiers the office or body
    held first, as its current statements state it. Nothing is said where the tier takes nothing."""
    (path,) = layer_of(case(make)).score("mayor", "builder").authority_paths
    assert path.text.endswith("(the office's tier, gov.muni, weighs 0.60)")
    regional = ("mayor-office", "Position", "Mayor of Smalltown", ("gov.state", "gov.muni"))
    (path,) = layer_of([*case(make), deputy_seat(make, regional)]).score("mayor", "builder").authority_paths
    assert path.text.endswith("(the office's tier, gov.state, weighs 0.80)")  # the highest tier stated weighs
    national = ("mayor-office", "Position", "Mayor of Smalltown", ("gov.national",))
    events = [make("occupancy", MAYOR, national, start="2020-01-01"), *case(make, steering=national)[1:]]
    (path,) = layer_of(events).score("mayor", "builder").authority_paths
    assert "tier" not in path.text
    council_member = [make("membership", MAYOR, TOWN, role="chair"), *case(make)[2:]]
    (path,) = layer_of(council_member).score("mayor", "builder").authority_paths
    assert path.text.endswith("(the body's tier, gov.muni, weighs 0.60)")


def test_a_hubs_words_withdrawn_newest_first_are_not_looked_for_among_all_each_time(make, monkeypatch):
    """A ministry named by 200 contract notices of one publisher, each classifying it, retracted newest first: each
    retraction withdraws the publisher's word, and the next is found among its statements kept in order, not by
    going through all the others again (40,000 looks for 200 retractions before; a source retracting 8,000 took
    6.8 s against 0.4 s)."""
    ministry = ("ministry", "PublicBody", "Ministry", ("gov.national",))
    base = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    notices = [make("awards_contract", ministry, (f"firm-{n}", "Company", f"Firm {n}", ()), relation_id=f"notice-{n}",
                    observed_at=base + dt.timedelta(minutes=n)) for n in range(200)]
    layer = layer_of(notices)
    looks = [0]
    original = ResolvingEngine._gives_word
    monkeypatch.setattr(ResolvingEngine, "_gives_word", lambda self, *args: looks.__setitem__(0, looks[0] + 1)
                        or original(self, *args))
    for n, notice in reversed(list(enumerate(notices))):
        layer.apply(make("awards_contract", ministry, (f"firm-{n}", "Company", f"Firm {n}", ()), op="retract",
                         relation_id=notice.relation_id, observed_at=base + dt.timedelta(days=1, minutes=-n)))
        assert topics(layer, "ministry") == ({"gov.national"} if n else set())
    assert looks[0] < 5 * len(notices)


def test_a_head_of_government_of_a_town_is_no_head_of_state(make):
    """Wikidata tiers a mayor's office `gov.head` where its file does not classify the town; a PEP register gives it
    `gov.muni`. Both publishers' words count, and the Wikidata importer's own rule reads them: a town's head of
    government is no head of state's tier, nor his horizon (`config.as_tiered`)."""
    head = ("mayor-office", "Position", "Mayor of Smalltown", ("gov.head",))
    events = [*case(make), make("control", head, ("council-2", "PublicBody", "Town Hall", ()), publisher="Wikidata")]
    layer = layer_of(events)
    assert topics(layer, "mayor-office") == {"gov.head", "gov.muni"}
    score = layer.score("mayor", "builder")
    assert score.score == MUNICIPAL
    assert score.authority_paths[0].text.endswith("(the office's tier, gov.muni, weighs 0.60)")
