"""Two web instances sharing Redis: one room, one seq, one history."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from models.effects import RoomEvent
from tests.realtime.sockets import joined, next_frame, open_socket
from web.keys import BUS


def room_path(course_id: int) -> str:
    return f"/ws/lms/course/{course_id}/notifications/"


async def test_an_event_published_on_one_instance_reaches_a_socket_on_the_other(
    redis_instances, make
):
    one = await redis_instances()
    two = await redis_instances()
    make.api = one
    course = await make.course()
    room = f"course:{course['id']}"
    ws = await open_socket(two, room_path(course["id"]), as_="instructor")
    await joined(ws)
    marker = uuid.uuid4().hex

    await one.client.app[BUS].publish("acme", RoomEvent(room, "note", {"marker": marker}))

    frame = await next_frame(ws, "note")
    assert frame["data"] == {"marker": marker}
    await ws.close()


async def test_both_instances_stamp_one_shared_seq(redis_instances, make):
    one = await redis_instances()
    two = await redis_instances()
    make.api = one
    course = await make.course()
    room = f"course:{course['id']}"
    on_one = await open_socket(one, room_path(course["id"]), as_="instructor")
    on_two = await open_socket(two, room_path(course["id"]), as_="admin")
    await joined(on_one)
    await joined(on_two)

    await one.client.app[BUS].publish("acme", RoomEvent(room, "note", {"n": 1}))
    await two.client.app[BUS].publish("acme", RoomEvent(room, "note", {"n": 2}))
    seen_on_one = [await next_frame(on_one, "note") for _ in range(2)]
    seen_on_two = [await next_frame(on_two, "note") for _ in range(2)]

    assert seen_on_one == seen_on_two
    assert [f["data"]["n"] for f in seen_on_one] == [1, 2]
    assert seen_on_one[1]["seq"] == seen_on_one[0]["seq"] + 1
    await on_one.close()
    await on_two.close()


async def test_a_client_resumes_on_the_other_instance_without_loss(redis_instances, make):
    one = await redis_instances()
    two = await redis_instances()
    make.api = one
    course = await make.course()
    room = f"course:{course['id']}"
    ws = await open_socket(one, room_path(course["id"]), as_="instructor")
    start = (await joined(ws))["data"]["seq"]
    await ws.close()
    for n in range(3):
        await one.client.app[BUS].publish("acme", RoomEvent(room, "note", {"n": n}))

    again = await open_socket(
        two, room_path(course["id"]), as_="instructor", query={"since": str(start)}
    )

    missed = [await next_frame(again, "note") for _ in range(3)]
    assert [f["data"]["n"] for f in missed] == [0, 1, 2]
    assert [f["seq"] for f in missed] == [start + 1, start + 2, start + 3]
    await again.close()


async def test_rooms_of_two_tenants_with_the_same_name_never_meet(redis_instances, make):
    one = await redis_instances()
    make.api = one
    course = await make.course()
    room = f"course:{course['id']}"
    ws = await open_socket(one, room_path(course["id"]), as_="instructor")
    await joined(ws)

    await one.client.app[BUS].publish("globex", RoomEvent(room, "note", {"tenant": "globex"}))
    await one.client.app[BUS].publish("acme", RoomEvent(room, "note", {"tenant": "acme"}))

    assert (await next_frame(ws, "note"))["data"] == {"tenant": "acme"}
    await ws.close()


@dataclass
class SharedForum:
    """One forum, student-1's socket on instance one and student-2's on instance two."""

    one: Any
    two: Any
    forum_id: int
    on_one: aiohttp.ClientWebSocketResponse
    on_two: aiohttp.ClientWebSocketResponse


@pytest.fixture
async def shared_forum(redis_instances) -> AsyncIterator[SharedForum]:
    one = await redis_instances()
    two = await redis_instances()
    forum = await one.post("/api/lms/forum/forums/", {"title": "Shared"}, as_="instructor")
    path = f"/ws/lms/forum/{forum.body['id']}/"
    on_one = await open_socket(one, path, as_="student")
    on_two = await open_socket(two, path, as_="student2")
    await joined(on_one)
    await joined(on_two)
    yield SharedForum(one, two, forum.body["id"], on_one, on_two)
    await on_one.close()
    await on_two.close()


async def test_a_rest_post_on_one_instance_reaches_sockets_on_both_with_one_seq(shared_forum):
    reply = await shared_forum.one.post(
        "/api/lms/forum/posts/", {"forum": shared_forum.forum_id, "content": "Hi"}, as_="admin"
    )
    from_two = await next_frame(shared_forum.on_two, "post")
    from_one = await next_frame(shared_forum.on_one, "post")

    assert from_two == from_one
    assert from_two["data"] == reply.body


async def test_a_socket_post_on_one_instance_reaches_a_socket_on_the_other(shared_forum):
    await shared_forum.on_one.send_json({"type": "post", "content": "Across"})

    frame = await next_frame(shared_forum.on_two, "post")
    assert frame["data"]["content"] == "Across"
    assert frame["data"]["author_id"] == "student-1"


async def test_the_online_list_spans_instances(shared_forum):
    online = f"/api/lms/forum/forums/{shared_forum.forum_id}/online/"

    async with asyncio.timeout(5):
        # Each instance writes its presence on its own task: observe the effect.
        while True:
            reply = await shared_forum.one.get(online, as_="admin")
            if reply.body["users"] == ["student-1", "student-2"]:
                break
            await asyncio.sleep(0.02)
