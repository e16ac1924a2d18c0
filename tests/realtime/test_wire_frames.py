"""The hand-built socket frame (realtime/frames.py `wire`) is what aiohttp would send."""

from __future__ import annotations

import pytest
from aiohttp import WSMsgType
from aiohttp._websocket.writer import WebSocketWriter

from bench.wire_cost import Protocol
from realtime import frames


class Recording:
    def __init__(self) -> None:
        self.written = b""

    def write(self, data: bytes) -> None:
        self.written += data

    def is_closing(self) -> bool:
        return False


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536, 300_000])
async def test_a_hand_built_frame_is_the_bytes_aiohttp_writes(size: int) -> None:
    payload = b"x" * size
    transport = Recording()
    writer = WebSocketWriter(Protocol(), transport)  # type: ignore[arg-type]

    await writer.send_frame(payload, WSMsgType.TEXT)

    assert frames.wire(payload) == transport.written
