"""Interleavings of the engine's users (a batch on the event loop, a render or a replay in a thread) that a
cancellation must not break: the engine lock is held for as long as a thread still reads the engine, and a batch
is never let go (acked) unapplied."""

from __future__ import annotations

import asyncio
import threading
from types import SimpleNamespace

import pytest

from streams.config import load_settings
from streams.web import DataViewGuard
from tests.unit.streams.test_web import _View


def test_a_cancelled_render_holds_the_engine_until_its_thread_is_done_with_it():
    # aiohttp cancels a handler at shutdown (or on a client's disconnect where handler_cancellation is on); the
    # render's thread goes on reading the engine, so the lock must not pass to a batch or a replay meanwhile
    pipeline = SimpleNamespace(settings=load_settings(environ={}), ready=asyncio.Event(), engine_lock=None)
    pipeline.ready.set()
    guard = DataViewGuard(pipeline)
    rendering, release = threading.Event(), threading.Event()
    in_render = []

    def produce() -> bytes:
        in_render.append(True)
        rendering.set()
        release.wait(10)  # reading the engine
        in_render.append(False)
        return b"{}"

    async def scenario():
        pipeline.engine_lock = asyncio.Lock()
        request = asyncio.ensure_future(guard.render(_View, produce))
        while not rendering.is_set():
            await asyncio.sleep(0.005)
        request.cancel()
        await asyncio.sleep(0.05)
        # what the next batch or a catch-up would do: take the engine
        try:
            await asyncio.wait_for(pipeline.engine_lock.acquire(), 0.2)
            took_it_mid_render = in_render[-1] is True
            pipeline.engine_lock.release()
        except asyncio.TimeoutError:
            took_it_mid_render = False
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await request
        return took_it_mid_render

    try:
        assert not asyncio.run(scenario()), "the engine lock passed on while the render thread read the engine"
    finally:
        release.set()
        guard.executor.shutdown(wait=True)


def test_a_batch_cancelled_while_waiting_for_the_engine_is_not_let_go_unapplied(tmp_path, monkeypatch):
    # Raising out of `handle_batch` closes Faust's take buffer, which acks the batch (streams.app
    # `_fail_without_commit`): a batch interrupted before it was applied must stop the worker instead, as one
    # interrupted anywhere later does. Waiting for the lock (behind a catch-up, a render or a thread's snapshot
    # write) is such a point.
    import streams.app as app_module
    from streams.app import Pipeline

    pipeline = Pipeline(load_settings(environ={}, data_dir=str(tmp_path / "data")))
    stopped = []

    class Exited(Exception):
        """stands in for os._exit(70)"""

    def fail_without_commit(exc):
        stopped.append(type(exc).__name__)
        raise Exited

    monkeypatch.setattr(app_module, "_fail_without_commit", fail_without_commit)

    async def scenario():
        await pipeline.engine_lock.acquire()  # a catch-up replaying
        batch = asyncio.ensure_future(pipeline.handle_batch([]))
        await asyncio.sleep(0.01)
        batch.cancel()
        try:
            await batch
        except BaseException as exc:  # noqa: BLE001
            return type(exc).__name__
        finally:
            pipeline.engine_lock.release()

    escaped = asyncio.run(scenario())
    assert stopped == ["CancelledError"], f"{escaped} escaped handle_batch: Faust would ack the unapplied batch"
    assert not pipeline.engine_lock.locked()


def test_a_signal_to_the_snapshot_writer_is_the_writers_not_the_workers(tmp_path, monkeypatch):
    # The child forks off an event loop whose signal handlers (mode's Worker: SIGTERM and SIGINT stop the worker)
    # write the signal's number to a socket the loop reads: the child inherited both, so a SIGTERM sent to the
    # writer (an operator killing a writer that takes too much memory, a supervisor signalling every process of
    # the worker's group) was ignored by the writer and stopped the worker instead.
    import os
    import signal
    import time

    from streams.snapshots import Identity, SnapshotState, SnapshotStore

    store = SnapshotStore(tmp_path, Identity("app", "events", "config"))

    def slow_save(self, state):  # the child pickling
        time.sleep(3)
        return tmp_path / "written"

    monkeypatch.setattr(SnapshotStore, "save", slow_save)

    async def scenario():
        loop = asyncio.get_running_loop()
        stops = []
        loop.add_signal_handler(signal.SIGTERM, lambda: stops.append("worker stopping"))
        try:
            pid = store.save_in_child(SnapshotState(None, None, {}))
            await asyncio.sleep(0.3)
            os.kill(pid, signal.SIGTERM)
            code = await loop.run_in_executor(None, store.wait_for_child, pid, 10)
            await asyncio.sleep(0.1)
        finally:
            loop.remove_signal_handler(signal.SIGTERM)
        return code, stops

    code, stops = asyncio.run(scenario())
    assert stops == [], "the writer's SIGTERM reached the worker's event loop"
    assert code == -signal.SIGTERM, f"the writer ignored SIGTERM and exited with {code}"
