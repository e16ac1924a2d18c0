"""Fixtures: backends (SQLite and PostgreSQL), tenants, tokens, an API client and factories."""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
import redis
from sqlalchemy.engine import make_url
from xdist.scheduler import LoadScopeScheduling

from migrations.runner import provision_tenant
from models import rendering
from models.base import TenantBase
from models.tables import courses as course_tables
from tests.fakes.openai_api import FakeOpenAI, start_fake_openai
from web.app import create_app
from web.cli import EXAMPLE_COURSE
from web.config import Settings
from web.keys import DATABASES, DISPATCHER
from web.tokens import mint_token

# Every response body rendered without validation is compared with the validating way.
rendering.CHECK_AGAINST_PYDANTIC = True

SECRET = "test-signing-secret-that-is-long-enough-for-hs256"
TENANT_A = "acme"
TENANT_B = "globex"
DEFAULT_TENANT = "default"
DOMAINS = {TENANT_A: "acme.test", TENANT_B: "globex.test"}
POSTGRES_ADMIN_URL = os.environ.get(
    "LMS_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() == "true"


def unreachable(reason: str) -> None:
    """In CI a missing service fails the run; elsewhere the test skips, saying why."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: a service the suite needs must be reachable)")
    pytest.skip(reason)


async def _provision_all(url: str) -> None:
    for slug in (DEFAULT_TENANT, TENANT_A, TENANT_B):
        domains = [DOMAINS[slug]] if slug in DOMAINS else []
        await provision_tenant(url, slug=slug, domains=domains)


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('sqlite') / 'lms.db'}"
    asyncio.run(_provision_all(url))
    yield url
    _SQLITE_FILES.close()


def _postgres_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    admin = _postgres_dsn(POSTGRES_ADMIN_URL)
    name = f"lms_test_{uuid.uuid4().hex[:10]}"

    async def create() -> None:
        connection = await asyncpg.connect(admin, timeout=5)
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
            # Nothing here survives a server crash, so no commit need wait for its WAL flush.
            await connection.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
        finally:
            await connection.close()

    async def drop() -> None:
        connection = await asyncpg.connect(admin, timeout=5)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()

    try:
        asyncio.run(create())
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        unreachable(f"PostgreSQL at {POSTGRES_ADMIN_URL} is unreachable: {exc}")
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        asyncio.run(_provision_all(url))
        yield url
    finally:
        asyncio.run(drop())


# Under pytest-xdist (`make test`) each worker process is gw0, gw1, ...: worker N takes the
# Redis database N above the configured one, its keys apart from its siblings'.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "gw0")


def _worker_redis_url(base: str) -> str:
    parts = urlsplit(base)
    database = int(parts.path.lstrip("/") or 0) + int(WORKER.removeprefix("gw"))
    return urlunsplit(parts._replace(path=f"/{database}"))


REDIS_URL = _worker_redis_url(os.environ.get("LMS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"))


def _uses_redis(item: pytest.Item) -> bool:
    module = getattr(item, "module", None)
    return "reachable_redis_url" in item.fixturenames or (
        module is not None and module.__name__ != __name__ and hasattr(module, "REDIS_URL")
    )


def pytest_itemcollected(item: pytest.Item) -> None:
    """Under `--dist loadgroup`, every test that talks to Redis runs on one worker: a Redis
    database keeps keys apart but not pub/sub channels, and two workers' rooms share ids."""
    if hasattr(item.config, "workerinput") and _uses_redis(item):  # an xdist worker's
        item.add_marker(pytest.mark.xdist_group("redis"))


# pytest-xdist 3.8 tells its scheduler an item's group by renaming the item, which pytest 9
# no longer lets it do: the workers write each grouped test's group here instead.
RUN_ID = os.environ.setdefault("LMS_TEST_RUN_ID", uuid.uuid4().hex)
GROUPS_FILE = Path(tempfile.gettempdir()) / f"lms-test-run-{RUN_ID}.groups"


@pytest.hookimpl(tryfirst=True)  # before the worker reports its collection
def pytest_collection_finish(session: pytest.Session) -> None:
    if not hasattr(session.config, "workerinput"):
        return
    lines = [
        f"{item.nodeid}\t{mark.args[0]}"
        for item in session.items
        if (mark := item.get_closest_marker("xdist_group")) is not None
    ]
    written = GROUPS_FILE.with_name(f"{GROUPS_FILE.name}.{WORKER}")
    written.write_text("\n".join(lines))
    written.replace(GROUPS_FILE)


class GroupsTogether(LoadScopeScheduling):
    """`--dist loadgroup`: a group's tests go to one worker, every other test on its own."""

    def __init__(self, config: pytest.Config, log: Any = None) -> None:
        super().__init__(config, log)
        self._groups: dict[str, str] | None = None

    def _split_scope(self, nodeid: str) -> str:
        if self._groups is None:
            lines = GROUPS_FILE.read_text().splitlines() if GROUPS_FILE.exists() else []
            self._groups = dict(line.split("\t") for line in lines)
        return self._groups.get(nodeid, nodeid)


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> GroupsTogether | None:
    return GroupsTogether(config, log) if config.getoption("dist") == "loadgroup" else None


def pytest_unconfigure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):
        GROUPS_FILE.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def reachable_redis_url() -> str:
    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        # A run starts from none of the service's keys: an earlier run's databases handed out
        # the same ids, so its room seqs and histories would pass for this run's.
        keys = list(client.scan_iter("lms:*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()
    except redis.RedisError as exc:
        unreachable(f"Redis at {REDIS_URL} is unreachable: {exc}")
    return REDIS_URL


def forget_rate_limits(url: str) -> None:
    """Empty the rate-limit buckets kept in Redis: the same users act in every test, and
    budgets shared through Redis would otherwise carry over from one test to the next."""
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter("lms:rate:*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture
def redis_url(reachable_redis_url: str) -> str:
    """The test Redis, its rate-limit buckets emptied."""
    forget_rate_limits(reachable_redis_url)
    return reachable_redis_url


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue(f"{backend}_url"))


def settings_for(database_url: str, directory: Path, **overrides: Any) -> Settings:
    """The tests' settings: files under `directory`, the test signing secret, no AI provider."""
    return Settings(
        database_url=database_url,
        jwt_secret=SECRET,
        media_root=directory / "media",
        dev_secret_file=directory / "no-dev-secret",
        # A developer's OPENAI_* must never send test questions to a real provider.
        ai_base_url=None,
        ai_api_key=None,
        ai_model=None,
        **overrides,
    )


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return settings_for(database_url, tmp_path)


@dataclass
class Reply:
    status: int
    body: Any
    headers: Any

    @property
    def json(self) -> Any:
        return self.body


@dataclass
class Api:
    """The app under test, called as a client would; every call names whose token it carries."""

    client: Any
    tokens: dict[str, str] = field(default_factory=dict)

    async def call(
        self,
        method: str,
        path: str,
        *,
        as_: str | None = None,
        token: str | None = None,
        json: Any = None,
        data: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        all_headers = dict(headers or {})
        bearer = token if token is not None else (self.tokens[as_] if as_ else None)
        if bearer is not None:
            all_headers["Authorization"] = f"Bearer {bearer}"
        response = await self.client.request(
            method, path, json=json, data=data, headers=all_headers
        )
        raw = await response.read()
        body: Any = None
        if raw and response.content_type == "application/json":
            body = await response.json()
        elif raw:
            body = raw
        return Reply(response.status, body, response.headers)

    async def get(self, path: str, **kw: Any) -> Reply:
        return await self.call("GET", path, **kw)

    async def post(self, path: str, json: Any = None, **kw: Any) -> Reply:
        return await self.call("POST", path, json=json, **kw)

    async def patch(self, path: str, json: Any = None, **kw: Any) -> Reply:
        return await self.call("PATCH", path, json=json, **kw)

    async def put(self, path: str, json: Any = None, **kw: Any) -> Reply:
        return await self.call("PUT", path, json=json, **kw)

    async def delete(self, path: str, **kw: Any) -> Reply:
        return await self.call("DELETE", path, **kw)

    async def settled(self) -> None:
        """Wait for the tasks that requests so far have sent (log writes, fulfilment)."""
        await self.client.app[DISPATCHER].drain()


def token_for(user: str, *roles: str, tenant: str | None = TENANT_A, **claims: Any) -> str:
    return mint_token(
        secret=SECRET, user=user, tenant=tenant, roles=list(roles) or ["student"], **claims
    )


USERS = {
    "admin": ("admin-1", ("admin",), TENANT_A),
    "instructor": ("instructor-1", ("instructor",), TENANT_A),
    "instructor2": ("instructor-2", ("instructor",), TENANT_A),
    "student": ("student-1", ("student",), TENANT_A),
    "student2": ("student-2", ("student",), TENANT_A),
    "b_admin": ("admin-1", ("admin",), TENANT_B),
    "b_instructor": ("instructor-1", ("instructor",), TENANT_B),
    "b_student": ("student-1", ("student",), TENANT_B),
}


def _emptying_statements(schema: str | None) -> str:
    """DELETEs (never TRUNCATE ... RESTART IDENTITY: ids are never handed out twice) of every
    tenant table, children first; the seeded General category stays."""
    categories = course_tables.Category.__table__
    prefix = f'"{schema}".' if schema else ""
    statements = []
    for table in reversed(TenantBase.metadata.sorted_tables):
        keep = " WHERE slug <> 'general'" if table is categories else ""
        statements.append(f'DELETE FROM {prefix}"{table.name}"{keep};')
    return "\n".join(statements)


class _SqliteFiles:
    """One connection per tenant file for the whole session: its emptying is one script,
    and while it stays open an app closing its own connections skips the WAL checkpoint."""

    def __init__(self) -> None:
        self._connections: dict[str, sqlite3.Connection] = {}
        self._script = f"BEGIN;\n{_emptying_statements(None)}\nCOMMIT;"

    def empty(self, paths: list[str]) -> None:
        for path in paths:
            connection = self._connections.get(path)
            if connection is None:
                connection = sqlite3.connect(path, timeout=30, check_same_thread=False)
                # As the app's own connections: in WAL mode a commit then needs no fsync.
                connection.execute("PRAGMA synchronous=NORMAL")
                self._connections[path] = connection
            connection.executescript(self._script)

    def close(self) -> None:
        for connection in self._connections.values():
            connection.close()
        self._connections.clear()


_SQLITE_FILES = _SqliteFiles()
_POSTGRES_SCRIPT = "\n".join(
    _emptying_statements(slug) for slug in (DEFAULT_TENANT, TENANT_A, TENANT_B)
)


async def _truncate(app: Any) -> None:
    """Empty every tenant's tables between tests: one script per database, one round trip."""
    databases = app[DATABASES]
    if databases.is_sqlite:
        paths = [databases.tenant_url(s).database for s in (DEFAULT_TENANT, TENANT_A, TENANT_B)]
        await asyncio.to_thread(_SQLITE_FILES.empty, paths)
        return
    async with databases.core_engine.connect() as connection:
        raw = await connection.get_raw_connection()
        # Several statements in one simple query run as one implicit transaction.
        await raw.driver_connection.execute(_POSTGRES_SCRIPT)


@pytest.fixture
async def app(settings: Settings) -> Any:
    return create_app(settings)


@pytest.fixture
def served(app: Any) -> Any:
    """What `api` serves: the app itself, on aiohttp's test server (the browser tests differ)."""
    return app


@pytest.fixture
async def api(aiohttp_client: Any, app: Any, served: Any) -> AsyncIterator[Api]:
    client = await aiohttp_client(served)
    tokens = {
        name: token_for(user, *roles, tenant=tenant)
        for name, (user, roles, tenant) in USERS.items()
    }
    yield Api(client, tokens)
    # Tasks still running (audit and activity writes) must land before the tables are emptied.
    await app[DISPATCHER].drain()
    await _truncate(app)


@pytest.fixture
async def custom_api(aiohttp_client: Any, settings: Settings) -> AsyncIterator[Any]:
    """Builds an app with changed settings; its data is cleared afterwards like `api`'s."""
    apps: list[Any] = []

    async def build(**overrides: Any) -> Api:
        app = create_app(settings.model_copy(update=overrides))
        apps.append(app)
        tokens = {n: token_for(u, *r, tenant=t) for n, (u, r, t) in USERS.items()}
        return Api(await aiohttp_client(app), tokens)

    yield build
    for app in apps:
        await app[DISPATCHER].drain()
    if apps:
        await _truncate(apps[0])


@pytest.fixture
async def fake(aiohttp_server: Any) -> AsyncIterator[FakeOpenAI]:
    """A local OpenAI-compatible server; it lets every held answer go when the test ends."""
    fake = await start_fake_openai(aiohttp_server)
    yield fake
    fake.done.set()
    fake.release.set()


@pytest.fixture
async def tutor(custom_api: Any, fake: FakeOpenAI) -> Api:
    """The app, its tutor answering through the fake provider."""
    api: Api = await custom_api(**fake.settings())
    return api


# Factories


SEED_COURSE = dict(EXAMPLE_COURSE)


class Factory:
    """Creates data through the API itself, so every test exercises the real rules."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self._n = 0

    def _next(self) -> int:
        self._n += 1
        return self._n

    async def course(self, as_: str = "instructor", **fields: Any) -> dict[str, Any]:
        n = self._next()
        body = {
            "title": f"Course {n}",
            "code": f"C{n:04d}",
            "level": "Beginner",
            "status": "Published",
            "price": "0.00",
            **fields,
        }
        reply = await self.api.post("/api/lms/courses/courses/", body, as_=as_)
        assert reply.status == 201, reply.body
        return dict(reply.body)

    async def module(
        self, course_id: int, as_: str = "instructor", **fields: Any
    ) -> dict[str, Any]:
        body = {"course": course_id, "title": f"Module {self._next()}", **fields}
        reply = await self.api.post("/api/lms/courses/modules/", body, as_=as_)
        assert reply.status == 201, reply.body
        return dict(reply.body)

    async def lesson(
        self, module_id: int, as_: str = "instructor", **fields: Any
    ) -> dict[str, Any]:
        body = {
            "module": module_id,
            "title": f"Lesson {self._next()}",
            "content": "secret text",
            **fields,
        }
        reply = await self.api.post("/api/lms/courses/lessons/", body, as_=as_)
        assert reply.status == 201, reply.body
        return dict(reply.body)

    async def enroll(self, course_id: int, as_: str = "student") -> dict[str, Any]:
        reply = await self.api.post(f"/api/lms/courses/enrollments/course/{course_id}/", as_=as_)
        assert reply.status in (200, 201), reply.body
        return dict(reply.body)


@pytest.fixture
def make(api: Api) -> Factory:
    return Factory(api)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
