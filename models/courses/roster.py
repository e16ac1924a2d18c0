"""A course's roster: its enrollees with their names, dates, progress and last activity,
for the course's instructor and admins; a page at a time, or the whole roster as rows
streamed off a server-side cursor (the CSV export).

The name is the `users` directory's, else the user id. `last_activity` is the latest of
the enrollment's start and its lessons' completions (`lesson_completions`, read through
their (enrollment, lesson) key): the enrollment's own timeline. Activity logs are not read:
they note lessons by lesson id, per user across every course, so finding one course's
latest would scan each enrollee's whole history.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, bindparam, case, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from models.courses.operations import access_course
from models.courses.schemas import RosterQuery
from models.courses.tables import Course, Enrollment, LessonCompletion
from models.identity import Principal
from models.listing import Listing, ListShape, PageRequest, PageResult, count_on_rows, read_rows
from models.people.tables import User

_ACTOR = "lms_actor"
_COURSE = "lms_course"
# Rows fetched from the cursor at a time, and so written at a time, by the export.
STREAM_CHUNK = 1000

_LATEST = (
    select(
        LessonCompletion.enrollment_id.label("enrollment_id"),
        func.max(LessonCompletion.completed_at).label("at"),
    )
    .join(Enrollment, Enrollment.id == LessonCompletion.enrollment_id)
    .where(Enrollment.course_id == bindparam(_COURSE))
    .group_by(LessonCompletion.enrollment_id)
    .subquery("latest_lessons")
)
NAME: ColumnElement[str] = func.coalesce(User.name, Enrollment.user_id)
LAST_ACTIVITY: ColumnElement[Any] = case(
    (_LATEST.c.at > Enrollment.enrolled_at, _LATEST.c.at), else_=Enrollment.enrolled_at
)
COMPLETED: ColumnElement[bool] = Enrollment.completed_at.is_not(None)

ROSTER = Listing(
    filters={"completed": COMPLETED, "is_active": Enrollment.is_active},
    search=(Enrollment.user_id, User.name),
    ordering={
        "user_id": Enrollment.user_id,
        "name": NAME,
        "enrolled_at": Enrollment.enrolled_at,
        "completed_at": Enrollment.completed_at,
        "progress": Enrollment.progress,
        "last_activity": LAST_ACTIVITY,
    },
    default=(Enrollment.enrolled_at.asc(),),
    tiebreak=Enrollment.id.asc(),
)
# A roster row, in RosterEntry's order (web/roster.py unpacks it by position).
COLUMNS: tuple[Any, ...] = (
    Enrollment.user_id,
    NAME.label("name"),
    Enrollment.enrolled_at,
    Enrollment.completed_at,
    Enrollment.progress,
    Enrollment.is_active,
    LAST_ACTIVITY.label("last_activity"),
    User.picture,
)
CSV_HEADER = (
    "user_id",
    "name",
    "enrolled_at",
    "completed_at",
    "progress",
    "is_active",
    "last_activity",
)


def _base(is_admin: bool, *columns: Any) -> Select[Any]:
    """The course's enrollments, if the actor may change the course (its instructor,
    admins): the access rule folded in, so a page is one statement."""
    stmt = (
        select(*columns)
        .join(Course, Course.id == Enrollment.course_id)
        .outerjoin(User, User.user_id == Enrollment.user_id)
        .outerjoin(_LATEST, _LATEST.c.enrollment_id == Enrollment.id)
        .where(Enrollment.course_id == bindparam(_COURSE))
    )
    if not is_admin:
        stmt = stmt.where(Course.instructor_id == bindparam(_ACTOR))
    return stmt


@functools.lru_cache(maxsize=256)
def _page_statement(is_admin: bool, shape: ListShape) -> Select[Any]:
    return ROSTER.apply_shape(_base(is_admin, *COLUMNS, func.count().over()), shape)


@functools.lru_cache(maxsize=256)
def _export_statement(is_admin: bool, shape: ListShape) -> Select[Any]:
    stmt = _base(is_admin, *COLUMNS).where(*ROSTER.where_shape(shape))
    clauses = ROSTER.order_by(shape.order)
    assert ROSTER.tiebreak is not None
    return stmt.order_by(*clauses, ROSTER.tiebreak)


def _params(
    actor: Principal, course_id: int, query: RosterQuery, shape: ListShape
) -> dict[str, Any]:
    params = ROSTER.values(query, shape)
    params[_COURSE], params[_ACTOR] = course_id, actor.user_id
    return params


async def access_roster(session: AsyncSession, *, actor: Principal, course_id: int) -> Course:
    """The course whose roster the actor may read: its instructor's and admins' (404 for a
    course the actor does not see, 403 for one seen but not theirs)."""
    return await access_course(session, actor=actor, course_id=course_id, for_change=True)


async def roster_page(
    reads: AsyncEngine,
    session: AsyncSession,
    *,
    actor: Principal,
    course_id: int,
    query: RosterQuery,
    page: PageRequest,
) -> PageResult:
    """A page of the roster as rows of COLUMNS (the total last), in one statement on the
    tenant's autocommit engine: only a page with no rows asks whether the actor may read
    the course's roster (404 or 403 if not), before the empty page or "Invalid page."."""
    rows: Sequence[Any] = ()
    if not page.past_any_database:
        shape = ROSTER.shape(query)
        params = _params(actor, course_id, query, shape)
        params.update(page.params())
        rows = await read_rows(reads, _page_statement(actor.is_admin, shape), params)
    if not rows:
        await access_roster(session, actor=actor, course_id=course_id)
    return count_on_rows(rows, page)


async def roster_rows(
    reads: AsyncEngine, *, actor: Principal, course_id: int, query: RosterQuery
) -> AsyncIterator[Sequence[Row[Any]]]:
    """The whole roster (filtered and ordered as `query` asks), STREAM_CHUNK rows at a
    time off a server-side cursor: memory stays flat whatever the course's size. Call it
    after `access_roster`; the statement checks the actor again all the same."""
    shape = ROSTER.shape(query)
    stmt = _export_statement(actor.is_admin, shape)
    params = _params(actor, course_id, query, shape)
    async with reads.connect() as connection:
        if connection.dialect.name == "postgresql":
            # A server-side cursor lives in a transaction: not this engine's autocommit.
            await connection.execution_options(isolation_level="READ COMMITTED")
        async with connection.begin():
            result = await connection.stream(stmt, params)
            async for chunk in result.partitions(STREAM_CHUNK):
                yield chunk
