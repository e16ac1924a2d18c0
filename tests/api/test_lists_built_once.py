"""A list's statement is built once per shape (which filters, a search or not, the order,
the reader's kind) and run for every reader with their own values bound: a second reader
of the same shape costs no statement building, and still sees only what is theirs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from models.ai_chat.operations import _sessions_statement
from models.assignments.operations import _assignments_statement
from models.courses.enrollments import _enrollments_statement
from models.courses.structure import _lessons_statement
from models.forums.operations import _forums_statement
from models.groups.operations import _groups_statement, _members_statement
from models.logs.operations import _activity_statement, _audit_statement
from models.messaging.queries import _conversations_statement, _messages_statement
from models.payments.orders import _orders_statement
from models.quizzes.operations import _quizzes_statement
from models.schedules.operations import _schedules_statement, _window_statement
from tests.conftest import Api, Factory

GROUPS = "/api/lms/groups/groups/"
MEMBERS = "/api/lms/groups/members/"
FORUMS = "/api/lms/forum/forums/"
ENROLLMENTS = "/api/lms/courses/enrollments/"
READERS = ("student", "student2")
WINDOW = "start=2027-01-01T00:00:00Z&end=2027-02-01T00:00:00Z"


def builds(builder: Any) -> int:
    """How many statements `builder` has built (its cache's misses)."""
    return int(builder.cache_info().misses)


async def titles(api: Api, path: str, as_: str, key: str) -> list[Any]:
    reply = await api.get(path, as_=as_)
    assert reply.status == 200, reply.body
    return [row[key] for row in reply.body["results"]]


async def a_group_each(api: Api) -> None:
    """Each reader is in a group of their own (added by the instructor who owns both)."""
    for reader, user in zip(READERS, ("student-1", "student-2"), strict=True):
        group = (await api.post(GROUPS, {"name": f"of {reader}"}, as_="instructor")).body
        added = await api.post(MEMBERS, {"group": group["id"], "user_id": user}, as_="instructor")
        assert added.status == 201, added.body


@pytest.mark.parametrize(
    ("path", "builder", "key"),
    [(GROUPS, _groups_statement, "name"), (MEMBERS, _members_statement, "user_id")],
)
async def test_two_readers_of_a_group_list_share_one_statement_and_see_their_own(
    api: Api, path: str, builder: Callable[..., Any], key: str
) -> None:
    await a_group_each(api)
    builder.cache_clear()  # type: ignore[attr-defined]

    first = await titles(api, path, "student", key)
    second = await titles(api, path, "student2", key)

    assert builds(builder) == 1
    if path == GROUPS:
        assert (first, second) == (["of student"], ["of student2"])
    else:
        assert ("student-1" in first, "student-2" in first) == (True, False)
        assert ("student-2" in second, "student-1" in second) == (True, False)


async def test_two_readers_of_the_forum_list_share_one_statement_and_see_their_own(
    api: Api,
) -> None:
    await a_group_each(api)
    groups = (await api.get(GROUPS, as_="instructor")).body["results"]
    for group in groups:
        body = {"title": f"forum {group['name']}", "group_ids": [group["id"]]}
        await api.post(FORUMS, {**body, "is_restricted": True}, as_="instructor")
    _forums_statement.cache_clear()

    first = await titles(api, FORUMS, "student", "title")
    second = await titles(api, FORUMS, "student2", "title")

    assert builds(_forums_statement) == 1
    assert (first, second) == (["forum of student"], ["forum of student2"])


async def test_two_learners_enrollment_lists_share_one_statement_and_show_their_own(
    api: Api, make: Factory
) -> None:
    course = await make.course()
    for reader in READERS:
        await make.enroll(course["id"], as_=reader)
    _enrollments_statement.cache_clear()

    first = await titles(api, ENROLLMENTS, "student", "user")
    second = await titles(api, ENROLLMENTS, "student2", "user")

    assert builds(_enrollments_statement) == 1
    assert (first, second) == (["student-1"], ["student-2"])


async def test_another_filter_is_another_shape(api: Api, make: Factory) -> None:
    course = await make.course()
    await make.enroll(course["id"], as_="student")
    _enrollments_statement.cache_clear()

    unfiltered = await titles(api, ENROLLMENTS, "student", "user")
    filtered = await titles(api, f"{ENROLLMENTS}?course={course['id']}", "student", "user")
    elsewhere = await titles(api, f"{ENROLLMENTS}?course={course['id'] + 1}", "student", "user")

    assert builds(_enrollments_statement) == 2
    assert (unfiltered, filtered, elsewhere) == (["student-1"], ["student-1"], [])


@pytest.mark.parametrize(
    ("path", "builder", "readers"),
    [
        ("/api/lms/ai_chat/sessions/", _sessions_statement, READERS),
        ("/api/lms/activitylog/logs/", _activity_statement, READERS),
        ("/api/lms/auditlog/logs/", _audit_statement, ("admin", "b_admin")),  # two tenants
        ("/api/lms/payments/orders/", _orders_statement, READERS),
        ("/api/lms/schedule/schedules/", _schedules_statement, READERS),
        (f"/api/lms/schedule/schedules/?{WINDOW}", _window_statement, READERS),
        ("/api/lms/messaging/messages/?box=inbox", _messages_statement, READERS),
        ("/api/lms/courses/lessons/", _lessons_statement, READERS),
        ("/api/lms/courses/quizzes/", _quizzes_statement, READERS),
        ("/api/lms/courses/assignments/", _assignments_statement, READERS),
    ],
)
async def test_a_second_reader_runs_the_statement_built_for_the_first(
    api: Api, path: str, builder: Any, readers: tuple[str, str]
) -> None:
    builder.cache_clear()

    for reader in readers:
        reply = await api.get(path, as_=reader)
        assert reply.status == 200, reply.body

    assert builds(builder) == 1


CONVERSATIONS = "/api/lms/messaging/conversations/"


async def test_two_readers_of_their_conversations_share_one_statement_and_see_their_own(
    api: Api,
) -> None:
    """student-1 writes to user-a; student-2 writes to student-1, then to user-c."""
    for sender, recipient in (
        ("student", "user-a"),
        ("student2", "student-1"),
        ("student2", "user-c"),
    ):
        body = {"recipient_id": recipient, "content": "hi", "message_type": "direct"}
        assert (await api.post("/api/lms/messaging/messages/", body, as_=sender)).status == 201
    _conversations_statement.cache_clear()

    first = (await api.get(CONVERSATIONS, as_="student")).body
    second = (await api.get(CONVERSATIONS, as_="student2")).body

    assert builds(_conversations_statement) == 1
    assert first["count"] == 2
    assert [(c["with"], c["unread_count"]) for c in first["results"]] == [
        ("student-2", 1),
        ("user-a", 0),
    ]
    assert second["count"] == 2
    assert [(c["with"], c["unread_count"]) for c in second["results"]] == [
        ("user-c", 0),
        ("student-1", 0),
    ]
