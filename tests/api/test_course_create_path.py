"""Course create on the lean write path: the checks read outside any transaction; on
PostgreSQL the course, its activity and its audit record are then one statement."""

import pytest
from sqlalchemy.exc import IntegrityError

from bench.statements import StatementCounter, kind
from models.courses.operations import check_new_course, do_create_course
from models.courses.schemas import CourseCreate
from models.courses.tables import Course
from models.identity import Principal
from models.logs.tables import ActivityLog
from models.unit_of_work import unit_of_work
from tests.fakes.commerce import table_rows
from web.keys import DATABASES

COURSES = "/api/lms/courses/courses/"
INSTRUCTOR = Principal("instructor-1", "acme", roles=frozenset({"instructor"}))


async def test_a_create_on_postgres_is_two_statements_and_no_transaction(api, backend):
    await api.post(COURSES, {"title": "Warm", "code": "WRM2"}, as_="instructor")
    with StatementCounter() as counter:
        created = await api.post(COURSES, {"title": "Lean", "code": "LEAN1"}, as_="instructor")

    assert created.status == 201, created.body
    kinds = [kind(s) for s in counter.statements]
    if backend == "postgres":
        assert kinds == ["select courses", "insert courses+activity_logs+audit_logs"]
        assert counter.transactions == 0
    else:
        assert "insert courses" in kinds
    reply = await api.get(f"{COURSES}{created.body['id']}/", as_="instructor")
    assert reply.body == created.body


async def test_a_code_taken_between_the_check_and_the_commit_leaves_nothing_of_the_loser(api):
    databases = api.client.app[DATABASES]
    data = CourseCreate.model_validate({"title": "Race", "code": "RACE1"})

    with pytest.raises(IntegrityError):
        async with unit_of_work(databases, "acme") as unit:
            new = await check_new_course(
                unit.session, databases.tenant_reads("acme"), actor=INSTRUCTOR, data=data
            )
            other = await api.post(COURSES, {"title": "Winner", "code": "RACE1"}, as_="instructor")
            assert other.status == 201
            await do_create_course(unit.session, actor=INSTRUCTOR, new=new)

    courses = await table_rows(api, Course, code="RACE1")
    assert [c.title for c in courses] == ["Winner"]
    activities = await table_rows(api, ActivityLog, activity_type="course_created")
    assert [a.object_id for a in activities] == [other.body["id"]]
