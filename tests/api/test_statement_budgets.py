"""Statement budgets: how many SQL statements each route family's list, detail and create
runs (`bench.statements.StatementCounter`: every SQLAlchemy engine, and the direct asyncpg
reads), on both backends. A list runs as many for a page of 20 rows as for a page of 5, so a
query per row (an N+1) cannot come back; each stays within the count it has today (the same
on both backends), which later work may only lower.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from bench.statements import StatementCounter, kind
from tests.conftest import Api, Factory, token_for
from tests.fakes.commerce import commerce_settings, make_gateway

ROWS = 20
SMALL, LARGE = 5, 20
# The tenant registry's periodic reload (core tables) may land in any request: not the route's.
REGISTRY = {"select tenants", "select tenant_domains"}
CONVERSATIONS = "/api/lms/messaging/conversations/"


@pytest.fixture
def settings(settings: Any) -> Any:
    """With a sealing key, for the dummy gateway that checkout needs."""
    return commerce_settings(settings)


@dataclass(frozen=True)
class Seeded:
    """A family's routes over its seeded rows, and who calls them."""

    list_path: str
    detail_path: str
    create_path: str
    create_body: Callable[[int], dict[str, Any]]
    reader: str = "admin"
    creator: str = "admin"
    before_create: Callable[[int], Awaitable[None]] | None = None


async def posted(api: Api, path: str, body: dict[str, Any], as_: str) -> dict[str, Any]:
    reply = await api.post(path, body, as_=as_)
    assert reply.status in (200, 201), reply.body
    return dict(reply.body)


async def many(api: Api, path: str, bodies: list[dict[str, Any]], as_: str) -> list[int]:
    return [int((await posted(api, path, body, as_))["id"]) for body in bodies]


def join(path: str, query: str) -> str:
    return f"{path}{'&' if '?' in path else '?'}{query}"


async def courses(api: Api, make: Factory) -> Seeded:
    ids = [(await make.course())["id"] for _ in range(ROWS)]
    return Seeded(
        "/api/lms/courses/courses/",
        f"/api/lms/courses/courses/{ids[-1]}/",
        "/api/lms/courses/courses/",
        lambda n: {"title": f"New {n}", "code": f"NEW{n}", "level": "Beginner", "price": "5.00"},
        reader="student",
        creator="instructor",
    )


async def lessons(api: Api, make: Factory) -> Seeded:
    course = await make.course()
    module = await make.module(course["id"])
    await make.enroll(course["id"])
    ids = [(await make.lesson(module["id"]))["id"] for _ in range(ROWS)]
    # The reader's own completions ride on the page's one statement (a LEFT JOIN).
    for lesson in ids[::2]:
        await posted(api, f"/api/lms/courses/lessons/{lesson}/complete/", {}, "student")
    return Seeded(
        f"/api/lms/courses/lessons/?module={module['id']}",
        f"/api/lms/courses/lessons/{ids[-1]}/",
        "/api/lms/courses/lessons/",
        lambda n: {"module": module["id"], "title": f"New {n}", "content": "text"},
        reader="student",
        creator="instructor",
    )


async def enrollments(api: Api, make: Factory) -> Seeded:
    course = await make.course()
    path = f"/api/lms/courses/enrollments/course/{course['id']}/"
    ids = await many(api, path, [{"user_id": f"learner-{n}"} for n in range(ROWS)], "admin")
    return Seeded(
        f"/api/lms/courses/enrollments/?course={course['id']}",
        f"/api/lms/courses/enrollments/{ids[-1]}/",
        path,
        lambda n: {"user_id": f"newcomer-{n}"},
    )


async def forums(api: Api, make: Factory) -> Seeded:
    group = await posted(api, "/api/lms/groups/groups/", {"name": "Readers"}, "admin")
    bodies = [{"title": f"Forum {n}", "group_ids": [group["id"]]} for n in range(ROWS)]
    ids = await many(api, "/api/lms/forum/forums/", bodies, "admin")
    for forum in ids:
        await posted(api, "/api/lms/forum/posts/", {"forum": forum, "content": "hi"}, "admin")
    return Seeded(
        "/api/lms/forum/forums/",
        f"/api/lms/forum/forums/{ids[-1]}/",
        "/api/lms/forum/forums/",
        lambda n: {"title": f"New {n}", "group_ids": [group["id"]]},
    )


async def posts(api: Api, make: Factory) -> Seeded:
    forum = await posted(api, "/api/lms/forum/forums/", {"title": "Busy"}, "admin")
    bodies = [{"forum": forum["id"], "content": f"Post {n}"} for n in range(ROWS)]
    ids = await many(api, "/api/lms/forum/posts/", bodies, "student")
    for post in ids:
        reply = {"forum": forum["id"], "content": "re", "parent": post}
        await posted(api, "/api/lms/forum/posts/", reply, "student2")
    return Seeded(
        f"/api/lms/forum/forums/{forum['id']}/posts/?top_level=true",
        f"/api/lms/forum/posts/{ids[-1]}/",
        "/api/lms/forum/posts/",
        lambda n: {"forum": forum["id"], "content": f"New {n}"},
        reader="student",
        creator="student",
    )


async def groups(api: Api, make: Factory) -> Seeded:
    bodies = [{"name": f"Group {n}"} for n in range(ROWS)]
    ids = await many(api, "/api/lms/groups/groups/", bodies, "instructor")
    for group in ids:
        member = {"group": group, "user_id": "student-1"}
        await posted(api, "/api/lms/groups/members/", member, "instructor")
    return Seeded(
        "/api/lms/groups/groups/",
        f"/api/lms/groups/groups/{ids[-1]}/",
        "/api/lms/groups/groups/",
        lambda n: {"name": f"New {n}"},
        reader="student",
        creator="instructor",
    )


async def members(api: Api, make: Factory) -> Seeded:
    group = await posted(api, "/api/lms/groups/groups/", {"name": "Big"}, "instructor")
    bodies = [{"group": group["id"], "user_id": f"member-{n}"} for n in range(ROWS)]
    ids = await many(api, "/api/lms/groups/members/", bodies, "instructor")
    return Seeded(
        f"/api/lms/groups/members/?group={group['id']}",
        f"/api/lms/groups/members/{ids[-1]}/",
        "/api/lms/groups/members/",
        lambda n: {"group": group["id"], "user_id": f"joiner-{n}"},
        reader="instructor",
        creator="instructor",
    )


async def messages(api: Api, make: Factory) -> Seeded:
    ids = []
    for n in range(ROWS):
        body = {"recipient_id": "student-1", "content": f"Hello {n}"}
        reply = await api.post("/api/lms/messaging/messages/", body, token=token_for(f"pen-{n}"))
        assert reply.status == 201, reply.body
        ids.append(reply.body["id"])
    return Seeded(
        "/api/lms/messaging/messages/",
        f"/api/lms/messaging/messages/{ids[-1]}/",
        "/api/lms/messaging/messages/",
        lambda n: {"recipient_id": "student-2", "content": f"Reply {n}"},
        reader="student",
        creator="student",
    )


async def schedules(api: Api, make: Factory) -> Seeded:
    def body(n: int) -> dict[str, Any]:
        day = f"2027-01-{n % 28 + 1:02d}"
        return {
            "title": f"Meet {n}",
            "start_time": f"{day}T10:00:00Z",
            "end_time": f"{day}T11:00:00Z",
        }

    ids = await many(api, "/api/lms/schedule/schedules/", [body(n) for n in range(ROWS)], "admin")
    for schedule in ids:
        invite = {"schedule": schedule, "user_id": "student-1"}
        await posted(api, "/api/lms/schedule/participants/", invite, "admin")
    window = "start=2027-01-01T00:00:00Z&end=2027-02-01T00:00:00Z"
    return Seeded(
        f"/api/lms/schedule/schedules/?{window}",
        f"/api/lms/schedule/schedules/{ids[-1]}/",
        "/api/lms/schedule/schedules/",
        body,
    )


async def orders(api: Api, make: Factory) -> Seeded:
    await make_gateway(api)
    paid = [(await make.course(price="10.00"))["id"] for _ in range(ROWS + 4)]
    ids = []
    for course in paid[:ROWS]:
        await posted(api, "/api/lms/carts/cart-items/", {"course": course}, "student")
        checkout = await posted(
            api, "/api/lms/carts/checkout/", {"payment_method": "dummy"}, "student"
        )
        ids.append(checkout["order_id"])

    async def fill_cart(n: int) -> None:
        await posted(api, "/api/lms/carts/cart-items/", {"course": paid[ROWS + n]}, "student")

    return Seeded(
        "/api/lms/payments/orders/",
        f"/api/lms/payments/orders/{ids[-1]}/",
        "/api/lms/carts/checkout/",
        lambda n: {"payment_method": "dummy"},
        reader="student",
        creator="student",
        before_create=fill_cart,
    )


async def ai_sessions(api: Api, make: Factory) -> Seeded:
    bodies = [{"topic": f"Topic {n}"} for n in range(ROWS)]
    ids = await many(api, "/api/lms/ai_chat/sessions/", bodies, "student")
    return Seeded(
        "/api/lms/ai_chat/sessions/",
        f"/api/lms/ai_chat/sessions/{ids[-1]}/",
        "/api/lms/ai_chat/sessions/",
        lambda n: {"topic": f"New {n}"},
        reader="student",
        creator="student",
    )


async def quizzes(api: Api, make: Factory) -> Seeded:
    course = await make.course()
    module = await make.module(course["id"])
    lesson = await make.lesson(module["id"], lesson_type="quiz")
    await make.enroll(course["id"])
    bodies = [
        {"lesson": lesson["id"], "title": f"Quiz {n}", "is_published": True} for n in range(ROWS)
    ]
    ids = await many(api, "/api/lms/courses/quizzes/", bodies, "instructor")
    return Seeded(
        f"/api/lms/courses/quizzes/?course={course['id']}",
        f"/api/lms/courses/quizzes/{ids[-1]}/",
        "/api/lms/courses/quizzes/",
        lambda n: {"lesson": lesson["id"], "title": f"New {n}"},
        reader="student",
        creator="instructor",
    )


async def assignments(api: Api, make: Factory) -> Seeded:
    course = await make.course()
    await make.enroll(course["id"])
    bodies = [{"course": course["id"], "title": f"Essay {n}", "points": 10} for n in range(ROWS)]
    ids = await many(api, "/api/lms/courses/assignments/", bodies, "instructor")
    return Seeded(
        f"/api/lms/courses/assignments/?course={course['id']}",
        f"/api/lms/courses/assignments/{ids[-1]}/",
        "/api/lms/courses/assignments/",
        lambda n: {"course": course["id"], "title": f"New {n}", "points": 5},
        reader="student",
        creator="instructor",
    )


async def logged(api: Api, make: Factory, kind_path: str) -> Seeded:
    """Activity or audit records: the worker writes them after each action."""
    for _ in range(ROWS):
        await make.course()
    await api.settled()
    first = (await api.get(kind_path, as_="admin")).body["results"][0]["id"]
    return Seeded(kind_path, f"{kind_path}{first}/", "", lambda n: {})


async def activity_logs(api: Api, make: Factory) -> Seeded:
    return await logged(api, make, "/api/lms/activitylog/logs/")


async def audit_logs(api: Api, make: Factory) -> Seeded:
    return await logged(api, make, "/api/lms/auditlog/logs/")


Seeder = Callable[[Api, Factory], Awaitable[Seeded]]
FAMILIES: dict[str, Seeder] = {
    "courses": courses,
    "lessons": lessons,
    "enrollments": enrollments,
    "forums": forums,
    "posts": posts,
    "groups": groups,
    "members": members,
    "messages": messages,
    "schedules": schedules,
    "orders": orders,
    "ai_sessions": ai_sessions,
    "activity_logs": activity_logs,
    "audit_logs": audit_logs,
    "quizzes": quizzes,
    "assignments": assignments,
}
# Statements per request on 2026-12-06 (the same on both backends); lower them as routes
# get cheaper, never raise them to let a query per row in. The order create is a checkout
# of one line: the order, its line, the payment and the enrollment it grants.
LIST_BUDGETS = {
    "courses": 1,
    "lessons": 1,
    "enrollments": 1,
    "forums": 3,
    "posts": 1,
    "groups": 2,
    "members": 1,
    "messages": 2,
    "conversations": 4,
    "schedules": 2,
    "orders": 2,
    "ai_sessions": 1,
    "activity_logs": 1,
    "audit_logs": 1,
    "quizzes": 1,
    "assignments": 1,
}
DETAIL_BUDGETS = {
    "courses": 1,
    "lessons": 2,
    "enrollments": 1,
    "forums": 3,
    "posts": 3,
    "groups": 3,
    "members": 3,
    "messages": 2,
    "schedules": 2,
    "orders": 2,
    "ai_sessions": 1,
    "activity_logs": 1,
    "audit_logs": 1,
    "quizzes": 1,
    "assignments": 1,
}
# Each includes the request's activity INSERT and audit INSERT, made in its own
# transaction just before the commit (one multi-row INSERT per log table).
CREATE_BUDGETS = {
    "courses": 5,
    "lessons": 4,
    "enrollments": 7,
    "forums": 8,
    "posts": 5,
    "groups": 6,
    "members": 8,
    "messages": 4,
    "schedules": 4,
    "orders": 20,
    "ai_sessions": 3,
    "quizzes": 3,
    "assignments": 4,
}


async def statements(api: Api, method: str, path: str, as_: str, body: Any = None) -> list[str]:
    """The statements of one request (its caller sent the same request once before, so
    per-connection statement caches are warm); the registry's reload left out."""
    with StatementCounter() as counter:
        reply = await api.call(method, path, as_=as_, json=body)
    assert reply.status in (200, 201), reply.body
    found = [s for s in counter.statements if kind(s) not in REGISTRY]
    assert found  # the counter hears the request's statements
    return found


async def page_statements(api: Api, list_path: str, reader: str, size: int) -> list[str]:
    path = join(list_path, f"page_size={size}")
    reply = await api.get(path, as_=reader)
    assert len(reply.body["results"]) == size, reply.body
    return await statements(api, "GET", path, reader)


@pytest.mark.parametrize("family", list(FAMILIES))
async def test_a_list_runs_as_many_statements_for_20_rows_as_for_5_within_its_budget(
    api: Api, make: Factory, family: str
) -> None:
    seeded = await FAMILIES[family](api, make)

    small = await page_statements(api, seeded.list_path, seeded.reader, SMALL)
    large = await page_statements(api, seeded.list_path, seeded.reader, LARGE)

    assert len(large) == len(small), (small, large)
    assert len(large) <= LIST_BUDGETS[family], [kind(s) for s in large]


async def test_the_conversation_list_runs_as_many_statements_for_20_as_for_5_within_its_budget(
    api: Api, make: Factory
) -> None:
    seeded = await messages(api, make)  # 20 senders: 20 conversations

    small = await page_statements(api, CONVERSATIONS, seeded.reader, SMALL)
    large = await page_statements(api, CONVERSATIONS, seeded.reader, LARGE)

    assert len(large) == len(small), (small, large)
    assert len(large) <= LIST_BUDGETS["conversations"], large


@pytest.mark.parametrize("family", list(DETAIL_BUDGETS))
async def test_a_detail_stays_within_its_statement_budget(
    api: Api, make: Factory, family: str
) -> None:
    seeded = await FAMILIES[family](api, make)
    await api.get(seeded.detail_path, as_=seeded.reader)

    found = await statements(api, "GET", seeded.detail_path, seeded.reader)

    assert len(found) <= DETAIL_BUDGETS[family], [kind(s) for s in found]


@pytest.mark.parametrize("family", list(CREATE_BUDGETS))
async def test_a_create_stays_within_its_statement_budget(
    api: Api, make: Factory, family: str
) -> None:
    seeded = await FAMILIES[family](api, make)
    for n in (0, 1):  # the first warms the statement caches up
        if seeded.before_create is not None:
            await seeded.before_create(n)
        if n == 0:
            await posted(api, seeded.create_path, seeded.create_body(n), seeded.creator)

    found = await statements(api, "POST", seeded.create_path, seeded.creator, seeded.create_body(1))

    assert len(found) <= CREATE_BUDGETS[family], [kind(s) for s in found]


async def course_with_announcements(api: Api, make: Factory) -> str:
    """A published course, the student and 20 more learners in it, 20 announcements: the
    rows of the learner's record lists below."""
    course = await make.course()
    await make.enroll(course["id"], as_="student")
    for n in range(ROWS):
        await posted(
            api,
            f"/api/lms/courses/enrollments/course/{course['id']}/",
            {"user_id": f"learner-{n}"},
            "admin",
        )
        body = {"title": f"Note {n}", "message": "Read this."}
        await posted(api, f"/api/lms/courses/courses/{course['id']}/announce/", body, "instructor")
    await api.settled()  # the inbox rows, written by the workers
    return f"/api/lms/courses/courses/{course['id']}/"


# The learner's record: each list one statement a page, whatever the page's size.
RECORD_LISTS = {
    "announcements": ("announcements/", "student", 1),
    "roster": ("roster/", "instructor", 1),
    "notifications": ("/api/lms/notifications/notifications/", "student", 1),
}


@pytest.mark.parametrize("family", list(RECORD_LISTS))
async def test_a_learner_record_list_runs_as_many_statements_for_20_rows_as_for_5(
    api: Api, make: Factory, family: str
) -> None:
    course_path = await course_with_announcements(api, make)
    path, reader, budget = RECORD_LISTS[family]
    list_path = path if path.startswith("/") else course_path + path

    small = await page_statements(api, list_path, reader, SMALL)
    large = await page_statements(api, list_path, reader, LARGE)

    assert len(large) == len(small), (small, large)
    assert len(large) <= budget, large


async def test_the_gradebook_runs_as_many_statements_for_20_learners_as_for_5(
    api: Api, make: Factory
) -> None:
    course = await make.course()
    for n in range(ROWS):
        body = {"user_id": f"learner-{n}"}
        await posted(api, f"/api/lms/courses/enrollments/course/{course['id']}/", body, "admin")
    for n in range(2):
        body = {"course": course["id"], "title": f"Essay {n}", "points": 10}
        await posted(api, "/api/lms/courses/assignments/", body, "instructor")
    path = f"/api/lms/courses/courses/{course['id']}/gradebook/"

    small = await page_statements(api, path, "instructor", SMALL)
    large = await page_statements(api, path, "instructor", LARGE)

    assert len(large) == len(small), (small, large)
    # The course with its grading settings, the items, the page of enrollees, their grades.
    assert len(large) <= 4, [kind(s) for s in large]


async def test_the_grading_settings_are_read_with_the_course_in_one_statement(
    api: Api, make: Factory
) -> None:
    course = await make.course()
    path = f"/api/lms/courses/courses/{course['id']}/grading/"
    await api.get(path, as_="instructor")

    found = await statements(api, "GET", path, "instructor")

    assert len(found) == 1, [kind(s) for s in found]
