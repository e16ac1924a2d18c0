"""Routes: activity logs (mine; admins all) and audit logs (admins only, append-only)."""

from __future__ import annotations

from aiohttp import web

from models.logs import operations as logs
from models.logs.schemas import ActivityLogQuery, ActivityLogRead, AuditLogQuery, AuditLogRead
from models.people.names import with_people
from web.handlers import actor, ok, path_id, render, render_named, session
from web.jsonio import read_query
from web.pagination import page_body, page_request
from web.routing import RouteTable

routes = RouteTable()
ACTIVITY = "/api/lms/activitylog/logs/"
AUDIT = "/api/lms/auditlog/logs/"


@routes.read(
    ACTIVITY,
    tag="activitylog",
    query=ActivityLogQuery,
    response=ActivityLogRead,
    paginated=True,
)
async def list_activity(request: web.Request) -> web.Response:
    """My activity (admins: everyone's); filters activity_type, user_id, status, start, end."""
    query = read_query(request, ActivityLogQuery)
    result = await logs.activity_page(
        session(request), actor=actor(request), query=query, page=page_request(request)
    )
    rows = [render(ActivityLogRead, with_people(r)) for r in result.rows]
    return ok(page_body(request, result, rows))


@routes.read(ACTIVITY + "{log_id:[0-9]+}/", tag="activitylog", response=ActivityLogRead)
async def get_activity(request: web.Request) -> web.Response:
    """One activity record."""
    row = await logs.access_activity(
        session(request), actor=actor(request), log_id=path_id(request, "log_id")
    )
    return ok(await render_named(request, ActivityLogRead, row))


@routes.read(AUDIT, tag="auditlog", query=AuditLogQuery, response=AuditLogRead, paginated=True)
async def list_audit(request: web.Request) -> web.Response:
    """Audit records (admins); filters action_type, user_id, method, status_code, start, end."""
    who = actor(request)
    logs.check_auditor(who)  # before the query is read: a non-admin learns nothing from a 400
    query = read_query(request, AuditLogQuery)
    result = await logs.audit_page(
        session(request), actor=who, query=query, page=page_request(request)
    )
    rows = [render(AuditLogRead, with_people(r)) for r in result.rows]
    return ok(page_body(request, result, rows))


@routes.read(AUDIT + "{log_id:[0-9]+}/", tag="auditlog", response=AuditLogRead)
async def get_audit(request: web.Request) -> web.Response:
    """One audit record (admins)."""
    row = await logs.access_audit(
        session(request), actor=actor(request), log_id=path_id(request, "log_id")
    )
    return ok(await render_named(request, AuditLogRead, row))
