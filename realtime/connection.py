"""One socket's outgoing side: frames written as they come, or queued while it lags.

A room never awaits a send. A frame (already framed for the wire, the same bytes for every
member) goes straight to the socket's transport while that keeps up; once the transport
holds `WRITE_LIMIT` unsent bytes, frames wait in a bounded queue that a writer task drains
as the client reads. A client that stops reading fills its queue and is cut off with 1008;
the room and its other members do not wait for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections import deque

from aiohttp import web

from models.background import cancel_and_wait
from models.identity import Principal
from realtime import frames

log = logging.getLogger(__name__)

# Close codes: the standard ones, and the protocol's own for the handshake and room rights
# (docs/realtime.md).
TOO_SLOW = 1008
GOING_AWAY = 1001
UNAUTHENTICATED, NOT_ALLOWED, NO_SUCH_ROOM = 4401, 4403, 4404
_ids = itertools.count(1)
# Unsent bytes a transport may hold before frames queue (aiohttp's own writer limit).
WRITE_LIMIT = 256 * 1024
DRAIN_POLL_SECONDS = 0.005


class Connection:
    # Ten thousand idle sockets: each attribute dict counts.
    __slots__ = (
        "_closer",
        "_pending",
        "_pinged",
        "_queue_size",
        "_transport",
        "_writer",
        "checked_at",
        "closed",
        "heard",
        "id",
        "last_seq",
        "principal",
        "user_id",
        "ws",
    )

    def __init__(
        self,
        ws: web.WebSocketResponse,
        request: web.Request,
        *,
        principal: Principal,
        queue_size: int,
        checked_at: float = 0.0,
    ) -> None:
        self.id = next(_ids)
        self.principal = principal  # whose access a room re-checks when it may have ended
        self.user_id = principal.user_id
        # When its handshake began to read its access (time.monotonic()): a revocation a
        # room handled after that may have been missed by that read.
        self.checked_at = checked_at
        self.ws = ws
        self.last_seq = 0  # the newest seq this client has been given (resume, no duplicates)
        self.closed = False
        # Keep-alive (realtime/keepalive.py): the reader sets `heard` on anything received.
        self.heard = False
        self._pinged = False
        self._transport = request.transport
        self._queue_size = queue_size
        # Frames waiting for a lagging client, and the task draining them: neither exists
        # for a socket that keeps up (most of them: an idle socket costs no task, and no
        # queue either, since even an empty deque holds a block of 64 slots).
        self._pending: deque[bytes] | None = None
        self._writer: asyncio.Task[None] | None = None
        self._closer: asyncio.Task[None] | None = None

    def offer(self, wire_frame: bytes) -> bool:
        """Send a framed frame, or queue it; a full queue cuts the client off.

        False when the client is gone. Writing to the transport rather than awaiting
        `ws.send_frame` is what lets a room never wait on one member (frames.wire says
        what it buys, with the figure).
        """
        if self.closed:
            return False
        transport = self._transport
        if transport is None or transport.is_closing():
            self.closed = True
            return False
        if self._writer is None and transport.get_write_buffer_size() <= WRITE_LIMIT:
            transport.write(wire_frame)
            return True
        pending = self._pending
        if pending is None:
            pending = self._pending = deque()
        if len(pending) >= self._queue_size:
            self.close(TOO_SLOW, "Too slow: the outgoing queue is full.")
            return False
        pending.append(wire_frame)
        if self._writer is None:
            self._writer = asyncio.create_task(self._drain(), name=f"ws-writer-{self.id}")
        return True

    def send_now(self, payload: bytes) -> None:
        """A reply to this client alone (pong, error), in order with everything else."""
        self.offer(frames.wire(payload))

    async def _drain(self) -> None:
        """Send what waited, in order, as the client reads; then step aside."""
        transport, pending = self._transport, self._pending
        assert transport is not None and pending is not None
        try:
            while pending:
                # The transport announces its draining to aiohttp's protocol only: poll.
                while transport.get_write_buffer_size() > WRITE_LIMIT:
                    if transport.is_closing():
                        self.closed = True
                        return
                    await asyncio.sleep(DRAIN_POLL_SECONDS)
                if transport.is_closing():
                    self.closed = True
                    return
                transport.write(pending.popleft())
        finally:
            # No await since the queue was seen empty: nothing can slip in between. The
            # queue goes with the task (a client that caught up costs no queue either).
            self._writer = None
            self._pending = None

    def keep_alive(self) -> None:
        """The keep-alive's round: a socket silent since its ping is dropped (as aiohttp's
        heartbeat drops it), a silent one pinged, one that spoke left alone."""
        if self.closed:
            return
        if self.heard:
            self.heard = self._pinged = False
        elif not self._pinged:
            self._pinged = True
            self.offer(frames.PING)
        else:
            log.info("socket %s of %s: no pong, dropped", self.id, self.user_id)
            self.closed = True
            if self._transport is not None:
                self._transport.abort()

    def close(self, code: int, reason: str) -> None:
        """Close soon, from anywhere, without waiting (a full buffer may never drain)."""
        if self._closer is not None:
            return
        self.closed = True
        self._closer = asyncio.create_task(self._close(code, reason))

    async def _close(self, code: int, reason: str) -> None:
        if self._writer is not None:
            self._writer.cancel()
        try:
            await asyncio.wait_for(self.ws.close(code=code, message=reason.encode()), timeout=1)
        except Exception:
            # Its buffers are full, so even the close frame cannot get through: drop it.
            if self._transport is not None:
                self._transport.abort()

    async def wait_closed(self) -> None:
        """Stop writing once the reader is done; let a pending close finish."""
        self.closed = True
        await cancel_and_wait(self._writer)
        if self._closer is not None:
            with contextlib.suppress(Exception):
                await self._closer
