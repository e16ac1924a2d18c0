"""Event loop lag, sampled and logged (opt-in: LMS_LOOP_LAG_REPORT_SECONDS).

Everything a process serves waits for its one event loop: a handler that computes for 20 ms
delays every other request and socket of the process by as much. A timer due every
`SAMPLE_SECONDS` notes how late it runs; every report period one line of the
`web.loop_monitor` logger gives p50, p99 and max of those delays, at WARNING when the p99
reaches `WARN_P99_MS`, else at INFO. The timer's own cost is one callback per sample.

The delays are as the timer sees them: a stall counts once however long it is, and the
loop's timers (uvloop's: milliseconds) add up to about a millisecond of their own.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import web

from models.background import cancel_and_wait
from web.keys import SETTINGS

log = logging.getLogger(__name__)

SAMPLE_SECONDS = 0.01
WARN_P99_MS = 100.0


@dataclass(frozen=True, slots=True)
class LagReport:
    samples: int
    p50_ms: float
    p99_ms: float
    max_ms: float

    def line(self, seconds: float) -> str:
        return (
            f"event loop lag over {seconds:g} s: p50 {self.p50_ms:.2f} ms, "
            f"p99 {self.p99_ms:.2f} ms, max {self.max_ms:.2f} ms ({self.samples} samples)"
        )


class LoopLagMonitor:
    """Samples how late a repeating timer runs on `loop`; `take` reports and starts afresh."""

    def __init__(self, loop: asyncio.AbstractEventLoop, sample_seconds: float = SAMPLE_SECONDS):
        self._loop = loop
        self._interval = sample_seconds
        self._delays: list[float] = []
        self._due = 0.0
        self._handle: asyncio.TimerHandle | None = None

    def start(self) -> None:
        self._due = time.perf_counter() + self._interval
        self._handle = self._loop.call_later(self._interval, self._tick)

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _tick(self) -> None:
        now = time.perf_counter()
        self._delays.append(max(0.0, now - self._due))
        self._due = now + self._interval
        self._handle = self._loop.call_later(self._interval, self._tick)

    def take(self) -> LagReport | None:
        """The delays since the last `take` (None if the timer never ran meanwhile)."""
        delays, self._delays = self._delays, []
        if not delays:
            return None
        delays.sort()
        n = len(delays)

        def at(fraction: float) -> float:
            return delays[max(0, math.ceil(fraction * n) - 1)] * 1000

        return LagReport(n, at(0.5), at(0.99), delays[-1] * 1000)


async def loop_monitor_ctx(app: web.Application) -> AsyncIterator[None]:
    """The monitor and its reports, when LMS_LOOP_LAG_REPORT_SECONDS is above 0."""
    seconds = app[SETTINGS].loop_lag_report_seconds
    if seconds <= 0:
        yield
        return
    monitor = LoopLagMonitor(asyncio.get_running_loop())

    async def report_forever() -> None:
        while True:
            await asyncio.sleep(seconds)
            report = monitor.take()
            if report is None:
                log.warning("event loop lag: no sample in %g s (the loop was blocked)", seconds)
            else:
                level = logging.WARNING if report.p99_ms >= WARN_P99_MS else logging.INFO
                log.log(level, "%s", report.line(seconds))

    monitor.start()
    reporter = asyncio.create_task(report_forever(), name="loop-lag-report")
    yield
    await cancel_and_wait(reporter)
    monitor.stop()
