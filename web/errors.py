"""The one place that turns exceptions into responses in the contract's error shapes."""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler
from sqlalchemy.exc import IntegrityError

from models import outage
from models.errors import DomainError, Throttled, ValidationFailed
from web.jsonio import json_response
from web.keys import REQUEST_ID

log = logging.getLogger(__name__)

# aiohttp's own HTTP errors, reworded the way DRF words them.
HTTP_DETAILS = {
    400: "Malformed request.",
    401: "Authentication credentials were not provided.",
    403: "You do not have permission to perform this action.",
    404: "Not found.",
    413: "Request entity too large.",
    415: "Unsupported media type.",
    429: "Request was throttled.",
}


def error_body(status: int, detail: str) -> dict[str, Any]:
    return {"detail": detail, "status": status}


def validation_body(errors: dict[str, list[str]]) -> dict[str, Any]:
    # A field named `status` keeps its messages there (clients read them by field); the
    # code stays in the status line.
    if "status" in errors:
        return dict(errors)
    return {**errors, "status": 400}


def render_domain_error(exc: DomainError) -> web.Response:
    if isinstance(exc, ValidationFailed):
        return json_response(validation_body(exc.errors), status=400)
    headers = {}
    if isinstance(exc, Throttled) and exc.retry_after is not None:
        headers["Retry-After"] = str(exc.retry_after)
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="lms"'
    return json_response(error_body(exc.status, exc.detail), status=exc.status, headers=headers)


def render_database_unavailable() -> web.Response:
    """A 503 the client may retry: the database went away (a restart, a failover) or is busy."""
    return json_response(
        error_body(503, outage.DETAIL),
        status=503,
        headers={"Retry-After": str(outage.RETRY_AFTER_SECONDS)},
    )


def render_http_error(request: web.Request, exc: web.HTTPException) -> web.StreamResponse:
    if exc.status == 405:
        detail = f'Method "{request.method}" not allowed.'
        headers = {"Allow": exc.headers.get("Allow", "")}
        return json_response(error_body(405, detail), status=405, headers=headers)
    detail = HTTP_DETAILS.get(exc.status, exc.reason)
    return json_response(error_body(exc.status, detail), status=exc.status)


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except DomainError as exc:
        return render_domain_error(exc)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return render_http_error(request, exc)
    except IntegrityError:
        # A uniqueness race that the domain's own checks could not see coming.
        log.warning("integrity error on %s %s", request.method, request.path, exc_info=True)
        return json_response(
            error_body(409, "Conflict with the current state of the resource."), status=409
        )
    except Exception as exc:
        if outage.database_unavailable(exc):
            log.warning("database unavailable on %s %s: %r", request.method, request.path, exc)
            return render_database_unavailable()
        if isinstance(exc, OSError):
            log.exception("I/O error on %s %s", request.method, request.path)
            return json_response(
                error_body(503, "Service temporarily unavailable."),
                status=503,
                headers={"Retry-After": str(outage.RETRY_AFTER_SECONDS)},
            )
        log.exception("unhandled error, request id %s", request.get(REQUEST_ID))
        return json_response(error_body(500, "A server error occurred."), status=500)
