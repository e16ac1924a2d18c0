"""`make bench` (pinned part): the course list and the fan-out measured as the peers were
(server on CPU 0, the shared load tools on CPU 1), appended to bench/results/<date>.md with
the peers' recorded figures beside them. A scenario whose tools are missing says why."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from bench import pinned, ws_pinned
from bench.run import ROOT

PEERS = (
    "Peers recorded on this kind of machine (../shared/bench/RESULTS.md): course list DRF "
    "240-431 req/s, bare aiohttp + asyncpg 3,362; fan-out Channels 200-290 us per delivery, "
    "bare aiohttp 7-9 us, p99 42 ms."
)


async def measure() -> list[str]:
    lines: list[str] = []
    reason = pinned.available()
    if reason is None:
        lines += await pinned.main(["page=3", "page=3&level=Beginner"])
    else:
        lines.append(f"course list pinned: skipped, {reason}")
    reason = ws_pinned.available()
    if reason is None:
        lines.append(await ws_pinned.main("1000", "200", "50"))
        lines.append(await ws_pinned.main("5000", "40", "2"))
    else:
        lines.append(f"fan-out pinned: skipped, {reason}")
    return lines


def main() -> None:
    lines = asyncio.run(measure())
    stamp = datetime.now(UTC)
    text = "\n".join(
        [
            f"## {stamp:%Y-%m-%d %H:%M} UTC: `make bench`, pinned (server CPU 0, load CPU 1)",
            "",
            "```",
            *lines,
            "```",
            "",
            PEERS,
            "",
        ]
    )
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    with open(results / f"{stamp:%Y-%m-%d}.md", "a") as handle:
        handle.write(text + "\n")


if __name__ == "__main__":
    main()
