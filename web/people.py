"""Routes: the tenant's directory of people (who the ids in every answer are)."""

from __future__ import annotations

from aiohttp import web

from models.people import operations as people
from models.people.schemas import MeRead, UserQuery, UserRead
from web.handlers import actor, ok, render, session
from web.jsonio import read_query
from web.pagination import paginated
from web.routing import SEARCH, RouteTable

routes = RouteTable()
TAG = "people"
USERS = "/api/lms/users/"
ME = USERS + "me/"
USER = USERS + "{user_id}/"


@routes.read(USERS, tag=TAG, query=UserQuery, response=UserRead, paginated=True, expensive=SEARCH)
async def list_users(request: web.Request) -> web.Response:
    """The people this tenant has seen, by name (`search` names and ids); emails as below."""
    query = read_query(request, UserQuery)
    who = actor(request)
    stmt = people.people_query(query)
    return ok(
        await paginated(
            request,
            session(request),
            stmt,
            lambda user: render(UserRead, people.person_fields(who, user)),
        )
    )


@routes.read(ME, tag=TAG, response=MeRead)
async def get_me(request: web.Request) -> web.Response:
    """Me, as my token describes me: id, name, email, picture, roles."""
    return ok(render(MeRead, people.me_fields(actor(request))))


@routes.read(USER, tag=TAG, response=UserRead, errors=(404,))
async def get_user(request: web.Request) -> web.Response:
    """A person of this tenant: name and picture; the email only to themself and admins."""
    user = await people.access_person(
        session(request), actor=actor(request), user_id=request.match_info["user_id"]
    )
    return ok(render(UserRead, people.person_fields(actor(request), user)))
