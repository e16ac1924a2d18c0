"""Stripe payments fulfilled by a real Celery worker: once, whatever the deliveries or crashes."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from models.courses.tables import Enrollment
from models.logs.tables import ActivityLog
from models.payments.tables import Order
from tests.fakes.commerce import (
    CHECKOUT,
    SETTINGS_SECRET_KEY,
    WEBHOOK,
    WEBHOOK_SECRET,
    add_to_cart,
    make_stripe_gateway,
    table_rows,
)
from tests.fakes.stripe_api import event, sign, start_fake_stripe
from tests.workers.conftest import eventually


@pytest.fixture
async def fake_stripe(aiohttp_server):
    return await start_fake_stripe(aiohttp_server)


@pytest.fixture
def celery_settings(celery_settings, fake_stripe):
    """Web app and workers both hold the sealing key and reach the fake Stripe."""
    return {
        **celery_settings,
        "secret_key": SETTINGS_SECRET_KEY,
        "stripe_api_base": fake_stripe.url,
    }


async def pending_stripe_order(api, make, fake_stripe):
    """A student's cart checked out through Stripe: a pending order and its PaymentIntent."""
    await make_stripe_gateway(api)
    course = await make.course(price="49.99")
    await add_to_cart(api, course["id"])
    reply = await api.post(CHECKOUT, {"payment_method": "stripe"}, as_="student")
    assert (reply.status, reply.body["status"]) == (201, "pending"), reply.body
    intent = next(iter(fake_stripe.intents.values()))
    return reply.body["order_id"], intent


async def deliver(api, payload: str) -> int:
    headers = {
        "Stripe-Signature": sign(payload, WEBHOOK_SECRET),
        "Content-Type": "application/json",
        "Host": "acme.test",
    }
    reply = await api.call("POST", WEBHOOK, data=payload, headers=headers)
    return reply.status


async def enrolled(api) -> bool:
    return len(await table_rows(api, Enrollment, user_id="student-1")) == 1


async def test_a_signed_webhook_is_fulfilled_by_the_worker(celery_api, make, fake_stripe, workers):
    worker = await workers()
    order_id, intent = await pending_stripe_order(celery_api, make, fake_stripe)

    assert await deliver(celery_api, event("payment_intent.succeeded", intent)) == 200

    await eventually(lambda: enrolled(celery_api))
    [order] = await table_rows(celery_api, Order, id=order_id)
    assert order.status == "paid"
    assert "payments.process_event" in worker.output()


async def test_the_same_event_five_times_gives_one_enrollment_and_one_payment(
    celery_api, make, fake_stripe, workers
):
    worker = await workers()
    _order_id, intent = await pending_stripe_order(celery_api, make, fake_stripe)
    payload = event("payment_intent.succeeded", intent)

    statuses = [await deliver(celery_api, payload) for _ in range(5)]

    assert statuses == [200] * 5
    await eventually(lambda: enrolled(celery_api))

    async def one_payment_recorded() -> bool:
        rows = await table_rows(celery_api, ActivityLog, activity_type="payment_succeeded")
        return len(rows) == 1

    await eventually(one_payment_recorded)
    # The worker's unit inserted it with its commit: no task of its own.
    assert "Task logs.write_activity[" not in worker.output()
    assert [o.status for o in await table_rows(celery_api, Order)] == ["paid"]
    assert len(await table_rows(celery_api, Enrollment)) == 1
    assert worker.output().count("payments.process_event") >= 1


async def test_a_worker_killed_during_fulfilment_is_followed_by_exactly_one(
    celery_api, make, fake_stripe, workers, database_url
):
    """The order row is held locked, so the first worker is caught mid-fulfilment; it is
    killed with SIGKILL; a new worker gets the task back and fulfils it once."""
    first = await workers()
    order_id, intent = await pending_stripe_order(celery_api, make, fake_stripe)
    # The worker has a task done before the lock is taken (as the checkout's log records
    # once were), so the one it is caught in is the fulfilment.
    refused = await celery_api.post("/api/lms/courses/courses/", {"title": "x"}, as_="student")
    assert refused.status in (400, 403)
    await first.wait_for_log("succeeded")
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    blocker = await asyncpg.connect(dsn)
    try:
        lock = blocker.transaction()
        await lock.start()
        await blocker.execute("SELECT id FROM acme.orders WHERE id = $1 FOR UPDATE", order_id)
        assert await deliver(celery_api, event("payment_intent.succeeded", intent)) == 200

        async def worker_waits_on_the_order() -> bool:
            waiting = await blocker.fetchval(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            return bool(waiting)

        await eventually(worker_waits_on_the_order)
        first.kill()
        await lock.rollback()
    finally:
        await blocker.close()
    assert not await enrolled(celery_api)

    second = await workers()

    await eventually(lambda: enrolled(celery_api))
    [order] = await table_rows(celery_api, Order, id=order_id)
    assert order.status == "paid"
    assert "payments.process_event" in second.output()

    async def one_payment_recorded() -> bool:
        rows = await table_rows(celery_api, ActivityLog, activity_type="payment_succeeded")
        return len(rows) == 1

    await eventually(one_payment_recorded)
    assert len(await table_rows(celery_api, Enrollment)) == 1
