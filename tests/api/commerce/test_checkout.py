"""Checkout and orders ("Checkout"): a price snapshot in one currency,
Dummy paid at once, Stripe through a PaymentIntent at a local fake, Idempotency-Key replays."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from models.logs.tables import ActivityLog
from models.payments.tables import Order
from tests.fakes.commerce import (
    CART,
    CART_ITEMS,
    CHECKOUT,
    COURSES,
    ENROLLMENTS,
    GATEWAYS,
    ORDERS,
    PUBLISHABLE_KEY,
    SECRET_KEY,
    WEBHOOK_SECRET,
    add_to_cart,
    make_gateway,
    make_stripe_gateway,
    settle,
    table_rows,
)
from tests.matchers import ID, NOT_FOUND, TIMESTAMP, person

SEED_CHECKOUT = {
    "payment_method": "stripe",
    "billing_address": {"street": "123 Main St", "city": "London", "country": "UK"},
}
EMPTY_CART = {"detail": "Your cart is empty.", "status": 400}


@pytest.fixture
async def dummy(api) -> dict[str, Any]:
    return await make_gateway(api, name="Dummy", is_default=True)


@pytest.fixture
async def stripe_gateway(api) -> dict[str, Any]:
    return await make_stripe_gateway(api, is_default=True)


def paid(amount: str, currency: str = "USD") -> dict[str, Any]:
    return {
        "order_id": ID,
        "status": "paid",
        "amount": amount,
        "currency": currency,
        "client_secret": None,
    }


async def my_enrollments(api, as_: str = "student") -> list[int]:
    page = (await api.get(ENROLLMENTS, as_=as_)).body
    return sorted(e["course"] for e in page["results"] if e["is_active"])


# Refusals


async def test_an_empty_cart_is_400(api, dummy):
    reply = await api.post(CHECKOUT, {}, as_="student")

    assert (reply.status, reply.body) == (400, EMPTY_CART)


async def test_a_cart_in_two_currencies_is_400(api, make, dummy, course):
    other = await make.course(price="10.00")
    await add_to_cart(api, course["id"])
    await add_to_cart(api, other["id"])
    await api.patch(f"{COURSES}{other['id']}/", {"currency": "EUR"}, as_="instructor")

    reply = await api.post(CHECKOUT, {}, as_="student")

    assert (reply.status, reply.body) == (
        400,
        {
            "detail": "Your cart holds courses in several currencies (EUR, USD): one currency "
            "per order. Remove the others first.",
            "status": 400,
        },
    )
    assert (await api.get(ORDERS, as_="student")).body["count"] == 0


async def test_without_any_gateway_checkout_is_400_saying_so(api, course):
    await add_to_cart(api, course["id"])

    reply = await api.post(CHECKOUT, {}, as_="student")

    assert (reply.status, reply.body) == (
        400,
        {
            "payment_method": [
                "No default payment gateway is configured: name an active one (stripe or dummy)."
            ],
            "status": 400,
        },
    )


async def test_a_payment_method_without_an_active_gateway_is_400(api, dummy, course):
    await make_stripe_gateway(api, is_default=False, is_active=False)
    await add_to_cart(api, course["id"])

    reply = await api.post(CHECKOUT, {"payment_method": "stripe"}, as_="student")

    assert (reply.status, reply.body) == (
        400,
        {"payment_method": ["No active stripe payment gateway is configured."], "status": 400},
    )


async def test_an_unknown_payment_method_is_400(api, dummy, course):
    await add_to_cart(api, course["id"])

    reply = await api.post(CHECKOUT, {"payment_method": "paypal"}, as_="student")

    assert (reply.status, reply.body) == (
        400,
        {"payment_method": ['"paypal" is not a valid choice.'], "status": 400},
    )


async def test_an_inactive_default_gateway_counts_as_none(api, course):
    await make_gateway(api, name="Dummy", is_default=True, is_active=False)
    await add_to_cart(api, course["id"])

    reply = await api.post(CHECKOUT, {}, as_="student")

    assert reply.status == 400


async def test_a_course_owned_since_it_was_added_is_409_at_checkout(api, dummy, course):
    await add_to_cart(api, course["id"])
    await api.post(f"{ENROLLMENTS}course/{course['id']}/", {"user_id": "student-1"}, as_="admin")

    reply = await api.post(CHECKOUT, {}, as_="student")

    assert (reply.status, reply.body) == (
        409,
        {"detail": "You are already enrolled in this course.", "status": 409},
    )


# Dummy


async def test_dummy_checkout_answers_201_paid(api, dummy, course):
    await add_to_cart(api, course["id"])

    reply = await api.post(CHECKOUT, SEED_CHECKOUT | {"payment_method": "dummy"}, as_="student")

    assert (reply.status, reply.body) == (201, paid("99.99"))


async def test_dummy_checkout_enrolls_in_every_course(api, make, dummy, course):
    other = await make.course(price="10.00")
    await add_to_cart(api, course["id"])
    await add_to_cart(api, other["id"])

    await api.post(CHECKOUT, {}, as_="student")

    assert await my_enrollments(api) == sorted([course["id"], other["id"]])


async def test_dummy_checkout_empties_the_cart(api, dummy, course):
    await add_to_cart(api, course["id"])

    await api.post(CHECKOUT, {}, as_="student")

    assert (await api.get(CART, as_="student")).body["items"] == []


async def test_after_a_dummy_checkout_the_course_is_no_longer_402(api, dummy, course):
    await add_to_cart(api, course["id"])
    await api.post(CHECKOUT, {}, as_="student")

    reply = await api.post(f"{ENROLLMENTS}course/{course['id']}/", as_="student")

    assert (reply.status, reply.body["course"]) == (200, course["id"])


async def test_a_buyer_who_left_the_course_may_enroll_again_without_paying(api, dummy, course):
    await add_to_cart(api, course["id"])
    await api.post(CHECKOUT, {}, as_="student")
    enrollment = (await api.get(ENROLLMENTS, as_="student")).body["results"][0]
    await api.delete(f"{ENROLLMENTS}{enrollment['id']}/", as_="student")

    reply = await api.post(f"{ENROLLMENTS}course/{course['id']}/", as_="student")

    assert (reply.status, reply.body["is_active"]) == (200, True)


async def test_someone_else_still_gets_402_for_a_bought_course(api, dummy, course):
    await add_to_cart(api, course["id"])
    await api.post(CHECKOUT, {}, as_="student")

    reply = await api.post(f"{ENROLLMENTS}course/{course['id']}/", as_="student2")

    assert (reply.status, reply.body) == (402, {"detail": "Payment required.", "status": 402})


async def test_a_bought_course_cannot_be_added_again(api, dummy, course):
    await add_to_cart(api, course["id"])
    await api.post(CHECKOUT, {}, as_="student")

    reply = await api.post(CART_ITEMS, {"course": course["id"]}, as_="student")

    assert (reply.status, reply.body) == (
        409,
        {"detail": "You are already enrolled in this course.", "status": 409},
    )


async def test_a_bought_course_left_since_cannot_be_bought_again(api, dummy, course):
    await add_to_cart(api, course["id"])
    await api.post(CHECKOUT, {}, as_="student")
    enrollment = (await api.get(ENROLLMENTS, as_="student")).body["results"][0]
    await api.delete(f"{ENROLLMENTS}{enrollment['id']}/", as_="student")

    reply = await api.post(CART_ITEMS, {"course": course["id"]}, as_="student")

    assert (reply.status, reply.body) == (
        409,
        {"detail": "You have already bought this course; enroll in it directly.", "status": 409},
    )


async def test_dummy_checkout_records_checkout_and_payment_activities(api, dummy, course):
    await add_to_cart(api, course["id"])
    order_id = (await api.post(CHECKOUT, {}, as_="student")).body["order_id"]
    await settle(api)

    rows = await table_rows(api, ActivityLog, object_type="order")

    assert sorted((r.activity_type, r.user_id, r.object_id) for r in rows) == [
        ("cart_checkout", "student-1", order_id),
        ("payment_succeeded", "student-1", order_id),
    ]


async def test_a_cart_that_became_free_is_paid_at_once_without_a_gateway(api, course):
    await add_to_cart(api, course["id"])
    await api.patch(f"{COURSES}{course['id']}/", {"discount_price": "0.00"}, as_="instructor")

    reply = await api.post(CHECKOUT, {}, as_="student")

    assert (reply.status, reply.body) == (201, paid("0.00"))
    assert await my_enrollments(api) == [course["id"]]


# Orders


async def test_the_order_snapshots_prices_titles_and_the_billing_address(api, dummy, course):
    await add_to_cart(api, course["id"])
    order_id = (
        await api.post(CHECKOUT, SEED_CHECKOUT | {"payment_method": "dummy"}, as_="student")
    ).body["order_id"]
    await api.patch(
        f"{COURSES}{course['id']}/", {"price": "150.00", "title": "New"}, as_="instructor"
    )

    reply = await api.get(f"{ORDERS}{order_id}/", as_="student")

    assert (reply.status, reply.body) == (
        200,
        {
            "id": order_id,
            "reference": reply.body["reference"],
            "user_id": "student-1",
            "user": person("student-1"),
            "status": "paid",
            "provider": "dummy",
            "is_test": True,
            "amount": "99.99",
            "currency": "USD",
            "lines": [
                {
                    "course": course["id"],
                    "title": "Python Programming Fundamentals",
                    "price": "99.99",
                    "quantity": 1,
                }
            ],
            "billing_address": SEED_CHECKOUT["billing_address"],
            "failure_reason": "",
            "created_at": TIMESTAMP,
            "paid_at": TIMESTAMP,
        },
    )


async def test_the_order_uses_the_discount_price(api, make, dummy):
    discounted = await make.course(price="100.00", discount_price="80.00")
    await add_to_cart(api, discounted["id"])

    reply = await api.post(CHECKOUT, {}, as_="student")

    assert reply.body["amount"] == "80.00"


async def test_orders_list_shows_mine_and_admins_see_all(api, make, dummy, course):
    await add_to_cart(api, course["id"])
    mine = (await api.post(CHECKOUT, {}, as_="student")).body["order_id"]
    await add_to_cart(api, course["id"], as_="student2")
    theirs = (await api.post(CHECKOUT, {}, as_="student2")).body["order_id"]

    students = await api.get(ORDERS, as_="student")
    admins = await api.get(ORDERS, as_="admin")

    assert [o["id"] for o in students.body["results"]] == [mine]
    assert sorted(o["id"] for o in admins.body["results"]) == sorted([mine, theirs])


async def test_admins_filter_orders_by_user(api, dummy, course):
    await add_to_cart(api, course["id"], as_="student2")
    theirs = (await api.post(CHECKOUT, {}, as_="student2")).body["order_id"]

    reply = await api.get(f"{ORDERS}?user_id=student-2&status=paid", as_="admin")

    assert [o["id"] for o in reply.body["results"]] == [theirs]


async def test_a_learners_user_filter_still_lists_only_their_own_orders(api, dummy, course):
    await add_to_cart(api, course["id"], as_="student2")
    await api.post(CHECKOUT, {}, as_="student2")

    reply = await api.get(f"{ORDERS}?user_id=student-2", as_="student")

    assert (reply.status, reply.body["results"]) == (200, [])


async def test_another_users_order_is_404(api, dummy, course):
    await add_to_cart(api, course["id"])
    order_id = (await api.post(CHECKOUT, {}, as_="student")).body["order_id"]

    reply = await api.get(f"{ORDERS}{order_id}/", as_="student2")

    assert (reply.status, reply.body) == (404, NOT_FOUND)


async def test_another_tenant_sees_none_of_the_orders(api, dummy, course):
    await add_to_cart(api, course["id"])
    order_id = (await api.post(CHECKOUT, {}, as_="student")).body["order_id"]

    listing = await api.get(ORDERS, as_="b_admin")
    one = await api.get(f"{ORDERS}{order_id}/", as_="b_admin")

    assert (listing.body["count"], one.status) == (0, 404)


# Idempotency-Key


async def test_a_replayed_idempotency_key_returns_the_same_order(api, dummy, course):
    await add_to_cart(api, course["id"])
    headers = {"Idempotency-Key": "checkout-1"}

    first = await api.post(CHECKOUT, {}, as_="student", headers=headers)
    second = await api.post(CHECKOUT, {}, as_="student", headers=headers)

    assert (second.status, second.body) == (first.status, first.body) == (201, first.body)
    assert (await api.get(ORDERS, as_="student")).body["count"] == 1
    assert await my_enrollments(api) == [course["id"]]


async def test_a_new_idempotency_key_is_a_new_checkout(api, dummy, course):
    await add_to_cart(api, course["id"])
    await api.post(CHECKOUT, {}, as_="student", headers={"Idempotency-Key": "one"})

    reply = await api.post(CHECKOUT, {}, as_="student", headers={"Idempotency-Key": "two"})

    assert (reply.status, reply.body) == (400, EMPTY_CART)


async def test_the_same_key_from_another_user_is_their_own_checkout(api, dummy, course):
    headers = {"Idempotency-Key": "shared"}
    await add_to_cart(api, course["id"])
    mine = await api.post(CHECKOUT, {}, as_="student", headers=headers)
    await add_to_cart(api, course["id"], as_="student2")

    theirs = await api.post(CHECKOUT, {}, as_="student2", headers=headers)

    assert theirs.status == 201
    assert theirs.body["order_id"] != mine.body["order_id"]


async def test_a_key_reused_with_another_body_is_409(api, dummy, course):
    await add_to_cart(api, course["id"])
    headers = {"Idempotency-Key": "k"}
    await api.post(CHECKOUT, {"payment_method": "dummy"}, as_="student", headers=headers)

    reply = await api.post(CHECKOUT, SEED_CHECKOUT, as_="student", headers=headers)

    assert (reply.status, reply.body) == (
        409,
        {
            "detail": "This Idempotency-Key was already used for a different checkout request.",
            "status": 409,
        },
    )


@pytest.mark.parametrize("key", ["", "x" * 256, "caf\u00e9"])
async def test_a_malformed_idempotency_key_is_400(api, dummy, course, key):
    await add_to_cart(api, course["id"])

    reply = await api.post(CHECKOUT, {}, as_="student", headers={"Idempotency-Key": key})

    assert (reply.status, reply.body) == (
        400,
        {"detail": "Idempotency-Key must be 1 to 255 printable ASCII characters.", "status": 400},
    )


async def test_two_concurrent_checkouts_with_one_key_give_one_order(api, dummy, course):
    await add_to_cart(api, course["id"])
    headers = {"Idempotency-Key": "double-click"}

    first, second = await asyncio.gather(
        api.post(CHECKOUT, {}, as_="student", headers=headers),
        api.post(CHECKOUT, {}, as_="student", headers=headers),
    )

    assert (first.status, second.status, second.body) == (201, 201, first.body)
    assert (await api.get(ORDERS, as_="student")).body["count"] == 1


async def test_two_concurrent_checkouts_without_a_key_charge_once(api, dummy, course):
    await add_to_cart(api, course["id"])

    replies = await asyncio.gather(
        api.post(CHECKOUT, {}, as_="student"), api.post(CHECKOUT, {}, as_="student")
    )

    assert sorted(r.status for r in replies) == [201, 400]
    assert (await api.get(ORDERS, as_="student")).body["count"] == 1


# Stripe


async def test_stripe_checkout_creates_a_payment_intent_at_stripe(
    api, fake_stripe, stripe_gateway, course
):
    await add_to_cart(api, course["id"])

    reply = await api.post(CHECKOUT, SEED_CHECKOUT, as_="student")

    [order] = await table_rows(api, Order)
    [call] = fake_stripe.creates
    assert call.path == "/v1/payment_intents"
    assert call.headers["Authorization"] == f"Bearer {SECRET_KEY}"
    assert call.idempotency_key == f"lms-order-{order.reference}"
    assert call.params == {
        "amount": "9999",
        "currency": "usd",
        "description": f"Order {order.reference}",
        "metadata": {
            "tenant": "acme",
            "order_id": str(reply.body["order_id"]),
            "reference": order.reference,
        },
        "automatic_payment_methods": {"enabled": "true"},
    }


async def test_stripe_checkout_answers_pending_with_the_client_secret(
    api, fake_stripe, stripe_gateway, course
):
    await add_to_cart(api, course["id"])

    reply = await api.post(CHECKOUT, SEED_CHECKOUT, as_="student")

    [intent] = fake_stripe.intents.values()
    assert (reply.status, reply.body) == (
        201,
        {
            "order_id": ID,
            "status": "pending",
            "amount": "99.99",
            "currency": "USD",
            "client_secret": intent["client_secret"],
        },
    )


async def test_stripe_checkout_keeps_the_cart_and_enrolls_nobody_until_paid(
    api, stripe_gateway, course
):
    await add_to_cart(api, course["id"])

    await api.post(CHECKOUT, SEED_CHECKOUT, as_="student")

    assert (await api.get(CART, as_="student")).body["item_count"] == 1
    assert await my_enrollments(api) == []


async def test_a_replayed_stripe_checkout_creates_no_second_intent(
    api, fake_stripe, stripe_gateway, course
):
    await add_to_cart(api, course["id"])
    headers = {"Idempotency-Key": "stripe-1"}

    first = await api.post(CHECKOUT, SEED_CHECKOUT, as_="student", headers=headers)
    second = await api.post(CHECKOUT, SEED_CHECKOUT, as_="student", headers=headers)

    assert (second.status, second.body) == (201, first.body)
    assert len(fake_stripe.creates) == 1


async def test_payment_method_picks_stripe_over_a_dummy_default(api, fake_stripe, dummy, course):
    await make_stripe_gateway(api, is_default=False)
    await add_to_cart(api, course["id"])

    reply = await api.post(CHECKOUT, SEED_CHECKOUT, as_="student")

    assert (reply.body["status"], len(fake_stripe.creates)) == ("pending", 1)


async def test_a_stripe_refusal_is_502_and_the_order_is_kept_failed(
    api, fake_stripe, stripe_gateway, course
):
    fake_stripe.refuse_with = (400, "invalid_request_error", "Amount must be at least $0.50.")
    await add_to_cart(api, course["id"])

    reply = await api.post(CHECKOUT, SEED_CHECKOUT, as_="student")

    assert (reply.status, reply.body) == (
        502,
        {
            "detail": "Stripe refused the payment: Amount must be at least $0.50.",
            "status": 502,
            "order_id": ID,
        },
    )
    order = (await api.get(f"{ORDERS}{reply.body['order_id']}/", as_="student")).body
    assert (order["status"], order["failure_reason"]) == ("failed", reply.body["detail"])
    assert (await api.get(CART, as_="student")).body["item_count"] == 1


async def test_a_replayed_refused_checkout_answers_the_same_502(
    api, fake_stripe, stripe_gateway, course
):
    fake_stripe.refuse_with = (402, "card_error", "Your card was declined.")
    await add_to_cart(api, course["id"])
    headers = {"Idempotency-Key": "refused"}
    first = await api.post(CHECKOUT, SEED_CHECKOUT, as_="student", headers=headers)
    fake_stripe.refuse_with = None

    second = await api.post(CHECKOUT, SEED_CHECKOUT, as_="student", headers=headers)

    assert (second.status, second.body) == (502, first.body)
    assert len(fake_stripe.creates) == 1


async def test_a_key_stripe_does_not_know_is_502_not_500(api, fake_stripe, course):
    await make_stripe_gateway(api, secret_key="sk_test_unknown0000")
    fake_stripe.known_keys = {SECRET_KEY}
    await add_to_cart(api, course["id"])

    reply = await api.post(CHECKOUT, SEED_CHECKOUT, as_="student")

    assert (reply.status, reply.body["detail"]) == (
        502,
        "Stripe refused the payment: Invalid API Key provided: sk_test_****0000",
    )


async def test_a_stripe_gateway_without_a_secret_key_is_502(api, fake_stripe, course):
    await make_gateway(api, name="Stripe", is_default=True)
    await add_to_cart(api, course["id"])

    reply = await api.post(CHECKOUT, SEED_CHECKOUT, as_="student")

    assert (reply.status, reply.body["detail"], fake_stripe.creates) == (
        502,
        "The Stripe gateway has no secret key configured.",
        [],
    )


async def test_an_unreachable_stripe_is_502_not_500(api, fake_stripe, stripe_gateway, course):
    await fake_stripe.server.close()
    await add_to_cart(api, course["id"])

    reply = await api.post(CHECKOUT, SEED_CHECKOUT, as_="student")

    assert (reply.status, reply.body["detail"]) == (
        502,
        "Stripe refused the payment: Stripe could not be reached.",
    )


async def test_gateway_secrets_appear_in_no_response_and_no_log_line(
    api, fake_stripe, make, course, caplog
):
    caplog.set_level(logging.DEBUG)
    credentials = {
        "secret_key": SECRET_KEY,
        "publishable_key": PUBLISHABLE_KEY,
        "webhook_secret": WEBHOOK_SECRET,
    }
    replies = [
        await api.post(GATEWAYS, {"name": "Stripe", "is_default": True, **credentials}, as_="admin")
    ]
    replies += [
        await api.post(CART_ITEMS, {"course": course["id"]}, as_="student"),
        await api.post(CHECKOUT, SEED_CHECKOUT, as_="student"),
        await api.get(ORDERS, as_="admin"),
        await api.get(GATEWAYS, as_="admin"),
    ]
    fake_stripe.refuse_with = (402, "card_error", "Your card was declined.")
    replies.append(await api.post(CART_ITEMS, {"course": course["id"]}, as_="student2"))
    replies.append(await api.post(CHECKOUT, SEED_CHECKOUT, as_="student2"))
    await settle(api)

    bodies = "".join(str(r.body) + str(dict(r.headers)) for r in replies)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert [(r.status) for r in replies] == [201, 201, 201, 200, 200, 201, 502]
    assert [s for s in credentials.values() if s in bodies or s in logged] == []
