"""The course endpoints as the peers were measured (docs/benchmarks.md): the server
pinned to CPU 0, wrk (the shared `http_list.sh`, `http_create.sh`, `report.lua`) pinned to
CPU 1, PostgreSQL with 1,000 courses: the list per QUERY, then one course's detail, then
create (which adds rows, so it comes last; BENCH_DETAIL_AND_CREATE=0 leaves both out).

    python -m bench.pinned [QUERY ...]      # default: page=3 and page=3&level=Beginner

Needs wrk, taskset and the peer checkout (BENCH_SHARED, see bench/run.py); prints the
tools' RESULT lines.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys

from bench.pinned_server import pinned_server, temporary_database
from bench.run import SHARED, seed

HTTP_LIST = SHARED / "http_list.sh"
HTTP_CREATE = SHARED / "http_create.sh"
REPORT = SHARED / "report.lua"
PORT = 9195
SECONDS = os.environ.get("BENCH_SECONDS", "10")
# Detail and create run after the lists (create adds rows: the lists come first).
DETAIL_AND_CREATE = os.environ.get("BENCH_DETAIL_AND_CREATE", "1") == "1"


async def _last_line(command: list[str], env: dict[str, str]) -> str:
    process = await asyncio.create_subprocess_exec(
        *command, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
    )
    out, _ = await process.communicate()
    return out.decode().strip().splitlines()[-1]


async def wrk(base: str, token: str, query: str, seconds: str) -> str:
    command = ["taskset", "-c", "1", "bash", str(HTTP_LIST), base, token, seconds, "64"]
    return await _last_line(command, {**os.environ, "LIST_QUERY": query})


async def wrk_detail(base: str, token: str, course_id: int, seconds: str) -> str:
    """GET one course, with the shared tools' report script (same RESULT line)."""
    url = f"{base}/api/lms/courses/courses/{course_id}/"
    command = ["taskset", "-c", "1", "wrk", "-t1", "-c64", f"-d{seconds}s", "--latency"]
    command += ["-H", f"Authorization: Bearer {token}", "-s", str(REPORT), url]
    return await _last_line(command, {**os.environ, "BENCH_DIR": str(SHARED)})


async def wrk_create(base: str, token: str, seconds: str) -> str:
    command = ["taskset", "-c", "1", "bash", str(HTTP_CREATE), base, token, seconds, "64"]
    return await _last_line(command, dict(os.environ))


def available() -> str | None:
    """Why this scenario cannot run here, or None."""
    if not HTTP_LIST.exists():
        return f"{HTTP_LIST} not found (BENCH_SHARED names the shared bench folder)"
    if not (shutil.which("wrk") and shutil.which("taskset")):
        return "wrk and taskset are needed (Debian: apt-get install wrk util-linux)"
    return None


async def main(queries: list[str]) -> list[str]:
    lines = []
    async with temporary_database("lms_pinned") as url:
        await seed(url, 1000)
        async with pinned_server(url, PORT) as server:
            base, token = server.base, server.admin_token
            for query in queries:
                await wrk(base, token, query, "3")  # warm-up
                lines.append(f"course list ?{query}: {await wrk(base, token, query, SECONDS)}")
                print(lines[-1])
            if DETAIL_AND_CREATE:
                lines.append(f"course detail: {await wrk_detail(base, token, 500, SECONDS)}")
                print(lines[-1])
                lines.append(f"course create: {await wrk_create(base, token, SECONDS)}")
                print(lines[-1])
    return lines


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:] or ["page=3", "page=3&level=Beginner"]))
