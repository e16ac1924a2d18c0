"""Who may listen to a course's notifications, and course announcements."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from models.courses.catalog import access_course, can_change_course
from models.courses.enrollments import find_enrollment
from models.courses.events import notify_course
from models.courses.schemas import AnnouncementCreate
from models.courses.tables import Announcement, Course
from models.errors import PermissionDenied
from models.identity import Principal
from models.logs.operations import record_activity


async def access_course_room(session: AsyncSession, *, actor: Principal, course_id: int) -> Course:
    """Its instructor, admins and its enrolled users hear a course (404 unseen, 403 others)."""
    course = await access_course(session, actor=actor, course_id=course_id)
    if can_change_course(actor, course):
        return course
    enrollment = await find_enrollment(session, user_id=actor.user_id, course_id=course.id)
    if enrollment is None or not enrollment.is_active:
        raise PermissionDenied()
    return course


async def do_announce(
    session: AsyncSession, *, actor: Principal, course_id: int, data: AnnouncementCreate
) -> Announcement:
    """Store an announcement of the course's instructor (or an admin) and tell its room."""
    course = await access_course(session, actor=actor, course_id=course_id, for_change=True)
    announcement = Announcement(
        course_id=course.id, title=data.title, message=data.message, created_by=actor.user_id
    )
    session.add(announcement)
    await session.flush()
    record_activity(
        session,
        user_id=actor.user_id,
        activity_type="course_announced",
        details=f"Announced {data.title!r} in course {course.title!r}.",
        object_type="course",
        object_id=course.id,
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
            "created_at": announcement.created_at.isoformat().replace("+00:00", "Z"),
        },
    )
    return announcement
