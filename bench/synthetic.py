"""Realistic synthetic relationship events for benchmarks: heavy-tailed degrees, officials holding positions that
control public bodies, officials' families and associates, ownership chains, and commercial ties across them.

Deterministic for a given (relations, seed). `python bench/synthetic.py 100000 > events.jsonl` writes JSON lines.
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Iterator

PROVENANCE = {"source_url": "https://example.org/synthetic", "publisher": "synthetic", "retrieved_at":
              "2025-01-01T00:00:00Z", "extractor": {"name": "bench-synthetic", "version": "1"}}
STATUSES = ("confirmed", "confirmed", "confirmed", "reported", "alleged", "proposed")

# Share of relations per kind; authority and control ties are rare, ownership and money common (as in
# OpenSanctions/OCCRP data: many companies, few officials).
MIX = (("ownership", 0.34), ("payment", 0.14), ("directorship", 0.12), ("partners_with", 0.08),
       ("invests_in", 0.05), ("family", 0.07), ("associate", 0.06), ("lobbies", 0.03), ("regulates", 0.05),
       ("oversees", 0.02), ("prosecutes", 0.01), ("awards_contract", 0.02), ("occupancy", 0.005),
       ("control", 0.005))


class _Population:
    """Entity pools sized from the relation count; picks are heavy-tailed (a few hubs, a long tail)."""

    def __init__(self, relations: int, rng: random.Random):
        self.rng = rng
        self.people = max(50, relations // 3)
        self.companies = max(50, relations // 3)
        self.officials = max(5, self.people // 100)
        self.positions = max(5, self.officials)
        self.bodies = max(3, self.positions // 4)

    def heavy(self, size: int, skew: float = 2.5) -> int:
        # inverse-transform sample of a power law over [0, size): index 0 is the biggest hub
        return min(size - 1, int(size * self.rng.random() ** skew))

    def uniform(self, size: int) -> int:
        return self.rng.randrange(size)

    def person(self, index: int) -> dict:
        entity = {"id": f"p{index}", "schema": "Person", "name": f"Person {index}"}
        if index < self.officials:
            entity["topics"] = ["role.pep"]
        return entity

    def company(self, index: int) -> dict:
        return {"id": f"c{index}", "schema": "Company", "name": f"Company {index}"}

    def body(self, index: int) -> dict:
        return {"id": f"b{index}", "schema": "PublicBody", "name": f"Public body {index}", "topics": ["gov.national"]}

    def position(self, index: int) -> dict:
        return {"id": f"pos{index}", "schema": "Position", "name": f"Position {index}", "topics": ["gov.national"]}

    def official(self) -> dict:
        return self.person(self.uniform(self.officials))

    def any_person(self) -> dict:
        return self.person(self.heavy(self.people, 1.3))

    def any_company(self, skew: float = 2.0) -> dict:
        return self.company(self.heavy(self.companies, skew))

    def any_party(self) -> dict:
        return self.any_person() if self.rng.random() < 0.4 else self.any_company()


def _endpoints(kind: str, pop: _Population) -> tuple[dict, dict, dict]:
    rng = pop.rng
    if kind == "ownership":
        owner = pop.any_party()
        target = pop.any_company(1.2)
        return owner, target, {"percentage": round(rng.choice((5, 10, 20, 25, 30, 51, 60, 75, 100)) *
                                                   rng.uniform(0.8, 1.0), 2)}
    if kind in ("payment", "invests_in"):
        return pop.any_party(), pop.any_company(), {"amount": round(10 ** rng.uniform(3, 8)), "currency": "USD"}
    if kind == "directorship":
        return pop.any_person(), pop.any_company(1.5), {"role": "director"}
    if kind == "partners_with":
        return pop.any_company(), pop.any_company(), {}
    if kind in ("family", "associate"):
        # families cluster around officials: half of the ties start at one
        first = pop.official() if rng.random() < 0.5 else pop.any_person()
        return first, pop.any_person(), {"relationship": "relative" if kind == "family" else "associate"}
    if kind == "lobbies":
        return pop.any_company(), pop.body(pop.heavy(pop.bodies, 1.5)), {}
    if kind in ("regulates", "oversees", "prosecutes", "awards_contract"):
        target = pop.any_company(1.3) if kind != "prosecutes" or rng.random() < 0.5 else pop.any_person()
        return pop.body(pop.heavy(pop.bodies, 1.8)), target, {}
    if kind == "occupancy":
        return pop.official(), pop.position(pop.uniform(pop.positions)), {}
    if kind == "control":
        return pop.position(pop.uniform(pop.positions)), pop.body(pop.uniform(pop.bodies)), {}
    raise ValueError(kind)


def generate_events(relations: int, seed: int = 7) -> Iterator[dict]:
    rng = random.Random(seed)
    pop = _Population(relations, rng)
    kinds = [kind for kind, _ in MIX]
    weights = [weight for _, weight in MIX]
    # every official holds a position and every position controls a body, so authority is reachable
    backbone = [("occupancy", pop.person(i), pop.position(i % pop.positions), {}) for i in range(pop.officials)]
    backbone += [("control", pop.position(i), pop.body(i % pop.bodies), {}) for i in range(pop.positions)]
    produced = 0
    for kind, source, target, properties in backbone:
        yield _event(produced, kind, source, target, properties, rng)
        produced += 1
    while produced < relations:
        kind = rng.choices(kinds, weights)[0]
        source, target, properties = _endpoints(kind, pop)
        if source["id"] == target["id"]:
            continue
        yield _event(produced, kind, source, target, properties, rng)
        produced += 1


def _event(number: int, kind: str, source: dict, target: dict, properties: dict, rng: random.Random) -> dict:
    day = 1 + number % 28
    month = 1 + (number // 28) % 12
    return {
        "schema_version": "1.0",
        "event_id": f"e{number}",
        "op": "upsert",
        "relation_id": f"r{number}",
        "relation_type": kind,
        "source": source,
        "target": target,
        "properties": properties,
        "start_date": f"2015-{month:02d}-{day:02d}",
        "status": rng.choice(STATUSES),
        "observed_at": f"2025-{month:02d}-{day:02d}T00:00:00Z",
        "provenance": {**PROVENANCE, "confidence": round(rng.uniform(0.5, 1.0), 2)},
    }


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    out = sys.stdout
    for record in generate_events(count, seed):
        out.write(json.dumps(record, separators=(",", ":")) + "\n")
