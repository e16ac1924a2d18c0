"""Load generator for the socket benchmarks: many users, one socket each, held open.

    taskset -c 1 python -m bench.socket_load --secret S --users 10000 \
        --url ws://127.0.0.1:9197/ws/lms/course/1/notifications/ \
        [--prefix bench-user-] [--expect announcement] [--timeout 30]

Each user `<prefix><n>` (n from 0) gets its own token (tenant `default`, role student) and
opens one socket; a socket counts as connected once the server said `joined`. Then it
prints one line and follows commands on stdin:

    CONNECTED ok=.. failed=.. seconds=..

(with `--pause-at N`, `PARTIAL ok=.. failed=..` after the first N, and the rest once a line
arrives on stdin)
    status  ->  OPEN n=..                        (sockets the server has not closed)
    quit    ->  CLOSED                            (and exits; so does end of input)

With `--expect TYPE` it also notes when each socket first receives a frame of that type
and, once all have (or `--timeout` seconds after the first one), prints

    RECEIVED got=.. of=.. first=<epoch s> last=<epoch s>

Wall clock on one machine, so the caller subtracts its own send time. Nothing here knows
about the server beyond the socket protocol (docs/realtime.md).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import time

import aiohttp
import orjson

from bench.proc_stats import raise_nofile
from web.tokens import mint_token

HANDSHAKES_IN_FLIGHT = 64


class Load:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.sockets: list[aiohttp.ClientWebSocketResponse] = []
        self.failed = 0
        self.arrivals: list[float] = []
        self.all_arrived = asyncio.Event()
        self.first_arrived = asyncio.Event()
        self.readers: list[asyncio.Task[None]] = []

    async def connect_one(
        self, http: aiohttp.ClientSession, n: int, gate: asyncio.Semaphore
    ) -> None:
        args = self.args
        token = mint_token(
            secret=args.secret,
            user=f"{args.prefix}{n}",
            tenant="default",
            roles=["student"],
            ttl_seconds=24 * 3600,
        )
        async with gate:
            for _ in range(3):
                try:
                    ws = await http.ws_connect(
                        args.url, params={"token": token}, autoping=True, heartbeat=None
                    )
                    first = await ws.receive(timeout=60)
                except (aiohttp.ClientError, TimeoutError, OSError):
                    continue
                if first.type is aiohttp.WSMsgType.TEXT and '"joined"' in first.data:
                    self.sockets.append(ws)
                    self.readers.append(asyncio.create_task(self.read(ws)))
                    return
                await ws.close()
        self.failed += 1

    async def read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        expect = self.args.expect
        seen = False
        async for message in ws:
            if expect is None or seen or message.type is not aiohttp.WSMsgType.TEXT:
                continue
            if orjson.loads(message.data).get("type") == expect:
                seen = True
                self.arrivals.append(time.time())
                self.first_arrived.set()
                if len(self.arrivals) == len(self.sockets):
                    self.all_arrived.set()

    async def report_arrivals(self) -> None:
        await self.first_arrived.wait()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.all_arrived.wait(), self.args.timeout)
        got = len(self.arrivals)
        print(
            f"RECEIVED got={got} of={len(self.sockets)} "
            f"first={min(self.arrivals):.6f} last={max(self.arrivals):.6f}",
            flush=True,
        )

    async def run(self) -> None:
        args = self.args
        loop = asyncio.get_running_loop()
        self.stdin = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(self.stdin), sys.stdin)
        connector = aiohttp.TCPConnector(limit=0, force_close=True)
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=30)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
            gate = asyncio.Semaphore(HANDSHAKES_IN_FLIGHT)
            started = time.perf_counter()
            first = min(args.pause_at or args.users, args.users)
            await asyncio.gather(*(self.connect_one(http, n, gate) for n in range(first)))
            if first < args.users:
                print(f"PARTIAL ok={len(self.sockets)} failed={self.failed}", flush=True)
                await self.stdin.readline()  # any line: go on
                more = range(first, args.users)
                await asyncio.gather(*(self.connect_one(http, n, gate) for n in more))
            seconds = time.perf_counter() - started
            print(
                f"CONNECTED ok={len(self.sockets)} failed={self.failed} seconds={seconds:.1f}",
                flush=True,
            )
            reporter = asyncio.create_task(self.report_arrivals()) if args.expect else None
            await self.commands()
            if reporter is not None:
                reporter.cancel()
            await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)
            for reader in self.readers:
                reader.cancel()
            print("CLOSED", flush=True)

    async def commands(self) -> None:
        while line := (await self.stdin.readline()).decode().strip():
            if line == "status":
                still = sum(1 for ws in self.sockets if not ws.closed)
                print(f"OPEN n={still}", flush=True)
            elif line == "quit":
                return


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--users", type=int, required=True)
    parser.add_argument("--prefix", default="bench-user-")
    parser.add_argument("--expect", default=None, help="a frame type to time the arrival of")
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument(
        "--pause-at", type=int, default=0, help="say PARTIAL after this many; go on at a line"
    )
    args = parser.parse_args()
    raise_nofile()
    asyncio.run(Load(args).run())


if __name__ == "__main__":
    main()
