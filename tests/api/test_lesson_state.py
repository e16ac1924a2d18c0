"""Each learner's lesson state: which lessons they completed (on lessons and enrollments),
where they resume (`lessons/{id}/view/`), and completion kept when lessons are added."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.matchers import NOT_FOUND, TIMESTAMP

ENROLLMENTS = "/api/lms/courses/enrollments/"
LESSONS = "/api/lms/courses/lessons/"


def complete_url(lesson_id: int) -> str:
    return f"{LESSONS}{lesson_id}/complete/"


def view_url(lesson_id: int | str) -> str:
    return f"{LESSONS}{lesson_id}/view/"


def states(page: dict[str, Any]) -> dict[int, tuple[bool, bool]]:
    """Lesson id -> (completed, has a completed_at)."""
    return {
        row["id"]: (row["completed"], row["completed_at"] is not None) for row in page["results"]
    }


@pytest.fixture
async def course(make: Any) -> dict[str, Any]:
    return await make.course(price="0.00")


@pytest.fixture
async def lessons(make: Any, course: dict[str, Any]) -> list[dict[str, Any]]:
    module = await make.module(course["id"])
    return [await make.lesson(module["id"]) for _ in range(3)]


async def test_each_student_sees_their_own_completed_lessons_in_the_lesson_list(
    api, make, course, lessons
):
    await make.enroll(course["id"], as_="student")
    await make.enroll(course["id"], as_="student2")
    await api.post(complete_url(lessons[0]["id"]), as_="student")
    await api.post(complete_url(lessons[1]["id"]), as_="student2")

    mine = await api.get(f"{LESSONS}?course={course['id']}", as_="student")
    theirs = await api.get(f"{LESSONS}?course={course['id']}", as_="student2")

    first, second, third = (lesson["id"] for lesson in lessons)
    assert states(mine.body) == {first: (True, True), second: (False, False), third: (False, False)}
    assert states(theirs.body) == {
        first: (False, False),
        second: (True, True),
        third: (False, False),
    }


async def test_a_lesson_detail_carries_when_the_caller_completed_it(api, make, course, lessons):
    await make.enroll(course["id"])
    await api.post(complete_url(lessons[0]["id"]), as_="student")

    done = await api.get(f"{LESSONS}{lessons[0]['id']}/", as_="student")
    not_done = await api.get(f"{LESSONS}{lessons[1]['id']}/", as_="student")

    assert (done.body["completed"], done.body["completed_at"]) == (True, TIMESTAMP)
    assert (not_done.body["completed"], not_done.body["completed_at"]) == (False, None)


async def test_a_lesson_is_not_completed_for_whoever_is_not_enrolled(api, make, course, lessons):
    await make.enroll(course["id"], as_="student")
    await api.post(complete_url(lessons[0]["id"]), as_="student")

    listed = await api.get(f"{LESSONS}?course={course['id']}", as_="instructor")
    detail = await api.get(f"{LESSONS}{lessons[0]['id']}/", as_="student2")

    assert set(states(listed.body).values()) == {(False, False)}
    assert (detail.body["completed"], detail.body["completed_at"]) == (False, None)


async def test_the_list_keeps_content_for_enrollees_only_beside_their_completion(
    api, make, course, lessons
):
    await make.enroll(course["id"], as_="student")

    enrolled = await api.get(f"{LESSONS}?course={course['id']}", as_="student")
    outsider = await api.get(f"{LESSONS}?course={course['id']}", as_="student2")

    assert {row["content"] for row in enrolled.body["results"]} == {"secret text"}
    assert {row["content"] for row in outsider.body["results"]} == {None}


async def test_the_enrollment_carries_the_ids_of_the_lessons_completed(api, make, course, lessons):
    mine = await make.enroll(course["id"])
    await api.post(complete_url(lessons[2]["id"]), as_="student")
    await api.post(complete_url(lessons[0]["id"]), as_="student")

    detail = await api.get(f"{ENROLLMENTS}{mine['id']}/", as_="student")
    listed = await api.get(f"{ENROLLMENTS}?course={course['id']}", as_="student")

    expected = sorted([lessons[0]["id"], lessons[2]["id"]])
    assert detail.body["completed_lesson_ids"] == expected
    assert [row["completed_lesson_ids"] for row in listed.body["results"]] == [expected]


async def test_a_deleted_lesson_leaves_the_completed_lesson_ids(api, make, course, lessons):
    mine = await make.enroll(course["id"])
    for lesson in lessons[:2]:
        await api.post(complete_url(lesson["id"]), as_="student")

    await api.delete(f"{LESSONS}{lessons[0]['id']}/", as_="instructor")

    reply = await api.get(f"{ENROLLMENTS}{mine['id']}/", as_="student")
    assert (reply.body["completed_lesson_ids"], reply.body["progress"]) == (
        [lessons[1]["id"]],
        50.0,
    )


async def test_viewing_a_lesson_makes_it_the_enrollments_resume_point(api, make, course, lessons):
    mine = await make.enroll(course["id"])
    await api.post(view_url(lessons[0]["id"]), as_="student")

    reply = await api.post(view_url(lessons[1]["id"]), as_="student")

    assert (reply.status, reply.body) == (200, {**mine, "last_lesson_id": lessons[1]["id"]})
    stored = await api.get(f"{ENROLLMENTS}{mine['id']}/", as_="student")
    assert stored.body["last_lesson_id"] == lessons[1]["id"]


async def test_viewing_a_lesson_leaves_another_learners_resume_point(api, make, course, lessons):
    await make.enroll(course["id"], as_="student")
    theirs = await make.enroll(course["id"], as_="student2")

    await api.post(view_url(lessons[0]["id"]), as_="student")

    reply = await api.get(f"{ENROLLMENTS}{theirs['id']}/", as_="student2")
    assert reply.body["last_lesson_id"] is None


async def test_viewing_a_lesson_of_a_course_not_enrolled_in_is_not_found(
    api, make, course, lessons
):
    reply = await api.post(view_url(lessons[0]["id"]), as_="student")

    assert (reply.status, reply.body) == (404, NOT_FOUND)


async def test_viewing_a_lesson_of_ones_own_course_without_an_enrollment_is_not_found(
    api, make, course, lessons
):
    reply = await api.post(view_url(lessons[0]["id"]), as_="instructor")

    assert (reply.status, reply.body) == (404, NOT_FOUND)


async def test_viewing_a_lesson_after_leaving_the_course_is_not_found(api, make, course, lessons):
    mine = await make.enroll(course["id"])
    await api.delete(f"{ENROLLMENTS}{mine['id']}/", as_="student")

    reply = await api.post(view_url(lessons[0]["id"]), as_="student")

    assert (reply.status, reply.body) == (404, NOT_FOUND)
    after = await api.get(f"{ENROLLMENTS}{mine['id']}/", as_="student")
    assert after.body["last_lesson_id"] is None


async def test_viewing_another_tenants_lesson_is_not_found(api, make):
    # The same user id is enrolled in the other tenant's course: it changes nothing here.
    theirs = await make.course(as_="b_instructor", price="0.00")
    module = await make.module(theirs["id"], as_="b_instructor")
    lesson = await make.lesson(module["id"], as_="b_instructor")
    enrolled = await make.enroll(theirs["id"], as_="b_student")

    reply = await api.post(view_url(lesson["id"]), as_="student")

    assert (reply.status, reply.body) == (404, NOT_FOUND)
    there = await api.get(f"{ENROLLMENTS}{enrolled['id']}/", as_="b_student")
    assert there.body["last_lesson_id"] is None


async def test_viewing_an_unknown_lesson_is_not_found(api):
    reply = await api.post(view_url(999_999_999), as_="student")

    assert (reply.status, reply.body) == (404, NOT_FOUND)


@pytest.mark.parametrize("bad_id", ["abc", "0", "-1", "9" * 40])
async def test_viewing_a_lesson_by_an_id_that_names_nothing_is_not_found(api, bad_id):
    reply = await api.post(view_url(bad_id), as_="student")

    assert (reply.status, reply.body) == (404, NOT_FOUND)


async def test_deleting_the_lesson_to_resume_clears_the_resume_point(api, make, course, lessons):
    mine = await make.enroll(course["id"])
    await api.post(view_url(lessons[0]["id"]), as_="student")

    await api.delete(f"{LESSONS}{lessons[0]['id']}/", as_="instructor")

    reply = await api.get(f"{ENROLLMENTS}{mine['id']}/", as_="student")
    assert reply.body["last_lesson_id"] is None


async def test_adding_a_lesson_keeps_completed_at_and_lowers_progress(api, make, course, lessons):
    mine = await make.enroll(course["id"])
    for lesson in lessons:
        done = await api.post(complete_url(lesson["id"]), as_="student")

    await make.lesson(lessons[0]["module"])

    reply = await api.get(f"{ENROLLMENTS}{mine['id']}/", as_="student")
    assert (reply.body["progress"], reply.body["completed_at"]) == (75.0, TIMESTAMP)
    assert reply.body["completed_at"] == done.body["completed_at"]


async def test_completing_the_added_lesson_keeps_the_first_completed_at(api, make, course, lessons):
    await make.enroll(course["id"])
    for lesson in lessons:
        done = await api.post(complete_url(lesson["id"]), as_="student")
    added = await make.lesson(lessons[0]["module"])

    reply = await api.post(complete_url(added["id"]), as_="student")

    assert (reply.body["progress"], reply.body["completed_at"]) == (
        100.0,
        done.body["completed_at"],
    )


async def test_lessons_added_to_one_course_at_once_all_succeed(api, make, course, lessons):
    # Each refreshes the progress of every enrollment of the course: without their rows
    # locked in one order, concurrent adds deadlocked on PostgreSQL (500s).
    enroll = f"/api/lms/courses/enrollments/course/{course['id']}/"
    for n in range(30):
        reply = await api.post(enroll, {"user_id": f"learner-{n}"}, as_="admin")
        assert reply.status == 201, reply.body
    module = lessons[0]["module"]
    bodies = [{"module": module, "title": f"At once {n}", "content": "x"} for n in range(40)]

    replies = await asyncio.gather(
        *(api.post("/api/lms/courses/lessons/", body, as_="instructor") for body in bodies)
    )

    assert [reply.status for reply in replies] == [201] * len(bodies)
