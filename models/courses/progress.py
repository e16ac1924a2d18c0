"""Enrollment progress: the share of a course's lessons an enrollee has completed."""

from __future__ import annotations

from sqlalchemy import Float, and_, case, cast, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import UTCDateTime, utcnow
from models.courses.tables import Enrollment, Lesson, LessonCompletion
from models.grades.completion import request_check


def _progress_expression(course_id: int):  # type: ignore[no-untyped-def]
    total = select(func.count(Lesson.id)).where(Lesson.course_id == course_id).scalar_subquery()
    done = (
        select(func.count(LessonCompletion.id))
        .join(Lesson, Lesson.id == LessonCompletion.lesson_id)
        .where(LessonCompletion.enrollment_id == Enrollment.id, Lesson.course_id == course_id)
        .scalar_subquery()
    )
    # Float arithmetic on both backends (SQLite divides integers as integers); the
    # response rounds to two places.
    return case((total == 0, 0.0), else_=cast(done, Float) * 100.0 / total)


async def refresh_course_progress(
    session: AsyncSession,
    *,
    course_id: int,
    enrollment_id: int | None = None,
    may_complete: bool = True,
) -> None:
    """Recompute progress (one enrollment, or all of a course's after its lessons change).

    One UPDATE with correlated counts, so a course with many enrollees costs one statement.
    Progress counts the course's current lessons. `completed_at` is set when progress
    reaches 100 and then kept: a lesson added later lowers progress, never a completion
    already earned. Unless told the change cannot complete anyone (`may_complete`: a new
    lesson only lowers progress), the course's completion rule is checked after commit.
    """
    if enrollment_id is not None:
        where = [Enrollment.course_id == course_id, Enrollment.id == enrollment_id]
    else:
        # The course's rows locked in id order first: two lesson changes of one course at
        # once would otherwise lock its enrollments in whatever order each scan met them,
        # and deadlock (seen with concurrent lesson creates).
        in_order = (
            select(Enrollment.id)
            .where(Enrollment.course_id == course_id)
            .order_by(Enrollment.id)
            .with_for_update()
        )
        where = [Enrollment.id.in_(in_order)]
    progress = _progress_expression(course_id)
    # Both SET expressions read the row as it was: completed now if it reaches 100 now.
    completed_at = case(
        (
            and_(Enrollment.completed_at.is_(None), progress >= 100),
            literal(utcnow(), UTCDateTime()),
        ),
        else_=Enrollment.completed_at,
    )
    await session.execute(
        update(Enrollment).where(*where).values(progress=progress, completed_at=completed_at),
        execution_options={"synchronize_session": False},
    )
    if not may_complete:
        return
    # Progress is what a completion rule's `lessons_completed` reads.
    enrollments = None if enrollment_id is None else [enrollment_id]
    await request_check(session, course_id=course_id, enrollment_ids=enrollments)
