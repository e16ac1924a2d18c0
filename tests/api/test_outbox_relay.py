"""A webhook stored but never handed to a worker (the process died after commit) is still
fulfilled: the web process's periodic relay sends its outbox row again."""

import json

import pytest

from models.courses.tables import Enrollment
from models.effects import take_tasks
from models.payments.tables import Order
from models.payments.webhooks import do_receive_event, parse_event
from tests.fakes.commerce import (
    CHECKOUT,
    SETTINGS_SECRET_KEY,
    add_to_cart,
    make_stripe_gateway,
    table_rows,
)
from tests.fakes.stripe_api import event, start_fake_stripe
from tests.workers.conftest import eventually
from web.keys import DATABASES


@pytest.fixture
async def relaying_api(custom_api, aiohttp_server):
    fake = await start_fake_stripe(aiohttp_server)
    api = await custom_api(
        secret_key=SETTINGS_SECRET_KEY, stripe_api_base=fake.url, outbox_relay_seconds=0.2
    )
    api.fake_stripe = fake
    return api


async def test_a_stored_event_whose_task_was_lost_is_fulfilled_by_the_relay(relaying_api, make):
    api = relaying_api
    await make_stripe_gateway(api)
    course = await make.course(price="20.00")
    await add_to_cart(api, course["id"])
    checkout = await api.post(CHECKOUT, {"payment_method": "stripe"}, as_="student")
    intent = next(iter(api.fake_stripe.intents.values()))
    stored = parse_event(json.loads(event("payment_intent.succeeded", intent)))

    async with api.client.app[DATABASES].tenant_sessions("acme").begin() as session:
        assert await do_receive_event(session, event=stored)
        take_tasks(session)  # the crash: committed, but the task never left

    async def fulfilled() -> bool:
        orders = await table_rows(api, Order, id=checkout.body["order_id"])
        return orders[0].status == "paid"

    await eventually(fulfilled)
    assert len(await table_rows(api, Enrollment, user_id="student-1")) == 1
