"""The Celery application: configuration and the task wrappers around workers/tasks.py."""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass
from typing import Any

import redis
from celery import Celery, Task
from celery.signals import worker_process_init

from models.settings import Settings
from models.tenancy import Databases
from realtime.redis_bus import RedisBus, resilient
from workers.context import WorkerContext
from workers.dispatch import CeleryDispatcher
from workers.tasks import TASKS

log = logging.getLogger(__name__)


def make_celery(settings: Settings) -> Celery:
    """A Celery app on the Redis broker, set up so that no task is lost or run forever.

    - `acks_late` + `task_reject_on_worker_lost`: a task is acknowledged after it ran, and
      one whose worker process died is handed out again rather than dropped.
    - `visibility_timeout` (LMS_CELERY_VISIBILITY_TIMEOUT, 600 s): when a whole worker dies
      holding unacknowledged tasks, Redis gives them to another worker after this long. It
      must exceed the longest task (an AI completion: a few minutes at most), or a task still
      running would be handed out twice; tasks are idempotent for the case where it is.
      Kombu sweeps for such tasks every min(10 s, visibility timeout).
    - Publishing gives up fast when the broker is down, so the web process can fall back.
    """
    celery = Celery("lms", broker=settings.redis_url or "redis://127.0.0.1:6379/0")
    transport = {
        "visibility_timeout": settings.celery_visibility_timeout,
        # Kombu looks for tasks whose visibility ran out only every interval x throttle
        # seconds (10 x 10 by default): a dead worker's task would wait up to 100 s more.
        "unacked_restore_interval": max(1, min(10, settings.celery_visibility_timeout)),
        "unacked_restore_throttle": 1,
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
    }
    celery.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_default_queue=settings.celery_queue,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        worker_prefetch_multiplier=1,
        broker_transport_options=transport,
        result_backend_transport_options=transport,
        broker_connection_timeout=2,
        broker_connection_retry_on_startup=True,
        task_publish_retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.2},
        worker_hijack_root_logger=False,
    )
    for name in TASKS:
        celery.task(name=name, bind=True, base=Task, max_retries=5)(_runner(name))
    return celery


@dataclass
class ProcessState:
    """A worker process's own event loop, engines and Redis client (never shared by forks)."""

    pid: int
    loop: asyncio.AbstractEventLoop
    ctx: WorkerContext
    redis: redis.Redis


_state: ProcessState | None = None


def process_state() -> ProcessState:
    global _state
    if _state is None or _state.pid != os.getpid():
        settings = Settings()
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        # Course events reach the web instances' rooms through Redis; created on this loop.
        # What Redis cannot take even after retries waits in the tenant's room outbox, and
        # follow-up tasks the broker cannot take, in the task outbox.
        databases = Databases.connect(settings.database_url)
        dispatcher = CeleryDispatcher(
            make_celery(settings), settings.celery_queue, sessions=databases.tenant_sessions
        )
        events = None
        if settings.redis_url:
            events = RedisBus(
                resilient(settings.redis_url),
                settings.ws_history_size,
                settings.ws_history_bytes,
                sessions=databases.tenant_sessions,
            )
        ctx = WorkerContext(settings, databases, dispatcher, events)
        dispatcher.fallback = ctx
        client = redis.Redis.from_url(settings.redis_url or "redis://127.0.0.1:6379/0")
        _state = ProcessState(os.getpid(), loop, ctx, client)
    return _state


def _init_worker_process(**_: Any) -> None:
    process_state()


worker_process_init.connect(_init_worker_process)


def _runner(name: str) -> Any:
    def run(self: Task, tenant: str, *args: Any) -> None:
        state = process_state()
        delivery = f"lms:task-deliveries:{self.request.id}:{self.request.retries}"
        if not _count_delivery(state, delivery):
            log.error("task %s %s delivered too often; given up", name, self.request.id)
            return
        try:
            state.loop.run_until_complete(TASKS[name](state.ctx, tenant, *args))
        except Exception as exc:
            # Retried with exponential backoff; tasks are idempotent.
            raise self.retry(exc=exc, countdown=min(2**self.request.retries, 60)) from exc
        finally:
            # The attempt ended (done, or a retry of its own count): only a worker that
            # died mid-attempt leaves its counter, for the redelivery to find.
            state.redis.delete(delivery)

    run.__name__ = name.replace(".", "_")
    return run


def _count_delivery(state: ProcessState, key: str) -> bool:
    """Count deliveries of one attempt of a task; one that keeps killing its worker stops here.

    A retry is a new attempt (its own count); a redelivery after a lost worker is not. The
    counter lives as long as the redeliveries it counts can take (one visibility timeout
    each), not longer: a busy queue must not leave a key per task behind.
    """
    settings = state.ctx.settings
    limit = settings.task_max_deliveries
    count = int(state.redis.incr(key))
    state.redis.expire(key, settings.celery_visibility_timeout * (limit + 1))
    return count <= limit
