"""Who may listen to a course's notifications, and course announcements."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from models.courses.enrollments import find_enrollment
from models.courses.events import notify_course
from models.courses.operations import access_course
from models.courses.schemas import AnnouncementCreate
from models.courses.tables import Announcement, Course, Enrollment
from models.courses.visibility import COURSES, can_change_course, visible_in
from models.errors import PermissionDenied
from models.identity import Principal
from models.listing import Listing, ListShape, PageRequest, PageResult, count_on_rows, read_rows
from models.logs.operations import record_activity_on
from models.notifications.operations import Enrollees, notify_users
from models.people.names import actor_person
from models.people.tables import User


async def access_course_room(session: AsyncSession, *, actor: Principal, course_id: int) -> Course:
    """Its instructor, admins and its enrolled users hear a course (404 unseen, 403 others)."""
    course = await access_course(session, actor=actor, course_id=course_id)
    if can_change_course(actor, course):
        return course
    enrollment = await find_enrollment(session, user_id=actor.user_id, course_id=course.id)
    if enrollment is None or not enrollment.is_active:
        raise PermissionDenied()
    return course


async def course_room_listeners(
    session: AsyncSession, *, course_id: int, actors: Sequence[Principal]
) -> set[str]:
    """Those of `actors` whom `access_course_room` lets in, read with one query for all
    their enrollments (a big course's room is checked again at once, not user by user)."""
    course = await session.get(Course, course_id)
    if course is None:
        return set()
    allowed = {a.user_id for a in actors if can_change_course(a, course)}
    if course.status != "Published":  # `access_course`: unseen by anyone else
        return allowed
    others = [a.user_id for a in actors if a.user_id not in allowed]
    for start in range(0, len(others), _IN_BATCH):
        stmt = select(Enrollment.user_id).where(
            Enrollment.course_id == course.id,
            Enrollment.is_active.is_(True),
            Enrollment.user_id.in_(others[start : start + _IN_BATCH]),
        )
        allowed.update((await session.scalars(stmt)).all())
    return allowed


_IN_BATCH = 500  # ids per IN (...): SQLite's bound parameters are limited


async def do_announce(
    session: AsyncSession, *, actor: Principal, course: Course, data: AnnouncementCreate
) -> Announcement:
    """Store an announcement in a course `access_course(for_change=True)` returned, tell its
    room, and put it in each enrollee's inbox."""
    announcement = Announcement(
        course_id=course.id, title=data.title, message=data.message, created_by=actor.user_id
    )
    session.add(announcement)
    await session.flush()
    record_activity_on(
        session,
        actor,
        ("course", course.id),
        "course_announced",
        f"Announced {data.title!r} in course {course.title!r}.",
    )
    notify_course(
        session,
        course.id,
        "announcement",
        {
            "id": announcement.id,
            "course_id": course.id,
            "title": announcement.title,
            "message": announcement.message,
            "created_by": announcement.created_by,
            "created_by_person": actor_person(actor),
            "created_at": announcement.created_at.isoformat().replace("+00:00", "Z"),
        },
    )
    notify_users(
        session,
        actor_id=actor.user_id,
        event_key=f"announcement:{announcement.id}",
        type_="announcement",
        recipients=Enrollees(course.id),
        title=announcement.title,
        body=announcement.message,
        data={"course_id": course.id, "announcement_id": announcement.id},
    )
    return announcement


ANNOUNCEMENTS = Listing(
    default=(Announcement.created_at.desc(),),
    tiebreak=Announcement.id.desc(),
)
_NEWEST_FIRST = ListShape(filters=(), searching=False, order=())
_ACTOR = "lms_actor"
_COURSE = "lms_course"
# A page row, in AnnouncementRead's order (web/courses.py `announcement_row` unpacks it by
# position), the total of the list last.
ANNOUNCEMENT_COLUMNS: tuple[Any, ...] = (
    Announcement.id,
    Announcement.course_id,
    Announcement.title,
    Announcement.message,
    Announcement.created_by,
    Announcement.created_at,
    User.name,
    User.picture,
    func.count().over(),
)


@functools.lru_cache(maxsize=2)
def _announcement_statement(is_admin: bool) -> Select[Any]:
    """A course's announcements, newest first, if the actor sees the course (as
    `access_course` does), on bound parameters: built once."""
    stmt: Select[Any] = (
        select(*ANNOUNCEMENT_COLUMNS)
        .join(Course, Course.id == Announcement.course_id)
        .outerjoin(User, User.user_id == Announcement.created_by)
        .where(
            Announcement.course_id == bindparam(_COURSE),
            visible_in(COURSES, is_admin=is_admin, user=bindparam(_ACTOR)),
        )
    )
    return ANNOUNCEMENTS.apply_shape(stmt, _NEWEST_FIRST)


async def announcement_page(
    reads: AsyncEngine,
    session: AsyncSession,
    *,
    actor: Principal,
    course_id: int,
    page: PageRequest,
) -> PageResult:
    """A page of the course's announcements as rows of ANNOUNCEMENT_COLUMNS, in one
    statement on the tenant's autocommit engine, the course's access check folded in: only
    a page with no rows asks whether the actor sees the course (404 if not)."""
    rows: Sequence[Any] = ()
    if not page.past_any_database:
        params: dict[str, Any] = {_COURSE: course_id, _ACTOR: actor.user_id, **page.params()}
        rows = await read_rows(reads, _announcement_statement(actor.is_admin), params)
    if not rows:
        await access_course(session, actor=actor, course_id=course_id)
    return count_on_rows(rows, page)
