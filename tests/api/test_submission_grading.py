"""Grading submissions: scores and rubrics, late penalties, returning the grade to the
learner (who sees it only then, and is told), regrades kept in the history."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from models.grades.tables import Grade
from models.tenancy import Databases
from models.unit_of_work import unit_of_work
from tests.api.test_assignments import iso, new_assignment
from tests.api.test_notifications import inbox
from tests.api.test_submissions import SUBMISSIONS, submit
from tests.conftest import Api, Factory
from web.keys import DATABASES

RUBRIC = [
    {"id": "content", "title": "Content", "points": 6},
    {"id": "style", "title": "Style", "points": 4},
]


async def gradebook(api: Api) -> list[Grade]:
    databases: Databases = api.client.app[DATABASES]
    async with unit_of_work(databases, "acme") as uow:
        return list(await uow.session.scalars(select(Grade).order_by(Grade.user_id)))


async def grade_notes(api: Api, as_: str) -> list[dict[str, Any]]:
    return [n for n in await inbox(api, as_) if n["type"] == "grade"]


@pytest.fixture
async def course(make: Factory) -> dict[str, Any]:
    course = await make.course()
    await make.enroll(course["id"], as_="student")
    await make.enroll(course["id"], as_="student2")
    return course


@pytest.fixture
async def essay(api: Api, course: dict[str, Any]) -> dict[str, Any]:
    return await new_assignment(api, course["id"], rubric=RUBRIC)


@pytest.fixture
async def work(api: Api, essay: dict[str, Any]) -> str:
    """The student's submission's URL."""
    created = await submit(api, essay["id"], text="My essay.")
    return f"{SUBMISSIONS}{created['id']}/"


async def test_the_instructor_grades_with_a_score_and_feedback(api: Api, work: str) -> None:
    reply = await api.post(work + "grade/", {"score": 8.5, "feedback": "Good."}, as_="instructor")
    assert reply.status == 200, reply.body
    body = reply.body
    assert (body["status"], body["score"], body["feedback"]) == ("graded", 8.5, "Good.")
    assert (body["graded_by"], body["graded_version"], body["late_penalty"]) == (
        "instructor-1",
        1,
        0.0,
    )


@pytest.mark.parametrize("score", [10.5, -1])
async def test_a_score_outside_0_to_points_is_400_and_changes_nothing(
    api: Api, work: str, score: float
) -> None:
    reply = await api.post(work + "grade/", {"score": score}, as_="instructor")
    assert reply.status == 400
    assert "score" in reply.body
    seen = (await api.get(work, as_="instructor")).body
    assert (seen["status"], seen["score"], seen["grade_history"]) == ("ungraded", None, [])
    assert await gradebook(api) == []


async def test_rubric_scores_add_up_to_the_score(api: Api, work: str) -> None:
    scores = {"content": 5, "style": 3.5}
    reply = await api.post(work + "grade/", {"rubric_scores": scores}, as_="instructor")
    assert reply.status == 200, reply.body
    assert (reply.body["score"], reply.body["rubric_scores"]) == (8.5, scores)


async def test_a_criterion_over_its_points_is_400(api: Api, work: str) -> None:
    scores = {"content": 7, "style": 3}
    reply = await api.post(work + "grade/", {"rubric_scores": scores}, as_="instructor")
    assert reply.status == 400
    assert reply.body["rubric_scores"] == ["content: ensure this value is less than or equal to 6."]


async def test_a_rubric_missing_a_criterion_is_400(api: Api, work: str) -> None:
    reply = await api.post(work + "grade/", {"rubric_scores": {"content": 5}}, as_="instructor")
    assert reply.status == 400
    assert reply.body["rubric_scores"] == ["Score every criterion: style."]


async def test_a_grade_without_score_or_rubric_is_400(api: Api, work: str) -> None:
    reply = await api.post(work + "grade/", {"feedback": "Hm."}, as_="instructor")
    assert reply.status == 400
    assert "score" in reply.body


async def test_the_learner_cannot_grade_their_own_work(api: Api, work: str) -> None:
    reply = await api.post(work + "grade/", {"score": 10}, as_="student")
    assert reply.status == 403
    assert (await api.post(work + "return/", as_="student")).status == 403


async def test_another_learner_grading_it_is_404(api: Api, work: str) -> None:
    assert (await api.post(work + "grade/", {"score": 10}, as_="student2")).status == 404


async def test_grading_posts_an_unreleased_grade_to_the_gradebook(api: Api, work: str) -> None:
    await api.post(work + "grade/", {"score": 7}, as_="instructor")
    [grade] = await gradebook(api)
    assert (grade.user_id, grade.score, grade.released) == ("student-1", 7.0, False)


async def test_the_learner_does_not_see_an_unreturned_grade(api: Api, work: str) -> None:
    await api.post(work + "grade/", {"score": 7, "feedback": "Fine."}, as_="instructor")
    seen = (await api.get(work, as_="student")).body
    assert seen["status"] == "graded"
    assert (seen["score"], seen["feedback"], seen["rubric_scores"]) == (None, None, None)
    listed = (await api.get(SUBMISSIONS, as_="student")).body["results"][0]
    assert listed["score"] is None
    assert await grade_notes(api, "student") == []


async def test_returning_shows_the_learner_the_grade_and_tells_them(api: Api, work: str) -> None:
    await api.post(work + "grade/", {"score": 7, "feedback": "Fine."}, as_="instructor")
    reply = await api.post(work + "return/", as_="instructor")
    assert reply.status == 200, reply.body
    seen = (await api.get(work, as_="student")).body
    assert (seen["status"], seen["score"], seen["feedback"]) == ("returned", 7.0, "Fine.")
    assert seen["returned_at"] is not None
    [note] = await grade_notes(api, "student")
    assert note["data"]["score"] == 7.0
    assert await grade_notes(api, "student2") == []
    [grade] = await gradebook(api)
    assert (grade.score, grade.released) == (7.0, True)


async def test_returning_an_ungraded_submission_is_400(api: Api, work: str) -> None:
    reply = await api.post(work + "return/", as_="instructor")
    assert (reply.status, reply.body) == (
        400,
        {"detail": "Grade the current version before returning it.", "status": 400},
    )


async def test_returning_twice_tells_the_learner_once(api: Api, work: str) -> None:
    await api.post(work + "grade/", {"score": 7}, as_="instructor")
    await api.post(work + "return/", as_="instructor")
    assert (await api.post(work + "return/", as_="instructor")).status == 200
    assert len(await grade_notes(api, "student")) == 1


async def test_a_regrade_keeps_the_history_for_the_instructor(api: Api, work: str) -> None:
    await api.post(work + "grade/", {"score": 6, "feedback": "First."}, as_="instructor")
    await api.post(work + "return/", as_="instructor")
    await api.post(work + "grade/", {"score": 9, "feedback": "Second."}, as_="admin")
    history = (await api.get(work, as_="instructor")).body["grade_history"]
    assert [(h["score"], h["feedback"], h["grader"]) for h in history] == [
        (6.0, "First.", "instructor-1"),
        (9.0, "Second.", "admin-1"),
    ]
    assert all(h["at"].endswith("Z") for h in history)


async def test_the_learner_sees_no_history_and_a_regrade_only_once_returned(
    api: Api, work: str
) -> None:
    await api.post(work + "grade/", {"score": 6}, as_="instructor")
    await api.post(work + "return/", as_="instructor")
    await api.post(work + "grade/", {"score": 9}, as_="instructor")
    seen = (await api.get(work, as_="student")).body
    assert (seen["grade_history"], seen["score"], seen["status"]) == (None, None, "graded")
    await api.post(work + "return/", as_="instructor")
    seen = (await api.get(work, as_="student")).body
    assert seen["score"] == 9.0
    assert [n["data"]["score"] for n in await grade_notes(api, "student")] == [9.0, 6.0]


async def test_a_late_version_loses_its_percent_per_started_day(api: Api, course) -> None:
    late = await new_assignment(
        api,
        course["id"],
        due_at=iso(timedelta(days=-1, hours=-1)),
        late_policy="percent_per_day",
        late_percent_per_day=10,
    )
    created = await submit(api, late["id"], text="Late")
    url = f"{SUBMISSIONS}{created['id']}/grade/"
    reply = await api.post(url, {"score": 8}, as_="instructor")
    body = reply.body
    assert (body["days_late"], body["score_given"]) == (2, 8.0)
    assert (body["late_penalty"], body["score"]) == (1.6, 6.4)
    [grade] = await gradebook(api)
    assert grade.score == 6.4


async def test_the_penalty_never_takes_more_than_the_score(api: Api, course) -> None:
    late = await new_assignment(
        api,
        course["id"],
        due_at=iso(timedelta(days=-5)),
        late_policy="percent_per_day",
        late_percent_per_day=50,
    )
    created = await submit(api, late["id"], text="Very late")
    reply = await api.post(f"{SUBMISSIONS}{created['id']}/grade/", {"score": 8}, as_="instructor")
    assert (reply.body["late_penalty"], reply.body["score"]) == (8.0, 0.0)


async def test_late_work_under_accept_keeps_its_score(api: Api, course) -> None:
    late = await new_assignment(api, course["id"], due_at=iso(timedelta(days=-3)))
    created = await submit(api, late["id"], text="Late")
    reply = await api.post(f"{SUBMISSIONS}{created['id']}/grade/", {"score": 8}, as_="instructor")
    assert (reply.body["is_late"], reply.body["late_penalty"], reply.body["score"]) == (
        True,
        0.0,
        8.0,
    )


async def test_points_cannot_fall_below_a_score_given(api: Api, course) -> None:
    plain = await new_assignment(api, course["id"])
    created = await submit(api, plain["id"], text="Work")
    await api.post(f"{SUBMISSIONS}{created['id']}/grade/", {"score": 8}, as_="instructor")
    url = f"/api/lms/courses/assignments/{plain['id']}/"
    reply = await api.patch(url, {"points": 5}, as_="instructor")
    assert reply.status == 400
    assert reply.body["points"] == [
        "A submission is graded 8: regrade it before lowering the points."
    ]
    assert (await api.patch(url, {"points": 8}, as_="instructor")).status == 200
