"""What the graded sources (quizzes, assignments) call, inside their own unit of work.

A source registers an item when it creates or changes what it grades (`register_item`),
removes it with itself (`remove_item`) and posts each learner's score (`post_grade`). None
of these commits: the source's unit does, and the learner's notification leaves with it."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import utcnow
from models.dialects import conflict_insert, dialect_of
from models.grades.completion import request_check
from models.grades.tables import CATEGORY_OF_KIND, KINDS, Grade, GradeItem
from models.notifications.operations import notify_users
from models.unit_of_work import acting


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown grade item kind {kind!r}; one of {KINDS}")


async def register_item(
    session: AsyncSession,
    *,
    course_id: int,
    kind: str,
    source_id: int,
    title: str,
    max_points: float,
    pass_points: float | None = None,
) -> None:
    """The gradebook's item for the source: created, or brought up to date (its course too)."""
    _check_kind(kind)
    if max_points <= 0:
        raise ValueError("max_points must be above 0")
    now = utcnow()
    values = {
        "course_id": course_id,
        "kind": kind,
        "source_id": source_id,
        "title": title[:200],
        "max_points": float(max_points),
        "pass_points": None if pass_points is None else float(pass_points),
        "category": CATEGORY_OF_KIND[kind],
        "created_at": now,
        "updated_at": now,
    }
    insert = conflict_insert(dialect_of(session))(GradeItem.__table__).values(values)
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=["kind", "source_id"],
            set_={
                name: insert.excluded[name]
                for name in ("course_id", "title", "max_points", "pass_points", "updated_at")
            },
        )
    )


async def remove_item(session: AsyncSession, *, kind: str, source_id: int) -> None:
    """The source's item and every grade for it (the grades go with it, ON DELETE CASCADE)."""
    _check_kind(kind)
    await session.execute(
        delete(GradeItem).where(GradeItem.kind == kind, GradeItem.source_id == source_id)
    )


async def item_of(session: AsyncSession, *, kind: str, source_id: int) -> GradeItem | None:
    found: GradeItem | None = await session.scalar(
        select(GradeItem).where(GradeItem.kind == kind, GradeItem.source_id == source_id)
    )
    return found


async def post_grade(
    session: AsyncSession,
    *,
    kind: str,
    source_id: int,
    user_id: str,
    score: float | None,
    released: bool,
) -> None:
    """The learner's grade for the source's item, created or replaced (an override the
    instructor set stays, and keeps winning). Once released, a change the learner can see
    (released now, or another score) tells them, and them alone, with a `grade`
    notification; their course completion is checked again after commit (a task). The
    item must have been registered (`register_item`)."""
    _check_kind(kind)
    item = await item_of(session, kind=kind, source_id=source_id)
    if item is None:
        raise LookupError(f"no grade item for {kind} {source_id}: register_item first")
    score = None if score is None else float(score)
    grade = await _locked_grade(session, item_id=item.id, user_id=user_id)
    was_released, was_effective = grade.released, grade.effective_score
    grade.score, grade.released = score, released
    grade.graded_at = grade.updated_at = utcnow()
    await session.flush()
    if released and (not was_released or grade.effective_score != was_effective):
        tell_learner(session, item=item, grade=grade)
    await request_check(session, course_id=item.course_id, user_ids=[user_id])


async def _locked_grade(session: AsyncSession, *, item_id: int, user_id: str) -> Grade:
    """The learner's row for the item, created empty if missing and held for this unit (a
    concurrent post of the same grade waits instead of creating it twice)."""
    now = utcnow()
    insert = conflict_insert(dialect_of(session))(Grade.__table__).values(
        item_id=item_id,
        user_id=user_id,
        score=None,
        override_score=None,
        override_reason="",
        released=False,
        graded_at=now,
        updated_at=now,
    )
    await session.execute(insert.on_conflict_do_nothing(index_elements=["item_id", "user_id"]))
    grade = await session.scalar(
        select(Grade)
        .where(Grade.item_id == item_id, Grade.user_id == user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert grade is not None
    return grade


def _points(value: float) -> str:
    return f"{value:g}"


def tell_learner(session: AsyncSession, *, item: GradeItem, grade: Grade) -> None:
    """A `grade` notification to the grade's learner alone, once this session commits.

    Each visible change is its own event (its key carries the change's time), so a regrade
    arrives as a new notification rather than being taken for the first one."""
    effective = grade.effective_score
    actor = acting(session)
    shown = "no score" if effective is None else f"{_points(effective)}/{_points(item.max_points)}"
    notify_users(
        session,
        # The learner is told even of their own work's grade (a quiz graded on submission).
        actor_id=actor.user_id if actor is not None and actor.user_id != grade.user_id else None,
        event_key=f"grade:{grade.id}:{int(grade.updated_at.timestamp() * 1_000_000)}",
        type_="grade",
        recipients=[grade.user_id],
        title=f"Grade for {item.title}: {shown}",
        data={
            "course_id": item.course_id,
            "item_id": item.id,
            "grade_id": grade.id,
            "kind": item.kind,
            "source_id": item.source_id,
            "score": effective,
            "max_points": item.max_points,
        },
    )
