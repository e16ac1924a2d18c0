"""The Celery producer: publishing leaves the event loop for one thread of its own."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, cast

from celery import Celery

from workers.dispatch import DEFERRED_PRIORITY, URGENT_PRIORITY, CeleryDispatcher
from workers.tasks import PUBLISH_ROOM_EVENT, WRITE_ACTIVITY


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
