"""Waiting for a thread's work while holding the engine: to its end, whatever cancels the waiter."""

from __future__ import annotations

import asyncio


async def wait_through_cancellation(future: asyncio.Future):
    """The future's result, waited for to the end even if the waiting task is cancelled meanwhile (which is then
    re-raised): the caller holds the engine lock for a thread that still reads the state (a snapshot writer, a
    render), and releasing it early would let a batch or a catch-up change the state under it (a snapshot of no
    consistent cut, a render of half-applied events)."""
    cancelled = False
    while not future.done():
        try:
            await asyncio.shield(future)
        except asyncio.CancelledError:
            cancelled = True
        except BaseException:  # noqa: BLE001 - the future's own failure: result() below raises it
            break
    if cancelled:
        raise asyncio.CancelledError
    return future.result()
