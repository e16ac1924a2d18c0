"""The edge's transaction: one session, and the side effects released only after commit."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.effects import EventPublisher, RoomEvent, TaskSender, take_events, take_tasks

log = logging.getLogger(__name__)

Callback = Callable[[], Awaitable[None]]


class UnitOfWork:
    """Opens its session on first use; commit runs the after-commit hooks, rollback the undo hooks.

    Domain operations only `flush()`; the request, socket frame or task that owns the unit of
    work decides when it commits. Events and tasks leave after commit, or not at all.
    """

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        tenant: str,
        tasks: TaskSender | None = None,
        events: EventPublisher | None = None,
    ) -> None:
        self.tenant = tenant
        self._tasks = tasks
        self._events = events
        self._factory = session_factory
        self._session: AsyncSession | None = None
        self._after_commit: list[Callback] = []
        self._after_rollback: list[Callback] = []

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            self._session = self._factory()
        return self._session

    @property
    def started(self) -> bool:
        return self._session is not None

    def after_commit(self, callback: Callback) -> None:
        self._after_commit.append(callback)

    def after_rollback(self, callback: Callback) -> None:
        """Undo what the database cannot, e.g. delete a file written for a row never stored."""
        self._after_rollback.append(callback)

    async def commit(self) -> None:
        tasks, events = [], []
        if self._session is not None:
            await self._session.commit()
            tasks, events = take_tasks(self._session), take_events(self._session)
        callbacks, self._after_commit, self._after_rollback = self._after_commit, [], []
        if tasks and self._tasks is None:
            log.error("tasks %s dropped: no dispatcher wired", [t.name for t in tasks])
        for task in tasks if self._tasks is not None else []:
            callbacks.append(self._sender(task.name, task.args))
        # Without a bus (a CLI, a worker with no Redis) there is nobody listening: dropped.
        if events and self._events is not None:
            callbacks.append(self._publisher(events))
        await _run_all(callbacks)

    def _publisher(self, events: list[RoomEvent]) -> Callback:
        assert self._events is not None
        bus, tenant = self._events, self.tenant

        async def publish() -> None:
            for event in events:  # in order: a room's seq follows the order of the changes
                await bus.publish(tenant, event)

        return publish

    def _sender(self, name: str, args: tuple[object, ...]) -> Callback:
        assert self._tasks is not None
        tasks, tenant = self._tasks, self.tenant

        async def send() -> None:
            await tasks.send(name, tenant, *args)

        return send

    async def rollback(self) -> None:
        if self._session is not None:
            await self._session.rollback()
            take_tasks(self._session)
            take_events(self._session)
        callbacks, self._after_commit, self._after_rollback = self._after_rollback, [], []
        await _run_all(callbacks)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


async def _run_all(callbacks: list[Callback]) -> None:
    # A failing side effect must not turn a committed request into an error.
    for callback in callbacks:
        try:
            await callback()
        except Exception:
            log.exception("after-transaction callback failed")
