"""Enrolling, completing lessons, and who may see which enrollments."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import BindParameter, Select, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from models.courses.events import course_room, notify_course
from models.courses.progress import refresh_course_progress
from models.courses.schemas import EnrollmentQuery
from models.courses.structure import access_lesson
from models.courses.tables import Course, Enrollment, Lesson, LessonCompletion
from models.courses.visibility import can_change_course
from models.effects import revoke_after_commit
from models.errors import NotFound, PaymentRequired, PermissionDenied
from models.identity import Principal
from models.listing import ACTOR_PARAM, Listing, ListShape, PageRequest, PageResult, counted
from models.logs.operations import record_activity, record_activity_on
from models.people.names import find_with_person
from models.unique import add_unique


async def find_enrollment(
    session: AsyncSession, *, user_id: str, course_id: int
) -> Enrollment | None:
    stmt = select(Enrollment).where(
        Enrollment.user_id == user_id, Enrollment.course_id == course_id
    )
    return (await session.scalars(stmt)).one_or_none()


def check_enroller(actor: Principal, user_id: str | None) -> str:
    """Whom the actor enrolls: themself, or for an admin `user_id` (403 for the others)."""
    target = user_id or actor.user_id
    if target != actor.user_id and not actor.is_admin:
        raise PermissionDenied()
    return target


async def check_enrollment(
    session: AsyncSession,
    *,
    actor: Principal,
    course: Course,
    user_id: str,
    purchased: bool = False,
) -> Enrollment | None:
    """The user's enrollment in the course if there is one, once they may take the course: a
    paid course needs a purchase (`purchased`, set by order fulfilment, or a paid order line
    for it) or an admin (402). An active enrollment needs nothing: enrolling twice returns it.
    """
    # Who the user is comes with it: the enrollment made for them shows their name.
    existing = await find_with_person(
        session,
        Enrollment,
        (Enrollment.user_id == user_id, Enrollment.course_id == course.id),
        user_id,
    )
    if existing is not None and existing.is_active:
        return existing
    if course.current_price_cents > 0 and not (purchased or actor.is_admin):
        # A paid order line for the course counts as the purchase (re-enrolling after leaving).
        from models.payments.purchases import has_purchased

        if not await has_purchased(session, user_id=user_id, course_id=course.id):
            raise PaymentRequired()
    return existing


async def do_enroll(
    session: AsyncSession,
    *,
    actor: Principal,
    course: Course,
    user_id: str,
    existing: Enrollment | None,
) -> tuple[Enrollment, bool]:
    """Enroll the user in the course (`existing`: what `check_enrollment` returned); returns
    the enrollment and whether it is new. Enrolling twice returns the existing enrollment."""
    if existing is not None and existing.is_active:
        return existing, False
    if existing is not None:
        existing.is_active = True
        await session.flush()
        _enrolled(session, existing, course_title=course.title)
        return existing, False
    enrollment = Enrollment(
        user_id=user_id,
        course_id=course.id,
        is_active=True,
        progress=0.0,
        enrolled_by=actor.user_id if user_id != actor.user_id else None,
    )
    # A concurrent enroll of the same pair loses the race on the unique key, not twice.
    enrollment, created = await add_unique(
        session, enrollment, lambda: find_enrollment(session, user_id=user_id, course_id=course.id)
    )
    if created:
        # A new enrollment has completed nothing: no need to read it back.
        set_committed_value(enrollment, "completed_lessons", None)
        _enrolled(session, enrollment, course_title=course.title)
    return enrollment, created


def _enrolled(session: AsyncSession, enrollment: Enrollment, *, course_title: str) -> None:
    record_activity(
        session,
        user_id=enrollment.user_id,
        activity_type="course_enrolled",
        details=f"Enrolled in {course_title!r}.",
        object_type="course",
        object_id=enrollment.course_id,
    )
    # The room's enrollees hear that someone enrolled, never who: the roster is for the
    # instructor and admins, who read it over REST (the enrollment's id is a 404 to others).
    notify_course(
        session,
        enrollment.course_id,
        "enrollment",
        {"course_id": enrollment.course_id, "enrollment_id": enrollment.id},
    )


ENROLLMENTS = Listing(
    filters={
        "course": Enrollment.course_id,
        "user_id": Enrollment.user_id,
        "is_active": Enrollment.is_active,
    },
    default=(Enrollment.enrolled_at.desc(),),
    tiebreak=Enrollment.id.desc(),
)


async def enrollment_page(
    session: AsyncSession, *, actor: Principal, query: EnrollmentQuery, page: PageRequest
) -> PageResult:
    """Mine; an admin sees all, and an instructor also sees those of the courses they teach."""
    statement = functools.partial(_enrollments_statement, actor.is_admin)
    params = {ACTOR_PARAM: actor.user_id}
    return await ENROLLMENTS.page_of(session, statement, query, page, params)


@functools.lru_cache(maxsize=256)
def _enrollments_statement(is_admin: bool, shape: ListShape) -> Select[Any]:
    stmt = select(Enrollment)
    if not is_admin:
        me: BindParameter[str] = bindparam(ACTOR_PARAM)
        taught = select(Course.id).where(Course.instructor_id == me)
        stmt = stmt.where((Enrollment.user_id == me) | Enrollment.course_id.in_(taught))
    return ENROLLMENTS.apply_shape(counted(stmt), shape)


async def access_enrollment(
    session: AsyncSession, *, actor: Principal, enrollment_id: int, for_change: bool = False
) -> Enrollment:
    enrollment = await session.get(Enrollment, enrollment_id)
    if enrollment is None:
        raise NotFound()
    if actor.is_admin or enrollment.user_id == actor.user_id:
        return enrollment
    course = await session.get(Course, enrollment.course_id)
    if course is None or not can_change_course(actor, course):
        raise NotFound()
    if for_change:
        # The course's instructor sees the enrollment but may not change it: 403, not 404.
        raise PermissionDenied()
    return enrollment


def check_enrollment_change(
    actor: Principal, enrollment: Enrollment, is_active: bool | None
) -> None:
    """Admins (de)activate any enrollment; a user may only leave (deactivate) their own (403
    for coming back: that is enrolling)."""
    if is_active and not actor.is_admin and not enrollment.is_active:
        raise PermissionDenied()


async def do_set_enrollment_active(
    session: AsyncSession, *, enrollment: Enrollment, is_active: bool | None
) -> Enrollment:
    """(De)activate an enrollment `access_enrollment(for_change=True)` returned, after
    `check_enrollment_change`; `None` changes nothing (an empty PATCH)."""
    if is_active is None:
        return enrollment
    leaving = enrollment.is_active and not is_active
    enrollment.is_active = is_active
    await session.flush()
    if leaving:
        # Its notifications stop now, not at its next reconnect.
        revoke_after_commit(session, course_room(enrollment.course_id), enrollment.user_id)
    return enrollment


async def access_lesson_enrollment(
    session: AsyncSession, *, actor: Principal, lesson_id: int
) -> tuple[Lesson, Course, Enrollment]:
    """A lesson the actor sees (404 otherwise), its course, and the actor's active enrollment
    in it (403 without one)."""
    lesson, course = await access_lesson(session, actor=actor, lesson_id=lesson_id)
    enrollment = await find_enrollment(session, user_id=actor.user_id, course_id=course.id)
    if enrollment is None or not enrollment.is_active:
        raise PermissionDenied("You must be enrolled in this course to complete its lessons.")
    return lesson, course, enrollment


async def do_complete_lesson(
    session: AsyncSession,
    *,
    actor: Principal,
    lesson: Lesson,
    course: Course,
    enrollment: Enrollment,
) -> Enrollment:
    """Mark a lesson done for the enrollment `access_lesson_enrollment` returned, and return
    the updated progress."""
    done = await session.scalar(
        select(LessonCompletion.id).where(
            LessonCompletion.enrollment_id == enrollment.id, LessonCompletion.lesson_id == lesson.id
        )
    )
    if done is None:
        try:
            async with session.begin_nested():
                session.add(LessonCompletion(enrollment_id=enrollment.id, lesson_id=lesson.id))
                await session.flush()
        except IntegrityError:
            pass  # completed concurrently: the same outcome
    was_complete = enrollment.completed_at is not None
    await refresh_course_progress(session, course_id=course.id, enrollment_id=enrollment.id)
    await session.refresh(enrollment)
    if done is None:
        record_activity_on(
            session,
            actor,
            ("lesson", lesson.id),
            "lesson_completed",
            f"Completed lesson {lesson.title!r}.",
        )
    if enrollment.completed_at is not None and not was_complete:
        record_activity_on(
            session,
            actor,
            ("course", course.id),
            "course_completed",
            f"Completed course {course.title!r}.",
        )
    return enrollment


async def access_lesson_to_view(
    session: AsyncSession, *, actor: Principal, lesson_id: int
) -> tuple[Lesson, Enrollment]:
    """A lesson of a course the actor is actively enrolled in, and that enrollment: 404
    otherwise, as the content of a lesson is to whoever may not read it."""
    lesson, course = await access_lesson(session, actor=actor, lesson_id=lesson_id)
    enrollment = await find_enrollment(session, user_id=actor.user_id, course_id=course.id)
    if enrollment is None or not enrollment.is_active:
        raise NotFound()
    return lesson, enrollment


async def do_view_lesson(
    session: AsyncSession, *, lesson: Lesson, enrollment: Enrollment
) -> Enrollment:
    """Make the lesson the enrollment's resume point (`access_lesson_to_view` gave both)."""
    enrollment.last_lesson_id = lesson.id
    try:
        await session.flush()
    except IntegrityError:
        # The lesson was deleted meanwhile: as if it had never been there.
        raise NotFound() from None
    return enrollment
