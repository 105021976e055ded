"""`coi-risk topics describe` reads kafka-python 3.x's describe_topics answer (topics named `name`)."""

from __future__ import annotations

import streams.topics as topics
from streams.config import Settings


class FakeAdmin:
    def list_topics(self):
        return ["coi-relationship-events", "coi-scores"]

    def describe_topics(self, names):  # the shape kafka-python 3.0 returns
        return [{"error_code": 0, "name": name, "partitions": [{"partition_index": 0}] * (1 if "events" in name else 3)}
                for name in names]

    def describe_configs(self, resources):
        return {"topic": {r.name: {"cleanup.policy": {"value": "compact"}} for r in resources}}

    def close(self):
        pass


def test_describe_counts_partitions_of_kafka_python_3_answers(monkeypatch):
    monkeypatch.setattr(topics, "admin_client", lambda settings: FakeAdmin())
    described = {t["name"]: t for t in topics.describe_topics(Settings())}
    assert described["coi-relationship-events"]["partitions"] == 1
    assert described["coi-scores"]["partitions"] == 3
    assert described["coi-scores"]["config"] == {"cleanup.policy": "compact"}
    assert described["coi-alerts"] == {"name": "coi-alerts", "exists": False, "partitions": 0, "config": {}}
