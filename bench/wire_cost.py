"""What writing a room's frame costs per member: framed once and written to each transport
(realtime/frames.py `wire`, realtime/connection.py `offer`), against the plain path,
`await ws.send_frame(...)` per member.

    python -m bench.wire_cost [EVENTS MEMBERS]        # default 200 1000

In process, pinned to CPU 0 when it can be, CPU time of this process: both paths write
into transports that take every byte at once, so the figure is the Python each path runs
per delivery, without the system calls (which cost the same either way). No target: it
says what the hand-built frame buys, beside `bench.ws_pinned`'s whole cost per delivery.
"""

from __future__ import annotations

import asyncio
import sys
import time

import orjson
from aiohttp import WSMsgType
from aiohttp._websocket.writer import WebSocketWriter

from bench.ratelimit_cost import on_cpu_0
from realtime import frames
from realtime.connection import WRITE_LIMIT

LABEL = "wire cost"
EVENTS, MEMBERS = 200, 1000
PAYLOAD = orjson.dumps(
    {"type": "post", "room": "forum:1", "seq": 5, "data": {"id": 1, "content": "x" * 120}}
)


class Sink:
    """A transport that takes every byte at once."""

    def __init__(self) -> None:
        self.written = 0

    def write(self, data: bytes) -> None:
        self.written += len(data)

    def get_write_buffer_size(self) -> int:
        return 0

    def is_closing(self) -> bool:
        return False


class Protocol:
    """aiohttp's protocol as the writer sees it: never paused (every client keeps up)."""

    _paused = False

    async def _drain_helper(self) -> None:
        return None


async def framed_once(events: int, members: int) -> float:
    sinks = [Sink() for _ in range(members)]
    started = time.process_time()
    for _ in range(events):
        wire_frame = frames.wire(PAYLOAD)
        for sink in sinks:  # what Connection.offer does for a member that keeps up
            if not sink.is_closing() and sink.get_write_buffer_size() <= WRITE_LIMIT:
                sink.write(wire_frame)
    return (time.process_time() - started) / (events * members) * 1e6


async def send_frame_each(events: int, members: int) -> float:
    writers = [WebSocketWriter(Protocol(), Sink()) for _ in range(members)]  # type: ignore[arg-type]
    started = time.process_time()
    for _ in range(events):
        for writer in writers:
            await writer.send_frame(PAYLOAD, WSMsgType.TEXT)
    return (time.process_time() - started) / (events * members) * 1e6


async def main(events: int = EVENTS, members: int = MEMBERS) -> list[str]:
    with on_cpu_0():
        await framed_once(events // 10 or 1, members)  # warm both paths up
        await send_frame_each(events // 10 or 1, members)
        framed = min([await framed_once(events, members) for _ in range(3)])
        plain = min([await send_frame_each(events, members) for _ in range(3)])
    line = (
        f"{LABEL}: RESULT framed_once_us={framed:.3f} send_frame_us={plain:.3f} "
        f"saved_us={plain - framed:.3f} events={events} members={members}"
    )
    print(line)
    return [line]


if __name__ == "__main__":
    asyncio.run(main(*(int(a) for a in sys.argv[1:3])))
