"""How the embedded worker thread takes turns with the web loop it shares a process with.

A thread of the server runs the tasks when there is no broker. Python runs one thread at a
time, and a busy worker thread (a fan-out storing thousands of inbox rows) held the web
loop back: loop lag p99 over 100 ms during `python -m bench.loop_lag`, against 4.5 ms with
the same writes and no fan-out. Three measures, each measured there (p99 from ~100 ms):

- the worker waits for the web loop to keep up before each unit of work (`WebLoopTurns`):
  to ~22 ms;
- the worker thread runs at the lowest CPU priority (Linux: `SCHED_IDLE` for that thread
  alone, first nice 19), so the kernel runs the web loop first whenever both are ready:
  to ~5 ms;
- the interpreter hands the lock between threads every 0.2 ms, not every five, so the
  web loop waits less for it once it wakes: to ~4.4 ms at 1 ms; later, with a heavier
  fan-out per write (each announcement's inbox rows), 4.7-4.9 ms at 1 ms and 4.0-4.3 at
  0.2 ms.

The work is not lost or dropped, only deferred while the web loop is busy: an idle server
runs a fan-out at full speed.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import sys
import threading
import time

log = logging.getLogger(__name__)

# The web loop keeps up when a callback handed to it runs within this.
KEEPING_UP_SECONDS = 0.002
LOWEST_PRIORITY = 19
# 1 ms gave p99 4.7-4.9 ms, 0.2 ms 4.0-4.3, 0.1 ms 5.0-5.3 (more hand-overs than it
# saves), three runs each of the embedded `bench.loop_lag` burst.
SWITCH_INTERVAL_SECONDS = 0.0002


class WebLoopTurns:
    """The worker's tasks wait here, one check at a time, before each unit of work.

    One at a time: thousands of tasks (an audit record for each of 5,000 socket handshakes)
    each checking on its own flooded the web loop with their checks, so that it never
    seemed to keep up, and the worker thread spun on the checks (seen in this module's
    first version, under `python -m bench.inbox_fanout`)."""

    def __init__(self, web_loop: asyncio.AbstractEventLoop) -> None:
        self._web_loop = web_loop
        self._one_check = asyncio.Lock()

    async def wait(self) -> None:
        async with self._one_check:
            await give_way_to(self._web_loop)


async def give_way_to(web_loop: asyncio.AbstractEventLoop) -> None:
    """Return once `web_loop` keeps up; while it lags, sleep as long as it lagged."""
    while True:
        handed = time.perf_counter()
        turn: concurrent.futures.Future[None] = concurrent.futures.Future()
        web_loop.call_soon_threadsafe(turn.set_result, None)
        await asyncio.wrap_future(turn)
        lagged = time.perf_counter() - handed
        if lagged < KEEPING_UP_SECONDS:
            return
        await asyncio.sleep(lagged)


def yield_cpu_to_web_loop() -> None:
    """Called on the embedded worker thread: the CPU whenever the web loop wants it, and a
    shorter interpreter switch interval (process-wide; it only matters while two threads
    want to run).

    Linux runs the thread under `SCHED_IDLE`, else at the lowest priority (nice 19). Nice 19
    was not enough on a recent kernel (EEVDF): a nice thread that had the CPU kept it for
    its slice while the web loop waited to run, 2.5 ms on average in the 5 ms windows where
    the web loop waited over 3 ms (`python -m bench.loop_lag`, both threads' schedstat). A
    `SCHED_IDLE` thread gives the CPU up as soon as any other thread wakes.

    The price, on a host whose CPUs other processes keep busy: the thread then runs rarely,
    and while it holds the interpreter lock the web loop waits with it. Its work is
    background work that already waits for the web loop; a deployment under that load
    runs Celery workers, whose publishing thread stays at nice 19 (`lowest_priority`)."""
    _shorter_switch_interval()
    if sys.platform != "linux":
        return  # elsewhere a priority is the whole process's: leave it
    try:
        os.sched_setscheduler(threading.get_native_id(), os.SCHED_IDLE, os.sched_param(0))
    except OSError as exc:
        log.info("worker thread not under SCHED_IDLE (%s): nice %d instead", exc, LOWEST_PRIORITY)
        _nice_lowest()


def lowest_priority() -> None:
    """Called on a web process's Celery publishing thread: the lowest priority (nice 19 on
    Linux) and the shorter switch interval. Not `SCHED_IDLE`: every request with tasks
    waits for its publish, and on a busy host an idle-class thread would hardly run."""
    _shorter_switch_interval()
    if sys.platform == "linux":  # elsewhere a priority is the whole process's: leave it
        _nice_lowest()


def _shorter_switch_interval() -> None:
    sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL_SECONDS))


def _nice_lowest() -> None:
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), LOWEST_PRIORITY)
    except OSError as exc:
        log.warning("thread keeps its priority: %s", exc)
