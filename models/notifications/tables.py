"""A user's notifications and how they want each type delivered."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import TenantBase, UTCDateTime, utcnow

# The types a notification may have (the preferences' keys): `grade` and `certificate` are
# reserved for sources still to come.
TYPES = (
    "announcement",
    "lesson_created",
    "direct_message",
    "mention",
    "reply",
    "schedule_invitation",
    "schedule_changed",
    "schedule_cancelled",
    "grade",
    "certificate",
)
IN_APP, EMAIL, OFF = "in_app", "email", "off"
CHANNELS = (IN_APP, EMAIL, OFF)


class Notification(TenantBase):
    """One event told to one user. `event_key` names the event (`announcement:7`): a task
    delivered twice finds the row there and creates nothing."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("user_id", "event_key"),
        Index("ix_notifications_user_id_created_at", "user_id", "created_at"),
        Index("ix_notifications_user_id_read_at", "user_id", "read_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128))
    type: Mapped[str] = mapped_column(String(32))
    event_key: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # How it was to reach them when it was made: `in_app` (live on the socket too) or
    # `email` (the inbox only; a mailer's to send).
    channel: Mapped[str] = mapped_column(String(16), default=IN_APP)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class NotificationPreference(TenantBase):
    """A user's channel for one type; no row: `in_app`."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    type: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
