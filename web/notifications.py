"""Routes: my notification inbox and my channel for each type (Notifications)."""

from __future__ import annotations

from aiohttp import web

from models.errors import ValidationFailed
from models.listing import paginate
from models.notifications import email
from models.notifications import operations as notifications
from models.notifications.schemas import (
    NotificationQuery,
    NotificationRead,
    NotificationReadAllResult,
    NotificationUnreadCount,
    Preferences,
    PreferencesChange,
    UnsubscribeQuery,
    UnsubscribeResult,
)
from web.handlers import actor, ok, open_unit, path_id, render, session
from web.jsonio import read_json, read_query
from web.keys import SETTINGS, TENANTS
from web.pagination import page_body, page_request
from web.routing import RouteTable

routes = RouteTable()
TAG = "notifications"
NOTIFICATIONS = "/api/lms/notifications/notifications/"
NOTIFICATION = NOTIFICATIONS + r"{notification_id:[0-9]+}/"
READ_ALL = NOTIFICATIONS + "read-all/"
UNREAD_COUNT = NOTIFICATIONS + "unread-count/"
PREFERENCES = "/api/lms/notifications/preferences/"
UNSUBSCRIBE = "/api/lms/notifications/unsubscribe/"


@routes.read(
    NOTIFICATIONS, tag=TAG, query=NotificationQuery, response=NotificationRead, paginated=True
)
async def list_notifications(request: web.Request) -> web.Response:
    """My notifications, newest first (`unread`, `type`)."""
    query = read_query(request, NotificationQuery)
    stmt = notifications.notifications_query(actor(request), unread=query.unread, type_=query.type)
    result = await paginate(session(request), stmt, page_request(request))
    rows = [render(NotificationRead, notifications.notification_fields(n)) for n in result.rows]
    return ok(page_body(request, result, rows))


@routes.route(
    "POST", NOTIFICATION + "read/", tag=TAG, response=NotificationRead, audit="notification_read"
)
async def read_notification(request: web.Request) -> web.Response:
    """Mark one of my notifications read (again: no change); returns it."""
    notification = await notifications.access_notification(
        session(request),
        actor=actor(request),
        notification_id=path_id(request, "notification_id"),
    )
    notification = await notifications.do_read_notification(
        session(request), notification=notification
    )
    return ok(render(NotificationRead, notifications.notification_fields(notification)))


@routes.route(
    "POST", READ_ALL, tag=TAG, response=NotificationReadAllResult, audit="notification_read_all"
)
async def read_all_notifications(request: web.Request) -> web.Response:
    """Mark every notification of mine read."""
    marked = await notifications.do_read_all(session(request), actor=actor(request))
    return ok(render(NotificationReadAllResult, {"marked": marked, "unread_count": 0}))


@routes.read(UNREAD_COUNT, tag=TAG, response=NotificationUnreadCount)
async def unread_count(request: web.Request) -> web.Response:
    """How many of my notifications I have not read."""
    count = await notifications.unread_count(session(request), actor=actor(request))
    return ok(render(NotificationUnreadCount, {"unread_count": count}))


@routes.read(PREFERENCES, tag=TAG, response=Preferences)
async def get_preferences(request: web.Request) -> web.Response:
    """My channel for each type: `in_app` (inbox and socket), `email` (inbox, by email),
    `off` (nothing)."""
    chosen = await notifications.preferences_of(session(request), actor=actor(request))
    return ok(chosen)


async def _set_preferences(request: web.Request, *, replace: bool) -> web.Response:
    changes = notifications.check_preferences(await read_json(request))
    chosen = await notifications.do_set_preferences(
        session(request), actor=actor(request), changes=changes, replace=replace
    )
    return ok(chosen)


@routes.route("PUT", PREFERENCES, tag=TAG, body=PreferencesChange, response=Preferences)
async def put_preferences(request: web.Request) -> web.Response:
    """Set my channels: the types named as given, every other type back to `in_app`."""
    return await _set_preferences(request, replace=True)


@routes.route("PATCH", PREFERENCES, tag=TAG, body=PreferencesChange, response=Preferences)
async def patch_preferences(request: web.Request) -> web.Response:
    """Change my channel for the types named; the others stay as they are."""
    return await _set_preferences(request, replace=False)


async def _unsubscribe_token(request: web.Request) -> str:
    token = request.query.get("token")
    if token is None and request.method == "POST" and request.can_read_body:
        # One-click (RFC 8058) posts `List-Unsubscribe=One-Click` to the link, token and all;
        # a form may carry the token in its body instead.
        form = await request.post()
        value = form.get("token")
        token = value if isinstance(value, str) else None
    if token is None:
        raise ValidationFailed.field("token", "This field is required.")
    return token


async def _unsubscribe(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    target = email.check_unsubscribe_token(settings, await _unsubscribe_token(request))
    # Signed for one tenant: on another's domain, or for no tenant there is, it is refused.
    tenants = request.app[TENANTS]
    host_tenant = await tenants.tenant_for_host(request.host or "")
    if host_tenant not in (None, target.tenant) or not await tenants.exists(target.tenant):
        raise ValidationFailed.field("token", email.INVALID_TOKEN)
    async with open_unit(request.app, target.tenant) as uow:
        await email.do_unsubscribe(uow.session, user_id=target.user_id, type_=target.type)
    return ok(render(UnsubscribeResult, {"type": target.type, "unsubscribed": True}))


@routes.route(
    "GET",
    UNSUBSCRIBE,
    tag=TAG,
    public=True,
    query=UnsubscribeQuery,
    response=UnsubscribeResult,
    errors=(400,),
)
async def unsubscribe(request: web.Request) -> web.Response:
    """Stop emailing one notification type (an email's unsubscribe link; no token needed).

    The link's signed token names the tenant, the user and the type (`all`: every type);
    where they chose `email` for it, it becomes `in_app`. A token this service did not
    sign, or used on another tenant's domain: 400 on `token`."""
    return await _unsubscribe(request)


@routes.route(
    "POST",
    UNSUBSCRIBE,
    tag=TAG,
    public=True,
    query=UnsubscribeQuery,
    response=UnsubscribeResult,
    errors=(400,),
)
async def unsubscribe_one_click(request: web.Request) -> web.Response:
    """One-click unsubscribe (List-Unsubscribe-Post), as the GET link does."""
    return await _unsubscribe(request)
