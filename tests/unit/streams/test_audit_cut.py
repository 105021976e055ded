"""Audit reports of scores and alerts the worker cut to fit max_message_bytes (streams.processor._cut_to_fit): the
report must say what the published message left out, as `coi-risk watch` does, not present the first statements
and ids as all of them (found by a fuzz review of the cut)."""

from __future__ import annotations

from scoring import AlertTracker, Engine, ScoringConfig
from streams.audit import build_report, render_html, render_markdown
from streams.processor import EventProcessor, ProcessingLimits
from streams.replay import ReplayItem
from tests.unit.scoring.conftest import EventFactory
from tests.unit.scoring.resolution_support import judgement
from tests.unit.streams.test_processor import record


def cut_conflict(with_processor: bool = False):
    """The minister's control of the regulator restated by 30 outlets with long quotes, and 40 ids (200 characters
    each) merged into the minister: under a 12 KB limit the minister x bank score and alert are cut to one statement
    per edge and a few ids."""
    config = ScoringConfig.load()
    processor = EventProcessor(Engine(config), AlertTracker(config), limits=ProcessingLimits(max_message_bytes=12_000))
    make = EventFactory().make
    minister = ("minister", "Person", "Finance Minister", ("role.pep", "gov.national"))
    events = [make("control", minister, "regulator", relation_id=f"control-{n}", publisher=f"Outlet {n}",
                   url=f"https://example.org/{n}", quote="The minister runs the regulator. " * 60) for n in range(30)]
    events += [judgement((f"zz-{n:04d}-".ljust(200, "x"), "Person", f"Ghost {n}", ()), minister,
                         relation_id=f"g{n}", matcher="adversary") for n in range(40)]
    events += [make("regulates", "regulator", "bank"), make("ownership", "minister", "vendor", percentage=100),
               make("payment", "bank", "vendor", amount=3e6, currency="USD")]
    items = []
    for offset, event in enumerate(events):
        rec = record(event.model_dump_json(by_alias=True).encode(), offset, key=event.relation_id.encode())
        items.append(ReplayItem(rec, processor.process(rec), True))
    return (items, processor) if with_processor else items


def test_the_audit_of_a_cut_conflict_says_what_its_messages_left_out():
    report = build_report(cut_conflict(), pair=("minister", "bank"))
    (alert,) = report["alert_transitions"]
    control = next(edge for path in alert["paths"] for edge in path["edges"] if edge["relation_type"] == "control")
    assert len(control["evidence"]) == 1 and control["evidence_omitted"] == 29
    (note,) = alert["merges"]
    assert note["member_ids_omitted"] == 41 - len(note["member_ids"]) > 0 and note["evidence_omitted"] == 40
    markdown, page = render_markdown(report), render_html(report)
    assert "29 more statements of this edge left out of the published message" in markdown
    assert "29 more statements of this edge left out of the published message" in page
    assert f"and {note['member_ids_omitted']} more ids" in markdown
    assert "40 more merges left out" in markdown
    # a note lists at most evidence.max_listed_merges (25) whatever the message size: not only a cut leaves them out
    assert "40 more merges left out of the published message (beyond evidence.max_listed_merges, or cut" in markdown


def test_the_audit_of_an_id_cut_from_the_merged_ids_still_finds_the_conflict_of_its_entity():
    """docs/audit.md: an id merged into another finds the scores and alerts of the entity it is part of. It was
    matched against the message's `actor_merged_ids`, which the cut shortens: the minister's 40th ghost id found
    nothing. The replay's processor knows the id's entity."""
    items, processor = cut_conflict(with_processor=True)
    ghost = "zz-0039-".ljust(200, "x")
    published = [out for item in items for out in item.outcome.outbound if out.role == "alerts"]
    assert published and all(ghost.encode() not in out.value for out in published)  # cut from every message
    report = build_report(items, entity=ghost, canonical=processor.engine.canonical)
    assert {(e["actor_id"], e["counterparty_id"]) for e in report["final"]} >= {("minister", "bank")}
    assert [t["state"] for t in report["alert_transitions"]] == ["raised"]


def listed_before(note) -> int:
    return len(note.member_ids) + note.member_ids_omitted


def test_the_rendered_score_of_a_cut_entity_counts_the_ids_its_message_left_out():
    """`coi-risk watch` (streams.render.merged_ids) counted only the ids listed: an entity whose ids were cut down to
    the canonical one was shown as not merged at all."""
    from schemas import RiskScore
    from streams.render import merged_ids

    items = cut_conflict()
    (raw,) = [out.value for out in items[-1].outcome.outbound if out.role == "scores" and out.key == b"minister|bank"]
    score = RiskScore.model_validate_json(raw)
    (note,) = score.merges
    assert note.member_ids_omitted and listed_before(note) == 41
    listed = len(score.actor_merged_ids) - 1
    assert merged_ids(score) == "actor minister = " + ", ".join(
        [*score.actor_merged_ids[1:5], f"+{listed - min(listed, 4) + note.member_ids_omitted} more"])


def test_a_statement_without_its_words_says_so_in_the_audit():
    """The seed's control edges state no quote: an auditor read nothing there, and could not tell a statement
    without its words from one whose words were left out (a user's review)."""
    from streams.audit import _evidence_lines

    def path(quote):
        evidence = {"event_id": "e1", "publisher": "Gazette", "source_url": "https://example.org/a", "offset": "0:1",
                    "extractor": "x/1", "confidence": 0.9, **({"quote": quote} if quote else {})}
        return {"edges": [{"relation_id": "r1", "relation_type": "control", "status": "confirmed",
                           "evidence": [evidence]}]}

    assert _evidence_lines(path(None))[0].endswith("confidence 0.9 - no quote")
    assert _evidence_lines(path("He controls it."))[0].endswith('confidence 0.9 - "He controls it."')


def test_a_role_shows_in_the_audit_as_in_the_message():
    """A seat's role weighs it (chair above member), and every relation's role or relationship says what it is: the
    audit's evidence says it, in Markdown, HTML and JSON; a relation that states none shows none."""
    config = ScoringConfig.load()
    processor = EventProcessor(Engine(config), AlertTracker(config))
    make = EventFactory().make
    committee = ("committee", "PublicBody", "Banking Committee", ())
    events = [make("membership", "mayor", committee, role="Chair"), make("oversees", committee, "bank"),
              make("family", "son", "mayor", relationship="son"), make("ownership", "son", "bank", percentage=40)]
    items = []
    for offset, event in enumerate(events):
        rec = record(event.model_dump_json(by_alias=True).encode(), offset, key=event.relation_id.encode())
        items.append(ReplayItem(rec, processor.process(rec), True))
    report = build_report(items, pair=("mayor", "bank"))
    seats = [edge for t in report["alert_transitions"] for path in t["paths"] for edge in path["edges"]
             if edge["relation_type"] == "membership"]
    assert seats and all(edge["role"] == "Chair" for edge in seats)
    others = [edge for t in report["alert_transitions"] for path in t["paths"] for edge in path["edges"]
              if edge["relation_type"] != "membership"]
    assert {edge["relation_type"]: edge.get("role") for edge in others} == {
        "family": "son", "ownership": None, "oversees": None}
    assert "(membership, role Chair, confirmed)" in render_markdown(report)
    assert "(membership, role Chair, confirmed)" in render_html(report)
    assert "(family, relationship son, confirmed)" in render_markdown(report)
