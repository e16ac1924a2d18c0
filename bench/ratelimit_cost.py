"""What the rate limiter costs a request, in microseconds of this process's CPU.

    python -m bench.ratelimit_cost [REQUESTS]        # default 20000

In process, pinned to CPU 0 when it can be: the limiter's two middlewares
(web/ratelimit.py) run around a handler that does nothing, for one authenticated GET at
a time, spread over 10,000 users (each well inside its budget, as in a deployment); the
same loop with the handler alone is subtracted. Memory: the embedded default's buckets,
one user after the other. Redis (at BENCH_REDIS_URL, default redis://127.0.0.1:6379/13),
shared through leases: the users come back in visits of PAGE requests (assumed: the API
calls of one page of the web client, all reaching this instance), so a visit's first
request takes a lease (one script call) and the others spend it; `redis_calls` is the
script calls a request. The CPU figure is what the web process spends (the client's
work), the wall figure adds the round trips, during which the event loop serves other
requests. `redis_cold_cpu_us`: every request a refresh (one user after the other, none
back within a lease's life), the worst case; a workload of R requests a lease costs
about cold/R + leased (`redis_leased_cpu_us`: none asks Redis).
No target: the figures are reported beside the others of `make bench`.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any, NamedTuple

from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from aiohttp.web_urldispatcher import UrlMappingMatchInfo
from redis.asyncio import Redis

from models.identity import Principal
from models.settings import Settings
from web.keys import PRINCIPAL, SETTINGS
from web.ratelimit import LIMITER, RateLimiter, rate_limit_edge, rate_limit_middleware

LABEL = "rate limiter cost per request"
REQUESTS = 20_000
USERS = 10_000
PAGE = 5
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")


class _Peer:
    """The transport of a client at 127.0.0.1, as far as a request asks it."""

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 50000) if name == "peername" else default

    def is_closing(self) -> bool:
        return False


async def _nothing(request: web.Request) -> web.StreamResponse:
    return web.Response()


def _app(redis: Redis | None) -> web.Application:
    app = web.Application()
    app[SETTINGS] = Settings(redis_url=None)
    app[LIMITER] = RateLimiter(app[SETTINGS], {}, redis)
    return app


async def _loop(
    request: web.Request,
    call: Callable[[], Awaitable[Any]],
    users: list[Principal],
    requests: int,
    page: int,
) -> tuple[float, float]:
    """CPU and wall seconds for `requests` calls, `page` in a row by each user, then the
    next user."""
    cpu, wall = time.process_time(), time.perf_counter()
    for n in range(requests):
        request[PRINCIPAL] = users[n // page % len(users)]
        await call()
    return time.process_time() - cpu, time.perf_counter() - wall


def _users() -> list[Principal]:
    run = uuid.uuid4().hex[:8]
    return [
        Principal(user_id=f"bench-{run}-{n}", tenant="default", roles=frozenset({"student"}))
        for n in range(USERS)
    ]


class Figures(NamedTuple):
    cpu_us: float
    wall_us: float
    calls: float  # script calls a request


async def measure(
    redis: Redis | None, requests: int, page: int = 1, leased: bool = False
) -> Figures:
    """What the limiter adds to one request. The users are new (fresh names), so no
    earlier run's buckets count. `leased`: the clock stands still and every user has
    taken its lease first, so no measured request asks Redis."""
    app = _app(redis)
    limiter = app[LIMITER]
    buckets = limiter.redis
    users, others = _users(), _users()
    path = "/api/lms/courses/courses/"
    # A routed request from a real-looking peer: no mock on the path the limiter reads.
    route = web.ResourceRoute("GET", _nothing, web.PlainResource(path))
    request = make_mocked_request(
        "GET", path, app=app, match_info=UrlMappingMatchInfo({}, route), transport=_Peer()
    )

    def limited() -> Awaitable[web.StreamResponse]:
        return rate_limit_edge(request, lambda r: rate_limit_middleware(r, _nothing))

    def bare() -> Awaitable[web.StreamResponse]:
        return _nothing(request)

    if leased:
        still = time.time()
        limiter.clock = lambda: still
        await _loop(request, limited, users, USERS, 1)  # every user's lease
    else:
        await _loop(request, limited, others, min(requests, 2_000), page)  # warm-up
    base_cpu, base_wall = await _loop(request, bare, users, requests, page)
    calls = getattr(buckets, "calls", 0)
    cpu, wall = await _loop(request, limited, users, requests, page)
    if buckets is not None and buckets.failures:
        # Unanswered calls were allowed without a round trip: the figure would flatter.
        raise RuntimeError(f"Redis did not answer {buckets.failures} calls")
    return Figures(
        (cpu - base_cpu) / requests * 1e6,
        (wall - base_wall) / requests * 1e6,
        (getattr(buckets, "calls", calls) - calls) / requests,
    )


async def _redis() -> Redis | None:
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    try:
        await client.ping()
    except Exception as exc:
        print(f"{LABEL}: Redis at {REDIS_URL} unreachable ({exc}); memory only")
        await client.aclose()
        return None
    return client


@contextmanager
def on_cpu_0() -> Iterator[None]:
    """This process on CPU 0 (where the pinned servers run), as it was afterwards."""
    getaffinity = getattr(os, "sched_getaffinity", None)
    before = getaffinity(0) if getaffinity is not None else None
    with suppress(AttributeError, OSError):
        os.sched_setaffinity(0, {0})
    try:
        yield
    finally:
        if before is not None:
            os.sched_setaffinity(0, before)


async def main(requests: int = REQUESTS) -> list[str]:
    with on_cpu_0():
        memory = await measure(None, requests)
        fields = f"memory_us={memory.cpu_us:.2f}"
        client = await _redis()
        if client is not None:
            try:
                paged = await measure(client, requests, PAGE)
                cold = await measure(client, requests)
                leased = await measure(client, requests, leased=True)
                fields += (
                    f" redis_cpu_us={paged.cpu_us:.1f} redis_wall_us={paged.wall_us:.1f}"
                    f" redis_calls={paged.calls:.2f} page={PAGE}"
                    f" redis_cold_cpu_us={cold.cpu_us:.1f} redis_cold_calls={cold.calls:.2f}"
                    f" redis_leased_cpu_us={leased.cpu_us:.1f}"
                )
            except RuntimeError as exc:
                print(f"{LABEL}: Redis left out: {exc}")
            finally:
                await client.aclose()
    line = f"{LABEL}: RESULT {fields} requests={requests} users={USERS}"
    print(line)
    return [line]


if __name__ == "__main__":
    asyncio.run(main(*(int(a) for a in sys.argv[1:2])))
