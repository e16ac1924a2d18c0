"""The OpenAPI document built from a RouteTable, and the docs page that shows it."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
import pytest
from aiohttp import web
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from pydantic import BaseModel, Field

import web as web_package
from web.docs import DOCS_PATH, DOCS_STATIC_PREFIX, SCHEMA_PATH, schema_handler, setup_docs
from web.openapi import build_openapi
from web.routing import RouteTable

TEMPLATES = Path(web_package.__file__).parent / "templates"


class Category(BaseModel):
    id: int
    name: str


class CourseIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    level: str = "Beginner"
    current_price: Decimal = Field(ge=0)


class CourseOut(BaseModel):
    id: int
    title: str
    current_price: Decimal
    category: Category | None = None


class CourseFilter(BaseModel):
    level: str | None = Field(default=None, description="Only courses of this level.")
    search: str | None = None


class LessonIn(BaseModel):
    title: str


async def _ok(request: web.Request) -> web.Response:
    return web.json_response({})


def _routes() -> RouteTable:
    routes = RouteTable()
    routes.route(
        "GET",
        "/api/lms/courses/courses/",
        tag="courses",
        summary="List courses",
        response=CourseOut,
        query=CourseFilter,
        paginated=True,
    )(_ok)
    routes.route(
        "POST",
        "/api/lms/courses/courses/",
        tag="courses",
        summary="Create a course",
        body=CourseIn,
        response=CourseOut,
        status=201,
    )(_ok)
    routes.route(
        "GET",
        r"/api/lms/courses/courses/{course_id:\d+}/",
        tag="courses",
        summary="Retrieve a course",
        response=CourseOut,
    )(_ok)
    routes.route(
        "DELETE",
        r"/api/lms/courses/courses/{course_id:\d+}/",
        tag="courses",
        summary="Delete a course",
        status=204,
    )(_ok)
    routes.route(
        "POST",
        r"/api/lms/courses/courses/{course_id:\d+}/lessons/{slug}/file/",
        tag="courses",
        summary="Upload a lesson file",
        body=LessonIn,
        multipart=True,
        status=201,
        errors=(409,),
    )(_ok)
    routes.route(
        "GET",
        "/api/lms/events/calendar.ics",
        tag="events",
        summary="Calendar feed",
        media_type="text/calendar",
    )(_ok)
    routes.route("GET", "/health/lms/", tag="meta", summary="Health", public=True)(_ok)
    return routes


def _doc(routes: RouteTable | None = None) -> dict[str, Any]:
    routes = routes or _routes()
    return build_openapi(routes.endpoints, title="LMS", version="1.0.0", server_url="/")


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for item in node for r in _refs(item)]
    return []


def test_document_validates_as_openapi_3_1() -> None:
    doc = _doc()
    assert doc["openapi"] == "3.1.0"
    validate(doc, cls=OpenAPIV31SpecValidator)


def test_every_endpoint_is_under_its_path_and_method() -> None:
    routes = _routes()
    doc = _doc(routes)
    for endpoint in routes.endpoints:
        path = re.sub(r"\{(\w+):[^/]+\}", r"{\1}", endpoint.path)
        operation = doc["paths"][path][endpoint.method.lower()]
        assert operation["summary"] == endpoint.summary
        assert operation["tags"] == [endpoint.tag]
    operation_ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(operation_ids) == len(set(operation_ids)) == len(routes.endpoints)
    assert list(doc["paths"]) == sorted(doc["paths"])


def test_path_parameters_are_declared() -> None:
    doc = _doc()
    upload = doc["paths"]["/api/lms/courses/courses/{course_id}/lessons/{slug}/file/"]["post"]
    params = {p["name"]: p for p in upload["parameters"] if p["in"] == "path"}
    assert params["course_id"]["required"] is True
    assert params["course_id"]["schema"]["type"] == "integer"
    assert params["slug"]["schema"]["type"] == "string"
    assert "404" in upload["responses"]


def test_query_model_fields_become_query_parameters() -> None:
    doc = _doc()
    listing = doc["paths"]["/api/lms/courses/courses/"]["get"]
    query = {p["name"]: p for p in listing["parameters"] if p["in"] == "query"}
    assert set(query) == {"level", "search", "page", "page_size"}
    assert query["level"]["required"] is False
    assert query["level"]["description"] == "Only courses of this level."


def test_paginated_response_has_count_next_previous_results() -> None:
    doc = _doc()
    listing = doc["paths"]["/api/lms/courses/courses/"]["get"]
    schema = listing["responses"]["200"]["content"]["application/json"]["schema"]
    if "$ref" in schema:
        schema = _resolve(doc, schema["$ref"])
    assert set(schema["required"]) == {"count", "next", "previous", "results"}
    assert schema["properties"]["count"]["type"] == "integer"
    assert schema["properties"]["results"]["type"] == "array"
    item = schema["properties"]["results"]["items"]
    assert _resolve(doc, item["$ref"])["title"] == "CourseOut"


def test_non_public_endpoints_use_bearer_auth_and_public_ones_none() -> None:
    doc = _doc()
    scheme = doc["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    health = doc["paths"]["/health/lms/"]["get"]
    assert health["security"] == []
    assert "401" not in health["responses"]
    create = doc["paths"]["/api/lms/courses/courses/"]["post"]
    assert create["security"] == [{"bearerAuth": []}]
    assert {"401", "403"} <= set(create["responses"])


def test_every_operation_but_health_documents_the_rate_limit_refusal() -> None:
    doc = _doc()

    assert "429" not in doc["paths"]["/health/lms/"]["get"]["responses"]
    assert "429" in doc["paths"]["/api/lms/courses/courses/"]["post"]["responses"]


def test_body_documents_a_400_as_field_errors_or_a_detail() -> None:
    doc = _doc()
    create = doc["paths"]["/api/lms/courses/courses/"]["post"]
    body_schema = create["requestBody"]["content"]["application/json"]["schema"]
    assert _resolve(doc, body_schema["$ref"])["title"] == "CourseIn"
    error = create["responses"]["400"]["content"]["application/json"]["schema"]
    # A malformed body is a 400 with a `detail`, not field errors.
    assert error == {
        "anyOf": [
            {"$ref": "#/components/schemas/ValidationError"},
            {"$ref": "#/components/schemas/Error"},
        ]
    }


def test_multipart_endpoint_has_multipart_form_data() -> None:
    doc = _doc()
    path = "/api/lms/courses/courses/{course_id}/lessons/{slug}/file/"
    upload = doc["paths"][path]["post"]
    content = upload["requestBody"]["content"]
    assert list(content) == ["multipart/form-data"]
    schema = content["multipart/form-data"]["schema"]
    file_part = next(p for p in schema["allOf"] if "properties" in p)
    assert file_part["properties"]["file"] == {
        "type": "string",
        "contentMediaType": "application/octet-stream",
        "description": "The file to upload.",
    }
    assert {"400", "409", "413", "415"} <= set(upload["responses"])


def test_no_content_and_non_json_responses() -> None:
    doc = _doc()
    delete = doc["paths"]["/api/lms/courses/courses/{course_id}/"]["delete"]
    assert "content" not in delete["responses"]["204"]
    feed = doc["paths"]["/api/lms/events/calendar.ics"]["get"]
    assert feed["responses"]["200"]["content"] == {"text/calendar": {"schema": {"type": "string"}}}


def test_nested_models_land_in_components_with_resolving_refs() -> None:
    doc = _doc()
    schemas = doc["components"]["schemas"]
    assert {"Category", "CourseIn", "CourseOut", "Error", "ValidationError"} <= set(schemas)
    category = schemas["CourseOut"]["properties"]["category"]
    assert {"$ref": "#/components/schemas/Category"} in category["anyOf"]
    # Decimal is a string in responses, as the API serialises money.
    assert schemas["CourseOut"]["properties"]["current_price"]["type"] == "string"
    refs = _refs(doc)
    assert refs
    for ref in refs:
        assert _resolve(doc, ref) is not None


def test_output_is_deterministic() -> None:
    assert _doc() == _doc()
    assert list(_doc()["components"]["schemas"]) == sorted(_doc()["components"]["schemas"])


@pytest.fixture
def docs_app() -> web.Application:
    app = web.Application()
    aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(str(TEMPLATES)))
    routes = _routes()
    setup_docs(app, routes)
    routes.route("GET", SCHEMA_PATH, tag="meta", summary="OpenAPI document", public=True)(
        schema_handler(routes, title="LMS", version="1.0.0")
    )
    routes.install(app)
    return app


async def test_docs_page_and_static_files_are_served_offline(
    aiohttp_client: Any, docs_app: web.Application
) -> None:
    client = await aiohttp_client(docs_app)

    page = await client.get(DOCS_PATH)
    assert page.status == 200
    assert page.content_type == "text/html"
    html = await page.text()
    assert SCHEMA_PATH in html
    assert '<html lang="en">' in html
    assert "<noscript>" in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert f'src="{DOCS_STATIC_PREFIX}swagger-ui-bundle.js"' in html

    script = await client.get(f"{DOCS_STATIC_PREFIX}swagger-ui-bundle.js")
    assert script.status == 200
    assert len(await script.read()) > 100_000
    css = await client.get(f"{DOCS_STATIC_PREFIX}swagger-ui.css")
    assert css.status == 200

    schema = await client.get(SCHEMA_PATH)
    assert schema.status == 200
    doc = await schema.json()
    validate(doc, cls=OpenAPIV31SpecValidator)
    assert doc["paths"][DOCS_PATH]["get"]["security"] == []
    assert doc["paths"][DOCS_PATH]["get"]["tags"] == ["meta"]
    assert "text/html" in doc["paths"][DOCS_PATH]["get"]["responses"]["200"]["content"]
    assert SCHEMA_PATH in doc["paths"]
    assert not any(path.startswith(DOCS_STATIC_PREFIX) for path in doc["paths"])
