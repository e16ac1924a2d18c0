"""One thread that hands tasks to the broker, the most urgent first.

Publishing is blocking network I/O, so it leaves the event loop for a thread, and for one
thread only (workers/dispatch.py says why). The broker serves urgent tasks before deferred
ones, but only once it has them: with a first-come queue in front of it, an announcement's
fan-out waited here behind the audit records of thousands of sockets that had just closed
and opened, before the broker even saw it. So this thread takes the lowest priority number
first and, within a priority, the order in which the tasks came.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import queue
import sys
import threading
from collections.abc import Callable
from typing import Any

_Job = tuple[Callable[[], Any], asyncio.AbstractEventLoop, "asyncio.Future[Any]"]


class PublishingThread:
    def __init__(self, name: str, initializer: Callable[[], None] | None = None) -> None:
        # (priority, order sent, job): no two entries compare their jobs. None stops it.
        self._jobs: queue.PriorityQueue[tuple[int, int, _Job | None]] = queue.PriorityQueue()
        self._order = itertools.count()
        self._stopping = False
        self._initializer = initializer
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, priority: int, call: Callable[[], Any]) -> asyncio.Future[Any]:
        """Queue `call` for the thread; the future (of the running loop) has its result."""
        if self._stopping:
            raise RuntimeError("the publishing thread has stopped")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._jobs.put((priority, next(self._order), (call, loop, future)))
        return future

    def shutdown(self) -> None:
        """Publish everything queued, then stop. Blocks: call it from a thread."""
        self._stopping = True
        self._jobs.put((sys.maxsize, next(self._order), None))
        self._thread.join()

    def _run(self) -> None:
        if self._initializer is not None:
            self._initializer()
        while True:
            _, _, job = self._jobs.get()
            if job is None:
                return
            call, loop, future = job
            try:
                result = call()
            except BaseException as exc:  # as a thread pool does: the caller gets it
                outcome = functools.partial(_fail, future, exc)
            else:
                outcome = functools.partial(_succeed, future, result)
            # A closed loop raises: nobody waits for this publish any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(outcome)


def _succeed(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():  # the sender may have been cancelled meanwhile
        future.set_result(result)


def _fail(future: asyncio.Future[Any], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)
