"""The refresh's shortcuts skip work that cannot change a result, and the scores stay those of a full recomputation:
a reader of part of a shared result is recomputed only when its part changes, a relative's stakes are walked once
for every exposure set he is part of, one `Strength` serves a whole refresh, and `strongest` ranks exactly as its
full key does."""

from __future__ import annotations

import random

import pytest

import scoring.engine as engine_module
from scoring import Engine
from scoring.caches import Kind
from scoring.candidates import partners
from scoring.dependencies import NullReads
from scoring.exposure import exposure_set
from scoring.graph import Relation
from scoring.ownership import sphere, stakes
from scoring.paths import Hop, chain_signature, chain_strength, relation_ids, strongest
from scoring.search import SearchContext

from .conftest import full_state, incremental_state


@pytest.fixture
def counted(monkeypatch):
    """Whose exposure set and partners the engine computed incrementally (a full recomputation, which has no shared
    results, is not counted)."""
    calls = {"exposure": [], "partners": []}
    exposure_set, partners = engine_module.exposure_set, engine_module.partners

    def counting_exposure(actor, ctx):
        if ctx.memo is not None:
            calls["exposure"].append(actor)
        return exposure_set(actor, ctx)

    def counting_partners(actor, exposure, ctx):
        if ctx.memo is not None:
            calls["partners"].append(actor)
        return partners(actor, exposure, ctx)

    monkeypatch.setattr(engine_module, "exposure_set", counting_exposure)
    monkeypatch.setattr(engine_module, "partners", counting_partners)
    return calls


def applied(engine: Engine, event, calls: dict) -> None:
    for made in calls.values():
        made.clear()
    engine.apply(event)
    assert incremental_state(engine) == full_state(engine)


def test_an_exposure_set_reads_only_its_members_ties_to_assets(make, counted):
    engine = Engine()
    for event in (make("control", "minister", "regulator"), make("regulates", "regulator", "bank"),
                  make("family", "spouse", "minister"), make("payment", "spouse", "bank", amount=2e6, currency="USD")):
        engine.apply(event)
    assert engine.scores()
    # a new tie of a member to a party: the member's ties change, the exposure set (which lists only ties to
    # tokens and securities) does not, and is not recomputed; the partner scan gains the new neighbour without
    # being recomputed (the member's ties only gained one), to what a scan finds
    applied(engine, make("payment", "spouse", "builder", amount=1e6, currency="USD"), counted)
    assert counted["exposure"] == [] and counted["partners"] == []
    assert "builder" in engine._partners["minister"]
    ctx = SearchContext(engine.graph, engine.config, engine.graph.clock.date(), NullReads())
    assert engine._partners["minister"] == partners("minister", engine._exposure["minister"], ctx)
    # a member's tie to a token: the exposure set is recomputed and lists it
    applied(engine, make("issues", "spouse", "token"), counted)
    assert counted["exposure"] == ["minister"]
    assert "token" in engine._exposure["minister"].assets.by_asset
    # a tie's new version that moves no neighbour: the partner scan is not recomputed either
    applied(engine, make("payment", "spouse", "builder", amount=9e6, currency="USD"), counted)
    assert counted["exposure"] == [] and counted["partners"] == []


def test_a_relatives_stakes_are_walked_once_for_every_exposure_set_and_again_when_they_change(make, counted):
    engine = Engine()
    for event in (make("control", "minister", "regulator"), make("control", "mayor", "town"),
                  make("regulates", "regulator", "bank"), make("regulates", "town", "bank"),
                  make("family", "son", "minister"), make("associate", "son", "mayor"),
                  make("family", "spouse", "minister"),
                  make("ownership", "son", "holdco", percentage=15), make("ownership", "spouse", "holdco", percentage=15),
                  make("payment", "bank", "holdco", amount=5e6, currency="USD")):
        engine.apply(event)
    assert incremental_state(engine) == full_state(engine)
    readers = engine._caches.users(Kind.STAKES, "son")
    assert {(Kind.EXPOSURE, "minister"), (Kind.EXPOSURE, "mayor")} <= set(readers)
    ctx = SearchContext(engine.graph, engine.config, engine.graph.clock.date(), NullReads())
    assert engine._caches.get(Kind.STAKES, "son") == stakes("son", ctx)
    # a stake below the son's holding company: his stakes change; the minister's exposure set is recomputed (the
    # spouse holds the shell through holdco too: their stakes in it may add up), the mayor's is not (none of his
    # other related parties holds it: the son's stake in it is a part of nothing)
    applied(engine, make("ownership", "holdco", "shell", percentage=10), counted)
    assert sorted(counted["exposure"]) == ["minister"]
    assert "shell" in engine._caches.get(Kind.STAKES, "son")
    ctx = SearchContext(engine.graph, engine.config, engine.graph.clock.date(), NullReads())
    assert engine._exposure["mayor"] == exposure_set("mayor", ctx)
    # a stake of the mayor's own in it: now two of his parties hold it, and his exposure set is recomputed
    applied(engine, make("ownership", "mayor", "shell", percentage=20), counted)
    assert "mayor" in counted["exposure"]
    ctx = SearchContext(engine.graph, engine.config, engine.graph.clock.date(), NullReads())
    assert engine._exposure["mayor"] == exposure_set("mayor", ctx)


def test_strongest_ranks_as_its_full_key_also_when_chains_tie():
    factory_rng = random.Random(11)

    def record(number: int) -> Relation:
        rec = Relation.__new__(Relation)
        rec.relation_id, rec.event_id = f"r{number}", f"e{number}"
        return rec

    records = [record(n) for n in range(4)]
    for _ in range(300):
        chains = []
        for _ in range(factory_rng.randint(2, 7)):
            length = factory_rng.randint(1, 2)
            chains.append(tuple(Hop(factory_rng.choice(records), factory_rng.random() < 0.5,
                                    factory_rng.choice((0.5, 1.0)), factory_rng.random() < 0.5)
                                for _ in range(length)))
        limit = factory_rng.randint(1, 4)
        full = sorted(chains, key=lambda c: (-chain_strength(c, 0.8), relation_ids(c), chain_signature(c)))
        assert strongest(chains, 0.8, limit) == tuple(full[:limit])


def test_one_refresh_shares_one_strength_and_keeps_none_after_it(make, monkeypatch):
    engine = Engine()
    seen = []
    context = Engine._context

    def watching(self, reads, day=None):
        ctx = context(self, reads, day)
        seen.append(ctx.strength)
        return ctx

    monkeypatch.setattr(Engine, "_context", watching)
    for event in (make("control", "minister", "regulator"), make("regulates", "regulator", "bank"),
                  make("family", "son", "minister"), make("ownership", "son", "vendor", percentage=100)):
        seen.clear()
        engine.apply(event)
        assert seen and len({id(strength) for strength in seen}) == 1
        assert engine._strength is None
    seen.clear()
    engine.recompute_all()
    assert all(strength is not engine._strength for strength in seen)


def test_a_sphere_reads_the_holdings_the_engine_keeps_instead_of_walking_them_again(make):
    engine = Engine()
    for event in (make("control", "minister", "regulator"), make("regulates", "regulator", "bank"),
                  make("family", "son", "minister"), make("ownership", "son", "holdco", percentage=60),
                  make("ownership", "holdco", "shell", percentage=70),
                  make("payment", "bank", "shell", amount=5e6, currency="USD")):
        engine.apply(event)
    assert incremental_state(engine) == full_state(engine) != {}
    # the son is a member of the minister's exposure set (whose holdings it reads) and so one of his partners
    assert (Kind.SPHERE, "son") in engine._caches.users(Kind.HOLDINGS, "son")
    ctx = SearchContext(engine.graph, engine.config, engine.graph.clock.date(), NullReads())
    assert engine._caches.get(Kind.SPHERE, "son") == sphere("son", ctx) == ("holdco", "shell")
    # what he holds changes below him: the sphere follows the kept holdings
    engine.apply(make("ownership", "shell", "vendor", percentage=90))
    assert incremental_state(engine) == full_state(engine)
    ctx = SearchContext(engine.graph, engine.config, engine.graph.clock.date(), NullReads())
    assert engine._caches.get(Kind.SPHERE, "son") == sphere("son", ctx) == ("holdco", "shell", "vendor")


def test_a_group_reads_who_owns_its_counterparty_from_the_store(make):
    engine = Engine()
    for event in (make("control", "minister", "regulator"), make("regulates", "regulator", "bank"),
                  make("family", "son", "minister"), make("ownership", "tycoon", "bank", percentage=40),
                  make("payment", "son", "bank", amount=5e6, currency="USD")):
        engine.apply(event)
    assert incremental_state(engine) == full_state(engine) != {}
    assert (Kind.GROUP, "bank") in engine._caches.users(Kind.OWNERS, "bank")
    # a new tie of the counterparty recomputes its group, which takes its owners as kept (not walked again)
    held = engine._caches.get(Kind.OWNERS, "bank")
    engine.apply(make("payment", "bank", "vendor", amount=1e6, currency="USD"))
    assert incremental_state(engine) == full_state(engine)
    assert engine._caches.get(Kind.OWNERS, "bank") is held
    # a new owner: the owners are walked again and the group follows
    engine.apply(make("ownership", "holdco", "bank", percentage=30))
    assert incremental_state(engine) == full_state(engine)
    assert set(engine._caches.get(Kind.OWNERS, "bank")) == {"tycoon", "holdco"}
    assert "holdco" in engine._caches.get(Kind.GROUP, "bank").members


def test_the_chains_of_one_refresh_share_a_records_ownership_hop(make):
    # what the tycoon holds of the shell and who holds the shell both pass holdco -> shell: one Hop of that record, not a copy per walk
    from scoring.ownership import holdings, owners

    engine = Engine()
    for event in (make("ownership", "tycoon", "holdco", percentage=80), make("ownership", "holdco", "shell", percentage=90)):
        engine.apply(event)
    ctx = SearchContext(engine.graph, engine.config, engine.graph.clock.date(), NullReads())
    (down,) = holdings("tycoon", ctx)["shell"].chains
    (up,) = owners("shell", ctx)["tycoon"].chains
    assert [hop.rec.target for hop in down] == [hop.rec.target for hop in up] == ["holdco", "shell"]
    assert down[1] is up[1] and down[0] is up[0]


def test_a_walk_that_meets_no_control_is_the_same_along_ownership_alone_and_with_control():
    # random holding webs of ownership, control and directorship (cycles, several facts between two nodes,
    # stakes that ended): wherever either walk says it met no control, both found the same, read the same and
    # visited as much; and both kinds of walk occur
    from scoring.ownership import StakesAlone, holdings, owners
    from scoring.dependencies import Reads
    from scoring.semantics import HOLDING_TYPES, IN, OUT, STAKE_TYPES, Layer
    from .conftest import EventFactory

    kinds = {True: 0, False: 0}
    for seed in range(40):
        rng = random.Random(seed)
        factory = EventFactory()
        companies = [(f"c{i}", "Company", f"Company {i}", ()) for i in range(7)]
        people = [(f"p{i}", "Person", f"Person {i}", ()) for i in range(2)]
        engine = Engine()
        for _ in range(rng.randint(4, 16)):
            source = rng.choice(companies + people)
            target = rng.choice([c for c in companies if c != source])
            relation = rng.choice(["ownership", "ownership", "ownership", "control", "directorship"])
            properties = {"percentage": rng.choice([10, 30, 51, 90])} if relation == "ownership" else {}
            end = "2024-06-30" if rng.random() < 0.15 else None
            engine.apply(factory.make(relation, source, target, end=end,
                                      relation_id=f"r{rng.randint(0, 30)}", **properties))
        day = engine.graph.clock.date()
        for node, *_ in companies + people:
            for walk in (holdings, owners):
                found = {}
                for types in (STAKE_TYPES, HOLDING_TYPES):
                    reads = Reads()
                    result = walk(node, SearchContext(engine.graph, engine.config, day, reads), types)
                    found[types] = (result, reads.entries, reads.visits)
                alone = [type(result) is StakesAlone for result, _, _ in found.values()]
                if not engine.graph.adjacency(node, Layer.HOLDING, OUT if walk is holdings else IN):
                    assert alone == [True, True]  # nothing listed, no control met
                assert alone[0] == alone[1], (seed, node, walk)
                kinds[alone[0]] += 1
                if alone[0]:
                    assert found[STAKE_TYPES] == found[HOLDING_TYPES], (seed, node, walk)
    assert kinds[True] > 50 and kinds[False] > 50, kinds


def test_a_sphere_reads_what_its_node_beneficially_owns_where_that_walk_met_no_control(make, monkeypatch):
    import scoring.ownership as ownership_module
    from scoring.ownership import StakesAlone

    engine = Engine()
    for event in (make("control", "minister", "regulator"), make("regulates", "regulator", "bank"),
                  make("family", "son", "minister"), make("ownership", "son", "holdco", percentage=60),
                  make("payment", "bank", "holdco", amount=5e6, currency="USD"),
                  make("payment", "builder", "holdco", amount=2e6, currency="USD"),
                  make("ownership", "builder", "vendor", percentage=60),
                  # a chain worth 0.6% ends at bank-sub: the walk reads its attributes, not its holdings
                  make("ownership", "vendor", "bank-sub", percentage=1)):
        engine.apply(event)
    assert incremental_state(engine) == full_state(engine) != {}
    # the builder is a partner of the minister (its sphere is kept) and a candidate counterparty (so is what it
    # owns), over which the minister has no authority (so no group reads its holdings)
    assert engine._caches.get(Kind.SPHERE, "builder") == ("vendor",)
    assert type(engine._caches.get(Kind.OWNED, "builder")) is StakesAlone
    assert engine._caches.get(Kind.HOLDINGS, "builder") is None
    walks = []
    walk = ownership_module._walk

    def counted(start, ctx, forward, types, with_chains, dated=False):
        walks.append((start, forward, with_chains))
        return walk(start, ctx, forward, types, with_chains, dated)

    monkeypatch.setattr(ownership_module, "_walk", counted)
    # a stake below the builder: what it owns is walked again, and its sphere takes that walk instead of its own
    engine.apply(make("ownership", "vendor", "exchange", percentage=90))
    assert ("builder", True, True) in walks and ("builder", True, False) not in walks
    assert engine._caches.get(Kind.SPHERE, "builder") == ("exchange", "vendor")
    owned_reads = set(engine._deps.reads_of((Kind.OWNED, "builder")))
    # the adjacency reads of builder, vendor and exchange, and the attributes of bank-sub
    assert len(owned_reads) == 4 and (engine._deps._NODES, "bank-sub") in owned_reads
    assert owned_reads <= set(engine._deps.reads_of((Kind.SPHERE, "builder")))
    assert incremental_state(engine) == full_state(engine)
    # control below the builder: ownership alone no longer walks as ownership and control do, so the sphere walks
    # itself and finds what the builder controls, which it does not beneficially own
    walks.clear()
    engine.apply(make("control", "exchange", "issuer"))
    assert ("builder", True, False) in walks
    owned = engine._caches.get(Kind.OWNED, "builder")
    assert type(owned) is dict and set(owned) == {"exchange", "vendor"}
    assert engine._caches.get(Kind.SPHERE, "builder") == ("exchange", "issuer", "vendor")
    assert incremental_state(engine) == full_state(engine)
    # and back: the control is retracted, the shortcut returns
    walks.clear()
    engine.apply(make("control", "exchange", "issuer", op="retract"))
    assert ("builder", True, False) not in walks
    assert type(engine._caches.get(Kind.OWNED, "builder")) is StakesAlone
    assert engine._caches.get(Kind.SPHERE, "builder") == ("exchange", "vendor")
    assert incremental_state(engine) == full_state(engine)


def test_what_a_counterparty_beneficially_owns_is_read_from_its_kept_holdings_where_they_met_no_control(make):
    from scoring.ownership import StakesAlone

    engine = Engine()
    for event in (make("control", "minister", "regulator"), make("regulates", "regulator", "bank"),
                  make("family", "son", "minister"), make("ownership", "son", "holdco", percentage=60),
                  make("payment", "bank", "holdco", amount=5e6, currency="USD"),
                  make("ownership", "bank", "bank-sub", percentage=60)):
        engine.apply(event)
    # the minister steers the bank's regulator: the pair's group reads the bank's holdings, which the store keeps
    assert type(engine._caches.get(Kind.HOLDINGS, "bank")) is StakesAlone
    engine.apply(make("ownership", "bank-sub", "vendor", percentage=90))
    holdings, owned = engine._caches.get(Kind.HOLDINGS, "bank"), engine._caches.get(Kind.OWNED, "bank")
    assert type(owned) is StakesAlone and list(owned) == ["bank-sub", "vendor"]
    # the same chains, not a second walk's equal ones
    assert all(owned[node] is holdings[node].chains for node in owned)
    assert set(engine._deps.reads_of((Kind.HOLDINGS, "bank"))) == set(engine._deps.reads_of((Kind.OWNED, "bank")))
    assert incremental_state(engine) == full_state(engine)
    # control below the bank: its holdings count it, what it beneficially owns does not
    engine.apply(make("control", "vendor", "builder"))
    assert "builder" in engine._caches.get(Kind.HOLDINGS, "bank")
    assert list(engine._caches.get(Kind.OWNED, "bank")) == ["bank-sub", "vendor"]
    assert incremental_state(engine) == full_state(engine)
