"""Routes: the web client's pages under /lms/ (aiohttp-jinja2, plain JavaScript).

Pages carry no data and need no token: each is a shell whose module script calls the JSON
API with the token kept in sessionStorage, so every rule stays the API's own.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from web.handlers import path_id
from web.routing import Handler, RouteTable

routes = RouteTable()
TAG = "pages"
STATIC_PREFIX = "/static/lms/"
STATIC_DIR = Path(__file__).parent / "static" / "lms"
# Ten digits at most: longer ids name nothing, and the router answers 404 before parsing.
ID = "[0-9]{1,10}"

# Everything the pages load comes from this service; no inline script, no other origin.
# `connect-src 'self'` admits same-origin WebSockets too.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    # A token arriving as `?token=` must never travel on in a Referer header.
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


def _page(request: web.Request, template: str, title: str, **context: Any) -> web.Response:
    response = aiohttp_jinja2.render_template(
        f"lms/{template}.html",
        request,
        {"title": title, "static": STATIC_PREFIX, "script": template, **context},
    )
    response.headers.update(SECURITY_HEADERS)
    return response


def _route(path: str, summary: str) -> Callable[[Handler], Handler]:
    return routes.route("GET", path, tag=TAG, summary=summary, public=True, media_type="text/html")


@_route("/lms/", "Web client: the course catalogue")
async def catalogue_page(request: web.Request) -> web.Response:
    return _page(request, "catalogue", "Courses")


@_route("/lms/signin/", "Web client: sign in with a token")
async def signin_page(request: web.Request) -> web.Response:
    return _page(request, "signin", "Sign in")


@_route(f"/lms/courses/{{course_id:{ID}}}/", "Web client: a course")
async def course_page(request: web.Request) -> web.Response:
    return _page(request, "course", "Course", room_id=path_id(request, "course_id"))


@_route(f"/lms/courses/{{course_id:{ID}}}/roster/", "Web client: a course's roster")
async def roster_page(request: web.Request) -> web.Response:
    return _page(request, "roster", "Roster", room_id=path_id(request, "course_id"))


@_route("/lms/cart/", "Web client: the cart and checkout")
async def cart_page(request: web.Request) -> web.Response:
    return _page(request, "cart", "Cart")


@_route("/lms/forums/", "Web client: forums")
async def forums_page(request: web.Request) -> web.Response:
    return _page(request, "forums", "Forums")


@_route(f"/lms/forums/{{forum_id:{ID}}}/", "Web client: a forum's live room")
async def forum_page(request: web.Request) -> web.Response:
    return _page(request, "forum", "Forum", room_id=path_id(request, "forum_id"))


@_route("/lms/groups/", "Web client: my groups")
async def groups_page(request: web.Request) -> web.Response:
    return _page(request, "groups", "Groups")


@_route(f"/lms/groups/{{group_id:{ID}}}/", "Web client: a group chat")
async def group_page(request: web.Request) -> web.Response:
    return _page(request, "group", "Group chat", room_id=path_id(request, "group_id"))


@_route("/lms/tutor/", "Web client: AI tutor sessions")
async def tutor_page(request: web.Request) -> web.Response:
    return _page(request, "tutor", "AI tutor")


@_route(f"/lms/tutor/{{session_id:{ID}}}/", "Web client: an AI tutor conversation")
async def tutor_session_page(request: web.Request) -> web.Response:
    return _page(request, "tutor_session", "AI tutor", room_id=path_id(request, "session_id"))


@_route("/lms/notifications/", "Web client: my notifications and their preferences")
async def notifications_page(request: web.Request) -> web.Response:
    return _page(request, "notifications", "Notifications")


@_route("/lms/messages/", "Web client: my conversations and direct messages")
async def messages_page(request: web.Request) -> web.Response:
    return _page(request, "messages", "Messages")


@_route("/lms/schedule/", "Web client: my schedule, a week at a time")
async def schedule_page(request: web.Request) -> web.Response:
    return _page(request, "schedule", "My schedule")


@_route(f"/lms/courses/{{course_id:{ID}}}/outline/", "Web client: a course's outline editor")
async def outline_page(request: web.Request) -> web.Response:
    return _page(request, "outline", "Outline", room_id=path_id(request, "course_id"))


@_route(f"/lms/quizzes/{{quiz_id:{ID}}}/", "Web client: take a quiz")
async def quiz_page(request: web.Request) -> web.Response:
    return _page(request, "quiz", "Quiz", room_id=path_id(request, "quiz_id"))


@_route(f"/lms/quizzes/{{quiz_id:{ID}}}/edit/", "Web client: a quiz's editor and preview")
async def quiz_editor_page(request: web.Request) -> web.Response:
    return _page(request, "quiz_editor", "Quiz editor", room_id=path_id(request, "quiz_id"))


@_route(f"/lms/courses/{{course_id:{ID}}}/assignments/", "Web client: a course's assignments")
async def assignments_page(request: web.Request) -> web.Response:
    return _page(request, "assignments", "Assignments", room_id=path_id(request, "course_id"))


@_route(f"/lms/assignments/{{assignment_id:{ID}}}/", "Web client: an assignment and my work")
async def assignment_page(request: web.Request) -> web.Response:
    return _page(request, "assignment", "Assignment", room_id=path_id(request, "assignment_id"))


@_route(f"/lms/assignments/{{assignment_id:{ID}}}/grading/", "Web client: a grading queue")
async def grading_page(request: web.Request) -> web.Response:
    return _page(request, "grading", "Grading", room_id=path_id(request, "assignment_id"))


@_route(f"/lms/courses/{{course_id:{ID}}}/gradebook/", "Web client: a course's gradebook")
async def gradebook_page(request: web.Request) -> web.Response:
    return _page(request, "gradebook", "Gradebook", room_id=path_id(request, "course_id"))


@_route("/lms/grades/", "Web client: my grades")
async def grades_page(request: web.Request) -> web.Response:
    return _page(request, "grades", "My grades")


@_route("/lms/certificates/", "Web client: my certificates")
async def certificates_page(request: web.Request) -> web.Response:
    return _page(request, "certificates", "My certificates")
