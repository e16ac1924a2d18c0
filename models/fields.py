"""Field types shared by the domain's pydantic schemas: money, user ids, bounded strings."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    HttpUrl,
    PlainSerializer,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
)

from models.errors import invalid_pk

MAX_MONEY = Decimal("99999999.99")
# Ids are INTEGER columns. A larger number names no row, and PostgreSQL would refuse to bind
# it at all, so every id is bounded where it is parsed (path, body, query), never deeper.
MAX_ID = 2**31 - 1


def _not_bool(value: object) -> object:
    if isinstance(value, bool):
        raise ValueError("A valid integer is required.")
    return value


def _number_not_bool(value: object) -> object:
    if isinstance(value, bool):
        raise ValueError("A valid number is required.")
    return value


# `true` and `false` are no number, though pydantic would read them as 1 and 0: put after
# a number's bounds, so that they stay its own (and the document's).
IntegerNotBool = BeforeValidator(_not_bool)
NumberNotBool = BeforeValidator(_number_not_bool)


def _in_id_range(value: int) -> int:
    if not 0 < value <= MAX_ID:
        raise ValueError(invalid_pk(value))
    return value


Id = Annotated[
    int,
    BeforeValidator(_not_bool),
    AfterValidator(_in_id_range),
    Field(json_schema_extra={"minimum": 1, "maximum": MAX_ID}),
]


def _two_places(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError("A valid number is required.")
    if value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError("Ensure that there are no more than 2 decimal places.")
    return value.quantize(Decimal("0.01"))


# Money in: a decimal string or number with at most two places; out: a decimal string.
MoneyIn = Annotated[
    Decimal,
    Field(ge=0, le=MAX_MONEY, allow_inf_nan=False),
    AfterValidator(_two_places),
    # pydantic's own schema takes any string; the usual spellings of what is accepted.
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "maximum": float(MAX_MONEY), "multipleOf": 0.01},
                {"type": "string", "pattern": r"^\s*\+?0*(?:\d{1,8}(?:\.\d{0,2})?|\.\d{1,2})\s*$"},
            ]
        }
    ),
]
MoneyOut = Annotated[str, Field(examples=["99.99"], pattern=r"^\d+\.\d{2}$")]
# Upper-cased before the pattern is checked (StringConstraints checks a pattern first).
Currency = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Z]{3}$"),
    BeforeValidator(lambda v: v.strip().upper() if isinstance(v, str) else v),
    # What is sent, before it is trimmed and upper-cased.
    Field(json_schema_extra={"pattern": r"^\s*[A-Za-z]{3}\s*$"}),
]
# User ids belong to the auth-service: 1 to 128 printable characters, taken as given.
UserId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[!-~]+$")]
WRONG_DATETIME = "Datetime has wrong format. Use ISO 8601, e.g. 2025-11-20T10:00:00Z."


_NUMBER = re.compile(r"\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*")


def text_only(value: object) -> object:
    # pydantic would read a number, or a numeric string (a query's), as seconds since 1970;
    # DRF accepts only ISO 8601 text.
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or _NUMBER.fullmatch(value):
        raise ValueError(WRONG_DATETIME)
    return value


def _utc_when_naive(value: datetime) -> datetime:
    # As DRF with USE_TZ in UTC: a datetime without an offset is read as UTC (it could be
    # neither stored nor compared with the stored, UTC-aware ones).
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


# A datetime sent as ISO 8601 text, never as a number; without an offset, in UTC.
IsoDatetime = Annotated[datetime, BeforeValidator(text_only), AfterValidator(_utc_when_naive)]
Timestamp = Annotated[datetime, PlainSerializer(lambda d: d.isoformat().replace("+00:00", "Z"))]
OptionalTimestamp = Annotated[
    datetime | None,
    PlainSerializer(lambda d: d.isoformat().replace("+00:00", "Z") if d else None),
]


NUL_MESSAGE = "Null characters are not allowed."


def _no_nul(value: str) -> str:
    # DRF's CharField refuses them too; PostgreSQL cannot store them in text at all.
    if "\x00" in value:
        raise ValueError(NUL_MESSAGE)
    return value


# Trimmed strings with length bounds: a huge string is a 400, never a 500.
def _bounded(max_length: int, min_length: int = 0) -> StringConstraints:
    return StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)


NoNul = AfterValidator(_no_nul)
# The same rules as patterns, for the OpenAPI document: no NUL; something besides whitespace.
ANY_TEXT = Field(json_schema_extra={"pattern": r"^[^\u0000]*$"})
SOME_TEXT = Field(json_schema_extra={"pattern": r"^[^\u0000]*[^\s\u0000][^\u0000]*$"})
Name = Annotated[str, _bounded(100, 1), NoNul, SOME_TEXT]
Title = Annotated[str, _bounded(200, 1), NoNul, SOME_TEXT]
ShortText = Annotated[str, _bounded(500), NoNul, ANY_TEXT]
Review = Annotated[str, _bounded(5000), NoNul, ANY_TEXT]
Description = Annotated[str, _bounded(20_000), NoNul, ANY_TEXT]
Content = Annotated[str, _bounded(200_000), NoNul, ANY_TEXT]


def _http_url(value: str) -> str:
    # Validated as an http(s) URL, stored as sent (DRF's URLField does not rewrite it).
    try:
        _HTTP_URL.validate_python(value)
    except ValidationError:
        raise ValueError("Enter a valid URL.") from None
    return value


_HTTP_URL: TypeAdapter[HttpUrl] = TypeAdapter(HttpUrl)
Url = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=2000),
    NoNul,
    AfterValidator(_http_url),
    # A plain http(s) URL; the service takes more (any URL pydantic's HttpUrl parses).
    Field(
        json_schema_extra={
            "format": "uri",
            "pattern": r"^[hH][tT][tT][pP][sS]?://[a-z0-9]+(?:\.[a-z0-9]+)*(?::[1-9][0-9]{0,3})?"
            r"(?:/[A-Za-z0-9._~/-]*)?$",
        }
    ),
]


def cents_to_money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    return f"{sign}{whole}.{frac:02d}"


def money_to_cents(value: Decimal) -> int:
    return int((value * 100).to_integral_value())
