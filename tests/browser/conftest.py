"""Browser tests: Playwright for Python driving Debian's Chromium against a real server.

The app runs on a free port of this process's loop (the `api` fixture's test server) on
SQLite: the pages only call the API, whose rules are tested on both backends elsewhere.
Screenshots land in tests/browser/screenshots/ (kept by CI as artifacts, never committed).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from playwright.async_api import async_playwright, expect

from tests.conftest import unreachable

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).parent / "screenshots"
# The machine's network is closed: Chromium must not try to reach Google's services.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
WAIT_MS = 10_000  # a bound for a failure on a slow machine, never a measured speed


@pytest.fixture
def backend() -> str:
    return "sqlite"


class ServedLikeProduction(TestServer):
    """aiohttp's test server cancels a handler when its client goes away; `lms serve` (like
    any `web.run_app`) lets it finish. Chromium drops requests whenever a page navigates, so
    the browser tests get the production behaviour: otherwise a handler cancelled inside a
    file open or a database connect leaks that object and the leak fails a later test."""

    async def _make_runner(self, **kwargs: Any) -> web.AppRunner:
        kwargs["handler_cancellation"] = False
        return web.AppRunner(self.app, **kwargs)


@pytest.fixture
def served(app: Any) -> TestServer:
    return ServedLikeProduction(app)


def chromium_installed() -> bool:
    return CHROMIUM.exists()


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """Chromium, headless, with a fresh profile of its own (Playwright makes one per launch)."""
    if not chromium_installed():
        unreachable(f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    expect.set_options(timeout=WAIT_MS)
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
def base_url(api: Any) -> str:
    server = api.client.server
    return f"http://127.0.0.1:{server.port}"


@pytest.fixture
async def signed_in(
    browser: Any, base_url: str, api: Any
) -> AsyncIterator[Callable[..., Awaitable[Any]]]:
    """A page in a context of its own, signed in as `as_` through the `?token=` redirect.
    The contexts close before the server stops, so no page is still talking to it then."""
    contexts: list[Any] = []

    async def open_as(as_: str, path: str = "/lms/", viewport: dict[str, int] = DESKTOP) -> Any:
        context = await browser.new_context(viewport=viewport, base_url=base_url)
        contexts.append(context)
        page = await context.new_page()
        page.set_default_timeout(WAIT_MS)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.script_errors = errors
        separator = "&" if "?" in path else "?"
        await page.goto(f"{path}{separator}token={api.tokens[as_]}")
        return page

    yield open_as
    for context in contexts:
        await context.close()


async def screenshot(page: Any, name: str) -> None:
    """A full-page screenshot for the CI artifacts; names are test-chosen and plain."""
    assert re.fullmatch(r"[a-z0-9_-]+", name)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
