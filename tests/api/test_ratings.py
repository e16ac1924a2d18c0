"""Course ratings ("Rate Course": enrolled users rate, a second rating updates)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.matchers import FORBIDDEN, ID, NOT_FOUND, TIMESTAMP, person

COURSES = "/api/lms/courses/courses/"
ENROLLMENTS = "/api/lms/courses/enrollments/"
RATINGS = "/api/lms/courses/ratings/"

SEED_RATING = {"rating": 5, "review": "Excellent course! Very comprehensive and well-structured."}
ONLY_ENROLLED = {"detail": "Only enrolled users can rate this course.", "status": 403}


def rate_url(course_id: int) -> str:
    return f"{RATINGS}course/{course_id}/"


async def stats(api: Any, course_id: int) -> tuple[float, int]:
    reply = await api.get(f"{COURSES}{course_id}/", as_="student")
    assert reply.status == 200, reply.body
    return reply.body["average_rating"], reply.body["rating_count"]


@pytest.fixture
async def course(make: Any) -> dict[str, Any]:
    """A published free course that `student` and `student2` are enrolled in."""
    course = await make.course()
    await make.enroll(course["id"], as_="student")
    await make.enroll(course["id"], as_="student2")
    return course


@pytest.fixture
async def my_rating(api: Any, course: dict[str, Any]) -> dict[str, Any]:
    reply = await api.post(rate_url(course["id"]), {"rating": 4, "review": "Good"}, as_="student")
    assert reply.status == 201, reply.body
    return dict(reply.body)


# Rating


async def test_user_not_enrolled_cannot_rate(api, make):
    course = await make.course()

    reply = await api.post(rate_url(course["id"]), SEED_RATING, as_="student")

    assert (reply.status, reply.body) == (403, ONLY_ENROLLED)
    assert await stats(api, course["id"]) == (0.0, 0)


async def test_user_who_left_the_course_cannot_rate(api, make):
    course = await make.course()
    enrollment = await make.enroll(course["id"])
    await api.delete(f"{ENROLLMENTS}{enrollment['id']}/", as_="student")

    reply = await api.post(rate_url(course["id"]), SEED_RATING, as_="student")

    assert (reply.status, reply.body) == (403, ONLY_ENROLLED)


async def test_enrolled_user_rates_with_the_seed_body(api, course):
    reply = await api.post(rate_url(course["id"]), SEED_RATING, as_="student")

    assert reply.status == 201
    assert reply.body == {
        "id": ID,
        "user": "student-1",
        "user_person": person("student-1"),
        "course": course["id"],
        "rating": 5,
        "review": "Excellent course! Very comprehensive and well-structured.",
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
    }


async def test_review_is_optional(api, course):
    reply = await api.post(rate_url(course["id"]), {"rating": 3}, as_="student")

    assert (reply.status, reply.body["rating"], reply.body["review"]) == (201, 3, "")


async def test_second_post_updates_my_rating(api, course, my_rating):
    reply = await api.post(rate_url(course["id"]), {"rating": 2, "review": "Meh"}, as_="student")

    assert reply.status == 200
    assert reply.body == {
        **my_rating,
        "rating": 2,
        "review": "Meh",
        "updated_at": TIMESTAMP,
    }


async def test_second_post_leaves_a_single_rating(api, course, my_rating):
    await api.post(rate_url(course["id"]), {"rating": 2}, as_="student")

    reply = await api.get(f"{RATINGS}?course={course['id']}", as_="student")

    assert [(row["id"], row["rating"]) for row in reply.body["results"]] == [(my_rating["id"], 2)]
    assert await stats(api, course["id"]) == (2.0, 1)


async def test_course_shows_average_rating_and_rating_count(api, course):
    await api.post(rate_url(course["id"]), {"rating": 4}, as_="student")
    await api.post(rate_url(course["id"]), {"rating": 5}, as_="student2")

    assert await stats(api, course["id"]) == (4.5, 2)


async def test_course_average_is_rounded_to_two_places(api, make, course):
    await make.enroll(course["id"], as_="admin")
    for who, rating in (("student", 5), ("student2", 4), ("admin", 4)):
        await api.post(rate_url(course["id"]), {"rating": rating}, as_=who)

    assert await stats(api, course["id"]) == (4.33, 3)


async def test_unrated_course_has_zero_average_and_count(api, course):
    assert await stats(api, course["id"]) == (0.0, 0)


@pytest.mark.parametrize(
    ("rating", "message"),
    [
        (0, "Ensure this value is greater than or equal to 1."),
        (6, "Ensure this value is less than or equal to 5."),
    ],
)
async def test_rating_outside_one_to_five_is_a_400_on_rating(api, course, rating, message):
    reply = await api.post(rate_url(course["id"]), {"rating": rating}, as_="student")

    assert (reply.status, reply.body) == (400, {"rating": [message], "status": 400})
    assert await stats(api, course["id"]) == (0.0, 0)


@pytest.mark.parametrize("rating", ["five", 4.5])
async def test_rating_that_is_not_an_integer_is_a_400_on_rating(api, course, rating):
    reply = await api.post(rate_url(course["id"]), {"rating": rating}, as_="student")

    assert (reply.status, reply.body) == (
        400,
        {"rating": ["A valid integer is required."], "status": 400},
    )


async def test_null_rating_is_a_400_on_rating(api, course):
    reply = await api.post(rate_url(course["id"]), {"rating": None}, as_="student")

    assert (reply.status, reply.body) == (
        400,
        {"rating": ["This field may not be null."], "status": 400},
    )


async def test_rating_is_required(api, course):
    reply = await api.post(rate_url(course["id"]), {"review": "No stars"}, as_="student")

    assert (reply.status, reply.body) == (
        400,
        {"rating": ["This field is required."], "status": 400},
    )


async def test_rating_an_unknown_course_is_not_found(api):
    reply = await api.post(rate_url(999999), SEED_RATING, as_="student")

    assert (reply.status, reply.body) == (404, NOT_FOUND)


async def test_rating_a_draft_course_is_not_found(api, make):
    draft = await make.course(status="Draft")

    reply = await api.post(rate_url(draft["id"]), SEED_RATING, as_="student")

    assert (reply.status, reply.body) == (404, NOT_FOUND)


# Changing and deleting


async def test_i_patch_my_rating_and_the_average_follows(api, course, my_rating):
    await api.post(rate_url(course["id"]), {"rating": 2}, as_="student2")

    reply = await api.patch(f"{RATINGS}{my_rating['id']}/", {"rating": 5}, as_="student")

    assert (reply.status, reply.body) == (200, {**my_rating, "rating": 5, "updated_at": TIMESTAMP})
    assert await stats(api, course["id"]) == (3.5, 2)


async def test_patching_my_rating_out_of_range_is_a_400(api, my_rating):
    reply = await api.patch(f"{RATINGS}{my_rating['id']}/", {"rating": 6}, as_="student")

    assert (reply.status, reply.body) == (
        400,
        {"rating": ["Ensure this value is less than or equal to 5."], "status": 400},
    )


async def test_i_delete_my_rating_and_the_average_is_recomputed(api, course, my_rating):
    await api.post(rate_url(course["id"]), {"rating": 5}, as_="student2")

    reply = await api.delete(f"{RATINGS}{my_rating['id']}/", as_="student")

    assert (reply.status, reply.body) == (204, None)
    assert await stats(api, course["id"]) == (5.0, 1)


async def test_deleting_the_last_rating_resets_the_average_to_zero(api, course, my_rating):
    await api.delete(f"{RATINGS}{my_rating['id']}/", as_="student")

    assert await stats(api, course["id"]) == (0.0, 0)


async def test_another_student_cannot_patch_my_rating(api, course, my_rating):
    reply = await api.patch(f"{RATINGS}{my_rating['id']}/", {"rating": 1}, as_="student2")

    assert (reply.status, reply.body) == (403, FORBIDDEN)
    assert (await api.get(f"{RATINGS}{my_rating['id']}/", as_="student")).body == my_rating


async def test_another_student_cannot_delete_my_rating(api, course, my_rating):
    reply = await api.delete(f"{RATINGS}{my_rating['id']}/", as_="student2")

    assert (reply.status, reply.body) == (403, FORBIDDEN)
    assert await stats(api, course["id"]) == (4.0, 1)


async def test_courses_instructor_cannot_patch_a_students_rating(api, my_rating):
    reply = await api.patch(f"{RATINGS}{my_rating['id']}/", {"rating": 5}, as_="instructor")

    assert (reply.status, reply.body) == (403, FORBIDDEN)


async def test_admin_deletes_any_rating(api, course, my_rating):
    reply = await api.delete(f"{RATINGS}{my_rating['id']}/", as_="admin")

    assert reply.status == 204
    assert await stats(api, course["id"]) == (0.0, 0)


# Reading


async def test_rating_is_retrieved_by_id(api, my_rating):
    reply = await api.get(f"{RATINGS}{my_rating['id']}/", as_="student2")

    assert (reply.status, reply.body) == (200, my_rating)


async def test_unknown_rating_is_not_found(api):
    reply = await api.get(f"{RATINGS}999999/", as_="student")

    assert (reply.status, reply.body) == (404, NOT_FOUND)


async def test_rating_list_filters_by_course(api, make, course, my_rating):
    other = await make.course()
    await make.enroll(other["id"], as_="student")
    await api.post(rate_url(other["id"]), {"rating": 1}, as_="student")

    reply = await api.get(f"{RATINGS}?course={course['id']}", as_="student2")

    assert reply.status == 200
    assert reply.body == {"count": 1, "next": None, "previous": None, "results": [my_rating]}


async def test_ratings_of_a_draft_course_are_not_listed_for_students(api, course, my_rating):
    await api.patch(f"{COURSES}{course['id']}/", {"status": "Draft"}, as_="instructor")

    reply = await api.get(RATINGS, as_="student2")

    assert (reply.body["count"], reply.body["results"]) == (0, [])


# Ids no INTEGER column can hold (PostgreSQL refuses to even compare them)

BEYOND_INT32 = 2**31


async def test_rating_id_beyond_the_integer_range_is_not_found(api):
    reply = await api.get(f"{RATINGS}{BEYOND_INT32}/", as_="student")

    assert (reply.status, reply.body) == (404, NOT_FOUND)


async def test_rating_filter_by_a_course_id_beyond_the_integer_range_is_a_400(api, my_rating):
    reply = await api.get(f"{RATINGS}?course={BEYOND_INT32}", as_="student")

    assert (reply.status, list(reply.body)) == (400, ["course", "status"])


async def test_rating_a_course_id_beyond_the_integer_range_is_not_found(api):
    reply = await api.post(rate_url(BEYOND_INT32), SEED_RATING, as_="student")

    assert (reply.status, reply.body) == (404, NOT_FOUND)


async def test_two_first_ratings_sent_at_once_leave_one_rating(api, make):
    course = await make.course()
    await make.enroll(course["id"])
    url = f"/api/lms/courses/ratings/course/{course['id']}/"

    replies = await asyncio.gather(
        api.post(url, {"rating": 3}, as_="student"), api.post(url, {"rating": 3}, as_="student")
    )

    assert sorted(r.status for r in replies) == [200, 201]
    detail = await api.get(f"/api/lms/courses/courses/{course['id']}/", as_="student")
    assert detail.body["rating_count"] == 1
