"""The embedded worker's publisher hands a fan-out's events to the web loop's bus in one go."""

import asyncio
import threading
from typing import Any, cast

from models.effects import RoomEvent
from realtime.bus import Bus, ThreadSafePublisher


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
