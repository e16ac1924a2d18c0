"""GET /health/lms/: public; 503 "unhealthy" when the database cannot be reached."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from aiohttp import web
from pydantic import BaseModel
from sqlalchemy import text

from web.jsonio import json_response
from web.keys import DATABASES
from web.routing import RouteTable

VERSION = "1.0.0"
routes = RouteTable()


class HealthRead(BaseModel):
    status: str
    service: str
    version: str
    database: str
    timestamp: str


async def database_status(request: web.Request) -> str:
    try:
        async with asyncio.timeout(3):
            async with request.app[DATABASES].core_engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    except Exception:
        return "disconnected"
    return "connected"


@routes.route("GET", "/health/lms/", tag="meta", response=HealthRead, public=True, errors=(503,))
async def health(request: web.Request) -> web.Response:
    """Service health."""
    database = await database_status(request)
    healthy = database == "connected"
    body = {
        "status": "healthy" if healthy else "unhealthy",
        "service": "lms",
        "version": VERSION,
        "database": database,
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    return json_response(body, status=200 if healthy else 503)
