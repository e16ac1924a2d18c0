"""The AI tutor's sessions and questions, and who may see them: their owner, nobody else.

Each user sees only their own sessions, admins included; anyone else's is a 404,
so not even its existence leaks. Answering lives in `models.ai_chat.answering`.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.ai_chat.answering import ANSWER_TASK, AnswerLimits, do_expire_stale, room_of
from models.ai_chat.schemas import (
    AiMessageCreate,
    AiMessageQuery,
    AiSessionCreate,
    AiSessionQuery,
    AiSessionUpdate,
)
from models.ai_chat.tables import (
    ASSISTANT,
    COMPLETE,
    PENDING,
    USER,
    AiChatMessage,
    AiChatSession,
    AiChatUsage,
)
from models.base import utcnow
from models.courses.operations import access_course
from models.courses.structure import content_course_ids
from models.courses.tables import Lesson
from models.effects import ROOM_CLOSED, enqueue_after_commit, notify_after_commit
from models.errors import NotFound, PermissionDenied, ValidationFailed, invalid_pk
from models.identity import Principal
from models.listing import ACTOR_PARAM, Listing, ListShape, PageRequest, PageResult, counted
from models.logs.operations import record_activity, record_activity_on

SESSIONS = Listing(
    filters={
        "course_id": AiChatSession.course_id,
        "difficulty_level": AiChatSession.difficulty_level,
    },
    search=(AiChatSession.topic,),
    ordering={
        "created_at": AiChatSession.created_at,
        "updated_at": AiChatSession.updated_at,
        "topic": AiChatSession.topic,
        "id": AiChatSession.id,
    },
    default=(AiChatSession.created_at.desc(),),
    tiebreak=AiChatSession.id.desc(),
)
MESSAGES = Listing(
    filters={
        "session": AiChatMessage.session_id,
        "sender_type": AiChatMessage.sender_type,
        "status": AiChatMessage.status,
    },
    default=(AiChatMessage.id,),
)
NOT_ENROLLED = "You must be enrolled in this course (or teach it) to ask the tutor about it."
WRONG_LESSON = "This lesson is not part of the course."


# Sessions


async def access_session(
    session: AsyncSession, *, actor: Principal, session_id: int
) -> AiChatSession:
    """One of the actor's sessions (404 for anyone else's, or none)."""
    chat = await session.get(AiChatSession, session_id)
    if chat is None or chat.user_id != actor.user_id:
        raise NotFound()
    return chat


async def session_page(
    session: AsyncSession, *, actor: Principal, query: AiSessionQuery, page: PageRequest
) -> PageResult:
    """My tutor sessions."""
    params = {ACTOR_PARAM: actor.user_id}
    return await SESSIONS.page_of(session, _sessions_statement, query, page, params)


@functools.lru_cache(maxsize=256)
def _sessions_statement(shape: ListShape) -> Select[Any]:
    stmt = select(AiChatSession).where(AiChatSession.user_id == bindparam(ACTOR_PARAM))
    return SESSIONS.apply_shape(counted(stmt), shape)


async def check_session_context(
    session: AsyncSession, *, actor: Principal, data: AiSessionCreate
) -> tuple[int | None, int | None]:
    """The course (and lesson) a new session is about: one whose content the actor may read.

    A course or lesson the actor cannot see is a 400 on its field; a visible course whose
    content they may not read (not enrolled) is a 403.
    """
    course_id, lesson_id = data.course_id, data.lesson_id
    if lesson_id is not None:
        lesson = await session.get(Lesson, lesson_id)
        try:
            if lesson is None:
                raise NotFound()
            await access_course(session, actor=actor, course_id=lesson.course_id)
        except NotFound:
            raise ValidationFailed.field("lesson_id", invalid_pk(lesson_id)) from None
        if course_id is not None and lesson.course_id != course_id:
            raise ValidationFailed.field("lesson_id", WRONG_LESSON)
        course_id = lesson.course_id
    if course_id is None:
        return None, None
    try:
        course = await access_course(session, actor=actor, course_id=course_id)
    except NotFound:
        raise ValidationFailed.field("course_id", invalid_pk(course_id)) from None
    readable = await content_course_ids(session, actor=actor, course_ids={course.id})
    if course.id not in readable:
        raise PermissionDenied(NOT_ENROLLED)
    return course.id, lesson_id


async def do_create_session(
    session: AsyncSession,
    *,
    actor: Principal,
    data: AiSessionCreate,
    context: tuple[int | None, int | None],
) -> AiChatSession:
    """Start a session about the course and lesson `check_session_context` returned."""
    course_id, lesson_id = context
    chat = AiChatSession(
        user_id=actor.user_id,
        topic=data.topic,
        difficulty_level=data.difficulty_level,
        course_id=course_id,
        lesson_id=lesson_id,
        message_count=0,
    )
    session.add(chat)
    await session.flush()
    _session_activity(session, actor, chat, "ai_session_started", f"Started {chat.topic!r}.")
    return chat


async def do_update_session(
    session: AsyncSession, *, actor: Principal, chat: AiChatSession, data: AiSessionUpdate
) -> AiChatSession:
    """Rename a session `access_session` returned or change its level; null changes nothing."""
    changes = {
        name: value
        for name, value in data.model_dump(exclude_unset=True, exclude_none=True).items()
        if getattr(chat, name) != value
    }
    if changes:
        for name, value in changes.items():
            setattr(chat, name, value)
        await session.flush()
        _session_activity(
            session, actor, chat, "ai_session_updated", f"Changed {', '.join(sorted(changes))}."
        )
    return chat


async def do_delete_session(
    session: AsyncSession, *, actor: Principal, chat: AiChatSession
) -> None:
    """Delete a session `access_session` returned, and its messages; the quota still counts
    them."""
    session_id = chat.id
    _session_activity(session, actor, chat, "ai_session_deleted", f"Deleted {chat.topic!r}.")
    await session.delete(chat)
    await session.flush()
    notify_after_commit(session, room_of(session_id), ROOM_CLOSED, {"session_id": session_id})


def _session_activity(
    session: AsyncSession, actor: Principal, chat: AiChatSession, kind: str, details: str
) -> None:
    record_activity_on(session, actor, ("ai_session", chat.id), kind, details)


# Messages


def messages_query(
    actor: Principal, query: AiMessageQuery, *, session_id: int | None = None
) -> Select[Any]:
    """My messages, oldest first; a session filter naming another's session lists nothing."""
    stmt = (
        select(AiChatMessage)
        .join(AiChatSession, AiChatSession.id == AiChatMessage.session_id)
        .where(AiChatSession.user_id == actor.user_id)
    )
    if session_id is not None:
        stmt = stmt.where(AiChatMessage.session_id == session_id)
    return MESSAGES.apply(stmt, query)


async def access_message(
    session: AsyncSession, *, actor: Principal, message_id: int
) -> AiChatMessage:
    """A message of one of the actor's sessions, read afresh (404 otherwise)."""
    stmt = (
        select(AiChatMessage)
        .join(AiChatSession, AiChatSession.id == AiChatMessage.session_id)
        .where(AiChatMessage.id == message_id, AiChatSession.user_id == actor.user_id)
        .execution_options(populate_existing=True)
    )
    message = (await session.scalars(stmt)).one_or_none()
    if message is None:
        raise NotFound()
    return message


async def do_expire_session(
    session: AsyncSession, *, actor: Principal, session_id: int, limits: AnswerLimits
) -> None:
    """Fail the answers of my session that a lost task or a crashed worker left unfinished.

    Another's session, or none, is left alone (listing it shows nothing anyway).
    """
    chat = await session.get(AiChatSession, session_id)
    if chat is not None and chat.user_id == actor.user_id:
        await do_expire_stale(session, session_id=session_id, limits=limits)


async def access_question_session(
    session: AsyncSession, *, actor: Principal, session_id: int
) -> AiChatSession:
    """The session a question names, if it is the actor's (else a 400 on `session`)."""
    try:
        return await access_session(session, actor=actor, session_id=session_id)
    except NotFound:
        raise ValidationFailed.field("session", invalid_pk(session_id)) from None


async def do_send_message(
    session: AsyncSession, *, actor: Principal, chat: AiChatSession, data: AiMessageCreate
) -> tuple[AiChatMessage, AiChatMessage]:
    """Store a question and its pending answer, and ask a worker to answer it after commit
    (in a session `access_question_session` returned, once `check_quota` passed: over a
    quota, a 429)."""
    now = utcnow()
    question = AiChatMessage(
        session_id=chat.id,
        sender_type=USER,
        message=data.message,
        status=COMPLETE,
        created_at=now,
        completed_at=now,
    )
    session.add(question)
    await session.flush()
    reply = AiChatMessage(
        session_id=chat.id, sender_type=ASSISTANT, status=PENDING, reply_to_id=question.id
    )
    session.add(reply)
    session.add(AiChatUsage(user_id=actor.user_id, message_id=question.id, tokens=0))
    # In SQL, so that two questions sent at once both count.
    await session.execute(
        update(AiChatSession)
        .where(AiChatSession.id == chat.id)
        .values(message_count=AiChatSession.message_count + 2, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.flush()
    record_activity(
        session,
        user_id=actor.user_id,
        activity_type="ai_message_sent",
        details=f"Asked the tutor in {chat.topic!r}.",  # never the question itself
        object_type="ai_message",
        object_id=question.id,
    )
    # The asker's roles go with the task: what the answer may draw on is decided when it is
    # prepared, and an admin may read every course.
    enqueue_after_commit(session, ANSWER_TASK, reply.id, sorted(actor.roles))
    return question, reply
