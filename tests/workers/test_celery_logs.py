"""Log records written by a real Celery worker process."""

import redis.asyncio as aredis

from tests.workers.conftest import eventually

COURSES = "/api/lms/courses/courses/"
DENIALS = "/api/lms/auditlog/logs/?action_type=permission_denied"


async def refused(celery_api, code: str) -> None:
    """A refused write: its audit record is the one a task writes (a commit takes the
    others with it)."""
    reply = await celery_api.post(COURSES, {"title": "Refused", "code": code}, as_="student")
    assert reply.status == 403


async def denials_written(celery_api, count: int) -> bool:
    reply = await celery_api.get(DENIALS, as_="admin")
    return reply.body["count"] == count


async def test_an_audit_record_is_written_by_the_celery_worker(celery_api, workers):
    worker = await workers()
    await refused(celery_api, "CEL1")

    await eventually(lambda: denials_written(celery_api, 1))
    assert "logs.write_audit" in worker.output()
    assert "succeeded" in worker.output()


async def test_a_task_published_while_no_worker_runs_is_done_when_one_starts(celery_api, workers):
    await refused(celery_api, "CEL2")
    await workers()

    await eventually(lambda: denials_written(celery_api, 1))


async def test_a_finished_task_leaves_no_delivery_counter_in_redis(celery_api, workers, redis_url):
    client = aredis.Redis.from_url(redis_url)
    before = set(await client.keys("lms:task-deliveries:*"))
    worker = await workers()
    await refused(celery_api, "CEL3")

    async def no_counter_left() -> bool:
        return set(await client.keys("lms:task-deliveries:*")) <= before

    try:
        await eventually(lambda: denials_written(celery_api, 1))
        await eventually(no_counter_left)
    finally:
        await client.aclose()
    assert "succeeded" in worker.output()
