"""The gradebook's rules, read by the gradebook and the completion check alike: a
course's items and grading settings, the weighted total, the letter, a pass.

The total is the share of points earned on the items a learner has a score for (an empty
grade counts for nothing, as Moodle's "exclude empty grades"). With category weights, each
category's share is weighted and the weights of categories with nothing graded are left
out (the others' rescaled)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from models.grades.tables import CourseGrading, GradeItem

Executor = AsyncSession | AsyncConnection


@dataclass(frozen=True, slots=True)
class Settings:
    weights: dict[str, float]
    letter_scheme: list[dict[str, Any]] | None
    completion: dict[str, Any] | None

    def fields(self) -> dict[str, Any]:
        return {
            "weights": self.weights,
            "letter_scheme": self.letter_scheme,
            "completion": self.completion,
        }


NO_SETTINGS = Settings({}, None, None)


# Rules


def total_percent(
    items: Sequence[GradeItem], scores: dict[int, float | None], weights: dict[str, float]
) -> float | None:
    """The weighted total, in percent (None: nothing graded yet). `scores` by item id."""
    earned: dict[str, float] = {}
    possible: dict[str, float] = {}
    for item in items:
        score = scores.get(item.id)
        if score is None:
            continue
        earned[item.category] = earned.get(item.category, 0.0) + score
        possible[item.category] = possible.get(item.category, 0.0) + item.max_points
    if not possible:
        return None
    if not any(w > 0 for w in weights.values()):
        return 100.0 * sum(earned.values()) / sum(possible.values())
    counted = {c: w for c, w in weights.items() if c in possible and w > 0}
    if not counted:
        return None
    weighted = sum(w * earned[c] / possible[c] for c, w in counted.items())
    return 100.0 * weighted / sum(counted.values())


def letter_for(percent: float | None, scheme: list[dict[str, Any]] | None) -> str | None:
    """The letter of the highest band whose `min` the total reaches."""
    if percent is None or not scheme:
        return None
    for band in sorted(scheme, key=lambda b: b["min"], reverse=True):
        if round(percent, 2) >= band["min"]:
            return str(band["letter"])
    return None


def passed(item: GradeItem, score: float | None) -> bool:
    """Scored at least the item's pass mark; an item without one is passed once scored."""
    if score is None:
        return False
    return item.pass_points is None or score >= item.pass_points


# Reads


async def course_items(db: Executor, *, course_id: int) -> list[GradeItem]:
    rows = await db.execute(
        select(GradeItem).where(GradeItem.course_id == course_id).order_by(GradeItem.id)
    )
    if isinstance(db, AsyncSession):
        return list(rows.scalars())
    return [GradeItem(**row._mapping) for row in rows]


# What `settings_from` reads, in its order.
SETTINGS_COLUMNS = (CourseGrading.weights, CourseGrading.letter_scheme, CourseGrading.completion)


async def settings_of(db: Executor, *, course_id: int) -> Settings:
    row = (
        await db.execute(select(*SETTINGS_COLUMNS).where(CourseGrading.course_id == course_id))
    ).first()
    return NO_SETTINGS if row is None else settings_from(*row)


def settings_from(weights: Any, letter_scheme: Any, completion: Any) -> Settings:
    """A course's settings from its `SETTINGS_COLUMNS` (all None: it has none)."""
    return Settings(dict(weights or {}), letter_scheme, completion)
