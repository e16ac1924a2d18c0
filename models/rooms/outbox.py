"""Storing room events that could not be published, and taking them back in order."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from models.effects import RoomEvent
from models.rooms.tables import RoomOutboxEvent


async def do_store_events(session: AsyncSession, *, events: Sequence[RoomEvent]) -> None:
    session.add_all(RoomOutboxEvent(room=e.room, event=e.to_json()) for e in events)
    await session.flush()


async def take_relay_turn(session: AsyncSession, *, tenant: str) -> bool:
    """Whether this transaction may relay the tenant's outbox: one relayer at a time, or
    two processes would publish the same rows, and out of order. On SQLite the writer's
    lock (taken at the first delete) serialises them instead."""
    if session.bind is None or session.bind.dialect.name != "postgresql":
        return True
    key = f"lms-room-outbox:{tenant}"
    taken = await session.scalar(text("SELECT pg_try_advisory_xact_lock(hashtext(:k))"), {"k": key})
    return bool(taken)


async def pending_events(session: AsyncSession, *, limit: int) -> list[tuple[int, RoomEvent]]:
    """The oldest waiting events, in the order they were stored."""
    rows = await session.execute(
        select(RoomOutboxEvent.id, RoomOutboxEvent.event).order_by(RoomOutboxEvent.id).limit(limit)
    )
    return [(row_id, RoomEvent.from_json(event)) for row_id, event in rows.all()]


async def do_forget_events(session: AsyncSession, *, ids: Sequence[int]) -> None:
    if ids:
        await session.execute(delete(RoomOutboxEvent).where(RoomOutboxEvent.id.in_(ids)))
