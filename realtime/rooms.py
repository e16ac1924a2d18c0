"""The kinds of room and the domain rules they call: who may enter, what frames do.

Every rule is the domain's own (models/), the same one REST calls.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from models.ai_chat.operations import access_session
from models.courses.notifications import access_course_room, course_room_listeners
from models.errors import NotFound, PermissionDenied
from models.forums.operations import access_forum, forum_readers
from models.forums.posts import access_post_forum, check_new_post, do_create_post
from models.forums.schemas import PostCreate
from models.groups.operations import access_group
from models.identity import Principal
from models.messaging.operations import access_addressee, do_send_message
from models.messaging.schemas import MessageCreate
from models.notifications.rooms import user_room
from models.unit_of_work import UnitOpener
from models.validation import validate
from realtime import frames
from realtime.bus import RoomKey
from realtime.room import AccessCheck
from realtime.sockets import RoomKind


async def _check_course(session: AsyncSession, actor: Principal, course_id: int) -> None:
    await access_course_room(session, actor=actor, course_id=course_id)


async def _course_listeners(
    session: AsyncSession, actors: list[Principal], course_id: int
) -> set[str]:
    return await course_room_listeners(session, course_id=course_id, actors=actors)


COURSE = RoomKind("course", _check_course, readers=_course_listeners)


async def _check_forum(session: AsyncSession, actor: Principal, forum_id: int) -> None:
    await access_forum(session, actor=actor, forum_id=forum_id)


async def _post(
    session: AsyncSession, actor: Principal, forum_id: int, frame: frames.ClientFrame
) -> None:
    """A `post` frame: a forum post exactly as REST makes it (and so, the same event).

    The REST body model with the room's forum filled in: its rules and its messages."""
    fields = {name: frame.fields[name] for name in ("content", "parent") if name in frame.fields}
    data = validate(PostCreate, {**fields, "forum": forum_id})
    forum = await access_post_forum(session, actor=actor, forum_id=data.forum)
    await check_new_post(session, actor=actor, forum=forum, data=data)
    await do_create_post(session, actor=actor, forum=forum, data=data)


async def _forum_readers(session: AsyncSession, actors: list[Principal], forum_id: int) -> set[str]:
    return await forum_readers(session, forum_id=forum_id, actors=actors)


FORUM = RoomKind("forum", _check_forum, {"post": _post}, readers=_forum_readers)


async def _check_group(session: AsyncSession, actor: Principal, group_id: int) -> None:
    """A group's chat is its members' (an admin outside the group sees it, but may not enter)."""
    _, role = await access_group(session, actor=actor, group_id=group_id)
    if role is None:
        raise PermissionDenied()


async def _message(
    session: AsyncSession, actor: Principal, group_id: int, frame: frames.ClientFrame
) -> None:
    """A `message` frame: a group message exactly as REST sends it, to the room's group."""
    fields = {"content": frame.fields["content"]} if "content" in frame.fields else {}
    data = validate(MessageCreate, {**fields, "group_id": group_id, "message_type": "group"})
    group = await access_addressee(session, actor=actor, data=data)
    await do_send_message(session, actor=actor, data=data, group=group)


GROUP = RoomKind("group", _check_group, {"message": _message})


async def _check_ai_chat(session: AsyncSession, actor: Principal, session_id: int) -> None:
    """A tutor session's stream is its owner's alone (anyone else: no such room)."""
    await access_session(session, actor=actor, session_id=session_id)


AI_CHAT = RoomKind("ai_chat", _check_ai_chat)


async def _check_own(session: AsyncSession, actor: Principal, room_id: int) -> None:
    """One's own notifications: whoever holds a valid token enters their own room (the
    handshake asks nothing more of an `own_room` kind)."""


NOTIFICATIONS = RoomKind("user", _check_own, own_room=user_room)


OWN_PREFIX = user_room("")
KINDS = {kind.name: kind for kind in (COURSE, FORUM, GROUP, AI_CHAT)}


def access_check(unit_of_work: UnitOpener) -> AccessCheck:
    """Who of these users may still be in a room: each checked with the very rule of the
    handshake (the room kind's), in one read-only unit of the room's tenant, read afresh."""

    async def check(key: RoomKey, principals: list[Principal]) -> set[str]:
        tenant, room = key
        if room.startswith(OWN_PREFIX):  # a user's own room: theirs, and nobody else's
            return {p.user_id for p in principals if user_room(p.user_id) == room}
        name, _, raw_id = room.partition(":")
        kind = KINDS.get(name)
        if kind is None or not raw_id.isdigit():
            return set()
        allowed: set[str] = set()
        async with unit_of_work(tenant, read_only=True) as uow:
            if kind.readers is not None:
                return await kind.readers(uow.session, principals, int(raw_id))
            for principal in principals:
                try:
                    await kind.check(uow.session, principal, int(raw_id))
                except (NotFound, PermissionDenied):
                    continue
                allowed.add(principal.user_id)
        return allowed

    return check
