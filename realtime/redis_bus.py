"""Rooms across instances: seq, history and delivery kept in Redis.

One Lua script stamps the next seq, appends the frame to the room's history and publishes
it, atomically: every instance sees a room's events in seq order, and a client resuming on
any instance replays the same sequence. One pub/sub connection per process (the listener),
subscribed to the channels of the rooms live here, never one per socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from redis.asyncio import Redis

from models.background import cancel_and_wait
from models.effects import RoomEvent
from realtime import frames
from realtime.bus import History, Listener, RoomKey

log = logging.getLogger(__name__)

_STAMP = """
local seq = redis.call('INCR', KEYS[1])
local frame = ARGV[1] .. seq .. ARGV[2]
redis.call('RPUSH', KEYS[2], frame)
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[3]), -1)
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[4])
redis.call('PUBLISH', KEYS[3], frame)
return seq
"""
# A room silent this long forgets its seq and history; its clients then get a reset.
KEEP_SECONDS = 7 * 86400
# Keeps the pub/sub connection subscribed when no room is live here.
_IDLE = "lms:listener-idle"
# Marks frames without a seq on the channel; stripped before delivery.
_EPHEMERAL = b"~"


def channel(tenant: str, room: str) -> str:
    return f"lms:{tenant}:{room}"


def _keys(tenant: str, room: str) -> tuple[str, str]:
    return f"lms:{tenant}:seq:{room}", f"lms:{tenant}:history:{room}"


class RedisBus:
    def __init__(self, redis: Redis, history_size: int = 1000) -> None:
        self._redis = redis
        self._history_size = history_size
        self._stamp = redis.register_script(_STAMP)
        self._pubsub = redis.pubsub()
        self._listeners: dict[str, tuple[RoomKey, list[Listener]]] = {}
        self._confirmed: dict[str, asyncio.Future[None]] = {}
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start listening; if Redis is down now, the listener keeps trying (health says so)."""
        try:
            await asyncio.wait_for(self._pubsub.subscribe(_IDLE), timeout=3)
        except Exception as exc:
            log.warning("room listener cannot reach Redis yet: %s", exc)
        self._reader = asyncio.create_task(self._read_forever(), name="lms-room-listener")

    async def publish(self, tenant: str, event: RoomEvent) -> None:
        head, tail = frames.split_for_seq(event.type, event.room, event.data)
        seq_key, history_key = _keys(tenant, event.room)
        await self._stamp(
            keys=[seq_key, history_key, channel(tenant, event.room)],
            args=[head, tail, self._history_size, KEEP_SECONDS],
        )

    async def publish_ephemeral(self, tenant: str, room: str, frame: bytes) -> None:
        await self._redis.publish(channel(tenant, room), _EPHEMERAL + frame)

    async def history(self, tenant: str, room: str) -> History:
        seq_key, history_key = _keys(tenant, room)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.get(seq_key)
            pipe.lrange(history_key, 0, -1)
            seq_raw, stored = await pipe.execute()
        last = int(seq_raw or 0)
        return History(last - len(stored) + 1, last, list(stored))

    async def current_seq(self, tenant: str, room: str) -> int:
        return int(await self._redis.get(_keys(tenant, room)[0]) or 0)

    async def listen(self, key: RoomKey, listener: Listener) -> None:
        name = channel(*key)
        entry = self._listeners.get(name)
        if entry is not None:
            entry[1].append(listener)
            await asyncio.shield(self._confirmed[name])
            return
        self._listeners[name] = (key, [listener])
        confirmed = self._confirmed[name] = asyncio.get_running_loop().create_future()
        await self._pubsub.subscribe(name)
        # Only once Redis confirms is every later event sure to reach us, so a resume that
        # reads the history after this point can miss nothing.
        await asyncio.wait_for(asyncio.shield(confirmed), timeout=5)

    async def unlisten(self, key: RoomKey, listener: Listener) -> None:
        name = channel(*key)
        entry = self._listeners.get(name)
        if entry is None:
            return
        if listener in entry[1]:
            entry[1].remove(listener)
        if not entry[1]:
            del self._listeners[name]
            self._confirmed.pop(name, None)
            with contextlib.suppress(Exception):
                await self._pubsub.unsubscribe(name)

    async def _read_forever(self) -> None:
        while True:
            try:
                if self._pubsub.connection is None:  # never connected: subscribe again
                    await self._pubsub.subscribe(_IDLE, *self._listeners)
                message = await self._pubsub.get_message(timeout=None)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("room listener lost Redis; retrying")
                await asyncio.sleep(1)
                continue
            if message is not None:
                self._deliver(message)

    def _deliver(self, message: dict[str, Any]) -> None:
        name = message["channel"]
        name = name.decode() if isinstance(name, bytes) else name
        if message["type"] == "subscribe":
            future = self._confirmed.get(name)
            if future is not None and not future.done():
                future.set_result(None)
            return
        if message["type"] != "message":
            return
        entry = self._listeners.get(name)
        if entry is None:
            return
        frame: bytes = message["data"]
        seq: int | None = None
        if frame.startswith(_EPHEMERAL):
            frame = frame[1:]
        else:
            seq = _seq_of(frame)
        for listener in list(entry[1]):
            listener(seq, frame)

    async def close(self) -> None:
        await cancel_and_wait(self._reader)
        await self._pubsub.aclose()  # type: ignore[no-untyped-call]


def _seq_of(frame: bytes) -> int:
    """The seq the stamp script wrote after the type and room.

    The first `,"seq":` is the stamp's: the type and room before it are JSON strings, in
    which a quote is always escaped.
    """
    start = frame.index(b',"seq":') + 7
    return int(frame[start : frame.index(b",", start)])
