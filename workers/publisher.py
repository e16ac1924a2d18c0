"""One thread that hands tasks to the broker, urgent ones first.

Publishing is blocking network I/O, so it leaves the event loop for a thread, and for one
thread only (workers/dispatch.py says why). The broker serves urgent tasks before deferred
ones, but only once it has them: with a first-come queue in front of it, an announcement's
fan-out waited here behind the audit records of thousands of sockets that had just closed
and opened, before the broker even saw it. So this thread keeps two lanes, each first
come, and takes the urgent lane first; a deferred job still goes after every
`URGENT_STREAK` urgent ones, since some senders wait for theirs (a request's audit record).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

# A call, and the loop and future its result goes to (none for a job queued by `again`).
_Job = tuple[Callable[[], Any], asyncio.AbstractEventLoop | None, "asyncio.Future[Any] | None"]

# Urgent jobs taken in a row while a deferred one waits, before that one goes.
URGENT_STREAK = 8


class PublishingThread:
    def __init__(self, name: str, initializer: Callable[[], None] | None = None) -> None:
        self._urgent: collections.deque[_Job] = collections.deque()
        self._deferred: collections.deque[_Job] = collections.deque()
        self._changed = threading.Condition()
        self._stopping = False
        self._initializer = initializer
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, call: Callable[[], Any], *, urgent: bool) -> asyncio.Future[Any]:
        """Queue `call` for the thread; the future (of the running loop) has its result."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        with self._changed:
            if self._stopping:
                raise RuntimeError("the publishing thread has stopped")
            (self._urgent if urgent else self._deferred).append((call, loop, future))
            self._changed.notify()
        return future

    def again(self, call: Callable[[], Any]) -> None:
        """From a job on the thread: run `call` later, behind the deferred jobs waiting.
        Taken while stopping too: the thread runs everything queued before it ends."""
        with self._changed:
            self._deferred.append((call, None, None))

    def shutdown(self) -> None:
        """Publish everything queued, then stop. Blocks: call it from a thread."""
        with self._changed:
            self._stopping = True
            self._changed.notify()
        self._thread.join()

    def _next(self, streak: int) -> tuple[_Job | None, int]:
        """The next job (None once stopped and empty), and the urgent streak after it."""
        with self._changed:
            while not (self._urgent or self._deferred or self._stopping):
                self._changed.wait()
            if self._urgent and (streak < URGENT_STREAK or not self._deferred):
                return self._urgent.popleft(), streak + 1
            if self._deferred:
                return self._deferred.popleft(), 0
            return None, streak

    def _run(self) -> None:
        if self._initializer is not None:
            try:
                self._initializer()
            except Exception:  # the thread must still publish
                log.exception("publishing thread: initializer failed")
        streak = 0
        while True:
            job, streak = self._next(streak)
            if job is None:
                return
            call, loop, future = job
            try:
                result = call()
            except BaseException as exc:  # as a thread pool does: the caller gets it
                if future is None:
                    log.exception("publishing thread: job failed")
                    continue
                outcome = functools.partial(_fail, future, exc)
            else:
                if future is None:
                    continue
                outcome = functools.partial(_succeed, future, result)
            assert loop is not None
            # A closed loop raises: nobody waits for this publish any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(outcome)


def _succeed(future: asyncio.Future[Any], result: Any) -> None:
    if not future.done():  # the sender may have been cancelled meanwhile
        future.set_result(result)


def _fail(future: asyncio.Future[Any], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)
