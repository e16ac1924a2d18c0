"""OpenAPI 3.1 document generated from the declared endpoints and their pydantic models.

`build_openapi` walks the `Endpoint` registry (see `web.routing`) and produces a plain
dict, ready to be served as JSON. Every pydantic model is rendered in one
`models_json_schema` call, so models shared between endpoints (and their nested models)
land once in `components/schemas` and are referenced with `$ref`. Request bodies and
query models use pydantic's validation mode, responses its serialization mode; when a
model renders differently in the two modes pydantic names the two schemas
`<Model>-Input` and `<Model>-Output`, and when two models share a class name it
qualifies them with their module. The output is deterministic: paths, methods,
components and tags are emitted in sorted order.

The document says what the service does, which tests/contract checks with schemathesis:
request schemas take what the service takes (booleans also as 0, 1 and their words; an
empty query parameter counts as absent), and every status an operation may answer is
listed, the 400 as field errors or a `detail`.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable, Iterator, Sequence
from http import HTTPStatus
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from models.listing import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from web.routing import RATE_EXEMPT_PREFIXES, Endpoint

__all__ = ["OPENAPI_VERSION", "build_openapi"]

OPENAPI_VERSION = "3.1.0"

_REF_PREFIX = "#/components/schemas/"
_REF_TEMPLATE = _REF_PREFIX + "{model}"

# Component names this module owns; a pydantic model with the same name is renamed.
_ERROR = "Error"
_VALIDATION_ERROR = "ValidationError"
_RESERVED = frozenset({_ERROR, _VALIDATION_ERROR})

# The order OpenAPI lists operations in a path item.
_METHOD_ORDER = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

# aiohttp's placeholder syntax: `{name}` or `{name:regex}`, the regex may hold `{m,n}`.
_PLACEHOLDER_RE = re.compile(r"\{([_a-zA-Z][^{}]*(?:\{[^{}]*\}[^{}]*)*)\}")
_DYNAMIC_RE = re.compile(r"^(?P<name>[_a-zA-Z][_a-zA-Z0-9]*)(?::(?P<regex>.+))?$")
# A regex that only ever matches digits: `\d+`, `[0-9]+`, `[1-9]\d*`, `\d{1,9}`, ...
_DIGITS_ONLY_RE = re.compile(r"^(?:\\d|\[0-9\]|\[1-9\]|[+*?]|\{\d+(?:,\d*)?\})+$")

_PAGE_PARAMETERS: tuple[dict[str, Any], ...] = (
    {
        "name": "page",
        "in": "query",
        "required": False,
        "description": "A page number within the paginated result set; past the last page, "
        "or not a positive integer: 404 `Invalid page.`",
        "schema": {"type": "integer", "minimum": 1, "default": 1},
    },
    {
        "name": "page_size",
        "in": "query",
        "required": False,
        # Not typed: like DRF, the service never refuses a page size, it clamps it.
        "description": f"Number of results to return per page: above {MAX_PAGE_SIZE} counts "
        f"as {MAX_PAGE_SIZE}; below 1 or not an integer, the default ({DEFAULT_PAGE_SIZE}).",
        "schema": {"default": DEFAULT_PAGE_SIZE, "examples": [DEFAULT_PAGE_SIZE]},
    },
)

# What the error middleware and the JSON reader answer for any operation that qualifies.
_INVALID_PAGE = "A page past the last one, or a page that is not a positive integer."
_OUTAGE = "The database is unavailable; try again shortly (with `Retry-After`)."
# Operations that read no database before answering: the document, the docs and the web
# client's pages, and the sockets (whose checks come after the upgrade). Health declares its
# own 503.
_NO_DATABASE_TAGS = frozenset({"meta", "pages", "realtime"})


# The spellings a request's boolean takes besides true and false, in any case (pydantic's
# lax booleans, which are DRF's BooleanField's too).
_BOOLEAN_WORDS = ("0", "1", "f", "false", "n", "no", "off", "on", "t", "true", "y", "yes")
_BOOLEAN_SPELLINGS = "^(?:{})$".format(
    "|".join(
        "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in word)
        for word in _BOOLEAN_WORDS
    )
)


def _lenient(node: Any) -> Any:
    """A request schema as the service reads it: booleans also as 0, 1 and their words."""
    if isinstance(node, list):
        return [_lenient(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _lenient(value) for key, value in node.items()}
    if node.get("type") != "boolean":
        return node
    rest = {key: value for key, value in node.items() if key != "type"}
    return {
        **rest,
        "anyOf": [
            {"type": "boolean"},
            {"enum": [0, 1]},
            {"type": "string", "pattern": _BOOLEAN_SPELLINGS},
        ],
    }


def _empty_is_absent(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter's schema that also takes "": an empty value counts as absent."""
    if not schema or schema == {"type": "string"}:
        return schema  # already takes anything, or any text
    empty = {"type": "string", "maxLength": 0}
    if "anyOf" in schema:
        return {**schema, "anyOf": [*schema["anyOf"], empty]}
    return {"anyOf": [schema, empty]}


def build_openapi(
    endpoints: Sequence[Endpoint],
    *,
    title: str,
    version: str,
    server_url: str | None = None,
) -> dict[str, Any]:
    """Return an OpenAPI 3.1.0 document describing `endpoints`."""
    schemas, refs = _model_schemas(endpoints)
    builder = _Builder(schemas, refs)

    paths: dict[str, dict[str, Any]] = {}
    seen: set[tuple[str, str]] = set()
    for endpoint in endpoints:
        method = endpoint.method.lower()
        if method not in _METHOD_ORDER:
            continue  # `*` (any method) and the like have no OpenAPI spelling.
        path, params = _convert_path(endpoint.path)
        if (path, method) in seen:
            raise ValueError(f"two endpoints declare {endpoint.method} {path}")
        seen.add((path, method))
        paths.setdefault(path, {})[method] = builder.operation(endpoint, path, params)

    document: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": {"title": title, "version": version},
    }
    if server_url is not None:
        document["servers"] = [{"url": server_url}]
    document["tags"] = [{"name": tag} for tag in sorted({e.tag for e in endpoints if e.tag})]
    document["paths"] = {
        path: {m: paths[path][m] for m in _METHOD_ORDER if m in paths[path]}
        for path in sorted(paths)
    }
    document["components"] = {
        "schemas": _reachable(builder.schemas, document["paths"]),
        "securitySchemes": {
            "bearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": "A JWT issued by the auth-service: `Authorization: Bearer <token>`.",
            }
        },
    }
    return document


# --------------------------------------------------------------------------- models


def _model_schemas(
    endpoints: Iterable[Endpoint],
) -> tuple[dict[str, Any], dict[tuple[type[BaseModel], JsonSchemaMode], dict[str, Any]]]:
    """Render every model once; return the component schemas and each model's `$ref`."""
    wanted: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {}
    for endpoint in endpoints:
        if endpoint.body is not None:
            wanted[(endpoint.body, "validation")] = None
        if endpoint.query is not None:
            wanted[(endpoint.query, "validation")] = None
        if endpoint.response is not None:
            wanted[(endpoint.response, "serialization")] = None
    if not wanted:
        return {}, {}
    generated, top = models_json_schema(list(wanted), ref_template=_REF_TEMPLATE)
    refs = {key: generated[key] for key in wanted}
    defs: dict[str, Any] = dict(top.get("$defs", {}))

    # A model called `Error` or `ValidationError` would shadow the error components:
    # it is renamed `<name>Model` (or `<name>Model2`, ...) and every `$ref` follows.
    renames: dict[str, str] = {}
    for name in sorted(_RESERVED & defs.keys()):
        new, n = f"{name}Model", 1
        while new in defs or new in _RESERVED or new in renames.values():
            n += 1
            new = f"{name}Model{n}"
        renames[name] = new
    if renames:
        ref_renames = {_REF_PREFIX + old: _REF_PREFIX + new for old, new in renames.items()}
        defs = {renames.get(k, k): _rename_refs(v, ref_renames) for k, v in defs.items()}
        refs = {key: _rename_refs(value, ref_renames) for key, value in refs.items()}
    inputs = {
        ref["$ref"].removeprefix(_REF_PREFIX)
        for (_, mode), ref in refs.items()
        if mode == "validation"
    }
    for name in _closure(defs, inputs):
        defs[name] = _lenient(defs[name])
    return defs, refs


def _closure(schemas: dict[str, Any], names: Iterable[str]) -> set[str]:
    """`names` and every schema they reference, transitively."""
    found: set[str] = set()
    pending = list(names)
    while pending:
        name = pending.pop()
        if name in found or name not in schemas:
            continue
        found.add(name)
        pending.extend(
            r.removeprefix(_REF_PREFIX)
            for r in _iter_refs(schemas[name])
            if r.startswith(_REF_PREFIX)
        )
    return found


def _rename_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        return {
            k: (
                renames.get(v, v)
                if k == "$ref" and isinstance(v, str)
                else _rename_refs(v, renames)
            )
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rename_refs(item, renames) for item in node]
    return node


def _iter_refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _iter_refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _iter_refs(item)


def _reachable(schemas: dict[str, Any], paths: dict[str, Any]) -> dict[str, Any]:
    """Keep the error schemas and those the paths use (query models become parameters)."""
    used = (ref.removeprefix(_REF_PREFIX) for ref in _iter_refs(paths))
    keep = _closure(schemas, [*_RESERVED, *used])
    return {name: schemas[name] for name in sorted(keep)}


# --------------------------------------------------------------------------- paths


def _convert_path(path: str) -> tuple[str, list[dict[str, Any]]]:
    """`/courses/{course_id:\\d+}/` -> (`/courses/{course_id}/`, [its path parameter])."""
    params: list[dict[str, Any]] = []

    def replace(match: re.Match[str]) -> str:
        dynamic = _DYNAMIC_RE.match(match.group(1))
        if dynamic is None:
            raise ValueError(f"bad placeholder {match.group(0)!r} in {path!r}")
        name, regex = dynamic.group("name"), dynamic.group("regex")
        params.append(_path_parameter(name, regex))
        return "{" + name + "}"

    return _PLACEHOLDER_RE.sub(replace, path), params


def _path_parameter(name: str, regex: str | None) -> dict[str, Any]:
    schema: dict[str, Any]
    is_id = name == "id" or name.endswith("_id")
    if is_id and regex is not None and _DIGITS_ONLY_RE.match(regex):
        schema = {"type": "integer", "minimum": 0}
    else:
        schema = {"type": "string"}
        if regex is not None:
            schema["pattern"] = f"^(?:{regex})$"
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _operation_id(method: str, path: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", path)
    return "_".join([method.lower(), *words]) if words else method.lower()


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF_PREFIX + name}


def _describe(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


class _Builder:
    def __init__(
        self,
        schemas: dict[str, Any],
        refs: dict[tuple[type[BaseModel], JsonSchemaMode], dict[str, Any]],
    ) -> None:
        self.schemas = schemas
        self.refs = refs
        self.operation_ids: set[str] = set()
        self._paginated: dict[str, str] = {}
        self.schemas[_ERROR] = {
            "title": "Error",
            "type": "object",
            "properties": {
                "detail": {"type": "string", "description": "What went wrong."},
                "status": {"type": "integer", "description": "The HTTP status code."},
            },
            "required": ["detail", "status"],
            "examples": [{"detail": "Not found.", "status": 404}],
        }
        self.schemas[_VALIDATION_ERROR] = {
            "title": "ValidationError",
            "type": "object",
            "description": "One entry per invalid field, each a list of messages.",
            "properties": {
                "status": {
                    "description": "400; or, when a field named `status` is invalid, its "
                    "messages (the code is then only in the status line).",
                    "anyOf": [
                        {"type": "integer", "const": 400},
                        {"type": "array", "items": {"type": "string"}},
                    ],
                }
            },
            "required": ["status"],
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "examples": [{"field_name": ["This field is required."], "status": 400}],
        }

    # --- operation

    def operation(
        self, endpoint: Endpoint, path: str, path_params: list[dict[str, Any]]
    ) -> dict[str, Any]:
        operation_id = self._unique_operation_id(_operation_id(endpoint.method, path))
        op: dict[str, Any] = {
            "operationId": operation_id,
            "summary": endpoint.summary,
        }
        description = _docstring_body(endpoint)
        if description:
            op["description"] = description
        if endpoint.tag:
            op["tags"] = [endpoint.tag]

        parameters = list(path_params)
        names = {p["name"] for p in parameters}
        if endpoint.query is not None:
            for param in self._query_parameters(endpoint.query):
                if param["name"] not in names:
                    names.add(param["name"])
                    parameters.append(param)
        if endpoint.paginated:
            for param in _PAGE_PARAMETERS:
                if param["name"] not in names:
                    names.add(param["name"])
                    parameters.append(dict(param))
        if parameters:
            op["parameters"] = parameters

        body = self._request_body(endpoint)
        if body is not None:
            op["requestBody"] = body

        op["responses"] = self._responses(endpoint, has_path_params=bool(path_params))
        op["security"] = [] if endpoint.public else [{"bearerAuth": []}]
        return op

    def _unique_operation_id(self, base: str) -> str:
        candidate, n = base, 1
        while candidate in self.operation_ids:
            n += 1
            candidate = f"{base}_{n}"
        self.operation_ids.add(candidate)
        return candidate

    # --- parameters and bodies

    def _component_of(self, model: type[BaseModel], mode: JsonSchemaMode) -> dict[str, Any]:
        ref = self.refs[(model, mode)]["$ref"]
        schema: dict[str, Any] = self.schemas[ref.removeprefix(_REF_PREFIX)]
        return schema

    def _query_parameters(self, model: type[BaseModel]) -> list[dict[str, Any]]:
        schema = self._component_of(model, "validation")
        required = set(schema.get("required", ()))
        params: list[dict[str, Any]] = []
        for name, prop in schema.get("properties", {}).items():
            prop = {k: v for k, v in prop.items() if k != "title"}
            param: dict[str, Any] = {"name": name, "in": "query", "required": name in required}
            description = prop.pop("description", None)
            if description:
                param["description"] = description
            if prop.get("deprecated"):
                param["deprecated"] = True
            param["schema"] = _empty_is_absent(prop)
            params.append(param)
        return params

    def _request_body(self, endpoint: Endpoint) -> dict[str, Any] | None:
        if endpoint.multipart:
            file_part: dict[str, Any] = {
                "type": "object",
                "properties": {
                    "file": {
                        "type": "string",
                        "contentMediaType": "application/octet-stream",
                        "minLength": 1,  # an empty file is a 400
                        "description": "The file to upload.",
                    }
                },
                "required": ["file"],
            }
            schema: dict[str, Any] = file_part
            if endpoint.body is not None:
                # A part's name travels in a header, which cannot carry control characters.
                names = {"pattern": "^[^\\u0000-\\u001f\\u007f]*$"}
                schema = {
                    "allOf": [self.refs[(endpoint.body, "validation")], file_part],
                    "propertyNames": names,
                }
            return {
                "required": True,
                "content": {"multipart/form-data": {"schema": schema}},
            }
        if endpoint.body is not None:
            # No body reads as `{}`: it is optional when `{}` is a valid body.
            required = bool(self._component_of(endpoint.body, "validation").get("required"))
            return {
                "required": required,
                "content": {
                    "application/json": {"schema": self.refs[(endpoint.body, "validation")]}
                },
            }
        return None

    # --- responses

    def _success_schema(self, endpoint: Endpoint) -> dict[str, Any] | None:
        item = (
            dict(self.refs[(endpoint.response, "serialization")])
            if endpoint.response is not None
            else None
        )
        if not endpoint.paginated:
            return item
        return _ref(self._paginated_component(item))

    def _paginated_component(self, item: dict[str, Any] | None) -> str:
        item_name = item["$ref"].removeprefix(_REF_PREFIX) if item is not None else ""
        if item_name in self._paginated:
            return self._paginated[item_name]
        base = f"Paginated{item_name}" if item_name else "Paginated"
        name, n = base, 1
        while name in self.schemas:
            n += 1
            name = f"{base}_{n}"
        url: dict[str, Any] = {
            "anyOf": [{"type": "string", "format": "uri"}, {"type": "null"}],
        }
        self.schemas[name] = {
            "title": name,
            "type": "object",
            "properties": {
                "count": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "Total number of results.",
                },
                "next": {**url, "description": "Absolute URL of the next page."},
                "previous": {**url, "description": "Absolute URL of the previous page."},
                "results": {"type": "array", "items": item if item is not None else {}},
            },
            "required": ["count", "next", "previous", "results"],
        }
        self._paginated[item_name] = name
        return name

    def _responses(self, endpoint: Endpoint, *, has_path_params: bool) -> dict[str, Any]:
        responses: dict[int, dict[str, Any]] = {}

        for status in (endpoint.status, *endpoint.also):
            success: dict[str, Any] = {"description": _describe(status)}
            if status not in (101, 204, 304):
                if endpoint.media_type != "application/json":
                    success["content"] = {endpoint.media_type: {"schema": {"type": "string"}}}
                else:
                    schema = self._success_schema(endpoint)
                    if schema is not None:
                        success["content"] = {"application/json": {"schema": schema}}
            responses[status] = success

        def error(status: int, description: str | None = None) -> None:
            if status in responses or status < 400:
                return
            # Any 400 may be a field error or a `detail` (a malformed body, a refused rule).
            schema = (
                {"anyOf": [_ref(_VALIDATION_ERROR), _ref(_ERROR)]}
                if status == 400
                else _ref(_ERROR)
            )
            responses[status] = {
                "description": description or _describe(status),
                "content": {"application/json": {"schema": schema}},
            }

        has_body = endpoint.body is not None or endpoint.multipart
        if has_body or endpoint.query is not None:
            error(400)
        if has_body:
            error(413)
            error(415)
        if not endpoint.public:
            error(401)
            error(403)
        if has_path_params:
            error(404)
        if endpoint.paginated:
            error(404, _INVALID_PAGE)
        for status in endpoint.errors:
            error(status)
        if not endpoint.path.startswith(RATE_EXEMPT_PREFIXES):
            error(429)  # the rate limits (web/ratelimit.py), unless LMS_RATE_LIMITS=off
        if endpoint.tag not in _NO_DATABASE_TAGS:
            error(503, _OUTAGE)
        return {str(status): responses[status] for status in sorted(responses)}


def _docstring_body(endpoint: Endpoint) -> str:
    """The handler's docstring past its first line, which is usually the summary."""
    lines = (endpoint.handler.__doc__ or "").strip().splitlines()
    if len(lines) < 2:
        return ""
    rest = "\n".join(lines[1:]).strip()
    if not rest:
        return ""
    return inspect.cleandoc(rest)
