"""Course events for the course's notification room, sent through the workers."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from models.effects import notify_after_commit


def course_room(course_id: int) -> str:
    return f"course:{course_id}"


def notify_course(session: AsyncSession, course_id: int, type_: str, data: dict[str, Any]) -> None:
    """After commit, a worker publishes the event to `course:{id}`'s subscribers."""
    notify_after_commit(session, course_room(course_id), type_, data, on_worker=True)
