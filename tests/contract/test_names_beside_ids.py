"""Every user id a response shows has its name object beside it (docs/api.md, "Names beside
ids"): walks the served OpenAPI document's response schemas, nested objects included.

A property holds a user id when it is one of USER_ID_FIELDS; any other string property named
`*_id` or `*_by` must be listed in NOT_USER_IDS, so a new user-id field cannot slip in
unnoticed. Objects that are a person themselves (with a `name` and a `picture`) are exempt.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from models.people.names import name_field
from tests.contract.conftest import served_document

PERSON_REF = "#/components/schemas/Person"
# String fields that hold a user id, wherever they appear in a response.
USER_ID_FIELDS = frozenset(
    {
        "author_id",
        "user_id",
        "instructor_id",
        "sender_id",
        "recipient_id",
        "created_by",
        "added_by",
        "enrolled_by",
        "graded_by",
        # An enrollment's and a rating's `user`, a conversation's `with`: a user id by name.
        "user",
        "with",
    }
)
# Lists of user ids, and where their name objects go.
USER_ID_LISTS = {"users": "people"}
# String `*_id` / `*_by` fields that are not user ids.
NOT_USER_IDS = frozenset(
    {"request_id", "event_id", "payment_intent_id", "session_id", "recurrence_id"}
)
# Schemas whose `user_id` echoes input that may name no user at all (a refused CSV row).
NOT_USER_SCHEMAS = frozenset({"RowError"})


def companion(field: str) -> str:
    """Where the name object of a user-id field goes: `<x>_id` -> `<x>`, else `F_person`."""
    return name_field(field)


def _resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if ref is None:
        return node
    name = ref.rsplit("/", 1)[-1]
    resolved: dict[str, Any] = document["components"]["schemas"][name]
    return resolved


def _types(document: dict[str, Any], node: dict[str, Any]) -> set[str]:
    node = _resolve(document, node)
    found: set[str] = set()
    if "type" in node:
        kind = node["type"]
        found |= set(kind) if isinstance(kind, list) else {kind}
    for option in node.get("anyOf", []) + node.get("oneOf", []):
        found |= _types(document, option)
    return found


def _refs_person(node: dict[str, Any]) -> bool:
    if node.get("$ref") == PERSON_REF:
        return True
    return any(_refs_person(option) for option in node.get("anyOf", []))


def _objects(
    document: dict[str, Any], node: dict[str, Any], where: str, seen: set[str]
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every object schema reachable from `node` (refs followed once)."""
    ref = node.get("$ref")
    if ref is not None:
        if ref in seen:
            return
        seen.add(ref)
        yield from _objects(document, _resolve(document, node), ref.rsplit("/", 1)[-1], seen)
        return
    for key in ("anyOf", "oneOf", "allOf"):
        for option in node.get(key, []):
            yield from _objects(document, option, where, seen)
    if "items" in node:
        yield from _objects(document, node["items"], where, seen)
    properties = node.get("properties")
    if properties:
        yield where, node
        for name, child in properties.items():
            yield from _objects(document, child, f"{where}.{name}", seen)


def _response_objects(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation.get("responses", {}).items():
                if not status.startswith("2"):
                    continue
                for media in response.get("content", {}).values():
                    schema = media.get("schema")
                    if schema is None:
                        continue
                    where = f"{method.upper()} {path} {status}"
                    for name, node in _objects(document, schema, where, seen):
                        found.setdefault(name, node)
    return found


def missing_names(document: dict[str, Any]) -> list[str]:
    problems = []
    for where, node in _response_objects(document).items():
        properties: dict[str, Any] = node["properties"]
        if {"name", "picture"} <= properties.keys():
            continue  # a person themself
        if where.split(".")[0] in NOT_USER_SCHEMAS:
            continue
        for field, schema in properties.items():
            types = _types(document, schema)
            if field in USER_ID_LISTS and "array" in types:
                other = properties.get(USER_ID_LISTS[field])
                if other is None or not _refs_person(_resolve(document, other).get("items", {})):
                    problems.append(f"{where}.{field}: no `{USER_ID_LISTS[field]}` beside it")
                continue
            if "string" not in types:
                continue
            if field in USER_ID_FIELDS:
                other = properties.get(companion(field))
                if other is None or not _refs_person(other):
                    problems.append(f"{where}.{field}: no `{companion(field)}` beside it")
            elif field.endswith(("_id", "_by")) and field not in NOT_USER_IDS:
                problems.append(f"{where}.{field}: a user id? list it in USER_ID_FIELDS or not")
    return sorted(problems)


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return served_document()


def test_every_user_id_in_a_response_has_its_name_object_beside_it(
    document: dict[str, Any],
) -> None:
    assert missing_names(document) == []


def test_the_walk_finds_the_user_ids_it_checks(document: dict[str, Any]) -> None:
    objects = _response_objects(document)

    assert "author" in objects["PostRead"]["properties"]
    assert {"sender", "recipient"} <= objects["MessageRead"]["properties"].keys()


def test_a_user_id_without_its_name_object_is_reported() -> None:
    document = {
        "paths": {
            "/x/": {
                "get": {
                    "responses": {
                        "200": {
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Thing"}
                                }
                            }
                        }
                    }
                }
            }
        },
        "components": {
            "schemas": {
                "Thing": {
                    "type": "object",
                    "properties": {
                        "owner_id": {"type": "string"},
                        "created_by": {"type": "string"},
                        "created_by_person": {"$ref": PERSON_REF},
                    },
                },
                "Person": {
                    "type": "object",
                    "properties": {"id": {"type": "string"}, "name": {"type": "string"}},
                },
            }
        },
    }

    assert missing_names(document) == [
        "Thing.owner_id: a user id? list it in USER_ID_FIELDS or not",
    ]
