"""What a committed change promised and its carrier could not take yet, kept in the tenant's
database until it can: room events Redis refused (`room_outbox`), tasks the Celery broker
refused (`task_outbox`).

When sending fails (after the client's own retries), the item is written to the tenant's
outbox table in a short transaction of its own, and sent from there, in order, once the
carrier answers again: by a retry loop started then (backing off up to the relay interval),
and by every web process's periodic relay (rows a crashed process left).

Order per key (a room; all of a tenant's tasks): while a key has items waiting here, this
process sends its later items of that key here too, behind them. Delivery is at least
once: a relay that dies between sending and forgetting a row sends it again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, Protocol, TypeVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.background import cancel_and_wait

log = logging.getLogger(__name__)

T = TypeVar("T")
Sessions = Callable[[str], async_sessionmaker[AsyncSession]]
BATCH = 100
FIRST_RETRY_SECONDS = 0.5


class Store(Protocol[T]):
    """One outbox table: `name` tells the relays of different tables apart."""

    name: str

    def key(self, item: T) -> str:
        """What orders items: those of one key leave in the order they came."""
        ...

    async def add(self, session: AsyncSession, items: Sequence[T]) -> None: ...

    async def pending(self, session: AsyncSession, limit: int) -> list[tuple[int, T]]: ...

    async def forget(self, session: AsyncSession, ids: Sequence[int]) -> None: ...


async def take_relay_turn(session: AsyncSession, key: str) -> bool:
    """Whether this transaction may relay an outbox: one relayer at a time, or two
    processes would send the same rows, and out of order. On SQLite the writer's lock
    (taken at the first delete) serialises them instead."""
    if session.bind is None or session.bind.dialect.name != "postgresql":
        return True
    taken = await session.scalar(text("SELECT pg_try_advisory_xact_lock(hashtext(:k))"), {"k": key})
    return bool(taken)


class Outbox(Generic[T]):
    """`send` hands one item to its carrier (raising if it cannot)."""

    def __init__(
        self,
        sessions: Sessions,
        send: Callable[[str, T], Awaitable[None]],
        store: Store[T],
        max_retry_seconds: float = 60.0,
    ) -> None:
        self._sessions = sessions
        self._send = send
        self._store = store
        self._max_retry = max(max_retry_seconds, FIRST_RETRY_SECONDS)
        # Keys with items waiting here (this process knows of): their later items queue.
        self._backlog: set[tuple[str, str]] = set()
        self._lock = asyncio.Lock()
        self._retry: asyncio.Task[None] | None = None
        # Turned off by tests that relay by hand.
        self.retry_in_background = True

    async def send(self, tenant: str, item: T) -> None:
        """Send the item, or keep it here; raises only if the database fails too."""
        key = (tenant, self._store.key(item))
        queued = key in self._backlog
        if not queued:
            try:
                await self._send(tenant, item)
                return
            except Exception as exc:
                log.warning("%s: %s of %s kept for later: %s", self._store.name, item, key, exc)
        async with self._lock:
            if queued and key not in self._backlog:
                # The relay emptied the key's queue while this waited: no need to queue.
                try:
                    await self._send(tenant, item)
                    return
                except Exception:
                    log.warning("%s of %s: still unavailable", self._store.name, tenant)
            async with self._sessions(tenant).begin() as session:
                await self._store.add(session, [item])
            self._backlog.add(key)
        self._start_retrying()

    async def relay(self, tenant: str) -> bool:
        """Send the tenant's waiting items in order, forgetting each once sent.

        Stops at the first that fails (the rest must stay behind it); True when none is
        left. Another process relaying the tenant at the same time makes this one wait its
        turn (False)."""
        async with self._lock:
            while True:
                async with self._sessions(tenant).begin() as session:
                    if not await take_relay_turn(session, f"lms-{self._store.name}:{tenant}"):
                        return False
                    rows = await self._store.pending(session, BATCH)
                    sent: list[int] = []
                    try:
                        for row_id, item in rows:
                            await self._send(tenant, item)
                            sent.append(row_id)
                    except Exception as exc:
                        log.warning(
                            "%s of %s: still unavailable: %s", self._store.name, tenant, exc
                        )
                        await self._store.forget(session, sent)
                        return False
                    await self._store.forget(session, sent)
                if len(rows) < BATCH:
                    self._backlog = {k for k in self._backlog if k[0] != tenant}
                    return True

    def _start_retrying(self) -> None:
        if self.retry_in_background and (self._retry is None or self._retry.done()):
            self._retry = asyncio.create_task(
                self._retry_forever(), name=f"{self._store.name}-retry"
            )

    async def _retry_forever(self) -> None:
        """Sooner than the periodic relay: from half a second, doubling, while any waits."""
        delay = FIRST_RETRY_SECONDS
        while self._backlog:
            await asyncio.sleep(delay)
            for tenant in sorted({t for t, _ in self._backlog}):
                try:
                    await self.relay(tenant)
                except Exception:
                    log.exception("%s relay of %s failed", self._store.name, tenant)
            delay = min(delay * 2, self._max_retry)

    async def close(self) -> None:
        await cancel_and_wait(self._retry)
