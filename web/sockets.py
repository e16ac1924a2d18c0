"""Routes: the seed's WebSocket endpoints (SPEC §4); the protocol lives in realtime/."""

from __future__ import annotations

from realtime import rooms
from realtime.sockets import room_handler
from web.routing import RouteTable

routes = RouteTable()
TAG = "realtime"
SOCKET_ERRORS = (403,)

routes.route(
    "GET",
    r"/ws/lms/course/{course_id:[0-9]+}/notifications/",
    tag=TAG,
    summary="WebSocket: course notifications (its instructor, admins, enrolled users)",
    errors=SOCKET_ERRORS,
)(room_handler(rooms.COURSE, "course_id"))

routes.route(
    "GET",
    r"/ws/lms/forum/{forum_id:[0-9]+}/",
    tag=TAG,
    summary="WebSocket: a forum's live chat (whoever may read the forum)",
    errors=SOCKET_ERRORS,
)(room_handler(rooms.FORUM, "forum_id"))

routes.route(
    "GET",
    r"/ws/lms/group/{group_id:[0-9]+}/chat/",
    tag=TAG,
    summary="WebSocket: a group's chat (its members)",
    errors=SOCKET_ERRORS,
)(room_handler(rooms.GROUP, "group_id"))

routes.route(
    "GET",
    r"/ws/lms/ai_chat/{session_id:[0-9]+}/",
    tag=TAG,
    summary="WebSocket: an AI tutor session's answers as they stream (its owner)",
    errors=SOCKET_ERRORS,
)(room_handler(rooms.AI_CHAT, "session_id"))
