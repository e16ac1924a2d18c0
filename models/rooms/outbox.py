"""The room outbox's table as an outbox store: room events, in order per room."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.effects import RoomEvent
from models.rooms.tables import RoomOutboxEvent


class RoomEventStore:
    name = "room-outbox"

    def key(self, item: RoomEvent) -> str:
        return item.room

    async def add(self, session: AsyncSession, items: Sequence[RoomEvent]) -> None:
        session.add_all(RoomOutboxEvent(room=e.room, event=e.to_json()) for e in items)
        await session.flush()

    async def pending(self, session: AsyncSession, limit: int) -> list[tuple[int, RoomEvent]]:
        """The oldest waiting events, in the order they were stored."""
        rows = await session.execute(
            select(RoomOutboxEvent.id, RoomOutboxEvent.event)
            .order_by(RoomOutboxEvent.id)
            .limit(limit)
        )
        return [(row_id, RoomEvent.from_json(event)) for row_id, event in rows.all()]

    async def forget(self, session: AsyncSession, ids: Sequence[int]) -> None:
        if ids:
            await session.execute(delete(RoomOutboxEvent).where(RoomOutboxEvent.id.in_(ids)))
