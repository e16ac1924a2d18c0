"""Log records written by a real Celery worker process."""

import asyncio

import redis.asyncio as aredis

from tests.conftest import TENANT_A
from tests.workers.conftest import eventually
from workers.celery_app import make_celery
from workers.tasks import WRITE_AUDIT, WRITE_BATCH

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


async def test_a_batch_of_records_is_written_by_the_celery_worker(
    celery_api, workers, celery_settings, settings
):
    """What a web process sends when records queued behind its publishing thread."""
    denial = {
        "user_id": "student-1",
        "action_type": "permission_denied",
        "method": "POST",
        "path": COURSES,
        "status_code": 403,
        "ip_address": "127.0.0.1",
        "timestamp": "2026-12-07T12:00:00+00:00",
    }
    batch = [[WRITE_AUDIT, {**denial, "event_id": f"batched-{n}"}] for n in range(3)]
    celery = make_celery(settings.model_copy(update=celery_settings))
    try:
        await asyncio.to_thread(
            celery.send_task,
            WRITE_BATCH,
            args=[TENANT_A, batch],
            queue=celery_settings["celery_queue"],
        )
    finally:
        celery.close()
    worker = await workers()

    await eventually(lambda: denials_written(celery_api, 3))
    assert "logs.write_batch" in worker.output()
