"""Settings precedence (defaults < file < environment < flags) and pass-through of Kafka security options."""

from __future__ import annotations

import argparse
import ssl

import pytest
from pydantic import ValidationError

from streams.config import add_connection_flags, load_settings, settings_from_args


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
