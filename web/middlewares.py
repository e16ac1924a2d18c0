"""Middlewares, applied in this order (outermost first):

1. request id: every response and log line can be traced, even an error response;
   then CORS (web/cors.py): preflights are answered before routing can refuse OPTIONS,
   and error responses carry the CORS headers too, so browsers can read them;
   then the rate limiter's edge (web/ratelimit.py): a 401 spends the address's failed-
   authentication budget (beyond it, a 429 instead), and every answer gets RateLimit-*;
   then audit (web/audit.py): outside errors, so it sees the final status of every
   request, denials and failed logins included;
2. errors: everything inside, auth failures and rollbacks included, renders in the
   contract's shapes (docs/api.md);
3. tenant: the Host's tenant is known before the token is read, so a mismatch can be refused;
4. auth: verifies the token and settles the request's tenant;
   then the rate limiter (web/ratelimit.py): spends the user's (else the address's) budget;
5. transaction: the handler's unit of work (models/unit_of_work.py) commits only if the
   response is a success, with the request's audit records inserted just before (so
   the audit middleware sends none), and after-commit effects run only then; a route marked
   `read_only` gets a read-only unit instead (autocommit, writes refused).

They decide who and where, never what: business rules live in `models/`.

The plain shape is `async def m(request, handler): ... return await handler(request)`,
and the errors and audit middlewares keep it. The others are split in two: a plain `def`
that returns the handler's coroutine when it has nothing to do (always, for a socket),
and an `async def` helper for the requests it must wrap. A socket's handler runs for the
socket's whole life, and every frame left waiting under it stays as long: the split saves
1.05 KB per idle socket (`python -m bench.idle_sockets 3000`: 20.1 KB with the split,
21.2 KB with those five as plain `async def`), 10 MB per 10,000 sockets, which is what
keeps an idle socket under its 20 KB target.
"""

from __future__ import annotations

from collections.abc import Awaitable

from aiohttp import web
from aiohttp.typedefs import Handler

from models.errors import AuthenticationFailed, NotAuthenticated, PermissionDenied
from models.identity import Principal
from models.ids import unique_hex
from models.logs.operations import audit_with_commit
from models.outage import connection_lost
from models.people.directory import Claims, do_store_person
from models.unit_of_work import UnitOfWork
from web.handlers import open_unit
from web.keys import (
    AUDITED,
    AUDITOR,
    HOST_TENANT,
    PEOPLE_SEEN,
    PRINCIPAL,
    READ_ONLY_HANDLERS,
    REQUEST_ID,
    SETTINGS,
    TENANTS,
    TOKEN_ID,
    UOW,
    VERIFIER,
)
from web.tokens import principal_from_claims

# Served without a token: media files carry unguessable names; Stripe's webhooks
# authenticate by their signature instead.
PUBLIC_PREFIXES = (
    "/health/",
    "/api/lms/schema/",
    "/api/lms/docs/",
    "/media/",
    "/api/lms/payments/webhooks/",
    # Signed lesson-file links: the signature is the credential (web/course_content.py).
    "/api/lms/files/",
    # An email's unsubscribe link: its signed token is the credential (web/notifications.py).
    "/api/lms/notifications/unsubscribe/",
    # A certificate's verification: its unguessable code is all it takes (web/certificates.py).
    "/api/lms/certificates/verify/",
    # The web client's pages and assets: the token lives in the page (sessionStorage) and
    # rides on each API call it makes, never on the page request.
    "/lms/",
    "/static/lms/",
)


def is_public(request: web.Request) -> bool:
    return request.path.startswith(PUBLIC_PREFIXES)


def is_socket(request: web.Request) -> bool:
    return request.path.startswith("/ws/")


@web.middleware
def request_id_middleware(request: web.Request, handler: Handler) -> Awaitable[web.StreamResponse]:
    incoming = request.headers.get("X-Request-ID", "")
    request_id = incoming if 0 < len(incoming) <= 64 and incoming.isprintable() else unique_hex()
    request[REQUEST_ID] = request_id
    if is_socket(request):
        return handler(request)  # logs carry the id; a socket's answer is long gone by its end
    return _with_request_id_header(request, handler, request_id)


async def _with_request_id_header(
    request: web.Request, handler: Handler, request_id: str
) -> web.StreamResponse:
    response = await handler(request)
    response.headers["X-Request-ID"] = request_id
    return response


@web.middleware
def tenant_middleware(request: web.Request, handler: Handler) -> Awaitable[web.StreamResponse]:
    host = request.host or ""
    if is_public(request) or not host:
        return handler(request)  # health must answer even when the registry cannot
    known, tenant = request.app[TENANTS].known_tenant_for_host(host)
    if not known:
        return _with_host_tenant(request, handler, host)
    if tenant is not None:
        request[HOST_TENANT] = tenant
    return handler(request)


async def _with_host_tenant(
    request: web.Request, handler: Handler, host: str
) -> web.StreamResponse:
    tenant = await request.app[TENANTS].tenant_for_host(host)
    if tenant is not None:
        request[HOST_TENANT] = tenant
    return await handler(request)


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationFailed("Invalid Authorization header. Expected 'Bearer <token>'.")
    return token.strip()


async def authenticate(request: web.Request, token: str) -> Principal:
    """Verify a token and settle the tenant: the Host's, which the token must agree with."""
    app = request.app
    claims = await app[VERIFIER].verify(token)
    principal = principal_from_claims(claims, default_tenant=app[SETTINGS].default_tenant)
    request[TOKEN_ID] = str(claims.get("jti") or f"{principal.user_id}@{claims.get('iat', '')}")
    host_tenant = request.get(HOST_TENANT)
    if host_tenant is not None and host_tenant != principal.tenant:
        raise PermissionDenied("Token tenant does not match this domain.")
    if not await app[TENANTS].exists(principal.tenant):
        raise AuthenticationFailed("Unknown tenant.")
    return principal


async def authenticate_socket(request: web.Request, token: str) -> Principal:
    """A socket's handshake: the token verified, and its claims in the directory."""
    principal = await authenticate(request, token)
    claims = request.app[PEOPLE_SEEN].changed(principal)
    if claims is not None:
        await store_person_now(request.app, principal, claims)
    return principal


async def store_person_now(app: web.Application, principal: Principal, claims: Claims) -> None:
    """The directory's row of the caller, in a transaction of its own (a read's unit
    writes nothing); only when this process has not stored these claims already."""
    async with open_unit(app, principal.tenant) as unit:
        await do_store_person(unit.session, user_id=principal.user_id, claims=claims)
    app[PEOPLE_SEEN].stored(principal, claims)


def _store_person_with_commit(
    app: web.Application, uow: UnitOfWork, principal: Principal, claims: Claims
) -> None:
    """A writing request's unit stores the caller's changed claims in its own transaction,
    just before it commits; remembered once committed."""

    async def store() -> None:
        await do_store_person(uow.session, user_id=principal.user_id, claims=claims)

    async def remember() -> None:
        app[PEOPLE_SEEN].stored(principal, claims)

    uow.before_commit(store)
    uow.after_commit(remember)


@web.middleware
def auth_middleware(request: web.Request, handler: Handler) -> Awaitable[web.StreamResponse]:
    # Unmatched routes fall through to their 404/405 before any token is asked for;
    # sockets authenticate at the handshake, in realtime/.
    if is_public(request) or request.match_info.http_exception is not None or is_socket(request):
        return handler(request)
    return _authenticated(request, handler)


async def _authenticated(request: web.Request, handler: Handler) -> web.StreamResponse:
    token = bearer_token(request)
    if token is None and request.method == "GET" and request.path.endswith(".ics"):
        # Calendar clients cannot set headers; nowhere else may a token ride in a URL.
        token = request.query.get("token")
    if not token:
        raise NotAuthenticated()
    request[PRINCIPAL] = await authenticate(request, token)
    return await handler(request)


@web.middleware
def transaction_middleware(request: web.Request, handler: Handler) -> Awaitable[web.StreamResponse]:
    principal = request.get(PRINCIPAL)
    if principal is None:
        return handler(request)
    if request.match_info.handler in request.app[READ_ONLY_HANDLERS]:
        return _read(request, handler, principal)
    return _in_unit_of_work(request, handler, principal, read_only=False)


async def _read(request: web.Request, handler: Handler, principal: Principal) -> web.StreamResponse:
    try:
        return await _in_unit_of_work(request, handler, principal, read_only=True)
    except Exception as exc:
        if not connection_lost(exc):
            raise
    # The database dropped the connection under a read, which wrote nothing (a read-only
    # unit cannot): once more, on a fresh connection. A write never runs twice: it fails
    # whole, a 503 (web/errors.py).
    return await _in_unit_of_work(request, handler, principal, read_only=True)


async def _in_unit_of_work(
    request: web.Request, handler: Handler, principal: Principal, *, read_only: bool
) -> web.StreamResponse:
    # The caller's name, email and picture in the tenant's directory: nothing to do (no
    # statement) while their claims are those this process stored last.
    claims = request.app[PEOPLE_SEEN].changed(principal)
    if claims is not None and read_only:
        await store_person_now(request.app, principal, claims)
    async with open_unit(request.app, principal.tenant, read_only=read_only) as uow:
        request[UOW] = uow
        uow.actor = principal
        if claims is not None and not read_only:
            _store_person_with_commit(request.app, uow, principal, claims)
        response: web.StreamResponse = await handler(request)
        if response.status >= 400:
            uow.rollback_only()
            return response
        auditor = request.app.get(AUDITOR)
        audited = uow.started and not read_only
        if auditor is not None and audited:
            for record in auditor(request, response.status):
                audit_with_commit(uow.session, record)
    # Committed: its audit records are in (a failed commit raised, and the audit
    # middleware sends them, with the failure's status, as tasks).
    request[AUDITED] = audited
    return response
