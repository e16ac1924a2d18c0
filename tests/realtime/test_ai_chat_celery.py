"""The tutor answered by a real Celery worker process: its stream crosses Redis to the socket."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.openai_api import API_KEY, MODEL
from tests.realtime.sockets import joined, next_frame, open_socket
from tests.workers.conftest import Worker

SESSIONS = "/api/lms/ai_chat/sessions/"
MESSAGES = "/api/lms/ai_chat/messages/"


@pytest.fixture
def backend() -> str:
    """A worker process shares the database with the web app: PostgreSQL only."""
    return "postgres"


@pytest.fixture
def shared(redis_url: str, database_url: str, tmp_path: Path) -> dict[str, Any]:
    """What the web app and the worker share; a queue of this test's own."""
    return {
        "redis_url": redis_url,
        "celery_queue": f"lms-test-{uuid.uuid4().hex[:8]}",
        "database_url": database_url,
        "media_root": tmp_path / "media",
    }


@pytest.fixture
def worker(shared: dict[str, Any], fake: Any, tmp_path: Path) -> Iterator[Worker]:
    """A Celery worker that reaches the fake provider (its settings come from LMS_ variables)."""
    provider = {
        "ai_base_url": fake.url,
        "ai_api_key": API_KEY,
        "ai_model": MODEL,
        "ai_timeout_seconds": 10,
        "ai_max_retries": 0,
    }
    worker = Worker({**shared, **provider}, tmp_path / "worker.log")
    yield worker
    worker.stop()


async def test_a_celery_worker_streams_the_answer_through_redis(custom_api, shared, worker, fake):
    await worker.start()
    api = await custom_api(**{k: v for k, v in shared.items() if k != "database_url"})
    created = await api.post(
        SESSIONS, {"topic": "Python", "difficulty_level": "beginner"}, as_="student"
    )
    ws = await open_socket(api, f"/ws/lms/ai_chat/{created.body['id']}/", as_="student")
    await joined(ws)

    sent = await api.post(MESSAGES, {"session": created.body["id"], "message": "Hi"}, as_="student")
    frames = [await next_frame(ws, within=30)]
    while frames[-1]["type"] != "message.complete":
        frames.append(await next_frame(ws, within=30))
    stored = await api.get(f"{MESSAGES}{sent.body['reply']['id']}/", as_="student")

    assert [f["data"]["text"] for f in frames[:-1]] == list(fake.answer)
    assert frames[-1]["data"] == stored.body
    assert (stored.body["status"], stored.body["message"]) == ("complete", fake.text)
    await ws.close()
