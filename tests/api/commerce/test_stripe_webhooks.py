"""Stripe webhooks: signed, stored once with an outbox row, applied by a worker;
duplicate and out-of-order deliveries change nothing twice; one tenant's event never touches
another tenant's order."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

import pytest

from models.base import utcnow
from models.logs.tables import ActivityLog
from models.payments.tables import Order, OutboxMessage, PaymentEvent
from tests.conftest import Api
from tests.fakes.commerce import (
    B_WEBHOOK_SECRET,
    CART,
    CHECKOUT,
    ENROLLMENTS,
    ORDERS,
    WEBHOOK,
    WEBHOOK_SECRET,
    add_to_cart,
    make_stripe_gateway,
    settle,
    table_rows,
)
from tests.fakes.stripe_api import event, sign
from web.app import create_app
from web.keys import DATABASES, DISPATCHER

SUCCEEDED = "payment_intent.succeeded"
FAILED = "payment_intent.payment_failed"
FALLBACK_SECRET = "whsec_OperatorFallbackSecret0005"


def bad_request(detail: str) -> dict[str, Any]:
    return {"detail": detail, "status": 400}


@pytest.fixture
async def api_with(aiohttp_client, settings, api):
    """Another app on the same databases, with changed settings (the `api` fixture cleans up)."""
    apps = []

    async def build(**overrides: Any) -> Api:
        app = create_app(settings.model_copy(update=overrides))
        apps.append(app)
        return Api(await aiohttp_client(app), api.tokens)

    yield build
    for app in apps:
        await app[DISPATCHER].drain()


@pytest.fixture
async def pending(api, fake_stripe, course) -> dict[str, Any]:
    """A Stripe checkout of `course` by student-1, waiting for its webhook: the intent."""
    await make_stripe_gateway(api, is_default=True)
    await add_to_cart(api, course["id"])
    reply = await api.post(CHECKOUT, {"payment_method": "stripe"}, as_="student")
    assert reply.body["status"] == "pending", reply.body
    [intent] = fake_stripe.intents.values()
    return intent


async def post(api, payload: str, headers: dict[str, str]):
    return await api.call(
        "POST", WEBHOOK, data=payload, headers={"Content-Type": "application/json", **headers}
    )


async def send(api, payload: str, *, secret: str = WEBHOOK_SECRET, timestamp=None, **headers):
    return await post(
        api, payload, {"Stripe-Signature": sign(payload, secret, timestamp), **headers}
    )


async def order_of(api, intent) -> dict[str, Any]:
    order_id = int(intent["metadata"]["order_id"])
    return (await api.get(f"{ORDERS}{order_id}/", as_="admin")).body


async def active_enrollments(api, course_id: int) -> list[str]:
    page = (await api.get(f"{ENROLLMENTS}?course={course_id}", as_="admin")).body
    return [e["user"] for e in page["results"] if e["is_active"]]


# Fulfilment


async def test_a_signed_succeeded_event_is_acknowledged_without_a_token(api, pending):
    reply = await send(api, event(SUCCEEDED, pending))

    assert (reply.status, reply.body) == (200, {"received": True, "duplicate": False})


async def test_a_signed_succeeded_event_marks_the_order_paid(api, pending):
    await send(api, event(SUCCEEDED, pending))
    await settle(api)

    order = await order_of(api, pending)

    assert (order["status"], order["paid_at"] is not None) == ("paid", True)


async def test_a_signed_succeeded_event_enrolls_the_buyer(api, pending, course):
    await send(api, event(SUCCEEDED, pending))
    await settle(api)

    assert await active_enrollments(api, course["id"]) == ["student-1"]


async def test_a_signed_succeeded_event_empties_the_cart(api, pending):
    await send(api, event(SUCCEEDED, pending))
    await settle(api)

    assert (await api.get(CART, as_="student")).body["items"] == []


async def test_the_event_and_its_outbox_row_are_stored_and_marked_done(api, pending):
    payload = event(SUCCEEDED, pending, event_id="evt_stored")
    await send(api, payload)
    await settle(api)

    [stored] = await table_rows(api, PaymentEvent)
    [outbox] = await table_rows(api, OutboxMessage)

    assert (stored.event_id, stored.event_type, stored.outcome) == (
        "evt_stored",
        SUCCEEDED,
        "order paid",
    )
    assert (outbox.ref, outbox.status, outbox.task) == (
        f"event:{stored.id}",
        "done",
        "payments.process_event",
    )


async def test_the_same_event_five_times_fulfils_once(api, pending, course):
    payload = event(SUCCEEDED, pending, event_id="evt_five")

    replies = [await send(api, payload) for _ in range(5)]
    await settle(api)

    assert [r.body["duplicate"] for r in replies] == [False, True, True, True, True]
    assert await active_enrollments(api, course["id"]) == ["student-1"]
    assert [o.status for o in await table_rows(api, Order)] == ["paid"]
    payments = await table_rows(api, ActivityLog, activity_type="payment_succeeded")
    assert len(payments) == 1
    assert len(await table_rows(api, PaymentEvent)) == 1


async def test_two_succeeded_events_for_one_intent_fulfil_once(api, pending, course):
    await send(api, event(SUCCEEDED, pending))
    await send(api, event(SUCCEEDED, pending))
    await settle(api)

    payments = await table_rows(api, ActivityLog, activity_type="payment_succeeded")
    outcomes = sorted(e.outcome for e in await table_rows(api, PaymentEvent))
    assert (len(payments), outcomes) == (1, ["ignored: order already paid", "order paid"])


async def test_a_failed_event_marks_a_pending_order_failed(api, pending, course):
    await send(api, event(FAILED, pending))
    await settle(api)

    order = await order_of(api, pending)

    assert (order["status"], order["failure_reason"]) == ("failed", "Your card was declined.")
    assert await active_enrollments(api, course["id"]) == []
    assert (await api.get(CART, as_="student")).body["item_count"] == 1


async def test_failed_after_succeeded_changes_nothing(api, pending, course):
    await send(api, event(SUCCEEDED, pending))
    await settle(api)

    await send(api, event(FAILED, pending))
    await settle(api)

    order = await order_of(api, pending)
    assert (order["status"], order["failure_reason"]) == ("paid", "")
    assert await active_enrollments(api, course["id"]) == ["student-1"]
    assert await table_rows(api, ActivityLog, activity_type="payment_failed") == []


async def test_succeeded_after_failed_fulfils_a_retried_payment(api, pending, course):
    await send(api, event(FAILED, pending))
    await settle(api)

    await send(api, event(SUCCEEDED, pending))
    await settle(api)

    assert (await order_of(api, pending))["status"] == "paid"
    assert await active_enrollments(api, course["id"]) == ["student-1"]


async def test_an_event_whose_amount_differs_from_the_order_fulfils_nothing(api, pending, course):
    await send(api, event(SUCCEEDED, pending, amount=1))
    await settle(api)

    assert (await order_of(api, pending))["status"] == "pending"
    assert await active_enrollments(api, course["id"]) == []


async def test_an_event_for_an_unknown_intent_is_acknowledged_and_ignored(api, pending):
    reply = await send(api, event(SUCCEEDED, {**pending, "id": "pi_someone_else"}))
    await settle(api)

    [stored] = await table_rows(api, PaymentEvent)
    assert (reply.status, stored.outcome) == (200, "ignored: no order has this payment intent")
    assert (await order_of(api, pending))["status"] == "pending"


async def test_an_event_type_not_acted_on_is_stored_and_left(api, pending):
    reply = await send(api, event("payment_intent.created", pending))
    await settle(api)

    assert reply.status == 200
    assert await table_rows(api, OutboxMessage) == []
    assert (await order_of(api, pending))["status"] == "pending"


# Signatures


async def test_a_bad_signature_is_400(api, pending):
    reply = await send(api, event(SUCCEEDED, pending), secret="whsec_wrong")

    assert (reply.status, reply.body) == (
        400,
        bad_request("No signatures found matching the expected signature for payload."),
    )
    assert await table_rows(api, PaymentEvent) == []


async def test_a_missing_signature_header_is_400(api, pending):
    reply = await post(api, event(SUCCEEDED, pending), {})

    assert (reply.status, reply.body) == (400, bad_request("Missing Stripe-Signature header."))


async def test_a_timestamp_in_the_future_is_400(api, pending):
    reply = await send(api, event(SUCCEEDED, pending), timestamp=int(time.time()) + 3600)

    assert (reply.status, reply.body) == (
        400,
        bad_request("Stripe-Signature timestamp is outside the tolerance zone."),
    )


async def test_a_timestamp_older_than_the_tolerance_is_400(api, pending):
    reply = await send(api, event(SUCCEEDED, pending), timestamp=int(time.time()) - 301)

    assert (reply.status, reply.body) == (
        400,
        bad_request("Stripe-Signature timestamp is outside the tolerance zone."),
    )


async def test_a_timestamp_within_the_tolerance_is_accepted(api, pending):
    reply = await send(api, event(SUCCEEDED, pending), timestamp=int(time.time()) - 200)

    assert reply.status == 200


@pytest.mark.parametrize("header", ["garbage", "t=abc,v1=00", "v1=00"])
async def test_a_malformed_signature_header_is_400(api, pending, header):
    reply = await post(api, event(SUCCEEDED, pending), {"Stripe-Signature": header})

    assert (reply.status, reply.body) == (400, bad_request("Malformed Stripe-Signature header."))


async def test_a_body_changed_after_signing_is_400(api, pending):
    payload = event(SUCCEEDED, pending)
    header = sign(payload, WEBHOOK_SECRET)

    reply = await post(api, payload.replace("9999", "1"), {"Stripe-Signature": header})

    assert reply.status == 400


@pytest.mark.parametrize("payload", ["not json", "[]", '{"id": "evt_1"}'])
async def test_a_malformed_event_is_400(api, pending, payload):
    reply = await send(api, payload)

    assert (reply.status, reply.body) == (400, bad_request("Malformed Stripe event."))


async def test_the_operator_secret_is_the_fallback_when_no_gateway_has_one(api, api_with, course):
    api = await api_with(stripe_webhook_secret=FALLBACK_SECRET)
    await make_stripe_gateway(api, webhook_secret=None)
    intent = {"id": "pi_x", "amount": 1, "currency": "usd", "metadata": {"tenant": "acme"}}

    reply = await send(api, event(SUCCEEDED, intent), secret=FALLBACK_SECRET)

    assert reply.status == 200


async def test_the_operator_secret_is_refused_when_the_tenant_has_its_own(api, api_with, course):
    api = await api_with(stripe_webhook_secret=FALLBACK_SECRET)
    await make_stripe_gateway(api)
    intent = {"id": "pi_x", "amount": 1, "currency": "usd", "metadata": {"tenant": "acme"}}

    reply = await send(api, event(SUCCEEDED, intent), secret=FALLBACK_SECRET)

    assert reply.status == 400


# Tenancy


async def test_the_host_names_the_tenant(api, pending, course):
    payload = event(SUCCEEDED, {**pending, "metadata": {}})

    reply = await send(api, payload, Host="acme.test")
    await settle(api)

    assert reply.status == 200
    assert await active_enrollments(api, course["id"]) == ["student-1"]


async def test_an_event_naming_no_known_tenant_is_400_without_a_fallback_secret(api, pending):
    payload = event(SUCCEEDED, {**pending, "metadata": {"tenant": "nowhere"}})

    reply = await send(api, payload)

    assert (reply.status, reply.body) == (
        400,
        bad_request("No webhook secret is configured to verify this event."),
    )


async def test_an_event_of_no_tenant_signed_by_the_operator_is_acknowledged_and_dropped(
    api, api_with
):
    api = await api_with(stripe_webhook_secret=FALLBACK_SECRET)
    intent = {"id": "pi_other_system", "amount": 500, "currency": "usd", "metadata": {}}

    reply = await send(api, event(SUCCEEDED, intent), secret=FALLBACK_SECRET)

    assert (reply.status, reply.body) == (200, {"received": True, "duplicate": False})
    assert await table_rows(api, PaymentEvent) == []


async def test_an_event_signed_with_another_tenants_secret_is_400(api, pending):
    await make_stripe_gateway(api, as_="b_admin", webhook_secret=B_WEBHOOK_SECRET)

    reply = await send(api, event(SUCCEEDED, pending), secret=B_WEBHOOK_SECRET)

    assert reply.status == 400
    assert (await order_of(api, pending))["status"] == "pending"


async def test_tenant_bs_event_for_tenant_as_intent_cannot_touch_as_order(api, pending, course):
    await make_stripe_gateway(api, as_="b_admin", webhook_secret=B_WEBHOOK_SECRET)
    hijack = {**pending, "metadata": {**pending["metadata"], "tenant": "globex"}}

    reply = await send(api, event(SUCCEEDED, hijack), secret=B_WEBHOOK_SECRET)
    await settle(api)

    [stored] = await table_rows(api, PaymentEvent, tenant="globex")
    assert (reply.status, stored.outcome) == (200, "ignored: no order has this payment intent")
    assert (await order_of(api, pending))["status"] == "pending"
    assert await active_enrollments(api, course["id"]) == []
    assert await table_rows(api, PaymentEvent, tenant="acme") == []


# The outbox relay


async def test_the_relay_resends_an_event_whose_task_was_lost(api, pending, course):
    # As if the process died between commit and enqueue: stored, never processed.
    [order] = await table_rows(api, Order)
    payload = event(SUCCEEDED, pending)
    async with api.client.app[DATABASES].tenant_sessions("acme").begin() as session:
        row = PaymentEvent(event_id="evt_lost", event_type=SUCCEEDED, payload=json.loads(payload))
        session.add(row)
        await session.flush()
        session.add(
            OutboxMessage(
                ref=f"event:{row.id}",
                task="payments.process_event",
                args=[row.id],
                sent_at=utcnow() - timedelta(minutes=5),
            )
        )

    await api.client.app[DISPATCHER].send("payments.relay_outbox", "acme", 60)
    await settle(api)

    assert (await order_of(api, pending))["status"] == "paid"
    assert await active_enrollments(api, course["id"]) == ["student-1"]
    [outbox] = await table_rows(api, OutboxMessage)
    assert (outbox.status, outbox.attempts) == ("done", 2)
    assert order.id == int(pending["metadata"]["order_id"])


async def test_the_relay_leaves_recent_and_done_messages_alone(api, pending):
    await send(api, event(SUCCEEDED, pending))
    await settle(api)

    await api.client.app[DISPATCHER].send("payments.relay_outbox", "acme", 0)
    await settle(api)

    [outbox] = await table_rows(api, OutboxMessage)
    assert (outbox.status, outbox.attempts) == ("done", 1)
