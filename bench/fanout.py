"""`make bench` (fan-out): one forum room, 1,000 subscribers, 200 posts over REST.

A server (`lms serve`, SQLite, in-process bus) runs in its own process; the subscribers are
spread over two load processes, the publisher posts from this one at a steady rate. Each
post carries its send time; each subscriber records receive time minus send time. Prints
delivered, lost and the p50/p99 delivery latency (wall clock on one machine, so it includes
the load processes' own queueing).
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import resource
import statistics
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from typing import Any

import aiohttp
import orjson

from bench.run import ROOT, SECRET, UNLIMITED, wait_healthy
from migrations.runner import provision_tenant
from web.tokens import mint_token

SUBSCRIBERS = int(os.environ.get("BENCH_SUBSCRIBERS", "1000"))
POSTS = int(os.environ.get("BENCH_POSTS", "200"))
RATE = float(os.environ.get("BENCH_POST_RATE", "50"))  # posts per second
PROCS = 2
PORT = 9193


def token(user: str, role: str = "student") -> str:
    return mint_token(secret=SECRET, user=user, tenant="default", roles=[role])


async def _subscribe(base: str, forum: int, users: list[str], pipe: Connection) -> None:
    latencies: list[float] = []
    seen: set[tuple[int, int]] = set()
    duplicates = 0
    url = f"{base.replace('http', 'ws')}/ws/lms/forum/{forum}/"
    # A socket holds its connection for good: no pool limit (aiohttp's default is 100).
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        sockets = []
        for user in users:
            ws = await http.ws_connect(url, params={"token": token(user)}, max_msg_size=0)
            while (await ws.receive_json())["type"] != "joined":
                pass
            sockets.append(ws)
        pipe.send("ready")

        async def read(index: int, ws: aiohttp.ClientWebSocketResponse) -> None:
            nonlocal duplicates
            async for message in ws:
                frame = orjson.loads(message.data)
                if frame["type"] != "post":
                    continue
                number, sent = frame["data"]["content"].split(":")[:2]
                latencies.append(time.time() - float(sent))
                key = (index, int(number))
                duplicates += key in seen
                seen.add(key)

        readers = [asyncio.create_task(read(i, ws)) for i, ws in enumerate(sockets)]
        await asyncio.get_running_loop().run_in_executor(None, pipe.recv)  # "stop"
        for ws in sockets:
            await ws.close()
        await asyncio.gather(*readers, return_exceptions=True)
    pipe.send((latencies, duplicates))


def _subscriber_process(base: str, forum: int, users: list[str], pipe: Connection) -> None:
    asyncio.run(_subscribe(base, forum, users, pipe))


async def run(base: str) -> dict[str, Any]:
    admin = {"Authorization": f"Bearer {token('bench-admin', 'admin')}"}
    async with aiohttp.ClientSession(headers=admin) as http:
        async with http.post(
            f"{base}/api/lms/forum/forums/", json={"title": "Fan-out", "description": "bench"}
        ) as response:
            assert response.status == 201, await response.text()
            forum = (await response.json())["id"]
        users = [f"bench-user-{n}" for n in range(SUBSCRIBERS)]
        pipes, procs = [], []
        for p in range(PROCS):
            ours, theirs = mp.Pipe()
            proc = mp.Process(
                target=_subscriber_process, args=(base, forum, users[p::PROCS], theirs)
            )
            proc.start()
            pipes.append(ours)
            procs.append(proc)
        connect_started = time.perf_counter()
        for pipe in pipes:
            await asyncio.get_running_loop().run_in_executor(None, pipe.recv)
        connect_s = time.perf_counter() - connect_started
        started = time.perf_counter()
        for n in range(POSTS):
            await asyncio.sleep(max(0.0, started + n / RATE - time.perf_counter()))
            body = {"forum": forum, "content": f"{n}:{time.time():.6f}:bench"}
            async with http.post(f"{base}/api/lms/forum/posts/", json=body) as response:
                assert response.status == 201, await response.text()
        # Deliveries still in flight get a moment to land, then the subscribers stop.
        await asyncio.sleep(3)
        latencies: list[float] = []
        duplicates = 0
        for pipe in pipes:
            pipe.send("stop")
            got, dup = await asyncio.get_running_loop().run_in_executor(None, pipe.recv)
            latencies += got
            duplicates += dup
        for proc in procs:
            proc.join()
    latencies.sort()
    expected = SUBSCRIBERS * POSTS
    return {
        "subscribers": SUBSCRIBERS,
        "posts": POSTS,
        "rate": RATE,
        "expected": expected,
        "delivered": len(latencies),
        "lost": expected - len(latencies),
        "duplicates": duplicates,
        "connect_s": connect_s,
        "p50_ms": statistics.median(latencies) * 1000 if latencies else float("nan"),
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else float("nan"),
    }


def raise_open_files_limit() -> None:
    """A thousand sockets each side: the usual soft limit of 1,024 files is too low."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def main() -> dict[str, Any]:
    raise_open_files_limit()  # inherited by the server and the subscriber processes
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/lms.db"
        await provision_tenant(url, slug="default")
        env = {
            **os.environ,
            **UNLIMITED,
            "LMS_DATABASE_URL": url,
            "LMS_JWT_SECRET": SECRET,
            "LMS_LOG_LEVEL": "WARNING",
        }
        server = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "web.cli", "serve", "--port", str(PORT), env=env, cwd=ROOT
        )
        try:
            base = f"http://127.0.0.1:{PORT}"
            await wait_healthy(base)
            result = await run(base)
        finally:
            server.terminate()
            await server.wait()
    print(
        "RESULT "
        + " ".join(
            f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}" for k, v in result.items()
        )
    )
    return result


if __name__ == "__main__":
    asyncio.run(main())
