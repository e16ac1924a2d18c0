"""Schedules tables (one set per tenant): schedules and their participants."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.base import TenantBase, Timestamped, UTCDateTime, utcnow
from models.people.tables import User, person_of


class Schedule(Timestamped, TenantBase):
    __tablename__ = "schedules"
    __table_args__ = (
        Index("ix_schedules_created_by", "created_by"),
        Index("ix_schedules_start_time", "start_time"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    start_time: Mapped[datetime] = mapped_column(UTCDateTime())
    end_time: Mapped[datetime] = mapped_column(UTCDateTime())
    location: Mapped[str] = mapped_column(String(500), default="")
    is_all_day: Mapped[bool] = mapped_column(Boolean, default=False)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    recurrence: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # When the last occurrence ends: end_time without a rule, a COUNT or UNTIL rule's end,
    # null for a rule that never ends. Lets a window query skip finished series in SQL.
    series_end: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="scheduled")
    created_by: Mapped[str] = mapped_column(String(128))

    # Who the user ids are (models/people/names.py), joined wherever the row is loaded.
    __people__ = ("created_by",)
    created_by_user: Mapped[User | None] = person_of("Schedule", "created_by")


class ScheduleParticipant(TenantBase):
    """A user or a whole group invited to a schedule.

    A member of an invited group who responds gets a user row of their own with
    `via_group_id` set: it records the response but grants nothing by itself, so leaving
    the group (or the group leaving the schedule) still ends their access at once.
    """

    __tablename__ = "schedule_participants"
    __table_args__ = (
        UniqueConstraint("schedule_id", "user_id"),
        UniqueConstraint("schedule_id", "group_id"),
        CheckConstraint("(user_id IS NULL) <> (group_id IS NULL)", name="user_or_group"),
        Index("ix_schedule_participants_user_id", "user_id"),
        Index("ix_schedule_participants_group_id", "group_id"),
        Index("ix_schedule_participants_via_group_id", "via_group_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"))
    user_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), nullable=True
    )
    via_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), nullable=True
    )
    is_optional: Mapped[bool] = mapped_column(Boolean, default=False)
    response_status: Mapped[str] = mapped_column(String(20), default="pending")
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    added_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    # Who the user ids are (models/people/names.py), joined wherever the row is loaded.
    __people__ = ("user_id", "added_by")
    user_user: Mapped[User | None] = person_of("ScheduleParticipant", "user_id")
    added_by_user: Mapped[User | None] = person_of("ScheduleParticipant", "added_by")
