"""Test-mode and live payments never mix for buyers: a Dummy gateway is test mode only, a
Stripe gateway's keys match its mode, a student pays only through gateways in the mode of the
tenant's default gateway, and an order paid in test mode says so wherever it shows."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import update

from models.logs.tables import ActivityLog
from models.payments.tables import Order, PaymentGateway
from tests.fakes.commerce import (
    CART,
    CHECKOUT,
    ENROLLMENTS,
    GATEWAYS,
    LIVE_PUBLISHABLE_KEY,
    LIVE_SECRET_KEY,
    ORDERS,
    SECRET_KEY,
    WEBHOOK,
    WEBHOOK_SECRET,
    add_to_cart,
    make_gateway,
    make_live_stripe_gateway,
    make_stripe_gateway,
    settle,
    table_rows,
)
from tests.fakes.stripe_api import event, sign
from web.keys import DATABASES

DUMMY_IS_TEST_ONLY = (
    "A Dummy gateway approves every payment without charging: it can only be in test mode."
)


def live_shop(field: str) -> dict[str, Any]:
    return {
        field: [
            "This shop takes live payments (its default gateway is in live mode): "
            "a gateway in test mode cannot be used here."
        ],
        "status": 400,
    }


@pytest.fixture
async def live_default(api) -> dict[str, Any]:
    """The tenant takes real payments: its default gateway is a live Stripe one."""
    return await make_live_stripe_gateway(api, is_default=True)


def url(gateway_id: int) -> str:
    return f"{GATEWAYS}{gateway_id}/"


async def my_enrollments(api, as_: str = "student") -> list[int]:
    page = (await api.get(ENROLLMENTS, as_=as_)).body
    return sorted(e["course"] for e in page["results"] if e["is_active"])


async def stored_gateways(api) -> list[tuple[str, bool]]:
    return [(g.provider, g.is_test_mode) for g in await table_rows(api, PaymentGateway)]


# A Dummy gateway is test mode only


async def test_a_dummy_gateway_in_live_mode_is_400_on_is_test_mode(api):
    reply = await api.post(GATEWAYS, {"name": "Dummy", "is_test_mode": False}, as_="admin")

    assert (reply.status, reply.body) == (
        400,
        {"is_test_mode": [DUMMY_IS_TEST_ONLY], "status": 400},
    )
    assert await stored_gateways(api) == []


async def test_a_dummy_gateway_created_without_a_mode_is_in_test_mode(api):
    reply = await api.post(GATEWAYS, {"name": "Dummy", "is_default": True}, as_="admin")

    assert (reply.status, reply.body["is_test_mode"]) == (201, True)


async def test_patching_a_dummy_gateway_into_live_mode_is_400_and_keeps_it_in_test_mode(api):
    dummy = await make_gateway(api)

    reply = await api.patch(url(dummy["id"]), {"is_test_mode": False}, as_="admin")

    assert (reply.status, reply.body) == (
        400,
        {"is_test_mode": [DUMMY_IS_TEST_ONLY], "status": 400},
    )
    assert await stored_gateways(api) == [("dummy", True)]


async def test_putting_a_dummy_gateway_in_live_mode_is_400(api):
    dummy = await make_gateway(api)

    reply = await api.put(url(dummy["id"]), {"name": "Dummy", "is_test_mode": False}, as_="admin")

    assert (reply.status, reply.body) == (
        400,
        {"is_test_mode": [DUMMY_IS_TEST_ONLY], "status": 400},
    )


async def test_turning_a_live_stripe_gateway_into_a_dummy_is_400(api):
    live = await make_live_stripe_gateway(api)

    reply = await api.patch(url(live["id"]), {"provider": "dummy"}, as_="admin")

    assert (reply.status, reply.body) == (
        400,
        {"is_test_mode": [DUMMY_IS_TEST_ONLY], "status": 400},
    )
    assert await stored_gateways(api) == [("stripe", False)]


@pytest.mark.parametrize("value", ["maybe", 2, [], {}, None])
async def test_a_non_boolean_is_test_mode_is_400_on_create(api, value):
    reply = await api.post(GATEWAYS, {"name": "Dummy", "is_test_mode": value}, as_="admin")

    assert (reply.status, list(reply.body)) == (400, ["is_test_mode", "status"])


@pytest.mark.parametrize("value", ["maybe", 2, [], {}, None])
async def test_a_non_boolean_is_test_mode_is_400_on_patch(api, value):
    dummy = await make_gateway(api)

    reply = await api.patch(url(dummy["id"]), {"is_test_mode": value}, as_="admin")

    assert (reply.status, list(reply.body)) == (400, ["is_test_mode", "status"])


# A Stripe gateway's keys match its mode

TEST_SECRET = "A Stripe gateway in test mode takes a test secret key (sk_test_ or rk_test_)."
TEST_PUBLISHABLE = "A Stripe gateway in test mode takes a test publishable key (pk_test_)."
LIVE_SECRET = "A Stripe gateway in live mode takes a live secret key (sk_live_ or rk_live_)."
LIVE_PUBLISHABLE = "A Stripe gateway in live mode takes a live publishable key (pk_live_)."


@pytest.mark.parametrize(
    ("is_test_mode", "field", "key", "message"),
    [
        (True, "secret_key", "sk_live_51Mismatch", TEST_SECRET),
        (True, "secret_key", "rk_live_51Mismatch", TEST_SECRET),
        (True, "publishable_key", "pk_live_51Mismatch", TEST_PUBLISHABLE),
        (False, "secret_key", "sk_test_51Mismatch", LIVE_SECRET),
        (False, "secret_key", "rk_test_51Mismatch", LIVE_SECRET),
        (False, "publishable_key", "pk_test_51Mismatch", LIVE_PUBLISHABLE),
    ],
)
async def test_a_stripe_key_of_the_other_mode_is_400_on_its_field(
    api, is_test_mode, field, key, message
):
    body = {"name": "Stripe", "is_test_mode": is_test_mode, field: key}

    reply = await api.post(GATEWAYS, body, as_="admin")

    assert (reply.status, reply.body) == (400, {field: [message], "status": 400})
    assert await stored_gateways(api) == []


@pytest.mark.parametrize(
    ("is_test_mode", "secret_key"),
    [(True, "rk_test_51Restricted"), (False, "rk_live_51Restricted")],
)
async def test_a_restricted_key_of_the_gateways_mode_is_a_secret_key(api, is_test_mode, secret_key):
    body = {"name": "Stripe", "is_test_mode": is_test_mode, "secret_key": secret_key}

    reply = await api.post(GATEWAYS, body, as_="admin")

    assert (reply.status, reply.body["has_secret_key"]) == (201, True)


async def test_a_stripe_gateway_without_a_mode_is_in_test_mode_so_live_keys_are_400(api):
    body = {"name": "Stripe", "secret_key": LIVE_SECRET_KEY}

    reply = await api.post(GATEWAYS, body, as_="admin")

    assert (reply.status, reply.body) == (400, {"secret_key": [TEST_SECRET], "status": 400})


async def test_patching_a_test_key_into_a_live_gateway_is_400(api):
    live = await make_live_stripe_gateway(api)

    reply = await api.patch(url(live["id"]), {"secret_key": SECRET_KEY}, as_="admin")

    assert (reply.status, reply.body) == (400, {"secret_key": [LIVE_SECRET], "status": 400})


async def test_switching_a_stripe_gateway_to_live_mode_with_its_test_keys_is_400(api):
    gateway = await make_stripe_gateway(api)

    reply = await api.patch(url(gateway["id"]), {"is_test_mode": False}, as_="admin")

    assert (reply.status, reply.body) == (
        400,
        {"secret_key": [LIVE_SECRET], "publishable_key": [LIVE_PUBLISHABLE], "status": 400},
    )
    assert await stored_gateways(api) == [("stripe", True)]


async def test_switching_to_live_mode_with_live_keys_is_accepted(api):
    gateway = await make_stripe_gateway(api)
    change = {
        "is_test_mode": False,
        "secret_key": LIVE_SECRET_KEY,
        "publishable_key": LIVE_PUBLISHABLE_KEY,
    }

    reply = await api.patch(url(gateway["id"]), change, as_="admin")

    assert (reply.status, reply.body["is_test_mode"]) == (200, False)


async def test_a_mismatched_gateway_can_still_be_switched_off(api):
    gateway = await make_stripe_gateway(api)
    await _set_stored(api, gateway["id"], is_test_mode=False)  # as written before the rule

    reply = await api.patch(url(gateway["id"]), {"is_active": False}, as_="admin")

    assert (reply.status, reply.body["is_active"]) == (200, False)


# A student pays in the mode of the tenant's default gateway


async def test_a_student_cannot_buy_through_a_dummy_gateway_when_the_default_is_live_stripe(
    api, live_default, course
):
    await make_gateway(api, name="Dummy", is_default=False)
    await add_to_cart(api, course["id"])

    reply = await api.post(CHECKOUT, {"payment_method": "dummy"}, as_="student")

    assert (reply.status, reply.body) == (400, live_shop("payment_method"))
    assert await my_enrollments(api) == []
    assert await table_rows(api, Order) == []
    assert (await api.get(CART, as_="student")).body["item_count"] == 1


async def test_a_student_cannot_pay_live_when_the_default_is_in_test_mode(api, course):
    await make_gateway(api, name="Dummy", is_default=True)
    await make_live_stripe_gateway(api, is_default=False)
    await add_to_cart(api, course["id"])

    reply = await api.post(CHECKOUT, {"payment_method": "stripe"}, as_="student")

    assert (reply.status, reply.body) == (
        400,
        {
            "payment_method": [
                "This shop is in test mode (its default gateway is in test mode): "
                "a gateway taking live payments cannot be used here."
            ],
            "status": 400,
        },
    )
    assert await table_rows(api, Order) == []


async def test_without_a_default_a_student_cannot_use_a_test_gateway(api, course):
    await make_gateway(api, name="Dummy", is_default=False)
    await add_to_cart(api, course["id"])

    reply = await api.post(CHECKOUT, {"payment_method": "dummy"}, as_="student")

    assert (reply.status, reply.body) == (
        400,
        {
            "payment_method": [
                "This shop has no default gateway, so it takes live payments only: "
                "a gateway in test mode cannot be used here."
            ],
            "status": 400,
        },
    )
    assert await my_enrollments(api) == []


async def test_an_inactive_live_default_still_keeps_students_off_test_gateways(api, course):
    await make_live_stripe_gateway(api, is_default=True, is_active=False)
    await make_gateway(api, name="Dummy", is_default=False)
    await add_to_cart(api, course["id"])

    reply = await api.post(CHECKOUT, {"payment_method": "dummy"}, as_="student")

    assert (reply.status, reply.body) == (400, live_shop("payment_method"))


async def test_a_student_is_charged_through_the_live_gateway_of_the_named_provider(
    api, fake_stripe, course
):
    await make_stripe_gateway(api, is_default=False)  # test mode, created first
    await make_live_stripe_gateway(api, is_default=True)
    await add_to_cart(api, course["id"])

    reply = await api.post(CHECKOUT, {"payment_method": "stripe"}, as_="student")

    [call] = fake_stripe.creates
    assert (reply.status, call.headers["Authorization"]) == (201, f"Bearer {LIVE_SECRET_KEY}")


async def test_a_student_still_buys_through_a_test_default(api, course):
    await make_gateway(api, name="Dummy", is_default=True)
    await add_to_cart(api, course["id"])

    reply = await api.post(CHECKOUT, {"payment_method": "dummy"}, as_="student")

    assert (reply.status, reply.body["status"]) == (201, "paid")


async def test_an_admin_may_still_buy_through_a_test_gateway_when_the_default_is_live(
    api, live_default, course
):
    await make_gateway(api, name="Dummy", is_default=False)
    await add_to_cart(api, course["id"], as_="admin")

    reply = await api.post(CHECKOUT, {"payment_method": "dummy"}, as_="admin")

    assert (reply.status, reply.body["status"]) == (201, "paid")
    assert await my_enrollments(api, as_="admin") == [course["id"]]


@pytest.mark.parametrize("method", ["paypal", 5, ["dummy"], {"id": 1}, ""])
async def test_an_unknown_payment_method_is_400(api, live_default, course, method):
    await add_to_cart(api, course["id"])

    reply = await api.post(CHECKOUT, {"payment_method": method}, as_="student")

    assert (reply.status, list(reply.body)) == (400, ["payment_method", "status"])


async def test_a_stripe_gateway_whose_stored_key_mismatches_its_mode_charges_nothing(
    api, fake_stripe, course
):
    gateway = await make_stripe_gateway(api, is_default=True)
    await _set_stored(api, gateway["id"], is_test_mode=False)  # as written before the rule
    await add_to_cart(api, course["id"])

    reply = await api.post(CHECKOUT, {"payment_method": "stripe"}, as_="student")

    assert (reply.status, reply.body["detail"], fake_stripe.creates) == (
        502,
        "The Stripe gateway's secret key does not match its mode (test or live).",
        [],
    )


# An order paid in test mode says so


async def test_a_dummy_order_says_is_test(api, course):
    await make_gateway(api, name="Dummy", is_default=True)
    await add_to_cart(api, course["id"])
    order_id = (await api.post(CHECKOUT, {}, as_="student")).body["order_id"]

    reply = await api.get(f"{ORDERS}{order_id}/", as_="student")

    assert (reply.status, reply.body["status"], reply.body["is_test"]) == (200, "paid", True)


async def test_a_live_order_is_not_test(api, live_default, course):
    await add_to_cart(api, course["id"])
    order_id = (await api.post(CHECKOUT, {}, as_="student")).body["order_id"]

    reply = await api.get(f"{ORDERS}{order_id}/", as_="student")

    assert (reply.status, reply.body["status"], reply.body["is_test"]) == (200, "pending", False)


async def test_a_test_mode_order_says_so_in_its_activities(api, course):
    await make_gateway(api, name="Dummy", is_default=True)
    await add_to_cart(api, course["id"])
    order_id = (await api.post(CHECKOUT, {}, as_="student")).body["order_id"]
    await settle(api)

    rows = await table_rows(api, ActivityLog, object_type="order", object_id=order_id)

    assert sorted((r.activity_type, r.details) for r in rows) == [
        ("cart_checkout", f"Checked out 1 course(s) for 99.99 USD (order {order_id}, test mode)."),
        ("payment_succeeded", f"Paid 99.99 USD for order {order_id} (dummy, test mode)."),
    ]


async def test_a_refused_test_mode_payment_says_so_in_its_activity(api, fake_stripe, course):
    await make_stripe_gateway(api, is_default=True)
    fake_stripe.refuse_with = (402, "card_error", "Your card was declined.")
    await add_to_cart(api, course["id"])
    order_id = (await api.post(CHECKOUT, {}, as_="student")).body["order_id"]
    await settle(api)

    [row] = await table_rows(api, ActivityLog, activity_type="payment_failed")

    assert row.details == (
        f"Payment for order {order_id} (test mode) failed: "
        "Stripe refused the payment: Your card was declined."
    )


async def test_a_live_order_activity_does_not_say_test_mode(api, live_default, course):
    await add_to_cart(api, course["id"])
    order_id = (await api.post(CHECKOUT, {}, as_="student")).body["order_id"]
    await settle(api)

    [row] = await table_rows(api, ActivityLog, object_type="order", object_id=order_id)

    assert (row.activity_type, row.details) == (
        "cart_checkout",
        f"Checked out 1 course(s) for 99.99 USD (order {order_id}).",
    )


async def test_admins_see_and_filter_test_orders_in_the_list(api, live_default, course):
    await make_gateway(api, name="Dummy", is_default=False)
    await add_to_cart(api, course["id"], as_="admin")
    test_order = (await api.post(CHECKOUT, {"payment_method": "dummy"}, as_="admin")).body
    await add_to_cart(api, course["id"])
    live_order = (await api.post(CHECKOUT, {}, as_="student")).body

    everything = await api.get(ORDERS, as_="admin")
    tests = await api.get(f"{ORDERS}?is_test=true", as_="admin")
    lives = await api.get(f"{ORDERS}?is_test=false", as_="admin")

    assert sorted((o["id"], o["is_test"]) for o in everything.body["results"]) == sorted(
        [(test_order["order_id"], True), (live_order["order_id"], False)]
    )
    assert [o["id"] for o in tests.body["results"]] == [test_order["order_id"]]
    assert [o["id"] for o in lives.body["results"]] == [live_order["order_id"]]


async def test_a_non_boolean_is_test_filter_is_400(api):
    reply = await api.get(f"{ORDERS}?is_test=maybe", as_="admin")

    assert (reply.status, list(reply.body)) == (400, ["is_test", "status"])


# Stripe's webhooks keep the modes apart too


async def _live_pending(api, fake_stripe, course) -> dict[str, Any]:
    await make_live_stripe_gateway(api, is_default=True, webhook_secret=WEBHOOK_SECRET)
    await add_to_cart(api, course["id"])
    reply = await api.post(CHECKOUT, {"payment_method": "stripe"}, as_="student")
    assert reply.body["status"] == "pending", reply.body
    [intent] = fake_stripe.intents.values()
    return {**intent, "livemode": True}


def _signed(payload: str) -> dict[str, str]:
    return {"Stripe-Signature": sign(payload, WEBHOOK_SECRET), "Content-Type": "application/json"}


async def test_a_test_mode_event_cannot_pay_a_live_order(api, fake_stripe, course):
    intent = await _live_pending(api, fake_stripe, course)
    payload = event("payment_intent.succeeded", intent)  # livemode: false

    reply = await api.call("POST", WEBHOOK, data=payload, headers=_signed(payload))
    await settle(api)

    [order] = await table_rows(api, Order)
    assert (reply.status, order.status, await my_enrollments(api)) == (200, "pending", [])


async def test_a_live_event_pays_a_live_order(api, fake_stripe, course):
    intent = await _live_pending(api, fake_stripe, course)
    payload = json.dumps(
        {**json.loads(event("payment_intent.succeeded", intent)), "livemode": True}
    )

    await api.call("POST", WEBHOOK, data=payload, headers=_signed(payload))
    await settle(api)

    [order] = await table_rows(api, Order)
    assert (order.status, order.is_test, await my_enrollments(api)) == (
        "paid",
        False,
        [course["id"]],
    )


async def _set_stored(api, gateway_id: int, **values: Any) -> None:
    """Write a gateway row directly, as one written before the mode rules could be."""
    async with api.client.app[DATABASES].tenant_sessions("acme")() as session:
        await session.execute(
            update(PaymentGateway).where(PaymentGateway.id == gateway_id).values(**values)
        )
        await session.commit()
