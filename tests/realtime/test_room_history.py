"""What a room's history replays (`?since=`) shows only what still exists: an edit replaces
the old content, a deletion leaves a tombstone (the seq, the id, no content), a deleted
forum, group, course or AI session takes its seq and history with it; and the history is
bounded in bytes, in memory and in Redis."""

from __future__ import annotations

import gc
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aredis

from models.effects import ROOM_CLOSED, RoomEvent, item_of
from realtime.bus import Bus, MemoryBus
from realtime.redis_bus import RedisBus, room_keys
from tests.realtime.sockets import joined, next_frame, open_socket
from web.keys import BUS

GROUPS = "/api/lms/groups/groups/"
MEMBERS = "/api/lms/groups/members/"
MESSAGES = "/api/lms/messaging/messages/"
FORUMS = "/api/lms/forum/forums/"
POSTS = "/api/lms/forum/posts/"
COURSES = "/api/lms/courses/courses/"
SECRET = f"old-words-{uuid.uuid4().hex}"  # per run: Redis outlives a run


async def replayed(api: Any, path: str, as_: str) -> str:
    """Every raw frame a new socket is given with `?since=0`, up to its `joined`."""
    ws = await open_socket(api, path, as_=as_, query={"since": "0"})
    raw = []
    while True:
        message = await ws.receive()
        assert message.type is aiohttp.WSMsgType.TEXT, message
        raw.append(message.data)
        if '"type":"joined"' in message.data:
            break
    await ws.close()
    return "\n".join(raw)


async def forum_with_post(api: Any, content: str) -> tuple[int, dict[str, Any]]:
    forum = await api.post(FORUMS, {"title": "History"}, as_="instructor")
    post = await api.post(POSTS, {"forum": forum.body["id"], "content": content}, as_="student")
    assert post.status == 201, post.body
    return forum.body["id"], post.body


# What an edit or a deletion leaves behind


async def test_an_edited_posts_old_content_is_not_replayed(api):
    forum_id, post = await forum_with_post(api, SECRET)

    edited = await api.patch(f"{POSTS}{post['id']}/", {"content": "fixed"}, as_="student")

    assert edited.status == 200
    history = await replayed(api, f"/ws/lms/forum/{forum_id}/", "student2")
    assert SECRET not in history
    assert '"content":"fixed"' in history


async def test_a_post_deleted_by_a_moderator_is_not_replayed_nor_are_its_replies(api):
    forum_id, post = await forum_with_post(api, SECRET)
    reply = await api.post(
        POSTS, {"forum": forum_id, "content": SECRET + "-reply", "parent": post["id"]}, as_="admin"
    )
    assert reply.status == 201

    deleted = await api.delete(f"{POSTS}{post['id']}/", as_="instructor")

    assert deleted.status == 204
    assert SECRET not in await replayed(api, f"/ws/lms/forum/{forum_id}/", "student2")


async def test_a_tombstone_keeps_the_seq_and_the_id(api):
    forum_id, post = await forum_with_post(api, SECRET)
    await api.delete(f"{POSTS}{post['id']}/", as_="student")

    ws = await open_socket(api, f"/ws/lms/forum/{forum_id}/", as_="student2", query={"since": "0"})
    first = await next_frame(ws)
    second = await next_frame(ws)

    assert first == {
        "type": "post",
        "room": f"forum:{forum_id}",
        "seq": 1,
        "data": {"id": post["id"], "superseded": True},
    }
    assert (second["type"], second["seq"]) == ("post_deleted", 2)
    assert (await joined(ws))["data"]["seq"] == 2
    await ws.close()


async def test_a_message_deleted_for_everyone_is_not_replayed(api):
    group = await api.post(GROUPS, {"name": "Chat"}, as_="instructor")
    await api.post(MEMBERS, {"group": group.body["id"], "user_id": "student-1"}, as_="instructor")
    body = {"group_id": group.body["id"], "content": SECRET, "message_type": "group"}
    message = await api.post(MESSAGES, body, as_="instructor")
    assert message.status == 201, message.body

    deleted = await api.delete(f"{MESSAGES}{message.body['id']}/", as_="instructor")

    assert deleted.status == 204
    assert SECRET not in await replayed(api, f"/ws/lms/group/{group.body['id']}/chat/", "student")


# A deleted room's object takes its seq and history with it


async def room_state(api: Any, room: str) -> tuple[int, list[bytes]]:
    bus = api.client.app[BUS]
    history = await bus.history("acme", room)
    return history.last, history.frames


async def test_deleting_a_forum_forgets_its_rooms_seq_and_history(api):
    forum_id, _ = await forum_with_post(api, SECRET)
    assert (await room_state(api, f"forum:{forum_id}"))[0] == 1

    await api.delete(f"{FORUMS}{forum_id}/", as_="instructor")

    assert await room_state(api, f"forum:{forum_id}") == (0, [])


async def test_deleting_a_group_forgets_its_chats_seq_and_history(api):
    group = await api.post(GROUPS, {"name": "Chat"}, as_="instructor")
    body = {"group_id": group.body["id"], "content": SECRET, "message_type": "group"}
    await api.post(MESSAGES, body, as_="instructor")

    await api.delete(f"{GROUPS}{group.body['id']}/", as_="instructor")

    assert await room_state(api, f"group:{group.body['id']}") == (0, [])


async def test_deleting_a_course_forgets_its_rooms_seq_and_history(api, course):
    await api.post(
        f"{COURSES}{course['id']}/announce/", {"title": SECRET, "message": "x"}, as_="instructor"
    )
    await api.settled()
    assert (await room_state(api, f"course:{course['id']}"))[0] > 0

    await api.delete(f"{COURSES}{course['id']}/", as_="instructor")

    assert await room_state(api, f"course:{course['id']}") == (0, [])


async def test_deleting_an_ai_session_forgets_its_rooms_seq_and_history(api):
    chat = await api.post(
        "/api/lms/ai_chat/sessions/",
        {"topic": "Help", "difficulty_level": "beginner"},
        as_="student",
    )
    room = f"ai_chat:{chat.body['id']}"
    await api.client.app[BUS].publish("acme", RoomEvent(room, "delta", {"text": SECRET}))

    await api.delete(f"/api/lms/ai_chat/sessions/{chat.body['id']}/", as_="student")

    assert await room_state(api, room) == (0, [])


# The bus alone, in memory and in Redis


@pytest.fixture(params=["memory", "redis"])
async def bus(request: pytest.FixtureRequest) -> AsyncIterator[Bus]:
    if request.param == "memory":
        yield MemoryBus(history_size=1000, history_bytes=1024 * 1024)
        return
    url = request.getfixturevalue("redis_url")
    client = aredis.Redis.from_url(url)
    yield RedisBus(client, history_size=1000, history_bytes=1024 * 1024)
    await client.aclose()


def event(room: str, type_: str, data: dict[str, Any]) -> RoomEvent:
    """As the domain notes it (`notify_after_commit`)."""
    item, supersedes = item_of(type_, data)
    return RoomEvent(room, type_, data, item, supersedes)


async def history_bytes(bus: Bus, tenant: str, room: str) -> int:
    return sum(len(f) for f in (await bus.history(tenant, room)).frames)


async def test_two_hundred_edits_of_a_big_post_keep_the_history_bounded(bus):
    tenant, room = f"t{uuid.uuid4().hex[:8]}", "forum:1"
    big = "x" * 300_000
    await bus.publish(tenant, event(room, "post", {"id": 7, "content": big}))

    for n in range(200):
        await bus.publish(tenant, event(room, "post_updated", {"id": 7, "content": f"{n}{big}"}))

    history = await bus.history(tenant, room)
    assert (history.first, history.last) == (1, 201)  # every seq still counted
    assert await history_bytes(bus, tenant, room) < 1024 * 1024
    assert sum(big in f.decode() for f in history.frames) == 1  # the latest only
    if isinstance(bus, RedisBus):
        usage = await bus._redis.memory_usage(room_keys(tenant, room)[1])
        assert usage is not None and usage < 1024 * 1024 + 64 * 1024


async def test_many_big_posts_keep_the_history_under_its_bytes_by_dropping_the_oldest(bus):
    tenant, room = f"t{uuid.uuid4().hex[:8]}", "forum:1"
    big = "y" * 300_000

    for n in range(20):
        await bus.publish(tenant, event(room, "post", {"id": n, "content": big}))

    history = await bus.history(tenant, room)
    assert await history_bytes(bus, tenant, room) <= 1024 * 1024
    assert history.last == 20
    assert history.after(0) is None  # a client that saw none of it is told to reload


async def test_a_closed_room_starts_again_from_seq_zero(bus):
    tenant, room = f"t{uuid.uuid4().hex[:8]}", "group:3"
    await bus.publish(tenant, event(room, "message", {"id": 1, "content": SECRET}))

    await bus.publish(tenant, RoomEvent(room, ROOM_CLOSED, {"group_id": 3}))

    assert await bus.current_seq(tenant, room) == 0
    assert (await bus.history(tenant, room)).frames == []
    if isinstance(bus, RedisBus):
        assert await bus._redis.exists(*room_keys(tenant, room)) == 0
    await bus.publish(tenant, event(room, "message", {"id": 2, "content": "new"}))
    assert await bus.current_seq(tenant, room) == 1


async def test_a_deletion_tombstones_the_right_frame_after_the_oldest_were_dropped():
    bus = MemoryBus(history_size=3)
    tenant, room = "acme", "forum:1"
    for n in range(1, 6):
        await bus.publish(tenant, event(room, "post", {"id": n, "content": f"post {n}"}))

    await bus.publish(tenant, event(room, "post_deleted", {"id": 4}))

    history = await bus.history(tenant, room)
    assert (history.first, history.last) == (4, 6)
    shown = [f.decode() for f in history.frames]
    assert "post 4" not in shown[0] and '"seq":4' in shown[0]  # the tombstone
    assert "post 5" in shown[1]


async def test_an_edit_of_a_post_whose_frame_was_dropped_tombstones_nothing_else():
    bus = MemoryBus(history_size=2)
    tenant, room = "acme", "forum:1"
    await bus.publish(tenant, event(room, "post", {"id": 1, "content": "first"}))
    await bus.publish(tenant, event(room, "post", {"id": 2, "content": "second"}))
    await bus.publish(tenant, event(room, "post", {"id": 3, "content": "third"}))

    await bus.publish(tenant, event(room, "post_updated", {"id": 1, "content": "edited"}))

    shown = [f.decode() for f in (await bus.history(tenant, room)).frames]
    assert len(shown) == 2 and "third" in shown[0] and "edited" in shown[1]


async def test_a_rooms_history_gives_the_garbage_collector_nothing_to_walk_per_frame():
    """A fan-out fills thousands of rooms; what their histories hold must not lengthen the
    collections that stop the event loop."""
    bus = MemoryBus(history_size=5000, history_bytes=64 * 1024 * 1024)
    tenant, room = "acme", "user:u1"
    await bus.publish(tenant, event(room, "notification", {"id": 0, "title": "warm"}))
    gc.collect()
    before = len(gc.get_objects())

    for n in range(1, 2001):
        await bus.publish(tenant, event(room, "notification", {"id": n, "title": f"n{n}"}))
    gc.collect()

    assert len(gc.get_objects()) - before < 100
    assert len((await bus.history(tenant, room)).frames) == 2001


async def test_redis_keeps_a_rooms_keys_a_day_not_a_week(redis_url):
    client = aredis.Redis.from_url(redis_url)
    bus = RedisBus(client)
    tenant, room = f"t{uuid.uuid4().hex[:8]}", "forum:1"

    await bus.publish(tenant, event(room, "post", {"id": 1, "content": "x"}))

    for key in room_keys(tenant, room):
        assert 0 < await client.ttl(key) <= 86400
    await client.aclose()


# Across instances sharing Redis


async def test_an_edit_on_one_instance_is_not_replayed_old_on_the_other(redis_instances):
    one = await redis_instances()
    two = await redis_instances()
    forum_id, post = await forum_with_post(one, SECRET)

    await one.patch(f"{POSTS}{post['id']}/", {"content": "fixed"}, as_="student")

    history = await replayed(two, f"/ws/lms/forum/{forum_id}/", "student2")
    assert SECRET not in history
    assert '"content":"fixed"' in history


async def test_deleting_a_forum_deletes_its_rooms_keys_in_redis(redis_instances, redis_url):
    one = await redis_instances()
    forum_id, _ = await forum_with_post(one, SECRET)
    client = aredis.Redis.from_url(redis_url)
    keys = room_keys("acme", f"forum:{forum_id}")
    assert await client.exists(*keys) > 0

    await one.delete(f"{FORUMS}{forum_id}/", as_="instructor")

    assert await client.exists(*keys) == 0
    await client.aclose()
