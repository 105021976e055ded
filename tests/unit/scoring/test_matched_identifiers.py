"""What the matcher compares of an id is its newest reference with the identifiers the current versions of the
relations naming it state, as the merges use them. The reference's own identifiers may hold one no current version
states (a retraction repeats the ends it retracts: a suggestion cited a retracted LEI as agreeing) and lack one an
older relation still states (a suggestion showed no LEI known where two firms' LEIs disagree)."""

from __future__ import annotations

from schemas import validate_event
from scoring import Engine, ScoringConfig
from scoring.matching import Matcher
from scoring.resolution import ResolvingEngine

PROVENANCE = {"source_url": "https://example.org/a", "publisher": "Example", "retrieved_at": "2025-01-01T00:00:00Z",
              "extractor": {"name": "test", "version": "1"}, "confidence": 1.0}
LEI = {"scheme": "lei", "value": "5493001KJTIIGC8Y1R12"}
OTHER_LEI = {"scheme": "lei", "value": "529900T8BM49AURSDO55"}
NAME = "Nordic Timber Holding AB"
TARGETS = {"t1": "Lake Foods Oy", "t2": "Fjord Mining ASA", "t3": "Baltic Shipping AS"}


def _event(number: int, owner: dict, target: str, day: int, op: str = "upsert", relation: int | None = None):
    return validate_event({
        "schema_version": "1.1", "event_id": f"e{number}", "relation_id": f"r{relation or number}", "op": op,
        "relation_type": "ownership", "source": owner,
        "target": {"id": target, "schema": "Company", "name": TARGETS[target]},
        "observed_at": f"2025-01-{day:02d}T00:00:00Z", "provenance": PROVENANCE})


def _firm(entity_id: str, *identifiers: dict, **more) -> dict:
    return {"id": entity_id, "schema": "Company", "name": NAME, "identifiers": list(identifiers), **more}


def _suggested(events) -> dict[tuple[str, str], str]:
    """The pairs proposed live and those a bulk load's matcher then proposes for one more event, with the
    matcher's criteria."""
    found = {}
    for bulk in (False, True):
        layer = ResolvingEngine(Engine(ScoringConfig.load()), matcher=Matcher())
        if bulk:
            layer.load(events[:-1])
            layer.apply(events[-1])
        else:
            for event in events:
                layer.apply(event)
        for proposal in layer.take_suggestions():
            found.setdefault((proposal.source.id, proposal.target.id), set()).add(proposal.properties.criteria)
    return {pair: criteria.pop() for pair, criteria in found.items() if len(criteria) == 1}


def test_a_retracted_identifier_is_not_compared_as_agreeing():
    events = [_event(1, _firm("x", LEI), "t1", 1),
              _event(2, _firm("x", LEI), "t1", 2, op="retract", relation=1),  # repeats the ends it retracts
              _event(3, _firm("y", LEI), "t2", 3)]
    suggested = _suggested(events)
    assert list(suggested) == [("x", "y")]
    assert "(identifier -, name 1.000)" in suggested[("x", "y")]


def test_an_identifier_an_older_relation_states_is_compared():
    """x's newest reference (a register that writes no LEIs, and gives its country) lacks the LEI its older relation
    states; y's LEI is another. The suggestion shows the analyst that the LEIs disagree, instead of none known."""
    events = [_event(1, _firm("x", LEI), "t1", 1),
              _event(2, _firm("x", country="se"), "t2", 2),
              _event(3, _firm("y", OTHER_LEI), "t3", 3)]
    suggested = _suggested(events)
    assert list(suggested) == [("x", "y")]
    assert "identifier 0.000, name 1.000)" in suggested[("x", "y")]
    # (with the LEIs agreeing the two merge on it and no suggestion is needed)
    layer = ResolvingEngine(Engine(ScoringConfig.load()), matcher=Matcher())
    for event in events[:2] + [_event(3, _firm("y", LEI), "t3", 3)]:
        layer.apply(event)
    assert layer.canonical("y") == "x" and layer.take_suggestions() == []
