"""Interactive API docs (Swagger UI, served from the local `swagger-ui-bundle` package)
and the OpenAPI document handler.

The app factory wires them up, before `routes.install(app)`:

    setup_docs(app, routes)
    routes.route("GET", SCHEMA_PATH, tag="meta", public=True, summary="OpenAPI 3.1 document")(
        schema_handler(routes, title="LMS API", version=__version__)
    )

`aiohttp_jinja2.setup` is the factory's job too (a loader over `web/templates`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp_jinja2
import orjson
import swagger_ui_bundle
from aiohttp import web

from web.openapi import build_openapi
from web.routing import Handler, RouteTable

__all__ = [
    "DOCS_PATH",
    "DOCS_STATIC_PREFIX",
    "SCHEMA_PATH",
    "docs_page",
    "schema_handler",
    "setup_docs",
    "swagger_ui_dir",
]

DOCS_PATH = "/api/lms/docs/"
DOCS_STATIC_PREFIX = "/api/lms/docs/static/"
SCHEMA_PATH = "/api/lms/schema/"
DOCS_TEMPLATE = "docs.html"
DOCS_TITLE = "LMS API documentation"


def swagger_ui_dir() -> Path:
    """The folder of Swagger UI's JS, CSS and images inside the installed package."""
    path = Path(str(swagger_ui_bundle.swagger_ui_path))
    if not (path / "swagger-ui-bundle.js").is_file():
        raise RuntimeError(f"swagger-ui-bundle's static files are missing from {path}")
    return path


async def docs_page(request: web.Request) -> web.Response:
    """Interactive API documentation (Swagger UI)."""
    response = aiohttp_jinja2.render_template(
        DOCS_TEMPLATE,
        request,
        {
            "title": DOCS_TITLE,
            "schema_url": SCHEMA_PATH,
            "static_prefix": DOCS_STATIC_PREFIX,
        },
    )
    response.headers["Cache-Control"] = "no-cache"
    return response


def setup_docs(app: web.Application, routes: RouteTable) -> None:
    """Declare `GET /api/lms/docs/` on `routes` and serve Swagger UI's files on `app`.

    The page is a public endpoint tagged "meta", so it appears in the OpenAPI document;
    the static files are an ordinary aiohttp static route, left out of the document.
    """
    routes.route(
        "GET",
        DOCS_PATH,
        tag="meta",
        summary="Interactive API documentation",
        public=True,
        media_type="text/html",
    )(docs_page)
    app.router.add_static(DOCS_STATIC_PREFIX, swagger_ui_dir(), name="lms-docs-static")


def schema_handler(routes: RouteTable, *, title: str, version: str) -> Handler:
    """A handler answering with the OpenAPI document of `routes`.

    The document is built on the first request, when every endpoint (this one included)
    has been declared, and then served from memory.
    """
    cache: dict[str, dict[str, Any]] = {}

    async def openapi_schema(request: web.Request) -> web.Response:
        """OpenAPI 3.1 document of this API."""
        doc = cache.get("doc")
        if doc is None:
            doc = cache["doc"] = build_openapi(routes.endpoints, title=title, version=version)
        return web.json_response(doc, dumps=lambda o: orjson.dumps(o).decode())

    return openapi_schema
