"""A client that sends a write's JSON body slowly holds no database connection meanwhile:
the body is read before the request's unit of work takes one, and the answers keep their
order (404 before the body's 400)."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest

COURSES = "/api/lms/courses/courses/"

pytestmark = pytest.mark.parametrize("backend", ["postgres"])


async def send_half(api: Any, method: str, path: str, body: bytes) -> asyncio.StreamWriter:
    """Headers and the first bytes of `body`; the rest never comes."""
    url = api.client.make_url(path)
    _reader, writer = await asyncio.open_connection(url.host, url.port)
    head = (
        f"{method} {url.path} HTTP/1.1\r\nHost: acme.test\r\n"
        f"Authorization: Bearer {api.tokens['instructor']}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    writer.write(head.encode() + body[:3])
    await writer.drain()
    return writer


async def test_slow_bodies_hold_no_connection_of_a_one_connection_pool(custom_api):
    api = await custom_api(db_pool_size=1)
    course = (await api.post(COURSES, {"title": "Slow", "code": "SLOW1"}, as_="instructor")).body
    body = orjson.dumps({"title": "Renamed"})
    writers = [await send_half(api, "PATCH", f"{COURSES}{course['id']}/", body) for _ in range(3)]
    try:
        async with asyncio.timeout(10):
            listed = await api.get(COURSES, as_="instructor")
            created = await api.post(COURSES, {"title": "Fast", "code": "FAST1"}, as_="instructor")
    finally:
        for writer in writers:
            writer.close()

    assert listed.status == 200
    assert created.status == 201


async def test_a_malformed_body_on_another_users_course_is_still_a_404(api, make):
    course = await make.course(status="Draft", as_="instructor2")

    reply = await api.call(
        "PATCH",
        f"{COURSES}{course['id']}/",
        as_="instructor",
        data=b"{not json",
        headers={"Content-Type": "application/json"},
    )

    assert reply.status == 404


async def test_a_malformed_body_on_ones_own_course_is_a_400(api, make):
    course = await make.course()

    reply = await api.call(
        "PATCH",
        f"{COURSES}{course['id']}/",
        as_="instructor",
        data=b"{not json",
        headers={"Content-Type": "application/json"},
    )

    assert reply.status == 400
    assert reply.body["detail"].startswith("JSON parse error")
