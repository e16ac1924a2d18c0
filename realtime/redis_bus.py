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
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError, TimeoutError

from models.background import cancel_and_wait
from models.effects import Effect, RoomEvent
from models.outbox import Outbox, Sessions
from models.rooms.outbox import RoomEventStore
from realtime import events, frames
from realtime.bus import HISTORY_BYTES, TYPING, History, Listener, RoomKey

log = logging.getLogger(__name__)

# KEYS: seq, history, items, channel. ARGV: the frame's halves around its seq, the frames
# and bytes kept at most, the keys' TTL, the event's type and item ('' for none), whether
# it closes the room ('1'), the room, the channel header's halves around its seq
# (realtime/events.py), then the items it supersedes.
# The history holds `item|frame` (item '' for none); the items hash holds, for each item
# shown in the history now, `seq:type` of its frame, and under `#bytes` the history's size.
_STAMP = """
local seq_key, hist, items, chan = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local max_frames, max_bytes, ttl = tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local type, item, room = ARGV[6], ARGV[7], ARGV[9]
local seq = redis.call('INCR', seq_key)
local frame = ARGV[1] .. seq .. ARGV[2]
local message = ARGV[10] .. seq .. ARGV[11] .. frame
if ARGV[8] == '1' then
  redis.call('PUBLISH', chan, message)
  redis.call('DEL', seq_key, hist, items)
  return seq
end
local length = redis.call('LLEN', hist)
local first = seq - length
local size = tonumber(redis.call('HGET', items, '#bytes') or '0')
for i = 12, #ARGV do
  local at = redis.call('HGET', items, ARGV[i])
  if at then
    redis.call('HDEL', items, ARGV[i])
    local sep = string.find(at, ':', 1, true)
    local old = tonumber(string.sub(at, 1, sep - 1))
    local index = old - first
    if index >= 0 and index < length then
      local was = redis.call('LINDEX', hist, index)
      local id = string.match(ARGV[i], ':([^:]*)$')
      local stone = '|{"type":"' .. string.sub(at, sep + 1) .. '","room":"' .. room
        .. '","seq":' .. old .. ',"data":{"id":' .. id .. ',"superseded":true}}'
      redis.call('LSET', hist, index, stone)
      size = size + #stone - #was
    end
  end
end
local entry = item .. '|' .. frame
redis.call('RPUSH', hist, entry)
size = size + #entry
length = length + 1
while length > 0 and (length > max_frames or size > max_bytes) do
  local gone = redis.call('LPOP', hist)
  local gone_seq = seq - length + 1
  size = size - #gone
  length = length - 1
  local sep = string.find(gone, '|', 1, true)
  if sep and sep > 1 then
    local name = string.sub(gone, 1, sep - 1)
    local at = redis.call('HGET', items, name)
    if at and tonumber(string.sub(at, 1, string.find(at, ':', 1, true) - 1)) <= gone_seq then
      redis.call('HDEL', items, name)
    end
  end
end
if item ~= '' and length > 0 then
  redis.call('HSET', items, item, seq .. ':' .. type)
end
redis.call('HSET', items, '#bytes', size)
redis.call('EXPIRE', seq_key, ttl)
redis.call('EXPIRE', hist, ttl)
redis.call('EXPIRE', items, ttl)
redis.call('PUBLISH', chan, message)
return seq
"""
# A room silent this long forgets its seq and history; its clients then get a reset. A day
# covers any reconnect worth resuming (a laptop asleep overnight); a client away longer
# reloads over REST, and nothing a room showed lingers in Redis for days.
KEEP_SECONDS = 86400
# Keeps the pub/sub connection subscribed when no room is live here.
_IDLE = "lms:listener-idle"


def channel(tenant: str, room: str) -> str:
    return f"lms:{tenant}:{room}"


def room_keys(tenant: str, room: str) -> tuple[str, str, str]:
    """The room's seq, history and item index."""
    return (
        f"lms:{tenant}:seq:{room}",
        f"lms:{tenant}:history:{room}",
        f"lms:{tenant}:items:{room}",
    )


def _frame_of(entry: bytes) -> bytes:
    """A history entry's frame (`item|frame`; a bare frame from before items were kept)."""
    if entry.startswith(b"{"):
        return entry
    return entry[entry.index(b"|") + 1 :]


def resilient(url: str, **options: Any) -> Redis:
    """A client that survives a dropped connection (a Redis restart or failover, `CLIENT
    KILL`): a command that meets a closed connection is retried, with backoff, on a fresh
    one, instead of failing at once; idle connections are checked before use."""
    return Redis.from_url(
        url,
        retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), RETRIES),
        retry_on_error=[ConnectionError, TimeoutError],
        health_check_interval=30,
        **options,
    )


# Retries of a command before it fails (about 2 s of backoff in all): then the room event
# goes to the outbox instead.
RETRIES = 5


# Messages read in a row before the reader lets the loop run something else. Each is
# parsed by redis-py and handed to its room's sockets in the reader's turn: 32 in a row held
# the loop for 3 to 10 ms while a fan-out to 5,000 users' rooms came in.
YIELD_EVERY = 8


class RedisBus:
    def __init__(
        self,
        redis: Redis,
        history_size: int = 1000,
        history_bytes: int = HISTORY_BYTES,
        sessions: Sessions | None = None,
        relay_seconds: float = 60.0,
    ) -> None:
        self._redis = redis
        self._history_size = history_size
        self._history_bytes = history_bytes
        # Without the tenants' databases (a tool, a test) a failed publish raises.
        self.outbox: Outbox[RoomEvent] | None = None
        if sessions is not None:
            self.outbox = Outbox(sessions, self.send, RoomEventStore(), relay_seconds)
        # Publishing's client (the listener's too, here; tests swap it for a dead one).
        self._publisher = redis
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

    def publish_through(self, client: Redis) -> None:
        """Publish through `client` from now on (what a test takes Redis away with)."""
        self._publisher = client
        self._stamp = client.register_script(_STAMP)

    async def publish(self, tenant: str, event: RoomEvent) -> None:
        """Publish now, or (Redis unreachable even after retries) keep the event in the
        outbox, to be published in order once Redis answers: never lost once committed."""
        if self.outbox is None:
            await self.send(tenant, event)
        else:
            await self.outbox.send(tenant, event)

    async def relay(self, tenant: str) -> bool:
        """Publish what the outbox holds for `tenant`, in order; True once it is empty."""
        if self.outbox is None:
            return True
        return await self.outbox.relay(tenant)

    async def send(self, tenant: str, event: RoomEvent) -> None:
        """One round trip: stamp, keep and publish (or, for the rooms alone, publish)."""
        if event.internal:
            message = events.encode_internal(event)
            await self._publisher.publish(channel(tenant, event.room), message)
            return
        head, tail = frames.split_for_seq(event.type, event.room, event.data)
        header_head, header_tail = events.header_halves(event)
        await self._stamp(
            keys=[*room_keys(tenant, event.room), channel(tenant, event.room)],
            args=[
                head,
                tail,
                self._history_size,
                self._history_bytes,
                KEEP_SECONDS,
                event.type,
                event.item or "",
                "1" if event.effect is Effect.CLOSE else "0",
                event.room,
                header_head,
                header_tail,
                *event.supersedes,
            ],
        )

    async def publish_ephemeral(
        self, tenant: str, room: str, frame: bytes, type_: str = TYPING
    ) -> None:
        await self._redis.publish(channel(tenant, room), events.encode_passing(type_, frame))

    async def history(self, tenant: str, room: str) -> History:
        seq_key, history_key, _ = room_keys(tenant, room)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.get(seq_key)
            pipe.lrange(history_key, 0, -1)
            seq_raw, stored = await pipe.execute()
        last = int(seq_raw or 0)
        return History(last - len(stored) + 1, last, [_frame_of(e) for e in stored])

    async def current_seq(self, tenant: str, room: str) -> int:
        return int(await self._redis.get(room_keys(tenant, room)[0]) or 0)

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
        read = 0
        while True:
            read += 1
            if read % YIELD_EVERY == 0:
                # Messages already buffered come back without a real wait: a burst (a
                # fan-out to thousands of users' rooms) would hold the loop until it is read.
                await asyncio.sleep(0)
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
            elif future is not None:
                # Subscribed again after a lost connection: what was published meanwhile
                # never came; the rooms catch up from the history.
                entry = self._listeners.get(name)
                for listener in list(entry[1]) if entry is not None else []:
                    listener(events.RESYNC)
            return
        if message["type"] != "message":
            return
        entry = self._listeners.get(name)
        if entry is None:
            return
        try:
            event = events.decode(message["data"])
        except ValueError:
            # Not ours (another release's format, a stray PUBLISH): the listener goes on.
            log.error("room %s: undecodable message dropped", name)
            return
        for listener in list(entry[1]):
            listener(event)

    async def close(self) -> None:
        if self.outbox is not None:
            await self.outbox.close()
        await cancel_and_wait(self._reader)
        await self._pubsub.aclose()
