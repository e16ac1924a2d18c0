"""One socket's outgoing side: a bounded queue and the writer task that drains it.

The room only ever puts into the queue (never awaits a send), so a client that stops
reading fills its own queue and is cut off with 1008; the room and its other members do
not wait for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging

from aiohttp import WSMsgType, web

log = logging.getLogger(__name__)

# Close codes: the standard ones, and SPEC §4's for the handshake and room rights.
TOO_SLOW = 1008
GOING_AWAY = 1001
UNAUTHENTICATED, NOT_ALLOWED, NO_SUCH_ROOM = 4401, 4403, 4404
_ids = itertools.count(1)


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

    def start(self) -> None:
        self._writer = asyncio.create_task(self._write_forever(), name=f"ws-writer-{self.id}")

    def offer(self, frame: bytes) -> bool:
        """Queue a frame; a full queue cuts the client off. False when it is gone."""
        if self.closed:
            return False
        try:
            self._queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.close(TOO_SLOW, "Too slow: the outgoing queue is full.")
            return False
        return True

    def send_now(self, frame: bytes) -> None:
        """A reply to this client alone (pong, error): same queue, same order."""
        self.offer(frame)

    async def _write_forever(self) -> None:
        while True:
            frame = await self._queue.get()
            try:
                await self.ws.send_frame(frame, WSMsgType.TEXT)
            except Exception:  # "Cannot write to closing transport", a reset peer
                self.closed = True
                return

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
