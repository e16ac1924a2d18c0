"""Charging through a gateway's provider: Dummy approves at once, Stripe opens a PaymentIntent.

Stripe is reached through the official library's async client on aiohttp, so a checkout never
blocks the event loop; `LMS_STRIPE_API_BASE` points it at a local fake in tests.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import stripe

from models.payments.crypto import CredentialError
from models.payments.gateways import credential, key_matches_mode
from models.payments.tables import Order, PaymentGateway
from models.settings import Settings

log = logging.getLogger(__name__)

STRIPE_TIMEOUT_SECONDS = 20
# Safe to retry: every create carries the order's idempotency key.
STRIPE_NETWORK_RETRIES = 2


@dataclass(frozen=True, slots=True)
class PaymentStarted:
    """What the provider said: paid already (Dummy), or pending with a client secret (Stripe)."""

    paid: bool
    intent_id: str | None = None
    client_secret: str | None = None


class ProviderRefused(Exception):
    """The provider could not be reached or refused; the message is safe to show the buyer."""


def stripe_idempotency_key(order: Order) -> str:
    """Stripe keeps the first answer per key: one key per order, never reused."""
    return f"lms-order-{order.reference}"


async def start_payment(
    gateway: PaymentGateway, *, order: Order, tenant: str, settings: Settings
) -> PaymentStarted:
    if gateway.provider == "dummy":
        return PaymentStarted(paid=True)
    if gateway.provider == "stripe":
        return await _stripe_payment_intent(gateway, order=order, tenant=tenant, settings=settings)
    raise ProviderRefused(f"Unknown payment provider {gateway.provider!r}.")


async def _stripe_payment_intent(
    gateway: PaymentGateway, *, order: Order, tenant: str, settings: Settings
) -> PaymentStarted:
    try:
        secret_key = credential(settings, gateway, "secret_key")
    except CredentialError:
        log.error("gateway %s: its secret key cannot be decrypted", gateway.id)
        raise ProviderRefused("The Stripe gateway's credentials cannot be read.") from None
    if not secret_key:
        raise ProviderRefused("The Stripe gateway has no secret key configured.")
    if not key_matches_mode(gateway, secret_key):
        # Written before keys were checked against the mode: a test key would let a Stripe
        # test card buy a course in a live shop.
        log.error("gateway %s: its secret key does not match its mode", gateway.id)
        raise ProviderRefused(
            "The Stripe gateway's secret key does not match its mode (test or live)."
        )
    http = stripe.AIOHTTPClient(timeout=STRIPE_TIMEOUT_SECONDS)
    client = stripe.StripeClient(
        secret_key,
        base_addresses={"api": settings.stripe_api_base} if settings.stripe_api_base else None,
        http_client=http,
        max_network_retries=STRIPE_NETWORK_RETRIES,
    )
    try:
        intent = await client.v1.payment_intents.create_async(
            params={
                "amount": order.amount_cents,
                "currency": order.currency.lower(),
                "description": f"Order {order.reference}",
                "metadata": {
                    "tenant": tenant,
                    "order_id": str(order.id),
                    "reference": order.reference,
                },
                "automatic_payment_methods": {"enabled": True},
            },
            options={"idempotency_key": stripe_idempotency_key(order)},
        )
    except stripe.StripeError as exc:
        # Stripe's own messages never carry the key, but a proxy's might: scrub it anyway.
        if isinstance(exc, stripe.APIConnectionError):
            message = "Stripe could not be reached."
        else:
            message = str(exc.user_message or type(exc).__name__).replace(secret_key, "***")
        log.warning("order %s: Stripe refused the PaymentIntent (%s)", order.id, type(exc).__name__)
        raise ProviderRefused(f"Stripe refused the payment: {message}") from None
    finally:
        await http.close_async()  # type: ignore[no-untyped-call]
    return PaymentStarted(paid=False, intent_id=intent.id, client_secret=intent.client_secret)
