"""CORS for the origins in LMS_ALLOWED_ORIGINS: transport only, no rule about resources."""

from __future__ import annotations

from collections.abc import Awaitable

from aiohttp import web
from aiohttp.typedefs import Handler

from web.keys import SETTINGS
from web.middlewares import is_socket

ALLOWED_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
ALLOWED_HEADERS = "Authorization, Content-Type, Idempotency-Key, X-Request-ID"
EXPOSED_HEADERS = "X-Request-ID, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset"
PREFLIGHT_MAX_AGE = "600"


def _allowed_origin(request: web.Request) -> str | None:
    origin = request.headers.get("Origin")
    return origin if origin and origin in request.app[SETTINGS].allowed_origins else None


@web.middleware
def cors_middleware(request: web.Request, handler: Handler) -> Awaitable[web.StreamResponse]:
    """Answer preflights; mark every answer to an allowed origin, error answers included.

    Tokens travel in the Authorization header, not cookies, so credentials are not allowed.
    """
    origin = _allowed_origin(request)
    # Nothing to add for no allowed origin, nor for a socket (its Origin is checked at the
    # handshake, realtime/gate.py): then no frame of ours waits on the handler.
    if origin is None or is_socket(request):
        return handler(request)
    return _cross_origin(request, handler, origin)


async def _cross_origin(request: web.Request, handler: Handler, origin: str) -> web.StreamResponse:
    is_preflight = (
        request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers
    )
    if is_preflight:
        return web.Response(
            status=204,
            headers={
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Methods": ALLOWED_METHODS,
                "Access-Control-Allow-Headers": ALLOWED_HEADERS,
                "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
                "Vary": "Origin",
            },
        )
    response = await handler(request)
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    response.headers.add("Vary", "Origin")
    return response
