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

from aiohttp import web

from realtime import frames

log = logging.getLogger(__name__)

# Close codes: the standard ones, and SPEC §4's for the handshake and room rights.
TOO_SLOW = 1008
GOING_AWAY = 1001
UNAUTHENTICATED, NOT_ALLOWED, NO_SUCH_ROOM = 4401, 4403, 4404
_ids = itertools.count(1)
# Unsent bytes a transport may hold before frames queue (aiohttp's own writer limit).
WRITE_LIMIT = 256 * 1024
DRAIN_POLL_SECONDS = 0.005


class Connection:
    def __init__(
        self, ws: web.WebSocketResponse, request: web.Request, *, user_id: str, queue_size: int
    ) -> None:
        self.id = next(_ids)
        self.user_id = user_id
        self.ws = ws
        self.last_seq = 0  # the newest seq this client has been given (resume, no duplicates)
        self.closed = False
        self._transport = request.transport
        self._queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=queue_size)
        self._writer: asyncio.Task[None] | None = None
        self._closer: asyncio.Task[None] | None = None
        self._writing = False  # the writer holds a frame: nothing may overtake it

    def start(self) -> None:
        self._writer = asyncio.create_task(self._write_forever(), name=f"ws-writer-{self.id}")

    def offer(self, wire_frame: bytes) -> bool:
        """Send a framed frame, or queue it; a full queue cuts the client off.

        False when the client is gone.
        """
        if self.closed:
            return False
        transport = self._transport
        if transport is None or transport.is_closing():
            self.closed = True
            return False
        if (
            not self._writing
            and self._queue.empty()
            and transport.get_write_buffer_size() <= WRITE_LIMIT
        ):
            transport.write(wire_frame)
            return True
        try:
            self._queue.put_nowait(wire_frame)
        except asyncio.QueueFull:
            self.close(TOO_SLOW, "Too slow: the outgoing queue is full.")
            return False
        return True

    def send_now(self, payload: bytes) -> None:
        """A reply to this client alone (pong, error), in order with everything else."""
        self.offer(frames.wire(payload))

    async def _write_forever(self) -> None:
        transport = self._transport
        assert transport is not None
        while True:
            self._writing = False
            wire_frame = await self._queue.get()
            self._writing = True
            # Only a lagging client gets here: wait for it to read, then send in order. The
            # transport announces its draining to aiohttp's protocol only (privately): poll.
            lagging = transport.get_write_buffer_size() > WRITE_LIMIT
            while lagging and not transport.is_closing():
                await asyncio.sleep(DRAIN_POLL_SECONDS)
                lagging = transport.get_write_buffer_size() > WRITE_LIMIT
            if transport.is_closing():
                self.closed = True
                return
            transport.write(wire_frame)

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
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
        if self._closer is not None:
            with contextlib.suppress(Exception):
                await self._closer
