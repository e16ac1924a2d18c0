"""The embedded worker thread lets the web loop go first."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from models.settings import Settings
from workers.dispatch import InProcessDispatcher
from workers.turns import (
    LOWEST_PRIORITY,
    SWITCH_INTERVAL_SECONDS,
    give_way_to,
    lowest_priority,
    yield_cpu_to_web_loop,
)

BUSY_SECONDS = 0.2


def _in_thread(web_loop: asyncio.AbstractEventLoop) -> threading.Thread:
    """A thread that gives way to `web_loop` once; `.finished_at` says when it returned."""

    def run() -> None:
        asyncio.run(give_way_to(web_loop))
        thread.finished_at = time.perf_counter()  # type: ignore[attr-defined]

    thread = threading.Thread(target=run)
    return thread


async def test_a_worker_goes_on_at_once_while_the_web_loop_keeps_up() -> None:
    thread = _in_thread(asyncio.get_running_loop())
    started = time.perf_counter()
    thread.start()
    await asyncio.to_thread(thread.join)
    assert thread.finished_at - started < 1.0  # type: ignore[attr-defined]


async def test_a_worker_waits_until_the_busy_web_loop_keeps_up_again() -> None:
    thread = _in_thread(asyncio.get_running_loop())
    thread.start()
    # The web loop computes for a while, as a long handler would, and nothing else runs.
    busy_until = time.perf_counter() + BUSY_SECONDS
    while time.perf_counter() < busy_until:
        sum(range(1000))
    await asyncio.to_thread(thread.join)
    # It saw the loop lag by BUSY_SECONDS and slept as long before it went on.
    assert thread.finished_at > busy_until + BUSY_SECONDS / 2  # type: ignore[attr-defined]


async def test_the_embedded_worker_thread_yields_the_cpu_to_the_web_loop(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'lms.db'}")
    dispatcher = InProcessDispatcher(settings, None, asyncio.get_running_loop())
    await asyncio.to_thread(dispatcher.start)
    try:
        assert sys.getswitchinterval() <= SWITCH_INTERVAL_SECONDS
        if sys.platform == "linux":  # elsewhere a priority is the whole process's: left as is
            thread = next(t for t in threading.enumerate() if t.name == "lms-tasks")
            assert thread.native_id is not None
            assert os.sched_getscheduler(thread.native_id) == os.SCHED_IDLE
            assert os.sched_getscheduler(threading.get_native_id()) != os.SCHED_IDLE
    finally:
        await dispatcher.stop()


def _priority_of_a_thread_after(setup: Callable[[], None]) -> tuple[int, int | None]:
    """The nice value and scheduling policy (None where there are none) of a new thread
    once it called `setup`."""
    seen: list[tuple[int, int | None]] = []

    def run() -> None:
        setup()
        me = threading.get_native_id()
        policy = os.sched_getscheduler(me) if hasattr(os, "sched_getscheduler") else None
        seen.append((os.getpriority(os.PRIO_PROCESS, me), policy))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return seen[0]


def _lowest_here() -> int:
    """Linux: nice 19 for the thread; elsewhere a priority is the whole process's, left."""
    return LOWEST_PRIORITY if sys.platform == "linux" else os.getpriority(os.PRIO_PROCESS, 0)


def test_a_thread_that_may_not_idle_runs_at_the_lowest_priority_instead(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refused(*args: object) -> None:
        raise PermissionError("not allowed here")

    monkeypatch.setattr(os, "sched_setscheduler", refused, raising=False)
    nice, _ = _priority_of_a_thread_after(yield_cpu_to_web_loop)
    assert nice == _lowest_here()


def test_a_publishing_thread_runs_at_the_lowest_priority_not_idle() -> None:
    """Requests wait for their publishes: the thread must still run on a busy host."""
    assert os.getpriority(os.PRIO_PROCESS, 0) != LOWEST_PRIORITY  # else nothing is shown
    nice, policy = _priority_of_a_thread_after(lowest_priority)
    assert nice == _lowest_here()
    assert policy is None or policy != getattr(os, "SCHED_IDLE", None)
