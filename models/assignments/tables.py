"""Assignments tables (one set per tenant): assignments, each learner's submission, its
versions (every one kept) and their files."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import TenantBase, Timestamped, UTCDateTime
from models.people.tables import User, person_of

# Late policies: take late work as it is, take it with a penalty per started day, refuse it.
ACCEPT, PERCENT_PER_DAY, REFUSE = "accept", "percent_per_day", "refuse"
# Where a submission stands in the grading queue (its current version's grade).
UNGRADED, GRADED, RETURNED = "ungraded", "graded", "returned"


class Assignment(Timestamped, TenantBase):
    __tablename__ = "assignments"
    __table_args__ = (
        Index("ix_assignments_course_id", "course_id"),
        Index("ix_assignments_lesson_id", "lesson_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    lesson_id: Mapped[int | None] = mapped_column(
        ForeignKey("lessons.id", ondelete="SET NULL"), nullable=True
    )
    title: Mapped[str] = mapped_column(String(200))
    instructions: Mapped[str] = mapped_column(Text, default="")
    points: Mapped[float] = mapped_column(Float)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    late_policy: Mapped[str] = mapped_column(String(16), default=ACCEPT)
    late_percent_per_day: Mapped[float] = mapped_column(Float, default=0.0)
    # Extensions without the dot, lower case ("pdf", "docx"); empty: text only, no files.
    allowed_file_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    max_file_bytes: Mapped[int] = mapped_column(BigInteger)
    # [{"id": "clarity", "title": "Clarity", "points": 4.0}, ...]; empty: no rubric.
    rubric: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    is_published: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(128))

    # Who the user ids are (models/people/names.py), joined wherever the row is loaded.
    __people__ = ("created_by",)
    created_by_user: Mapped[User | None] = person_of("Assignment", "created_by")


class Submission(Timestamped, TenantBase):
    """A learner's work on one assignment: its versions, and the grade of the latest one
    graded. `status` is the grading queue's; the learner sees the grade only once returned."""

    __tablename__ = "submissions"
    __table_args__ = (
        UniqueConstraint("assignment_id", "user_id"),
        Index("ix_submissions_user_id", "user_id"),
        Index("ix_submissions_assignment_status", "assignment_id", "status"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(128))
    version: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default=UNGRADED)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The grade: what the grader gave, the late penalty taken off, what counts.
    graded_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    score_given: Mapped[float | None] = mapped_column(Float, nullable=True)
    late_penalty: Mapped[float | None] = mapped_column(Float, nullable=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    rubric_scores: Mapped[dict[str, float] | None] = mapped_column(JSON, nullable=True)
    feedback: Mapped[str] = mapped_column(Text, default="")
    graded_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    graded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Set when the grade is returned; cleared by a regrade until it is returned again.
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Every grade given, oldest first: {score, score_given, late_penalty, feedback,
    # rubric_scores, version, grader, at}.
    grade_history: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class SubmissionVersion(TenantBase):
    __tablename__ = "submission_versions"
    __table_args__ = (
        UniqueConstraint("submission_id", "number"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Started days past the due date when it was submitted (0: on time).
    days_late: Mapped[int] = mapped_column(Integer, default=0)


class SubmissionFile(TenantBase):
    __tablename__ = "submission_files"
    __table_args__ = (
        Index("ix_submission_files_version_id", "version_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("submission_versions.id", ondelete="CASCADE")
    )
    # Where it lies under the media root (never served from there) and the uploader's name.
    path: Mapped[str] = mapped_column(String(300))
    name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(200))
