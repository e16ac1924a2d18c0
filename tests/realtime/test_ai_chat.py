"""The tutor's answer streaming over a real socket (`/ws/lms/ai_chat/{session_id}/`)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.realtime.sockets import closed_with, joined, next_frame, open_socket

SESSIONS = "/api/lms/ai_chat/sessions/"
MESSAGES = "/api/lms/ai_chat/messages/"


def room_path(session_id: int) -> str:
    return f"/ws/lms/ai_chat/{session_id}/"


@pytest.fixture
async def chat(tutor) -> dict[str, Any]:
    """A session of student-1."""
    body = {"topic": "Python Programming Help", "difficulty_level": "beginner"}
    reply = await tutor.post(SESSIONS, body, as_="student")
    assert reply.status == 201, reply.body
    return dict(reply.body)


async def frames_until_complete(ws: Any) -> list[dict[str, Any]]:
    frames = []
    while True:
        frame = await next_frame(ws)
        frames.append(frame)
        if frame["type"] == "message.complete":
            return frames


async def test_the_answer_streams_in_order_and_adds_up_to_the_stored_answer(tutor, fake, chat):
    ws = await open_socket(tutor, room_path(chat["id"]), as_="student")
    await joined(ws)

    sent = await tutor.post(MESSAGES, {"session": chat["id"], "message": "Hi"}, as_="student")
    frames = await frames_until_complete(ws)
    stored = await tutor.get(f"{MESSAGES}{sent.body['reply']['id']}/", as_="student")

    deltas, complete = frames[:-1], frames[-1]
    room = f"ai_chat:{chat['id']}"
    assert [f["type"] for f in deltas] == ["delta"] * len(fake.answer)
    assert [f["data"] for f in deltas] == [
        {"message_id": sent.body["reply"]["id"], "text": piece} for piece in fake.answer
    ]
    seqs = [f["seq"] for f in frames]
    assert seqs == list(range(seqs[0], seqs[0] + len(frames)))
    assert {f["room"] for f in frames} == {room}
    assert "".join(f["data"]["text"] for f in deltas) == stored.body["message"]
    assert complete["data"] == stored.body
    assert complete["data"]["status"] == "complete"
    await ws.close()


async def test_a_failed_answer_ends_the_stream_with_its_failure(tutor, fake, chat):
    fake.mode = "error"
    ws = await open_socket(tutor, room_path(chat["id"]), as_="student")
    await joined(ws)

    await tutor.post(MESSAGES, {"session": chat["id"], "message": "Hi"}, as_="student")
    frames = await frames_until_complete(ws)

    assert [f["type"] for f in frames] == ["message.complete"]
    assert frames[0]["data"]["status"] == "failed"
    assert "HTTP 500" in frames[0]["data"]["error"]
    await ws.close()


@pytest.mark.parametrize("who", ["student2", "admin", "b_student"])
async def test_anyone_but_the_owner_is_refused_as_no_such_room(tutor, chat, who):
    # b_student is student-1 of another tenant: the same user id, another person.
    ws = await open_socket(tutor, room_path(chat["id"]), as_=who)

    assert await closed_with(ws) == 4404


async def test_a_socket_without_a_token_is_refused(tutor, chat):
    ws = await open_socket(tutor, room_path(chat["id"]))

    assert await closed_with(ws) == 4401
