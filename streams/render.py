"""Readable renderings of scores, alerts and dead letters for terminals (`tail`, `demo`, `score`)."""

from __future__ import annotations

import base64

from schemas import Alert, DeadLetter, RiskScore


def _paths(item: RiskScore | Alert, indent: str = "  ") -> list[str]:
    lines = []
    for label, paths in (("authority", item.authority_paths), ("commercial", item.commercial_paths)):
        for path in paths:
            lines.append(f"{indent}{label:<10} {path.text}  [{path.strength:.2f}]")
            sources = sorted({e.source_url for edge in path.edges for e in edge.evidence})
            events = sorted({e.event_id for edge in path.edges for e in edge.evidence})
            lines.append(f"{indent}{'':<10} evidence: events {', '.join(events)}; {', '.join(sources)}")
    return lines


def render_score(score: RiskScore) -> str:
    head = (f"{score.band.value.upper():<8} {score.score:.3f}  {score.actor_name} x {score.counterparty_name}"
            f"  rules={','.join(score.rules) or '-'}  graph_version={score.graph_version}")
    return "\n".join([head, *_paths(score)])


def render_alert(alert: Alert) -> str:
    head = (f"[{alert.state.value.upper()} {alert.band.value}] {alert.actor_name} x {alert.counterparty_name}  "
            f"score {alert.previous_score:.3f} -> {alert.score:.3f}  rules={','.join(alert.rules)}  "
            f"alert {alert.alert_id} #{alert.sequence}")
    return "\n".join([head, *_paths(alert)])


def render_dead_letter(letter: DeadLetter) -> str:
    original = base64.b64decode(letter.original_value)[:120]
    return (f"[{letter.reason.value}] {letter.message}\n  at {letter.topic}:{letter.partition}:{letter.offset}  "
            f"original: {original!r}")
