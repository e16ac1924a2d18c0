"""Through Celery, a course event goes ahead of log records waiting in the queue."""

from tests.workers.conftest import eventually

COURSES = "/api/lms/courses/courses/"
LOGS = "/api/lms/activitylog/logs/"


async def test_an_announcement_queued_behind_log_records_is_published_first(celery_api, workers):
    # With no worker yet, writes leave their activity and audit records in the queue...
    for n in range(5):
        body = {"title": f"Backlog {n}", "code": f"BKL{n}", "status": "Published"}
        created = await celery_api.post(COURSES, body, as_="instructor")
        assert created.status == 201
    course = created.body["id"]
    # ...then an announcement: its course event comes after them.
    body = {"title": "Now", "message": "Read me first."}
    announced = await celery_api.post(f"{COURSES}{course}/announce/", body, as_="instructor")
    assert announced.status == 201

    worker = await workers()  # one at a time (solo pool), as the queue serves them

    async def all_written() -> bool:
        reply = await celery_api.get(LOGS + "?activity_type=course_announced", as_="instructor")
        return reply.body["count"] == 1

    await eventually(all_written)
    await worker.wait_for_log("logs.write_activity", count=6)
    received = [
        line.split("Task ")[1].split("[")[0]
        for line in worker.output().splitlines()
        if "Task " in line and "received" in line
    ]
    assert received[0] == "realtime.publish", received
    assert received.count("logs.write_activity") == 6
