"""An announcement to 5,000 enrolled users, through their inboxes: until every row is stored,
and until the last notifications socket has it.

    python -m bench.inbox_fanout [USERS]          # default 5000

As `bench/announce.py`: `lms serve` on PostgreSQL pinned to CPU 0; `bench/socket_load.py`
pinned to CPU 1 holds one socket per enrolled user, each on their own notifications socket
(`/ws/lms/notifications/`, the user's own room). The instructor POSTs an announcement
(`ROUNDS` times, one at a time, after `WARM_UP_ROUNDS` not counted: the first announcement
after start compiles its statements, a one-time 20 ms of the loop, whose lag is printed
beside); per round, two figures from just before the POST: `stored`, when the last of the
users' rows is in `notifications` (polled every `POLL_SECONDS`), and `last`, when the last
socket received its `notification` frame. Both include the commit, the hand-off to the
worker, its INSERTs (1,000 rows each) and, for `last`, the publishes to each user's room.
Embedded worker, then, when Redis answers, Celery and Redis (one `lms worker` pinned to CPU
1). Target: the same as an announcement's, at most 5 s.

Meanwhile the server's loop lag monitor reports every `PERIOD` seconds (web/loop_monitor.py,
read as bench/bulk_enroll.py reads it): per round, the quiet report just before the POST
(every socket connected) and the reports from the POST to the one holding the round's end
(both figures in). Reported: the worst p99 and max of those over the rounds (target: p99
under 5 ms, as for the other loop-lag scenarios), beside the worst quiet one.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from contextlib import nullcontext

from sqlalchemy import func, select

from bench.course_sockets import (
    announce_round,
    missing_tools,
    received,
    seed_course,
    start_load,
)
from bench.loop_lag import (
    PORT,
    TARGET_MS,
    Report,
    celery_worker,
    embedded_then_celery,
    monitored_server,
)
from bench.pinned_server import temporary_database
from bench.proc_stats import raise_nofile
from models.notifications.tables import Notification
from models.tenancy import Databases

USERS = 5000
ROUNDS = 3
WARM_UP_ROUNDS = 1
TARGET_SECONDS = 5.0
POLL_SECONDS = 0.02
PERIOD = 0.5


def available() -> str | None:
    """Why this scenario cannot run here, or None."""
    return missing_tools(USERS)


async def stored_at(databases: Databases, event_key: str, users: int, seconds: float) -> float:
    """When `users` rows of the event were first seen stored (epoch s); inf if never."""
    stmt = select(func.count()).where(Notification.event_key == event_key)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        async with databases.tenant_sessions("default")() as session:
            if int(await session.scalar(stmt) or 0) >= users:
                return time.time()
        await asyncio.sleep(POLL_SECONDS)
    return float("inf")


async def scenario(name: str, users: int, env: dict[str, str]) -> list[str]:
    async with temporary_database("lms_inbox") as url:
        course = await seed_course(url, users)
        databases = Databases.connect(url, pool_size=2)
        env = {**env, "LMS_DATABASE_URL": url}
        worker = celery_worker(env) if "LMS_REDIS_URL" in env else nullcontext()
        try:
            async with monitored_server(env, PERIOD) as server, worker:
                socket_url = f"ws://127.0.0.1:{PORT}/ws/lms/notifications/"
                stored: list[float] = []
                last: list[float] = []
                got: list[str] = []
                idle: list[Report] = []
                during: list[Report] = []
                warm_up: list[Report] = []
                for n in range(WARM_UP_ROUNDS + ROUNDS):
                    load = await start_load(socket_url, users, "--expect", "notification")
                    try:
                        connected = await load.line("CONNECTED", 600)
                        await server.next_report()  # the period the connecting ended in
                        idle.append(await server.next_report())  # a quiet one
                        first = len(server.reports)
                        base = f"http://127.0.0.1:{PORT}"
                        sent, announcement = await announce_round(base, course, n)
                        key = f"announcement:{announcement}"
                        rows = asyncio.create_task(stored_at(databases, key, users, 120))
                        last_socket, of = received(await load.line("RECEIVED", 120), sent)
                        stored.append(await rows - sent)
                        await server.next_report()  # the period holding the round's end
                        round_reports = server.reports[first:]
                    finally:
                        await load.quit()
                    if n < WARM_UP_ROUNDS:
                        warm_up += round_reports
                        stored.pop()
                        idle.pop()
                        continue
                    during += round_reports
                    last.append(last_socket)
                    got.append(of)
        finally:
            await databases.dispose()
    worst = max(max(last), max(stored))
    complete = all(g == f"{users}/{users}" for g in got)
    verdict = "meets" if worst <= TARGET_SECONDS and complete else "MISSES"
    lag_p99 = max(r.p99 for r in during)
    lag_max = max(r.max for r in during)
    idle_p99 = max(r.p99 for r in idle)
    warm_up_p99 = max((r.p99 for r in warm_up), default=float("nan"))
    lag_verdict = "meets" if lag_p99 < TARGET_MS else "MISSES"
    line = (
        f"inbox fan-out to {users}, {name}: stored_s={statistics.median(stored):.2f} "
        f"last_s={statistics.median(last):.2f} "
        f"(rounds stored {', '.join(f'{s:.2f}' for s in stored)}; "
        f"last {', '.join(f'{s:.2f}' for s in last)}; received {', '.join(got)}; "
        f"{connected.removeprefix('CONNECTED ')}) "
        f"{verdict} the target of <= {TARGET_SECONDS:g} s; loop lag p99_ms={lag_p99:.2f} "
        f"max_ms={lag_max:.2f} (worst of {len(during)} reports of {PERIOD:g} s; idle before: "
        f"p99_ms={idle_p99:.2f}; the warm-up round: p99_ms={warm_up_p99:.2f}) "
        f"{lag_verdict} the target of p99 < {TARGET_MS:g} ms"
    )
    print(line)
    missed = sum(users - int(g.split("/")[0]) for g in got)
    result = (
        f"inbox fan-out to {users}, {name}: RESULT users={users} rounds={len(last)} "
        f"stored_s_median={statistics.median(stored):.3f} stored_s_max={max(stored):.3f} "
        f"last_s_median={statistics.median(last):.3f} last_s_max={max(last):.3f} "
        f"missed={missed} lag_p99_ms={lag_p99:.2f} lag_max_ms={lag_max:.2f} "
        f"idle_p99_ms={idle_p99:.2f} warm_up_lag_p99_ms={warm_up_p99:.2f}"
    )
    print(result)
    return [line, result]


async def main(users: int = USERS) -> list[str]:
    raise_nofile()

    async def run(name: str, env: dict[str, str]) -> list[str]:
        return await scenario(name, users, env)

    return await embedded_then_celery(
        run,
        celery_label=f"inbox fan-out to {users}, Celery and Redis",
        celery_name="Celery and Redis",
        prefix="lms-bench-inbox",
    )


if __name__ == "__main__":
    if (reason := available()) is not None:
        print(f"inbox fan-out: not run: {reason}")
        sys.exit(0)
    asyncio.run(main(*(int(a) for a in sys.argv[1:2])))
