"""Fan-out as the peers were measured: the shared `ws_fanout.py` against one forum room.

    python -m bench.ws_pinned [SUBSCRIBERS MESSAGES RATE]     # default 1000 200 50

`lms serve` on PostgreSQL pinned to CPU 0, the load tool pinned to CPU 1 with
`--server-pid`, so it reports server CPU microseconds per delivery. Posts go over the
socket and are stored, as the contract says. The publisher sends `RATE` frames a second,
so the server allows that many (`LMS_WS_FRAMES_PER_SECOND`), as a deployment would.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path

import aiohttp
import asyncpg

from bench.run import ROOT, SECRET, wait_healthy
from migrations.runner import provision_tenant
from web.tokens import mint_token

FANOUT = Path(os.environ.get("BENCH_SHARED", ROOT.parent / "shared" / "bench")) / "ws_fanout.py"
ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
PORT = 9196


def available() -> str | None:
    """Why this scenario cannot run here, or None."""
    if not FANOUT.exists():
        return f"{FANOUT} not found (BENCH_SHARED names the shared bench folder)"
    if not shutil.which("taskset"):
        return "taskset is needed"
    return None


async def main(subscribers: str, messages: str, rate: str) -> str:
    database = f"lms_ws_pinned_{os.getpid()}"
    admin = await asyncpg.connect(ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{database}"')
    await admin.close()
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{database}"
    try:
        await provision_tenant(url, slug="default")
        env = {**os.environ, "LMS_DATABASE_URL": url, "LMS_JWT_SECRET": SECRET}
        env.update(LMS_LOG_LEVEL="WARNING", LMS_WS_FRAMES_PER_SECOND=str(float(rate) * 2))
        server = await asyncio.create_subprocess_exec(
            *["taskset", "-c", "0", sys.executable, "-m", "web.cli", "serve", "--port", str(PORT)],
            env=env,
            cwd=ROOT,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{PORT}"
            await wait_healthy(base)
            token = mint_token(secret=SECRET, user="bench-admin", tenant="default", roles=["admin"])
            headers = {"Authorization": f"Bearer {token}"}
            async with aiohttp.ClientSession(headers=headers) as http:
                body = {"title": "Fan-out"}
                async with http.post(f"{base}/api/lms/forum/forums/", json=body) as response:
                    forum = (await response.json())["id"]
            tool = await asyncio.create_subprocess_exec(
                *["taskset", "-c", "1", sys.executable, str(FANOUT)],
                *["--url", f"ws://127.0.0.1:{PORT}/ws/lms/forum/{forum}/", "--token", token],
                *["--subscribers", subscribers, "--messages", messages, "--rate", rate],
                *["--server-pid", str(server.pid)],
                stdout=asyncio.subprocess.PIPE,
            )
            out, _ = await tool.communicate()
            line = f"fan-out {subscribers} x {messages} @ {rate}/s: "
            line += out.decode().strip().splitlines()[-1]
            print(line)
        finally:
            server.terminate()
            await server.wait()
    finally:
        admin = await asyncpg.connect(ADMIN_DSN)
        await admin.execute(f'DROP DATABASE "{database}" WITH (FORCE)')
        await admin.close()
    return line


if __name__ == "__main__":
    args = sys.argv[1:] or ["1000", "200", "50"]
    asyncio.run(main(*args))
