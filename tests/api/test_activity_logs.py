"""Activity logs: what users do, written with the change they record; users see their own,
admins all."""

import pytest

from tests.matchers import ID, TIMESTAMP, person

LOGS = "/api/lms/activitylog/logs/"


async def activities(api, as_, query=""):
    await api.settled()
    reply = await api.get(LOGS + query, as_=as_)
    assert reply.status == 200, reply.body
    return reply.body


async def test_creating_a_course_records_course_created_for_its_author(api, make):
    course = await make.course(title="Python Basics")

    body = await activities(api, "instructor")

    assert body["count"] == 1
    assert body["results"][0] == {
        "id": ID,
        "activity_type": "course_created",
        "details": "Created course 'Python Basics'.",
        "timestamp": TIMESTAMP,
        "status": "success",
        "user_id": "instructor-1",
        "user": person("instructor-1"),
        "object_type": "course",
        "object_id": course["id"],
    }


async def test_a_student_sees_only_their_own_activity(api, make):
    course = await make.course()
    await make.enroll(course["id"], as_="student")
    await make.enroll(course["id"], as_="student2")

    mine = await activities(api, "student")

    assert [(r["activity_type"], r["user_id"]) for r in mine["results"]] == [
        ("course_enrolled", "student-1")
    ]


async def test_an_admin_sees_everyones_activity_and_filters_by_user(api, make):
    course = await make.course()
    await make.enroll(course["id"], as_="student")

    everyone = await activities(api, "admin")
    one = await activities(api, "admin", "?user_id=student-1")

    assert {r["activity_type"] for r in everyone["results"]} == {
        "course_created",
        "course_enrolled",
    }
    assert [r["user_id"] for r in one["results"]] == ["student-1"]


async def test_activity_type_filter_is_the_seeds_query(api, make):
    course = await make.course()
    await make.enroll(course["id"], as_="student")

    body = await activities(api, "admin", "?activity_type=course_enrolled")

    assert [r["activity_type"] for r in body["results"]] == ["course_enrolled"]


async def test_a_date_range_in_the_future_holds_nothing(api, make):
    await make.course()

    body = await activities(api, "admin", "?start=2999-01-01T00:00:00Z")

    assert body["count"] == 0


async def test_a_malformed_date_is_a_400_on_that_filter(api):
    reply = await api.get(LOGS + "?start=yesterday", as_="admin")

    assert (reply.status, list(reply.body)) == (400, ["start", "status"])


@pytest.mark.parametrize("value", ["0.5", "1700000000"])
async def test_a_number_is_no_date_on_the_start_filter(api, value):
    reply = await api.get(LOGS + f"?start={value}", as_="admin")

    assert (reply.status, reply.body) == (
        400,
        {
            "start": ["Datetime has wrong format. Use ISO 8601, e.g. 2025-11-20T10:00:00Z."],
            "status": 400,
        },
    )


async def test_completing_every_lesson_records_lesson_and_course_completion(api, make):
    course = await make.course()
    module = await make.module(course["id"])
    lesson = await make.lesson(module["id"])
    await make.enroll(course["id"])
    await api.post(f"/api/lms/courses/lessons/{lesson['id']}/complete/", as_="student")

    body = await activities(api, "student")

    assert [r["activity_type"] for r in body["results"]][:2] == [
        "course_completed",
        "lesson_completed",
    ] or {r["activity_type"] for r in body["results"]} >= {"course_completed", "lesson_completed"}


async def test_rating_records_course_rated(api, make):
    course = await make.course()
    await make.enroll(course["id"])
    await api.post(f"/api/lms/courses/ratings/course/{course['id']}/", {"rating": 5}, as_="student")

    body = await activities(api, "student", "?activity_type=course_rated")

    assert body["results"][0]["details"].endswith("5/5.")


async def test_a_refused_operation_records_nothing(api, make):
    paid = await make.course(price="10.00")
    refused = await api.post(f"/api/lms/courses/enrollments/course/{paid['id']}/", as_="student")
    assert refused.status == 402

    body = await activities(api, "student")

    assert body["count"] == 0


async def test_another_tenants_admin_sees_none_of_it(api, make):
    await make.course()

    body = await activities(api, "b_admin")

    assert body["count"] == 0


async def test_an_activity_of_someone_else_is_404_by_id(api, make):
    await make.course()
    mine = await activities(api, "instructor")

    reply = await api.get(f"{LOGS}{mine['results'][0]['id']}/", as_="student")

    assert reply.status == 404
