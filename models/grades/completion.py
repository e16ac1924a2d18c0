"""Completion: whether a learner meets their course's completion rule, checked by a task
whenever something it reads changes (a grade posted or overridden, lesson progress, the
rule itself), and the certificate that meeting it earns.

The rule (the course's grading settings, `completion`) holds only the conditions given:
`lessons_completed` ("all", or a percent of the course's lessons: its enrollment's
progress), `items_passed` ("all" of the course's grade items, or some: each scored at
least its `pass_points`), `min_total_percent` (the weighted total). Only released grades
count: a learner is never certified on what they cannot see. No rule: no certificates.
A certificate once issued stays (a later lower grade does not take it back; revoking it
is the instructor's), and a learner has at most one per course, ever."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.courses.tables import Enrollment, Lesson
from models.effects import enqueue_after_commit
from models.grades.rules import course_items, passed, settings_of, total_percent
from models.grades.tables import CourseGrading, Grade, GradeItem

CHECK_TASK = "grades.check_completion"
# Enrollees checked per statement when a whole course is checked.
CHECK_BATCH = 500
_EPSILON = 1e-9


async def request_check(
    session: AsyncSession,
    *,
    course_id: int,
    user_ids: Sequence[str] | None = None,
    enrollment_ids: Sequence[int] | None = None,
) -> None:
    """After this session commits, check these learners (named by user or enrollment; none
    named: every enrollee) against the course's rule, if it has one."""
    rule = await session.scalar(
        select(CourseGrading.completion).where(CourseGrading.course_id == course_id)
    )
    if not rule:
        return
    who: dict[str, Any] = {}
    if user_ids is not None:
        who["users"] = list(user_ids)
    if enrollment_ids is not None:
        who["enrollments"] = list(enrollment_ids)
    enqueue_after_commit(session, CHECK_TASK, course_id, who)


def _meets_lessons(rule: Any, progress: float, lesson_count: int) -> bool:
    if rule is None or lesson_count == 0:
        return True
    needed = 100.0 if rule == "all" else float(rule)
    return progress + _EPSILON >= needed


def meets_rule(
    rule: dict[str, Any],
    *,
    progress: float,
    lesson_count: int,
    items: Sequence[GradeItem],
    scores: dict[int, float | None],
    weights: dict[str, float],
) -> bool:
    """Whether one learner meets `rule`; `scores` are their released effective scores."""
    if not _meets_lessons(rule.get("lessons_completed"), progress, lesson_count):
        return False
    wanted = rule.get("items_passed")
    if wanted is not None:
        required = items if wanted == "all" else [i for i in items if i.id in set(wanted)]
        if not all(passed(item, scores.get(item.id)) for item in required):
            return False
    minimum = rule.get("min_total_percent")
    if minimum is not None:
        total = total_percent(items, scores, weights)
        if total is None or total + _EPSILON < float(minimum):
            return False
    return True


async def completers(session: AsyncSession, *, course_id: int, who: dict[str, Any]) -> list[str]:
    """Those of `who` (active enrollees of the course) who meet its rule now."""
    settings = await settings_of(session, course_id=course_id)
    rule = settings.completion
    if not rule:
        return []
    items = await course_items(session, course_id=course_id)
    lesson_count = len(
        list(await session.scalars(select(Lesson.id).where(Lesson.course_id == course_id)))
    )
    stmt = select(Enrollment.id, Enrollment.user_id, Enrollment.progress).where(
        Enrollment.course_id == course_id, Enrollment.is_active.is_(True)
    )
    if "users" in who:
        stmt = stmt.where(Enrollment.user_id.in_(who["users"]))
    if "enrollments" in who:
        stmt = stmt.where(Enrollment.id.in_(who["enrollments"]))
    found: list[str] = []
    after = 0
    while True:
        batch = (
            await session.execute(
                stmt.where(Enrollment.id > after).order_by(Enrollment.id).limit(CHECK_BATCH)
            )
        ).all()
        if not batch:
            return found
        after = batch[-1].id
        scores = await _released_scores(session, items, [row.user_id for row in batch])
        for row in batch:
            if meets_rule(
                rule,
                progress=row.progress,
                lesson_count=lesson_count,
                items=items,
                scores=scores.get(row.user_id, {}),
                weights=settings.weights,
            ):
                found.append(row.user_id)


async def _released_scores(
    session: AsyncSession, items: Sequence[GradeItem], user_ids: list[str]
) -> dict[str, dict[int, float | None]]:
    if not items or not user_ids:
        return {}
    rows = await session.execute(
        select(Grade.user_id, Grade.item_id, Grade.score, Grade.override_score).where(
            Grade.item_id.in_([i.id for i in items]),
            Grade.user_id.in_(user_ids),
            Grade.released.is_(True),
        )
    )
    scores: dict[str, dict[int, float | None]] = {}
    for row in rows:
        effective = row.override_score if row.override_score is not None else row.score
        scores.setdefault(row.user_id, {})[row.item_id] = effective
    return scores
