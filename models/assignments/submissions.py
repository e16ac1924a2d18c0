"""Submissions: a learner's work on an assignment, every version kept, and its grading.

One submission per learner and assignment; each submit adds a version (1, 2, ...) and
makes it the current one, until the due date, and after it unless the late policy
refuses. A submission is seen by its learner and by the course's instructor and admins;
anyone else gets 404. The grade is the grader's: the learner sees it once it is returned
(`returned_at`), and a regrade hides it again until it is returned again, as the gradebook
does (`post_grade(released=...)`).

Late work: a version's `days_late` counts started days past the due date (one second late
is one day). Under `percent_per_day`, grading takes `late_percent_per_day` percent of the
score given per day late (at most all of it) off the score: 8 given, 10% a day, 2 days
late: 8 - 1.6 = 6.4. Under `accept` late work is marked late and keeps its score; under
`refuse` it is not taken at all.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.assignments.operations import KIND, is_enrolled
from models.assignments.schemas import GradeCreate, SubmissionQuery
from models.assignments.tables import (
    GRADED,
    PERCENT_PER_DAY,
    REFUSE,
    RETURNED,
    UNGRADED,
    Assignment,
    Submission,
    SubmissionFile,
    SubmissionVersion,
)
from models.courses.structure import clean_file_name
from models.courses.tables import Course
from models.courses.visibility import can_change_course
from models.errors import BadRequest, NotFound, PermissionDenied, ValidationFailed, invalid_pk
from models.grades import record as gradebook
from models.identity import Principal
from models.listing import Listing

SUBMISSIONS = Listing(
    filters={
        "assignment": Submission.assignment_id,
        "status": Submission.status,
        "user_id": Submission.user_id,
    },
    ordering={"submitted_at": Submission.submitted_at, "id": Submission.id},
    default=(Submission.submitted_at.desc(),),
    tiebreak=Submission.id.desc(),
)
# Files one version may carry.
MAX_FILES = 10
PAST_DUE = "The due date has passed: this assignment takes no more submissions."
NOTHING_SUBMITTED = "Submit a text, at least one file, or both."
NOT_A_LEARNER = "Only the course's enrolled learners submit work."
GRADE_FIRST = "Grade the current version before returning it."
DAY_SECONDS = 86_400


# Who sees a submission


def _graded_by(actor: Principal) -> Any:
    """The condition on `Submission` that the actor grades it (their course's)."""
    courses = select(Course.id).where(Course.instructor_id == actor.user_id)
    return Submission.assignment_id.in_(
        select(Assignment.id).where(Assignment.course_id.in_(courses))
    )


def submissions_query(actor: Principal, query: SubmissionQuery) -> Select[Any]:
    """A learner's own submissions; a grader's courses' too; an admin's, all."""
    stmt = select(Submission)
    if not actor.is_admin:
        stmt = stmt.where(or_(Submission.user_id == actor.user_id, _graded_by(actor)))
    return SUBMISSIONS.apply(stmt, query)


@dataclass(frozen=True, slots=True)
class Found:
    submission: Submission
    assignment: Assignment
    course: Course

    def grades(self, actor: Principal) -> bool:
        return can_change_course(actor, self.course)


async def access_submission(
    session: AsyncSession, *, actor: Principal, submission_id: int
) -> Found:
    """The submission, to its learner and the course's instructor and admins (404 else)."""
    row = (
        await session.execute(
            select(Submission, Assignment, Course)
            .join(Assignment, Assignment.id == Submission.assignment_id)
            .join(Course, Course.id == Assignment.course_id)
            .where(Submission.id == submission_id)
        )
    ).one_or_none()
    if row is None:
        raise NotFound()
    found = Found(*row)
    if found.submission.user_id != actor.user_id and not found.grades(actor):
        raise NotFound()
    return found


def grade_shown(actor: Principal, submission: Submission, course: Course) -> bool:
    """The grade is the graders' until returned; then its learner's too."""
    return submission.returned_at is not None or can_change_course(actor, course)


def check_grader(actor: Principal, found: Found) -> None:
    """Only the course's instructor and admins grade and return (the learner: 403)."""
    if not found.grades(actor):
        raise PermissionDenied()


async def access_file(
    session: AsyncSession, *, actor: Principal, submission_id: int, file_id: int
) -> SubmissionFile:
    """A file of any version of the submission, to whoever may see the submission."""
    found = await access_submission(session, actor=actor, submission_id=submission_id)
    file = await session.scalar(
        select(SubmissionFile)
        .join(SubmissionVersion, SubmissionVersion.id == SubmissionFile.version_id)
        .where(
            SubmissionFile.id == file_id,
            SubmissionVersion.submission_id == found.submission.id,
        )
    )
    if file is None:
        raise NotFound()
    return file


# Submitting


@dataclass(frozen=True, slots=True)
class Target:
    """An assignment the actor may submit to now, and how late that is."""

    assignment: Assignment
    course: Course
    days_late: int


def days_late(assignment: Assignment, now: datetime) -> int:
    """Started days past the due date (0: on time, or no due date)."""
    if assignment.due_at is None or now <= assignment.due_at:
        return 0
    return math.ceil((now - assignment.due_at).total_seconds() / DAY_SECONDS)


async def check_submission_target(
    session: AsyncSession, *, actor: Principal, assignment_id: int, now: datetime
) -> Target:
    """The assignment a submission names, if the actor may submit to it now.

    One the actor cannot see is a 400 on `assignment` (as an id naming nothing); its
    course's instructor or an admin who is not enrolled, a 403; past the due date under
    `refuse`, a 403 that says so.
    """
    row = (
        await session.execute(
            select(Assignment, Course)
            .join(Course, Course.id == Assignment.course_id)
            .where(Assignment.id == assignment_id)
        )
    ).one_or_none()
    if row is None:
        raise ValidationFailed.field("assignment", invalid_pk(assignment_id))
    assignment, course = row
    learner = assignment.is_published and await is_enrolled(
        session, actor=actor, course_id=course.id
    )
    if not learner:
        if can_change_course(actor, course):
            raise PermissionDenied(NOT_A_LEARNER)
        raise ValidationFailed.field("assignment", invalid_pk(assignment_id))
    late = days_late(assignment, now)
    if late and assignment.late_policy == REFUSE:
        raise PermissionDenied(PAST_DUE)
    return Target(assignment, course, late)


@dataclass(frozen=True, slots=True)
class NewFile:
    """A file already stored under the media root for the new version."""

    path: str
    name: str | None
    size: int
    content_type: str


async def do_submit(
    session: AsyncSession,
    *,
    actor: Principal,
    target: Target,
    text: str,
    files: Sequence[NewFile],
    now: datetime,
) -> Submission:
    """Add a version to the actor's submission (created with the first), after
    `check_submission_target`; the version awaits grading (`ungraded`)."""
    if not text.strip() and not files:
        raise ValidationFailed(NOTHING_SUBMITTED)
    submission = await session.scalar(
        select(Submission)
        .where(
            Submission.assignment_id == target.assignment.id,
            Submission.user_id == actor.user_id,
        )
        .with_for_update()
    )
    if submission is None:
        submission = Submission(
            assignment_id=target.assignment.id,
            user_id=actor.user_id,
            version=1,
            status=UNGRADED,
            submitted_at=now,
            feedback="",
            grade_history=[],
        )
        session.add(submission)
    else:
        submission.version += 1
        submission.status = UNGRADED
        submission.submitted_at = now
    await session.flush()
    version = SubmissionVersion(
        submission_id=submission.id,
        number=submission.version,
        text=text,
        submitted_at=now,
        days_late=target.days_late,
    )
    session.add(version)
    await session.flush()
    session.add_all(
        SubmissionFile(
            version_id=version.id,
            path=f.path,
            name=clean_file_name(f.name) or f"file-{i}",
            size=f.size,
            content_type=f.content_type[:200],
        )
        for i, f in enumerate(files, start=1)
    )
    await session.flush()
    return submission


# Grading


def _check_rubric_scores(assignment: Assignment, scores: dict[str, float]) -> float:
    """Each criterion scored once, within its points; returns their sum."""
    criteria = {str(c["id"]): float(c["points"]) for c in assignment.rubric}
    if not criteria:
        raise ValidationFailed.field("rubric_scores", "This assignment has no rubric.")
    unknown = sorted(set(scores) - set(criteria))
    if unknown:
        raise ValidationFailed.field("rubric_scores", f"No such criterion: {', '.join(unknown)}.")
    missing = [c for c in criteria if c not in scores]
    if missing:
        raise ValidationFailed.field(
            "rubric_scores", f"Score every criterion: {', '.join(missing)}."
        )
    for criterion, score in scores.items():
        if score > criteria[criterion]:
            raise ValidationFailed.field(
                "rubric_scores",
                f"{criterion}: ensure this value is less than or equal to {criteria[criterion]:g}.",
            )
    return sum(scores.values())


def late_penalty(assignment: Assignment, score: float, days: int) -> float:
    """The points a late version loses (module docstring)."""
    if assignment.late_policy != PERCENT_PER_DAY or days <= 0:
        return 0.0
    percent = min(100.0, assignment.late_percent_per_day * days)
    return round(score * percent / 100, 2)


async def current_version(session: AsyncSession, submission: Submission) -> SubmissionVersion:
    version = await session.scalar(
        select(SubmissionVersion).where(
            SubmissionVersion.submission_id == submission.id,
            SubmissionVersion.number == submission.version,
        )
    )
    assert version is not None  # every submission has its current version
    return version


async def do_grade(
    session: AsyncSession, *, actor: Principal, found: Found, data: GradeCreate, now: datetime
) -> Submission:
    """Grade the current version (after `check_grader`): the score given, less the late
    penalty, goes to the gradebook unreleased; the learner sees it once returned."""
    submission, assignment = found.submission, found.assignment
    rubric_sum = None
    if data.rubric_scores is not None:
        rubric_sum = _check_rubric_scores(assignment, data.rubric_scores)
    given = data.score if data.score is not None else rubric_sum
    if given is None:
        raise ValidationFailed.field("score", "This field is required (or rubric_scores).")
    if given > assignment.points:
        raise ValidationFailed.field(
            "score", f"Ensure this value is less than or equal to {assignment.points:g}."
        )
    given = round(given, 2)
    version = await current_version(session, submission)
    penalty = late_penalty(assignment, given, version.days_late)
    score = round(max(0.0, given - penalty), 2)
    submission.graded_version = submission.version
    submission.score_given, submission.late_penalty, submission.score = given, penalty, score
    submission.rubric_scores = data.rubric_scores
    submission.feedback = data.feedback
    submission.graded_by, submission.graded_at = actor.user_id, now
    submission.status, submission.returned_at = GRADED, None
    entry = {
        "score": score,
        "score_given": given,
        "late_penalty": penalty,
        "feedback": data.feedback,
        "rubric_scores": data.rubric_scores,
        "version": submission.version,
        "grader": actor.user_id,
        "at": now.isoformat().replace("+00:00", "Z"),
    }
    submission.grade_history = [*submission.grade_history, entry]
    await session.flush()
    await gradebook.post_grade(
        session,
        kind=KIND,
        source_id=assignment.id,
        user_id=submission.user_id,
        score=score,
        released=False,
    )
    return submission


async def do_return(session: AsyncSession, *, found: Found, now: datetime) -> Submission:
    """Return the current version's grade to the learner (after `check_grader`): they see
    it, and the gradebook releases it, telling them alone. Returning it again changes
    nothing."""
    submission = found.submission
    if submission.status == RETURNED:
        return submission
    if submission.status != GRADED:
        raise BadRequest(GRADE_FIRST)
    submission.status, submission.returned_at = RETURNED, now
    await session.flush()
    await gradebook.post_grade(
        session,
        kind=KIND,
        source_id=found.assignment.id,
        user_id=submission.user_id,
        score=submission.score,
        released=True,
    )
    return submission


# What a response shows


@dataclass(frozen=True, slots=True)
class VersionView:
    version: SubmissionVersion
    files: list[SubmissionFile]


async def version_views(
    session: AsyncSession, *, submission_ids: Sequence[int], all_versions: bool
) -> dict[int, list[VersionView]]:
    """Each submission's versions (newest first; only the current one unless
    `all_versions`) with their files: two statements for a page."""
    if not submission_ids:
        return {}
    stmt = select(SubmissionVersion).where(SubmissionVersion.submission_id.in_(submission_ids))
    if not all_versions:
        stmt = stmt.join(
            Submission,
            (Submission.id == SubmissionVersion.submission_id)
            & (Submission.version == SubmissionVersion.number),
        )
    versions = list((await session.scalars(stmt.order_by(SubmissionVersion.number.desc()))).all())
    files: dict[int, list[SubmissionFile]] = {}
    if versions:
        rows = await session.scalars(
            select(SubmissionFile)
            .where(SubmissionFile.version_id.in_([v.id for v in versions]))
            .order_by(SubmissionFile.id)
        )
        for file in rows.all():
            files.setdefault(file.version_id, []).append(file)
    views: dict[int, list[VersionView]] = {}
    for version in versions:
        views.setdefault(version.submission_id, []).append(
            VersionView(version, files.get(version.id, []))
        )
    return views


async def course_of_assignments(
    session: AsyncSession, *, assignment_ids: set[int]
) -> dict[int, Course]:
    """Each assignment's course, for a page of submissions (who grades each)."""
    if not assignment_ids:
        return {}
    rows = await session.execute(
        select(Assignment.id, Course)
        .join(Course, Course.id == Assignment.course_id)
        .where(Assignment.id.in_(assignment_ids))
    )
    return {assignment_id: course for assignment_id, course in rows.all()}
