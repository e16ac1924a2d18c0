"""Assignments: who sees and changes them, and their gradebook items."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from models.base import utcnow
from models.grades.tables import GradeItem
from models.tenancy import Databases
from models.unit_of_work import unit_of_work
from tests.conftest import Api, Factory
from web.keys import DATABASES

ASSIGNMENTS = "/api/lms/courses/assignments/"
FORBIDDEN = {"detail": "You do not have permission to perform this action.", "status": 403}
NOT_FOUND = {"detail": "Not found.", "status": 404}


def iso(delta: timedelta) -> str:
    return (utcnow() + delta).isoformat().replace("+00:00", "Z")


async def new_assignment(api: Api, course_id: int, **fields: Any) -> dict[str, Any]:
    who = fields.pop("as_", "instructor")
    body = {"course": course_id, "title": "Essay", "points": 10, **fields}
    reply = await api.post(ASSIGNMENTS, body, as_=who)
    assert reply.status == 201, reply.body
    return dict(reply.body)


async def grade_items(api: Api) -> list[GradeItem]:
    databases: Databases = api.client.app[DATABASES]
    async with unit_of_work(databases, "acme") as uow:
        return list(await uow.session.scalars(select(GradeItem).order_by(GradeItem.id)))


@pytest.fixture
async def course(make: Factory) -> dict[str, Any]:
    course = await make.course()
    await make.enroll(course["id"], as_="student")
    return course


async def test_instructor_creates_an_assignment_with_every_field(api: Api, course, make) -> None:
    module = await make.module(course["id"])
    lesson = await make.lesson(module["id"])
    body = {
        "course": course["id"],
        "lesson": lesson["id"],
        "title": "Essay",
        "instructions": "Write 500 words.",
        "points": 10,
        "due_at": "2030-01-01T12:00:00Z",
        "late_policy": "percent_per_day",
        "late_percent_per_day": 10,
        "allowed_file_types": [".PDF", "docx", "pdf"],
        "max_file_bytes": 2048,
        "rubric": [
            {"id": "content", "title": "Content", "points": 6},
            {"id": "style", "title": "Style", "points": 4},
        ],
    }
    reply = await api.post(ASSIGNMENTS, body, as_="instructor")
    assert reply.status == 201, reply.body
    created = reply.body
    assert created["course"] == course["id"] and created["lesson"] == lesson["id"]
    assert created["due_at"] == "2030-01-01T12:00:00Z"
    assert created["allowed_file_types"] == ["pdf", "docx"]
    assert [c["id"] for c in created["rubric"]] == ["content", "style"]
    assert created["is_published"] is True
    assert created["created_by_person"]["id"] == "instructor-1"


async def test_creating_an_assignment_registers_its_gradebook_item(api: Api, course) -> None:
    created = await new_assignment(api, course["id"], points=25)
    [item] = await grade_items(api)
    assert (item.kind, item.source_id, item.course_id) == (
        "assignment",
        created["id"],
        course["id"],
    )
    assert (item.title, item.max_points) == ("Essay", 25.0)


async def test_changing_points_and_title_updates_the_gradebook_item(api: Api, course) -> None:
    created = await new_assignment(api, course["id"])
    url = f"{ASSIGNMENTS}{created['id']}/"
    reply = await api.patch(url, {"points": 40, "title": "Long essay"}, as_="instructor")
    assert reply.status == 200, reply.body
    [item] = await grade_items(api)
    assert (item.title, item.max_points) == ("Long essay", 40.0)


async def test_deleting_an_assignment_removes_its_gradebook_item(api: Api, course) -> None:
    created = await new_assignment(api, course["id"])
    reply = await api.delete(f"{ASSIGNMENTS}{created['id']}/", as_="instructor")
    assert reply.status == 204
    assert await grade_items(api) == []
    assert (await api.get(f"{ASSIGNMENTS}{created['id']}/", as_="instructor")).status == 404


async def test_a_learner_cannot_create_an_assignment(api: Api, course) -> None:
    body = {"course": course["id"], "title": "Essay", "points": 10}
    reply = await api.post(ASSIGNMENTS, body, as_="student")
    assert (reply.status, reply.body) == (403, FORBIDDEN)
    assert await grade_items(api) == []


async def test_another_instructor_cannot_change_or_delete_it(api: Api, course) -> None:
    created = await new_assignment(api, course["id"])
    url = f"{ASSIGNMENTS}{created['id']}/"
    assert (await api.patch(url, {"points": 1}, as_="instructor2")).status == 404
    assert (await api.delete(url, as_="instructor2")).status == 404


async def test_an_enrolled_learner_reads_but_cannot_change_it(api: Api, course) -> None:
    created = await new_assignment(api, course["id"])
    url = f"{ASSIGNMENTS}{created['id']}/"
    assert (await api.get(url, as_="student")).status == 200
    reply = await api.patch(url, {"points": 1}, as_="student")
    assert (reply.status, reply.body) == (403, FORBIDDEN)


async def test_learners_see_published_assignments_of_their_courses_only(
    api: Api, course, make
) -> None:
    shown = await new_assignment(api, course["id"], title="Shown")
    hidden = await new_assignment(api, course["id"], title="Draft", is_published=False)
    other = await make.course()
    await new_assignment(api, other["id"], title="Elsewhere")

    listing = await api.get(f"{ASSIGNMENTS}?course={course['id']}", as_="student")
    assert [a["title"] for a in listing.body["results"]] == ["Shown"]
    assert (await api.get(f"{ASSIGNMENTS}{hidden['id']}/", as_="student")).status == 404
    assert (await api.get(f"{ASSIGNMENTS}{shown['id']}/", as_="student2")).status == 404
    everything = await api.get(ASSIGNMENTS, as_="instructor")
    assert {a["title"] for a in everything.body["results"]} == {"Shown", "Draft", "Elsewhere"}


async def test_a_file_limit_above_the_servers_is_400(custom_api: Any) -> None:
    api = await custom_api(submission_file_max_bytes=1000)
    course = await Factory(api).course()
    body = {"course": course["id"], "title": "Essay", "points": 10, "max_file_bytes": 1001}
    reply = await api.post(ASSIGNMENTS, body, as_="instructor")
    assert reply.status == 400
    assert reply.body["max_file_bytes"] == [
        "Ensure this value is less than or equal to 1000 (the server's upload limit)."
    ]


async def test_the_default_file_limit_is_the_servers_when_lower(custom_api: Any) -> None:
    api = await custom_api(submission_file_max_bytes=1000)
    course = await Factory(api).course()
    created = await new_assignment(api, course["id"])
    assert created["max_file_bytes"] == 1000


async def test_rubric_points_must_add_up_to_the_assignments(api: Api, course) -> None:
    rubric = [{"id": "a", "title": "A", "points": 3}, {"id": "b", "title": "B", "points": 3}]
    body = {"course": course["id"], "title": "Essay", "points": 10, "rubric": rubric}
    reply = await api.post(ASSIGNMENTS, body, as_="instructor")
    assert reply.status == 400
    assert reply.body["rubric"] == [
        "The criteria's points add up to 6; the assignment is worth 10."
    ]
    assert await grade_items(api) == []


async def test_changing_points_away_from_the_rubrics_total_is_400(api: Api, course) -> None:
    rubric = [{"id": "a", "title": "A", "points": 10}]
    created = await new_assignment(api, course["id"], rubric=rubric)
    reply = await api.patch(f"{ASSIGNMENTS}{created['id']}/", {"points": 12}, as_="instructor")
    assert reply.status == 400 and "rubric" in reply.body
    [item] = await grade_items(api)
    assert item.max_points == 10.0


TWICE_THE_SAME_ID = [
    {"id": "a", "title": "A", "points": 5},
    {"id": "a", "title": "B", "points": 5},
]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("points", 0),
        ("points", -1),
        ("points", True),
        ("late_percent_per_day", False),
        ("late_policy", "sometimes"),
        ("late_percent_per_day", 101),
        ("allowed_file_types", ["p df"]),
        ("allowed_file_types", "pdf"),
        ("max_file_bytes", 0),
        ("due_at", 1700000000),
        (
            "rubric",
            [{"id": "a", "title": "A", "points": 5}, {"id": "a", "title": "B", "points": 5}],
        ),
    ],
)
async def test_bad_fields_are_400_on_the_field(api: Api, course, field: str, value: Any) -> None:
    body = {"course": course["id"], "title": "Essay", "points": 10, field: value}
    reply = await api.post(ASSIGNMENTS, body, as_="instructor")
    assert reply.status == 400
    assert field in reply.body
    assert await grade_items(api) == []


async def test_a_lesson_of_another_course_is_400(api: Api, course, make) -> None:
    other = await make.course()
    lesson = await make.lesson((await make.module(other["id"]))["id"])
    body = {"course": course["id"], "title": "Essay", "points": 10, "lesson": lesson["id"]}
    reply = await api.post(ASSIGNMENTS, body, as_="instructor")
    assert reply.status == 400
    assert reply.body["lesson"] == [f'Invalid pk "{lesson["id"]}" - object does not exist.']


async def test_an_unseen_course_is_400_on_course(api: Api, make) -> None:
    draft = await make.course(status="Draft")
    body = {"course": draft["id"], "title": "Essay", "points": 10}
    reply = await api.post(ASSIGNMENTS, body, as_="instructor2")
    assert reply.status == 400
    assert "course" in reply.body


async def test_due_at_can_be_cleared(api: Api, course) -> None:
    created = await new_assignment(api, course["id"], due_at=iso(timedelta(days=3)))
    url = f"{ASSIGNMENTS}{created['id']}/"
    reply = await api.patch(url, {"due_at": None}, as_="instructor")
    assert (reply.status, reply.body["due_at"]) == (200, None)


async def test_a_null_file_limit_goes_back_to_the_default(api: Api, course) -> None:
    created = await new_assignment(api, course["id"], max_file_bytes=100)
    url = f"{ASSIGNMENTS}{created['id']}/"
    reply = await api.patch(url, {"max_file_bytes": None}, as_="instructor")
    assert (reply.status, reply.body["max_file_bytes"]) == (200, 10 * 1024 * 1024)
