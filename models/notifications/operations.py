"""Notifications: every source tells its users through `notify_users`; a worker stores them.

`notify_users` notes one task after commit (`notifications.deliver`), whatever the number
of recipients: the change that caused it never waits for the fan-out. The task resolves
the recipients (a course's enrollees are read there, not in the request), stores their rows
`BATCH` per INSERT (`ON CONFLICT (user_id, event_key) DO NOTHING`: a redelivered task creates
nothing twice), honouring each user's channel for the type, and sends each row it created
for `in_app` to its user's room. The actor is never among the recipients.
"""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    CursorResult,
    Select,
    String,
    Text,
    and_,
    bindparam,
    delete,
    func,
    literal,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import UTCDateTime, utcnow
from models.courses.tables import Course, Enrollment
from models.dialects import conflict_insert, dialect_of
from models.effects import EventPublisher, RoomEvent, enqueue_after_commit
from models.errors import NotFound, ValidationFailed
from models.groups.tables import GroupMember
from models.identity import Principal
from models.listing import Listing
from models.notifications.rooms import user_room
from models.notifications.tables import (
    CHANNELS,
    IN_APP,
    OFF,
    TYPES,
    Notification,
    NotificationPreference,
)

DELIVER_TASK = "notifications.deliver"
# The frame a created notification arrives as on its user's socket.
NOTIFICATION_EVENT = "notification"
# Rows per INSERT (one transaction each). Small, because the embedded worker lets the web
# loop catch up between units: with 1,000 the loop lag p99 of `bench.loop_lag` was
# 9.5-10.6 ms, with 200 5.7-6.1, with 100 3.8-3.9 (5,000 rows stored in 2.2 s).
BATCH = 100
_IN_BATCH = 500  # ids per IN (...)
PUBLISH_AT_ONCE = 50  # room events in flight at once (each its own room)


@dataclass(frozen=True, slots=True)
class Enrollees:
    """The active enrollees of a course, read by the task when it runs."""

    course_id: int


Recipients = Iterable[str] | Enrollees


@dataclass(frozen=True, slots=True)
class Note:
    """What a notification says, the same for each of its recipients."""

    type: str
    event_key: str
    title: str
    body: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    actor_id: str | None = None
    # When it happened: the inbox's order is the events' order, whichever of their
    # delivery tasks runs first.
    at: datetime = field(default_factory=utcnow)

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "event_key": self.event_key,
            "title": self.title,
            "body": self.body,
            "data": self.data,
            "actor_id": self.actor_id,
            "at": self.at.isoformat(),
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Note:
        return cls(
            value["type"],
            value["event_key"],
            value["title"],
            value.get("body") or "",
            dict(value.get("data") or {}),
            value.get("actor_id"),
            datetime.fromisoformat(value["at"]) if value.get("at") else utcnow(),
        )


def notify_users(
    session: AsyncSession,
    *,
    actor_id: str | None,
    event_key: str,
    type_: str,
    recipients: Recipients,
    title: str,
    body: str = "",
    data: dict[str, Any] | None = None,
) -> None:
    """Once this session commits, a worker notifies `recipients` (never `actor_id`).

    `event_key` names the event (`announcement:7`): one notification per user per key."""
    assert type_ in TYPES, type_
    note = Note(type_, event_key, title[:255], body, data or {}, actor_id)
    if isinstance(recipients, Enrollees):
        audience: dict[str, Any] = {"course": recipients.course_id}
    else:
        users = [u for u in dict.fromkeys(recipients) if u != actor_id]
        if not users:
            return
        audience = {"users": users}
    enqueue_after_commit(session, DELIVER_TASK, note.to_json(), audience)


# `@` then what may name someone: a mention starts where no word or `@` goes before it.
_MENTION = re.compile(r"(?<![\w@])@(\S+)")
_LONGEST_ID = 128


def _continues_a_name(char: str) -> bool:
    return char.isalnum() or char in "_-"


def mentioned_user_ids(text: str, candidates: Iterable[str]) -> list[str]:
    """The candidates `text` mentions as `@<user_id>`, in the candidates' order.

    After the `@`, the longest candidate that ends where a name cannot go on (`@ada.` names
    `ada`; `@ada10` does not; `@ada.lovelace` names `ada.lovelace` if that is a candidate,
    else `ada`). The one place mentions are read: names (`@Ada Lovelace`) can be added here,
    the candidates then carrying theirs."""
    if "@" not in text:
        return []
    known = set(candidates)
    found: set[str] = set()
    for match in _MENTION.finditer(text):
        word = match.group(1)
        for end in range(min(len(word), _LONGEST_ID), 0, -1):
            if word[:end] in known and (end == len(word) or not _continues_a_name(word[end])):
                found.add(word[:end])
                break
    return [c for c in dict.fromkeys(candidates) if c in found]


async def group_member_ids(session: AsyncSession, *, group_id: int) -> list[str]:
    stmt = select(GroupMember.user_id).where(GroupMember.group_id == group_id)
    return list((await session.scalars(stmt)).all())


# The worker's side


async def recipients_of(
    session: AsyncSession, *, note: Note, audience: dict[str, Any]
) -> list[str]:
    """Who a task notifies, in a stable order, the actor left out."""
    if "course" in audience:
        # Enrollees hear only a published course (`access_course_room`'s rule).
        stmt = (
            select(Enrollment.user_id)
            .join(Course, Course.id == Enrollment.course_id)
            .where(
                Enrollment.course_id == int(audience["course"]),
                Enrollment.is_active.is_(True),
                Course.status == "Published",
            )
            .order_by(Enrollment.id)
        )
        users: Iterable[str] = (await session.scalars(stmt)).all()
    else:
        users = [str(u) for u in audience.get("users") or ()]
    return [u for u in dict.fromkeys(users) if u != note.actor_id]


async def channels_of(
    session: AsyncSession, *, type_: str, user_ids: Sequence[str]
) -> dict[str, str]:
    """The channel each of these users chose for the type (absent: `in_app`)."""
    chosen: dict[str, str] = {}
    for start in range(0, len(user_ids), _IN_BATCH):
        stmt = select(NotificationPreference.user_id, NotificationPreference.channel).where(
            NotificationPreference.type == type_,
            NotificationPreference.user_id.in_(user_ids[start : start + _IN_BATCH]),
        )
        chosen.update({row.user_id: row.channel for row in await session.execute(stmt)})
    return chosen


@functools.lru_cache(maxsize=2)
def _store_statement(dialect: str) -> Any:
    """Insert unless the user has this event's notification already, returning what was
    created; built once, and run with one parameter set per row, which SQLAlchemy sends as
    multi-row VALUES from a compiled template ("insertmanyvalues"): a `.values(rows)`
    statement was compiled anew for each batch, most of a fan-out's CPU, on the thread the
    embedded worker shares with the web loop."""
    insert = conflict_insert(dialect)
    table: Any = Notification.__table__
    return (
        insert(table)
        .on_conflict_do_nothing(index_elements=["user_id", "event_key"])
        .returning(table.c.id, table.c.user_id, table.c.channel)
    )


@functools.lru_cache(maxsize=1)
def _store_for_ids_statement() -> Any:
    """PostgreSQL: `do_store_notifications` in one statement whatever the number of users.
    The ids go as one array and the note's fields once each, and each user's channel is
    joined in from their preferences (absent: `in_app`; `off`: no row). Per-row parameters
    (the other dialects' path) cost the worker's thread a compiled batch and a JSON
    encoding of the same data per row, and the preference read a new IN (...) statement
    per batch size."""
    table: Any = Notification.__table__
    preferences: Any = NotificationPreference.__table__
    ids = func.unnest(bindparam("user_ids", type_=ARRAY(String)))
    users = ids.table_valued("user_id").render_derived(name="recipients")
    channel = func.coalesce(preferences.c.channel, literal(IN_APP, String))
    chosen = (
        select(
            users.c.user_id,
            bindparam("type", type_=String),
            bindparam("event_key", type_=String),
            bindparam("title", type_=String),
            bindparam("body", type_=Text),
            bindparam("data", type_=JSON),
            channel,
            bindparam("created_at", type_=UTCDateTime()),
        )
        .select_from(
            users.outerjoin(
                preferences,
                and_(
                    preferences.c.user_id == users.c.user_id,
                    preferences.c.type == bindparam("type", type_=String),
                ),
            )
        )
        .where(channel != OFF)
    )
    columns = ["user_id", "type", "event_key", "title", "body", "data", "channel", "created_at"]
    return (
        conflict_insert("postgresql")(table)
        .from_select(columns, chosen)
        .on_conflict_do_nothing(index_elements=["user_id", "event_key"])
        .returning(table.c.id, table.c.user_id, table.c.channel)
    )


async def do_store_notifications(
    session: AsyncSession, *, note: Note, user_ids: Sequence[str]
) -> list[tuple[str, dict[str, Any]]]:
    """Store the note for these users (at most `BATCH`), in one INSERT; those who turned
    the type `off` get nothing, a user who has it already gets nothing again.

    Returns what to send live: (user, the notification as REST renders it) for each row
    created now for `in_app`."""
    now = note.at
    if dialect_of(session) == "postgresql":
        params = {
            "user_ids": list(user_ids),
            "type": note.type,
            "event_key": note.event_key,
            "title": note.title,
            "body": note.body,
            "data": note.data,
            "created_at": now,
        }
        created = (await session.execute(_store_for_ids_statement(), params)).all()
    else:
        created = await _store_rows(session, note=note, user_ids=user_ids)
    return [
        (row.user_id, _live_body(row.id, note, now)) for row in created if row.channel == IN_APP
    ]


async def _store_rows(session: AsyncSession, *, note: Note, user_ids: Sequence[str]) -> Any:
    """The other dialects: one parameter set per row, each with the user's channel."""
    chosen = await channels_of(session, type_=note.type, user_ids=user_ids)
    now = note.at
    rows = [
        {
            "user_id": user_id,
            "type": note.type,
            "event_key": note.event_key,
            "title": note.title,
            "body": note.body,
            "data": note.data,
            "channel": chosen.get(user_id, IN_APP),
            "created_at": now,
        }
        for user_id in user_ids
        if chosen.get(user_id, IN_APP) != OFF
    ]
    if not rows:
        return []
    return (await session.execute(_store_statement(dialect_of(session)), rows)).all()


def _live_body(notification_id: int, note: Note, created_at: datetime) -> dict[str, Any]:
    return {
        "id": notification_id,
        "type": note.type,
        "title": note.title,
        "body": note.body,
        "data": note.data,
        "created_at": created_at.isoformat().replace("+00:00", "Z"),
        "read_at": None,
        "is_read": False,
    }


async def publish_notifications(
    events: EventPublisher, tenant: str, created: Sequence[tuple[str, dict[str, Any]]]
) -> None:
    """Each created notification to its user's room, `PUBLISH_AT_ONCE` at a time (each a
    room of its own: their order does not matter, only each room's); a publisher that can
    take several events in one hand-over (the embedded worker's) gets them so."""
    batch = [RoomEvent(user_room(user_id), NOTIFICATION_EVENT, body) for user_id, body in created]
    many = getattr(events, "publish_many", None)
    for start in range(0, len(batch), PUBLISH_AT_ONCE):
        slice_ = batch[start : start + PUBLISH_AT_ONCE]
        if many is not None:
            await many(tenant, slice_)
        else:
            await asyncio.gather(*(events.publish(tenant, event) for event in slice_))


# The inbox


NOTIFICATIONS = Listing(
    default=(Notification.created_at.desc(),),
    tiebreak=Notification.id.desc(),
)


def notifications_query(actor: Principal, *, unread: bool | None, type_: str | None) -> Select[Any]:
    stmt = select(Notification).where(Notification.user_id == actor.user_id)
    if unread is True:
        stmt = stmt.where(Notification.read_at.is_(None))
    elif unread is False:
        stmt = stmt.where(Notification.read_at.is_not(None))
    if type_ is not None:
        stmt = stmt.where(Notification.type == type_)
    return NOTIFICATIONS.apply(stmt)


def notification_fields(notification: Notification) -> dict[str, Any]:
    return {
        "id": notification.id,
        "type": notification.type,
        "title": notification.title,
        "body": notification.body,
        "data": notification.data,
        "created_at": notification.created_at,
        "read_at": notification.read_at,
        "is_read": notification.read_at is not None,
    }


async def access_notification(
    session: AsyncSession, *, actor: Principal, notification_id: int
) -> Notification:
    """One of my notifications (anyone else's: 404)."""
    notification = await session.get(Notification, notification_id)
    if notification is None or notification.user_id != actor.user_id:
        raise NotFound()
    return notification


async def do_read_notification(
    session: AsyncSession, *, notification: Notification
) -> Notification:
    """Mark it read (again: no change)."""
    if notification.read_at is None:
        notification.read_at = utcnow()
        await session.flush()
    return notification


async def do_read_all(session: AsyncSession, *, actor: Principal) -> int:
    """Mark every one of my unread notifications read; how many were."""
    stmt = (
        update(Notification)
        .where(Notification.user_id == actor.user_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    result = cast(CursorResult[Any], await session.execute(stmt))
    return int(result.rowcount or 0)


async def unread_count(session: AsyncSession, *, actor: Principal) -> int:
    stmt = select(func.count()).where(
        Notification.user_id == actor.user_id, Notification.read_at.is_(None)
    )
    return int(await session.scalar(stmt) or 0)


# Preferences


async def preferences_of(session: AsyncSession, *, actor: Principal) -> dict[str, str]:
    """My channel for every type (`in_app` where I chose none)."""
    stmt = select(NotificationPreference.type, NotificationPreference.channel).where(
        NotificationPreference.user_id == actor.user_id
    )
    chosen = {row.type: row.channel for row in await session.execute(stmt)}
    return {type_: chosen.get(type_, IN_APP) for type_ in TYPES}


def check_preferences(body: Any) -> dict[str, str]:
    """A map of type -> channel: an unknown type or channel is a 400 on that key; a type
    given as null counts as not given."""
    if not isinstance(body, dict):
        kind = "list" if isinstance(body, list) else type(body).__name__
        raise ValidationFailed(
            {"non_field_errors": [f"Invalid data. Expected a dictionary, but got {kind}."]}
        )
    errors: dict[str, list[str]] = {}
    for key, value in body.items():
        if value is None and key in TYPES:
            continue  # as if absent
        if key not in TYPES:
            errors[str(key)[:100]] = [f'"{str(key)[:100]}" is not a notification type.']
        elif not isinstance(value, str) or value not in CHANNELS:
            errors[key] = [f'"{value}" is not a valid choice.']
    if errors:
        raise ValidationFailed(errors)
    return {str(k): str(v) for k, v in body.items() if v is not None}


async def do_set_preferences(
    session: AsyncSession, *, actor: Principal, changes: dict[str, str], replace: bool
) -> dict[str, str]:
    """Set my channel for the types named (`replace`: every other type back to `in_app`).

    `in_app` is kept as no row; the others are upserted, so two calls at once cannot
    collide on the key."""
    wanted = {t: IN_APP for t in TYPES} if replace else {}
    wanted.update(changes)
    defaults = [t for t, channel in wanted.items() if channel == IN_APP]
    if defaults:
        await session.execute(
            delete(NotificationPreference).where(
                NotificationPreference.user_id == actor.user_id,
                NotificationPreference.type.in_(defaults),
            )
        )
    rows = [
        {"user_id": actor.user_id, "type": t, "channel": channel}
        for t, channel in wanted.items()
        if channel != IN_APP
    ]
    if rows:
        insert = conflict_insert(dialect_of(session))(NotificationPreference.__table__).values(rows)
        await session.execute(
            insert.on_conflict_do_update(
                index_elements=["user_id", "type"], set_={"channel": insert.excluded.channel}
            )
        )
    return await preferences_of(session, actor=actor)
