"""This process's live rooms, and who is in them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from models.background import cancel_and_wait
from realtime.bus import Bus, RoomKey
from realtime.connection import GOING_AWAY, Connection
from realtime.keepalive import KeepAlive
from realtime.presence import Presence
from realtime.room import AccessCheck, Room, everyone_allowed


class Hub:
    def __init__(
        self, bus: Bus, presence: Presence, access: AccessCheck = everyone_allowed
    ) -> None:
        self.bus = bus
        self.presence = presence
        self._access = access
        self._rooms: dict[RoomKey, Room] = {}
        self._connections: dict[RoomKey, dict[int, Connection]] = {}
        self.keepalive = KeepAlive(self._every_connection)

    def _every_connection(self) -> Iterator[Connection]:
        for connections in self._connections.values():
            yield from connections.values()

    def key(self, tenant: str, room: str) -> RoomKey:
        """The key of a live room, shared by its sockets (a new one for a room not live)."""
        key = (tenant, room)
        live = self._rooms.get(key)
        return key if live is None else live.key

    def join(self, key: RoomKey, connection: Connection, since: int | None) -> None:
        room = self._rooms.get(key)
        if room is None or not room.accepting:
            room = self._rooms[key] = Room(key, self.bus, self._forget, self._access)
        room.join(connection, since)
        self._connections.setdefault(key, {})[connection.id] = connection
        self.presence.arrived(key, connection.user_id)

    def leave(self, key: RoomKey, connection: Connection) -> None:
        connections = self._connections.get(key, {})
        if connections.pop(connection.id, None) is None:
            return
        if not connections:
            self._connections.pop(key, None)
        self.presence.left(key, connection.user_id)
        room = self._rooms.get(key)
        if room is not None:
            room.leave(connection)

    def _forget(self, room: Room) -> None:
        if self._rooms.get(room.key) is room:
            del self._rooms[room.key]

    def local_users(self, key: RoomKey) -> Counter[str]:
        return Counter(c.user_id for c in self._connections.get(key, {}).values())

    async def close(self) -> None:
        """Shutdown: every client is told 1001 (going away) and may reconnect elsewhere."""
        await self.keepalive.stop()
        for connections in self._connections.values():
            for connection in connections.values():
                connection.close(GOING_AWAY, "Server shutting down.")
        for connections in list(self._connections.values()):
            for connection in list(connections.values()):
                await connection.wait_closed()
        for room in list(self._rooms.values()):
            await cancel_and_wait(room.task)
