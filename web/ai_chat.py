"""Routes: the AI tutor (sessions and messages)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import web

from models.ai_chat import operations as ai
from models.ai_chat.answering import MESSAGE_COMPLETE, AnswerLimits, room_of
from models.ai_chat.quota import Quotas, check_quota
from models.ai_chat.schemas import (
    MAX_WAIT_SECONDS,
    AiMessageCreate,
    AiMessageQuery,
    AiMessageRead,
    AiMessageSent,
    AiSessionCreate,
    AiSessionQuery,
    AiSessionRead,
    AiSessionUpdate,
    AiWaitQuery,
)
from models.ai_chat.tables import UNFINISHED, AiChatMessage
from models.listing import paginate
from models.people.names import with_people
from realtime.events import Arrival, Shown
from web.handlers import (
    actor,
    no_content,
    ok,
    path_id,
    read_update,
    render,
    render_named,
    session,
    unit_of_work,
)
from web.jsonio import read_body, read_query
from web.keys import BUS, SETTINGS
from web.pagination import page_body, page_request
from web.routing import SEARCH, RouteTable

log = logging.getLogger(__name__)
routes = RouteTable()
TAG = "ai_chat"
SESSIONS = "/api/lms/ai_chat/sessions/"
# ASCII digits only: \d would also match other scripts' digits, giving one resource many URLs.
SESSION = SESSIONS + r"{session_id:[0-9]+}/"
SESSION_MESSAGES = SESSION + "messages/"
MESSAGES = "/api/lms/ai_chat/messages/"
MESSAGE = MESSAGES + r"{message_id:[0-9]+}/"
# A long poll looks at the database again this often, even if no event woke it.
RECHECK_SECONDS = 2.0


def _limits(request: web.Request) -> AnswerLimits:
    return AnswerLimits.from_settings(request.app[SETTINGS])


# Sessions


@routes.read(
    SESSIONS,
    tag=TAG,
    query=AiSessionQuery,
    response=AiSessionRead,
    paginated=True,
    expensive=SEARCH,
)
async def list_sessions(request: web.Request) -> web.Response:
    """List my tutor sessions, newest first (`course_id`, `difficulty_level`, `search`)."""
    query = read_query(request, AiSessionQuery)
    result = await ai.session_page(
        session(request), actor=actor(request), query=query, page=page_request(request)
    )
    return ok(
        page_body(request, result, [render(AiSessionRead, with_people(s)) for s in result.rows])
    )


@routes.route(
    "POST",
    SESSIONS,
    tag=TAG,
    body=AiSessionCreate,
    response=AiSessionRead,
    status=201,
    audit="ai_session_created",
)
async def create_session(request: web.Request) -> web.Response:
    """Start a tutor session, optionally about a course I study or teach (and a lesson)."""
    data = await read_body(request, AiSessionCreate)
    context = await ai.check_session_context(session(request), actor=actor(request), data=data)
    chat = await ai.do_create_session(
        session(request), actor=actor(request), data=data, context=context
    )
    return ok(await render_named(request, AiSessionRead, chat), status=201)


@routes.read(SESSION, tag=TAG, response=AiSessionRead)
async def get_session(request: web.Request) -> web.Response:
    """Retrieve one of my tutor sessions."""
    chat = await ai.access_session(
        session(request), actor=actor(request), session_id=path_id(request, "session_id")
    )
    return ok(await render_named(request, AiSessionRead, chat))


async def _update_session(request: web.Request) -> web.Response:
    # As DRF: 404 comes before anything in the body is looked at.
    chat = await ai.access_session(
        session(request), actor=actor(request), session_id=path_id(request, "session_id")
    )
    data = await read_update(request, AiSessionCreate, AiSessionUpdate)
    chat = await ai.do_update_session(session(request), actor=actor(request), chat=chat, data=data)
    return ok(await render_named(request, AiSessionRead, chat))


# PUT keeps the session's course and lesson.
routes.update_routes(
    SESSION,
    tag=TAG,
    partial=AiSessionUpdate,
    whole=AiSessionCreate,
    response=AiSessionRead,
    summary="Rename a tutor session or change its level",
    audit="ai_session_updated",
)(_update_session)


@routes.route("DELETE", SESSION, tag=TAG, status=204, audit="ai_session_deleted")
async def delete_session(request: web.Request) -> web.Response:
    """Delete one of my tutor sessions and its messages."""
    chat = await ai.access_session(
        session(request), actor=actor(request), session_id=path_id(request, "session_id")
    )
    await ai.do_delete_session(session(request), actor=actor(request), chat=chat)
    return no_content()


# Messages


async def _message_page(request: web.Request, *, session_id: int | None) -> web.Response:
    query = read_query(request, AiMessageQuery)
    for wanted in {session_id, query.session} - {None}:
        assert wanted is not None
        await ai.do_expire_session(
            session(request), actor=actor(request), session_id=wanted, limits=_limits(request)
        )
    stmt = ai.messages_query(actor(request), query, session_id=session_id)
    result = await paginate(session(request), stmt, page_request(request))
    return ok(page_body(request, result, [render(AiMessageRead, m) for m in result.rows]))


# Reading a session's messages fails the answers that can no longer finish (and tells the
# session's room): these GETs write, so they run in a transaction.
@routes.route(
    "GET",
    SESSION_MESSAGES,
    tag=TAG,
    query=AiMessageQuery,
    response=AiMessageRead,
    paginated=True,
)
async def list_session_messages(request: web.Request) -> web.Response:
    """A session's messages, oldest first."""
    session_id = path_id(request, "session_id")
    await ai.access_session(session(request), actor=actor(request), session_id=session_id)
    return await _message_page(request, session_id=session_id)


@routes.route(
    "GET", MESSAGES, tag=TAG, query=AiMessageQuery, response=AiMessageRead, paginated=True
)
async def list_messages(request: web.Request) -> web.Response:
    """My tutor messages, oldest first (`session`, `sender_type`, `status`)."""
    return await _message_page(request, session_id=None)


@routes.route(
    "POST",
    MESSAGES,
    tag=TAG,
    body=AiMessageCreate,
    response=AiMessageSent,
    status=201,
    errors=(429,),
    audit="ai_message_created",
)
async def send_message(request: web.Request) -> web.Response:
    """Ask the tutor: stores my question and its `pending` answer (`reply`), answered by a
    worker; follow it on the session's socket or with `GET messages/{reply.id}/?wait=30`."""
    data = await read_body(request, AiMessageCreate)
    chat = await ai.access_question_session(
        session(request), actor=actor(request), session_id=data.session
    )
    quotas = Quotas.from_settings(request.app[SETTINGS])
    await check_quota(session(request), user_id=actor(request).user_id, quotas=quotas)
    question, reply = await ai.do_send_message(
        session(request), actor=actor(request), chat=chat, data=data
    )
    body = render(AiMessageRead, question)
    body["reply"] = render(AiMessageRead, reply)
    return ok(body, status=201)


@routes.route("GET", MESSAGE, tag=TAG, query=AiWaitQuery, response=AiMessageRead)
async def get_message(request: web.Request) -> web.Response:
    """Retrieve one of my tutor messages; `?wait=N` (≤ 30 s) waits for an unfinished answer."""
    query = read_query(request, AiWaitQuery)
    message_id = path_id(request, "message_id")
    message = await _current(request, message_id)
    wait = min(query.wait or 0.0, float(MAX_WAIT_SECONDS))
    if wait > 0 and message.status in UNFINISHED:
        message = await _wait_for(request, message, wait)
    return ok(render(AiMessageRead, message))


async def _current(request: web.Request, message_id: int) -> AiChatMessage:
    """The message as stored now, after failing it if it can no longer finish."""
    message = await ai.access_message(session(request), actor=actor(request), message_id=message_id)
    if message.status in UNFINISHED:
        await ai.do_expire_session(
            session(request),
            actor=actor(request),
            session_id=message.session_id,
            limits=_limits(request),
        )
        message = await ai.access_message(
            session(request), actor=actor(request), message_id=message_id
        )
    return message


async def _wait_for(request: web.Request, message: AiChatMessage, wait: float) -> AiChatMessage:
    """Long poll: woken by the session's `message.complete` events, with a periodic recheck.

    Nothing is held while waiting: each look is its own short transaction, committed (and
    its connection returned to the pool) before the next wait.
    """
    uow = unit_of_work(request)
    await uow.commit()
    bus = request.app[BUS]
    key = (actor(request).tenant, room_of(message.session_id))
    woken = asyncio.Event()

    def listener(event: Arrival) -> None:
        if isinstance(event, Shown) and event.type == MESSAGE_COMPLETE:
            woken.set()

    listening = True
    try:
        await bus.listen(key, listener)
    except Exception:
        # Without the bus (Redis unreachable) the periodic recheck still answers.
        log.warning("long poll of AI message %s without room events", message.id, exc_info=True)
        listening = False
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    try:
        while True:
            # Listening before this look: an answer finishing in between still wakes us.
            message = await _current(request, message.id)
            await uow.commit()
            remaining = deadline - loop.time()
            if message.status not in UNFINISHED or remaining <= 0:
                return message
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(remaining, RECHECK_SECONDS)):
                    await woken.wait()
            woken.clear()
    finally:
        if listening:
            with contextlib.suppress(Exception):
                await bus.unlisten(key, listener)
