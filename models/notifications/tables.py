"""A user's notifications and how they want each type delivered."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args

from sqlalchemy import JSON, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import TenantBase, UTCDateTime, utcnow

# The types a notification may have (the preferences' keys): `grade` and `certificate` are
# reserved for sources still to come.
NotificationType = Literal[
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
]
TYPES: tuple[str, ...] = get_args(NotificationType)
Channel = Literal["in_app", "email", "off"]
IN_APP, EMAIL, OFF = get_args(Channel)
CHANNELS: tuple[str, ...] = get_args(Channel)


class Notification(TenantBase):
    """One event told to one user. `event_key` names the event (`announcement:7`): a task
    delivered twice finds the row there and creates nothing."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("user_id", "event_key"),
        Index("ix_notifications_user_id_created_at", "user_id", "created_at"),
        Index("ix_notifications_user_id_read_at", "user_id", "read_at"),
        Index("ix_notifications_channel_digest_id", "channel", "digest_id"),
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
    # The email digest an `email` row went out in; None: not gathered into one yet.
    # (No foreign key: SQLite could add one only by rebuilding the table.)
    digest_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class NotificationPreference(TenantBase):
    """A user's channel for one type; no row: `in_app`."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    type: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))


PENDING, SENT, FAILED = "pending", "sent", "failed"


class EmailDigest(TenantBase):
    """One email to one user, listing the `email` notifications gathered into it.

    `pending` until sent (`sent_at`) or given up (`failed`, `last_error` saying why);
    `attempts` counts the sends tried. `next_attempt_at` is when a sender may take it: a
    sender moves it forward as it claims the digest, so a sender that dies mid-send leaves
    it to be taken again once that lease runs out."""

    __tablename__ = "email_digests"
    __table_args__ = (
        Index("ix_email_digests_status_next_attempt_at", "status", "next_attempt_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[str] = mapped_column(String(128))
    address: Mapped[str | None] = mapped_column(String(254), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
