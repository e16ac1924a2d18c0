"""The embedded worker's queue: tasks wait as data until a consumer takes them, records
nobody waits for go last, and `drain` waits for every task, those sent by tasks included."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from models.settings import Settings
from workers import dispatch
from workers.context import WorkerContext
from workers.dispatch import InProcessDispatcher
from workers.tasks import ANSWER_TASK, DELIVER_TASK, WRITE_ACTIVITY, WRITE_AUDIT

TENANT = "acme"


class Recorder:
    """Task functions that note what ran, and how many ran at once (thread-safe: they run
    on the worker's thread, the test reads on its own)."""

    def __init__(self) -> None:
        self.ran: list[str] = []
        self.running = 0
        self.most_at_once = 0
        self.gate = threading.Event()
        self.started = threading.Semaphore(0)  # released by each `hold` as it starts
        self.answered = threading.Event()
        self._lock = threading.Lock()

    async def hold(self, ctx: WorkerContext, tenant: str, label: str) -> None:
        """Runs until the test opens the gate."""
        with self._lock:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        self.started.release()
        await asyncio.to_thread(self.gate.wait)
        with self._lock:
            self.running -= 1
            self.ran.append(label)

    async def holding(self, count: int) -> None:
        """Return once `count` held tasks have started."""
        for _ in range(count):
            assert await asyncio.to_thread(self.started.acquire, timeout=5)

    async def cancelled(self, ctx: WorkerContext, tenant: str, label: str) -> None:
        """A task that ends cancelled from within (a timeout inside it, say)."""
        with self._lock:
            self.ran.append(label)
        raise asyncio.CancelledError

    async def answer(self, ctx: WorkerContext, tenant: str, label: str) -> None:
        await self.note(ctx, tenant, label)
        self.answered.set()

    async def note(self, ctx: WorkerContext, tenant: str, label: str) -> None:
        with self._lock:
            self.ran.append(label)

    async def send_on(self, ctx: WorkerContext, tenant: str, label: str) -> None:
        """A task that sends a follow-up task, as a fan-out sends its records."""
        await asyncio.sleep(0.01)
        await ctx.tasks.send(WRITE_ACTIVITY, tenant, f"{label} follow-up")
        with self._lock:
            self.ran.append(label)


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recorder = Recorder()
    # The task names stand for their kinds: DELIVER_TASK is urgent, the others deferrable.
    monkeypatch.setitem(dispatch.TASKS, DELIVER_TASK, recorder.hold)
    monkeypatch.setitem(dispatch.TASKS, WRITE_AUDIT, recorder.note)
    monkeypatch.setitem(dispatch.TASKS, WRITE_ACTIVITY, recorder.note)
    return recorder


@pytest.fixture
async def worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, recorder: Recorder
) -> AsyncIterator[Any]:
    monkeypatch.setattr(InProcessDispatcher, "CONSUMERS", 3)
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'lms.db'}")
    started = InProcessDispatcher(settings)
    await asyncio.to_thread(started.start)
    yield started
    recorder.gate.set()  # a failed test may have left tasks held
    await asyncio.wait_for(started.stop(), timeout=10)


async def hold_every_consumer(
    worker: InProcessDispatcher, recorder: Recorder, name: str = DELIVER_TASK
) -> None:
    """Busy each of the three consumers with a task held until the gate opens."""
    for n in range(3):
        await worker.send(name, TENANT, f"held {n}")
    await recorder.holding(3)


async def test_a_burst_runs_no_more_tasks_at_once_than_there_are_consumers(
    worker: InProcessDispatcher, recorder: Recorder
) -> None:
    for n in range(10):
        await worker.send(DELIVER_TASK, TENANT, f"task {n}")

    await recorder.holding(3)
    # A fourth would start at once if it could (nothing else runs): give it the chance.
    await asyncio.sleep(0.05)
    taken = recorder.running
    recorder.gate.set()
    await worker.drain()

    assert taken == 3
    assert recorder.most_at_once == 3
    assert sorted(recorder.ran) == sorted(f"task {n}" for n in range(10))


async def test_records_wait_behind_the_tasks_sent_after_them(
    worker: InProcessDispatcher, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(dispatch.TASKS, DELIVER_TASK, recorder.note)
    monkeypatch.setitem(dispatch.TASKS, "bench.hold", recorder.hold)
    await hold_every_consumer(worker, recorder, "bench.hold")
    await worker.send(WRITE_AUDIT, TENANT, "audit")
    await worker.send(WRITE_ACTIVITY, TENANT, "activity")
    await worker.send(DELIVER_TASK, TENANT, "announcement")

    recorder.gate.set()
    await worker.drain()

    assert [r for r in recorder.ran if not r.startswith("held")] == [
        "announcement",
        "audit",
        "activity",
    ]


async def test_drain_waits_for_the_tasks_that_tasks_send(
    worker: InProcessDispatcher, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(dispatch.TASKS, DELIVER_TASK, recorder.send_on)
    for n in range(5):
        await worker.send(DELIVER_TASK, TENANT, f"fan-out {n}")

    await worker.drain()

    assert len(recorder.ran) == 10
    assert {f"fan-out {n} follow-up" for n in range(5)} <= set(recorder.ran)


async def test_an_unknown_task_is_refused_when_sent(worker: InProcessDispatcher) -> None:
    with pytest.raises(KeyError):
        await worker.send("no.such.task", TENANT)

    await asyncio.wait_for(worker.drain(), timeout=1)  # nothing was counted for it


async def test_a_task_cancelled_from_within_leaves_every_consumer_working(
    worker: InProcessDispatcher, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(dispatch.TASKS, "bench.cancelled", recorder.cancelled)
    for n in range(5):  # more than the 3 consumers
        await worker.send("bench.cancelled", TENANT, f"cancelled {n}")
    await asyncio.wait_for(worker.drain(), timeout=5)

    await hold_every_consumer(worker, recorder)  # three consumers still take work
    recorder.gate.set()
    await asyncio.wait_for(worker.drain(), timeout=5)

    assert len(recorder.ran) == 8


async def test_a_drain_given_up_leaves_the_others_waiting_and_the_consumers_working(
    worker: InProcessDispatcher, recorder: Recorder
) -> None:
    await worker.send(DELIVER_TASK, TENANT, "held")
    await recorder.holding(1)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(worker.drain(), timeout=0.05)
    still_waiting = asyncio.ensure_future(worker.drain())

    recorder.gate.set()
    await asyncio.wait_for(still_waiting, timeout=5)
    for n in range(3):
        await worker.send(WRITE_AUDIT, TENANT, f"after {n}")
    await asyncio.wait_for(worker.drain(), timeout=5)

    assert recorder.ran == ["held", "after 0", "after 1", "after 2"]


async def test_an_ai_answer_runs_at_once_however_busy_the_consumers_are(
    worker: InProcessDispatcher, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(dispatch.TASKS, ANSWER_TASK, recorder.answer)
    await hold_every_consumer(worker, recorder)

    await worker.send(ANSWER_TASK, TENANT, "answer")

    assert await asyncio.to_thread(recorder.answered.wait, 5)  # the consumers still held
    assert recorder.ran == ["answer"]
