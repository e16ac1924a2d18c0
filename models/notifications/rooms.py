"""The per-user room: what only one user may hear (their notifications, their jobs' progress).

Keyed like every room by tenant and name, so a user id in two tenants names two rooms.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from models.effects import notify_after_commit


def user_room(user_id: str) -> str:
    return f"user:{user_id}"


def publish_to_user(session: AsyncSession, user_id: str, type_: str, data: dict[str, Any]) -> None:
    """Once this session commits, `type_` reaches every socket `user_id` has open on the
    notifications socket, on every instance."""
    notify_after_commit(session, user_room(user_id), type_, data)
