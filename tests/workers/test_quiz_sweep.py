"""The quiz deadline sweep, run by a real Celery worker process."""

from __future__ import annotations

from typing import Any

from models.quizzes.attempts import SUBMIT_OVERDUE_TASK
from tests.api.quiz_helpers import ATTEMPTS, move_deadline_to_the_past, new_quiz, save, start
from tests.conftest import Factory
from tests.workers.conftest import eventually
from web.keys import DISPATCHER


async def overdue_attempt(api: Any) -> tuple[int, int]:
    """A student's attempt with one right answer saved, its deadline passed."""
    setup = await new_quiz(api, Factory(api), kinds=("true_false",), time_limit_minutes=5)
    attempt = (await start(api, setup.id)).body
    await save(api, attempt["id"], {setup.q("true_false"): False})
    await move_deadline_to_the_past(api, attempt["id"])
    return setup.id, attempt["id"]


def graded(api: Any, attempt_id: int) -> Any:
    async def check() -> bool:
        reply = await api.get(f"{ATTEMPTS}{attempt_id}/", as_="student")
        return bool(reply.body["status"] == "graded")

    return check


async def test_a_celery_worker_submits_an_overdue_attempt(celery_api, workers):
    worker = await workers()
    _, attempt_id = await overdue_attempt(celery_api)

    await celery_api.client.app[DISPATCHER].send(SUBMIT_OVERDUE_TASK, "acme")

    await eventually(graded(celery_api, attempt_id))
    reply = await celery_api.get(f"{ATTEMPTS}{attempt_id}/", as_="student")
    assert reply.body["auto_submitted"] is True
    assert reply.body["score"] == 1
    assert SUBMIT_OVERDUE_TASK in worker.output()
