"""Answering a question: claim it once, build the prompt, store the answer or the failure.

A worker calls these around the provider call (workers/ai.py). The claim is one conditional
UPDATE (`pending` → `streaming`), so a task delivered twice answers once. An answer left
`streaming` by a worker that died is failed as interrupted once it is older than the answer
timeout (plus a grace period), by the next task or reader that sees it; a question whose
task was lost is failed the same way after the queue timeout. Nothing stays unfinished.

Whether the asker may still read the session's course is decided here, when the answer is
prepared, by the rule that shows a lesson's content over REST: a learner who left the
course (or whose course was unpublished) gets an answer without its material.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.ai_chat import prompt
from models.ai_chat.schemas import AiMessageRead
from models.ai_chat.tables import (
    ASSISTANT,
    COMPLETE,
    FAILED,
    PENDING,
    STREAMING,
    UNFINISHED,
    USER,
    AiChatMessage,
    AiChatSession,
    AiChatUsage,
)
from models.base import utcnow
from models.courses.catalog import access_course
from models.courses.structure import content_course_ids
from models.courses.tables import Course, Lesson, Module
from models.effects import notify_after_commit
from models.errors import NotFound
from models.identity import Principal
from models.logs.operations import record_activity
from models.settings import Settings

ANSWER_TASK = "ai.answer"
# The answer stored (or failed): the session's room, and the long polls waiting on it, hear it.
MESSAGE_COMPLETE = "message.complete"
# A worker's claim outlives the answer timeout by this much before it counts as interrupted.
GRACE_SECONDS = 30.0
MAX_ERROR = 500
HISTORY_ROWS = 200  # at most this many earlier messages are even considered for the prompt

INTERRUPTED = "The answer was interrupted (its worker stopped). Please ask again."
NOT_PICKED_UP = "No worker picked up the question in time. Please ask again."


def room_of(session_id: int) -> str:
    """The live room of a session's stream."""
    return f"ai_chat:{session_id}"


@dataclass(frozen=True, slots=True)
class AnswerLimits:
    """How long an answer may take, and how much text a prompt carries."""

    answer_seconds: float = 120.0
    queue_seconds: float = 900.0
    history_tokens: int = 4000
    context_tokens: int = 3000

    @classmethod
    def from_settings(cls, settings: Settings) -> AnswerLimits:
        return cls(
            answer_seconds=settings.ai_timeout_seconds,
            queue_seconds=settings.ai_queue_timeout_seconds,
            history_tokens=settings.ai_history_tokens,
            context_tokens=settings.ai_context_tokens,
        )


@dataclass(frozen=True, slots=True)
class ReplyPlan:
    """What a worker needs to ask the provider, once it holds the claim."""

    reply_id: int
    session_id: int
    user_id: str
    room: str
    messages: list[dict[str, str]]


def _rowcount(result: Any) -> int:
    return max(cast(CursorResult[Any], result).rowcount, 0)


async def do_claim_reply(
    session: AsyncSession,
    *,
    tenant: str,
    reply_id: int,
    model: str | None,
    limits: AnswerLimits,
    asker_roles: Iterable[str] = ("student",),
) -> ReplyPlan | None:
    """Take a pending answer for this worker, with its prompt; None if it is not pending.

    `asker_roles` are the roles the question was asked with. An answer some other worker
    left behind is failed here if it is stale, never re-asked.
    """
    claimed = await session.execute(
        update(AiChatMessage)
        .where(
            AiChatMessage.id == reply_id,
            AiChatMessage.sender_type == ASSISTANT,
            AiChatMessage.status == PENDING,
        )
        .values(status=STREAMING, started_at=utcnow(), model=model)
        .execution_options(synchronize_session=False)
    )
    reply = await _fresh(session, reply_id)
    if reply is None:
        return None  # its session was deleted meanwhile
    if _rowcount(claimed) != 1:
        await do_expire_stale(session, session_id=reply.session_id, limits=limits)
        return None
    chat = await session.get(AiChatSession, reply.session_id)
    assert chat is not None  # the message cascades with its session
    asker = Principal(user_id=chat.user_id, tenant=tenant, roles=frozenset(asker_roles))
    course = await _readable_course(session, asker, chat.course_id)
    system = prompt.system_prompt(
        topic=chat.topic,
        difficulty=chat.difficulty_level,
        course=await _course_text(session, course, chat.lesson_id) if course else None,
        course_withheld=chat.course_id is not None and course is None,
        budget_tokens=limits.context_tokens,
    )
    turns = await _turns(session, chat.id, up_to=reply.reply_to_id or reply.id)
    history = prompt.fit_history(turns, limits.history_tokens)
    return ReplyPlan(
        reply_id=reply.id,
        session_id=chat.id,
        user_id=chat.user_id,
        room=room_of(chat.id),
        messages=prompt.chat_messages(system, history),
    )


async def _fresh(session: AsyncSession, message_id: int) -> AiChatMessage | None:
    stmt = (
        select(AiChatMessage)
        .where(AiChatMessage.id == message_id)
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(stmt)).one_or_none()


async def _readable_course(
    session: AsyncSession, asker: Principal, course_id: int | None
) -> Course | None:
    """The course, if the asker may read its lessons' content now (as a lesson's read decides)."""
    if course_id is None:
        return None
    try:
        course = await access_course(session, actor=asker, course_id=course_id)
    except NotFound:
        return None
    readable = await content_course_ids(session, actor=asker, course_ids={course.id})
    return course if course.id in readable else None


async def _course_text(
    session: AsyncSession, course: Course, lesson_id: int | None
) -> prompt.CourseText:
    outline_rows = await session.execute(
        select(Module.title, Lesson.title)
        .join(Lesson, Lesson.module_id == Module.id)
        .where(Module.course_id == course.id)
        .order_by(Module.order, Module.id, Lesson.order, Lesson.id)
        .limit(500)
    )
    outline = [f"{module}: {lesson}" for module, lesson in outline_rows]
    lesson = await session.get(Lesson, lesson_id) if lesson_id is not None else None
    if lesson is not None and lesson.course_id != course.id:
        lesson = None  # moved to another course since: not this course's material
    description = course.description or course.short_description
    return prompt.CourseText(
        title=course.title,
        code=course.code,
        description=description,
        outline=outline,
        lesson_title=lesson.title if lesson is not None else None,
        lesson_description=lesson.description if lesson is not None else "",
        lesson_content=lesson.content if lesson is not None else "",
    )


async def _turns(session: AsyncSession, session_id: int, *, up_to: int) -> list[prompt.Turn]:
    """The conversation up to the question: questions, and the answers that completed."""
    rows = await session.execute(
        select(AiChatMessage.sender_type, AiChatMessage.message)
        .where(
            AiChatMessage.session_id == session_id,
            AiChatMessage.id <= up_to,
            or_(
                AiChatMessage.sender_type == USER,
                and_(AiChatMessage.sender_type == ASSISTANT, AiChatMessage.status == COMPLETE),
            ),
        )
        .order_by(AiChatMessage.id.desc())
        .limit(HISTORY_ROWS)
    )
    return [prompt.Turn(role, text) for role, text in reversed(rows.all())]


async def do_finish_reply(
    session: AsyncSession,
    *,
    reply_id: int,
    text: str,
    prompt_tokens: int,
    completion_tokens: int,
) -> AiChatMessage | None:
    """Store the answer of a claimed reply; None if it is no longer this worker's."""
    done = await session.execute(
        update(AiChatMessage)
        .where(AiChatMessage.id == reply_id, AiChatMessage.status == STREAMING)
        .values(
            status=COMPLETE,
            message=text,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            completed_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    if _rowcount(done) != 1:
        return None
    return await _finished(session, reply_id, "ai_message_answered", "The tutor answered.")


async def do_fail_reply(
    session: AsyncSession,
    *,
    reply_id: int,
    reason: str,
    text: str = "",
    prompt_tokens: int | None = None,
    completion_tokens: int | None = None,
) -> AiChatMessage | None:
    """Fail an unfinished reply with a reason (and what had arrived); None if already done."""
    failed = await session.execute(
        update(AiChatMessage)
        .where(AiChatMessage.id == reply_id, AiChatMessage.status.in_(UNFINISHED))
        .values(
            status=FAILED,
            error=reason[:MAX_ERROR],
            message=text,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            completed_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    )
    if _rowcount(failed) != 1:
        return None
    return await _finished(session, reply_id, "ai_message_failed", reason[:MAX_ERROR])


async def _finished(
    session: AsyncSession, reply_id: int, activity: str, details: str
) -> AiChatMessage | None:
    """Charge the tokens to the question's usage, record it, and tell the session's room."""
    reply = await _fresh(session, reply_id)
    if reply is None:
        return None
    tokens = (reply.prompt_tokens or 0) + (reply.completion_tokens or 0)
    if tokens and reply.reply_to_id is not None:
        await session.execute(
            update(AiChatUsage)
            .where(AiChatUsage.message_id == reply.reply_to_id)
            .values(tokens=tokens)
            .execution_options(synchronize_session=False)
        )
    chat = await session.get(AiChatSession, reply.session_id)
    record_activity(
        session,
        user_id=chat.user_id if chat is not None else None,
        activity_type=activity,
        details=details,
        status="success" if reply.status == COMPLETE else "failed",
        object_type="ai_message",
        object_id=reply.id,
    )
    notify_after_commit(session, room_of(reply.session_id), MESSAGE_COMPLETE, message_event(reply))
    return reply


def message_event(message: AiChatMessage) -> dict[str, Any]:
    return AiMessageRead.model_validate(message).model_dump(mode="json")


async def do_expire_stale(
    session: AsyncSession, *, session_id: int, limits: AnswerLimits
) -> list[AiChatMessage]:
    """Fail the session's answers that can no longer finish: interrupted, or never picked up."""
    now = utcnow()
    interrupted_before = now - timedelta(seconds=limits.answer_seconds + GRACE_SECONDS)
    lost_before = now - timedelta(seconds=limits.queue_seconds)
    stale = await session.execute(
        select(AiChatMessage.id, AiChatMessage.status).where(
            AiChatMessage.session_id == session_id,
            or_(
                and_(
                    AiChatMessage.status == STREAMING,
                    AiChatMessage.started_at < interrupted_before,
                ),
                and_(AiChatMessage.status == PENDING, AiChatMessage.created_at < lost_before),
            ),
        )
    )
    expired = []
    for message_id, status in stale.all():
        reason = INTERRUPTED if status == STREAMING else NOT_PICKED_UP
        message = await do_fail_reply(session, reply_id=message_id, reason=reason)
        if message is not None:
            expired.append(message)
    return expired
