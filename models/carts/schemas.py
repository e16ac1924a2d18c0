"""Request and response schemas of the cart and checkout."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field

from models.fields import ANY_TEXT, Id, MoneyOut, NoNul, _not_bool
from models.validation import Body

ONE_COURSE = "A course is bought once: quantity must be 1."
Quantity = Annotated[int, BeforeValidator(_not_bool)]


def _only_one(value: int) -> int:
    if value != 1:
        raise ValueError(ONE_COURSE)
    return value


OneQuantity = Annotated[Quantity, AfterValidator(_only_one), Field(json_schema_extra={"enum": [1]})]


class CartItemCreate(Body):
    course: Id
    quantity: OneQuantity = Field(default=1, description="Always 1: a course is bought once.")


class CartItemUpdate(Body):
    quantity: OneQuantity | None = None


class CartItemReplace(Body):
    quantity: OneQuantity


class CartItemRead(BaseModel):
    id: int
    course: int
    title: str
    price: MoneyOut = Field(description="The course's current price (checkout snapshots it).")
    currency: str
    quantity: int


class CartRead(BaseModel):
    id: int
    items: list[CartItemRead]
    total: MoneyOut | None = Field(
        description="The sum of the lines; null when they disagree on currency (no checkout)."
    )
    currency: str | None = Field(
        description="The currency of every line; null when empty or when they disagree."
    )
    item_count: int


AddressPart = Annotated[str, Field(max_length=200), NoNul, ANY_TEXT]


class BillingAddress(Body):
    street: AddressPart = ""
    city: AddressPart = ""
    state: AddressPart = ""
    postal_code: AddressPart = ""
    country: AddressPart = ""


class CheckoutBody(Body):
    payment_method: (
        Annotated[
            Literal["stripe", "dummy"],
            BeforeValidator(lambda v: v.strip().lower() if isinstance(v, str) else v),
        ]
        | None
    ) = Field(default=None, description="A provider among the active gateways; else the default.")
    billing_address: BillingAddress | None = None

    def fingerprint(self) -> dict[str, Any]:
        """What a replay with the same Idempotency-Key must repeat."""
        return self.model_dump(mode="json")
