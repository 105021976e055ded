"""Publishing many outputs at once on the real broker: the worker's producer batch size beside Kafka's default.

    .venv/bin/python bench/producer_batches.py --outputs 500 5000 --rounds 3

An event whose rescoring changes thousands of scores publishes them in one go (`Pipeline._process_and_publish`):
every output is sent, then the batch waits for every acknowledgement. aiokafka, under Faust, sends one request at a
time to a broker, with at most one batch a partition in it, and a send that finds its partition's batch full waits
for that batch to leave. So the batch size sets how many round trips such an event waits for.

For each batch size (16,384 bytes, Faust's and Kafka's default, and the worker's `producer_max_batch_size`), round
and count, a fresh aiokafka producer with the worker's settings (acks=all, linger 0, its request limit) sends
`count` score-sized messages (`--value-bytes`) to a topic of `--partitions` partitions created as the worker's
output topics are (max.message.bytes), with keys spread over the partitions; reported: the time until every send
was queued and until every one was acknowledged, in ms, and the median of the rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(os.environ.get("COI_RISK_REPO", Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(REPO))

from bench.broker import bootstrap_or_local_broker  # noqa: E402

DEFAULT_BATCH_BYTES = 16_384


async def _publish(bootstrap: str, topic: str, batch_size: int, request_size: int, count: int,
                   value_bytes: int) -> tuple[float, float]:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks=-1, linger_ms=0, max_batch_size=batch_size,
                                max_request_size=request_size)
    await producer.start()
    try:
        value = b"s" * value_bytes
        await (await producer.send(topic, value, key=b"warm-up"))  # metadata and connection, outside the clock
        started = time.perf_counter()
        sent = [await producer.send(topic, value, key=f"actor-{n}|counterparty-{n}".encode()) for n in range(count)]
        queued = time.perf_counter() - started
        await asyncio.gather(*sent)
        return queued, time.perf_counter() - started
    finally:
        await producer.stop()


async def _measure(bootstrap: str, args: argparse.Namespace) -> list[dict]:
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    from streams.app import MAX_PRODUCER_BATCH_BYTES
    from streams.config import load_settings
    from streams.topics import RECORD_OVERHEAD_BYTES

    settings = load_settings(environ={})
    worker_batch = min(settings.max_message_bytes, MAX_PRODUCER_BATCH_BYTES)
    request_size = settings.max_message_bytes + RECORD_OVERHEAD_BYTES
    topic = f"bench-batches-{os.getpid()}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=args.partitions, replication_factor=1,
                                            topic_configs={"max.message.bytes": str(request_size)})])
    finally:
        await admin.close()
    rows = []
    for count in args.outputs:
        for batch_size in (DEFAULT_BATCH_BYTES, worker_batch):
            runs = [await _publish(bootstrap, topic, batch_size, request_size, count, args.value_bytes)
                    for _ in range(args.rounds)]
            rows.append({"outputs": count, "batch_bytes": batch_size,
                         "queued_ms": [round(q * 1000, 1) for q, _ in runs],
                         "acked_ms": [round(a * 1000, 1) for _, a in runs],
                         "acked_median_ms": round(statistics.median(a for _, a in runs) * 1000, 1)})
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--outputs", type=int, nargs="+", default=[500, 5000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--value-bytes", type=int, default=1_500, help="bytes of each message (a score's size)")
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS"))
    parser.add_argument("--broker-port", type=int, default=19401, help="port of the broker this starts")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="coi-bench-batches-") as work, \
            bootstrap_or_local_broker(args.bootstrap, args.broker_port, Path(work) / "kafka") as bootstrap:
        rows = asyncio.run(_measure(bootstrap, args))
    print("| outputs | batch bytes | queued ms (rounds) | all acknowledged ms (rounds) | median |\n|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['outputs']:,} | {row['batch_bytes']:,} | {', '.join(map(str, row['queued_ms']))} | "
              f"{', '.join(map(str, row['acked_ms']))} | {row['acked_median_ms']} |")
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
