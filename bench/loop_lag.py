"""Event loop lag while writes hand their records and notifications to the workers.

    python -m bench.loop_lag [WRITES RATE]          # default 1000 writes at 100 a second

`lms serve` on PostgreSQL pinned to CPU 0 with the loop lag monitor on
(LMS_LOOP_LAG_REPORT_SECONDS, web/loop_monitor.py); pinned to CPU 1: `bench/write_load.py`
sending the writes (enrollments and announcements, alternately: each hands an activity
record, an audit record and a course event to the workers) and `bench/socket_load.py`
holding `LISTENERS` sockets on the course's notifications room, so the events fan out.

The monitor's report period is set to the burst's length plus `TAIL_SECONDS` and the burst
starts right after a report, so one report covers the burst and the workers' tail: its p99
is the figure (target: under 5 ms). Measured twice: with the embedded worker (a
thread of the server: no Redis), and, when Redis answers at 127.0.0.1:6379, with the Celery
producer (LMS_REDIS_URL) and one `lms worker` pinned to CPU 1.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass, field

import redis.asyncio as aredis

from bench.course_sockets import INSTRUCTOR, missing_tools, seed_course, start_load
from bench.pinned_server import temporary_database
from bench.proc_stats import raise_nofile
from bench.run import ROOT, SECRET, UNLIMITED, wait_healthy

PORT = 9198
WRITES, RATE = 1000, 100.0
LISTENERS = 200
TAIL_SECONDS = 3.0
TARGET_MS = 5.0
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
REPORT = re.compile(
    r"event loop lag over (?P<s>[\d.]+) s: p50 (?P<p50>[\d.]+) ms, p99 (?P<p99>[\d.]+) ms, "
    r"max (?P<max>[\d.]+) ms \((?P<n>\d+) samples\)"
)


def available() -> str | None:
    """Why this scenario cannot run here, or None."""
    return missing_tools(LISTENERS)


@dataclass
class Report:
    at: float  # when it arrived (epoch s): the end of its period
    p50: float
    p99: float
    max: float
    samples: int


@dataclass
class Server:
    pid: int
    reports: list[Report] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def next_report(self) -> Report:
        self.arrived.clear()
        await asyncio.wait_for(self.arrived.wait(), 120)
        return self.reports[-1]


async def _collect(stream: asyncio.StreamReader, server: Server) -> None:
    while raw := await stream.readline():
        match = REPORT.search(raw.decode(errors="replace"))
        if match:
            server.reports.append(
                Report(
                    time.time(),
                    float(match["p50"]),
                    float(match["p99"]),
                    float(match["max"]),
                    int(match["n"]),
                )
            )
            server.arrived.set()


@asynccontextmanager
async def monitored_server(env: dict[str, str], period: float) -> AsyncIterator[Server]:
    """`lms serve` pinned to CPU 0, its loop lag reports read from its log."""
    environment = {**os.environ, **UNLIMITED, **env, "LMS_JWT_SECRET": SECRET}
    environment["LMS_LOG_LEVEL"] = "INFO"
    environment["LMS_LOOP_LAG_REPORT_SECONDS"] = f"{period:g}"
    process = await asyncio.create_subprocess_exec(
        *["taskset", "-c", "0", sys.executable, "-m", "web.cli", "serve", "--port", str(PORT)],
        env=environment,
        cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    server = Server(process.pid)
    collector = asyncio.create_task(_collect(process.stderr, server))
    try:
        await wait_healthy(f"http://127.0.0.1:{PORT}")
        yield server
    finally:
        process.terminate()
        await process.wait()
        collector.cancel()


@asynccontextmanager
async def celery_worker(env: dict[str, str]) -> AsyncIterator[None]:
    environment = {**os.environ, **UNLIMITED, **env, "LMS_JWT_SECRET": SECRET}
    environment["LMS_LOG_LEVEL"] = "WARNING"
    command = ["taskset", "-c", "1", sys.executable, "-m", "web.cli", "worker"]
    process = await asyncio.create_subprocess_exec(
        *command,
        "--concurrency",
        "1",
        env=environment,
        cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        process.terminate()
        await process.wait()


async def scenario(name: str, url: str, writes: int, rate: float, env: dict[str, str]) -> list[str]:
    period = writes / rate + TAIL_SECONDS
    env = {**env, "LMS_DATABASE_URL": url}
    course = await seed_course(url, LISTENERS)
    worker = celery_worker(env) if "LMS_REDIS_URL" in env else nullcontext()
    async with monitored_server(env, period) as server, worker:
        socket_url = f"ws://127.0.0.1:{PORT}/ws/lms/course/{course}/notifications/"
        listeners = await start_load(socket_url, LISTENERS)
        try:
            await listeners.line("CONNECTED")
            writer = await asyncio.create_subprocess_exec(
                *["taskset", "-c", "1", sys.executable, "-m", "bench.write_load"],
                *["--base", f"http://127.0.0.1:{PORT}", "--secret", SECRET],
                *["--course", str(course), "--instructor", INSTRUCTOR],
                *["--writes", str(writes), "--rate", f"{rate:g}"],
                cwd=ROOT,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )
            assert writer.stdin is not None and writer.stdout is not None
            assert (await writer.stdout.readline()).startswith(b"READY")
            idle = await server.next_report()  # a period begins: the burst with it
            writer.stdin.write(b"go\n")
            await writer.stdin.drain()
            done = (await writer.stdout.readline()).decode().strip()
            await writer.wait()
            burst = await server.next_report()
        finally:
            await listeners.quit()
    verdict = "meets" if burst.p99 < TARGET_MS else "MISSES"
    line = (
        f"loop lag, {name}, {writes} writes @ {rate:g}/s, {LISTENERS} listeners: "
        f"p99_ms={burst.p99:.2f} p50_ms={burst.p50:.2f} max_ms={burst.max:.2f} "
        f"(one report over {period:g} s, {burst.samples} samples; idle before: "
        f"p99_ms={idle.p99:.2f}) [{done.removeprefix('WRITES ')}] "
        f"{verdict} the target of p99 < {TARGET_MS:g} ms"
    )
    print(line)
    fields = dict(part.split("=", 1) for part in done.split()[1:] if "=" in part)
    result = (
        f"loop lag, {name}, {writes} writes @ {rate:g}/s: RESULT p99_ms={burst.p99:.2f} "
        f"p50_ms={burst.p50:.2f} max_ms={burst.max:.2f} samples={burst.samples} "
        f"period_s={period:g} idle_p99_ms={idle.p99:.2f} listeners={LISTENERS} "
        f"writes={writes} writes_ok={fields.get('ok', '-')} "
        f"write_errors={fields.get('errors', '-')} write_p99_ms={fields.get('p99_ms', '-')}"
    )
    print(result)
    return [line, result]


async def redis_reachable() -> str | None:
    client = aredis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    except Exception as exc:
        return f"Redis at {REDIS_URL} unreachable: {exc}"
    finally:
        await client.aclose()
    return None


@asynccontextmanager
async def celery_settings(prefix: str) -> AsyncIterator[dict[str, str]]:
    """LMS_ settings for a server publishing to Celery on a queue of this run's own, which
    is deleted afterwards."""
    queue = f"{prefix}-{os.getpid()}"
    try:
        yield {"LMS_REDIS_URL": REDIS_URL, "LMS_CELERY_QUEUE": queue}
    finally:
        client = aredis.Redis.from_url(REDIS_URL)
        await client.delete(queue)
        await client.aclose()


async def embedded_then_celery(
    run: Callable[[str, dict[str, str]], Awaitable[list[str]]],
    *,
    celery_label: str,
    celery_name: str,
    prefix: str,
) -> list[str]:
    """`run("embedded worker", {})`, then, when Redis answers, `run(celery_name, env)` with a
    Celery worker's settings (queue and Redis database of `prefix`); the Celery run's line
    says why it did not run otherwise."""
    lines = await run("embedded worker", {})
    reason = await redis_reachable()
    if reason is not None:
        lines.append(f"{celery_label}: not run: {reason}")
        print(lines[-1])
        return lines
    async with celery_settings(prefix) as env:
        lines += await run(celery_name, env)
    return lines


async def main(writes: int = WRITES, rate: float = RATE) -> list[str]:
    raise_nofile()
    lines: list[str] = []
    async with temporary_database("lms_loop_lag") as url:
        lines += await scenario("embedded worker", url, writes, rate, {})
    reason = await redis_reachable()
    if reason is not None:
        lines.append(f"loop lag, Celery producer: not run: {reason}")
        print(lines[-1])
        return lines
    async with (
        celery_settings("lms-bench-lag") as env,
        temporary_database("lms_loop_lag_celery") as url,
    ):
        lines += await scenario("Celery producer", url, writes, rate, env)
    return lines


if __name__ == "__main__":
    if (reason := available()) is not None:
        print(f"loop lag: not run: {reason}")
        sys.exit(0)
    arguments = sys.argv[1:3]
    asyncio.run(main(int(arguments[0]), float(arguments[1])) if arguments else main())
