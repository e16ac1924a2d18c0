"""Routes: a course's gradebook (JSON pages or a streamed CSV), its grading settings,
overrides of one grade, and a learner's own released grades."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractStreamWriter
from sqlalchemy.ext.asyncio import AsyncEngine

from models.base import utcnow
from models.grades import gradebook, rules
from models.grades.schemas import (
    GradebookRow,
    GradeOverride,
    GradeQuery,
    GradeRead,
    GradingRead,
    GradingSettings,
)
from models.grades.tables import Grade, GradeItem
from models.ids import unique_hex
from models.listing import paginate_rows
from models.logs.operations import audit_with_commit
from models.logs.schemas import AuditRecord
from models.people.names import actor_person, person, person_from
from models.people.tables import User
from web.audit import client_ip
from web.courses import COURSE
from web.handlers import actor, ok, path_id, reads, session
from web.jsonio import read_body, read_query
from web.keys import REQUEST_ID, SETTINGS
from web.pagination import page_body, page_request
from web.roster import CSV_TYPE, csv_lines, wants_csv
from web.routing import RouteTable

routes = RouteTable()
TAG = "grades"
GRADES = "/api/lms/courses/grades/"
GRADE = GRADES + r"{grade_id:[0-9]+}/"


def item_body(item: GradeItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "kind": item.kind,
        "source_id": item.source_id,
        "title": item.title,
        "max_points": item.max_points,
        "pass_points": item.pass_points,
        "category": item.category,
    }


def line_body(line: gradebook.Line, items: Sequence[GradeItem]) -> dict[str, Any]:
    """A gradebook row as GradebookRow renders it."""
    return {
        "user_id": line.user_id,
        "user": person(line.user_id, line.name, line.picture),
        "name": line.name,
        "is_active": line.is_active,
        "scores": [
            {
                "item": item.id,
                "grade_id": cell.grade_id if cell else None,
                "score": cell.effective if cell else None,
                "overridden": bool(cell and cell.override_score is not None),
                "released": bool(cell and cell.released),
            }
            for item, cell in zip(items, line.cells, strict=True)
        ],
        "total_percent": line.total,
        "letter": line.letter,
    }


def csv_header(items: Sequence[GradeItem]) -> list[str]:
    return [
        "user_id",
        "name",
        *(f"{item.title} (item {item.id}, max {item.max_points:g})" for item in items),
        "total_percent",
        "letter",
    ]


def csv_row(line: gradebook.Line) -> list[str]:
    def shown(value: float | None) -> str:
        return "" if value is None else f"{value:g}"

    return [
        line.user_id,
        line.name,
        *(shown(cell.effective if cell else None) for cell in line.cells),
        "" if line.total is None else f"{line.total:.2f}",
        line.letter or "",
    ]


@routes.read(
    COURSE + "gradebook/",
    tag=TAG,
    response=GradebookRow,
    paginated=True,
    expensive=("format",),
)
async def course_gradebook(request: web.Request) -> web.StreamResponse:
    """A course's gradebook (its instructor and admins): a page of enrollees with each
    item's effective score, the weighted total and the letter, beside the items;
    `?format=csv` (or `Accept: text/csv`) streams every enrollee as CSV."""
    course_id = path_id(request, "course_id")
    db = session(request)
    settings = await gradebook.access_grading(db, actor=actor(request), course_id=course_id)
    items = await rules.course_items(db, course_id=course_id)
    if wants_csv(request):
        lines = _export(reads(request), course_id, items, settings)
        return GradebookExport(
            csv_header(items), lines, filename=f"course-{course_id}-gradebook.csv"
        )
    result = await gradebook.gradebook_page(
        db, course_id=course_id, items=items, settings=settings, page=page_request(request)
    )
    body = page_body(request, result, [line_body(line, items) for line in result.rows])
    body["items"] = [item_body(item) for item in items]
    return ok(body)


async def _export(
    engine: AsyncEngine,
    course_id: int,
    items: Sequence[GradeItem],
    settings: rules.Settings,
) -> AsyncIterator[list[gradebook.Line]]:
    async with engine.connect() as connection:
        async for batch in gradebook.gradebook_batches(
            connection, course_id=course_id, items=items, settings=settings
        ):
            yield batch


class GradebookExport(web.StreamResponse):
    """The CSV, written a batch of enrollees at a time: never the whole file in memory.
    Sent once every middleware has added its headers (aiohttp prepares it last)."""

    def __init__(
        self,
        header: list[str],
        lines: AsyncIterator[list[gradebook.Line]],
        *,
        filename: str,
    ) -> None:
        super().__init__(
            status=200,
            headers={
                "Content-Type": f"{CSV_TYPE}; charset=utf-8",
                "Content-Disposition": f'attachment; filename="{filename}"',
            },
        )
        self._header = header
        self._lines = lines

    async def prepare(self, request: web.BaseRequest) -> AbstractStreamWriter | None:
        if self.prepared:
            return await super().prepare(request)
        writer = await super().prepare(request)
        await self.write(csv_lines([self._header]))
        async for batch in self._lines:
            await self.write(csv_lines(csv_row(line) for line in batch))
        return writer


# Grading settings


@routes.read(COURSE + "grading/", tag=TAG, response=GradingRead)
async def get_grading(request: web.Request) -> web.Response:
    """A course's grading settings: category weights, letters, completion rule."""
    course_id = path_id(request, "course_id")
    settings = await gradebook.access_grading(
        session(request), actor=actor(request), course_id=course_id
    )
    return ok(settings.fields())


@routes.route("PUT", COURSE + "grading/", tag=TAG, body=GradingSettings, response=GradingRead)
async def put_grading(request: web.Request) -> web.Response:
    """Set a course's grading settings (its instructor and admins), all at once."""
    course_id = path_id(request, "course_id")
    await gradebook.access_gradebook(session(request), actor=actor(request), course_id=course_id)
    data = await read_body(request, GradingSettings)
    data = await gradebook.check_settings(session(request), course_id=course_id, data=data)
    settings = await gradebook.do_set_settings(session(request), course_id=course_id, data=data)
    return ok(settings.fields())


# Grades


def grade_body(
    grade: Grade, item: GradeItem, course_title: str, user: dict[str, Any] | None
) -> dict[str, Any]:
    return {
        "id": grade.id,
        "course": item.course_id,
        "course_title": course_title,
        "item": item_body(item),
        "user_id": grade.user_id,
        "user": user,
        "score": grade.effective_score,
        "source_score": grade.score,
        "override_score": grade.override_score,
        "override_reason": grade.override_reason,
        "released": grade.released,
        "graded_at": grade.graded_at,
        "updated_at": grade.updated_at,
    }


@routes.read(GRADES, tag=TAG, query=GradeQuery, response=GradeRead, paginated=True)
async def my_grades(request: web.Request) -> web.Response:
    """My released grades across my courses (filter `course`), newest first."""
    query = read_query(request, GradeQuery)
    stmt = gradebook.my_grades_query(actor(request), query.course)
    result = await paginate_rows(session(request), stmt, page_request(request))
    me = actor_person(actor(request))
    rows = [grade_body(grade, item, title, me) for grade, item, title, _total in result.rows]
    return ok(page_body(request, result, rows))


@routes.route(
    "PATCH", GRADE, tag=TAG, body=GradeOverride, response=GradeRead, audit="grade_overridden"
)
async def override_grade(request: web.Request) -> web.Response:
    """Override a grade's score, or clear the override (the course's instructor, admins);
    a reason is required to set one. The change is audited and told to the learner."""
    grade, item, course = await gradebook.access_grade(
        session(request), actor=actor(request), grade_id=path_id(request, "grade_id")
    )
    data = await read_body(request, GradeOverride)
    gradebook.check_override(item, data)
    details = await gradebook.do_override(session(request), grade=grade, item=item, data=data)
    audit_with_commit(session(request), _override_record(request, details))
    learner = await session(request).get(User, grade.user_id)
    return ok(grade_body(grade, item, course.title, person_from(grade.user_id, learner)))


def _override_record(request: web.Request, details: str) -> AuditRecord:
    """The override's own audit record, saying what changed and why (the request's record
    says only that it succeeded: no body reaches the trail but this)."""
    return AuditRecord(
        event_id=unique_hex(),
        user_id=actor(request).user_id,
        action_type="grade_override",
        details=details,
        method=request.method,
        path=request.path[:2000],
        status_code=200,
        ip_address=client_ip(request, request.app[SETTINGS].trusted_proxies),
        user_agent=request.headers.get("User-Agent", "")[:500],
        request_id=request.get(REQUEST_ID),
        timestamp=utcnow(),
    )
