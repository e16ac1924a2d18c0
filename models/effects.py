"""Side effects a domain operation asks for, released by the unit of work after commit.

Operations take a session, not a unit of work, so they note their tasks and room events on
the session; `UnitOfWork.commit` hands them to the dispatcher and the room bus the entrance
wired in, and a rollback drops them. Nothing leaves before the data it speaks of is
committed.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

from sqlalchemy import Table, bindparam
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session

from models.dialects import conflict_insert, dialect_of
from models.driver import driver_rows

_TASKS = "lms_after_commit_tasks"
_RECORDS = "lms_with_commit_records"
_EVENTS = "lms_after_commit_events"
# The event that ends a room (its forum, group, course or AI session deleted): its sockets
# are closed (4404) and its seq and history are forgotten.
ROOM_CLOSED = "room_closed"
# Not for clients: the room re-checks, with a fresh read, whether the sockets of a user (or,
# with no `user_id`, everyone's) may still be there, and closes those that may not (4403).
# Never stamped, kept or sent: it travels the room's channel only to keep its order.
ACCESS_REVOKED = "access_revoked"
# A member removed from a group: its sockets in the group's room are closed (4403).
MEMBER_LEFT = "member_left"
# The task that publishes a room event from a worker (a fan-out that must not hold up the
# change that caused it); registered in workers/tasks.py.
PUBLISH_ROOM_EVENT = "realtime.publish"


class Effect(Enum):
    """What a room does with an event, besides handing its frame to the sockets."""

    SHOW = "show"  # shown, nothing else
    CLOSE = "close"  # shown, then every socket is closed and the room forgotten
    EXPEL = "expel"  # shown, and the sockets of `data["user_id"]` closed
    REVOKE = "revoke"  # never shown: the room re-checks access (of `data["user_id"]`)


_EFFECTS = {ROOM_CLOSED: Effect.CLOSE, MEMBER_LEFT: Effect.EXPEL, ACCESS_REVOKED: Effect.REVOKE}
# The events about one item of a room (a post, a message): each names its item, and an
# edit or a deletion supersedes the item's earlier frames, which the history then keeps as
# tombstones (the seq stays, the content goes).
_ITEM_EVENTS = {
    "post": ("post", False),
    "post_updated": ("post", True),
    "post_deleted": ("post", True),
    "message": ("message", False),
    "message_updated": ("message", True),
    "message_deleted": ("message", True),
}


@dataclass(frozen=True, slots=True)
class TaskCall:
    """A named task and its arguments (the tenant is added by the unit of work)."""

    name: str
    args: tuple[Any, ...]


class TaskSender(Protocol):
    """What the entrances provide: the workers' dispatcher, in-process or Celery."""

    async def send(self, name: str, tenant: str, *args: Any) -> None: ...


def enqueue_after_commit(session: AsyncSession, name: str, *args: Any) -> None:
    """Ask for a task to run once this session's transaction commits."""
    session.info.setdefault(_TASKS, []).append(TaskCall(name, args))


def take_tasks(session: AsyncSession) -> list[TaskCall]:
    """The tasks noted so far, removed from the session."""
    tasks: list[TaskCall] = session.info.pop(_TASKS, [])
    return tasks


def insert_with_commit(session: AsyncSession, table: Table, values: dict[str, Any]) -> None:
    """Ask for a record (an activity or audit row, keyed by its `event_id`) to be inserted
    in this session's transaction, just before it commits: it is stored with the change it
    records, or not at all, at no round trip of its own."""
    session.info.setdefault(_RECORDS, {}).setdefault(table, []).append(values)


def has_records(session: AsyncSession | Session) -> bool:
    return bool(session.info.get(_RECORDS))


def take_records(session: AsyncSession | Session) -> dict[Table, list[dict[str, Any]]]:
    """The records noted so far, by table, removed from the session."""
    records: dict[Table, list[dict[str, Any]]] = session.info.pop(_RECORDS, {})
    return records


@functools.lru_cache(maxsize=8)
def insert_once_statement(dialect: str, table: Table) -> Any:
    """Insert unless a row with this event_id exists: a redelivered record writes nothing.

    Built once per table: a statement made per record with `.values(...)` spent most of
    a log write's CPU coercing the literals (py-spy); this one takes them as parameters."""
    insert = conflict_insert(dialect)
    return _once(insert(table))


def _once(insert: Any) -> Any:
    """A record (keyed by its `event_id`) is written once, however often it is noted again;
    a row of another table (a new course, noted with its id) is simply inserted."""
    if "event_id" in insert.table.c:
        return insert.on_conflict_do_nothing(index_elements=["event_id"])
    return insert


# Each table with records, and how many.
RecordsShape = tuple[tuple[Table, int], ...]


@functools.lru_cache(maxsize=64)
def _records_statement(shape: RecordsShape) -> Any:
    """PostgreSQL: every record in one statement, one round trip: one single-row insert per
    record, each a data-modifying CTE of the last (a multi-row VALUES has no cache key, so
    SQLAlchemy would compile it on every call). Built once per shape, its values bound as
    `t<table>_<row>_<column>`: the compiled cache and the prepared statement hit."""
    inserts = []
    for t, (table, count) in enumerate(shape):
        for r in range(count):
            values: dict[str, Any] = {c: bindparam(f"t{t}_{r}_{c}") for c in _columns(table)}
            inserts.append(_once(conflict_insert("postgresql")(table).values(values)))
    statement = inserts[-1]
    for n, insert in enumerate(inserts[:-1]):
        statement = statement.add_cte(insert.cte(f"record_{n}"))
    return statement


@functools.lru_cache(maxsize=16)
def _columns(table: Table) -> dict[str, Any]:
    """A table's columns (a records table's but its key), each with the value a row that
    does not set it gets (the column's scalar default, else null): every column is bound, so
    one shape is one statement."""
    defaults: dict[str, Any] = {}
    for column in table.columns:
        if not (column.primary_key and "event_id" in table.c):
            default = column.default
            scalar = default is not None and getattr(default, "is_scalar", False)
            defaults[column.name] = getattr(default, "arg", None) if scalar else None
    return defaults


def _records_shape(records: dict[Table, list[dict[str, Any]]]) -> RecordsShape:
    return tuple((table, len(rows)) for table, rows in records.items())


def _records_parameters(
    shape: RecordsShape, records: dict[Table, list[dict[str, Any]]]
) -> dict[str, Any]:
    parameters: dict[str, Any] = {}
    for t, (table, _count) in enumerate(shape):
        columns = _columns(table)
        for r, row in enumerate(records[table]):
            for c, default in columns.items():
                parameters[f"t{t}_{r}_{c}"] = row.get(c, default)
    return parameters


# A table with more records than this in one unit gets a statement of its own, run once
# with a parameter set per record (executemany). One single-row insert per record chained
# as CTEs made a bulk enrollment's batch of 500 activity records one statement of 500 CTEs:
# compiled again for each new count, and its thousands of parameter objects were most of
# what the garbage collector's full walks met (`python -m bench.bulk_enroll`).
CTE_ROWS = 8


def records_fit_one_statement(session: AsyncSession | Session) -> bool:
    """Whether the records noted so far go in one statement (`write_records_alone`)."""
    records: dict[Table, list[dict[str, Any]]] = session.info.get(_RECORDS, {})
    return all(len(rows) <= CTE_ROWS for rows in records.values())


def _full_rows(table: Table, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every row with every column: the parameter sets of one executemany share keys."""
    columns = _columns(table)
    return [{c: row.get(c, default) for c, default in columns.items()} for row in rows]


def write_records(session: Session) -> None:
    """Insert the records noted on the session (before commit): on PostgreSQL in one
    statement, on SQLite (no data-modifying CTE) one statement per table; a table with more
    than `CTE_ROWS` records, in a statement of its own run for all of them."""
    records = take_records(session)
    if not records:
        return
    dialect = dialect_of(session)
    few = {table: rows for table, rows in records.items() if len(rows) <= CTE_ROWS}
    if dialect == "postgresql" and few:
        shape = _records_shape(few)
        session.execute(_records_statement(shape), _records_parameters(shape, few))
    elif few:
        for table, rows in few.items():
            statement = insert_once_statement(dialect, table)
            if len(rows) == 1:
                session.execute(statement, rows[0])
            else:  # one multi-row INSERT: one round trip, however many records
                session.execute(statement.values(rows))
    for table, rows in records.items():
        if len(rows) > CTE_ROWS:
            session.execute(insert_once_statement(dialect, table), _full_rows(table, rows))


async def write_records_alone(
    engine: AsyncEngine, records: dict[Table, list[dict[str, Any]]]
) -> None:
    """PostgreSQL: a unit whose only writes are the rows noted for its commit sends them as
    its one statement on an autocommit connection: a statement is atomic by itself, so the
    transaction needs no BEGIN and no COMMIT (two round trips fewer). Straight to the
    driver (models/driver.py): the statement returns nothing to process."""
    shape = _records_shape(records)
    await driver_rows(engine, _records_statement(shape), _records_parameters(shape, records))


def write_records_and_commit(session: Session) -> None:
    """The end of a unit of work's transaction, run in one hop into SQLAlchemy's greenlet:
    each hop copies the request's deep stack, so the records and the commit go together."""
    write_records(session)
    session.commit()


@dataclass(frozen=True, slots=True)
class RoomEvent:
    """An event for a live room (`forum:1`, `group:2`, `course:3`); the bus stamps its seq.

    `item` names what the event shows (`post:5`), so a later edit can supersede it;
    `supersedes` names the items whose earlier frames the history must no longer show.
    """

    room: str
    type: str
    data: dict[str, Any]
    item: str | None = None
    supersedes: tuple[str, ...] = ()

    @property
    def effect(self) -> Effect:
        return _EFFECTS.get(self.type, Effect.SHOW)

    @property
    def internal(self) -> bool:
        """Not stamped, not kept, never sent to a client (the room acts on it)."""
        return self.effect is Effect.REVOKE

    @property
    def user_id(self) -> str | None:
        """Whose sockets an expulsion or a revocation is about (None: anyone's)."""
        if self.effect in (Effect.EXPEL, Effect.REVOKE):
            user_id = self.data.get("user_id")
            return None if user_id is None else str(user_id)
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "room": self.room,
            "type": self.type,
            "data": self.data,
            "item": self.item,
            "supersedes": list(self.supersedes),
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> RoomEvent:
        return cls(
            value["room"],
            value["type"],
            value["data"],
            value.get("item"),
            tuple(value.get("supersedes") or ()),
        )


def item_of(type_: str, data: dict[str, Any]) -> tuple[str | None, tuple[str, ...]]:
    """The item an event shows and the items it supersedes, known from its type."""
    kind = _ITEM_EVENTS.get(type_)
    if kind is None or "id" not in data:
        return None, ()
    item = f"{kind[0]}:{data['id']}"
    deleted = type_.endswith("_deleted")
    return (None if deleted else item), ((item,) if kind[1] else ())


class EventPublisher(Protocol):
    """What the entrances provide: the realtime bus (in-process, or Redis across instances)."""

    async def publish(self, tenant: str, event: RoomEvent) -> None: ...


def notify_after_commit(
    session: AsyncSession,
    room: str,
    type_: str,
    data: dict[str, Any],
    *,
    also_supersedes: tuple[str, ...] = (),
    on_worker: bool = False,
) -> None:
    """Ask for a room event to be published once this session's transaction commits.

    An edit or deletion of a post or message supersedes that item's earlier frames; a
    deletion that takes other items with it (a post's replies) names them too. `on_worker`:
    a worker publishes it (the `realtime.publish` task carries the event as `to_json`
    writes it), so a notification's fan-out is not the committing process's work.
    """
    item, supersedes = item_of(type_, data)
    event = RoomEvent(room, type_, data, item, supersedes + also_supersedes)
    if on_worker:
        enqueue_after_commit(session, PUBLISH_ROOM_EVENT, event.to_json())
    else:
        session.info.setdefault(_EVENTS, []).append(event)


def revoke_after_commit(session: AsyncSession, room: str, user_id: str | None = None) -> None:
    """Once committed, the room closes the sockets (of `user_id`, or anyone's) that may no
    longer be in it, re-checked with the rule the handshake used: access taken away ends
    at once, not at the next reconnect."""
    data = {"user_id": user_id} if user_id is not None else {}
    session.info.setdefault(_EVENTS, []).append(RoomEvent(room, ACCESS_REVOKED, data))


def take_events(session: AsyncSession) -> list[RoomEvent]:
    """The room events noted so far, removed from the session."""
    events: list[RoomEvent] = session.info.pop(_EVENTS, [])
    return events
