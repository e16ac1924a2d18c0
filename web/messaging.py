"""Routes: direct and group messages, conversations, read state (Messaging)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from models.messaging import operations as messaging
from models.messaging import queries
from models.messaging.schemas import (
    ConversationQuery,
    ConversationRead,
    MessageCreate,
    MessageEdit,
    MessageEditPartial,
    MessageQuery,
    MessageRead,
    ReadAllBody,
    ReadAllResult,
    UnreadCount,
)
from models.messaging.tables import DIRECT, GROUP, Message
from web.handlers import actor, no_content, ok, path_id, read_update, render, session
from web.jsonio import read_body, read_query
from web.pagination import page_body, page_request
from web.routing import RouteTable

routes = RouteTable()
TAG = "messaging"
MESSAGES = "/api/lms/messaging/messages/"
# ASCII digits only: \d would also match other scripts' digits, giving one resource many URLs.
MESSAGE = MESSAGES + r"{message_id:[0-9]+}/"
READ_ALL = MESSAGES + "read-all/"
UNREAD_COUNT = MESSAGES + "unread-count/"
CONVERSATIONS = "/api/lms/messaging/conversations/"


async def _message_body(request: web.Request, message: Message) -> dict[str, Any]:
    view = await queries.message_view(session(request), actor=actor(request), message=message)
    return render(MessageRead, view.fields())


@routes.read(MESSAGES, tag=TAG, query=MessageQuery, response=MessageRead, paginated=True)
async def list_messages(request: web.Request) -> web.Response:
    """List what I sent or received (`box`, `unread`, `with`, `group_id`), newest first."""
    query = read_query(request, MessageQuery)
    result = await queries.message_page(
        session(request), actor=actor(request), query=query, page=page_request(request)
    )
    views = await queries.message_views(
        session(request), actor=actor(request), messages=result.rows
    )
    return ok(page_body(request, result, [render(MessageRead, v.fields()) for v in views]))


@routes.route("POST", MESSAGES, tag=TAG, body=MessageCreate, response=MessageRead, status=201)
async def send_message(request: web.Request) -> web.Response:
    """Send a direct message (`recipient_id`) or a message to one of my groups (`group_id`)."""
    data = await read_body(request, MessageCreate)
    group = await messaging.access_addressee(session(request), actor=actor(request), data=data)
    message = await messaging.do_send_message(
        session(request), actor=actor(request), data=data, group=group
    )
    return ok(render(MessageRead, queries.sent_view(message).fields()), status=201)


@routes.read(MESSAGE, tag=TAG, response=MessageRead)
async def get_message(request: web.Request) -> web.Response:
    """Retrieve a message I sent or received."""
    message = await messaging.access_message(
        session(request), actor=actor(request), message_id=path_id(request, "message_id")
    )
    return ok(await _message_body(request, message))


async def _edit_message(request: web.Request) -> web.Response:
    # As DRF: 404 and 403 come before anything in the body is looked at.
    message = await messaging.access_message(
        session(request), actor=actor(request), message_id=path_id(request, "message_id")
    )
    messaging.check_sender(actor(request), message)
    data = await read_update(request, MessageEdit, MessageEditPartial)
    message = await messaging.do_edit_message(
        session(request), actor=actor(request), message=message, content=data.content
    )
    return ok(await _message_body(request, message))


routes.update_routes(
    MESSAGE,
    tag=TAG,
    partial=MessageEditPartial,
    whole=MessageEdit,
    response=MessageRead,
    summary="Change a message's content (its sender)",
)(_edit_message)


@routes.route("DELETE", MESSAGE, tag=TAG, status=204)
async def delete_message(request: web.Request) -> web.Response:
    """Delete a message for everyone (its sender)."""
    message = await messaging.access_message(
        session(request), actor=actor(request), message_id=path_id(request, "message_id")
    )
    messaging.check_sender(actor(request), message)
    await messaging.do_delete_message(session(request), actor=actor(request), message=message)
    return no_content()


@routes.route("POST", MESSAGE + "read/", tag=TAG, response=MessageRead, audit="message_read")
async def read_message(request: web.Request) -> web.Response:
    """Mark a message I received read (again: no change); returns the message."""
    message = await messaging.access_message(
        session(request), actor=actor(request), message_id=path_id(request, "message_id")
    )
    messaging.check_reader(actor(request), message)
    message = await messaging.do_read_message(
        session(request), actor=actor(request), message=message
    )
    return ok(await _message_body(request, message))


@routes.route(
    "POST",
    READ_ALL,
    tag=TAG,
    body=ReadAllBody,
    query=ConversationQuery,
    response=ReadAllResult,
    audit="message_read_all",
)
async def read_all_messages(request: web.Request) -> web.Response:
    """Mark read everything I received, or one conversation's (`with` or `group_id`).

    The limits come in the body or the query string; the body's win.
    """
    query = read_query(request, ConversationQuery)
    body = await read_body(request, ReadAllBody)
    with_user = body.with_user if body.with_user is not None else query.with_user
    group_id = body.group_id if body.group_id is not None else query.group_id
    marked = await messaging.do_read_all(
        session(request), actor=actor(request), with_user=with_user, group_id=group_id
    )
    counts = await queries.unread_counts(
        session(request), actor=actor(request), with_user=None, group_id=None
    )
    return ok(render(ReadAllResult, {"marked": marked, "unread_count": sum(counts.values())}))


@routes.read(UNREAD_COUNT, tag=TAG, query=ConversationQuery, response=UnreadCount)
async def unread_count(request: web.Request) -> web.Response:
    """How many messages I received and have not read (`with` or `group_id` narrow it)."""
    query = read_query(request, ConversationQuery)
    counts = await queries.unread_counts(
        session(request), actor=actor(request), with_user=query.with_user, group_id=query.group_id
    )
    body = {
        "unread_count": counts[DIRECT] + counts[GROUP],
        "direct_unread_count": counts[DIRECT],
        "group_unread_count": counts[GROUP],
    }
    return ok(render(UnreadCount, body))


@routes.read(CONVERSATIONS, tag=TAG, response=ConversationRead, paginated=True)
async def list_conversations(request: web.Request) -> web.Response:
    """One row per user or group I exchange messages with, the most recent first."""
    result = await queries.conversations_page(
        session(request), actor=actor(request), page=page_request(request)
    )
    views = await queries.conversation_views(
        session(request), actor=actor(request), last_ids=result.rows
    )
    return ok(page_body(request, result, [render(ConversationRead, v.fields()) for v in views]))
