"""The event loop lag monitor (web/loop_monitor.py): off by default; when on, it reports
how late the loop ran, and sees a handler that blocks it."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from aiohttp import web

from models.settings import Settings
from web.keys import SETTINGS
from web.loop_monitor import LoopLagMonitor, loop_monitor_ctx

LOGGER = "web.loop_monitor"


def block(seconds: float) -> None:
    """A handler computing, with no await: nothing else on the loop runs meanwhile."""
    time.sleep(seconds)


def app_with(seconds: float) -> web.Application:
    app = web.Application()
    app[SETTINGS] = Settings(loop_lag_report_seconds=seconds)
    return app


async def test_a_blocked_loop_shows_in_the_report():
    monitor = LoopLagMonitor(asyncio.get_running_loop(), sample_seconds=0.005)
    monitor.start()
    await asyncio.sleep(0.05)
    block(0.08)
    await asyncio.sleep(0.02)
    monitor.stop()

    report = monitor.take()

    assert report is not None and report.samples >= 2
    assert report.max_ms >= 70  # the timer was due during the block and ran after it
    assert report.p50_ms <= report.p99_ms <= report.max_ms
    assert monitor.take() is None  # taken: the next report starts afresh


async def test_when_on_it_logs_a_line_per_period(caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.INFO, logger=LOGGER)
    context = loop_monitor_ctx(app_with(0.05))
    await anext(context)
    await asyncio.sleep(0.2)
    with pytest.raises(StopAsyncIteration):
        await anext(context)

    lines = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert lines and all(line.startswith("event loop lag over 0.05 s: p50 ") for line in lines)
    assert "p99" in lines[0] and "max" in lines[0] and "samples" in lines[0]


async def test_off_by_default(caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    assert Settings().loop_lag_report_seconds == 0
    context = loop_monitor_ctx(app_with(0))
    await anext(context)
    await asyncio.sleep(0.05)
    with pytest.raises(StopAsyncIteration):
        await anext(context)

    assert not [r for r in caplog.records if r.name == LOGGER]


async def test_a_p99_past_the_threshold_is_a_warning(caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.INFO, logger=LOGGER)
    context = loop_monitor_ctx(app_with(0.3))
    await anext(context)
    for _ in range(3):
        await asyncio.sleep(0.01)
        block(0.12)  # the samples of this period are late by over 100 ms
    await asyncio.sleep(0.3)
    with pytest.raises(StopAsyncIteration):
        await anext(context)

    assert any(r.levelno == logging.WARNING for r in caplog.records if r.name == LOGGER)
