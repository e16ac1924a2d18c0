"""The app served on a real local port, for clients that speak HTTP from their own thread
(schemathesis, a generated client): the embedded SQLite default, one tenant, some data."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from aiohttp import web

from migrations.runner import provision_tenant
from tests.conftest import DEFAULT_TENANT, free_port, settings_for, token_for
from web.app import create_app
from web.config import Settings
from web.health import VERSION
from web.keys import DISPATCHER, ROUTES
from web.openapi import build_openapi

# What the seed creates on a fresh database, by the path parameter that names it (category 1
# is every tenant's "General").
SEEDED_IDS = {
    "course_id": 1,
    "category_id": 2,
    "module_id": 1,
    "lesson_id": 1,
    "resource_id": 1,
    "enrollment_id": 1,
    "rating_id": 1,
    "group_id": 1,
    "member_id": 2,
    "forum_id": 1,
    "post_id": 1,
    "schedule_id": 1,
    "participant_id": 1,
    "message_id": 1,
    "session_id": 1,
}


def settings_in(directory: Path) -> Settings:
    return settings_for(
        f"sqlite+aiosqlite:///{directory / 'lms.db'}",
        directory,
        # Budgets are tested elsewhere; here they would only turn cases into 429s.
        rate_limits=False,
    )


def served_document() -> dict[str, Any]:
    """The OpenAPI document exactly as the app serves it, built without serving."""
    app = create_app(settings_in(Path("unused")))
    return build_openapi(app[ROUTES].endpoints, title="LMS API", version=VERSION)


@dataclass(frozen=True)
class Served:
    base_url: str


class _Server:
    """The app on `web.AppRunner` in a thread of its own, with its own event loop."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.started = threading.Event()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.runner: web.AppRunner | None = None

    def start(self) -> None:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(timeout=60)

    async def _start(self) -> None:
        self.runner = web.AppRunner(create_app(self.settings), access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self.loop).result(timeout=60)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()

    async def _stop(self) -> None:
        assert self.runner is not None
        await self.runner.app[DISPATCHER].drain()
        await self.runner.cleanup()


def _seed(base_url: str, token: str) -> dict[str, int]:
    """One of each kind of object, so that operations on an id reach their rules."""
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {token}"
        return _seed_with(session, base_url)


def _seed_with(session: requests.Session, base_url: str) -> dict[str, int]:
    ids: dict[str, int] = {}

    def post(path: str, body: dict[str, Any], name: str | None) -> dict[str, Any]:
        reply = session.post(base_url + "/api/lms/" + path, json=body, timeout=30)
        assert reply.status_code in (200, 201), (path, reply.status_code, reply.text)
        created: dict[str, Any] = reply.json()
        if name is not None:
            ids[name] = int(created["id"])
        return created

    course = {"title": "Seed", "code": "SEED1", "status": "Published", "price": "0.00"}
    post("courses/courses/", course, "course_id")
    post("courses/categories/", {"name": "Seeded"}, "category_id")
    post("courses/modules/", {"course": ids["course_id"], "title": "M"}, "module_id")
    post("courses/lessons/", {"module": ids["module_id"], "title": "L"}, "lesson_id")
    resource = {"lesson": ids["lesson_id"], "title": "R", "url": "https://example.com/r"}
    post("courses/resources/", resource, "resource_id")
    post(f"courses/enrollments/course/{ids['course_id']}/", {}, "enrollment_id")
    post(f"courses/ratings/course/{ids['course_id']}/", {"rating": 5}, "rating_id")
    post("groups/groups/", {"name": "Seed group"}, "group_id")
    post("groups/members/", {"group": ids["group_id"], "user_id": "member-1"}, "member_id")
    post("forum/forums/", {"title": "Seed forum"}, "forum_id")
    post("forum/posts/", {"forum": ids["forum_id"], "content": "Hello"}, "post_id")
    schedule = {
        "title": "Seed",
        "start_time": "2030-01-01T10:00:00Z",
        "end_time": "2030-01-01T11:00:00Z",
    }
    post("schedule/schedules/", schedule, "schedule_id")
    participant = {"schedule": ids["schedule_id"], "user_id": "member-1"}
    post("schedule/participants/", participant, "participant_id")
    message = {"recipient_id": "member-1", "content": "Hi", "message_type": "direct"}
    post("messaging/messages/", message, "message_id")
    post("ai_chat/sessions/", {"topic": "Seed"}, "session_id")
    return ids


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    settings = settings_in(tmp_path_factory.mktemp("served"))
    asyncio.run(provision_tenant(settings.database_url, slug=DEFAULT_TENANT))
    server = _Server(settings)
    server.start()
    try:
        base_url = f"http://127.0.0.1:{server.port}"
        token = token_for("contract-admin", "admin", tenant=DEFAULT_TENANT)
        assert _seed(base_url, token) == SEEDED_IDS
        yield Served(base_url)
    finally:
        server.stop()
