"""A live room as an actor: one coroutine owns its members and hands them its events.

Joins, leaves and events arrive through one mailbox and are handled one at a time, so a
resuming client gets the history it missed and then the live events, with no gap and no
duplicate. The room starts with its first member and stops with its last.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from models.identity import Principal
from realtime import frames
from realtime.bus import Bus, RoomKey
from realtime.connection import NO_SUCH_ROOM, NOT_ALLOWED, Connection
from realtime.events import AccessRevoked, Arrival, Closing, MemberLeft, Resync, Shown

log = logging.getLogger(__name__)

# Members handed an event per turn of the loop. The room's task would otherwise hold the
# loop for a whole room (and for every event already queued: a queue that is not empty
# does not suspend): measured with the loop's slow-callback report, a broadcast to 200
# sockets was the longest step the server took while writes came in.
BROADCAST_SLICE = 128
# Members a room may have for an event to be handed out in the bus's own turn (`deliver`):
# a user's own rooms hold a socket or three, and a bus turn carries up to 8 events.
IN_LINE_MEMBERS = 8
REVOKED = "Access to this room was revoked."
# Who, of these users, may still be in the room: the domain's rule, read afresh.
AccessCheck = Callable[[RoomKey, list[Principal]], Awaitable[set[str]]]


async def everyone_allowed(key: RoomKey, principals: list[Principal]) -> set[str]:
    """For rooms that never lose a member (tests of the room alone)."""
    return {p.user_id for p in principals}


@dataclass(frozen=True, slots=True)
class Join:
    connection: Connection
    since: int | None


@dataclass(frozen=True, slots=True)
class Leave:
    connection: Connection


class Room:
    def __init__(
        self,
        key: RoomKey,
        bus: Bus,
        on_stop: Callable[[Room], None],
        access: AccessCheck = everyone_allowed,
    ) -> None:
        self.key = key
        self.accepting = True
        self.members: dict[int, Connection] = {}
        self._bus = bus
        self._on_stop = on_stop
        self._access = access
        # When this room last handled a revocation (time.monotonic()).
        self._revoked_at = float("-inf")
        self._mailbox: asyncio.Queue[Join | Leave | Arrival] = asyncio.Queue()
        self._waiting = False  # the task waits on the mailbox (set only around its `get`)
        self.task = asyncio.create_task(self._run(), name=f"room-{key[0]}-{key[1]}")

    def join(self, connection: Connection, since: int | None) -> None:
        self._mailbox.put_nowait(Join(connection, since))

    def leave(self, connection: Connection) -> None:
        self._mailbox.put_nowait(Leave(connection))

    def deliver(self, event: Arrival) -> None:
        """The bus's listener: never blocks, whatever the members do.

        A plain event for a room whose task waits on an empty mailbox, and that has at most
        `IN_LINE_MEMBERS` members, is handed out here: nothing is before it, so the order
        holds. Waking the task for it left a new Future, a coroutine and their callbacks per room
        for the garbage collector to walk, and a fan-out to 5,000 users' own rooms made
        tens of thousands of them at once: young collections of 10 to 16 ms on the loop
        (`python -m bench.inbox_fanout`, timed with `gc.callbacks`)."""
        if (
            self._waiting
            and type(event) is Shown
            and len(self.members) <= IN_LINE_MEMBERS
            and self._mailbox.empty()
        ):
            try:
                self._hand_out(event, frames.wire(event.frame), list(self.members.values()))
            except Exception:  # the bus's reader must go on for the other rooms
                log.exception("room %s failed", self.key)
                self._fail()
            return
        self._mailbox.put_nowait(event)

    async def _run(self) -> None:
        try:
            await self._bus.listen(self.key, self.deliver)
            while True:
                self._waiting = True
                try:
                    arrived = await self._mailbox.get()
                finally:
                    self._waiting = False
                match arrived:
                    case Shown() as event:
                        await self._broadcast(event)
                    case AccessRevoked(user_id=user_id):
                        await self._revoke(user_id)
                    case Join() as join:
                        await self._admit(join)
                    case Resync():
                        await self._resync()
                    case Leave(connection=connection):
                        self.members.pop(connection.id, None)
                if not self.members and self._mailbox.empty():
                    return
        except Exception:
            log.exception("room %s failed", self.key)
            self._fail()
        finally:
            self.accepting = False
            self._on_stop(self)
            await self._bus.unlisten(self.key, self.deliver)

    def _fail(self) -> None:
        """Every member is let go (1011): they reconnect to a room that works."""
        for connection in self.members.values():
            connection.close(1011, "Room failed.")

    async def _broadcast(self, event: Shown) -> None:
        """Every member gets the event, `BROADCAST_SLICE` at a time, the loop free between.

        Only this task changes `members` (and `deliver`, while the task waits on its
        mailbox), so the members are the same from slice to slice; one that closes
        meanwhile is refused by `offer` and dropped like any other."""
        if isinstance(event, MemberLeft):
            for connection_id in self._expel(event.user_id):
                self.members.pop(connection_id, None)
        wire_frame = frames.wire(event.frame)  # once for every member
        members = list(self.members.values())
        for start in range(0, len(members), BROADCAST_SLICE):
            await asyncio.sleep(0)
            self._hand_out(event, wire_frame, members[start : start + BROADCAST_SLICE])

    def _hand_out(self, event: Shown, wire_frame: bytes, members: list[Connection]) -> None:
        """`members` get the event; those gone (or closed with the room) leave `members`."""
        closing = isinstance(event, Closing)
        for connection in members:
            if event.seq is not None:
                if event.seq <= connection.last_seq:
                    continue  # already given in its resume
                connection.last_seq = event.seq
            if not connection.offer(wire_frame):
                self.members.pop(connection.id, None)
            elif closing:  # what the room was about is gone: so is the room
                connection.close(NO_SUCH_ROOM, "This room no longer exists.")
                self.members.pop(connection.id, None)

    def _expel(self, user_id: str) -> list[int]:
        """A member removed from the group loses its chat at once, not at its next reconnect."""
        expelled = [c for c in self.members.values() if c.user_id == user_id]
        for connection in expelled:
            connection.close(NOT_ALLOWED, "No longer a member.")
        return [c.id for c in expelled]

    async def _revoke(self, user_id: str | None) -> None:
        """Access of `user_id` (None: anyone's) may have ended: those who lost it are closed
        before this room hands out anything that came after (the mailbox's order)."""
        self._revoked_at = time.monotonic()
        await self._drop_lost(
            [c for c in self.members.values() if user_id is None or c.user_id == user_id]
        )

    async def _drop_lost(self, connections: list[Connection]) -> None:
        """Close, 4403, those of `connections` whose user may no longer be here."""
        if not connections:
            return
        principals = {c.user_id: c.principal for c in connections}
        try:
            allowed = await self._access(self.key, list(principals.values()))
        except Exception:
            # Unsure is not allowed: they reconnect, and the handshake checks again.
            log.exception("room %s could not re-check access", self.key)
            allowed = set()
        for connection in connections:
            if connection.user_id not in allowed:
                connection.close(NOT_ALLOWED, REVOKED)
                self.members.pop(connection.id, None)

    async def _resync(self) -> None:
        """After a gap in delivery: a revocation may be among what was missed, so everyone's
        access is checked again; then each member gets what it missed, or a reset."""
        await self._revoke(None)
        history = await self._bus.history(*self.key)
        for connection in list(self.members.values()):
            missed = history.after(connection.last_seq)
            if missed is None:
                connection.send_now(frames.control("reset", self.key[1], seq=history.last))
            else:
                for _, frame in missed:
                    connection.send_now(frame)
            connection.last_seq = max(connection.last_seq, history.last)

    async def _admit(self, join: Join) -> None:
        connection = join.connection
        if connection.closed:
            return
        if connection.checked_at <= self._revoked_at:
            # Its handshake read its access before a revocation this room has handled.
            await self._drop_lost([connection])
            if connection.closed:
                return
        if join.since is None:
            current = await self._bus.current_seq(*self.key)
        else:
            history = await self._bus.history(*self.key)
            current = history.last
            missed = history.after(join.since)
            if missed is None:
                connection.send_now(frames.control("reset", self.key[1], seq=current))
            else:
                for _, frame in missed:
                    connection.send_now(frame)
        # Live events up to `current` are in what it was just given, or came before it joined.
        connection.last_seq = current
        connection.send_now(frames.control("joined", self.key[1], seq=current))
        if not connection.closed:
            self.members[connection.id] = connection
