"""`make bench` (pinned part): the peers and our service measured in one run, in turn, as
the peers were measured (server on CPU 0, the load tools on CPU 1), then a section with
their figures side by side, the ratios and the performance targets appended to
bench/results/<date>.md. Something that cannot run says why there; nothing crashes the run.

Order (sequential, never concurrent): the peers (`bench/peers.py`, run_peers.sh), the best
DRF deployment again at a fixed offered rate (`bench/paced.py`), then our scenarios: the
course endpoints, the paced list, every route family (`bench/routes.py`), the fan-out,
then idle sockets (`bench/idle_sockets.py`), event-loop lag under writes
(`bench/loop_lag.py`), an announcement to 5,000 users (`bench/announce.py`), the same
announcement through the 5,000 users' notification inboxes, until every row is stored and
until the last of their own sockets has it, with the loop's lag meanwhile
(`bench/inbox_fanout.py`), event-loop lag while heavy recurrence rules are expanded
(`bench/recurrence_lag.py`), a bulk enrollment of 10,000 rows and the loop's lag meanwhile
(`bench/bulk_enroll.py`), 500 learners taking one timed quiz at once (start, 10 autosaves,
submit: `bench/quiz_attempts.py`), the rate limiter's cost per request (`bench/ratelimit_cost.py`)
and what the hand-built socket frame saves per delivery (`bench/wire_cost.py`).

A scenario is an async function returning `<label>: RESULT k=v ...` lines (or a line
saying why it was skipped); add one to `scenarios()` and its lines land in the raw block.
A line saying `: not run: ` (a mode needing Redis, say) is listed at the top as well.
"""

from __future__ import annotations

import asyncio
import os
import traceback
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from bench import (
    announce,
    bulk_enroll,
    idle_sockets,
    inbox_fanout,
    loop_lag,
    paced,
    peers,
    pinned,
    quiz_attempts,
    ratelimit_cost,
    recurrence_lag,
    routes,
    wire_cost,
    ws_pinned,
)
from bench.report import PACED, best_drf, parse_labelled, render
from bench.run import ROOT

Scenario = Callable[[], Awaitable[list[str]]]
KNOBS = (
    *("BENCH_PEERS", "BENCH_SECONDS", "BENCH_PACED_RPS", "BENCH_DETAIL_AND_CREATE"),
    *("BENCH_SHARED", "BENCH_RESULTS_DIR", "PEERS_VENV", "BENCH_REDIS_URL"),
    *("HTTP_DURATION", "WS_MSGS", "WS_LOW_MSGS", "SKIP_WSLOW", "BENCH_ROUTE_SECONDS"),
)


async def course_endpoints() -> list[str]:
    reason = pinned.available()
    if reason is not None:
        return [f"course list pinned: skipped, {reason}"]
    return await pinned.main(["page=3", "page=3&level=Beginner"])


async def fanout() -> list[str]:
    """Both sizes, each read by the shared tool and by ours (the lean one needs no
    peer checkout, so it still runs without one)."""
    lines = []
    for size in (("1000", "200", "50"), ("5000", "40", "2")):
        for tool in ("shared", ws_pinned.LEAN):
            reason = ws_pinned.available(tool)
            if reason is None:
                lines.append(await ws_pinned.main(*size, tool))
            else:
                lines.append(f"{ws_pinned.label(*size, tool)}: skipped, {reason}")
    return lines


# Bare aiohttp under the fan-outs run_peers.sh does not run: (size, load tool, phase).
BARE_FANOUTS = (
    (("1000", "200", "50"), ws_pinned.LEAN, "ws_lean"),
    (("5000", "40", "2"), "shared", "ws5k"),
    (("5000", "40", "2"), ws_pinned.LEAN, "ws5k_lean"),
)


def guarded(label: str, available: Callable[[], str | None], run: Scenario) -> Scenario:
    """`run` unless `available()` gives a reason; a failure becomes a skipped line."""

    async def scenario() -> list[str]:
        reason = available()
        if reason is not None:
            return [f"{label}: skipped, {reason}"]
        try:
            return await run()
        except Exception as exc:  # one scenario's failure does not end the run
            traceback.print_exc()
            return [f"{label}: skipped, it failed: {type(exc).__name__}: {exc}"]

    return scenario


IDLE_SOCKETS = guarded("idle sockets", idle_sockets.available, idle_sockets.main)
LOOP_LAG = guarded("loop lag", loop_lag.available, loop_lag.main)
ANNOUNCE = guarded("announce", announce.available, announce.main)
INBOX_FANOUT = guarded("inbox fan-out", inbox_fanout.available, inbox_fanout.main)
RECURRENCE_LAG = guarded("recurrence lag", recurrence_lag.available, recurrence_lag.main)
BULK_ENROLL = guarded("bulk enroll", bulk_enroll.available, bulk_enroll.main)
QUIZ_ATTEMPTS = guarded("quiz attempts", quiz_attempts.available, quiz_attempts.scenario)
# The rate limiter's own cost (in process, memory and Redis buckets); every server above
# runs with LMS_RATE_LIMITS=off.
RATELIMIT_COST = guarded(ratelimit_cost.LABEL, lambda: None, ratelimit_cost.main)
WIRE_COST = guarded(wire_cost.LABEL, lambda: None, wire_cost.main)
# Every route family: req/s, CPU and database round trips per request (bench/routes.py).
ROUTES = guarded("routes", routes.available, routes.main)


def paced_ours(rps: float | None) -> Scenario:
    async def scenario() -> list[str]:
        if rps is None:
            return [f"{PACED}: skipped, no DRF list figure from this run for the rate"]
        return await paced.ours(rps)

    return scenario


def scenarios(rps: float | None) -> list[Scenario]:
    """Our scenarios, in order."""
    return [
        *(course_endpoints, paced_ours(rps), ROUTES, fanout, IDLE_SOCKETS, LOOP_LAG, ANNOUNCE),
        INBOX_FANOUT,
        RECURRENCE_LAG,
        BULK_ENROLL,
        QUIZ_ATTEMPTS,
        RATELIMIT_COST,
        WIRE_COST,
    ]


async def measure() -> tuple[peers.PeerRun, list[str]]:
    """The peers (and the best DRF one paced), then ours: the peers' run and our lines."""
    peer_run = await peers.run()
    rps = paced.rate(peer_run.figures)
    best = best_drf(peer_run.figures)
    if rps is not None and best is not None and peer_run.out_dir is not None:
        line = await paced.peer(best[0], rps, peer_run.out_dir)
        peer_run.lines.append(line)
        result = parse_labelled([line]).get(f"{best[0]}.paced")
        if result is not None:
            peer_run.figures[best[0]]["paced"] = result
    if "bare" in peer_run.figures and peer_run.out_dir is not None:
        for size, tool, phase in BARE_FANOUTS:
            line = await peers.bare_fanout(peer_run.out_dir, *size, tool, phase)
            print(line)
            peer_run.lines.append(line)
            result = parse_labelled([line]).get(f"bare.{phase}")
            if result is not None:
                peer_run.figures["bare"][phase] = result
    lines: list[str] = []
    for scenario in scenarios(rps):
        lines += await scenario()
    return peer_run, lines


def is_note(line: str) -> bool:
    """A line saying why something did not run, for the top of the section."""
    return ": skipped, " in line or ": not run: " in line


def command() -> str:
    knobs = [f"{name}={os.environ[name]!r}" for name in KNOBS if name in os.environ]
    return " ".join([*knobs, "make bench"])


def main() -> None:
    peer_run, lines = asyncio.run(measure())
    stamp = datetime.now(UTC)
    raw = [*peer_run.lines, *lines]
    notes = [*peer_run.notes, *(line for line in raw if is_note(line))]
    text = render(
        title=f"{stamp:%Y-%m-%d %H:%M} UTC: `make bench`, pinned (server CPU 0, load CPU 1), "
        "peers from the same run",
        command=command(),
        notes=notes,
        ours=parse_labelled(lines),
        peers=peer_run.figures,
        raw=raw,
    )
    print(text)
    results = Path(os.environ.get("BENCH_RESULTS_DIR", ROOT / "bench" / "results"))
    results.mkdir(parents=True, exist_ok=True)
    with open(results / f"{stamp:%Y-%m-%d}.md", "a") as handle:
        handle.write(text + "\n")


if __name__ == "__main__":
    main()
