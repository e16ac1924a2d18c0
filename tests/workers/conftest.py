"""A real Celery worker process, against the Redis at 127.0.0.1:6379 and the test PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SECRET

ROOT = Path(__file__).resolve().parents[2]
READY_SECONDS = 60


class NoTasks:
    """The dispatcher a task run alone gets: it must send nothing further."""

    async def send(self, name: str, tenant: str, *args: Any) -> None:
        raise AssertionError(f"no follow-up task expected, got {name}")


@pytest.fixture
def backend() -> str:
    """Worker tests run on PostgreSQL only: a worker process shares it with the web app."""
    return "postgres"


@pytest.fixture
def celery_settings(redis_url: str, database_url: str, tmp_path: Path) -> dict[str, Any]:
    """What the web app and its workers share; each test has a queue of its own."""
    return {
        "redis_url": redis_url,
        "celery_queue": f"lms-test-{uuid.uuid4().hex[:8]}",
        # Short, so that a killed worker's task is handed out again within the test.
        "celery_visibility_timeout": 3,
        "database_url": database_url,
        "media_root": tmp_path / "media",
    }


class Worker:
    """`celery -A workers.app worker` as production runs it, in its own process group."""

    def __init__(self, settings: dict[str, Any], log_path: Path) -> None:
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("LMS_")}
        self.env.update({f"LMS_{k.upper()}": str(v) for k, v in settings.items()})
        self.env["LMS_JWT_SECRET"] = SECRET
        self.env["PYTHONUNBUFFERED"] = "1"  # its log is read while it runs
        self.queue = settings["celery_queue"]
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = self._spawn(log)
        await self.wait_for_log("ready.")

    def _spawn(self, log: Any) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "workers.app",
                "worker",
                "-P",
                "solo",
                "-Q",
                self.queue,
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-l",
                "INFO",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    async def wait_for_log(self, text: str, *, count: int = 1) -> None:
        async with asyncio.timeout(READY_SECONDS):
            while self.output().count(text) < count:
                assert self.process is not None and self.process.poll() is None, self.output()
                await asyncio.sleep(0.05)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL, as a crashed or OOM-killed machine would: no chance to acknowledge."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def workers(
    celery_settings: dict[str, Any], tmp_path: Path
) -> Iterator[Callable[[], Awaitable[Worker]]]:
    """Starts workers on the test's queue; all are stopped at the end."""
    started: list[Worker] = []

    async def start() -> Worker:
        worker = Worker(celery_settings, tmp_path / f"worker-{len(started)}.log")
        started.append(worker)
        await worker.start()
        return worker

    yield start
    for worker in started:
        worker.stop()


async def eventually(check: Callable[[], Awaitable[bool]], *, seconds: float = 30) -> None:
    """Wait for something another process does; the deadline only bounds a failure."""
    async with asyncio.timeout(seconds):
        # Another process acts: there is no event to await here, only its effect to observe.
        while not await check():  # noqa: ASYNC110
            await asyncio.sleep(0.1)


@pytest.fixture
async def celery_api(custom_api: Any, celery_settings: dict[str, Any]) -> AsyncIterator[Any]:
    """The web app with Redis configured: its tasks go to the Celery broker."""
    yield await custom_api(**{k: v for k, v in celery_settings.items() if k != "database_url"})
