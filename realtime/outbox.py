"""Room events that Redis could not take, kept in the tenant's database until it can.

A committed post, message or announcement was promised to its room: when publishing fails
even after the client's retries (Redis down, a failover that lasts), the event is written
to the tenant's `room_outbox` in a short transaction of its own, and published from there,
in order, once Redis answers again: by a retry loop started then (backing off up to the
relay interval), and by every web process's periodic relay (rows a crashed process left).

Order per room: while a room has events waiting here, this process sends its later events
of that room here too, behind them. Delivery is at least once: a relay that dies between
publishing and forgetting a row publishes it again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models.background import cancel_and_wait
from models.effects import RoomEvent
from models.rooms.outbox import (
    do_forget_events,
    do_store_events,
    pending_events,
    take_relay_turn,
)

log = logging.getLogger(__name__)

Send = Callable[[str, RoomEvent], Awaitable[None]]
Sessions = Callable[[str], async_sessionmaker[AsyncSession]]
BATCH = 100
FIRST_RETRY_SECONDS = 0.5


class Outbox:
    """`send` publishes one event (raising if it cannot): the bus's own."""

    def __init__(self, sessions: Sessions, send: Send, max_retry_seconds: float = 60.0) -> None:
        self._sessions = sessions
        self._send = send
        self._max_retry = max(max_retry_seconds, FIRST_RETRY_SECONDS)
        # Rooms with events waiting here (this process knows of): their later events queue.
        self._backlog: set[tuple[str, str]] = set()
        self._lock = asyncio.Lock()
        self._retry: asyncio.Task[None] | None = None
        # Turned off by tests that relay by hand.
        self.retry_in_background = True

    async def publish(self, tenant: str, event: RoomEvent) -> None:
        """Send the event, or keep it here; raises only if the database fails too."""
        key = (tenant, event.room)
        queued = key in self._backlog
        if not queued:
            try:
                await self._send(tenant, event)
                return
            except Exception as exc:
                log.warning("room event %s of %s kept for later: %s", event.type, key, exc)
        async with self._lock:
            if queued and key not in self._backlog:
                # The relay emptied the room's queue while this waited: no need to queue.
                try:
                    await self._send(tenant, event)
                    return
                except Exception:
                    pass
            async with self._sessions(tenant).begin() as session:
                await do_store_events(session, events=[event])
            self._backlog.add(key)
        self._start_retrying()

    async def relay(self, tenant: str) -> bool:
        """Publish the tenant's waiting events in order, forgetting each once sent.

        Stops at the first that fails (the rest must stay behind it); True when none is
        left. Another process relaying the tenant at the same time makes this one wait its
        turn (False)."""
        async with self._lock:
            while True:
                async with self._sessions(tenant).begin() as session:
                    if not await take_relay_turn(session, tenant=tenant):
                        return False
                    rows = await pending_events(session, limit=BATCH)
                    sent: list[int] = []
                    try:
                        for row_id, event in rows:
                            await self._send(tenant, event)
                            sent.append(row_id)
                    except Exception as exc:
                        log.warning("room outbox of %s: Redis still unavailable: %s", tenant, exc)
                        await do_forget_events(session, ids=sent)
                        return False
                    await do_forget_events(session, ids=sent)
                if len(rows) < BATCH:
                    self._backlog = {k for k in self._backlog if k[0] != tenant}
                    return True

    def _start_retrying(self) -> None:
        if self.retry_in_background and (self._retry is None or self._retry.done()):
            self._retry = asyncio.create_task(self._retry_forever(), name="room-outbox-retry")

    async def _retry_forever(self) -> None:
        """Sooner than the periodic relay: from half a second, doubling, while any waits."""
        delay = FIRST_RETRY_SECONDS
        while self._backlog:
            await asyncio.sleep(delay)
            for tenant in sorted({t for t, _ in self._backlog}):
                try:
                    await self.relay(tenant)
                except Exception:
                    log.exception("room outbox relay of %s failed", tenant)
            delay = min(delay * 2, self._max_retry)

    async def close(self) -> None:
        await cancel_and_wait(self._retry)
