"""Short garbage-collection pauses for a server holding thousands of sockets.

CPython's full collection walks every object the collector tracks, and a server with 5,000
open sockets tracks over 600,000: each full collection stopped the event loop for 300 to
700 ms (seen in `python -m bench.inbox_fanout`, timed with `gc.callbacks`), and they come
whenever the heap has grown by a quarter, so while sockets connect they come often.

What survives a full collection is mostly what lives as long as its socket or the process
(connections, rooms, caches). Right after each full collection, and once the app has
started, the survivors are frozen (`gc.freeze`): later collections skip them and walk only
what is newer, so their pause follows what changed, not what is held. A frozen object that
later becomes part of a garbage cycle stays until the next sweep: every `SWEEP_SECONDS`
the frozen objects are thawed and one full collection reclaims such cycles (one long pause
then, not one per quarter of growth).

Process-wide, so `lms serve` installs it, not the app factory: a test process holding many
apps keeps the collector's defaults.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from models.background import cancel_and_wait

log = logging.getLogger(__name__)

SWEEP_SECONDS = 30 * 60.0


class FreezeAfterFullCollections:
    """A `gc.callbacks` entry: after each full collection, freeze its survivors (from the
    loop, soon after: not inside the collector's callback)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._due = False
        self.freezes = 0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "stop" and info["generation"] == 2 and not self._due:
            self._due = True
            self._loop.call_soon_threadsafe(self._freeze)

    def _freeze(self) -> None:
        self._due = False
        self.freezes += 1
        gc.freeze()


def sweep() -> float:
    """Thaw, collect everything once, freeze again; returns the pause in seconds."""
    started = time.perf_counter()
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    return time.perf_counter() - started


async def short_gc_pauses_ctx(app: web.Application) -> AsyncIterator[None]:
    loop = asyncio.get_running_loop()
    freezer = FreezeAfterFullCollections(loop)
    gc.collect()
    gc.freeze()  # what starting made (modules, engines, caches) lives as long as the process
    gc.callbacks.append(freezer)

    async def sweep_forever() -> None:
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            log.info("full garbage collection took %.0f ms", sweep() * 1000)

    sweeper = asyncio.create_task(sweep_forever(), name="gc-sweep")
    yield
    await cancel_and_wait(sweeper)
    gc.callbacks.remove(freezer)
    gc.unfreeze()
