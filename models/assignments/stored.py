"""Where submitted files lie: what to remove once the rows naming them are deleted (its own
module, tables only, so that deleting a course can ask without importing the assignments'
rules)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.assignments.tables import Assignment, Submission, SubmissionFile, SubmissionVersion


async def submitted_files(
    session: AsyncSession, *, assignment_id: int | None = None, course_id: int | None = None
) -> list[str]:
    """The files submitted to an assignment, or to every assignment of a course: what to
    remove once their deletion commits."""
    stmt = (
        select(SubmissionFile.path)
        .join(SubmissionVersion, SubmissionVersion.id == SubmissionFile.version_id)
        .join(Submission, Submission.id == SubmissionVersion.submission_id)
    )
    if assignment_id is not None:
        stmt = stmt.where(Submission.assignment_id == assignment_id)
    if course_id is not None:
        stmt = stmt.join(Assignment, Assignment.id == Submission.assignment_id).where(
            Assignment.course_id == course_id
        )
    return list((await session.scalars(stmt)).all())
