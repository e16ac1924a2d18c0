"""Log records go to the broker in batches: one message for all that queued meanwhile.

A burst of records (5,000 sockets closing at once, each with its audit record), published
one message each, kept a web process's publishing thread busy for seconds: Celery's
`send_task` costs about half a millisecond of Python per message, and while that thread
runs, the event loop waits for the interpreter lock. Under `python -m bench.inbox_fanout`
that thread took 74% of the process's samples during the next announcement's round
(py-spy); afterwards it was idle in every stall of the loop over 3 ms.

So records queue here, and whenever the publishing thread comes to them it takes all that
queued (at most `MAX_BATCH`) and sends each tenant's as one `logs.write_batch` task. A
record that arrives while the thread is idle goes at once, alone, as its own task: a batch
forms only behind a busy thread, so no record waits longer than it did before. Each sender
still waits for its record's publish, and gets its error if the broker refused it.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from models.logs.operations import WRITE_BATCH
from workers.publisher import PublishingThread

log = logging.getLogger(__name__)

# About 80 KB of JSON at most per message (an audit record is ~400 bytes).
MAX_BATCH = 200

# Publishes one task on the publishing thread: (task name, its arguments).
Publish = Callable[[str, list[Any]], None]


@dataclass(slots=True)
class _Queued:
    tenant: str
    name: str
    args: tuple[Any, ...]
    future: asyncio.Future[None]


class RecordBatches:
    def __init__(self, publisher: PublishingThread, publish: Publish) -> None:
        self._publisher = publisher
        self._publish = publish
        self._queued: collections.deque[_Queued] = collections.deque()
        self._lock = threading.Lock()
        self._draining = False  # a drain job is with the publishing thread

    async def send(self, name: str, tenant: str, args: tuple[Any, ...]) -> None:
        """Queue one record; returns once the message holding it is published."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        with self._lock:
            self._queued.append(_Queued(tenant, name, args, future))
            start, self._draining = not self._draining, True
        if start:
            self._submit_drain()
        await future

    def _submit_drain(self) -> None:
        """On the loop: hand the thread a job that publishes what is queued by then."""
        try:
            job = self._publisher.submit(self._drain, urgent=False)
        except RuntimeError as exc:  # the thread has stopped: nothing will publish these
            with self._lock:
                left, self._draining = list(self._queued), False
                self._queued.clear()
            for queued in left:
                _settle_soon(queued, exc)
            return
        job.add_done_callback(_log_failure)

    def _drain(self) -> None:
        """On the publishing thread: one batch; if more queued meanwhile, another drain
        behind whatever deferred jobs the thread has waiting. Whatever happens, the next
        record finds a drain on its way or starts one."""
        try:
            self._publish_batch()
        finally:
            with self._lock:
                more = self._draining = bool(self._queued)
            if more:
                self._publisher.again(self._drain)

    def _publish_batch(self) -> None:
        """Up to `MAX_BATCH` queued records, each tenant's in one message (the tenants in
        the order they first came, each one's records in their order)."""
        with self._lock:
            batch = [self._queued.popleft() for _ in range(min(MAX_BATCH, len(self._queued)))]
        by_tenant: dict[str, list[_Queued]] = {}
        for queued in batch:
            by_tenant.setdefault(queued.tenant, []).append(queued)
        for records in by_tenant.values():
            outcome: BaseException | None = None
            try:
                self._publish_group(records)
            except BaseException as exc:  # as a thread pool does: each sender gets it
                outcome = exc
            for queued in records:
                _settle_soon(queued, outcome)

    def _publish_group(self, records: list[_Queued]) -> None:
        first = records[0]
        if len(records) == 1:
            self._publish(first.name, [first.tenant, *first.args])
            return
        payload = [[queued.name, *queued.args] for queued in records]
        self._publish(WRITE_BATCH, [first.tenant, payload])


def _settle_soon(queued: _Queued, error: BaseException | None) -> None:
    """From any thread: settle the record's future on its own loop."""
    with contextlib.suppress(RuntimeError):  # the loop is gone: nobody waits
        queued.future.get_loop().call_soon_threadsafe(_settle, queued.future, error)


def _log_failure(job: asyncio.Future[Any]) -> None:
    if not job.cancelled() and job.exception() is not None:
        log.error("log records: drain job failed", exc_info=job.exception())


def _settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.done():  # its sender was cancelled meanwhile
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)
