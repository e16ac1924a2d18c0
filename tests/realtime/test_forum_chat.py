"""Forum live chat over real sockets ("Forum Live Chat")."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.matchers import person
from tests.realtime.sockets import closed_with, joined, next_frame, open_socket

FORUMS = "/api/lms/forum/forums/"
POSTS = "/api/lms/forum/posts/"
GROUPS = "/api/lms/groups/groups/"
MEMBERS = "/api/lms/groups/members/"


def room_path(forum_id: int) -> str:
    return f"/ws/lms/forum/{forum_id}/"


@pytest.fixture
async def forum(api) -> dict[str, Any]:
    """An open forum of instructor-1 (everyone in the tenant reads and posts)."""
    reply = await api.post(FORUMS, {"title": "General Discussion"}, as_="instructor")
    assert reply.status == 201, reply.body
    return dict(reply.body)


async def test_a_rest_post_reaches_the_socket_as_the_rest_body(api, forum):
    ws = await open_socket(api, room_path(forum["id"]), as_="student")
    await joined(ws)

    reply = await api.post(POSTS, {"forum": forum["id"], "content": "Hello"}, as_="student2")
    frame = await next_frame(ws, "post")

    assert reply.status == 201
    assert frame == {
        "type": "post",
        "room": f"forum:{forum['id']}",
        "seq": frame["seq"],
        "data": reply.body,
    }
    await ws.close()


async def test_a_socket_post_is_stored_and_reaches_every_socket_and_rest(api, forum):
    sender = await open_socket(api, room_path(forum["id"]), as_="student")
    other = await open_socket(api, room_path(forum["id"]), as_="student2")
    await joined(sender)
    await joined(other)

    await sender.send_json({"type": "post", "content": "Over the socket"})
    seen_by_other = await next_frame(other, "post")
    seen_by_sender = await next_frame(sender, "post")
    listed = await api.get(f"{POSTS}?forum={forum['id']}", as_="admin")

    assert seen_by_other == seen_by_sender
    assert seen_by_other["data"]["author_id"] == "student-1"
    assert seen_by_other["data"]["content"] == "Over the socket"
    assert [p["id"] for p in listed.body["results"]] == [seen_by_other["data"]["id"]]
    await sender.close()
    await other.close()


async def test_a_socket_reply_names_its_parent(api, forum):
    first = await api.post(POSTS, {"forum": forum["id"], "content": "Question"}, as_="student")
    ws = await open_socket(api, room_path(forum["id"]), as_="student2")
    await joined(ws)

    await ws.send_json({"type": "post", "content": "Answer", "parent": first.body["id"]})

    assert (await next_frame(ws, "post"))["data"]["parent"] == first.body["id"]
    await ws.close()


async def test_an_empty_socket_post_is_an_error_frame_with_the_field(api, forum):
    ws = await open_socket(api, room_path(forum["id"]), as_="student")
    await joined(ws)

    await ws.send_json({"type": "post", "content": ""})
    error = await next_frame(ws, "error")

    assert error["code"] == 400
    assert "content" in error["detail"]
    await ws.close()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("   ", "This field may not be blank."),
        ("x" * 50_001, "Ensure this field has no more than 50000 characters."),
        (5, "Not a valid string."),
    ],
    ids=["whitespace-only", "over-the-maximum", "not-a-string"],
)
async def test_a_socket_post_with_bad_content_gets_the_rest_field_errors(
    api, forum, content, message
):
    ws = await open_socket(api, room_path(forum["id"]), as_="student")
    await joined(ws)

    rest = await api.post(POSTS, {"forum": forum["id"], "content": content}, as_="student")
    await ws.send_json({"type": "post", "content": content})
    error = await next_frame(ws, "error")

    assert rest.status == 400
    assert rest.body["content"] == [message]
    assert error == {"type": "error", "code": 400, "detail": {"content": [message]}}
    listed = await api.get(f"{POSTS}?forum={forum['id']}", as_="admin")
    assert listed.body["count"] == 0
    await ws.close()


async def test_a_socket_post_in_a_locked_forum_is_refused_and_the_socket_stays(api, forum):
    ws = await open_socket(api, room_path(forum["id"]), as_="student")
    await joined(ws)
    locked = await api.patch(f"{FORUMS}{forum['id']}/", {"is_locked": True}, as_="instructor")
    assert locked.status == 200

    await ws.send_json({"type": "post", "content": "Too late"})
    error = await next_frame(ws, "error")
    await ws.send_json({"type": "ping"})

    assert error == {"type": "error", "code": 403, "detail": "This forum is locked."}
    assert (await next_frame(ws))["type"] == "pong"
    listed = await api.get(f"{POSTS}?forum={forum['id']}", as_="admin")
    assert listed.body["count"] == 0
    await ws.close()


async def test_post_edits_and_deletes_reach_the_room(api, forum):
    post = await api.post(POSTS, {"forum": forum["id"], "content": "Draft"}, as_="student")
    ws = await open_socket(api, room_path(forum["id"]), as_="student2")
    await joined(ws)

    await api.patch(f"{POSTS}{post.body['id']}/", {"content": "Final"}, as_="student")
    await api.delete(f"{POSTS}{post.body['id']}/", as_="student")
    updated = await next_frame(ws, "post_updated")
    deleted = await next_frame(ws, "post_deleted")

    assert updated["data"]["content"] == "Final"
    assert deleted["data"] == {"id": post.body["id"], "forum": forum["id"], "parent": None}
    assert deleted["seq"] == updated["seq"] + 1
    await ws.close()


async def test_a_group_restricted_forum_refuses_a_non_member_with_4404(api):
    group = await api.post(GROUPS, {"name": "Insiders"}, as_="instructor")
    forum = await api.post(
        FORUMS, {"title": "Inner circle", "group_ids": [group.body["id"]]}, as_="instructor"
    )

    ws = await open_socket(api, room_path(forum.body["id"]), as_="student")

    assert await closed_with(ws) == 4404


async def test_a_group_member_enters_a_group_restricted_forum(api):
    group = await api.post(GROUPS, {"name": "Insiders"}, as_="instructor")
    await api.post(MEMBERS, {"group": group.body["id"], "user_id": "student-1"}, as_="instructor")
    forum = await api.post(
        FORUMS,
        {"title": "Inner circle", "group_ids": [f"group-{group.body['id']}"]},
        as_="instructor",
    )

    ws = await open_socket(api, room_path(forum.body["id"]), as_="student")

    assert (await joined(ws))["type"] == "joined"
    await ws.close()


async def test_another_tenants_forum_is_4404(api, forum):
    ws = await open_socket(api, room_path(forum["id"]), as_="b_student")

    assert await closed_with(ws) == 4404


async def test_the_online_list_names_who_has_the_room_open(api, forum):
    ws = await open_socket(api, room_path(forum["id"]), as_="student")
    await joined(ws)

    reply = await api.get(f"{FORUMS}{forum['id']}/online/", as_="student2")

    assert reply.status == 200
    assert reply.body == {
        "room": f"forum:{forum['id']}",
        "users": ["student-1"],
        "people": [person("student-1")],
        "count": 1,
    }
    await ws.close()


async def test_a_user_who_closed_the_room_leaves_the_online_list(api, forum):
    ws = await open_socket(api, room_path(forum["id"]), as_="student")
    await joined(ws)
    await ws.close()

    async with asyncio.timeout(5):
        # The server notices the close on its own task: observe its effect.
        while (await api.get(f"{FORUMS}{forum['id']}/online/", as_="admin")).body["count"]:  # noqa: ASYNC110
            await asyncio.sleep(0.02)


async def test_the_online_list_of_a_forum_one_cannot_see_is_404(api):
    group = await api.post(GROUPS, {"name": "Insiders"}, as_="instructor")
    forum = await api.post(
        FORUMS, {"title": "Inner circle", "group_ids": [group.body["id"]]}, as_="instructor"
    )

    reply = await api.get(f"{FORUMS}{forum.body['id']}/online/", as_="student")

    assert reply.status == 404


async def test_deleting_the_forum_closes_its_room_with_4404(api, forum):
    ws = await open_socket(api, room_path(forum["id"]), as_="student")
    await joined(ws)

    reply = await api.delete(f"{FORUMS}{forum['id']}/", as_="instructor")

    assert reply.status == 204
    assert (await next_frame(ws, "room_closed"))["data"] == {"forum": forum["id"]}
    assert await closed_with(ws) == 4404
