"""Grades tables (one set per tenant), after Moodle's grade_items and grade_grades.

A source (a quiz, an assignment) registers one `GradeItem` and posts each learner's
`Grade` for it (models/grades/record.py); the gradebook reads them. `CourseGrading` holds
the instructor's settings for a course; `Certificate` what completing the course earned."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
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

from models.base import TenantBase, Timestamped, UTCDateTime, utcnow

KINDS = ("quiz", "assignment")
# The category an item of each kind counts under, for the course's category weights.
CATEGORY_OF_KIND = {"quiz": "quizzes", "assignment": "assignments"}


class GradeItem(Timestamped, TenantBase):
    """Something graded in a course: one per quiz or assignment (`kind`, `source_id`)."""

    __tablename__ = "grade_items"
    __table_args__ = (
        UniqueConstraint("kind", "source_id"),
        Index("ix_grade_items_course_id", "course_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    max_points: Mapped[float] = mapped_column(Float)
    pass_points: Mapped[float | None] = mapped_column(Float, nullable=True)
    category: Mapped[str] = mapped_column(String(32))


class Grade(TenantBase):
    """One learner's grade for one item: the source's `score`, and the instructor's
    `override_score` (with its reason) that wins over it when set."""

    __tablename__ = "grades"
    __table_args__ = (
        UniqueConstraint("item_id", "user_id"),
        Index("ix_grades_user_id", "user_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("grade_items.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(128))
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    override_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    override_reason: Mapped[str] = mapped_column(Text, default="")
    released: Mapped[bool] = mapped_column(Boolean, default=False)
    graded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    @property
    def effective_score(self) -> float | None:
        """What counts: the override when one is set, else the source's score."""
        return self.override_score if self.override_score is not None else self.score


class CourseGrading(TenantBase):
    """A course's grading settings; no row: no weights, no letters, no completion rule."""

    __tablename__ = "course_grading"

    course_id: Mapped[int] = mapped_column(
        ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True
    )
    # {"quizzes": 40, "assignments": 60}; empty: every point counts the same.
    weights: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # [{"letter": "A", "min": 90}, ...] highest first; None: no letters.
    letter_scheme: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    # {"lessons_completed": ..., "items_passed": ..., "min_total_percent": ...}; None: the
    # course issues no certificate.
    completion: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Certificate(TenantBase):
    """What completing a course earned a learner: one per learner and course, ever."""

    __tablename__ = "certificates"
    __table_args__ = (
        UniqueConstraint("user_id", "course_id"),
        Index("ix_certificates_course_id", "course_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    # Random and url-safe: the public verification page's address.
    code: Mapped[str] = mapped_column(String(64), unique=True)
    holder_name: Mapped[str] = mapped_column(String(200))
    course_title: Mapped[str] = mapped_column(String(200))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoke_reason: Mapped[str] = mapped_column(Text, default="")
