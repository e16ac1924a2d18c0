"""Who is connected to a live room now (across instances with Redis)."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, Field

from models.people.names import people
from models.people.schemas import Person
from realtime.gate import GATE
from web.handlers import actor, session


class OnlineRead(BaseModel):
    room: str = Field(examples=["forum:1"])
    users: list[str] = Field(description="User ids with a socket open in the room, sorted.")
    people: list[Person] = Field(description="Who `users` are, in the same order.")
    count: int


async def online_body(request: web.Request, room: str) -> dict[str, object]:
    key = (actor(request).tenant, room)
    users = await request.app[GATE].hub.presence.online(key)
    # One statement for the names of all of them (none when the room is empty).
    named = await people(session(request), users)
    return {"room": room, "users": users, "people": [named[u] for u in users], "count": len(users)}
