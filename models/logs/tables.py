"""Activity and audit logs (one set per tenant); both append-only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import TenantBase, UTCDateTime, utcnow
from models.people.tables import User, person_of


class ActivityLog(TenantBase):
    __tablename__ = "activity_logs"
    __table_args__ = (
        Index("ix_activity_logs_user_timestamp", "user_id", "timestamp"),
        Index("ix_activity_logs_type_timestamp", "activity_type", "timestamp"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Makes a write idempotent: a task delivered twice inserts one row.
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    activity_type: Mapped[str] = mapped_column(String(64))
    details: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="success")
    object_type: Mapped[str | None] = mapped_column(String(64), nullable=True)
    object_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    # Who the user ids are (models/people/names.py), joined wherever the row is loaded.
    __people__ = ("user_id",)
    user_user: Mapped[User | None] = person_of("ActivityLog", "user_id")


class AuditLog(TenantBase):
    __tablename__ = "audit_logs"
    __table_args__ = (
        Index("ix_audit_logs_action_timestamp", "action_type", "timestamp"),
        Index("ix_audit_logs_user_timestamp", "user_id", "timestamp"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(200), unique=True)
    user_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    action_type: Mapped[str] = mapped_column(String(64))
    details: Mapped[str] = mapped_column(Text, default="")
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(2000))
    status_code: Mapped[int] = mapped_column(Integer)
    ip_address: Mapped[str | None] = mapped_column(String(45), nullable=True)
    user_agent: Mapped[str] = mapped_column(String(500), default="")
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Failed authentications and rate-limit refusals: one row per client and minute,
    # counting its requests (its timestamp is the first's); other rows: 1.
    count: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    # Who the user ids are (models/people/names.py), joined wherever the row is loaded.
    __people__ = ("user_id",)
    user_user: Mapped[User | None] = person_of("AuditLog", "user_id")
