"""Requests broken below the handlers still get errors in the contract's JSON shape.

A bearer token beyond the header limit, a URL beyond the line limit, a header line that is
not a header: aiohttp's parser refuses each before any middleware runs, and the answer is
JSON (`detail`, `status`), never aiohttp's plain-text page, on the test server and on the
runner `lms serve` uses. A body not in its declared Content-Encoding is a 400 too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from tests.conftest import Api, Factory, free_port
from web.app import create_app
from web.config import Settings

COURSES = "/api/lms/courses/courses/"
TOO_LARGE = {"detail": "Request header fields too large.", "status": 431}
MALFORMED = {"detail": "Malformed request.", "status": 400}
BAD_BODY = {"detail": "Malformed request body.", "status": 400}
BAD_MULTIPART = {"detail": "Malformed multipart body.", "status": 400}


def bearer_of(size: int) -> str:
    return "e" * size


@pytest.mark.parametrize("size", [20 * 1024, 200 * 1024], ids=["20KB", "200KB"])
async def test_oversized_bearer_token_is_a_json_431(api: Api, size: int) -> None:
    reply = await api.get(COURSES, token=bearer_of(size))

    assert reply.headers["Content-Type"].startswith("application/json")
    assert (reply.status, reply.body) == (431, TOO_LARGE)


async def test_oversized_token_is_not_written_to_the_log(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    token = "secret-" + bearer_of(20 * 1024)

    with caplog.at_level(logging.DEBUG):
        await api.get(COURSES, token=token)

    assert "secret-" not in caplog.text


async def test_oversized_url_is_a_json_error(api: Api) -> None:
    reply = await api.get(COURSES + "?search=" + "a" * 20_000, as_="student")

    assert reply.headers["Content-Type"].startswith("application/json")
    assert (reply.status, reply.body) == (431, TOO_LARGE)


async def test_token_just_under_the_limit_reaches_authentication(api: Api) -> None:
    reply = await api.get(COURSES, token=bearer_of(7000))

    assert reply.status == 401
    assert reply.body["detail"] != TOO_LARGE["detail"]


async def raw_exchange(port: int, request: bytes) -> tuple[int, str, bytes]:
    """Send bytes no HTTP client would, and read the status, content type and body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        body = await reader.read()
    finally:
        writer.close()
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), headers.get("Content-Type", ""), body


async def test_header_line_without_a_colon_is_a_json_400(api: Api) -> None:
    port = api.client.server.port
    request = b"GET /health/lms/ HTTP/1.1\r\nHost: localhost\r\nnot a header\r\n\r\n"

    status, content_type, body = await raw_exchange(port, request)

    assert (status, content_type.split(";")[0]) == (400, "application/json")
    assert body == b'{"detail":"Malformed request.","status":400}'


@pytest.fixture
async def served_like_lms_serve(settings: Settings) -> AsyncIterator[str]:
    """The app on web.AppRunner and a TCPSite, as `web.run_app` (`lms serve`) runs it."""
    runner = web.AppRunner(create_app(settings), access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("size", [20 * 1024, 200 * 1024], ids=["20KB", "200KB"])
async def test_oversized_bearer_token_is_a_json_431_under_lms_serve(
    served_like_lms_serve: str, size: int
) -> None:
    headers = {"Authorization": f"Bearer {bearer_of(size)}"}
    async with (
        aiohttp.ClientSession() as client,
        client.get(served_like_lms_serve + COURSES, headers=headers) as response,
    ):
        body: Any = await response.json()

    assert response.content_type == "application/json"
    assert (response.status, body) == (431, TOO_LARGE)


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_json_body_not_in_its_declared_encoding_is_a_400(api: Api, encoding: str) -> None:
    headers = {"Content-Type": "application/json", "Content-Encoding": encoding}
    reply = await api.post(
        "/api/lms/courses/categories/", data=b'{"name": "Art"}', headers=headers, as_="admin"
    )

    assert (reply.status, reply.body) == (400, BAD_BODY)


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_upload_body_not_in_its_declared_encoding_is_a_400(
    api: Api, make: Factory, encoding: str
) -> None:
    course = await make.course()
    headers = {"Content-Type": "multipart/form-data; boundary=b", "Content-Encoding": encoding}
    reply = await api.post(
        f"/api/lms/courses/courses/{course['id']}/upload-thumbnail/",
        data=b"--b\r\nnot compressed\r\n--b--\r\n",
        headers=headers,
        as_="instructor",
    )

    assert (reply.status, reply.body) == (
        400,
        {"detail": "Malformed multipart body.", "status": 400},
    )
