"""The edge's transaction: one session, and the side effects released only after commit.

Every entrance (a request, the Stripe webhook, a socket frame or handshake, a worker task)
goes in through `unit_of_work(...)`, which opens the unit, commits it when the body
succeeds (the activity and audit records noted during the unit are inserted just before,
in the same transaction; then the after-commit effects run), rolls it back when the body
raises or asked for it (then the undo hooks run), and closes it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from models.effects import (
    EventPublisher,
    RoomEvent,
    TaskSender,
    has_records,
    records_fit_one_statement,
    take_events,
    take_records,
    take_tasks,
    write_records_alone,
    write_records_and_commit,
)
from models.identity import Principal
from models.tenancy import Databases

log = logging.getLogger(__name__)

Callback = Callable[[], Awaitable[None]]

_ACTOR = "lms_actor"


def acting(session: AsyncSession) -> Principal | None:
    """Who the unit of this session acts for, when its entrance said (a request, a frame)."""
    actor: Principal | None = session.info.get(_ACTOR)
    return actor


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
        autocommit: AsyncEngine | None = None,
    ) -> None:
        self.tenant = tenant
        # PostgreSQL's autocommit engine of the tenant, for a unit whose writes are one
        # statement (`write_records_alone`).
        self._autocommit = autocommit
        self._tasks = tasks
        self._events = events
        self._factory = session_factory
        self._session: AsyncSession | None = None
        self._after_commit: list[Callback] = []
        self._after_rollback: list[Callback] = []
        self._before_commit: list[Callback] = []
        self._rollback_only = False
        # Who acts, when the entrance knows (a request, a socket frame): rows they make are
        # shown with their token's name without asking the directory (models/people/names.py).
        self.actor: Principal | None = None

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            self._session = self._factory()
            if self.actor is not None:
                self._session.info[_ACTOR] = self.actor
        return self._session

    @property
    def started(self) -> bool:
        return self._session is not None

    def rollback_only(self) -> None:
        """End in a rollback rather than a commit: the body's answer is a refusal."""
        self._rollback_only = True

    def after_commit(self, callback: Callback) -> None:
        self._after_commit.append(callback)

    def before_commit(self, callback: Callback) -> None:
        """Write something more in this transaction, just before it commits (only if the
        unit opened its session: a unit that touched nothing commits nothing)."""
        self._before_commit.append(callback)

    def after_rollback(self, callback: Callback) -> None:
        """Undo what the database cannot, e.g. delete a file written for a row never stored."""
        self._after_rollback.append(callback)

    async def commit(self) -> None:
        tasks, events = [], []
        if self._session is not None:
            before, self._before_commit = self._before_commit, []
            for callback in before:
                await callback()
            # The activity and audit records go in with the change they record.
            if self._writes_alone():
                assert self._autocommit is not None
                records = take_records(self._session)
                await write_records_alone(self._autocommit, records)
            else:
                await self._session.run_sync(write_records_and_commit)
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

    def _writes_alone(self) -> bool:
        """The unit ran nothing in its session (its reads went to the autocommit engine) and
        has only rows noted for its commit: those go as one statement, no transaction."""
        session = self._session
        if self._autocommit is None or session is None or session.in_transaction():
            return False
        unflushed = session.new or session.dirty or session.deleted
        return not unflushed and has_records(session) and records_fit_one_statement(session)

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
            take_records(self._session)
            take_tasks(self._session)
            take_events(self._session)
        callbacks, self._after_commit, self._after_rollback = self._after_rollback, [], []
        self._before_commit = []
        await _run_all(callbacks)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


@asynccontextmanager
async def unit_of_work(
    databases: Databases,
    tenant: str,
    *,
    tasks: TaskSender | None = None,
    events: EventPublisher | None = None,
    read_only: bool = False,
) -> AsyncIterator[UnitOfWork]:
    """The one way into a unit of work: opened, committed or rolled back, closed.

    A transaction unless `read_only`: that is for reads shown to write nothing, served in
    autocommit and refused any statement that writes (models/read_only.py).
    """
    sessions = databases.tenant_sessions(tenant, read_only=read_only)
    alone = None if read_only or databases.is_sqlite else databases.tenant_single_statements(tenant)
    uow = UnitOfWork(sessions, tenant, tasks, events, autocommit=alone)
    try:
        yield uow
        if uow._rollback_only:
            await uow.rollback()
        else:
            await uow.commit()
    except BaseException:
        await uow.rollback()
        raise
    finally:
        await uow.close()


class UnitOpener(Protocol):
    """`unit_of_work` with the entrance's dispatcher and bus already given."""

    def __call__(
        self, tenant: str, *, read_only: bool = False
    ) -> AbstractAsyncContextManager[UnitOfWork]: ...


async def _run_all(callbacks: list[Callback]) -> None:
    # A failing side effect must not turn a committed request into an error.
    for callback in callbacks:
        try:
            await callback()
        except Exception:
            log.exception("after-transaction callback failed")
