"""Payment tables (one set per tenant): gateways, orders and their lines, Stripe events and
the outbox that carries fulfilment to the workers. Money is kept in integer cents."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import TenantBase, Timestamped, UTCDateTime, utcnow
from models.people.tables import User, person_of

PROVIDERS = ("stripe", "dummy")
ORDER_STATUSES = ("pending", "paid", "failed")


class PaymentGateway(Timestamped, TenantBase):
    __tablename__ = "payment_gateways"
    __table_args__ = (
        # One default per tenant, kept by the database too: a race between two admins
        # setting different defaults ends in a conflict, never in two defaults.
        Index(
            "uq_payment_gateways_one_default",
            "is_default",
            unique=True,
            sqlite_where=text("is_default"),
            postgresql_where=text("is_default"),
        ),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    provider: Mapped[str] = mapped_column(String(20))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_test_mode: Mapped[bool] = mapped_column(Boolean, default=True)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    # Fernet tokens (models/payments/crypto.py); the plain values are never stored or returned.
    secret_key_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    publishable_key_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    webhook_secret_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)


class Order(Timestamped, TenantBase):
    __tablename__ = "orders"
    __table_args__ = (
        # A retried checkout (same user, same Idempotency-Key) finds the first order.
        UniqueConstraint("user_id", "idempotency_key"),
        Index("ix_orders_user_created", "user_id", "created_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Random and never reused: the Stripe idempotency key is built from it, so an order id
    # that SQLite hands out again after a rollback can never replay another order's intent.
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    user_id: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    provider: Mapped[str] = mapped_column(String(20))
    gateway_id: Mapped[int | None] = mapped_column(
        ForeignKey("payment_gateways.id", ondelete="SET NULL"), nullable=True
    )
    # Paid through a gateway in test mode (Dummy, or Stripe with test keys): no real money.
    is_test: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    billing_address: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    idempotency_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # What the checkout asked for (payment_method, billing address): a replay must match it.
    request_hash: Mapped[str] = mapped_column(String(64), default="")
    payment_intent_id: Mapped[str | None] = mapped_column(String(255), nullable=True, unique=True)
    client_secret: Mapped[str | None] = mapped_column(String(255), nullable=True)
    failure_reason: Mapped[str] = mapped_column(Text, default="")
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    lines: Mapped[list[OrderLine]] = relationship(
        lazy="raise", order_by="OrderLine.id", passive_deletes=True
    )

    # Who the user ids are (models/people/names.py), joined wherever the row is loaded.
    __people__ = ("user_id",)
    user_user: Mapped[User | None] = person_of("Order", "user_id")


class OrderLine(TenantBase):
    __tablename__ = "order_lines"
    __table_args__ = (
        Index("ix_order_lines_course_id", "course_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    # A deleted course leaves the line (and its snapshot) in place.
    course_id: Mapped[int | None] = mapped_column(
        ForeignKey("courses.id", ondelete="SET NULL"), nullable=True
    )
    title: Mapped[str] = mapped_column(String(200))
    price_cents: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(Integer, default=1)


class PaymentEvent(TenantBase):
    """A verified provider event, stored once by its id."""

    __tablename__ = "payment_events"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(20), default="stripe")
    event_id: Mapped[str] = mapped_column(String(255), unique=True)
    event_type: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    outcome: Mapped[str] = mapped_column(String(200), default="")


class OutboxMessage(TenantBase):
    """A task written in the same transaction as what it must act on; done once it has."""

    __tablename__ = "payment_outbox"
    __table_args__ = (
        Index("ix_payment_outbox_status_sent", "status", "sent_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task: Mapped[str] = mapped_column(String(100))
    args: Mapped[list[Any]] = mapped_column(JSON)
    # Unique: one message per thing to do (e.g. `event:12`), however often it is written.
    ref: Mapped[str] = mapped_column(String(100), unique=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
