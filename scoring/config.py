"""The scorer's configuration: every threshold and weight, loaded from `scoring/defaults.yaml`.

The YAML file is the single source of the defaults (the models below declare no default values); a user file
overrides any subset of keys and is deep-merged over it. Validation forbids unknown keys.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.events import CURRENCY_CODE
from schemas.outputs import Band
from schemas.vocabulary import RelationType, Status
from scoring.registry import BY_ID as _RULES
from scoring.registry import RULE_IDS

DEFAULTS_PATH = Path(__file__).with_name("defaults.yaml")


_Unit = Field(ge=0.0, le=1.0)

_SUBNATIONAL = frozenset({"gov.state", "gov.muni"})


def as_tiered(topics: frozenset[str]) -> frozenset[str]:
    """An office's or body's topics as its tier and horizon read them: a Land's or a town's head of government is no
    head of state, so `gov.head` gives way to `gov.state` or `gov.muni` beside it, as the Wikidata importer reads an
    office (`schemas.wikidata._office_topics`), whichever sources the topics come from (Wikidata's `gov.head` for a
    mayor beside a PEP register's `gov.muni` made him a head of state)."""
    return topics - {"gov.head"} if "gov.head" in topics and not _SUBNATIONAL.isdisjoint(topics) else topics


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OwnershipConfig(_Section):
    rule: Literal["eu", "ofac"]
    threshold: float = _Unit
    majority: float = _Unit
    unknown_stake: float = _Unit
    full_strength_stake: float = Field(gt=0.0, le=1.0)
    min_stake_strength: float = _Unit
    max_hops: int = Field(ge=1, le=64)
    min_chain_stake: float = _Unit
    max_chains: int = Field(ge=1)


_MILLENNIUM_DAYS = 365_250


def _days(years: float) -> int:
    """A span of years in whole days (a year of 365.25 days)."""
    return round(years * 365.25)


class ExposureConfig(_Section):
    max_closeness_hops: int = Field(ge=0, le=3)
    # at most a millennium, as every span of days below: the dates of events run to 2999-12-31, and a span added to
    # them must stay a date (a config of many thousand years would fail half-way through an apply)
    horizon_years: float = Field(ge=0.0, le=1000.0)
    long_horizon_years: float = Field(ge=0.0, le=1000.0)
    long_horizon_topics: frozenset[str]
    former_topics: frozenset[str]
    former_topic_weight: float = _Unit
    cooling_off_years: float = Field(ge=0.0, le=1000.0)
    late_tie_years: float = Field(ge=0.0, le=1000.0)
    late_tie_weight: float = _Unit

    @property
    def cooling_off_days(self) -> int:
        return _days(self.cooling_off_years)

    @property
    def late_tie_days(self) -> int:
        return _days(self.late_tie_years)

    @model_validator(mode="after")
    def _taper(self) -> ExposureConfig:
        if self.late_tie_years <= self.cooling_off_years:
            raise ValueError("exposure.late_tie_years must be longer than exposure.cooling_off_years")
        return self

    @property
    def horizon_days(self) -> int:
        return _days(self.horizon_years)

    @property
    def long_horizon_days(self) -> int:
        return _days(self.long_horizon_years)


class AuthorityConfig(_Section):
    max_hops: int = Field(ge=1, le=64)
    min_strength: float = _Unit
    max_paths: int = Field(ge=1)
    position_tiers: dict[str, float]
    seat_roles: dict[str, float]
    seat_weight: float = _Unit

    @model_validator(mode="after")
    def _weights(self) -> AuthorityConfig:
        if any(not 0.0 <= w <= 1.0 for w in (*self.position_tiers.values(), *self.seat_roles.values())):
            raise ValueError("authority tier and role weights must be within [0, 1]")
        return self

    def tier_weight(self, topics: frozenset[str]) -> float:
        """The weight of the highest government tier among an office's or body's topics (`as_tiered`); 1 without
        any."""
        tier = self.tier_of(topics)
        return 1.0 if tier is None else tier[0]

    def tier_of(self, topics: frozenset[str]) -> tuple[float, str] | None:
        """(weight, topic) of the highest government tier among an office's or body's topics (`as_tiered`); None
        without any."""
        tiers = [(self.position_tiers[t], t) for t in as_tiered(topics) if t in self.position_tiers]
        return max(tiers) if tiers else None

    def seat_role_weight(self, role: str | None) -> float:
        """A seat's share of its body's authority from the member's role: the most modest role word among its
        words ("vice chair" is a vice, not a chair), or an ordinary member's (`role_words`)."""
        words = role_words(role, frozenset(word for word in self.seat_roles if word.isalpha()))
        matched = [weight for word, weight in self.seat_roles.items() if names_role(words, word)]
        return min(matched) if matched else self.seat_weight


# A role word with one of these endings is the same role: a chairman, chairwoman or chairperson chairs
_ROLE_FORMS = ("woman", "women", "person", "persons", "people", "man", "men")
# Words after which a role names someone else: "member, appointed by the President" is a member
_NAMING_OTHERS = frozenset({"by"})


def role_words(role: str | None, joinable: frozenset[str] = frozenset()) -> list[frozenset[str]]:
    """The words of a seat's role that can name it, in order, lower case, each with its form without a chair-person
    ending and, where it is two of the `joinable` role words written as one ("vicepresident", "vicechairman"),
    with both: whole words ("presidential appointee" names no president, "public service" no vice, "headquarters"
    no head), up to a word that names who appointed or nominated the member ("appointed by the President")."""
    found = []
    for word in re.findall(r"[^\W\d_]+", (role or "").lower()):
        if word in _NAMING_OTHERS:
            break
        forms = _forms(word)
        for first in (*joinable, *_JOINED_PREFIXES):
            rest = word[len(first):]
            if word.startswith(first) and rest and not _forms(rest).isdisjoint(joinable):
                forms.update(_forms(rest))
                if first in joinable:
                    forms.add(first)
        found.append(frozenset(forms))
    return found


# Written before a role word as one word, a prefix that shares the role: a cochair chairs, with another
_JOINED_PREFIXES = ("co",)


def _forms(word: str) -> set[str]:
    """A word with its form without a chair-person ending and, for a plural, its singular's ("Vicepresidents",
    "heads of unit")."""
    forms = {word, _without_ending(word)}
    if word.endswith("ies") and len(word) > 4:  # deputies
        forms.add(word[:-3] + "y")
    elif word.endswith("s") and len(word) > 3:
        forms.update((word[:-1], _without_ending(word[:-1])))
    return forms


def _without_ending(word: str) -> str:
    return next((word[:-len(end)] for end in _ROLE_FORMS if word.endswith(end) and len(word) > len(end)), word)


def names_role(words: list[frozenset[str]], key: str) -> bool:
    """Whether a role's words (`role_words`) contain a configured role word, or a phrase of them in sequence."""
    wanted = re.findall(r"[^\W\d_]+", key.lower())
    return bool(wanted) and any(all(part in words[at + offset] for offset, part in enumerate(wanted))
                                for at in range(len(words) - len(wanted) + 1))


class TimeConfig(_Section):
    step_days: int = Field(ge=1, le=_MILLENNIUM_DAYS)
    ended_half_life_days: int = Field(ge=1, le=_MILLENNIUM_DAYS)
    ended_lookback_days: int = Field(ge=0, le=_MILLENNIUM_DAYS)
    point_in_time_types: frozenset[RelationType]


# A currency code as events give it (`schemas.events.CURRENCY_CODE`): a key in any other form would never apply,
# silently.
_CurrencyCode = Annotated[str, Field(pattern=CURRENCY_CODE)]
_Rate = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]


class AmountConfig(_Section):
    floor: float = Field(gt=0.0)
    full: float = Field(gt=0.0)
    floor_strength: float = _Unit
    unknown_strength: float = _Unit
    usd_rates: dict[_CurrencyCode, _Rate]

    @model_validator(mode="after")
    def _ordered(self) -> AmountConfig:
        if self.full <= self.floor:
            raise ValueError("amounts.full must be larger than amounts.floor")
        return self


class PathConfig(_Section):
    hop_decay: float = _Unit
    max_reach_chains: int = Field(ge=1)
    max_paths_per_pair: int = Field(ge=1)
    max_paths_shown: int = Field(ge=1)
    min_path_strength: float = _Unit


class EvidenceConfig(_Section):
    max_corroborated_certainty: float = _Unit
    max_listed_statements: int = Field(ge=1)
    max_listed_merges: int = Field(ge=2)  # the canonical id and at least one other


class RuleConfig(_Section):
    weight: float | None = Field(ge=0.0, le=1.0)  # None: the registry's default weight (scoring/registry.py)
    enabled: bool


class BandsConfig(_Section):
    low: float = _Unit
    medium: float = _Unit
    high: float = _Unit
    critical: float = _Unit

    @model_validator(mode="after")
    def _ascending(self) -> BandsConfig:
        if not 0 < self.low <= self.medium <= self.high <= self.critical:
            raise ValueError("bands must satisfy 0 < low <= medium <= high <= critical")
        return self


class AlertConfig(_Section):
    min_band: Band


class LimitsConfig(_Section):
    max_fanout: int = Field(ge=1)


class ScoringConfig(_Section):
    ownership: OwnershipConfig
    exposure: ExposureConfig
    authority: AuthorityConfig
    time: TimeConfig
    amounts: AmountConfig
    status_weights: dict[Status, float]
    evidence: EvidenceConfig
    relation_weights: dict[RelationType, float]
    paths: PathConfig
    rules: dict[str, RuleConfig]
    lobby_requires_primary: bool
    bands: BandsConfig
    min_score: float = _Unit
    precision: int = Field(ge=1, le=12)
    alerts: AlertConfig
    limits: LimitsConfig

    @model_validator(mode="after")
    def _complete(self) -> ScoringConfig:
        missing = set(Status) - set(self.status_weights)
        if missing:
            raise ValueError(f"status_weights lacks {sorted(s.value for s in missing)}")
        if set(self.rules) != set(RULE_IDS):
            raise ValueError(f"rules must configure exactly {list(RULE_IDS)}, got {sorted(self.rules)}")
        if any(not 0.0 <= w <= 1.0 for w in (*self.status_weights.values(), *self.relation_weights.values())):
            raise ValueError("status and relation weights must be within [0, 1]")
        return self

    @classmethod
    def load(cls, path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> ScoringConfig:
        """The defaults, deep-merged with the YAML file at `path` and then with `overrides` (both optional)."""
        if path is None and not overrides:
            return _default_config()
        document = _read_yaml(DEFAULTS_PATH)
        if path is not None:
            document = _deep_merge(document, _read_yaml(Path(path)))
        if overrides:
            document = _deep_merge(document, overrides)
        return cls.model_validate(document)

    def rule_weight(self, rule_id: str) -> float:
        rule = self.rules[rule_id]
        if not rule.enabled:
            return 0.0
        return _RULES[rule_id].weight if rule.weight is None else rule.weight

    def band_for(self, score: float) -> Band:
        for band in (Band.CRITICAL, Band.HIGH, Band.MEDIUM, Band.LOW):
            if score >= getattr(self.bands, band.value):
                return band
        return Band.NONE

    def round(self, value: float) -> float:
        rounded = round(value, self.precision)
        return 0.0 if rounded == 0 else rounded  # no "-0.0" in published JSON

    def amount_strength(self, amount: float | None, currency: str | None) -> float:
        """Log scale between the floor and the full amount, in USD at the configured rough rates. A sum in a
        currency without a rate, or without a currency, is of a size we cannot weigh, as a payment stated without
        its sum is: read as dollars, a billion guaraníes (130k USD) weighed as a billion dollars."""
        usd = self.in_usd(amount, currency)
        return self.amounts.unknown_strength if usd is None else self.usd_strength(usd)

    def in_usd(self, amount: float | None, currency: str | None) -> float | None:
        """A sum in US dollars at the configured rough rates; None: no sum, or a currency without a rate."""
        rate = self.amounts.usd_rates.get(currency) if currency else None
        return None if amount is None or rate is None else amount * rate

    def usd_strength(self, usd: float) -> float:
        """`amount_strength` of a sum in US dollars."""
        cfg = self.amounts
        if usd <= cfg.floor:
            return cfg.floor_strength
        position = min(1.0, math.log10(usd / cfg.floor) / math.log10(cfg.full / cfg.floor))
        return cfg.floor_strength + (1.0 - cfg.floor_strength) * position


BAND_ORDER = {band: rank for rank, band in enumerate((Band.NONE, Band.LOW, Band.MEDIUM, Band.HIGH, Band.CRITICAL))}


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise ValueError(f"{path}: not valid YAML: {getattr(exc, 'problem', None) or exc}{where}") from None
    if not isinstance(document, dict):
        # a settings file (TOML, `--settings` of the worker's commands) given as a scoring config: its text,
        # "key = value" lines, YAML reads as one string
        settings = path.suffix == ".toml" or (isinstance(document, str) and " = " in document)
        raise ValueError(f"{path}: a scoring config is a YAML mapping (scoring/defaults.yaml)" + (
            "; this looks like a settings file (TOML), which `score` and `export-bods` do not take: the scoring "
            "config of a settings file is the one its scoring_config names" if settings else ""))
    return document


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


@lru_cache(maxsize=1)
def _default_config() -> ScoringConfig:
    return ScoringConfig.model_validate(_read_yaml(DEFAULTS_PATH))
