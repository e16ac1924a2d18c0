"""Group chat over real sockets ("Group Chat")."""

from __future__ import annotations

from typing import Any

import pytest

from tests.matchers import person
from tests.realtime.sockets import closed_with, joined, next_frame, open_socket

GROUPS = "/api/lms/groups/groups/"
MEMBERS = "/api/lms/groups/members/"
MESSAGES = "/api/lms/messaging/messages/"


def room_path(group_id: int) -> str:
    return f"/ws/lms/group/{group_id}/chat/"


@pytest.fixture
async def group(api) -> dict[str, Any]:
    """A group of instructor-1 (owner) with student-1 as a member."""
    reply = await api.post(GROUPS, {"name": "Study group"}, as_="instructor")
    assert reply.status == 201, reply.body
    added = await api.post(
        MEMBERS, {"group": reply.body["id"], "user_id": "student-1"}, as_="instructor"
    )
    assert added.status == 201, added.body
    return {**reply.body, "student_membership": added.body["id"]}


async def test_a_socket_message_is_stored_as_a_group_message_and_reaches_the_others(api, group):
    sender = await open_socket(api, room_path(group["id"]), as_="student")
    other = await open_socket(api, room_path(group["id"]), as_="instructor")
    await joined(sender)
    await joined(other)

    await sender.send_json({"type": "message", "content": "Shall we meet?"})
    frame = await next_frame(other, "message")
    listed = await api.get(f"{MESSAGES}?group_id={group['id']}", as_="instructor")

    assert frame["room"] == f"group:{group['id']}"
    assert frame["data"]["content"] == "Shall we meet?"
    assert frame["data"]["sender_id"] == "student-1"
    assert [m["id"] for m in listed.body["results"]] == [frame["data"]["id"]]
    assert listed.body["results"][0]["message_type"] == "group"
    await sender.close()
    await other.close()


async def test_a_rest_group_message_reaches_the_room(api, group):
    ws = await open_socket(api, room_path(group["id"]), as_="student")
    await joined(ws)

    reply = await api.post(
        MESSAGES,
        {"group_id": group["id"], "content": "Tomorrow at 10", "message_type": "group"},
        as_="instructor",
    )
    frame = await next_frame(ws, "message")

    assert reply.status == 201
    assert frame["data"]["id"] == reply.body["id"]
    assert "is_read" not in frame["data"]  # a reader's own state is not broadcast
    await ws.close()


async def test_a_direct_message_never_reaches_a_group_room(api, group):
    ws = await open_socket(api, room_path(group["id"]), as_="student")
    await joined(ws)

    await api.post(MESSAGES, {"recipient_id": "student-1", "content": "Private"}, as_="instructor")
    await api.post(
        MESSAGES,
        {"group_id": group["id"], "content": "Public", "message_type": "group"},
        as_="instructor",
    )

    assert (await next_frame(ws, "message"))["data"]["content"] == "Public"
    await ws.close()


async def test_a_non_member_is_refused_with_4404(api, group):
    ws = await open_socket(api, room_path(group["id"]), as_="student2")

    assert await closed_with(ws) == 4404


async def test_an_admin_outside_the_group_is_refused_with_4403(api, group):
    ws = await open_socket(api, room_path(group["id"]), as_="admin")

    assert await closed_with(ws) == 4403


async def test_a_removed_member_is_closed_with_4403_at_once(api, group):
    ws = await open_socket(api, room_path(group["id"]), as_="student")
    await joined(ws)

    reply = await api.delete(f"{MEMBERS}{group['student_membership']}/", as_="instructor")

    assert reply.status == 204
    assert await closed_with(ws) == 4403


async def test_a_new_member_is_announced_in_the_room(api, group):
    ws = await open_socket(api, room_path(group["id"]), as_="student")
    await joined(ws)

    await api.post(MEMBERS, {"group": group["id"], "user_id": "student-2"}, as_="instructor")

    frame = await next_frame(ws, "member_joined")
    assert frame["data"] == {
        "group_id": group["id"],
        "user_id": "student-2",
        "user": person("student-2"),
        "role": "member",
    }
    await ws.close()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("   ", "This field may not be blank."),
        ("x" * 10_001, "Ensure this field has no more than 10000 characters."),
        (5, "Not a valid string."),
    ],
    ids=["whitespace-only", "over-the-maximum", "not-a-string"],
)
async def test_a_socket_message_with_bad_content_gets_the_rest_field_errors(
    api, group, content, message
):
    ws = await open_socket(api, room_path(group["id"]), as_="student")
    await joined(ws)

    rest = await api.post(
        MESSAGES,
        {"group_id": group["id"], "content": content, "message_type": "group"},
        as_="student",
    )
    await ws.send_json({"type": "message", "content": content})
    error = await next_frame(ws, "error")

    assert rest.status == 400
    assert rest.body["content"] == [message]
    assert error == {"type": "error", "code": 400, "detail": {"content": [message]}}
    listed = await api.get(f"{MESSAGES}?group_id={group['id']}", as_="instructor")
    assert listed.body["count"] == 0
    await ws.close()


async def test_a_message_frame_in_a_forum_room_kind_is_not_taken_here(api, group):
    ws = await open_socket(api, room_path(group["id"]), as_="student")
    await joined(ws)

    await ws.send_json({"type": "post", "content": "wrong room"})

    error = await next_frame(ws, "error")
    assert error["code"] == 400
    await ws.close()


async def test_the_group_online_list(api, group):
    ws = await open_socket(api, room_path(group["id"]), as_="student")
    await joined(ws)

    reply = await api.get(f"{GROUPS}{group['id']}/online/", as_="instructor")
    hidden = await api.get(f"{GROUPS}{group['id']}/online/", as_="student2")

    assert reply.body == {
        "room": f"group:{group['id']}",
        "users": ["student-1"],
        "people": [person("student-1")],
        "count": 1,
    }
    assert hidden.status == 404
    await ws.close()


async def test_deleting_the_group_closes_its_chat_with_4404(api, group):
    ws = await open_socket(api, room_path(group["id"]), as_="student")
    await joined(ws)

    reply = await api.delete(f"{GROUPS}{group['id']}/", as_="instructor")

    assert reply.status == 204
    assert await closed_with(ws) == 4404
