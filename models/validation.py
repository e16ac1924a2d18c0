"""Pydantic's errors as the contract's field messages, for every entrance (REST and sockets)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, GetJsonSchemaHandler, ValidationError
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, ErrorDetails

from models.errors import ValidationFailed

ModelT = TypeVar("ModelT", bound=BaseModel)
NOT_NULL = "This field may not be null."


def message(error: ErrorDetails) -> str:
    """DRF's wording for the common cases, so clients see the messages they know."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "This field is required."
    if error.get("input") is None and kind not in ("value_error", "assertion_error"):
        return NOT_NULL
    if kind in ("int_parsing", "int_parsing_size", "int_type", "int_from_float"):
        return "A valid integer is required."
    if kind in ("decimal_parsing", "decimal_type", "float_parsing", "float_type", "finite_number"):
        return "A valid number is required."
    if kind in ("bool_parsing", "bool_type"):
        return "Must be a valid boolean."
    if kind == "string_type":
        return "Not a valid string."
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        return "This field may not be blank."
    if kind == "string_too_long":
        return f"Ensure this field has no more than {ctx.get('max_length')} characters."
    if kind == "string_too_short":
        return f"Ensure this field has at least {ctx.get('min_length')} characters."
    if kind == "greater_than_equal":
        return f"Ensure this value is greater than or equal to {ctx.get('ge')}."
    if kind == "less_than_equal":
        return f"Ensure this value is less than or equal to {ctx.get('le')}."
    if kind == "literal_error":
        return f'"{error.get("input")}" is not a valid choice.'
    if kind in ("datetime_parsing", "datetime_type", "datetime_from_date_parsing"):
        return "Datetime has wrong format. Use ISO 8601, e.g. 2025-11-20T10:00:00Z."
    if kind in ("url_parsing", "url_type", "url_scheme"):
        return "Enter a valid URL."
    if kind == "string_pattern_mismatch":
        return "This value does not match the required pattern."
    if kind == "value_error":
        return str(ctx.get("error") or error["msg"]).removeprefix("Value error, ")
    return str(error["msg"])


def field_errors(errors: Iterable[ErrorDetails]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for error in errors:
        loc = [str(part) for part in error["loc"]]
        name = ".".join(loc) if loc else "non_field_errors"
        out.setdefault(name, []).append(message(error))
    return out


def validate(model: type[ModelT], data: Any) -> ModelT:
    """Validate already-parsed data; a body that is not an object is a non-field error."""
    if not isinstance(data, dict):
        kind = "list" if isinstance(data, list) else type(data).__name__
        raise ValidationFailed(
            {"non_field_errors": [f"Invalid data. Expected a dictionary, but got {kind}."]}
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(field_errors(exc.errors())) from None


class Body(BaseModel):
    """Request bodies: unknown fields are ignored, as DRF serializers do."""

    model_config = ConfigDict(extra="ignore")


class Changes(Body):
    """A PATCH body: every field optional, and null only where clearing the field means
    something (`NULLABLE`). The fields are typed `X | None` so that "not sent" can be told
    apart; the OpenAPI document shows only what is accepted, `X` unless nullable."""

    NULLABLE: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler.resolve_ref_schema(handler(core_schema))
        for name, field in schema.get("properties", {}).items():
            if name not in cls.NULLABLE:
                _drop_null(field)
        return schema


def _drop_null(field: dict[str, Any]) -> None:
    choices = field.get("anyOf")
    if not isinstance(choices, list):
        return
    kept = [choice for choice in choices if choice != {"type": "null"}]
    if len(kept) == 1:
        del field["anyOf"]
        field.update(kept[0])
    else:
        field["anyOf"] = kept
    if field.get("default", 0) is None:
        del field["default"]


def check_changes(data: Changes) -> dict[str, Any]:
    """The fields a PATCH (or PUT) body sent; DRF's 400 on the first field sent as null
    where the body does not allow it."""
    changes = data.model_dump(exclude_unset=True)
    for field, value in changes.items():
        if value is None and field not in data.NULLABLE:
            raise ValidationFailed.field(field, NOT_NULL)
    return changes
