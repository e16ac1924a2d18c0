"""Memory per idle socket: 10,000 users each on a course's notifications socket, silent.

    python -m bench.idle_sockets [SOCKETS]        # default 10000

`lms serve` on PostgreSQL pinned to CPU 0; `bench/socket_load.py` pinned to CPU 1 opens one
socket per enrolled user (distinct users and tokens, as in a deployment) and holds them.
The figure is the server's RSS growth from before the first socket to a few seconds after
the last joined, divided by the sockets (as `ws_fanout.py`'s `kb_per_conn`), on a freshly
started server; beside it, the growth from a fifth of the sockets to all of them divided by
the sockets added, which leaves out one-time warm-up (database pool, caches).
Target (docs/benchmarks.md): at most 20 KB per socket; the bare aiohttp peer uses
15 KB, Channels 44-52 KB.
"""

from __future__ import annotations

import asyncio
import sys

from bench.course_sockets import missing_tools, seed_course, start_load
from bench.pinned_server import pinned_server, temporary_database
from bench.proc_stats import raise_nofile, rss_kb

PORT = 9197
SOCKETS = 10_000
TARGET_KB = 20.0
SETTLE_SECONDS = 5.0


def available() -> str | None:
    """Why this scenario cannot run here, or None."""
    return missing_tools(SOCKETS)


async def main(sockets: int = SOCKETS) -> list[str]:
    raise_nofile()
    async with temporary_database("lms_idle_sockets") as url:
        course = await seed_course(url, sockets)
        async with pinned_server(url, PORT) as server:
            await asyncio.sleep(SETTLE_SECONDS)  # start-up allocations settle
            base_kb = rss_kb(server.pid)
            socket_url = f"ws://127.0.0.1:{PORT}/ws/lms/course/{course}/notifications/"
            first = sockets // 5
            load = await start_load(socket_url, sockets, "--pause-at", str(first))
            try:
                partial = await load.line("PARTIAL", 600)
                await asyncio.sleep(SETTLE_SECONDS)
                partial_kb = rss_kb(server.pid)
                await load.command("more")
                connected = await load.line("CONNECTED", 600)
                await asyncio.sleep(SETTLE_SECONDS)  # handshakes' leftovers and tasks settle
                await load.command("status")
                still_open = await load.line("OPEN")
                rss = rss_kb(server.pid)
            finally:
                await load.quit()
    ok = int(connected.split("ok=")[1].split()[0])
    ok_first = int(partial.split("ok=")[1].split()[0])
    per_socket = (rss - base_kb) / max(ok, 1)
    # The slope between the two counts leaves out what the first sockets warm up once
    # (the database pool's connections, caches): what one more socket costs.
    marginal = (rss - partial_kb) / max(ok - ok_first, 1)
    verdict = "meets" if per_socket <= TARGET_KB and ok == sockets else "MISSES"
    line = (
        f"idle sockets {sockets}: kb_per_socket={per_socket:.1f} "
        f"kb_per_socket_{ok_first}_to_{ok}={marginal:.1f} "
        f"rss_base_mb={base_kb / 1024:.1f} rss_mb={rss / 1024:.1f} "
        f"({connected.removeprefix('CONNECTED ')}; {still_open.removeprefix('OPEN ')} open "
        f"after {SETTLE_SECONDS:g} s) {verdict} the target of <= {TARGET_KB:g} KB per socket"
    )
    print(line)
    failed = int(connected.split("failed=")[1].split()[0])
    result = (
        f"idle sockets {sockets}: RESULT sockets={sockets} connected={ok} failed={failed} "
        f"open={still_open.split('n=')[1].split()[0]} kb_per_socket={per_socket:.2f} "
        f"kb_per_socket_marginal={marginal:.2f} marginal_from={ok_first} "
        f"rss_base_mb={base_kb / 1024:.1f} rss_partial_mb={partial_kb / 1024:.1f} "
        f"rss_mb={rss / 1024:.1f}"
    )
    print(result)
    return [line, result]


if __name__ == "__main__":
    if (reason := available()) is not None:
        print(f"idle sockets: not run: {reason}")
        sys.exit(0)
    asyncio.run(main(*(int(a) for a in sys.argv[1:2])))
