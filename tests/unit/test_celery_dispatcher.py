"""The Celery producer: publishing leaves the event loop for one thread of its own, which
hands the broker urgent tasks before the log records waiting there, and the records that
queued behind it as one message."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, cast

import pytest
from celery import Celery

from workers.dispatch import DEFERRED_PRIORITY, URGENT_PRIORITY, CeleryDispatcher
from workers.publisher import URGENT_STREAK, PublishingThread
from workers.record_batches import MAX_BATCH
from workers.tasks import (
    DELIVER_TASK,
    PUBLISH_ROOM_EVENT,
    WRITE_ACTIVITY,
    WRITE_AUDIT,
    WRITE_BATCH,
)


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
        if not self.published and not self.publishing.is_set():
            self.publishing.set()
            self.release.wait(timeout=10)
        super().send_task(name, args=args, queue=queue, priority=priority)


async def held_dispatcher() -> tuple[HeldCelery, CeleryDispatcher, asyncio.Task[None]]:
    """A dispatcher whose publishing thread is busy with a first audit record ({"n": 0})."""
    celery = HeldCelery()
    dispatcher = CeleryDispatcher(cast(Celery, celery), "lms")
    held = asyncio.create_task(dispatcher.send(WRITE_AUDIT, "acme", {"n": 0}))
    assert await asyncio.to_thread(celery.publishing.wait, 10)
    return celery, dispatcher, held


def published(celery: RecordingCelery) -> list[tuple[str, Any]]:
    return [(name, args[1]) for name, args, _, _ in celery.published]


async def test_an_urgent_task_is_published_before_the_log_records_queued_ahead_of_it() -> None:
    celery, dispatcher, held = await held_dispatcher()
    records = [
        asyncio.create_task(dispatcher.send(WRITE_AUDIT, "acme", {"n": n})) for n in range(1, 6)
    ]
    fan_out = asyncio.create_task(dispatcher.send(DELIVER_TASK, "acme", {"fan": "out"}, {}))
    await asyncio.sleep(0)  # one turn of the loop: each send reaches the publisher's queue
    celery.release.set()
    async with asyncio.timeout(10):
        await asyncio.gather(held, *records, fan_out)
        await dispatcher.stop()

    assert published(celery) == [
        (WRITE_AUDIT, {"n": 0}),
        (DELIVER_TASK, {"fan": "out"}),
        (WRITE_BATCH, [[WRITE_AUDIT, {"n": n}] for n in range(1, 6)]),
    ]


async def test_a_waiting_log_record_goes_after_a_streak_of_urgent_tasks() -> None:
    celery, dispatcher, held = await held_dispatcher()
    record = asyncio.create_task(dispatcher.send(WRITE_AUDIT, "acme", {"n": 1}))
    urgent = [
        asyncio.create_task(dispatcher.send(PUBLISH_ROOM_EVENT, "acme", n))
        for n in range(URGENT_STREAK + 2)
    ]
    await asyncio.sleep(0)  # one turn of the loop: each send reaches the publisher's queue
    celery.release.set()
    async with asyncio.timeout(10):
        await asyncio.gather(held, record, *urgent)
        await dispatcher.stop()

    assert published(celery) == [
        (WRITE_AUDIT, {"n": 0}),
        *((PUBLISH_ROOM_EVENT, n) for n in range(URGENT_STREAK)),
        (WRITE_AUDIT, {"n": 1}),
        (PUBLISH_ROOM_EVENT, URGENT_STREAK),
        (PUBLISH_ROOM_EVENT, URGENT_STREAK + 1),
    ]


async def test_stopping_publishes_what_was_queued_first() -> None:
    celery, dispatcher, held = await held_dispatcher()
    sends = [asyncio.create_task(dispatcher.send(WRITE_ACTIVITY, "acme", n)) for n in range(3)]
    await asyncio.sleep(0)  # one turn of the loop: each send reaches the publisher's queue

    celery.release.set()
    async with asyncio.timeout(10):
        await dispatcher.stop()
        await asyncio.gather(held, *sends)

    assert published(celery) == [
        (WRITE_AUDIT, {"n": 0}),
        (WRITE_BATCH, [[WRITE_ACTIVITY, n] for n in range(3)]),
    ]


async def test_a_log_record_sent_to_an_idle_thread_goes_at_once_as_its_own_task() -> None:
    celery = RecordingCelery()
    dispatcher = CeleryDispatcher(cast(Celery, celery), "lms")

    async with asyncio.timeout(10):
        for n in range(3):
            await dispatcher.send(WRITE_AUDIT, "acme", {"n": n})
            assert published(celery)[-1] == (WRITE_AUDIT, {"n": n})
        await dispatcher.stop()

    assert [priority for _, _, priority, _ in celery.published] == [DEFERRED_PRIORITY] * 3


async def test_log_records_queued_behind_a_busy_thread_go_as_one_message_per_tenant() -> None:
    celery, dispatcher, held = await held_dispatcher()
    sends = [
        asyncio.create_task(dispatcher.send(name, tenant, {"n": n}))
        for n, (name, tenant) in enumerate(
            [(WRITE_AUDIT, "acme"), (WRITE_ACTIVITY, "acme"), (WRITE_AUDIT, "globex")], 1
        )
    ]
    await asyncio.sleep(0)  # one turn of the loop: each send reaches the batch
    celery.release.set()
    async with asyncio.timeout(10):
        await asyncio.gather(held, *sends)
        await dispatcher.stop()

    assert [(name, args[0], args[1]) for name, args, _, _ in celery.published] == [
        (WRITE_AUDIT, "acme", {"n": 0}),
        (WRITE_BATCH, "acme", [[WRITE_AUDIT, {"n": 1}], [WRITE_ACTIVITY, {"n": 2}]]),
        (WRITE_AUDIT, "globex", {"n": 3}),
    ]
    assert {priority for _, _, priority, _ in celery.published} == {DEFERRED_PRIORITY}


async def test_interleaved_tenants_records_still_go_as_one_message_per_tenant() -> None:
    celery, dispatcher, held = await held_dispatcher()
    tenants = ["acme", "globex", "acme", "globex", "acme"]
    sends = [
        asyncio.create_task(dispatcher.send(WRITE_AUDIT, tenant, {"n": n}))
        for n, tenant in enumerate(tenants, 1)
    ]
    await asyncio.sleep(0)  # one turn of the loop: each send reaches the batch
    celery.release.set()
    async with asyncio.timeout(10):
        await asyncio.gather(held, *sends)
        await dispatcher.stop()

    assert [(name, args[0], args[1]) for name, args, _, _ in celery.published[1:]] == [
        (WRITE_BATCH, "acme", [[WRITE_AUDIT, {"n": n}] for n in (1, 3, 5)]),
        (WRITE_BATCH, "globex", [[WRITE_AUDIT, {"n": n}] for n in (2, 4)]),
    ]


async def test_a_backlog_of_log_records_goes_in_messages_of_at_most_max_batch() -> None:
    celery, dispatcher, held = await held_dispatcher()
    count = MAX_BATCH * 2 + 3
    sends = [
        asyncio.create_task(dispatcher.send(WRITE_AUDIT, "acme", {"n": n}))
        for n in range(1, count + 1)
    ]
    await asyncio.sleep(0)  # one turn of the loop: each send reaches the batch
    celery.release.set()
    async with asyncio.timeout(10):
        await asyncio.gather(held, *sends)
        await dispatcher.stop()

    batches = [args[1] for name, args, _, _ in celery.published[1:]]
    assert [name for name, *_ in celery.published[1:]] == [WRITE_BATCH] * 3
    assert [len(batch) for batch in batches] == [MAX_BATCH, MAX_BATCH, 3]
    assert [record["n"] for batch in batches for _, record in batch] == list(range(1, count + 1))


async def test_urgent_tasks_still_go_between_the_batches_of_a_backlog() -> None:
    celery, dispatcher, held = await held_dispatcher()
    records = [
        asyncio.create_task(dispatcher.send(WRITE_AUDIT, "acme", {"n": n}))
        for n in range(1, MAX_BATCH * 2 + 1)
    ]
    await asyncio.sleep(0)  # the records reach the batch; their drain waits for the thread
    urgent = [
        asyncio.create_task(dispatcher.send(PUBLISH_ROOM_EVENT, "acme", n))
        for n in range(URGENT_STREAK + 3)
    ]
    await asyncio.sleep(0)
    celery.release.set()
    async with asyncio.timeout(10):
        await asyncio.gather(held, *records, *urgent)
        await dispatcher.stop()

    names = [name for name, *_ in celery.published]
    # A streak of urgent tasks, one batch, the other urgent ones, then the second batch.
    assert names == [
        WRITE_AUDIT,
        *[PUBLISH_ROOM_EVENT] * URGENT_STREAK,
        WRITE_BATCH,
        *[PUBLISH_ROOM_EVENT] * 3,
        WRITE_BATCH,
    ]


class FailingBatches(HeldCelery):
    """Its batches fail with `error`; a record alone goes."""

    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error

    def send_task(self, name: str, *, args: list[Any], queue: str, priority: int) -> None:
        if name == WRITE_BATCH:
            raise self.error
        super().send_task(name, args=args, queue=queue, priority=priority)


async def a_failed_batch(
    error: BaseException,
) -> tuple[RecordingCelery, CeleryDispatcher, list[Any]]:
    """A record alone, then two that queued behind it and went as a batch that failed with
    `error`: what each of the three senders got."""
    celery = FailingBatches(error)
    dispatcher = CeleryDispatcher(cast(Celery, celery), "lms")
    held = asyncio.create_task(dispatcher.send(WRITE_AUDIT, "acme", {"n": 0}))
    assert await asyncio.to_thread(celery.publishing.wait, 10)
    sends = [asyncio.create_task(dispatcher.send(WRITE_AUDIT, "acme", {"n": n})) for n in (1, 2)]
    await asyncio.sleep(0)
    celery.release.set()
    async with asyncio.timeout(10):
        outcomes = await asyncio.gather(held, *sends, return_exceptions=True)
    return celery, dispatcher, outcomes


async def test_a_refused_batch_raises_to_each_of_its_senders() -> None:
    _, dispatcher, outcomes = await a_failed_batch(ConnectionError("broker refused the batch"))
    await dispatcher.stop()

    assert outcomes[0] is None
    assert [str(outcome) for outcome in outcomes[1:]] == ["broker refused the batch"] * 2


class Died(BaseException):
    """What no `except Exception` catches."""


async def test_a_batch_that_dies_settles_its_senders_and_the_next_record_still_goes() -> None:
    celery, dispatcher, outcomes = await a_failed_batch(Died("publisher died"))
    async with asyncio.timeout(10):
        await dispatcher.send(WRITE_AUDIT, "acme", {"n": 3})
        await dispatcher.stop()

    assert [type(outcome) for outcome in outcomes] == [type(None), Died, Died]
    assert published(celery) == [(WRITE_AUDIT, {"n": 0}), (WRITE_AUDIT, {"n": 3})]


async def test_a_send_after_stopping_is_refused_not_left_waiting() -> None:
    dispatcher = CeleryDispatcher(cast(Celery, RecordingCelery()), "lms")
    await dispatcher.stop()

    with pytest.raises(RuntimeError, match="stopped"):
        await dispatcher.send(PUBLISH_ROOM_EVENT, "acme", "late")
    with pytest.raises(RuntimeError, match="stopped"):
        await dispatcher.send(WRITE_AUDIT, "acme", {"late": True})


class FailingCelery(RecordingCelery):
    def send_task(self, name: str, *, args: list[Any], queue: str, priority: int) -> None:
        if args[1] == "refused":
            raise ConnectionError("broker refused it")
        super().send_task(name, args=args, queue=queue, priority=priority)


async def test_a_publish_that_fails_raises_to_its_sender_and_the_next_one_goes_on() -> None:
    celery = FailingCelery()
    dispatcher = CeleryDispatcher(cast(Celery, celery), "lms")

    async with asyncio.timeout(10):
        with pytest.raises(ConnectionError, match="broker refused it"):
            await dispatcher.send(PUBLISH_ROOM_EVENT, "acme", "refused")
        await dispatcher.send(PUBLISH_ROOM_EVENT, "acme", "next")
        await dispatcher.stop()

    assert published(celery) == [(PUBLISH_ROOM_EVENT, "next")]


async def test_a_failing_thread_initializer_leaves_the_thread_publishing(caplog) -> None:
    def broken() -> None:
        raise OSError("no priority for you")

    publisher = PublishingThread("test-publish", broken)
    async with asyncio.timeout(10):
        assert await publisher.submit(lambda: "sent", urgent=True) == "sent"
        await asyncio.to_thread(publisher.shutdown)
    assert "initializer failed" in caplog.text
