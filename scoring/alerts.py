"""Alerts: the transitions of a conflict's score across the alerting bands, as `schemas.outputs.Alert`.

One conflict, one alert. A pair is *alerting* while its band is at or above `alerts.min_band`. The alerting pairs
of one actor whose authority lands on the same party are one *case* (`case_of`): the regulated firm, the holding
companies that own it, its other beneficial owners and the actor's own relative who owns it are one conflict, not
four alerts. A pair over whose counterparty the actor holds authority directly is a case of its own (the pardon
sought by the firm's founder is a decision about him, not only about his firm). The case's strongest pair explains
the alert; the others are listed as related parties. Scores stay per pair.

A case entering the alerting range raises an alert; a change of its band (its strongest pair's) while alerting
escalates or downgrades it; losing its last alerting pair resolves it. Within the same band, a party joining or
leaving the case (also a pair moving in from another case) or another pair taking the lead updates it: the
consumer learns of the new related party at once, not at the case's next change of band. A change of scores alone
within the same band emits nothing. The changes of one event (distinct pairs) are one step: a case touched by
several of them transitions at most once.

`alert_id` is derived from (actor, case, episode), where the episode counts how many alerts the case had raised
before; `sequence` counts transitions within the episode (0 = raised). The tracker is a pure function of the
sequence of score changes it has observed, so replaying the same events rebuilds the same state and ids. Its state
can also be read out (`AlertTracker.view`, as plain values) and set from such values (`AlertTracker.restore`, which
refuses a state the tracker cannot be in): what the portable form (`scoring.portable`) writes and reads.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import NamedTuple

from schemas.outputs import Alert, AlertState, Band, RelatedParty, RiskScore
from schemas.vocabulary import RELATIONS
from scoring.config import BAND_ORDER, ScoringConfig
from scoring.engine import PairKey, ScoreChange
from scoring.records import pickled_as_values

CaseKey = tuple[str, str]  # (actor, the party his authority lands on)


def alerting_pair_problem(pair: PairKey, case_id: str, score: RiskScore) -> str | None:
    """Why a pair cannot be alerting in this case with this score (it holds another pair's score, or its score puts
    it in another case); None when it can. `AlertTracker.restore` and the portable import ask it."""
    if (score.actor_id, score.counterparty_id) != pair:
        return f"the alerting pair {pair} holds the score of another pair, {(score.actor_id, score.counterparty_id)}"
    if case_of(score) != case_id:
        return f"the alerting pair {pair} is in the case {case_id!r}, where its score puts it in {case_of(score)!r}"
    return None


def alert_id(actor_id: str, case_id: str, episode: int) -> str:
    digest = hashlib.sha256(f"{actor_id}\x1f{case_id}\x1f{episode}".encode()).hexdigest()
    return f"coi-{digest[:32]}"


def case_of(score: RiskScore) -> str:
    """The party the actor's authority lands on: the counterparty itself when an authority path reaches it
    directly (or when no authority path is shown), else the target of the strongest path's authority relation
    (what the counterparty beneficially owns)."""
    landings = []
    for path in score.authority_paths:
        for edge in path.edges:
            if RELATIONS[edge.relation_type].authority:
                landings.append(edge.target_id)
                break
    if not landings or score.counterparty_id in landings:
        return score.counterparty_id
    return landings[0]


def _rank(score: RiskScore) -> tuple:
    # of equal scores, the case's own party first (the contractor, the defendant, the licensee: its pair's
    # counterparty is the party the authority lands on), then by id: a relative tied to it through the same paths
    # scores the same, and led the alert where his id came first in the alphabet (a review)
    return -score.score, -BAND_ORDER[score.band], case_of(score) != score.counterparty_id, score.counterparty_id


def strongest(scores: Iterable[RiskScore]) -> RiskScore:
    """The score that leads a case, of its alerting pairs' scores: the highest score, then band, then the pair of
    the case's own party (`case_of`), then the first counterparty id. ValueError for no scores."""
    return min(scores, key=_rank)


@pickled_as_values
@dataclass(slots=True)
class _OpenAlert:
    alert_id: str
    sequence: int
    band: Band
    score: float
    lead: RiskScore  # the strongest pair's score when last reported (its names name a resolved alert)


class OpenAlertView(NamedTuple):
    """An open alert as plain values: its id, its transitions so far in the episode (0 = raised), and its band, score
    and lead (the strongest alerting pair's score) as last reported."""
    alert_id: str
    sequence: int
    band: Band
    score: float
    lead: RiskScore


class TrackerView(NamedTuple):
    """An `AlertTracker`'s state as read-only mappings, each in key order: what `AlertTracker.restore` takes back
    (`tracker.restore(*other.view())`)."""
    alerting: Mapping[PairKey, tuple[str, RiskScore]]  # alerting pair -> (its case id, its score)
    open_alerts: Mapping[CaseKey, OpenAlertView]  # (actor, case id) -> its open alert
    episodes: Mapping[CaseKey, int]  # (actor, case id) -> how many alerts it raised and resolved (absent: none)


class AlertTracker:
    def __init__(self, config: ScoringConfig | None = None, *, min_band: Band | str | None = None):
        config = config or ScoringConfig.load()
        self.min_band = Band(min_band) if min_band is not None else config.alerts.min_band
        self._alerting: dict[PairKey, tuple[str, RiskScore]] = {}  # alerting pair -> (case, its score)
        self._members: dict[CaseKey, set[PairKey]] = {}
        self._open: dict[CaseKey, _OpenAlert] = {}
        self._episodes: dict[CaseKey, int] = {}

    def alerting(self, band: Band | None) -> bool:
        return band is not None and BAND_ORDER[band] >= BAND_ORDER[self.min_band]

    def observe(self, changes: ScoreChange | Iterable[ScoreChange]) -> list[Alert]:
        """The alert transitions caused by these score changes, in order. Changes of distinct pairs are one step (an
        event's changes: a case they touch transitions once); a pair seen again starts the next step."""
        if isinstance(changes, ScoreChange):
            changes = (changes,)
        alerts: list[Alert] = []
        touched: dict[CaseKey, ScoreChange] = {}  # case -> the last change of this step that touched it
        before: dict[CaseKey, frozenset[PairKey]] = {}  # case -> its alerting pairs when this step first touched it
        seen: set[PairKey] = set()
        for change in changes:
            key = change.key
            if key in seen:
                alerts.extend(self._step(touched, before))
                touched, before, seen = {}, {}, set()
            seen.add(key)
            held = self._alerting.pop(key, None)
            if held is not None:
                case = (key[0], held[0])
                if case not in before:  # copied at the case's first touch in the step only
                    before[case] = frozenset(self._members[case])
                self._members[case].discard(key)
                touched[case] = change
            if self.alerting(change.band):  # known without rendering: most changes never alert
                new = change.new
                case = (key[0], case_of(new))
                if case not in before:
                    before[case] = frozenset(self._members.get(case, ()))
                self._alerting[key] = (case[1], new)
                self._members.setdefault(case, set()).add(key)
                touched[case] = change
        alerts.extend(self._step(touched, before))
        return alerts

    def _step(self, touched: dict[CaseKey, ScoreChange], before: dict[CaseKey, frozenset[PairKey]]) -> list[Alert]:
        alerts = []
        for case in sorted(touched):
            alert = self._transition(case, touched[case], before[case])
            if alert is not None:
                alerts.append(alert)
        return alerts

    def _transition(self, case: CaseKey, change: ScoreChange, members_before: frozenset[PairKey]) -> Alert | None:
        """The case's transition in this step, from its alerting pairs before it (`members_before`: while the case
        is open, those its last alert reported, as every change of them is reported) to those now."""
        members = self._members.get(case) or set()
        if not members:
            self._members.pop(case, None)
        scores = sorted((self._alerting[key][1] for key in members), key=_rank)
        lead = scores[0] if scores else None
        current = self._open.get(case)
        if current is None:
            if lead is None:
                return None
            current = _OpenAlert(alert_id(*case, self._episodes.get(case, 0)), 0, Band.NONE, 0.0, lead)
            self._open[case] = current
            state = AlertState.RAISED
        elif lead is None:
            state = AlertState.RESOLVED
            del self._open[case]
            self._episodes[case] = self._episodes.get(case, 0) + 1
            current.sequence += 1
        elif lead.band != current.band:
            state = AlertState.ESCALATED if BAND_ORDER[lead.band] > BAND_ORDER[current.band] \
                else AlertState.DOWNGRADED
            current.sequence += 1
        elif members != members_before or lead.counterparty_id != current.lead.counterparty_id:
            state = AlertState.UPDATED
            current.sequence += 1
        else:
            current.score, current.lead = lead.score, lead  # scores alone moved: no transition; report from here next
            return None
        previous_band, previous_score = current.band, current.score
        named = lead or current.lead
        current.band = lead.band if lead else Band.NONE
        current.score = lead.score if lead else 0.0
        current.lead = named
        return Alert(
            alert_id=current.alert_id, sequence=current.sequence, state=state,
            actor_id=case[0], actor_name=named.actor_name,
            counterparty_id=named.counterparty_id, counterparty_name=named.counterparty_name,
            band=current.band, previous_band=previous_band, score=current.score, previous_score=previous_score,
            rules=lead.rules if lead else (), authority_paths=lead.authority_paths if lead else (),
            commercial_paths=lead.commercial_paths if lead else (),
            graph_version=change.graph_version, trigger_event_id=change.trigger_event_id,
            input_offsets=dict(change.input_offsets), case_id=case[1],
            related_parties=tuple(RelatedParty(id=s.counterparty_id, name=s.counterparty_name, score=s.score,
                                               band=s.band) for s in scores[1:]),
            actor_merged_ids=named.actor_merged_ids, counterparty_merged_ids=named.counterparty_merged_ids,
            merges=named.merges)

    def view(self) -> TrackerView:
        """The state, as plain values in key order (a copy: it does not change as the tracker observes more)."""
        return TrackerView(
            MappingProxyType(dict(sorted(self._alerting.items()))),
            MappingProxyType({case: OpenAlertView(alert.alert_id, alert.sequence, alert.band, alert.score, alert.lead)
                              for case, alert in sorted(self._open.items())}),
            MappingProxyType(dict(sorted(self._episodes.items()))))

    def restore(self, alerting: Mapping[PairKey, tuple[str, RiskScore]], open_alerts: Mapping[CaseKey, OpenAlertView],
                episodes: Mapping[CaseKey, int]) -> None:
        """Replace the state with this one (as `view` gives it; kept in the order given). ValueError, changing
        nothing, for a state the tracker cannot be in: a pair holding another pair's score or in a case its score
        does not put it in, a case with alerting pairs and no open alert or the reverse, an open alert not led by its
        case's strongest pair (its band and score) or whose id is not that of its case's episode, a negative sequence,
        an episode count below 1."""
        members: dict[CaseKey, set[PairKey]] = {}
        for pair, (case_id, score) in alerting.items():
            problem = alerting_pair_problem(pair, case_id, score)
            if problem is not None:
                raise ValueError(problem)
            members.setdefault((pair[0], case_id), set()).add(pair)
        for case in sorted(members.keys() ^ open_alerts.keys()):
            raise ValueError(f"the case {case} has alerting pairs but no open alert" if case in members
                             else f"the case {case} has an open alert but no alerting pair")
        for case, count in episodes.items():
            if count < 1:
                raise ValueError(f"the case {case} has {count} episodes, not at least 1")
        leads: dict[CaseKey, RiskScore] = {}
        for case, alert in open_alerts.items():
            lead = leads[case] = strongest(alerting[pair][1] for pair in members[case])
            if alert.alert_id != alert_id(*case, episodes.get(case, 0)):
                raise ValueError(f"the open alert of {case} is {alert.alert_id!r}, not the id of its episode "
                                 f"{episodes.get(case, 0)}")
            if alert.sequence < 0:
                raise ValueError(f"the open alert of {case} has the sequence {alert.sequence}")
            if alert.lead != lead or alert.band != lead.band or alert.score != lead.score:
                raise ValueError(f"the open alert of {case} is not led by its strongest alerting pair "
                                 f"({lead.actor_id}, {lead.counterparty_id}), its band and score")
        self._alerting = dict(alerting)
        self._members = members
        self._open = {case: _OpenAlert(alert.alert_id, alert.sequence, leads[case].band, leads[case].score, leads[case])
                      for case, alert in open_alerts.items()}  # the lead is its pair's score, as observing leaves it
        self._episodes = dict(episodes)

    def open_alerts(self) -> dict[PairKey, str]:
        """(actor, case) -> alert id of the alerts currently open."""
        return {case: self._open[case].alert_id for case in sorted(self._open)}

    def cases(self) -> dict[PairKey, tuple[str, ...]]:
        """(actor, case) -> the counterparties of its alerting pairs, strongest first."""
        return {case: tuple(s.counterparty_id for s in sorted(
            (self._alerting[key][1] for key in self._members[case]), key=_rank))
            for case in sorted(self._open) if self._members.get(case)}
