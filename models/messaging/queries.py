"""Which messages a user sees, received and has not read yet, in SQL; and how they render.

Every query joins two rows to each message, at most one each: the user's read receipt and
the user's membership of the message's group. From them:

- visible: a direct message I sent or received, or a message of a group I belong to now
  (a removed member loses a group's messages at once, their own included);
- received: visible and not sent by me;
- unread: received, no receipt of mine, and, for a group message, sent after I joined
  (a group's history does not land in a newcomer's unread count).

Lists, counts and conversations are therefore each a bounded number of queries.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVarTuple

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    Subquery,
    and_,
    bindparam,
    case,
    column,
    func,
    null,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from models.groups.tables import GroupMember
from models.identity import Principal
from models.listing import (
    ACTOR_PARAM,
    Listing,
    ListShape,
    PageRequest,
    PageResult,
    UserRef,
    counted,
    paginate_built,
)
from models.messaging.schemas import MessageFilters
from models.messaging.tables import DIRECT, GROUP, Message, ReadReceipt
from models.one_of import one_of
from models.people.names import PersonFields, named, person_at

Columns = TypeVarTuple("Columns")
MESSAGES = Listing(
    ordering={"created_at": Message.created_at, "id": Message.id},
    default=(Message.created_at.desc(),),
    tiebreak=Message.id.desc(),
)
# Conversations are listed by their latest message, the most recent first.
LAST_ID = "last_id"
CONVERSATIONS = Listing(default=(column(LAST_ID).desc(),))


def scoped(stmt: Select[*Columns], me: UserRef) -> Select[*Columns]:
    """Join my receipt and my membership of the message's group to each message."""
    return stmt.outerjoin(
        ReadReceipt, and_(ReadReceipt.message_id == Message.id, ReadReceipt.user_id == me)
    ).outerjoin(
        GroupMember, and_(GroupMember.group_id == Message.group_id, GroupMember.user_id == me)
    )


def visible(me: UserRef) -> ColumnElement[bool]:
    return or_(
        Message.recipient_id == me,
        and_(Message.message_type == DIRECT, Message.sender_id == me),
        GroupMember.id.is_not(None),
    )


def received(me: UserRef) -> ColumnElement[bool]:
    return and_(
        Message.sender_id != me, or_(Message.recipient_id == me, GroupMember.id.is_not(None))
    )


def unread(me: UserRef) -> ColumnElement[bool]:
    # Comparisons with NULL are NULL, not false: callers needing a negation use unread_flag.
    return and_(
        received(me),
        ReadReceipt.id.is_(None),
        or_(Message.recipient_id == me, Message.created_at >= GroupMember.joined_at),
    )


def unread_flag(me: UserRef) -> ColumnElement[int]:
    """1 for a message unread by me, else 0 (never NULL)."""
    return case((unread(me), 1), else_=0)


def conversation_filter(
    me: UserRef, *, with_user: UserRef | None, group_id: int | BindParameter[int] | None
) -> list[ColumnElement[bool]]:
    """`with`: my direct messages with that user; `group_id`: that group's messages."""
    clauses: list[ColumnElement[bool]] = []
    if with_user is not None:
        clauses.append(
            or_(
                and_(Message.sender_id == me, Message.recipient_id == with_user),
                and_(Message.sender_id == with_user, Message.recipient_id == me),
            )
        )
    if group_id is not None:
        clauses.append(Message.group_id == group_id)
    return clauses


_WITH, _GROUP = "lms_with", "lms_group"


async def message_page(
    session: AsyncSession, *, actor: Principal, query: MessageFilters, page: PageRequest
) -> PageResult:
    """What I sent or received, newest first; `box`, `unread`, `with`, `group_id` narrow it."""
    statement = functools.partial(
        _messages_statement,
        query.box,
        query.unread,
        query.with_user is not None,
        query.group_id is not None,
    )
    params = {ACTOR_PARAM: actor.user_id, _WITH: query.with_user, _GROUP: query.group_id}
    return await MESSAGES.page_of(session, statement, query, page, params)


@functools.lru_cache(maxsize=256)
def _messages_statement(
    box: str | None, unread_only: bool | None, with_user: bool, in_group: bool, shape: ListShape
) -> Select[Any]:
    me: BindParameter[str] = bindparam(ACTOR_PARAM)
    narrowed = conversation_filter(
        me,
        with_user=bindparam(_WITH) if with_user else None,
        group_id=bindparam(_GROUP) if in_group else None,
    )
    stmt = scoped(select(Message), me).where(visible(me), *narrowed)
    if box == "inbox":
        stmt = stmt.where(received(me))
    elif box == "sent":
        stmt = stmt.where(Message.sender_id == me)
    if unread_only is not None:
        stmt = stmt.where(unread_flag(me) == (1 if unread_only else 0))
    return MESSAGES.apply_shape(counted(stmt), shape)


async def unread_counts(
    session: AsyncSession, *, actor: Principal, with_user: str | None, group_id: int | None
) -> dict[str, int]:
    """My unread messages by type, `direct` and `group` (one query)."""
    me = actor.user_id
    stmt = (
        scoped(select(Message.message_type, func.count()), me)
        .where(
            visible(me),
            unread(me),
            *conversation_filter(me, with_user=with_user, group_id=group_id),
        )
        .group_by(Message.message_type)
    )
    counts = {DIRECT: 0, GROUP: 0}
    for message_type, n in (await session.execute(stmt)).all():
        counts[message_type] = int(n)
    return counts


# Rendering


@dataclass(frozen=True, slots=True)
class MessageView:
    """A message as one reader sees it: with their read state and the sender's receipt."""

    message: Message
    is_read: bool
    read_at: datetime | None
    recipient_read_at: datetime | None

    def fields(self) -> dict[str, Any]:
        m = self.message
        return {
            "id": m.id,
            "sender_id": m.sender_id,
            "sender": person_at(m, "sender_id"),
            "recipient_id": m.recipient_id,
            "recipient": person_at(m, "recipient_id"),
            "group_id": m.group_id,
            "message_type": m.message_type,
            "content": m.content,
            "created_at": m.created_at,
            "updated_at": m.updated_at,
            "edited_at": m.edited_at,
            "is_read": self.is_read,
            "read_at": self.read_at,
            "recipient_read_at": self.recipient_read_at,
        }


# Mine and the recipient's receipts of the messages `ids`.
_RECEIPTS = (
    select(ReadReceipt.message_id, ReadReceipt.user_id, ReadReceipt.read_at)
    .join(Message, Message.id == ReadReceipt.message_id)
    .where(
        one_of(ReadReceipt.message_id, "ids"),
        or_(
            ReadReceipt.user_id == bindparam(ACTOR_PARAM),
            ReadReceipt.user_id == Message.recipient_id,
        ),
    )
)
# When I joined each of the groups `ids`.
_JOINED = select(GroupMember.group_id, GroupMember.joined_at).where(
    one_of(GroupMember.group_id, "ids"), GroupMember.user_id == bindparam(ACTOR_PARAM)
)
_MESSAGES = select(Message).where(one_of(Message.id, "ids"))


async def message_views(
    session: AsyncSession, *, actor: Principal, messages: Sequence[Message]
) -> list[MessageView]:
    """The messages with my read state and their recipients' receipts (two queries a page)."""
    me = actor.user_id
    ids = [m.id for m in messages]
    await named(session, messages)
    group_ids = {m.group_id for m in messages if m.group_id is not None}
    receipts: dict[tuple[int, str], datetime] = {}
    joined: dict[int, datetime] = {}
    if ids:
        receipt_rows = await session.execute(_RECEIPTS, {"ids": ids, ACTOR_PARAM: me})
        receipts = {(mid, user): at for mid, user, at in receipt_rows.all()}
    if group_ids:
        member_rows = await session.execute(_JOINED, {"ids": list(group_ids), ACTOR_PARAM: me})
        joined = {group_id: at for group_id, at in member_rows.all()}
    return [_view(m, me, receipts, joined) for m in messages]


def _view(
    m: Message,
    me: str,
    receipts: dict[tuple[int, str], datetime],
    joined: dict[int, datetime],
) -> MessageView:
    read_at = receipts.get((m.id, me))
    recipient_read_at = receipts.get((m.id, m.recipient_id)) if m.recipient_id else None
    if m.sender_id == me:
        return MessageView(m, True, None, recipient_read_at)
    joined_at = joined.get(m.group_id) if m.group_id is not None else None
    # The same rule as `unread`, so a list and the counts never disagree.
    before_joining = joined_at is not None and m.created_at < joined_at
    return MessageView(m, read_at is not None or before_joining, read_at, recipient_read_at)


def sent_view(message: Message) -> MessageView:
    """A message its sender just sent, as they see it: read (it is theirs), no receipt yet;
    nothing to ask the database."""
    return MessageView(message, True, None, None)


async def message_view(session: AsyncSession, *, actor: Principal, message: Message) -> MessageView:
    return (await message_views(session, actor=actor, messages=[message]))[0]


# Conversations


@dataclass(frozen=True, slots=True)
class ConversationView:
    """One counterpart user or group: its latest message and my unread count there."""

    last: MessageView
    with_user: str | None
    unread_count: int

    def with_person(self) -> PersonFields | None:
        m = self.last.message
        if self.with_user is None:
            return None
        return person_at(m, "sender_id" if m.sender_id == self.with_user else "recipient_id")

    def fields(self) -> dict[str, Any]:
        m = self.last.message
        return {
            "kind": m.message_type,
            "with": self.with_user,
            "with_person": self.with_person(),
            "group_id": m.group_id,
            "last_message": self.last.fields(),
            "unread_count": self.unread_count,
        }


def _conversation_rows(me: UserRef) -> Subquery:
    """Each visible message with its conversation key (group, or other user) and unread flag.

    A subquery, so that the grouping names plain columns: PostgreSQL would not see two
    renderings of the same CASE (with their own parameters) as one expression.
    """
    counterpart = case(
        (Message.message_type == GROUP, null()),
        (Message.sender_id == me, Message.recipient_id),
        else_=Message.sender_id,
    )
    stmt = scoped(
        select(
            Message.id.label("id"),
            Message.group_id.label("group_id"),
            counterpart.label("with_user"),
            unread_flag(me).label("unread"),
        ),
        me,
    ).where(visible(me))
    return stmt.subquery("conversation_messages")


@functools.lru_cache(maxsize=1)
def _conversations_statement() -> Select[Any]:
    """The id of each conversation's latest message, the most recent conversation first,
    the total riding on each row: built once, the reader bound (`ACTOR_PARAM`)."""
    rows = _conversation_rows(bindparam(ACTOR_PARAM))
    last = func.max(rows.c.id).label(LAST_ID)
    stmt = counted(select(last).group_by(rows.c.group_id, rows.c.with_user))
    shape = ListShape((), False, CONVERSATIONS.order_keys(None))
    return CONVERSATIONS.apply_shape(stmt, shape)


async def conversations_page(
    session: AsyncSession, *, actor: Principal, page: PageRequest
) -> PageResult:
    """A page of my conversations: the ids of their latest messages."""
    return await paginate_built(
        session, _conversations_statement(), {ACTOR_PARAM: actor.user_id}, page
    )


def _unread_by_conversation() -> Select[Any]:
    """My unread count in each conversation of a page, the page's groups and users bound
    as `groups` and `users`."""
    rows = _conversation_rows(bindparam(ACTOR_PARAM))
    in_page = or_(one_of(rows.c.group_id, "groups"), one_of(rows.c.with_user, "users"))
    return (
        select(rows.c.group_id, rows.c.with_user, func.sum(rows.c.unread))
        .where(in_page)
        .group_by(rows.c.group_id, rows.c.with_user)
    )


_UNREAD_BY_CONVERSATION = _unread_by_conversation()


async def conversation_views(
    session: AsyncSession, *, actor: Principal, last_ids: Sequence[int]
) -> list[ConversationView]:
    """A page of conversations from their latest messages' ids (four queries)."""
    me = actor.user_id
    messages = {m.id: m for m in await session.scalars(_MESSAGES, {"ids": list(last_ids)})}
    ordered = [messages[i] for i in last_ids if i in messages]
    groups = sorted({m.group_id for m in ordered if m.group_id is not None})
    users = sorted({u for m in ordered if m.message_type == DIRECT and (u := _counterpart(m, me))})
    count_rows = await session.execute(
        _UNREAD_BY_CONVERSATION, {ACTOR_PARAM: me, "groups": groups, "users": users}
    )
    unread_by_key = {(g, u): int(n or 0) for g, u, n in count_rows.all()}
    views = await message_views(session, actor=actor, messages=ordered)
    out = []
    for view in views:
        m = view.message
        with_user = _counterpart(m, me) if m.message_type == DIRECT else None
        key = (m.group_id, with_user)
        out.append(ConversationView(view, with_user, unread_by_key.get(key, 0)))
    return out


def _counterpart(m: Message, me: str) -> str | None:
    return m.recipient_id if m.sender_id == me else m.sender_id
