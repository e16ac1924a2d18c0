"""Through Celery, a course event goes ahead of log records waiting in the queue."""

from tests.workers.conftest import eventually

COURSES = "/api/lms/courses/courses/"
DENIALS = "/api/lms/auditlog/logs/?action_type=permission_denied"


async def test_an_announcement_queued_behind_log_records_is_published_first(celery_api, workers):
    created = await celery_api.post(
        COURSES, {"title": "Backlog", "code": "BKL0", "status": "Published"}, as_="instructor"
    )
    assert created.status == 201
    course = created.body["id"]
    # With no worker yet, refused writes leave their audit records in the queue (a write
    # that commits takes its records in with its commit)...
    for n in range(6):
        refused = await celery_api.post(
            COURSES, {"title": "x", "code": f"BKL{n + 1}"}, as_="student"
        )
        assert refused.status == 403
    # ...then an announcement: its course event comes after them.
    body = {"title": "Now", "message": "Read me first."}
    announced = await celery_api.post(f"{COURSES}{course}/announce/", body, as_="instructor")
    assert announced.status == 201

    worker = await workers()  # one at a time (solo pool), as the queue serves them

    async def all_written() -> bool:
        reply = await celery_api.get(DENIALS, as_="admin")
        return reply.body["count"] == 6

    await eventually(all_written)

    def received() -> list[str]:
        return [
            line.split("Task ")[1].split("[")[0]
            for line in worker.output().splitlines()
            if "Task " in line and "received" in line
        ]

    # The six denials, and the first use of the student's and the admin's tokens (the
    # admin's is a read, whose unit commits nothing): eight, the last perhaps still coming.
    async def all_received() -> bool:
        return received().count("logs.write_audit") >= 8

    await eventually(all_received)
    assert received()[0] == "realtime.publish", received()
    assert received().count("logs.write_audit") == 8
