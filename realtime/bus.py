"""The bus stamps each room event with the room's next seq, keeps it in the room's history,
and hands it to the rooms that listen, on this instance or (Redis) on every instance.

Rooms are keyed by (tenant, room): two tenants' `forum:1` never meet.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from models.effects import RoomEvent
from realtime import frames

RoomKey = tuple[str, str]
# Called with (seq, frame) for stamped events, (None, frame) for ephemeral ones; must not block.
Listener = Callable[[int | None, bytes], None]


@dataclass(frozen=True, slots=True)
class History:
    """The frames of seqs `first`..`last` (contiguous); `last` is the room's current seq."""

    first: int
    last: int
    frames: list[bytes]

    def after(self, since: int) -> list[tuple[int, bytes]] | None:
        """What a client that saw `since` missed; None when part of it is gone (reset)."""
        if since > self.last:
            return None  # a seq this room never reached: the history was lost
        if since < self.first - 1:
            return None
        start = since - self.first + 1
        return [(self.first + i, f) for i, f in enumerate(self.frames[start:], start)]


class Bus(Protocol):
    async def publish(self, tenant: str, event: RoomEvent) -> None: ...

    async def publish_ephemeral(self, tenant: str, room: str, frame: bytes) -> None: ...

    async def history(self, tenant: str, room: str) -> History: ...

    async def current_seq(self, tenant: str, room: str) -> int: ...

    async def listen(self, key: RoomKey, listener: Listener) -> None: ...

    async def unlisten(self, key: RoomKey, listener: Listener) -> None: ...

    async def close(self) -> None: ...


@dataclass
class _RoomLog:
    seq: int = 0
    frames: deque[bytes] = field(default_factory=deque)


class MemoryBus:
    """One process: seq and history in memory (the rooms seen last, at most `max_rooms`)."""

    def __init__(self, history_size: int = 1000, max_rooms: int = 10_000) -> None:
        self._history_size = history_size
        self._max_rooms = max_rooms
        self._logs: OrderedDict[RoomKey, _RoomLog] = OrderedDict()
        self._listeners: dict[RoomKey, list[Listener]] = {}

    def _log(self, key: RoomKey) -> _RoomLog:
        log = self._logs.get(key)
        if log is None:
            log = self._logs[key] = _RoomLog(frames=deque(maxlen=self._history_size))
            if len(self._logs) > self._max_rooms:
                self._logs.popitem(last=False)  # its clients will get a reset: nothing lost
        self._logs.move_to_end(key)
        return log

    async def publish(self, tenant: str, event: RoomEvent) -> None:
        key = (tenant, event.room)
        head, tail = frames.split_for_seq(event.type, event.room, event.data)
        log = self._log(key)
        log.seq += 1
        frame = head + str(log.seq).encode() + tail
        log.frames.append(frame)
        for listener in self._listeners.get(key, ()):
            listener(log.seq, frame)

    async def publish_ephemeral(self, tenant: str, room: str, frame: bytes) -> None:
        for listener in self._listeners.get((tenant, room), ()):
            listener(None, frame)

    async def history(self, tenant: str, room: str) -> History:
        log = self._log((tenant, room))
        return History(log.seq - len(log.frames) + 1, log.seq, list(log.frames))

    async def current_seq(self, tenant: str, room: str) -> int:
        log = self._logs.get((tenant, room))
        return 0 if log is None else log.seq

    async def listen(self, key: RoomKey, listener: Listener) -> None:
        self._listeners.setdefault(key, []).append(listener)

    async def unlisten(self, key: RoomKey, listener: Listener) -> None:
        listeners = self._listeners.get(key, [])
        if listener in listeners:
            listeners.remove(listener)
        if not listeners:
            self._listeners.pop(key, None)

    async def close(self) -> None:
        self._listeners.clear()


class ThreadSafePublisher:
    """Publishes on the bus's own event loop from another thread (the in-process worker)."""

    def __init__(self, bus: Bus, loop: asyncio.AbstractEventLoop) -> None:
        self._bus = bus
        self._loop = loop

    async def publish(self, tenant: str, event: RoomEvent) -> None:
        future = asyncio.run_coroutine_threadsafe(self._bus.publish(tenant, event), self._loop)
        await asyncio.wrap_future(future)
