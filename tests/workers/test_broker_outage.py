"""The Celery broker unreachable: a log write runs in the web process at once; an AI answer,
a payment's fulfilment or a notification's fan-out waits in the tenant's task outbox and,
once the broker is back, is relayed and run by a worker, once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from celery import Celery

from models.courses.tables import Enrollment
from models.logs.tables import ActivityLog, AuditLog
from models.payments.tables import Order, PaymentEvent
from models.tasks.tables import TaskOutboxEntry
from tests.conftest import free_port
from tests.fakes.commerce import SETTINGS_SECRET_KEY, table_rows
from tests.fakes.openai_api import API_KEY, MODEL
from tests.fakes.stripe_api import event, start_fake_stripe
from tests.workers.conftest import Worker, eventually
from tests.workers.test_celery_payments import deliver, pending_stripe_order
from web.keys import BUS, DISPATCHER, SETTINGS
from workers.celery_app import make_celery
from workers.dispatch import CeleryDispatcher

COURSES = "/api/lms/courses/courses/"
SESSIONS = "/api/lms/ai_chat/sessions/"
MESSAGES = "/api/lms/ai_chat/messages/"


@pytest.fixture
async def fake_stripe(aiohttp_server):
    return await start_fake_stripe(aiohttp_server)


@pytest.fixture
def celery_settings(celery_settings, fake_stripe, fake):
    """Web app and workers reach the fake Stripe and the fake AI provider."""
    return {
        **celery_settings,
        "secret_key": SETTINGS_SECRET_KEY,
        "stripe_api_base": fake_stripe.url,
        "ai_base_url": fake.url,
        "ai_api_key": API_KEY,
        "ai_model": MODEL,
        "ai_timeout_seconds": 10,
        "ai_max_retries": 0,
    }


class Broker:
    """Takes the web app's broker away (a closed port) and gives it back."""

    def __init__(self, api: Any) -> None:
        dispatcher = api.client.app[DISPATCHER]
        assert isinstance(dispatcher, CeleryDispatcher)
        self.dispatcher = dispatcher
        settings = api.client.app[SETTINGS]
        closed = f"redis://127.0.0.1:{free_port()}/0"
        self._down = make_celery(settings.model_copy(update={"redis_url": closed}))
        self._up = make_celery(settings)
        self._made: list[Celery] = [self._down, self._up]

    def down(self) -> None:
        self.dispatcher.publish_through(self._down)

    def back(self) -> None:
        self.dispatcher.publish_through(self._up)

    def close(self) -> None:
        for celery in self._made:
            celery.close()


@pytest.fixture
async def broker(celery_api) -> AsyncIterator[Broker]:
    broker = Broker(celery_api)
    broker.down()
    yield broker
    broker.back()
    broker.close()


async def kept(api: Any) -> list[str]:
    return [row.task for row in await table_rows(api, TaskOutboxEntry)]


async def relayed_when_back(api: Any, broker: Broker) -> None:
    """The broker returns: the outbox's own retry hands it what waited, and forgets it."""
    broker.back()

    async def empty() -> bool:
        return await kept(api) == []

    await eventually(empty)


async def runs_of(worker: Worker, task: str) -> int:
    """How often the worker ran `task`, once it has run it at least once."""

    def count() -> int:
        lines = worker.output().splitlines()
        return sum(1 for line in lines if f"Task {task}[" in line and "succeeded" in line)

    async def ran() -> bool:
        return count() >= 1

    await eventually(ran)
    return count()


async def test_a_log_write_runs_in_the_request_while_the_broker_is_down(celery_api, broker):
    created = await celery_api.post(
        COURSES, {"title": "Offline", "code": "OFF1", "status": "Published"}, as_="instructor"
    )

    assert created.status == 201
    rows = await table_rows(celery_api, ActivityLog, activity_type="course_created")
    assert [row.object_id for row in rows] == [created.body["id"]]
    assert await kept(celery_api) == []


async def test_a_refused_request_s_audit_record_is_written_in_the_request_while_the_broker_is_down(
    celery_api, broker
):
    refused = await celery_api.post(COURSES, {"title": "Offline", "code": "OFF2"}, as_="student")

    assert refused.status == 403
    rows = await table_rows(celery_api, AuditLog, action_type="permission_denied")
    assert [(row.user_id, row.status_code) for row in rows] == [("student-1", 403)]
    assert await kept(celery_api) == []


async def test_an_ai_answer_waits_in_the_outbox_and_is_answered_once_the_broker_is_back(
    celery_api, broker, workers, fake
):
    chat = await celery_api.post(
        SESSIONS, {"topic": "Python", "difficulty_level": "beginner"}, as_="student"
    )
    sent = await celery_api.post(
        MESSAGES, {"session": chat.body["id"], "message": "Hi"}, as_="student"
    )
    assert sent.status == 201
    assert await kept(celery_api) == ["ai.answer"]
    assert fake.requests == []

    await relayed_when_back(celery_api, broker)
    worker = await workers()

    async def answered() -> bool:
        reply = await celery_api.get(f"{MESSAGES}{sent.body['reply']['id']}/", as_="student")
        return reply.body["status"] == "complete"

    await eventually(answered)
    assert len(fake.requests) == 1
    assert await runs_of(worker, "ai.answer") == 1


async def test_a_fulfilment_waits_in_the_outbox_and_pays_the_order_once_the_broker_is_back(
    celery_api, broker, workers, make, fake_stripe
):
    broker.back()  # the checkout itself needs no task; the webhook arrives while it is down
    order_id, intent = await pending_stripe_order(celery_api, make, fake_stripe)
    broker.down()

    assert await deliver(celery_api, event("payment_intent.succeeded", intent)) == 200
    assert await kept(celery_api) == ["payments.process_event"]
    [stored] = await table_rows(celery_api, PaymentEvent)
    assert stored.processed_at is None

    await relayed_when_back(celery_api, broker)
    worker = await workers()

    async def paid() -> bool:
        [order] = await table_rows(celery_api, Order, id=order_id)
        return order.status == "paid"

    await eventually(paid)
    assert len(await table_rows(celery_api, Enrollment, user_id="student-1")) == 1
    assert await runs_of(worker, "payments.process_event") == 1


async def test_a_fan_out_waits_in_the_outbox_and_is_published_once_the_broker_is_back(
    celery_api, broker, workers, make
):
    course = await make.course()
    body = {"title": "Exam", "message": "Friday."}
    # The other backend's course of the same id shares the room: count from where it is.
    bus, room = celery_api.client.app[BUS], f"course:{course['id']}"
    before = await bus.current_seq("acme", room)

    announced = await celery_api.post(f"{COURSES}{course['id']}/announce/", body, as_="instructor")

    assert announced.status == 201
    # The course room's event, then the enrollees' inbox (none here).
    assert await kept(celery_api) == ["realtime.publish", "notifications.deliver"]
    assert await bus.current_seq("acme", room) == before

    await relayed_when_back(celery_api, broker)
    worker = await workers()

    async def published() -> bool:
        return await bus.current_seq("acme", room) == before + 1

    await eventually(published)
    assert await runs_of(worker, "realtime.publish") == 1
    frame = (await bus.history("acme", room)).frames[-1]
    assert b'"type":"announcement"' in frame
