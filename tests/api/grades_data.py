"""Helpers for the grades tests: the sources' side (register an item, post a grade) done
through the core itself, as a quiz or an assignment would, in a unit of work of its own."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from models.grades.record import post_grade, register_item
from models.grades.tables import GradeItem
from models.unit_of_work import unit_of_work
from tests.conftest import Api
from web.keys import DATABASES, DISPATCHER

GRADES = "/api/lms/courses/grades/"


def gradebook_url(course_id: int) -> str:
    return f"/api/lms/courses/courses/{course_id}/gradebook/"


def grading_url(course_id: int) -> str:
    return f"/api/lms/courses/courses/{course_id}/grading/"


def grade_url(grade_id: int) -> str:
    return f"{GRADES}{grade_id}/"


class Sources:
    """Registers items and posts grades for them, numbering the sources' ids itself."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self._next = 100

    def _unit(self) -> Any:
        app = self.api.client.app
        return unit_of_work(app[DATABASES], "acme", tasks=app[DISPATCHER])

    async def item(
        self,
        course_id: int,
        *,
        kind: str = "quiz",
        title: str | None = None,
        max_points: float = 10.0,
        pass_points: float | None = None,
    ) -> dict[str, Any]:
        self._next += 1
        source_id = self._next
        async with self._unit() as uow:
            await register_item(
                uow.session,
                course_id=course_id,
                kind=kind,
                source_id=source_id,
                title=title or f"{kind} {source_id}",
                max_points=max_points,
                pass_points=pass_points,
            )
        async with self._unit() as uow:
            item = await uow.session.scalar(
                select(GradeItem).where(GradeItem.kind == kind, GradeItem.source_id == source_id)
            )
            assert item is not None
            return {"id": item.id, "kind": kind, "source_id": source_id}

    async def grade(
        self, item: dict[str, Any], user_id: str, score: float | None, *, released: bool = True
    ) -> None:
        async with self._unit() as uow:
            await post_grade(
                uow.session,
                kind=item["kind"],
                source_id=item["source_id"],
                user_id=user_id,
                score=score,
                released=released,
            )


async def gradebook(api: Api, course_id: int, as_: str = "instructor", query: str = "") -> Any:
    reply = await api.get(gradebook_url(course_id) + query, as_=as_)
    assert reply.status == 200, reply.body
    return reply.body


def row_of(body: dict[str, Any], user_id: str) -> dict[str, Any]:
    [row] = [r for r in body["results"] if r["user_id"] == user_id]
    return row


def scores_of(row: dict[str, Any]) -> list[float | None]:
    return [cell["score"] for cell in row["scores"]]
