"""Typed keys for everything the app and a request share."""

from __future__ import annotations

from typing import Protocol

import aiohttp
from aiohttp import web
from redis.asyncio import Redis

from models.identity import Principal
from models.logs.schemas import AuditRecord
from models.people.directory import Seen
from models.tenancy import Databases, TenantDirectory
from models.unit_of_work import UnitOfWork
from realtime.bus import Bus
from web.config import Settings
from web.routing import RouteTable
from web.seen import SeenTokens
from web.tokens import TokenVerifier
from workers.dispatch import Dispatcher

SETTINGS = web.AppKey("settings", Settings)
ROUTES = web.AppKey("routes", RouteTable)
DATABASES = web.AppKey("databases", Databases)
TENANTS = web.AppKey("tenants", TenantDirectory)
HTTP_CLIENT = web.AppKey("http_client", aiohttp.ClientSession)
VERIFIER = web.AppKey("verifier", TokenVerifier)
DISPATCHER = web.AppKey("dispatcher", Dispatcher)
SEEN_TOKENS = web.AppKey("seen_tokens", SeenTokens)
# The directory's claims this process stored last, per (tenant, user): an unchanged token
# writes nothing (models/people/directory.py).
PEOPLE_SEEN = web.AppKey("people_seen", Seen)


class Auditor(Protocol):
    """What a request that ended with `status` adds to the audit trail (web/audit.py)."""

    def __call__(self, request: web.Request, status: int) -> list[AuditRecord]: ...


# The audit trail's records of a request: the transaction middleware inserts those of a
# request that commits with its commit (web/audit.py sends the others as tasks).
AUDITOR = web.AppKey("auditor", Auditor)
# Handlers of `routes.read` routes: served by read-only units (autocommit, writes refused).
READ_ONLY_HANDLERS = web.AppKey("read_only_handlers", frozenset)
# The room bus: in-process, or Redis when LMS_REDIS_URL is set (realtime/).
BUS = web.AppKey("bus", Bus)
# Only when LMS_REDIS_URL is set.
REDIS = web.AppKey("redis", Redis)

REQUEST_ID = web.RequestKey("request_id", str)
HOST_TENANT = web.RequestKey("host_tenant", str)
PRINCIPAL = web.RequestKey("principal", Principal)
# Identifies one token (its jti, else sub + iat): its first request is audited as user_login.
TOKEN_ID = web.RequestKey("token_id", str)
UOW = web.RequestKey("uow", UnitOfWork)
# Whether this request's token is seen for the first time, asked once per request: its
# audit records may be built twice (for the commit, then again if the commit fails).
FIRST_SIGHT = web.RequestKey("first_sight", bool)
# Set once the request's audit records went in with its unit's commit: the audit
# middleware then sends none.
AUDITED = web.RequestKey("audited", bool)
# Set when the rate limiter refused the request (web/ratelimit.py): the audit trail then
# counts it per client and minute instead of recording each refusal.
THROTTLED = web.RequestKey("throttled", bool)
