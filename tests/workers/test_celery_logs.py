"""Log records written by a real Celery worker process."""

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
