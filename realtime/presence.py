"""Who is connected to a room now: this process's sockets, or (Redis) every instance's.

With Redis, each instance keeps its users of a room in one sorted set per room, scored by
when the entry expires; a refresher renews them, so an instance that dies leaves nobody
"online" for longer than `TTL_SECONDS`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import Counter
from typing import Protocol

from redis.asyncio import Redis

from models.background import cancel_and_wait
from realtime.bus import RoomKey

log = logging.getLogger(__name__)

TTL_SECONDS = 90
REFRESH_SECONDS = 30


class Presence(Protocol):
    def arrived(self, key: RoomKey, user_id: str) -> None: ...

    def left(self, key: RoomKey, user_id: str) -> None: ...

    async def online(self, key: RoomKey) -> list[str]: ...

    async def close(self) -> None: ...


class UserCounts:
    """Connections per user per room; says when a user's first arrives and last leaves."""

    def __init__(self) -> None:
        self._users: dict[RoomKey, Counter[str]] = {}

    def add(self, key: RoomKey, user_id: str) -> bool:
        users = self._users.setdefault(key, Counter())
        users[user_id] += 1
        return users[user_id] == 1

    def remove(self, key: RoomKey, user_id: str) -> bool:
        users = self._users.get(key)
        if users is None or users[user_id] == 0:
            return False
        users[user_id] -= 1
        if users[user_id] == 0:
            del users[user_id]
            if not users:
                del self._users[key]
            return True
        return False

    def entries(self) -> list[tuple[RoomKey, str]]:
        return [(key, user) for key, users in self._users.items() for user in users]

    def users(self, key: RoomKey) -> list[str]:
        return sorted(self._users.get(key, {}))


class LocalPresence:
    def __init__(self) -> None:
        self._counts = UserCounts()

    def arrived(self, key: RoomKey, user_id: str) -> None:
        self._counts.add(key, user_id)

    def left(self, key: RoomKey, user_id: str) -> None:
        self._counts.remove(key, user_id)

    async def online(self, key: RoomKey) -> list[str]:
        return self._counts.users(key)

    async def close(self) -> None:
        """Nothing kept outside this process."""


def _text(member: object) -> str:
    return member.decode() if isinstance(member, bytes) else str(member)


def _zset(key: RoomKey) -> str:
    return f"lms:{key[0]}:presence:{key[1]}"


class RedisPresence:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._local = UserCounts()
        self._instance = uuid.uuid4().hex[:12]
        # One writer, in order: an arrival and a quick departure never swap in Redis.
        self._writes: asyncio.Queue[tuple[str, RoomKey, str]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._write_forever(), name="presence-writer"),
            asyncio.create_task(self._refresh_forever(), name="presence-refresher"),
        ]

    def _member(self, user_id: str) -> str:
        return f"{self._instance}|{user_id}"

    def arrived(self, key: RoomKey, user_id: str) -> None:
        if self._local.add(key, user_id):
            self._writes.put_nowait(("add", key, user_id))

    def left(self, key: RoomKey, user_id: str) -> None:
        if self._local.remove(key, user_id):
            self._writes.put_nowait(("remove", key, user_id))

    async def online(self, key: RoomKey) -> list[str]:
        name = _zset(key)
        await self._redis.zremrangebyscore(name, "-inf", time.time())
        members = await self._redis.zrange(name, 0, -1)
        return sorted({_text(m).partition("|")[2] for m in members})

    async def _write_forever(self) -> None:
        while True:
            op, key, user_id = await self._writes.get()
            try:
                if op == "add":
                    await self._redis.zadd(
                        _zset(key), {self._member(user_id): time.time() + TTL_SECONDS}
                    )
                else:
                    await self._redis.zrem(_zset(key), self._member(user_id))
            except Exception:
                log.warning("presence %s of %s in %s not written", op, user_id, key)

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            for key, user_id in self._local.entries():
                self._writes.put_nowait(("add", key, user_id))

    async def close(self) -> None:
        for task in self._tasks:
            await cancel_and_wait(task)
        entries = self._local.entries()
        with contextlib.suppress(Exception):
            for key, user_id in entries:
                await self._redis.zrem(_zset(key), self._member(user_id))
