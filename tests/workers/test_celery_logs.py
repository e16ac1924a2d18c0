"""Log records written by a real Celery worker process."""

import redis.asyncio as aredis

from tests.workers.conftest import eventually

LOGS = "/api/lms/activitylog/logs/"


async def test_an_activity_is_written_by_the_celery_worker(celery_api, workers):
    worker = await workers()
    created = await celery_api.post(
        "/api/lms/courses/courses/", {"title": "Through Celery", "code": "CEL1"}, as_="instructor"
    )
    assert created.status == 201

    async def written() -> bool:
        reply = await celery_api.get(LOGS + "?activity_type=course_created", as_="instructor")
        return reply.body["count"] == 1

    await eventually(written)
    assert "logs.write_activity" in worker.output()
    assert "succeeded" in worker.output()


async def test_a_task_published_while_no_worker_runs_is_done_when_one_starts(celery_api, workers):
    created = await celery_api.post(
        "/api/lms/courses/courses/", {"title": "Queued", "code": "CEL2"}, as_="instructor"
    )
    assert created.status == 201
    await workers()

    async def written() -> bool:
        reply = await celery_api.get(LOGS + "?activity_type=course_created", as_="instructor")
        return reply.body["count"] == 1

    await eventually(written)


async def test_a_finished_task_leaves_no_delivery_counter_in_redis(celery_api, workers, redis_url):
    client = aredis.Redis.from_url(redis_url)
    before = set(await client.keys("lms:task-deliveries:*"))
    worker = await workers()
    created = await celery_api.post(
        "/api/lms/courses/courses/", {"title": "Counted", "code": "CEL3"}, as_="instructor"
    )
    assert created.status == 201

    async def written() -> bool:
        reply = await celery_api.get(LOGS + "?activity_type=course_created", as_="instructor")
        return reply.body["count"] == 1

    async def no_counter_left() -> bool:
        return set(await client.keys("lms:task-deliveries:*")) <= before

    try:
        await eventually(written)
        await eventually(no_counter_left)
    finally:
        await client.aclose()
    assert "succeeded" in worker.output()
