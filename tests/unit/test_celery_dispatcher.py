"""The Celery producer: publishing leaves the event loop for one thread of its own, which
hands the broker urgent tasks before the log records waiting there."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, cast

import pytest
from celery import Celery

from workers.dispatch import DEFERRED_PRIORITY, URGENT_PRIORITY, CeleryDispatcher
from workers.tasks import DELIVER_TASK, PUBLISH_ROOM_EVENT, WRITE_ACTIVITY, WRITE_AUDIT


class RecordingCelery:
    """Stands in for the Celery app: notes each publish and the thread it ran on."""

    def __init__(self) -> None:
        self.published: list[tuple[str, list[Any], int, int]] = []
        self.closed = False

    def send_task(self, name: str, *, args: list[Any], queue: str, priority: int) -> None:
        self.published.append((name, args, priority, threading.get_ident()))

    def close(self) -> None:
        self.closed = True


async def test_tasks_sent_at_once_are_published_in_order_from_one_thread_off_the_loop() -> None:
    celery = RecordingCelery()
    dispatcher = CeleryDispatcher(cast(Celery, celery), "lms")

    await asyncio.gather(*(dispatcher.send(PUBLISH_ROOM_EVENT, "acme", n) for n in range(20)))
    await dispatcher.stop()

    assert [args for _, args, _, _ in celery.published] == [["acme", n] for n in range(20)]
    threads = {thread for *_, thread in celery.published}
    assert len(threads) == 1 and threading.get_ident() not in threads
    assert celery.closed


async def test_log_writes_go_at_the_deferred_priority_and_events_at_the_urgent_one() -> None:
    celery = RecordingCelery()
    dispatcher = CeleryDispatcher(cast(Celery, celery), "lms")

    await dispatcher.send(WRITE_ACTIVITY, "acme", {})
    await dispatcher.send(PUBLISH_ROOM_EVENT, "acme", {})
    await dispatcher.stop()

    assert [(name, priority) for name, _, priority, _ in celery.published] == [
        (WRITE_ACTIVITY, DEFERRED_PRIORITY),
        (PUBLISH_ROOM_EVENT, URGENT_PRIORITY),
    ]


class HeldCelery(RecordingCelery):
    """Its first publish waits until `release` is set, so that others queue meanwhile."""

    def __init__(self) -> None:
        super().__init__()
        self.publishing = threading.Event()
        self.release = threading.Event()

    def send_task(self, name: str, *, args: list[Any], queue: str, priority: int) -> None:
        if not self.published:
            self.publishing.set()
            self.release.wait(timeout=10)
        super().send_task(name, args=args, queue=queue, priority=priority)


async def test_an_urgent_task_is_published_before_the_log_records_queued_ahead_of_it() -> None:
    celery = HeldCelery()
    dispatcher = CeleryDispatcher(cast(Celery, celery), "lms")
    held = asyncio.create_task(dispatcher.send(WRITE_AUDIT, "acme", {"n": 0}))
    await asyncio.to_thread(celery.publishing.wait, 10)

    records = [
        asyncio.create_task(dispatcher.send(WRITE_AUDIT, "acme", {"n": n})) for n in range(1, 6)
    ]
    fan_out = asyncio.create_task(dispatcher.send(DELIVER_TASK, "acme", {}, {}))
    await asyncio.sleep(0)  # one turn of the loop: each send reaches the publisher's queue
    celery.release.set()
    await asyncio.gather(held, *records, fan_out)
    await dispatcher.stop()

    assert [(name, args[1:]) for name, args, _, _ in celery.published] == [
        (WRITE_AUDIT, [{"n": 0}]),
        (DELIVER_TASK, [{}, {}]),
        *((WRITE_AUDIT, [{"n": n}]) for n in range(1, 6)),
    ]


async def test_stopping_publishes_what_was_queued_first() -> None:
    celery = HeldCelery()
    dispatcher = CeleryDispatcher(cast(Celery, celery), "lms")
    sends = [asyncio.create_task(dispatcher.send(WRITE_ACTIVITY, "acme", n)) for n in range(3)]
    await asyncio.to_thread(celery.publishing.wait, 10)  # meanwhile the others queue

    celery.release.set()
    await dispatcher.stop()

    assert [args for _, args, _, _ in celery.published] == [["acme", n] for n in range(3)]
    assert all(send.done() for send in sends)
    await asyncio.gather(*sends)


class FailingCelery(RecordingCelery):
    def send_task(self, name: str, *, args: list[Any], queue: str, priority: int) -> None:
        if args[1] == "refused":
            raise ConnectionError("broker refused it")
        super().send_task(name, args=args, queue=queue, priority=priority)


async def test_a_publish_that_fails_raises_to_its_sender_and_the_next_one_goes_on() -> None:
    celery = FailingCelery()
    dispatcher = CeleryDispatcher(cast(Celery, celery), "lms")

    with pytest.raises(ConnectionError, match="broker refused it"):
        await dispatcher.send(PUBLISH_ROOM_EVENT, "acme", "refused")
    await dispatcher.send(PUBLISH_ROOM_EVENT, "acme", "next")
    await dispatcher.stop()

    assert [args for _, args, _, _ in celery.published] == [["acme", "next"]]
