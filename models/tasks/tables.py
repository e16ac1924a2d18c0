"""The task outbox (one per tenant): tasks of committed changes the broker could not take yet."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import TenantBase, UTCDateTime, utcnow


class TaskOutboxEntry(TenantBase):
    """A task waiting for the broker; relayed in `id` order, then forgotten."""

    __tablename__ = "task_outbox"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    task: Mapped[str] = mapped_column(String(100))
    # Its arguments after the tenant, as the broker would have carried them (JSON).
    args: Mapped[list[Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
