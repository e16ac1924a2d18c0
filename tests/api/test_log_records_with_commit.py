"""A write's activity and audit records go in with its commit, in its own transaction;
a refused or failed request's audit record is a task's to write, once."""

from typing import Any

import pytest

import models.unit_of_work
from bench.statements import StatementCounter, kind
from models.effects import CTE_ROWS
from models.logs.operations import record_activity
from models.logs.tables import ActivityLog, AuditLog
from models.unit_of_work import unit_of_work
from tests.fakes.commerce import table_rows
from web.keys import DATABASES, DISPATCHER

COURSES = "/api/lms/courses/courses/"


@pytest.fixture
def sent(api, monkeypatch) -> list[str]:
    """The names of the tasks the web app sends from now on (and still sends them)."""
    dispatcher = api.client.app[DISPATCHER]
    send, names = dispatcher.send, []

    async def recorded(name: str, tenant: str, *args: Any) -> None:
        names.append(name)
        await send(name, tenant, *args)

    monkeypatch.setattr(dispatcher, "send", recorded)
    return names


async def test_a_committed_write_has_its_records_in_when_it_answers_and_sends_no_log_task(
    api, sent
):
    created = await api.post(COURSES, {"title": "Inline", "code": "INL1"}, as_="instructor")

    assert created.status == 201
    activities = await table_rows(api, ActivityLog, activity_type="course_created")
    audits = await table_rows(api, AuditLog, action_type="course_created")
    assert [row.object_id for row in activities] == [created.body["id"]]
    assert [(row.user_id, row.status_code) for row in audits] == [("instructor-1", 201)]
    assert not [name for name in sent if name.startswith("logs.")]


async def test_a_committed_write_is_audited_once(api):
    await api.post(COURSES, {"title": "Once", "code": "ONC1"}, as_="instructor")
    await api.settled()

    assert len(await table_rows(api, AuditLog, action_type="course_created")) == 1


async def test_a_refused_write_s_audit_record_is_sent_as_a_task(api, sent):
    refused = await api.post(COURSES, {"title": "No", "code": "NO1"}, as_="student")
    await api.settled()

    assert refused.status == 403
    assert set(sent) == {"logs.write_audit"}  # the denial's, and the token's first use
    assert len(await table_rows(api, AuditLog, action_type="permission_denied")) == 1


async def test_a_failed_commit_records_no_activity_and_its_audit_record_by_a_task(
    api, sent, monkeypatch
):
    write_records_and_commit = models.unit_of_work.write_records_and_commit

    def fail_once(session: Any) -> None:
        # The request's commit fails; the audit task's own unit then commits.
        monkeypatch.setattr(
            models.unit_of_work, "write_records_and_commit", write_records_and_commit
        )
        raise RuntimeError("the commit fails")

    monkeypatch.setattr(models.unit_of_work, "write_records_and_commit", fail_once)
    failed = await api.post(COURSES, {"title": "Lost", "code": "LST1"}, as_="instructor")
    await api.settled()

    assert failed.status == 500
    assert await table_rows(api, ActivityLog) == []
    audits = await table_rows(api, AuditLog, action_type="course_created")
    assert [(row.status_code, row.details) for row in audits] == [(500, "Refused with 500.")]
    assert len(await table_rows(api, AuditLog, action_type="user_login")) == 1
    assert set(sent) == {"logs.write_audit"}


async def test_a_unit_inserts_its_activities_in_one_statement_before_commit(api, backend):
    with StatementCounter() as counter:
        async with unit_of_work(api.client.app[DATABASES], "acme") as uow:
            for n in range(3):
                record_activity(
                    uow.session, user_id="u-1", activity_type="course_updated", details=f"{n}"
                )

    inserts = [kind(s) for s in counter.statements if kind(s).startswith("insert")]
    # PostgreSQL chains one single-row insert per record (so the statement is cached);
    # SQLite, which has no data-modifying CTE, takes one multi-row insert.
    expected = "+".join(["activity_logs"] * 3) if backend == "postgres" else "activity_logs"
    assert inserts == [f"insert {expected}"]
    rows = await table_rows(api, ActivityLog, activity_type="course_updated")
    assert sorted(row.details for row in rows) == ["0", "1", "2"]


async def test_a_create_s_activity_and_audit_records_take_one_statement_on_postgres(api, backend):
    await api.post(COURSES, {"title": "Warm", "code": "WRM1"}, as_="instructor")
    with StatementCounter() as counter:
        created = await api.post(COURSES, {"title": "Once", "code": "ONC1"}, as_="instructor")

    assert created.status == 201
    records = [kind(s) for s in counter.statements if "_logs" in kind(s)]
    if backend == "postgres":
        # The course itself rides in the same statement, its id taken with the checks.
        assert records == ["insert courses+activity_logs+audit_logs"]
        assert counter.transactions == 0
    else:
        assert records == ["insert activity_logs", "insert audit_logs"]
    assert len(await table_rows(api, AuditLog, action_type="course_created")) == 2
    activity = await table_rows(api, ActivityLog, activity_type="course_created")
    assert created.body["id"] in [row.object_id for row in activity]


async def test_a_unit_with_many_records_inserts_them_in_one_statement_of_their_own(api, backend):
    many = CTE_ROWS + 5
    with StatementCounter() as counter:
        async with unit_of_work(api.client.app[DATABASES], "acme") as uow:
            for n in range(many):
                record_activity(
                    uow.session, user_id="u-1", activity_type="course_updated", details=f"{n}"
                )

    inserts = [kind(s) for s in counter.statements if kind(s).startswith("insert")]
    # One statement run with a parameter set per record (SQLAlchemy may send it in pages
    # of rows); never a chain of one CTE per record.
    assert inserts and set(inserts) == {"insert activity_logs"}
    assert counter.transactions == 1
    rows = await table_rows(api, ActivityLog, activity_type="course_updated")
    assert sorted(int(row.details) for row in rows) == list(range(many))


async def test_a_unit_with_many_records_and_a_few_writes_them_all_once(api, backend):
    async with unit_of_work(api.client.app[DATABASES], "acme") as uow:
        for _ in range(CTE_ROWS + 1):
            record_activity(uow.session, user_id="u-2", activity_type="course_enrolled")
        record_activity(uow.session, user_id="u-2", activity_type="course_unenrolled")

    enrolled = await table_rows(api, ActivityLog, activity_type="course_enrolled")
    left = await table_rows(api, ActivityLog, activity_type="course_unenrolled")
    assert (len(enrolled), len(left)) == (CTE_ROWS + 1, 1)


async def test_many_records_of_a_unit_that_fails_are_not_written(api, backend):
    with pytest.raises(RuntimeError):
        async with unit_of_work(api.client.app[DATABASES], "acme") as uow:
            for _ in range(CTE_ROWS + 3):
                record_activity(uow.session, user_id="u-3", activity_type="course_updated")
            await uow.session.flush()
            raise RuntimeError("the unit fails")

    assert await table_rows(api, ActivityLog, user_id="u-3") == []
