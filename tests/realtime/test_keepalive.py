"""Keep-alive (realtime/keepalive.py): silent sockets are pinged, a client that answers
stays, one that does not is dropped, and a client's own ping gets its pong."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import aiohttp

from realtime.gate import GATE
from tests.realtime.sockets import WAIT, joined, next_frame

INTERVAL = 0.1  # seconds between two rounds of the keep-alive, for these tests


def room_path(course_id: int) -> str:
    return f"/ws/lms/course/{course_id}/notifications/"


async def quick_course(custom_api: Any, make: Any) -> tuple[Any, dict[str, Any]]:
    api = await custom_api(ws_heartbeat_seconds=INTERVAL)
    make.api = api
    course = await make.course()
    await make.enroll(course["id"], as_="student")
    await api.settled()
    return api, course


async def connect(api: Any, course: dict[str, Any], *, autoping: bool) -> Any:
    params = {"token": api.tokens["student"]}
    return await api.client.ws_connect(room_path(course["id"]), params=params, autoping=autoping)


async def test_a_client_that_answers_pings_stays_and_keeps_receiving(custom_api, make):
    api, course = await quick_course(custom_api, make)
    ws = await connect(api, course, autoping=True)  # aiohttp answers pings while it reads
    await joined(ws)

    with contextlib.suppress(TimeoutError):  # rounds: pinged, answered, left alone, ...
        await asyncio.wait_for(ws.receive(), INTERVAL * 10)
    reply = await api.patch(
        f"/api/lms/courses/courses/{course['id']}/", {"title": "Still here"}, as_="instructor"
    )
    assert reply.status == 200

    assert (await next_frame(ws, "course_updated"))["data"]["title"] == "Still here"
    await ws.close()


async def test_a_client_that_never_answers_is_dropped(custom_api, make):
    api, course = await quick_course(custom_api, make)
    ws = await connect(api, course, autoping=False)
    await joined(ws)

    kinds = []
    async with asyncio.timeout(WAIT):
        while True:
            message = await ws.receive()  # read, but never answer
            kinds.append(message.type)
            if message.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                break

    assert kinds[0] is aiohttp.WSMsgType.PING
    hub = api.client.app[GATE].hub
    async with asyncio.timeout(WAIT):
        # The server lets go in its own time: no event to await, only its effect to observe.
        while hub.local_users(("acme", f"course:{course['id']}")):  # noqa: ASYNC110
            await asyncio.sleep(INTERVAL)


async def test_a_ping_from_the_client_gets_its_pong(custom_api, make):
    api, course = await quick_course(custom_api, make)
    ws = await connect(api, course, autoping=False)
    await joined(ws)

    await ws.ping(b"are you there")
    async with asyncio.timeout(WAIT):
        message = await ws.receive()
        while message.type is not aiohttp.WSMsgType.PONG:
            message = await ws.receive()

    assert message.data == b"are you there"
    await ws.close()
