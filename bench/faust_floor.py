"""The ceiling of any Faust agent on this machine: a no-op agent reading a topic, in batches as the worker does.

    .venv/bin/python bench/faust_floor.py --bootstrap 127.0.0.1:19392 --topic T --count 20000

Same Faust settings as the worker (raw serializers, memory store, `take_events` batches), but the agent only
counts. Whatever the worker does on top can only be slower, so this separates Faust's own per-message cost
(consumer thread, conductor, stream buffer, acks) from the pipeline's. Prints one JSON line.
`bench/pipeline_throughput.py` runs it in a subprocess beside the raw aiokafka consumer and the worker.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--within", type=float, default=0.01)
    args = parser.parse_args()

    import faust
    from faust.worker import Worker

    app = faust.App(f"faust-floor-{os.getpid()}", broker=f"kafka://{args.bootstrap}", store="memory://",
                    web_enabled=False, key_serializer="raw", value_serializer="raw",
                    consumer_auto_offset_reset="earliest", topic_allow_declare=False, datadir=tempfile.mkdtemp())
    topic = app.topic(args.topic, key_type=bytes, value_type=bytes)

    @app.agent(topic)
    async def count(stream):
        seen, first, started = 0, 0, None
        async for batch in stream.take_events(args.batch, within=args.within):
            seen += len(batch)
            if started is None:  # start-up and partition assignment are not counted: clock from the first batch
                first, started = seen, time.perf_counter()
            if seen >= args.count:
                break
        rate = (seen - first) / max(1e-9, time.perf_counter() - started)
        print(json.dumps({"faust_noop_agent_rate": round(rate), "messages": seen}), flush=True)
        os._exit(0)  # the measurement is done; a graceful Faust shutdown takes seconds and adds nothing

    worker = Worker(app, loglevel="warn", quiet=True, redirect_stdouts=False)
    worker.spinner = None  # as in the worker: the spinner turns on DEBUG records for every send
    worker.execute_from_commandline()


if __name__ == "__main__":
    main()
