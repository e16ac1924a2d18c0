"""Helpers shared by the commerce tests: paths, credentials, gateways and database peeks."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from web.keys import DATABASES, DISPATCHER

GATEWAYS = "/api/lms/payments/gateways/"
ORDERS = "/api/lms/payments/orders/"
WEBHOOK = "/api/lms/payments/webhooks/stripe/"
CART_ITEMS = "/api/lms/carts/cart-items/"
CART = "/api/lms/carts/cart/"
CHECKOUT = "/api/lms/carts/checkout/"
ENROLLMENTS = "/api/lms/courses/enrollments/"
COURSES = "/api/lms/courses/courses/"

# Distinctive, so a test can search every response and log line for them.
SECRET_KEY = "sk_test_51SecretKeyNeverShownAnywhere0001"
PUBLISHABLE_KEY = "pk_test_51PublishableKeyNeverShown0002"
WEBHOOK_SECRET = "whsec_WebhookSecretNeverShownAnywhere0003"
B_WEBHOOK_SECRET = "whsec_GlobexWebhookSecretNeverShown0004"
LIVE_SECRET_KEY = "sk_live_51LiveSecretKeyNeverShownAnywhere05"
LIVE_PUBLISHABLE_KEY = "pk_live_51LivePublishableKeyNeverShown06"
SETTINGS_SECRET_KEY = "test-lms-secret-key-for-sealing-credentials"


def commerce_settings(settings: Any, **overrides: Any) -> Any:
    """The suite's settings with a sealing key (no development file is written)."""
    return settings.model_copy(update={"secret_key": SETTINGS_SECRET_KEY, **overrides})


async def make_gateway(api: Any, as_: str = "admin", **fields: Any) -> dict[str, Any]:
    body = {"name": "Dummy", "is_active": True, "is_test_mode": True, "is_default": True, **fields}
    reply = await api.post(GATEWAYS, body, as_=as_)
    assert reply.status == 201, reply.body
    return dict(reply.body)


async def make_stripe_gateway(
    api: Any, as_: str = "admin", webhook_secret: str = WEBHOOK_SECRET, **fields: Any
) -> dict[str, Any]:
    body = {
        "name": "Stripe",
        "description": "Stripe payment gateway",
        "secret_key": SECRET_KEY,
        "publishable_key": PUBLISHABLE_KEY,
        "webhook_secret": webhook_secret,
        **fields,
    }
    return await make_gateway(api, as_=as_, **body)


async def make_live_stripe_gateway(api: Any, as_: str = "admin", **fields: Any) -> dict[str, Any]:
    """A Stripe gateway taking real payments: live mode, live keys."""
    body = {
        "is_test_mode": False,
        "secret_key": LIVE_SECRET_KEY,
        "publishable_key": LIVE_PUBLISHABLE_KEY,
        **fields,
    }
    return await make_stripe_gateway(api, as_=as_, **body)


async def add_to_cart(api: Any, course_id: int, as_: str = "student") -> dict[str, Any]:
    reply = await api.post(CART_ITEMS, {"course": course_id, "quantity": 1}, as_=as_)
    assert reply.status in (200, 201), reply.body
    return dict(reply.body)


async def settle(api: Any) -> None:
    """Wait for every task sent so far (fulfilment, activity writes) to finish."""
    await api.client.app[DISPATCHER].drain()


async def table_rows(api: Any, model: Any, tenant: str = "acme", **where: Any) -> list[Any]:
    """Rows of a tenant table, read directly (what no endpoint shows: sealed credentials, ...)."""
    stmt = select(model).filter_by(**where).order_by(model.id)
    async with api.client.app[DATABASES].tenant_sessions(tenant)() as session:
        return list((await session.scalars(stmt)).all())
