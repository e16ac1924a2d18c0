"""The bus stamps each room event with the room's next seq, keeps it in the room's history,
and hands it to the rooms that listen, on this instance or (Redis) on every instance.

Rooms are keyed by (tenant, room): two tenants' `forum:1` never meet.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from models.effects import Effect, RoomEvent
from realtime import events, frames
from realtime.events import Arrival

RoomKey = tuple[str, str]
# Called with each event as its type (one object for every listener of a process), and
# with `events.RESYNC` when the bus may have missed events (Redis reconnected); must not block.
Listener = Callable[[Arrival], None]
# What a client's typing becomes: shown to whoever is there now, never kept.
TYPING = "typing"
# Bytes of history a room keeps at most, whatever its frame count (LMS_WS_HISTORY_BYTES).
HISTORY_BYTES = 1024 * 1024


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

    async def publish_ephemeral(
        self, tenant: str, room: str, frame: bytes, type_: str = TYPING
    ) -> None: ...

    async def history(self, tenant: str, room: str) -> History: ...

    async def relay(self, tenant: str) -> bool: ...

    async def current_seq(self, tenant: str, room: str) -> int: ...

    async def listen(self, key: RoomKey, listener: Listener) -> None: ...

    async def unlisten(self, key: RoomKey, listener: Listener) -> None: ...

    async def close(self) -> None: ...


@dataclass(slots=True)
class _Entry:
    seq: int
    type: str
    frame: bytes
    item: str | None


@dataclass
class _RoomLog:
    seq: int = 0
    entries: deque[_Entry] = field(default_factory=deque)
    # The entry that shows each item now (a later edit or deletion tombstones it).
    items: dict[str, _Entry] = field(default_factory=dict)
    size: int = 0  # bytes of the frames kept

    def supersede(self, room: str, item: str) -> None:
        entry = self.items.pop(item, None)
        if entry is None:
            return
        stone = frames.tombstone(entry.type, room, entry.seq, item)
        self.size += len(stone) - len(entry.frame)
        entry.frame, entry.item = stone, None

    def append(self, entry: _Entry, max_frames: int, max_bytes: int) -> None:
        self.entries.append(entry)
        self.size += len(entry.frame)
        if entry.item is not None:
            self.items[entry.item] = entry
        # The oldest go first; a client that saw less than what is left gets a reset.
        while self.entries and (len(self.entries) > max_frames or self.size > max_bytes):
            gone = self.entries.popleft()
            self.size -= len(gone.frame)
            if gone.item is not None and self.items.get(gone.item) is gone:
                del self.items[gone.item]


class MemoryBus:
    """One process: seq and history in memory (the rooms seen last, at most `max_rooms`)."""

    def __init__(
        self,
        history_size: int = 1000,
        max_rooms: int = 10_000,
        history_bytes: int = HISTORY_BYTES,
    ) -> None:
        self._history_size = history_size
        self._history_bytes = history_bytes
        self._max_rooms = max_rooms
        self._logs: OrderedDict[RoomKey, _RoomLog] = OrderedDict()
        self._listeners: dict[RoomKey, list[Listener]] = {}

    def _log(self, key: RoomKey) -> _RoomLog:
        log = self._logs.get(key)
        if log is None:
            log = self._logs[key] = _RoomLog()
            if len(self._logs) > self._max_rooms:
                self._logs.popitem(last=False)  # its clients will get a reset: nothing lost
        self._logs.move_to_end(key)
        return log

    async def publish(self, tenant: str, event: RoomEvent) -> None:
        key = (tenant, event.room)
        if event.internal:
            self._hand((tenant, event.room), events.of_event(event, None, b""))
            return
        head, tail = frames.split_for_seq(event.type, event.room, event.data)
        log = self._log(key)
        log.seq += 1
        seq = log.seq
        frame = head + str(seq).encode() + tail
        if event.effect is Effect.CLOSE:
            # What the room was about is gone: so are its seq and history (a later room
            # of the same name starts afresh).
            del self._logs[key]
        else:
            for item in event.supersedes:
                log.supersede(event.room, item)
            entry = _Entry(seq, event.type, frame, event.item)
            log.append(entry, self._history_size, self._history_bytes)
        self._hand(key, events.of_event(event, seq, frame))

    def _hand(self, key: RoomKey, event: Arrival) -> None:
        for listener in self._listeners.get(key, ()):
            listener(event)

    def history_bytes(self, tenant: str, room: str) -> int:
        log = self._logs.get((tenant, room))
        return 0 if log is None else log.size

    async def publish_ephemeral(
        self, tenant: str, room: str, frame: bytes, type_: str = TYPING
    ) -> None:
        self._hand((tenant, room), events.Shown(type_, None, frame))

    async def history(self, tenant: str, room: str) -> History:
        log = self._log((tenant, room))
        kept = [entry.frame for entry in log.entries]
        return History(log.seq - len(kept) + 1, log.seq, kept)

    async def relay(self, tenant: str) -> bool:
        """Nothing ever waits: publishing in memory cannot fail."""
        return True

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

    async def publish_many(self, tenant: str, events: Sequence[RoomEvent]) -> None:
        """Several rooms' events in one hand-over: each hand-over wakes the bus's loop and
        chains two futures, and one per event (a fan-out to a course's enrollees) cost the
        worker's thread and the web loop more than the publishing itself (py-spy)."""

        async def publish_all() -> None:
            for event in events:
                await self._bus.publish(tenant, event)

        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(publish_all(), self._loop))
