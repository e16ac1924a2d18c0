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


@dataclass
class _RoomLog:
    """A room's seq and the frames of its latest seqs, oldest first.

    The frames are contiguous (every publish takes the next seq), so a frame's seq is its
    position, and the history is bytes and tuples of atomic values: nothing the garbage
    collector walks. An object per frame (a small dataclass) made most of what a full
    collection walked while a fan-out filled users' rooms (`python -m bench.loop_lag`,
    counted with `gc.get_objects`), and those collections held the web loop."""

    seq: int = 0
    frames: deque[bytes] = field(default_factory=deque)
    newest: int = 0  # the seq of the newest frame kept
    # The (seq, type) of the frame that shows each item now (a later edit or deletion
    # tombstones it), and the other way round, for the frames that show an item.
    items: dict[str, tuple[int, str]] = field(default_factory=dict)
    item_at: dict[int, str] = field(default_factory=dict)
    size: int = 0  # bytes of the frames kept

    @property
    def first(self) -> int:
        """The seq of the oldest frame kept."""
        return self.newest - len(self.frames) + 1

    def supersede(self, room: str, item: str) -> None:
        shown = self.items.pop(item, None)
        if shown is None:
            return
        seq, type_ = shown
        del self.item_at[seq]
        index = seq - self.first
        stone = frames.tombstone(type_, room, seq, item)
        self.size += len(stone) - len(self.frames[index])
        self.frames[index] = stone

    def append(self, frame: bytes, type_: str, item: str | None, limits: tuple[int, int]) -> None:
        """Keep `frame` as seq `self.seq` (already taken), within (frames, bytes) limits."""
        self.frames.append(frame)
        self.newest = self.seq
        self.size += len(frame)
        if item is not None:
            self.items[item] = (self.seq, type_)
            self.item_at[self.seq] = item
        # The oldest go first; a client that saw less than what is left gets a reset.
        max_frames, max_bytes = limits
        while self.frames and (len(self.frames) > max_frames or self.size > max_bytes):
            gone_seq = self.first
            self.size -= len(self.frames.popleft())
            gone_item = self.item_at.pop(gone_seq, None)
            if gone_item is not None and self.items.get(gone_item, (0,))[0] == gone_seq:
                del self.items[gone_item]


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
            log.append(frame, event.type, event.item, (self._history_size, self._history_bytes))
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
        return History(log.seq - len(log.frames) + 1, log.seq, list(log.frames))

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


# Events a batch from the worker publishes before the web loop takes a turn: 50 in one go
# were most of the web loop's stalls over 3 ms in `python -m bench.loop_lag` (a watchdog
# thread's samples of the loop's stack), at 60-80 us an event on that machine.
EVENTS_PER_TURN = 8


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
        worker's thread and the web loop more than the publishing itself (py-spy).

        On the bus's loop they go `EVENTS_PER_TURN` at a time, the loop's other callbacks
        between: the memory bus never waits, so 50 at once held the web loop for 3-6 ms."""

        async def publish_all() -> None:
            for done, event in enumerate(events, 1):
                await self._bus.publish(tenant, event)
                if done % EVENTS_PER_TURN == 0:
                    await asyncio.sleep(0)

        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(publish_all(), self._loop))
