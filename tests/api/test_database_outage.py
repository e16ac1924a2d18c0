"""When PostgreSQL drops the service's connections (a restart, a failover, pg_terminate_backend):
a read is retried once on a fresh connection, a write fails whole with a 503 the client may
retry, nothing is half-written, and the service recovers without a restart. Never a 500."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
import pytest
from asyncpg.prepared_stmt import PreparedStatement
from sqlalchemy.engine import make_url

from tests.api.test_forums import POSTS, new_forum
from tests.realtime.sockets import joined, next_frame, open_socket

COURSES = "/api/lms/courses/courses/"
UNAVAILABLE = {"detail": "The database is unavailable; try again shortly.", "status": 503}
# With a timeout, pg_terminate_backend returns once the backend is gone.
TERMINATE_ALL = (
    "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
)

pytestmark = pytest.mark.parametrize("backend", ["postgres"])


@pytest.fixture
async def admin(postgres_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection of its own on the test database, to end the service's connections."""
    dsn = make_url(postgres_url).set(drivername="postgresql")
    connection = await asyncpg.connect(dsn.render_as_string(hide_password=False))
    yield connection
    await connection.close()


def kill_once(
    monkeypatch: pytest.MonkeyPatch,
    admin: asyncpg.Connection,
    cls: type,
    *,
    when: Callable[[str], bool] = lambda _query: True,
) -> list[str]:
    """The first statement `cls.fetch` runs (whose query `when` picks) finds its backend
    terminated.

    `cls` is asyncpg's PreparedStatement (what SQLAlchemy runs, the course list included)
    or Connection (what a statement sent straight to the driver runs). Returns the queries
    that were cut off.
    """
    original = cls.fetch
    killed: list[str] = []
    # The web app's own statements only; the task thread runs on a loop of its own.
    web_loop = asyncio.get_running_loop()

    async def fetch(self: Any, *args: Any, **kwargs: Any) -> Any:
        query = query_of(self, args)
        if not killed and asyncio.get_running_loop() is web_loop and when(query):
            connection = self._connection if isinstance(self, PreparedStatement) else self
            killed.append(query)
            await admin.execute(
                "SELECT pg_terminate_backend($1, 5000)", connection.get_server_pid()
            )
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(cls, "fetch", fetch)
    return killed


def inserts_into(table: str) -> Callable[[str], bool]:
    return lambda query: f"INSERT INTO acme.{table} " in query


def reads_from(table: str) -> Callable[[str], bool]:
    return lambda query: f"FROM acme.{table} " in query


def query_of(statement: Any, args: tuple[Any, ...]) -> str:
    return str(statement.get_query() if isinstance(statement, PreparedStatement) else args[0])


def is_unavailable(reply: Any) -> bool:
    return (
        reply.status == 503
        and reply.body == UNAVAILABLE
        and reply.headers.get("Retry-After", "").isdigit()
    )


async def course_count(admin: asyncpg.Connection) -> int:
    return int(await admin.fetchval("SELECT count(*) FROM acme.courses"))


# One dropped connection


async def test_a_read_whose_connection_dies_is_retried_and_succeeds(api, make, admin, monkeypatch):
    course = await make.course()
    killed = kill_once(monkeypatch, admin, PreparedStatement)

    reply = await api.get(f"{COURSES}{course['id']}/", as_="student")

    assert killed
    assert reply.status == 200
    assert reply.body["id"] == course["id"]


async def test_the_course_list_whose_connection_dies_is_retried_and_succeeds(
    api, make, admin, monkeypatch
):
    course = await make.course()
    killed = kill_once(monkeypatch, admin, PreparedStatement, when=reads_from("courses"))

    reply = await api.get(COURSES, as_="student")

    assert killed and "courses" in killed[0]
    assert reply.status == 200
    assert [c["id"] for c in reply.body["results"]] == [course["id"]]


async def test_a_write_whose_connection_dies_is_a_503_and_writes_nothing(api, admin, monkeypatch):
    killed = kill_once(monkeypatch, admin, PreparedStatement, when=inserts_into("courses"))

    reply = await api.post(COURSES, {"title": "Lost", "code": "LOST1"}, as_="instructor")

    assert killed and "INSERT INTO acme.courses" in killed[0]
    assert is_unavailable(reply), (reply.status, reply.body, dict(reply.headers))
    assert await course_count(admin) == 0


async def test_a_create_sent_straight_to_the_driver_whose_connection_dies_is_a_503(
    api, admin, monkeypatch
):
    # The caller's directory row is stored first, so the create's unit writes only the
    # course and its records: one statement, straight to the driver (models/driver.py).
    assert (await api.get(COURSES, as_="instructor")).status == 200
    killed = kill_once(monkeypatch, admin, asyncpg.Connection, when=inserts_into("courses"))

    reply = await api.post(COURSES, {"title": "Lost", "code": "LOST1"}, as_="instructor")
    again = await api.post(COURSES, {"title": "Lost", "code": "LOST1"}, as_="instructor")

    assert killed and "INSERT INTO acme.courses" in killed[0]
    assert is_unavailable(reply), (reply.status, reply.body, dict(reply.headers))
    assert again.status == 201
    assert await course_count(admin) == 1


async def test_the_same_write_succeeds_once_the_database_is_back(api, admin, monkeypatch):
    kill_once(monkeypatch, admin, PreparedStatement, when=inserts_into("courses"))
    first = await api.post(COURSES, {"title": "Lost", "code": "LOST1"}, as_="instructor")

    second = await api.post(COURSES, {"title": "Lost", "code": "LOST1"}, as_="instructor")

    assert first.status == 503
    assert second.status == 201
    assert await course_count(admin) == 1


async def test_connections_ended_while_idle_are_replaced_without_an_error(api, make, admin):
    course = await make.course()
    await api.get(f"{COURSES}{course['id']}/", as_="student")  # the pools hold connections
    await api.get(COURSES, as_="student")

    await admin.execute(TERMINATE_ALL)
    created = await make.course()  # a write first: it is never retried
    detail = await api.get(f"{COURSES}{course['id']}/", as_="student")
    listed = await api.get(COURSES, as_="student")

    assert detail.status == 200
    assert created["id"] > course["id"]
    assert listed.status == 200 and listed.body["count"] == 2


async def test_health_is_healthy_again_at_once_after_the_connections_were_ended(api, admin):
    assert (await api.get("/health/lms/")).status == 200

    await admin.execute(TERMINATE_ALL)
    reply = await api.get("/health/lms/")

    assert reply.status == 200
    assert reply.body["database"] == "connected"


# Under load, on two instances, with the connections killed again and again

CLIENTS = 6
REQUESTS = 300
KILL_EVERY = 20


async def test_killed_connections_under_load_are_never_a_500_nor_half_written(custom_api, admin):
    instances = [await custom_api(), await custom_api()]
    first = instances[0]
    seed = await first.post(
        COURSES, {"title": "Seed", "code": "SEED0", "status": "Published"}, as_="instructor"
    )
    forum = await new_forum(first)
    counter = itertools.count()
    replies: list[tuple[str, Any]] = []
    created: list[int] = []
    kills = 0

    async def one(n: int) -> None:
        api = instances[n % 2]
        kind = ("list", "detail", "create", "post")[n % 4]
        if kind == "list":
            reply = await api.get(COURSES, as_="student")
        elif kind == "detail":
            reply = await api.get(f"{COURSES}{seed.body['id']}/", as_="student")
        elif kind == "create":
            body = {"title": f"Load {n}", "code": f"L{n:05d}"}
            reply = await api.post(COURSES, body, as_="instructor")
            if reply.status == 201:
                created.append(reply.body["id"])
        else:
            reply = await api.post(POSTS, {"forum": forum["id"], "content": f"n{n}"}, as_="student")
        replies.append((kind, reply))

    kill_orders: asyncio.Queue[bool] = asyncio.Queue()

    async def killer() -> None:
        nonlocal kills
        while await kill_orders.get():
            await admin.execute(TERMINATE_ALL)
            kills += 1

    async def client() -> None:
        while (n := next(counter)) < REQUESTS:
            if n % KILL_EVERY == KILL_EVERY - 1:
                kill_orders.put_nowait(True)  # the killer ends the connections meanwhile
            await one(n)

    killing = asyncio.create_task(killer())
    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    kill_orders.put_nowait(False)
    await killing

    failures = [(kind, r.status, r.body) for kind, r in replies if r.status >= 400]
    assert all(r.status != 500 for _, r in replies), failures
    assert all(is_unavailable(r) for _, r in replies if r.status >= 400), failures
    assert len(replies) == REQUESTS and kills == REQUESTS // KILL_EVERY
    ids = {row["id"] for row in await admin.fetch("SELECT id FROM acme.courses")}
    assert ids == {seed.body["id"], *created}
    posts = await admin.fetchval("SELECT count(*) FROM acme.forum_posts")
    assert posts == sum(1 for kind, r in replies if kind == "post" and r.status == 201)
    # The tasks a write sent (its activity record) were retried through the kills: none lost.
    for api in instances:
        await api.settled()
    logged = await admin.fetch(
        "SELECT object_id FROM acme.activity_logs WHERE activity_type = 'course_created'"
    )
    assert sorted(row["object_id"] for row in logged) == sorted(ids)
    # Recovered, without a restart: everything answers again.
    for n in range(REQUESTS, REQUESTS + 8):  # each kind of request on each instance
        await one(n)
        assert replies[-1][1].status in (200, 201), replies[-1][1].body


async def test_a_socket_frame_whose_write_meets_a_dropped_connection_gets_a_503_frame(
    api, admin, monkeypatch
):
    forum = await new_forum(api)
    ws = await open_socket(api, f"/ws/lms/forum/{forum['id']}/", as_="student")
    await joined(ws)
    kill_once(monkeypatch, admin, PreparedStatement, when=inserts_into("forum_posts"))

    await ws.send_json({"type": "post", "content": "Lost"})
    error = await next_frame(ws, "error")
    await ws.send_json({"type": "post", "content": "Again"})
    post = await next_frame(ws, "post")

    assert error == {"type": "error", "code": 503, "detail": UNAVAILABLE["detail"]}
    assert post["data"]["content"] == "Again"
    stored = await admin.fetch("SELECT content FROM acme.forum_posts")
    assert [row["content"] for row in stored] == ["Again"]
    await ws.close()
