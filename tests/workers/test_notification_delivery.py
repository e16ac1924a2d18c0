"""The inbox's task run twice, or resumed after a partial run: nothing is stored or sent twice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, select

from models.effects import RoomEvent
from models.notifications.operations import BATCH, Note
from models.notifications.tables import Notification
from models.settings import Settings
from models.tenancy import Databases
from tests.workers.conftest import NoTasks
from workers.context import WorkerContext
from workers.notifications import deliver

USERS = [f"user-{n}" for n in range(BATCH * 2 + BATCH // 2)]  # three INSERTs
NOTE = Note("announcement", "announcement:1", "Exam moved", "Now on Friday.", {"course_id": 1})


class Recorder:
    """The room bus, as far as the task sees it: what it was asked to publish."""

    def __init__(self) -> None:
        self.events: list[RoomEvent] = []

    async def publish(self, tenant: str, event: RoomEvent) -> None:
        self.events.append(event)


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    """The task alone, in this process: both backends (no worker process shares them)."""
    return str(request.param)


@pytest.fixture
async def ctx(api: Any, settings: Settings) -> AsyncIterator[WorkerContext]:
    """A worker's context on the test's databases (`api` empties them afterwards)."""
    context = WorkerContext(
        settings, Databases.connect(settings.database_url), NoTasks(), Recorder()
    )
    yield context
    await context.close()


def sent(ctx: WorkerContext) -> list[RoomEvent]:
    assert isinstance(ctx.events, Recorder)
    return ctx.events.events


async def stored(ctx: WorkerContext) -> int:
    async def count(session: Any) -> int:
        return int(await session.scalar(select(func.count()).select_from(Notification)))

    return await ctx.in_tenant("acme", count)


async def test_a_redelivered_task_stores_and_sends_nothing_twice(ctx):
    await deliver(ctx, "acme", NOTE.to_json(), {"users": USERS})

    await deliver(ctx, "acme", NOTE.to_json(), {"users": USERS})

    assert await stored(ctx) == len(USERS)
    assert len(sent(ctx)) == len(USERS)
    assert {e.room for e in sent(ctx)} == {f"user:{u}" for u in USERS}


async def test_a_task_resumed_after_its_first_batch_completes_the_rest_once(ctx):
    await deliver(ctx, "acme", NOTE.to_json(), {"users": USERS[:BATCH]})

    await deliver(ctx, "acme", NOTE.to_json(), {"users": USERS})

    assert await stored(ctx) == len(USERS)
    assert sorted(e.room for e in sent(ctx)) == sorted(f"user:{u}" for u in USERS)


async def test_the_actor_is_left_out_even_when_named(ctx):
    note = Note("reply", "reply:9", "A reply", actor_id="user-1")

    await deliver(ctx, "acme", note.to_json(), {"users": ["user-1", "user-2"]})

    assert [e.room for e in sent(ctx)] == ["user:user-2"]
