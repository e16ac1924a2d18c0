"""The errors middleware renders every error in the contract's shape, whatever raised it."""

import pytest
from aiohttp import web
from sqlalchemy.exc import IntegrityError

from models.errors import Conflict, PaymentRequired, Throttled, ValidationFailed
from web.errors import errors_middleware


def app_raising(exc: BaseException) -> web.Application:
    async def handler(request: web.Request) -> web.Response:
        raise exc

    app = web.Application(middlewares=[errors_middleware])
    app.router.add_get("/boom/", handler)
    return app


@pytest.mark.parametrize(
    ("exc", "status", "detail"),
    [
        (Conflict(), 409, "Conflict."),
        (PaymentRequired(), 402, "Payment required."),
        (Throttled("Slow down.", retry_after=30), 429, "Slow down."),
        (
            IntegrityError("INSERT", {}, Exception("duplicate key")),
            409,
            "Conflict with the current state of the resource.",
        ),
        (RuntimeError("a bug"), 500, "A server error occurred."),
    ],
)
async def test_errors_render_as_detail_and_status(aiohttp_client, exc, status, detail):
    client = await aiohttp_client(app_raising(exc))
    response = await client.get("/boom/")
    assert response.status == status
    assert await response.json() == {"detail": detail, "status": status}


async def test_throttled_says_when_to_retry(aiohttp_client):
    client = await aiohttp_client(app_raising(Throttled(retry_after=12)))
    response = await client.get("/boom/")
    assert response.headers["Retry-After"] == "12"


async def test_an_unexpected_error_never_shows_a_stack_trace(aiohttp_client):
    client = await aiohttp_client(app_raising(RuntimeError("secret internals")))
    text = await (await client.get("/boom/")).text()
    assert "secret internals" not in text
    assert "Traceback" not in text


async def test_field_errors_carry_status_400_beside_the_fields(aiohttp_client):
    client = await aiohttp_client(
        app_raising(ValidationFailed({"title": ["This field is required."]}))
    )
    response = await client.get("/boom/")
    assert await response.json() == {"title": ["This field is required."], "status": 400}
