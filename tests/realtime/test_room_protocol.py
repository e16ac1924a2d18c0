"""Room mechanics common to every room: resume, slow clients, floods, typing."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from models.effects import RoomEvent
from realtime.gate import GATE
from tests.matchers import person
from tests.realtime.sockets import closed_with, joined, next_frame, open_socket
from web.keys import BUS

COURSES = "/api/lms/courses/courses/"


def room_path(course_id: int) -> str:
    return f"/ws/lms/course/{course_id}/notifications/"


async def rename(api: Any, course_id: int, title: str) -> None:
    reply = await api.patch(f"{COURSES}{course_id}/", {"title": title}, as_="instructor")
    assert reply.status == 200


async def updates(ws: aiohttp.ClientWebSocketResponse, n: int) -> list[dict[str, Any]]:
    return [await next_frame(ws, "course_updated") for _ in range(n)]


async def test_resume_replays_what_was_missed_then_goes_on_live_without_duplicates(api, course):
    ws = await open_socket(api, room_path(course["id"]), as_="student")
    await joined(ws)
    await rename(api, course["id"], "Seen")
    [seen] = await updates(ws, 1)
    await ws.close()

    for title in ("Missed 1", "Missed 2", "Missed 3"):
        await rename(api, course["id"], title)
    await api.settled()  # course events are published by the workers
    again = await open_socket(
        api, room_path(course["id"]), as_="student", query={"since": str(seen["seq"])}
    )
    missed = await updates(again, 3)
    await joined(again)
    await rename(api, course["id"], "Live")
    [live] = await updates(again, 1)

    assert [f["data"]["title"] for f in missed] == ["Missed 1", "Missed 2", "Missed 3"]
    assert [f["seq"] for f in missed] == [seen["seq"] + 1, seen["seq"] + 2, seen["seq"] + 3]
    assert live["seq"] == seen["seq"] + 4
    await again.close()


async def test_resume_from_the_current_seq_replays_nothing(api, course):
    ws = await open_socket(api, room_path(course["id"]), as_="student")
    await rename(api, course["id"], "First")
    first = await next_frame(ws, "course_updated")
    await ws.close()

    again = await open_socket(
        api, room_path(course["id"]), as_="student", query={"since": str(first["seq"])}
    )

    assert (await next_frame(again))["type"] == "joined"
    await again.close()


async def test_a_since_older_than_the_history_gets_a_reset(custom_api, make):
    api = await custom_api(ws_history_size=2)
    make.api = api
    course = await make.course()
    await make.enroll(course["id"], as_="student")
    await api.settled()
    for title in ("A", "B", "C", "D"):
        await rename(api, course["id"], title)
    await api.settled()

    ws = await open_socket(api, room_path(course["id"]), as_="student", query={"since": "1"})

    frame = await next_frame(ws)
    assert frame["type"] == "reset"
    assert frame["data"]["seq"] >= 4
    await ws.close()


async def test_a_since_beyond_the_room_seq_gets_a_reset(api, course):
    ws = await open_socket(api, room_path(course["id"]), as_="student", query={"since": "999"})

    assert (await next_frame(ws))["type"] == "reset"
    await ws.close()


async def test_a_malformed_since_is_ignored(api, course):
    ws = await open_socket(api, room_path(course["id"]), as_="student", query={"since": "-1x"})

    assert (await next_frame(ws))["type"] == "joined"
    await ws.close()


async def test_typing_is_relayed_without_seq_and_never_kept(api, course):
    listener = await open_socket(api, room_path(course["id"]), as_="instructor")
    await joined(listener)
    typist = await open_socket(api, room_path(course["id"]), as_="student")
    await joined(typist)

    await typist.send_json({"type": "typing"})
    typing = await next_frame(listener, "typing")
    history = await api.client.app[BUS].history("acme", f"course:{course['id']}")

    assert typing == {
        "type": "typing",
        "room": f"course:{course['id']}",
        "data": {"user_id": "student-1", "user": person("student-1")},
    }
    assert all(b'"typing"' not in frame for frame in history.frames)
    await listener.close()
    await typist.close()


async def test_a_client_that_floods_is_throttled_then_closed(custom_api, make):
    api = await custom_api(ws_frames_per_second=5)
    make.api = api
    course = await make.course()
    await make.enroll(course["id"], as_="student")
    await api.settled()
    ws = await open_socket(api, room_path(course["id"]), as_="student")
    await joined(ws)

    for _ in range(60):
        await ws.send_json({"type": "ping"})
    frames = []
    async with asyncio.timeout(5):
        async for message in ws:
            frames.append(message.json())

    assert {"type": "error", "code": 429, "detail": "Too many frames; slow down."} in frames
    assert ws.close_code == 1008


async def test_an_oversized_frame_closes_only_that_socket(api, course):
    other = await open_socket(api, room_path(course["id"]), as_="instructor")
    await joined(other)
    ws = await open_socket(api, room_path(course["id"]), as_="student")
    await joined(ws)

    await ws.send_str("x" * (70 * 1024))

    assert await closed_with(ws) == 1009
    await rename(api, course["id"], "Still alive")
    assert (await next_frame(other, "course_updated"))["data"]["title"] == "Still alive"
    await other.close()


async def test_a_client_that_stops_reading_is_cut_off_and_the_others_keep_receiving(
    custom_api, make
):
    api = await custom_api(ws_queue_size=8)
    make.api = api
    course = await make.course()
    await make.enroll(course["id"], as_="student")
    await api.settled()
    room = f"course:{course['id']}"
    reader = await open_socket(api, room_path(course["id"]), as_="instructor")
    await joined(reader)
    stalled = await open_socket(api, room_path(course["id"]), as_="student")
    await joined(stalled)
    bus = api.client.app[BUS]
    blob = "x" * 60_000

    # The stalled client reads nothing while ~24 MB go out; the reader reads as they come.
    received = []
    for n in range(400):
        await bus.publish("acme", RoomEvent(room, "bulk", {"n": n, "blob": blob}))
        received.append((await next_frame(reader, "bulk"))["data"]["n"])

    stalled_got = 0
    async with asyncio.timeout(20):
        async for message in stalled:  # what its buffers held, then the end
            stalled_got += message.type is aiohttp.WSMsgType.TEXT

    assert received == list(range(400))
    assert stalled_got < 400
    assert stalled.close_code in (1008, None)  # None: cut off before the close frame got through
    await reader.close()


async def test_on_shutdown_every_socket_is_closed_with_1001(api, course):
    ws = await open_socket(api, room_path(course["id"]), as_="student")
    await joined(ws)

    # What the app's on_shutdown runs; the client answers the close frame meanwhile.
    shutdown = asyncio.create_task(api.client.app[GATE].hub.close())

    assert await closed_with(ws) == 1001
    await shutdown


async def test_frames_of_every_length_class_arrive_intact(api, course):
    ws = await open_socket(api, room_path(course["id"]), as_="student")
    await joined(ws)
    room = f"course:{course['id']}"

    sizes = [10, 125, 200, 65_000, 70_000, 300_000]  # 7-bit, 16-bit and 64-bit lengths
    for size in sizes:
        await api.client.app[BUS].publish("acme", RoomEvent(room, "blob", {"x": "y" * size}))
    received = [len((await next_frame(ws, "blob"))["data"]["x"]) for _ in sizes]

    assert received == sizes
    await ws.close()
