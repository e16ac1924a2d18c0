"""Field types shared by the domain's pydantic schemas: money, user ids, bounded strings."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, Field, PlainSerializer, StringConstraints

MAX_MONEY = Decimal("99999999.99")


def _two_places(value: Decimal) -> Decimal:
    if not value.is_finite():
        raise ValueError("A valid number is required.")
    if value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError("Ensure that there are no more than 2 decimal places.")
    return value.quantize(Decimal("0.01"))


# Money in: a decimal string or number with at most two places; out: a decimal string.
MoneyIn = Annotated[
    Decimal, Field(ge=0, le=MAX_MONEY, allow_inf_nan=False), AfterValidator(_two_places)
]
MoneyOut = Annotated[str, Field(examples=["99.99"], pattern=r"^\d+\.\d{2}$")]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$", to_upper=True)]
# User ids belong to the auth-service: 1 to 128 printable characters, taken as given.
UserId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[!-~]+$")]
Timestamp = Annotated[datetime, PlainSerializer(lambda d: d.isoformat().replace("+00:00", "Z"))]
OptionalTimestamp = Annotated[
    datetime | None,
    PlainSerializer(lambda d: d.isoformat().replace("+00:00", "Z") if d else None),
]


# Trimmed strings with length bounds: a huge string is a 400, never a 500.
def _bounded(max_length: int, min_length: int = 0) -> StringConstraints:
    return StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)


Name = Annotated[str, _bounded(100, 1)]
Title = Annotated[str, _bounded(200, 1)]
ShortText = Annotated[str, _bounded(500)]
Review = Annotated[str, _bounded(5000)]
Description = Annotated[str, _bounded(20_000)]
Content = Annotated[str, _bounded(200_000)]


def cents_to_money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    return f"{sign}{whole}.{frac:02d}"


def money_to_cents(value: Decimal) -> int:
    return int((value * 100).to_integral_value())
