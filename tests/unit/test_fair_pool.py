"""The pool serves those waiting for a connection in the order they came."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util.queue import Empty

from models.fair_pool import FirstComeQueue
from models.tenancy import make_engine

POOL = 2


@pytest.fixture
async def engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(postgres_url, pool_size=POOL, max_overflow=0)
    yield engine
    await engine.dispose()


async def test_waiters_get_connections_in_the_order_they_asked(engine: AsyncEngine) -> None:
    served: list[int] = []
    release = asyncio.Event()

    async def hold() -> None:
        async with engine.connect() as connection:
            await connection.execute(text("select 1"))
            await release.wait()

    async def wait_then_run(n: int) -> None:
        async with engine.connect() as connection:
            served.append(n)
            await connection.execute(text("select 1"))

    holders = [asyncio.create_task(hold()) for _ in range(POOL)]
    await asyncio.sleep(0.2)  # both connections out
    waiters = []
    for n in range(6):
        waiters.append(asyncio.create_task(wait_then_run(n)))
        await asyncio.sleep(0.01)  # each in line before the next
    release.set()
    await asyncio.gather(*holders, *waiters)

    assert served == list(range(6))


async def test_a_returned_connection_goes_to_the_waiter_not_a_newcomer() -> None:
    queue: FirstComeQueue[str] = FirstComeQueue(maxsize=POOL)
    waiting = asyncio.create_task(queue._wait(None))
    await asyncio.sleep(0)  # in line

    queue.put_nowait("connection")

    # A newcomer asking before the waiter has run finds nothing free (asyncio's queue
    # would give it the connection, and send the waiter to the back of the line).
    with pytest.raises(Empty):
        queue.get_nowait()
    assert await waiting == "connection"


async def test_a_waiter_cancelled_after_its_turn_hands_the_connection_on() -> None:
    queue: FirstComeQueue[str] = FirstComeQueue(maxsize=POOL)
    first = asyncio.create_task(queue._wait(None))
    second = asyncio.create_task(queue._wait(None))
    await asyncio.sleep(0)

    queue.put_nowait("connection")  # the first's turn...
    first.cancel()  # ...but its request goes away before it runs

    assert await second == "connection"
    with pytest.raises(asyncio.CancelledError):
        await first


async def test_a_cancelled_waiter_loses_no_connection(engine: AsyncEngine) -> None:
    release = asyncio.Event()

    async def hold() -> None:
        async with engine.connect() as connection:
            await connection.execute(text("select 1"))
            await release.wait()

    holders = [asyncio.create_task(hold()) for _ in range(POOL)]
    await asyncio.sleep(0.2)
    gone = asyncio.create_task(engine.connect().__aenter__())
    await asyncio.sleep(0.05)
    gone.cancel()
    release.set()
    await asyncio.gather(*holders)

    async def use() -> int:
        async with engine.connect() as connection:
            return int((await connection.execute(text("select 1"))).scalar_one())

    # Every connection is there to use, all at once.
    assert await asyncio.gather(*(use() for _ in range(POOL))) == [1] * POOL
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]


async def test_a_waiter_past_its_timeout_gets_the_pools_timeout_error(postgres_url: str) -> None:
    engine = make_engine(postgres_url, pool_size=1, max_overflow=0)
    engine.pool._timeout = 0.1  # type: ignore[attr-defined]
    try:
        async with engine.connect() as held:
            await held.execute(text("select 1"))
            with pytest.raises(Exception, match="QueuePool limit"):
                async with engine.connect() as waiting:
                    await waiting.execute(text("select 1"))
    finally:
        await engine.dispose()
