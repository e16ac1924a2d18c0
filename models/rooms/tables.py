"""The room outbox (one per tenant): committed room events Redis could not take yet."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import TenantBase, UTCDateTime, utcnow


class RoomOutboxEvent(TenantBase):
    """A room event waiting for Redis; relayed in `id` order, so each room's order holds."""

    __tablename__ = "room_outbox"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    room: Mapped[str] = mapped_column(String(200))
    # The event as `RoomEvent.to_json` writes it: type, data, item and what it supersedes.
    event: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
