"""Jobs (one per request that hands work to a worker) and the rows a job works through."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import TenantBase, UTCDateTime, utcnow
from models.people.tables import User, person_of


class Job(TenantBase):
    """Work a user asked for, done by a worker in batches; its counts move batch by batch,
    in the same transaction as the batch's changes."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_created_by_created", "created_by", "created_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    created_by: Mapped[str] = mapped_column(String(128))
    # queued, running, done or failed.
    status: Mapped[str] = mapped_column(String(16), default="queued")
    # The course a bulk enrollment enrolls in (no foreign key: the job outlives the course).
    course_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    # Enrollments the job made (new ones, or inactive ones made active again).
    enrolled: Mapped[int] = mapped_column(Integer, default=0)
    # The last `job_rows.id` applied: a redelivered task resumes after it.
    cursor: Mapped[int] = mapped_column(Integer, default=0)
    # [{row, user_id, error}], the first ERRORS_KEPT of them.
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=lambda: [])
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    # Who the user ids are (models/people/names.py), joined wherever the row is loaded.
    __people__ = ("created_by",)
    created_by_user: Mapped[User | None] = person_of("Job", "created_by")


class JobRow(TenantBase):
    """One valid input row of a job, until the job is finished (then its rows are deleted)."""

    __tablename__ = "job_rows"
    __table_args__ = (
        Index("ix_job_rows_job_id_id", "job_id", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    row: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
