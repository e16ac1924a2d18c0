"""AI tutor sessions and messages over REST: the documented bodies, ownership, hostile input."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Factory
from tests.matchers import ID, NOT_FOUND, TIMESTAMP, person

SESSIONS = "/api/lms/ai_chat/sessions/"
MESSAGES = "/api/lms/ai_chat/messages/"
SEED_SESSION = {"topic": "Python Programming Help", "difficulty_level": "beginner"}
SEED_MESSAGE = {"message": "How do I create a function in Python?", "sender_type": "user"}


async def start(api: Any, as_: str = "student", **fields: Any) -> dict[str, Any]:
    reply = await api.post(SESSIONS, {**SEED_SESSION, **fields}, as_=as_)
    assert reply.status == 201, reply.body
    return dict(reply.body)


async def test_starting_a_session_takes_the_seed_body(tutor):
    reply = await tutor.post(SESSIONS, SEED_SESSION, as_="student")

    assert reply.status == 201
    assert reply.body == {
        "id": ID,
        "topic": "Python Programming Help",
        "difficulty_level": "beginner",
        "course_id": None,
        "lesson_id": None,
        "user_id": "student-1",
        "user": person("student-1"),
        "message_count": 0,
        "created_at": TIMESTAMP,
        "updated_at": TIMESTAMP,
    }


async def test_sending_the_seed_message_stores_it_with_its_pending_reply(tutor):
    chat = await start(tutor)

    reply = await tutor.post(MESSAGES, {"session": chat["id"], **SEED_MESSAGE}, as_="student")

    assert reply.status == 201
    assert reply.body["sender_type"] == "user"
    assert reply.body["message"] == SEED_MESSAGE["message"]
    assert reply.body["status"] == "complete"
    assert reply.body["session"] == chat["id"]
    assert reply.body["reply"]["sender_type"] == "assistant"
    assert reply.body["reply"]["status"] == "pending"
    assert reply.body["reply"]["reply_to"] == reply.body["id"]
    assert set(reply.body["reply"]) >= {
        "id",
        "session",
        "sender_type",
        "message",
        "status",
        "model",
        "prompt_tokens",
        "completion_tokens",
        "error",
        "created_at",
        "completed_at",
    }


async def test_sender_type_defaults_to_user(tutor):
    chat = await start(tutor)

    reply = await tutor.post(MESSAGES, {"session": chat["id"], "message": "Hi"}, as_="student")

    assert reply.status == 201
    assert reply.body["sender_type"] == "user"


@pytest.mark.parametrize("sender_type", ["assistant", "system"])
async def test_a_client_may_not_write_the_tutors_messages(tutor, sender_type):
    chat = await start(tutor)

    reply = await tutor.post(
        MESSAGES,
        {"session": chat["id"], "message": "I am the tutor", "sender_type": sender_type},
        as_="student",
    )

    assert reply.status == 400
    assert list(reply.body) == ["sender_type", "status"]


async def test_a_session_about_a_course_needs_an_enrollment(tutor):
    make = Factory(tutor)
    course = await make.course()

    refused = await tutor.post(SESSIONS, {**SEED_SESSION, "course_id": course["id"]}, as_="student")
    await make.enroll(course["id"])
    allowed = await tutor.post(SESSIONS, {**SEED_SESSION, "course_id": course["id"]}, as_="student")

    assert refused.status == 403
    assert allowed.status == 201
    assert allowed.body["course_id"] == course["id"]


async def test_the_courses_instructor_may_ask_about_it(tutor):
    course = await Factory(tutor).course(as_="instructor")

    reply = await tutor.post(
        SESSIONS, {**SEED_SESSION, "course_id": course["id"]}, as_="instructor"
    )

    assert reply.status == 201


async def test_a_lesson_names_its_course(tutor):
    make = Factory(tutor)
    course = await make.course()
    lesson = await make.lesson((await make.module(course["id"]))["id"])
    await make.enroll(course["id"])

    chat = await start(tutor, lesson_id=lesson["id"])

    assert (chat["course_id"], chat["lesson_id"]) == (course["id"], lesson["id"])


async def test_a_lesson_of_another_course_is_a_400_on_lesson_id(tutor):
    make = Factory(tutor)
    course, other = await make.course(), await make.course()
    lesson = await make.lesson((await make.module(other["id"]))["id"])
    await make.enroll(course["id"])

    reply = await tutor.post(
        SESSIONS,
        {**SEED_SESSION, "course_id": course["id"], "lesson_id": lesson["id"]},
        as_="student",
    )

    assert reply.status == 400
    assert list(reply.body) == ["lesson_id", "status"]


@pytest.mark.parametrize("course_id", [999_999, 2**31, -1, "x", True])
async def test_a_course_that_names_nothing_is_a_400_on_course_id(tutor, course_id):
    reply = await tutor.post(SESSIONS, {**SEED_SESSION, "course_id": course_id}, as_="student")

    assert reply.status == 400
    assert list(reply.body) == ["course_id", "status"]


async def test_an_unpublished_course_of_someone_else_is_a_400_not_a_403(tutor):
    course = await Factory(tutor).course(status="Draft")

    reply = await tutor.post(SESSIONS, {**SEED_SESSION, "course_id": course["id"]}, as_="student")

    assert reply.status == 400
    assert list(reply.body) == ["course_id", "status"]


@pytest.mark.parametrize(
    "body",
    [
        {"topic": ""},
        {"topic": "a\x00b"},
        {"topic": "x" * 201},
        {"topic": 5},
        {"topic": "Fine", "difficulty_level": "expert"},
        {"difficulty_level": "beginner"},
    ],
)
async def test_a_bad_session_body_is_a_400(tutor, body):
    reply = await tutor.post(SESSIONS, body, as_="student")

    assert reply.status == 400
    assert reply.body["status"] == 400


@pytest.mark.parametrize(
    "body",
    [
        {"message": ""},
        {"message": "a\x00b"},
        {"message": "x" * 10_001},
        {"message": ["list"]},
        {"message": "Hi", "sender_type": "robot"},
    ],
)
async def test_a_bad_message_body_is_a_400(tutor, body):
    chat = await start(tutor)

    reply = await tutor.post(MESSAGES, {"session": chat["id"], **body}, as_="student")

    assert reply.status == 400
    assert reply.body["status"] == 400


async def test_the_list_holds_only_my_sessions_newest_first(tutor):
    first = await start(tutor, topic="First")
    second = await start(tutor, topic="Second")
    await start(tutor, as_="student2", topic="Not mine")

    reply = await tutor.get(SESSIONS, as_="student")

    assert reply.body["count"] == 2
    assert [s["id"] for s in reply.body["results"]] == [second["id"], first["id"]]


async def test_sessions_are_searched_by_topic(tutor):
    await start(tutor, topic="Recursion")
    wanted = await start(tutor, topic="Closures in Python")

    reply = await tutor.get(f"{SESSIONS}?search=closure", as_="student")

    assert [s["id"] for s in reply.body["results"]] == [wanted["id"]]


async def test_a_session_is_renamed_and_its_level_changed(tutor):
    chat = await start(tutor)

    patched = await tutor.patch(
        f"{SESSIONS}{chat['id']}/", {"topic": "Functions", "course_id": 5}, as_="student"
    )
    put = await tutor.put(
        f"{SESSIONS}{chat['id']}/",
        {"topic": "Functions, again", "difficulty_level": "advanced"},
        as_="student",
    )

    assert (patched.status, patched.body["topic"], patched.body["course_id"]) == (
        200,
        "Functions",
        None,
    )
    assert (put.body["topic"], put.body["difficulty_level"]) == ("Functions, again", "advanced")


async def test_put_needs_the_topic(tutor):
    chat = await start(tutor)

    reply = await tutor.put(
        f"{SESSIONS}{chat['id']}/", {"difficulty_level": "advanced"}, as_="student"
    )

    assert reply.status == 400
    assert list(reply.body) == ["topic", "status"]


async def test_deleting_a_session_deletes_its_messages(tutor):
    chat = await start(tutor)
    sent = await tutor.post(MESSAGES, {"session": chat["id"], "message": "Hi"}, as_="student")
    await tutor.settled()

    deleted = await tutor.delete(f"{SESSIONS}{chat['id']}/", as_="student")
    message = await tutor.get(f"{MESSAGES}{sent.body['id']}/", as_="student")

    assert deleted.status == 204
    assert message.status == 404


@pytest.mark.parametrize("who", ["student2", "admin"])
async def test_another_users_session_is_a_404_even_to_an_admin(tutor, who):
    chat = await start(tutor)
    sent = await tutor.post(MESSAGES, {"session": chat["id"], "message": "Hi"}, as_="student")
    base = f"{SESSIONS}{chat['id']}/"

    replies = [
        await tutor.get(base, as_=who),
        await tutor.patch(base, {"topic": "Mine now"}, as_=who),
        await tutor.delete(base, as_=who),
        await tutor.get(f"{base}messages/", as_=who),
        await tutor.get(f"{MESSAGES}{sent.body['id']}/", as_=who),
        await tutor.get(f"{MESSAGES}{sent.body['reply']['id']}/", as_=who),
    ]

    assert [r.status for r in replies] == [404] * 6
    assert replies[0].body == NOT_FOUND


async def test_asking_in_another_users_session_is_a_400_on_session(tutor):
    chat = await start(tutor, as_="student2")

    reply = await tutor.post(MESSAGES, {"session": chat["id"], "message": "Hi"}, as_="student")

    assert reply.status == 400
    assert reply.body == {
        "session": [f'Invalid pk "{chat["id"]}" - object does not exist.'],
        "status": 400,
    }


async def test_filtering_by_another_users_session_lists_nothing(tutor):
    chat = await start(tutor, as_="student2")
    await tutor.post(MESSAGES, {"session": chat["id"], "message": "Hi"}, as_="student2")

    reply = await tutor.get(f"{MESSAGES}?session={chat['id']}", as_="student")

    assert (reply.status, reply.body["count"]) == (200, 0)


async def test_another_tenants_session_is_a_404_to_the_same_user_id(tutor):
    # student-1 of acme and student-1 of globex are two people.
    chat = await start(tutor, as_="student")

    session = await tutor.get(f"{SESSIONS}{chat['id']}/", as_="b_student")
    asked = await tutor.post(MESSAGES, {"session": chat["id"], "message": "Hi"}, as_="b_student")
    listed = await tutor.get(SESSIONS, as_="b_student")

    assert session.status == 404
    assert asked.status == 400
    assert listed.body["count"] == 0


@pytest.mark.parametrize(
    "path",
    [
        f"{SESSIONS}99999999999999999999/",
        f"{SESSIONS}0/",
        f"{MESSAGES}2147483648/",
        f"{SESSIONS}\uff11/",  # a digit of another script
    ],
)
async def test_ids_out_of_range_are_404(tutor, path):
    reply = await tutor.get(path, as_="student")

    assert reply.status == 404


@pytest.mark.parametrize("query", ["session=abc", "session=0", "status=done", "wait=-1"])
async def test_bad_query_parameters_are_400(tutor, query):
    chat = await start(tutor)
    sent = await tutor.post(MESSAGES, {"session": chat["id"], "message": "Hi"}, as_="student")
    path = f"{MESSAGES}{sent.body['id']}/" if query.startswith("wait") else MESSAGES

    reply = await tutor.get(f"{path}?{query}", as_="student")

    assert reply.status == 400


async def test_messages_are_listed_oldest_first_and_paginated(tutor):
    chat = await start(tutor)
    for text in ("One", "Two"):
        await tutor.post(MESSAGES, {"session": chat["id"], "message": text}, as_="student")
    await tutor.settled()

    page = await tutor.get(f"{SESSIONS}{chat['id']}/messages/?page_size=3", as_="student")
    same = await tutor.get(f"{MESSAGES}?session={chat['id']}&page_size=3", as_="student")
    session = await tutor.get(f"{SESSIONS}{chat['id']}/", as_="student")

    assert page.body["count"] == 4
    assert [(m["sender_type"], m["message"]) for m in page.body["results"][:2]] == [
        ("user", "One"),
        ("assistant", "Functions are defined with `def`."),
    ]
    assert page.body["next"].endswith(f"/sessions/{chat['id']}/messages/?page_size=3&page=2")
    assert same.body["results"] == page.body["results"]
    assert session.body["message_count"] == 4


async def test_starting_and_asking_are_recorded_as_activities(tutor):
    chat = await start(tutor)
    await tutor.post(MESSAGES, {"session": chat["id"], **SEED_MESSAGE}, as_="student")
    await tutor.settled()

    logs = await tutor.get("/api/lms/activitylog/logs/", as_="student")

    kinds = {entry["activity_type"] for entry in logs.body["results"]}
    assert {"ai_session_started", "ai_message_sent", "ai_message_answered"} <= kinds
    assert all(SEED_MESSAGE["message"] not in entry["details"] for entry in logs.body["results"])
