"""What a user sees when something is wrong: one line on stderr naming the problem and the right exit code (0 done,
1 failed, 2 usage, 130 interrupted, 141 stdout closed by its reader), never a traceback. No broker needed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from streams.cli import main
from streams.config import SettingsError, load_settings

REPO = Path(__file__).resolve().parents[3]
SEED = REPO / "examples" / "binance-wlfi.jsonl"


@pytest.fixture(autouse=True)
def _no_inherited_settings(monkeypatch):
    for key in list(os.environ):
        if key.upper().startswith("COI_") or key == "KAFKA_BOOTSTRAP_SERVERS":
            monkeypatch.delenv(key)


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in text, text
    return lines[0]


# --- settings ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("variable", "value", "says"), [
    ("COI_SECURITY_PROTOCOL", "TLS", "setting security_protocol (COI_SECURITY_PROTOCOL, --security-protocol): "
                                     "Input should be 'PLAINTEXT', 'SSL', 'SASL_PLAINTEXT' or 'SASL_SSL', got 'TLS'"),
    ("COI_MAX_MESSAGE_BYTES", "-5", "setting max_message_bytes (COI_MAX_MESSAGE_BYTES): Input should be greater "
                                    "than or equal to 4096, got '-5'"),
    ("COI_SNAPSHOTS_ENABLED", "maybe", "setting snapshots_enabled (COI_SNAPSHOTS_ENABLED): Input should be a valid "
                                      "boolean"),
    ("COI_WEB_PORT", "0", "setting web_port (COI_WEB_PORT, --web-port): Input should be greater than or equal to 1"),
    ("COI_BOOTSTRAP_SERVER", "127.0.0.1:1", "COI_BOOTSTRAP_SERVER is not a setting (did you mean "
                                            "COI_BOOTSTRAP_SERVERS?)"),
    ("COI_RISK_CONFIG", "/nonexistent/coi.toml", "cannot read the settings file /nonexistent/coi.toml (--settings or "
                                                 "COI_RISK_CONFIG): No such file or directory"),
    ("COI_SCORING_CONFIG", "/nonexistent/scoring.yaml", "cannot load config /nonexistent/scoring.yaml "
                                                        "(--scoring-config or COI_SCORING_CONFIG): No such file or directory"),
    ("COI_SECURITY_PROTOCOL", "SASL_SSL", "SASL_SSL needs sasl_mechanism, sasl_username and sasl_password"),
])
def test_a_wrong_setting_is_one_line_naming_it_and_exit_2(monkeypatch, capsys, tmp_path, variable, value, says):
    monkeypatch.setenv(variable, value)
    assert main(["snapshot", "list", "--snapshot-dir", str(tmp_path)]) == 2  # a traceback and exit 1 before
    line = one_line(capsys.readouterr().err)
    assert line.startswith("coi-risk snapshot: ") and says in line


def test_the_worker_refuses_a_port_faust_cannot_bind_before_it_starts(capsys):
    # web_port 0 passed validation and Faust raised ImproperlyConfigured from deep inside the app's set-up
    assert main(["worker", "--web-port", "0", "--bootstrap-servers", "127.0.0.1:1"]) == 2
    assert "setting web_port (COI_WEB_PORT, --web-port)" in one_line(capsys.readouterr().err)


@pytest.mark.parametrize(("content", "says"), [
    ('bootstrap_server = "x:1"\n', "'bootstrap_server' is not a setting (did you mean bootstrap_servers?) (in the "
                                   "settings file)"),
    ("bootstrap_servers = \n", "is not valid TOML: Invalid value (at line 1, column 21)"),
    ('[coi-risk]\nweb_port = "six"\n', "setting web_port (COI_WEB_PORT, --web-port): Input should be a valid "
                                       "integer"),
])
def test_a_wrong_settings_file_is_one_line(capsys, tmp_path, content, says):
    config = tmp_path / "coi.toml"
    config.write_text(content)
    assert main(["snapshot", "list", "--snapshot-dir", str(tmp_path), "--config", str(config)]) == 2
    assert says in one_line(capsys.readouterr().err)


def test_a_settings_file_that_is_a_directory_is_one_line(capsys, tmp_path):
    assert main(["topics", "describe", "--config", str(tmp_path)]) == 2
    assert one_line(capsys.readouterr().err).endswith(f"cannot read the settings file {tmp_path} (--settings or "
                                                      "COI_RISK_CONFIG): Is a directory")


def test_variables_with_the_prefix_that_are_not_settings_are_refused_unless_known():
    with pytest.raises(SettingsError, match="COI_APPID is not a setting .did you mean COI_APP_ID"):
        load_settings(environ={"COI_APPID": "x"})
    with pytest.raises(SettingsError, match="coi_web_prot is not a setting"):  # read case-insensitively, so checked so
        load_settings(environ={"coi_web_prot": "1"})
    known = {"COI_RISK_CONFIG": "", "COI_KAFKA_STATE_DIR": "/tmp/k", "COI_TEST_KAFKA_PORT": "19092",
             "COI_RISK_REPO": "/tmp/r", "COI_APP_ID": "a", "KAFKA_BOOTSTRAP_SERVERS": "k:1", "COIN": "x"}
    assert load_settings(environ=known).app_id == "a"


def test_a_settings_error_never_shows_a_secret(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("COI_SASL_PASSWORD", "hunter2-secret")
    monkeypatch.setenv("COI_SECURITY_PROTOCOL", "SASL_SSL")  # no mechanism, no user: the cross-field check fails
    assert main(["snapshot", "list", "--snapshot-dir", str(tmp_path)]) == 2
    assert "hunter2-secret" not in capsys.readouterr().err


def test_a_scoring_config_that_is_not_yaml_is_one_line(capsys, tmp_path):
    config = tmp_path / "scoring.yaml"
    config.write_text("bands: [1\n")
    assert main(["score", str(SEED), "--scoring-config", str(config)]) == 2  # a yaml.ParserError traceback before
    assert "(--scoring-config): not valid YAML: expected ',' or ']'" in one_line(capsys.readouterr().err)
    assert main(["export-bods", str(SEED), "--config", str(tmp_path / "missing.yaml")]) == 2  # (its older name)
    assert one_line(capsys.readouterr().err) == (f"coi-risk export-bods: cannot load config {tmp_path}/missing.yaml "
                                                 "(--scoring-config): No such file or directory")


def test_a_settings_file_given_as_a_scoring_config_is_named_as_one(capsys, tmp_path):
    # --config was the settings file (TOML) for the worker's commands, a scoring config (YAML) for score: a user's
    # review passed the one for the other and read only "a scoring config is a YAML mapping"
    settings = tmp_path / "settings.toml"
    settings.write_text('bootstrap_servers = "127.0.0.1:9092"\nsnapshot_every_events = 5000\n')
    assert main(["score", str(SEED), "--config", str(settings)]) == 2
    assert one_line(capsys.readouterr().err).endswith(
        "a scoring config is a YAML mapping (scoring/defaults.yaml); this looks like a settings file (TOML), which "
        "`score` and `export-bods` do not take: the scoring config of a settings file is the one its scoring_config "
        "names")


def test_a_scoring_config_given_as_the_settings_file_names_the_flag_it_belongs_to(capsys, tmp_path):
    config = tmp_path / "scoring.yaml"
    config.write_text("ownership:\n  rule: ofac\nbands:\n  high: 0.6\n")
    assert main(["snapshot", "list", "--snapshot-dir", str(tmp_path), "--settings", str(config)]) == 2
    assert one_line(capsys.readouterr().err).endswith(
        "this looks like a scoring config (YAML): give it with --scoring-config (or COI_SCORING_CONFIG)")
    other = tmp_path / "other.yaml"  # YAML, but not a scoring config: no guess
    other.write_text("name: x\nitems:\n  - 1\n")
    assert main(["snapshot", "list", "--snapshot-dir", str(tmp_path), "--settings", str(other)]) == 2
    assert "scoring config" not in capsys.readouterr().err


def test_each_kind_of_file_has_one_flag_on_every_command_and_the_older_name_still_works(tmp_path):
    from streams.cli import build_parser
    from streams.config import settings_from_args

    settings = tmp_path / "coi.toml"
    settings.write_text('app_id = "from-the-file"\n')
    parser = build_parser()
    for command in (["worker"], ["replay"], ["audit", "--pair", "a", "b"], ["load", "x.jsonl"],
                    ["snapshot", "export", "-o", "x"]):
        for flag in ("--settings", "--config"):
            args = parser.parse_args([*command, flag, str(settings), "--scoring-config", "rules.yaml"])
            read = settings_from_args(args)
            assert (read.app_id, read.scoring_config) == ("from-the-file", "rules.yaml"), (command, flag)
    for command in (["score", "x.jsonl"], ["export-bods", "x.jsonl"]):
        for flag in ("--scoring-config", "--config"):
            assert parser.parse_args([*command, flag, "rules.yaml"]).config == "rules.yaml"


# --- Kafka not reachable, stdout closed -------------------------------------------------------------------------

def test_a_kafka_error_is_one_line_with_what_to_check(monkeypatch, capsys):
    from kafka.errors import KafkaTimeoutError

    def unreachable(settings):  # what kafka-python raises after its 30 s bootstrap timeout (seen with 127.0.0.1:1)
        raise KafkaTimeoutError(f"Unable to bootstrap from {settings.bootstrap_list}")

    monkeypatch.setattr("streams.topics.describe_topics", unreachable)
    assert main(["topics", "describe", "--bootstrap-servers", "127.0.0.1:1"]) == 1
    line = one_line(capsys.readouterr().err)
    # the address tried and where it came from (before: "none set", though the user had given one)
    assert line == ("coi-risk topics: Kafka: KafkaTimeoutError: Unable to bootstrap from ['127.0.0.1:1']; is the "
                    "broker running at the address given (--bootstrap-servers 127.0.0.1:1)?")
    for name in ("COI_BOOTSTRAP_SERVERS", "KAFKA_BOOTSTRAP_SERVERS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COI_RISK_CONFIG", "")
    assert main(["topics", "describe"]) == 1
    assert "none set: the local broker, `coi-risk broker start`" in one_line(capsys.readouterr().err)
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:2")
    assert main(["topics", "describe"]) == 1
    assert one_line(capsys.readouterr().err).endswith("at the address given (KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:2)?")


def test_a_reader_that_closes_stdout_early_ends_the_command_quietly():
    # `true` reads nothing and is gone long before the command writes: its first write or its last flush fails
    command = f"{sys.executable} -m streams.cli export-ftm {SEED} | true; echo ${{PIPESTATUS[0]}} >&2"
    result = subprocess.run(["bash", "-c", command], cwd=REPO, capture_output=True, text=True, timeout=120,
                            env={key: value for key, value in os.environ.items() if not key.startswith("COI_")})
    assert "BrokenPipeError" not in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip().splitlines()[-1] == "141"


@pytest.mark.parametrize("argv", [["tail", "alerts", "--max", "0"], ["tail", "alerts", "--max", "-1"],
                                  ["tail", "alerts", "--idle-timeout", "0"], ["tail", "alerts", "--idle-timeout", "nan"]])
def test_tail_limits_are_numbers_above_zero(capsys, argv):
    # --max 0 and --idle-timeout 0 meant "no limit" (the loop tested their truth), --max -1 stopped after one
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2 and "expected a number above 0" in capsys.readouterr().err


def test_the_demo_worker_port_follows_the_setting_unless_the_flag_is_given(monkeypatch):
    # `COI_WEB_PORT=7000 coi-risk demo` started its worker on 6066 all the same (the flag's default won)
    from streams.cli import build_parser
    from streams.commands.demo import _demo_settings

    monkeypatch.setenv("COI_WEB_PORT", "7000")
    assert _demo_settings(build_parser().parse_args(["demo"])).web_port == 7000
    assert _demo_settings(build_parser().parse_args(["demo", "--web-port", "7001"])).web_port == 7001
    monkeypatch.delenv("COI_WEB_PORT")
    assert _demo_settings(build_parser().parse_args(["demo"])).web_port == 6066


def test_audit_checks_its_report_directory_before_the_replay(monkeypatch, capsys, tmp_path):
    def replay(*args, **kwargs):
        raise AssertionError("the whole log was replayed for a report that cannot be written")

    monkeypatch.setattr("streams.replay.replay", replay)
    taken = tmp_path / "report"
    taken.write_text("a file where the directory should go\n")
    assert main(["audit", "--entity", "x", "--out", str(taken), "--bootstrap-servers", "127.0.0.1:1"]) == 2
    assert one_line(capsys.readouterr().err) == f"coi-risk audit: cannot make the report directory {taken}: File exists"


def test_snapshot_export_from_an_empty_directory_says_so(capsys, tmp_path):
    assert main(["snapshot", "export", "--snapshot-dir", str(tmp_path)]) == 1
    assert one_line(capsys.readouterr().err) == (f"no usable snapshot in {tmp_path} (it holds none: is this the "
                                                 "worker's snapshot_dir?)")  # "see the warnings above": there were none
