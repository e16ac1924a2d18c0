"""Event loop lag while window listings expand the heaviest recurrence rules there are.

    python -m bench.recurrence_lag [HEAVY STORED SECONDS]   # default 40 heavy, 10 stored, 10 s

`lms serve` on PostgreSQL pinned to CPU 0 with the loop lag monitor on (as bench/loop_lag.py
starts it). One user owns HEAVY schedules with the heaviest rule a schedule may be saved
with now (`FREQ=DAILY` at six hours a day) and STORED ones whose rule was written straight
to the database as an older version let it be saved (every second of every day). From
this process, pinned to CPU 1: `WINDOW_CLIENTS` clients asking for a year's window of that
user's schedules (each expands every schedule, up to its caps) and `LIGHT_CLIENTS` asking
for a schedule by id, for SECONDS, starting right after a monitor report so that one
report covers the load. Its p99 is the figure (target: under 5 ms).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from dataclasses import dataclass, field

import aiohttp
from sqlalchemy import update

from bench.course_sockets import missing_tools
from bench.loop_lag import PORT, monitored_server
from bench.pinned_server import temporary_database
from bench.run import SECRET
from migrations.runner import provision_tenant
from models.identity import Principal
from models.schedules.operations import check_new_schedule, do_create_schedule
from models.schedules.schemas import ScheduleCreate
from models.schedules.tables import Schedule
from models.tenancy import Databases
from web.tokens import mint_token

HEAVY, STORED, SECONDS = 40, 10, 10.0
WINDOW_CLIENTS, LIGHT_CLIENTS = 4, 4
TAIL_SECONDS = 2.0
TARGET_MS = 5.0
OWNER = "bench-recur"
HEAVY_RULE = "FREQ=DAILY;BYHOUR=0,4,8,12,16,20"
STORED_RULE = "FREQ=DAILY;BYHOUR={};BYMINUTE={};BYSECOND={}".format(
    ",".join(str(h) for h in range(24)), *[",".join(str(m) for m in range(60))] * 2
)
WINDOW = "start=2026-01-01T00:00:00Z&end=2027-01-01T00:00:00Z"
SCHEDULES = "/api/lms/schedule/schedules/"


def available() -> str | None:
    return missing_tools(100)


def label(heavy: int, stored: int) -> str:
    return f"recurrence lag, {heavy} heavy + {stored} stored rules"


async def seed(url: str, heavy: int, stored: int) -> int:
    """The schedules (through the domain), the stored rules then written over some of
    them; the id of one, for the light requests."""
    await provision_tenant(url, slug="default")
    databases = Databases.connect(url)
    actor = Principal(user_id=OWNER, tenant="default", roles=frozenset({"student"}))
    try:
        async with databases.tenant_sessions("default").begin() as session:
            ids = []
            for n in range(heavy + stored):
                data = ScheduleCreate.model_validate(
                    {
                        "title": f"Heavy {n}",
                        "start_time": "2025-01-01T00:00:00Z",
                        "end_time": "2025-01-01T00:30:00Z",
                        "timezone": "Europe/Berlin",
                        "recurrence": HEAVY_RULE,
                    }
                )
                change = await check_new_schedule(data)
                ids.append((await do_create_schedule(session, actor=actor, change=change)).id)
            await session.execute(
                update(Schedule).where(Schedule.id.in_(ids[heavy:])).values(recurrence=STORED_RULE)
            )
    finally:
        await databases.dispose()
    return ids[0]


@dataclass
class Timings:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0

    def p99_ms(self) -> float:
        ordered = sorted(self.latencies)
        return ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000 if ordered else 0.0


async def load(base: str, one: int, seconds: float) -> tuple[Timings, Timings]:
    token = mint_token(secret=SECRET, user=OWNER, tenant="default", roles=["student"])
    headers = {"Authorization": f"Bearer {token}"}
    windows, lights = Timings(), Timings()
    deadline = time.perf_counter() + seconds

    async def client(http: aiohttp.ClientSession, url: str, into: Timings) -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            async with http.get(url, headers=headers) as reply:
                await reply.read()
                into.errors += reply.status != 200
            into.latencies.append(time.perf_counter() - started)

    async with aiohttp.ClientSession() as http:
        await asyncio.gather(
            *(client(http, f"{base}{SCHEDULES}?{WINDOW}", windows) for _ in range(WINDOW_CLIENTS)),
            *(client(http, f"{base}{SCHEDULES}{one}/", lights) for _ in range(LIGHT_CLIENTS)),
        )
    return windows, lights


async def main(heavy: int = HEAVY, stored: int = STORED, seconds: float = SECONDS) -> list[str]:
    period = seconds + TAIL_SECONDS
    async with temporary_database("lms_recurrence_lag") as url:
        one = await seed(url, heavy, stored)
        async with monitored_server({"LMS_DATABASE_URL": url}, period) as server:
            cpus = os.sched_getaffinity(0)
            os.sched_setaffinity(0, {1})  # the load off the server's CPU
            try:
                idle = await server.next_report()  # a period begins: the load with it
                windows, lights = await load(f"http://127.0.0.1:{PORT}", one, seconds)
                busy = await server.next_report()
            finally:
                os.sched_setaffinity(0, cpus)
    verdict = "meets" if busy.p99 < TARGET_MS else "MISSES"
    name = label(heavy, stored)
    line = (
        f"{name}: loop lag p99_ms={busy.p99:.2f} p50_ms={busy.p50:.2f} max_ms={busy.max:.2f} "
        f"over {period:g} s ({busy.samples} samples; idle before p99_ms={idle.p99:.2f}); "
        f"{len(windows.latencies)} window GETs, {len(lights.latencies)} light GETs; "
        f"{verdict} the target of p99 < {TARGET_MS:g} ms"
    )
    result = (
        f"{name}: RESULT p99_ms={busy.p99:.2f} p50_ms={busy.p50:.2f} max_ms={busy.max:.2f} "
        f"samples={busy.samples} period_s={period:g} idle_p99_ms={idle.p99:.2f} "
        f"window_rps={len(windows.latencies) / seconds:.2f} "
        f"window_p99_ms={windows.p99_ms():.1f} window_errors={windows.errors} "
        f"light_rps={len(lights.latencies) / seconds:.1f} "
        f"light_p99_ms={lights.p99_ms():.1f} light_errors={lights.errors}"
    )
    print(line)
    print(result)
    return [line, result]


if __name__ == "__main__":
    if (reason := available()) is not None:
        print(f"recurrence lag: not run: {reason}")
        sys.exit(0)
    arguments = sys.argv[1:4]
    if arguments:
        asyncio.run(main(int(arguments[0]), int(arguments[1]), float(arguments[2])))
    else:
        asyncio.run(main())
