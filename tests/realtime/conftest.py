"""Fixtures for socket tests: a course room to listen to, and instances sharing Redis."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import redis.asyncio as aredis


@pytest.fixture
async def course(api, make) -> dict[str, Any]:
    """A free published course of instructor-1 in which student-1 is enrolled.

    Its events (the enrollment) are out before the test opens a socket.
    """
    course = await make.course()
    await make.enroll(course["id"], as_="student")
    await api.settled()
    return course


@pytest.fixture
async def redis_instances(
    custom_api: Any, redis_url: str
) -> AsyncIterator[Callable[..., Awaitable[Any]]]:
    """Builds web instances (each on its own port) that share the Redis at `redis_url`.

    Their tasks go to a queue of this test's own, emptied afterwards: no worker runs here.
    """
    queue = f"lms-realtime-test-{uuid.uuid4().hex[:8]}"

    async def build(**overrides: Any) -> Any:
        return await custom_api(redis_url=redis_url, celery_queue=queue, **overrides)

    yield build
    client = aredis.Redis.from_url(redis_url)
    await client.delete(queue)
    await client.aclose()
