"""A course's roster: its instructor's and admins', as pages of JSON or one streamed CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from bench.statements import StatementCounter, kind
from models.courses.tables import Enrollment
from models.people.tables import User
from tests.api.test_statement_budgets import REGISTRY
from tests.matchers import FORBIDDEN, NOT_FOUND, TIMESTAMP
from web.keys import DATABASES

COURSES = "/api/lms/courses/courses/"
LESSONS = "/api/lms/courses/lessons/"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
CSV_HEADER = [
    "user_id",
    "name",
    "enrolled_at",
    "completed_at",
    "progress",
    "is_active",
    "last_activity",
]


def roster_url(course_id: int, query: str = "") -> str:
    return f"{COURSES}{course_id}/roster/{query}"


async def add_rows(api: Any, model: Any, rows: list[dict[str, Any]]) -> None:
    """Rows written straight into tenant acme's table (what no endpoint writes)."""
    async with api.client.app[DATABASES].tenant_sessions("acme")() as session:
        for start in range(0, len(rows), 500):
            await session.execute(insert(model), rows[start : start + 500])
        await session.commit()


def enrollment(course_id: int, user_id: str, day: int, **fields: Any) -> dict[str, Any]:
    return {
        "user_id": user_id,
        "course_id": course_id,
        "enrolled_at": T0 + timedelta(days=day),
        "is_active": True,
        "progress": 0.0,
        **fields,
    }


async def three_enrollees(api: Any, course_id: int) -> None:
    """ann (named yan, completed), bob (no name), cy (named cyd, half way)."""
    await add_rows(
        api,
        Enrollment,
        [
            enrollment(course_id, "ann", 1, progress=100.0, completed_at=T0 + timedelta(days=5)),
            enrollment(course_id, "bob", 2),
            enrollment(course_id, "cy", 3, progress=50.0),
        ],
    )
    await add_rows(
        api,
        User,
        [
            {"user_id": "ann", "name": "yan", "updated_at": T0},
            {"user_id": "bob", "name": None, "updated_at": T0},
            {"user_id": "cy", "name": "cyd", "updated_at": T0},
        ],
    )


def ids(reply: Any) -> list[str]:
    return [row["user_id"] for row in reply.body["results"]]


def csv_rows(reply: Any) -> list[list[str]]:
    return list(csv.reader(io.StringIO(reply.body.decode())))


async def test_the_roster_lists_an_enrollee_with_their_dates_and_progress(api, make):
    course = await make.course()
    await make.enroll(course["id"])

    reply = await api.get(roster_url(course["id"]), as_="instructor")

    assert reply.status == 200, reply.body
    assert reply.body["count"] == 1
    [row] = reply.body["results"]
    assert row == {
        "user_id": "student-1",
        "user": {"id": "student-1", "name": "student-1", "picture": None},
        "name": "student-1",
        "enrolled_at": TIMESTAMP,
        "completed_at": None,
        "progress": 0.0,
        "is_active": True,
        "last_activity": row["enrolled_at"],
    }


async def test_names_come_from_the_directory_and_are_the_id_when_unknown_or_null(api, make):
    course = await make.course()
    await three_enrollees(api, course["id"])
    await add_rows(api, Enrollment, [enrollment(course["id"], "dee", 4)])

    reply = await api.get(roster_url(course["id"]), as_="instructor")

    names = {row["user_id"]: row["name"] for row in reply.body["results"]}
    assert names == {"ann": "yan", "bob": "bob", "cy": "cyd", "dee": "dee"}


async def test_last_activity_is_the_latest_lesson_completion(api, make):
    course = await make.course()
    lesson = await make.lesson((await make.module(course["id"]))["id"])
    await make.enroll(course["id"])
    done = await api.post(f"{LESSONS}{lesson['id']}/complete/", as_="student")
    assert done.status == 200, done.body

    reply = await api.get(roster_url(course["id"]), as_="instructor")

    [row] = reply.body["results"]
    assert row["completed_at"] == TIMESTAMP and row["progress"] == 100.0
    assert row["last_activity"] > row["enrolled_at"]


async def test_the_default_order_is_by_enrollment_date(api, make):
    course = await make.course()
    await three_enrollees(api, course["id"])

    reply = await api.get(roster_url(course["id"]), as_="instructor")

    assert ids(reply) == ["ann", "bob", "cy"]


async def test_ordering_by_name_descending(api, make):
    course = await make.course()
    await three_enrollees(api, course["id"])

    reply = await api.get(roster_url(course["id"], "?ordering=-name"), as_="instructor")

    assert ids(reply) == ["ann", "cy", "bob"]  # yan, cyd, bob


async def test_ordering_by_progress_then_last_activity(api, make):
    course = await make.course()
    await three_enrollees(api, course["id"])

    reply = await api.get(
        roster_url(course["id"], "?ordering=progress,-last_activity"), as_="instructor"
    )

    assert ids(reply) == ["bob", "cy", "ann"]


async def test_completed_true_lists_those_who_completed(api, make):
    course = await make.course()
    await three_enrollees(api, course["id"])

    reply = await api.get(roster_url(course["id"], "?completed=true"), as_="instructor")

    assert ids(reply) == ["ann"]


async def test_completed_false_lists_those_who_have_not(api, make):
    course = await make.course()
    await three_enrollees(api, course["id"])

    reply = await api.get(roster_url(course["id"], "?completed=false"), as_="instructor")

    assert ids(reply) == ["bob", "cy"]


async def test_search_matches_ids_and_names(api, make):
    course = await make.course()
    await three_enrollees(api, course["id"])

    by_name = await api.get(roster_url(course["id"], "?search=YA"), as_="instructor")
    by_id = await api.get(roster_url(course["id"], "?search=BO"), as_="instructor")

    assert (ids(by_name), ids(by_id)) == (["ann"], ["bob"])


async def test_an_admin_reads_any_roster(api, make):
    course = await make.course(status="Draft")
    await three_enrollees(api, course["id"])

    reply = await api.get(roster_url(course["id"]), as_="admin")

    assert reply.body["count"] == 3


async def test_a_student_is_refused_the_roster(api, make):
    course = await make.course()
    await make.enroll(course["id"])

    reply = await api.get(roster_url(course["id"]), as_="student")

    assert (reply.status, reply.body) == (403, FORBIDDEN)


async def test_another_instructor_is_refused_a_published_course_roster(api, make):
    course = await make.course()
    await three_enrollees(api, course["id"])

    reply = await api.get(roster_url(course["id"]), as_="instructor2")

    assert (reply.status, reply.body) == (403, FORBIDDEN)


async def test_another_instructor_draft_course_roster_is_a_404(api, make):
    course = await make.course(status="Draft")

    reply = await api.get(roster_url(course["id"]), as_="instructor2")

    assert (reply.status, reply.body) == (404, NOT_FOUND)


async def test_an_unknown_course_roster_is_a_404(api):
    reply = await api.get(roster_url(999999), as_="admin")

    assert (reply.status, reply.body) == (404, NOT_FOUND)


async def test_an_empty_roster_is_an_empty_page(api, make):
    course = await make.course()

    reply = await api.get(roster_url(course["id"]), as_="instructor")

    assert (reply.status, reply.body["count"], reply.body["results"]) == (200, 0, [])


async def test_the_roster_is_paginated(api, make):
    course = await make.course()
    await three_enrollees(api, course["id"])

    reply = await api.get(roster_url(course["id"], "?page_size=2&page=2"), as_="instructor")

    assert (reply.body["count"], ids(reply)) == (3, ["cy"])


async def test_format_csv_streams_the_roster_as_csv(api, make):
    course = await make.course()
    await three_enrollees(api, course["id"])

    reply = await api.get(roster_url(course["id"], "?format=csv"), as_="instructor")

    assert reply.status == 200
    assert reply.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in reply.headers["Content-Disposition"]
    assert "X-Request-ID" in reply.headers  # the middlewares' headers go out with the rows
    assert csv_rows(reply) == [
        CSV_HEADER,
        [
            "ann",
            "yan",
            "2026-01-02T00:00:00Z",
            "2026-01-06T00:00:00Z",
            "100.00",
            "true",
            "2026-01-02T00:00:00Z",
        ],
        ["bob", "bob", "2026-01-03T00:00:00Z", "", "0.00", "true", "2026-01-03T00:00:00Z"],
        ["cy", "cyd", "2026-01-04T00:00:00Z", "", "50.00", "true", "2026-01-04T00:00:00Z"],
    ]


async def test_accept_text_csv_asks_for_the_csv(api, make):
    course = await make.course()
    await three_enrollees(api, course["id"])

    reply = await api.get(
        roster_url(course["id"]), as_="instructor", headers={"Accept": "text/csv"}
    )

    assert reply.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert [row[0] for row in csv_rows(reply)] == ["user_id", "ann", "bob", "cy"]


async def test_the_csv_takes_the_filters_and_ordering(api, make):
    course = await make.course()
    await three_enrollees(api, course["id"])

    reply = await api.get(
        roster_url(course["id"], "?format=csv&completed=false&ordering=-user_id"),
        as_="instructor",
    )

    assert [row[0] for row in csv_rows(reply)] == ["user_id", "cy", "bob"]


async def test_a_student_is_refused_the_csv_in_json(api, make):
    course = await make.course()

    reply = await api.get(roster_url(course["id"], "?format=csv"), as_="student")

    assert (reply.status, reply.body) == (403, FORBIDDEN)


async def test_a_large_roster_streams_every_row_in_order(api, make):
    course = await make.course()
    users = [f"user-{n:05d}" for n in range(2000)]
    await add_rows(api, Enrollment, [enrollment(course["id"], u, 0) for u in users])

    reply = await api.get(roster_url(course["id"], "?format=csv&ordering=user_id"), as_="admin")

    rows = csv_rows(reply)
    assert reply.headers["Transfer-Encoding"] == "chunked"  # written as read, no length
    assert rows[0] == CSV_HEADER
    assert [row[0] for row in rows[1:]] == users


async def test_a_large_roster_is_counted_on_its_json_pages(api, make):
    course = await make.course()
    await add_rows(
        api, Enrollment, [enrollment(course["id"], f"user-{n:05d}", 0) for n in range(2000)]
    )

    reply = await api.get(
        roster_url(course["id"], "?ordering=-user_id&page=3&page_size=100"), as_="instructor"
    )

    assert reply.body["count"] == 2000
    assert ids(reply)[0] == "user-01799"


async def test_a_roster_page_is_one_statement(api, make):
    course = await make.course()
    await three_enrollees(api, course["id"])
    path = roster_url(course["id"], "?search=b&ordering=-last_activity")
    await api.get(path, as_="instructor")  # per-connection statement caches warm

    with StatementCounter() as counter:
        reply = await api.get(path, as_="instructor")

    assert reply.status == 200
    assert [kind(s) for s in counter.statements if kind(s) not in REGISTRY] == [
        "select enrollments"
    ]
