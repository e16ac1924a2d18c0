"""Redis stops answering while a worker fans a notification out: every inbox row is still
stored, and every frame the worker could not publish waits in the room outbox and reaches
its user's socket, once, when Redis answers again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis.asyncio as aredis
from sqlalchemy import func, select

from models.notifications.operations import Note
from models.notifications.tables import Notification
from models.rooms.tables import RoomOutboxEvent
from realtime.redis_bus import RedisBus
from tests.conftest import free_port
from tests.realtime.sockets import joined, next_frame, open_socket
from web.keys import BUS, DATABASES, SETTINGS
from workers.context import WorkerContext
from workers.notifications import deliver

SOCKET = "/ws/lms/notifications/"
USERS = ["student-1", *(f"user-{n}" for n in range(1200))]  # two INSERT batches


class NoTasks:
    async def send(self, name: str, tenant: str, *args: Any) -> None:
        raise AssertionError(f"no follow-up task expected, got {name}")


@dataclass
class Fanout:
    worker: WorkerContext  # a worker whose room events go through instance one's bus
    bus: RedisBus
    listening: Any  # instance two, where student-1's notifications socket is open
    ws: Any
    seq: int

    async def run(self, marker: str) -> None:
        note = Note("announcement", f"announcement:{marker}", marker, "Exam moved.")
        await deliver(self.worker, "acme", note.to_json(), {"users": USERS})

    async def count(self, table: Any) -> int:
        async with self.listening.client.app[DATABASES].tenant_sessions("acme")() as session:
            return int(await session.scalar(select(func.count()).select_from(table)))


@pytest.fixture
async def fanout(redis_instances) -> AsyncIterator[Fanout]:
    one = await redis_instances()
    two = await redis_instances()
    bus = one.client.app[BUS]
    assert isinstance(bus, RedisBus) and bus.outbox is not None
    bus.outbox.retry_in_background = False  # the test relays by hand
    worker = WorkerContext(one.client.app[SETTINGS], one.client.app[DATABASES], NoTasks(), bus)
    ws = await open_socket(two, SOCKET, as_="student")
    seq = (await joined(ws))["data"]["seq"]
    yield Fanout(worker, bus, two, ws, seq)
    await ws.close()


@pytest.fixture
async def redis_down(fanout: Fanout) -> AsyncIterator[aredis.Redis]:
    """The bus publishes to a port nobody listens on; yields the live client to restore."""
    live = fanout.bus._publisher
    dead = aredis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=1)
    fanout.bus.publish_through(dead)
    yield live
    fanout.bus.publish_through(live)
    await dead.aclose()


async def test_every_inbox_row_is_stored_while_redis_is_down(fanout, redis_down):
    await fanout.run("down")

    assert await fanout.count(Notification) == len(USERS)


async def test_every_frame_redis_could_not_take_waits_in_the_outbox(fanout, redis_down):
    await fanout.run("down")

    assert await fanout.count(RoomOutboxEvent) == len(USERS)


async def test_the_waiting_frame_reaches_its_user_once_redis_answers(fanout, redis_down):
    await fanout.run("down")
    fanout.bus.publish_through(redis_down)

    assert await fanout.bus.relay("acme") is True

    frame = await next_frame(fanout.ws, "notification")
    assert (frame["seq"], frame["data"]["title"]) == (fanout.seq + 1, "down")
    assert await fanout.count(RoomOutboxEvent) == 0


async def test_a_redelivered_fanout_after_the_outage_sends_nothing_twice(fanout, redis_down):
    await fanout.run("down")
    fanout.bus.publish_through(redis_down)
    await fanout.bus.relay("acme")
    await next_frame(fanout.ws, "notification")

    await fanout.run("down")  # the broker delivers the task again

    assert await fanout.count(Notification) == len(USERS)
    assert await fanout.count(RoomOutboxEvent) == 0
    marker = "after"
    await fanout.run(marker)
    frame = await next_frame(fanout.ws, "notification")
    assert (frame["seq"], frame["data"]["title"]) == (fanout.seq + 2, marker)
