"""Health, the OpenAPI document and the docs page: public, and true to the app."""

import re

import pytest
from openapi_spec_validator import validate

from tests.conftest import free_port
from web.app import create_app

SCHEMA = "/api/lms/schema/"


async def test_health_reports_a_connected_database_without_a_token(api):
    reply = await api.get("/health/lms/")
    assert reply.status == 200
    assert reply.body["status"] == "healthy"
    assert reply.body["service"] == "lms"
    assert reply.body["version"] == "1.0.0"
    assert reply.body["database"] == "connected"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", reply.body["timestamp"])


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_health_is_503_unhealthy_when_the_database_is_unreachable(aiohttp_client, settings):
    broken = settings.model_copy(
        update={"database_url": "postgresql+asyncpg://nobody@127.0.0.1:9/none"}
    )
    client = await aiohttp_client(create_app(broken))
    response = await client.get("/health/lms/")
    body = await response.json()
    assert response.status == 503
    assert body["status"] == "unhealthy"
    assert body["database"] == "disconnected"


async def test_schema_is_public_and_validates_as_openapi_3_1(api):
    reply = await api.get(SCHEMA)
    assert reply.status == 200
    assert reply.body["openapi"].startswith("3.1")
    validate(reply.body)


def _openapi_path(resource_path: str) -> str:
    return re.sub(r"\{(\w+)(:[^{}]*(\{[^{}]*\}[^{}]*)*)?\}", r"{\1}", resource_path)


async def test_schema_lists_every_route_the_app_serves(api, app):
    documented = (await api.get(SCHEMA)).body["paths"]
    served = set()
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("formatter") or info.get("path")
        if path is None or route.method in ("HEAD", "*"):
            continue  # static prefixes (media, docs assets) are folders, not operations
        served.add((route.method.lower(), _openapi_path(path)))
    listed = {(method, path) for path, ops in documented.items() for method in ops}
    assert served - listed == set()
    assert listed - served == set()


async def test_schema_describes_the_seed_course_fields(api):
    schemas = (await api.get(SCHEMA)).body["components"]["schemas"]
    course = next(v for k, v in schemas.items() if k.startswith("CourseRead"))
    for name in ("id", "title", "slug", "code", "description", "current_price", "created_at"):
        assert name in course["properties"]


async def test_docs_page_is_served_offline_and_points_at_the_schema(api):
    reply = await api.get("/api/lms/docs/")
    assert reply.status == 200
    html = reply.body.decode()
    assert SCHEMA in html
    assert not re.search(r"""(src|href)=["'](https?:)?//""", html)


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_health_reports_redis_and_the_broker_when_configured(custom_api, redis_url):
    api = await custom_api(redis_url=redis_url)

    reply = await api.get("/health/lms/")

    assert reply.status == 200
    assert (reply.body["status"], reply.body["redis"], reply.body["broker"]) == (
        "healthy",
        "connected",
        "connected",
    )


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_health_is_degraded_not_down_when_redis_is_unreachable(custom_api):
    api = await custom_api(redis_url=f"redis://127.0.0.1:{free_port()}/0")

    reply = await api.get("/health/lms/")

    assert reply.status == 200
    assert (reply.body["status"], reply.body["redis"]) == ("degraded", "disconnected")


async def test_health_leaves_redis_out_when_it_is_not_configured(api):
    reply = await api.get("/health/lms/")

    assert "redis" not in reply.body
