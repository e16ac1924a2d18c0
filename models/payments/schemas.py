"""Request and response schemas of payments: gateways, orders, checkout answers, webhooks."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from models.fields import Description, MoneyOut, Name, NoNul, OptionalTimestamp, Timestamp
from models.people.schemas import Person
from models.validation import Body, Changes

Provider = Annotated[
    Literal["stripe", "dummy"],
    BeforeValidator(lambda v: v.strip().lower() if isinstance(v, str) else v),
]
OrderStatus = Literal["pending", "paid", "failed"]
# Write-only credentials: bounded, printable, never echoed in an error message.
Credential = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=500, pattern=r"^[!-~]*$"), NoNul
]


class Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# Gateways

_CREDENTIALS = "Write-only: stored encrypted, never returned (see has_{name})."


class GatewayCreate(Body):
    name: Name
    description: Description = ""
    provider: Provider | None = Field(
        default=None, description="stripe or dummy; when absent, taken from the name."
    )
    is_active: bool = True
    is_test_mode: bool = True
    is_default: bool = False
    secret_key: Credential | None = Field(
        default=None, description=_CREDENTIALS.format(name="secret_key")
    )
    publishable_key: Credential | None = Field(
        default=None, description=_CREDENTIALS.format(name="publishable_key")
    )
    webhook_secret: Credential | None = Field(
        default=None, description=_CREDENTIALS.format(name="webhook_secret")
    )


class GatewayUpdate(Changes):
    NULLABLE = frozenset(
        {"description", "provider", "secret_key", "publishable_key", "webhook_secret"}
    )
    name: Name | None = None
    description: Description | None = None
    provider: Provider | None = Field(
        default=None, description="null: taken from the name, as on create."
    )
    is_active: bool | None = None
    is_test_mode: bool | None = None
    is_default: bool | None = None
    secret_key: Credential | None = Field(default=None, description='null or "" clears it.')
    publishable_key: Credential | None = None
    webhook_secret: Credential | None = None


class GatewayRead(Read):
    id: int
    name: str
    description: str
    provider: str
    is_active: bool
    is_test_mode: bool
    is_default: bool
    has_secret_key: bool
    has_publishable_key: bool
    has_webhook_secret: bool
    created_at: Timestamp
    updated_at: Timestamp


class GatewayQuery(BaseModel):
    provider: Provider | None = None
    is_active: bool | None = None


# Orders


class OrderLineRead(BaseModel):
    course: int | None = Field(description="Null once the course has been deleted.")
    title: str = Field(description="The course's title when it was bought.")
    price: MoneyOut = Field(description="The price paid, as snapshotted at checkout.")
    quantity: int


class OrderRead(BaseModel):
    id: int
    reference: str
    user_id: str
    user: Person
    status: OrderStatus
    provider: str
    is_test: bool = Field(description="Paid through a gateway in test mode: no real money.")
    amount: MoneyOut
    currency: str
    lines: list[OrderLineRead]
    billing_address: dict[str, Any]
    failure_reason: str
    created_at: Timestamp
    paid_at: OptionalTimestamp


class OrderQuery(BaseModel):
    status: OrderStatus | None = None
    user_id: str | None = Field(default=None, description="Admins only: whose orders.")
    is_test: bool | None = Field(default=None, description="Test-mode orders, or live ones.")


class CheckoutResult(BaseModel):
    """The checkout answer."""

    order_id: int
    status: OrderStatus
    amount: MoneyOut
    currency: str
    client_secret: str | None = Field(
        description="Stripe's PaymentIntent client secret, for the browser to confirm with."
    )


class WebhookAck(BaseModel):
    received: bool
    duplicate: bool = False
