"""Stripe webhooks: signature checks, the event stored once with its outbox row, and the
processing a worker runs (idempotent: the same event, or an out-of-order one, changes nothing
twice). The outbox relay re-sends what a crash between commit and enqueue left behind."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

import stripe
from sqlalchemy import CursorResult, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import utcnow
from models.effects import enqueue_after_commit
from models.errors import BadRequest
from models.payments.crypto import CredentialError
from models.payments.gateways import credential
from models.payments.orders import fail_order, fulfil_order
from models.payments.tables import Order, OutboxMessage, PaymentEvent, PaymentGateway
from models.settings import Settings
from models.tenancy import SLUG_RE

log = logging.getLogger(__name__)

PROCESS_EVENT = "payments.process_event"
RELAY_OUTBOX = "payments.relay_outbox"
SUCCEEDED = "payment_intent.succeeded"
FAILED = "payment_intent.payment_failed"
HANDLED = frozenset({SUCCEEDED, FAILED})
# After this many sends an outbox message is given up (and logged): something is broken.
MAX_OUTBOX_ATTEMPTS = 20


@dataclass(frozen=True, slots=True)
class StripeEvent:
    """The parts of a Stripe event this service reads."""

    id: str
    type: str
    object: dict[str, Any]
    raw: dict[str, Any]

    @property
    def tenant(self) -> str | None:
        """`data.object.metadata.tenant`, when it is a well-formed slug."""
        metadata = self.object.get("metadata")
        slug = metadata.get("tenant") if isinstance(metadata, dict) else None
        return slug if isinstance(slug, str) and SLUG_RE.fullmatch(slug) else None


def parse_event(payload: Any) -> StripeEvent:
    """Check the shape of a decoded event: 400 when it is not one."""
    data = payload.get("data") if isinstance(payload, dict) else None
    obj = data.get("object") if isinstance(data, dict) else None
    event_id, kind = (payload.get("id"), payload.get("type")) if obj is not None else (None, None)
    if not (isinstance(event_id, str) and 0 < len(event_id) <= 255 and isinstance(kind, str)):
        raise BadRequest("Malformed Stripe event.")
    assert isinstance(payload, dict) and isinstance(obj, dict)
    return StripeEvent(id=event_id, type=kind[:100], object=obj, raw=payload)


# Signatures


def _header_timestamp(header: str) -> int:
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t":
            try:
                return int(value)
            except ValueError:
                break
    raise BadRequest("Malformed Stripe-Signature header.")


def verify_signature(
    payload: bytes, header: str | None, secrets: list[str], *, tolerance: int
) -> None:
    """400 unless one of `secrets` signed this payload within `tolerance` seconds of now.

    Stripe's library refuses only old timestamps; one from the future is refused here, so a
    signature cannot be minted today for replay tomorrow.
    """
    if not header:
        raise BadRequest("Missing Stripe-Signature header.")
    if not secrets:
        raise BadRequest("No webhook secret is configured to verify this event.")
    timestamp = _header_timestamp(header)
    if abs(time.time() - timestamp) > tolerance:
        raise BadRequest("Stripe-Signature timestamp is outside the tolerance zone.")
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(payload, header, secret, tolerance=tolerance)
            return
        except stripe.SignatureVerificationError:
            continue
        except UnicodeDecodeError:
            break
    raise BadRequest("No signatures found matching the expected signature for payload.")


async def webhook_secrets(session: AsyncSession, *, settings: Settings) -> list[str]:
    """The tenant's Stripe gateways' webhook secrets; LMS_STRIPE_WEBHOOK_SECRET if none has one.

    Inactive gateways count too: payments started before a gateway was switched off still
    report their outcome.
    """
    stmt = select(PaymentGateway).where(
        PaymentGateway.provider == "stripe", PaymentGateway.webhook_secret_sealed.is_not(None)
    )
    found: list[str] = []
    for gateway in (await session.scalars(stmt.order_by(PaymentGateway.id))).all():
        try:
            secret = credential(settings, gateway, "webhook_secret")
        except CredentialError:
            log.error("gateway %s: its webhook secret cannot be decrypted", gateway.id)
            continue
        if secret:
            found.append(secret)
    if not found and settings.stripe_webhook_secret:
        found.append(settings.stripe_webhook_secret)
    return found


# Receiving


async def do_receive_event(session: AsyncSession, *, event: StripeEvent) -> bool:
    """Store a verified event once, with its outbox row; False when it was already stored.

    The task leaves after commit; if the process dies first, the outbox row is still there
    for `do_relay_outbox` to send.
    """
    row = PaymentEvent(event_id=event.id, event_type=event.type, payload=event.raw)
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:
        return False  # a duplicate delivery (or one racing this one): nothing new
    if event.type not in HANDLED:
        row.processed_at = utcnow()
        row.outcome = "ignored: not an event this service acts on"
        await session.flush()
        return True
    session.add(OutboxMessage(ref=f"event:{row.id}", task=PROCESS_EVENT, args=[row.id]))
    await session.flush()
    enqueue_after_commit(session, PROCESS_EVENT, row.id)
    return True


# Processing (in a worker)


async def _mark_done(session: AsyncSession, ref: str) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.ref == ref, OutboxMessage.status != "done")
        .values(status="done", done_at=utcnow())
    )


async def do_process_event(session: AsyncSession, *, tenant: str, event_row_id: int) -> str:
    """Apply a stored event to its order, once; returns what was done (kept on the event)."""
    # Claimed by a conditional UPDATE, so two runs of one event (a redelivery racing the
    # relay) apply it once: the loser waits for the winner's lock, then finds it taken.
    claim = (
        update(PaymentEvent)
        .where(PaymentEvent.id == event_row_id, PaymentEvent.processed_at.is_(None))
        .values(processed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    claimed = cast(CursorResult[Any], await session.execute(claim)).rowcount == 1
    stmt = (
        select(PaymentEvent)
        .where(PaymentEvent.id == event_row_id)
        .execution_options(populate_existing=True)
    )
    row = (await session.scalars(stmt)).one_or_none()
    if row is None:
        return "missing"
    if claimed:
        row.outcome = await _apply(session, tenant=tenant, row=row)
        log.info("payment event %s (%s): %s", row.event_id, row.event_type, row.outcome)
    await _mark_done(session, f"event:{row.id}")
    await session.flush()
    return row.outcome


async def _apply(session: AsyncSession, *, tenant: str, row: PaymentEvent) -> str:
    event = parse_event(row.payload)
    if event.tenant is not None and event.tenant != tenant:
        return "ignored: the event names another tenant"
    intent_id = event.object.get("id")
    if not isinstance(intent_id, str):
        return "ignored: no payment intent id"
    order = (
        await session.scalars(select(Order).where(Order.payment_intent_id == intent_id))
    ).one_or_none()
    if order is None:
        return "ignored: no order has this payment intent"
    amount, currency = event.object.get("amount"), str(event.object.get("currency", ""))
    if amount != order.amount_cents or currency.upper() != order.currency:
        log.error("order %s: event %s does not match its amount or currency", order.id, row.id)
        return "refused: amount or currency differs from the order"
    if event.raw.get("livemode") is False and not order.is_test:
        # Signed with a test-mode secret: a test card's success never pays a live order.
        log.error("order %s: test-mode event %s for a live order", order.id, row.id)
        return "refused: a test-mode event for a live order"
    if event.type == SUCCEEDED:
        done = await fulfil_order(session, tenant=tenant, order_id=order.id)
        return "order paid" if done else "ignored: order already paid"
    error = event.object.get("last_payment_error")
    reason = error.get("message") if isinstance(error, dict) else None
    failed = await fail_order(
        session, order_id=order.id, reason=str(reason or "The payment failed.")
    )
    return "order failed" if failed else "ignored: the order is no longer pending"


async def do_relay_outbox(
    session: AsyncSession, *, older_than_seconds: float = 60.0, limit: int = 100
) -> int:
    """Send again the outbox messages still pending this long after their last send."""
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    stmt = (
        select(OutboxMessage)
        .where(OutboxMessage.status == "pending", OutboxMessage.sent_at < cutoff)
        .order_by(OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    sent = 0
    for message in (await session.scalars(stmt)).all():
        if message.attempts >= MAX_OUTBOX_ATTEMPTS:
            message.status = "dead"
            log.error(
                "outbox %s (%s) given up after %s sends",
                message.id,
                message.ref,
                MAX_OUTBOX_ATTEMPTS,
            )
            continue
        message.attempts += 1
        message.sent_at = utcnow()
        enqueue_after_commit(session, message.task, *message.args)
        sent += 1
    await session.flush()
    return sent
