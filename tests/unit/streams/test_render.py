"""streams.render: the two readable forms of a RiskScore (`tail`'s block, `score`'s ranked report) and alerts."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from schemas import Alert, Band, Evidence, ExplanationPath, PathEdge, RiskScore
from streams.commands import score as score_command
from streams.render import render_alert, render_ranking, render_score

SEED_SCENARIO = Path(__file__).resolve().parents[3] / "examples" / "binance-wlfi.jsonl"


def _evidence(event_id: str, url: str) -> Evidence:
    return Evidence(event_id=event_id, source_url=url, publisher="Gazette", extractor="hand/1", confidence=0.9,
                    status="confirmed", observed_at=dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc))


def _path(kind: str, text: str, strength: float, *evidence: Evidence) -> ExplanationPath:
    edge = PathEdge(relation_id="r", relation_type="ownership", source_id="a", source_name="A", target_id="b",
                    target_name="B", status="confirmed", weight=strength, evidence=evidence)
    return ExplanationPath(kind=kind, text=text, strength=strength, edges=(edge,))


LONG = " ".join(f"Holding{i} -ownership->" for i in range(12)) + " Counterparty"
SCORE = RiskScore(
    actor_id="pm", actor_name="Prime Minister", counterparty_id="acme", counterparty_name="Acme", score=0.5,
    band=Band.HIGH, rules=("R-1", "R-2"), graph_version=7,
    authority_paths=(_path("authority", "Prime Minister -control-> Ministry -oversees-> Acme", 0.8,
                           _evidence("e2", "https://b.example/2"), _evidence("e1", "https://a.example/1")),),
    commercial_paths=(_path("commercial", LONG, 0.25, _evidence("e3", "https://a.example/1")),),
)


def test_tail_form_lists_each_path_with_its_own_evidence():
    lines = render_score(SCORE).splitlines()
    assert lines[0] == "HIGH     0.500  Prime Minister x Acme  rules=R-1,R-2  graph_version=7"
    assert lines[1] == "  authority  Prime Minister -control-> Ministry -oversees-> Acme  [0.80]"
    assert lines[2] == "             evidence: events e1, e2; https://a.example/1, https://b.example/2"
    assert lines[3] == f"  commercial {LONG}  [0.25]"
    assert lines[4] == "             evidence: events e3; https://a.example/1"

    edge = SCORE.commercial_paths[0].edges[0].model_copy(update={"evidence_omitted": 41})
    cut = SCORE.model_copy(update={"commercial_paths": (SCORE.commercial_paths[0].model_copy(
        update={"edges": (edge,)}),)})
    assert render_score(cut).splitlines()[4] == ("             evidence: events e3; https://a.example/1 "
                                                 "(+41 statements not in the message)")


def test_report_form_ranks_then_explains_with_wrapped_paths_and_sources():
    other = SCORE.model_copy(update=dict(counterparty_name="Acme Holdings", score=0.125, band=Band.LOW,
                                         commercial_paths=()))
    lines = render_ranking([SCORE, other]).splitlines()
    assert lines[:3] == [
        "  #   score  band      pair                            rules",
        "  1   0.500  high      Prime Minister x Acme           R-1, R-2",
        "  2   0.125  low       Prime Minister x Acme Holdings  R-1, R-2",
    ]
    first = lines[lines.index("1. Prime Minister (pm) x Acme (acme): 0.500 HIGH  [R-1, R-2]"):]
    # each path cites its sources by number (before: one pooled list, which path rests on what unsaid)
    assert first[1:3] == ["   authority:", "     0.800  Prime Minister -control-> Ministry -oversees-> Acme  [1, 2]"]
    assert first[3] == "   ties:"
    wrapped = first[4:first.index("   sources:")]
    assert len(wrapped) > 1 and all(len(line) <= 116 for line in wrapped)
    assert wrapped[0].startswith("     0.250  Holding0")
    assert all(line[:12] == " " * 12 and line[12] != " " for line in wrapped[1:])
    assert " ".join(wrapped).split() == f"0.250 {LONG} [1]".split()
    assert first[first.index("   sources:") + 1:][:2] == ["     [1] Gazette: https://a.example/1 (events e1, e3)",
                                                           "     [2] Gazette: https://b.example/2 (events e2)"]
    second = lines[lines.index("2. Prime Minister (pm) x Acme Holdings (acme): 0.125 LOW  [R-1, R-2]"):]
    assert "   ties:" not in second
    assert not any(line.startswith("25%?") for line in lines)  # no assumed stake shown: no legend
    assumed = SCORE.model_copy(update={"authority_paths": (_path("authority", "PM -ownership[25%?]-> Acme", 0.5),)})
    assert render_ranking([assumed]).splitlines()[-1].startswith("25%?: the source gives no percentage")


def test_alert_form_shares_the_path_lines():
    alert = Alert(alert_id="pm|acme#0", sequence=1, state="escalated", actor_id="pm", actor_name="Prime Minister",
                  counterparty_id="acme", counterparty_name="Acme", band=Band.HIGH, previous_band=Band.MEDIUM,
                  score=0.5, previous_score=0.3, rules=SCORE.rules, authority_paths=SCORE.authority_paths,
                  commercial_paths=SCORE.commercial_paths, graph_version=7)
    lines = render_alert(alert).splitlines()
    assert lines[0] == ("[ESCALATED high] Prime Minister x Acme  score 0.300 -> 0.500  rules=R-1,R-2  "
                        "alert pm|acme#0 #1")
    assert lines[1:] == render_score(SCORE).splitlines()[1:]


def test_score_command_prints_the_shared_report(capsys):
    def run(*argv):
        parser = argparse.ArgumentParser(prog="coi-risk")
        score_command.register(parser.add_subparsers(dest="command", required=True))
        args = parser.parse_args(["score", str(SEED_SCENARIO), *argv])
        assert args.func(args) == 0
        return capsys.readouterr().out

    scores = [RiskScore.model_validate_json(line) for line in run("--json").splitlines()]
    text = run()
    assert scores and text.endswith("\n\n" + render_ranking(scores))


def test_a_dead_letter_renders_with_or_without_an_original():
    import base64

    from schemas import DeadLetter
    from streams.render import render_dead_letter

    tombstone = DeadLetter(reason="null_value", message="no value", original_value=None, topic="in", partition=0,
                           offset=4)
    assert "original: null (a tombstone)" in render_dead_letter(tombstone)
    value = DeadLetter(reason="malformed_json", message="bad", original_value=base64.b64encode(b"{x").decode(),
                       original_value_length=2, topic="in", partition=0, offset=5)
    assert "original: b'{x' (2 bytes)" in render_dead_letter(value)


def _merged(**update) -> RiskScore:
    from schemas.outputs import MergeEvidence, MergeNote

    evidence = MergeEvidence(kind="identifier", source_id="pm", target_id="Q7", identifier="wikidata:Q7",
                             text="wikidata:Q7")
    note = MergeNote(canonical_id="pm", name="Prime Minister", member_ids=("Q7", "pm"), evidence=(evidence,),
                     text="Prime Minister (pm) = PM (Q7), by shared identifier wikidata:Q7")
    return SCORE.model_copy(update=dict(actor_merged_ids=("Q7", "os-1", "os-2", "os-3", "os-4", "os-5", "pm"),
                                        merges=(note,), **update))


def test_merged_ids_show_compactly_in_both_forms():
    score = _merged(counterparty_merged_ids=("acme", "acme-ltd"))
    lines = render_score(score).splitlines()
    assert lines[1] == "  ids        actor pm = Q7, os-1, os-2, os-3, +2 more; counterparty acme = acme-ltd"
    assert lines[-1] == "  merged     Prime Minister (pm) = PM (Q7), by shared identifier wikidata:Q7"
    report = render_ranking([score]).splitlines()
    head = report.index("1. Prime Minister (pm) x Acme (acme): 0.500 HIGH  [R-1, R-2]")
    assert report[head + 1] == "   ids: actor pm = Q7, os-1, os-2, os-3, +2 more; counterparty acme = acme-ltd"
    assert "   merged:" in report
    only_actor = render_score(_merged()).splitlines()[1]
    assert only_actor == "  ids        actor pm = Q7, os-1, os-2, os-3, +2 more"
    assert not any(line.lstrip().startswith("ids") for line in render_score(SCORE).splitlines())


def test_an_alert_shows_its_case_and_related_parties():
    from schemas.outputs import RelatedParty

    def alert(**update) -> Alert:
        return Alert(alert_id="a1", sequence=0, state="raised", actor_id="pm", actor_name="Prime Minister",
                     counterparty_id="acme", counterparty_name="Acme", band=Band.HIGH, previous_band=Band.NONE,
                     score=0.5, previous_score=0.0, rules=SCORE.rules, authority_paths=SCORE.authority_paths,
                     commercial_paths=(), graph_version=7, **update)

    related = tuple(RelatedParty(id=f"h{i}", name=f"Holding {i}", score=0.4 - i / 10, band=Band.MEDIUM)
                    for i in range(4))
    # raised: the score it was raised at alone (before: "0.000 -> 0.500", read as the pair's last score)
    assert render_alert(alert()).splitlines()[0] == ("[RAISED high] Prime Minister x Acme  score 0.500  rules=R-1,R-2  "
                                                     "alert a1 #0")
    lines = render_alert(alert(case_id="acme", related_parties=related)).splitlines()
    assert lines[1] == ("  case acme: also Holding 0 (h0) 0.400 medium, Holding 1 (h1) 0.300 medium, "
                        "Holding 2 (h2) 0.200 medium, +1 more")
    assert lines[2].startswith("  authority  ")
    # a case named after another party than the pair's counterparty is shown even without related parties
    assert render_alert(alert(case_id="ministry-firm")).splitlines()[1] == "  case ministry-firm"
    # an alert that is just its own pair adds no line
    assert render_alert(alert(case_id="acme")).splitlines()[1].startswith("  authority  ")
    merged = render_alert(alert(case_id="acme", actor_merged_ids=("Q7", "pm"))).splitlines()
    assert merged[1] == "  ids        actor pm = Q7"
