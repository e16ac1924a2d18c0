"""An announcement to 5,000 enrolled users: from the POST until the last socket has it.

    python -m bench.announce [USERS]          # default 5000

`lms serve` on PostgreSQL pinned to CPU 0; `bench/socket_load.py` pinned to CPU 1 holds one
socket per enrolled user on the course's notifications room. The course's instructor then
POSTs `/api/lms/courses/courses/{id}/announce/` (`ROUNDS` times, one at a time); each round's
figure is the arrival of the announcement on the last of the sockets minus the time just
before the POST (wall clock, one machine), so it includes the commit, the worker's hand-off
to the room bus, the fan-out and the load generator's own reading. Target (docs/benchmarks.md):
at most 5 s. Measured with the embedded worker, then, when Redis answers, through Celery and Redis
(one `lms worker` pinned to CPU 1).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
from contextlib import nullcontext

from bench.course_sockets import (
    announce_round,
    missing_tools,
    received,
    seed_course,
    start_load,
)
from bench.loop_lag import celery_worker, embedded_then_celery
from bench.pinned_server import pinned_server, temporary_database
from bench.proc_stats import raise_nofile

PORT = 9199
USERS = 5000
ROUNDS = 3
TARGET_SECONDS = 5.0


def available() -> str | None:
    """Why this scenario cannot run here, or None."""
    return missing_tools(USERS)


async def scenario(name: str, users: int, env: dict[str, str]) -> list[str]:
    async with temporary_database("lms_announce") as url:
        course = await seed_course(url, users)
        worker = celery_worker({**env, "LMS_DATABASE_URL": url}) if env else nullcontext()
        async with pinned_server(url, PORT, **env) as server, worker:
            socket_url = f"ws://127.0.0.1:{PORT}/ws/lms/course/{course}/notifications/"
            seconds: list[float] = []
            got: list[str] = []
            for n in range(ROUNDS):
                load = await start_load(socket_url, users, "--expect", "announcement")
                try:
                    connected = await load.line("CONNECTED", 600)
                    await asyncio.sleep(1)
                    sent, _ = await announce_round(server.base, course, n)
                    last_socket, of = received(await load.line("RECEIVED", 120), sent)
                finally:
                    await load.quit()
                seconds.append(last_socket)
                got.append(of)
    worst = max(seconds)
    complete = all(g == f"{users}/{users}" for g in got)
    verdict = "meets" if worst <= TARGET_SECONDS and complete else "MISSES"
    line = (
        f"announce to {users}, {name}: last_s={statistics.median(seconds):.2f} "
        f"(rounds {', '.join(f'{s:.2f}' for s in seconds)}; received {', '.join(got)}; "
        f"{connected.removeprefix('CONNECTED ')}) "
        f"{verdict} the target of <= {TARGET_SECONDS:g} s"
    )
    print(line)
    rounds = " ".join(f"round{n + 1}_s={s:.3f}" for n, s in enumerate(seconds))
    missed = sum(users - int(g.split("/")[0]) for g in got)
    result = (
        f"announce to {users}, {name}: RESULT users={users} rounds={len(seconds)} "
        f"last_s_median={statistics.median(seconds):.3f} last_s_max={worst:.3f} "
        f"last_s_min={min(seconds):.3f} {rounds} missed={missed}"
    )
    print(result)
    return [line, result]


async def main(users: int = USERS) -> list[str]:
    raise_nofile()

    async def run(name: str, env: dict[str, str]) -> list[str]:
        return await scenario(name, users, env)

    return await embedded_then_celery(
        run,
        celery_label=f"announce to {users}, Celery and Redis",
        celery_name="Celery and Redis",
        prefix="lms-bench-announce",
    )


if __name__ == "__main__":
    if (reason := available()) is not None:
        print(f"announce: not run: {reason}")
        sys.exit(0)
    asyncio.run(main(*(int(a) for a in sys.argv[1:2])))
