"""Load generator for the loop-lag benchmark: REST writes that each hand records and a
notification to the workers, sent at a steady rate.

    taskset -c 1 python -m bench.write_load --base http://127.0.0.1:9198 --secret S \\
        --course 1 --instructor bench-instructor [--writes 1000] [--rate 100]

Writes alternate between an enrollment (a new user `lag-user-<n>` enrolling: an activity
record, an audit record and an `enrollment` event for the course room) and an announcement
by the course's instructor (the same three). Sent on an absolute schedule, `--rate` a
second, at most `--concurrency` at a time, from when a line (`go`) arrives on stdin after it
said READY. Last line:

    WRITES ok=.. errors=.. started=<epoch s> ended=<epoch s> p50_ms=.. p99_ms=.. max_ms=..
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

import aiohttp

from web.tokens import mint_token


async def run(args: argparse.Namespace) -> None:
    def token(user: str, role: str) -> str:
        return mint_token(secret=args.secret, user=user, tenant="default", roles=[role])

    instructor = {"Authorization": f"Bearer {token(args.instructor, 'instructor')}"}
    enroll_url = f"{args.base}/api/lms/courses/enrollments/course/{args.course}/"
    announce_url = f"{args.base}/api/lms/courses/courses/{args.course}/announce/"
    latencies: list[float] = []
    errors = 0
    gate = asyncio.Semaphore(args.concurrency)

    async def write(http: aiohttp.ClientSession, n: int, due: float) -> None:
        nonlocal errors
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        if n % 2 == 0:
            url, body = enroll_url, {}
            headers = {"Authorization": f"Bearer {token(f'lag-user-{n}', 'student')}"}
        else:
            url, body, headers = announce_url, {"title": f"Note {n}", "message": "Hi."}, instructor
        async with gate:
            started = time.perf_counter()
            try:
                async with http.post(url, json=body, headers=headers) as reply:
                    await reply.read()
                    errors += reply.status >= 400
            except aiohttp.ClientError:
                errors += 1
            latencies.append(time.perf_counter() - started)

    connector = aiohttp.TCPConnector(limit=args.concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:
        print("READY", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        begin = time.perf_counter()
        wall = time.time()
        await asyncio.gather(*(write(http, n, begin + n / args.rate) for n in range(args.writes)))
        ended = wall + (time.perf_counter() - begin)
    latencies.sort()
    p = lambda q: latencies[max(0, int(len(latencies) * q) - 1)] * 1000  # noqa: E731
    print(
        f"WRITES ok={len(latencies) - errors} errors={errors} started={wall:.3f} "
        f"ended={ended:.3f} p50_ms={p(0.5):.1f} p99_ms={p(0.99):.1f} max_ms={p(1.0):.1f}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--course", type=int, required=True)
    parser.add_argument("--instructor", required=True)
    parser.add_argument("--writes", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--concurrency", type=int, default=32)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
