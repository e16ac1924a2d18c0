"""A real Celery worker issues a course's certificate once its rule is met, and a worker
SIGKILLed in the middle of issuing it is followed, by redelivery, by exactly one."""

from __future__ import annotations

from typing import Any

import asyncpg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from models.grades.completion import CHECK_TASK
from models.grades.tables import Certificate
from models.notifications.tables import Notification
from tests.api.grades_data import Sources, grading_url
from tests.workers.conftest import eventually
from web.keys import DATABASES


async def count(api: Any, stmt: Any) -> int:
    async with api.client.app[DATABASES].tenant_sessions("acme")() as session:
        return int(await session.scalar(stmt) or 0)


async def certificates(api: Any) -> int:
    return await count(api, select(func.count()).select_from(Certificate))


async def certificate_notes(api: Any) -> int:
    return await count(api, select(func.count()).where(Notification.type == "certificate"))


async def course_with_rule(api: Any, make: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """A course whose certificate takes 6 of 10 on its quiz; student-1 enrolled."""
    make.api = api
    course = await make.course()
    await make.enroll(course["id"], as_="student")
    quiz = await Sources(api).item(course["id"], max_points=10, pass_points=6)
    rule = {"completion": {"items_passed": "all"}}
    reply = await api.put(grading_url(course["id"]), rule, as_="instructor")
    assert reply.status == 200, reply.body
    return course, quiz


async def test_a_celery_worker_issues_the_certificate(celery_api, make, workers):
    worker = await workers()
    _, quiz = await course_with_rule(celery_api, make)

    await Sources(celery_api).grade(quiz, "student-1", 9)

    async def issued() -> bool:
        return await certificates(celery_api) == 1 and await certificate_notes(celery_api) == 1

    await eventually(issued)
    assert CHECK_TASK in worker.output()
    mine = await celery_api.get("/api/lms/courses/certificates/", as_="student")
    assert mine.body["count"] == 1


async def test_a_worker_killed_mid_issue_is_followed_by_exactly_one_certificate(
    celery_api, make, workers, database_url
):
    """An uncommitted certificate row for the same learner and course holds the worker's
    INSERT mid-issue; the worker is SIGKILLed there, the row rolled back, and a new worker
    gets the task back and issues one certificate, told once."""
    first = await workers()
    course, quiz = await course_with_rule(celery_api, make)
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    blocker = await asyncpg.connect(dsn)
    try:
        hold = blocker.transaction()
        await hold.start()
        await blocker.execute(
            "INSERT INTO acme.certificates (user_id, course_id, code, holder_name,"
            " course_title, issued_at, revoke_reason)"
            " VALUES ('student-1', $1, 'acme.held', 'x', 'x', now(), '')",
            course["id"],
        )
        await Sources(celery_api).grade(quiz, "student-1", 9)

        async def worker_waits_on_the_row() -> bool:
            waiting = await blocker.fetchval(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            return bool(waiting)

        await eventually(worker_waits_on_the_row)
        first.kill()
        await hold.rollback()
    finally:
        await blocker.close()
    assert await certificates(celery_api) == 0

    second = await workers()

    async def issued() -> bool:
        return await certificates(celery_api) == 1 and await certificate_notes(celery_api) == 1

    await eventually(issued)
    assert CHECK_TASK in second.output()
    async with celery_api.client.app[DATABASES].tenant_sessions("acme")() as session:
        [row] = (await session.scalars(select(Certificate))).all()
    assert (row.user_id, row.course_id) == ("student-1", course["id"])
    assert row.code != "acme.held"
