"""A course's announcements, kept and listed newest first to whoever sees the course."""

from __future__ import annotations

from typing import Any

from bench.statements import StatementCounter, kind
from tests.api.test_statement_budgets import REGISTRY
from tests.matchers import ID, NOT_FOUND, TIMESTAMP

COURSES = "/api/lms/courses/courses/"


def announce_url(course_id: int) -> str:
    return f"{COURSES}{course_id}/announce/"


def list_url(course_id: int) -> str:
    return f"{COURSES}{course_id}/announcements/"


async def announce(api: Any, course_id: int, title: str, as_: str = "instructor") -> None:
    reply = await api.post(announce_url(course_id), {"title": title, "message": "m"}, as_=as_)
    assert reply.status == 201, reply.body


async def test_announcements_are_listed_newest_first_with_their_fields(api, make):
    course = await make.course()
    await announce(api, course["id"], "first")
    await announce(api, course["id"], "second")

    reply = await api.get(list_url(course["id"]), as_="student")

    assert reply.status == 200, reply.body
    assert reply.body == {
        "count": 2,
        "next": None,
        "previous": None,
        "results": [
            {
                "id": ID,
                "course_id": course["id"],
                "title": title,
                "message": "m",
                "created_by": "instructor-1",
                "created_by_person": {
                    "id": "instructor-1",
                    "name": "instructor-1",
                    "picture": None,
                },
                "created_at": TIMESTAMP,
            }
            for title in ("second", "first")
        ],
    }


async def test_the_list_renders_an_announcement_as_the_announce_reply_did(api, make):
    course = await make.course()
    created = await api.post(
        announce_url(course["id"]), {"title": "t", "message": "m"}, as_="admin"
    )

    reply = await api.get(list_url(course["id"]), as_="student")

    assert reply.body["results"] == [created.body]


async def test_announcements_are_paginated(api, make):
    course = await make.course()
    for n in range(3):
        await announce(api, course["id"], f"a{n}")

    first = await api.get(list_url(course["id"]) + "?page_size=2", as_="student")
    second = await api.get(list_url(course["id"]) + "?page_size=2&page=2", as_="student")

    assert first.body["count"] == 3 and first.body["next"] is not None
    assert [a["title"] for a in first.body["results"]] == ["a2", "a1"]
    assert [a["title"] for a in second.body["results"]] == ["a0"]


async def test_a_course_without_announcements_lists_none(api, make):
    course = await make.course()

    reply = await api.get(list_url(course["id"]), as_="student")

    assert (reply.status, reply.body["count"], reply.body["results"]) == (200, 0, [])


async def test_a_draft_course_announcements_are_a_404_to_a_student(api, make):
    course = await make.course(status="Draft")
    await announce(api, course["id"], "hidden")

    reply = await api.get(list_url(course["id"]), as_="student")

    assert (reply.status, reply.body) == (404, NOT_FOUND)


async def test_a_draft_course_announcements_are_listed_to_its_instructor_and_admins(api, make):
    course = await make.course(status="Draft")
    await announce(api, course["id"], "draft news")

    mine = await api.get(list_url(course["id"]), as_="instructor")
    admin = await api.get(list_url(course["id"]), as_="admin")
    other = await api.get(list_url(course["id"]), as_="instructor2")

    assert [a["title"] for a in mine.body["results"]] == ["draft news"]
    assert [a["title"] for a in admin.body["results"]] == ["draft news"]
    assert (other.status, other.body) == (404, NOT_FOUND)


async def test_an_unknown_course_announcements_are_a_404(api):
    reply = await api.get(list_url(999999), as_="admin")

    assert (reply.status, reply.body) == (404, NOT_FOUND)


async def test_another_course_announcements_are_not_listed(api, make):
    course, other = await make.course(), await make.course()
    await announce(api, other["id"], "elsewhere")

    reply = await api.get(list_url(course["id"]), as_="student")

    assert reply.body["results"] == []


async def test_a_page_past_the_end_is_a_404(api, make):
    course = await make.course()
    await announce(api, course["id"], "only")

    reply = await api.get(list_url(course["id"]) + "?page=2", as_="student")

    assert (reply.status, reply.body) == (404, {"detail": "Invalid page.", "status": 404})


async def test_an_announcements_page_is_one_statement(api, make):
    course = await make.course()
    await announce(api, course["id"], "one")
    await api.get(list_url(course["id"]), as_="student")  # statement caches warm

    with StatementCounter() as counter:
        reply = await api.get(list_url(course["id"]), as_="student")

    assert reply.status == 200
    assert [kind(s) for s in counter.statements if kind(s) not in REGISTRY] == [
        "select course_announcements"
    ]
