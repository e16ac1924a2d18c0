"""Every route declared with `routes.read` writes nothing: each is called, with one of
everything in the tenant (a stale tutor answer included, which some reads would fail and
store), and a write in its read-only unit of work would be refused (a 500)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import FormData
from sqlalchemy import update

from models.ai_chat.tables import PENDING, AiChatMessage
from models.base import utcnow
from tests.conftest import Api, Factory
from tests.fakes.commerce import CART_ITEMS, CHECKOUT, commerce_settings, make_gateway
from web.config import Settings
from web.keys import DATABASES, ROUTES
from web.routing import Endpoint

# Who calls each route: the first of them the route answers with a 200 shows it was served.
CALLERS = ("admin", "instructor", "student")
PARAM = re.compile(r"\{[a-z_]+(?::[^{}]*(?:\{[^{}]*\}[^{}]*)*)?\}")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return commerce_settings(settings)


def read_routes(api: Api) -> list[Endpoint]:
    return [e for e in api.client.app[ROUTES].endpoints if e.read_only]


async def created(api: Api, path: str, body: dict[str, Any], as_: str) -> dict[str, Any]:
    reply = await api.post(path, body, as_=as_)
    assert reply.status in (200, 201), (path, reply.body)
    return dict(reply.body)


async def one_of_everything(api: Api, make: Factory) -> None:
    """A course with content, bought and rated, an assignment and its submission; a cart; a
    group, forum, schedule, messages; a tutor session whose answer was lost long ago
    (reading it would fail it)."""
    await a_quiz_attempt(api, make)  # first: the last lesson listed stays the one with a file
    course = await make.course(price="10.00")
    module = await make.module(course["id"])
    lesson = await make.lesson(module["id"])
    form = FormData()
    form.add_field("file", b"%PDF-1.4 one\n", filename="one.pdf", content_type="application/pdf")
    upload = await api.post(
        f"/api/lms/courses/lessons/{lesson['id']}/upload-file/", data=form, as_="instructor"
    )
    assert upload.status == 200, upload.body
    resource = {"lesson": lesson["id"], "title": "Docs", "url": "https://docs.python.org/3/"}
    await created(api, "/api/lms/courses/resources/", resource, "instructor")
    await make_gateway(api, name="Dummy", is_default=True)
    await created(api, CART_ITEMS, {"course": course["id"], "quantity": 1}, "student")
    await created(api, CHECKOUT, {}, "student")
    await created(api, f"/api/lms/courses/ratings/course/{course['id']}/", {"rating": 5}, "student")
    other = await make.course(price="20.00")
    await created(api, CART_ITEMS, {"course": other["id"], "quantity": 1}, "student")
    group = await created(api, "/api/lms/groups/groups/", {"name": "Readers"}, "instructor")
    member = {"group": group["id"], "user_id": "student-1"}
    await created(api, "/api/lms/groups/members/", member, "instructor")
    forum = await created(api, "/api/lms/forum/forums/", {"title": "Open"}, "instructor")
    post = {"forum": forum["id"], "content": "Hello"}
    await created(api, "/api/lms/forum/posts/", post, "student")
    schedule = {
        "title": "Sync",
        "start_time": "2025-11-20T10:00:00Z",
        "end_time": "2025-11-20T11:00:00Z",
    }
    schedule_id = (await created(api, "/api/lms/schedule/schedules/", schedule, "instructor"))["id"]
    invite = {"schedule": schedule_id, "user_id": "student-1"}
    await created(api, "/api/lms/schedule/participants/", invite, "instructor")
    message = {"recipient_id": "instructor-1", "content": "Hi", "message_type": "direct"}
    await created(api, "/api/lms/messaging/messages/", message, "student")
    chat = await created(api, "/api/lms/ai_chat/sessions/", {"topic": "Help"}, "student")
    asked = await created(
        api, "/api/lms/ai_chat/messages/", {"session": chat["id"], "message": "Why?"}, "student"
    )
    assignment = {"course": course["id"], "title": "Essay", "points": 10}
    essay = await created(api, "/api/lms/courses/assignments/", assignment, "instructor")
    work = {"assignment": essay["id"], "text": "My essay."}
    await created(api, "/api/lms/courses/submissions/", work, "student")
    bulk = {"course": course["id"], "user_ids": ["student-2", ""]}
    job = await api.post("/api/lms/courses/enrollments/bulk/", bulk, as_="instructor")
    assert job.status == 202, job.body
    await api.settled()
    async with api.client.app[DATABASES].tenant_sessions("acme").begin() as session:
        await session.execute(
            update(AiChatMessage)
            .where(AiChatMessage.id == asked["reply"]["id"])
            .values(status=PENDING, started_at=None, created_at=utcnow() - timedelta(days=1))
        )


async def a_quiz_attempt(api: Api, make: Factory) -> None:
    """A quiz with a question, and the student's attempt at it."""
    course = await make.course()
    await make.enroll(course["id"])
    lesson = await make.lesson((await make.module(course["id"]))["id"], lesson_type="quiz")
    quiz = {"lesson": lesson["id"], "title": "Check", "is_published": True}
    quiz_id = (await created(api, "/api/lms/courses/quizzes/", quiz, "instructor"))["id"]
    question = {"quiz": quiz_id, "kind": "true_false", "prompt": "?", "true_false_answer": True}
    await created(api, "/api/lms/courses/questions/", question, "instructor")
    await created(api, f"/api/lms/courses/quizzes/{quiz_id}/attempts/", {}, "student")


async def concrete_path(api: Api, path: str, as_: str) -> str | None:
    """`path` with its id taken from the last row of the list it sits under, if any."""
    match = PARAM.search(path)
    if match is None:
        return path
    listing = await api.get(path[: match.start()], as_=as_)
    rows = listing.body.get("results") if isinstance(listing.body, dict) else None
    if listing.status != 200 or not rows:
        return None
    return path[: match.start()] + str(rows[-1]["id"]) + path[match.end() :]


async def test_every_read_only_route_answers_without_writing(api, make):
    await one_of_everything(api, make)
    routes = read_routes(api)
    unserved: dict[str, dict[str, int]] = {}

    for endpoint in routes:
        statuses: dict[str, int] = {}
        for caller in CALLERS:
            path = await concrete_path(api, endpoint.path, caller)
            if path is not None:
                statuses[caller] = (await api.get(path, as_=caller)).status
        if 200 not in statuses.values() or any(s >= 500 for s in statuses.values()):
            unserved[endpoint.path] = statuses

    assert len(routes) > 40  # the catalogue, content, logs, commerce, groups, forums, ...
    assert unserved == {}
