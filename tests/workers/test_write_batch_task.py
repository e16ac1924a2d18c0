"""The task that writes log records a web process published together: all in one
transaction, none twice when redelivered, a malformed one left out without the others."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from models.logs.tables import ActivityLog, AuditLog
from models.settings import Settings
from models.tenancy import Databases
from tests.workers.conftest import NoTasks
from workers.context import WorkerContext
from workers.tasks import WRITE_ACTIVITY, WRITE_AUDIT, write_batch

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC).isoformat()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    """The task alone, in this process: both backends."""
    return str(request.param)


@pytest.fixture
async def ctx(api: Any, settings: Settings) -> AsyncIterator[WorkerContext]:
    """A worker's context on the test's databases (`api` empties them afterwards)."""
    context = WorkerContext(settings, Databases.connect(settings.database_url), NoTasks(), None)
    yield context
    await context.close()


def audit(event_id: str, *, counted: bool = False) -> list[Any]:
    record = {
        "event_id": event_id,
        "user_id": "u1",
        "action_type": "rate_limited" if counted else "course_created",
        "method": "POST",
        "path": "/api/lms/courses/courses/",
        "status_code": 429 if counted else 201,
        "ip_address": "10.0.0.1",
        "timestamp": NOW,
        "counted": counted,
    }
    return [WRITE_AUDIT, record]


def activity(event_id: str) -> list[Any]:
    record = {
        "event_id": event_id,
        "user_id": "u1",
        "activity_type": "course_created",
        "timestamp": NOW,
    }
    return [WRITE_ACTIVITY, record]


async def rows(ctx: WorkerContext, column: Any) -> list[Any]:
    async def read(session: Any) -> list[Any]:
        return list((await session.execute(select(column).order_by(column))).all())

    return await ctx.in_tenant("acme", read)


async def test_every_record_of_a_batch_is_written(ctx):
    batch = [audit("a1"), activity("b1"), audit("a2"), activity("b2")]

    await write_batch(ctx, "acme", batch)

    assert [r.event_id for r in await rows(ctx, AuditLog.event_id)] == ["a1", "a2"]
    assert [r.event_id for r in await rows(ctx, ActivityLog.event_id)] == ["b1", "b2"]


async def test_a_redelivered_batch_writes_nothing_twice(ctx):
    batch = [audit("a1"), activity("b1")]

    await write_batch(ctx, "acme", batch)
    await write_batch(ctx, "acme", batch)

    assert len(await rows(ctx, AuditLog.event_id)) == 1
    assert len(await rows(ctx, ActivityLog.event_id)) == 1


async def test_counted_records_in_a_batch_add_to_one_row(ctx):
    await write_batch(ctx, "acme", [audit("minute", counted=True)] * 3)

    counts = await rows(ctx, AuditLog.count)
    assert [r[0] for r in counts] == [3]


async def test_a_malformed_record_is_left_out_and_the_others_written(ctx, caplog):
    batch = [audit("a1"), [WRITE_AUDIT, {"event_id": "no-fields"}], ["logs.unknown", {}], "x"]

    await write_batch(ctx, "acme", [*batch, activity("b1")])

    assert [r.event_id for r in await rows(ctx, AuditLog.event_id)] == ["a1"]
    assert [r.event_id for r in await rows(ctx, ActivityLog.event_id)] == ["b1"]
    assert caplog.text.count("left out") == 3


@pytest.mark.parametrize("backend", ["postgres"])  # SQLite enforces no column's length
async def test_a_row_the_database_refuses_costs_only_itself(ctx, backend, caplog):
    too_long = audit("a2")
    too_long[1] = {**too_long[1], "path": "/" + "x" * 3000}

    await write_batch(ctx, "acme", [audit("a1"), too_long, activity("b1"), audit("a3")])

    assert [r.event_id for r in await rows(ctx, AuditLog.event_id)] == ["a1", "a3"]
    assert [r.event_id for r in await rows(ctx, ActivityLog.event_id)] == ["b1"]
    assert "one at a time" in caplog.text and "refused by the database" in caplog.text
