"""The gradebook: a course's items, its enrollees' effective scores, their weighted totals
and letters (its instructor and admins, rules in models/grades/rules.py); the course's
grading settings; overrides; and a learner's own released grades."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from models.base import utcnow
from models.courses.operations import access_course, check_course_access
from models.courses.tables import Course, Enrollment
from models.courses.visibility import can_change_course, course_visible
from models.dialects import conflict_insert, dialect_of
from models.errors import NotFound, PermissionDenied, ValidationFailed, invalid_pk
from models.grades.completion import request_check
from models.grades.record import tell_learner
from models.grades.rules import (
    SETTINGS_COLUMNS,
    Executor,
    Settings,
    letter_for,
    settings_from,
    total_percent,
)
from models.grades.schemas import GradeOverride, GradingSettings
from models.grades.tables import CourseGrading, Grade, GradeItem
from models.identity import Principal
from models.listing import (
    LIMIT_PARAM,
    OFFSET_PARAM,
    PageRequest,
    PageResult,
    counted,
    paginate_built,
)
from models.one_of import one_of
from models.people.tables import User

# Enrollees read at a time by the CSV export (each batch one statement, and one for grades).
EXPORT_BATCH = 500


@dataclass(frozen=True, slots=True)
class Cell:
    """One learner's grade for one item, as the gradebook reads it."""

    grade_id: int
    score: float | None
    override_score: float | None
    released: bool

    @property
    def effective(self) -> float | None:
        return self.override_score if self.override_score is not None else self.score


# Reads


async def access_gradebook(session: AsyncSession, *, actor: Principal, course_id: int) -> Course:
    """The course, if the actor grades it (its instructor, admins): 404 unseen, 403 else."""
    return await access_course(session, actor=actor, course_id=course_id, for_change=True)


async def access_grading(session: AsyncSession, *, actor: Principal, course_id: int) -> Settings:
    """`access_gradebook`, and the course's grading settings read with the course in the
    same statement."""
    found = (
        await session.execute(
            select(Course, *SETTINGS_COLUMNS)
            .outerjoin(CourseGrading, CourseGrading.course_id == Course.id)
            .where(Course.id == course_id)
        )
    ).first()
    if found is None:
        raise NotFound()
    check_course_access(actor, found[0], for_change=True)
    return settings_from(*found[1:])


# The course's enrollees, in enrollment order, the course bound as `_COURSE`.
_COURSE = "lms_course"
_ENROLLEES: Any = (
    select(
        Enrollment.id,
        Enrollment.user_id,
        func.coalesce(User.name, Enrollment.user_id).label("name"),
        User.picture,
        Enrollment.is_active,
    )
    .outerjoin(User, User.user_id == Enrollment.user_id)
    .where(Enrollment.course_id == bindparam(_COURSE))
    .order_by(Enrollment.id)
)
# A page of them, the total riding on each row.
_ENROLLEES_PAGE = counted(_ENROLLEES).limit(bindparam(LIMIT_PARAM)).offset(bindparam(OFFSET_PARAM))
# A batch of the export, after the last enrollment id it holds.
_ENROLLEES_AFTER = _ENROLLEES.where(Enrollment.id > bindparam("after")).limit(bindparam("batch"))
# The grades of some learners (`users`) for some items (`items`).
_CELLS = select(
    Grade.user_id,
    Grade.item_id,
    Grade.id,
    Grade.score,
    Grade.override_score,
    Grade.released,
).where(one_of(Grade.item_id, "items"), one_of(Grade.user_id, "users"))


async def cells_of(
    db: Executor, *, item_ids: Sequence[int], user_ids: Sequence[str]
) -> dict[tuple[str, int], Cell]:
    """The grades of these learners for these items, by (user, item)."""
    if not item_ids or not user_ids:
        return {}
    rows = await db.execute(_CELLS, {"items": list(item_ids), "users": list(user_ids)})
    return {(r.user_id, r.item_id): Cell(r.id, r.score, r.override_score, r.released) for r in rows}


@dataclass(frozen=True, slots=True)
class Line:
    """One enrollee's row of the gradebook."""

    user_id: str
    name: str
    picture: str | None
    is_active: bool
    cells: list[Cell | None]
    total: float | None
    letter: str | None


def _lines(
    enrollees: Sequence[Any],
    items: Sequence[GradeItem],
    cells: dict[tuple[str, int], Cell],
    settings: Settings,
) -> list[Line]:
    lines = []
    for row in enrollees:
        own = [cells.get((row.user_id, item.id)) for item in items]
        scores = {item.id: cell.effective for item, cell in zip(items, own, strict=True) if cell}
        total = total_percent(items, scores, settings.weights)
        total = None if total is None else round(total, 2)
        letter = letter_for(total, settings.letter_scheme)
        lines.append(Line(row.user_id, row.name, row.picture, row.is_active, own, total, letter))
    return lines


async def gradebook_page(
    session: AsyncSession,
    *,
    course_id: int,
    items: Sequence[GradeItem],
    settings: Settings,
    page: PageRequest,
) -> PageResult:
    """One page of the enrollees' lines, and their count (call `access_gradebook` first)."""
    result = await paginate_built(
        session, _ENROLLEES_PAGE, {_COURSE: course_id}, page, whole_rows=True
    )
    enrollees = result.rows
    cells = await cells_of(
        session, item_ids=[i.id for i in items], user_ids=[r.user_id for r in enrollees]
    )
    lines = _lines(enrollees, items, cells, settings)
    return PageResult(count=result.count, rows=lines, page=page)


async def gradebook_batches(
    connection: AsyncConnection,
    *,
    course_id: int,
    items: Sequence[GradeItem],
    settings: Settings,
) -> Any:
    """Every enrollee's line, EXPORT_BATCH enrollees at a time (keyset on the enrollment
    id): memory stays flat whatever the course's size."""
    after = 0
    while True:
        values = {_COURSE: course_id, "after": after, "batch": EXPORT_BATCH}
        enrollees = (await connection.execute(_ENROLLEES_AFTER, values)).all()
        if not enrollees:
            return
        cells = await cells_of(
            connection, item_ids=[i.id for i in items], user_ids=[r.user_id for r in enrollees]
        )
        yield _lines(enrollees, items, cells, settings)
        after = enrollees[-1].id


# Settings


async def check_settings(
    session: AsyncSession, *, course_id: int, data: GradingSettings
) -> GradingSettings:
    """The items a completion rule names must be the course's (400 otherwise)."""
    rule = data.completion
    if rule is not None and isinstance(rule.items_passed, list) and rule.items_passed:
        known = set(
            await session.scalars(
                select(GradeItem.id).where(
                    GradeItem.course_id == course_id, GradeItem.id.in_(rule.items_passed)
                )
            )
        )
        unknown = [i for i in rule.items_passed if i not in known]
        if unknown:
            raise ValidationFailed.field("completion.items_passed", invalid_pk(unknown[0]))
    return data


async def do_set_settings(
    session: AsyncSession, *, course_id: int, data: GradingSettings
) -> Settings:
    weights: dict[str, float] = {str(k): v for k, v in data.weights.items()}
    scheme = (
        None if data.letter_scheme is None else [band.model_dump() for band in data.letter_scheme]
    )
    completion = None if data.completion is None else data.completion.model_dump()
    values: dict[str, Any] = {
        "course_id": course_id,
        "weights": weights,
        "letter_scheme": scheme,
        "completion": completion,
        "updated_at": utcnow(),
    }
    insert = conflict_insert(dialect_of(session))(CourseGrading.__table__).values(values)
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=["course_id"],
            set_={k: insert.excluded[k] for k in values if k != "course_id"},
        )
    )
    # A new rule may already be met by some (their certificates follow).
    await request_check(session, course_id=course_id)
    return Settings(weights, scheme, completion)


# Overrides


async def access_grade(
    session: AsyncSession, *, actor: Principal, grade_id: int
) -> tuple[Grade, GradeItem, Course]:
    """A grade the actor may override: its course's instructor, admins. 404 for any other
    grade, but 403 for the learner's own released grade (they see it, may not change it)."""
    row = (
        await session.execute(
            select(Grade, GradeItem, Course)
            .join(GradeItem, GradeItem.id == Grade.item_id)
            .join(Course, Course.id == GradeItem.course_id)
            .where(Grade.id == grade_id)
            .with_for_update(of=Grade)
        )
    ).first()
    if row is None:
        raise NotFound()
    grade, item, course = row
    if can_change_course(actor, course):
        return grade, item, course
    if grade.user_id == actor.user_id and grade.released and course_visible(actor, course):
        raise PermissionDenied()
    raise NotFound()


def check_override(item: GradeItem, data: GradeOverride) -> None:
    score = data.override_score
    if score is None:
        return
    errors: dict[str, list[str]] = {}
    if not 0 <= score <= item.max_points:
        errors["override_score"] = [
            f"Ensure this value is between 0 and the item's max_points ({item.max_points:g})."
        ]
    if not data.reason:
        errors["reason"] = ["A reason is required to override a score."]
    if errors:
        raise ValidationFailed(errors)


async def do_override(
    session: AsyncSession, *, grade: Grade, item: GradeItem, data: GradeOverride
) -> str:
    """Set or clear the override; a released change the learner sees tells them. Returns
    what changed, for the audit trail."""
    before = grade.effective_score
    old = grade.override_score
    grade.override_score = data.override_score
    grade.override_reason = data.reason
    grade.updated_at = utcnow()
    await session.flush()
    if grade.released and grade.effective_score != before:
        tell_learner(session, item=item, grade=grade)
    await request_check(session, course_id=item.course_id, user_ids=[grade.user_id])

    def shown(value: float | None) -> str:
        return "none" if value is None else f"{value:g}"

    return (
        f"Grade {grade.id} ({item.kind} {item.source_id}, user {grade.user_id}): override "
        f"{shown(old)} -> {shown(grade.override_score)}; reason: {data.reason or '-'}"
    )[:2000]


# A learner's own grades


def my_grades_query(actor: Principal, course_id: int | None) -> Any:
    """The actor's released grades, newest first, with their items and courses."""
    stmt: Any = (
        select(Grade, GradeItem, Course.title)
        .join(GradeItem, GradeItem.id == Grade.item_id)
        .join(Course, Course.id == GradeItem.course_id)
        .where(Grade.user_id == actor.user_id, Grade.released.is_(True))
        .order_by(Grade.graded_at.desc(), Grade.id.desc())
    )
    if course_id is not None:
        stmt = stmt.where(GradeItem.course_id == course_id)
    return stmt
