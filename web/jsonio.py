"""JSON in and out: orjson, and pydantic errors in the contract's field-error shape."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError
from pydantic import ValidationError

from models.errors import (
    BadRequest,
    DomainError,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)
from models.fields import NUL_MESSAGE
from models.validation import ModelT, field_errors, validate

__all__ = ["field_errors", "json_response", "read_body", "read_json", "read_query", "validate"]

JSON_TYPE = "application/json"
# A JSON body read ahead (`read_json_ahead`): the parsed value, or why it is refused.
_READ_AHEAD = web.RequestKey("json_read_ahead", object)
_NOT_READ = object()


async def read_json_ahead(request: web.Request) -> None:
    """Read a JSON body before the request's unit of work takes a connection or a row
    lock: a client that sends its body slowly then holds nothing of the database's. The
    handler's `read_json` answers from it, errors included, at the point it asks, so the
    order of the answers (404 and 403 before 400) is unchanged. Multipart bodies are left
    to stream through their handler."""
    if not request.body_exists or request.content_type == "multipart/form-data":
        return
    try:
        request[_READ_AHEAD] = await _read_json(request)
    except DomainError as error:  # a parsed body is never an exception: kept as is
        request[_READ_AHEAD] = error


def json_response(
    body: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.Response(
        # UTC datetimes end in Z, as the contract's timestamps do.
        body=orjson.dumps(body, option=orjson.OPT_UTC_Z),
        status=status,
        content_type=JSON_TYPE,
        headers=headers,
    )


async def read_json(request: web.Request) -> Any:
    """The body as JSON: 415 for another media type, 400 when malformed, 413 when too big.

    A request without a body (the enroll POST) is an empty object whatever its
    Content-Type, as in DRF: the media type only matters when there is something to parse.
    """
    ahead = request.get(_READ_AHEAD, _NOT_READ)
    if ahead is _NOT_READ:
        return await _read_json(request)
    if isinstance(ahead, DomainError):
        raise ahead
    return ahead


async def _read_json(request: web.Request) -> Any:
    if not request.body_exists:
        return {}
    # aiohttp reports a missing Content-Type as application/octet-stream; DRF reports "".
    media_type = request.content_type if "Content-Type" in request.headers else ""
    if media_type != JSON_TYPE and not media_type.endswith("+json"):
        raise UnsupportedMediaType(f'Unsupported media type "{media_type}" in request.')
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise PayloadTooLarge() from None
    except RequestPayloadError:
        # The body itself is broken: a Content-Encoding it is not in, bad chunking.
        raise BadRequest("Malformed request body.") from None
    if not raw.strip():
        return {}
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"JSON parse error - {exc.msg}.") from None


async def read_body(request: web.Request, model: type[ModelT]) -> ModelT:
    return validate(model, await read_json(request))


def read_query(request: web.Request, model: type[ModelT], *, ignore: Iterable[str] = ()) -> ModelT:
    """Query parameters as a model; empty values count as absent, as in django-filter."""
    skip = {"page", "page_size", *ignore}
    data = {k: v for k, v in request.query.items() if k not in skip and v != ""}
    known = {k: v for k, v in data.items() if k in model.model_fields}
    # As Django's form fields do; PostgreSQL could not even compare such a value.
    nul = {k: [NUL_MESSAGE] for k, v in known.items() if "\x00" in v}
    if nul:
        raise ValidationFailed(nul)
    try:
        return model.model_validate(known)
    except ValidationError as exc:
        raise ValidationFailed(field_errors(exc.errors())) from None
