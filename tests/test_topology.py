"""The Procfile's production topology: `honcho start` with two web instances on two ports and
one Celery worker, against PostgreSQL (a database of this module's own) and Redis (a queue of
its own). Rooms span the instances; payments are fulfilled by the worker."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestServer
from sqlalchemy.engine import make_url

from tests.conftest import (
    POSTGRES_ADMIN_URL,
    REDIS_URL,
    SECRET,
    Api,
    Factory,
    forget_rate_limits,
    free_port,
    token_for,
    unreachable,
)
from tests.fakes.commerce import (
    CHECKOUT,
    ENROLLMENTS,
    SETTINGS_SECRET_KEY,
    WEBHOOK,
    WEBHOOK_SECRET,
    add_to_cart,
    make_stripe_gateway,
)
from tests.fakes.stripe_api import FakeStripe, event, sign
from tests.realtime.sockets import joined, next_frame, open_socket

pytestmark = pytest.mark.asyncio(loop_scope="module")

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TENANT = "acme"
READY_SECONDS = 90  # bounds a failure only: three processes start on a small CI machine


@dataclass
class Topology:
    web_a: Api
    web_b: Api
    stripe: FakeStripe
    log: Path

    def output(self) -> str:
        return _read(self.log)


def _admin_dsn() -> str:
    return (
        make_url(POSTGRES_ADMIN_URL)
        .set(drivername="postgresql")
        .render_as_string(hide_password=False)
    )


async def _database(name: str, *, drop: bool = False) -> None:
    connection = await asyncpg.connect(_admin_dsn(), timeout=5)
    try:
        if drop:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


def _two_free_ports() -> int:
    """A base port whose successor is free too: honcho gives web.1 and web.2 these two."""
    for _ in range(50):
        base = free_port()
        try:
            with socket.create_server(("127.0.0.1", base + 1)):
                return base
        except OSError:
            continue
    raise RuntimeError("no two consecutive free ports")


async def _run(env: dict[str, str], *argv: str) -> None:
    process = await asyncio.create_subprocess_exec(
        *argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    out, _ = await process.communicate()
    assert process.returncode == 0, out.decode(errors="replace")


async def _eventually(check: Any, what: str, seconds: float, log: Path | None = None) -> None:
    """Wait for another process's effect; the deadline only bounds a failure."""
    try:
        async with asyncio.timeout(seconds):
            # Other processes act: there is no event to await, only an effect to observe.
            while not await check():  # noqa: ASYNC110
                await asyncio.sleep(0.2)
    except TimeoutError:
        pytest.fail(f"{what} did not happen within {seconds} s\n{_tail(log)}")


def _read(log: Path | None) -> str:
    return log.read_text(errors="replace") if log and log.exists() else ""


def _tail(log: Path | None) -> str:
    return _read(log)[-4000:]


def _start_honcho(env: dict[str, str], base_port: int, log: Path) -> subprocess.Popen[bytes]:
    """The Procfile with two web processes (ports base and base + 1) and one worker."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [str(BIN / "honcho"), "start", "--no-colour", "-p", str(base_port),
             "-c", "web=2,worker=1", "-e", os.devnull],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


async def _healthy(client: aiohttp.ClientSession) -> bool:
    try:
        async with client.get("/health/lms/") as response:
            return response.status == 200
    except aiohttp.ClientError:
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    """honcho passes SIGTERM on to every process it started; SIGKILL if they linger."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def topology(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Topology]:
    import redis.asyncio as aredis

    tmp = tmp_path_factory.mktemp("topology")
    database = f"lms_topology_{uuid.uuid4().hex[:10]}"
    try:
        await _database(database)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        unreachable(f"PostgreSQL at {POSTGRES_ADMIN_URL} is unreachable: {exc}")
    queue = f"lms-topology-{uuid.uuid4().hex[:8]}"
    redis = aredis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    stripe = FakeStripe()
    stripe_server = TestServer(stripe.app(), host="127.0.0.1")
    honcho: subprocess.Popen[bytes] | None = None
    sessions: list[aiohttp.ClientSession] = []
    try:
        try:
            await redis.ping()
        except (OSError, aredis.RedisError) as exc:
            unreachable(f"Redis at {REDIS_URL} is unreachable: {exc}")
        forget_rate_limits(REDIS_URL)
        await stripe_server.start_server()
        stripe.url = f"http://127.0.0.1:{stripe_server.port}"
        url = make_url(POSTGRES_ADMIN_URL).set(database=database)
        env = {k: v for k, v in os.environ.items() if not k.startswith("LMS_")}
        env.update(
            {
                "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
                "PYTHONUNBUFFERED": "1",
                "LMS_DATABASE_URL": url.render_as_string(hide_password=False),
                "LMS_REDIS_URL": REDIS_URL,
                "LMS_CELERY_QUEUE": queue,
                "LMS_JWT_SECRET": SECRET,
                "LMS_SECRET_KEY": SETTINGS_SECRET_KEY,
                "LMS_STRIPE_API_BASE": stripe.url,
                "LMS_HOST": "127.0.0.1",
                "LMS_MEDIA_ROOT": str(tmp / "media"),
                "LMS_DEV_SECRET_FILE": str(tmp / "dev-secret"),
            }
        )
        await _run(env, str(BIN / "lms"), "migrate")
        await _run(env, str(BIN / "lms"), "tenant", "create", TENANT)

        log = tmp / "honcho.log"
        honcho = _start_honcho(env, base := _two_free_ports(), log)
        tokens = {
            "admin": token_for("admin-1", "admin", tenant=TENANT),
            "instructor": token_for("instructor-1", "instructor", tenant=TENANT),
            "student": token_for("student-1", "student", tenant=TENANT),
        }
        for port in (base, base + 1):
            sessions.append(aiohttp.ClientSession(base_url=f"http://127.0.0.1:{port}"))
        for client in sessions:
            await _eventually(lambda c=client: _healthy(c), "a web instance", READY_SECONDS, log)

        async def worker_ready() -> bool:
            return "ready." in _read(log)

        await _eventually(worker_ready, "the worker", READY_SECONDS, log)
        yield Topology(Api(sessions[0], tokens), Api(sessions[1], tokens), stripe, log)
    finally:
        if honcho is not None:
            _stop(honcho)
        for client in sessions:
            await client.close()
        await stripe_server.close()
        await redis.delete(queue)
        await redis.aclose()
        await _database(database, drop=True)


async def test_a_post_made_on_instance_a_reaches_a_socket_on_instance_b(topology):
    forum = await topology.web_a.post(
        "/api/lms/forum/forums/", {"title": "Across instances"}, as_="instructor"
    )
    assert forum.status == 201, forum.body
    ws = await open_socket(topology.web_b, f"/ws/lms/forum/{forum.body['id']}/", as_="student")
    await joined(ws)

    posted = await topology.web_a.post(
        "/api/lms/forum/posts/",
        {"forum": forum.body["id"], "content": "Hello from A"},
        as_="student",
    )

    assert posted.status == 201, posted.body
    frame = await next_frame(ws, "post")
    assert (frame["data"]["id"], frame["data"]["content"]) == (posted.body["id"], "Hello from A")
    await ws.close()


async def test_a_checkouts_webhook_posted_to_instance_a_is_fulfilled_by_the_worker(topology):
    api = topology.web_a
    await make_stripe_gateway(api)
    course = await Factory(api).course(title="Topology course", price="19.99")
    await add_to_cart(api, course["id"])
    checkout = await api.post(CHECKOUT, {"payment_method": "stripe"}, as_="student")
    assert (checkout.status, checkout.body["status"]) == (201, "pending"), checkout.body
    [intent] = topology.stripe.intents.values()

    payload = event("payment_intent.succeeded", intent)
    delivered = await api.call(
        "POST",
        WEBHOOK,
        data=payload,
        headers={
            "Stripe-Signature": sign(payload, WEBHOOK_SECRET),
            "Content-Type": "application/json",
        },
    )
    assert delivered.status == 200, delivered.body

    async def enrolled_as_seen_on_b() -> bool:
        page = await topology.web_b.get(f"{ENROLLMENTS}?course={course['id']}", as_="admin")
        return [e["user"] for e in page.body["results"]] == ["student-1"]

    await _eventually(enrolled_as_seen_on_b, "fulfilment", 30, topology.log)
    assert "payments.process_event" in topology.output()
