"""What a task runs with: settings, its own engines, and a dispatcher for follow-up tasks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from models.effects import EventPublisher, TaskSender
from models.settings import Settings
from models.tenancy import Databases, check_slug
from models.unit_of_work import unit_of_work

T = TypeVar("T")


@dataclass
class WorkerContext:
    """One per worker process (or in-process worker thread); bound to that event loop."""

    settings: Settings
    databases: Databases
    tasks: TaskSender
    # Room events: the web app's bus (in-process) or Redis (a Celery worker); None drops them.
    events: EventPublisher | None = None
    # The embedded worker's turn-taking with the web loop it shares a process with.
    pace: Callable[[], Awaitable[None]] | None = None

    async def in_tenant(self, tenant: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run `work` in one transaction of the tenant; its follow-up tasks leave after commit."""
        check_slug(tenant)
        if self.pace is not None:
            await self.pace()
        async with unit_of_work(
            self.databases, tenant, tasks=self.tasks, events=self.events
        ) as uow:
            return await work(uow.session)

    async def close(self) -> None:
        await self.databases.dispose()


TaskFunction = Callable[..., Awaitable[Any]]
