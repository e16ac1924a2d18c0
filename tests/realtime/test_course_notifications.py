"""Course notifications over a real socket ("Course Notifications")."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.conftest import token_for
from tests.realtime.sockets import closed_with, joined, next_frame, open_socket
from web.keys import DISPATCHER

COURSES = "/api/lms/courses/courses/"


def room_path(course_id: int) -> str:
    return f"/ws/lms/course/{course_id}/notifications/"


async def test_enrolled_student_receives_a_course_update_in_the_contract_frame(api, course):
    ws = await open_socket(api, room_path(course["id"]), as_="student")
    await joined(ws)

    reply = await api.patch(f"{COURSES}{course['id']}/", {"title": "Renamed"}, as_="instructor")
    assert reply.status == 200
    frame = await next_frame(ws, "course_updated")

    assert frame == {
        "type": "course_updated",
        "room": f"course:{course['id']}",
        "seq": frame["seq"],
        "data": {"course_id": course["id"], "title": "Renamed", "changed": ["title"]},
    }
    assert isinstance(frame["seq"], int) and frame["seq"] >= 1
    await ws.close()


async def test_an_announcement_is_stored_and_reaches_the_room(api, course):
    ws = await open_socket(api, room_path(course["id"]), as_="student")
    await joined(ws)

    reply = await api.post(
        f"{COURSES}{course['id']}/announce/",
        {"title": "Exam moved", "message": "Now on Friday."},
        as_="instructor",
    )

    assert reply.status == 201
    assert reply.body["title"] == "Exam moved"
    frame = await next_frame(ws, "announcement")
    assert frame["data"]["id"] == reply.body["id"]
    assert frame["data"]["message"] == "Now on Friday."
    await ws.close()


async def test_a_student_cannot_announce(api, course):
    reply = await api.post(
        f"{COURSES}{course['id']}/announce/", {"title": "x", "message": "y"}, as_="student"
    )

    assert reply.status == 403


async def test_an_announcement_needs_a_title_and_a_message(api, course):
    reply = await api.post(f"{COURSES}{course['id']}/announce/", {}, as_="instructor")

    assert reply.status == 400
    assert set(reply.body) == {"title", "message", "status"}


async def test_a_new_lesson_reaches_the_room(api, make, course):
    ws = await open_socket(api, room_path(course["id"]), as_="student")
    await joined(ws)

    module = await make.module(course["id"])
    lesson = await make.lesson(module["id"], title="Generators")

    frame = await next_frame(ws, "lesson_created")
    assert frame["data"]["lesson_id"] == lesson["id"]
    assert frame["data"]["title"] == "Generators"
    await ws.close()


async def test_the_instructor_hears_of_a_new_enrollment(api, make, course):
    ws = await open_socket(api, room_path(course["id"]), as_="instructor")
    await joined(ws)

    enrollment = await make.enroll(course["id"], as_="student2")

    frame = await next_frame(ws, "enrollment")
    assert frame["data"] == {"course_id": course["id"], "enrollment_id": enrollment["id"]}
    reply = await api.get(f"/api/lms/courses/enrollments/{enrollment['id']}/", as_="instructor")
    assert reply.body["user"] == "student-2"
    await ws.close()


async def test_enrollees_in_the_room_never_learn_who_else_enrolls(api, make, course):
    await make.enroll(course["id"], as_="student2")  # before the socket: in the history
    await api.client.app[DISPATCHER].drain()  # a worker publishes it: wait until it has
    ws = await open_socket(api, room_path(course["id"]), as_="student", query={"since": "0"})
    replayed = [await next_frame(ws) for _ in range(3)]  # two enrollments, then joined
    enrollment = await make.enroll(course["id"], as_="admin")

    live = await next_frame(ws, "enrollment")
    assert [f["type"] for f in replayed] == ["enrollment", "enrollment", "joined"]
    assert live["data"] == {"course_id": course["id"], "enrollment_id": enrollment["id"]}
    assert not any("student-2" in str(f) or "admin-1" in str(f) for f in [*replayed, live])
    reply = await api.get(f"/api/lms/courses/enrollments/{enrollment['id']}/", as_="student")
    assert reply.status == 404
    await ws.close()


async def test_seq_increases_by_one_per_event(api, course):
    ws = await open_socket(api, room_path(course["id"]), as_="student")
    await joined(ws)

    for title in ("One", "Two", "Three"):
        await api.patch(f"{COURSES}{course['id']}/", {"title": title}, as_="instructor")
    seqs = [(await next_frame(ws, "course_updated"))["seq"] for _ in range(3)]

    assert seqs == [seqs[0], seqs[0] + 1, seqs[0] + 2]
    await ws.close()


async def test_a_student_not_enrolled_is_refused_with_4403(api, course):
    ws = await open_socket(api, room_path(course["id"]), as_="student2")

    assert await closed_with(ws) == 4403


async def test_an_admin_may_listen_without_enrolling(api, course):
    ws = await open_socket(api, room_path(course["id"]), as_="admin")

    assert (await joined(ws))["data"]["seq"] >= 0
    await ws.close()


async def test_no_token_is_refused_with_4401(api, course):
    ws = await open_socket(api, room_path(course["id"]))

    assert await closed_with(ws) == 4401


async def test_a_forged_token_is_refused_with_4401(api, course):
    forged = token_for("student-1", "student") + "x"

    ws = await open_socket(api, room_path(course["id"]), token=forged)

    assert await closed_with(ws) == 4401


async def test_the_token_may_come_in_the_authorization_header(api, course):
    headers = {"Authorization": f"Bearer {api.tokens['student']}"}

    ws = await open_socket(api, room_path(course["id"]), headers=headers)

    assert (await joined(ws))["type"] == "joined"
    await ws.close()


async def test_the_query_is_read_as_sent_encoded_and_its_first_token_counts(api, course):
    token = api.tokens["student"]
    path = f"{room_path(course['id'])}?token={quote(token, safe='')}&since=%30&token=forged"

    ws = await api.client.ws_connect(path)

    assert (await joined(ws))["type"] == "joined"
    await ws.close()


async def test_an_unknown_course_is_refused_with_4404(api):
    ws = await open_socket(api, room_path(999_999), as_="admin")

    assert await closed_with(ws) == 4404


async def test_an_unpublished_course_of_someone_else_is_4404(api, make):
    draft = await make.course(status="Draft")

    ws = await open_socket(api, room_path(draft["id"]), as_="student")

    assert await closed_with(ws) == 4404


async def test_another_tenants_course_is_4404(api, course):
    ws = await open_socket(api, room_path(course["id"]), as_="b_admin")

    assert await closed_with(ws) == 4404


async def test_an_id_of_thousands_of_digits_is_4404(api):
    ws = await open_socket(api, f"/ws/lms/course/{'9' * 5000}/notifications/", as_="admin")

    assert await closed_with(ws) == 4404


async def test_an_id_past_the_integer_range_is_4404(api):
    ws = await open_socket(api, room_path(2**31), as_="admin")

    assert await closed_with(ws) == 4404


async def test_a_foreign_origin_is_refused_before_the_upgrade(api, course):
    with pytest.raises(Exception) as refused:
        await open_socket(
            api, room_path(course["id"]), as_="student", headers={"Origin": "https://evil.test"}
        )

    assert getattr(refused.value, "status", None) == 403


async def test_an_allowed_origin_is_let_in(api, course):
    ws = await open_socket(
        api, room_path(course["id"]), as_="student", headers={"Origin": "http://localhost:9090"}
    )

    assert (await joined(ws))["type"] == "joined"
    await ws.close()


async def test_a_plain_get_without_upgrade_is_a_400_in_the_contract_shape(api, course):
    reply = await api.get(room_path(course["id"]), as_="student")

    assert reply.status == 400
    assert reply.body["status"] == 400


async def test_ping_is_answered_with_pong(api, course):
    ws = await open_socket(api, room_path(course["id"]), as_="student")
    await joined(ws)

    await ws.send_json({"type": "ping"})

    assert (await next_frame(ws))["type"] == "pong"
    await ws.close()


@pytest.mark.parametrize(
    ("raw", "detail_part"),
    [
        ("not json", "JSON"),
        ("[1, 2]", "type"),
        ('{"type": "dance"}', "type"),
        ('{"type": "post", "content": "hello"}', "not taken"),
    ],
)
async def test_a_bad_frame_gets_an_error_frame_and_the_socket_stays(api, course, raw, detail_part):
    ws = await open_socket(api, room_path(course["id"]), as_="student")
    await joined(ws)

    await ws.send_str(raw)
    error = await next_frame(ws)
    await ws.send_json({"type": "ping"})

    assert error["type"] == "error"
    assert error["code"] == 400
    assert detail_part in error["detail"]
    assert (await next_frame(ws))["type"] == "pong"
    await ws.close()
