"""`make bench`: the course list and course create over HTTP, against a server in its own process.

The server runs `lms serve` on a fresh database seeded with 1,000 published courses; the load
comes from this process (aiohttp, 64 connections). Results are printed and appended to
`bench/results/<date>.md` with the command that produced them. Figures are only comparable
within one run on one machine.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from migrations.runner import provision_tenant
from models.courses.operations import check_new_course, do_create_course
from models.courses.schemas import CourseCreate
from models.identity import Principal
from models.tenancy import Databases
from models.unit_of_work import unit_of_work
from web.tokens import mint_token

ROOT = Path(__file__).resolve().parent.parent
# A checkout of the peer implementations and their load tools (read only): its bench/
# folder holds run_peers.sh, the wrk scripts and ws_fanout.py, and its peers/ sits beside.
# The one place its location is set; BENCH_SHARED overrides it (docs/benchmarks.md).
SHARED = Path(os.environ.get("BENCH_SHARED", ROOT.parent / "shared" / "bench"))
SECRET = "bench-secret-long-enough-for-hs256-signatures!!"
CONNECTIONS = 64
SECONDS = float(os.environ.get("BENCH_SECONDS", "8"))
LEVELS = ("Beginner", "Intermediate", "Advanced")
# Every benchmark measures the service without its rate limits (one client would exhaust
# any budget); what the limiter costs a request is measured apart (bench/ratelimit_cost.py).
UNLIMITED = {"LMS_RATE_LIMITS": "off"}


async def seed(url: str, count: int) -> None:
    await provision_tenant(url, slug="default")
    databases = Databases.connect(url)
    actor = Principal(user_id="bench-instructor", tenant="default", roles=frozenset({"instructor"}))
    reads = databases.tenant_reads("default")
    for n in range(count):  # each in its own unit: the row goes in with the unit's commit
        async with unit_of_work(databases, "default") as unit:
            data = CourseCreate(
                title=f"Course {n}",
                code=f"B{n:05d}",
                level=LEVELS[n % 3],
                status="Published",
                price="49.99",
                short_description="A course used by the benchmark.",
            )
            new = await check_new_course(unit.session, reads, actor=actor, data=data)
            await do_create_course(unit.session, actor=actor, new=new)
    await databases.dispose()


async def load(
    url: str,
    token: str,
    *,
    method: str = "GET",
    body_for: Callable[[int], dict[str, Any]] | None = None,
) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + SECONDS
    counter = iter(range(10**9))
    headers = {"Authorization": f"Bearer {token}"}

    async def worker(http: aiohttp.ClientSession) -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            body = body_for(next(counter)) if body_for else None
            async with http.request(method, url, headers=headers, json=body) as response:
                await response.read()
                if response.status >= 400:
                    errors += 1
            latencies.append(time.perf_counter() - started)

    connector = aiohttp.TCPConnector(limit=CONNECTIONS)
    async with aiohttp.ClientSession(connector=connector) as http:
        await asyncio.gather(*(worker(http) for _ in range(CONNECTIONS)))
    latencies.sort()
    return {
        "requests_per_s": len(latencies) / SECONDS,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "errors": errors,
    }


async def wait_healthy(base: str) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(200):
            try:
                async with http.get(f"{base}/health/lms/") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("server did not start")


async def bench_backend(name: str, url: str, port: int) -> list[tuple[str, dict[str, float]]]:
    await seed(url, 1000)
    env = {
        **os.environ,
        **UNLIMITED,
        "LMS_DATABASE_URL": url,
        "LMS_JWT_SECRET": SECRET,
        "LMS_LOG_LEVEL": "WARNING",
    }
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "web.cli", "serve", "--port", str(port), env=env, cwd=ROOT
    )
    try:
        base = f"http://127.0.0.1:{port}"
        await wait_healthy(base)
        token = mint_token(secret=SECRET, user="bench-admin", tenant="default", roles=["admin"])
        courses = f"{base}/api/lms/courses/courses/"
        results = [
            (f"{name}: course list ?page=3", await load(courses + "?page=3", token)),
            (
                f"{name}: course list ?page=3&level=Beginner",
                await load(courses + "?page=3&level=Beginner", token),
            ),
            (
                f"{name}: course create",
                await load(
                    courses,
                    token,
                    method="POST",
                    body_for=lambda n: {
                        "title": f"Bench {n}",
                        "code": f"N{n:07d}",
                        "level": "Beginner",
                        "price": "10.00",
                    },
                ),
            ),
        ]
    finally:
        server.terminate()
        await server.wait()
    return results


async def main() -> None:
    rows: list[tuple[str, dict[str, float]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        rows += await bench_backend("sqlite", f"sqlite+aiosqlite:///{tmp}/lms.db", 9191)
    pg = os.environ.get(
        "BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
    )
    import asyncpg

    admin_dsn = pg.replace("+asyncpg", "")
    dbname = f"lms_bench_{os.getpid()}"
    try:
        connection = await asyncpg.connect(admin_dsn, timeout=5)
        await connection.execute(f'CREATE DATABASE "{dbname}"')
        await connection.close()
    except (OSError, asyncpg.PostgresError) as exc:
        print(f"PostgreSQL unreachable, only SQLite measured: {exc}")
    else:
        try:
            rows += await bench_backend("postgres", pg.rsplit("/", 1)[0] + f"/{dbname}", 9192)
        finally:
            connection = await asyncpg.connect(admin_dsn, timeout=5)
            await connection.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
            await connection.close()
    report(rows)


def report(rows: list[tuple[str, dict[str, float]]]) -> None:
    stamp = datetime.now(UTC)
    lines = [
        f"## {stamp:%Y-%m-%d %H:%M} UTC: `make bench` ({CONNECTIONS} connections, "
        f"{SECONDS:g} s each, server and load on the same {os.cpu_count()}-core machine, "
        "unpinned)",
        "",
        "| scenario | requests/s | p50 ms | p99 ms | errors |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, r in rows:
        lines.append(
            f"| {name} | {r['requests_per_s']:.0f} | {r['p50_ms']:.1f} "
            f"| {r['p99_ms']:.1f} | {r['errors']:.0f} |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    with open(results / f"{stamp:%Y-%m-%d}.md", "a") as handle:
        handle.write(text + "\n")


if __name__ == "__main__":
    asyncio.run(main())
