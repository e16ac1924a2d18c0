"""Names beside ids in socket frames: posts, group messages and typing name their users, and
a socket's handshake puts its user in the directory."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import token_for
from tests.matchers import person
from tests.realtime.sockets import joined, next_frame, open_socket

ADA = token_for("ada", "student", name="Ada Lovelace")
GRACE = token_for("grace", "instructor", name="Grace Hopper")


@pytest.fixture
async def forum(api) -> dict[str, Any]:
    reply = await api.post("/api/lms/forum/forums/", {"title": "Open"}, token=GRACE)
    assert reply.status == 201, reply.body
    return dict(reply.body)


@pytest.fixture
async def group(api) -> dict[str, Any]:
    """A group of Grace's, with Ada in it."""
    reply = await api.post("/api/lms/groups/groups/", {"name": "Study"}, token=GRACE)
    assert reply.status == 201, reply.body
    body = {"group": reply.body["id"], "user_id": "ada"}
    added = await api.post("/api/lms/groups/members/", body, token=GRACE)
    assert added.status == 201, added.body
    return dict(reply.body)


async def test_a_socket_post_frame_names_its_author(api, forum):
    ws = await open_socket(api, f"/ws/lms/forum/{forum['id']}/", token=ADA)
    await joined(ws)

    await ws.send_json({"type": "post", "content": "Hello"})
    frame = await next_frame(ws, "post")

    assert frame["data"]["author"] == person("ada", "Ada Lovelace")
    await ws.close()


async def test_a_group_message_frame_names_its_sender(api, group):
    ws = await open_socket(api, f"/ws/lms/group/{group['id']}/chat/", token=ADA)
    await joined(ws)

    reply = await api.post(
        "/api/lms/messaging/messages/",
        {"group_id": group["id"], "content": "Tomorrow", "message_type": "group"},
        token=GRACE,
    )
    frame = await next_frame(ws, "message")

    assert reply.status == 201
    assert frame["data"]["sender"] == person("grace", "Grace Hopper")
    await ws.close()


async def test_a_typing_frame_names_who_types(api, group):
    reader = await open_socket(api, f"/ws/lms/group/{group['id']}/chat/", token=GRACE)
    typist = await open_socket(api, f"/ws/lms/group/{group['id']}/chat/", token=ADA)
    await joined(reader)
    await joined(typist)

    await typist.send_json({"type": "typing"})
    frame = await next_frame(reader, "typing")

    assert frame["data"] == {"user_id": "ada", "user": person("ada", "Ada Lovelace")}
    await reader.close()
    await typist.close()


async def test_a_socket_handshake_puts_its_user_in_the_directory(api, forum):
    token = token_for("lin", "student", name="Lin Qiao")
    ws = await open_socket(api, f"/ws/lms/forum/{forum['id']}/", token=token)
    await joined(ws)

    reply = await api.get("/api/lms/users/lin/", as_="student")

    assert (reply.status, reply.body["name"]) == (200, "Lin Qiao")
    await ws.close()


async def test_an_announcement_frame_names_its_author(api, course):
    ws = await open_socket(api, f"/ws/lms/course/{course['id']}/notifications/", as_="student")
    await joined(ws)

    body = {"title": "Exam moved", "message": "Now on Friday."}
    reply = await api.post(
        f"/api/lms/courses/courses/{course['id']}/announce/", body, as_="instructor"
    )
    frame = await next_frame(ws, "announcement")

    assert reply.body["created_by_person"] == person("instructor-1")
    assert frame["data"]["created_by_person"] == person("instructor-1")
    await ws.close()
