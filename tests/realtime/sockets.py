"""Helpers for tests with real sockets: open one as a user, read the next frame of a type."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

WAIT = 5.0  # seconds; a generous bound so a slow CI machine is not a failure


async def open_socket(
    api: Any,
    path: str,
    *,
    as_: str | None = None,
    token: str | None = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> aiohttp.ClientWebSocketResponse:
    """A socket as `as_` (token in the query, as browsers send it); joined once it returns."""
    params = dict(query or {})
    bearer = token if token is not None else (api.tokens[as_] if as_ else None)
    if bearer is not None:
        params["token"] = bearer
    ws = await api.client.ws_connect(path, params=params, headers=headers or {})
    return ws


async def joined(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    """Wait for the room's `joined` frame: from then on, every event reaches this socket."""
    return await next_frame(ws, "joined")


async def next_frame(
    ws: aiohttp.ClientWebSocketResponse, type_: str | None = None, within: float = WAIT
) -> dict[str, Any]:
    """The next frame (of `type_`, skipping others); fails if none comes in time."""
    async with asyncio.timeout(within):
        while True:
            message = await ws.receive()
            assert message.type is aiohttp.WSMsgType.TEXT, (message.type, message.data)
            frame: dict[str, Any] = message.json()
            if type_ is None or frame["type"] == type_:
                return frame


async def closed_with(ws: aiohttp.ClientWebSocketResponse, within: float = WAIT) -> int | None:
    """Read until the server closes; its close code."""
    async with asyncio.timeout(within):
        while True:
            message = await ws.receive()
            if message.type in (
                aiohttp.WSMsgType.CLOSE,
                aiohttp.WSMsgType.CLOSING,
                aiohttp.WSMsgType.CLOSED,
            ):
                return ws.close_code


async def frames_until_closed(
    ws: aiohttp.ClientWebSocketResponse, within: float = WAIT
) -> tuple[list[dict[str, Any]], int | None, str]:
    """Every frame until the server closes; those frames, its close code and its reason."""
    received: list[dict[str, Any]] = []
    async with asyncio.timeout(within):
        while True:
            message = await ws.receive()
            if message.type is aiohttp.WSMsgType.TEXT:
                received.append(message.json())
                continue
            if message.type is aiohttp.WSMsgType.CLOSE:
                return received, int(message.data), str(message.extra or "")
            if message.type in (aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED):
                return received, ws.close_code, ""
