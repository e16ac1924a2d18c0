"""Assignments: who sees them, who changes them, and the changes.

A course's instructor and admins see and change all of its assignments; its active
enrollees see its published ones; everyone else gets 404, as for what does not exist.
Each assignment is a gradebook item (`models/grades/record.py`), kept up to date with it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, exists, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from models.assignments.schemas import AssignmentCreate, AssignmentQuery, AssignmentUpdate
from models.assignments.stored import submitted_files
from models.assignments.tables import Assignment, Submission
from models.courses.operations import check_published_item, row_with_course
from models.courses.structure import access_parent_course
from models.courses.tables import Course, Enrollment, Lesson
from models.errors import NotFound, ValidationFailed, invalid_pk
from models.grades import record as gradebook
from models.identity import Principal
from models.listing import ACTOR_PARAM, Listing, ListShape, PageRequest, PageResult, counted
from models.validation import check_changes

KIND = "assignment"
# An assignment's file limit when its instructor names none (the server's, if lower).
DEFAULT_MAX_FILE_BYTES = 10 * 1024 * 1024

ASSIGNMENTS = Listing(
    filters={
        "course": Assignment.course_id,
        "lesson": Assignment.lesson_id,
        "is_published": Assignment.is_published,
    },
    ordering={
        "due_at": Assignment.due_at,
        "created_at": Assignment.created_at,
        "title": Assignment.title,
    },
    default=(Assignment.created_at.desc(),),
    tiebreak=Assignment.id.desc(),
)


# Who sees an assignment


def enrolled_in(actor: Principal, course_id: Any) -> ColumnElement[bool]:
    """The actor is an active enrollee of the course (a column or a value)."""
    return _enrolled(actor.user_id, course_id)


def _enrolled(user: Any, course_id: Any) -> ColumnElement[bool]:
    return exists().where(
        Enrollment.course_id == course_id,
        Enrollment.user_id == user,
        Enrollment.is_active.is_(True),
    )


def visible_assignments(actor: Principal) -> ColumnElement[bool]:
    """The condition on `Assignment` that the actor may see it."""
    return _visible(actor.is_admin, actor.user_id)


def _visible(is_admin: bool, user: Any) -> ColumnElement[bool]:
    """`visible_assignments` for a user given as a value or as a bound parameter."""
    if is_admin:
        return true()
    managed = Assignment.course_id.in_(select(Course.id).where(Course.instructor_id == user))
    return or_(
        managed, and_(Assignment.is_published.is_(True), _enrolled(user, Assignment.course_id))
    )


async def is_enrolled(session: AsyncSession, *, actor: Principal, course_id: int) -> bool:
    return bool(await session.scalar(select(enrolled_in(actor, course_id))))


async def assignment_and_course(
    session: AsyncSession, assignment_id: int
) -> tuple[Assignment, Course] | None:
    """The assignment and its course, whoever asks (the caller decides who may see it)."""
    row = await row_with_course(session, Assignment, assignment_id)
    return None if row is None else (row[0], row[1])


async def access_assignment(
    session: AsyncSession, *, actor: Principal, assignment_id: int, for_change: bool = False
) -> tuple[Assignment, Course]:
    """The assignment and its course, if the actor may see it (404 otherwise) and, for a
    change, may change it (403): the assignment, its course and the actor's enrollment in
    one statement."""
    found = await row_with_course(session, Assignment, assignment_id, enrolled_in(actor, Course.id))
    if found is None:
        raise NotFound()
    assignment, course, enrolled = found
    check_published_item(
        actor,
        course,
        published=assignment.is_published,
        enrolled=bool(enrolled),
        for_change=for_change,
    )
    return assignment, course


async def assignment_page(
    session: AsyncSession, *, actor: Principal, query: AssignmentQuery, page: PageRequest
) -> PageResult:
    statement = functools.partial(_assignments_statement, actor.is_admin)
    return await ASSIGNMENTS.page_of(session, statement, query, page, {ACTOR_PARAM: actor.user_id})


@functools.lru_cache(maxsize=256)
def _assignments_statement(is_admin: bool, shape: ListShape) -> Select[Any]:
    stmt = select(Assignment).where(_visible(is_admin, bindparam(ACTOR_PARAM)))
    return ASSIGNMENTS.apply_shape(counted(stmt), shape)


# Changes


@dataclass(frozen=True, slots=True)
class Limits:
    """What the server allows, from its settings."""

    max_file_bytes: int


def default_max_file_bytes(limits: Limits) -> int:
    return min(DEFAULT_MAX_FILE_BYTES, limits.max_file_bytes)


async def access_assignment_course(
    session: AsyncSession, *, actor: Principal, course_id: int
) -> Course:
    """The course a new assignment names: 400 on `course` if the actor cannot see it,
    403 if they may not change it."""
    return await access_parent_course(session, actor=actor, course_id=course_id)


async def _check_lesson(session: AsyncSession, *, course: Course, lesson_id: int | None) -> None:
    if lesson_id is None:
        return
    lesson = await session.get(Lesson, lesson_id)
    if lesson is None or lesson.course_id != course.id:
        raise ValidationFailed.field("lesson", invalid_pk(lesson_id))


def _check_state(fields: dict[str, Any], limits: Limits) -> None:
    """What must hold of an assignment as a whole, after a create or a change."""
    if fields["max_file_bytes"] > limits.max_file_bytes:
        raise ValidationFailed.field(
            "max_file_bytes",
            f"Ensure this value is less than or equal to {limits.max_file_bytes} "
            "(the server's upload limit).",
        )
    rubric = fields["rubric"]
    if rubric:
        total = sum(float(c["points"]) for c in rubric)
        if abs(total - float(fields["points"])) > 1e-6:
            raise ValidationFailed.field(
                "rubric",
                f"The criteria's points add up to {total:g}; the assignment is worth "
                f"{float(fields['points']):g}.",
            )


async def do_create_assignment(
    session: AsyncSession,
    *,
    actor: Principal,
    course: Course,
    data: AssignmentCreate,
    limits: Limits,
) -> Assignment:
    """Create an assignment of `course` (after `access_assignment_course`) and its
    gradebook item."""
    await _check_lesson(session, course=course, lesson_id=data.lesson)
    fields = data.model_dump(exclude={"course", "lesson"})
    if fields["max_file_bytes"] is None:
        fields["max_file_bytes"] = default_max_file_bytes(limits)
    _check_state(fields, limits)
    assignment = Assignment(
        course_id=course.id, lesson_id=data.lesson, created_by=actor.user_id, **fields
    )
    session.add(assignment)
    await session.flush()
    await _register(session, assignment)
    return assignment


async def do_update_assignment(
    session: AsyncSession,
    *,
    assignment: Assignment,
    course: Course,
    data: AssignmentUpdate,
    limits: Limits,
) -> Assignment:
    """Apply a PATCH or PUT (after `access_assignment(..., for_change=True)`)."""
    changes = check_changes(data)
    if "max_file_bytes" in changes and changes["max_file_bytes"] is None:
        changes["max_file_bytes"] = default_max_file_bytes(limits)
    if "lesson" in changes:
        await _check_lesson(session, course=course, lesson_id=changes["lesson"])
        changes["lesson_id"] = changes.pop("lesson")
    state = {
        name: changes.get(name, getattr(assignment, name)) for name in ("points", "max_file_bytes")
    }
    state["rubric"] = changes.get("rubric", assignment.rubric)
    # A server limit lowered since is no reason to refuse a change of something else.
    if "max_file_bytes" not in changes:
        state["max_file_bytes"] = min(state["max_file_bytes"], limits.max_file_bytes)
    _check_state(state, limits)
    if "points" in changes:
        await _check_graded_within(session, assignment=assignment, points=changes["points"])
    for name, value in changes.items():
        setattr(assignment, name, value)
    await session.flush()
    await _register(session, assignment)
    return assignment


async def _check_graded_within(
    session: AsyncSession, *, assignment: Assignment, points: float
) -> None:
    """Points may not fall below a score already given: the grade would exceed its item."""
    highest = await session.scalar(
        select(func.max(Submission.score_given)).where(Submission.assignment_id == assignment.id)
    )
    if highest is not None and highest > points:
        raise ValidationFailed.field(
            "points",
            f"A submission is graded {highest:g}: regrade it before lowering the points.",
        )


async def _register(session: AsyncSession, assignment: Assignment) -> None:
    await gradebook.register_item(
        session,
        course_id=assignment.course_id,
        kind=KIND,
        source_id=assignment.id,
        title=assignment.title,
        max_points=assignment.points,
    )


async def do_delete_assignment(session: AsyncSession, *, assignment: Assignment) -> list[str]:
    """Delete the assignment, its submissions and its gradebook item (the grades with it);
    returns the submitted files, to remove once committed."""
    paths = await submitted_files(session, assignment_id=assignment.id)
    await gradebook.remove_item(session, kind=KIND, source_id=assignment.id)
    await session.delete(assignment)
    await session.flush()
    return paths


def assignment_fields(assignment: Assignment) -> dict[str, Any]:
    a = assignment
    return {
        "id": a.id,
        "course": a.course_id,
        "lesson": a.lesson_id,
        "title": a.title,
        "instructions": a.instructions,
        "points": a.points,
        "due_at": a.due_at,
        "late_policy": a.late_policy,
        "late_percent_per_day": a.late_percent_per_day,
        "allowed_file_types": a.allowed_file_types,
        "max_file_bytes": a.max_file_bytes,
        "rubric": a.rubric,
        "is_published": a.is_published,
        "created_by": a.created_by,
        "created_at": a.created_at,
        "updated_at": a.updated_at,
    }
