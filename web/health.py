"""GET /health/lms/: public; 503 "unhealthy" when the database cannot be reached."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from aiohttp import web
from pydantic import BaseModel
from sqlalchemy import text

from web.jsonio import json_response
from web.keys import DATABASES, REDIS
from web.routing import RouteTable

VERSION = "1.0.0"
routes = RouteTable()


class HealthRead(BaseModel):
    status: str
    service: str
    version: str
    database: str
    timestamp: str
    redis: str | None = None
    broker: str | None = None


async def database_status(request: web.Request) -> str:
    try:
        async with asyncio.timeout(3):
            async with request.app[DATABASES].core_engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    except Exception:
        return "disconnected"
    return "connected"


async def redis_status(request: web.Request) -> str | None:
    client = request.app.get(REDIS)
    if client is None:
        return None
    try:
        async with asyncio.timeout(3):
            await client.ping()
    except Exception:
        return "disconnected"
    return "connected"


@routes.route("GET", "/health/lms/", tag="meta", response=HealthRead, public=True, errors=(503,))
async def health(request: web.Request) -> web.Response:
    """Service health: 503 when the database is unreachable, "degraded" when Redis is."""
    database, redis = await asyncio.gather(database_status(request), redis_status(request))
    status = "healthy"
    if redis == "disconnected":
        status = "degraded"  # tasks fall back to running here; rooms stay on this instance
    if database != "connected":
        status = "unhealthy"
    body = {
        "status": status,
        "service": "lms",
        "version": VERSION,
        "database": database,
        "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if redis is not None:
        # The Celery broker is this same Redis (LMS_REDIS_URL).
        body.update(redis=redis, broker=redis)
    return json_response(body, status=503 if status == "unhealthy" else 200)
