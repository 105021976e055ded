"""Open Contracting data (tests/fixtures/ocds: real releases and records of Mexico's Compranet, Mexico City's
finance secretariat and Paraguay's DNCP, see tests/fixtures/README.md): each supplier of an award is awarded the
contract by the process's buyer; processes compiled from their releases; party ids by org-id scheme or publisher."""

from __future__ import annotations

import copy
import datetime as dt
import json
import random
from pathlib import Path

from schemas.bods import is_bods
from schemas.ftm import ImportDefaults, ImportReport
from schemas.kek import is_kek
from schemas.ocds import EXTRACTOR_NAME, OCDS_IMPORT_VERSION, events_from_ocds, is_ocds
from schemas.wikidata import is_wikidata

FIXTURES = Path(__file__).parents[2] / "fixtures"
OCDS = FIXTURES / "ocds"
COMPRANET = OCDS / "record-package-1-2.json"  # two records with compiled releases (OCDS 1.1)
CDMX = OCDS / "release-package-1-2.json"  # releases of two processes to compile (OCDS 1.0: no parties)
DNCP = OCDS / "release-package_1.1-1.json"  # a compiled release in a package without a publisher
# Instituto Nacional de Antropología e Historia, a buyer: its publisher's party id, with a digest of its name
INAH = "ocds-07smqs-INAH-195-d6f1a8825b"
BROKERS = "ocds-MX-RFC-GAB0709244G5"  # an insurance broker, by its RFC (Mexico's tax register)


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def imported(documents, **defaults):
    report = ImportReport()
    options = ImportDefaults(extractor_name=EXTRACTOR_NAME, extractor_version=OCDS_IMPORT_VERSION, **defaults)
    return list(events_from_ocds(documents, options, report)), report


def test_ocds_packages_and_releases_are_recognised_and_other_formats_are_not():
    for path in (COMPRANET, CDMX, DNCP):
        package = load(path)
        assert is_ocds(package)
        assert not (is_bods(package) or is_wikidata(package) or is_kek(package))
    assert is_ocds(load(COMPRANET)["records"][0]["compiledRelease"])
    assert not is_ocds({"id": "x", "schema": "Company", "properties": {}})
    assert not is_ocds({"releases": [{"id": "not a release"}]})
    assert not is_ocds(json.loads((FIXTURES / "bods" / "tecido.json").read_text())[0])


def test_each_supplier_of_an_award_is_awarded_the_contract_by_the_buyer():
    events, report = imported([load(COMPRANET)])
    assert report.skipped == [] and report.converted == 3
    by_id = {e.relation_id: e for e in events}
    # a relation is named by the process, the award and the supplier's party id in it
    award = by_id["ocds:ocds-07smqs-993235:award:991324:GAB0709244G5"]
    assert award.relation_type.value == "awards_contract"
    assert (award.source.id, award.source.schema_.value) == (INAH, "PublicBody")
    assert award.source.name == "Instituto Nacional de Antropología e Historia"
    assert (award.target.id, award.target.schema_.value) == (BROKERS, "LegalEntity")
    # Compranet writes the RFC's scheme by name: read as MX-RFC, a tax number valid in Mexico
    assert [(i.scheme, i.value, i.jurisdiction) for i in award.target.identifiers] == \
        [("tax", "GAB0709244G5", "mx")]
    assert (award.properties.amount, award.properties.currency) == (189654.0, "MXN")
    assert award.properties.purpose.startswith("SERVICIO DE ASESORÍA EXTERNA DE SEGUROS")
    # no award date: the contract's signature starts it, its period's end ends it
    assert (award.start_date, award.end_date) == (dt.date(2016, 1, 29), dt.date(2016, 12, 31))
    assert award.status.value == "confirmed"
    assert award.provenance.publisher.startswith("SECRETARÍA DE LA FUNCIÓN PÚBLICA")
    assert award.provenance.source_url.startswith("http")
    assert award.observed_at == dt.datetime(2016, 2, 4, 11, 2, 19, tzinfo=dt.UTC)
    # the second award to the same broker (a follow-up contract) is a relation of its own, not a second stake in one
    follow_up = by_id["ocds:ocds-07smqs-993235:award:1322806:GAB0709244G5"]
    # neither an award date nor a signature: the contract period's start
    assert (follow_up.start_date, follow_up.end_date) == (dt.date(2017, 1, 1), dt.date(2017, 3, 8))
    assert {e.source.id for e in events} == {INAH, "ocds-07smqs-SEMAR-272-c787bf7037"}


def test_releases_of_one_process_are_compiled_before_they_are_read():
    """Mexico City publishes each process as a tender release and its later update (OCDS 1.0, organisations given in
    place): compiled by date, the later values win; the same events whatever the order of the releases."""
    package = load(CDMX)
    events, report = imported([package])
    assert report.converted == 2 and report.outcomes["ocds processes compiled from their releases"] == 2
    buyers = {e.source.id for e in events}
    assert buyers == {"ocds-87sd3t-GDF9712054NA-b74e5dd982"}  # the publisher's id (the identifier has no scheme)
    assert all(e.source.schema_.value == "PublicBody" for e in events)
    # the later release of a process is what the event states as observed
    assert {e.observed_at.date() for e in events} == {dt.date(2017, 6, 5)}
    shuffled = copy.deepcopy(package)
    random.Random(5).shuffle(shuffled["releases"])
    again, _ = imported([shuffled])
    assert sorted(e.model_dump_json() for e in again) == sorted(e.model_dump_json() for e in events)


def test_a_later_release_merges_into_an_earlier_one_field_by_field():
    """A release that only says an award was cancelled keeps the award's suppliers (merged by id), and the award is
    left out; an award a later release adds is read."""
    tender = {"ocid": "ocds-abc123-1", "id": "1", "date": "2024-01-01T00:00:00Z", "tag": ["award"],
              "buyer": {"id": "b", "name": "Ministry of Works"},
              "parties": [{"id": "b", "name": "Ministry of Works", "roles": ["buyer"]},
                          {"id": "s1", "name": "Roads Ltd", "roles": ["supplier"]},
                          {"id": "s2", "name": "Bridges Ltd", "roles": ["supplier"]}],
              "awards": [{"id": "a1", "status": "active", "date": "2024-01-01T00:00:00Z",
                          "suppliers": [{"id": "s1", "name": "Roads Ltd"}], "value": {"amount": 10, "currency": "EUR"}}]}
    cancel = {"ocid": "ocds-abc123-1", "id": "2", "date": "2024-02-01T00:00:00Z", "tag": ["awardUpdate"],
              "awards": [{"id": "a1", "status": "cancelled"},
                         {"id": "a2", "status": "pending", "suppliers": [{"id": "s2", "name": "Bridges Ltd"}]}]}
    package = {"uri": "https://example.org/p.json", "publisher": {"name": "Works Portal"},
               "publishedDate": "2024-03-01T00:00:00Z", "releases": [cancel, tender]}
    events, report = imported([package])
    assert [(e.relation_id, e.status.value) for e in events] == \
        [("ocds:ocds-abc123-1:award:a2:s2", "proposed")]
    assert report.outcomes["ocds cancelled awards skipped"] == 1
    assert events[0].provenance.retrieved_at == dt.datetime(2024, 3, 1, tzinfo=dt.UTC)


def test_a_party_id_is_one_entity_per_name_whatever_else_the_import_holds():
    """A publisher that numbers its parties per process ("1" is another firm in each) never makes one entity of two
    firms, and an entity's id does not depend on what else is imported with it: the same in one file or two. A name
    written with or without accents, in another case, is the same name."""
    def process(number: int, supplier: str, buyer: str = "Town Hall") -> dict:
        return {"ocid": f"ocds-abc123-{number}", "id": "1", "date": "2024-01-01T00:00:00Z", "tag": ["award"],
                "buyer": {"id": "0", "name": buyer},
                "parties": [{"id": "0", "name": buyer, "roles": ["buyer"]},
                            {"id": "1", "name": supplier, "roles": ["supplier"]}],
                "awards": [{"id": "a", "suppliers": [{"id": "1"}]}]}

    def package(*releases) -> dict:
        return {"uri": "https://example.org/p.json", "publisher": {"name": "Portal"}, "releases": list(releases)}

    together, _ = imported([package(process(1, "Alpha SA"), process(2, "Beta SA", "TOWN HALL"))])
    apart = [e for number, name in ((1, "Alpha SA"), (2, "Beta SA")) for e in imported([package(process(
        number, name, "Town Hall" if number == 1 else "TOWN HALL"))])[0]]
    assert [e.model_dump_json() for e in together] == [e.model_dump_json() for e in apart]
    assert len({e.target.id for e in together}) == 2
    assert all(e.target.id.startswith("ocds-abc123-1-") for e in together)
    assert len({e.source.id for e in together}) == 1  # "Town Hall" and "TOWN HALL": one buyer


def test_an_org_id_identifier_names_the_party_whoever_publishes_it():
    release = {"ocid": "ocds-xyz789-9", "id": "1", "date": "2024-05-01T00:00:00Z", "tag": ["award"],
               "buyer": {"id": "GB-GOR-D1", "name": "Department for Transport"},
               "parties": [{"id": "GB-GOR-D1", "name": "Department for Transport", "roles": ["buyer"],
                            "identifier": {"scheme": "GB-GOR", "id": "D1"}},
                           {"id": "GB-COH-01234567", "name": "Example Rail Ltd", "roles": ["supplier"],
                            "identifier": {"scheme": "GB-COH", "id": "01234567"},
                            "additionalIdentifiers": [{"scheme": "XI-LEI", "id": "213800ABCDEFGHIJKL12"}]}],
               "awards": [{"id": "1", "status": "active", "suppliers": [{"id": "GB-COH-01234567"}],
                           "contractPeriod": {"startDate": "2024-06-01T00:00:00Z"}}]}
    (event,), _ = imported([release], publisher="Contracts Finder", source_url="https://example.org/cf")
    assert event.target.id == "ocds-GB-COH-01234567"
    assert {(i.scheme, i.value) for i in event.target.identifiers} == {("register", "01234567"),
                                                                      ("lei", "213800ABCDEFGHIJKL12")}
    assert event.source.id == "ocds-GB-GOR-D1" and event.start_date == dt.date(2024, 6, 1)


def test_a_process_without_its_publisher_is_skipped_unless_one_is_given():
    events, report = imported([load(DNCP)])
    assert events == [] and [s.reason for s in report.skipped] == ["missing_provenance"]
    events, report = imported([load(DNCP)], publisher="DNCP - Paraguay",
                              source_url="https://www.contrataciones.gov.py/datos/record-package/193399.json")
    (event,) = events
    assert event.source.name == "Dirección Nacional de Contrataciones Públicas (DNCP)"
    assert event.target.name == "MASTER SOFT SRL" and event.start_date == dt.date(2010, 4, 23)
    assert (event.properties.amount, event.properties.currency) == (135630400.0, "PYG")


def test_versioned_and_linked_releases_are_counted_not_read():
    versioned = {"ocid": "ocds-abc123-1", "buyer": [{"releaseID": "1", "value": {"name": "x"}}], "tag": ["x"]}
    linked = {"ocid": "ocds-abc123-2", "url": "https://example.org/r.json", "date": "2024-01-01T00:00:00Z",
              "tag": ["tender"]}
    events, report = imported([{"records": [{"ocid": "ocds-abc123-2", "releases": [linked]}]}, versioned])
    assert events == []
    assert report.outcomes["ocds versioned releases skipped"] == 1
    assert report.outcomes["ocds linked releases skipped (no content)"] == 1


def test_values_of_the_wrong_kind_anywhere_are_reported_never_raised():
    """Real packages with values replaced at random by values of other kinds (a publisher's mistakes, an adversary):
    the import ends, skipping or noting what it cannot read."""
    junk = [None, 1, -5, True, "", "x", [], {}, [1], [None], {"id": None}, "2024-13-45", {"amount": "1"}, [{"id": 1}]]
    bases = [load(path) for path in (COMPRANET, CDMX, DNCP)]

    def paths(value, prefix=()):
        yield prefix
        items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
        for key, item in items:
            yield from paths(item, (*prefix, key))

    rng = random.Random(13)
    converted = 0
    for _ in range(400):
        document = copy.deepcopy(rng.choice(bases))
        for _ in range(rng.randint(1, 4)):
            place = rng.choice([p for p in paths(document) if p])
            parent = document
            for key in place[:-1]:
                parent = parent[key]
            parent[place[-1]] = copy.deepcopy(rng.choice(junk))
        events, _ = imported([document], publisher="P", source_url="https://example.org/p")
        converted += len(events)
    assert converted > 0  # most mutations leave some award readable


def test_a_process_is_read_once_from_its_newest_compiled_release_or_all_its_releases():
    """Two packages of one publisher, a month apart: the second compiles the process anew with the contract's end.
    The newest compiled release is read, once; loose releases of another process, with the other's in between,
    are read once the last of them comes."""
    compiled = load(COMPRANET)["records"][0]["compiledRelease"]
    newer = copy.deepcopy(compiled)
    newer["date"] = "2016-03-01T00:00:00Z"
    newer["awards"] = newer["awards"][:1]
    first = {"uri": "https://example.org/1", "publisher": {"name": "Compranet"}, "releases": [compiled]}
    second = {"uri": "https://example.org/2", "publisher": {"name": "Compranet"}, "releases": [newer]}
    other = {"ocid": "ocds-abc123-7", "id": "1", "date": "2024-01-01T00:00:00Z", "tag": ["tender"],
             "buyer": {"id": "b", "name": "Town Hall"}}
    award = {"ocid": "ocds-abc123-7", "id": "2", "date": "2024-02-01T00:00:00Z", "tag": ["award"],
             "awards": [{"id": "a", "status": "active", "suppliers": [{"id": "s", "name": "Paving SA"}]}]}
    events, report = imported([{**first, "releases": [other, compiled]}, second, award],
                              publisher="Town Hall", source_url="https://example.org/town")
    by_process = sorted((e.relation_id.split(":")[1], e.provenance.source_url) for e in events)
    # (the newest release of the loose process came without a package: the import's defaults are its provenance)
    assert by_process == [("ocds-07smqs-993235", "https://example.org/2"),
                          ("ocds-abc123-7", "https://example.org/town")]
    assert report.outcomes["ocds processes read from a compiled release"] == 1
    assert report.outcomes["ocds processes compiled from their releases"] == 1


def release(number: str, date: str, **fields) -> dict:
    return {"ocid": "ocds-abc123-9", "id": number, "date": date, "tag": ["award"], **fields}


BUYER = {"buyer": {"id": "b", "name": "Ministry of Works"},
         "parties": [{"id": "b", "name": "Ministry of Works", "roles": ["buyer"]}]}
AWARD = {"id": "10", "status": "active", "suppliers": [{"id": "s", "name": "Roads Ltd"}],
         "value": {"amount": 5, "currency": "EUR"}}


def test_an_empty_array_in_a_later_release_adds_nothing_and_some_arrays_merge_whole():
    """As ocds-merge merges (its `empty-identifiermerge-array` fixture): a later `"awards": []` keeps the awards;
    `additionalIdentifiers` is replaced whole (`wholeListMerge`), not merged by id."""
    first = release("1", "2024-01-01T00:00:00Z", buyer=BUYER["buyer"], awards=[AWARD], parties=[
        *BUYER["parties"], {"id": "s", "name": "Roads Ltd", "roles": ["supplier"],
                            "additionalIdentifiers": [{"id": "A1", "scheme": "XI-LEI"}]}])
    second = release("2", "2024-02-01T00:00:00Z", awards=[], parties=[
        {"id": "s", "additionalIdentifiers": [{"id": "B2", "scheme": "GB-COH"}]}])
    (event,), _ = imported([first, second], publisher="P", source_url="https://example.org/p")
    assert event.relation_id.startswith("ocds:ocds-abc123-9:award:10:")
    assert [(i.scheme, i.value) for i in event.target.identifiers] == [("register", "B2")]


def test_the_same_release_in_two_packages_gives_the_same_events_in_either_order():
    """A feed's pages overlap: which package a release is read from is decided by the packages, not the file order."""
    one = release("1", "2024-01-01T00:00:00Z", **BUYER, awards=[AWARD])
    pages = [{"uri": f"https://example.org/page{n}", "publisher": {"name": "Portal"},
              "publishedDate": f"2024-0{n}-05T00:00:00Z", "releases": [copy.deepcopy(one)]} for n in (1, 2)]
    forward, _ = imported(pages)
    backward, _ = imported(pages[::-1])
    assert [e.model_dump_json() for e in forward] == [e.model_dump_json() for e in backward]
    assert str(forward[0].provenance.source_url) == "https://example.org/page2"


def test_when_a_contract_ran_is_read_from_its_duration_or_its_payments():
    period = {"startDate": "2024-03-01T00:00:00Z", "durationInDays": 10}
    by_duration = release("1", "2024-01-01T00:00:00Z", **BUYER, awards=[{**AWARD, "contractPeriod": period}])
    (event,), _ = imported([by_duration], publisher="P", source_url="https://example.org/p")
    # the schema: durationInDays is the difference between the start and the end
    assert (event.start_date, event.end_date) == (dt.date(2024, 3, 1), dt.date(2024, 3, 11))
    # Portugal's contracts give neither a date nor a period, only their payments; the release date is the export's
    undated = {**AWARD}
    paid = release("1", "2019-11-25T00:00:00Z", **BUYER, awards=[undated], contracts=[
        {"id": "c", "awardID": "10", "status": "terminated",
         "implementation": {"transactions": [{"id": "t1", "date": "2008-12-12T00:00:00Z"},
                                             {"id": "t2", "date": "2008-12-08T00:00:00Z"}]}}])
    (event,), report = imported([paid], publisher="P", source_url="https://example.org/p")
    assert (event.start_date, event.end_date) == (dt.date(2008, 12, 8), dt.date(2008, 12, 12))
    assert any("ended with their last payment" in note for note in report.notes)


def test_statuses_are_read_whatever_their_case_or_language_and_others_are_only_reported():
    def status_of(award_status: str, contract_status: str | None = None):
        contracts = [{"id": "c", "awardID": "10", "status": contract_status}] if contract_status else []
        events, report = imported([release("1", "2024-01-01T00:00:00Z", **BUYER,
                                           awards=[{**AWARD, "status": award_status}], contracts=contracts)],
                                  publisher="P", source_url="https://example.org/p")
        return [e.status.value for e in events]
    assert status_of("Cancelled") == status_of("CANCELLED") == status_of("cancelada") == []
    assert status_of("Unsuccessful") == status_of("desierto") == []
    assert status_of("pendiente") == status_of("Pending") == ["proposed"]
    assert status_of("activo") == status_of("Active") == ["confirmed"]
    assert status_of("active", "Cancelled") == []
    assert status_of("in force?") == ["reported"]


def test_an_empty_package_is_ocds_and_values_it_cannot_use_are_left_out_not_the_award():
    assert is_ocds({"uri": "https://example.org/p", "publishedDate": "2024-01-01T00:00:00Z", "releases": []})
    infinite = {**AWARD, "value": {"amount": float("inf"), "currency": "EUR"}}
    lower = {**AWARD, "id": "11", "value": {"amount": 7, "currency": "eur"}}
    bare = {**AWARD, "id": "12", "value": {"amount": 9}}
    events, _ = imported([release("1", "2024-01-01T00:00:00Z", **BUYER, awards=[infinite, lower, bare])],
                         publisher="P", source_url="https://example.org/p")
    values = {e.relation_id.split(":")[3]: (e.properties.amount, e.properties.currency) for e in events}
    assert values == {"10": (None, None), "11": (7.0, "EUR"), "12": (None, None)}


def test_a_buyer_named_only_by_its_role_and_a_generic_rfc_that_names_no_one():
    """A release whose parties say who buys, without a `buyer` field; Mexico's generic RFC for foreign firms
    (XEXX010101000) neither names the supplier nor becomes an identifier that would merge every foreign firm."""
    parties = [{"id": "b", "name": "Ministry of Works", "roles": ["buyer"]},
               {"id": "f", "name": "Foreign Works GmbH", "roles": ["supplier"],
                "identifier": {"scheme": "MX-RFC", "id": "XEXX010101000"}}]
    (event,), _ = imported([release("1", "2024-01-01T00:00:00Z", parties=parties,
                                    awards=[{**AWARD, "suppliers": [{"id": "f"}]}])],
                           publisher="P", source_url="https://example.org/p")
    assert event.source.name == "Ministry of Works" and event.source.schema_.value == "PublicBody"
    assert event.target.id.startswith("ocds-abc123-f-") and event.target.identifiers == ()


def test_a_compiled_release_repeated_after_it_was_read_is_not_read_again():
    """A feed repeats a record (and a loose release of the same process) after the import read it: skipped, once."""
    record = load(COMPRANET)["records"][0]
    events, _ = imported([{"records": [record]}, {"records": [copy.deepcopy(record)]},
                          {"releases": [copy.deepcopy(record["releases"][0])]}],
                         publisher="Compranet", source_url="https://example.org/c")
    assert len(events) == 2 and len({e.relation_id for e in events}) == 2


def test_a_buyer_a_later_release_renames_still_awards_as_a_public_body():
    first = release("1", "2024-01-01T00:00:00Z", buyer={"id": "B1"},
                    parties=[{"id": "B1", "name": "Council", "roles": ["buyer"]}])
    later = release("2", "2024-02-01T00:00:00Z", awards=[{**AWARD, "suppliers": [{"id": "S1"}]}], parties=[
        {"id": "B1", "name": "Borough Council", "identifier": {"scheme": "GB-GOR", "id": "E123"}},
        {"id": "S1", "name": "Acme", "roles": ["supplier"]}])
    (event,), report = imported([first, later], publisher="P", source_url="https://example.org/p")
    assert (event.source.id, event.source.schema_.value) == ("ocds-GB-GOR-E123", "PublicBody")
    assert report.skipped == []


def test_a_publisher_without_a_registered_ocid_prefix_keeps_its_party_ids_across_processes():
    """Mexican publishers whose ocids are "2" or "PC-0083": their parties are scoped to the publisher, not to each
    process. A party without a name is told apart by its identifier; one with neither stays in its process."""
    def process(ocid: str, supplier: dict) -> dict:
        return {"ocid": ocid, "id": "1", "date": "2024-01-01T00:00:00Z", "tag": ["award"],
                "buyer": {"id": "b", "name": "Instituto"}, "parties": [{"id": "b", "name": "Instituto",
                                                                       "roles": ["buyer"]}, supplier],
                "awards": [{"id": "a", "suppliers": [{"id": supplier["id"]}]}]}
    named = {"id": "S9", "name": "Lauman, S.A. de C.V.", "roles": ["supplier"]}
    renamed = {**named, "name": "LAUMAN SA DE CV"}
    events, _ = imported([{"publisher": {"name": "Compras MX"}, "uri": "https://example.org/mx",
                           "releases": [process("2", named), process("PC-0083", renamed)]}])
    assert len({e.target.id for e in events}) == 1 and len({e.source.id for e in events}) == 1
    unnamed = [{"id": "1", "identifier": {"scheme": "INTERNAL", "id": code}, "roles": ["supplier"]}
               for code in ("AAA", "ZZZ")]
    bare = {"id": "1", "roles": ["supplier"]}
    events, _ = imported([{"publisher": {"name": "Compras MX"}, "uri": "https://example.org/mx",
                           "releases": [process("ocds-abcdef-1", unnamed[0]), process("ocds-abcdef-2", unnamed[1]),
                                        process("ocds-abcdef-3", bare), process("ocds-abcdef-4", bare)]}])
    assert len({e.target.id for e in events}) == 4


def test_an_rfc_is_read_whatever_its_case_and_whatever_the_scheme_is_called():
    def supplier(scheme: str, value: str) -> dict:
        return release("1", "2024-01-01T00:00:00Z", buyer=BUYER["buyer"], awards=[{**AWARD, "suppliers": [{"id": "s"}]}],
                       parties=[*BUYER["parties"], {"id": "s", "name": "Lauman", "roles": ["supplier"],
                                                    "identifier": {"scheme": scheme, "id": value}}])
    ids = {imported([supplier(scheme, value)], publisher="P", source_url="https://example.org/p")[0][0].target.id
           for scheme, value in (("MX-RFC", "LAU0002028R1"), ("RFC", "lau0002028r1"),
                                 ("Registro Federal de Contribuyentes de Mexico", "LAU0002028R1"))}
    assert ids == {"ocds-MX-RFC-LAU0002028R1"}


def test_a_compiled_release_takes_the_releases_published_after_it():
    record = {"ocid": "ocds-abc123-9", "compiledRelease": release("c", "2024-01-01T00:00:00Z", **BUYER,
                                                                 tag=["compiled"], awards=[AWARD])}
    march = release("m", "2024-03-01T00:00:00Z", awards=[{**AWARD, "id": "a2"}])
    older = release("o", "2023-12-01T00:00:00Z", awards=[{**AWARD, "id": "old"}])
    events, report = imported([{"records": [record]}, march, older], publisher="P",
                              source_url="https://example.org/p")
    assert sorted(e.relation_id.split(":")[3] for e in events) == ["10", "a2"]
    assert report.outcomes["ocds processes read from a compiled release and newer releases"] == 1


def test_a_package_whose_first_release_is_broken_is_still_read():
    package = {"uri": "https://example.org/p", "publisher": {"name": "P"},
               "releases": [{"id": "broken"}, None, release("1", "2024-01-01T00:00:00Z", **BUYER, awards=[AWARD])]}
    events, report = imported([package])
    assert len(events) == 1 and report.outcomes["ocds releases without an ocid skipped"] == 2
    assert is_ocds({"releases": [], "links": {"next": "https://example.org/p?page=2"}})


def test_values_no_one_can_mean_are_skipped_not_raised():
    """Found by fuzzing real releases: an amount of 10^400, a period of 100 days from year 9999, a release of year 1
    with a contract ended without a date, a lone surrogate in a party id, a value nested 500 deep."""
    nested: dict = {}
    for _ in range(500):
        nested = {"x": nested}
    cases = [
        {**AWARD, "value": {"amount": 10 ** 400, "currency": "EUR"}},
        {**AWARD, "contractPeriod": {"startDate": "9999-12-01T00:00:00Z", "durationInDays": 100}},
        {**AWARD, "suppliers": [{"id": "S\ud800", "name": "Surrogate SA"}]},
        {**AWARD, "value": nested},
    ]
    for award in cases:
        imported([release("1", "2024-01-01T00:00:00Z", **BUYER, awards=[award])], publisher="P",
                 source_url="https://example.org/p")
    ancient = release("1", "0001-01-01T00:00:00Z", **BUYER, awards=[AWARD],
                      contracts=[{"id": "c", "awardID": "10", "status": "terminated"}])
    events, report = imported([ancient], publisher="P", source_url="https://example.org/p")
    assert events == [] and [s.reason for s in report.skipped] == ["invalid_dates"]  # the contract's 1000-2999


def test_two_publishers_processes_of_one_unregistered_ocid_stay_two_processes():
    def package(publisher: str, buyer: str, supplier: str, amount: int) -> dict:
        return {"uri": f"https://example.org/{publisher}", "publisher": {"name": publisher}, "releases": [
            {"ocid": "7", "id": "1", "date": "2024-01-01T00:00:00Z", "tag": ["award"],
             "buyer": {"id": "b", "name": buyer}, "parties": [{"id": "b", "name": buyer, "roles": ["buyer"]}],
             "awards": [{"id": "1", "suppliers": [{"id": "s", "name": supplier}],
                         "value": {"amount": amount, "currency": "USD"}}]}]}
    events, _ = imported([package("City A", "City A Council", "Alpha Builders Ltd", 5),
                          package("Town B", "Town B Council", "Beta Roads Ltd", 9)])
    assert sorted((e.source.name, e.target.name, e.properties.amount) for e in events) == [
        ("City A Council", "Alpha Builders Ltd", 5.0), ("Town B Council", "Beta Roads Ltd", 9.0)]
    assert len({e.relation_id for e in events}) == 2


def test_an_award_keeps_its_relation_id_when_its_supplier_gains_an_identifier():
    """A re-import after the publisher gave the supplier its company number: the award's event replaces the earlier
    one (same relation id, the supplier's new entity), never a second award to a ghost entity."""
    first = release("1", "2024-01-01T00:00:00Z", **BUYER, awards=[{**AWARD, "suppliers": [{"id": "s"}]}])
    first["parties"] = [*BUYER["parties"], {"id": "s", "name": "Roads Ltd", "roles": ["supplier"]}]
    later = release("2", "2024-02-01T00:00:00Z", parties=[
        {"id": "s", "identifier": {"scheme": "GB-COH", "id": "01234567"}}])
    (before,), _ = imported([first], publisher="P", source_url="https://example.org/p")
    (after,), _ = imported([first, later], publisher="P", source_url="https://example.org/p")
    assert before.relation_id == after.relation_id
    assert before.target.id != after.target.id == "ocds-GB-COH-01234567"


def test_a_buyer_is_a_public_body_under_the_id_a_later_release_gives_it_wherever_it_appears():
    """The buyer's company number comes in a later release that does not repeat its roles; elsewhere in the file
    the same company is a supplier: a PublicBody in every event."""
    buyer = release("1", "2024-01-01T00:00:00Z", buyer={"id": "B"},
                    parties=[{"id": "B", "name": "Water Board", "roles": ["buyer"]}])
    numbered = release("2", "2024-02-01T00:00:00Z", awards=[AWARD], parties=[
        {"id": "B", "identifier": {"scheme": "GB-COH", "id": "RC000123"}}])
    elsewhere = {"ocid": "ocds-abc123-8", "id": "1", "date": "2024-03-01T00:00:00Z", "tag": ["award"],
                 "buyer": {"id": "x", "name": "Ministry"},
                 "parties": [{"id": "x", "name": "Ministry", "roles": ["buyer"]},
                             {"id": "w", "name": "Water Board", "roles": ["supplier"],
                              "identifier": {"scheme": "GB-COH", "id": "RC000123"}}],
                 "awards": [{"id": "1", "suppliers": [{"id": "w"}]}]}
    events, _ = imported([elsewhere, buyer, numbered], publisher="P", source_url="https://example.org/p")
    schemas = {(end.id, end.schema_.value) for e in events for end in (e.source, e.target)}
    assert ("ocds-GB-COH-RC000123", "PublicBody") in schemas
    assert ("ocds-GB-COH-RC000123", "LegalEntity") not in schemas


def test_a_release_newer_than_the_compiled_one_is_told_by_its_time_not_its_text():
    """A cancellation at 09:00Z after a record compiled at 10:00+02:00 (08:00Z) is newer, as is one half a second
    after the compiled release."""
    for compiled_at, cancelled_at in (("2024-01-01T10:00:00+02:00", "2024-01-01T09:00:00Z"),
                                      ("2024-01-01T08:00:00Z", "2024-01-01T08:00:00.500Z")):
        record = {"ocid": "ocds-abc123-9", "compiledRelease": release("c", compiled_at, **BUYER, tag=["compiled"],
                                                                     awards=[AWARD])}
        cancel = release("x", cancelled_at, awards=[{"id": "10", "status": "cancelled"}])
        events, _ = imported([{"records": [record]}, cancel], publisher="P", source_url="https://example.org/p")
        assert events == [], (compiled_at, cancelled_at)


def test_suppliers_without_party_ids_sharing_an_identifier_number_are_two_relations_and_no_public_body():
    """OCDS 1.0 organisations given in place: two suppliers of one award with the same number under two schemes are
    two relations; a supplier whose number is also its buyer's (under a local scheme) is not made a public body."""
    award = {**AWARD, "suppliers": [{"name": "Roads Ltd", "identifier": {"scheme": "GB-COH", "id": "0"}},
                                    {"name": "Roads Trust", "identifier": {"scheme": "GB-CHC", "id": "0"}},
                                    {"name": "Local Firm", "identifier": {"scheme": "X-LOCAL", "id": "1"}}]}
    one = release("1", "2024-01-01T00:00:00Z", buyer={"name": "Council", "identifier": {"scheme": "X-LOCAL",
                                                                                         "id": "1"}},
                  awards=[award], tag=["award"])
    one["buyer"]["identifier"]["scheme"] = "X-LOCAL"
    events, _ = imported([one], publisher="P", source_url="https://example.org/p")
    assert len({e.relation_id for e in events}) == 3
    assert {e.target.name: e.target.schema_.value for e in events}["Local Firm"] == "LegalEntity"


def test_a_compiled_release_with_a_date_no_reader_knows_is_not_taken_for_the_oldest():
    record = {"ocid": "ocds-abc123-9", "compiledRelease": release("c", "2024-06-01 10:00:00", **BUYER,
                                                                 tag=["compiled"], awards=[AWARD])}
    older = release("o", "2024-01-01T00:00:00Z", awards=[{"id": "10", "status": "cancelled"}])
    events, _ = imported([{"records": [record]}, older], publisher="P", source_url="https://example.org/p")
    assert len(events) == 1 and events[0].observed_at == dt.datetime(2024, 6, 1, 10, tzinfo=dt.UTC)
    record["compiledRelease"]["date"] = "06/01/2024"
    events, report = imported([{"records": [record]}, older], publisher="P", source_url="https://example.org/p",
                              retrieved_at=dt.datetime(2024, 7, 1, tzinfo=dt.UTC))
    assert len(events) == 1 and report.outcomes["ocds processes read from a compiled release"] == 1
