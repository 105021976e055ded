"""End-to-end throughput of one worker on the real broker, beside a plain aiokafka consumer on the same topic.

    .venv/bin/python bench/pipeline_throughput.py --events 50000

1. Publishes N synthetic events (bench/synthetic.py) to a fresh input topic.
2. Raw rate: a plain aiokafka consumer reads the same N messages (no processing).
   Faust floor: a no-op Faust agent reads them too (bench/faust_floor.py): the ceiling of any Faust worker here.
3. Pipeline rate: a worker started after the backlog exists consumes all N (validate, apply, rescore, publish);
   measured from /ready until coi_events_consumed_total reaches N.
4. Latency: M more events are published at a steady pace while the worker is caught up; for each score or alert
   message, latency = its append (create) time minus the append time of the event that triggered it.
5. Where the time goes: the engine's share (coi_scoring_latency_seconds sum) of the worker's wall time.
6. Audit replay: the `coi-risk replay` command over the same N events the worker's rate was measured on, timed
   as a subprocess from start to exit (start-up included), writing its JSON lines to a file.

Starts its own broker on port 19392 unless --bootstrap or KAFKA_BOOTSTRAP_SERVERS is given.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.synthetic import generate_events  # noqa: E402
from streams.testing import WorkerProcess, pipeline_settings  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def produce(settings, events: list[dict], pace_per_second: float | None = None) -> dict[str, int]:
    """Publishes events keyed by relation id; returns event_id and (partition, offset) -> create timestamp (ms)."""
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=settings.bootstrap_servers, linger_ms=5, acks=1,
                             batch_size=512 * 1024)
    futures = []
    started = time.perf_counter()
    for index, event in enumerate(events):
        if pace_per_second:
            delay = started + index / pace_per_second - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        value = json.dumps(event, separators=(",", ":")).encode()
        futures.append((event["event_id"], producer.send(settings.events_topic, key=event["relation_id"].encode(),
                                                         value=value)))
    producer.flush()
    stamps = {}
    for event_id, future in futures:
        metadata = future.get(timeout=30)
        stamps[event_id] = stamps[(metadata.partition, metadata.offset)] = metadata.timestamp
    producer.close()
    return stamps


async def raw_consume(settings, count: int) -> float:
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(settings.events_topic, bootstrap_servers=settings.bootstrap_servers,
                                group_id=None, auto_offset_reset="earliest", enable_auto_commit=False)
    await consumer.start()
    seen = 0
    started = time.perf_counter()
    try:
        while seen < count:
            batches = await consumer.getmany(timeout_ms=1000, max_records=10000)
            seen += sum(len(records) for records in batches.values())
    finally:
        await consumer.stop()
    return count / (time.perf_counter() - started)


def faust_floor(settings, count: int, workdir: Path) -> int:
    """Rate of a no-op Faust agent over the same topic, in a subprocess (see bench/faust_floor.py)."""
    command = [sys.executable, str(REPO / "bench" / "faust_floor.py"), "--bootstrap", settings.bootstrap_servers,
               "--topic", settings.events_topic, "--count", str(count),
               "--batch", str(settings.batch_max_events), "--within", str(settings.batch_max_wait_seconds)]
    with (workdir / "faust-floor.log").open("ab") as log:
        output = subprocess.run(command, stdout=subprocess.PIPE, stderr=log, timeout=900, check=True,
                                cwd=REPO).stdout
    return json.loads(output.decode().strip().splitlines()[-1])["faust_noop_agent_rate"]


def output_latencies(settings, trigger_stamps: dict) -> dict[str, list[float]]:
    """Per output message: its create time minus that of the input that caused it (by trigger_event_id, or for
    a dead letter by the input's partition and offset)."""
    from kafka import KafkaConsumer

    latencies: dict[str, list[float]] = {"scores": [], "alerts": [], "dead_letters": []}
    for role, topic in (("scores", settings.scores_topic), ("alerts", settings.alerts_topic),
                        ("dead_letters", settings.dead_letter_topic)):
        consumer = KafkaConsumer(topic, bootstrap_servers=settings.bootstrap_servers, group_id=None,
                                 auto_offset_reset="earliest", consumer_timeout_ms=3000)
        for message in consumer:
            value = json.loads(message.value)
            trigger = value.get("trigger_event_id") if role != "dead_letters" else (value["partition"],
                                                                                    value["offset"])
            if trigger in trigger_stamps:
                latencies[role].append((message.timestamp - trigger_stamps[trigger]) / 1000.0)
        consumer.close()
    return latencies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--latency-events", type=int, default=3_000)
    parser.add_argument("--latency-rate", type=float, default=1_000.0, help="events/s in the latency phase")
    parser.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS"))
    parser.add_argument("--rejected-only", action="store_true",
                        help="publish events with an unknown schema_version: every one is dead-lettered, which "
                             "measures the Faust/Kafka path (consume, validate, publish) without the engine")
    parser.add_argument("--suggest-merges", action="store_true",
                        help="run the worker with merge suggestions on (settings.suggest_merges)")
    parser.add_argument("--broker-port", type=int, default=19392, help="port of the broker this starts")
    args = parser.parse_args()

    from streams.broker import LocalBroker
    from streams.topics import ensure_topics

    workdir = Path(tempfile.mkdtemp(prefix="coi-bench-"))
    broker = None
    if not args.bootstrap:
        broker = LocalBroker(port=args.broker_port, state_dir=workdir / "kafka")
        broker.start()
        args.bootstrap = broker.bootstrap
    try:
        settings = pipeline_settings(args.bootstrap, workdir)
        suggest_env = {}
        if args.suggest_merges:
            settings = settings.model_copy(update={"suggest_merges": True,
                                                   "suggestions_topic": f"{settings.app_id}.suggestions"})
            suggest_env = {"COI_SUGGEST_MERGES": "true", "COI_SUGGESTIONS_TOPIC": settings.suggestions_topic}
        ensure_topics(settings)
        all_events = list(generate_events(args.events + args.latency_events, seed=11))
        if args.rejected_only:
            all_events = [{**event, "schema_version": "0.9"} for event in all_events]
        backlog, paced = all_events[: args.events], all_events[args.events:]

        started = time.perf_counter()
        produce(settings, backlog)
        produce_rate = len(backlog) / (time.perf_counter() - started)
        raw_rate = asyncio.run(raw_consume(settings, len(backlog)))
        floor = faust_floor(settings, len(backlog), workdir)

        worker = WorkerProcess(settings, workdir / "worker.log", extra_env=suggest_env)
        worker.start()
        ready_at = time.perf_counter()
        while worker.metric("coi_events_consumed_total") < len(backlog):
            time.sleep(0.5)  # each scrape costs the worker ~10 ms; poll gently
            if time.perf_counter() - ready_at > 1800:
                raise TimeoutError("worker did not finish the backlog in 30 minutes")
        pipeline_seconds = time.perf_counter() - ready_at
        pipeline_rate = len(backlog) / pipeline_seconds
        engine_seconds = worker.metric("coi_scoring_latency_seconds_sum")
        outputs = worker.metric("coi_published_total", topic=settings.scores_topic)
        suggestions = worker.metric("coi_published_total", topic=settings.suggestions_topic) \
            if args.suggest_merges else None

        stamps = produce(settings, paced, pace_per_second=args.latency_rate)
        while worker.metric("coi_events_consumed_total") < len(all_events):
            time.sleep(0.2)
        time.sleep(1.0)
        latencies = output_latencies(settings, stamps)
        worker.stop()

        started = time.perf_counter()
        replay_output = workdir / "replay.jsonl"
        # the same events the worker's rate was measured on: the backlog, offsets [0, N) of the one partition
        subprocess.run([sys.executable, "-m", "streams.cli", "replay", "--quiet", "--output", str(replay_output),
                        "--to", f"0:{len(backlog)}", "--bootstrap-servers", settings.bootstrap_servers],
                       cwd=REPO, check=True, timeout=3600,
                       env={**os.environ, "COI_RISK_CONFIG": "", "COI_EVENTS_TOPIC": settings.events_topic})
        replay_seconds = time.perf_counter() - started
        replayed = len(backlog)
        replay_rate = replayed / replay_seconds
        replay_lines = sum(1 for _ in replay_output.open())

        result = {
            "events": len(backlog), "relations_in_graph": len(all_events),
            "suggest_merges": args.suggest_merges, "suggestion_messages": suggestions,
            "produce_rate": round(produce_rate), "raw_consumer_rate": round(raw_rate),
            "faust_noop_agent_rate": floor, "pipeline_rate": round(pipeline_rate),
            "pipeline_vs_raw": round(pipeline_rate / raw_rate, 3),
            "pipeline_vs_faust_floor": round(pipeline_rate / floor, 3),
            "batch": {"max_events": settings.batch_max_events, "max_wait_s": settings.batch_max_wait_seconds},
            "engine_share_of_worker_time": round(engine_seconds / pipeline_seconds, 3),
            "score_messages_per_event": round(outputs / len(backlog), 2),
            "latency_phase": {"events": len(paced), "rate": args.latency_rate},
            "replay_events": replayed, "replay_rate": round(replay_rate), "replay_output_lines": replay_lines,
            "replay_vs_pipeline": round(replay_rate / pipeline_rate, 2),
        }
        for role, values in latencies.items():
            if values:
                result[f"append_to_{role}_p50_ms"] = round(percentile(values, 0.50) * 1000, 1)
                result[f"append_to_{role}_p99_ms"] = round(percentile(values, 0.99) * 1000, 1)
                result[f"append_to_{role}_count"] = len(values)
                result[f"append_to_{role}_mean_ms"] = round(statistics.fmean(values) * 1000, 1)
        print(json.dumps(result, indent=2))
    finally:
        if broker is not None:
            broker.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
