"""A bulk enrollment's task is idempotent: delivered again, after the job or in the middle
of it, or twice at once, it enrolls nobody twice and counts every row once."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select

from models.courses.bulk import (
    BULK_ENROLL_TASK,
    check_bulk_rows,
    do_bulk_enroll_batch,
    do_start_bulk_enrollment,
    json_entries,
)
from models.courses.tables import Course, Enrollment
from models.identity import Principal
from models.jobs.tables import Job
from models.logs.tables import ActivityLog
from models.unit_of_work import unit_of_work
from tests.workers.conftest import eventually
from web.keys import DATABASES, DISPATCHER

BULK = "/api/lms/courses/enrollments/bulk/"
INSTRUCTOR = Principal(user_id="instructor-1", tenant="acme", roles=frozenset({"instructor"}))
USERS = [f"user-{n:03d}" for n in range(7)]


class HeldTasks:
    """A dispatcher that keeps what it is sent: the task is delivered by the test."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, tuple[Any, ...]]] = []

    async def send(self, name: str, tenant: str, *args: Any) -> None:
        self.sent.append((name, tenant, args))


async def count(api: Any, stmt: Any) -> int:
    async with api.client.app[DATABASES].tenant_sessions("acme")() as session:
        return int(await session.scalar(stmt) or 0)


async def the_job(api: Any, job_id: int) -> Job:
    async with api.client.app[DATABASES].tenant_sessions("acme")() as session:
        job = await session.get(Job, job_id)
        assert job is not None
        return job


async def held_job(api: Any, course_id: int) -> int:
    """A job made as the request makes it, its task held back."""
    held = HeldTasks()
    async with unit_of_work(api.client.app[DATABASES], "acme", tasks=held) as uow:
        course = await uow.session.get(Course, course_id)
        assert course is not None
        valid, errors = check_bulk_rows(json_entries(USERS))
        job = await do_start_bulk_enrollment(
            uow.session, actor=INSTRUCTOR, course=course, valid=valid, errors=errors
        )
    assert [name for name, _, _ in held.sent] == [BULK_ENROLL_TASK]
    return job.id


async def deliver(api: Any, job_id: int, times: int = 1) -> None:
    dispatcher = api.client.app[DISPATCHER]
    await asyncio.gather(*(dispatcher.send(BULK_ENROLL_TASK, "acme", job_id) for _ in range(times)))
    await api.settled()


async def enrollments_and_records(api: Any) -> tuple[int, int]:
    enrollments = await count(api, select(func.count()).select_from(Enrollment))
    records = await count(
        api, select(func.count()).where(ActivityLog.activity_type == "course_enrolled")
    )
    return enrollments, records


async def test_a_task_delivered_again_after_the_job_changes_nothing(api, make):
    course = await make.course()
    reply = await api.post(BULK, {"course": course["id"], "user_ids": USERS}, as_="instructor")
    await api.settled()
    before = await the_job(api, reply.body["id"])

    await deliver(api, reply.body["id"])

    after = await the_job(api, reply.body["id"])
    assert (after.done, after.enrolled, after.finished_at) == (7, 7, before.finished_at)
    assert await enrollments_and_records(api) == (7, 7)


async def test_a_task_delivered_after_a_first_batch_resumes_after_it(api, make):
    course = await make.course()
    job_id = await held_job(api, course["id"])
    async with unit_of_work(api.client.app[DATABASES], "acme") as uow:
        assert await do_bulk_enroll_batch(uow.session, job_id=job_id, batch=3)

    await deliver(api, job_id)

    job = await the_job(api, job_id)
    assert (job.status, job.done, job.enrolled, job.failed) == ("done", 7, 7, 0)
    assert await enrollments_and_records(api) == (7, 7)


async def test_a_task_delivered_twice_at_once_counts_every_row_once(api, make):
    course = await make.course()
    job_id = await held_job(api, course["id"])

    await deliver(api, job_id, times=2)

    job = await the_job(api, job_id)
    assert (job.status, job.done, job.enrolled) == ("done", 7, 7)
    assert await enrollments_and_records(api) == (7, 7)


async def test_a_job_whose_course_was_deleted_fails_its_rows(api, make):
    course = await make.course()
    job_id = await held_job(api, course["id"])
    deleted = await api.delete(f"/api/lms/courses/courses/{course['id']}/", as_="instructor")
    assert deleted.status == 204

    await deliver(api, job_id)

    job = await the_job(api, job_id)
    assert (job.status, job.done, job.failed) == ("failed", 0, 7)
    assert job.errors == [{"row": None, "user_id": None, "error": "The course no longer exists."}]


async def test_a_celery_worker_runs_a_bulk_enrollment(celery_api, make, workers):
    worker = await workers()
    make.api = celery_api
    course = await make.course()

    reply = await celery_api.post(
        BULK, {"course": course["id"], "user_ids": USERS}, as_="instructor"
    )

    async def done() -> bool:
        job = await celery_api.get(f"/api/lms/jobs/jobs/{reply.body['id']}/", as_="instructor")
        return bool(job.body["status"] == "done")

    await eventually(done)
    assert await enrollments_and_records(celery_api) == (7, 7)
    assert BULK_ENROLL_TASK in worker.output()
