"""A deleted row's id is never handed out again, on either backend: whatever was keyed by
the old id (a usage ledger row, a room's history) can never be taken for the new row's."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from models.ai_chat.tables import AiChatUsage
from tests.fakes.openai_api import USAGE
from web.keys import DATABASES

SESSIONS = "/api/lms/ai_chat/sessions/"
AI_MESSAGES = "/api/lms/ai_chat/messages/"

# What to create (as whom) and where it is deleted: one object of each kind.
KINDS: dict[str, tuple[str, dict[str, Any], str]] = {
    "group": ("/api/lms/groups/groups/", {"name": "Python Developers"}, "instructor"),
    "ai_session": (SESSIONS, {"topic": "Python", "difficulty_level": "beginner"}, "student"),
    "forum": ("/api/lms/forum/forums/", {"title": "Python Q&A"}, "instructor"),
    "course": (
        "/api/lms/courses/courses/",
        {"title": "Python", "code": "PY101", "level": "Beginner", "status": "Published"},
        "instructor",
    ),
    "message": (
        "/api/lms/messaging/messages/",
        {"recipient_id": "user-456", "content": "Hello!", "message_type": "direct"},
        "student",
    ),
}


async def _create(api: Any, kind: str) -> int:
    path, body, as_ = KINDS[kind]
    reply = await api.post(path, body, as_=as_)
    assert reply.status == 201, reply.body
    return int(reply.body["id"])


async def _ask(api: Any, session_id: int, text: str, as_: str = "student") -> Any:
    return await api.post(AI_MESSAGES, {"session": session_id, "message": text}, as_=as_)


@pytest.mark.parametrize("kind", list(KINDS))
async def test_an_object_created_after_one_was_deleted_gets_a_new_id(api, kind):
    path, _, as_ = KINDS[kind]
    first = await _create(api, kind)
    deleted = await api.delete(f"{path}{first}/", as_=as_)
    assert deleted.status == 204, deleted.body

    second = await _create(api, kind)

    assert second > first


async def test_asking_the_tutor_after_deleting_a_session_is_accepted(tutor):
    chat = await _create(tutor, "ai_session")
    first = await _ask(tutor, chat, "What is a list?")
    assert first.status == 201, first.body
    await tutor.settled()
    await tutor.delete(f"{SESSIONS}{chat}/", as_="student")

    again = await _ask(tutor, await _create(tutor, "ai_session"), "What is a dict?")

    assert again.status == 201, again.body
    assert again.body["id"] > first.body["reply"]["id"]


async def test_another_users_question_is_accepted_after_a_deleted_session(tutor):
    chat = await _create(tutor, "ai_session")
    await _ask(tutor, chat, "What is a list?")
    await tutor.settled()
    await tutor.delete(f"{SESSIONS}{chat}/", as_="student")
    theirs = await tutor.post(
        SESSIONS, {"topic": "Rust", "difficulty_level": "beginner"}, as_="student2"
    )

    asked = await _ask(tutor, theirs.body["id"], "Hi", as_="student2")

    assert asked.status == 201, asked.body


async def test_a_deleted_sessions_questions_still_count_against_the_quota(custom_api, fake):
    tutor = await custom_api(**fake.settings(ai_user_messages_per_hour=2))
    chat = await _create(tutor, "ai_session")
    await _ask(tutor, chat, "One")
    await tutor.settled()
    await tutor.delete(f"{SESSIONS}{chat}/", as_="student")
    chat = await _create(tutor, "ai_session")
    accepted = await _ask(tutor, chat, "Two")

    refused = await _ask(tutor, chat, "Three")

    assert accepted.status == 201, accepted.body
    assert refused.status == 429


async def test_a_deleted_sessions_usage_keeps_its_tokens_but_not_its_question(tutor):
    chat = await _create(tutor, "ai_session")
    await _ask(tutor, chat, "What is a list?")
    await tutor.settled()
    await tutor.delete(f"{SESSIONS}{chat}/", as_="student")

    async with tutor.client.app[DATABASES].tenant_sessions("acme")() as session:
        ledger = (await session.execute(select(AiChatUsage.message_id, AiChatUsage.tokens))).all()

    assert [tuple(row) for row in ledger] == [
        (None, USAGE["prompt_tokens"] + USAGE["completion_tokens"])
    ]
