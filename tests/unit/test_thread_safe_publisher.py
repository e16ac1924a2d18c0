"""The embedded worker's publisher hands a fan-out's events to the web loop's bus in one go."""

import asyncio
import threading
from typing import Any, cast

from models.effects import RoomEvent
from realtime.bus import EVENTS_PER_TURN, Bus, ThreadSafePublisher


class RecordingBus:
    def __init__(self) -> None:
        self.seen: list[tuple[int, str, str]] = []

    async def publish(self, tenant: str, event: RoomEvent) -> None:
        self.seen.append((threading.get_ident(), tenant, event.room))


async def test_publish_many_publishes_every_event_in_order_on_the_bus_s_own_loop() -> None:
    bus = RecordingBus()
    publisher = ThreadSafePublisher(cast(Bus, bus), asyncio.get_running_loop())
    events = [RoomEvent(f"user:u{n}", "notification", {"n": n}) for n in range(5)]

    def from_the_worker_thread() -> Any:
        return asyncio.run(publisher.publish_many("acme", events))

    await asyncio.to_thread(from_the_worker_thread)

    assert [(tenant, room) for _, tenant, room in bus.seen] == [
        ("acme", f"user:u{n}") for n in range(5)
    ]
    assert {thread for thread, _, _ in bus.seen} == {threading.get_ident()}


async def test_publish_many_lets_the_bus_s_loop_run_other_callbacks_between_turns() -> None:
    loop = asyncio.get_running_loop()
    bus = RecordingBus()
    publisher = ThreadSafePublisher(cast(Bus, bus), loop)
    events = [RoomEvent(f"user:u{n}", "notification", {"n": n}) for n in range(20)]
    order: list[str] = []
    original = bus.publish

    async def publish(tenant: str, event: RoomEvent) -> None:
        if not order:  # the batch has begun: something else wants the loop now
            loop.call_soon(order.append, "another callback")
        order.append(event.room)
        await original(tenant, event)

    bus.publish = publish  # type: ignore[method-assign]
    await asyncio.to_thread(lambda: asyncio.run(publisher.publish_many("acme", events)))

    first_turn = [f"user:u{n}" for n in range(EVENTS_PER_TURN)]
    assert order[: EVENTS_PER_TURN + 1] == [*first_turn, "another callback"]
    assert order[EVENTS_PER_TURN + 1 :] == [f"user:u{n}" for n in range(EVENTS_PER_TURN, 20)]
