"""An id's identifiers are those the current versions of the relations naming it state. A register that corrects an
entity's identifier (a newer version without it, or with another), or retracts the relation that stated it,
withdraws it, and the merges made on it are undone; a merge cites, of the current statements, the one with the
lowest event id. Earlier versions merged on every identifier an id was ever stated with, so a wrong LEI merged two
firms for good (a review: a false critical alert outlived the LEI's retraction)."""

from __future__ import annotations

import random

import pytest

from scoring import AlertTracker, ScoringConfig
from scoring.clusters import IDENTIFIER
from scoring.resolution import ResolvingEngine, _identifier_edges, _kind

from .conftest import EventFactory
from .resolution_support import identified, layer_state, resolved_from_scratch, engine_state

LEI = {"scheme": "lei", "value": "5493001KJTIIGC8Y1R12"}
OTHER_LEI = {"scheme": "lei", "value": "529900T8BM49AURSDO55"}
MINISTER = ("os-minister-1", "Person", "Jan Kowalski", ("role.pep", "gov.national"))
BANK = ("bank", "Company", "Bank", ())
REGULATOR = "regulator"  # from the cast (conftest)
SUPPLIER = ("supplier", "Company", "Supplier Ltd", ())  # the firm the bank pays
BROTHERS_FIRM = ("brothers-firm", "Company", "Kowalski Trading", ())  # the minister's brother's firm
BROTHER = ("brother", "Person", "Piotr Kowalski", ())


def _wrongly_merged(make):
    """The minister's brother owns a firm; a register states the bank's supplier with the firm's LEI by mistake: the
    two firms merge, and the bank the minister's ministry regulates pays his brother's firm."""
    return [make("control", MINISTER, REGULATOR, event_id="ev-1"),
            make("regulates", REGULATOR, BANK, event_id="ev-2"),
            make("family", MINISTER, BROTHER, event_id="ev-3"),
            identified(make("ownership", BROTHER, BROTHERS_FIRM, percentage=100, event_id="ev-4"), "target", LEI),
            identified(make("payment", BANK, SUPPLIER, amount=5e6, currency="USD", relation_id="pay",
                            event_id="ev-5"), "target", LEI)]


@pytest.mark.parametrize("correction", ["another LEI", "no LEI", "retracted"])
def test_a_wrong_identifier_corrected_or_retracted_undoes_its_merge_and_resolves_its_alert(correction):
    make = EventFactory().make
    layer, tracker = ResolvingEngine(), AlertTracker()
    for event in _wrongly_merged(make):
        tracker.observe(layer.apply(event))
    assert layer.canonical("supplier") == layer.canonical("brothers-firm")
    assert [s.actor_id for s in layer.scores()] == ["os-minister-1"] and tracker.open_alerts()
    fixed = make("payment", BANK, SUPPLIER, amount=5e6, currency="USD", relation_id="pay", event_id="ev-6",
                 op="retract" if correction == "retracted" else "upsert")
    if correction == "another LEI":
        fixed = identified(fixed, "target", OTHER_LEI)
    resolved = tracker.observe(layer.apply(fixed))
    assert layer.canonical("supplier") == "supplier" and layer.canonical("brothers-firm") == "brothers-firm"
    assert not layer.scores() and not tracker.open_alerts()
    assert [(a.actor_id, a.state.value) for a in resolved] == [("os-minister-1", "resolved")]
    held = {r["entity_id"]: [i["value"] for i in r["identifiers"]] for r in layer.identifier_statements()}
    assert held.get("supplier", []) == ([OTHER_LEI["value"]] if correction == "another LEI" else [])
    assert held["brothers-firm"] == [LEI["value"]]


def test_an_identifier_another_current_version_states_stays_and_its_merge_cites_that_one():
    """The supplier's LEI stated by two relations: one corrected leaves the other's statement, and the merge, which
    now cites the statement that is left (`event ev-7`), not the one withdrawn."""
    make = EventFactory().make
    layer = ResolvingEngine()
    events = _wrongly_merged(make)
    events.append(identified(make("partners_with", SUPPLIER, ("partner", "Company", "Partner", ()),
                                  event_id="ev-7", relation_id="partners"), "source", LEI))
    layer.apply_many(events)
    (note,) = layer.score("os-minister-1", "bank").merges
    assert "event ev-5 from Example Gazette" in note.text and "ev-7" not in note.text
    changes = layer.apply(make("payment", BANK, SUPPLIER, amount=5e6, currency="USD", relation_id="pay",
                               event_id="ev-8"))
    assert layer.canonical("supplier") == layer.canonical("brothers-firm")
    (note,) = layer.score("os-minister-1", "bank").merges
    assert "event ev-7 from Example Gazette" in note.text and "ev-5" not in note.text
    assert [c.new.merges[0].text for c in changes if c.new is not None] == [note.text]  # republished as it reads


def test_an_older_version_arriving_late_states_nothing():
    """A version older than the relation's current one is history: an identifier only it states merges nothing,
    whichever arrives first (earlier versions merged on it when it came second)."""
    make = EventFactory().make
    events = _wrongly_merged(make)
    newer = make("payment", BANK, SUPPLIER, amount=5e6, currency="USD", relation_id="pay", event_id="ev-6")
    for order in ([*events, newer], [*events[:4], newer, events[4]]):
        layer = ResolvingEngine()
        layer.apply_many(order)
        assert layer.canonical("supplier") == "supplier" and not layer.scores()


def _scratch(events):
    """What the identifiers of the current versions give, computed in one pass: holders, edges and citations."""
    current = {}
    for event in events:
        held = current.get(event.relation_id)
        if held is None or (event.observed_at, event.event_id) > (held.observed_at, held.event_id):
            current[event.relation_id] = event
    holders, cited, known = {}, {}, {}
    for event in current.values():
        if event.op.value != "upsert":
            continue
        for end in (event.source, event.target):
            for identifier in end.identifiers:
                known.setdefault((end.id, identifier.key), identifier)
                if identifier.strong:
                    holders.setdefault((_kind(end.schema_), *identifier.key), set()).add(end.id)
                    statement = (event.event_id, event.provenance.publisher)
                    cited[(end.id, identifier.key)] = min(cited.get((end.id, identifier.key), statement), statement)
    edges = {edge.key for key, ids in holders.items()
             for edge in _identifier_edges(key, known[(min(ids), key[1:])], sorted(ids))}
    return holders, edges, cited


def _many_holders_log(seed: int, n_events: int = 120):
    """Up to 24 companies (beyond the 16 an identifier joins pairwise: a chain then) stated with one LEI or not,
    by two publishers, corrected, retracted, and under relation ids that move between ends."""
    r = random.Random(seed)
    make = EventFactory().make
    firms = [(f"c{i:02d}", "Company", f"C{i}", ()) for i in range(r.choice([14, 20, 24]))]
    events = [make("control", MINISTER, REGULATOR, event_id=f"e{seed}-base-1"),
              make("regulates", REGULATOR, BANK, event_id=f"e{seed}-base-2")]
    for number in range(n_events):
        kind = r.choice(["payment", "partners_with", "ownership"])
        source, target = r.sample([BANK, *firms], 2) if kind == "payment" else r.sample(firms, 2)
        if kind == "ownership":
            source = r.choice([MINISTER, *(f for f in firms[:3] if f != target)]) if r.random() < 0.3 else source
        properties = {"amount": 2e6, "currency": "USD"} if kind == "payment" else \
            {"percentage": 60} if kind == "ownership" else {}
        relation_id = f"{kind}-{source[0]}-{target[0]}" if r.random() < 0.5 else f"r{r.randrange(8)}"
        event = make(kind, source, target, relation_id=relation_id, event_id=f"e{seed}-{r.randrange(10**6):06d}",
                     op="retract" if r.random() < 0.15 else "upsert", publisher=r.choice(["Gazette A", "Gazette B"]),
                     observed_at=f"2025-{r.randint(1, 9):02d}-01T00:00:00Z", **properties)
        for end, ref in (("source", source), ("target", target)):
            if ref[1] == "Company" and ref[0] != "bank" and r.random() < 0.6:
                event = identified(event, end, LEI if r.random() < 0.85 else OTHER_LEI)
        events.append(event)
    return events


def _chain_log(seed: int, n_events: int = 140):
    """Twenty-two to 30 firms the bank pays, each under one relation whose versions state the LEI, another or none,
    or retract it: the holders grow past 16 and shrink below, joined to the smallest, then pairwise, and again."""
    r = random.Random(seed)
    make = EventFactory().make
    firms = [(f"c{i:02d}", "Company", f"C{i}", ()) for i in range(r.randint(22, 30))]
    events = [make("control", MINISTER, REGULATOR, event_id=f"e{seed}-base-1"),
              make("regulates", REGULATOR, BANK, event_id=f"e{seed}-base-2"),
              identified(make("ownership", MINISTER, ("own", "Company", "Own Co", ()), percentage=100,
                              event_id=f"e{seed}-base-3"), "target", LEI)]
    for number in range(n_events):
        firm = r.choice(firms)
        event = make("payment", BANK, firm, amount=2e6, currency="USD", relation_id=f"pay-{firm[0]}",
                     event_id=f"e{seed}-{number:03d}", op="retract" if r.random() < 0.1 else "upsert",
                     publisher=r.choice(["Gazette A", "Gazette B"]))
        roll = r.random()
        if roll < 0.9:
            event = identified(event, "target", LEI if roll < 0.8 else OTHER_LEI)
        events.append(event)
    return events


LOGS = [(_many_holders_log, seed) for seed in range(8)] + [(_chain_log, seed) for seed in range(6)]


@pytest.mark.parametrize(("log", "seed"), LOGS, ids=[f"{log.__name__}-{seed}" for log, seed in LOGS])
def test_holders_edges_citations_and_scores_are_those_of_the_current_versions_after_every_event(log, seed):
    config = ScoringConfig.load()
    events = log(seed)
    layer = ResolvingEngine(config)
    withdrawn, chained = 0, 0
    for number, event in enumerate(events, 1):
        before = {key: set(ids) for key, ids in layer._holders.items()}
        layer.apply(event)
        applied = [e for e in events[:number]]
        holders, edges, cited = _scratch(applied)
        assert {key: set(ids) for key, ids in layer._holders.items()} == holders
        assert {key for key, edge in layer.clusters._edges.items() if edge.kind == IDENTIFIER} == edges
        assert all(key[0] == edge.kind for key, edge in layer.clusters._edges.items())  # (`clusters._in_order`)
        assert {key: seen[:2] for key, seen in layer._identifier_seen.items()} == cited
        withdrawn += any(ids - holders.get(key, set()) for key, ids in before.items())
        chained += any(len(ids) > 16 and ids - holders.get(key, set()) for key, ids in before.items())
    assert withdrawn  # the log did withdraw identifiers
    assert withdrawn and (chained or log is _many_holders_log)  # identifiers withdrawn, from a chain too
    assert layer_state(layer) == engine_state(resolved_from_scratch(events, config))
    shuffled = list(events)
    random.Random(seed).shuffle(shuffled)
    other = ResolvingEngine(config)
    other.apply_many(shuffled)
    assert layer_state(other) == layer_state(layer)
    assert {key: seen[:2] for key, seen in other._identifier_seen.items()} == cited


def test_an_identifier_is_shown_as_its_lowest_current_statement_writes_it_in_any_order_and_after_import():
    """An LEI stated with a country by one relation and without by another is one identifier; it is shown as the
    current statement with the lowest event id writes it, never as a withdrawn one did, whatever the order, and an
    export imports to the same (a review: a retracted statement's `lei:us:...` stayed, and the import differed)."""
    import json

    from scoring.portable import export_state, import_state

    make = EventFactory().make
    firm, other, third = (("a", "Company", "A", ()), ("b", "Company", "B", ()), ("c", "Company", "C", ()))
    with_country = identified(make("partners_with", firm, other, relation_id="r1", event_id="e1"), "source",
                              {**LEI, "jurisdiction": "us"})
    without = identified(make("partners_with", firm, third, relation_id="r2", event_id="e2"), "source", LEI)
    retracted = make("partners_with", firm, other, relation_id="r1", event_id="e3", op="retract")

    def shown(events):
        layer = ResolvingEngine()
        layer.apply_many(events)
        imported, _, _ = import_state(json.loads(json.dumps(record))
                                      for record in export_state(layer, AlertTracker()))
        forms = {layer.cluster("a")["members"][0]["identifiers"][0],
                 imported.cluster("a")["members"][0]["identifiers"][0]}
        assert len(forms) == 1, forms
        return forms.pop()

    assert shown([with_country, without]) == shown([without, with_country]) == f"lei:us:{LEI['value']}"
    assert shown([with_country, without, retracted]) == shown([without, retracted, with_country]) \
        == f"lei:{LEI['value']}"


@pytest.mark.parametrize("holders", [12, 20, 40])
@pytest.mark.parametrize("denied", [("c05", "c11"), ("c00", "c11"), ("c03", "c07")])
def test_a_denial_between_two_holders_of_one_identifier_sets_one_of_them_apart_not_half_of_them(holders, denied):
    """Past 16 holders an identifier's holders were joined in a chain in id order: a denial between two of them cut
    the chain there, and every holder past the cut left the entity too (a review: the 17th holder lost a conflict).
    They are joined to the smallest holder now (a star), so a denial sets the larger of the two apart, as it does
    among 16 or fewer joined pairwise."""
    from .resolution_support import judgement

    make = EventFactory().make
    firms = [(f"c{i:02d}", "Company", f"C{i}", ()) for i in range(holders)]
    events = [identified(make("payment", BANK, firm, amount=2e6, currency="USD", event_id=f"e{i:02d}"), "target", LEI)
              for i, firm in enumerate(firms)]
    a, b = (next(f for f in firms if f[0] == end) for end in denied)
    events.append(judgement(a, b, "denied", event_id="j-1"))
    for order in (events, events[::-1]):
        layer = ResolvingEngine()
        layer.apply_many(order)
        assert set(layer.clusters.members("c00")) == {f[0] for f in firms} - {denied[1]}
        assert layer.clusters.members(denied[1]) == (denied[1],)


@pytest.mark.parametrize("holders", [16, 17, 20, 40])
@pytest.mark.parametrize("refused", [("c00",), ("c00", "c01"), ("c01", "c02"), ("c00", "c05"), ("c00", "c01", "c02"),
                                     ("c00", "c01", "c02", "c03", "c09")])
def test_holders_the_clusters_refuse_for_their_kind_leave_the_rest_merged_as_pairs_would(holders, refused, monkeypatch):
    """An id that holds an LEI as a company but whose newest reference calls it a person is refused by the clusters
    (a person is no company). Joined to the smallest holder alone, such a smallest holder left every holder alone (a
    review of the star); joined to the three smallest, the holders formed the clusters that joining every pair forms
    unless all three were refused (then each holder stayed alone: three such ids undid the merge). The hubs are the
    smallest of the holders of the identifier's kind now (`_hubs_of`), whichever the refused ones are."""
    from scoring import resolution

    make = EventFactory().make
    firms = [(f"c{i:02d}", "Company", f"C{i}", ()) for i in range(holders)]
    events = [identified(make("payment", BANK, firm, amount=2e6, currency="USD", event_id=f"e{i:02d}"), "target", LEI)
              for i, firm in enumerate(firms)]
    events += [make("family", MINISTER, (entity_id, "Person", entity_id.upper(), ()), event_id=f"f-{entity_id}")
               for entity_id in refused]

    def clusters(order):
        layer = ResolvingEngine()
        layer.apply_many(order)
        return {layer.clusters.members(firm[0]) for firm in firms}

    found = [clusters(events), clusters(events[::-1])]
    with monkeypatch.context() as pairwise:
        pairwise.setattr(resolution, "_MAX_PAIRWISE", 10**6)
        joined_pairwise = clusters(events)
    kept = tuple(firm[0] for firm in firms if firm[0] not in refused)
    assert found == [joined_pairwise, joined_pairwise] and kept in joined_pairwise


@pytest.mark.parametrize("seed", range(12))
def test_holders_whose_kind_changes_keep_the_clusters_joining_every_pair_makes(seed, monkeypatch):
    """Random logs of 18 to 30 firms stated with one LEI, some of them named as persons by later relations (their
    newest reference: the clusters refuse to join them with the companies) and as companies again, one at a time or
    two by one event (a reviewing helper: the second end's change was compared against the first's half-made one),
    retracted and restated, in a random order of ids. After every event the identifier's edges are those its hubs give with the
    kinds as they are now (`_hubs_of`: the smallest of each kind), the misfits kept are those found anew, and the
    clusters are those joining every pair of holders makes."""
    from scoring import resolution
    from scoring.resolution import _fits, _identifier_edge_keys

    r = random.Random(seed)
    make = EventFactory().make
    ids = [f"c{i:02d}" for i in range(r.randint(18, 30))]
    events = []
    for number in range(160):
        entity_id = r.choice(ids[:6] if r.random() < 0.5 else ids)  # the hubs' candidates more often
        roll = r.random()
        if roll < 0.55:
            event = identified(make("payment", BANK, (entity_id, "Company", entity_id.upper(), ()), amount=2e6,
                                    currency="USD", relation_id=f"pay-{entity_id}", event_id=f"e{number:03d}"),
                               "target", LEI)
        elif roll < 0.65:
            event = make("payment", BANK, (entity_id, "Company", entity_id.upper(), ()), amount=2e6, currency="USD",
                         relation_id=f"pay-{entity_id}", event_id=f"e{number:03d}", op="retract")
        elif roll < 0.8:  # its newest reference calls it a person, or a company again
            schema = "Person" if roll < 0.75 else "Company"
            event = make("family" if schema == "Person" else "partners_with", MINISTER,
                         (entity_id, schema, entity_id.upper(), ()), event_id=f"e{number:03d}",
                         relation_id=f"named-{entity_id}-{number}")
        else:  # one event names two holders anew, both persons or both companies (both ends' kinds change)
            other = r.choice([i for i in ids if i != entity_id])
            schema = "Person" if roll < 0.88 else "Company"
            event = make("family" if schema == "Person" else "partners_with",
                         (entity_id, schema, entity_id.upper(), ()), (other, schema, other.upper(), ()),
                         event_id=f"e{number:03d}", relation_id=f"named-{entity_id}-{other}-{number}")
        events.append(event)

    def run(check: bool) -> list[set]:
        layer = ResolvingEngine()
        found = []
        for event in events:
            layer.apply(event)
            if check:
                for key, holders in layer._holders.items():
                    misfits = {h for h in holders if not _fits(key, layer._kind_of(h))}
                    assert layer._misfits.get(key, set()) == misfits
                    expected = set(_identifier_edge_keys(key, holders, misfits, layer._kind_of))
                    held = {k for k, edge in layer.clusters._edges.items()
                            if edge.kind == IDENTIFIER and k[1:1 + len(key)] == key}
                    assert held == expected
            found.append({layer.clusters.members(entity_id) for entity_id in ids})
        return found

    hubs = run(check=True)
    with monkeypatch.context() as pairwise:
        pairwise.setattr(resolution, "_MAX_PAIRWISE", 10**6)
        assert run(check=False) == hubs
