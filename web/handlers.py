"""Small helpers every route module uses: who is asking, their session, ids from the path."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from models import unit_of_work as units
from models.fields import MAX_ID
from models.identity import Principal
from models.people.names import named, with_people
from models.rendering import dump
from models.unit_of_work import UnitOfWork
from web.jsonio import json_response, read_json, validate
from web.keys import BUS, DATABASES, DISPATCHER, PRINCIPAL, UOW

ModelT = TypeVar("ModelT", bound=BaseModel)


def actor(request: web.Request) -> Principal:
    return request[PRINCIPAL]


def open_unit(
    app: web.Application, tenant: str, *, read_only: bool = False
) -> AbstractAsyncContextManager[UnitOfWork]:
    """A unit of work of the tenant, its tasks to the app's dispatcher, its events to its bus."""
    return units.unit_of_work(
        app[DATABASES], tenant, tasks=app[DISPATCHER], events=app[BUS], read_only=read_only
    )


def unit_of_work(request: web.Request) -> UnitOfWork:
    """The request's unit of work (opened by web/middlewares.py)."""
    return request[UOW]


def session(request: web.Request) -> AsyncSession:
    return request[UOW].session


def reads(request: web.Request) -> AsyncEngine:
    """The tenant's autocommit engine, for a hot list read as one statement, no session
    (`models.listing.read_rows`)."""
    return request.app[DATABASES].tenant_reads(request[UOW].tenant)


def path_id(request: web.Request, name: str) -> int:
    """An id from the path; routes admit only ASCII digits, and one past MAX_ID names nothing."""
    raw = request.match_info[name]
    if len(raw) > len(str(MAX_ID)):  # names nothing; and int() refuses over 4,300 digits
        raise web.HTTPNotFound()
    value = int(raw)
    if not 0 < value <= MAX_ID:
        raise web.HTTPNotFound()
    return value


async def read_update(
    request: web.Request, create: type[BaseModel], update: type[ModelT]
) -> ModelT:
    """PATCH validates only what is sent; PUT must also carry every required field."""
    data = await read_json(request)
    if request.method == "PUT":
        validate(create, data)
    return validate(update, data)


def render(model: type[BaseModel], obj: Any) -> dict[str, Any]:
    """The response model's JSON of `obj`, which the service built: not validated again."""
    return dump(model, obj)


async def render_named(
    request: web.Request, model: type[BaseModel], row: Any, **fields: str
) -> dict[str, Any]:
    """A row rendered with the name objects beside its user ids (models/people/names.py):
    loaded with the row, or for a row made in this unit the actor's, else one statement."""
    await named(session(request), [row])
    return render(model, with_people(row, **fields))


def ok(body: Any, *, status: int = 200) -> web.Response:
    return json_response(body, status=status)


def no_content() -> web.Response:
    return web.Response(status=204)
