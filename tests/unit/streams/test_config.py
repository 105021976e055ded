"""Settings precedence (defaults < file < environment < flags) and pass-through of Kafka security options."""

from __future__ import annotations

import argparse
import logging
import ssl

import pytest
from pydantic import ValidationError

from streams.config import (REDACTED, Settings, add_connection_flags, add_scoring_flags, add_worker_flags, load_settings,
                            settings_from_args)


def test_defaults_use_the_local_broker():
    settings = load_settings(environ={})
    assert settings.uses_local_broker
    assert settings.bootstrap == "127.0.0.1:9092"
    assert settings.kafka_python_options() == {"bootstrap_servers": ["127.0.0.1:9092"],
                                               "security_protocol": "PLAINTEXT"}


def test_file_then_environment_then_flags(tmp_path):
    config = tmp_path / "coi.toml"
    config.write_text('[coi-risk]\nbootstrap_servers = "file:9092"\napp_id = "from-file"\nweb_port = 7000\n')
    environ = {"COI_APP_ID": "from-env", "KAFKA_BOOTSTRAP_SERVERS": "env:9092"}
    settings = load_settings(config, environ=environ, web_port=None)
    assert (settings.bootstrap_servers, settings.app_id, settings.web_port) == ("env:9092", "from-env", 7000)
    flagged = load_settings(config, environ=environ, bootstrap_servers="flag:9092")
    assert flagged.bootstrap_servers == "flag:9092"


def test_config_file_named_in_environment(tmp_path):
    config = tmp_path / "coi.toml"
    config.write_text('alerts_topic = "custom-alerts"\n')
    assert load_settings(environ={"COI_RISK_CONFIG": str(config)}).alerts_topic == "custom-alerts"


def test_sasl_scram_passes_through_to_clients():
    settings = load_settings(environ={}, bootstrap_servers="a:9093,b:9093", security_protocol="SASL_SSL",
                             sasl_mechanism="SCRAM-SHA-512", sasl_username="svc", sasl_password="secret")
    options = settings.kafka_python_options()
    assert options["bootstrap_servers"] == ["a:9093", "b:9093"]
    assert options["security_protocol"] == "SASL_SSL"
    assert (options["sasl_mechanism"], options["sasl_plain_username"], options["sasl_plain_password"]) == \
        ("SCRAM-SHA-512", "svc", "secret")
    assert isinstance(options["ssl_context"], ssl.SSLContext)
    credentials = settings.faust_broker_credentials()
    assert credentials.mechanism.value == "SCRAM-SHA-512" and credentials.username == "svc"


def test_incomplete_sasl_is_rejected_with_a_reason():
    with pytest.raises(ValidationError, match="needs sasl_mechanism"):
        load_settings(environ={}, security_protocol="SASL_SSL")


def test_flags_parse_into_settings():
    parser = argparse.ArgumentParser()
    add_connection_flags(parser)
    args = parser.parse_args(["--bootstrap-servers", "x:1", "--security-protocol", "SSL"])
    settings = settings_from_args(args)
    assert settings.bootstrap_list == ["x:1"] and settings.security_protocol.value == "SSL"


# --- secrets ---------------------------------------------------------------------------------------------------

SECRET = "s3cr3t-Pa55word"


def _sasl_settings(**extra):
    return load_settings(environ={"COI_SASL_PASSWORD": SECRET}, bootstrap_servers="k:9093",
                         security_protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-512", sasl_username="svc", **extra)


def test_the_password_never_shows_in_repr_str_or_json():
    settings = _sasl_settings(web_token="t0ken-value")
    for text in (repr(settings), str(settings), settings.model_dump_json(), str(settings.model_dump())):
        assert SECRET not in text and "t0ken-value" not in text
    assert settings.sasl_password.get_secret_value() == SECRET


def test_the_password_is_read_from_a_file(tmp_path):
    secret_file = tmp_path / "password"
    secret_file.write_text(SECRET + "\n")
    settings = load_settings(environ={"COI_SASL_PASSWORD_FILE": str(secret_file)}, security_protocol="SASL_SSL",
                             sasl_mechanism="SCRAM-SHA-512", sasl_username="svc")
    assert settings.sasl_password.get_secret_value() == SECRET


def test_an_unreadable_password_file_is_a_clear_error(tmp_path):
    with pytest.raises(ValidationError, match="sasl_password_file: cannot read"):
        load_settings(environ={}, sasl_password_file=str(tmp_path / "missing"))


def test_the_password_flag_is_refused_with_the_alternatives(capsys):
    parser = argparse.ArgumentParser()
    add_connection_flags(parser)
    with pytest.raises(SystemExit):
        parser.parse_args(["--sasl-password", SECRET])
    error = capsys.readouterr().err
    assert "COI_SASL_PASSWORD" in error and "COI_SASL_PASSWORD_FILE" in error


def test_kafka_client_debug_logs_never_print_the_password(caplog):
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    settings = load_settings(environ={"COI_SASL_PASSWORD": SECRET}, bootstrap_servers="127.0.0.1:1",
                             security_protocol="SASL_PLAINTEXT", sasl_mechanism="SCRAM-SHA-512",
                             sasl_username="svc")
    with caplog.at_level(logging.DEBUG):
        try:
            KafkaAdminClient(**settings.kafka_python_options(), bootstrap_timeout_ms=300, request_timeout_ms=300)
        except KafkaError:
            pass  # nothing listens on port 1: only the logs of construction matter here
    configuration = [r.getMessage() for r in caplog.records if "configuration" in r.getMessage()]
    assert configuration, "kafka-python no longer logs its configuration: recheck what it logs"
    assert "sasl_plain_password" in configuration[0] and REDACTED in configuration[0]
    assert all(SECRET not in record.getMessage() for record in caplog.records)
    assert all(SECRET not in text for text in caplog.text.splitlines())


# --- one declaration: flags and the child worker's environment --------------------------------------------------

def test_precedence_defaults_file_environment_flags(tmp_path):
    config = tmp_path / "coi.toml"
    config.write_text('[coi-risk]\nsession_timeout_seconds = 20\nstartup_timeout_seconds = 5\nweb_port = 7001\n')
    environ = {"COI_STARTUP_TIMEOUT_SECONDS": "6", "COI_WEB_PORT": "7002"}
    settings = load_settings(config, environ=environ, web_port=7003)
    assert settings.batch_max_events == 500  # default
    assert settings.session_timeout_seconds == 20  # file
    assert settings.startup_timeout_seconds == 6  # environment over file
    assert settings.web_port == 7003  # flag over environment


def test_coi_bootstrap_servers_wins_over_the_conventional_variable():
    environ = {"KAFKA_BOOTSTRAP_SERVERS": "conventional:9092", "COI_BOOTSTRAP_SERVERS": "specific:9092"}
    assert load_settings(environ=environ).bootstrap_servers == "specific:9092"


def test_every_flagged_field_has_a_flag_and_no_other_field_does():
    parser = argparse.ArgumentParser()
    add_connection_flags(parser)
    add_worker_flags(parser)
    add_scoring_flags(parser)
    dests = {action.dest for action in parser._actions} - {"help", "config_file"}
    flagged = {name for name, field in Settings.model_fields.items() if (field.json_schema_extra or {}).get("flag")}
    assert dests == flagged
    assert {"bootstrap_servers", "sasl_password", "sasl_password_file", "app_id", "web_port"} <= dests


def test_worker_flags_reach_the_settings():
    parser = argparse.ArgumentParser()
    add_connection_flags(parser)
    add_worker_flags(parser)
    args = parser.parse_args(["--app-id", "a1", "--web-port", "7777", "--no-ssl-check-hostname"])
    settings = settings_from_args(args)
    assert (settings.app_id, settings.web_port, settings.ssl_check_hostname) == ("a1", 7777, False)


def test_the_child_environment_reproduces_every_setting():
    parent = _sasl_settings(app_id="child-app", session_timeout_seconds=12, group_instance_id="w-1",
                            web_token="tok")
    inherited = {"PATH": "/bin", "COI_APP_ID": "stale", "KAFKA_BOOTSTRAP_SERVERS": "stale:1",
                 "COI_RISK_CONFIG": "/stale.toml"}
    env = parent.child_environment(inherited)
    assert env["PATH"] == "/bin" and "KAFKA_BOOTSTRAP_SERVERS" not in env and "COI_RISK_CONFIG" not in env
    child = load_settings(environ=env)
    assert child == parent
    assert env["COI_SASL_PASSWORD"] == SECRET


def test_a_spawned_worker_gets_the_secret_only_through_its_environment(tmp_path):
    from streams.testing import WorkerProcess

    worker = WorkerProcess(_sasl_settings(), tmp_path / "worker.log")
    assert SECRET not in " ".join(worker.command())
    assert worker.environment()["COI_SASL_PASSWORD"] == SECRET


def test_a_new_plain_field_is_one_line():
    """What h1/h3 do when they add settings: the field alone gives its environment variable and child env."""
    settings = load_settings(environ={"COI_BATCH_MAX_EVENTS": "7"})
    assert settings.child_environment({})["COI_BATCH_MAX_EVENTS"] == "7"
