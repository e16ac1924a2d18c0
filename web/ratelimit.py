"""Rate limits at the edge: per user, else per client address, in separate budgets.

Budgets (a rolling minute each, LMS_RATE_*): writes (POST, PUT, PATCH, DELETE), expensive
reads (declared on their routes: `expensive=` in web/routing.py), other reads (a socket's
upgrade is one), and failed authentications per client address. A request with a valid
token spends its user's budget (tenant, user); any other its client address's (tenant,
address; the address as the audit trail reads it, X-Forwarded-For from trusted proxies
only). Exempt: health (load balancers poll it) and the static assets of the web client.

Two middlewares, because the two halves need different places:

- `rate_limit_edge`, outside the audit and the errors: an address over its failed-
  authentication budget is refused before its token is even read; a 401 spends that
  budget; and every answer gets the RateLimit-* headers, error answers included.
- `rate_limit_middleware`, right after auth (the user is known): spends the request's
  budget, or answers 429 with Retry-After before any handler or transaction runs.

Buckets (web/ratebuckets.py) are in this process without Redis, shared in Redis with
it through leases: most requests are decided from this instance's lease, one in a lease's
worth (or a second) asks Redis (Redis unreachable: allowed). With Redis, an instance
learns that an address is blocked from Redis's answers (its next call there for that
address, valid or not), then refuses it without reading its token.

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
from web.middlewares import is_public, is_socket
from web.ratebuckets import Budget, Decision, MemoryBuckets, RedisBuckets, refused
from web.routing import RATE_EXEMPT_PREFIXES

WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DECISION = web.RequestKey("rate_decision", Decision)
CLIENT = web.RequestKey("rate_client", str)
BLOCKED_SIZE = 10_000


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
        # With Redis: addresses known to be over their failed-authentication budget, until
        # when and when it is whole again (ms), learnt from Redis's answers.
        self._blocked: dict[str, tuple[int, int]] = {}
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

    def blocked(self, address: str) -> Decision | None:
        """Refused, if `address` has no failed authentications left; nothing is spent."""
        key, now = f"fail:{address}", self.now()
        if self.redis is None:
            return self.memory.blocked(key, self.auth_failures, now)
        until = self._blocked.get(key)
        if until is None:
            return None
        if until[0] <= now:
            del self._blocked[key]
            return None
        return refused(self.auth_failures, until[0] - now, until[1] - now)

    def _learn(self, decision: Decision | None, address: str) -> Decision | None:
        if decision is not None and not decision.allowed and decision.budget is self.auth_failures:
            if len(self._blocked) >= BLOCKED_SIZE:
                self._blocked.clear()  # bounded; forgetting only costs Redis a round trip
            now = self.now()
            self._blocked[f"fail:{address}"] = (now + decision.retry_ms, now + decision.reset_ms)
        return decision

    async def failed(self, address: str) -> Decision | None:
        """Spend one failed authentication of `address` (None: Redis did not answer)."""
        key, now = f"fail:{address}", self.now()
        if self.redis is None:
            return self.memory.hit(key, self.auth_failures, now)
        self.redis.forget_guard(key)
        return self._learn(await self.redis.spend(key, self.auth_failures, now), address)

    def key(self, request: web.Request, budget: Budget) -> tuple[str, tuple[str, Budget] | None]:
        """The bucket's key, and the guard (the address's failed authentications) that a
        request with a token must also pass."""
        principal = request.get(PRINCIPAL)
        address = self.client(request)
        if principal is not None:
            key = f"{principal.tenant}:user:{principal.user_id}:{budget.name}"
            return key, (f"fail:{address}", self.auth_failures)
        tenant = request.get(HOST_TENANT) or self._default_tenant
        return f"{tenant}:addr:{address}:{budget.name}", None

    def hit_here(self, key: str, budget: Budget, guard: tuple[str, Budget] | None) -> Decision:
        now = self.now()
        if guard is not None:
            refusal = self.memory.blocked(guard[0], guard[1], now)
            if refusal is not None:
                return refusal
        return self.memory.hit(key, budget, now)

    def hit_leased(
        self, key: str, budget: Budget, guard: tuple[str, Budget] | None
    ) -> Decision | None:
        """From this instance's lease, without awaiting; None: Redis must be asked."""
        assert self.redis is not None
        return self.redis.local(key, budget, self.now(), guard)

    async def hit_shared(
        self, key: str, budget: Budget, guard: tuple[str, Budget] | None, address: str
    ) -> Decision | None:
        assert self.redis is not None
        return self._learn(await self.redis.hit(key, budget, self.now(), guard), address)


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
    limiter = request.app[LIMITER]
    address = limiter.client(request)
    if not is_public(request):
        refusal = limiter.blocked(address)
        if refusal is not None:
            return _answer(throttled(refusal))
    return _with_headers(request, handler, limiter, address)


async def _with_headers(
    request: web.Request, handler: Handler, limiter: RateLimiter, address: str
) -> web.StreamResponse:
    response = await handler(request)
    decision = await limiter.failed(address) if response.status == 401 else request.get(DECISION)
    if decision is not None and not response.prepared:
        response.headers.update(decision.headers())
    return response


@web.middleware
def rate_limit_middleware(request: web.Request, handler: Handler) -> Awaitable[web.StreamResponse]:
    if is_exempt(request):
        return handler(request)
    limiter = request.app[LIMITER]
    budget = limiter.budget_for(request)
    key, guard = limiter.key(request, budget)
    if limiter.redis is None:
        # In memory the decision needs no await: no frame of ours waits under the handler.
        return _decided(request, handler, limiter.hit_here(key, budget, guard))
    decision = limiter.hit_leased(key, budget, guard)
    if decision is not None:
        return _decided(request, handler, decision)  # from the lease: no await either
    return _shared(request, handler, limiter, key, budget, guard)


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
    limiter: RateLimiter,
    key: str,
    budget: Budget,
    guard: tuple[str, Budget] | None,
) -> web.StreamResponse:
    decision = await limiter.hit_shared(key, budget, guard, limiter.client(request))
    return await _decided(request, handler, decision)


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
