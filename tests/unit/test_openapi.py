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


def test_a_field_named_status_keeps_its_messages_in_a_validation_error() -> None:
    status = _doc()["components"]["schemas"]["ValidationError"]["properties"]["status"]

    assert {"type": "integer", "const": 400} in status["anyOf"]
    assert {"type": "array", "items": {"type": "string"}} in status["anyOf"]


def test_a_json_body_may_be_too_large_or_of_another_media_type() -> None:
    create = _doc()["paths"]["/api/lms/courses/courses/"]["post"]

    assert {"413", "415"} <= set(create["responses"])


def test_a_body_is_optional_only_when_an_empty_object_is_valid() -> None:
    routes = _routes()
    routes.route("POST", "/api/lms/lessons/", tag="courses", body=CourseFilter)(_ok)
    doc = _doc(routes)

    assert doc["paths"]["/api/lms/courses/courses/"]["post"]["requestBody"]["required"] is True
    assert doc["paths"]["/api/lms/lessons/"]["post"]["requestBody"]["required"] is False


def test_a_list_documents_the_404_past_its_last_page_and_the_page_size_clamp() -> None:
    listing = _doc()["paths"]["/api/lms/courses/courses/"]["get"]
    page_size = next(p for p in listing["parameters"] if p["name"] == "page_size")

    assert "404" in listing["responses"]
    assert "maximum" not in page_size["schema"]
    assert "above 100 counts as 100" in page_size["description"]


def test_an_operation_that_reads_the_database_documents_the_outage_503() -> None:
    doc = _doc()

    assert "503" in doc["paths"]["/api/lms/courses/courses/"]["get"]["responses"]
    assert "503" not in doc["paths"]["/health/lms/"]["get"]["responses"]


def test_other_success_statuses_share_the_body() -> None:
    routes = _routes()
    routes.route(
        "POST", "/api/lms/enroll/", tag="courses", response=CourseOut, status=201, also=(200,)
    )(_ok)
    responses = _doc(routes)["paths"]["/api/lms/enroll/"]["post"]["responses"]

    assert responses["200"]["content"] == responses["201"]["content"]


class Flags(BaseModel):
    is_active: bool | None = None
    title: str | None = Field(default=None, min_length=1)


def test_request_booleans_take_zero_one_and_their_words_and_empty_query_values() -> None:
    routes = _routes()
    routes.route("POST", "/api/lms/flags/", tag="courses", body=Flags)(_ok)
    routes.route("GET", "/api/lms/flags/", tag="courses", query=Flags)(_ok)
    doc = _doc(routes)
    body = _resolve(doc, "#/components/schemas/Flags")["properties"]["is_active"]
    query = {p["name"]: p["schema"] for p in doc["paths"]["/api/lms/flags/"]["get"]["parameters"]}

    boolean = next(option for option in body["anyOf"] if "anyOf" in option)["anyOf"]
    assert {"type": "boolean"} in boolean
    assert {"enum": [0, 1]} in boolean
    words = next(option["pattern"] for option in boolean if "pattern" in option)
    assert all(re.fullmatch(words, w) for w in ("yes", "TRUE", "off", "0"))
    assert not re.fullmatch(words, "maybe")
    assert {"type": "string", "maxLength": 0} in query["title"]["anyOf"]


def test_a_socket_is_public_over_http_and_answers_101() -> None:
    routes = _routes()
    routes.route(
        "GET", "/ws/lms/room/", tag="realtime", status=101, public=True, errors=(400, 403)
    )(_ok)
    socket = _doc(routes)["paths"]["/ws/lms/room/"]["get"]

    assert socket["security"] == []
    assert set(socket["responses"]) == {"101", "400", "403", "429"}
    assert "content" not in socket["responses"]["101"]


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
        "minLength": 1,
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
