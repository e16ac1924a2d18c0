"""Keep-alive for all of a process's sockets with one timer, not one per socket.

aiohttp's heartbeat arms a timer for each socket and re-arms it as data comes; at ten
thousand idle sockets those timers are a fair part of what a socket costs (about 0.6 KB of
its ~21). Here one task goes round every socket each `interval` seconds, a slice per tick
so that no tick holds the loop long: a socket that said something since the last round is
left alone, a silent one is pinged, and one still silent a round after its ping (no pong)
is dropped, as aiohttp's heartbeat drops it. A peer gone without a word is let go within
two rounds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable

from models.background import cancel_and_wait
from realtime.connection import Connection

log = logging.getLogger(__name__)

TICKS_PER_ROUND = 60  # 10,000 sockets: ~170 a tick, well under a millisecond


class KeepAlive:
    def __init__(self, connections: Callable[[], Iterable[Connection]]) -> None:
        self._connections = connections
        self._task: asyncio.Task[None] | None = None

    def start(self, interval: float) -> None:
        """Runs from the first call on (later calls change nothing); 0 turns it off."""
        if self._task is None and interval > 0:
            self._task = asyncio.create_task(self._run(interval), name="ws-keepalive")

    async def _run(self, interval: float) -> None:
        tick = interval / TICKS_PER_ROUND
        while True:
            # This round's sockets; one that joins meanwhile is seen from the next round.
            sockets = list(self._connections())
            size = -(-len(sockets) // TICKS_PER_ROUND)  # rounded up
            for n in range(TICKS_PER_ROUND):
                await asyncio.sleep(tick)
                for connection in sockets[n * size : (n + 1) * size]:
                    try:
                        connection.keep_alive()
                    except Exception:
                        log.exception("keep-alive of socket %s failed", connection.id)

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None
