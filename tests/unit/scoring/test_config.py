"""The one configuration file: defaults, overrides from a path, validation."""

from __future__ import annotations

import pytest
import yaml
from pydantic import ValidationError

from schemas.outputs import Band
from scoring import ScoringConfig
from scoring.config import DEFAULTS_PATH, RULE_IDS


def test_defaults_load_from_the_yaml_file():
    config = ScoringConfig.load()
    document = yaml.safe_load(DEFAULTS_PATH.read_text())
    assert config.ownership.threshold == document["ownership"]["threshold"]
    assert sorted(config.rules) == sorted(RULE_IDS)
    assert [config.band_for(s) for s in (0.0, 0.05, 0.2, 0.5, 0.9)] == [
        Band.NONE, Band.LOW, Band.MEDIUM, Band.HIGH, Band.CRITICAL]


def test_a_file_overrides_only_what_it_names(tmp_path):
    path = tmp_path / "strict.yaml"
    path.write_text("ownership:\n  rule: ofac\nbands:\n  high: 0.3\nalerts:\n  min_band: high\n")
    config = ScoringConfig.load(path)
    assert config.ownership.rule == "ofac" and config.ownership.threshold == 0.25
    assert config.bands.high == 0.3 and config.bands.critical == 0.7
    assert config.alerts.min_band == Band.HIGH


@pytest.mark.parametrize("document", [
    {"ownership": {"treshold": 0.3}},  # a typo must not fall back to the default silently
    {"bands": {"low": 0.5, "medium": 0.2}},
    {"rules": {"COI-UNKNOWN": {"weight": 1.0, "enabled": True}}},
    {"status_weights": {"confirmed": 1.5}},
    # spans no date arithmetic on an event's dates (to 2999-12-31) could carry out
    {"exposure": {"long_horizon_years": 20000}},
    {"time": {"ended_lookback_days": 10**7}},
])
def test_invalid_configs_are_rejected(document):
    with pytest.raises((ValidationError, ValueError)):
        ScoringConfig.load(overrides=document)


def test_amount_strength_is_logarithmic():
    config = ScoringConfig.load()
    assert config.amount_strength(100, "USD") == config.amounts.floor_strength
    assert config.amount_strength(1e9, "USD") == 1.0
    assert config.amount_strength(None, None) == config.amounts.unknown_strength
    middle = config.amount_strength(1e3 * 10 ** 2.5, "USD")
    assert middle == pytest.approx(config.amounts.floor_strength + (1 - config.amounts.floor_strength) / 2)


# The G20's currencies (the African Union has none of its own), and those the importers and fixtures meet: OCDS
# publishers (MXN, PYG), Prozorro (UAH), the currency names `schemas.values` reads, the examples' SEK and KWD.
_REAL_CURRENCIES = ("ARS", "AUD", "BRL", "CAD", "CNY", "EUR", "GBP", "IDR", "INR", "JPY", "KRW", "MXN", "RUB",
                    "SAR", "TRY", "USD", "ZAR", "PYG", "UAH", "CHF", "PLN", "HUF", "CZK", "SEK", "KWD")


def test_the_currencies_of_real_data_have_rates():
    rates = ScoringConfig.load().amounts.usd_rates
    assert [code for code in _REAL_CURRENCIES if code not in rates] == []


def test_one_sum_weighs_alike_in_any_currency_with_a_rate():
    # about 130,000 USD each (the review's probes): 1bn PYG and 170M KRW read as dollars were ties of 0.84, not 0.40
    config = ScoringConfig.load()
    strengths = {code: config.amount_strength(amount, code) for code, amount in
                 (("USD", 130_000), ("PYG", 1_000_000_000), ("KRW", 170_000_000), ("MXN", 2_400_000))}
    assert max(strengths.values()) - min(strengths.values()) < 0.05, strengths


def test_a_sum_in_a_currency_without_a_rate_is_of_unknown_size():
    config = ScoringConfig.load()
    assert "XTS" not in config.amounts.usd_rates  # ISO 4217's code for testing
    assert config.amount_strength(1e9, "XTS") == config.amount_strength(None, None) == config.amounts.unknown_strength
    assert config.amount_strength(1, "XTS") == config.amounts.unknown_strength


def test_a_sum_without_a_currency_is_of_unknown_size():
    """A register's bare "1000000000" may be roubles or rupees: weighed as dollars it was a tie of full strength."""
    config = ScoringConfig.load()
    assert config.amount_strength(1e9, None) == config.amount_strength(1, None) == config.amounts.unknown_strength
    assert config.amount_strength(1e9, "USD") == 1.0


@pytest.mark.parametrize("rates", [
    {"eur": 1.1},  # events give upper-case ISO codes: a lower-case key would never apply
    {"EU": 1.1},  # nor a code shorter than ISO's or one starting with a digit (`schemas.events.CURRENCY_CODE`)
    {"1INCH": 1.0},
    {"EUR": 0.0},
    {"EUR": -1.1},
    {"EUR": float("inf")},
    {"EUR": float("nan")},
])
def test_invalid_currency_rates_are_rejected(rates):
    with pytest.raises(ValidationError):
        ScoringConfig.load(overrides={"amounts": {"usd_rates": rates}})


def test_no_rate_stands_in_for_a_currency_without_one():
    # the fallback rate that read unknown currencies as dollars is gone: a file still setting it is told so
    with pytest.raises(ValidationError):
        ScoringConfig.load(overrides={"amounts": {"unknown_currency_rate": 1.0}})
