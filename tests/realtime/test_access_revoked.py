"""Access taken away closes the open sockets at once (4403, with a reason), before anything
the room says after the change: forums, course notifications, AI sessions; in one process
and across two instances sharing Redis."""

from __future__ import annotations

from typing import Any

from models.errors import NotFound, PermissionDenied
from models.identity import Principal
from realtime import rooms
from realtime.gate import GATE
from realtime.sockets import RoomKind
from tests.realtime.sockets import frames_until_closed, joined, next_frame, open_socket

GROUPS = "/api/lms/groups/groups/"
MEMBERS = "/api/lms/groups/members/"
FORUMS = "/api/lms/forum/forums/"
POSTS = "/api/lms/forum/posts/"
COURSES = "/api/lms/courses/courses/"
ENROLLMENTS = "/api/lms/courses/enrollments/"
REVOKED = "Access to this room was revoked."


def forum_path(forum_id: int) -> str:
    return f"/ws/lms/forum/{forum_id}/"


def course_path(course_id: int) -> str:
    return f"/ws/lms/course/{course_id}/notifications/"


async def group_forum(api: Any) -> dict[str, Any]:
    """A forum of instructor-1 limited to a group in which student-1 is a member."""
    group = await api.post(GROUPS, {"name": "Insiders"}, as_="instructor")
    member = await api.post(
        MEMBERS, {"group": group.body["id"], "user_id": "student-1"}, as_="instructor"
    )
    forum = await api.post(
        FORUMS, {"title": "Inner circle", "group_ids": [group.body["id"]]}, as_="instructor"
    )
    assert forum.status == 201, forum.body
    return {"group": group.body, "membership": member.body["id"], "forum": forum.body}


async def assert_revoked_before(ws: Any, secret: str) -> None:
    """Closed 4403 with the reason, and nothing carrying `secret` came first."""
    received, code, reason = await frames_until_closed(ws)
    assert code == 4403
    assert reason == REVOKED
    assert secret not in str(received)


async def post(api: Any, forum_id: int, content: str) -> None:
    reply = await api.post(POSTS, {"forum": forum_id, "content": content}, as_="admin")
    assert reply.status == 201, reply.body


# Forums


async def test_a_member_removed_from_the_forums_group_is_closed_before_the_next_post(api):
    setup = await group_forum(api)
    ws = await open_socket(api, forum_path(setup["forum"]["id"]), as_="student")
    await joined(ws)

    removed = await api.delete(f"{MEMBERS}{setup['membership']}/", as_="instructor")
    await post(api, setup["forum"]["id"], "after-removal")

    assert removed.status == 204
    await assert_revoked_before(ws, "after-removal")


async def test_changing_a_forums_groups_closes_who_lost_it_and_keeps_its_creator(api):
    setup = await group_forum(api)
    other = await api.post(GROUPS, {"name": "Others"}, as_="instructor")
    forum_id = setup["forum"]["id"]
    student = await open_socket(api, forum_path(forum_id), as_="student")
    creator = await open_socket(api, forum_path(forum_id), as_="instructor")
    await joined(student)
    await joined(creator)

    changed = await api.patch(
        f"{FORUMS}{forum_id}/", {"group_ids": [other.body["id"]]}, as_="instructor"
    )
    await post(api, forum_id, "after-regrouping")

    assert changed.status == 200, changed.body
    await assert_revoked_before(student, "after-regrouping")
    assert (await next_frame(creator, "post"))["data"]["content"] == "after-regrouping"
    await creator.close()


async def test_a_forum_made_inactive_closes_its_readers_but_not_its_creator(api):
    forum = await api.post(FORUMS, {"title": "Open"}, as_="instructor")
    forum_id = forum.body["id"]
    student = await open_socket(api, forum_path(forum_id), as_="student")
    creator = await open_socket(api, forum_path(forum_id), as_="instructor")
    await joined(student)
    await joined(creator)

    changed = await api.patch(f"{FORUMS}{forum_id}/", {"is_active": False}, as_="instructor")

    assert changed.status == 200, changed.body
    await assert_revoked_before(student, "never")
    assert creator.closed is False
    await creator.close()


async def test_deleting_the_forums_only_group_closes_its_members_forum_sockets(api):
    setup = await group_forum(api)
    ws = await open_socket(api, forum_path(setup["forum"]["id"]), as_="student")
    await joined(ws)

    deleted = await api.delete(f"{GROUPS}{setup['group']['id']}/", as_="instructor")

    assert deleted.status == 204
    await assert_revoked_before(ws, "never")


# Course notifications


async def test_leaving_a_course_closes_its_notifications_before_the_next_announcement(api, course):
    ws = await open_socket(api, course_path(course["id"]), as_="student")
    await joined(ws)
    mine = await api.get(f"{ENROLLMENTS}?course={course['id']}", as_="student")
    enrollment_id = mine.body["results"][0]["id"]

    left = await api.delete(f"{ENROLLMENTS}{enrollment_id}/", as_="student")
    await api.post(
        f"{COURSES}{course['id']}/announce/",
        {"title": "after-leaving", "message": "secret"},
        as_="instructor",
    )
    await api.settled()

    assert left.status == 204
    await assert_revoked_before(ws, "after-leaving")


async def test_an_admin_deactivating_an_enrollment_closes_that_students_socket(api, course):
    ws = await open_socket(api, course_path(course["id"]), as_="student")
    await joined(ws)
    listed = await api.get(f"{ENROLLMENTS}?course={course['id']}", as_="admin")
    enrollment_id = listed.body["results"][0]["id"]

    changed = await api.patch(f"{ENROLLMENTS}{enrollment_id}/", {"is_active": False}, as_="admin")

    assert changed.status == 200, changed.body
    await assert_revoked_before(ws, "never")


async def test_unpublishing_a_course_closes_its_students_and_keeps_its_instructor(api, course):
    student = await open_socket(api, course_path(course["id"]), as_="student")
    instructor = await open_socket(api, course_path(course["id"]), as_="instructor")
    await joined(student)
    await joined(instructor)

    changed = await api.patch(f"{COURSES}{course['id']}/", {"status": "Draft"}, as_="instructor")
    await api.post(
        f"{COURSES}{course['id']}/announce/",
        {"title": "after-unpublishing", "message": "x"},
        as_="instructor",
    )
    await api.settled()

    assert changed.status == 200, changed.body
    await assert_revoked_before(student, "after-unpublishing")
    assert (await next_frame(instructor, "announcement"))["data"]["title"] == "after-unpublishing"
    await instructor.close()


async def test_deleting_a_course_closes_its_room_as_gone(api, course):
    ws = await open_socket(api, course_path(course["id"]), as_="student")
    await joined(ws)

    deleted = await api.delete(f"{COURSES}{course['id']}/", as_="instructor")

    assert deleted.status == 204
    received, code, _ = await frames_until_closed(ws)
    assert code == 4404
    assert received[-1]["type"] == "room_closed"


# AI sessions


async def test_deleting_an_ai_session_closes_its_stream_as_gone(api):
    chat = await api.post(
        "/api/lms/ai_chat/sessions/",
        {"topic": "Help", "difficulty_level": "beginner"},
        as_="student",
    )
    ws = await open_socket(api, f"/ws/lms/ai_chat/{chat.body['id']}/", as_="student")
    await joined(ws)

    deleted = await api.delete(f"/api/lms/ai_chat/sessions/{chat.body['id']}/", as_="student")

    assert deleted.status == 204
    _, code, _ = await frames_until_closed(ws)
    assert code == 4404


# Across instances: the change on one, the socket on the other


async def test_a_member_removed_on_one_instance_is_closed_on_the_other(redis_instances):
    one = await redis_instances()
    two = await redis_instances()
    setup = await group_forum(one)
    ws = await open_socket(two, forum_path(setup["forum"]["id"]), as_="student")
    await joined(ws)

    removed = await one.delete(f"{MEMBERS}{setup['membership']}/", as_="instructor")
    await post(one, setup["forum"]["id"], "after-removal")

    assert removed.status == 204
    await assert_revoked_before(ws, "after-removal")


async def test_leaving_a_course_on_one_instance_closes_the_socket_on_the_other(
    redis_instances,
):
    one = await redis_instances()
    two = await redis_instances()
    created = await one.post(
        COURSES,
        {"title": "Across", "code": "ACR1", "level": "Beginner", "status": "Published"},
        as_="instructor",
    )
    course_id = created.body["id"]
    enrolled = await one.post(f"{ENROLLMENTS}course/{course_id}/", as_="student")
    ws = await open_socket(two, course_path(course_id), as_="student")
    await joined(ws)

    left = await one.delete(f"{ENROLLMENTS}{enrolled.body['id']}/", as_="student")

    assert left.status == 204
    await assert_revoked_before(ws, "never")


async def test_a_reader_who_keeps_access_stays_through_a_recheck(api):
    setup = await group_forum(api)
    other = await api.post(GROUPS, {"name": "Others"}, as_="instructor")
    forum_id = setup["forum"]["id"]
    ws = await open_socket(api, forum_path(forum_id), as_="student")
    await joined(ws)

    both = [setup["group"]["id"], other.body["id"]]
    changed = await api.patch(f"{FORUMS}{forum_id}/", {"group_ids": both}, as_="instructor")
    await post(api, forum_id, "still-here")

    assert changed.status == 200, changed.body
    assert (await next_frame(ws, "post"))["data"]["content"] == "still-here"
    await ws.close()


# A whole room is checked at once, by the very rule of the handshake


USERS = {
    "admin": Principal("admin-1", "acme", frozenset({"admin"})),
    "instructor": Principal("instructor-1", "acme", frozenset({"instructor"})),
    "instructor2": Principal("instructor-2", "acme", frozenset({"instructor"})),
    "student": Principal("student-1", "acme"),
    "student2": Principal("student-2", "acme"),
}


async def one_by_one(api: Any, kind: RoomKind, room_id: int) -> set[str]:
    allowed = set()
    for principal in USERS.values():
        async with api.client.app[GATE].unit_of_work("acme", read_only=True) as uow:
            try:
                await kind.check(uow.session, principal, room_id)
            except (NotFound, PermissionDenied):
                continue  # refused at the handshake: not among those allowed
            allowed.add(principal.user_id)
    return allowed


async def all_at_once(api: Any, room: str) -> set[str]:
    check = rooms.access_check(api.client.app[GATE].unit_of_work)
    return await check(("acme", room), list(USERS.values()))


async def test_a_forums_readers_at_once_are_who_its_handshake_lets_in(api):
    setup = await group_forum(api)
    forum_id = setup["forum"]["id"]
    open_forum = await api.post(FORUMS, {"title": "Open"}, as_="instructor")

    for room_id in (forum_id, open_forum.body["id"]):
        assert await all_at_once(api, f"forum:{room_id}") == await one_by_one(
            api, rooms.FORUM, room_id
        )
    await api.patch(f"{FORUMS}{forum_id}/", {"is_active": False}, as_="instructor")
    assert await all_at_once(api, f"forum:{forum_id}") == await one_by_one(
        api, rooms.FORUM, forum_id
    )
    assert await all_at_once(api, f"forum:{forum_id}") == {"admin-1", "instructor-1"}


async def test_a_courses_listeners_at_once_are_who_its_handshake_lets_in(api, course, make):
    await make.enroll(course["id"], as_="student2")
    mine = await api.get(f"{ENROLLMENTS}?course={course['id']}", as_="student2")
    await api.delete(f"{ENROLLMENTS}{mine.body['results'][0]['id']}/", as_="student2")
    room = f"course:{course['id']}"

    assert await all_at_once(api, room) == await one_by_one(api, rooms.COURSE, course["id"])
    assert await all_at_once(api, room) == {"admin-1", "instructor-1", "student-1"}
    await api.patch(f"{COURSES}{course['id']}/", {"status": "Draft"}, as_="instructor")
    assert await all_at_once(api, room) == await one_by_one(api, rooms.COURSE, course["id"])
    assert await all_at_once(api, room) == {"admin-1", "instructor-1"}
