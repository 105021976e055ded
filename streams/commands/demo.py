"""`coi-risk demo`: the main job on an embedded default.

Starts the local broker when no bootstrap servers are configured, runs the worker, publishes the seed scenario and
prints alerts with their explanations as they arrive. Demo topics carry a `demo.` prefix and are recreated on each
run, so the demo shows the same alerts every time without touching the real pipeline's topics.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from pathlib import Path

from streams.commands.inputs import checked_lines, refuse_non_events, refuse_unusable_input
from streams.config import add_connection_flags, settings_from_args

SEED = Path(__file__).resolve().parents[2] / "examples" / "binance-wlfi.jsonl"


def register(subparsers) -> None:
    parser = subparsers.add_parser("demo", help="broker (if needed) + worker + seed scenario, alerts printed live")
    add_connection_flags(parser)
    parser.add_argument("--file", default=str(SEED), help="events to publish (default: the seed scenario)")
    parser.add_argument("--web-port", type=int, default=None,
                        help="the demo worker's HTTP port (default: the web_port setting, COI_WEB_PORT, else 6066)")
    parser.add_argument("--exit-after-idle", type=float, default=None, metavar="SECONDS",
                        help="stop after this long without a new alert (default: run until Ctrl-C)")
    parser.set_defaults(func=run)


def _demo_settings(args):
    return settings_from_args(args, app_id="coi-risk-demo", events_topic="demo.coi-relationship-events",
                              scores_topic="demo.coi-scores", alerts_topic="demo.coi-alerts",
                              dead_letter_topic="demo.coi-dead-letters", web_port=args.web_port,
                              data_dir=".run/demo-worker")


# what ends a demo besides Ctrl-C: `kill` and a closed terminal
_ENDING_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _wait_ready(url: str, worker: subprocess.Popen, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise SystemExit(f"the worker exited with code {worker.returncode} before it was ready")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"the worker was not ready at {url} within {timeout:.0f}s")


def _outcome(seen: Counter, sent: int, settings) -> str:
    """The demo's last line: what it showed of the events it published."""
    letters = seen["dead-letters"]
    refused = (f"; {letters} of them dead-lettered (`coi-risk tail dead-letters --topic {settings.dead_letter_topic} "
               "--from-beginning` lists them)") if letters else ""
    return f"{sent} events published, {seen['alerts']} alerts shown{refused}"


def run(args) -> int:
    from streams.broker import LocalBroker
    from streams.commands.produce import produce_lines, report_failures
    from streams.commands.tail import follow_kinds
    from streams.render import render_alert, render_dead_letter
    from streams.snapshots import SUFFIX
    from streams.topics import recreate_topics

    if (refused := refuse_unusable_input(args.file, "demo", reads_stdin=False)) is not None:
        return refused  # before a broker and a worker are started for it
    if (refused := refuse_non_events(args.file, "demo")) is not None:
        return refused
    settings = _demo_settings(args)
    started_broker = worker = summary = None
    seen: Counter = Counter()  # alerts and dead letters shown
    # a demo ended by `kill` (a supervisor, `timeout make demo`) or by a closed terminal stops as one ended by Ctrl-C:
    # without this the worker kept serving on its port and the broker (in its own session) kept running
    previous = {signum: signal.signal(signum, _interrupt) for signum in _ENDING_SIGNALS}
    try:
        if settings.uses_local_broker:
            broker = LocalBroker(port=settings.local_broker_port)
            status = broker.status()
            if status.running:
                print(f"using the local Kafka broker already running on {settings.bootstrap} (pid {status.pid}); "
                      f"the demo leaves it running (stop it with `coi-risk broker stop --port {broker.port}`)",
                      file=sys.stderr)
            else:
                print(f"starting the local Kafka broker on {settings.bootstrap} ...", file=sys.stderr)
                started_broker = broker  # before start(): a Ctrl-C while it boots stops it too
                broker.start()
        print(f"recreating demo topics on {settings.bootstrap}", file=sys.stderr)
        recreate_topics(settings)
        # the snapshots of an earlier demo are of the topics just deleted: a fresh demo starts from the fresh log
        for stale in Path(settings.snapshot_path).glob(f"snapshot-*{SUFFIX}"):
            stale.unlink(missing_ok=True)

        worker = subprocess.Popen([sys.executable, "-m", "streams.cli", "worker", "--loglevel", "warn"],
                                  env=settings.child_environment(os.environ))
        base = f"http://{settings.web_host}:{settings.web_port}"
        _wait_ready(f"{base}/ready", worker)
        print(f"worker ready; metrics at {base}/metrics, top risks at {base}/scores/top", file=sys.stderr)
        with open(args.file, "rb") as stream:
            lines, refused = checked_lines(args.file, stream, "demo")  # a pipe (`--file <(zcat f)`): as it is read
            if refused is not None:
                return refused
            summary = produce_lines(settings, lines, settings.events_topic, progress=False)
        if report_failures(summary, settings.events_topic):
            if summary["interrupted"]:  # a Ctrl-C while publishing stops the demo, as one while it follows alerts
                raise KeyboardInterrupt
            print("the demo goes on with the events that were published", file=sys.stderr)
        print(f"published {summary['sent']} events from {args.file}; alerts as they arrive, and the events the "
              "worker could not use as dead letters (Ctrl-C to stop):\n", file=sys.stderr)
        # the dead letters beside the alerts: a demo of one's own file that showed alerts only let the events the
        # worker refused (a misspelt relation type, a date it cannot read) go unnoticed
        outputs = {"alerts": settings.alerts_topic, "dead-letters": settings.dead_letter_topic}
        for kind, _, item in follow_kinds(settings, outputs, from_beginning=True,
                                          idle_timeout=args.exit_after_idle):
            seen[kind] += 1
            print((render_alert(item) if kind == "alerts" else "DEAD LETTER " + render_dead_letter(item)) + "\n",
                  flush=True)
    except KeyboardInterrupt:
        print("\nstopping ...", file=sys.stderr)
    finally:
        if summary is not None:
            print(_outcome(seen, summary["sent"], settings), file=sys.stderr)
        for signum in previous:  # the clean-up runs to its end
            signal.signal(signum, signal.SIG_IGN)
        try:
            if worker is not None:
                worker.send_signal(signal.SIGTERM)
                try:
                    worker.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    worker.kill()
            if started_broker is not None and started_broker.stop() is not False:
                print("local broker stopped", file=sys.stderr)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
    return 0
