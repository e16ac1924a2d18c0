"""The tutor's answers: through a local fake of an OpenAI-compatible server, reached by the
real `openai` library from the worker; failures, quotas, long polls, and answering once."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from models.ai_chat.answering import ANSWER_TASK
from models.ai_chat.tables import AiChatMessage
from models.base import utcnow
from tests.conftest import Factory
from tests.fakes.openai_api import API_KEY, MODEL, USAGE
from tests.matchers import TIMESTAMP
from web.keys import DATABASES, DISPATCHER

SESSIONS = "/api/lms/ai_chat/sessions/"
MESSAGES = "/api/lms/ai_chat/messages/"


async def start(api: Any, as_: str = "student", **fields: Any) -> dict[str, Any]:
    body = {"topic": "Python Programming Help", "difficulty_level": "beginner", **fields}
    reply = await api.post(SESSIONS, body, as_=as_)
    assert reply.status == 201, reply.body
    return dict(reply.body)


async def ask(api: Any, chat: dict[str, Any], text: str = "How do I write a function?", **kw: Any):
    return await api.post(MESSAGES, {"session": chat["id"], "message": text}, **kw)


async def answer_to(api: Any, sent: Any, as_: str = "student") -> dict[str, Any]:
    """The reply as stored, once every task has run."""
    await api.settled()
    reply = await api.get(f"{MESSAGES}{sent.body['reply']['id']}/", as_=as_)
    return dict(reply.body)


async def test_an_answer_arrives_in_the_session(tutor, fake):
    chat = await start(tutor)
    sent = await ask(tutor, chat, as_="student")

    answer = await answer_to(tutor, sent)

    assert answer == {
        "id": sent.body["reply"]["id"],
        "session": chat["id"],
        "sender_type": "assistant",
        "message": fake.text,
        "status": "complete",
        "model": MODEL,
        "prompt_tokens": USAGE["prompt_tokens"],
        "completion_tokens": USAGE["completion_tokens"],
        "error": None,
        "reply_to": sent.body["id"],
        "created_at": TIMESTAMP,
        "completed_at": TIMESTAMP,
    }
    assert fake.requests[0]["model"] == MODEL
    assert fake.requests[0]["stream"] is True
    assert fake.headers[0]["Authorization"] == f"Bearer {API_KEY}"


async def test_the_prompt_carries_the_topic_level_and_the_courses_own_text(tutor, fake):
    make = Factory(tutor)
    course = await make.course(description="Decorators wrap a function in another.")
    module = await make.module(course["id"], title="Advanced functions")
    lesson = await make.lesson(
        module["id"], title="Generators", content="A generator yields its values lazily."
    )
    await make.enroll(course["id"])
    chat = await start(tutor, lesson_id=lesson["id"], difficulty_level="advanced")

    await answer_to(tutor, await ask(tutor, chat, "What does yield do?", as_="student"))

    system, question = fake.requests[0]["messages"]
    assert system["role"] == "system"
    for text in (
        "Python Programming Help",
        "advanced",
        course["title"],
        "Decorators wrap a function in another.",
        "Advanced functions: Generators",
        "A generator yields its values lazily.",
    ):
        assert text in system["content"]
    assert question == {"role": "user", "content": "What does yield do?"}


async def test_the_conversation_so_far_is_sent_with_a_new_question(tutor, fake):
    chat = await start(tutor)
    await answer_to(tutor, await ask(tutor, chat, "First question", as_="student"))

    await answer_to(tutor, await ask(tutor, chat, "Second question", as_="student"))

    assert fake.requests[1]["messages"][1:] == [
        {"role": "user", "content": "First question"},
        {"role": "assistant", "content": fake.text},
        {"role": "user", "content": "Second question"},
    ]


async def test_a_provider_that_does_not_stream_answers_too(custom_api, fake):
    tutor = await custom_api(**fake.settings(ai_stream=False))
    chat = await start(tutor)

    answer = await answer_to(tutor, await ask(tutor, chat, as_="student"))

    assert (answer["status"], answer["message"]) == ("complete", fake.text)
    assert not fake.requests[0].get("stream")


async def test_without_a_provider_the_answer_is_a_stored_failure_with_a_reason(custom_api):
    tutor = await custom_api(ai_base_url=None, ai_api_key=None, ai_model=None)
    chat = await start(tutor)

    sent = await ask(tutor, chat, as_="student")
    answer = await answer_to(tutor, sent)

    assert sent.status == 201
    assert answer["status"] == "failed"
    assert answer["error"].startswith("The AI tutor is not configured")
    assert "LMS_AI_MODEL" in answer["error"]
    assert answer["completed_at"] == TIMESTAMP


async def test_a_provider_error_ends_in_a_failed_answer(tutor, fake):
    fake.mode = "error"
    chat = await start(tutor)

    answer = await answer_to(tutor, await ask(tutor, chat, as_="student"))

    assert answer["status"] == "failed"
    assert "HTTP 500" in answer["error"]
    assert "The fake provider broke." in answer["error"]


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_a_provider_that_never_answers_fails_within_the_timeout(custom_api, fake):
    fake.mode = "hang"
    tutor = await custom_api(**fake.settings(ai_timeout_seconds=0.5))
    chat = await start(tutor)

    answer = await answer_to(tutor, await ask(tutor, chat, as_="student"))

    assert answer["status"] == "failed"
    assert answer["error"] == "The AI provider did not answer within 0.5 seconds."


async def test_an_unreachable_provider_ends_in_a_failed_answer(custom_api, fake):
    tutor = await custom_api(**fake.settings(ai_base_url="http://127.0.0.1:9/v1"))
    chat = await start(tutor)

    answer = await answer_to(tutor, await ask(tutor, chat, as_="student"))

    assert answer["status"] == "failed"
    assert answer["error"].startswith("The AI provider could not be reached")


async def test_over_the_hourly_quota_a_question_is_a_429_with_retry_after(custom_api, fake):
    tutor = await custom_api(**fake.settings(ai_user_messages_per_hour=2))
    chat = await start(tutor)
    for _ in range(2):
        assert (await ask(tutor, chat, as_="student")).status == 201

    refused = await ask(tutor, chat, as_="student")
    other = await ask(tutor, await start(tutor, as_="student2"), as_="student2")

    assert refused.status == 429
    assert refused.body["status"] == 429
    assert "2 messages per hour" in refused.body["detail"]
    assert 3500 <= int(refused.headers["Retry-After"]) <= 3600
    assert other.status == 201


async def test_deleting_sessions_does_not_reset_the_quota(custom_api, fake):
    tutor = await custom_api(**fake.settings(ai_user_messages_per_hour=1))
    chat = await start(tutor)
    await ask(tutor, chat, as_="student")
    await tutor.delete(f"{SESSIONS}{chat['id']}/", as_="student")

    refused = await ask(tutor, await start(tutor), as_="student")

    assert refused.status == 429


async def test_the_tenants_hourly_quota_covers_every_user(custom_api, fake):
    tutor = await custom_api(**fake.settings(ai_tenant_messages_per_hour=1))
    await ask(tutor, await start(tutor), as_="student")

    refused = await ask(tutor, await start(tutor, as_="student2"), as_="student2")
    elsewhere = await ask(tutor, await start(tutor, as_="b_student"), as_="b_student")

    assert refused.status == 429
    assert "Retry-After" in refused.headers
    assert elsewhere.status == 201


async def test_over_the_daily_token_quota_a_question_is_a_429(custom_api, fake):
    limit = USAGE["prompt_tokens"] + USAGE["completion_tokens"]
    tutor = await custom_api(**fake.settings(ai_user_tokens_per_day=limit))
    chat = await start(tutor)
    await answer_to(tutor, await ask(tutor, chat, as_="student"))

    refused = await ask(tutor, chat, as_="student")

    assert refused.status == 429
    assert "tokens per day" in refused.body["detail"]
    assert 86300 <= int(refused.headers["Retry-After"]) <= 86400


async def test_a_task_delivered_again_does_not_answer_twice(tutor, fake):
    chat = await start(tutor)
    sent = await ask(tutor, chat, as_="student")
    first = await answer_to(tutor, sent)

    await tutor.client.app[DISPATCHER].send(ANSWER_TASK, "acme", sent.body["reply"]["id"])
    again = await answer_to(tutor, sent)

    assert len(fake.requests) == 1
    assert again == first


async def _age_claim(tutor: Any, reply_id: int) -> None:
    """As if the worker holding this answer had claimed it long ago, then died."""
    async with tutor.client.app[DATABASES].tenant_sessions("acme").begin() as session:
        await session.execute(
            update(AiChatMessage)
            .where(AiChatMessage.id == reply_id)
            .values(started_at=utcnow() - timedelta(hours=1))
        )


async def test_an_answer_a_crashed_worker_left_streaming_fails_and_is_not_asked_again(tutor, fake):
    fake.hold = True
    chat = await start(tutor)
    sent = await ask(tutor, chat, as_="student")
    reply_id = sent.body["reply"]["id"]
    await asyncio.wait_for(fake.received.wait(), 5)
    await _age_claim(tutor, reply_id)

    await tutor.client.app[DISPATCHER].send(ANSWER_TASK, "acme", reply_id)  # the redelivery
    seen = await tutor.get(f"{MESSAGES}{reply_id}/", as_="student")
    fake.release.set()  # the "dead" worker's late answer must not overwrite the verdict
    answer = await answer_to(tutor, sent)

    assert seen.body["status"] == "failed"
    assert answer["status"] == "failed"
    assert "interrupted" in answer["error"]
    assert len(fake.requests) == 1


async def test_a_long_poll_returns_as_soon_as_the_answer_completes(tutor, fake):
    fake.hold = True
    chat = await start(tutor)
    sent = await ask(tutor, chat, as_="student")
    await asyncio.wait_for(fake.received.wait(), 5)

    poll = asyncio.create_task(
        tutor.get(f"{MESSAGES}{sent.body['reply']['id']}/?wait=30", as_="student")
    )
    fake.release.set()  # the poll was sent first: it is waiting when the answer completes
    reply = await asyncio.wait_for(poll, 10)

    assert reply.status == 200
    assert (reply.body["status"], reply.body["message"]) == ("complete", fake.text)


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_a_long_poll_that_runs_out_returns_the_unfinished_answer(tutor, fake):
    fake.hold = True
    chat = await start(tutor)
    sent = await ask(tutor, chat, as_="student")
    await asyncio.wait_for(fake.received.wait(), 5)

    reply = await tutor.get(f"{MESSAGES}{sent.body['reply']['id']}/?wait=0.2", as_="student")

    assert reply.status == 200
    assert reply.body["status"] == "streaming"
