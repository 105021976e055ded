"""Alerts: the transitions of a pair's score across the alerting bands, as `schemas.outputs.Alert`.

A pair is *alerting* while its band is at or above `alerts.min_band`. Entering that range raises an alert;
a band change while alerting escalates or downgrades it; leaving the range (or the pair dropping out) resolves it.
A score change within the same band emits nothing.

`alert_id` is derived from (actor, counterparty, episode), where the episode counts how many alerts the pair had
raised before; `sequence` counts transitions within the episode (0 = raised). The tracker is a pure function of
the sequence of score changes it has observed, so replaying the same events rebuilds the same state and ids.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from schemas.outputs import Alert, AlertState, Band, RiskScore
from scoring.config import BAND_ORDER, ScoringConfig
from scoring.engine import PairKey, ScoreChange


def alert_id(actor_id: str, counterparty_id: str, episode: int) -> str:
    digest = hashlib.sha256(f"{actor_id}\x1f{counterparty_id}\x1f{episode}".encode()).hexdigest()
    return f"coi-{digest[:32]}"


@dataclass(slots=True)
class _OpenAlert:
    alert_id: str
    sequence: int
    band: Band
    score: float


class AlertTracker:
    def __init__(self, config: ScoringConfig | None = None, *, min_band: Band | str | None = None):
        config = config or ScoringConfig.load()
        self.min_band = Band(min_band) if min_band is not None else config.alerts.min_band
        self._open: dict[PairKey, _OpenAlert] = {}
        self._episodes: dict[PairKey, int] = {}

    def alerting(self, band: Band | None) -> bool:
        return band is not None and BAND_ORDER[band] >= BAND_ORDER[self.min_band]

    def observe(self, changes: ScoreChange | Iterable[ScoreChange]) -> list[Alert]:
        """The alert transitions caused by these score changes, in order."""
        if isinstance(changes, ScoreChange):
            changes = (changes,)
        alerts = []
        for change in changes:
            alert = self._observe_one(change)
            if alert is not None:
                alerts.append(alert)
        return alerts

    def _observe_one(self, change: ScoreChange) -> Alert | None:
        key = change.key
        new = change.new
        new_band = new.band if new is not None else Band.NONE
        new_score = new.score if new is not None else 0.0
        current = self._open.get(key)
        if current is None:
            if not self.alerting(new_band):
                return None
            episode = self._episodes.get(key, 0)
            current = _OpenAlert(alert_id(*key, episode), 0, Band.NONE, 0.0)
            self._open[key] = current
            state = AlertState.RAISED
        elif not self.alerting(new_band):
            state = AlertState.RESOLVED
            del self._open[key]
            self._episodes[key] = self._episodes.get(key, 0) + 1
            current.sequence += 1
        elif new_band != current.band:
            state = AlertState.ESCALATED if BAND_ORDER[new_band] > BAND_ORDER[current.band] \
                else AlertState.DOWNGRADED
            current.sequence += 1
        else:
            current.score = new_score  # same band: no transition, but the next one reports from here
            return None
        previous_band, previous_score = current.band, current.score
        current.band, current.score = new_band, new_score
        explained: RiskScore | None = new if new is not None else None
        names_from = new if new is not None else change.old
        return Alert(
            alert_id=current.alert_id, sequence=current.sequence, state=state,
            actor_id=key[0], actor_name=names_from.actor_name if names_from else key[0],
            counterparty_id=key[1], counterparty_name=names_from.counterparty_name if names_from else key[1],
            band=new_band, previous_band=previous_band, score=new_score, previous_score=previous_score,
            rules=explained.rules if explained else (),
            authority_paths=explained.authority_paths if explained else (),
            commercial_paths=explained.commercial_paths if explained else (),
            graph_version=change.graph_version, trigger_event_id=change.trigger_event_id,
            input_offsets=dict(change.input_offsets),
            **({"actor_merged_ids": names_from.actor_merged_ids,
                "counterparty_merged_ids": names_from.counterparty_merged_ids,
                "merges": names_from.merges} if names_from else {}))

    def open_alerts(self) -> dict[PairKey, str]:
        """pair -> alert id of the alerts currently open."""
        return {key: self._open[key].alert_id for key in sorted(self._open)}
