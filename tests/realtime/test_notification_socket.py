"""The notifications socket: each user's own room, live and resumable, on every instance."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from models.effects import RoomEvent
from models.identity import Principal
from models.notifications.rooms import user_room
from realtime import rooms
from tests.api.test_forums import new_forum, new_post
from tests.api.test_messaging import dm
from tests.realtime.sockets import closed_with, joined, next_frame, open_socket
from tests.workers.conftest import Worker
from web.keys import BUS

SOCKET = "/ws/lms/notifications/"
NOTIFICATIONS = "/api/lms/notifications/notifications/"


async def test_a_direct_message_arrives_live_as_a_notification_frame(api):
    ws = await open_socket(api, SOCKET, as_="student")
    start = (await joined(ws))["data"]["seq"]

    message = await dm(api, "student2", "student-1", "are you there?")

    frame = await next_frame(ws, "notification")
    stored = await api.get(NOTIFICATIONS, as_="student")
    assert frame == {
        "type": "notification",
        "room": "user:student-1",
        "seq": start + 1,
        "data": stored.body["results"][0],
    }
    assert frame["data"]["data"]["message_id"] == message["id"]
    await ws.close()


async def test_a_user_hears_only_their_own_notifications(api):
    ws = await open_socket(api, SOCKET, as_="student2")
    await joined(ws)

    await dm(api, "student", "instructor-1", "not for student-2")
    await dm(api, "student", "student-2", "for student-2")

    frame = await next_frame(ws, "notification")
    assert frame["room"] == "user:student-2"
    assert frame["data"]["body"] == "for student-2"
    await ws.close()


async def test_the_same_user_id_in_another_tenant_hears_nothing_of_this_one(api):
    """b_student is student-1 of another tenant: another person, another room."""
    other = await open_socket(api, SOCKET, as_="b_student")
    await joined(other)
    mine = await open_socket(api, SOCKET, as_="student")
    await joined(mine)

    await dm(api, "student2", "student-1", "acme only")
    await next_frame(mine, "notification")
    await other.send_json({"type": "ping"})

    assert (await next_frame(other))["type"] == "pong"
    await other.close()
    await mine.close()


async def test_a_type_sent_by_email_is_not_pushed_live(api):
    reply = await api.patch(
        "/api/lms/notifications/preferences/", {"direct_message": "email"}, as_="student"
    )
    assert reply.status == 200
    forum = await new_forum(api)
    post = await new_post(api, forum["id"], as_="student")
    ws = await open_socket(api, SOCKET, as_="student")
    await joined(ws)

    await dm(api, "student2", "student-1", "by email")
    await new_post(api, forum["id"], as_="student2", parent=post["id"], content="live")

    frame = await next_frame(ws, "notification")
    assert frame["data"]["type"] == "reply"
    await ws.close()


async def test_since_replays_what_arrived_while_away(api):
    ws = await open_socket(api, SOCKET, as_="student")
    seen = (await joined(ws))["data"]["seq"]
    await ws.close()
    await dm(api, "student2", "student-1", "while you were away")
    await api.settled()

    again = await open_socket(api, SOCKET, as_="student", query={"since": str(seen)})

    missed = await next_frame(again, "notification")
    assert (missed["seq"], missed["data"]["body"]) == (seen + 1, "while you were away")
    assert (await joined(again))["data"]["seq"] == seen + 1
    await again.close()


async def test_a_socket_without_a_token_is_closed_with_4401(api):
    ws = await open_socket(api, SOCKET)

    assert await closed_with(ws) == 4401


async def test_a_user_room_event_reaches_a_socket_on_the_other_instance(redis_instances):
    one = await redis_instances()
    two = await redis_instances()
    ws = await open_socket(two, SOCKET, as_="student")
    await joined(ws)
    marker = uuid.uuid4().hex

    await one.client.app[BUS].publish(
        "acme", RoomEvent(user_room("student-1"), "notification", {"marker": marker})
    )

    frame = await next_frame(ws, "notification")
    assert (frame["room"], frame["data"]) == ("user:student-1", {"marker": marker})
    await ws.close()


async def test_a_resume_on_the_other_instance_replays_the_user_room(redis_instances):
    one = await redis_instances()
    two = await redis_instances()
    ws = await open_socket(one, SOCKET, as_="student")
    seen = (await joined(ws))["data"]["seq"]
    await ws.close()
    await one.client.app[BUS].publish(
        "acme", RoomEvent(user_room("student-1"), "notification", {"n": 1})
    )

    again = await open_socket(two, SOCKET, as_="student", query={"since": str(seen)})

    missed = await next_frame(again, "notification")
    assert (missed["seq"], missed["data"]) == (seen + 1, {"n": 1})
    await again.close()


async def test_a_re_check_of_a_user_room_keeps_its_user_and_no_one_else():
    """What a resync after a Redis gap asks: the room's own user stays, nobody else may be
    there (and no database is read for it)."""

    def no_unit(*_: Any, **__: Any) -> Any:
        raise AssertionError("a user room is re-checked without the database")

    check = rooms.access_check(no_unit)
    who = [Principal("student-1", "acme"), Principal("student-2", "acme")]

    assert await check(("acme", user_room("student-1")), who) == {"student-1"}


@pytest.fixture
def shared(redis_url: str, database_url: str, tmp_path: Path) -> dict[str, Any]:
    return {
        "redis_url": redis_url,
        "celery_queue": f"lms-test-{uuid.uuid4().hex[:8]}",
        "database_url": database_url,
        "media_root": tmp_path / "media",
    }


@pytest.fixture
def worker(shared: dict[str, Any], tmp_path: Path) -> Iterator[Worker]:
    worker = Worker(shared, tmp_path / "worker.log")
    yield worker
    worker.stop()


@pytest.mark.parametrize("backend", ["postgres"])  # a worker process shares the database
async def test_a_direct_message_sent_on_one_instance_reaches_the_other_through_celery(
    custom_api, shared, worker
):
    await worker.start()
    web = {k: v for k, v in shared.items() if k != "database_url"}
    one = await custom_api(**web)
    two = await custom_api(**web)
    ws = await open_socket(two, SOCKET, as_="student")
    await joined(ws)

    message = await dm(one, "student2", "student-1", "across instances")

    frame = await next_frame(ws, "notification", within=30)
    assert frame["data"]["data"]["message_id"] == message["id"]
    stored = await one.get(NOTIFICATIONS, as_="student")
    assert stored.body["results"] == [frame["data"]]
    await ws.close()
