"""Short garbage-collection pauses for a server holding thousands of sockets.

CPython's full collection walks every object the collector tracks, and a server with 5,000
open sockets tracks over 600,000: each full collection stopped the event loop for 300 to
700 ms (seen in `python -m bench.inbox_fanout`, timed with `gc.callbacks`), and they come
whenever the heap has grown by a quarter, so while sockets connect they come often.

Four measures, each seen in that bench and in `bench.loop_lag` with `gc.callbacks`:

- **Survivors are frozen.** What survives a full collection is mostly what lives as long as
  its socket or the process (connections, rooms, caches). Right after each full collection,
  and once the app has started, the survivors are frozen (`gc.freeze`): later collections
  skip them and walk only what is newer. A frozen object that later becomes part of a
  garbage cycle stays until the next sweep: every `SWEEP_SECONDS` the frozen objects are
  thawed and one full collection reclaims such cycles.
- **The web loop collects, on its own turns.** Automatic collection is off; a timer of the
  loop runs the collections CPython would have run (its thresholds), between callbacks. A
  collection started by an allocation ran wherever that allocation was: in the middle of a
  handler, or on the embedded worker's thread, which runs at the lowest CPU priority and so
  held the interpreter lock, collecting, while other processes had the CPU (a 3 ms
  collection took 17 ms on that thread).
- **A quiet moment is used.** Besides the full collections CPython's thresholds call for,
  one runs as soon as the loop's thread has used less than `QUIET_CPU` of a core over the
  last quarter of a second and something was promoted since the last one: what a burst left
  (5,000 sockets' connections) is walked and frozen then, not in the middle of the next
  burst. The inbox fan-out's worst loop lag went from 58-64 ms to 36 ms. The loop's thread,
  not the process: after 5,000 handshakes the embedded worker (which yields the core to the
  loop) worked off what they handed it for seconds, the process never looked quiet, and the
  150 ms collection came with the next announcement instead.
- **No collection walks a whole burst.** A full collection runs as soon as a middle one
  leaves more than `UNFROZEN_LIMIT` objects unfrozen, so each walks at most about that many,
  most of them just walked by the middle one (3 to 7 ms, against 60 to 150 ms for the
  120,000 to 240,000 objects ten middle collections promoted while 5,000 sockets
  connected). And the young generation is measured as well as counted (see `_collect_when_due`).

Process-wide, so `lms serve` installs it, not the app factory: a test process holding many
apps keeps the collector's defaults.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from models.background import cancel_and_wait

log = logging.getLogger(__name__)

SWEEP_SECONDS = 30 * 60.0
TICK_SECONDS = 0.005
QUIET_CPU = 0.5  # of one core, over the last `QUIET_WINDOW_SECONDS`
QUIET_WINDOW_SECONDS = 0.25
UNFROZEN_LIMIT = 20_000  # objects a full collection walks, about (3 to 7 ms)


def full_collection() -> None:
    """Collect everything not frozen, then freeze the survivors."""
    gc.collect()
    gc.freeze()


def sweep() -> tuple[float, int]:
    """Thaw, collect everything once, freeze again: the pause in seconds, and how many
    objects had died frozen (in cycles, which only this collection could free)."""
    started = time.perf_counter()
    gc.unfreeze()
    reclaimed = gc.collect()
    gc.freeze()
    return time.perf_counter() - started, reclaimed


class LoopCollector:
    """Runs the collections CPython's thresholds call for, from the loop's timer (`tick`),
    and a full one whenever the loop is quiet and anything was promoted since the last."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        cpu_clock: Callable[[], float] = time.thread_time,  # of the loop's thread: it ticks
    ) -> None:
        self._clock, self._cpu_clock = clock, cpu_clock
        self._thresholds = gc.get_threshold()
        self._window_start = clock()
        self._window_cpu = cpu_clock()
        self._quiet = False
        self.full_collections = 0

    def tick(self) -> None:
        try:
            self._collect_when_due()
        except Exception:  # the timer must go on: without it nothing collects at all
            log.exception("garbage collection tick failed")

    def _collect_when_due(self) -> None:
        self._measure()
        young, middle, full_due = self._thresholds
        counts = gc.get_count()
        # As CPython's own trigger: a generation is collected once its count passes its
        # threshold (without its extra rule for full collections, that the objects promoted
        # since the last be a quarter of the rest: freezing keeps what they walk small).
        if counts[2] > full_due or (counts[2] > 0 and self._quiet):
            self._full_collection()
        elif counts[0] > young or len(gc.get_objects(0)) > young:
            # The count alone misses young objects: freeing a frozen object (a closed
            # socket's) takes one off it, so 5,000 sockets closing while 5,000 connect
            # left it near zero over 200,000 young objects (a 74 ms collection).
            middle_due = counts[1] > middle
            gc.collect(1 if middle_due else 0)
            if middle_due and len(gc.get_objects(2)) > UNFROZEN_LIMIT:
                self._full_collection()

    def _full_collection(self) -> None:
        full_collection()
        self.full_collections += 1

    def _measure(self) -> None:
        """Whether the loop used less than `QUIET_CPU` over the last whole window."""
        now = self._clock()
        if now - self._window_start >= QUIET_WINDOW_SECONDS:
            cpu = self._cpu_clock()
            self._quiet = (cpu - self._window_cpu) / (now - self._window_start) < QUIET_CPU
            self._window_start, self._window_cpu = now, cpu


async def short_gc_pauses_ctx(app: web.Application) -> AsyncIterator[None]:
    full_collection()  # what starting made (modules, engines, caches) lives as long as the process
    collector = LoopCollector()
    gc.disable()

    async def collect_forever() -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            collector.tick()

    async def sweep_forever() -> None:
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            pause, reclaimed = sweep()
            log.info("full sweep: %.0f ms, %d objects had died frozen", pause * 1000, reclaimed)

    tasks = [
        asyncio.create_task(collect_forever(), name="gc-collect"),
        asyncio.create_task(sweep_forever(), name="gc-sweep"),
    ]
    yield
    for task in tasks:
        await cancel_and_wait(task)
    gc.enable()
    gc.unfreeze()
