"""The task outbox's table as an outbox store: a tenant's tasks, in the order they came."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.effects import TaskCall
from models.tasks.tables import TaskOutboxEntry


class TaskStore:
    name = "task-outbox"

    def key(self, item: TaskCall) -> str:
        return ""  # one queue per tenant: once one task waits, the next waits behind it

    async def add(self, session: AsyncSession, items: Sequence[TaskCall]) -> None:
        session.add_all(TaskOutboxEntry(task=t.name, args=list(t.args)) for t in items)
        await session.flush()

    async def pending(self, session: AsyncSession, limit: int) -> list[tuple[int, TaskCall]]:
        rows = await session.execute(
            select(TaskOutboxEntry.id, TaskOutboxEntry.task, TaskOutboxEntry.args)
            .order_by(TaskOutboxEntry.id)
            .limit(limit)
        )
        return [(row_id, TaskCall(name, tuple(args))) for row_id, name, args in rows.all()]

    async def forget(self, session: AsyncSession, ids: Sequence[int]) -> None:
        if ids:
            await session.execute(delete(TaskOutboxEntry).where(TaskOutboxEntry.id.in_(ids)))
