"""Two instances sharing Redis while Redis drops its connections, or stops answering: a
committed post still reaches the other instance's sockets, with the next seq, and is in
the history; what Redis cannot take waits in the room outbox and goes out in order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aredis
from sqlalchemy import func, select

from models.rooms.tables import RoomOutboxEvent
from realtime.redis_bus import RedisBus
from tests.conftest import free_port
from tests.realtime.sockets import joined, next_frame, open_socket
from web.keys import BUS, DATABASES

FORUMS = "/api/lms/forum/forums/"
POSTS = "/api/lms/forum/posts/"


@dataclass
class Pair:
    one: Any
    two: Any
    forum_id: int
    ws: aiohttp.ClientWebSocketResponse  # student-1's, on instance two
    seq: int  # the room's seq when it joined

    @property
    def path(self) -> str:
        return f"/ws/lms/forum/{self.forum_id}/"

    async def post(self, content: str) -> dict[str, Any]:
        reply = await self.one.post(
            POSTS, {"forum": self.forum_id, "content": content}, as_="admin"
        )
        assert reply.status == 201, reply.body
        return dict(reply.body)


@pytest.fixture
async def pair(redis_instances) -> AsyncIterator[Pair]:
    one = await redis_instances()
    two = await redis_instances()
    forum = await one.post(FORUMS, {"title": "Outage"}, as_="instructor")
    path = f"/ws/lms/forum/{forum.body['id']}/"
    ws = await open_socket(two, path, as_="student")
    seq = (await joined(ws))["data"]["seq"]
    yield Pair(one, two, forum.body["id"], ws, seq)
    await ws.close()


async def kill_connections(redis_url: str, kind: str) -> int:
    """`CLIENT KILL TYPE <kind>`, limited to this test's Redis database (other users of the
    server keep theirs): what a restart or a failover does to pooled connections."""
    admin = aredis.Redis.from_url(redis_url)
    try:
        mine = (await admin.client_info())["db"]
        killed = 0
        for client in await admin.client_list(_type=kind):
            if int(client["db"]) == int(mine) and client["id"] != str(await admin.client_id()):
                killed += await admin.client_kill_filter(_id=client["id"])
        return killed
    finally:
        await admin.aclose()


async def outbox_rows(api: Any) -> list[dict[str, Any]]:
    async with api.client.app[DATABASES].tenant_sessions("acme")() as session:
        rows = await session.scalars(select(RoomOutboxEvent).order_by(RoomOutboxEvent.id))
        return [row.event for row in rows.all()]


async def test_a_post_after_the_connections_are_killed_reaches_the_other_instance(pair, redis_url):
    assert await kill_connections(redis_url, "normal") > 0

    stored = await pair.post("after-the-kill")

    frame = await next_frame(pair.ws, "post")
    assert frame["data"] == stored
    assert frame["seq"] == pair.seq + 1


async def test_a_post_after_the_connections_are_killed_is_in_the_history(pair, redis_url):
    await kill_connections(redis_url, "normal")
    await pair.post("kept")

    later = await open_socket(pair.two, pair.path, as_="student2", query={"since": str(pair.seq)})

    frame = await next_frame(later, "post")
    assert frame["data"]["content"] == "kept"
    assert frame["seq"] == pair.seq + 1
    await later.close()


async def test_the_listener_subscribes_again_and_the_room_catches_up(pair, redis_url):
    assert await kill_connections(redis_url, "pubsub") > 0

    await pair.post("while-resubscribing")

    frame = await next_frame(pair.ws, "post")
    assert frame["data"]["content"] == "while-resubscribing"
    assert frame["seq"] == pair.seq + 1


async def test_a_presence_removal_after_the_connections_are_killed_is_written(pair, redis_url):
    online = f"/api/lms/forum/forums/{pair.forum_id}/online/"
    await kill_connections(redis_url, "normal")

    await pair.ws.close()

    async with asyncio.timeout(5):
        # The instance writes presence on a task of its own: observe the effect.
        while True:
            if (await pair.one.get(online, as_="admin")).body["users"] == []:
                break
            await asyncio.sleep(0.02)


@dataclass
class Outage:
    bus: RedisBus
    live: aredis.Redis

    def end(self) -> None:
        self.bus.publish_through(self.live)

    async def relay(self) -> bool:
        return await self.bus.relay("acme")


@pytest.fixture
async def redis_down(pair) -> AsyncIterator[Outage]:
    """Instance one publishes to a port nobody listens on, until the test ends the outage."""
    bus = pair.one.client.app[BUS]
    assert isinstance(bus, RedisBus) and bus.outbox is not None
    bus.outbox.retry_in_background = False  # the test relays by hand
    dead = aredis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=1)
    outage = Outage(bus, bus._publisher)
    bus.publish_through(dead)
    yield outage
    outage.end()
    await dead.aclose()


async def test_posts_redis_cannot_take_wait_in_the_outbox_in_order(pair, redis_down):
    await pair.post("first")
    await pair.post("second")

    kept = await outbox_rows(pair.one)
    assert [(e["type"], e["data"]["content"]) for e in kept] == [
        ("post", "first"),
        ("post", "second"),
    ]


async def test_the_outbox_is_published_in_order_once_redis_answers(pair, redis_down):
    await pair.post("first")
    redis_down.end()
    # Redis answers again, but the room's earlier event still waits: this one queues.
    await pair.post("second")
    assert len(await outbox_rows(pair.one)) == 2

    assert await redis_down.relay() is True

    frames = [await next_frame(pair.ws, "post") for _ in range(2)]
    assert [f["data"]["content"] for f in frames] == ["first", "second"]
    assert [f["seq"] for f in frames] == [pair.seq + 1, pair.seq + 2]
    assert await outbox_rows(pair.one) == []


async def test_once_relayed_a_room_publishes_directly_again(pair, redis_down):
    await pair.post("queued")
    redis_down.end()
    await redis_down.relay()

    await pair.post("direct")

    assert await outbox_rows(pair.one) == []
    frames = [await next_frame(pair.ws, "post") for _ in range(2)]
    assert [f["data"]["content"] for f in frames] == ["queued", "direct"]


async def test_a_revocation_redis_cannot_take_waits_too(pair, redis_down):
    removed = await pair.one.patch(f"{FORUMS}{pair.forum_id}/", {"is_active": False}, as_="admin")

    assert removed.status == 200
    assert [e["type"] for e in await outbox_rows(pair.one)] == ["access_revoked"]


async def test_the_outbox_table_starts_empty(pair):
    async with pair.one.client.app[DATABASES].tenant_sessions("acme")() as session:
        assert await session.scalar(select(func.count()).select_from(RoomOutboxEvent)) == 0
