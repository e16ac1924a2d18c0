"""A connection pool that serves its waiters in the order they came.

SQLAlchemy's asyncio pool keeps its connections in an `asyncio.Queue`. When a connection
comes back, the queue wakes its first waiter, but a request arriving before that waiter
runs takes the connection instead, and the waiter goes to the back of the line. Under a
load that keeps every connection busy, a few requests wait many turns: the posts page's
p50 / p90 / p99 were 40 / 163 / 330 ms with 64 wrk connections on a pool of 20, and
62 / 84 / 115 ms with a pool of 64 (no waiting at all), the same minute
(`BENCH_ROUTES=posts python -m bench.routes`).

Here a returned connection goes straight to the longest waiter, and a newcomer waits
behind everyone already waiting. The pool's sizes, timeouts and overflow stay SQLAlchemy's.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any, TypeVar

from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.util.concurrency import await_
from sqlalchemy.util.queue import AsyncAdaptedQueue, Empty, Full

T = TypeVar("T")


class FirstComeQueue(AsyncAdaptedQueue[T]):
    """The pool's queue, first come first served; `put` never blocks (the pool returns
    each connection it took, so there is always room)."""

    def __init__(self, maxsize: int = 0, use_lifo: bool = False) -> None:
        super().__init__(maxsize, use_lifo)
        self._items: deque[T] = deque()
        self._waiters: deque[asyncio.Future[T]] = deque()

    def empty(self) -> bool:
        return not self._items

    def full(self) -> bool:
        return 0 < self.maxsize <= len(self._items)

    def qsize(self) -> int:
        return len(self._items)

    def put_nowait(self, item: T) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():  # one that timed out or was cancelled is skipped
                waiter.set_result(item)
                return
        if self.full():
            raise Full()
        self._items.append(item)

    def put(self, item: T, block: bool = True, timeout: float | None = None) -> None:
        self.put_nowait(item)

    def get_nowait(self) -> T:
        if not self._items:
            raise Empty()
        return self._items.pop() if self.use_lifo else self._items.popleft()

    def get(self, block: bool = True, timeout: float | None = None) -> T:
        if self._items or not block:
            return self.get_nowait()
        result: T = await_(self._wait(timeout))
        return result

    async def _wait(self, seconds: float | None) -> T:
        waiter: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(seconds):
                return await asyncio.shield(waiter)
        except TimeoutError:
            if waiter.done():
                return waiter.result()
            waiter.cancel()
            raise Empty() from None
        except BaseException:
            # Cancelled (the request went away): a connection already handed over goes
            # to the next in line, never lost to the pool.
            if waiter.done() and not waiter.cancelled():
                self.put_nowait(waiter.result())
            else:
                waiter.cancel()
            raise


class FirstComePool(AsyncAdaptedQueuePool):
    _queue_class: Any = FirstComeQueue
