"""Fan-out as the peers were measured: the shared `ws_fanout.py` against one forum room.

    python -m bench.ws_pinned [SUBSCRIBERS MESSAGES RATE [lean]]     # default 1000 200 50

With `lean`, the load tool is `bench/ws_lean.py` instead (frames read where they arrive;
why in its docstring), and the line's label says so.

`lms serve` on PostgreSQL pinned to CPU 0, the load tool pinned to CPU 1 with
`--server-pid`, so it reports server CPU microseconds per delivery. Posts go over the
socket and are stored, as the contract says. The publisher sends `RATE` frames a second,
so the server allows that many (`LMS_WS_FRAMES_PER_SECOND`), as a deployment would.
"""

from __future__ import annotations

import asyncio
import shutil
import sys

import aiohttp

from bench.pinned_server import pinned_server, temporary_database
from bench.report import LEAN_READER
from bench.run import ROOT, SHARED
from migrations.runner import provision_tenant

FANOUT = SHARED / "ws_fanout.py"
PORT = 9196
LEAN = "lean"


def available(tool: str = "shared") -> str | None:
    """Why this scenario cannot run here, or None."""
    if tool != LEAN and not FANOUT.exists():
        return f"{FANOUT} not found (BENCH_SHARED names the shared bench folder)"
    if not shutil.which("taskset"):
        return "taskset is needed"
    return None


def load_tool(tool: str) -> list[str]:
    """The command that runs the fan-out load tool: the shared one, or `lean`."""
    if tool == LEAN:
        return [sys.executable, "-m", "bench.ws_lean"]
    return [sys.executable, str(FANOUT)]


def label(subscribers: str, messages: str, rate: str, tool: str) -> str:
    suffix = f", {LEAN_READER}" if tool == LEAN else ""
    return f"fan-out {subscribers} x {messages} @ {rate}/s{suffix}"


async def main(subscribers: str, messages: str, rate: str, tool: str = "shared") -> str:
    async with temporary_database("lms_ws_pinned") as url:
        await provision_tenant(url, slug="default")
        frames_per_second = str(float(rate) * 2)
        async with pinned_server(url, PORT, LMS_WS_FRAMES_PER_SECOND=frames_per_second) as server:
            headers = {"Authorization": f"Bearer {server.admin_token}"}
            async with aiohttp.ClientSession(headers=headers) as http:
                body = {"title": "Fan-out"}
                async with http.post(f"{server.base}/api/lms/forum/forums/", json=body) as reply:
                    forum = (await reply.json())["id"]
            process = await asyncio.create_subprocess_exec(
                *["taskset", "-c", "1", *load_tool(tool)],
                *["--url", f"ws://127.0.0.1:{PORT}/ws/lms/forum/{forum}/"],
                *["--token", server.admin_token, "--server-pid", str(server.pid)],
                *["--subscribers", subscribers, "--messages", messages, "--rate", rate],
                stdout=asyncio.subprocess.PIPE,
                cwd=ROOT,
            )
            out, _ = await process.communicate()
    line = f"{label(subscribers, messages, rate, tool)}: "
    line += out.decode().strip().splitlines()[-1]
    print(line)
    return line


if __name__ == "__main__":
    args = sys.argv[1:] or ["1000", "200", "50"]
    asyncio.run(main(*args))
