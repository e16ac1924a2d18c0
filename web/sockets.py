"""Routes: the WebSocket endpoints (docs/realtime.md); the protocol lives in realtime/."""

from __future__ import annotations

from realtime import rooms
from realtime.sockets import RoomKind, own_room_handler, room_handler
from web.routing import RouteTable

routes = RouteTable()
TAG = "realtime"
# A plain GET (no upgrade) is a 400; a foreign Origin a 403, refused before the upgrade.
SOCKET_ERRORS = (400, 403)

# (path, the room kind, the path's id, who may enter)
SOCKETS: tuple[tuple[str, RoomKind, str, str], ...] = (
    (
        r"/ws/lms/course/{course_id:[0-9]+}/notifications/",
        rooms.COURSE,
        "course_id",
        "course notifications (its instructor, admins, enrolled users)",
    ),
    (
        r"/ws/lms/forum/{forum_id:[0-9]+}/",
        rooms.FORUM,
        "forum_id",
        "a forum's live chat (whoever may read the forum)",
    ),
    (
        r"/ws/lms/group/{group_id:[0-9]+}/chat/",
        rooms.GROUP,
        "group_id",
        "a group's chat (its members)",
    ),
    (
        r"/ws/lms/ai_chat/{session_id:[0-9]+}/",
        rooms.AI_CHAT,
        "session_id",
        "an AI tutor session's answers as they stream (its owner)",
    ),
)

for path, kind, id_name, who in SOCKETS:
    # The token is checked after the handshake (a header or `?token=`), so over HTTP the
    # path is public: a refused socket is closed with a code (docs/realtime.md).
    routes.route(
        "GET",
        path,
        tag=TAG,
        summary=f"WebSocket: {who}",
        status=101,
        public=True,
        errors=SOCKET_ERRORS,
    )(room_handler(kind, id_name))

routes.route(
    "GET",
    "/ws/lms/notifications/",
    tag=TAG,
    summary="WebSocket: my own notifications, live (whoever holds a token)",
    status=101,
    public=True,
    errors=SOCKET_ERRORS,
)(own_room_handler(rooms.NOTIFICATIONS))
