"""Bulk enrollment as a job: JSON ids or a CSV upload, per-row errors, followed by its
creator; asking twice enrolls nobody twice."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import orjson
from aiohttp import FormData
from sqlalchemy import func, select

from bench.statements import StatementCounter, kind
from models.courses.bulk import fill_directory
from models.courses.tables import Enrollment
from models.jobs.tables import Job
from models.logs.tables import ActivityLog
from models.people.tables import User
from models.unit_of_work import unit_of_work
from tests.api.test_roster import add_rows
from tests.matchers import FORBIDDEN, ID, NOT_FOUND, TIMESTAMP, invalid_pk
from web.keys import BUS, DATABASES

TIMESTAMP_NOW = datetime.now(UTC)

BULK = "/api/lms/courses/enrollments/bulk/"
JOBS = "/api/lms/jobs/jobs/"


def job_url(job_id: int) -> str:
    return f"{JOBS}{job_id}/"


def csv_form(course: Any, text: str, *, course_first: bool = True) -> FormData:
    form = FormData()
    if course_first:
        form.add_field("course", str(course))
    form.add_field("file", text.encode(), filename="people.csv", content_type="text/csv")
    if not course_first:
        form.add_field("course", str(course))
    return form


async def start(api: Any, course_id: int, user_ids: list[str], as_: str = "instructor") -> Any:
    reply = await api.post(BULK, {"course": course_id, "user_ids": user_ids}, as_=as_)
    assert reply.status == 202, reply.body
    return reply


async def finished(api: Any, job_id: int, as_: str = "instructor") -> dict[str, Any]:
    """The job once the worker is done with it (the in-process dispatcher drained)."""
    await api.settled()
    reply = await api.get(job_url(job_id), as_=as_)
    assert reply.status == 200, reply.body
    return dict(reply.body)


async def scalar(api: Any, stmt: Any) -> Any:
    async with api.client.app[DATABASES].tenant_sessions("acme")() as session:
        return await session.scalar(stmt)


async def enrolled(api: Any, course_id: int) -> list[str]:
    async with api.client.app[DATABASES].tenant_sessions("acme")() as session:
        stmt = select(Enrollment.user_id).where(Enrollment.course_id == course_id)
        return sorted((await session.scalars(stmt)).all())


async def test_a_json_request_answers_202_with_the_queued_job(api, make):
    course = await make.course()

    reply = await start(api, course["id"], ["u1", "u2", "u3"])

    assert reply.body == {
        "id": ID,
        "kind": "bulk_enrollment",
        "status": "queued",
        "course": course["id"],
        "total": 3,
        "done": 0,
        "failed": 0,
        "enrolled": 0,
        "errors": [],
        "created_by": "instructor-1",
        "created_by_person": {"id": "instructor-1", "name": "instructor-1", "picture": None},
        "created_at": TIMESTAMP,
        "finished_at": None,
    }


async def test_the_worker_enrolls_every_user_and_the_job_ends_done(api, make):
    course = await make.course()

    reply = await start(api, course["id"], ["u1", "u2", "u3"])
    job = await finished(api, reply.body["id"])

    assert {k: job[k] for k in ("status", "total", "done", "failed", "enrolled")} == {
        "status": "done",
        "total": 3,
        "done": 3,
        "failed": 0,
        "enrolled": 3,
    }
    assert job["finished_at"] == TIMESTAMP
    assert await enrolled(api, course["id"]) == ["u1", "u2", "u3"]


async def test_each_new_enrollment_is_recorded_as_activity(api, make):
    course = await make.course()

    await finished(api, (await start(api, course["id"], ["u1", "u2"])).body["id"])

    count = await scalar(
        api,
        select(func.count()).where(
            ActivityLog.activity_type == "course_enrolled", ActivityLog.object_id == course["id"]
        ),
    )
    assert count == 2


async def test_an_admin_enrolls_in_bulk_in_any_course(api, make):
    course = await make.course(status="Draft")

    reply = await start(api, course["id"], ["u1"], as_="admin")
    job = await finished(api, reply.body["id"], as_="admin")

    assert (job["status"], job["enrolled"]) == ("done", 1)


async def test_a_paid_course_needs_no_purchase_in_bulk(api, make):
    course = await make.course(price="49.00")

    job = await finished(api, (await start(api, course["id"], ["u1"])).body["id"])

    assert (job["enrolled"], await enrolled(api, course["id"])) == (1, ["u1"])


async def test_bad_rows_are_reported_per_row_and_the_rest_enrolled(api, make):
    course = await make.course()
    long_id = "x" * 129

    reply = await start(api, course["id"], ["", long_id, "ok", "ok", "has space", " trimmed "])
    job = await finished(api, reply.body["id"])

    assert (job["total"], job["done"], job["failed"]) == (6, 2, 4)
    assert job["errors"] == [
        {"row": 1, "user_id": "", "error": "This field may not be blank."},
        {
            "row": 2,
            "user_id": "x" * 128,
            "error": "Ensure this field has no more than 128 characters.",
        },
        {"row": 4, "user_id": "ok", "error": "Duplicate of row 3."},
        {
            "row": 5,
            "user_id": "has space",
            "error": "Enter a valid user id: printable characters without spaces.",
        },
    ]
    assert await enrolled(api, course["id"]) == ["ok", "trimmed"]


async def test_a_request_with_only_bad_rows_is_done_at_once(api, make):
    course = await make.course()

    reply = await start(api, course["id"], ["", ""])

    assert (reply.body["status"], reply.body["failed"]) == ("done", 2)


async def test_the_same_request_again_enrolls_nobody_twice(api, make):
    course = await make.course()
    first = await finished(api, (await start(api, course["id"], ["u1", "u2", "u3"])).body["id"])

    again = await finished(api, (await start(api, course["id"], ["u1", "u2", "u3"])).body["id"])

    assert (first["enrolled"], again["enrolled"], again["done"]) == (3, 0, 3)
    assert await enrolled(api, course["id"]) == ["u1", "u2", "u3"]
    activity = await scalar(
        api, select(func.count()).where(ActivityLog.activity_type == "course_enrolled")
    )
    assert activity == 3


async def test_an_inactive_enrollment_is_made_active_again(api, make):
    course = await make.course()
    enrollment = await make.enroll(course["id"])
    left = await api.delete(f"/api/lms/courses/enrollments/{enrollment['id']}/", as_="student")
    assert left.status == 204

    job = await finished(api, (await start(api, course["id"], ["student-1"])).body["id"])

    mine = await api.get(f"/api/lms/courses/enrollments/{enrollment['id']}/", as_="student")
    assert (job["enrolled"], mine.body["is_active"]) == (1, True)


async def test_a_csv_upload_enrolls_its_rows(api, make):
    course = await make.course()
    text = "user_id\r\nu1\r\nu2\r\n"

    reply = await api.call("POST", BULK, data=csv_form(course["id"], text), as_="instructor")
    job = await finished(api, reply.body["id"])

    assert (reply.status, job["status"], job["total"], job["enrolled"]) == (202, "done", 2, 2)
    assert await enrolled(api, course["id"]) == ["u1", "u2"]


async def test_the_course_field_may_follow_the_file(api, make):
    course = await make.course()
    form = csv_form(course["id"], "user_id\nu1\n", course_first=False)

    reply = await api.call("POST", BULK, data=form, as_="instructor")

    assert (reply.status, reply.body["total"]) == (202, 1)


async def test_csv_names_and_emails_fill_only_users_the_directory_lacks(api, make):
    course = await make.course()
    await add_rows(api, User, [{"user_id": "u1", "name": "Known", "updated_at": TIMESTAMP_NOW}])
    text = "email,user_id,name\na@x.test,u1,Other\nb@x.test,u2,Bea\n"

    reply = await api.call("POST", BULK, data=csv_form(course["id"], text), as_="instructor")
    await finished(api, reply.body["id"])

    async with api.client.app[DATABASES].tenant_sessions("acme")() as session:
        # The instructor is in the directory too: every request notes its caller.
        listed = select(User).where(User.user_id.in_(["u1", "u2"])).order_by(User.user_id)
        users = (await session.scalars(listed)).all()
    assert [(u.user_id, u.name, u.email) for u in users] == [
        ("u1", "Known", None),
        ("u2", "Bea", "b@x.test"),
    ]


async def test_a_batchs_directory_rows_take_one_statement_whichever_columns_are_empty(api):
    rows = [
        SimpleNamespace(user_id="d1", name="Dee", email=None),
        SimpleNamespace(user_id="d2", name=None, email="e2@x.test"),
        SimpleNamespace(user_id="d3", name="Tri", email="t3@x.test"),
        SimpleNamespace(user_id="d4", name=None, email="e4@x.test"),
    ]

    with StatementCounter() as counter:
        async with unit_of_work(api.client.app[DATABASES], "acme") as uow:
            await fill_directory(uow.session, rows)

    assert [kind(s) for s in counter.statements if kind(s).startswith("insert")] == ["insert users"]
    listed = select(func.count()).select_from(User).where(User.user_id.like("d%"))
    assert await scalar(api, listed) == 4


async def test_csv_bad_rows_are_numbered_from_the_first_after_the_header(api, make):
    course = await make.course()
    text = "user_id,name\nu1,A\n\n,B\nu1,C\nu2,D,extra\n"

    reply = await api.call("POST", BULK, data=csv_form(course["id"], text), as_="instructor")
    job = await finished(api, reply.body["id"])

    assert job["errors"] == [
        {"row": 2, "user_id": "", "error": "This field may not be blank."},
        {"row": 3, "user_id": "u1", "error": "Duplicate of row 1."},
        {"row": 4, "user_id": "u2", "error": "This row has more fields than the header."},
    ]
    assert (job["done"], job["failed"]) == (1, 3)


async def test_an_unknown_column_is_a_400_and_no_job(api, make):
    course = await make.course()
    text = "user_id,phone\nu1,123\n"

    reply = await api.call("POST", BULK, data=csv_form(course["id"], text), as_="instructor")

    assert (reply.status, reply.body) == (
        400,
        {"file": ["Unknown columns: 'phone'. Allowed: user_id, name, email."], "status": 400},
    )
    assert await scalar(api, select(func.count()).select_from(Job)) == 0


async def test_a_header_without_user_id_is_a_400(api, make):
    course = await make.course()

    reply = await api.call(
        "POST", BULK, data=csv_form(course["id"], "name\nAda\n"), as_="instructor"
    )

    assert (reply.status, reply.body) == (
        400,
        {"file": ["The header must name a user_id column."], "status": 400},
    )


async def test_a_form_without_course_is_a_400(api):
    form = FormData()
    form.add_field("file", b"user_id\nu1\n", filename="p.csv", content_type="text/csv")

    reply = await api.call("POST", BULK, data=form, as_="instructor")

    assert (reply.status, reply.body) == (
        400,
        {"course": ["This field is required."], "status": 400},
    )


async def test_a_file_over_the_limit_is_a_413_and_nothing_is_kept(custom_api, make, tmp_path):
    incoming = tmp_path / "incoming"
    api = await custom_api(bulk_enrollment_max_bytes=100, upload_temp_dir=incoming)
    make.api = api
    course = await make.course()
    text = "user_id\n" + "".join(f"user-{n}\n" for n in range(100))

    reply = await api.call("POST", BULK, data=csv_form(course["id"], text), as_="instructor")

    assert (reply.status, reply.body["status"]) == (413, 413)
    assert list(incoming.iterdir()) == []
    assert await scalar(api, select(func.count()).select_from(Job)) == 0


async def test_the_uploaded_file_is_not_kept_after_the_job_is_made(custom_api, make, tmp_path):
    incoming = tmp_path / "incoming"
    api = await custom_api(upload_temp_dir=incoming)
    make.api = api
    course = await make.course()

    reply = await api.call("POST", BULK, data=csv_form(course["id"], "user_id\nu1\n"), as_="admin")
    await api.settled()

    assert reply.status == 202
    assert list(incoming.iterdir()) == []


async def test_a_student_is_refused_bulk_enrollment(api, make):
    course = await make.course()

    reply = await api.post(BULK, {"course": course["id"], "user_ids": ["u1"]}, as_="student")

    assert (reply.status, reply.body) == (403, FORBIDDEN)


async def test_another_instructor_is_refused_a_published_course(api, make):
    course = await make.course()

    reply = await api.post(BULK, {"course": course["id"], "user_ids": ["u1"]}, as_="instructor2")

    assert (reply.status, reply.body) == (403, FORBIDDEN)


async def test_a_course_the_instructor_does_not_see_is_a_400(api, make):
    course = await make.course(status="Draft")

    reply = await api.post(BULK, {"course": course["id"], "user_ids": ["u1"]}, as_="instructor2")

    assert (reply.status, reply.body) == (400, invalid_pk("course", course["id"]))


async def test_ids_that_are_not_strings_are_a_400(api, make):
    course = await make.course()

    reply = await api.post(BULK, {"course": course["id"], "user_ids": [1]}, as_="instructor")

    assert (reply.status, list(reply.body)) == (400, ["user_ids.0", "status"])


async def test_another_users_job_is_a_404(api, make):
    course = await make.course()
    job_id = (await start(api, course["id"], ["u1"])).body["id"]
    await api.settled()

    other = await api.get(job_url(job_id), as_="instructor2")
    admin = await api.get(job_url(job_id), as_="admin")

    assert (other.status, other.body) == (404, NOT_FOUND)
    assert admin.status == 200


async def test_an_unknown_job_is_a_404(api):
    reply = await api.get(job_url(999999), as_="admin")

    assert (reply.status, reply.body) == (404, NOT_FOUND)


async def test_progress_frames_reach_the_requester_room(api, make):
    course = await make.course()

    job = await finished(api, (await start(api, course["id"], ["u1", "u2"])).body["id"])

    history = await api.client.app[BUS].history("acme", "user:instructor-1")
    frames = [orjson.loads(f) for f in history.frames]
    progress = [f["data"] for f in frames if f["type"] == "job_progress"]
    assert progress[-1] == {
        "job_id": job["id"],
        "status": "done",
        "done": 2,
        "failed": 0,
        "total": 2,
    }


async def test_my_jobs_are_listed_newest_first_and_nobody_else_sees_them(api, make):
    course = await make.course()
    first = (await start(api, course["id"], ["u1"])).body["id"]
    second = (await start(api, course["id"], ["u2"])).body["id"]
    await api.settled()

    mine = await api.get(JOBS, as_="instructor")
    other = await api.get(JOBS, as_="instructor2")

    assert [job["id"] for job in mine.body["results"]] == [second, first]
    assert other.body["count"] == 0


async def test_a_file_that_is_not_utf8_is_a_400(api, make):
    course = await make.course()
    form = FormData()
    form.add_field("course", str(course["id"]))
    form.add_field("file", b"user_id\n\xff\xfe\n", filename="p.csv", content_type="text/csv")

    reply = await api.call("POST", BULK, data=form, as_="instructor")

    assert (reply.status, reply.body) == (
        400,
        {"file": ["The file is not UTF-8 text."], "status": 400},
    )


async def test_a_csv_with_a_byte_order_mark_is_read(api, make):
    course = await make.course()
    text = "\ufeffuser_id\nu1\n"

    reply = await api.call("POST", BULK, data=csv_form(course["id"], text), as_="instructor")
    await api.settled()

    assert (reply.status, reply.body["total"], reply.body["failed"]) == (202, 1, 0)


async def test_a_bulk_enrollment_is_audited_as_started(api, make):
    course = await make.course()
    await start(api, course["id"], ["u1"])
    await api.settled()

    reply = await api.get(
        "/api/lms/auditlog/logs/?action_type=bulk_enrollment_started", as_="admin"
    )

    assert reply.body["count"] == 1
