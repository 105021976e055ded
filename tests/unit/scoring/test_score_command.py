"""`coi-risk score FILE.jsonl`: in-process scoring from a file, text or JSON lines, bad lines reported."""

from __future__ import annotations

import argparse
import json

import pytest

from schemas.outputs import RiskScore
from streams.commands import score as score_command

from .conftest import SEED_SCENARIO


def run(*argv, capsys):
    parser = argparse.ArgumentParser(prog="coi-risk")
    score_command.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["score", *map(str, argv)])
    code = args.func(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_text_report_ranks_pairs_with_explanations(capsys):
    code, out, err = run(SEED_SCENARIO, capsys=capsys)
    assert code == 0 and err == ""
    assert "29 events applied, 0 rejected" in out
    ranking = [line for line in out.splitlines() if line[:3].strip().isdigit() and line[3:5] == "  "]
    assert "Donald Trump x Justin Sun" in ranking[0] and "Donald Trump x Binance" in ranking[1]
    assert ('Donald Trump -control["head of the executive branch"]-> US Department of the Treasury '
            '-oversees["AML compliance monitorship"]-> Binance') in " ".join(out.split())  # (paths wrap)
    assert "https://example.org/news/2025/binance-seeks-trump-family-deal" in out


def test_json_lines_are_risk_scores(capsys):
    code, out, _ = run(SEED_SCENARIO, "--json", "--min-band", "high", capsys=capsys)
    scores = [RiskScore.model_validate_json(line) for line in out.splitlines()]
    assert code == 0 and {(s.actor_id, s.counterparty_id) for s in scores} == {
        ("trump", "binance"), ("trump", "sun"), ("trump", "cz")}
    assert scores == sorted(scores, key=lambda s: -s.score)


def test_bad_lines_are_reported_and_skipped(tmp_path, capsys):
    lines = SEED_SCENARIO.read_text().splitlines()
    broken = json.loads(lines[1])
    broken["relation_type"] = "befriends"
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join([lines[0], "{not json", json.dumps(broken), "", *lines[2:]]) + "\n")
    code, out, err = run(path, "--json", capsys=capsys)
    assert code == 1  # the scores of the lines that applied are printed; the exit says some did not
    assert f"{path}:2: malformed_json" in err and f"{path}:3: unknown_relation_type" in err
    assert len(err.splitlines()) == 2
    assert out.strip()


def test_as_of_reads_the_graph_at_a_date(capsys):
    code, out, _ = run(SEED_SCENARIO, "--as-of", "2024-12-31", "--min-band", "none", capsys=capsys)
    assert code == 0 and "No pair scores" in out  # before the inauguration nobody held the authority


def test_config_override(tmp_path, capsys):
    path = tmp_path / "config.yaml"
    path.write_text("bands:\n  high: 0.6\n  critical: 0.9\n")
    _, out, _ = run(SEED_SCENARIO, "--json", "--config", path, "--min-band", "high", capsys=capsys)
    assert out == ""
    path.write_text("ownership:\n  treshold: 0.3\n")
    code, _, err = run(SEED_SCENARIO, "--config", path, capsys=capsys)
    assert code == 2 and "cannot load config" in err


def test_missing_file(tmp_path, capsys):
    code, _, err = run(tmp_path / "absent.jsonl", capsys=capsys)
    assert code == 2 and "cannot read" in err


@pytest.mark.parametrize("flag", ["--json", None])
def test_empty_input(tmp_path, capsys, flag):
    path = tmp_path / "empty.jsonl"
    path.write_text("")
    code, out, _ = run(path, *([flag] if flag else []), capsys=capsys)
    assert code == 0 and (out == "" if flag else "0 events applied" in out)
