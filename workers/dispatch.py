"""How a task leaves the web process: to Celery after commit, or, with no broker, to a
worker thread in this process. Both run the same task functions (workers/tasks.py).

When the Celery broker cannot be reached, a log record is written here and now (a log
write is small, and an audit record must not wait or be lost); every other task (an AI
answer, a payment's fulfilment, a notification's fan-out) waits in the tenant's task outbox
and is relayed once the broker answers: the request that caused it never does its work."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import itertools
import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

from celery import Celery

from models.effects import EventPublisher, TaskCall
from models.outbox import Outbox, Sessions
from models.settings import Settings
from models.tasks.outbox import TaskStore
from models.tenancy import Databases
from workers.context import WorkerContext
from workers.publisher import PublishingThread
from workers.record_batches import RecordBatches
from workers.tasks import (
    DEFERRABLE,
    INLINE_WHEN_BROKER_DOWN,
    PERIODIC,
    STARTED_AT_ONCE,
    TASKS,
)
from workers.turns import WebLoopTurns, yield_cpu_to_web_loop

log = logging.getLogger(__name__)


class Dispatcher(Protocol):
    """Sends tasks (in-process or to Celery); `drain` waits for in-process ones to finish."""

    async def send(self, name: str, tenant: str, *args: Any) -> None: ...

    async def drain(self) -> None: ...

    async def relay(self, tenant: str) -> bool: ...

    async def stop(self) -> None: ...


RETRY_DELAYS = (0.1, 0.5, 2.0)
# The Redis transport serves priority 0 first and 9 last (kombu's steps: 0, 3, 6, 9).
URGENT_PRIORITY, DEFERRED_PRIORITY = 0, 9


async def run_task(ctx: WorkerContext, name: str, tenant: str, *args: Any) -> None:
    """Run one task function, retrying a failure with backoff (tasks are idempotent)."""
    function = TASKS[name]
    for delay in (*RETRY_DELAYS, None):
        try:
            await function(ctx, tenant, *args)
            return
        except Exception:
            if delay is None:
                log.exception("task %s for %s failed for good", name, tenant)
                return
            log.warning("task %s for %s failed; retrying in %.1fs", name, tenant, delay)
            await asyncio.sleep(delay)


class InProcessDispatcher:
    """The embedded default: a worker thread with its own event loop and engines.

    Tasks run off the server's event loop, exactly as a Celery worker process runs them.
    Given the web loop, the thread lets it go first (workers/turns.py).

    A sent task waits in a queue as its name and arguments until one of `CONSUMERS`
    coroutines takes it, as a Celery worker's prefetched messages wait for its processes;
    records nobody waits for (`DEFERRABLE`) wait behind every other task, as on the broker.
    Started at once instead, a burst of fan-outs was thousands of live coroutines, tasks and
    futures waiting for the pool's connections: every one of them outlived the young
    collections, and the full collections that walk them paused the web loop too (the
    inbox fan-out's loop lag p99, `python -m bench.inbox_fanout`: 87 ms, 44 ms queued).
    """

    # More than the worker's database pool, so that a few tasks waiting on the network (a
    # payment's provider) leave room for the ones that only need the database. An AI answer,
    # which may stream for minutes, takes no consumer (`STARTED_AT_ONCE`).
    CONSUMERS = 32

    def __init__(
        self,
        settings: Settings,
        events: EventPublisher | None = None,
        web_loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self._settings = settings
        self._events = events
        self._web_loop = web_loop
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ctx: WorkerContext | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        # (priority, order sent, name, tenant, args): the lower first, then in order.
        self._queue: asyncio.PriorityQueue[tuple[int, int, str, str, tuple[Any, ...]]] | None = None
        self._sent = itertools.count()
        # Tasks sent and not yet finished, and who waits for that count to reach 0.
        self._unfinished = 0
        self._idle_waiters: list[concurrent.futures.Future[None]] = []
        self._lock = threading.Lock()
        self._started: set[asyncio.Task[None]] = set()  # STARTED_AT_ONCE, while they run

    def start(self) -> None:
        self._thread = threading.Thread(target=self._serve, name="lms-tasks", daemon=True)
        self._thread.start()
        self._ready.wait()

    def _serve(self) -> None:
        if self._web_loop is not None:
            yield_cpu_to_web_loop()
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        self._queue = asyncio.PriorityQueue()
        self._ctx = WorkerContext(
            self._settings, Databases.connect(self._settings.database_url), self, self._events
        )
        if self._web_loop is not None:
            self._ctx.pace = WebLoopTurns(self._web_loop).wait
        consumers = [loop.create_task(self._consume(self._ctx)) for _ in range(self.CONSUMERS)]
        self._ready.set()
        loop.run_forever()
        running = [*consumers, *self._started]
        for task in running:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*running, return_exceptions=True))
        loop.run_until_complete(self._ctx.close())
        loop.close()

    async def _consume(self, ctx: WorkerContext) -> None:
        assert self._queue is not None
        while True:
            _, _, name, tenant, args = await self._queue.get()
            await self._run_one(ctx, name, tenant, args)

    async def _run_one(
        self, ctx: WorkerContext, name: str, tenant: str, args: tuple[Any, ...]
    ) -> None:
        """One task, counted as finished however it ends; a task cancelled from within ends
        alone, never the consumer that ran it."""
        try:
            await run_task(ctx, name, tenant, *args)
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # the worker is stopping
            log.warning("task %s for %s was cancelled", name, tenant)
        finally:
            self._finished_one()

    def _start_now(self, name: str, tenant: str, args: tuple[Any, ...]) -> None:
        assert self._loop is not None and self._ctx is not None
        task = self._loop.create_task(self._run_one(self._ctx, name, tenant, args))
        self._started.add(task)
        task.add_done_callback(self._started.discard)

    async def send(self, name: str, tenant: str, *args: Any) -> None:
        if name not in TASKS:
            raise KeyError(f"unknown task {name}")
        assert self._loop is not None and self._queue is not None, "dispatcher not started"
        with self._lock:
            self._unfinished += 1
        try:
            if name in STARTED_AT_ONCE:
                self._loop.call_soon_threadsafe(self._start_now, name, tenant, args)
            else:
                priority = 1 if name in DEFERRABLE else 0
                item = (priority, next(self._sent), name, tenant, args)
                self._loop.call_soon_threadsafe(self._queue.put_nowait, item)
        except BaseException:
            self._finished_one()  # never handed over (the worker's loop is closed)
            raise

    def _finished_one(self) -> None:
        with self._lock:
            self._unfinished -= 1
            if self._unfinished:
                return
            waiters, self._idle_waiters = self._idle_waiters, []
        for waiter in waiters:
            with contextlib.suppress(concurrent.futures.InvalidStateError):
                waiter.set_result(None)  # unless its drain() was cancelled

    async def drain(self) -> None:
        """Wait until every task sent so far, and every task those sent, has finished (a
        task's own sends are counted before it finishes)."""
        with self._lock:
            if not self._unfinished:
                return
            waiter: concurrent.futures.Future[None] = concurrent.futures.Future()
            self._idle_waiters.append(waiter)
        await asyncio.wrap_future(waiter)

    async def relay(self, tenant: str) -> bool:
        """Nothing ever waits: a worker thread is always there."""
        return True

    async def stop(self) -> None:
        await self.drain()
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            await asyncio.to_thread(self._thread.join)


class CeleryDispatcher:
    """Publishes to the Celery broker from a thread (publishing is blocking network I/O).

    One thread of its own, not the loop's default pool: every publishing thread competes
    with the event loop for the GIL, and with a pool of six the loop waited behind them
    (profiled: loop lag p99 15-40 ms at 300 publishes a second); one thread keeps up
    (a publish is one Redis round trip). It sends urgent tasks before the log records
    waiting there, each kind in order, and a waiting record after every eight urgent ones
    (workers/publisher.py); the log records that queued meanwhile go as one message per
    tenant (workers/record_batches.py). `publishing_thread_setup` runs first on that thread: a web
    process lowers its priority there, so that the web loop goes first.

    If the broker cannot be reached: a log write runs here and now (`fallback`), a periodic
    task is left to its next round, and any other task is kept in the tenant's task outbox
    (`sessions`), relayed once the broker answers. Without `sessions` it raises.
    """

    def __init__(
        self,
        celery: Celery,
        queue: str,
        fallback: WorkerContext | None = None,
        sessions: Sessions | None = None,
        relay_seconds: float = 60.0,
        publishing_thread_setup: Callable[[], None] | None = None,
    ) -> None:
        self._celery = celery
        self._queue = queue
        self.fallback = fallback
        self.outbox: Outbox[TaskCall] | None = None
        if sessions is not None:
            self.outbox = Outbox(sessions, self._send_call, TaskStore(), relay_seconds)
        self._publisher = PublishingThread("lms-celery-publish", publishing_thread_setup)
        # Log records: what queued behind the thread goes as one message per tenant.
        self._records = RecordBatches(self._publisher, self._send_task)

    def publish_through(self, celery: Celery) -> None:
        """Publish through `celery` from now on (what a test takes the broker away with)."""
        self._celery = celery

    async def send(self, name: str, tenant: str, *args: Any) -> None:
        if name in INLINE_WHEN_BROKER_DOWN or name in PERIODIC or self.outbox is None:
            try:
                await self._publish(name, tenant, args)
            except Exception as exc:
                if name in PERIODIC:
                    log.warning("broker unreachable (%s): %s skipped this round", exc, name)
                elif name in INLINE_WHEN_BROKER_DOWN and self.fallback is not None:
                    log.warning("broker unreachable (%s): %s for %s runs here", exc, name, tenant)
                    await run_task(self.fallback, name, tenant, *args)
                else:
                    raise
            return
        await self.outbox.send(tenant, TaskCall(name, args))

    async def _send_call(self, tenant: str, task: TaskCall) -> None:
        await self._publish(task.name, tenant, task.args)

    async def _publish(self, name: str, tenant: str, args: tuple[Any, ...]) -> None:
        if name in DEFERRABLE:
            await self._records.send(name, tenant, args)
            return
        publish = functools.partial(self._send_task, name, [tenant, *args])
        await self._publisher.submit(publish, urgent=True)

    def _send_task(self, name: str, args: list[Any]) -> None:
        """On the publishing thread: one task to the broker."""
        priority = DEFERRED_PRIORITY if name in DEFERRABLE else URGENT_PRIORITY
        self._celery.send_task(name, args=args, queue=self._queue, priority=priority)

    async def relay(self, tenant: str) -> bool:
        """Hand the broker what the tenant's task outbox holds, in order; True once empty."""
        return True if self.outbox is None else await self.outbox.relay(tenant)

    async def drain(self) -> None:
        """Nothing to wait for here: the worker owns what was published."""

    async def stop(self) -> None:
        if self.outbox is not None:
            await self.outbox.close()
        await asyncio.to_thread(self._publisher.shutdown)
        await asyncio.to_thread(self._celery.close)
