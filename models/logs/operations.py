"""Recording activity (from domain operations) and writing log records (in workers)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, Table, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import utcnow
from models.dialects import conflict_insert, dialect_of
from models.effects import insert_once_statement, insert_with_commit
from models.errors import NotFound, PermissionDenied
from models.identity import Principal
from models.ids import unique_hex
from models.listing import ACTOR_PARAM, Listing, ListShape, PageRequest, PageResult, counted
from models.logs.schemas import ActivityLogQuery, ActivityRecord, AuditLogQuery, AuditRecord
from models.logs.tables import ActivityLog, AuditLog

WRITE_ACTIVITY = "logs.write_activity"
WRITE_AUDIT = "logs.write_audit"
# Records a web process published together (workers/record_batches.py).
WRITE_BATCH = "logs.write_batch"
ACTIVITY_TABLE: Table = ActivityLog.__table__  # type: ignore[assignment]
AUDIT_TABLE: Table = AuditLog.__table__  # type: ignore[assignment]

# Every activity type the service records; docs/api.md lists them with their meaning.
ACTIVITY_TYPES = (
    "course_created",
    "course_updated",
    "course_deleted",
    "course_enrolled",
    "lesson_completed",
    "course_completed",
    "course_rated",
    "course_announced",
    "cart_item_added",
    "cart_item_removed",
    "cart_checkout",
    "payment_succeeded",
    "payment_failed",
    "group_created",
    "group_updated",
    "group_deleted",
    "group_member_added",
    "group_member_removed",
    "group_member_role_changed",
    "schedule_created",
    "schedule_updated",
    "schedule_cancelled",
    "schedule_deleted",
    "schedule_participant_added",
    "schedule_participant_removed",
    "schedule_responded",
    "forum_created",
    "forum_updated",
    "forum_deleted",
    "forum_post_created",
    "forum_post_updated",
    "forum_post_deleted",
    "message_sent",
    "message_updated",
    "message_read",
    "message_deleted",
    "ai_session_started",
    "ai_session_updated",
    "ai_session_deleted",
    "ai_message_sent",
    "ai_message_answered",
    "ai_message_failed",
)


def record_activity(
    session: AsyncSession,
    *,
    user_id: str | None,
    activity_type: str,
    details: str = "",
    status: str = "success",
    object_type: str | None = None,
    object_id: int | None = None,
) -> None:
    """Note an activity; the unit of work inserts it in the operation's own transaction,
    just before it commits (a rollback takes it away with the change)."""
    # The columns of ActivityRecord, without building one: this runs on every write.
    record = {
        "event_id": unique_hex(),
        "user_id": user_id,
        "activity_type": activity_type,
        "details": details,
        "status": status,
        "object_type": object_type,
        "object_id": object_id,
        "timestamp": utcnow(),
    }
    insert_with_commit(session, ACTIVITY_TABLE, record)


def record_activity_on(
    session: AsyncSession,
    actor: Principal,
    target: tuple[str, int],
    activity_type: str,
    details: str,
) -> None:
    """Note what `actor` did to one object, named by its type and id."""
    object_type, object_id = target
    record_activity(
        session,
        user_id=actor.user_id,
        activity_type=activity_type,
        details=details,
        object_type=object_type,
        object_id=object_id,
    )


async def _insert_once(
    session: AsyncSession, table: Table, values: dict[str, Any] | list[dict[str, Any]]
) -> None:
    """Insert unless a row with this event_id exists: a redelivered task writes nothing.
    A list of rows goes as one executemany."""
    dialect = dialect_of(session)
    await session.execute(insert_once_statement(dialect, table), values)


async def do_write_activity(session: AsyncSession, *, record: ActivityRecord) -> None:
    """A `logs.write_activity` task's write (tasks queued before records went in with
    their unit's commit)."""
    await _insert_once(session, ACTIVITY_TABLE, record.model_dump())


def audit_with_commit(session: AsyncSession, record: AuditRecord) -> None:
    """Note an audit record to be inserted with the session's commit (a request that
    commits); one that fails or is refused is written by a `logs.write_audit` task."""
    insert_with_commit(session, AUDIT_TABLE, record.model_dump(exclude={"counted"}))


@functools.lru_cache(maxsize=2)
def _count_statement(dialect: str) -> Any:
    """Insert the minute's row, or add to its count: a counted record is one more request."""
    insert = conflict_insert(dialect)
    table: Any = AuditLog.__table__
    stmt = insert(table)
    return stmt.on_conflict_do_update(
        index_elements=["event_id"], set_={"count": table.c.count + stmt.excluded.count}
    )


async def do_write_audit(session: AsyncSession, *, record: AuditRecord) -> None:
    values = record.model_dump(exclude={"counted"})
    if not record.counted:
        await _insert_once(session, AUDIT_TABLE, values)
        return
    # A task delivered twice counts twice here (rare: a worker lost after its write);
    # the count may be high by that, never low.
    dialect = dialect_of(session)
    await session.execute(_count_statement(dialect), {**values, "count": 1})


async def do_write_batch(
    session: AsyncSession, *, records: Sequence[ActivityRecord | AuditRecord]
) -> None:
    """A `logs.write_batch` task's writes, all in the caller's one transaction (a retry
    after a rollback counts nothing twice; a redelivery after a commit may count a counted
    record twice, as `do_write_audit` says): each table's plain records as one
    executemany, then the counted ones."""
    activity = [r.model_dump() for r in records if isinstance(r, ActivityRecord)]
    audit = [
        r.model_dump(exclude={"counted"})
        for r in records
        if isinstance(r, AuditRecord) and not r.counted
    ]
    for table, rows in ((ACTIVITY_TABLE, activity), (AUDIT_TABLE, audit)):
        if rows:
            await _insert_once(session, table, rows)
    for record in records:
        if isinstance(record, AuditRecord) and record.counted:
            await do_write_audit(session, record=record)


ACTIVITY = Listing(
    filters={
        "user_id": ActivityLog.user_id,
        "activity_type": ActivityLog.activity_type,
        "status": ActivityLog.status,
    },
    default=(ActivityLog.timestamp.desc(),),
    tiebreak=ActivityLog.id.desc(),
)
AUDIT = Listing(
    filters={
        name: getattr(AuditLog, name)
        for name in ("action_type", "user_id", "method", "status_code")
    },
    default=(AuditLog.timestamp.desc(),),
    tiebreak=AuditLog.id.desc(),
)


_START, _END = "lms_start", "lms_end"


async def activity_page(
    session: AsyncSession, *, actor: Principal, query: ActivityLogQuery, page: PageRequest
) -> PageResult:
    """Mine; admins see everyone's (and may filter by user_id)."""
    statement = functools.partial(
        _activity_statement, actor.is_admin, query.start is not None, query.end is not None
    )
    params = {ACTOR_PARAM: actor.user_id, _START: query.start, _END: query.end}
    return await ACTIVITY.page_of(session, statement, query, page, params)


@functools.lru_cache(maxsize=256)
def _activity_statement(
    is_admin: bool, from_start: bool, to_end: bool, shape: ListShape
) -> Select[Any]:
    stmt = select(ActivityLog)
    if not is_admin:
        stmt = stmt.where(ActivityLog.user_id == bindparam(ACTOR_PARAM))
    if from_start:
        stmt = stmt.where(ActivityLog.timestamp >= bindparam(_START))
    if to_end:
        stmt = stmt.where(ActivityLog.timestamp < bindparam(_END))
    return ACTIVITY.apply_shape(counted(stmt), shape)


def check_auditor(actor: Principal) -> None:
    """Audit logs are for admins only."""
    if not actor.is_admin:
        raise PermissionDenied()


async def audit_page(
    session: AsyncSession, *, actor: Principal, query: AuditLogQuery, page: PageRequest
) -> PageResult:
    check_auditor(actor)
    statement = functools.partial(_audit_statement, query.start is not None, query.end is not None)
    params = {_START: query.start, _END: query.end}
    return await AUDIT.page_of(session, statement, query, page, params)


@functools.lru_cache(maxsize=256)
def _audit_statement(from_start: bool, to_end: bool, shape: ListShape) -> Select[Any]:
    stmt = select(AuditLog)
    if from_start:
        stmt = stmt.where(AuditLog.timestamp >= bindparam(_START))
    if to_end:
        stmt = stmt.where(AuditLog.timestamp < bindparam(_END))
    return AUDIT.apply_shape(counted(stmt), shape)


async def access_activity(session: AsyncSession, *, actor: Principal, log_id: int) -> ActivityLog:
    """My own activity; an admin's is everyone's."""
    row = await session.get(ActivityLog, log_id)
    if row is None or not (actor.is_admin or row.user_id == actor.user_id):
        raise NotFound()
    return row


async def access_audit(session: AsyncSession, *, actor: Principal, log_id: int) -> AuditLog:
    check_auditor(actor)
    row = await session.get(AuditLog, log_id)
    if row is None:
        raise NotFound()
    return row
