"""Ratings: one per enrolled user and course, and the course's average kept beside it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.courses.enrollments import find_enrollment
from models.courses.operations import access_course
from models.courses.schemas import RatingBody, RatingQuery
from models.courses.tables import Course, Rating
from models.courses.visibility import visible_courses
from models.errors import NotFound, PermissionDenied
from models.identity import Principal
from models.listing import Listing
from models.logs.operations import record_activity_on
from models.unique import add_unique


async def refresh_rating_stats(session: AsyncSession, *, course_id: int) -> None:
    """Recompute the course's average and count from its ratings.

    The course row is locked first, so two ratings committed at once cannot each compute an
    average that misses the other (PostgreSQL; SQLite serializes writers anyway).
    """
    course = (
        await session.scalars(
            select(Course).where(Course.id == course_id).with_for_update(of=Course)
        )
    ).one_or_none()
    if course is None:
        return
    average, count = (
        await session.execute(
            select(func.avg(Rating.rating), func.count(Rating.id)).where(
                Rating.course_id == course_id
            )
        )
    ).one()
    course.average_rating = round(float(average or 0.0), 2)
    course.rating_count = int(count)
    await session.flush()


async def _find_rating(session: AsyncSession, *, user_id: str, course_id: int) -> Rating | None:
    stmt = select(Rating).where(Rating.user_id == user_id, Rating.course_id == course_id)
    return (await session.scalars(stmt)).one_or_none()


async def check_rater(session: AsyncSession, *, actor: Principal, course: Course) -> None:
    """Those enrolled in a course rate it (403 for the others)."""
    enrollment = await find_enrollment(session, user_id=actor.user_id, course_id=course.id)
    if enrollment is None or not enrollment.is_active:
        raise PermissionDenied("Only enrolled users can rate this course.")


async def do_rate_course(
    session: AsyncSession, *, actor: Principal, course: Course, data: RatingBody
) -> tuple[Rating, bool]:
    """Create the actor's rating (after `check_rater`), or update it on a second POST; says
    whether it is new."""
    found = await _find_rating(session, user_id=actor.user_id, course_id=course.id)
    if found is None:
        # Two first ratings sent at once: the loser updates the winner's row instead.
        rating, created = await add_unique(
            session,
            Rating(
                user_id=actor.user_id, course_id=course.id, rating=data.rating, review=data.review
            ),
            lambda: _find_rating(session, user_id=actor.user_id, course_id=course.id),
        )
    else:
        rating, created = found, False
    if not created:
        rating.rating, rating.review = data.rating, data.review
    await session.flush()
    await refresh_rating_stats(session, course_id=course.id)
    record_activity_on(
        session,
        actor,
        ("course", course.id),
        "course_rated",
        f"Rated {course.title!r} {rating.rating}/5.",
    )
    return rating, created


RATINGS = Listing(
    filters={"course": Rating.course_id, "user_id": Rating.user_id},
    default=(Rating.created_at.desc(),),
    tiebreak=Rating.id.desc(),
)


def ratings_query(actor: Principal, query: RatingQuery) -> Select[Any]:
    stmt = select(Rating).join(Course, Course.id == Rating.course_id).where(visible_courses(actor))
    return RATINGS.apply(stmt, query)


async def access_rating(
    session: AsyncSession, *, actor: Principal, rating_id: int, for_change: bool = False
) -> Rating:
    rating = await session.get(Rating, rating_id)
    if rating is None:
        raise NotFound()
    await access_course(session, actor=actor, course_id=rating.course_id)
    if for_change and not (actor.is_admin or rating.user_id == actor.user_id):
        raise PermissionDenied()
    return rating


async def do_update_rating(
    session: AsyncSession, *, rating: Rating, changes: dict[str, Any]
) -> Rating:
    """Apply checked changes to a rating `access_rating(for_change=True)` returned."""
    for field, value in changes.items():
        setattr(rating, field, value)
    await session.flush()
    await refresh_rating_stats(session, course_id=rating.course_id)
    return rating


async def do_delete_rating(session: AsyncSession, *, rating: Rating) -> None:
    course_id = rating.course_id
    await session.delete(rating)
    await session.flush()
    await refresh_rating_stats(session, course_id=course_id)
