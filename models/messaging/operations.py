"""Messaging: sending, editing, deleting and reading messages, and who may.

A direct message is read by its sender and its recipient; a group message by the group's
current members. Nobody else reads a message, admins included: 404, so that not even its
existence leaks. Listing, counting and conversations live in `models.messaging.queries`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Select, String, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import UTCDateTime, utcnow
from models.dialects import conflict_insert, dialect_of
from models.effects import notify_after_commit
from models.errors import NotFound, PermissionDenied, ValidationFailed, invalid_pk
from models.groups.operations import group_room, is_member, member_role
from models.groups.tables import Group
from models.identity import Principal
from models.logs.operations import record_activity, record_activity_on
from models.messaging.queries import conversation_filter, scoped, unread, visible
from models.messaging.schemas import GroupMessageEvent, MessageCreate
from models.messaging.tables import DIRECT, GROUP, Message, ReadReceipt
from models.notifications.operations import group_member_ids, mentioned_user_ids, notify_users
from models.people.names import named, with_people
from models.rendering import dump

REQUIRED = "This field is required."
TO_MYSELF = "You cannot send a message to yourself."
# How much of a message its notification shows.
PREVIEW = 500


def _not_allowed_on(kind: str) -> str:
    return f"This field is not allowed on a {kind} message."


def _invalid_group(group_id: int) -> ValidationFailed:
    return ValidationFailed.field("group_id", invalid_pk(group_id))


def message_type_of(data: MessageCreate) -> str:
    """The type sent, else `group` for a body naming only a group, else `direct`."""
    if data.message_type is not None:
        return data.message_type
    return GROUP if data.group_id is not None and data.recipient_id is None else DIRECT


def check_addressee(actor: Principal, data: MessageCreate) -> str:
    """The message's type, once its body names exactly the addressee that type needs (400)."""
    kind = message_type_of(data)
    errors: dict[str, list[str]] = {}
    if kind == DIRECT:
        if data.recipient_id is None:
            errors["recipient_id"] = [REQUIRED]
        elif data.recipient_id == actor.user_id:
            errors["recipient_id"] = [TO_MYSELF]
        if data.group_id is not None:
            errors["group_id"] = [_not_allowed_on(DIRECT)]
    else:
        if data.group_id is None:
            errors["group_id"] = [REQUIRED]
        if data.recipient_id is not None:
            errors["recipient_id"] = [_not_allowed_on(GROUP)]
    if errors:
        raise ValidationFailed(errors)
    return kind


async def access_addressee(
    session: AsyncSession, *, actor: Principal, data: MessageCreate
) -> Group | None:
    """The group a new message goes to (None for a direct message), once the body names its
    addressee as `check_addressee` wants and the sender belongs to that group.

    A group the actor cannot see is a 400 on `group_id`, as for any reference; an admin
    sees every group but writes only in their own (403).
    """
    if check_addressee(actor, data) == DIRECT:
        return None
    assert data.group_id is not None  # check_addressee saw to it
    group = await session.get(Group, data.group_id)
    if group is None:
        raise _invalid_group(data.group_id)
    if await member_role(session, group_id=group.id, user_id=actor.user_id) is None:
        if actor.is_admin:
            raise PermissionDenied()
        raise _invalid_group(data.group_id)
    return group


async def do_send_message(
    session: AsyncSession, *, actor: Principal, data: MessageCreate, group: Group | None
) -> Message:
    """Send a direct message, or a message to the group `access_addressee` returned.

    REST and a group chat's WebSocket frames both send through here.
    """
    if group is not None:
        message = Message(
            sender_id=actor.user_id, group_id=group.id, message_type=GROUP, content=data.content
        )
        details = f"Sent a message to group {group.name!r}."
    else:
        message = Message(
            sender_id=actor.user_id,
            recipient_id=data.recipient_id,
            message_type=DIRECT,
            content=data.content,
        )
        details = f"Sent a direct message to {data.recipient_id!r}."
    session.add(message)
    await session.flush()
    await named(session, [message])
    # Never the content: admins read the activity log, and messages are private.
    _message_activity(session, actor, message, "message_sent", details)
    _notify_group(session, message, "message")
    await _notify_addressees(session, actor, message)
    return message


async def _notify_addressees(session: AsyncSession, actor: Principal, message: Message) -> None:
    """The recipient of a direct message, and the members a group message mentions, find
    it in their inbox (and live, on their notifications socket)."""
    data = {"message_id": message.id, "sender_id": actor.user_id}
    if message.group_id is None:
        if message.recipient_id is not None:
            notify_users(
                session,
                actor_id=actor.user_id,
                event_key=f"direct_message:{message.id}",
                type_="direct_message",
                recipients=[message.recipient_id],
                title=f"Message from {actor.user_id}",
                body=message.content[:PREVIEW],
                data=data,
            )
        return
    if "@" not in message.content:  # no mention possible: no member list to read
        return
    members = await group_member_ids(session, group_id=message.group_id)
    mentioned = mentioned_user_ids(message.content, members)
    if mentioned:
        notify_users(
            session,
            actor_id=actor.user_id,
            event_key=f"mention:{message.id}",
            type_="mention",
            recipients=mentioned,
            title=f"{actor.user_id} mentioned you",
            body=message.content[:PREVIEW],
            data={**data, "group_id": message.group_id},
        )


async def access_message(session: AsyncSession, *, actor: Principal, message_id: int) -> Message:
    """The message, if the actor is its sender or one of its recipients (404 otherwise)."""
    message = await session.get(Message, message_id)
    if message is None or not await _can_read(session, actor, message):
        raise NotFound()
    return message


async def _can_read(session: AsyncSession, actor: Principal, message: Message) -> bool:
    if message.message_type == DIRECT:
        return actor.user_id in (message.sender_id, message.recipient_id)
    return message.group_id is not None and await is_member(
        session, group_id=message.group_id, user_id=actor.user_id
    )


def check_sender(actor: Principal, message: Message) -> None:
    """Only its sender changes or deletes a message (403 for the recipients)."""
    if message.sender_id != actor.user_id:
        raise PermissionDenied()


async def do_edit_message(
    session: AsyncSession, *, actor: Principal, message: Message, content: str | None
) -> Message:
    """Change a message's content (after `check_sender`); `edited_at` says when. None changes
    nothing."""
    if content is not None and content != message.content:
        message.content = content
        message.edited_at = utcnow()
        await session.flush()
        _message_activity(
            session, actor, message, "message_updated", f"Edited message {message.id}."
        )
        _notify_group(session, message, "message_updated")
    return message


async def do_delete_message(session: AsyncSession, *, actor: Principal, message: Message) -> None:
    """Delete a message for everyone (after `check_sender`), with its read receipts."""
    _message_activity(session, actor, message, "message_deleted", f"Deleted message {message.id}.")
    if message.group_id is not None:
        removed = {"id": message.id, "group_id": message.group_id}
        notify_after_commit(session, group_room(message.group_id), "message_deleted", removed)
    await session.delete(message)
    await session.flush()


def check_reader(actor: Principal, message: Message) -> None:
    """Its recipients mark a message read; its sender may not (403)."""
    if message.sender_id == actor.user_id:
        raise PermissionDenied()


async def do_read_message(session: AsyncSession, *, actor: Principal, message: Message) -> Message:
    """Mark a message read (after `check_reader`). Reading it again keeps the first `read_at`
    and records nothing."""
    receipt = select(
        Message.id, literal(actor.user_id, String()), literal(utcnow(), UTCDateTime())
    ).where(Message.id == message.id)
    if await _insert_receipts(session, receipt):
        _message_activity(session, actor, message, "message_read", f"Read message {message.id}.")
    return message


async def do_read_all(
    session: AsyncSession,
    *,
    actor: Principal,
    with_user: str | None = None,
    group_id: int | None = None,
) -> int:
    """Mark read every unread message I received, or those of one conversation.

    Returns how many were marked; one `message_read` activity covers them all.
    """
    me = actor.user_id
    receipts = scoped(
        select(Message.id, literal(me, String()), literal(utcnow(), UTCDateTime())), me
    ).where(
        visible(me),
        unread(me),
        *conversation_filter(me, with_user=with_user, group_id=group_id),
    )
    marked = await _insert_receipts(session, receipts)
    if marked:
        record_activity(
            session,
            user_id=me,
            activity_type="message_read",
            details=f"Marked {marked} message{'s' if marked != 1 else ''} read.",
            object_type="message",
        )
    return marked


async def _insert_receipts(session: AsyncSession, rows: Select[int, str, datetime]) -> int:
    """Insert (message_id, user_id, read_at) rows; a receipt already there is kept as is.

    A concurrent read of the same message cannot fail on the unique key: it inserts nothing.
    """
    dialect = dialect_of(session)
    insert = conflict_insert(dialect)
    stmt = (
        insert(ReadReceipt)
        .from_select(["message_id", "user_id", "read_at"], rows)
        .on_conflict_do_nothing(index_elements=["message_id", "user_id"])
    )
    result = cast(CursorResult[Any], await session.execute(stmt))
    return max(result.rowcount, 0)


def _notify_group(session: AsyncSession, message: Message, type_: str) -> None:
    """A group message goes to its group chat room once committed; direct ones have none."""
    if message.group_id is None:
        return
    body = dump(GroupMessageEvent, with_people(message))
    notify_after_commit(session, group_room(message.group_id), type_, body)


def _message_activity(
    session: AsyncSession, actor: Principal, message: Message, activity_type: str, details: str
) -> None:
    record_activity_on(session, actor, ("message", message.id), activity_type, details)
