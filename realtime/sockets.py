"""The socket endpoints: handshake (Origin, token, room rights), then one reader per socket.

Only the handler task reads its socket (aiohttp's rule); everything it sends, pongs too,
goes through the connection's queue, in order.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from aiohttp import WSMessage, WSMsgType, web
from sqlalchemy.ext.asyncio import AsyncSession

from models import outage
from models.errors import (
    AuthenticationFailed,
    BadRequest,
    DomainError,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
)
from models.fields import MAX_ID
from models.identity import Principal
from models.people.names import actor_person
from realtime import frames
from realtime.connection import (
    NO_SUCH_ROOM,
    NOT_ALLOWED,
    TOO_SLOW,
    UNAUTHENTICATED,
    Connection,
)
from realtime.gate import GATE, SocketGate

log = logging.getLogger(__name__)

TYPING_INTERVAL = 1.0  # seconds between two relayed `typing` of one client
STRIKES_BEFORE_CLOSE = 20  # throttled frames a flooding client may send before it is closed

# Checks a user may enter a room: NotFound (4404) or PermissionDenied (4403).
RoomCheck = Callable[[AsyncSession, Principal, int], Awaitable[None]]
# Of these users, those who may be in a room now (the check's rule, for many at once).
RoomReaders = Callable[[AsyncSession, list[Principal], int], Awaitable[set[str]]]
# Acts on a client frame in a room, inside the frame's own transaction.
FrameAction = Callable[[AsyncSession, Principal, int, frames.ClientFrame], Awaitable[None]]


@dataclass(frozen=True)
class RoomKind:
    """A kind of room (`forum`, `group`, `course`): who may enter, what its frames do."""

    name: str
    check: RoomCheck
    actions: dict[str, FrameAction] = field(default_factory=dict)
    # The same rule as `check` for a whole room at once; without it, user by user.
    readers: RoomReaders | None = None
    # A room of one's own (the notifications socket): its name from the caller's user id,
    # not from the path; there is no id to check, and nobody else's room to ask for.
    own_room: Callable[[str], str] | None = None


@dataclass(slots=True)
class _Throttle:
    """A token bucket per socket: `rate` frames a second, bursts of twice that."""

    rate: float
    tokens: float = 0.0
    stamp: float = field(default_factory=time.monotonic)
    strikes: int = 0
    last_typing: float = 0.0

    def __post_init__(self) -> None:
        self.tokens = self.rate * 2

    def allow(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.rate * 2, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        self.strikes += 1
        return False

    def typing_allowed(self) -> bool:
        now = time.monotonic()
        if now - self.last_typing < TYPING_INTERVAL:
            return False
        self.last_typing = now
        return True


def room_handler(
    kind: RoomKind, id_name: str
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handler(request: web.Request) -> web.StreamResponse:
        raw = request.match_info[id_name]
        # Longer than any id names no room (and int() refuses over 4,300 digits): 4404.
        room_id = int(raw) if len(raw) <= len(str(MAX_ID)) else 0
        return await _serve(request, kind, room_id)

    handler.__name__ = f"{kind.name}_socket"
    handler.__doc__ = f"WebSocket of a {kind.name} room (docs/realtime.md)."
    return handler


def own_room_handler(kind: RoomKind) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """The socket of a room each user has for themself (`kind.own_room`)."""
    assert kind.own_room is not None

    async def handler(request: web.Request) -> web.StreamResponse:
        return await _serve(request, kind, 0)

    handler.__name__ = f"{kind.name}_socket"
    handler.__doc__ = f"WebSocket of the caller's own {kind.name} room (docs/realtime.md)."
    return handler


def _parameters(request: web.Request) -> tuple[str | None, int | None]:
    """The token and `since`, parsed here: `request.query` would stay cached on the request,
    a copy of the token in it, for as long as the socket lives."""
    query: dict[str, str] = {}
    # The request target as it came (`rel_url.raw_query_string` would cache on the URL).
    for name, value in parse_qsl(request.raw_path.partition("?")[2]):
        query.setdefault(name, value)  # the first of each name, as `request.query.get`
    return _token(request, query), _since(query)


def _token(request: web.Request, query: dict[str, str]) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return query.get("token") or None


# What ends the reading: the close handshake, a closed socket, or a protocol error.
_END = (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR)


async def _serve(request: web.Request, kind: RoomKind, room_id: int) -> web.StreamResponse:
    gate = request.app[GATE]
    if not gate.origin_allowed(request):
        # Refused before the upgrade, as an HTTP 403: a browser sees no socket at all.
        raise PermissionDenied("Origin not allowed.")
    ws = web.WebSocketResponse(
        compress=False,  # one compressor per socket and a compression per recipient: no
        max_msg_size=frames.MAX_CLIENT_FRAME,
        # Pings and pongs are the hub's keep-alive's (one timer for all sockets), not
        # aiohttp's heartbeat (a timer per socket): see realtime/keepalive.py.
        heartbeat=None,
        autoping=False,
    )
    if not ws.can_prepare(request).ok:
        raise BadRequest("Expected a WebSocket upgrade.")
    await ws.prepare(request)
    token, since = _parameters(request)
    checked_at = time.monotonic()
    principal = await _enter(gate, request, ws, kind, room_id, token)
    if principal is None:
        return ws
    # One room name and key for all its sockets, not one copy per socket.
    if kind.own_room is not None:
        room = sys.intern(kind.own_room(principal.user_id))
    else:
        room = sys.intern(f"{kind.name}:{room_id}")
    key = gate.hub.key(principal.tenant, room)
    connection = Connection(
        ws,
        request,
        principal=principal,
        queue_size=gate.settings.ws_queue_size,
        checked_at=checked_at,
    )
    gate.hub.join(key, connection, since)
    gate.hub.keepalive.start(gate.settings.ws_heartbeat_seconds)
    # Frames until the client goes. An idle socket waits here, in this frame and aiohttp's
    # below it (no coroutine of its own for the loop); `_handle` takes each frame.
    throttle: _Throttle | None = None  # made with the first frame: idle sockets need none
    try:
        while True:
            message = await ws.receive()
            # ERROR: e.g. a frame over max_msg_size (aiohttp closes with 1009).
            if connection.closed or message.type in _END:
                break
            connection.heard = True  # alive, whatever it said
            if message.type is WSMsgType.PING:
                connection.offer(frames.pong(message.data))
                continue
            if message.type is WSMsgType.PONG:
                continue
            if throttle is None:
                throttle = _Throttle(gate.settings.ws_frames_per_second)
            going_on = await _handle(
                gate, connection, principal, kind, room_id, room, throttle, message
            )
            if not going_on:
                break
    finally:
        gate.hub.leave(key, connection)
        await connection.wait_closed()
    return ws


async def _enter(
    gate: SocketGate,
    request: web.Request,
    ws: web.WebSocketResponse,
    kind: RoomKind,
    room_id: int,
    token: str | None,
) -> Principal | None:
    """The user, if they may be in this room; else the socket is closed with the right code."""
    if token is None:
        await ws.close(code=UNAUTHENTICATED, message=b"Authentication required.")
        return None
    try:
        principal = await gate.authenticate(request, token)
    except (AuthenticationFailed, NotAuthenticated):
        await ws.close(code=UNAUTHENTICATED, message=b"Invalid token.")
        return None
    except PermissionDenied:
        await ws.close(code=NOT_ALLOWED, message=b"Token tenant does not match this domain.")
        return None
    if kind.own_room is not None:
        return principal  # one's own room: the token is all it takes, no database read
    if not 0 < room_id <= MAX_ID:
        await ws.close(code=NO_SUCH_ROOM, message=b"No such room.")
        return None
    try:
        async with gate.unit_of_work(principal.tenant, read_only=True) as uow:
            await kind.check(uow.session, principal, room_id)
    except NotFound:
        await ws.close(code=NO_SUCH_ROOM, message=b"No such room.")
        return None
    except PermissionDenied:
        await ws.close(code=NOT_ALLOWED, message=b"Not allowed in this room.")
        return None
    return principal


def _since(query: dict[str, str]) -> int | None:
    raw = query.get("since")
    if raw is None or not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        return None  # no resume: live from now (a bad value is no reason to refuse the socket)
    return int(raw)


async def _handle(
    gate: SocketGate,
    connection: Connection,
    principal: Principal,
    kind: RoomKind,
    room_id: int,
    room: str,
    throttle: _Throttle,
    message: WSMessage,
) -> bool:
    """One client frame; False when the client is to be cut off."""
    if message.type is not WSMsgType.TEXT:
        connection.send_now(frames.error(400, "Frames must be JSON text."))
        return True
    if not throttle.allow():
        if throttle.strikes > STRIKES_BEFORE_CLOSE:
            connection.close(TOO_SLOW, "Too many frames.")
            return False
        connection.send_now(frames.error(429, "Too many frames; slow down."))
        return True
    try:
        frame = frames.parse(message.data)
    except frames.BadFrame as exc:
        connection.send_now(frames.error(400, str(exc)))
        return True
    if frame.type == "ping":
        connection.send_now(frames.control("pong", room))
    elif frame.type == "typing":
        if throttle.typing_allowed():
            data = {"user_id": principal.user_id, "user": actor_person(principal)}
            await gate.hub.bus.publish_ephemeral(
                principal.tenant, room, frames.encode("typing", room, data)
            )
    else:
        await _act(gate, connection, principal, kind, room_id, frame)
    return True


async def _act(
    gate: SocketGate,
    connection: Connection,
    principal: Principal,
    kind: RoomKind,
    room_id: int,
    frame: frames.ClientFrame,
) -> None:
    """A frame that changes something: its own transaction, the same domain operation as REST."""
    action = kind.actions.get(frame.type)
    if action is None:
        connection.send_now(frames.error(400, f'"{frame.type}" frames are not taken in this room.'))
        return
    try:
        async with gate.unit_of_work(principal.tenant) as uow:
            uow.actor = principal
            await action(uow.session, principal, room_id, frame)
    except DomainError as exc:
        connection.send_now(frames.domain_error(exc))
    except Exception as exc:
        if outage.database_unavailable(exc):  # nothing was written; the client may resend
            log.warning("socket frame %s: database unavailable: %r", frame.type, exc)
            connection.send_now(frames.error(503, outage.DETAIL))
            return
        log.exception("socket frame %s in %s:%s failed", frame.type, kind.name, room_id)
        connection.send_now(frames.error(500, "A server error occurred."))
