"""The audit trail: every mutating request, every denial, and a token's first use.

The record is built here from what the request was and how it ended. A request that
commits has it inserted in its own transaction, just before the commit (the transaction
middleware, web/middlewares.py); any other (refused, failed, or whose commit failed) has
the domain's `do_write_audit` store it, through the workers (or directly if the broker is
down).
Nothing of the body or query string is recorded, so no secret can reach the trail.
Failed authentications and rate-limit refusals are counted, not listed: one row per client
address (and user) and minute whose `count` each such request adds to, so a flood of bad
tokens cannot fill the trail.
"""

from __future__ import annotations

import ipaddress
import logging
import re

from aiohttp import web
from aiohttp.typedefs import Handler

from models.base import utcnow
from models.identity import Principal
from models.ids import unique_hex
from models.logs.operations import WRITE_AUDIT
from models.logs.schemas import AuditRecord
from web.keys import (
    AUDITED,
    DISPATCHER,
    FIRST_SIGHT,
    HOST_TENANT,
    PRINCIPAL,
    REQUEST_ID,
    SEEN_TOKENS,
    SETTINGS,
    THROTTLED,
    TOKEN_ID,
)
from web.middlewares import is_public
from web.routing import Endpoint

log = logging.getLogger(__name__)
CANONICAL = re.compile(r"\{(\w+):[^{}]*\}")
MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
VERBS = {"POST": "created", "PUT": "updated", "PATCH": "updated", "DELETE": "deleted"}
ENDPOINTS = web.AppKey("audit_endpoints", dict[tuple[str, str], Endpoint])


def _singular(segment: str) -> str:
    name = segment.replace("-", "_")
    if name.endswith("ies"):
        return name[:-3] + "y"
    return name[:-1] if name.endswith("s") else name


def action_name(endpoint: Endpoint | None, method: str, path: str) -> str:
    """`course_created`, `gateway_updated`, `course_upload_thumbnail`…: from the route."""
    if endpoint is not None and endpoint.audit:
        return endpoint.audit
    pattern = endpoint.path if endpoint is not None else path
    parts = [p for p in pattern.split("/") if p][3:]  # after /api/lms/<app>/
    if not parts:
        return f"request_{VERBS.get(method, method.lower())}"
    resource = _singular(parts[0])
    dynamic = [i for i, p in enumerate(parts) if p.startswith("{")]
    tail = parts[dynamic[-1] + 1 :] if dynamic else []
    if tail:
        return f"{resource}_{'_'.join(t.replace('-', '_') for t in tail)}"
    return f"{resource}_{VERBS.get(method, method.lower())}"


def client_ip(request: web.Request, trusted: list[str]) -> str | None:
    """The peer; X-Forwarded-For is believed only when the peer is a trusted proxy."""
    peer = request.remote
    if peer is None or peer not in trusted:
        return peer
    for hop in reversed(request.headers.get("X-Forwarded-For", "").split(",")):
        candidate = hop.strip()
        if candidate and candidate not in trusted:
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                return peer
    return peer


def _record(
    request: web.Request, *, event_id: str, action: str, status: int, details: str
) -> AuditRecord:
    principal = request.get(PRINCIPAL)
    return AuditRecord(
        event_id=event_id,
        user_id=principal.user_id if principal else None,
        action_type=action,
        details=details,
        method=request.method,
        path=request.path[:2000],
        status_code=status,
        ip_address=client_ip(request, request.app[SETTINGS].trusted_proxies),
        user_agent=request.headers.get("User-Agent", "")[:500],
        request_id=request.get(REQUEST_ID),
        timestamp=utcnow(),
    )


def _counted(request: web.Request, action: str, status: int, details: str) -> AuditRecord:
    """One row per action, client (and user) and minute, whose `count` each request adds
    to: a flood of bad tokens or throttled calls cannot fill the trail."""
    record = _record(request, event_id="", action=action, status=status, details=details)
    minute = f"{record.timestamp:%Y-%m-%dT%H:%M}"
    key = f"{action}:{record.ip_address or ''}:{record.user_id or ''}:{minute}"
    return record.model_copy(update={"event_id": key[:200], "counted": True})


def audit_records(request: web.Request, status: int) -> list[AuditRecord]:
    """What this request adds to the trail (often nothing: reads are not audited)."""
    records = []
    token_id = request.get(TOKEN_ID)
    if token_id is not None and _first_sight(request, token_id):
        records.append(
            _record(
                request,
                event_id=f"login:{token_id}"[:200],
                action="user_login",
                status=status,
                details="First request with this token.",
            )
        )
    endpoint = request.app[ENDPOINTS].get(
        (request.method, request.match_info.route.resource.canonical)
        if request.match_info.route.resource is not None
        else ("", "")
    )
    if request.get(THROTTLED):
        records.append(_counted(request, "rate_limited", status, "Refused by the rate limit."))
        return records
    if status == 401:
        records.append(_counted(request, "authentication_failed", status, "Authentication failed."))
        return records
    if status == 403:
        action, details = "permission_denied", "Permission denied."
    elif request.method in MUTATING:
        action = action_name(endpoint, request.method, request.path)
        details = "Succeeded." if status < 400 else f"Refused with {status}."
    else:
        return records
    records.append(
        _record(request, event_id=unique_hex(), action=action, status=status, details=details)
    )
    return records


def _first_sight(request: web.Request, token_id: str) -> bool:
    first = request.get(FIRST_SIGHT)
    if first is None:
        first = request[FIRST_SIGHT] = request.app[SEEN_TOKENS].first_sight(token_id)
    return first


def _tenant_of(request: web.Request) -> str:
    """The request's tenant; a failed login on no known domain goes to the default tenant."""
    principal: Principal | None = request.get(PRINCIPAL)
    if principal is not None:
        return principal.tenant
    host_tenant: str | None = request.get(HOST_TENANT)
    return host_tenant or request.app[SETTINGS].default_tenant


@web.middleware
async def audit_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    finally:
        # Public endpoints (health, docs, media, Stripe's webhooks) belong to no user; a
        # webhook's effect is recorded by the payment events it stores. A request that
        # committed has its records in already (the transaction middleware's commit).
        if (
            request.match_info.http_exception is None
            and not is_public(request)
            and not request.get(AUDITED, False)
        ):
            tenant = _tenant_of(request)
            try:
                for record in audit_records(request, status):
                    await request.app[DISPATCHER].send(
                        WRITE_AUDIT, tenant, record.model_dump(mode="json")
                    )
            except Exception:
                log.exception("audit record could not be sent")


def endpoint_index(endpoints: list[Endpoint]) -> dict[tuple[str, str], Endpoint]:
    """Endpoints by method and canonical path (`{course_id}`, as the router reports it)."""
    return {(e.method, CANONICAL.sub(r"{\1}", e.path)): e for e in endpoints}
