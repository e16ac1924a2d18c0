"""The task functions: async, tenant first, idempotent. Celery and the in-process
dispatcher run these same functions."""

from __future__ import annotations

import logging
from typing import Any

from models import outage
from models.ai_chat.answering import ANSWER_TASK
from models.courses.bulk import BULK_ENROLL_TASK
from models.effects import PUBLISH_ROOM_EVENT, RoomEvent
from models.grades.completion import CHECK_TASK
from models.logs.operations import (
    WRITE_ACTIVITY,
    WRITE_AUDIT,
    WRITE_BATCH,
    do_write_activity,
    do_write_audit,
    do_write_batch,
)
from models.logs.schemas import ActivityRecord, AuditRecord
from models.notifications.email import EMAIL_DIGEST_TASK
from models.notifications.operations import DELIVER_TASK
from models.payments.webhooks import PROCESS_EVENT, RELAY_OUTBOX
from models.quizzes.attempts import SUBMIT_OVERDUE_TASK
from workers import ai, email, grades, jobs, notifications, payments, quizzes
from workers.context import TaskFunction, WorkerContext

log = logging.getLogger(__name__)


async def write_activity(ctx: WorkerContext, tenant: str, record: dict[str, Any]) -> None:
    parsed = ActivityRecord.model_validate(record)
    await ctx.in_tenant(tenant, lambda session: do_write_activity(session, record=parsed))


async def write_audit(ctx: WorkerContext, tenant: str, record: dict[str, Any]) -> None:
    parsed = AuditRecord.model_validate(record)
    await ctx.in_tenant(tenant, lambda session: do_write_audit(session, record=parsed))


RECORD_TYPES: dict[str, type[ActivityRecord] | type[AuditRecord]] = {
    WRITE_ACTIVITY: ActivityRecord,
    WRITE_AUDIT: AuditRecord,
}


async def write_batch(ctx: WorkerContext, tenant: str, records: list[list[Any]]) -> None:
    """Records a web process published together, as [task name, record] pairs, in one
    transaction. One that does not parse is logged and left out: it must not cost the
    others, and no retry would make it parse. If the database refuses the batch for one of
    its rows (not because it is unreachable), each record goes in alone."""
    parsed: list[ActivityRecord | AuditRecord] = []
    for item in records:
        try:
            name, record = item
            parsed.append(RECORD_TYPES[name].model_validate(record))
        except (KeyError, TypeError, ValueError) as exc:
            log.error("log record for %s left out: %r (%s)", tenant, item, exc)
    if not parsed:
        return
    try:
        await ctx.in_tenant(tenant, lambda session: do_write_batch(session, records=parsed))
    except Exception as exc:
        if outage.database_unavailable(exc):
            raise  # the whole batch again, later (its writes are idempotent)
        log.warning("log batch for %s refused (%r): its records one at a time", tenant, exc)
        for one in parsed:
            await _write_alone(ctx, tenant, one)


async def _write_alone(
    ctx: WorkerContext, tenant: str, record: ActivityRecord | AuditRecord
) -> None:
    try:
        await ctx.in_tenant(tenant, lambda session: do_write_batch(session, records=[record]))
    except Exception as exc:
        if outage.database_unavailable(exc):
            raise
        log.error("log record for %s refused by the database: %r (%r)", tenant, record, exc)


async def publish_room_event(
    ctx: WorkerContext, tenant: str, event: dict[str, Any] | str, *older: Any
) -> None:
    """Fan a room event (as `RoomEvent.to_json` wrote it) out to its room's sockets, on
    every instance. `older`: a task queued by a previous release as (room, type, data)."""
    typed = RoomEvent(event, *older) if isinstance(event, str) else RoomEvent.from_json(event)
    if ctx.events is None:
        log.warning(
            "no room bus in this worker (LMS_REDIS_URL unset): %s %s dropped",
            typed.room,
            typed.type,
        )
        return
    await ctx.events.publish(tenant, typed)


TASKS: dict[str, TaskFunction] = {
    WRITE_ACTIVITY: write_activity,
    WRITE_AUDIT: write_audit,
    WRITE_BATCH: write_batch,
    PROCESS_EVENT: payments.process_event,
    RELAY_OUTBOX: payments.relay_outbox,
    PUBLISH_ROOM_EVENT: publish_room_event,
    ANSWER_TASK: ai.answer,
    DELIVER_TASK: notifications.deliver,
    BULK_ENROLL_TASK: jobs.bulk_enroll,
    EMAIL_DIGEST_TASK: email.send_digests,
    CHECK_TASK: grades.check_completion,
    SUBMIT_OVERDUE_TASK: quizzes.submit_overdue,
}


# Records nobody waits for. Through Celery they queue behind everything else (a course
# event, an AI answer, a payment): a backlog of them (thousands of sockets closing, each
# with its audit record) must not hold up an announcement. In-process, they wait behind
# the other tasks the same way.
DEFERRABLE: frozenset[str] = frozenset({WRITE_ACTIVITY, WRITE_AUDIT, WRITE_BATCH})
# An AI answer streams from the provider for up to `ai_timeout_seconds`: the embedded worker
# starts it at once rather than let a class's questions hold every one of its consumers.
STARTED_AT_ONCE: frozenset[str] = frozenset({ANSWER_TASK})
# Written by the web process itself when the broker is down: a log write is small and quick,
# and an audit record must be neither lost nor late. Every other task (an AI answer, a
# payment, a fan-out) would hold up the request: it waits in the task outbox instead.
INLINE_WHEN_BROKER_DOWN: frozenset[str] = frozenset({WRITE_ACTIVITY, WRITE_AUDIT})
# Sent every round by every web process: one the broker missed is sent by the next round.
PERIODIC: frozenset[str] = frozenset({RELAY_OUTBOX, EMAIL_DIGEST_TASK, SUBMIT_OVERDUE_TASK})
