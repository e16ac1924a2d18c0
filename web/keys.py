"""Typed keys for everything the app and a request share."""

from __future__ import annotations

import aiohttp
from aiohttp import web
from redis.asyncio import Redis

from models.direct_reads import DirectReads
from models.identity import Principal
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
# Handlers of `routes.read` routes: served by read-only units (autocommit, writes refused).
READ_ONLY_HANDLERS = web.AppKey("read_only_handlers", frozenset)
# PostgreSQL only: the asyncpg pool for the hottest reads (models/direct_reads.py).
DIRECT_READS = web.AppKey("direct_reads", DirectReads)
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
# Set when the rate limiter refused the request (web/ratelimit.py): the audit trail then
# counts it per client and minute instead of recording each refusal.
THROTTLED = web.RequestKey("throttled", bool)
