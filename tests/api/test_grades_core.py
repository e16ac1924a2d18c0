"""The grades core the sources call (models/grades/record.py): items registered once per
source, grades upserted per learner, and a released change told to its learner alone."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from models.grades.record import post_grade, register_item, remove_item
from models.grades.tables import Grade, GradeItem
from models.tenancy import Databases
from models.unit_of_work import unit_of_work
from tests.api.test_notifications import inbox
from web.keys import DATABASES, DISPATCHER


@pytest.fixture
def databases(api: Any) -> Databases:
    db: Databases = api.client.app[DATABASES]
    return db


@pytest.fixture
async def course(make: Any) -> dict[str, Any]:
    course = await make.course()
    await make.enroll(course["id"], as_="student")
    await make.enroll(course["id"], as_="student2")
    return course


def unit(api: Any, databases: Databases) -> Any:
    return unit_of_work(databases, "acme", tasks=api.client.app[DISPATCHER])


async def register(api: Any, databases: Databases, course_id: int, **kw: Any) -> None:
    fields = {"kind": "quiz", "source_id": 7, "title": "Quiz 1", "max_points": 10.0, **kw}
    async with unit(api, databases) as uow:
        await register_item(uow.session, course_id=course_id, **fields)


async def post(
    api: Any, databases: Databases, user_id: str, score: float | None, **kw: Any
) -> None:
    fields = {"kind": "quiz", "source_id": 7, "released": True, **kw}
    async with unit(api, databases) as uow:
        await post_grade(uow.session, user_id=user_id, score=score, **fields)


async def items(databases: Databases) -> list[GradeItem]:
    async with unit_of_work(databases, "acme") as uow:
        return list(await uow.session.scalars(select(GradeItem)))


async def grades(databases: Databases) -> list[Grade]:
    async with unit_of_work(databases, "acme") as uow:
        return list(await uow.session.scalars(select(Grade).order_by(Grade.user_id)))


async def grade_notes(api: Any, as_: str) -> list[dict[str, Any]]:
    return [n for n in await inbox(api, as_) if n["type"] == "grade"]


async def test_registering_an_item_twice_updates_the_one_item(api, databases, course):
    await register(api, databases, course["id"])
    await register(api, databases, course["id"], title="Quiz one", max_points=20.0, pass_points=12)
    [item] = await items(databases)
    assert (item.kind, item.source_id, item.course_id) == ("quiz", 7, course["id"])
    assert (item.title, item.max_points, item.pass_points) == ("Quiz one", 20.0, 12.0)
    assert item.category == "quizzes"


async def test_an_assignment_counts_under_assignments(api, databases, course):
    await register(api, databases, course["id"], kind="assignment")
    [item] = await items(databases)
    assert item.category == "assignments"


async def test_an_unknown_kind_is_refused(api, databases, course):
    with pytest.raises(ValueError):
        await register(api, databases, course["id"], kind="essay")
    assert await items(databases) == []


async def test_posting_twice_keeps_one_grade_with_the_latest_score(api, databases, course):
    await register(api, databases, course["id"])
    await post(api, databases, "student-1", 4.0)
    await post(api, databases, "student-1", 8.5)
    [grade] = await grades(databases)
    assert (grade.user_id, grade.score, grade.released) == ("student-1", 8.5, True)


async def test_a_released_grade_notifies_its_learner_alone(api, databases, course):
    await register(api, databases, course["id"])
    await post(api, databases, "student-1", 8.0)
    [note] = await grade_notes(api, "student")
    assert note["title"] == "Grade for Quiz 1: 8/10"
    assert note["data"]["course_id"] == course["id"]
    assert note["data"]["score"] == 8.0
    assert await grade_notes(api, "student2") == []
    assert await grade_notes(api, "instructor") == []


async def test_an_unreleased_grade_notifies_nobody_until_released(api, databases, course):
    await register(api, databases, course["id"])
    await post(api, databases, "student-1", 8.0, released=False)
    assert await grade_notes(api, "student") == []
    await post(api, databases, "student-1", 8.0, released=True)
    assert len(await grade_notes(api, "student")) == 1


async def test_reposting_an_unchanged_grade_notifies_once_and_a_regrade_again(
    api, databases, course
):
    await register(api, databases, course["id"])
    await post(api, databases, "student-1", 8.0)
    await post(api, databases, "student-1", 8.0)
    assert len(await grade_notes(api, "student")) == 1
    await post(api, databases, "student-1", 9.0)
    assert [n["data"]["score"] for n in await grade_notes(api, "student")] == [9.0, 8.0]


async def test_posting_for_an_unregistered_source_is_refused(api, databases, course):
    with pytest.raises(LookupError):
        await post(api, databases, "student-1", 8.0)
    assert await grades(databases) == []


async def test_removing_an_item_removes_its_grades(api, databases, course):
    await register(api, databases, course["id"])
    await post(api, databases, "student-1", 8.0)
    async with unit(api, databases) as uow:
        await remove_item(uow.session, kind="quiz", source_id=7)
    assert await items(databases) == []
    async with unit_of_work(databases, "acme") as uow:
        assert await uow.session.scalar(select(func.count()).select_from(Grade)) == 0
