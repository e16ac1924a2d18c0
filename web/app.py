"""The app factory: every resource starts and stops in its own cleanup context."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from pathlib import Path

import aiohttp
import aiohttp_jinja2
import jinja2
from aiohttp import web
from redis.asyncio import Redis
from sqlalchemy.orm import configure_mappers

from models.background import cancel_and_wait
from models.notifications.email import EMAIL_DIGEST_TASK, EMAIL_TICK_SECONDS
from models.payments.webhooks import RELAY_OUTBOX
from models.people.directory import Seen
from models.quizzes.attempts import SUBMIT_OVERDUE_TASK
from models.tenancy import Databases, TenantDirectory, list_tenants
from realtime import rooms
from realtime.bus import Bus, MemoryBus, ThreadSafePublisher
from realtime.gate import GATE, SocketGate
from realtime.hub import Hub
from realtime.presence import LocalPresence, Presence, RedisPresence
from realtime.redis_bus import RedisBus, resilient
from web import (
    ai_chat,
    assignments,
    carts,
    certificates,
    course_content,
    courses,
    enrollments,
    forums,
    grades,
    groups,
    health,
    jobs,
    logs,
    media,
    messaging,
    notifications,
    pages,
    payments,
    people,
    quizzes,
    roster,
    schedules,
    sockets,
)
from web.audit import ENDPOINTS, audit_middleware, audit_records, endpoint_index
from web.config import Settings
from web.cors import cors_middleware
from web.docs import SCHEMA_PATH, schema_handler, setup_docs
from web.errors import errors_middleware
from web.handlers import open_unit
from web.keys import (
    AUDITOR,
    BUS,
    DATABASES,
    DISPATCHER,
    HTTP_CLIENT,
    PEOPLE_SEEN,
    READ_ONLY_HANDLERS,
    REDIS,
    ROUTES,
    SEEN_TOKENS,
    SETTINGS,
    TENANTS,
    VERIFIER,
)
from web.loop_monitor import loop_monitor_ctx
from web.middlewares import (
    auth_middleware,
    authenticate_socket,
    request_id_middleware,
    tenant_middleware,
    transaction_middleware,
)
from web.protocol_errors import answer_protocol_errors_in_json
from web.ratelimit import rate_limit_ctx, rate_limit_edge, rate_limit_middleware
from web.routing import RouteTable
from web.secrets import signing_secret
from web.seen import SeenTokens
from web.tokens import TokenVerifier
from workers.celery_app import make_celery
from workers.context import WorkerContext
from workers.dispatch import CeleryDispatcher, Dispatcher, InProcessDispatcher
from workers.turns import lowest_priority

log = logging.getLogger(__name__)
TEMPLATES = Path(__file__).parent / "templates"


async def databases_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    databases = Databases.connect(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )
    app[DATABASES] = databases
    app[TENANTS] = TenantDirectory(databases.core_sessions())
    yield
    await databases.dispose()


async def http_client_ctx(app: web.Application) -> AsyncIterator[None]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as client:
        app[HTTP_CLIENT] = client
        yield


async def verifier_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    app[VERIFIER] = TokenVerifier(
        secret=signing_secret(settings),
        public_key=settings.jwt_public_key,
        jwks_url=settings.jwks_url,
        jwks_min_refetch_seconds=settings.jwks_min_refetch_seconds,
        audience=settings.jwt_audience,
        issuer=settings.jwt_issuer,
        http=app[HTTP_CLIENT],
    )
    yield


async def redis_ctx(app: web.Application) -> AsyncIterator[None]:
    """One Redis client per process, when configured (health now; room events later)."""
    url = app[SETTINGS].redis_url
    if url is None:
        yield
        return
    client = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    app[REDIS] = client
    yield
    await client.aclose()


async def realtime_ctx(app: web.Application) -> AsyncIterator[None]:
    """The room bus and hub: in this process, or across instances through Redis."""
    settings = app[SETTINGS]
    bus: Bus
    presence: Presence
    client: Redis | None = None
    if settings.redis_url:
        # Its own client: the listener blocks on its connection, with no read timeout. A
        # dropped connection is retried on a fresh one; events Redis cannot take even
        # then wait in the tenant's room outbox.
        client = resilient(settings.redis_url, socket_connect_timeout=2)
        redis_bus = RedisBus(
            client,
            settings.ws_history_size,
            settings.ws_history_bytes,
            sessions=app[DATABASES].tenant_sessions,
            relay_seconds=settings.outbox_relay_seconds or 60.0,
        )
        await redis_bus.start()
        redis_presence = RedisPresence(client)
        redis_presence.start()
        bus, presence = redis_bus, redis_presence
    else:
        bus = MemoryBus(settings.ws_history_size, history_bytes=settings.ws_history_bytes)
        presence = LocalPresence()

    app[BUS] = bus
    unit_of_work = partial(open_unit, app)
    hub = Hub(bus, presence, rooms.access_check(unit_of_work))
    app[GATE] = SocketGate(
        settings=settings,
        hub=hub,
        authenticate=authenticate_socket,
        unit_of_work=unit_of_work,
    )
    yield
    await hub.close()
    await presence.close()
    await bus.close()
    if client is not None:
        await client.aclose()


async def freeze_startup_objects(app: web.Application) -> None:
    """Move what start-up made (modules, metadata, compiled schemas) out of the collector's
    way: each full collection under load then walks only what requests allocate.

    The mappers are configured first: SQLAlchemy does it lazily, on the first query that
    touches a mapper, and that took 46 ms of the loop in the middle of the first
    request that wrote an announcement (seen in `python -m bench.inbox_fanout`)."""
    configure_mappers()
    gc.collect()
    gc.freeze()


async def close_sockets(app: web.Application) -> None:
    """On shutdown, before handlers are waited for: sockets are told 1001 and let go."""
    await app[GATE].hub.close()


async def dispatcher_ctx(app: web.Application) -> AsyncIterator[None]:
    """Tasks go to Celery when Redis is configured, else to a worker thread in this process."""
    settings = app[SETTINGS]
    dispatcher: Dispatcher
    if settings.redis_url:
        # If the broker is down, log writes run here, on this loop's engines; other tasks
        # wait in the tenant's task outbox: nothing is lost, and no request does their work.
        celery = CeleryDispatcher(
            make_celery(settings),
            settings.celery_queue,
            sessions=app[DATABASES].tenant_sessions,
            relay_seconds=settings.outbox_relay_seconds or 60.0,
            publishing_thread_setup=lowest_priority,  # the web loop goes first
        )
        celery.fallback = WorkerContext(settings, app[DATABASES], celery, app[BUS])
        dispatcher = celery
    else:
        loop = asyncio.get_running_loop()
        in_process = InProcessDispatcher(settings, ThreadSafePublisher(app[BUS], loop), loop)
        await asyncio.to_thread(in_process.start)
        dispatcher = in_process
    app[DISPATCHER] = dispatcher
    yield
    await dispatcher.stop()


async def outbox_relay_ctx(app: web.Application) -> AsyncIterator[None]:
    """Every so often, per tenant, hand the broker the tasks kept while it was unreachable,
    re-send payment outbox rows stuck since a crash, and publish the room events kept while
    Redis was unreachable (any process's).

    Runs in every web process; the relays are idempotent, so several at once do no harm.
    """
    interval = app[SETTINGS].outbox_relay_seconds

    async def relay(slug: str) -> None:
        for relay_outbox in (app[DISPATCHER].relay, app[BUS].relay):
            try:
                await relay_outbox(slug)
            except Exception:
                log.exception("outbox relay of %s failed", slug)
        await app[DISPATCHER].send(RELAY_OUTBOX, slug, interval)

    task = every_tenant(app, interval, relay, "outbox relay") if interval > 0 else None
    yield
    await cancel_and_wait(task)


def every_tenant(
    app: web.Application, interval: float, action: Callable[[str], Awaitable[None]], name: str
) -> asyncio.Task[None]:
    """A task that, every `interval` seconds, runs `action` for each tenant's slug; a failed
    round is logged and the next one comes all the same."""

    async def forever() -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                async with app[DATABASES].core_sessions()() as session:
                    slugs = [tenant.slug for tenant, _ in await list_tenants(session)]
                for slug in slugs:
                    await action(slug)
            except Exception:
                log.exception("%s round failed", name)

    return asyncio.create_task(forever())


async def email_digest_ctx(app: web.Application) -> AsyncIterator[None]:
    """With LMS_SMTP_URL set, every `EMAIL_TICK_SECONDS` (sooner for a shorter digest
    interval), per tenant, ask a worker to send the email digests that are due.

    Runs in every web process; the task's claims keep two runs from sending one digest."""
    settings = app[SETTINGS]
    interval = min(EMAIL_TICK_SECONDS, max(1.0, settings.email_digest_minutes * 60))

    async def send_digests(slug: str) -> None:
        await app[DISPATCHER].send(EMAIL_DIGEST_TASK, slug)

    enabled = settings.smtp_url is not None
    task = every_tenant(app, interval, send_digests, "email digest") if enabled else None
    yield
    await cancel_and_wait(task)


async def quiz_sweep_ctx(app: web.Application) -> AsyncIterator[None]:
    """Every LMS_QUIZ_SWEEP_SECONDS, per tenant, ask a worker to submit the quiz attempts
    whose deadline has passed, with what they saved (`workers/quizzes.py`).

    Runs in every web process; a submit is a conditional update, so two sweeps at once (or
    a sweep and the learner's own submit) grade an attempt once."""
    interval = app[SETTINGS].quiz_sweep_seconds

    async def sweep(slug: str) -> None:
        await app[DISPATCHER].send(SUBMIT_OVERDUE_TASK, slug)

    task = every_tenant(app, interval, sweep, "quiz deadline sweep") if interval > 0 else None
    yield
    await cancel_and_wait(task)


def build_routes() -> RouteTable:
    table = RouteTable()
    for module in (
        health,
        courses,
        course_content,
        enrollments,
        roster,
        grades,
        certificates,
        jobs,
        media,
        logs,
        carts,
        payments,
        groups,
        schedules,
        forums,
        assignments,
        messaging,
        notifications,
        people,
        quizzes,
        sockets,
        ai_chat,
        pages,
    ):
        table.extend(module.routes)
    return table


def create_app(settings: Settings | None = None) -> web.Application:
    """The whole service as one aiohttp application; tests pass their own settings."""
    settings = settings or Settings()
    # Order matters: see web/middlewares.py for why each sits where it does. The rate
    # limiter's two halves (web/ratelimit.py) are left out altogether when limits are off.
    limits = settings.rate_limits
    app = web.Application(
        middlewares=[
            request_id_middleware,
            cors_middleware,
            *([rate_limit_edge] if limits else []),
            audit_middleware,
            errors_middleware,
            tenant_middleware,
            auth_middleware,
            *([rate_limit_middleware] if limits else []),
            transaction_middleware,
        ],
        client_max_size=settings.max_json_bytes,
    )
    answer_protocol_errors_in_json(app)
    app[SETTINGS] = settings
    app.cleanup_ctx.extend(
        [
            databases_ctx,
            http_client_ctx,
            verifier_ctx,
            redis_ctx,
            *([rate_limit_ctx] if limits else []),
            realtime_ctx,
            dispatcher_ctx,
            outbox_relay_ctx,
            email_digest_ctx,
            quiz_sweep_ctx,
            loop_monitor_ctx,
        ]
    )
    app.on_startup.append(freeze_startup_objects)
    app.on_shutdown.append(close_sockets)
    aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    app.router.add_static(pages.STATIC_PREFIX, pages.STATIC_DIR, name="lms-static")

    routes = build_routes()
    setup_docs(app, routes)
    routes.route("GET", SCHEMA_PATH, tag="meta", public=True, summary="OpenAPI 3.1 document")(
        schema_handler(routes, title="LMS API", version=health.VERSION)
    )
    routes.install(app)
    app[ROUTES] = routes
    app[READ_ONLY_HANDLERS] = routes.read_only_handlers()
    app[ENDPOINTS] = endpoint_index(routes.endpoints)
    app[SEEN_TOKENS] = SeenTokens()
    app[PEOPLE_SEEN] = Seen()
    app[AUDITOR] = audit_records
    return app
