"""Who is connected to a live room now (across instances with Redis)."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, Field

from realtime.gate import GATE
from web.handlers import actor


class OnlineRead(BaseModel):
    room: str = Field(examples=["forum:1"])
    users: list[str] = Field(description="User ids with a socket open in the room, sorted.")
    count: int


async def online_body(request: web.Request, room: str) -> dict[str, object]:
    key = (actor(request).tenant, room)
    users = await request.app[GATE].hub.presence.online(key)
    return {"room": room, "users": users, "count": len(users)}
