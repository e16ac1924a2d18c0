"""Rate limits at the edge: per user, else per client address, in separate budgets.

Budgets (a rolling minute each, LMS_RATE_*): writes (POST, PUT, PATCH, DELETE), expensive
reads (declared on their routes: `expensive=` in web/routing.py), other reads (a socket's
upgrade is one), and failed authentications per client address. A request with a valid
token spends its user's budget (tenant, user); any other its client address's (tenant,
address; the address as the audit trail reads it, X-Forwarded-For from trusted proxies
only). Exempt: health (load balancers poll it) and the static assets of the web client.

The failed-authentication budget limits failed authentications only: a request whose
token is valid is never refused for its address's failures, since a shared address (a
NAT, a proxy) must not let one client lock out the others. So the token is read first,
which costs little: one HS256 or RS256 check (a valid token's claims are then kept in
the verifier's cache), and a bad one fails before any database work. A request that
fails authentication (a 401, no token on a route that needs one included) spends its
address's budget; beyond it, it is answered 429 instead of 401. The audit trail still
counts it in the address's `authentication_failed` row of the minute (status 401, what
authentication answered), so that row counts every failure, refused or not.

Two middlewares, because the two halves need different places:

- `rate_limit_edge`, outside the audit and the errors: a 401 spends the failure budget
  (or turns into that budget's 429), and every answer gets the RateLimit-* headers,
  error answers included.
- `rate_limit_middleware`, right after auth (the user is known): spends the request's
  budget, or answers 429 with Retry-After before any handler or transaction runs.

Buckets (web/ratebuckets.py) are in this process without Redis, shared in Redis with
it through leases: most requests are decided from this instance's lease, one in a lease's
worth (or a second) asks Redis (Redis unreachable: allowed); each failed authentication
asks Redis, until Redis refuses the address (then once a second).

Cost: a request decided here (memory, or a lease) needs no await, so the inner half
keeps no frame under a handler (a socket's included); one that asks Redis awaits the
round trip, and under a socket that frame stays for the socket's life (a few hundred
bytes). `make bench` reports the limiter's CPU per request (bench/ratelimit_cost.py).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Handler
from redis.asyncio import Redis

from models.settings import Settings
from web.audit import client_ip
from web.errors import error_body
from web.jsonio import json_response
from web.keys import HOST_TENANT, PRINCIPAL, ROUTES, SETTINGS, THROTTLED
from web.middlewares import is_socket
from web.ratebuckets import Budget, Decision, MemoryBuckets, RedisBuckets
from web.routing import RATE_EXEMPT_PREFIXES

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DECISION = web.RequestKey("rate_decision", Decision)
CLIENT = web.RequestKey("rate_client", str)


class RateLimiter:
    """Which budget a request spends, under which key, and the buckets that answer."""

    def __init__(
        self,
        settings: Settings,
        expensive: dict[Handler, tuple[str, ...]],
        redis: Redis | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.reads = Budget("reads", settings.rate_reads_per_minute)
        self.writes = Budget("writes", settings.rate_writes_per_minute)
        self.expensive = Budget("expensive", settings.rate_expensive_per_minute)
        self.auth_failures = Budget("auth", settings.rate_auth_failures_per_minute)
        self._expensive_handlers = expensive
        self._trusted = settings.trusted_proxies
        self._default_tenant = settings.default_tenant
        self.memory = MemoryBuckets()
        self.redis = RedisBuckets(redis) if redis is not None else None
        # Wall-clock seconds; the instances sharing Redis share the clock (tests inject one).
        self.clock = clock

    def now(self) -> int:
        return int(self.clock() * 1000)

    def budget_for(self, request: web.Request) -> Budget:
        if request.method in WRITES:
            return self.writes
        params = self._expensive_handlers.get(request.match_info.handler)
        if params is not None and (not params or any(request.query.get(p) for p in params)):
            return self.expensive
        return self.reads

    def client(self, request: web.Request) -> str:
        address = request.get(CLIENT)
        if address is None:
            address = client_ip(request, self._trusted) or "unknown"
            request[CLIENT] = address
        return address

    async def failed(self, address: str) -> Decision | None:
        """Spend one failed authentication of `address` (None: Redis did not answer)."""
        key, now = f"fail:{address}", self.now()
        if self.redis is None:
            return self.memory.hit(key, self.auth_failures, now)
        return await self.redis.spend(key, self.auth_failures, now)

    def key(self, request: web.Request, budget: Budget) -> str:
        principal = request.get(PRINCIPAL)
        if principal is not None:
            return f"{principal.tenant}:user:{principal.user_id}:{budget.name}"
        tenant = request.get(HOST_TENANT) or self._default_tenant
        return f"{tenant}:addr:{self.client(request)}:{budget.name}"


LIMITER = web.AppKey("rate_limiter", RateLimiter)


def throttled(decision: Decision) -> web.Response:
    """429 in the error shape, with Retry-After and the spent budget's headers."""
    seconds = decision.retry_after
    body = error_body(429, f"Request was throttled. Expected available in {seconds} seconds.")
    headers = {**decision.headers(), "Retry-After": str(seconds)}
    return json_response(body, status=429, headers=headers)


async def _answer(response: web.StreamResponse) -> web.StreamResponse:
    return response


def is_exempt(request: web.Request) -> bool:
    return request.path.startswith(RATE_EXEMPT_PREFIXES)


@web.middleware
def rate_limit_edge(request: web.Request, handler: Handler) -> Awaitable[web.StreamResponse]:
    # A socket's 101 leaves before its handler returns: no header could be added after.
    if is_exempt(request) or is_socket(request):
        return handler(request)
    return _with_headers(request, handler, request.app[LIMITER])


async def _with_headers(
    request: web.Request, handler: Handler, limiter: RateLimiter
) -> web.StreamResponse:
    response = await handler(request)
    if response.status == 401:
        decision = await limiter.failed(limiter.client(request))
        if decision is not None and not decision.allowed and not response.prepared:
            return throttled(decision)
    else:
        decision = request.get(DECISION)
    if decision is not None and not response.prepared:
        response.headers.update(decision.headers())
    return response


@web.middleware
def rate_limit_middleware(request: web.Request, handler: Handler) -> Awaitable[web.StreamResponse]:
    if is_exempt(request):
        return handler(request)
    limiter = request.app[LIMITER]
    budget = limiter.budget_for(request)
    key, now = limiter.key(request, budget), limiter.now()
    if limiter.redis is None:
        # In memory the decision needs no await: no frame of ours waits under the handler.
        return _decided(request, handler, limiter.memory.hit(key, budget, now))
    decision = limiter.redis.local(key, budget, now)
    if decision is not None:
        return _decided(request, handler, decision)  # from the lease: no await either
    return _shared(request, handler, limiter.redis, key, budget, now)


def _decided(
    request: web.Request, handler: Handler, decision: Decision | None
) -> Awaitable[web.StreamResponse]:
    if decision is None:
        return handler(request)  # Redis did not answer: allowed
    request[DECISION] = decision
    if decision.allowed:
        return handler(request)
    request[THROTTLED] = True
    return _answer(throttled(decision))


async def _shared(
    request: web.Request,
    handler: Handler,
    buckets: RedisBuckets,
    key: str,
    budget: Budget,
    now: int,
) -> web.StreamResponse:
    return await _decided(request, handler, await buckets.hit(key, budget, now))


async def rate_limit_ctx(app: web.Application) -> AsyncIterator[None]:
    """The limiter; with Redis, on a client of its own with short timeouts: a slow Redis
    must cost a request little, and then it is skipped for a while (allowed)."""
    settings = app[SETTINGS]
    client = None
    if settings.redis_url:
        client = Redis.from_url(settings.redis_url, socket_connect_timeout=0.5, socket_timeout=0.5)
    app[LIMITER] = RateLimiter(settings, app[ROUTES].expensive_reads(), client)
    yield
    if client is not None:
        await client.aclose()
