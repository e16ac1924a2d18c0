"""Enrollments and lesson progress ("Enroll in Course"; who may enroll whom)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.matchers import FORBIDDEN, ID, NOT_FOUND, TIMESTAMP, person

ENROLLMENTS = "/api/lms/courses/enrollments/"
LESSONS = "/api/lms/courses/lessons/"
MODULES = "/api/lms/courses/modules/"

PAYMENT_REQUIRED = {"detail": "Payment required.", "status": 402}
NOT_ENROLLED = {
    "detail": "You must be enrolled in this course to complete its lessons.",
    "status": 403,
}


def enroll_url(course_id: int) -> str:
    return f"{ENROLLMENTS}course/{course_id}/"


def complete_url(lesson_id: int) -> str:
    return f"{LESSONS}{lesson_id}/complete/"


def fresh_enrollment(user: str, course_id: int) -> dict[str, Any]:
    return {
        "id": ID,
        "user": user,
        "user_person": person(user),
        "course": course_id,
        "enrolled_at": TIMESTAMP,
        "is_active": True,
        "progress": 0.0,
        "completed_at": None,
        "completed_lesson_ids": [],
        "last_lesson_id": None,
    }


def pairs(page: dict[str, Any]) -> list[tuple[str, int]]:
    return sorted((row["user"], row["course"]) for row in page["results"])


@pytest.fixture
async def free_course(make: Any) -> dict[str, Any]:
    return await make.course(price="0.00")


@pytest.fixture
async def paid_course(make: Any) -> dict[str, Any]:
    return await make.course(price="49.00")


# Enrolling


async def test_free_course_enrolls_at_once_with_the_seed_fields(api, free_course):
    reply = await api.post(enroll_url(free_course["id"]), as_="student")

    assert reply.status == 201
    assert reply.body == fresh_enrollment("student-1", free_course["id"])


async def test_enrolling_with_an_empty_json_body_works_too(api, free_course):
    reply = await api.post(enroll_url(free_course["id"]), {}, as_="student")

    assert (reply.status, reply.body["user"]) == (201, "student-1")


async def test_enrolling_twice_returns_the_same_enrollment_with_200(api, free_course):
    first = await api.post(enroll_url(free_course["id"]), as_="student")

    second = await api.post(enroll_url(free_course["id"]), as_="student")

    assert (second.status, second.body) == (200, first.body)
    listing = await api.get(ENROLLMENTS, as_="student")
    assert listing.body["count"] == 1


async def test_paid_course_answers_402_payment_required(api, paid_course):
    reply = await api.post(enroll_url(paid_course["id"]), as_="student")

    assert (reply.status, reply.body) == (402, PAYMENT_REQUIRED)


async def test_paid_course_402_creates_no_enrollment(api, paid_course):
    await api.post(enroll_url(paid_course["id"]), as_="student")

    reply = await api.get(f"{ENROLLMENTS}?course={paid_course['id']}", as_="admin")

    assert (reply.status, reply.body["count"], reply.body["results"]) == (200, 0, [])


async def test_course_discounted_to_zero_is_free(api, make):
    course = await make.course(price="49.00", discount_price="0.00")

    reply = await api.post(enroll_url(course["id"]), as_="student")

    assert reply.status == 201


async def test_course_discounted_but_not_free_still_needs_payment(api, make):
    course = await make.course(price="49.00", discount_price="9.99")

    reply = await api.post(enroll_url(course["id"]), as_="student")

    assert (reply.status, reply.body) == (402, PAYMENT_REQUIRED)


async def test_admin_enrolls_a_user_into_a_paid_course(api, paid_course):
    reply = await api.post(enroll_url(paid_course["id"]), {"user_id": "student-1"}, as_="admin")

    assert reply.status == 201
    assert reply.body == fresh_enrollment("student-1", paid_course["id"])


async def test_user_enrolled_by_an_admin_sees_the_enrollment_in_their_list(api, paid_course):
    created = await api.post(enroll_url(paid_course["id"]), {"user_id": "student-1"}, as_="admin")

    reply = await api.get(ENROLLMENTS, as_="student")

    assert reply.status == 200
    assert reply.body == {"count": 1, "next": None, "previous": None, "results": [created.body]}


async def test_admin_enrolling_an_already_enrolled_user_returns_the_enrollment_with_200(
    api, free_course
):
    mine = await api.post(enroll_url(free_course["id"]), as_="student")

    reply = await api.post(enroll_url(free_course["id"]), {"user_id": "student-1"}, as_="admin")

    assert (reply.status, reply.body) == (200, mine.body)


async def test_student_naming_another_user_id_is_forbidden(api, free_course):
    reply = await api.post(enroll_url(free_course["id"]), {"user_id": "student-2"}, as_="student")

    assert (reply.status, reply.body) == (403, FORBIDDEN)
    listing = await api.get(f"{ENROLLMENTS}?course={free_course['id']}", as_="admin")
    assert listing.body["count"] == 0


async def test_student_naming_their_own_user_id_enrolls_themselves(api, free_course):
    reply = await api.post(enroll_url(free_course["id"]), {"user_id": "student-1"}, as_="student")

    assert (reply.status, reply.body["user"]) == (201, "student-1")


async def test_blank_user_id_is_a_400_on_user_id(api, free_course):
    reply = await api.post(enroll_url(free_course["id"]), {"user_id": ""}, as_="admin")

    assert (reply.status, reply.body) == (
        400,
        {"user_id": ["This field may not be blank."], "status": 400},
    )


async def test_enrolling_in_an_unknown_course_is_not_found(api):
    reply = await api.post(enroll_url(999999), as_="student")

    assert (reply.status, reply.body) == (404, NOT_FOUND)


async def test_enrolling_in_a_draft_course_is_not_found(api, make):
    draft = await make.course(status="Draft")

    reply = await api.post(enroll_url(draft["id"]), as_="student")

    assert (reply.status, reply.body) == (404, NOT_FOUND)


async def test_enrolling_without_a_token_is_401(api, free_course):
    reply = await api.post(enroll_url(free_course["id"]))

    assert (reply.status, reply.body) == (
        401,
        {"detail": "Authentication credentials were not provided.", "status": 401},
    )


async def test_course_of_another_tenant_is_not_found(api, make):
    foreign = await make.course(as_="b_instructor")

    reply = await api.post(enroll_url(foreign["id"]), as_="student")

    assert (reply.status, reply.body) == (404, NOT_FOUND)


# Listing and retrieving


async def test_student_lists_only_their_own_enrollments(api, make, free_course):
    mine = await make.enroll(free_course["id"], as_="student")
    await make.enroll(free_course["id"], as_="student2")

    reply = await api.get(ENROLLMENTS, as_="student")

    assert reply.body == {"count": 1, "next": None, "previous": None, "results": [mine]}


async def test_admin_lists_every_enrollment(api, make):
    first, second = await make.course(), await make.course()
    await make.enroll(first["id"], as_="student")
    await make.enroll(second["id"], as_="student2")

    reply = await api.get(ENROLLMENTS, as_="admin")

    assert pairs(reply.body) == [("student-1", first["id"]), ("student-2", second["id"])]


async def test_admin_filters_enrollments_by_course(api, make):
    first, second = await make.course(), await make.course()
    await make.enroll(first["id"], as_="student")
    await make.enroll(second["id"], as_="student")
    await make.enroll(second["id"], as_="student2")

    reply = await api.get(f"{ENROLLMENTS}?course={second['id']}", as_="admin")

    assert pairs(reply.body) == [("student-1", second["id"]), ("student-2", second["id"])]


async def test_admin_filters_enrollments_by_user_id(api, make, free_course):
    await make.enroll(free_course["id"], as_="student")
    theirs = await make.enroll(free_course["id"], as_="student2")

    reply = await api.get(f"{ENROLLMENTS}?user_id=student-2", as_="admin")

    assert reply.body["results"] == [theirs]


async def test_enrollments_filter_by_is_active(api, make):
    kept, left = await make.course(), await make.course()
    await make.enroll(kept["id"])
    gone = await make.enroll(left["id"])
    await api.delete(f"{ENROLLMENTS}{gone['id']}/", as_="student")

    active = await api.get(f"{ENROLLMENTS}?is_active=true", as_="student")
    inactive = await api.get(f"{ENROLLMENTS}?is_active=false", as_="student")

    assert [row["course"] for row in active.body["results"]] == [kept["id"]]
    assert [row["course"] for row in inactive.body["results"]] == [left["id"]]


async def test_student_filtering_by_another_user_id_sees_nothing(api, make, free_course):
    await make.enroll(free_course["id"], as_="student2")

    reply = await api.get(f"{ENROLLMENTS}?user_id=student-2", as_="student")

    assert (reply.status, reply.body["count"]) == (200, 0)


async def test_instructor_lists_enrollments_of_the_courses_they_teach(api, make):
    taught = await make.course(as_="instructor")
    other = await make.course(as_="instructor2")
    await make.enroll(taught["id"], as_="student")
    await make.enroll(other["id"], as_="student2")

    reply = await api.get(ENROLLMENTS, as_="instructor")

    assert pairs(reply.body) == [("student-1", taught["id"])]


async def test_student_retrieves_their_own_enrollment(api, make, free_course):
    mine = await make.enroll(free_course["id"])

    reply = await api.get(f"{ENROLLMENTS}{mine['id']}/", as_="student")

    assert (reply.status, reply.body) == (200, mine)


async def test_someone_elses_enrollment_is_not_found_for_a_student(api, make, free_course):
    theirs = await make.enroll(free_course["id"], as_="student2")

    reply = await api.get(f"{ENROLLMENTS}{theirs['id']}/", as_="student")

    assert (reply.status, reply.body) == (404, NOT_FOUND)


async def test_unknown_enrollment_is_not_found(api):
    reply = await api.get(f"{ENROLLMENTS}999999/", as_="admin")

    assert (reply.status, reply.body) == (404, NOT_FOUND)


# Leaving and coming back


async def test_deleting_an_enrollment_deactivates_it(api, make, free_course):
    mine = await make.enroll(free_course["id"])

    reply = await api.delete(f"{ENROLLMENTS}{mine['id']}/", as_="student")

    assert (reply.status, reply.body) == (204, None)
    after = await api.get(f"{ENROLLMENTS}{mine['id']}/", as_="student")
    assert (after.status, after.body) == (200, {**mine, "is_active": False})


async def test_re_enrolling_in_a_free_course_reactivates_the_same_enrollment(
    api, make, free_course
):
    mine = await make.enroll(free_course["id"])
    await api.delete(f"{ENROLLMENTS}{mine['id']}/", as_="student")

    reply = await api.post(enroll_url(free_course["id"]), as_="student")

    assert (reply.status, reply.body) == (200, mine)


async def test_re_enrolling_keeps_the_progress_made_before_leaving(api, make, free_course):
    module = await make.module(free_course["id"])
    first = await make.lesson(module["id"])
    await make.lesson(module["id"])
    mine = await make.enroll(free_course["id"])
    await api.post(complete_url(first["id"]), as_="student")
    await api.delete(f"{ENROLLMENTS}{mine['id']}/", as_="student")

    reply = await api.post(enroll_url(free_course["id"]), as_="student")

    assert (reply.body["is_active"], reply.body["progress"]) == (True, 50.0)


async def test_deleting_someone_elses_enrollment_is_not_found_for_a_student(api, make, free_course):
    theirs = await make.enroll(free_course["id"], as_="student2")

    reply = await api.delete(f"{ENROLLMENTS}{theirs['id']}/", as_="student")

    assert (reply.status, reply.body) == (404, NOT_FOUND)
    still = await api.get(f"{ENROLLMENTS}{theirs['id']}/", as_="student2")
    assert still.body["is_active"] is True


async def test_courses_instructor_cannot_deactivate_an_enrollment_they_can_see(
    api, make, free_course
):
    theirs = await make.enroll(free_course["id"], as_="student")

    reply = await api.delete(f"{ENROLLMENTS}{theirs['id']}/", as_="instructor")

    assert (reply.status, reply.body) == (403, FORBIDDEN)
    still = await api.get(f"{ENROLLMENTS}{theirs['id']}/", as_="instructor")
    assert still.body["is_active"] is True


async def test_admin_deactivates_any_enrollment(api, make, free_course):
    theirs = await make.enroll(free_course["id"], as_="student")

    reply = await api.patch(f"{ENROLLMENTS}{theirs['id']}/", {"is_active": False}, as_="admin")

    assert (reply.status, reply.body) == (200, {**theirs, "is_active": False})


async def test_student_cannot_reactivate_an_enrollment_by_patch(api, make, paid_course):
    granted = (
        await api.post(enroll_url(paid_course["id"]), {"user_id": "student-1"}, as_="admin")
    ).body
    await api.delete(f"{ENROLLMENTS}{granted['id']}/", as_="student")

    reply = await api.patch(f"{ENROLLMENTS}{granted['id']}/", {"is_active": True}, as_="student")

    assert (reply.status, reply.body) == (403, FORBIDDEN)


async def test_patching_an_enrollment_with_a_non_boolean_is_a_400(api, make, free_course):
    mine = await make.enroll(free_course["id"])

    reply = await api.patch(f"{ENROLLMENTS}{mine['id']}/", {"is_active": "maybe"}, as_="admin")

    assert (reply.status, reply.body) == (
        400,
        {"is_active": ["Must be a valid boolean."], "status": 400},
    )


# Progress


@pytest.fixture
async def two_lessons(make: Any, free_course: dict[str, Any]) -> list[dict[str, Any]]:
    module = await make.module(free_course["id"])
    return [await make.lesson(module["id"]), await make.lesson(module["id"])]


async def test_completing_one_of_two_lessons_is_50_percent(api, make, free_course, two_lessons):
    mine = await make.enroll(free_course["id"])
    lesson = two_lessons[0]

    reply = await api.post(complete_url(lesson["id"]), as_="student")

    assert (reply.status, reply.body) == (
        200,
        {**mine, "progress": 50.0, "completed_at": None, "completed_lesson_ids": [lesson["id"]]},
    )


async def test_completing_every_lesson_is_100_percent_and_sets_completed_at(
    api, make, free_course, two_lessons
):
    mine = await make.enroll(free_course["id"])
    await api.post(complete_url(two_lessons[0]["id"]), as_="student")

    reply = await api.post(complete_url(two_lessons[1]["id"]), as_="student")

    assert (reply.status, reply.body) == (
        200,
        {
            **mine,
            "progress": 100.0,
            "completed_at": TIMESTAMP,
            "completed_lesson_ids": sorted(lesson["id"] for lesson in two_lessons),
        },
    )


async def test_completing_a_lesson_twice_changes_nothing(api, make, free_course, two_lessons):
    await make.enroll(free_course["id"])
    first = await api.post(complete_url(two_lessons[0]["id"]), as_="student")

    again = await api.post(complete_url(two_lessons[0]["id"]), as_="student")

    assert (again.status, again.body) == (200, first.body)
    assert again.body["progress"] == 50.0


async def test_completed_at_does_not_move_when_a_finished_lesson_is_completed_again(
    api, make, free_course, two_lessons
):
    await make.enroll(free_course["id"])
    await api.post(complete_url(two_lessons[0]["id"]), as_="student")
    done = await api.post(complete_url(two_lessons[1]["id"]), as_="student")

    again = await api.post(complete_url(two_lessons[1]["id"]), as_="student")

    assert again.body["completed_at"] == done.body["completed_at"]


async def test_progress_shows_in_the_enrollment_list(api, make, free_course, two_lessons):
    await make.enroll(free_course["id"])
    await api.post(complete_url(two_lessons[0]["id"]), as_="student")

    reply = await api.get(ENROLLMENTS, as_="student")

    assert [row["progress"] for row in reply.body["results"]] == [50.0]


async def test_one_students_progress_does_not_move_anothers(api, make, free_course, two_lessons):
    await make.enroll(free_course["id"], as_="student")
    theirs = await make.enroll(free_course["id"], as_="student2")
    await api.post(complete_url(two_lessons[0]["id"]), as_="student")

    reply = await api.get(f"{ENROLLMENTS}{theirs['id']}/", as_="student2")

    assert reply.body["progress"] == 0.0


async def test_deleting_a_lesson_raises_progress(api, make, free_course, two_lessons):
    mine = await make.enroll(free_course["id"])
    await api.post(complete_url(two_lessons[0]["id"]), as_="student")

    await api.delete(f"{LESSONS}{two_lessons[1]['id']}/", as_="instructor")

    reply = await api.get(f"{ENROLLMENTS}{mine['id']}/", as_="student")
    assert reply.body == {
        **mine,
        "progress": 100.0,
        "completed_at": TIMESTAMP,
        "completed_lesson_ids": [two_lessons[0]["id"]],
    }


async def test_deleting_a_completed_lesson_lowers_progress(api, make, free_course, two_lessons):
    third = await make.lesson(two_lessons[0]["module"])
    mine = await make.enroll(free_course["id"])
    await api.post(complete_url(two_lessons[0]["id"]), as_="student")
    await api.post(complete_url(third["id"]), as_="student")

    await api.delete(f"{LESSONS}{third['id']}/", as_="instructor")

    reply = await api.get(f"{ENROLLMENTS}{mine['id']}/", as_="student")
    assert reply.body["progress"] == 50.0


async def test_deleting_a_module_recomputes_progress(api, make, free_course, two_lessons):
    other_module = await make.module(free_course["id"])
    await make.lesson(other_module["id"])
    await make.lesson(other_module["id"])
    mine = await make.enroll(free_course["id"])
    for lesson in two_lessons:
        await api.post(complete_url(lesson["id"]), as_="student")

    await api.delete(f"{MODULES}{other_module['id']}/", as_="instructor")

    reply = await api.get(f"{ENROLLMENTS}{mine['id']}/", as_="student")
    assert (reply.body["progress"], reply.body["completed_at"]) == (100.0, TIMESTAMP)


async def test_a_recreated_lesson_does_not_inherit_old_completions(
    api, make, free_course, two_lessons
):
    mine = await make.enroll(free_course["id"])
    await api.post(complete_url(two_lessons[1]["id"]), as_="student")
    await api.delete(f"{LESSONS}{two_lessons[1]['id']}/", as_="instructor")

    await make.lesson(two_lessons[0]["module"])

    reply = await api.get(f"{ENROLLMENTS}{mine['id']}/", as_="student")
    assert reply.body["progress"] == 0.0


async def test_student_not_enrolled_cannot_complete_a_lesson(api, two_lessons):
    reply = await api.post(complete_url(two_lessons[0]["id"]), as_="student")

    assert (reply.status, reply.body) == (403, NOT_ENROLLED)


async def test_student_who_left_cannot_complete_a_lesson(api, make, free_course, two_lessons):
    mine = await make.enroll(free_course["id"])
    await api.delete(f"{ENROLLMENTS}{mine['id']}/", as_="student")

    reply = await api.post(complete_url(two_lessons[0]["id"]), as_="student")

    assert (reply.status, reply.body) == (403, NOT_ENROLLED)


async def test_completing_an_unknown_lesson_is_not_found(api):
    reply = await api.post(complete_url(999999), as_="student")

    assert (reply.status, reply.body) == (404, NOT_FOUND)


# Ids no INTEGER column can hold (PostgreSQL refuses to even compare them)

BEYOND_INT32 = 2**31


async def test_enrollment_id_beyond_the_integer_range_is_not_found(api):
    reply = await api.get(f"{ENROLLMENTS}{BEYOND_INT32}/", as_="admin")

    assert (reply.status, reply.body) == (404, NOT_FOUND)


async def test_enrollment_filter_by_a_course_id_beyond_the_integer_range_is_a_400(
    api, make, free_course
):
    await make.enroll(free_course["id"])

    reply = await api.get(f"{ENROLLMENTS}?course={BEYOND_INT32}", as_="admin")

    assert (reply.status, list(reply.body)) == (400, ["course", "status"])


async def test_enrolling_in_a_course_id_beyond_the_integer_range_is_not_found(api):
    reply = await api.post(enroll_url(BEYOND_INT32), as_="student")

    assert (reply.status, reply.body) == (404, NOT_FOUND)


async def test_completing_a_lesson_id_beyond_the_integer_range_is_not_found(api):
    reply = await api.post(complete_url(BEYOND_INT32), as_="student")

    assert (reply.status, reply.body) == (404, NOT_FOUND)


async def test_an_enrollee_no_longer_sees_a_course_that_is_unpublished(api, make):
    course = await make.course()
    await make.enroll(course["id"])
    patched = await api.patch(
        f"/api/lms/courses/courses/{course['id']}/", {"status": "Archived"}, as_="instructor"
    )
    assert patched.status == 200

    reply = await api.get(f"/api/lms/courses/courses/{course['id']}/", as_="student")

    assert (reply.status, reply.body) == (404, {"detail": "Not found.", "status": 404})


async def test_an_empty_patch_of_my_enrollment_changes_nothing(api, make):
    course = await make.course()
    enrollment = await make.enroll(course["id"])

    reply = await api.patch(f"/api/lms/courses/enrollments/{enrollment['id']}/", {}, as_="student")

    assert (reply.status, reply.body["is_active"]) == (200, True)


async def test_put_of_an_enrollment_requires_is_active(api, make):
    course = await make.course()
    enrollment = await make.enroll(course["id"])

    reply = await api.put(f"/api/lms/courses/enrollments/{enrollment['id']}/", {}, as_="student")

    assert reply.body == {"is_active": ["This field is required."], "status": 400}
